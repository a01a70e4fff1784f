// Process-wide counters of hostile or broken media input (bad SRTP, replays, truncated, bad STUN, DTLS garbage), with a rate-limited log line.
import { getLogger } from "../log/logger.ts";
import { SrtpError } from "../crypto/srtp-errors.ts"; // not srtp.ts: that loads bun:ffi, and Deno relays plain media without it

/**
 * Why an inbound media datagram was dropped as bad. Each also counts as an `errors` of the stream it
 * arrived on (`query` stats, `relayedpacketerrors` in `statistics`), which is where rtpengine 10.5
 * users look; this breakdown says which kind it was (our extension: `statistics` and `/metrics`).
 */
export type BadPacketKind =
  | "srtp_auth" // SRTP/SRTCP authentication failed (corrupted or forged); the fast path also counts replays here
  | "srtp_replay" // SRTP/SRTCP index already seen or too old (replay window)
  | "short" // truncated: too short for its RTP/SRTP header and tag
  | "stun" // STUN rejected: bad MESSAGE-INTEGRITY or USERNAME, malformed
  | "dtls"; // DTLS no association took: garbage, or no DTLS on that media

export const BAD_PACKET_KINDS: readonly BadPacketKind[] = ["srtp_auth", "srtp_replay", "short", "stun", "dtls"];

const counts: Record<BadPacketKind, number> = { srtp_auth: 0, srtp_replay: 0, short: 0, stun: 0, dtls: 0 };

const DESCRIBE: Record<BadPacketKind, string> = {
  srtp_auth: "SRTP authentication failed",
  srtp_replay: "SRTP replayed packet",
  short: "truncated packet",
  stun: "STUN rejected (integrity/username/malformed)",
  dtls: "DTLS not accepted (garbage or no association)",
};

const log = getLogger("core");
// a flood of bad packets must not flood the log: at most LINES a second per kind (so one kind cannot
// hide another), the rest summed into that kind's next line
const LINES_PER_SECOND = 5;
const windows = new Map<BadPacketKind, { start: number; lines: number; suppressed: number }>();

/** Count `n` bad packets of one kind and log (rate-limited) where they came from. */
export function countBadPacket(kind: BadPacketKind, where: string, n = 1): void {
  if (n <= 0) return;
  counts[kind] += n;
  const now = Date.now();
  let w = windows.get(kind);
  if (!w) windows.set(kind, (w = { start: now, lines: 0, suppressed: 0 }));
  if (now - w.start >= 1000) {
    w.start = now;
    w.lines = 0;
  }
  if (++w.lines > LINES_PER_SECOND) {
    w.suppressed += n;
    return;
  }
  const more = w.suppressed ? ` (${w.suppressed} more not logged)` : "";
  w.suppressed = 0;
  log.warning(`Dropped bad media packet${n > 1 ? `s (${n})` : ""}: ${DESCRIBE[kind]} ${where}${more}`);
}

/** The kind for a negative SRTP/SRTCP unprotect result (RTPE_SRTP_E_*). */
export function srtpErrorKind(code: number): BadPacketKind {
  if (code === SrtpError.REPLAY) return "srtp_replay";
  if (code === SrtpError.SHORT) return "short";
  return "srtp_auth";
}

/** A snapshot for `statistics` and Prometheus. */
export function badPacketCounts(): Readonly<Record<BadPacketKind, number>> {
  return { ...counts };
}

/** Tests only: start from zero. */
export function resetBadPacketCounts(): void {
  for (const k of BAD_PACKET_KINDS) counts[k] = 0;
}
