// ng bencode codec: a single-pass decoder that validates and builds the NgDict at once (byte strings as latin1),
// and an encoder that writes straight into one scratch Buffer. Behaviour matches the `bencode` package
// (which test/unit/ng-bencode.test.ts uses as the reference) plus the strict structural checks ng needs.
import type { NgDict, NgValue } from "./types.ts";

/** Nesting deeper than this is not a plausible ng request and would only cost stack. */
export const MAX_DEPTH = 64;

const D = 0x64; // d
const L = 0x6c; // l
const I = 0x69; // i
const E = 0x65; // e
const COLON = 0x3a;
const MINUS = 0x2d;

/** Node's undocumented Buffer fast paths (present in Bun): no encoding-name dispatch, no range re-checks. */
interface FastBuffer extends Buffer {
  latin1Slice(start: number, end: number): string;
  latin1Write(s: string, offset: number): number;
}
// A runtime without them (another Buffer implementation) takes the documented calls.
const FAST = typeof (Buffer.prototype as Partial<FastBuffer>).latin1Slice === "function" && typeof (Buffer.prototype as Partial<FastBuffer>).latin1Write === "function";
function latin1Slice(b: FastBuffer, start: number, end: number): string {
  return FAST ? b.latin1Slice(start, end) : b.toString("latin1", start, end);
}
function latin1Write(b: FastBuffer, s: string, offset: number): number {
  return FAST ? b.latin1Write(s, offset) : b.write(s, offset, "latin1");
}

/** Thrown for malformed input; the message says what and where ("... at offset N"). */
export class BencodeError extends Error {}

function fail(what: string, at: number): never {
  throw new BencodeError(`${what} at offset ${at}`);
}

const utf8 = new TextDecoder(); // same defaults as the bencode package's key decoding (non-fatal, BOM stripped)

const KEY_CACHE_SIZE = 512;
const KEY_CACHE_MAX_LEN = 40;
const keyCache: Array<string | undefined> = new Array(KEY_CACHE_SIZE).fill(undefined);

class Decoder {
  pos = 0;
  constructor(
    readonly b: FastBuffer,
    readonly lenientEnd: boolean,
  ) {}

  /** A container (dict or list) whose opening byte is at `pos`; `depth` counts it. */
  container(depth: number): NgValue {
    const b = this.b;
    if (depth > MAX_DEPTH) fail("nesting too deep", this.pos);
    if (b[this.pos] === D) {
      this.pos++;
      const out: NgDict = {};
      for (;;) {
        const p = this.pos;
        if (p >= b.length) {
          if (this.lenientEnd) return out;
          fail("unexpected end of data", p);
        }
        const c = b[p]!;
        if (c === E) {
          this.pos = p + 1;
          return out;
        }
        if (c < 0x30 || c > 0x39) fail("dictionary key is not a string", p);
        const key = this.key();
        const v = this.value(depth);
        // "__proto__" would replace the prototype of `out` instead of becoming a key
        if (key !== "__proto__") out[key] = v;
      }
    }
    this.pos++;
    const out: NgValue[] = [];
    for (;;) {
      const p = this.pos;
      if (p >= b.length) {
        if (this.lenientEnd) return out;
        fail("unexpected end of data", p);
      }
      if (b[p] === E) {
        this.pos = p + 1;
        return out;
      }
      out.push(this.value(depth));
    }
  }

  /** Any value at `pos`, inside a container at `depth`. */
  value(depth: number): NgValue {
    const b = this.b;
    const p = this.pos;
    if (p >= b.length) fail("unexpected end of data", p);
    const c = b[p]!;
    if (c >= 0x30 && c <= 0x39) {
      const end = this.stringEnd();
      const start = this.pos;
      this.pos = end;
      return latin1Slice(b, start, end);
    }
    if (c === D || c === L) return this.container(depth + 1);
    if (c === I) {
      let i = p + 1;
      let sign = 1;
      if (b[i] === MINUS) {
        sign = -1;
        i++;
      }
      const digits = i;
      let n = 0;
      while (i < b.length) {
        const d = b[i]!;
        if (d < 0x30 || d > 0x39) break;
        n = n * 10 + (d - 0x30);
        i++;
      }
      if (i === digits || i - digits > 15 || b[i] !== E) fail("invalid integer", p);
      this.pos = i + 1;
      return n * sign;
    }
    if (c === E) fail("dictionary key without value", p); // only reachable right after a key
    return fail(`unexpected byte 0x${c.toString(16).padStart(2, "0")}`, p);
  }

  /** Parses "<len>:" at `pos` (a digit), leaves `pos` at the first byte of the string, returns its end. */
  stringEnd(): number {
    const b = this.b;
    const p = this.pos;
    let i = p;
    let len = 0;
    while (i < b.length) {
      const d = b[i]!;
      if (d < 0x30 || d > 0x39) break;
      len = len * 10 + (d - 0x30);
      if (len > b.length) fail("string length exceeds message", p);
      i++;
    }
    if (b[i] !== COLON) fail("invalid string length", p);
    if (i + 1 + len > b.length) fail("string length exceeds message", p);
    this.pos = i + 1;
    return i + 1 + len;
  }

  /** A dictionary key: UTF-8 text, or hex when it is not valid UTF-8 (as the bencode package does). */
  key(): string {
    const end = this.stringEnd();
    const b = this.b;
    const start = this.pos;
    this.pos = end;
    let ascii = true;
    let h = end - start;
    for (let i = start; i < end; i++) {
      const c = b[i]!;
      if (c >= 0x80) {
        ascii = false;
        break;
      }
      h = Math.imul(h ^ c, 0x01000193);
    }
    if (!ascii) {
      const text = utf8.decode(b.subarray(start, end));
      return text.includes("\uFFFD") ? b.toString("hex", start, end) : text;
    }
    if (end - start > KEY_CACHE_MAX_LEN) return latin1Slice(b, start, end);
    // The same few dozen keys arrive in every request: reuse their strings (already atomized as property names).
    const slot = (h >>> 0) & (KEY_CACHE_SIZE - 1);
    const cached = keyCache[slot];
    if (cached !== undefined && cached.length === end - start) {
      let same = true;
      for (let i = 0; i < cached.length; i++) {
        if (cached.charCodeAt(i) !== b[start + i]) {
          same = false;
          break;
        }
      }
      if (same) return cached;
    }
    const k = latin1Slice(b, start, end);
    keyCache[slot] = k;
    return k;
  }
}

function asBuffer(u: Uint8Array): FastBuffer {
  return (Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength)) as FastBuffer;
}

/**
 * Decode the bencoded dictionary at the start of `body` (byte strings become latin1 strings). Bytes after
 * it are ignored. With `lenientEnd`, data that stops between two elements closes the open containers
 * (rtpengine 10.5 accepts a datagram whose final 'e's are missing). Throws BencodeError.
 */
export function decodeDict(body: Uint8Array, lenientEnd = true): NgDict {
  if (body[0] !== D) throw new BencodeError("not a bencoded dictionary");
  const dec = new Decoder(asBuffer(body), lenientEnd);
  return dec.container(1) as NgDict;
}

// ---- encoder ----

let scratch = Buffer.allocUnsafe(64 * 1024) as FastBuffer;
let at = 0;

function ensure(n: number): void {
  if (at + n <= scratch.length) return;
  const bigger = Buffer.allocUnsafe(Math.max(scratch.length * 2, at + n + 1024)) as FastBuffer;
  scratch.copy(bigger, 0, 0, at);
  scratch = bigger;
}

function putByte(c: number): void {
  ensure(1);
  scratch[at++] = c;
}

function putAscii(s: string): void {
  ensure(s.length);
  at += latin1Write(scratch, s, at);
}

/** Decimal digits of a non-negative safe integer (capacity already ensured). */
function putUint(n: number): void {
  if (n < 10) {
    scratch[at++] = 0x30 + n;
    return;
  }
  let digits = 1;
  for (let x = n; x >= 10; x = Math.floor(x / 10)) digits++;
  let x = n;
  for (let i = at + digits - 1; i >= at; i--) {
    scratch[i] = 0x30 + (x % 10);
    x = Math.floor(x / 10);
  }
  at += digits;
}

/** Strings up to this length are copied by a JS loop (cheaper than a native call). */
const SHORT_STRING = 32;

/** A byte string given as latin1 text: "<len>:<bytes>". */
function putLatin1String(s: string): void {
  const n = s.length;
  ensure(n + 24);
  putUint(n);
  scratch[at++] = COLON;
  if (n <= SHORT_STRING) {
    for (let i = 0; i < n; i++) scratch[at + i] = s.charCodeAt(i); // the low byte, as latin1 encoding keeps
    at += n;
  } else at += latin1Write(scratch, s, at);
}

/** A dictionary key: UTF-8 (the bencode package encodes keys as text). */
function putKey(k: string): void {
  for (let i = 0; i < k.length; i++) {
    if (k.charCodeAt(i) >= 0x80) {
      const n = Buffer.byteLength(k, "utf8");
      ensure(n + 12);
      at += latin1Write(scratch, String(n), at);
      scratch[at++] = COLON;
      at += scratch.write(k, at, "utf8");
      return;
    }
  }
  putLatin1String(k);
}

function putValue(v: NgValue, depth: number): void {
  if (depth > 1000) throw new RangeError("reply nested too deeply");
  if (typeof v === "string") return putLatin1String(v);
  if (typeof v === "number") {
    const n = Number.isFinite(v) ? Math.trunc(v) : 0;
    ensure(24);
    scratch[at++] = I;
    if (n >= 0 && n <= Number.MAX_SAFE_INTEGER) putUint(n);
    else putAscii(Number.isSafeInteger(n) ? String(n) : BigInt(n).toString());
    ensure(1);
    scratch[at++] = E;
    return;
  }
  if (Array.isArray(v)) {
    putByte(L);
    for (let i = 0; i < v.length; i++) {
      const x = v[i];
      if (x === undefined || x === null) throw new TypeError("list element is undefined or null");
      putValue(x, depth + 1);
    }
    return putByte(E);
  }
  if (v === undefined || v === null) throw new TypeError("Cannot convert undefined or null to object");
  // Anything else is encoded by its own enumerable keys, sorted, skipping null/undefined values.
  const o = v as Record<string, NgValue | null | undefined>;
  const keys = sortKeys(Object.keys(o));
  putByte(D);
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    const x = o[k];
    if (x === undefined || x === null || k === "__proto__") continue;
    putKey(k);
    putValue(x, depth + 1);
  }
  putByte(E);
}

/** Keys in code-unit order, as Array.prototype.sort() without a comparator orders strings (insertion sort: ng dicts are small). */
function sortKeys(keys: string[]): string[] {
  if (keys.length > 24) return keys.sort();
  for (let i = 1; i < keys.length; i++) {
    const k = keys[i]!;
    let j = i - 1;
    while (j >= 0 && keys[j]! > k) {
      keys[j + 1] = keys[j]!;
      j--;
    }
    keys[j + 1] = k;
  }
  return keys;
}

/** Encode `value` as bencode, with `prefix` (latin1, e.g. "COOKIE ") in front, into a fresh Buffer. */
export function encodeBencode(value: NgValue, prefix = ""): Buffer {
  at = 0;
  try {
    if (prefix) {
      ensure(prefix.length);
      at += latin1Write(scratch, prefix, at);
    }
    putValue(value, 0);
    const out = Buffer.allocUnsafe(at);
    scratch.copy(out, 0, 0, at);
    return out;
  } finally {
    at = 0;
  }
}
