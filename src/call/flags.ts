// Typed offer/answer/delete options: the raw ng dictionary is parsed here once, nothing deeper reads bencode.
import { NgError, type NgDict, type NgValue } from "../control/types.ts";

export type IceMode = "default" | "remove" | "force" | "optional" | "force-relay";
export type IceLite = "forward" | "backward" | "both" | "off";
export type DtlsMode = "default" | "off" | "passive" | "active";
export type Family = 4 | 6;

/** codec manipulation lists, each entry a codec spec (`PCMA`, `opus/48000/2`, `all`, a payload type number) */
export interface CodecOptions {
  strip: string[];
  offer: string[];
  transcode: string[];
  mask: string[];
  consume: string[];
  accept: string[];
  except: string[];
  set: string[];
}

export interface RtcpMuxOptions {
  offer: boolean;
  require: boolean;
  demux: boolean;
  accept: boolean;
  reject: boolean;
}

export interface SdesOptions {
  off: boolean;
  pad: boolean;
  lifetime: boolean;
  static: boolean;
  /** suites excluded with `no-SUITE` */
  noSuites: Set<string>;
  /** suites restricted with `only-SUITE` */
  onlySuites: Set<string>;
  params: Set<string>;
}

export interface CallFlags {
  callId: string;
  fromTag: string;
  toTag: string | null;
  viaBranch: string | null;
  label: string | null;
  setLabel: string | null;
  sdp: string | null;

  /** normalised (lower case, hyphenated) plain flags from the `flags` list */
  flags: Set<string>;
  replace: Set<string>;
  direction: string[];
  interfaceName: string | null;
  receivedFrom: { family: Family; address: string } | null;
  mediaAddress: string | null;
  addressFamily: Family | null;
  transportProtocol: string | null;
  ice: IceMode | null;
  iceLite: IceLite | null;
  dtls: DtlsMode;
  dtlsReverse: DtlsMode;
  dtlsFingerprint: string | null;
  sdes: SdesOptions;
  osrtp: Set<string>;
  rtcpMux: RtcpMuxOptions;
  codec: CodecOptions;
  ptime: number | null;
  ptimeReverse: number | null;
  t38: Set<string>;
  supports: Set<string>;
  mediaEcho: string | null;
  /** `drop-traffic`: "start" or "stop" (stop wins when both are given), for the whole call; null = unchanged */
  dropTraffic: "start" | "stop" | null;
  recordCall: boolean | null;
  metadata: string | null;
  deleteDelay: number | null;
  fromTags: string[];
  tos: number | null;
}

/** Lower-case and hyphenate a flag word: rtpengine accepts spaces, underscores and hyphens alike. */
export function normFlag(s: string): string {
  return s.trim().toLowerCase().replace(/[ _]+/g, "-");
}

function str(v: NgValue | undefined, key: string): string | null {
  if (v === undefined) return null;
  if (typeof v === "string") return v;
  if (typeof v === "number") return String(v);
  throw new NgError(`Invalid value for key '${key}': expected a string`);
}

function list(v: NgValue | undefined, key: string): string[] {
  if (v === undefined) return [];
  if (typeof v === "string") return v === "" ? [] : [v];
  if (typeof v === "number") return [String(v)];
  if (Array.isArray(v)) {
    return v.map((x) => {
      if (typeof x === "string") return x;
      if (typeof x === "number") return String(x);
      throw new NgError(`Invalid value in list '${key}': expected strings`);
    });
  }
  // a dictionary used as a set of keys (some SIP proxies send { "origin": 1 })
  return Object.keys(v);
}

function int(v: NgValue | undefined, key: string): number | null {
  if (v === undefined) return null;
  const n = typeof v === "number" ? v : typeof v === "string" && /^-?\d+$/.test(v.trim()) ? Number(v) : NaN;
  if (!Number.isFinite(n)) throw new NgError(`Invalid value for key '${key}': expected an integer`);
  return n;
}

/** The request dictionary with keys normalised (`transport protocol` == `transport-protocol`). */
function normKeys(req: NgDict): Map<string, NgValue> {
  const m = new Map<string, NgValue>();
  for (const [k, v] of Object.entries(req)) m.set(k.toLowerCase().replace(/[ _]+/g, "-"), v);
  return m;
}

function emptyCodec(): CodecOptions {
  return { strip: [], offer: [], transcode: [], mask: [], consume: [], accept: [], except: [], set: [] };
}

const CODEC_KEYS = ["strip", "offer", "transcode", "mask", "consume", "accept", "except", "set"] as const;

/** Unknown option values are ignored, as rtpengine 10.5 does; they are collected for the log. */
export const ignoredValues: string[] = [];
function ignored(key: string, v: string): null {
  if (ignoredValues.length < 100) ignoredValues.push(`${key}=${v}`);
  return null;
}

function parseIce(v: string): IceMode | null {
  const n = normFlag(v);
  if (n === "remove" || n === "force" || n === "optional" || n === "default" || n === "force-relay") return n;
  return ignored("ICE", v);
}

function parseDtls(v: string | null): DtlsMode {
  if (v === null) return "default";
  const n = normFlag(v);
  if (n === "off" || n === "no" || n === "disable") return "off";
  if (n === "passive" || n === "active") return n;
  ignored("DTLS", v);
  return "default";
}

function applySdes(o: SdesOptions, raw: string): void {
  const n = raw.trim();
  const low = n.toLowerCase();
  if (low === "off" || low === "no" || low === "disable") o.off = true;
  else if (low === "pad") o.pad = true;
  else if (low === "lifetime") o.lifetime = true;
  else if (low === "static") o.static = true;
  else if (low.startsWith("no-")) o.noSuites.add(n.slice(3).toUpperCase());
  else if (low.startsWith("only-")) o.onlySuites.add(n.slice(5).toUpperCase());
  else if (low === "nonew" || low === "prefer") {
    /* accepted, no SDP effect here */
  } else o.params.add(low.replace(/-/g, "_"));
}

function applyRtcpMux(o: RtcpMuxOptions, raw: string): void {
  const n = normFlag(raw);
  if (n === "offer" || n === "require" || n === "demux" || n === "accept" || n === "reject") o[n] = true;
  else ignored("rtcp-mux", raw);
}

/** `drop-traffic`: `start` / `stop`, `stop` has priority over `start`; other values are ignored. */
function parseDropTraffic(vals: string[]): "start" | "stop" | null {
  const n = vals.map((v) => v.trim().toLowerCase());
  if (n.includes("stop")) return "stop";
  if (n.includes("start")) return "start";
  for (const v of vals) ignored("drop-traffic", v);
  return null;
}

/** Parse the command dictionary of offer/answer/delete/query into typed options. */
export function parseCallFlags(req: NgDict): CallFlags {
  const m = normKeys(req);
  const callId = str(m.get("call-id"), "call-id");
  if (callId === null || callId === "") throw new NgError("No call-id in message");
  const codec = emptyCodec();
  const cv = m.get("codec");
  if (cv !== undefined) {
    if (typeof cv !== "object" || Array.isArray(cv)) throw new NgError("Invalid value for key 'codec': expected a dictionary");
    for (const [k, v] of Object.entries(cv)) {
      const key = k.toLowerCase() as (typeof CODEC_KEYS)[number];
      if (!CODEC_KEYS.includes(key)) continue;
      codec[key].push(...list(v, `codec.${k}`));
    }
  }
  const sdes: SdesOptions = { off: false, pad: false, lifetime: false, static: false, noSuites: new Set(), onlySuites: new Set(), params: new Set() };
  // rtpengine 10.5 reads `SDES` only as a list; a bare string is ignored (conformance: rtcp-mux branched w delete-delay)
  const sdesVal = m.get("sdes");
  if (Array.isArray(sdesVal)) for (const s of list(sdesVal, "SDES")) applySdes(sdes, s);
  const rtcpMux: RtcpMuxOptions = { offer: false, require: false, demux: false, accept: false, reject: false };
  for (const s of list(m.get("rtcp-mux"), "rtcp-mux")) applyRtcpMux(rtcpMux, s);
  const replace = new Set(list(m.get("replace"), "replace").map(normFlag));
  const osrtp = new Set(list(m.get("osrtp"), "OSRTP").map(normFlag));
  const t38 = new Set(list(m.get("t.38"), "T.38").map(normFlag));
  const supports = new Set(list(m.get("supports"), "supports").map(normFlag));
  const flags = new Set<string>();
  let ice: IceMode | null = null;
  const iceStr = str(m.get("ice"), "ICE");
  if (iceStr !== null) ice = parseIce(iceStr);
  let dtls = parseDtls(str(m.get("dtls"), "DTLS"));
  let transportProtocol = str(m.get("transport-protocol"), "transport-protocol");

  for (const raw of list(m.get("flags"), "flags")) {
    const n = normFlag(raw);
    const rest = raw.trim().replace(/^[^-_ ]+[-_ ]/, "");
    const codecPrefix = /^codec-(strip|offer|transcode|mask|consume|accept|except|set)-(.+)$/i.exec(raw.trim().replace(/ /g, "-"));
    if (codecPrefix) codec[codecPrefix[1]!.toLowerCase() as (typeof CODEC_KEYS)[number]].push(codecPrefix[2]!);
    else if (n.startsWith("sdes-")) applySdes(sdes, rest);
    else if (n.startsWith("replace-")) replace.add(n.slice(8));
    else if (n.startsWith("rtcp-mux-")) applyRtcpMux(rtcpMux, n.slice(9));
    else if (n.startsWith("osrtp-")) osrtp.add(n.slice(6));
    else if (n.startsWith("t38-") || n.startsWith("t.38-")) t38.add(n.replace(/^t\.?38-/, ""));
    else if (n.startsWith("ice-") && !n.startsWith("ice-lite") && parseIce(n.slice(4)) !== null) ice = parseIce(n.slice(4));
    else if (n.startsWith("dtls-") && !n.startsWith("dtls-reverse") && !n.startsWith("dtls-fingerprint")) dtls = parseDtls(n.slice(5));
    else if (n === "pad-crypto") sdes.pad = true; // `pad crypto`, legacy SDES=pad
    else if (n === "always-transcode") codec.accept.push("all"); // `always transcode`
    else if (n === "no-codec-renegotiation") flags.add("reuse-codecs");
    else if (n === "debugging") flags.add("debug");
    else if (n === "sip-source-address") flags.add("sip-source");
    else if (n === "strict-source") flags.add("strict-source");
    else if (n === "loop-protect") flags.add("loop-protect");
    else flags.add(n);
  }
  if (transportProtocol !== null) {
    const t = transportProtocol.trim();
    const ok = ["RTP/AVP", "RTP/AVPF", "RTP/SAVP", "RTP/SAVPF", "UDP/TLS/RTP/SAVP", "UDP/TLS/RTP/SAVPF", "accept"];
    const hit = ok.find((x) => x.toLowerCase() === t.toLowerCase());
    transportProtocol = hit ?? ignored("transport-protocol", transportProtocol);
  }
  const iceLiteStr = str(m.get("ice-lite"), "ICE-lite");
  let iceLite: IceLite | null = null;
  if (iceLiteStr !== null) {
    const n = normFlag(iceLiteStr);
    if (n === "forward" || n === "backward" || n === "both" || n === "off") iceLite = n;
    else ignored("ICE-lite", iceLiteStr);
  }
  const af = str(m.get("address-family"), "address-family");
  let addressFamily: Family | null = null;
  if (af !== null) {
    const u = af.trim().toUpperCase();
    if (u === "IP4") addressFamily = 4;
    else if (u === "IP6") addressFamily = 6;
    else ignored("address-family", af);
  }
  const rf = list(m.get("received-from"), "received-from");
  let receivedFrom: CallFlags["receivedFrom"] = null;
  if (rf.length >= 2) receivedFrom = { family: rf[0]!.toUpperCase() === "IP6" ? 6 : 4, address: rf[1]! };
  const recordCall = str(m.get("record-call"), "record call");
  const label = str(m.get("label"), "label") ?? str(m.get("from-label"), "from-label");
  return {
    callId,
    fromTag: str(m.get("from-tag"), "from-tag") ?? "",
    toTag: str(m.get("to-tag"), "to-tag") || null,
    viaBranch: str(m.get("via-branch"), "via-branch") || null,
    label,
    setLabel: str(m.get("set-label"), "set-label") ?? str(m.get("to-label"), "to-label"),
    sdp: str(m.get("sdp"), "sdp"),
    flags,
    replace,
    direction: list(m.get("direction"), "direction"),
    interfaceName: str(m.get("interface"), "interface"),
    receivedFrom,
    mediaAddress: str(m.get("media-address"), "media-address"),
    addressFamily,
    transportProtocol,
    ice,
    iceLite,
    dtls,
    dtlsReverse: parseDtls(str(m.get("dtls-reverse"), "DTLS-reverse")),
    dtlsFingerprint: str(m.get("dtls-fingerprint"), "DTLS-fingerprint"),
    sdes,
    osrtp,
    rtcpMux,
    codec,
    ptime: int(m.get("ptime"), "ptime"),
    ptimeReverse: int(m.get("ptime-reverse"), "ptime-reverse"),
    t38,
    supports,
    mediaEcho: str(m.get("media-echo"), "media-echo"),
    dropTraffic: parseDropTraffic(list(m.get("drop-traffic"), "drop-traffic")),
    recordCall: recordCall === null ? (flags.has("record-call") ? true : null) : ["yes", "on", "true"].includes(recordCall.toLowerCase()),
    metadata: str(m.get("metadata"), "metadata"),
    deleteDelay: int(m.get("delete-delay"), "delete-delay"),
    fromTags: list(m.get("from-tags"), "from-tags"),
    tos: int(m.get("tos"), "TOS"),
  };
}
