// The call engine: offer, answer and delete on the call model, producing rewritten SDP for the other side.
import { randomBytes } from "node:crypto";
import { NgError } from "../control/types.ts";
import { type Codec, codecMatches } from "../codec/codec.ts";
import { answerCodecs, matchingCodecs, offerCodecs } from "../codec/negotiate.ts";
import { isTranscodable } from "../codec/table.ts";
import type { PortAllocator } from "../media/ports.ts";
import type { MediaHooks } from "../media/hooks.ts";
import { parseConnection, parseSdp } from "../sdp/parse.ts";
import { type ConnOut, type MediaOut, rewriteSdp, type SessionOut } from "../sdp/rewrite.ts";
import { connAfterAttributes, type SdpSession, sessionsOf } from "../sdp/types.ts";
import type { CallFlags } from "./flags.ts";
import { advertised, Interfaces } from "./interfaces.ts";
import { type Call, type Media, type Monologue, newMedia, newMonologue, NO_SDES_SUITES, type PeerMedia } from "./model.ts";
import { iceOut, optionalIce } from "./ice-attrs.ts";
import { isPassthroughMedia, isRtp, peerMedias } from "./peer.ts";
import { answerCrypto, offerCrypto } from "./srtp-attrs.ts";
import { t38Attrs } from "./t38.ts";

export interface EngineOptions {
  interfaces: Interfaces;
  ports: PortAllocator;
  /** seconds; 0 = delete at once */
  deleteDelay: number;
  /** -1 = unlimited */
  maxSessions: number;
  portMin?: number;
  portMax?: number;
  /** `--sip-source` */
  sipSource?: boolean;
  /** `--reject-invalid-sdp` */
  rejectInvalidSdp?: boolean;
  /** `--dtls-passive`: prefer the passive DTLS role */
  dtlsPassive?: boolean;
  /** the media plane: told about signalling changes and call ends (absent = signalling only) */
  media?: MediaHooks;
}

/** Our loop-protection identity (`a=rtpengine:...`), fixed for the daemon's lifetime. */
export const INSTANCE_ID = randomBytes(6).toString("hex");

export type OfferResult = { sdp: string } | { loadLimit: true };

export class CallEngine {
  readonly calls = new Map<string, Call>();
  readonly totals = { calls: 0, managedSessions: 0, rejectedSessions: 0, timeouts: 0, deleted: 0, offers: 0, answers: 0, deletes: 0 };
  readonly started = Date.now();

  constructor(readonly opts: EngineOptions) {}

  /** The configured media port range. */
  portRange(): { min: number; max: number } {
    return { min: this.opts.portMin ?? 30000, max: this.opts.portMax ?? 40000 };
  }

  // ---------------------------------------------------------------- offer

  offer(f: CallFlags): OfferResult {
    const prior = this.calls.get(f.callId);
    try {
      return this.offerCall(f);
    } catch (e) {
      // like 10.5: a call created by an offer whose ports (or descriptors) ran out is not kept, so nothing leaks
      const created = this.calls.get(f.callId);
      if (created && created !== prior && e instanceof NgError && e.message === OUT_OF_PORTS) this.abandon(created);
      throw e;
    }
  }

  /** Forget a call the media plane never saw (its first offer failed): ports back, no deletion counted. */
  private abandon(call: Call): void {
    for (const m of call.all) for (const md of m.medias) this.freeMedia(md);
    if (this.calls.get(call.callId) === call) this.calls.delete(call.callId);
  }

  private offerCall(f: CallFlags): OfferResult {
    if (f.sdp === null) throw new NgError("No SDP body in message");
    if (!f.fromTag) throw new NgError("No from-tag in message");
    const sdp = parseSdp(f.sdp, { rejectInvalid: this.opts.rejectInvalidSdp });
    const peers = peerMedias(sdp);
    if (peers.some((p) => p.address === "")) throw new NgError("Incomplete SDP specification");
    this.sipSource(f, peers);
    // loop protect: an SDP we already rewrote comes back unchanged
    if (f.flags.has("loop-protect") && sdpHasOurMark(sdp)) return { sdp: f.sdp };
    let call = this.calls.get(f.callId);
    if (call?.deleteTimer) {
      this.destroyCall(call);
      call = undefined;
    }
    if (!call) {
      const max = this.opts.maxSessions;
      if (max >= 0 && this.calls.size >= max) {
        this.totals.rejectedSessions++;
        if (f.supports.has("load-limit")) return { loadLimit: true };
        throw new NgError("Parallel session limit reached");
      }
      call = this.newCall(f.callId);
    }
    this.totals.offers++;
    const now = Date.now();
    call.lastSignal = now;
    const a = this.tagged(call, f.fromTag, now);
    if (f.label !== null) a.label = f.label;
    const b = this.offerPeer(call, a, f, now);
    if (f.setLabel !== null) b.label = f.setLabel;
    if (f.iceLite === "forward" || f.iceLite === "both") b.iceLite = true;
    if (f.iceLite === "backward" || f.iceLite === "both") a.iceLite = true;
    if (f.iceLite === "off") a.iceLite = b.iceLite = false;
    // `direction` is needed only once: re-offers keep the interfaces chosen before
    const ifs = this.opts.interfaces;
    // (`interface` is for publish/subscribe; offer and answer only look at `direction`)
    const ifA = f.direction[0] ? ifs.resolve(f.direction[0]) : (a.interfaceName ?? ifs.defaultName);
    const ifB = f.direction[1] || f.direction[0] ? ifs.resolve(f.direction[1] ?? f.direction[0]) : (b.interfaceName ?? ifs.defaultName);
    a.interfaceName = ifA;
    b.interfaceName = ifB;
    const sessConn = sdp.lines.find((l) => l.type === "c");
    const origSessConn = sessConn ? parseConnection(sessConn.value) : null;
    const outs: MediaOut[] = [];
    const learnedMux = { on: false };
    peers.forEach((p, i) => {
      const mA = (a.medias[i] ??= newMedia(i, p.type));
      const mB = (b.medias[i] ??= newMedia(i, p.type));
      mA.type = mB.type = p.type;
      if (isPassthroughMedia(p.type)) {
        outs.push(passthroughOut(p, origSessConn));
        return;
      }
      // an ICE restart by the offerer (new ufrag) means new credentials of ours towards it
      if (mA.peer?.iceUfrag && p.iceUfrag && mA.peer.iceUfrag !== p.iceUfrag) mA.ice = null;
      mA.peer = p;
      mA.proto = p.proto;
      // `address-family` is about the recipient (B); the offerer keeps its own family
      this.place(mA, ifA, mA.port !== null ? mA.family : p.family, p.port === 0);
      this.place(mB, ifB, f.addressFamily ?? (mB.port !== null ? mB.family : p.family), p.port === 0);
      outs.push(this.offerMedia(f, p, mA, mB, i, learnedMux));
    });
    // like 10.5, the call state stays even when the SDP cannot be rewritten
    if (connAfterAttributes(sdp)) throw new NgError("Error rewriting SDP");
    const out = this.render(f, sdp, a, b, outs);
    this.opts.media?.signalled(call, a, f); // media: routes, learning flags, fast-path rules
    return { sdp: out };
  }

  private newCall(callId: string): Call {
    const now = Date.now();
    const call: Call = { callId, created: now, lastSignal: now, monologues: new Map(), all: [], deleteTimer: null, createdFrom: null };
    this.calls.set(callId, call);
    this.totals.calls++;
    this.totals.managedSessions++;
    return call;
  }

  private tagged(call: Call, tag: string, now: number): Monologue {
    let m = call.monologues.get(tag);
    if (!m) {
      m = newMonologue(tag, null, now);
      call.monologues.set(tag, m);
      call.all.push(m);
    }
    return m;
  }

  /**
   * `SIP source address` (or `--sip-source`): media is expected from where the SIP message came
   * (`received from`), not from the SDP address; `trust address` turns that off again.
   */
  private sipSource(f: CallFlags, peers: PeerMedia[]): void {
    const use = (f.flags.has("sip-source") || this.opts.sipSource === true) && !f.flags.has("trust-address");
    if (!use || !f.receivedFrom) return;
    for (const p of peers) {
      // the SDP's address family still decides what we advertise back
      if (p.zeroAddress || p.family !== f.receivedFrom.family) continue;
      p.address = f.receivedFrom.address;
    }
  }

  /** The monologue an offer goes to: by to-tag, by via-branch, or the one this side already talks to. */
  private offerPeer(call: Call, a: Monologue, f: CallFlags, now: number): Monologue {
    let b: Monologue | undefined;
    if (f.toTag) b = this.tagged(call, f.toTag, now);
    else if (f.viaBranch !== null) b = a.branches.get(f.viaBranch) ?? (a.peer && a.peer.viaBranch === null && !a.peer.tagged && a.branches.size === 0 ? a.peer : undefined);
    else b = a.peer ?? a.branches.values().next().value;
    if (!b) {
      b = newMonologue("", f.viaBranch, now);
      call.all.push(b);
    }
    if (f.viaBranch !== null && !b.tagged) {
      b.viaBranch = f.viaBranch;
      a.branches.set(f.viaBranch, b);
    } else if (!a.branches.size || !b.tagged) a.branches.set(b.viaBranch ?? "", b);
    a.peer = b;
    if (b.tagged || !b.peer) b.peer = a;
    return b;
  }

  /** Choose the interface and family of a media and allocate (or keep) its ports. */
  private place(m: Media, intf: string, family: 4 | 6, rejected: boolean): void {
    const changed = m.interfaceName !== intf;
    if (changed && m.port !== null) this.freeMedia(m);
    m.interfaceName = intf;
    m.family = family;
    m.addrs = this.opts.interfaces.addresses(intf, family);
    if (m.addrs.length && m.addrs[0]!.family !== family) m.family = m.addrs[0]!.family;
    if (m.port === null && !rejected) {
      const port = this.opts.ports.reserve(
        m.addrs.map((x) => x.address),
        2,
      );
      if (port === null) throw new NgError(OUT_OF_PORTS);
      m.port = port;
    }
  }

  private freeMedia(m: Media): void {
    if (m.port === null) return;
    this.opts.ports.release(
      m.addrs.map((x) => x.address),
      m.port,
      2,
    );
    m.port = null;
  }

  /** The c= we advertise: `media address` if given, a zero address kept unless `replace: zero address`, else ours. */
  private conn(m: Media, f: CallFlags, zero: boolean): ConnOut {
    if (f.mediaAddress) return { addrType: f.mediaAddress.includes(":") ? "IP6" : "IP4", address: f.mediaAddress };
    const fam = m.addrs[0]?.family ?? m.family;
    if (zero && !f.replace.has("zero-address")) return fam === 6 ? { addrType: "IP6", address: "::" } : { addrType: "IP4", address: "0.0.0.0" };
    const first = m.addrs[0];
    return { addrType: fam === 6 ? "IP6" : "IP4", address: first ? advertised(first) : "0.0.0.0" };
  }

  private direction(p: PeerMedia): string {
    if (!p.zeroAddress) return p.direction;
    // a zero address is the old way of putting a stream on hold
    if (p.direction === "sendrecv") return "sendonly";
    if (p.direction === "recvonly") return "inactive";
    return p.direction;
  }

  /** a=rtcp value: the RTCP port, or the RTP port itself once rtcp-mux is in effect */
  private rtcpAttr(f: CallFlags, m: Media, proto: string, conn: ConnOut, muxed = false): string | null {
    // `no rtcp attribute` / `full rtcp attribute`
    if (!isRtp(proto) || m.port === null || f.flags.has("no-rtcp-attribute")) return null;
    const port = muxed ? m.port : m.port + 1;
    // the full form names our address even when c= carries a zero (hold) address
    const local = m.addrs[0];
    const full = f.mediaAddress ? conn : local ? { addrType: local.family === 6 ? "IP6" : "IP4", address: advertised(local) } : conn;
    return f.flags.has("full-rtcp-attribute") ? `${port} IN ${full.addrType} ${full.address}` : String(port);
  }

  /** `learnedMux.on`: an earlier media of this offer goes to an answerer that multiplexes (10.5 then offers rtcp-mux on all later ones) */
  private offerMedia(f: CallFlags, p: PeerMedia, mA: Media, mB: Media, i: number, learnedMux: { on: boolean }): MediaOut {
    if (f.transportProtocol && f.transportProtocol !== "accept") mB.protoOverride = f.transportProtocol;
    const tp = mB.protoOverride;
    const rtp = isRtp(p.proto);
    // an answerer keeps the protocol it last used with us unless `transport protocol` says otherwise
    const known = mB.learnedProto;
    const proto = rtp ? (tp ?? known ?? p.proto) : p.proto;
    mB.proto = proto;
    mB.iceControlling = true;
    mA.iceControlling = false;
    const rejected = p.port === 0;
    const conn = this.conn(mB, f, p.zeroAddress);
    // `generate mid`: number the media from 1 when the offer has no a=mid
    // a mid once known for this media slot (given or generated) sticks for both sides
    mB.mid = p.mid ?? mA.mid ?? mB.mid ?? (f.flags.has("generate-mid") ? String(i + 1) : null);
    mA.mid = mB.mid;
    const out = baseMediaOut(f, rejected ? 0 : mB.port ?? 0, proto, conn, mB.mid, this.direction(p));
    if (rejected) return out;
    mA.t38 = null;
    if (f.t38.has("force") && p.type === "audio" && rtp) {
      // T.38 gateway: the answerer is offered fax (UDPTL) instead of audio
      mA.t38 = "force";
      out.proto = mB.proto = "udptl";
      out.replace = { type: "image", formats: ["t38"], attrs: t38Attrs(f) };
      return out;
    }
    if (f.t38.has("decode") && p.type === "image" && /udptl/i.test(p.proto)) {
      mA.t38 = "decode";
      out.proto = mB.proto = tp ?? "RTP/AVP";
      out.replace = { type: "audio", formats: null, attrs: [] };
      const tc = f.codec.transcode.length ? offerCodecs([], { ...f.codec, strip: [], mask: [], consume: [], except: [], offer: [] }) : [];
      out.codecs = mB.codecsSent = tc.length ? tc : offerCodecs([], { ...emptyCodecOpts(), transcode: ["PCMU", "PCMA"] });
      out.rtcp = this.rtcpAttr(f, mB, out.proto, conn);
      return out;
    }
    // ICE
    const ice = f.ice ?? "default";
    // `reset`: forget what the answerer told us about ICE
    if (f.flags.has("reset")) mB.peerIce = mB.peerIceAnswered = null;
    // what the offerer's own SDP says about ICE is remembered for offers going back to it
    mA.peerIce = p.hasIce;
    // an answerer that showed no ICE support is not offered ICE again (until `reset`)
    // an endpoint that showed no ICE is not offered ICE by default
    const forced = ice === "force" || ice === "optional" || ice === "force-relay";
    // (unlike what the docs say, 10.5 keeps offering ICE with ICE=force after an ICE-less answer)
    mB.iceEnabled = ice === "remove" ? false : forced ? true : mB.peerIce === false ? false : p.hasIce || mB.peerIce === true;
    if (!rtp) {
      out.ice = iceOut(f, mB, 1);
      return out;
    }
    // codecs
    // codecs added for transcoding are audio codecs: other media only see strip/mask/offer
    const sent = offerCodecs(p.codecs, p.type === "audio" ? f.codec : { ...f.codec, transcode: [] });
    mA.consumed = matchingCodecs(p.codecs, f.codec.consume);
    mA.acceptAll = f.codec.accept.some((x) => /^(all|full)$/i.test(x));
    mA.masked = matchingCodecs(p.codecs, f.codec.mask).filter((c) => !sent.some((x) => x.pt === c.pt));
    mA.codecsFiltered = p.codecs.some((c) => !sent.some((x) => x.pt === c.pt));
    mA.accepted = mA.acceptAll ? [] : matchingCodecs(p.codecs, f.codec.accept);
    mA.dtlsReverse = f.dtlsReverse;
    mA.sdesNo = f.sdes.noSuites.size ? new Set(f.sdes.noSuites) : NO_SDES_SUITES;
    mB.codecsSent = sent;
    out.codecs = sent;
    // rtcp-mux
    const mux = f.rtcpMux;
    // `reject` only refuses rtcp-mux back to the offerer; the offer itself still carries it on
    // an answerer that already multiplexes keeps being offered rtcp-mux
    if (mB.rtcpMuxActive) learnedMux.on = true;
    mB.rtcpMuxOffered = mux.offer || mux.require || ((p.rtcpMux || learnedMux.on) && !mux.demux);
    // rtcp-mux is accepted back to the offerer if the answerer takes it, or if we did not pass it on
    mA.rtcpMuxAccept = p.rtcpMux && !mux.reject;
    mA.rtcpMuxOffered = mux.accept || !mB.rtcpMuxOffered;
    out.rtcpMux = mB.rtcpMuxOffered;
    out.rtcp = this.rtcpAttr(f, mB, proto, conn, mB.rtcpMuxOffered && (mB.rtcpMuxActive || mux.require || learnedMux.on));
    // SRTP: SDES and DTLS towards B
    // (ICE=optional on ICE SDP leaves the endpoint's SRTP lines as they are)
    // (nor is an answerer that kept its own ICE that way given SRTP lines of ours)
    if (!(ice === "optional" && p.hasIce) && !mB.iceOptionalKept) offerCrypto(f, p, mB, proto, out);
    // ptime in passthrough is the sender's, remembered per stream and shared with the other side
    const ptime = p.ptime ?? mA.ptime;
    mA.ptime = mB.ptime = ptime;
    // `ptime` / `ptime-reverse` fix the packetisation towards each side for good
    if (f.ptime !== null) mB.ptimeOverride = f.ptime;
    if (f.ptimeReverse !== null) mA.ptimeOverride = f.ptimeReverse;
    out.ptime = mB.ptimeOverride ?? ptime;
    mA.transcoding = f.ptime !== null || f.ptimeReverse !== null || sent.some((c) => c.added);
    const compsB = mB.rtcpMuxOffered && (mB.rtcpMuxActive || mux.require || learnedMux.on) ? 1 : 2;
    mA.iceOptionalKept = ice === "optional" && p.hasIce;
    if (ice === "optional" && p.hasIce) optionalIce(f, mB, out, compsB, p.hostPriorities);
    else out.ice = iceOut(f, mB, compsB, false);
    if (out.ice && mB.iceOptionalKept) out.ice.candidatesOnly = true;
    // with our ICE in the SDP a zero (hold) address gives way to ours; the direction still says hold
    if (out.ice && p.zeroAddress) out.conn = this.conn(mB, f, false);
    if (!out.ice && !out.keepPeerIce && f.flags.has("trickle-ice") && p.hasIce) out.trickleOnly = true;
    return out;
  }

  /** Rewrite every session of the body; media are numbered across sessions. */
  private render(f: CallFlags, sdp: SdpSession, src: Monologue, dst: Monologue, outs: MediaOut[]): string {
    const v = this.sdpVersion(f, sdp, src);
    let text = this.renderWith(f, sdp, dst, outs, v?.version ?? null);
    if (v) {
      // a change in what we send counts as much as a change in what we received
      const outBody = text.replace(/^o=.*\r\n/gm, "");
      if (!v.first && !v.changedIn && src.lastSdpOut !== null && src.lastSdpOut !== outBody) {
        src.sdpVersion! += 1n;
        text = this.renderWith(f, sdp, dst, outs, src.sdpVersion!.toString());
      }
      src.lastSdpOut = outBody;
    }
    return text;
  }

  private renderWith(f: CallFlags, sdp: SdpSession, dst: Monologue, outs: MediaOut[], version: string | null): string {
    if (!sdp.more.length) return rewriteSdp(sdp, this.sessionOut(f, sdp, dst, outs, version), outs);
    let text = "";
    let at = 0;
    for (const part of sessionsOf(sdp)) {
      const slice = outs.slice(at, at + part.media.length);
      at += part.media.length;
      text += rewriteSdp(part, this.sessionOut(f, part, dst, slice, version), slice);
    }
    return text;
  }

  /**
   * `replace: SDP version`: the version we show only moves when the SDP changes (o= lines aside).
   * Returns null when the flag is absent or the offered version is not a number.
   */
  private sdpVersion(f: CallFlags, sdp: SdpSession, src: Monologue): { version: string; first: boolean; changedIn: boolean } | null {
    if (!f.replace.has("sdp-version")) return null;
    const o = sdp.lines.find((l) => l.type === "o");
    const v = o?.value.split(" ").filter((x) => x !== "")[2];
    if (v === undefined || !/^\d+$/.test(v)) return null;
    const body = sessionsOf(sdp)
      .map((p) => p.lines.filter((l) => l.type !== "o").map((l) => l.value).join("\n") + JSON.stringify(p.media))
      .join("\n");
    const first = src.sdpVersion === null;
    const changedIn = !first && src.lastSdpIn !== body;
    if (first) src.sdpVersion = BigInt(v);
    else if (changedIn) src.sdpVersion! += 1n;
    src.lastSdpIn = body;
    return { version: src.sdpVersion!.toString(), first, changedIn };
  }

  private sessionOut(f: CallFlags, sdp: SdpSession, dst: Monologue, outs: MediaOut[], version: string | null): SessionOut {
    const first = outs.find((o) => o.port !== 0) ?? outs[0];
    let origin: string | null = null;
    const o = sdp.lines.find((l) => l.type === "o");
    if (o) {
      const parts = o.value.split(" ").filter((x) => x !== "");
      let changed = false;
      if (f.replace.has("origin") && first) {
        const med = dst.medias.find((m) => m.port !== null);
        const addr = f.mediaAddress ?? (med?.addrs[0] ? advertised(med.addrs[0]) : first.conn.address);
        // `replace: origin`
        parts[4] = addr.includes(":") ? "IP6" : "IP4";
        parts[5] = addr;
        changed = true;
      }
      if (version !== null && parts[2] !== undefined) {
        parts[2] = version;
        changed = true;
      }
      if (f.replace.has("username") && parts[0] !== undefined) {
        // the first username sent to this endpoint stays the username it always sees
        dst.sdpUsername ??= parts[0];
        parts[0] = dst.sdpUsername;
        changed = true;
      }
      if (changed) origin = parts.join(" ");
    }
    // the session c= is rewritten only if some handled media relies on it (so `replace: session connection` needs no code)
    const users = outs.filter((x, i) => !x.passthrough && !sdp.media[i]!.lines.some((l) => l.type === "c"));
    const sessConnMedia = users.find((x) => x.port !== 0) ?? users[0] ?? null;
    return {
      origin,
      conn: sessConnMedia ? sessConnMedia.conn : null,
      // (kept endpoint ICE counts in answers only, as 10.5 prints it)
      iceLite: dst.iceLite && outs.some((x) => x.ice !== null || (x.keepPeerIce && x.answer === true)),
      attrs: f.flags.has("loop-protect") ? [`rtpengine:${INSTANCE_ID}`] : [],
      sessionName: f.replace.has("session-name") ? (dst.sdpSessionName ??= sdp.lines.find((l) => l.type === "s")?.value ?? "-") : null,
    };
  }

  // ---------------------------------------------------------------- answer

  answer(f: CallFlags): string {
    if (f.sdp === null) throw new NgError("No SDP body in message");
    if (!f.fromTag) throw new NgError("No from-tag in message");
    const sdp = parseSdp(f.sdp, { rejectInvalid: this.opts.rejectInvalidSdp });
    const peers = peerMedias(sdp);
    if (peers.some((p) => p.address === "")) throw new NgError("Incomplete SDP specification");
    this.sipSource(f, peers);
    if (f.flags.has("loop-protect") && sdpHasOurMark(sdp)) return f.sdp;
    const call = this.calls.get(f.callId);
    if (!call) throw new NgError("Unknown call-id");
    // an unknown from-tag falls back to the party waiting for an answer, as rtpengine does
    const a = call.monologues.get(f.fromTag) ?? this.pendingOfferer(call, f.toTag);
    if (!a) throw new NgError("Unknown from-tag");
    this.totals.answers++;
    const now = Date.now();
    call.lastSignal = now;
    const b = this.answerPeer(call, a, f);
    if (f.label !== null) b.label = f.label;
    const sessConn = sdp.lines.find((l) => l.type === "c");
    const origSessConn = sessConn ? parseConnection(sessConn.value) : null;
    const outs: MediaOut[] = [];
    peers.forEach((p, i) => {
      const mB = (b.medias[i] ??= newMedia(i, p.type));
      if (isPassthroughMedia(p.type)) {
        outs.push(passthroughOut(p, origSessConn));
        return;
      }
      mB.peer = p;
      let mA = a.medias[i];
      if (!mA || !mA.peer) {
        // an answer with more m= lines than the offer: the new media is set up from the answer alone
        mA ??= a.medias[i] = newMedia(i, p.type);
        this.place(mA, mB.interfaceName || a.interfaceName || this.opts.interfaces.defaultName, p.family, p.port === 0);
        mA.peer = p;
        mA.proto = p.proto;
        this.place(mB, mB.interfaceName || b.interfaceName || this.opts.interfaces.defaultName, p.family, p.port === 0);
      }
      if (f.addressFamily !== null && f.addressFamily !== mA.family) this.place(mA, mA.interfaceName, f.addressFamily, false);
      if (mA.port === null && p.port !== 0) {
        // a stream the offer had rejected but the answer accepts still gets ports
        this.place(mA, mA.interfaceName || a.interfaceName || this.opts.interfaces.defaultName, mA.family, false);
        this.place(mB, mB.interfaceName || b.interfaceName || this.opts.interfaces.defaultName, mB.family, false);
      }
      outs.push(this.answerMedia(f, p, mA, mB));
    });
    if (connAfterAttributes(sdp)) throw new NgError("Error rewriting SDP");
    const out = this.render(f, sdp, b, a, outs);
    this.opts.media?.signalled(call, b, f); // media: routes, learning flags, fast-path rules
    return out;
  }

  /** The offerer an answer belongs to when its from-tag is unknown: the peer of a known to-tag, or the only open offer. */
  private pendingOfferer(call: Call, toTag: string | null): Monologue | undefined {
    const byTo = toTag ? call.monologues.get(toTag) : undefined;
    if (byTo?.peer && byTo.peer !== byTo) return byTo.peer;
    const open = call.all.filter((m) => m.tagged && m.peer && !m.peer.tagged);
    return open.length === 1 ? open[0] : undefined;
  }

  /** The monologue an answer comes from: known by to-tag, else the branch (via-branch) or pending peer of the offerer. */
  private answerPeer(call: Call, a: Monologue, f: CallFlags): Monologue {
    let b: Monologue | undefined;
    const byTag = f.toTag ? call.monologues.get(f.toTag) : undefined;
    if (byTag && byTag !== a) b = byTag;
    if (!b && f.viaBranch !== null) b = a.branches.get(f.viaBranch);
    if (!b) b = a.peer ?? undefined;
    if (!b) throw new NgError("Unknown to-tag");
    if (!b.tagged && f.toTag) {
      b.tag = f.toTag;
      b.tagged = true;
      call.monologues.set(f.toTag, b);
    }
    a.peer = b;
    b.peer = a;
    return b;
  }

  private answerMedia(f: CallFlags, p: PeerMedia, mA: Media, mB: Media): MediaOut {
    const offered = mA.peer!;
    const tp = f.transportProtocol;
    const rtp = isRtp(offered.proto);
    const proto = !rtp ? p.proto : tp === "accept" ? p.proto : tp ?? offered.proto;
    const rejected = p.port === 0 || mA.port === null;
    const conn = this.conn(mA, f, p.zeroAddress);
    const out = baseMediaOut(f, rejected ? 0 : mA.port!, proto, conn, offered.mid, this.direction(p));
    const ice = f.ice ?? "default";
    // in an answer `ICE=optional` adds nothing to an offerer that did not do ICE
    mA.iceEnabled = ice === "remove" ? false : ice === "force" || ice === "force-relay" ? true : offered.hasIce || (ice === "optional" && p.hasIce);
    if (mA.t38 === "force" && !rejected) {
      // fax went to the answerer; the offerer keeps audio in its first codec we can carry T.30 in
      out.proto = offered.proto;
      out.replace = { type: offered.type, formats: null, attrs: [] };
      const c = offered.codecs.find((x) => !x.supplemental && isTranscodable(x.name));
      out.codecs = c ? [{ ...c, rtcpFb: [] }] : offered.codecs.slice(0, 1);
      out.rtcp = this.rtcpAttr(f, mA, out.proto, conn);
      return out;
    }
    if (mA.t38 === "decode" && !rejected) {
      out.proto = offered.proto;
      out.replace = { type: "image", formats: ["t38"], attrs: t38Attrs(f) };
      return out;
    }
    if (!rtp || !isRtp(p.proto)) {
      if (!rejected) out.ice = iceOut(f, mA, 1);
      return out;
    }
    mB.peerIce = mB.peerIceAnswered = p.hasIce;
    // the answerer's protocol is used in later offers to it, unless this answer forced a protocol on the offerer
    // (an answer whose `transport protocol` changes the offerer's protocol makes us forget it)
    if (isRtp(p.proto) && p.port !== 0) {
      const tpA = f.transportProtocol;
      mB.learnedProto = tpA && tpA !== "accept" && tpA !== mA.peer?.proto ? null : p.proto;
    }
    const accepted = p.cryptos[0];
    mB.sdesNegotiated = accepted ? (mB.sdesOut.find((c) => c.tag === accepted.tag && c.suite === accepted.suite) ?? null) : null;
    // `single codec`, `codec-consume`, `codec-accept` / `always transcode`, `codec-mask`
    let codecs: Codec[] = answerCodecs(p.codecs, offered.codecs, mB.codecsSent, { singleCodec: f.flags.has("single-codec"), consumed: mA.consumed, accepted: mA.accepted, acceptAll: mA.acceptAll, masked: mA.masked, filtered: mA.codecsFiltered });
    // `codec-strip` given with the answer still removes codecs from what the offerer is told
    if (f.codec.strip.length) {
      const kept = codecs.filter((c) => !f.codec.strip.some((sp) => /^(all|full)$/i.test(sp) || codecMatches(c, sp)));
      if (kept.some((c) => !c.supplemental)) codecs = kept;
    }
    // a rejected stream still names a format: the first one we had offered
    if (codecs.length === 0 && rejected) codecs = (mB.codecsSent.length ? mB.codecsSent : offered.codecs).slice(0, 1);
    out.codecs = codecs;
    if (rejected) return out;
    // (rtcp-mux flags act at offer time; in an answer they change nothing)
    out.rtcpMux = mA.rtcpMuxAccept && (p.rtcpMux || mA.rtcpMuxOffered);
    out.rtcp = this.rtcpAttr(f, mA, proto, conn, out.rtcpMux);
    mA.rtcpMuxActive = out.rtcpMux;
    // an answerer that sends rtcp-mux multiplexes from now on, whether we asked or not
    mB.rtcpMuxActive = p.rtcpMux;
    // after an ICE=optional offer that kept the offerer's ICE, the answerer's SRTP lines go back as they are
    mB.iceOptionalKept = ice === "optional" && p.hasIce;
    if (mA.iceOptionalKept) out.keepPeerSrtp = true;
    else if (!(ice === "optional" && p.hasIce)) answerCrypto(f, p, offered, mA, mB, proto, out, this.opts.dtlsPassive === true);
    if (mA.transcoding) out.ptime = mA.ptimeOverride ?? offered.ptime;
    else {
      const ptime = p.ptime ?? mB.ptime;
      mA.ptime = mB.ptime = ptime;
      out.ptime = mA.ptimeOverride ?? ptime;
    }
    // an offerer that does trickle ICE is told that we do too
    out.answer = true;
    if (ice === "optional" && p.hasIce) optionalIce(f, mA, out, out.rtcpMux ? 1 : 2, p.hostPriorities);
    else out.ice = iceOut(f, mA, out.rtcpMux ? 1 : 2, offered.trickle);
    // the offer kept the offerer's own ICE (ICE=optional): 10.5 answers it with bare candidates
    if (out.ice && mA.iceOptionalKept && !p.hasIce) out.ice.candidatesOnly = true;
    if (out.ice && p.zeroAddress) out.conn = this.conn(mA, f, false);
    // 10.5 still tells a trickling offerer "trickle, no more candidates" when ICE is removed
    if (!out.ice && !out.keepPeerIce && offered.trickle && offered.hasIce) out.trickleOnly = true;
    return out;
  }

  // ---------------------------------------------------------------- delete and lookup

  /** Delete a call, one branch or one party; returns the call for the statistics reply, null if already gone. */
  /**
   * `delete`: one branch (`via-branch`) or the whole call, after `delete delay` seconds (flag or
   * `--delete-delay`) or at once. `report` builds the reply while the call is still intact.
   */
  delete<R>(f: CallFlags, delay: number | null, report: (call: Call) => R): R {
    const call = this.calls.get(f.callId);
    if (!call) throw new NgError("Call-ID not found or tags didn't match");
    this.totals.deletes++;
    // the reply shows the call as it was, ports included
    const r = report(call);
    if (f.viaBranch !== null && f.fromTag) {
      const a = call.monologues.get(f.fromTag);
      const br = a?.branches.get(f.viaBranch);
      if (br && br !== a?.peer) {
        this.dropMonologue(call, br);
        a!.branches.delete(f.viaBranch);
        return r;
      }
      if (br && a && a.branches.size > 1) {
        this.dropMonologue(call, br);
        a.branches.delete(f.viaBranch);
        a.peer = a.branches.values().next().value ?? null;
        return r;
      }
    }
    const d = delay ?? this.opts.deleteDelay;
    if (d > 0) {
      if (!call.deleteTimer) {
        call.deleteTimer = setTimeout(() => this.destroyCall(call), d * 1000);
        (call.deleteTimer as { unref?: () => void }).unref?.();
      }
    } else this.destroyCall(call);
    return r;
  }

  private dropMonologue(call: Call, m: Monologue): void {
    for (const md of m.medias) this.freeMedia(md);
    m.deleted = true;
    call.all = call.all.filter((x) => x !== m);
    if (m.tagged && call.monologues.get(m.tag) === m) call.monologues.delete(m.tag);
  }

  destroyCall(call: Call): void {
    this.opts.media?.destroyed(call); // media: final counters, rules withdrawn, before the ports close
    if (call.deleteTimer) clearTimeout(call.deleteTimer);
    call.deleteTimer = null;
    for (const m of call.all) for (const md of m.medias) this.freeMedia(md);
    if (this.calls.get(call.callId) === call) {
      this.calls.delete(call.callId);
      this.totals.deleted++;
    }
  }

  /** Release everything (shutdown, tests). */
  clear(): void {
    for (const c of [...this.calls.values()]) this.destroyCall(c);
  }
}

function emptyCodecOpts(): CallFlags["codec"] {
  return { strip: [], offer: [], transcode: [], mask: [], consume: [], accept: [], except: [], set: [] };
}

function passthroughOut(p: PeerMedia, sessConn: { addrType: "IP4" | "IP6"; address: string } | null): MediaOut {
  return {
    port: p.port,
    proto: p.proto,
    codecs: null,
    conn: sessConn ?? { addrType: p.family === 6 ? "IP6" : "IP4", address: p.address },
    mid: null,
    direction: null,
    rtcp: null,
    rtcpMux: false,
    crypto: [],
    setup: null,
    fingerprint: null,
    ice: null,
    keepPeerIce: false,
    extraCandidates: [],
    ptime: null,
    stripExtmap: false,
    originalSendrecv: false,
    passthrough: true,
  };
}

/** rtpengine's error-reason when no port pair (or no descriptor) is left */
const OUT_OF_PORTS = "Ran out of ports";

export const VERSION_TAG = "10.5.3.5-ts";

function sdpHasOurMark(sdp: SdpSession): boolean {
  const mark = `rtpengine:${INSTANCE_ID}`;
  return sdp.lines.some((l) => l.type === "a" && l.value === mark) || sdp.media.some((m) => m.lines.some((l) => l.type === "a" && l.value === mark));
}

/** A rewritten m= section before the offer or answer fills in what it negotiates. */
function baseMediaOut(f: CallFlags, port: number, proto: MediaOut["proto"], conn: MediaOut["conn"], mid: MediaOut["mid"], direction: MediaOut["direction"]): MediaOut {
  return {
    port, proto, codecs: null, conn, mid, direction, rtcp: null, rtcpMux: false, crypto: [], setup: null, fingerprint: null, ice: null,
    keepPeerIce: false, extraCandidates: [], ptime: null,
    stripExtmap: f.flags.has("strip-extmap"), // `strip extmap`
    originalSendrecv: f.flags.has("original-sendrecv"), // `original sendrecv`
    passthrough: false,
  };
}
