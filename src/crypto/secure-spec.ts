// What an answer settles about SRTP towards each endpoint: the SDES key of each direction, or our DTLS role.
import type { Media, PeerMedia } from "../call/model.ts";
import { isDtlsProto, isSrtp } from "../call/peer.ts";
import type { SdesCrypto } from "./sdes-sdp.ts";

export type SecureSpec =
  /** inbound: the endpoint's key (it protects what it sends us); outbound: ours (we protect what we send it) */
  | { kind: "sdes"; inbound: SdesCrypto; outbound: SdesCrypto }
  /** active = we are the DTLS client; fingerprint = the endpoint's a=fingerprint, verified in the handshake */
  | { kind: "dtls"; role: "active" | "passive"; fingerprint: string | null };

/** Towards the answerer (B), from its answer `ans`: DTLS when it answered our fingerprint with its own, SDES when it took one of our keys. */
export function settledTowardsAnswerer(ans: PeerMedia, mB: Media): SecureSpec | null {
  if (ans.port === 0) return null;
  const secureProto = isSrtp(ans.proto) || isDtlsProto(ans.proto);
  if (ans.fingerprint && mB.dtlsFingerprintHash !== null && secureProto) {
    // the answerer is active (DTLS client) unless it says passive (RFC 4145 default: active)
    return { kind: "dtls", role: ans.setup === "passive" ? "active" : "passive", fingerprint: ans.fingerprint };
  }
  const theirs = ans.cryptos[0];
  const ours = mB.sdesNegotiated;
  if (theirs && ours && theirs.suite === ours.suite) return { kind: "sdes", inbound: theirs, outbound: ours };
  return null;
}

/** Towards the offerer (A): DTLS with the setup we answered, or SDES with its offered line `theirs` and our answered line `ours`. */
export function dtlsTowardsOfferer(setup: string | null, offered: PeerMedia): SecureSpec {
  return { kind: "dtls", role: setup === "passive" ? "passive" : "active", fingerprint: offered.fingerprint };
}

export function sdesTowardsOfferer(theirs: SdesCrypto, ours: SdesCrypto): SecureSpec {
  return { kind: "sdes", inbound: theirs, outbound: ours };
}

/** Same keys / same role: existing SRTP contexts (and their rollover counters) may stay. */
export function sameSpec(a: SecureSpec | null, b: SecureSpec | null): boolean {
  if (a === null || b === null) return a === b;
  if (a.kind === "sdes" && b.kind === "sdes") return sameCrypto(a.inbound, b.inbound) && sameCrypto(a.outbound, b.outbound);
  if (a.kind === "dtls" && b.kind === "dtls") return a.role === b.role && a.fingerprint === b.fingerprint;
  return false;
}

function sameCrypto(a: SdesCrypto, b: SdesCrypto): boolean {
  return a.suite === b.suite && a.key.replace(/=+$/, "") === b.key.replace(/=+$/, "") && a.params === b.params;
}
