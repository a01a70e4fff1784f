// `DTMF-security` (block DTMF modes) and the G.711 encoders behind the audio modes.
import { describe, expect, test } from "bun:test";
import type { Codec } from "../../src/codec/codec.ts";
import { linearToAlaw, linearToUlaw } from "../../src/codec/g711.ts";
import { audioModeWarning, DTMF_DROP, DtmfReplacer, dtmfSecurityOf, type DtmfSecurity } from "../../src/media/dtmf-security.ts";
import type { NgDict } from "../../src/control/types.ts";

// Decoders written from G.711's segment layout, independent of the encoders under test.
function ulawToLinear(code: number): number {
  const u = ~code & 0xff;
  const mag = ((((u & 0x0f) << 3) + 0x84) << ((u & 0x70) >> 4)) - 0x84;
  return u & 0x80 ? -mag : mag;
}
function alawToLinear(code: number): number {
  const a = code ^ 0x55;
  const seg = (a & 0x70) >> 4;
  let mag = ((a & 0x0f) << 4) + 8;
  if (seg >= 1) mag = (mag + 0x100) << (seg - 1);
  return a & 0x80 ? mag : -mag;
}

describe("G.711 encoders", () => {
  test("every code decodes to a sample that encodes back to it", () => {
    for (let c = 0; c < 256; c++) {
      if (c !== 0x7f) expect(linearToUlaw(ulawToLinear(c))).toBe(c); // 0x7f is mu-law's negative zero
      expect(linearToAlaw(alawToLinear(c))).toBe(c);
    }
  });
  test("silence, extremes and clipping", () => {
    expect(linearToUlaw(0)).toBe(0xff);
    expect(linearToAlaw(0)).toBe(0xd5);
    expect(linearToUlaw(32767)).toBe(0x80);
    expect(linearToUlaw(-32768)).toBe(0x00);
    expect(linearToUlaw(1e9)).toBe(0x80);
    expect(linearToAlaw(32767)).toBe(0xaa);
    expect(linearToAlaw(-32768)).toBe(0x2a);
  });
  test("quantisation error stays within a step", () => {
    for (let s = -32000; s <= 32000; s += 37) {
      const step = Math.max(16, Math.abs(s) / 16);
      expect(Math.abs(ulawToLinear(linearToUlaw(s)) - s)).toBeLessThanOrEqual(step);
      expect(Math.abs(alawToLinear(linearToAlaw(s)) - s)).toBeLessThanOrEqual(step);
    }
  });
});

describe("DTMF-security settings", () => {
  const req = (o: NgDict): NgDict => ({ command: "block DTMF", "call-id": "x", ...o });
  test("drop, off, unknown and no mode drop events", () => {
    for (const m of [undefined, "drop", "off", "whatever"]) expect(dtmfSecurityOf(req(m ? { "DTMF-security": m } : {}))).toBe(DTMF_DROP);
  });
  test("modes with their volume, digit and frequency", () => {
    expect(dtmfSecurityOf(req({ "DTMF-security": "zero" }))).toEqual({ mode: "zero", volume: 10, digit: 0, frequency: 400 });
    expect(dtmfSecurityOf(req({ "DTMF-security": "DTMF", digit: "#", volume: -20 })).digit).toBe(11);
    expect(dtmfSecurityOf(req({ "DTMF-security": "DTMF", code: "d" })).digit).toBe(15);
    expect(dtmfSecurityOf(req({ "DTMF-security": "DTMF", digit: 7 })).digit).toBe(7);
    expect(dtmfSecurityOf(req({ "DTMF-security": "tone", volume: "-20", frequency: 1000 }))).toEqual({ mode: "tone", volume: 20, digit: 0, frequency: 1000 });
    expect(dtmfSecurityOf(req({ "DTMF-security": new TextEncoder().encode("silence") as unknown as string })).mode).toBe("silence");
    expect(dtmfSecurityOf(req({ "DTMF-security": "tone", volume: 99 })).volume).toBe(63);
  });
  test("bad values and triggers are refused", () => {
    expect(() => dtmfSecurityOf(req({ "DTMF-security": "DTMF", digit: "X" }))).toThrow("Invalid DTMF digit");
    expect(() => dtmfSecurityOf(req({ "DTMF-security": "DTMF", digit: "16" }))).toThrow("Invalid DTMF digit");
    expect(() => dtmfSecurityOf(req({ "DTMF-security": "tone", frequency: 5000 }))).toThrow("frequency");
    expect(() => dtmfSecurityOf(req({ "DTMF-security": "tone", volume: "loud" }))).toThrow("volume");
    expect(() => dtmfSecurityOf(req({ "DTMF-security": "zero", trigger: "*9" }))).toThrow("not implemented");
    expect(() => dtmfSecurityOf(req({ "DTMF-security-trigger": "zero" }))).toThrow("not implemented");
  });
  test("audio modes warn about media without a codec to generate", () => {
    const codec = (name: string, pt: number, clockRate = 8000, supplemental = false): Codec => ({ pt, name, clockRate, channels: 1, rtpmap: null, fmtp: null, rtcpFb: [], supplemental, added: false });
    const g711 = [codec("PCMU", 0), codec("telephone-event", 101, 8000, true)];
    const opus = [codec("opus", 96, 48000), codec("telephone-event", 101, 48000, true)];
    const g722 = [codec("G722", 9)];
    const sec = (mode: string) => dtmfSecurityOf(req({ "DTMF-security": mode }));
    expect(audioModeWarning(sec("tone"), [g711, g711])).toBeNull();
    expect(audioModeWarning(sec("tone"), [g711, opus])).toContain("PCMU or PCMA audio only");
    expect(audioModeWarning(sec("tone"), [g722])).toContain("PCMU or PCMA audio only");
    expect(audioModeWarning(sec("silence"), [g722])).toBeNull();
    expect(audioModeWarning(sec("zero"), [opus])).toBeNull();
  });
});

/** An RFC 4733 event packet: `digit`, end bit, volume 0, `duration`, event start `ts`. */
function event(seq: number, ts: number, digit: number, duration: number, end = false): Uint8Array {
  const b = new Uint8Array(16);
  const v = new DataView(b.buffer);
  b[0] = 0x80;
  b[1] = 101;
  v.setUint16(2, seq);
  v.setUint32(4, ts);
  v.setUint32(8, 0x11223344);
  b[12] = digit;
  b[13] = end ? 0x80 : 0;
  v.setUint16(14, duration);
  return b;
}
const sec = (mode: DtmfSecurity["mode"], o: Partial<DtmfSecurity> = {}): DtmfSecurity => ({ ...DTMF_DROP, mode, ...o });
/** One event as senders emit it: growing duration every 20 ms, then the end packet three times. */
const pressed = (ts: number, digit: number, seq0 = 100) => [
  event(seq0, ts, digit, 160), event(seq0 + 1, ts, digit, 320), event(seq0 + 2, ts, digit, 480),
  event(seq0 + 3, ts, digit, 640, true), event(seq0 + 4, ts, digit, 640, true), event(seq0 + 5, ts, digit, 640, true),
];

describe("DtmfReplacer", () => {
  test("zero and DTMF rewrite the event code and volume, keeping the end bit and duration", () => {
    const r = new DtmfReplacer();
    const out = pressed(1000, 5).map((p) => r.apply(p, sec("zero", { volume: 12 }), null)!);
    expect(out.map((p) => p[12])).toEqual([0, 0, 0, 0, 0, 0]);
    expect(out.map((p) => p[13])).toEqual([12, 12, 12, 0x80 | 12, 0x80 | 12, 0x80 | 12]);
    expect(out.map((p) => (p[14]! << 8) | p[15]!)).toEqual([160, 320, 480, 640, 640, 640]);
    const d = pressed(5000, 5).map((p) => r.apply(p, sec("DTMF", { digit: 11 }), null)![12]);
    expect(d).toEqual([11, 11, 11, 11, 11, 11]);
  });

  test("random: another digit than the pressed one, the same for every packet of an event", () => {
    const r = new DtmfReplacer();
    const seen = new Set<number>();
    for (let i = 0; i < 40; i++) {
      const digits = pressed(1000 + i * 2000, i % 12).map((p) => r.apply(p, sec("random"), null)![12]!);
      expect(new Set(digits).size).toBe(1);
      expect(digits[0]).not.toBe(i % 12);
      expect(digits[0]).toBeLessThan(12);
      seen.add(digits[0]!);
    }
    expect(seen.size).toBeGreaterThan(3);
  });

  test("silence: audio covering each growth of the duration, end retransmissions dropped", () => {
    const r = new DtmfReplacer();
    const out = pressed(90000, 3).map((p) => r.apply(p, sec("silence"), { pt: 8, codec: "PCMA" }));
    expect(out.slice(4)).toEqual([null, null]);
    const audio = out.slice(0, 4) as Uint8Array[];
    for (const [i, p] of audio.entries()) {
      const v = new DataView(p.buffer, p.byteOffset);
      expect(p.length).toBe(12 + 160);
      expect(p[0]).toBe(0x80);
      expect(p[1]).toBe(8);
      expect(v.getUint16(2)).toBe(100 + i); // the event packet's sequence number
      expect(v.getUint32(4)).toBe(90000 + 160 * i); // timestamps run on through the event
      expect(v.getUint32(8)).toBe(0x11223344);
      expect(p.subarray(12).every((x) => x === 0xd5)).toBe(true);
    }
  });

  test("tone: a sine of the frequency and volume asked, continuous across packets", () => {
    const r = new DtmfReplacer();
    const out = pressed(0, 1).map((p) => r.apply(p, sec("tone", { frequency: 1000, volume: 6 }), { pt: 0, codec: "PCMU" })).filter((p) => p) as Uint8Array[];
    const samples = out.flatMap((p) => [...p.subarray(12)].map(ulawToLinear));
    expect(samples.length).toBe(640);
    // 1 kHz at 8 kHz: 2 zero crossings every 8 samples
    let crossings = 0;
    for (let i = 1; i < samples.length; i++) if (Math.sign(samples[i]!) !== Math.sign(samples[i - 1]!) && samples[i] !== 0) crossings++;
    expect(Math.abs(crossings - 160)).toBeLessThanOrEqual(4);
    const peak = Math.max(...samples.map(Math.abs));
    expect(peak).toBeGreaterThan(32767 * 10 ** (-6 / 20) * 0.9);
    expect(peak).toBeLessThan(32767 * 10 ** (-6 / 20) * 1.1);
    // no jump where packets join: each sample is within one 1 kHz step of the last
    const maxStep = 32767 * 10 ** (-6 / 20) * Math.sin((2 * Math.PI * 1000) / 8000) * 1.15;
    for (let i = 1; i < samples.length; i++) expect(Math.abs(samples[i]! - samples[i - 1]!)).toBeLessThan(maxStep);
  });

  test("without an audio codec, malformed or backwards events are dropped", () => {
    const r = new DtmfReplacer();
    expect(r.apply(event(1, 0, 1, 160), sec("tone"), null)).toBeNull();
    expect(r.apply(event(1, 0, 1, 160).subarray(0, 14), sec("zero"), null)).toBeNull();
    expect(r.apply(event(2, 500, 1, 320), sec("silence"), { pt: 0, codec: "PCMU" })!.length).toBe(12 + 320);
    expect(r.apply(event(3, 500, 1, 100), sec("silence"), { pt: 0, codec: "PCMU" })).toBeNull();
    // a duration jump makes at most one second of audio
    expect(r.apply(event(4, 9000, 1, 65535), sec("silence"), { pt: 0, codec: "PCMU" })!.length).toBe(12 + 8000);
  });
});
