// Call timeouts: `--timeout`, `--silent-timeout` (media on hold), `--final-timeout`, `--offer-timeout`.
import type { Call, Media } from "../call/model.ts";
import type { MediaState } from "./relay.ts";

export interface TimeoutConfig {
  /** seconds without packets after which a stream is dead */
  timeout: number;
  /** the same for media that is not supposed to send (recvonly, inactive, on hold) */
  silentTimeout: number;
  /** seconds after creation a call ends regardless; 0 = off */
  finalTimeout: number;
  /** seconds an offered but unanswered call lives */
  offerTimeout: number;
}

export type TimeoutKind = "timeout" | "silent" | "final" | "offer";

/** Media whose endpoint does not send (it put us on hold) is judged by the silent timeout. */
function silent(m: Media): boolean {
  const p = m.peer;
  return !p || p.zeroAddress || p.direction === "recvonly" || p.direction === "inactive";
}

/** The call has an answer: some party and its peer both described their media. */
function answered(call: Call): boolean {
  return call.all.some((m) => m.peer !== null && m.medias.some((x) => x.peer) && m.peer.medias.some((x) => x.peer));
}

/**
 * Whether a call has timed out at `nowMs`, and why. A call with media dies when every stream
 * (RTP and RTCP of every media with ports) has been without packets longer than its timeout.
 */
export function callTimeout(call: Call, nowMs: number, cfg: TimeoutConfig, stateOf: (m: Media) => MediaState | undefined): TimeoutKind | null {
  if (cfg.finalTimeout > 0 && nowMs - call.created >= cfg.finalTimeout * 1000) return "final";
  if (!answered(call)) return cfg.offerTimeout > 0 && nowMs - call.lastSignal >= cfg.offerTimeout * 1000 ? "offer" : null;
  let streams = 0;
  let allSilent = true;
  for (const mono of call.all) {
    for (const m of mono.medias) {
      const st = stateOf(m);
      if (m.port === null || !st) continue;
      const isSilent = silent(m);
      const limit = (isSilent ? cfg.silentTimeout : cfg.timeout) * 1000;
      if (limit <= 0) return null;
      for (const s of [st.rtp, st.rtcp]) {
        streams++;
        const last = Math.max(s.counters.lastPacket, st.createdMs);
        if (nowMs - last < limit) return null;
      }
      if (!isSilent) allSilent = false;
    }
  }
  if (streams === 0) return null;
  return allSilent ? "silent" : "timeout";
}

/**
 * The earliest time (ms) at which callTimeout() could name a timeout if no packet and no signalling came
 * in the meantime (Infinity = never). Packets only push it later, so until then a call need not be judged
 * (the once-a-second check then costs a comparison per held call). callTimeout(call, t) is non-null
 * exactly when t >= this value, for the same call state and configuration.
 */
export function callTimeoutDue(call: Call, cfg: TimeoutConfig, stateOf: (m: Media) => MediaState | undefined): number {
  const final = cfg.finalTimeout > 0 ? call.created + cfg.finalTimeout * 1000 : Infinity;
  if (!answered(call)) return Math.min(final, cfg.offerTimeout > 0 ? call.lastSignal + cfg.offerTimeout * 1000 : Infinity);
  let latest = -Infinity;
  for (const mono of call.all) {
    for (const m of mono.medias) {
      const st = stateOf(m);
      if (m.port === null || !st) continue;
      const limit = (silent(m) ? cfg.silentTimeout : cfg.timeout) * 1000;
      if (limit <= 0) return final;
      latest = Math.max(latest, Math.max(st.rtp.counters.lastPacket, st.createdMs) + limit, Math.max(st.rtcp.counters.lastPacket, st.createdMs) + limit);
    }
  }
  return Math.min(final, latest === -Infinity ? Infinity : latest);
}
