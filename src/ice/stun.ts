// STUN codec (RFC 5389/8489) for ICE: strict parse, build, short-term MESSAGE-INTEGRITY and FINGERPRINT.
//
// parseStun() never throws: every length and offset is checked against the datagram, and a
// rejected datagram returns a reason that is counted in stunStats and logged (rate-limited).
// Building takes an ordered attribute list (see the attr* helpers) and appends
// MESSAGE-INTEGRITY and FINGERPRINT last, as ICE requires.
import { createHmac, timingSafeEqual } from "node:crypto";
import { bytesToIp, ipToBytes, type IceAddr } from "./addr.ts";
import { crc32 } from "./crc32.ts";
import { countReject } from "./reject-log.ts";

export const STUN_MAGIC = 0x2112a442;
export const FINGERPRINT_XOR = 0x5354554e;
export const STUN_HEADER = 20;

export const StunClass = { Request: 0, Indication: 1, Success: 2, Error: 3 } as const;
export type StunClass = (typeof StunClass)[keyof typeof StunClass];
export const METHOD_BINDING = 0x001;

export const Attr = {
  MAPPED_ADDRESS: 0x0001,
  USERNAME: 0x0006,
  MESSAGE_INTEGRITY: 0x0008,
  ERROR_CODE: 0x0009,
  UNKNOWN_ATTRIBUTES: 0x000a,
  XOR_MAPPED_ADDRESS: 0x0020,
  PRIORITY: 0x0024,
  USE_CANDIDATE: 0x0025,
  SOFTWARE: 0x8022,
  FINGERPRINT: 0x8028,
  ICE_CONTROLLED: 0x8029,
  ICE_CONTROLLING: 0x802a,
} as const;

export type StunRejectReason =
  | "short" // fewer than 20 bytes
  | "not-stun" // top bits or magic cookie wrong
  | "length-unaligned" // message length not a multiple of 4
  | "length-mismatch" // header length disagrees with the datagram size
  | "attr-truncated" // an attribute header, value or padding runs past the end
  | "attr-after-fingerprint"
  | "bad-fingerprint"
  | "bad-attr-length" // fixed-size attribute with the wrong size
  | "bad-address" // (XOR-)MAPPED-ADDRESS with bad family or size
  | "bad-error-code"
  | "bad-username"; // too long or not UTF-8

export interface StunError {
  code: number;
  reason: string;
}

/** A parsed STUN message; fields are set only for attributes present (first occurrence wins). */
export interface StunMessage {
  cls: StunClass;
  method: number;
  tid: Uint8Array;
  username?: string;
  priority?: number;
  useCandidate: boolean;
  controlling?: bigint;
  controlled?: bigint;
  xorMapped?: IceAddr;
  mapped?: IceAddr;
  error?: StunError;
  software?: string;
  /** UNKNOWN-ATTRIBUTES list of an error response */
  unknownList?: number[];
  /** comprehension-required attribute types we do not understand (answer with 420) */
  unknownRequired: number[];
  /** byte offset of the MESSAGE-INTEGRITY attribute header, if present */
  integrityOffset?: number;
  /** FINGERPRINT present (it was verified, or the message would have been rejected) */
  fingerprint: boolean;
  raw: Uint8Array;
}

export type StunParse = { ok: true; msg: StunMessage } | { ok: false; reason: StunRejectReason };

/** Process-wide counters: parsed messages and rejects by reason. */
export const stunStats = {
  parsed: 0,
  rejected: {} as Partial<Record<StunRejectReason, number>>,
};

function reject(reason: StunRejectReason, len: number): StunParse {
  countReject(stunStats.rejected, reason, `${len}-byte STUN datagram`);
  return { ok: false, reason };
}

/** Cheap demultiplexing test (RFC 7983): could this datagram be STUN? */
export function looksLikeStun(b: Uint8Array): boolean {
  return b.length >= STUN_HEADER && (b[0]! & 0xc0) === 0 && b[4] === 0x21 && b[5] === 0x12 && b[6] === 0xa4 && b[7] === 0x42;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });
const utf8Lax = new TextDecoder("utf-8");

function decodeUtf8(b: Uint8Array): string | null {
  try {
    return utf8.decode(b);
  } catch {
    return null;
  }
}

function decodeAddress(v: Uint8Array, xor: boolean, tid: Uint8Array): IceAddr | null {
  if (v.length < 4) return null;
  const fam = v[1];
  const alen = fam === 1 ? 4 : fam === 2 ? 16 : 0;
  if (alen === 0 || v.length !== 4 + alen) return null;
  let port = (v[2]! << 8) | v[3]!;
  // a copy: on a Node Buffer slice() is a view, and un-XORing in place would corrupt the datagram (and its FINGERPRINT)
  const ip = Uint8Array.prototype.slice.call(v, 4, 4 + alen);
  if (xor) {
    port ^= STUN_MAGIC >>> 16;
    const mask = new Uint8Array(16);
    new DataView(mask.buffer).setUint32(0, STUN_MAGIC);
    mask.set(tid, 4);
    for (let i = 0; i < alen; i++) ip[i]! ^= mask[i]!;
  }
  return { address: bytesToIp(ip), port };
}

/** Parse one datagram as a STUN message. Never throws. */
export function parseStun(b: Uint8Array): StunParse {
  if (b.length < STUN_HEADER) return reject("short", b.length);
  if (!looksLikeStun(b)) return reject("not-stun", b.length);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const type = dv.getUint16(0);
  const len = dv.getUint16(2);
  if (len % 4 !== 0) return reject("length-unaligned", b.length);
  if (STUN_HEADER + len !== b.length) return reject("length-mismatch", b.length);
  const cls = (((type >> 7) & 2) | ((type >> 4) & 1)) as StunClass;
  const method = (type & 0xf) | ((type >> 1) & 0x70) | ((type >> 2) & 0xf80);
  const tid = b.slice(8, 20);
  const msg: StunMessage = { cls, method, tid, useCandidate: false, unknownRequired: [], fingerprint: false, raw: b };
  const seen = new Set<number>();
  const end = b.length;
  let off = STUN_HEADER;
  while (off < end) {
    if (off + 4 > end) return reject("attr-truncated", b.length);
    const at = dv.getUint16(off);
    const alen = dv.getUint16(off + 2);
    const vstart = off + 4;
    const next = vstart + ((alen + 3) & ~3);
    if (next > end) return reject("attr-truncated", b.length);
    if (msg.fingerprint) return reject("attr-after-fingerprint", b.length);
    const v = b.subarray(vstart, vstart + alen);
    if (at === Attr.FINGERPRINT) {
      if (alen !== 4) return reject("bad-attr-length", b.length);
      if (next !== end) return reject("attr-after-fingerprint", b.length);
      const want = (crc32(b, 0, off) ^ FINGERPRINT_XOR) >>> 0;
      if (dv.getUint32(vstart) !== want) return reject("bad-fingerprint", b.length);
      msg.fingerprint = true;
      off = next;
      continue;
    }
    // RFC 5389 15.4: anything after MESSAGE-INTEGRITY but FINGERPRINT is ignored
    if (msg.integrityOffset !== undefined || seen.has(at)) { off = next; continue; }
    seen.add(at);
    switch (at) {
      case Attr.USERNAME: {
        if (alen > 513) return reject("bad-username", b.length);
        const s = decodeUtf8(v);
        if (s === null) return reject("bad-username", b.length);
        msg.username = s;
        break;
      }
      case Attr.MESSAGE_INTEGRITY:
        if (alen !== 20) return reject("bad-attr-length", b.length);
        msg.integrityOffset = off;
        break;
      case Attr.PRIORITY:
        if (alen !== 4) return reject("bad-attr-length", b.length);
        msg.priority = dv.getUint32(vstart);
        break;
      case Attr.USE_CANDIDATE:
        if (alen !== 0) return reject("bad-attr-length", b.length);
        msg.useCandidate = true;
        break;
      case Attr.ICE_CONTROLLING:
      case Attr.ICE_CONTROLLED: {
        if (alen !== 8) return reject("bad-attr-length", b.length);
        const tb = dv.getBigUint64(vstart);
        if (at === Attr.ICE_CONTROLLING) msg.controlling = tb;
        else msg.controlled = tb;
        break;
      }
      case Attr.XOR_MAPPED_ADDRESS:
      case Attr.MAPPED_ADDRESS: {
        const a = decodeAddress(v, at === Attr.XOR_MAPPED_ADDRESS, tid);
        if (!a) return reject("bad-address", b.length);
        if (at === Attr.XOR_MAPPED_ADDRESS) msg.xorMapped = a;
        else msg.mapped = a;
        break;
      }
      case Attr.ERROR_CODE: {
        if (alen < 4 || alen > 4 + 763) return reject("bad-error-code", b.length);
        const klass = v[2]! & 7, num = v[3]!;
        if (klass < 3 || klass > 6 || num > 99) return reject("bad-error-code", b.length);
        msg.error = { code: klass * 100 + num, reason: utf8Lax.decode(v.subarray(4)) };
        break;
      }
      case Attr.UNKNOWN_ATTRIBUTES: {
        if (alen % 2 !== 0) return reject("bad-attr-length", b.length);
        const list: number[] = [];
        for (let i = 0; i < alen; i += 2) list.push(dv.getUint16(vstart + i));
        msg.unknownList = list;
        break;
      }
      case Attr.SOFTWARE:
        msg.software = utf8Lax.decode(v);
        break;
      default:
        // 0x0000-0x7FFF are comprehension-required (RFC 5389 15)
        if (at < 0x8000) msg.unknownRequired.push(at);
    }
    off = next;
  }
  stunStats.parsed++;
  return { ok: true, msg };
}

function hmacSha1(key: Uint8Array | string, parts: Uint8Array[]): Uint8Array {
  const h = createHmac("sha1", key);
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}

/**
 * Check MESSAGE-INTEGRITY with a short-term key (the password, RFC 8445 7.2.2).
 * False when the attribute is missing or the HMAC differs.
 */
export function verifyIntegrity(msg: StunMessage, key: Uint8Array | string): boolean {
  const mi = msg.integrityOffset;
  if (mi === undefined) return false;
  const raw = msg.raw;
  // the HMAC covers the header with its length rewritten to end just after MESSAGE-INTEGRITY
  const hdr = raw.slice(0, STUN_HEADER);
  new DataView(hdr.buffer).setUint16(2, mi + 24 - STUN_HEADER);
  const mac = hmacSha1(key, [hdr, raw.subarray(STUN_HEADER, mi)]);
  return timingSafeEqual(mac, raw.subarray(mi + 4, mi + 24));
}

// ---- building ----

export interface StunAttrOut {
  type: number;
  value: Uint8Array;
}

const enc = new TextEncoder();

export function attrUsername(s: string): StunAttrOut {
  return { type: Attr.USERNAME, value: enc.encode(s) };
}
export function attrSoftware(s: string): StunAttrOut {
  return { type: Attr.SOFTWARE, value: enc.encode(s) };
}
export function attrPriority(p: number): StunAttrOut {
  const v = new Uint8Array(4);
  new DataView(v.buffer).setUint32(0, p >>> 0);
  return { type: Attr.PRIORITY, value: v };
}
export function attrUseCandidate(): StunAttrOut {
  return { type: Attr.USE_CANDIDATE, value: new Uint8Array(0) };
}
export function attrRole(controlling: boolean, tieBreaker: bigint): StunAttrOut {
  const v = new Uint8Array(8);
  new DataView(v.buffer).setBigUint64(0, BigInt.asUintN(64, tieBreaker));
  return { type: controlling ? Attr.ICE_CONTROLLING : Attr.ICE_CONTROLLED, value: v };
}
export function attrXorMapped(a: IceAddr, tid: Uint8Array): StunAttrOut {
  const ip = ipToBytes(a.address);
  if (!ip || tid.length !== 12) throw new Error(`attrXorMapped: bad address ${a.address}`);
  const v = new Uint8Array(4 + ip.length);
  const dv = new DataView(v.buffer);
  v[1] = ip.length === 4 ? 1 : 2;
  dv.setUint16(2, (a.port ^ (STUN_MAGIC >>> 16)) & 0xffff);
  const mask = new Uint8Array(16);
  new DataView(mask.buffer).setUint32(0, STUN_MAGIC);
  mask.set(tid, 4);
  for (let i = 0; i < ip.length; i++) v[4 + i] = ip[i]! ^ mask[i]!;
  return { type: Attr.XOR_MAPPED_ADDRESS, value: v };
}
export function attrErrorCode(code: number, reason: string): StunAttrOut {
  const r = enc.encode(reason);
  const v = new Uint8Array(4 + r.length);
  v[2] = Math.floor(code / 100) & 7;
  v[3] = code % 100;
  v.set(r, 4);
  return { type: Attr.ERROR_CODE, value: v };
}
export function attrUnknownAttributes(types: readonly number[]): StunAttrOut {
  const v = new Uint8Array(types.length * 2);
  const dv = new DataView(v.buffer);
  types.forEach((t, i) => dv.setUint16(2 * i, t));
  return { type: Attr.UNKNOWN_ATTRIBUTES, value: v };
}

export interface StunBuild {
  cls: StunClass;
  method?: number;
  tid: Uint8Array;
  attrs: readonly StunAttrOut[];
  /** short-term key: appends MESSAGE-INTEGRITY */
  integrityKey?: Uint8Array | string;
  /** appends FINGERPRINT (default true) */
  fingerprint?: boolean;
  /** byte used to pad attribute values (0; RFC 5769's vectors use 0x20) */
  pad?: number;
}

function messageType(cls: StunClass, method: number): number {
  return (method & 0xf) | ((method & 0x70) << 1) | ((method & 0xf80) << 2) | ((cls & 1) << 4) | ((cls & 2) << 7);
}

/** Build a STUN message. Throws only on programming errors (bad tid size, oversized values). */
export function buildStun(o: StunBuild): Uint8Array {
  if (o.tid.length !== 12) throw new Error("buildStun: transaction id must be 12 bytes");
  let size = STUN_HEADER;
  for (const a of o.attrs) size += 4 + ((a.value.length + 3) & ~3);
  const miAt = size;
  if (o.integrityKey !== undefined) size += 24;
  const fpAt = size;
  const fp = o.fingerprint ?? true;
  if (fp) size += 8;
  if (size - STUN_HEADER > 0xffff) throw new Error("buildStun: message too large");
  const b = new Uint8Array(size);
  const dv = new DataView(b.buffer);
  dv.setUint16(0, messageType(o.cls, o.method ?? METHOD_BINDING));
  dv.setUint32(4, STUN_MAGIC);
  b.set(o.tid, 8);
  let off = STUN_HEADER;
  for (const a of o.attrs) {
    if (a.value.length > 0xffff) throw new Error("buildStun: attribute too large");
    dv.setUint16(off, a.type);
    dv.setUint16(off + 2, a.value.length);
    b.set(a.value, off + 4);
    const padded = (a.value.length + 3) & ~3;
    b.fill(o.pad ?? 0, off + 4 + a.value.length, off + 4 + padded);
    off += 4 + padded;
  }
  if (o.integrityKey !== undefined) {
    dv.setUint16(2, miAt + 24 - STUN_HEADER);
    const mac = hmacSha1(o.integrityKey, [b.subarray(0, miAt)]);
    dv.setUint16(miAt, Attr.MESSAGE_INTEGRITY);
    dv.setUint16(miAt + 2, 20);
    b.set(mac, miAt + 4);
  }
  dv.setUint16(2, size - STUN_HEADER);
  if (fp) {
    dv.setUint16(fpAt, Attr.FINGERPRINT);
    dv.setUint16(fpAt + 2, 4);
    dv.setUint32(fpAt + 4, (crc32(b, 0, fpAt) ^ FINGERPRINT_XOR) >>> 0);
  }
  return b;
}
