// Unit tests of the ng wire codec: cookie split, bencode/JSON decoding, the error reasons rtpengine 10.5 sends, stream framing.
import { describe, expect, test } from "bun:test";
import {
  decodeBencodeDict, encodeNgMessage, ngMessageLength, parseNgMessage,
  REASON_BENCODE, REASON_FORMAT, REASON_NO_COMMAND, REASON_NO_PAYLOAD,
} from "../../src/control/codec.ts";

const b = (s: string) => Buffer.from(s, "latin1");

describe("parseNgMessage", () => {
  test("splits cookie and decodes a bencoded request", () => {
    const p = parseNgMessage(b("5323_1 d7:command4:ping4:listl1:ai7ee1:dd1:xi-3eee"));
    expect(p).toEqual({ kind: "request", cookie: "5323_1", encoding: "bencode", command: "ping", dict: { command: "ping", list: ["a", 7], d: { x: -3 } } });
  });

  test("byte strings round-trip as latin1 (non-UTF-8 bytes survive)", () => {
    const raw = Buffer.concat([b("c d7:command4:ping3:sdp4:"), Buffer.from([0xff, 0x00, 0xc3, 0x28]), b("e")]);
    const p = parseNgMessage(raw);
    if (p.kind !== "request") throw new Error(p.kind);
    const back = encodeNgMessage("c", "bencode", { sdp: p.dict["sdp"]! });
    expect([...back.subarray(back.length - 5, back.length - 1)]).toEqual([0xff, 0x00, 0xc3, 0x28]);
  });

  test("JSON body is accepted and the reply is JSON", () => {
    const p = parseNgMessage(b('c7 {"command":"ping","flags":["a"],"n":1,"t":true,"z":null}'));
    expect(p).toEqual({ kind: "request", cookie: "c7", encoding: "json", command: "ping", dict: { command: "ping", flags: ["a"], n: 1, t: 1 } });
    expect(encodeNgMessage("c7", "json", { result: "pong" }).toString()).toBe('c7 {"result":"pong"}');
  });

  test("no cookie is a drop (nothing to answer with)", () => {
    expect(parseNgMessage(b("nocookie")).kind).toBe("drop");
    expect(parseNgMessage(b(" d7:command4:pinge")).kind).toBe("drop");
    expect(parseNgMessage(b("")).kind).toBe("drop");
  });

  test.each([
    ["c garbage", REASON_FORMAT],
    ["c li1ee", REASON_FORMAT],
    ["c ", REASON_NO_PAYLOAD],
    ["c d3:fooi1ee", REASON_NO_COMMAND],
    ["c d7:commandi5ee", REASON_NO_COMMAND],
    ["c d7:command12:subscribe r", REASON_BENCODE],
    ["c d7:command4:ping1:a", REASON_BENCODE],
    ["c d7:command4:ping3:foo-5:abce", REASON_BENCODE],
    ["c d7:command4:ping3:fooi1.5ee", REASON_BENCODE],
    ["c d7:command4:pingi5ei6ee", REASON_BENCODE],
    ["c d7:command99999999999999999999:x", REASON_BENCODE],
    ["c " + "l".repeat(200) + "e".repeat(200), REASON_FORMAT],
    ["c d1:a" + "l".repeat(200) + "e".repeat(200) + "e", REASON_BENCODE],
  ])("%j -> error %j", (msg, reason) => {
    const p = parseNgMessage(b(msg));
    expect(p.kind).toBe("error");
    if (p.kind === "error") {
      expect(p.cookie).toBe("c");
      expect(p.reason).toBe(reason);
    }
  });

  test("missing closing 'e's at the very end are tolerated, as rtpengine does", () => {
    const p = parseNgMessage(b("c d7:command12:subscribe re"));
    expect(p.kind === "request" && p.command).toBe("subscribe re");
    const q = parseNgMessage(b("c d7:command4:ping1:al1:b"));
    expect(q.kind === "request" && q.dict).toEqual({ command: "ping", a: ["b"] });
  });

  test("a __proto__ key cannot smuggle inherited values into the request", () => {
    const j = parseNgMessage(b('c {"__proto__":{"command":"ping","x":1}}'));
    expect(j.kind).toBe("error");
    const k = parseNgMessage(b("c d9:__proto__d7:command4:pinge1:x1:ye"));
    expect(k.kind).toBe("error");
    const ok = parseNgMessage(b('c {"command":"ping","__proto__":{"flags":["a"]}}'));
    expect(ok.kind === "request" && (ok.dict as Record<string, unknown>)["flags"]).toBeUndefined();
  });

  test("trailing bytes after the dictionary are ignored, as rtpengine does", () => {
    expect(parseNgMessage(b("c11 d7:command4:pingeXYZ")).kind).toBe("request");
  });
});

describe("encodeNgMessage", () => {
  test("bencode with cookie; non-integers truncated", () => {
    expect(encodeNgMessage("k", "bencode", { result: "ok", n: 2.7, l: ["x", 1] }).toString()).toBe("k d1:ll1:xi1ee1:ni2e6:result2:oke");
  });
  test("decode(encode(x)) is x", () => {
    const dict = { result: "ok", sdp: "v=0\r\n\u00e9", streams: [{ port: 30000, tags: ["a", "b"] }] };
    const enc = encodeNgMessage("z", "bencode", dict);
    expect(decodeBencodeDict(enc.subarray(2))).toEqual(dict);
  });
});

describe("ngMessageLength (TCP framing)", () => {
  test("complete, back-to-back, incomplete, hopeless", () => {
    expect(ngMessageLength(b("t1 d7:command4:pinge"))).toBe(20);
    expect(ngMessageLength(b("t4 d7:command4:pinget5 d7:command4:pinge"))).toBe(20);
    expect(ngMessageLength(b("t1 d7:command4:pi"))).toBe(0);
    expect(ngMessageLength(b("t1 d7:command"))).toBe(0);
    expect(ngMessageLength(b("t1"))).toBe(0);
    expect(ngMessageLength(b("t1 xyz"))).toBe(-1);
    expect(ngMessageLength(b('j {"command":"p}ng"}rest'))).toBe(20);
    expect(ngMessageLength(b('j {"command":"p'))).toBe(0);
  });
});
