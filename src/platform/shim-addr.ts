// Converts IP endpoints between text and the shim's 20-byte struct rtpe_addr.
import { ADDR_SIZE, AF_INET, AF_INET6 } from "./shim-abi.ts";

export type IpFamily = 4 | 6;

/** An IP address and UDP port, with the address in canonical text form. */
export interface Endpoint {
  readonly address: string;
  readonly port: number;
  readonly family: IpFamily;
}

function parseV4(s: string, out: Uint8Array, off: number): boolean {
  const parts = s.split(".");
  if (parts.length !== 4) return false;
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    if (!/^\d{1,3}$/.test(p)) return false;
    const n = Number(p);
    if (n > 255) return false;
    out[off + i] = n;
  }
  return true;
}

function parseV6(s: string, out: Uint8Array, off: number): boolean {
  const zone = s.indexOf("%");
  if (zone >= 0) s = s.slice(0, zone);
  const words: number[] = [];
  const halves = s.split("::");
  if (halves.length > 2) return false;
  const parseHalf = (h: string): number[] | null => {
    if (h === "") return [];
    const res: number[] = [];
    const groups = h.split(":");
    for (let i = 0; i < groups.length; i++) {
      const g = groups[i]!;
      if (i === groups.length - 1 && g.includes(".")) {
        const v4 = new Uint8Array(4);
        if (!parseV4(g, v4, 0)) return null;
        res.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
        res.push(parseInt(g, 16));
      }
    }
    return res;
  };
  const head = parseHalf(halves[0]!);
  const tail = halves.length === 2 ? parseHalf(halves[1]!) : [];
  if (!head || !tail) return false;
  if (halves.length === 2) {
    const fill = 8 - head.length - tail.length;
    if (fill < 1) return false;
    words.push(...head, ...new Array<number>(fill).fill(0), ...tail);
  } else {
    if (head.length !== 8) return false;
    words.push(...head);
  }
  for (let i = 0; i < 8; i++) {
    out[off + 2 * i] = words[i]! >> 8;
    out[off + 2 * i + 1] = words[i]! & 0xff;
  }
  return true;
}

/** Family of a textual address, or null when it is not an IP address. */
export function ipFamily(address: string): IpFamily | null {
  const scratch = new Uint8Array(16);
  if (parseV4(address, scratch, 0)) return 4;
  if (address.includes(":") && parseV6(address, scratch, 0)) return 6;
  return null;
}

// a relay sends to the same few peers over and over: remember the last parsed address
let lastAddress = "";
let lastFamily: IpFamily = 4;
const lastBytes = new Uint8Array(16);

/** Write struct rtpe_addr at buf[off..off+20). Throws on a malformed address or port. */
export function encodeAddr(buf: Uint8Array, off: number, address: string, port: number): IpFamily {
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`bad port ${port}`);
  buf.fill(0, off, off + ADDR_SIZE);
  let family: IpFamily;
  if (address === lastAddress) {
    family = lastFamily;
    buf.set(lastBytes, off + 4);
  } else {
    if (parseV4(address, buf, off + 4)) family = 4;
    else if (address.includes(":") && parseV6(address, buf, off + 4)) family = 6;
    else throw new TypeError(`not an IP address: ${address}`);
    lastAddress = address;
    lastFamily = family;
    lastBytes.set(buf.subarray(off + 4, off + 20));
  }
  const af = family === 4 ? AF_INET : AF_INET6;
  // u16 family and port in host order (little-endian on x86_64 and aarch64)
  buf[off] = af & 0xff;
  buf[off + 1] = af >> 8;
  buf[off + 2] = port & 0xff;
  buf[off + 3] = port >> 8;
  return family;
}

/** RFC 5952 text of 16 address bytes. */
function formatV6(b: Uint8Array, off: number): string {
  const w: number[] = [];
  for (let i = 0; i < 8; i++) w.push((b[off + 2 * i]! << 8) | b[off + 2 * i + 1]!);
  // IPv4-mapped addresses keep their dotted tail
  if (w[0] === 0 && w[1] === 0 && w[2] === 0 && w[3] === 0 && w[4] === 0 && w[5] === 0xffff) {
    return `::ffff:${b[off + 12]}.${b[off + 13]}.${b[off + 14]}.${b[off + 15]}`;
  }
  let bestStart = -1, bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (w[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  const hex = (a: number[]) => a.map((x) => x.toString(16)).join(":");
  if (bestStart < 0) return hex(w);
  return `${hex(w.slice(0, bestStart))}::${hex(w.slice(bestStart + bestLen))}`;
}

/** Read struct rtpe_addr at buf[off..off+20); null when no family is set. */
export function decodeAddr(buf: Uint8Array, off: number): Endpoint | null {
  const af = buf[off]! | (buf[off + 1]! << 8);
  const port = buf[off + 2]! | (buf[off + 3]! << 8);
  if (af === AF_INET) {
    return { family: 4, port, address: `${buf[off + 4]}.${buf[off + 5]}.${buf[off + 6]}.${buf[off + 7]}` };
  }
  if (af === AF_INET6) return { family: 6, port, address: formatV6(buf, off + 4) };
  return null;
}

/** Canonical text of an address (e.g. "::0:1" becomes "::1"); throws when it is not an IP. */
export function canonicalAddress(address: string): string {
  const b = new Uint8Array(ADDR_SIZE);
  encodeAddr(b, 0, address, 0);
  return decodeAddr(b, 0)!.address;
}
