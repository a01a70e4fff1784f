// `DTMF-security`: what `block DTMF` does with RFC 4733 event packets: drop them, send other digits, or send audio.
//
// The modes that keep events (`zero`, `DTMF`, `random`) rewrite the event code and volume of each packet; every
// packet of one event (same RTP timestamp, RFC 4733 section 2.5) carries the same replacement. The audio modes
// (`silence`, `tone`) turn each event packet into an audio packet of the stream's G.711 (or, for silence, G.722)
// codec covering the time the event's duration grew by since the previous packet: the event's retransmitted
// end packets add nothing and are dropped, and the audio continues the stream's timestamps as the event would have.
// Tone volume is in dB below a full-scale sine, as `volume` gives it (0..63, default 10, rtpengine's -10 dB).
import { NgError, type NgDict, type NgValue } from "../control/types.ts";
import type { Codec } from "../codec/codec.ts";
import { linearToAlaw, linearToUlaw } from "../codec/g711.ts";
import { payloadRange, rtpTimestamp } from "./rtp.ts";

export type DtmfSecurityMode = "drop" | "silence" | "tone" | "random" | "zero" | "DTMF";

export interface DtmfSecurity {
  readonly mode: DtmfSecurityMode;
  /** dB below full scale (and the RFC 4733 volume field of rewritten events) */
  readonly volume: number;
  /** `DTMF` mode: the event code sent instead (0-9, 10 = *, 11 = #, 12-15 = A-D) */
  readonly digit: number;
  /** `tone` mode: Hz */
  readonly frequency: number;
}

export const DTMF_DROP: DtmfSecurity = Object.freeze({ mode: "drop", volume: 10, digit: 0, frequency: 400 });

/** Keys of the trigger feature (modes switched by detected digit strings), which this daemon does not do. */
const TRIGGER_KEYS = ["DTMF-security-trigger", "DTMF-security-trigger-end", "trigger", "end trigger", "trigger-end", "trigger-end-time", "trigger-end-digits"];
const MODES: ReadonlySet<string> = new Set(["silence", "tone", "random", "zero", "DTMF"]);
const DIGITS = "0123456789*#ABCD";

function text(v: NgValue | undefined): string | null {
  if (typeof v === "string") return v;
  if (typeof v === "number") return String(v);
  if (v instanceof Uint8Array) return new TextDecoder().decode(v);
  return null;
}

function numberOf(v: NgValue | undefined, key: string): number | null {
  const t = text(v);
  if (t === null) return null;
  const n = Number(t.trim());
  if (t.trim() === "" || !Number.isFinite(n)) throw new NgError(`Invalid '${key}' value: ${t}`);
  return n;
}

/** The event code of a `digit` (or `code`) value: a keypad character or 0..15. */
function digitOf(v: NgValue | undefined): number | null {
  const t = text(v)?.trim().toUpperCase();
  if (t === undefined) return null;
  if (t.length === 1 && DIGITS.includes(t)) return DIGITS.indexOf(t);
  if (/^\d+$/.test(t) && Number(t) <= 15) return Number(t);
  throw new NgError(`Invalid DTMF digit: ${t}`);
}

/**
 * The `DTMF-security` setting of a `block DTMF` request. `drop`, `off` and unknown modes drop events (as rtpengine
 * 10.5 does); triggers are refused, since applying the mode at once would block digits the caller meant to let pass.
 */
export function dtmfSecurityOf(req: NgDict): DtmfSecurity {
  for (const k of TRIGGER_KEYS) if (req[k] !== undefined) throw new NgError(`DTMF-security triggers ('${k}') are not implemented`);
  const m = text(req["DTMF-security"]);
  if (m === null || !MODES.has(m)) return DTMF_DROP;
  const volume = numberOf(req.volume, "volume");
  const frequency = numberOf(req.frequency, "frequency");
  if (frequency !== null && (frequency <= 0 || frequency >= 4000)) throw new NgError(`Invalid 'frequency' value: ${frequency} (1..3999 Hz)`);
  return Object.freeze({
    mode: m as DtmfSecurityMode,
    // "in negative dB": -10 and 10 both mean 10 dB down
    volume: volume === null ? DTMF_DROP.volume : Math.min(63, Math.round(Math.abs(volume))),
    digit: digitOf(req.digit ?? req.code) ?? 0,
    frequency: frequency ?? DTMF_DROP.frequency,
  });
}

/** The codecs audio can be generated in, per mode. */
export function canReplaceWith(mode: DtmfSecurityMode, codec: string): boolean {
  const c = codec.toUpperCase();
  if (mode === "tone") return c === "PCMU" || c === "PCMA";
  if (mode === "silence") return c === "PCMU" || c === "PCMA" || c === "G722";
  return true;
}

/** An audio mode's warning for a `block DTMF` reply: some selected media (given by their codecs) have no codec the
 * mode can generate, so their events are dropped. */
export function audioModeWarning(sec: DtmfSecurity, medias: ReadonlyArray<readonly Codec[]>): string | null {
  if (sec.mode !== "silence" && sec.mode !== "tone") return null;
  const fits = (c: Codec) => !c.supplemental && c.clockRate === 8000 && canReplaceWith(sec.mode, c.name);
  if (medias.every((codecs) => codecs.some(fits))) return null;
  const codecs = sec.mode === "tone" ? "PCMU or PCMA" : "PCMU, PCMA or G722";
  return `DTMF-security mode '${sec.mode}' generates ${codecs} audio only: DTMF events of media without one are dropped`;
}

/** The audio codec replacement packets are sent in: its payload type and name (upper case). */
export interface AudioTarget {
  readonly pt: number;
  readonly codec: string;
}

const SILENCE: Record<string, number> = { PCMU: 0xff, PCMA: 0xd5, G722: 0xfa };
/** At most one second of audio per packet: a jump in the duration field does not make a huge datagram. */
const MAX_SAMPLES = 8000;

/** Per stream: the event being replaced and the audio codec the stream last used. */
export class DtmfReplacer {
  /** payload type of the stream's latest audio packet (-1: none seen yet) */
  audioPt = -1;
  private eventTs = -1;
  private covered = 0;
  private digit = 0;

  /**
   * The packet to send for one telephone-event packet under `sec`, or null to drop it. Rewrites in place for the
   * event modes; builds a new packet for the audio modes (`audio` null: no codec to generate, the event is dropped).
   */
  apply(packet: Uint8Array, sec: DtmfSecurity, audio: AudioTarget | null, random: () => number = Math.random): Uint8Array | null {
    const r = payloadRange(packet);
    if (!r || r.end - r.start < 4) return null;
    const ts = rtpTimestamp(packet);
    const code = packet[r.start]!;
    const duration = (packet[r.start + 2]! << 8) | packet[r.start + 3]!;
    const fresh = ts !== this.eventTs;
    if (fresh) {
      this.eventTs = ts;
      this.covered = 0;
      // `random`: another keypad digit than the one pressed, the same for every packet of the event
      if (sec.mode === "random") this.digit = (code + 1 + Math.floor(random() * 11)) % 12;
    }
    switch (sec.mode) {
      case "zero":
      case "DTMF":
      case "random":
        packet[r.start] = sec.mode === "zero" ? 0 : sec.mode === "DTMF" ? sec.digit : this.digit;
        packet[r.start + 1] = (packet[r.start + 1]! & 0xc0) | sec.volume;
        return packet;
      case "silence":
      case "tone":
        return audio ? this.audioFor(packet, sec, audio, duration) : null;
      default:
        return null;
    }
  }

  private audioFor(packet: Uint8Array, sec: DtmfSecurity, audio: AudioTarget, duration: number): Uint8Array | null {
    const n = Math.min(MAX_SAMPLES, duration - this.covered);
    if (n <= 0) return null; // a retransmitted end packet, or a duration that went backwards
    const start = this.covered;
    this.covered += n;
    const out = new Uint8Array(12 + n);
    out[0] = 0x80; // version 2; CSRCs, extension and padding of the event packet are not carried over
    out[1] = audio.pt & 0x7f;
    out.set(packet.subarray(2, 4), 2); // sequence number: this packet takes the event packet's place
    writeU32(out, 4, (this.eventTs + start) >>> 0);
    out.set(packet.subarray(8, 12), 8);
    if (sec.mode === "silence") out.fill(SILENCE[audio.codec] ?? 0xff, 12);
    else {
      const amp = 32767 * 10 ** (-sec.volume / 20);
      const w = (2 * Math.PI * sec.frequency) / 8000;
      const enc = audio.codec === "PCMA" ? linearToAlaw : linearToUlaw;
      // the phase runs on from the event's start, so consecutive packets join without a click
      for (let i = 0; i < n; i++) out[12 + i] = enc(Math.round(amp * Math.sin(w * (start + i))));
    }
    return out;
  }
}

function writeU32(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 24;
  b[o + 1] = (v >>> 16) & 0xff;
  b[o + 2] = (v >>> 8) & 0xff;
  b[o + 3] = v & 0xff;
}
