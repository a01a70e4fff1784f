// STUN codec: RFC 5769 vectors byte for byte, round trips, and malformed input rejected without throwing.
import { describe, expect, test } from "bun:test";
import {
  Attr, StunClass, attrErrorCode, attrPriority, attrRole, attrSoftware, attrUnknownAttributes, attrUseCandidate,
  attrUsername, attrXorMapped, buildStun, looksLikeStun, parseStun, stunStats, verifyIntegrity,
} from "../../src/ice/stun.ts";

const hex = (s: string): Uint8Array => Uint8Array.from(s.replace(/\s+/g, "").match(/../g)!.map((h) => parseInt(h, 16)));

// RFC 5769 section 2 test vectors
const PWD = "VOkJxbRl1RmTxUk/WvJxBt";
const TID = hex("b7e7a701bc34d686fa87dfae");
const REQUEST = hex(`
  00010058 2112a442 b7e7a701 bc34d686 fa87dfae
  80220010 5354554e 20746573 7420636c 69656e74
  00240004 6e0001ff
  80290008 932ff9b1 51263b36
  00060009 6576746a 3a683676 59202020
  00080014 9aeaa70c bfd8cb56 781ef2b5 b2d3f249 c1b571a2
  80280004 e57a3bcf`);
const RESPONSE_V4 = hex(`
  0101003c 2112a442 b7e7a701 bc34d686 fa87dfae
  8022000b 74657374 20766563 746f7220
  00200008 0001a147 e112a643
  00080014 2b91f599 fd9e90c3 8c7489f9 2af9ba53 f06be7d7
  80280004 c07d4c96`);
const RESPONSE_V6 = hex(`
  01010048 2112a442 b7e7a701 bc34d686 fa87dfae
  8022000b 74657374 20766563 746f7220
  00200014 0002a147 0113a9fa a5d3f179 bc25f4b5 bed2b9d9
  00080014 a382954e 4be67bf1 1784c97c 8292c275 bfe3ed41
  80280004 c8fb0b4c`);

function mustParse(b: Uint8Array) {
  const r = parseStun(b);
  if (!r.ok) throw new Error(`rejected: ${r.reason}`);
  return r.msg;
}

describe("RFC 5769 vectors", () => {
  test("sample request parses, integrity and fingerprint verify", () => {
    const m = mustParse(REQUEST);
    expect(m.cls).toBe(StunClass.Request);
    expect(m.method).toBe(1);
    expect(m.username).toBe("evtj:h6vY");
    expect(m.software).toBe("STUN test client");
    expect(m.priority).toBe(0x6e0001ff);
    expect(m.controlled).toBe(0x932ff9b151263b36n);
    expect(m.controlling).toBeUndefined();
    expect(m.fingerprint).toBe(true);
    expect(verifyIntegrity(m, PWD)).toBe(true);
    expect(verifyIntegrity(m, PWD + "x")).toBe(false);
  });

  test("sample request is rebuilt byte for byte", () => {
    const b = buildStun({
      cls: StunClass.Request, tid: TID, pad: 0x20, integrityKey: PWD,
      attrs: [attrSoftware("STUN test client"), attrPriority(0x6e0001ff), attrRole(false, 0x932ff9b151263b36n), attrUsername("evtj:h6vY")],
    });
    expect(Buffer.from(b).toString("hex")).toBe(Buffer.from(REQUEST).toString("hex"));
  });

  test("IPv4 response: XOR-MAPPED-ADDRESS decodes and rebuilds byte for byte", () => {
    const m = mustParse(RESPONSE_V4);
    expect(m.cls).toBe(StunClass.Success);
    expect(m.xorMapped).toEqual({ address: "192.0.2.1", port: 32853 });
    expect(verifyIntegrity(m, PWD)).toBe(true);
    const b = buildStun({ cls: StunClass.Success, tid: TID, pad: 0x20, integrityKey: PWD, attrs: [attrSoftware("test vector"), attrXorMapped(m.xorMapped!, TID)] });
    expect(Buffer.from(b).toString("hex")).toBe(Buffer.from(RESPONSE_V4).toString("hex"));
  });

  test("IPv6 response: XOR-MAPPED-ADDRESS decodes and rebuilds byte for byte", () => {
    const m = mustParse(RESPONSE_V6);
    expect(m.xorMapped).toEqual({ address: "2001:db8:1234:5678:11:2233:4455:6677", port: 32853 });
    expect(verifyIntegrity(m, PWD)).toBe(true);
    const b = buildStun({ cls: StunClass.Success, tid: TID, pad: 0x20, integrityKey: PWD, attrs: [attrSoftware("test vector"), attrXorMapped(m.xorMapped!, TID)] });
    expect(Buffer.from(b).toString("hex")).toBe(Buffer.from(RESPONSE_V6).toString("hex"));
  });
});

describe("building and parsing", () => {
  test("error response with 487, USE-CANDIDATE, ICE-CONTROLLING, UNKNOWN-ATTRIBUTES round trip", () => {
    const b = buildStun({
      cls: StunClass.Error, tid: TID, integrityKey: "k",
      attrs: [attrErrorCode(487, "Role Conflict"), attrUseCandidate(), attrRole(true, 0xffffffffffffffffn), attrUnknownAttributes([0x7777, 0x0003])],
    });
    const m = mustParse(b);
    expect(m.cls).toBe(StunClass.Error);
    expect(m.error).toEqual({ code: 487, reason: "Role Conflict" });
    expect(m.useCandidate).toBe(true);
    expect(m.controlling).toBe(0xffffffffffffffffn);
    expect(m.unknownList).toEqual([0x7777, 0x0003]);
    expect(verifyIntegrity(m, "k")).toBe(true);
  });

  test("unknown comprehension-required attributes are reported, optional ones ignored", () => {
    const b = buildStun({ cls: StunClass.Request, tid: TID, attrs: [{ type: 0x0033, value: new Uint8Array(3) }, { type: 0x8fff, value: new Uint8Array(1) }] });
    const m = mustParse(b);
    expect(m.unknownRequired).toEqual([0x0033]);
  });

  test("attributes after MESSAGE-INTEGRITY are ignored; no integrity means verify fails", () => {
    const withMi = buildStun({ cls: StunClass.Request, tid: TID, integrityKey: "k", fingerprint: false, attrs: [attrUsername("a:b")] });
    // append a PRIORITY after MESSAGE-INTEGRITY by hand, fix the length
    const extra = new Uint8Array(withMi.length + 8);
    extra.set(withMi);
    extra.set([0x00, 0x24, 0x00, 0x04, 1, 2, 3, 4], withMi.length);
    new DataView(extra.buffer).setUint16(2, extra.length - 20);
    const m = mustParse(extra);
    expect(m.priority).toBeUndefined();
    expect(verifyIntegrity(m, "k")).toBe(true);
    const plain = mustParse(buildStun({ cls: StunClass.Request, tid: TID, attrs: [] }));
    expect(verifyIntegrity(plain, "k")).toBe(false);
  });

  test("looksLikeStun separates STUN from RTP and DTLS", () => {
    expect(looksLikeStun(REQUEST)).toBe(true);
    const rtp = new Uint8Array(32); rtp[0] = 0x80;
    expect(looksLikeStun(rtp)).toBe(false);
    expect(looksLikeStun(REQUEST.subarray(0, 19))).toBe(false);
  });
});

describe("malformed input", () => {
  const reasonOf = (b: Uint8Array): string => { const r = parseStun(b); return r.ok ? "ok" : r.reason; };

  test("specific defects give specific reasons", () => {
    expect(reasonOf(REQUEST.subarray(0, 10))).toBe("short");
    const badCookie = REQUEST.slice(); badCookie[4] = 0;
    expect(reasonOf(badCookie)).toBe("not-stun");
    expect(reasonOf(REQUEST.subarray(0, REQUEST.length - 4))).toBe("length-mismatch");
    const unaligned = REQUEST.slice(); unaligned[3] = 0x57;
    expect(reasonOf(unaligned.subarray(0, 20 + 0x57))).toBe("length-unaligned");
    const badFp = REQUEST.slice(); badFp[badFp.length - 1]! ^= 1;
    expect(reasonOf(badFp)).toBe("bad-fingerprint");
    const badPri = REQUEST.slice(); badPri[20 + 20 + 3] = 5; // PRIORITY length 5 -> runs into the next header
    expect(["attr-truncated", "bad-attr-length"]).toContain(reasonOf(badPri));
    const overrun = REQUEST.slice(); overrun[20 + 3] = 0xf0; // SOFTWARE claims 240 bytes
    expect(reasonOf(overrun)).toBe("attr-truncated");
    const badFam = RESPONSE_V4.slice(); badFam[20 + 16 + 5] = 3;
    expect(reasonOf(badFam)).toBe("bad-address");
    const tamperedMi = REQUEST.slice(); tamperedMi[20 + 64 + 4 + 2]! ^= 0xff;
    // tampering inside MI breaks the fingerprint first
    expect(reasonOf(tamperedMi)).toBe("bad-fingerprint");
    const badUser = buildStun({ cls: StunClass.Request, tid: TID, attrs: [{ type: Attr.USERNAME, value: Uint8Array.of(0xff, 0xfe) }] });
    expect(reasonOf(badUser)).toBe("bad-username");
    const badErr = buildStun({ cls: StunClass.Error, tid: TID, attrs: [{ type: Attr.ERROR_CODE, value: Uint8Array.of(0, 0, 9, 1) }] });
    expect(reasonOf(badErr)).toBe("bad-error-code");
    const afterFp = new Uint8Array(REQUEST.length + 4);
    afterFp.set(REQUEST); afterFp.set([0x80, 0x22, 0, 0], REQUEST.length);
    new DataView(afterFp.buffer).setUint16(2, afterFp.length - 20);
    expect(reasonOf(afterFp)).toBe("attr-after-fingerprint");
    expect((stunStats.rejected["bad-fingerprint"] ?? 0)).toBeGreaterThan(0);
  });

  test("fuzz: truncations, bit flips and random bytes never throw", () => {
    let seed = 12345;
    const rnd = (): number => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed; };
    const seeds = [REQUEST, RESPONSE_V4, RESPONSE_V6];
    let accepted = 0;
    for (const s of seeds) for (let n = 0; n <= s.length; n++) expect(() => parseStun(s.subarray(0, n))).not.toThrow();
    for (let i = 0; i < 20000; i++) {
      const s = seeds[i % 3]!;
      const b = s.slice();
      const flips = 1 + (rnd() % 4);
      for (let f = 0; f < flips; f++) b[rnd() % b.length] = rnd() & 0xff;
      const r = parseStun(b);
      // a flip in FINGERPRINT's type turns it into an unknown attribute: accepted, but unfingerprinted
      if (r.ok && r.msg.fingerprint && verifyIntegrity(r.msg, PWD) && !b.every((x, j) => x === s[j])) accepted++;
    }
    for (let i = 0; i < 5000; i++) {
      const b = new Uint8Array(20 + (rnd() % 80));
      for (let j = 0; j < b.length; j++) b[j] = rnd() & 0xff;
      b[0]! &= 0x3f; b.set([0x21, 0x12, 0xa4, 0x42], 4);
      new DataView(b.buffer).setUint16(2, b.length - 20);
      expect(() => parseStun(b)).not.toThrow();
    }
    // CRC-32 catches every change to a fingerprinted message of this size
    expect(accepted).toBe(0);
  });
});
