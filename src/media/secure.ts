// SRTP in the slow path: per media (one endpoint) the SRTP contexts of each direction, from SDES keys or a DTLS handshake on the media port.
//
//   const sec = new SecureMedia(libs, { route });   route(media, rtcpPort) = where DTLS to that endpoint goes before it spoke
//   sec.sync(call)                       after signalling: contexts follow Media.secure (unchanged keys keep theirs)
//   sec.unprotect(m, data, rtcp, port1)  SRTP/SRTCP from m's endpoint -> plain view, or null (dropped, counted)
//   sec.protect(m, data, rtcp, port1)    plain -> SRTP/SRTCP towards m's endpoint, or null (no keys yet)
//   sec.dtls(m, port1, sock, src, data)  a DTLS datagram (first byte 20..63) that arrived on m's port
//   sec.destroyed(call)                  free everything of a call
import type { Call, Media } from "../call/model.ts";
import { parseFingerprint, type DtlsConnection } from "../crypto/dtls.ts";
import type { SecureSpec } from "../crypto/secure-spec.ts";
import { sameSpec } from "../crypto/secure-spec.ts";
import type { SdesCrypto } from "../crypto/sdes-sdp.ts";
import type { SecureLibraries } from "../crypto/session.ts";
import { SRTP_MAX_OVERHEAD, srtpFlags, srtpSuiteByName, type SrtpContext } from "../crypto/srtp.ts";
import type { Endpoint } from "../platform/shim-addr.ts";
import type { SrtpKeyMaterial } from "../kernel/srtp-kernel.ts";
import type { MediaSocket } from "./socket.ts";

/** The contexts of one port towards one endpoint; `fork` makes fresh ones with the same keys (secure-fast: a rule's own). */
export interface SecureContexts {
  inbound: SrtpContext;
  outbound: SrtpContext;
  /** unique per key set: a fast-path rule made from other keys is another rule */
  readonly id: number;
  readonly fork: () => { inbound: SrtpContext; outbound: SrtpContext };
  /** the keys themselves (kernel rules carry them: src/kernel/srtp-kernel.ts) */
  readonly keys: { readonly inbound: SrtpKeyMaterial; readonly outbound: SrtpKeyMaterial };
}
type Contexts = SecureContexts;
let nextContextsId = 1;

interface DtlsLeg {
  conn: DtlsConnection;
  /** where the peer last spoke from, and on which of our sockets */
  peer: { sock: MediaSocket; dst: Endpoint } | null;
  /** flights made before any destination was known */
  pending: Uint8Array[];
  timer: ReturnType<typeof setTimeout> | null;
}

interface SecureStream {
  spec: SecureSpec;
  /** index 0: RTP port (and muxed RTCP), 1: RTCP port (DTLS only; SDES uses 0 for both) */
  ctx: [Contexts | null, Contexts | null];
  dtls: [DtlsLeg | null, DtlsLeg | null];
  /** made by a ClientHello before the answer (we offered actpass): the answer confirms or replaces it */
  early: boolean;
}

export interface SecureCounters {
  /** SRTP/SRTCP that failed authentication or replay checks */
  authFailures: number;
  /** media dropped because the keys were not there yet (DTLS not done) */
  notReady: number;
  dtlsIn: number;
  /** DTLS datagrams no association took (none for that media, or garbage) */
  dtlsRejected: number;
  handshakes: number;
  handshakeFailures: number;
}

export interface SecureMediaOptions {
  /** --dtls-mtu */
  mtu?: number;
  /** where to send DTLS towards a media's endpoint before it has sent us any (ICE pair, learned or SDP endpoint) */
  route: (m: Media, rtcpPort: boolean) => { sock: MediaSocket; dst: Endpoint } | null;
  log?: (msg: string) => void;
}

const MAX_PENDING = 16;
const MAX_PACKET = 65535;

function mkiOf(tail: string): Uint8Array | null {
  const part = tail.split("|").find((p) => p.includes(":"));
  if (!part) return null;
  const [v, l] = part.split(":");
  const len = Number(l), val = Number(v);
  if (!Number.isInteger(len) || len < 1 || len > 128 || !Number.isFinite(val)) return null;
  const out = new Uint8Array(len);
  let x = BigInt(Math.floor(val));
  for (let i = len - 1; i >= 0; i--) {
    out[i] = Number(x & 0xffn);
    x >>= 8n;
  }
  return out;
}

/** A DTLS record header (RFC 6347 4.1): content type 20..23, version 1.0 or 1.2, length within the datagram. */
function isDtlsRecord(d: Uint8Array): boolean {
  if (d.byteLength < 13 || d[0]! < 20 || d[0]! > 23 || d[1] !== 0xfe || (d[2] !== 0xff && d[2] !== 0xfd)) return false;
  return 13 + ((d[11]! << 8) | d[12]!) <= d.byteLength;
}

/** A handshake record carrying a ClientHello (epoch 0). */
function isClientHello(d: Uint8Array): boolean {
  return d[0] === 22 && d.byteLength > 13 && d[3] === 0 && d[4] === 0 && d[13] === 1;
}

export class SecureMedia {
  readonly counters: SecureCounters = { authFailures: 0, notReady: 0, dtlsIn: 0, dtlsRejected: 0, handshakes: 0, handshakeFailures: 0 };
  /** why the last unprotect returned null: a negative RTPE_SRTP_E_* code, or 0 = no keys yet (not the packet's fault) */
  lastUnprotectError = 0;
  private readonly streams = new WeakMap<Media, SecureStream>();
  /** secure-fast: called when a DTLS handshake made keys, so the media plane can move the streams to the fast path */
  onReady: ((m: Media) => void) | null = null;
  private readonly scratchIn = new Uint8Array(MAX_PACKET + SRTP_MAX_OVERHEAD);
  private readonly scratchOut = new Uint8Array(MAX_PACKET + SRTP_MAX_OVERHEAD);

  constructor(
    private readonly libs: SecureLibraries,
    private readonly opts: SecureMediaOptions,
  ) {}

  /** Where the SRTP code was loaded from (secure-fast: rules need the shim's own copy). */
  get libraryPath(): string {
    return this.libs.path;
  }

  /** Does media to or from `m` need SRTP work (keys settled, ready or not)? */
  active(m: Media): boolean {
    return this.streams.has(m);
  }

  /** Contexts follow the call's settled SRTP; unchanged keys keep their contexts. */
  sync(call: Call): void {
    for (const mono of call.all) {
      for (const m of mono.medias) {
        const cur = this.streams.get(m);
        const want = m.port === null ? null : m.secure;
        if (cur && sameSpec(cur.spec, want)) continue;
        if (cur && cur.early && want && this.confirmEarly(cur, want)) continue;
        if (cur) this.free(m, cur);
        if (want) this.create(m, want);
      }
    }
  }

  destroyed(call: Call): void {
    for (const mono of call.all) {
      for (const m of mono.medias) {
        const cur = this.streams.get(m);
        if (cur) this.free(m, cur);
      }
    }
  }

  /** SRTP(CP) from m's endpoint to plain, in a scratch buffer; null = dropped (counted). */
  unprotect(m: Media, data: Uint8Array, rtcp: boolean, rtcpPort: boolean): Uint8Array | null {
    if (!this.streams.has(m)) return data;
    this.lastUnprotectError = 0;
    const c = this.usable(m, rtcpPort, data);
    if (!c) return null;
    const buf = this.scratchIn;
    buf.set(data);
    const n = rtcp ? c.inbound.unprotectRtcp(buf, data.byteLength) : c.inbound.unprotect(buf, data.byteLength);
    if (n < 0) {
      this.counters.authFailures++;
      this.lastUnprotectError = n;
      return null;
    }
    return buf.subarray(0, n);
  }

  /** Plain RTP(CP) to SRTP(CP) for m's endpoint; null = no keys yet (counted). */
  protect(m: Media, data: Uint8Array, rtcp: boolean, rtcpPort: boolean): Uint8Array | null {
    if (!this.streams.has(m)) return data;
    const c = this.usable(m, rtcpPort, data);
    if (!c) return null;
    const buf = this.scratchOut;
    buf.set(data);
    const n = rtcp ? c.outbound.protectRtcp(buf, data.byteLength) : c.outbound.protect(buf, data.byteLength);
    if (n < 0) {
      this.counters.notReady++;
      return null;
    }
    return buf.subarray(0, n);
  }

  /** secure-fast: the settled contexts for packets of m's endpoint on this port, or null (no keys, or an unconfirmed early association). */
  ready(m: Media, rtcpPort: boolean): SecureContexts | null {
    const s = this.streams.get(m);
    // (an early association is not trusted with media until the answer confirmed its certificate)
    if (!s || s.early) return null;
    return (rtcpPort ? s.ctx[1] : null) ?? s.ctx[0];
  }

  /** The contexts for one packet of a secure stream, or null (counted as not ready) when there are none yet or it is too big. */
  private usable(m: Media, rtcpPort: boolean, data: Uint8Array): Contexts | null {
    const c = this.ready(m, rtcpPort);
    if (!c || data.byteLength > MAX_PACKET) {
      this.counters.notReady++;
      return null;
    }
    return c;
  }

  /** A DTLS datagram from m's endpoint. */
  dtls(m: Media, rtcpPort: boolean, sock: MediaSocket, src: Endpoint, data: Uint8Array): void {
    this.counters.dtlsIn++;
    let s = this.streams.get(m);
    const comp = rtcpPort && !m.rtcpMuxActive ? 1 : 0;
    // we offered actpass and the answerer's ClientHello beats its answer: we are passive, as the answer will say
    if (!s && m.secure === null && m.dtlsFingerprintHash !== null && m.port !== null && isClientHello(data)) {
      s = { spec: { kind: "dtls", role: "passive", fingerprint: null }, ctx: [null, null], dtls: [null, null], early: true };
      this.streams.set(m, s);
    }
    if (!s || s.spec.kind !== "dtls") {
      this.counters.dtlsRejected++;
      return;
    }
    if (!isDtlsRecord(data)) {
      this.counters.dtlsRejected++;
      return;
    }
    // a failed association (garbage, a bad certificate) starts over when a new ClientHello comes
    const old = s.dtls[comp];
    if (old && old.conn.state === "failed" && isClientHello(data)) {
      if (old.timer) clearTimeout(old.timer);
      old.conn.free();
      s.dtls[comp] = null;
    }
    const leg = s.dtls[comp] ?? (s.dtls[comp] = this.startLeg(m, s, comp));
    if (!leg) {
      this.counters.dtlsRejected++;
      return;
    }
    leg.peer = { sock, dst: src };
    const before = leg.conn.state;
    const r = leg.conn.feed(data);
    if (!r.accepted) this.counters.dtlsRejected++;
    this.pump(m, s, comp, leg, before);
  }

  /** A path to m's endpoint appeared (ICE selected a pair): send DTLS flights waiting for one. */
  kick(m: Media): void {
    const s = this.streams.get(m);
    if (!s) return;
    for (const comp of [0, 1] as const) {
      const leg = s.dtls[comp];
      if (leg && leg.pending.length) this.pump(m, s, comp, leg, leg.conn.state);
    }
  }

  /** Diagnostics: the state of m's DTLS association (RTP component), or null. */
  dtlsState(m: Media): string | null {
    return this.streams.get(m)?.dtls[0]?.conn.state ?? null;
  }

  // ------------------------------------------------------------ internals

  private create(m: Media, spec: SecureSpec): void {
    const s: SecureStream = { spec, ctx: [null, null], dtls: [null, null], early: false };
    this.streams.set(m, s);
    if (spec.kind === "sdes") {
      try {
        const keys = { inbound: this.sdesKeys(spec.inbound), outbound: this.sdesKeys(spec.outbound) };
        const fork = () => ({ inbound: this.context(keys.inbound), outbound: this.context(keys.outbound) });
        s.ctx[0] = { ...fork(), id: nextContextsId++, fork, keys };
      } catch (e) {
        this.opts.log?.(`SRTP context for ${spec.inbound.suite} not created: ${(e as Error).message}`);
      }
      return;
    }
    // active: we start the handshake on every component now; passive: the peer's ClientHello starts it
    if (spec.role === "active") {
      s.dtls[0] = this.startLeg(m, s, 0);
      if (!m.rtcpMuxActive) s.dtls[1] = this.startLeg(m, s, 1);
    }
  }

  /** The answer settled a passive role: an early association stays if the peer's certificate matches (or is still to come). */
  private confirmEarly(s: SecureStream, want: SecureSpec): boolean {
    if (want.kind !== "dtls" || want.role !== "passive") return false;
    const fp = want.fingerprint ? parseFingerprint(want.fingerprint) : undefined;
    for (const leg of s.dtls) {
      if (!leg || !fp) continue;
      const seen = leg.conn.peerFingerprint(fp.hash);
      if (seen) {
        if (Buffer.compare(Buffer.from(seen.bytes), Buffer.from(fp.bytes)) !== 0) return false;
      } else leg.conn.expect(fp);
    }
    s.spec = want;
    s.early = false;
    return true;
  }

  private sdesKeys(c: SdesCrypto): SrtpKeyMaterial {
    const suite = srtpSuiteByName(c.suite);
    if (!suite) throw new Error(`unknown suite ${c.suite}`);
    const raw = Buffer.from(c.key, "base64");
    if (raw.length < suite.keyLength + suite.saltLength) throw new Error("key too short");
    const p = c.params.toUpperCase();
    const flags = srtpFlags({ unencryptedSrtp: p.includes("UNENCRYPTED_SRTP"), unencryptedSrtcp: p.includes("UNENCRYPTED_SRTCP"), unauthenticatedSrtp: p.includes("UNAUTHENTICATED_SRTP") });
    const key = Uint8Array.from(raw.subarray(0, suite.keyLength)), salt = Uint8Array.from(raw.subarray(suite.keyLength, suite.keyLength + suite.saltLength));
    return { suite, key, salt, mki: mkiOf(c.keyTail), flags };
  }

  private context(k: SrtpKeyMaterial): SrtpContext {
    const ctx = this.libs.srtp.context(k.suite, k.key, k.salt, k.flags);
    if (k.mki) ctx.setMki(k.mki);
    return ctx;
  }

  private startLeg(m: Media, s: SecureStream, comp: 0 | 1): DtlsLeg | null {
    if (s.spec.kind !== "dtls") return null;
    try {
      const conn = this.libs.dtls.connection(s.spec.role, { mtu: this.opts.mtu });
      const fp = s.spec.fingerprint ? parseFingerprint(s.spec.fingerprint) : undefined;
      if (fp) conn.expect(fp);
      const leg: DtlsLeg = { conn, peer: null, pending: [], timer: null };
      const before = conn.state;
      conn.start();
      this.pump(m, s, comp, leg, before);
      return leg;
    } catch (e) {
      this.counters.handshakeFailures++;
      this.opts.log?.(`DTLS: ${(e as Error).message}`);
      return null;
    }
  }

  /** Send what the association queued, note a finished handshake, re-arm its timer. */
  private pump(m: Media, s: SecureStream, comp: 0 | 1, leg: DtlsLeg, before: string): void {
    if (this.streams.get(m) !== s) return;
    leg.pending.push(...leg.conn.takeOutgoing());
    if (leg.pending.length > MAX_PENDING) leg.pending.splice(0, leg.pending.length - MAX_PENDING);
    const to = leg.peer ?? this.opts.route(m, comp === 1);
    if (to && leg.pending.length) {
      for (const d of leg.pending) {
        try {
          to.sock.send(to.dst, d);
        } catch {
          /* a closed socket: the call is going away */
        }
      }
      leg.pending = [];
    }
    const state = leg.conn.state;
    if (state === "connected" && before !== "connected" && !s.ctx[comp]) {
      this.connected(s, comp, leg);
      if (s.ctx[comp]) this.onReady?.(m);
    }
    if (state === "failed" && before !== "failed") {
      this.counters.handshakeFailures++;
      this.opts.log?.(`DTLS handshake failed: ${leg.conn.error || "unknown reason"}`);
    }
    if (leg.timer) clearTimeout(leg.timer);
    leg.timer = null;
    const ms = state === "handshake" || state === "new" ? leg.conn.timeoutMs() : null;
    if (ms !== null) {
      leg.timer = setTimeout(() => {
        leg.timer = null;
        if (this.streams.get(m) !== s) return;
        const b = leg.conn.state;
        leg.conn.handleTimer();
        this.pump(m, s, comp, leg, b);
      }, Math.max(1, ms));
      (leg.timer as { unref?: () => void }).unref?.();
    }
  }

  private connected(s: SecureStream, comp: 0 | 1, leg: DtlsLeg): void {
    const k = leg.conn.keys();
    if (!k) return;
    try {
      const keys = { inbound: { suite: k.suite, key: k.remoteKey, salt: k.remoteSalt, mki: null, flags: 0 }, outbound: { suite: k.suite, key: k.localKey, salt: k.localSalt, mki: null, flags: 0 } };
      const fork = () => ({ inbound: this.context(keys.inbound), outbound: this.context(keys.outbound) });
      s.ctx[comp] = { ...fork(), id: nextContextsId++, fork, keys };
      this.counters.handshakes++;
    } catch (e) {
      this.counters.handshakeFailures++;
      this.opts.log?.(`SRTP context after DTLS not created: ${(e as Error).message}`);
    }
  }

  private free(m: Media, s: SecureStream): void {
    this.streams.delete(m);
    for (const c of s.ctx) {
      c?.inbound.free();
      c?.outbound.free();
    }
    for (const leg of s.dtls) {
      if (!leg) continue;
      if (leg.timer) clearTimeout(leg.timer);
      leg.conn.free();
    }
  }
}
