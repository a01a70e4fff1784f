// Rewrites a parsed SDP for one recipient: keeps unknown lines in place, replaces what rtpengine owns,
// and appends rtpengine's own attributes in its fixed order.
import type { Codec } from "../codec/codec.ts";
import { codecAttrLines } from "../codec/codec.ts";
import { ICE_ATTRS } from "../ice/sdp.ts";
import { joinSdp, lineText } from "./serialise.ts";
import { type SdpMedia, type SdpSession, splitAttr } from "./types.ts";

export interface ConnOut {
  addrType: "IP4" | "IP6";
  address: string;
}

export interface IceOut {
  ufrag: string;
  pwd: string;
  trickle: boolean;
  candidates: string[];
  /** candidates without ufrag/pwd (10.5's answer to an ICE offerer under ICE=optional when the answerer has none) */
  candidatesOnly?: boolean;
}

/** Everything the rewriter needs to know about one m= section of the outgoing SDP. */
export interface MediaOut {
  port: number;
  proto: string;
  /** null keeps the m= formats (non-RTP media such as T.38) */
  codecs: Codec[] | null;
  conn: ConnOut;
  mid: string | null;
  direction: string | null;
  /** value of a=rtcp, null for none */
  rtcp: string | null;
  rtcpMux: boolean;
  crypto: string[];
  setup: string | null;
  fingerprint: string | null;
  ice: IceOut | null;
  /** ICE=optional on an ICE offer: the peer's own ICE lines stay, ours are added as low-priority candidates */
  keepPeerIce: boolean;
  /** the endpoint's own SRTP lines (crypto, fingerprint, setup) stay in place, ours are not added */
  keepPeerSrtp?: boolean;
  extraCandidates: string[];
  ptime: number | null;
  stripExtmap: boolean;
  originalSendrecv: boolean;
  /** a media section rtpengine does not handle (e.g. TCP/MSRP): copied verbatim; `conn` is the
   * address it had, inserted when the session c= it relied on gets rewritten */
  passthrough: boolean;
  /** no ICE of ours, but `a=ice-options:trickle` and `a=end-of-candidates` anyway (10.5 answers a trickling offerer so) */
  trickleOnly?: boolean;
  /** this section goes out in an answer */
  answer?: boolean;
  /** the media is translated to another kind (T.38 gateway): new m= type/formats, the original attributes go */
  replace?: { type: string; formats: string[] | null; attrs: string[] };
}

export interface SessionOut {
  /** new o= value, null keeps the line */
  origin: string | null;
  /** new session c=, null keeps it */
  conn: ConnOut | null;
  iceLite: boolean;
  /** extra session-level attributes (loop protection) */
  attrs: string[];
  sessionName: string | null;
}

const DIRECTIONS = new Set(["sendrecv", "sendonly", "recvonly", "inactive"]);
const PEER_SRTP = new Set(["crypto", "fingerprint", "setup", "tls-id"]);
/** attributes rtpengine consumes at session level and re-creates per media */
const SESSION_CONSUMED = new Set([...ICE_ATTRS, ...DIRECTIONS, "fingerprint", "setup", "tls-id", "group", "rtpengine", "crypto", "rtcp-mux"]);
const MEDIA_CONSUMED = new Set([...ICE_ATTRS, ...DIRECTIONS, "rtpmap", "fmtp", "rtcp-fb", "ptime", "rtcp", "rtcp-mux", "crypto", "fingerprint", "setup", "tls-id", "mid", "rtpengine"]);

function connValue(c: ConnOut): string {
  return `IN ${c.addrType} ${c.address}`;
}

export function rewriteSdp(sdp: SdpSession, session: SessionOut, media: readonly MediaOut[]): string {
  const out: string[] = [];
  for (const l of sdp.lines) {
    if (l.type === "o" && session.origin !== null) out.push(`o=${session.origin}`);
    else if (l.type === "s" && session.sessionName !== null) out.push(`s=${session.sessionName}`);
    else if (l.type === "c" && session.conn) out.push(`c=${connValue(session.conn)}`);
    else if (l.type === "a") {
      const { name } = splitAttr(l.value);
      if (SESSION_CONSUMED.has(name)) continue;
      if (name === "extmap" && media.some((m) => m.stripExtmap)) continue;
      out.push(lineText(l));
    } else out.push(lineText(l));
  }
  for (const a of session.attrs) out.push(`a=${a}`);
  if (session.iceLite) out.push("a=ice-lite");
  sdp.media.forEach((m, i) => {
    const mo = media[i];
    if (mo) mediaSection(out, m, mo, session.conn !== null);
  });
  return joinSdp(out);
}

function mediaSection(out: string[], m: SdpMedia, mo: MediaOut, sessConnRewritten: boolean): void {
  if (mo.passthrough) {
    out.push(`m=${m.type} ${m.port}${m.portCount !== null ? `/${m.portCount}` : ""} ${m.proto} ${m.formats.join(" ")}`);
    const hasConn = m.lines.some((l) => l.type === "c");
    let i = 0;
    // c= goes before the first attribute, after i=/b= lines
    while (i < m.lines.length && m.lines[i]!.type !== "a" && m.lines[i]!.type !== "k") out.push(lineText(m.lines[i++]!));
    if (!hasConn && sessConnRewritten && m.port !== 0) out.push(`c=${connValue(mo.conn)}`);
    for (; i < m.lines.length; i++) out.push(lineText(m.lines[i]!));
    return;
  }
  const formats = mo.replace?.formats ?? (mo.codecs ? mo.codecs.map((c) => String(c.pt)) : m.formats);
  const portCount = m.portCount !== null ? `/${m.portCount}` : "";
  out.push(`m=${mo.replace?.type ?? m.type} ${mo.port}${portCount} ${mo.proto} ${formats.join(" ")}`);
  const rejected = mo.port === 0;
  const others: string[] = [];
  let connDone = false;
  for (const l of m.lines) {
    if (l.type === "c") {
      if (!connDone) out.push(`c=${connValue(mo.conn)}`);
      connDone = true;
      continue;
    }
    if (l.type !== "a") {
      out.push(lineText(l));
      continue;
    }
    if (mo.replace) continue;
    const { name } = splitAttr(l.value);
    // ICE=optional on ICE SDP: the endpoint's own ICE and SRTP lines stay where they were
    if ((mo.keepPeerIce && (ICE_ATTRS.has(name) || PEER_SRTP.has(name))) || (mo.keepPeerSrtp && PEER_SRTP.has(name))) {
      others.push(lineText(l));
      continue;
    }
    if (DIRECTIONS.has(name) && mo.originalSendrecv) {
      others.push(lineText(l));
      continue;
    }
    // codec attributes are regenerated per payload type; a wildcard `rtcp-fb:*` is not tied to one and stays
    if (MEDIA_CONSUMED.has(name) && !(name === "rtcp-fb" && l.value.startsWith("rtcp-fb:*"))) continue;
    if (name === "extmap" && mo.stripExtmap) continue;
    if (mo.codecs === null && (name === "rtpmap" || name === "fmtp")) {
      others.push(lineText(l));
      continue;
    }
    others.push(lineText(l));
  }
  if (rejected) {
    out.push(...others);
    if (mo.mid !== null) out.push(`a=mid:${mo.mid}`);
    return;
  }
  out.push(...others);
  if (mo.mid !== null) out.push(`a=mid:${mo.mid}`);
  if (mo.replace) for (const a of mo.replace.attrs) out.push(`a=${a}`);
  if (mo.codecs) for (const c of mo.codecs) for (const a of codecAttrLines(c)) out.push(`a=${a}`);
  if (mo.direction && !mo.originalSendrecv) out.push(`a=${mo.direction}`);
  if (mo.rtcp !== null) out.push(`a=rtcp:${mo.rtcp}`);
  if (mo.rtcpMux) out.push("a=rtcp-mux");
  for (const c of mo.crypto) out.push(`a=${c}`);
  if (mo.setup) out.push(`a=setup:${mo.setup}`);
  if (mo.fingerprint) out.push(`a=fingerprint:${mo.fingerprint}`);
  if (mo.ptime !== null) out.push(`a=ptime:${mo.ptime}`);
  if (mo.ice) {
    if (!mo.ice.candidatesOnly) out.push(`a=ice-ufrag:${mo.ice.ufrag}`, `a=ice-pwd:${mo.ice.pwd}`);
    const trickle = mo.ice.trickle && !mo.ice.candidatesOnly;
    if (trickle) out.push("a=ice-options:trickle");
    for (const c of mo.ice.candidates) out.push(`a=${c}`);
    if (trickle) out.push("a=end-of-candidates");
  }
  for (const c of mo.extraCandidates) out.push(`a=${c}`);
  if (mo.trickleOnly) out.push("a=ice-options:trickle", "a=end-of-candidates");
}
