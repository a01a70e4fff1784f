// Codec table for SDP: RFC 3551 static payload types and defaults for codecs added by `transcode`.

export interface CodecDef {
  name: string;
  clockRate: number;
  channels: number;
  /** default fmtp when the codec is added by rtpengine */
  fmtp: string | null;
  /** telephone-event and CN ride along with a real codec */
  supplemental: boolean;
}

const S = (name: string, clockRate: number, channels = 1): CodecDef => ({ name, clockRate, channels, fmtp: null, supplemental: false });

/** RFC 3551 static payload types. */
export const STATIC_PT: ReadonlyMap<number, CodecDef> = new Map<number, CodecDef>([
  [0, S("PCMU", 8000)],
  [3, S("GSM", 8000)],
  [4, S("G723", 8000)],
  [5, S("DVI4", 8000)],
  [6, S("DVI4", 16000)],
  [7, S("LPC", 8000)],
  [8, S("PCMA", 8000)],
  [9, S("G722", 8000)],
  [10, S("L16", 44100, 2)],
  [11, S("L16", 44100)],
  [12, S("QCELP", 8000)],
  [13, { ...S("CN", 8000), supplemental: true }],
  [14, S("MPA", 90000)],
  [15, S("G728", 8000)],
  [16, S("DVI4", 11025)],
  [17, S("DVI4", 22050)],
  [18, S("G729", 8000)],
  [25, S("CelB", 90000)],
  [26, S("JPEG", 90000)],
  [28, S("nv", 90000)],
  [31, S("H261", 90000)],
  [32, S("MPV", 90000)],
  [33, S("MP2T", 90000)],
  [34, S("H263", 90000)],
]);

/** Defaults for codecs that can be added to an offer (`codec-transcode-X`). */
const KNOWN: CodecDef[] = [
  S("PCMU", 8000),
  S("PCMA", 8000),
  S("G722", 8000),
  S("G723", 8000),
  S("G729", 8000),
  S("GSM", 8000),
  { ...S("opus", 48000, 2), fmtp: null },
  S("speex", 16000),
  S("iLBC", 8000),
  { ...S("AMR", 8000), fmtp: "octet-align=1" },
  { ...S("AMR-WB", 16000), fmtp: "octet-align=1" },
  S("EVS", 16000),
  S("L16", 8000),
  { ...S("telephone-event", 8000), fmtp: "0-15", supplemental: true },
  { ...S("CN", 8000), supplemental: true },
];

export function isSupplemental(name: string): boolean {
  const n = name.toLowerCase();
  return n === "telephone-event" || n === "cn";
}

/** Default definition for a codec name given in a flag, or null if we do not know it. */
export function knownCodec(name: string): CodecDef | null {
  const n = name.toLowerCase();
  return KNOWN.find((c) => c.name.toLowerCase() === n) ?? null;
}

/** Static payload type for a (name, clock, channels) triple, if there is one. */
export function staticPtFor(name: string, clockRate: number, channels: number): number | null {
  const n = name.toLowerCase();
  for (const [pt, c] of STATIC_PT) if (c.name.toLowerCase() === n && c.clockRate === clockRate && c.channels === channels) return pt;
  return null;
}

/** Codecs the transcoder can both decode and encode (what Debian's rtpengine 10.5 reports as fully supported). */
const TRANSCODABLE = new Set(["pcma", "pcmu", "g723", "g722", "g729", "g729a", "speex", "gsm", "opus", "telephone-event", "cn"]);
export function isTranscodable(name: string): boolean {
  return TRANSCODABLE.has(name.toLowerCase());
}
