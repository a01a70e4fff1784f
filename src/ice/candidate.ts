// ICE candidates: types, rtpengine-style priorities, pair priority, and parsing of a=candidate values.
import { canonicalIp, ipFamily, type IceAddr } from "./addr.ts";

export type CandidateType = "host" | "srflx" | "prflx" | "relay";

/** RFC 8445 5.1.2.2 recommended type preferences; host is rtpengine's 126. */
export const TYPE_PREFERENCE: Record<CandidateType, number> = { host: 126, prflx: 110, srflx: 100, relay: 0 };

/**
 * Candidate priority: type preference, then local preference by interface order (rank 0 first,
 * as rtpengine counts down from 65535), then 256 - component.
 */
export function candidatePriority(type: CandidateType, rank: number, component: number): number {
  return TYPE_PREFERENCE[type] * 2 ** 24 + (65535 - rank) * 256 + (256 - component);
}

/** RFC 8445 6.1.2.3: pair priority from the controlling (g) and controlled (d) candidate priorities. */
export function pairPriority(g: number, d: number): bigint {
  const lo = BigInt(Math.min(g, d)), hi = BigInt(Math.max(g, d));
  return (lo << 32n) + 2n * hi + (g > d ? 1n : 0n);
}

export interface Candidate extends IceAddr {
  foundation: string;
  component: number;
  priority: number;
  type: CandidateType;
  /** srflx/prflx/relay: related address */
  related?: IceAddr;
}

/**
 * Parse the value of an a=candidate attribute ("candidate:" prefix optional).
 * Returns null for anything that is not a well-formed UDP candidate (TCP and garbage are skipped).
 */
export function parseCandidate(value: string): Candidate | null {
  const v = value.trim().replace(/^a=/, "").replace(/^candidate:/, "");
  const f = v.split(/\s+/);
  if (f.length < 8 || f[6] !== "typ") return null;
  const [foundation, compS, transport, prioS, addr, portS, , typ] = f as [string, string, string, string, string, string, string, string];
  if (transport.toUpperCase() !== "UDP") return null;
  if (!/^\d+$/.test(compS) || !/^\d+$/.test(prioS) || !/^\d+$/.test(portS)) return null;
  const component = Number(compS), priority = Number(prioS), port = Number(portS);
  if (component < 1 || component > 256 || priority < 1 || priority > 0xffffffff || port < 1 || port > 65535) return null;
  if (ipFamily(addr) === 0) return null;
  if (typ !== "host" && typ !== "srflx" && typ !== "prflx" && typ !== "relay") return null;
  const c: Candidate = { foundation, component, priority, type: typ, address: canonicalIp(addr), port };
  const ri = f.indexOf("raddr"), rp = f.indexOf("rport");
  if (ri > 7 && rp > 7 && f[ri + 1] && f[rp + 1] && ipFamily(f[ri + 1]!) !== 0 && /^\d+$/.test(f[rp + 1]!)) {
    c.related = { address: canonicalIp(f[ri + 1]!), port: Number(f[rp + 1]) };
  }
  return c;
}

/** a=candidate value for a candidate (without the "a=" prefix). */
export function formatCandidate(c: Candidate): string {
  let s = `candidate:${c.foundation} ${c.component} UDP ${c.priority} ${c.address} ${c.port} typ ${c.type}`;
  if (c.related) s += ` raddr ${c.related.address} rport ${c.related.port}`;
  return s;
}
