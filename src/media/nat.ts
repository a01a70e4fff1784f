// `NAT-wait` and `pierce NAT`: what a participant's flags ask of the relay about the NAT in front of it.
import type { CallFlags } from "../call/flags.ts";
import type { Monologue } from "../call/model.ts";

export interface NatFlags {
  /** `NAT-wait`: nothing is sent to this participant before a packet arrived from it (its NAT opens inbound first) */
  natWait: boolean;
  /** `pierce NAT`: probe datagrams go to its SDP address until a packet arrived from it (opens our path through its NAT) */
  pierceNat: boolean;
}

const natFlags = new WeakMap<Monologue, NatFlags>();

/** Record the flags of the message `from` sent (each offer or answer replaces what it said before). */
export function setNatFlags(from: Monologue, f: CallFlags): void {
  const natWait = f.flags.has("nat-wait"), pierceNat = f.flags.has("pierce-nat");
  if (natWait || pierceNat) natFlags.set(from, { natWait, pierceNat });
  else natFlags.delete(from);
}

export function natWaitOf(mono: Monologue | null | undefined): boolean {
  return !!mono && natFlags.get(mono)?.natWait === true;
}

export function pierceNatOf(mono: Monologue): boolean {
  return natFlags.get(mono)?.pierceNat === true;
}

/** The probe `pierce NAT` sends, as rtpengine 10.5 does: a bare RTP header, payload type 127, sequence 65535,
 * timestamp and SSRC zero; a receiver drops it as an unknown payload type. */
export const PIERCE_PACKET: Uint8Array = new Uint8Array([0x80, 0x7f, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0]);
