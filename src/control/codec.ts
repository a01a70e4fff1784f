// ng wire codec: "COOKIE<space>DICT" datagrams, dict in bencode (./bencode-codec.ts) or JSON, replies in the request's encoding.
import { decodeDict, encodeBencode } from "./bencode-codec.ts";
import type { NgDict, NgValue } from "./types.ts";

export type NgEncoding = "bencode" | "json";

/** Upper bound for one ng message on stream transports (UDP is bounded by the datagram size anyway). */
export const MAX_NG_MESSAGE = 4 * 1024 * 1024;
/** Nesting deeper than this is not a plausible ng request and would only cost stack. */
const MAX_DEPTH = 64;

/** Result of parsing one ng message. `drop` means no reply can be sent (there is no cookie to answer with). */
export type ParsedNg =
  | { kind: "request"; cookie: string; encoding: NgEncoding; dict: NgDict; command: string }
  | { kind: "error"; cookie: string; encoding: NgEncoding; reason: string; detail?: string }
  | { kind: "drop"; reason: string };

const SPACE = 0x20;

// error-reason strings as rtpengine 10.5 sends them (observed against rtpengine-daemon 10.5.3.5)
export const REASON_FORMAT = "Invalid NG data format";
export const REASON_BENCODE = "Could not decode bencode dictionary";
export const REASON_JSON = "Could not decode JSON dictionary";
export const REASON_NO_COMMAND = 'Dictionary contains no key "command"';
export const REASON_NO_PAYLOAD = "Invalid data (no payload)";

/** Split off the cookie and decode the dictionary. Never throws. */
export function parseNgMessage(buf: Uint8Array): ParsedNg {
  if (buf.length > MAX_NG_MESSAGE) {
    // A cookie may still be there: answer it, but do not decode the body.
    const sp = buf.subarray(0, 256).indexOf(SPACE);
    if (sp <= 0) return { kind: "drop", reason: "oversized message without cookie" };
    return { kind: "error", cookie: latin1(buf.subarray(0, sp)), encoding: "bencode", reason: `Message too large (${buf.length} bytes, limit ${MAX_NG_MESSAGE})` };
  }
  const sp = buf.indexOf(SPACE);
  if (sp <= 0) return { kind: "drop", reason: sp === 0 ? "empty cookie" : "no cookie" };
  const cookie = latin1(buf.subarray(0, sp));
  let start = sp + 1;
  while (start < buf.length && isWhitespace(buf[start]!)) start++;
  if (start >= buf.length) return { kind: "error", cookie, encoding: "bencode", reason: REASON_NO_PAYLOAD };
  const encoding: NgEncoding = buf[start] === 0x7b /* { */ ? "json" : "bencode";
  if (encoding === "bencode" && buf[start] !== 0x64 /* d */) return { kind: "error", cookie, encoding, reason: REASON_FORMAT, detail: "body is not a dictionary" };
  let dict: NgDict;
  try {
    dict = encoding === "json" ? decodeJsonDict(buf.subarray(start)) : decodeBencodeDict(buf.subarray(start));
  } catch (e) {
    const detail = (e as Error).message;
    return { kind: "error", cookie, encoding, reason: encoding === "json" ? REASON_JSON : REASON_BENCODE, detail };
  }
  const command = dict["command"];
  // rtpengine treats a non-string command like a missing one
  if (typeof command !== "string") return { kind: "error", cookie, encoding, reason: REASON_NO_COMMAND, detail: command === undefined ? undefined : "command is not a string" };
  return { kind: "request", cookie, encoding, dict, command };
}

/** Encode a reply (or any dict) with the cookie in front. */
export function encodeNgMessage(cookie: string, encoding: NgEncoding, dict: NgDict): Buffer {
  if (encoding !== "json") return encodeBencode(dict, cookie + " ");
  const body = Buffer.from(JSON.stringify(toJson(dict)), "utf8");
  return Buffer.concat([Buffer.from(cookie + " ", "latin1"), body]);
}

/**
 * Decode a bencoded dictionary; byte strings become latin1 strings. Bytes after the dictionary
 * are ignored, as rtpengine does. Throws Error with the detail of what is wrong.
 */
export function decodeBencodeDict(body: Uint8Array): NgDict {
  // rtpengine accepts a datagram whose final closing 'e's are missing (observed with 10.5.3.5),
  // as long as the data ends between two elements: the decoder closes the open containers.
  return decodeDict(body, true);
}

/**
 * For stream transports: the length of the complete ng message ("COOKIE DICT") at the start of
 * `buf`, 0 if more bytes are needed, or -1 if the bytes can never become a valid message
 * (the caller then answers/drops what it has and resynchronises).
 */
export function ngMessageLength(buf: Uint8Array): number {
  const sp = buf.indexOf(SPACE);
  if (sp < 0) return buf.length > 256 ? -1 : 0;
  if (sp === 0) return -1;
  let start = sp + 1;
  while (start < buf.length && isWhitespace(buf[start]!)) start++;
  if (start >= buf.length) return 0;
  if (buf[start] === 0x7b /* { */) return jsonObjectEnd(buf, start);
  if (buf[start] !== 0x64) return -1;
  try {
    return scanBencode(buf, start, false).end;
  } catch (e) {
    return (e as Error).message.includes("unexpected end of data") || (e as Error).message.includes("exceeds message") ? 0 : -1;
  }
}

/** End offset of the JSON object starting at `start` (string-aware brace matching), 0 if incomplete. */
function jsonObjectEnd(b: Uint8Array, start: number): number {
  let depth = 0;
  let inString = false;
  for (let i = start; i < b.length; i++) {
    const c = b[i]!;
    if (inString) {
      if (c === 0x5c /* \ */) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) depth++;
    else if (c === 0x7d || c === 0x5d) {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return 0;
}

/**
 * Structural scan for stream framing (ngMessageLength); decoding itself is done by ./bencode-codec.ts.
 * Returns the offset just past the value starting at `pos`; with `lenientEnd`, data that stops
 * between two elements is accepted and `open` says how many containers are still unclosed.
 */
function scanBencode(b: Uint8Array, pos: number, lenientEnd: boolean): { end: number; open: number } {
  // Explicit stack: each entry is "container kind" and, for dicts, whether a key is expected next.
  const stack: { dict: boolean; expectKey: boolean }[] = [];
  const fail = (what: string, at: number): never => {
    throw new Error(`${what} at offset ${at}`);
  };
  for (;;) {
    const top = stack[stack.length - 1];
    if (pos >= b.length) {
      if (lenientEnd && top && (!top.dict || top.expectKey)) return { end: pos, open: stack.length };
      fail("unexpected end of data", pos);
    }
    const c = b[pos]!;
    if (c === 0x65 /* e */ && top) {
      if (top.dict && !top.expectKey) fail("dictionary key without value", pos);
      stack.pop();
      pos++;
    } else {
      if (top?.dict && top.expectKey && !(c >= 0x30 && c <= 0x39)) fail("dictionary key is not a string", pos);
      if (c === 0x64 /* d */ || c === 0x6c /* l */) {
        if (stack.length >= MAX_DEPTH) fail("nesting too deep", pos);
        if (top?.dict) top.expectKey = !top.expectKey;
        stack.push({ dict: c === 0x64, expectKey: true });
        pos++;
        continue;
      } else if (c === 0x69 /* i */) {
        let i = pos + 1;
        if (b[i] === 0x2d /* - */) i++;
        const digits = i;
        while (i < b.length && b[i]! >= 0x30 && b[i]! <= 0x39) i++;
        if (i === digits || i - digits > 15 || b[i] !== 0x65) fail("invalid integer", pos);
        pos = i + 1;
      } else if (c >= 0x30 && c <= 0x39) {
        let i = pos;
        let len = 0;
        while (i < b.length && b[i]! >= 0x30 && b[i]! <= 0x39) {
          len = len * 10 + (b[i]! - 0x30);
          if (len > b.length) fail("string length exceeds message", pos);
          i++;
        }
        if (b[i] !== 0x3a /* : */) fail("invalid string length", pos);
        if (i + 1 + len > b.length) fail("string length exceeds message", pos);
        pos = i + 1 + len;
      } else {
        fail(`unexpected byte 0x${c.toString(16).padStart(2, "0")}`, pos);
      }
      if (top?.dict) top.expectKey = !top.expectKey;
    }
    if (stack.length === 0) return { end: pos, open: 0 };
  }
}

/** JSON bodies carry Unicode text; map it to the same latin1 byte-string convention as bencode (UTF-8 bytes). */
function decodeJsonDict(body: Uint8Array): NgDict {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString("utf8"));
  } catch (e) {
    throw new Error((e as Error).message);
  }
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) throw new Error("not an object");
  return fromJson(parsed, 0) as NgDict;
}

function fromJson(v: unknown, depth: number): NgValue | undefined {
  if (depth > MAX_DEPTH) throw new Error("nesting too deep");
  if (typeof v === "string") return Buffer.from(v, "utf8").toString("latin1");
  if (typeof v === "number") return v;
  if (typeof v === "boolean") return v ? 1 : 0;
  if (v === null) return undefined;
  if (Array.isArray(v)) return v.map((x) => fromJson(x, depth + 1)).filter((x): x is NgValue => x !== undefined);
  const out: NgDict = {};
  for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
    if (k === "__proto__") continue;
    const conv = fromJson(val, depth + 1);
    if (conv !== undefined) out[k] = conv;
  }
  return out;
}

type Json = string | number | Json[] | { [k: string]: Json };

function toJson(v: NgValue): Json {
  if (typeof v === "string") return Buffer.from(v, "latin1").toString("utf8");
  if (typeof v === "number") return v;
  if (Array.isArray(v)) return v.map(toJson);
  const out: { [k: string]: Json } = {};
  for (const [k, val] of Object.entries(v)) if (val !== undefined && val !== null) out[k] = toJson(val);
  return out;
}

function latin1(b: Uint8Array): string {
  return Buffer.isBuffer(b) ? b.toString("latin1") : Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("latin1");
}

function isWhitespace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}
