// `media echo` (offer/answer key): media echoed back to its sender with a new SSRC, or discarded (`blackhole`).
import type { Monologue } from "../call/model.ts";

/** What happens to the media a participant sends: sent back to it, or dropped. */
export type EchoMode = "echo" | "discard";

const modes = new WeakMap<Monologue, EchoMode>();
/** per-participant SSRC mask: echoed RTP/RTCP gets a different SSRC than the one it came with */
const masks = new WeakMap<Monologue, number>();

/**
 * Apply a `media echo` value given by `sender` (who sent the offer/answer) towards `receiver`:
 * `forward` echoes to the receiver, `backwards` to the sender, `both` to both, `blackhole` drops all.
 * Unknown values are ignored, like other unknown option values.
 */
export function applyMediaEcho(sender: Monologue, receiver: Monologue | null, value: string): void {
  const v = value.trim().toLowerCase();
  const set = (m: Monologue | null, mode: EchoMode) => {
    if (!m) return;
    modes.set(m, mode);
    if (!masks.has(m)) masks.set(m, ((Math.random() * 0xfffffffe) >>> 0) + 1);
  };
  if (v === "blackhole" || v === "sinkhole") {
    set(sender, "discard");
    set(receiver, "discard");
  } else if (v === "forward") {
    set(receiver, "echo");
    set(sender, "discard");
  } else if (v === "backwards" || v === "backward") {
    set(sender, "echo");
    set(receiver, "discard");
  } else if (v === "both") {
    set(sender, "echo");
    set(receiver, "echo");
  }
}

export function echoMode(m: Monologue): EchoMode | null {
  return modes.get(m) ?? null;
}

/** Give an echoed packet a new SSRC (RTP: bytes 8..11; RTCP: the sender SSRC at 4..7), in place. */
export function rewriteEchoSsrc(m: Monologue, packet: Uint8Array, rtcp: boolean): void {
  const off = rtcp ? 4 : 8;
  if (packet.length < off + 4) return;
  const mask = masks.get(m) ?? 0x5a5a5a5a;
  const v = ((packet[off]! << 24) | (packet[off + 1]! << 16) | (packet[off + 2]! << 8) | packet[off + 3]!) ^ mask;
  packet[off] = (v >>> 24) & 0xff;
  packet[off + 1] = (v >>> 16) & 0xff;
  packet[off + 2] = (v >>> 8) & 0xff;
  packet[off + 3] = v & 0xff;
}
