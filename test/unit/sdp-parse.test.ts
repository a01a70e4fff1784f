// SDP parser and rewriter: line order kept, garbage rejected with a reason, size caps hold.
import { describe, expect, test } from "bun:test";
import { NgError } from "../../src/control/types.ts";
import { parseSdp, SDP_MAX_BYTES, SDP_MAX_MEDIA } from "../../src/sdp/parse.ts";
import { sessionsOf } from "../../src/sdp/types.ts";
import { codecsOfMedia } from "../../src/codec/codec.ts";

const SDP = "v=0\r\no=- 1 2 IN IP4 198.51.100.1\r\ns=x\r\nc=IN IP4 198.51.100.1\r\nt=0 0\r\na=foo\r\nm=audio 2000 RTP/AVP 0 96 101\r\nb=AS:64\r\na=rtpmap:96 opus/48000/2\r\na=fmtp:96 useinbandfec=1\r\na=rtpmap:101 telephone-event/8000\r\na=rtcp-fb:96 nack\r\nm=video 0/2 RTP/AVP 31\r\n";

describe("parseSdp", () => {
  test("sessions, media and lines in order", () => {
    const s = parseSdp(SDP);
    expect(s.lines.map((l) => l.type).join("")).toBe("voscta");
    expect(s.media.length).toBe(2);
    expect(s.media[0]!.lines.map((l) => l.type).join("")).toBe("baaaa");
    expect(s.media[1]!.port).toBe(0);
    expect(s.media[1]!.portCount).toBe(2);
  });

  test("codecs: static payload types get their RFC 3551 names, rtpmap/fmtp/rtcp-fb attach", () => {
    const c = codecsOfMedia(parseSdp(SDP).media[0]!);
    expect(c.map((x) => `${x.pt} ${x.name}/${x.clockRate}/${x.channels}`)).toEqual(["0 PCMU/8000/1", "96 opus/48000/2", "101 telephone-event/8000/1"]);
    expect(c[1]!.fmtp).toBe("useinbandfec=1");
    expect(c[1]!.rtcpFb).toEqual(["nack"]);
    expect(c[2]!.supplemental).toBe(true);
  });

  test("LF-only line ends are accepted", () => {
    expect(parseSdp(SDP.replace(/\r\n/g, "\n")).media.length).toBe(2);
  });

  test("several v= sessions in one body", () => {
    const s = parseSdp(SDP + SDP);
    expect(sessionsOf(s).length).toBe(2);
    expect(s.more[0]!.media.length).toBe(2);
  });

  const bad: [string, string][] = [
    ["empty", ""],
    ["not SDP", "hello world"],
    ["no v= first", "o=- 1 2 IN IP4 1.2.3.4\r\nv=0\r\n"],
    ["bad line", "v=0\r\nfoo\r\n"],
    ["port out of range", "v=0\r\nm=audio 70000 RTP/AVP 0\r\n"],
    ["m= too short", "v=0\r\nm=audio 2000\r\n"],
    ["bad c=", "v=0\r\nc=IN IP5 1.2.3.4\r\n"],
    ["bad o=", "v=0\r\no=-\r\n"],
  ];
  for (const [name, text] of bad) {
    test(`rejects ${name} with an NgError`, () => {
      expect(() => parseSdp(text)).toThrow(NgError);
      expect(() => parseSdp(text)).toThrow(/Failed to parse SDP/);
    });
  }

  test("huge bodies and too many m= lines are refused quickly", () => {
    const big = "v=0\r\n" + "a=x\r\n".repeat(SDP_MAX_BYTES / 4);
    const t0 = performance.now();
    expect(() => parseSdp(big)).toThrow(/too large/);
    const many = "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nc=IN IP4 1.2.3.4\r\n" + "m=audio 1000 RTP/AVP 0\r\n".repeat(SDP_MAX_MEDIA + 1);
    expect(() => parseSdp(many)).toThrow(/too many media/);
    expect(performance.now() - t0).toBeLessThan(500);
  });
});

describe("parseSdp strictness", () => {
  test("c= must hold a literal address of its family", () => {
    expect(() => parseSdp("v=0\r\nc=IN IP4 999.1.1.1\r\n")).toThrow(/invalid address/);
    expect(() => parseSdp("v=0\r\nc=IN IP4 example.com\r\n")).toThrow(/invalid address/);
    expect(() => parseSdp("v=0\r\nc=IN IP6 198.51.100.1\r\n")).toThrow(/invalid address/);
    expect(parseSdp("v=0\r\nc=IN IP6 2001:db8::1\r\n").lines.length).toBe(2);
  });
  test("a trailing blank line is tolerated unless --reject-invalid-sdp", () => {
    const t = "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\n\r\n";
    expect(parseSdp(t).lines.length).toBe(2);
    expect(() => parseSdp(t, { rejectInvalid: true })).toThrow(/blank line/);
  });
});
