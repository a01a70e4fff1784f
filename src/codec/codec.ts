// A payload type as seen in one SDP media section (rtpmap, fmtp, rtcp-fb), and its SDP (de)serialisation.
import type { SdpMedia } from "../sdp/types.ts";
import { keep } from "../sdp/keep.ts";
import { STATIC_PT, isSupplemental } from "./table.ts";

export interface Codec {
  pt: number;
  name: string;
  clockRate: number;
  channels: number;
  /** the encoding part of a=rtpmap as written (keeps the sender's case), null when implied by a static PT */
  rtpmap: string | null;
  fmtp: string | null;
  rtcpFb: string[];
  supplemental: boolean;
  /** added by rtpengine (transcode), not offered by the peer */
  added: boolean;
}

/** Codecs of an m= section, in m= order. Formats that are not numbers (T.38 `t38`) are skipped. */
export function codecsOfMedia(m: SdpMedia): Codec[] {
  const byPt = new Map<number, Codec>();
  const out: Codec[] = [];
  for (const f of m.formats) {
    if (!/^\d{1,3}$/.test(f)) continue;
    const pt = Number(f);
    if (pt > 127 || byPt.has(pt)) continue;
    const st = STATIC_PT.get(pt);
    const c: Codec = {
      pt,
      name: st?.name ?? "",
      clockRate: st?.clockRate ?? 0,
      channels: st?.channels ?? 1,
      rtpmap: null,
      fmtp: null,
      rtcpFb: [],
      supplemental: st?.supplemental ?? false,
      added: false,
    };
    byPt.set(pt, c);
    out.push(c);
  }
  for (const l of m.lines) {
    if (l.type !== "a") continue;
    const mm = /^(rtpmap|fmtp|rtcp-fb):(\d+) (.*)$/.exec(l.value);
    if (!mm) continue;
    const c = byPt.get(Number(mm[2]));
    if (!c) continue;
    if (mm[1] === "rtpmap") {
      // kept: codecs live as long as the call, the SDP they were cut from does not (src/sdp/keep.ts)
      const enc = keep(mm[3]!.trim());
      const [name, clock, ch] = enc.split("/");
      c.rtpmap = enc;
      c.name = keep(name ?? "");
      c.clockRate = Number(clock) || 0;
      c.channels = Number(ch) || 1;
      c.supplemental = isSupplemental(c.name);
    } else if (mm[1] === "fmtp") c.fmtp = keep(mm[3]!);
    else c.rtcpFb.push(keep(mm[3]!));
  }
  return out;
}

/** The rtpmap encoding string: "NAME/CLOCK[/CHANNELS]". */
export function encodingOf(c: Codec): string {
  if (c.rtpmap !== null) return c.rtpmap;
  return `${c.name}/${c.clockRate}${c.channels !== 1 ? `/${c.channels}` : ""}`;
}

/** a= lines describing a codec, in rtpengine's order: rtpmap, fmtp, rtcp-fb. */
export function codecAttrLines(c: Codec): string[] {
  const out: string[] = [];
  if (c.name !== "") out.push(`rtpmap:${c.pt} ${encodingOf(c)}`);
  if (c.fmtp !== null) out.push(`fmtp:${c.pt} ${c.fmtp}`);
  for (const fb of c.rtcpFb) out.push(`rtcp-fb:${c.pt} ${fb}`);
  return out;
}

/** Does a codec spec from a flag (`PCMA`, `opus/48000/2`) name this codec? 10.5 matches names only, not payload type numbers. */
export function codecMatches(c: Codec, spec: string): boolean {
  const [name, clock, ch] = spec.split("/");
  if (!name || name.toLowerCase() !== c.name.toLowerCase()) return false;
  if (clock && Number(clock) !== c.clockRate) return false;
  if (ch && Number(ch) !== c.channels) return false;
  return true;
}
