// Tests for the conformance pattern matcher and the test client's bencode codec.
import { describe, expect, test } from "bun:test";
import { matchSdp, patternToRegex } from "./match.ts";
import { bdecode, bencode } from "./ng-client.ts";

describe("matchSdp", () => {
  test("placeholders capture in order of appearance; SDP_VERSION is not captured", () => {
    const pat = "o=- SDP_VERSION IN IP4 1.2.3.4\nm=audio PORT RTP/AVP 0\na=ice-ufrag:ICEUFRAG\na=rtcp:PORT\n";
    const got = "o=- 123 4 IN IP4 1.2.3.4\r\nm=audio 30000 RTP/AVP 0\r\na=ice-ufrag:abcdEF12\r\na=rtcp:30001\r\n";
    const m = matchSdp(pat, got);
    expect(m.ok).toBe(true);
    expect(m.groups).toEqual(["30000", "abcdEF12", "30001"]);
  });

  test("the whole text must match; one extra trailing newline is tolerated", () => {
    expect(matchSdp("v=0\n", "v=0\n\n").ok).toBe(true);
    expect(matchSdp("v=0\n", "v=0\n\n\n").ok).toBe(false);
    expect(matchSdp("v=0\n", "v=0\na=x\n").ok).toBe(false);
    expect(matchSdp("a=x\n", "v=0\na=x\n").ok).toBe(false);
  });

  test("'?' is one character, other regex metacharacters are literal", () => {
    expect(matchSdp("a=fmtp:101 0-1?\n", "a=fmtp:101 0-15\n").ok).toBe(true);
    expect(matchSdp("a=x.y\n", "a=xzy\n").ok).toBe(false);
    expect(matchSdp("a=(x)+\n", "a=(x)+\n").ok).toBe(true);
  });

  test("longer words win: CRYPTO128S is 38 characters, CRYPTO128 is 40", () => {
    expect(matchSdp("k=CRYPTO128S\n", `k=${"a".repeat(38)}\n`).ok).toBe(true);
    expect(matchSdp("k=CRYPTO128\n", `k=${"a".repeat(38)}\n`).ok).toBe(false);
    expect(matchSdp("k=CRYPTO128\n", `k=${"a/+b".repeat(10)}\n`).ok).toBe(true);
    expect(patternToRegex("FINGERPRINT256 FINGERPRINT").groups).toBe(2);
  });

  test("${VAR} is replaced literally; a missing variable is empty", () => {
    const vars = { key: "ab+/cd" };
    expect(matchSdp("a=crypto:1 X inline:${key}\n", "a=crypto:1 X inline:ab+/cd\n", vars).ok).toBe(true);
    expect(matchSdp("a=crypto:1 X inline:${key}\n", "a=crypto:1 X inline:abb/cd\n", vars).ok).toBe(false);
    expect(matchSdp("a=${nope}x\n", "a=x\n", vars).ok).toBe(true);
  });

  test("a mismatch names the first differing line", () => {
    const m = matchSdp("v=0\nm=audio PORT RTP/AVP 0\na=sendrecv\n", "v=0\nm=audio 1 RTP/AVP 8\na=sendrecv\n");
    expect(m.ok).toBe(false);
    expect(m.mismatch).toEqual({ line: 2, expected: "m=audio PORT RTP/AVP 0", got: "m=audio 1 RTP/AVP 8" });
  });
});

describe("bencode", () => {
  test("round trip with sorted keys", () => {
    const v = { command: "offer", "call-id": "x", flags: ["a", "b"], n: -5, nested: { z: 1, a: "é" } };
    const enc = Buffer.from(bencode(v)).toString("latin1");
    expect(enc.startsWith("d7:call-id1:x7:command5:offer5:flagsl1:a1:be1:ni-5e6:nestedd1:a2:")).toBe(true);
    expect(bdecode(bencode(v))).toEqual(v);
  });

  test("malformed input throws instead of looping", () => {
    for (const bad of ["d7:command", "l", "i12", "5:ab", "d-3:abce", "x"]) expect(() => bdecode(Buffer.from(bad))).toThrow();
  });
});
