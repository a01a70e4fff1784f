// Unit tests of the ng bencode codec (src/control/bencode-codec.ts): round trips, malformed input with the exact
// error details, and a differential check against the `bencode` npm package on random dictionaries.
import { describe, expect, test } from "bun:test";
import bencode from "bencode";
import { BencodeError, decodeDict, encodeBencode, MAX_DEPTH } from "../../src/control/bencode-codec.ts";
import type { NgDict, NgValue } from "../../src/control/types.ts";

const b = (s: string) => Buffer.from(s, "latin1");

/** The package's decoding, mapped to the ng convention: byte strings as latin1, keys as the package makes them. */
function refDecode(bytes: Uint8Array): NgValue {
  const conv = (v: unknown): NgValue => {
    if (typeof v === "number") return v;
    if (v instanceof Uint8Array) return Buffer.from(v).toString("latin1");
    if (Array.isArray(v)) return v.map(conv);
    const out: NgDict = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) if (k !== "__proto__") out[k] = conv(x);
    return out;
  };
  return conv(bencode.decode(bytes));
}

/** The package's encoding of an ng value: strings as latin1 bytes, numbers truncated. */
function refEncode(v: NgValue): Buffer {
  const conv = (x: NgValue): unknown => {
    if (typeof x === "string") return Buffer.from(x, "latin1");
    if (typeof x === "number") return Number.isFinite(x) ? Math.trunc(x) : 0;
    if (Array.isArray(x)) return x.map(conv);
    const out: Record<string, unknown> = {};
    for (const [k, y] of Object.entries(x)) if (y !== undefined && y !== null) out[k] = conv(y);
    return out;
  };
  return Buffer.from(bencode.encode(conv(v)));
}

// deterministic PRNG so a failure reproduces
let seed = 12345;
const rnd = (n: number) => {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed % n;
};
function randBytes(n: number, ascii: boolean): string {
  let s = "";
  for (let i = 0; i < n; i++) s += String.fromCharCode(ascii ? 0x20 + rnd(95) : rnd(256));
  return s;
}
function randKey(): string {
  const k = rnd(10);
  if (k === 0) return "é-ключ"; // non-ASCII UTF-8 key
  if (k === 1) return String(rnd(50)); // integer-like key (object key order)
  return ["command", "call-id", "from-tag", "sdp", "flags", "a", "b", "zz", "Z"][rnd(9)]! + randBytes(rnd(3), true);
}
function randValue(depth: number): NgValue {
  const k = rnd(depth > 3 ? 3 : 6);
  if (k === 0) return randBytes(rnd(40), rnd(2) === 0);
  if (k === 1) return rnd(2) ? rnd(100000) : -rnd(1e9) * 1000;
  if (k === 2) return randBytes(rnd(300), true);
  if (k === 3) return Array.from({ length: rnd(5) }, () => randValue(depth + 1));
  return randDict(depth + 1);
}
function randDict(depth: number): NgDict {
  const d: NgDict = {};
  for (let i = rnd(8); i > 0; i--) d[randKey()] = randValue(depth);
  return d;
}

describe("bencode codec", () => {
  test("round trip, including every byte value in strings", () => {
    const all = String.fromCharCode(...Array.from({ length: 256 }, (_, i) => i));
    const dict: NgDict = { command: "offer", sdp: all, list: ["", "x", 0, -7, [[]], {}], nested: { a: { b: ["c"] } }, big: 123456789012345 };
    expect(decodeDict(encodeBencode(dict))).toEqual(dict);
  });

  test("differential against the bencode package (random dictionaries)", () => {
    for (let i = 0; i < 500; i++) {
      const dict = randDict(0);
      const ours = encodeBencode(dict);
      const ref = refEncode(dict);
      expect(ours.toString("latin1")).toBe(ref.toString("latin1"));
      expect(decodeDict(ref)).toEqual(refDecode(ref) as NgDict);
    }
  });

  test("encoder matches the package on odd values", () => {
    const dict = { n: 2.7, m: -0.5, inf: Infinity, nan: NaN, huge: 1e21, neg: -123456789012345678, u: undefined, nul: null, wide: "\u0100\u20ac\uffff", wideLong: "\u0101x\u20ac".repeat(40), zero: -0, key: "v" } as unknown as NgDict;
    expect(encodeBencode(dict).toString("latin1")).toBe(refEncode(dict).toString("latin1"));
    expect(encodeBencode({ "\u00e9t\u00e9": "x", "\u6f22": 1 }).toString("latin1")).toBe(refEncode({ "\u00e9t\u00e9": "x", "\u6f22": 1 }).toString("latin1"));
    expect(encodeBencode({ a: 1 }, "cookie ").toString()).toBe("cookie d1:ai1ee");
    expect(() => encodeBencode({ l: [undefined as unknown as NgValue] })).toThrow(TypeError);
  });

  test("keys: invalid UTF-8 becomes hex, valid UTF-8 text, __proto__ dropped, later duplicate wins", () => {
    const raw = Buffer.concat([b("d2:"), Buffer.from([0xff, 0xfe]), b("i1e3:\u00c3\u00a9ti2e4:\u00c3\u00a9t\u00c3i3e9:__proto__d1:xi1ee1:ai1e1:ai2ee")]);
    const ours = decodeDict(raw);
    expect(ours).toEqual(refDecode(raw) as NgDict);
    expect(ours).toEqual({ fffe: 1, "ét": 2, c3a974c3: 3, a: 2 } as NgDict);
    expect(Object.getPrototypeOf(ours)).toBe(Object.prototype);
  });

  test("integers: sign, leading zeros, -0, 15 digits", () => {
    expect(decodeDict(b("d1:ai-12e1:bi007e1:ci999999999999999ee"))).toEqual({ a: -12, b: 7, c: 999999999999999 });
    expect(Object.is(decodeDict(b("d1:ai-0ee"))["a"], -0)).toBe(true);
  });

  test("trailing bytes are ignored; missing final 'e's are tolerated between elements", () => {
    expect(decodeDict(b("d1:ai1eeXYZ"))).toEqual({ a: 1 });
    expect(decodeDict(b("d1:al1:b"))).toEqual({ a: ["b"] });
    expect(decodeDict(b("d1:ad1:bi1e"))).toEqual({ a: { b: 1 } });
    expect(() => decodeDict(b("d1:al1:b"), false)).toThrow("unexpected end of data at offset 8");
  });

  test.each([
    ["x", "not a bencoded dictionary"],
    ["d1:a", "unexpected end of data at offset 4"],
    ["d1:ae", "dictionary key without value at offset 4"],
    ["di1ei2ee", "dictionary key is not a string at offset 1"],
    ["dl1:aee", "dictionary key is not a string at offset 1"],
    ["d1:ai1.5ee", "invalid integer at offset 4"],
    ["d1:aie", "invalid integer at offset 4"],
    ["d1:ai-e", "invalid integer at offset 4"],
    ["d1:ai1234567890123456e", "invalid integer at offset 4"],
    ["d1:ai12", "invalid integer at offset 4"],
    ["d1:a-5:abce", "unexpected byte 0x2d at offset 4"],
    ["d1:a5:abc", "string length exceeds message at offset 4"],
    ["d1:a99999999999999999999:x", "string length exceeds message at offset 4"],
    ["d1:a3xabce", "invalid string length at offset 4"],
    ["d1:a3", "invalid string length at offset 4"],
    ["d1:axe", "unexpected byte 0x78 at offset 4"],
    ["d1:a" + "l".repeat(MAX_DEPTH) + "e".repeat(MAX_DEPTH) + "e", `nesting too deep at offset ${4 + MAX_DEPTH - 1}`],
  ])("malformed %j -> %j", (input, detail) => {
    let err: unknown;
    try {
      decodeDict(b(input));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(BencodeError);
    expect((err as Error).message).toBe(detail);
  });

  test("nesting up to the limit is accepted", () => {
    const n = MAX_DEPTH - 1;
    expect(decodeDict(b("d1:a" + "l".repeat(n) + "e".repeat(n) + "e"))["a"]).toBeDefined();
  });

  test("every truncation and single-byte corruption of a valid message either decodes or throws BencodeError", () => {
    const msg = refEncode({ command: "offer", "call-id": "c1", sdp: "v=0\r\n", flags: ["a", "b"], n: -5, d: { x: [1, { y: "z" }] } });
    for (let cut = 1; cut <= msg.length; cut++) {
      try {
        decodeDict(msg.subarray(0, cut));
      } catch (e) {
        expect(e).toBeInstanceOf(BencodeError);
      }
    }
    for (let i = 1; i < msg.length; i++) {
      for (const c of [0x00, 0x2d, 0x30, 0x39, 0x3a, 0x64, 0x65, 0x69, 0x6c, 0xff]) {
        const m = Buffer.from(msg);
        m[i] = c;
        try {
          decodeDict(m);
        } catch (e) {
          expect(e).toBeInstanceOf(BencodeError);
        }
      }
    }
  });
});
