// Live stream status for `query`: learned endpoint, `confirmed`/`kernelized`/`strict source` flags, RTCP counters.
import type { Media } from "../call/model.ts";
import type { Endpoint } from "../platform/shim-addr.ts";

export interface StreamStatus {
  /** learned endpoint (null = not learned: the SDP one is used) */
  endpoint: Endpoint | null;
  /** rtpengine's stream flags: `confirmed`, `kernelized` (here: forwarded by the fast path), `strict source`, `media handover` */
  flags: string[];
  stats: { packets: number; bytes: number; errors: number };
  /** ms since the epoch, 0 = never */
  lastPacket: number;
}

export type StatusSource = (m: Media, rtcp: boolean) => StreamStatus | null;

let source: StatusSource | null = null;

/** The media relay registers itself here (one per process). */
export function setStreamStatusSource(fn: StatusSource | null): void {
  source = fn;
}

/** Status of one stream of a media, or null when no media plane runs. */
export function streamStatus(m: Media, rtcp: boolean): StreamStatus | null {
  return source ? source(m, rtcp) : null;
}
