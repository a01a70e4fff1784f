// Transport addresses for ICE: IP text <-> bytes, canonical text, and map keys.
import { isIPv4, isIPv6 } from "node:net";

/** An IP address and UDP port. The media plane's Endpoint is assignable to this. */
export interface IceAddr {
  readonly address: string;
  readonly port: number;
}

/** IPv4 text to 4 bytes, IPv6 text to 16 bytes, anything else to null. */
export function ipToBytes(ip: string): Uint8Array | null {
  if (isIPv4(ip)) return Uint8Array.from(ip.split(".").map(Number));
  const zone = ip.indexOf("%");
  if (zone >= 0) ip = ip.slice(0, zone);
  if (!isIPv6(ip)) return null;
  const out = new Uint8Array(16);
  let head = ip, tail = "";
  const dc = ip.indexOf("::");
  if (dc >= 0) { head = ip.slice(0, dc); tail = ip.slice(dc + 2); }
  const words = (s: string): number[] => {
    if (s === "") return [];
    const res: number[] = [];
    for (const g of s.split(":")) {
      if (g.includes(".")) {
        const b = g.split(".").map(Number);
        res.push((b[0]! << 8) | b[1]!, (b[2]! << 8) | b[3]!);
      } else res.push(parseInt(g, 16));
    }
    return res;
  };
  const h = words(head), t = words(tail);
  const all = dc >= 0 ? [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t] : h;
  if (all.length !== 8) return null;
  all.forEach((w, i) => { out[2 * i] = w >> 8; out[2 * i + 1] = w & 0xff; });
  return out;
}

/** Bytes to canonical text (RFC 5952 for IPv6: lowercase, longest zero run compressed). */
export function bytesToIp(b: Uint8Array): string {
  if (b.length === 4) return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
  const w: number[] = [];
  for (let i = 0; i < 8; i++) w.push((b[2 * i]! << 8) | b[2 * i + 1]!);
  let bestStart = -1, bestLen = 0;
  for (let i = 0; i < 8;) {
    if (w[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  const hex = (a: number[]): string => a.map((x) => x.toString(16)).join(":");
  if (bestStart < 0) return hex(w);
  return `${hex(w.slice(0, bestStart))}::${hex(w.slice(bestStart + bestLen))}`;
}

/** Canonical text of an IP address (so SDP text and packet addresses compare equal). */
export function canonicalIp(ip: string): string {
  const b = ipToBytes(ip);
  if (!b) return ip;
  // a dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d; candidates name them as IPv4
  if (b.length === 16 && b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff) return bytesToIp(b.subarray(12));
  return bytesToIp(b);
}

/** Address family of IP text (0: not an IP address). */
export function ipFamily(ip: string): 4 | 6 | 0 {
  return isIPv4(ip) ? 4 : isIPv6(ip.split("%")[0]!) ? 6 : 0;
}

/** Map key for a transport address; callers pass canonical text. */
export function addrKey(a: IceAddr): string {
  return `${a.address}|${a.port}`;
}

export function sameAddr(a: IceAddr, b: IceAddr): boolean {
  return a.port === b.port && a.address === b.address;
}

export function fmtAddr(a: IceAddr): string {
  return a.address.includes(":") ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
}
