// Extracts what an endpoint's SDP says about each m= section (address, ports, codecs, ICE, crypto...) into PeerMedia.
import { codecsOfMedia } from "../codec/codec.ts";
import { parseCrypto, type SdesCrypto } from "../crypto/sdes-sdp.ts";
import { keep, keepOrNull, keepUnique, keepUniqueOrNull } from "../sdp/keep.ts";
import { parseConnection } from "../sdp/parse.ts";
import { type SdpLine, type SdpSession, sessionsOf, splitAttr } from "../sdp/types.ts";
import type { PeerMedia } from "./model.ts";

const DIRECTIONS = new Set(["sendrecv", "sendonly", "recvonly", "inactive"]);

function attrs(lines: readonly SdpLine[]): { name: string; value: string | null }[] {
  return lines.filter((l) => l.type === "a").map((l) => splitAttr(l.value));
}

export function isZeroAddress(a: string): boolean {
  return a === "0.0.0.0" || a === "::" || /^0+(\.0+){3}$/.test(a) || /^[0:]+$/.test(a);
}

/** PeerMedia of every m= section, across all sessions of the body. */
export function peerMedias(sdp: SdpSession): PeerMedia[] {
  return sdp.more.length ? sessionsOf(sdp).flatMap(sessionPeerMedias) : sessionPeerMedias(sdp);
}

function sessionPeerMedias(sdp: SdpSession): PeerMedia[] {
  const sAttrs = attrs(sdp.lines);
  const sConnLine = sdp.lines.find((l) => l.type === "c");
  const sConn = sConnLine ? parseConnection(sConnLine.value) : null;
  const sDir = sAttrs.find((a) => DIRECTIONS.has(a.name))?.name ?? null;
  const sIce = sAttrs.some((a) => a.name === "ice-ufrag");
  const sUfrag = sAttrs.find((a) => a.name === "ice-ufrag")?.value ?? null;
  const sPwd = sAttrs.find((a) => a.name === "ice-pwd")?.value ?? null; // media: the ICE agent's remote credentials
  const sLite = sAttrs.some((a) => a.name === "ice-lite");
  const sFp = sAttrs.find((a) => a.name === "fingerprint")?.value ?? null;
  const sSetup = sAttrs.find((a) => a.name === "setup")?.value ?? null;
  const sTrickle = sAttrs.some((a) => a.name === "ice-options" && (a.value ?? "").includes("trickle"));
  return sdp.media.map((m) => {
    const a = attrs(m.lines);
    const cLine = m.lines.find((l) => l.type === "c");
    const conn = cLine ? parseConnection(cLine.value) : sConn;
    // "" marks a media without any connection address: the SDP is incomplete
    const address = conn?.address ?? "";
    const family: 4 | 6 = conn?.addrType === "IP6" ? 6 : 4;
    let rtcpPort: number | null = null;
    const rtcpA = a.find((x) => x.name === "rtcp");
    if (rtcpA?.value) {
      const n = Number(rtcpA.value.split(" ")[0]);
      if (Number.isInteger(n) && n >= 0 && n <= 65535) rtcpPort = n;
    }
    const hasIce = a.some((x) => x.name === "ice-ufrag" || x.name === "candidate") || sIce;
    const cryptos: SdesCrypto[] = [];
    for (const x of a) if (x.name === "crypto" && x.value) {
      const c = parseCrypto(x.value);
      if (c) cryptos.push(c);
    }
    const ptimeA = a.find((x) => x.name === "ptime");
    const ptime = ptimeA?.value && /^\d+(\.\d+)?$/.test(ptimeA.value.trim()) ? Number(ptimeA.value.trim()) : null;
    return {
      // kept values are detached from the SDP body (src/sdp/keep.ts): a held call does not keep its SDP alive
      type: keep(m.type),
      proto: keep(m.proto),
      port: m.port,
      address: keep(address),
      family,
      // with ICE a zero address only means "candidates follow" (trickle), not hold
      zeroAddress: isZeroAddress(address) && !hasIce,
      rtcpPort,
      // an a=rtcp naming the RTP port itself means RTCP is multiplexed as well
      rtcpMux: a.some((x) => x.name === "rtcp-mux") || (rtcpPort !== null && rtcpPort === m.port && m.port !== 0 && !isZeroAddress(address)),
      codecs: codecsOfMedia(m),
      direction: keep(a.find((x) => DIRECTIONS.has(x.name))?.name ?? sDir ?? "sendrecv"),
      hasIce,
      hostPriorities: a
        .filter((x) => x.name === "candidate" && x.value !== null && / typ host( |$)/.test(x.value))
        .map((x) => Number(x.value!.split(" ")[3]))
        .filter((n) => Number.isFinite(n)),
      iceUfrag: keepUniqueOrNull(a.find((x) => x.name === "ice-ufrag")?.value ?? sUfrag),
      // media: what the ICE agent needs of the endpoint (password, candidates, lite)
      icePwd: keepUniqueOrNull(a.find((x) => x.name === "ice-pwd")?.value ?? sPwd),
      iceCandidates: a.filter((x) => x.name === "candidate" && x.value !== null).map((x) => keepUnique(x.value!)),
      iceLite: sLite || a.some((x) => x.name === "ice-lite"),
      trickle: sTrickle || a.some((x) => x.name === "ice-options" && (x.value ?? "").includes("trickle")),
      cryptos,
      fingerprint: keepUniqueOrNull(a.find((x) => x.name === "fingerprint")?.value ?? sFp),
      setup: keepOrNull(a.find((x) => x.name === "setup")?.value ?? sSetup),
      ptime,
      mid: keepOrNull(a.find((x) => x.name === "mid")?.value),
    };
  });
}

/** Is a transport protocol RTP-based (and so gets a=rtcp, rtpmap lines)? */
export function isRtp(proto: string): boolean {
  return /RTP\//i.test(proto);
}

export function isSrtp(proto: string): boolean {
  return /RTP\/SAVPF?$/i.test(proto);
}

export function isDtlsProto(proto: string): boolean {
  return /^UDP\/TLS\//i.test(proto);
}

/**
 * Media rtpengine 10.5 leaves alone: `m=message` sections (MSRP chat) pass through untouched.
 * Any other media, whatever its protocol, gets our ports (RTP extras only for RTP protocols).
 */
export function isPassthroughMedia(type: string): boolean {
  return type.toLowerCase() === "message";
}

export function isAvpf(proto: string): boolean {
  return /AVPF$/i.test(proto);
}
