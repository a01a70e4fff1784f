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
  /** SSRC of the latest RTP packet the slow path saw (null = none) */
  ssrc: number | null;
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

export interface PacketTotals {
  packets: number;
  bytes: number;
  errors: number;
}

/** Daemon-wide media figures for `statistics`: relayed by the slow path (user) and the fast path ("kernel"), calls ended by timeouts. */
export interface MediaTotals {
  user: PacketTotals;
  fast: PacketTotals;
  timeouts: { timeout: number; silent: number; final: number; offer: number };
  /** current media by plane: all fast path, all slow path, or some of each */
  media: { userspace: number; kernel: number; mixed: number };
  /** media pairs of ended calls without RTP in either direction, or in one direction only */
  ways: { zero: number; one: number };
}

let totalsSource: (() => MediaTotals) | null = null;

export function setMediaTotalsSource(fn: (() => MediaTotals) | null): void {
  totalsSource = fn;
}

/** Media totals, or null when no media plane runs. */
export function mediaTotals(): MediaTotals | null {
  return totalsSource ? totalsSource() : null;
}
