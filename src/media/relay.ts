// The media relay: routes packets from the shim's ring to the other side of their call (slow path) and installs fast-path rules.
import type { CallFlags } from "../call/flags.ts";
import type { Call, Media, Monologue } from "../call/model.ts";
import { isDtlsProto, isSrtp } from "../call/peer.ts";
import type { EndpointLearning } from "../config/types.ts";
import type { ForwardingRule } from "../kernel/rule.ts";
import { sameRule } from "../kernel/rule.ts";
import { canonicalAddress, type Endpoint } from "../platform/shim-addr.ts";
import { setDense } from "../platform/dense.ts";
import type { ShimPortAllocator } from "./allocator.ts";
import { dropTraffic, effectiveControls, setDropTraffic } from "./controls.ts";
import { applyMediaEcho, echoMode, rewriteEchoSsrc } from "./echo.ts";
import type { InstalledRule, ShimFastPath } from "./fastpath.ts";
import type { MediaHooks } from "./hooks.ts";
import { EndpointLearner, learningOptions, sameEndpoint, type LearningOptions } from "./learning.ts";
import { isRtcp, isRtp, isStun, payloadType, ssrc } from "./rtp.ts";
import { silencePayload } from "./silence.ts";
import { canReplaceWith, DtmfReplacer, type AudioTarget, type DtmfSecurityMode } from "./dtmf-security.ts";
import { SendBatch } from "./socket-batch.ts";
import { setStreamStatusSource, type PacketTotals, type StreamStatus } from "./status.ts";
import type { MediaSocket, RxPacket } from "./socket.ts";
import type { SecureMedia } from "./secure.ts";
import type { IceMedia } from "./ice-media.ts";
import { countBadPacket, srtpErrorKind, type BadPacketKind } from "./bad-packets.ts";
import { natWaitOf, PIERCE_PACKET, pierceNatOf, setNatFlags } from "./nat.ts";
import { RuleSrtp, srtpCodeIsShim, srtpPlan, type SrtpPlan } from "./secure-fast.ts";

/** Counters of one stream: what arrived from its endpoint. For RTP this object is Media.stats (read by `query`). */
export interface StreamCounters {
  packets: number;
  bytes: number;
  errors: number;
  /** ms since the epoch */
  lastPacket: number;
}

export interface StreamState {
  readonly rtcp: boolean;
  readonly learner: EndpointLearner;
  /** endpoint the SDP gave for this stream (null: none, or on hold) */
  sdp: Endpoint | null;
  readonly counters: StreamCounters;
  /** dropped by `strict source` */
  dropped: number;
  /** the part of `counters` the fast path forwarded */
  readonly fast: PacketTotals;
  /** SSRCs seen, in order, at most MAX_SSRCS (an array: a stream has one or two) */
  readonly ssrcs: number[];
  /** SSRC of the latest RTP packet seen here (`query` shows it) */
  lastSsrc: number | null;
  rule: InstalledRule | null;
  /** its index in the relay's list of streams with a rule, -1 when it has none */
  ruledAt: number;
  /** secure-fast: the SRTP contexts `rule` carries (freed only after the rule is gone) */
  srtp?: RuleSrtp | null;
  /** RTP stream: its media's RTCP stream, credited with the RTCP the rule forwarded from an rtcp-mux port */
  rtcpSide?: StreamState;
  /** `block DTMF` with a replacing `DTMF-security` mode: the event being replaced (made on first use) */
  dtmf?: DtmfReplacer;
}

export interface MediaState {
  readonly rtp: StreamState;
  readonly rtcp: StreamState;
  /** when the media got its ports: the timeout clock starts here */
  readonly createdMs: number;
}

/** Where a stream belongs. */
interface StreamOwner {
  call: Call;
  mono: Monologue;
  media: Media;
  rtcp: boolean;
}

/** A socket's stream. */
interface Route extends StreamOwner {
  /** the socket it was made for: a socket handle is reused once closed, and a stale entry must not route */
  sock: MediaSocket;
}

export interface RelayOptions {
  allocator: ShimPortAllocator;
  /** null = slow path only */
  fastPath: ShimFastPath | null;
  learning: EndpointLearning;
  log?: (msg: string) => void;
}

type SideFlags = Omit<LearningOptions, "mode">;
/** A rule a stream should have; secure-fast: with the SRTP keys it needs and the SSRCs whose indices it continues. */
interface WantedRule {
  rule: ForwardingRule;
  socket: MediaSocket;
  output: MediaSocket;
  plan: SrtpPlan | null;
  ssrcs: readonly number[];
}
const MAX_SSRCS = 32;
/** Plain on one side, SRTP (SDES or DTLS) on the other: forwarding unchanged would be wrong (or leak plain media). */
function needsSrtpTransform(a: Media, b: Media): boolean {
  const secure = (m: Media) => m.proto !== null && (isSrtp(m.proto) || isDtlsProto(m.proto));
  return secure(a) !== secure(b);
}
const zero = (): PacketTotals => ({ packets: 0, bytes: 0, errors: 0 });
function addStream(t: { user: PacketTotals; fast: PacketTotals }, s: StreamState): void {
  const c = s.counters, f = s.fast;
  t.user.packets += c.packets - f.packets;
  t.user.bytes += c.bytes - f.bytes;
  t.user.errors += c.errors - f.errors;
  t.fast.packets += f.packets;
  t.fast.bytes += f.bytes;
  t.fast.errors += f.errors;
}
const isRtpProto = (proto: string | null): boolean => proto !== null && proto.includes("RTP");
/** For the bad-packet log line: who sent it, to which media of which call. */
const where = (r: Route, src: Endpoint): string =>
  `from ${src.family === 6 ? `[${src.address}]` : src.address}:${src.port} on ${r.media.type} ${r.rtcp ? "RTCP" : "RTP"} port of call ${r.call.callId}`;

/** The endpoint an SDP gave for one stream of a media, or null (none yet, zero address, port 0). */
export function sdpEndpoint(m: Media, rtcp: boolean): Endpoint | null {
  const p = m.peer;
  if (!p || p.zeroAddress || p.port === 0 || !p.address) return null;
  let address: string;
  try {
    address = canonicalAddress(p.address);
  } catch {
    return null; // a host name: nothing to send to
  }
  const port = !rtcp ? p.port : m.rtcpMuxActive ? p.port : (p.rtcpPort ?? p.port + 1);
  return { address, port, family: p.family };
}

/** Whether any packet (RTP or RTCP, either plane) arrived from a media's endpoint. */
function heardFrom(st: MediaState): boolean {
  return st.rtp.counters.packets + st.rtcp.counters.packets + st.rtp.fast.packets + st.rtcp.fast.packets > 0;
}

function codecName(m: Media, pt: number): string {
  const c = m.peer?.codecs.find((x) => x.pt === pt);
  if (c?.name) return c.name.toUpperCase();
  return pt === 0 ? "PCMU" : pt === 8 ? "PCMA" : pt === 9 ? "G722" : "";
}

/** The audio codec a replacing `DTMF-security` mode sends in: the one the stream last used, else the first in its SDP
 * that the mode can generate; null when there is none or the events are not on the 8 kHz clock of such codecs. */
function replacementAudio(m: Media, rep: DtmfReplacer, mode: DtmfSecurityMode, eventPt: number): AudioTarget | null {
  const codecs = m.peer?.codecs ?? [];
  const clock = (pt: number) => codecs.find((c) => c.pt === pt)?.clockRate ?? (pt < 96 ? 8000 : 0);
  if (clock(eventPt) !== 8000) return null;
  if (rep.audioPt >= 0 && clock(rep.audioPt) === 8000 && canReplaceWith(mode, codecName(m, rep.audioPt))) return { pt: rep.audioPt, codec: codecName(m, rep.audioPt) };
  const c = codecs.find((x) => !x.supplemental && x.clockRate === 8000 && canReplaceWith(mode, x.name));
  return c ? { pt: c.pt, codec: c.name.toUpperCase() } : null;
}

export class MediaRelay implements MediaHooks {
  /** by socket handle (small, reused): a dense array, not a Map with an entry and a key string per socket */
  private readonly routes: Array<Route | undefined> = [];
  /** each routed call's socket handles */
  private readonly callRoutes = new Map<Call, number[]>();
  private readonly states = new WeakMap<Media, MediaState>();
  /** streams with a fast-path rule: the once-a-second counter read visits these, not every call */
  private readonly ruled: StreamState[] = []; // a list with indexes in the streams, not a Set: ~16 instead of ~65 bytes a stream
  /** streams with a rule while learning is open, and where they belong (confirmLearning) */
  private readonly provisional = new Map<StreamState, StreamOwner>();
  /** calls in which some participant asked for `pierce NAT` */
  private readonly pierceCalls = new Set<Call>();
  private readonly sideFlags = new WeakMap<Monologue, SideFlags>();
  private readonly batch = new SendBatch();
  /** counters of calls that ended, so daemon totals keep them */
  private readonly ended = { user: zero(), fast: zero() };
  /** media pairs of ended calls that relayed nothing / one direction only (`zerowaystreams`, `onewaystreams`) */
  private readonly ways = { zero: 0, one: 0 };
  /** packets the relay did not forward, by reason (diagnostics and tests) */
  readonly drops = { unrouted: 0, stun: 0, strictSource: 0, blocked: 0, dropTraffic: 0, noDestination: 0, echoDiscard: 0, srtpBridge: 0, dtls: 0, srtpAuth: 0, srtpNotReady: 0, natWait: 0 };
  /** secure: SRTP contexts and DTLS (null: no SRTP/DTLS code loaded, SRTP media stays untranslated) */
  get secure(): SecureMedia | null {
    return this.secureMedia;
  }
  set secure(v: SecureMedia | null) {
    this.secureMedia = v;
    this.srtpInShim = null;
    // secure-fast: keys from a DTLS handshake may let the media's rules carry SRTP now
    if (v) v.onReady = (m) => this.refreshMedia(m);
  }
  private secureMedia: SecureMedia | null = null;
  /** ice: the ICE agents of media that do ICE (null: STUN goes to stunHandler or is dropped) */
  ice: IceMedia | null = null;
  private readonly srtpWarned = new WeakSet<Media>();
  /** STUN arriving on a media port goes here (the ICE agent); without one it is dropped and counted */
  stunHandler: ((call: Call, media: Media, rtcp: boolean, sock: MediaSocket, packet: RxPacket) => void) | null = null;

  constructor(private readonly opts: RelayOptions) {
    opts.allocator.onPackets = (sock, packets) => this.onPackets(sock, packets);
    setStreamStatusSource((m, rtcp) => this.status(m, rtcp));
  }

  /** What `query` shows of a stream. */
  status(m: Media, rtcp: boolean): StreamStatus | null {
    const st = this.states.get(m);
    if (!st) return null;
    const s = rtcp ? st.rtcp : st.rtp;
    if (s.learner.provisional && this.provisional.size) this.confirmLearning(); // a window that ended since the last tick
    if (s.rule) this.credit(s, s.rule); // fresh fast-path counters for the reply
    if (rtcp && st.rtp.rule) this.credit(st.rtp, st.rtp.rule); // muxed RTCP the RTP port's rule forwarded
    const flags: string[] = [];
    if (s.learner.confirmed) flags.push("confirmed");
    if (s.rule && !s.rule.socket.isClosed) {
      flags.push("kernelized");
      if (!this.opts.fastPath?.inKernel(s.rule)) flags.push("no kernel support");
    } else if (!this.opts.fastPath && this.eligible(m, st, s)) {
      // as rtpengine without its kernel module: the stream would be kernelized, there is no kernel
      flags.push("kernelized", "no kernel support");
    }
    if (s.learner.opts.strictSource) flags.push("strict source");
    if (s.learner.opts.mediaHandover) flags.push("media handover");
    const c = s.counters;
    return { endpoint: s.learner.fixed ? null : s.learner.endpoint, flags, stats: { packets: c.packets, bytes: c.bytes, errors: c.errors }, lastPacket: c.lastPacket, ssrc: s.lastSsrc };
  }

  get fastPathEnabled(): boolean {
    return this.opts.fastPath !== null;
  }

  /** State of a media (created on first use). */
  stateOf(m: Media): MediaState | undefined {
    return this.states.get(m);
  }

  /** Calls the relay currently routes. */
  calls(): IterableIterator<Call> {
    return this.callRoutes.keys();
  }

  // ------------------------------------------------------------ signalling hooks

  signalled(call: Call, from: Monologue, f: CallFlags): void {
    const flags: SideFlags = {
      asymmetric: f.flags.has("asymmetric"),
      strictSource: f.flags.has("strict-source"),
      mediaHandover: f.flags.has("media-handover"),
    };
    this.sideFlags.set(from, flags);
    setNatFlags(from, f);
    if (pierceNatOf(from)) this.pierceCalls.add(call);
    if (f.mediaEcho !== null) applyMediaEcho(from, from.peer, f.mediaEcho);
    if (f.dropTraffic !== null) setDropTraffic(call, f.dropTraffic); // `drop-traffic`: the whole call
    for (const md of from.medias) {
      const st = this.states.get(md);
      if (!st) continue;
      st.rtp.learner.opts = learningOptions({ ...st.rtp.learner.opts, ...flags });
      st.rtcp.learner.opts = learningOptions({ ...st.rtcp.learner.opts, ...flags });
      if (f.flags.has("reset")) {
        st.rtp.learner.reset();
        st.rtcp.learner.reset();
      }
    }
    this.sync(call);
    this.ice?.sync(call, from); // ice: agents follow credentials and candidates (first: DTLS routes by them)
    this.secure?.sync(call); // secure: contexts follow the settled keys
    // secure-fast: rules follow the keys just settled; ice: the agents just synced (a restart keeps its pair, ICE removed); drop-traffic: rules go or return
    if (this.secure || this.ice || f.dropTraffic !== null) this.refresh(call);
    if (f.tos !== null) this.setTos(call, f.tos);
  }

  destroyed(call: Call): void {
    this.secure?.destroyed(call);
    this.ice?.destroyed(call);
    if (!this.callRoutes.has(call)) return;
    this.pierceCalls.delete(call);
    this.forEachStream(call, (st) => {
      if (!st.rule) return;
      this.credit(st, st.rule);
      this.opts.fastPath?.withdraw(st.rule);
      this.setRule(st, null);
      this.releaseSrtp(st);
    });
    this.forEachStream(call, (st) => addStream(this.ended, st));
    this.countWays(call);
    this.unroute(call);
    this.callRoutes.delete(call);
  }

  /**
   * Fix a stream's endpoint from outside packet learning (ICE: the nominated pair's remote address).
   * The endpoint counts as confirmed; the fast path may take the stream.
   */
  setEndpoint(call: Call, mono: Monologue, media: Media, rtcp: boolean, endpoint: Endpoint): void {
    const st = this.states.get(media);
    if (!st) return;
    const s = rtcp ? st.rtcp : st.rtp;
    s.learner.endpoint = endpoint;
    s.learner.confirmed = true;
    this.refreshDirection(call, mono, media);
    const out = this.counterpart(mono, media);
    if (out && mono.peer) this.refreshDirection(call, mono.peer, out);
  }

  /** secure/ice: where packets to m's endpoint go now (ICE pair, learned or SDP endpoint) and from which socket. */
  routeTo(m: Media, rtcp: boolean): { sock: MediaSocket; dst: Endpoint } | null {
    const st = this.states.get(m);
    if (!st) return null;
    const port1 = rtcp && !m.rtcpMuxActive;
    const ds = port1 ? st.rtcp : st.rtp;
    const ice = this.iceRoute(m, port1);
    if (ice !== undefined) return ice;
    const dst = ds.learner.fixed ? ds.sdp : (ds.learner.endpoint ?? ds.sdp);
    const sock = dst ? this.socketOf(m, dst.family, port1) : undefined;
    return dst && sock ? { sock, dst } : null;
  }

  /**
   * ice: the selected pair of m's endpoint as a route: our socket of the pair and the peer's address.
   * undefined = m does not do ICE; null = no pair validated (nothing may be sent, no rule made).
   */
  private iceRoute(m: Media, port1: boolean): { sock: MediaSocket; dst: Endpoint } | null | undefined {
    const sel = this.ice?.selected(m, port1);
    if (!sel) return sel;
    const sock = this.opts.allocator.socket(sel.local.address, sel.local.port);
    return sock && !sock.isClosed ? { sock, dst: sel.remote } : null;
  }

  /** secure-fast: re-evaluate the rules of the call a media belongs to. */
  private refreshMedia(m: Media): void {
    const r = this.routeOf(m);
    if (r) this.refresh(r.call);
  }

  /** Re-evaluate the fast-path rules of a call (after `block media` and the like). */
  refresh(call: Call): void {
    if (!this.callRoutes.has(call)) return;
    for (const mono of call.all) for (const md of mono.medias) this.refreshDirection(call, mono, md);
  }

  /** Routes and stream state follow the call's current ports and SDP endpoints. */
  private sync(call: Call): void {
    this.unroute(call);
    const handles: number[] = [];
    for (const mono of call.all) {
      for (const md of mono.medias) {
        if (md.port === null) continue;
        const st = this.ensureState(mono, md);
        for (const s of [st.rtp, st.rtcp]) {
          const e = sdpEndpoint(md, s.rtcp);
          // a new SDP address means a new endpoint: learn again
          if (!sameEndpoint(e, s.sdp)) {
            s.sdp = e;
            s.learner.reset();
          }
        }
        for (const a of md.addrs) {
          for (const rtcp of [false, true]) {
            const sock = this.opts.allocator.socket(a.address, md.port + (rtcp ? 1 : 0));
            if (!sock) continue; // not open: nothing can arrive on it
            setDense(this.routes, sock.handle, { call, mono, media: md, rtcp, sock });
            handles.push(sock.handle);
          }
        }
      }
    }
    this.callRoutes.set(call, handles);
    this.refresh(call);
  }

  private ensureState(mono: Monologue, md: Media): MediaState {
    let st = this.states.get(md);
    if (st) return st;
    const flags = this.sideFlags.get(mono) ?? { asymmetric: false, strictSource: false, mediaHandover: false };
    const mk = (rtcp: boolean, counters: StreamCounters): StreamState => ({
      rtcp,
      learner: new EndpointLearner({ mode: this.opts.learning, ...flags }),
      sdp: null,
      counters,
      dropped: 0,
      fast: { packets: 0, bytes: 0, errors: 0 },
      ssrcs: [],
      lastSsrc: null,
      rule: null,
      ruledAt: -1,
      srtp: null,
    });
    st = { rtp: mk(false, md.stats), rtcp: mk(true, { packets: 0, bytes: 0, errors: 0, lastPacket: 0 }), createdMs: Date.now() };
    st.rtp.rtcpSide = st.rtcp;
    this.states.set(md, st);
    return st;
  }

  private forEachStream(call: Call, fn: (st: StreamState, md: Media) => void): void {
    for (const mono of call.all) {
      for (const md of mono.medias) {
        const st = this.states.get(md);
        if (!st) continue;
        fn(st.rtp, md);
        fn(st.rtcp, md);
      }
    }
  }

  private setTos(call: Call, tos: number): void {
    for (const mono of call.all) {
      for (const md of mono.medias) {
        if (md.port === null) continue;
        for (const a of md.addrs) {
          for (const p of [md.port, md.port + 1]) {
            try {
              this.opts.allocator.socket(a.address, p)?.setTos(tos);
            } catch {
              /* a socket that refuses TOS keeps its default */
            }
          }
        }
      }
    }
  }

  /** `pierce NAT`: a probe to the SDP RTP address of every media whose participant asked for it and sent nothing yet
   * (called once a second, as rtpengine 10.5 does). */
  pierceNat(): void {
    let queued = 0;
    for (const call of this.pierceCalls) {
      if (!this.callRoutes.has(call)) {
        this.pierceCalls.delete(call);
        continue;
      }
      for (const mono of call.all) {
        if (!pierceNatOf(mono)) continue;
        for (const md of mono.medias) {
          const st = this.states.get(md);
          if (!st || md.port === null || heardFrom(st) || !st.rtp.sdp) continue;
          const sock = this.socketOf(md, st.rtp.sdp.family, false);
          if (!sock) continue;
          if (!this.batch.add(sock, st.rtp.sdp, PIERCE_PACKET)) {
            this.flushQuietly();
            this.batch.add(sock, st.rtp.sdp, PIERCE_PACKET);
          }
          queued++;
        }
      }
    }
    if (queued) this.flushQuietly();
  }

  private flushQuietly(): void {
    try {
      this.batch.flush();
    } catch {
      /* a probe the kernel refused is not retried before the next second */
    }
  }

  // ------------------------------------------------------------ sockets

  /** Our socket of `m` for family `family`, RTP or RTCP port. */
  private socketOf(m: Media, family: 4 | 6 | undefined, rtcp: boolean): MediaSocket | undefined {
    if (m.port === null) return undefined;
    const a = m.addrs.find((x) => x.family === family) ?? (family === undefined ? m.addrs[0] : undefined);
    return a ? this.opts.allocator.socket(a.address, m.port + (rtcp ? 1 : 0)) : undefined;
  }

  /** The route of m's RTP socket (first address), if that socket is open and routed to m. */
  private routeOf(m: Media): Route | undefined {
    const sock = this.socketOf(m, undefined, false);
    const r = sock ? this.routes[sock.handle] : undefined;
    return r && r.sock === sock && r.media === m ? r : undefined;
  }

  /** Forget a call's routes (those its sockets' handles still carry: a reused handle may route another call). */
  private unroute(call: Call): void {
    for (const h of this.callRoutes.get(call) ?? []) if (this.routes[h]?.call === call) this.routes[h] = undefined;
  }

  /** The media that packets arriving on `m` go to: same m= line of the monologue this one talks to. */
  private counterpart(mono: Monologue, m: Media): Media | undefined {
    const peer = mono.peer;
    if (!peer || peer.deleted) return undefined;
    const o = peer.medias[m.index];
    return o && o.port !== null ? o : undefined;
  }

  // ------------------------------------------------------------ slow path

  /** Bad input (STUN, DTLS) on a stream's socket: an error of that stream, counted by kind and logged. */
  private badPacket(s: StreamState, kind: BadPacketKind, r: Route, src: Endpoint, n: number): void {
    s.counters.errors += n;
    countBadPacket(kind, where(r, src), n);
  }

  private onPackets(sock: MediaSocket, packets: RxPacket[]): void {
    const r = this.routes[sock.handle];
    if (!r || r.sock !== sock) {
      this.drops.unrouted += packets.length;
      return;
    }
    const st = this.states.get(r.media);
    if (!st) return;
    const ls = r.rtcp ? st.rtcp : st.rtp; // learning is per local socket
    const out = this.counterpart(r.mono, r.media);
    const outSt = out ? this.states.get(out) : undefined;
    const ctl = effectiveControls(r.call, r.mono);
    const echo = echoMode(r.mono);
    const dropAll = dropTraffic(r.call); // `drop-traffic start`
    const natWait = natWaitOf(r.mono.peer); // `NAT-wait` of the receiving side
    const sinceSignal = Date.now() - r.call.lastSignal;
    let learned = false;
    const silentBefore = !heardFrom(st); // `NAT-wait`: the first packet from a side releases media towards it
    let queued = 0;
    for (const p of packets) {
      let data = p.data;
      if (isStun(data)) {
        if (this.stunHandler) {
          // bad STUN (integrity, username, malformed) is an error of the stream it arrived on
          const before = this.ice?.counters.stunRejected ?? 0;
          this.stunHandler(r.call, r.media, r.rtcp, sock, p);
          const bad = (this.ice?.counters.stunRejected ?? 0) - before;
          if (bad > 0) this.badPacket(ls, "stun", r, p.src, bad);
        } else this.drops.stun++;
        continue;
      }
      // secure: DTLS (first byte 20..63) goes to the media's DTLS association
      if (data.byteLength > 0 && data[0]! >= 20 && data[0]! <= 63) {
        if (this.secure) {
          const before = this.secure.counters.dtlsRejected;
          this.secure.dtls(r.media, r.rtcp, sock, p.src, data);
          const bad = this.secure.counters.dtlsRejected - before;
          if (bad > 0) this.badPacket(ls, "dtls", r, p.src, bad);
        } else this.drops.dtls++;
        continue;
      }
      const v = ls.learner.onPacket(p.src, ls.sdp, sinceSignal);
      if (v.changed) learned = true;
      if (v.verdict === "drop") {
        ls.dropped++;
        this.drops.strictSource++;
        continue;
      }
      // RTCP on an rtcp-mux port is counted and sent as RTCP (demuxed if the other side does not mux)
      const rtcp = r.rtcp || (r.media.rtcpMuxActive && isRtcp(data));
      const cs = rtcp ? st.rtcp : st.rtp;
      cs.counters.packets++;
      cs.counters.bytes += data.byteLength;
      cs.counters.lastPacket = Math.floor(p.tsUs / 1000);
      const rtp = !rtcp && isRtp(data);
      if (rtp) {
        cs.lastSsrc = ssrc(data);
        if (cs.ssrcs.length < MAX_SSRCS && !cs.ssrcs.includes(cs.lastSsrc)) cs.ssrcs.push(cs.lastSsrc);
      }
      if (dropAll) {
        this.drops.dropTraffic++;
        continue;
      }
      // secure: SRTP from this endpoint is decrypted first; failed authentication is an error of the stream
      if (this.secure?.active(r.media)) {
        const plain = this.secure.unprotect(r.media, data, rtcp, r.rtcp);
        if (!plain) {
          cs.counters.errors++;
          this.drops.srtpAuth++;
          const code = this.secure.lastUnprotectError;
          if (code < 0) countBadPacket(srtpErrorKind(code), where(r, p.src));
          continue;
        }
        data = plain;
      }
      // ice: media (authenticated when SRTP) from another validated pair of a controlled agent is the peer's choice of
      // pair: the agent selects it and the rules follow (IceAgent.mediaFrom says why)
      if (r.media.iceEnabled) this.ice?.media(r.media, sock, p.src);
      if (rtp && (ctl.blockMedia || ctl.blockDtmf || ctl.silenceMedia)) {
        const pt = payloadType(data);
        const codec = codecName(r.media, pt);
        const dtmf = codec === "TELEPHONE-EVENT";
        // `DTMF-security`: a replacing mode turns blocked events into other events or audio (dtmf-security.ts)
        const replacer = ctl.blockDtmf && ctl.dtmfSecurity.mode !== "drop" ? (cs.dtmf ??= new DtmfReplacer()) : null;
        if (dtmf && replacer) {
          const sent = replacer.apply(data, ctl.dtmfSecurity, replacementAudio(r.media, replacer, ctl.dtmfSecurity.mode, pt));
          if (!sent) {
            this.drops.blocked++;
            continue;
          }
          data = sent;
        } else if (dtmf ? ctl.blockDtmf : ctl.blockMedia) {
          this.drops.blocked++;
          continue;
        } else if (!dtmf) {
          if (replacer) replacer.audioPt = pt;
          if (ctl.silenceMedia) silencePayload(data, codec);
        }
      }
      if (echo === "discard") {
        this.drops.echoDiscard++;
        continue;
      }
      if (echo === "echo") {
        // `media echo`: back to the sender from the socket it came in on, with a new SSRC
        const back = ls.learner.fixed ? ls.sdp : (ls.learner.endpoint ?? ls.sdp);
        if (!back) continue;
        rewriteEchoSsrc(r.mono, data, rtcp);
        if (this.secure?.active(r.media)) {
          const enc = this.secure.protect(r.media, data, rtcp, r.rtcp);
          if (!enc) continue;
          data = enc;
        }
        if (!this.batch.add(sock, back, data)) {
          this.flush(ls, queued);
          queued = 0;
          this.batch.add(sock, back, data);
        }
        queued++;
        continue;
      }
      if (!out || !outSt) {
        this.drops.noDestination++;
        continue;
      }
      if (natWait && !heardFrom(outSt)) {
        this.drops.natWait++;
        continue;
      }
      const secureOut = !!this.secure?.active(out);
      if (!secureOut && !this.secure?.active(r.media) && needsSrtpTransform(r.media, out)) {
        // SRTP on one side but no SRTP context (no usable keys negotiated): never forward in the clear
        this.drops.srtpBridge++;
        if (!this.srtpWarned.has(r.media)) {
          this.srtpWarned.add(r.media);
          this.opts.log?.(`Call ${r.call.callId}: ${r.media.proto} <-> ${out.proto} media is dropped: no SRTP keys to translate with`);
        }
        continue;
      }
      const outRtcp = rtcp && !out.rtcpMuxActive;
      const ds = outRtcp ? outSt.rtcp : outSt.rtp;
      // ice: an endpoint we do ICE with only gets media on its validated pair, from our side of that pair
      const ice = this.iceRoute(out, outRtcp);
      const dst = ice !== undefined ? (ice?.dst ?? null) : ds.learner.fixed ? ds.sdp : (ds.learner.endpoint ?? ds.sdp);
      const os = ice ? ice.sock : dst ? this.socketOf(out, dst.family, outRtcp) : undefined;
      if (!dst || !os) {
        this.drops.noDestination++;
        continue;
      }
      if (secureOut) {
        const enc = this.secure!.protect(out, data, rtcp, outRtcp);
        if (!enc) {
          this.drops.srtpNotReady++;
          continue;
        }
        data = enc;
      }
      if (!this.batch.add(os, dst, data)) {
        this.flush(ls, queued);
        queued = 0;
        this.batch.add(os, dst, data);
      }
      queued++;
    }
    this.flush(ls, queued);
    if (learned || (silentBefore && heardFrom(st))) {
      this.refreshDirection(r.call, r.mono, r.media);
      if (out) this.refreshDirection(r.call, r.mono.peer!, out);
    }
  }

  /** Send what is queued; datagrams the kernel refused count as errors of the receiving stream. */
  private flush(s: StreamState, queued: number): void {
    if (queued === 0) return;
    let sent = 0;
    try {
      sent = this.batch.flush();
    } catch {
      sent = 0;
    }
    if (sent < queued) s.counters.errors += queued - sent;
  }

  // ------------------------------------------------------------ fast path

  /** Install, update or withdraw the rules for packets arriving on `from` (sent by `mono`'s endpoint). */
  private refreshDirection(call: Call, mono: Monologue, from: Media): void {
    const st = this.states.get(from);
    if (!st) return;
    for (const s of [st.rtp, st.rtcp]) {
      this.apply(s, this.desiredRule(call, mono, from, st, s));
      if (s.rule && s.learner.provisional) this.provisional.set(s, { call, mono, media: from, rtcp: s.rtcp });
      else this.provisional.delete(s);
    }
  }

  /**
   * Once a second: streams forwarded by a rule while learning was open are confirmed when learning ends
   * (no packet from their source reaches TypeScript to do it), and get the rule of a learned stream.
   */
  confirmLearning(now = Date.now()): void {
    for (const [s, r] of this.provisional) {
      if (!s.rule || !s.learner.provisional) {
        this.provisional.delete(s);
        continue;
      }
      if (s.learner.confirmIfDue(now - r.call.lastSignal)) {
        this.provisional.delete(s);
        this.refreshDirection(r.call, r.mono, r.media);
      }
    }
  }

  /** Whether the stream could be forwarded by a rule (what `kernelized` means without a fast path). */
  private eligible(m: Media, st: MediaState, s: StreamState): boolean {
    const r = this.routeOf(m);
    return !!r && this.desiredRule(r.call, r.mono, m, st, s, true) !== null;
  }

  /** The rule this stream should have now, or null when its packets need TypeScript. */
  private desiredRule(call: Call, mono: Monologue, from: Media, st: MediaState, s: StreamState, evenWithoutFastPath = false): WantedRule | null {
    if ((!this.opts.fastPath && !evenWithoutFastPath) || from.port === null) return null;
    // muxed RTCP arrives on the RTP port (the RTP stream's rule carries it): the RTCP port has nothing to forward
    if (s.rtcp && from.rtcpMuxActive) return null;
    const to = this.counterpart(mono, from);
    const toSt = to ? this.states.get(to) : undefined;
    if (!to || !toSt) return null;
    // a muxed port facing a side without rtcp-mux: the shim tells RTCP apart per packet and sends it out of the RTCP port
    const demux = !s.rtcp && from.rtcpMuxActive && !to.rtcpMuxActive;
    if (demux && !isRtpProto(from.proto)) return null;
    // ice: a stream doing ICE is forwarded once its pair is selected: from that pair's peer (others, and STUN, go up), to
    // the other side's selected pair; STUN and DTLS never match a rule, so checks, consent and handshakes stay in TypeScript
    const inIce = this.iceRoute(from, s.rtcp);
    // learning still open (delayed, heuristic): a rule forwards from the source learned so far and sends others up
    // (confirmLearning replaces such a rule once learning ends)
    const provisional = inIce === undefined && s.learner.provisional;
    if (inIce === null || (inIce === undefined && !s.learner.confirmed && !provisional)) return null;
    const outRtcp = s.rtcp && !to.rtcpMuxActive;
    const outIce = this.iceRoute(to, outRtcp);
    if (outIce === null) return null;
    // secure-fast: SRTP<->RTP and SRTP<->SRTP (other keys) go to a rule carrying SRTP contexts of the shim's own copy of ffi/srtp
    const secure = !!this.secure && (this.secure.active(from) || this.secure.active(to));
    let plan: SrtpPlan | null = null;
    if (!secure && (from.proto ?? "") !== (to.proto ?? "")) return null;
    if (secure) {
      const sec = this.secure!;
      const secProto = (m: Media) => m.proto !== null && (isSrtp(m.proto) || isDtlsProto(m.proto));
      if (!this.opts.fastPath || !this.srtpRulesUsable() || !isRtpProto(from.proto) || !isRtpProto(to.proto)) return null;
      if (secProto(from) !== sec.active(from) || secProto(to) !== sec.active(to)) return null;
      // SRTCP: the rule continues the indices of known SSRCs, so wait for the stream's RTP (its SSRCs) first
      if (s.rtcp && st.rtp.ssrcs.length === 0) return null;
      plan = srtpPlan(sec, from, s.rtcp, to, outRtcp);
      if (!plan) return null;
      // demux: one rule has one encrypt context, so the other side's RTCP port must use the keys of its RTP port
      // (SDES, or DTLS before an RTCP-port handshake of its own; after one, its RTCP needs TypeScript's contexts)
      if (demux && plan.to && sec.ready(to, true)?.id !== plan.to.id) return null;
    }
    const ctl = effectiveControls(call, mono);
    if (ctl.blockMedia || ctl.blockDtmf || ctl.silenceMedia || echoMode(mono) !== null || dropTraffic(call)) return null;
    if (natWaitOf(mono.peer) && !heardFrom(toSt)) return null; // `NAT-wait`: TypeScript holds it back for now
    const ds = outRtcp ? toSt.rtcp : toSt.rtp;
    const dst = outIce ? outIce.dst : ds.learner.fixed ? ds.sdp : (ds.learner.endpoint ?? ds.sdp);
    if (!dst) return null;
    const out = outIce ? outIce.sock : this.socketOf(to, dst.family, outRtcp);
    const srcEp = s.learner.fixed ? s.sdp : s.learner.endpoint;
    const local = inIce ? inIce.sock : this.socketOf(from, srcEp?.family, s.rtcp);
    if (!out || !local) return null;
    let rtcpDemux: ForwardingRule["rtcpDemux"];
    if (demux) {
      // where the slow path sends demuxed RTCP: the other side's RTCP pair (ICE) or its learned/signalled RTCP endpoint
      const rIce = this.iceRoute(to, true);
      if (rIce === null) return null;
      const rs = toSt.rtcp;
      const rDst = rIce ? rIce.dst : rs.learner.fixed ? rs.sdp : (rs.learner.endpoint ?? rs.sdp);
      const rOut = rIce ? rIce.sock : rDst ? this.socketOf(to, rDst.family, true) : undefined;
      if (!rDst || !rOut) return null;
      rtcpDemux = { out: { handle: rOut.handle, local: rOut.local }, dst: rDst };
    }
    const watch = !inIce && !s.learner.fixed && (s.learner.opts.strictSource || s.learner.opts.mediaHandover);
    return {
      socket: local,
      output: out,
      rule: {
        local: { handle: local.handle, local: local.local },
        // `strict source` drops others in C; `media handover` sends them up so TypeScript can move the endpoint
        expectSrc: inIce ? inIce.dst : watch || provisional ? s.learner.endpoint : null,
        dropMismatch: !inIce && !provisional && !s.learner.fixed && s.learner.opts.strictSource,
        outSrc: { handle: out.handle, local: out.local },
        outDst: dst,
        tos: null,
        payload: !isRtpProto(from.proto) ? "other" : s.rtcp ? "rtcp" : "rtp",
        ...(plan ? { srtp: { key: plan.key, decrypt: 0, encrypt: 0, mux: !s.rtcp && from.rtcpMuxActive } } : {}),
        // ice: the peer's checks and its answers to our consent checks arrive here too, and must reach the agent
        ...(inIce || from.iceEnabled ? { mediaOnly: true } : {}),
        ...(rtcpDemux ? { rtcpDemux } : {}),
      },
      plan,
      ssrcs: st.rtp.ssrcs,
    };
  }

  /** secure-fast: rules may carry SRTP contexts only when TypeScript's SRTP code is the shim's. */
  private srtpInShim: boolean | null = null;
  private srtpRulesUsable(): boolean {
    if (!this.secure) return false;
    return (this.srtpInShim ??= srtpCodeIsShim(this.secure.libraryPath));
  }

  /** secure-fast: free a rule's SRTP contexts; only after the rule was withdrawn, replaced or its socket closed. */
  private releaseSrtp(s: StreamState): void {
    const rs = s.srtp;
    s.srtp = null;
    rs?.release();
  }

  private apply(s: StreamState, want: WantedRule | null): void {
    const fp = this.opts.fastPath;
    let cur = s.rule;
    if (cur && cur.socket.isClosed) {
      cur = this.setRule(s, null); // its socket closed: the rule went with it
      this.releaseSrtp(s);
    }
    if (!fp || sameRule(cur?.rule ?? null, want?.rule ?? null)) return;
    // secure-fast: a rule with SRTP is withdrawn (and its indices handed back) before another is made from the keys
    const sameKey = !!cur && !!want && !s.srtp && !want.plan && cur.rule.local.handle === want.rule.local.handle && sameEndpoint(cur.rule.expectSrc, want.rule.expectSrc);
    if (cur) {
      this.credit(s, cur);
      if (!sameKey) fp.withdraw(cur);
    }
    this.setRule(s, null);
    this.releaseSrtp(s);
    if (!want) return;
    let rule = want.rule;
    let rs: RuleSrtp | null = null;
    if (want.plan && rule.srtp) {
      try {
        rs = RuleSrtp.make(want.plan, want.ssrcs);
      } catch (e) {
        this.opts.log?.(`fast path SRTP contexts not made (packets stay in the slow path): ${(e as Error).message}`);
        return;
      }
      rule = { ...rule, srtp: { ...rule.srtp, decrypt: rs.decryptPtr, encrypt: rs.encryptPtr, kernel: rs.kernel() } };
    }
    const ir = fp.install(rule, want.socket, want.output);
    if (typeof ir === "string") {
      this.opts.log?.(`fast path rule not installed (packets stay in the slow path): ${ir}`);
      rs?.release(); // never reached the shim
      return;
    }
    s.srtp = rs;
    // a replaced rule keeps its counters in the shim
    if (cur && sameKey) ir.credited = cur.credited;
    this.setRule(s, ir);
  }

  /** The one place a stream's rule changes, so `ruled` stays exact. Returns the rule set. */
  private setRule(s: StreamState, ir: InstalledRule | null): InstalledRule | null {
    s.rule = ir;
    if (ir && s.ruledAt < 0) {
      s.ruledAt = this.ruled.length;
      this.ruled.push(s);
    } else if (!ir && s.ruledAt >= 0) {
      // the last one takes its place
      const last = this.ruled.pop()!;
      if (last !== s) {
        this.ruled[s.ruledAt] = last;
        last.ruledAt = s.ruledAt;
      }
      s.ruledAt = -1;
    }
    return ir;
  }

  /** Add what the fast path forwarded since the last read to the stream's counters. */
  private credit(s: StreamState, ir: InstalledRule): void {
    const d = this.opts.fastPath?.delta(ir);
    if (!d) return;
    // RTCP the rule told apart on an rtcp-mux port belongs to the RTCP stream, as in the slow path
    const r = s.rtcpSide;
    const rp = r ? Math.min(d.muxRtcpPackets ?? 0, d.packets) : 0, rb = r ? Math.min(d.muxRtcpBytes ?? 0, d.bytes) : 0;
    if (r && rp > 0) {
      r.counters.packets += rp;
      r.counters.bytes += rb;
      r.fast.packets += rp;
      r.fast.bytes += rb;
      if (d.lastMs > r.counters.lastPacket) r.counters.lastPacket = d.lastMs;
    }
    s.counters.packets += d.packets - rp;
    s.counters.bytes += d.bytes - rb;
    s.counters.errors += d.errors;
    s.fast.packets += d.packets - rp;
    s.fast.bytes += d.bytes - rb;
    s.fast.errors += d.errors;
    if (d.authFailed) {
      // secure-fast: SRTP that failed authentication in the shim, an error of the stream as in the slow path
      s.counters.errors += d.authFailed;
      s.fast.errors += d.authFailed;
      this.drops.srtpAuth += d.authFailed;
      countBadPacket("srtp_auth", `(fast path, ${d.authFailed} since the last read; replays included)`, d.authFailed);
    }
    if (d.lastMs > s.counters.lastPacket) s.counters.lastPacket = d.lastMs;
  }

  /** Relayed packets since start (ended calls included) and the current media per plane. */
  /** Each media pair of an ending call counted once: no RTP either way, or one way only. */
  private countWays(call: Call): void {
    const seen = new Set<Media>();
    for (const mono of call.all) {
      for (const md of mono.medias) {
        const other = this.counterpart(mono, md);
        if (md.port === null || !other || seen.has(md)) continue;
        seen.add(md).add(other);
        const n = (md.stats.packets > 0 ? 1 : 0) + (other.stats.packets > 0 ? 1 : 0);
        if (n === 0) this.ways.zero++;
        else if (n === 1) this.ways.one++;
      }
    }
  }

  totals(): { user: PacketTotals; fast: PacketTotals; media: { userspace: number; kernel: number; mixed: number }; ways: { zero: number; one: number } } {
    const t = { user: { ...this.ended.user }, fast: { ...this.ended.fast } };
    const media = { userspace: 0, kernel: 0, mixed: 0 };
    for (const call of this.callRoutes.keys()) {
      this.forEachStream(call, (st) => addStream(t, st));
      for (const mono of call.all) {
        for (const md of mono.medias) {
          const st = this.states.get(md);
          if (!st || md.port === null) continue;
          // judged by the RTP stream; RTCP alone in the fast path makes it "mixed"
          if (st.rtp.rule) media.kernel++;
          else if (st.rtcp.rule) media.mixed++;
          else media.userspace++;
        }
      }
    }
    return { ...t, media, ways: { ...this.ways } };
  }

  /** Read every installed rule's counters (periodically, before timeouts are judged). */
  creditAll(): void {
    // only streams with a rule: a held call forwarded in userspace costs nothing here. Backwards, so that a stream
    // leaving the list (its place taken by the last one, already visited) skips nobody.
    for (let i = this.ruled.length - 1; i >= 0; i--) {
      const st = this.ruled[i];
      const rule = st?.rule;
      if (!st || !rule) continue;
      this.credit(st, rule);
      // its output closed (a branch or party deleted): back to the slow path, which has no destination;
      // its own socket closed (its branch was dropped): the rule went with it, and the stream leaves the set
      if (rule.output.isClosed || rule.socket.isClosed) {
        this.opts.fastPath?.withdraw(rule);
        this.setRule(st, null);
        this.releaseSrtp(st);
      }
    }
  }
}
