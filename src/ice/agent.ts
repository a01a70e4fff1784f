// ICE agent (RFC 8445) for one media stream, full or lite, with consent freshness (RFC 7675); transport-agnostic.
//
// Usage (the media plane owns sockets and timers; the agent only computes):
//   const ice = new IceAgent({ components: 2, local: [{ address, ports: [rtpPort, rtcpPort] }],
//                              credentials: { ufrag, pwd }, controlling: true, lite: false });
//   ice.setRemote({ ufrag, pwd, candidates: [parseCandidate(line)!, ...], lite: false });
//   ice.addRemoteCandidate(c) / ice.endOfCandidates()        trickle ICE
//   ice.receive(data, from, to, nowMs)  -> "not-stun" | "handled" | "rejected"
//        `to` is the local socket address the datagram arrived on (selects the component).
//   ice.tick(nowMs)                    pacing (Ta), retransmissions, nomination, consent
//   ice.nextTimeout()                  when tick() is next due (ms, absolute) or null
//   ice.takeTransmits()                [{ component, from, to, data }]: send `data` from the local
//                                      socket bound to `from`, to `to`
//   ice.takeEvents()                   IceEvent[] (validated, selected, completed, role-conflict,
//                                      consent-expired, failed, remote-candidate)
//   ice.isValidated(addr, component?)  may media go to addr?  ice.selectedPair(component)
//   ice.mediaFrom(from, to, nowMs)     authenticated media arrived: a controlled agent follows the peer's pair
//   ice.restart(credentials)           ICE restart on a re-offer (new ufrag/pwd); then setRemote()
// After every call that takes `now`, drain transmits and events and re-arm a timer at
// nextTimeout(). All time is in milliseconds on a clock the caller chooses (tests use a fake one).
import { randomBytes } from "node:crypto";
import { addrKey, canonicalIp, fmtAddr, ipFamily, sameAddr, type IceAddr } from "./addr.ts";
import { candidatePriority, pairPriority, type Candidate } from "./candidate.ts";
import { crc32 } from "./crc32.ts";
import { countReject } from "./reject-log.ts";
import {
  METHOD_BINDING, StunClass, attrErrorCode, attrPriority, attrRole, attrSoftware, attrUnknownAttributes,
  attrUseCandidate, attrUsername, attrXorMapped, buildStun, looksLikeStun, parseStun, verifyIntegrity,
  type StunAttrOut, type StunMessage,
} from "./stun.ts";

export interface IceCredentials {
  ufrag: string;
  pwd: string;
}

/** One local interface address (in rank order) with its socket port per component (index 0 = RTP). */
export interface LocalInterface {
  address: string;
  ports: readonly number[];
  /** candidate foundation; default derived from the address */
  foundation?: string;
}

export interface IceTiming {
  /** pacing interval between new checks (RFC 8445 Ta) */
  ta: number;
  /** first retransmission timeout; doubles up to rtoMax */
  rto: number;
  rtoMax: number;
  /** retransmissions before a check fails */
  maxRetransmits: number;
  /** regular nomination: longest wait for better pairs after the first valid pair */
  nominationDelay: number;
  /** consent freshness: mean interval between checks on the selected pair (randomised +-20%) */
  consentInterval: number;
  /** consent (or, for a lite agent, the peer's checks) lost after this long */
  consentTimeout: number;
}

export const DEFAULT_TIMING: IceTiming = {
  ta: 20, rto: 500, rtoMax: 1600, maxRetransmits: 6, nominationDelay: 1000, consentInterval: 5000, consentTimeout: 30000,
};

export interface IceAgentOptions {
  components: number;
  local: readonly LocalInterface[];
  credentials: IceCredentials;
  controlling: boolean;
  /** we are an ICE-lite agent: answer checks, never send them */
  lite?: boolean;
  /** controlling full agent: "regular" (default) or "aggressive" (USE-CANDIDATE on every check) */
  nomination?: "regular" | "aggressive";
  tieBreaker?: bigint;
  timing?: Partial<IceTiming>;
  /** SOFTWARE attribute in what we send */
  software?: string;
  /** for consent jitter; default Math.random */
  random?: () => number;
  /** log/debug label */
  label?: string;
}

export interface RemoteDescription {
  ufrag: string;
  pwd: string;
  candidates?: readonly Candidate[];
  /** the peer is ICE-lite (a=ice-lite): we must be controlling */
  lite?: boolean;
  /** all candidates known (no trickle, or a=end-of-candidates); default true */
  complete?: boolean;
}

export interface Transmit {
  component: number;
  from: IceAddr;
  to: IceAddr;
  data: Uint8Array;
}

export type IceEvent =
  | { type: "validated"; component: number; local: IceAddr; remote: IceAddr }
  | { type: "selected"; component: number; local: IceAddr; remote: IceAddr }
  | { type: "completed" }
  | { type: "role-conflict"; controlling: boolean }
  | { type: "consent-expired"; component: number; local: IceAddr; remote: IceAddr }
  | { type: "failed"; component: number }
  | { type: "remote-candidate"; candidate: Candidate };

export type PairState = "frozen" | "waiting" | "in-progress" | "succeeded" | "failed";

interface LocalCand extends Candidate {
  rank: number;
}

interface Pair {
  key: string;
  local: LocalCand;
  remote: Candidate;
  component: number;
  foundation: string;
  priority: bigint;
  state: PairState;
  valid: boolean;
  nominated: boolean;
  /** controlled: the peer sent USE-CANDIDATE before our own check succeeded */
  nominateOnSuccess: boolean;
  /** controlling: next check carries USE-CANDIDATE */
  nominating: boolean;
  tx: Tx | null;
  lastConsent: number;
  consentNextAt: number;
  expired: boolean;
}

interface Tx {
  id: string;
  tid: Uint8Array;
  pair: Pair;
  data: Uint8Array;
  attempts: number;
  nextAt: number;
  /** RFC 8445 7.2.5.4: no more retransmits, but a late answer still counts */
  cancelled: boolean;
  useCandidate: boolean;
  consent: boolean;
  controlling: boolean;
}

/** A remote address that sent us an authenticated check (what a lite agent learns instead of pairs). */
interface Seen {
  component: number;
  local: LocalCand;
  remote: IceAddr;
  priority: number;
  lastSeen: number;
  nominated: boolean;
  expired: boolean;
}

export type IceRejectReason =
  | "malformed" | "no-local-socket" | "not-binding" | "missing-credentials" | "bad-username" | "bad-integrity"
  | "unknown-attributes" | "unmatched-response" | "response-integrity" | "non-symmetric" | "no-remote-credentials";

export interface IceCounters {
  requestsIn: number;
  indicationsIn: number;
  responsesIn: number;
  checksSent: number;
  retransmits: number;
  responsesSent: number;
  errorsSent: number;
  rejected: Partial<Record<IceRejectReason, number>>;
}

const MAX_PAIRS = 100;
/** after a switch to the pair media comes from, stray packets of the old pair (reordering) do not switch back for this long */
const MEDIA_SWITCH_HOLD_MS = 1000;
/** bounds what authenticated peers can make us remember (prflx candidates, lite sources) */
const MAX_REMOTES = 64;
const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

export class IceAgent {
  readonly counters: IceCounters = {
    requestsIn: 0, indicationsIn: 0, responsesIn: 0, checksSent: 0, retransmits: 0, responsesSent: 0, errorsSent: 0, rejected: {},
  };
  private readonly t: IceTiming;
  private readonly lite: boolean;
  private readonly nomination: "regular" | "aggressive";
  private readonly tieBreaker: bigint;
  private readonly random: () => number;
  private readonly software?: string;
  private readonly label: string;
  private readonly components: number;
  private controlling: boolean;
  private creds: IceCredentials;
  private prevCreds: IceCredentials | null = null;
  private remote: { ufrag: string; pwd: string } | null = null;
  private remoteComplete = false;
  private locals: LocalCand[] = [];
  private remotes = new Map<string, Candidate>(); // component|addrKey
  private pairs = new Map<string, Pair>();
  private triggered: Pair[] = [];
  private txs = new Map<string, Tx>();
  private seen = new Map<string, Seen>(); // lite: component|addrKey
  private selected = new Map<number, Pair | Seen>();
  /** controlled: the validated pair the peer's media showed it uses (overrides priority until the next new nomination) */
  private chosen = new Map<number, Pair | Seen>();
  private lastMediaSwitch = new Map<number, number>();
  /** selected pairs from before an ICE restart, usable until the new session selects */
  private previous = new Map<number, Pair | Seen>();
  /** when `previous` stops being usable (set by the first tick after a restart) */
  private previousUntil: number | null = null;
  private firstValidAt = new Map<number, number>();
  private failedComponents = new Set<number>();
  private completed = false;
  private lastCheckAt = -Infinity;
  private prflxCount = 0;
  private out: Transmit[] = [];
  private events: IceEvent[] = [];

  constructor(o: IceAgentOptions) {
    this.t = { ...DEFAULT_TIMING, ...o.timing };
    this.lite = o.lite ?? false;
    // a lite agent is always controlled (RFC 8445 6.1.1)
    this.controlling = this.lite ? false : o.controlling;
    this.nomination = o.nomination ?? "regular";
    this.tieBreaker = o.tieBreaker ?? randomBytes(8).readBigUInt64BE(0);
    this.random = o.random ?? Math.random;
    this.software = o.software;
    this.label = o.label ?? "ice";
    this.components = o.components;
    this.creds = { ...o.credentials };
    this.setLocal(o.local);
  }

  // ---- configuration ----

  get isControlling(): boolean {
    return this.controlling;
  }
  get isLite(): boolean {
    return this.lite;
  }
  get credentials(): IceCredentials {
    return { ...this.creds };
  }

  /** Our host candidates (for SDP / trickle), every component then every interface in rank order. */
  localCandidates(): Candidate[] {
    return this.locals.map(({ rank: _r, ...c }) => c);
  }

  /** The peer's ufrag/pwd and candidates from its SDP (again on a re-offer without restart: candidates are merged). */
  setRemote(r: RemoteDescription, now?: number): void {
    // new peer credentials without our restart(): the peer restarted ICE, start the checks over
    if (this.remote && (this.remote.ufrag !== r.ufrag || this.remote.pwd !== r.pwd)) this.resetSession();
    this.remote = { ufrag: r.ufrag, pwd: r.pwd };
    this.remoteComplete = r.complete ?? true;
    // a full agent facing a lite peer takes control (RFC 8445 6.1.1)
    if (r.lite && !this.lite && !this.controlling) this.setRole(true, false);
    for (const c of r.candidates ?? []) this.addRemote(c);
    if (now !== undefined) this.tick(now);
  }

  /** A trickled remote candidate. */
  addRemoteCandidate(c: Candidate, now?: number): void {
    this.addRemote(c);
    if (now !== undefined) this.tick(now);
  }

  /** a=end-of-candidates: a component whose pairs all fail may now be declared failed. */
  endOfCandidates(): void {
    this.remoteComplete = true;
  }

  /**
   * ICE restart (new local ufrag/pwd on a re-offer): forget remote candidates, pairs and checks.
   * The previously selected pairs stay usable for media until the new session selects, or for
   * consentTimeout at most, since nothing refreshes their consent meanwhile.
   * Follow with setRemote() once the peer's new credentials are known.
   */
  restart(credentials: IceCredentials, local?: readonly LocalInterface[]): void {
    this.prevCreds = this.creds;
    this.creds = { ...credentials };
    this.resetSession();
    this.remote = null;
    if (local) this.setLocal(local);
  }

  /** Forget everything learned about the peer; selected pairs stay usable as `previous`. */
  private resetSession(): void {
    for (const [comp, p] of this.selected) this.previous.set(comp, p);
    this.previousUntil = null;
    this.remotes.clear();
    this.pairs.clear();
    this.triggered = [];
    this.txs.clear();
    this.seen.clear();
    this.selected.clear();
    this.chosen.clear();
    this.lastMediaSwitch.clear();
    this.firstValidAt.clear();
    this.failedComponents.clear();
    this.completed = false;
  }

  // ---- outputs ----

  takeTransmits(): Transmit[] {
    const o = this.out;
    this.out = [];
    return o;
  }

  takeEvents(): IceEvent[] {
    const e = this.events;
    this.events = [];
    return e;
  }

  /** The selected (nominated) pair of a component, or null. */
  selectedPair(component: number): { local: IceAddr; remote: IceAddr } | null {
    const p = this.selected.get(component) ?? this.previous.get(component);
    if (!p || p.expired) return null;
    return { local: addrOf(p.local), remote: addrOf(p.remote) };
  }

  /** May media be sent to addr? True once ICE validated it (and consent has not expired). */
  isValidated(addr: IceAddr, component?: number): boolean {
    const a = { address: canonicalIp(addr.address), port: addr.port };
    const ok = (c: number, r: IceAddr, expired: boolean): boolean => !expired && (component === undefined || c === component) && sameAddr(r, a);
    for (const p of this.pairs.values()) if (p.valid && ok(p.component, p.remote, p.expired)) return true;
    for (const s of this.seen.values()) if (ok(s.component, s.remote, s.expired)) return true;
    for (const [c, p] of this.previous) if (ok(c, p.remote, p.expired)) return true;
    return false;
  }

  /** Current pair states, for stats and tests. */
  pairStates(): { component: number; local: IceAddr; remote: IceAddr; state: PairState; valid: boolean; nominated: boolean }[] {
    return [...this.pairs.values()].map((p) => ({
      component: p.component, local: addrOf(p.local), remote: addrOf(p.remote), state: p.state, valid: p.valid, nominated: p.nominated,
    }));
  }

  /** When tick() should next run (absolute ms), or null when nothing is pending. */
  nextTimeout(): number | null {
    let next = Infinity;
    for (const tx of this.txs.values()) next = Math.min(next, tx.nextAt);
    if (!this.lite && this.remote) {
      if (this.triggered.length > 0 || this.hasCheckablePair()) next = Math.min(next, this.lastCheckAt + this.t.ta);
      if (this.controlling) {
        for (let c = 1; c <= this.components; c++) {
          const first = this.firstValidAt.get(c);
          if (first !== undefined && this.nominationOpen(c)) next = Math.min(next, first + this.t.nominationDelay);
        }
      }
      for (const p of this.selected.values()) {
        if ("key" in p && !p.expired) next = Math.min(next, p.consentNextAt, p.lastConsent + this.t.consentTimeout);
      }
    }
    for (const s of this.seen.values()) if (!s.expired) next = Math.min(next, s.lastSeen + this.t.consentTimeout);
    if (this.previous.size > 0 && this.previousUntil !== null) next = Math.min(next, this.previousUntil);
    return next === Infinity ? null : next;
  }

  // ---- input ----

  /** Feed one received datagram. Returns "not-stun" for media the caller should handle itself. */
  receive(data: Uint8Array, from: IceAddr, to: IceAddr, now: number): "not-stun" | "handled" | "rejected" {
    if (!looksLikeStun(data)) return "not-stun";
    const r = parseStun(data);
    if (!r.ok) return this.reject("malformed", `${data.length} bytes from ${fmtAddr(from)}`);
    const msg = r.msg;
    if (ipFamily(from.address) === 0 || !(from.port > 0 && from.port < 65536)) return this.reject("malformed", `bad source ${from.address}`);
    const src = { address: canonicalIp(from.address), port: from.port };
    const dst = { address: canonicalIp(to.address), port: to.port };
    const local = this.localAt(dst);
    if (!local) return this.reject("no-local-socket", `to ${fmtAddr(dst)}`);
    if (msg.method !== METHOD_BINDING) return this.reject("not-binding", `method ${msg.method} from ${fmtAddr(src)}`);
    let res: "handled" | "rejected";
    switch (msg.cls) {
      case StunClass.Indication: {
        // RFC 5245 peers keep a selected pair alive with Binding Indications; a lite agent takes
        // that as a sign of life from an address already validated (never as a validation)
        this.counters.indicationsIn++;
        const s = this.seen.get(`${local.component}|${addrKey(src)}`);
        if (s && !s.expired) s.lastSeen = now;
        res = "handled";
        break;
      }
      case StunClass.Request:
        res = this.onRequest(msg, src, local, now);
        break;
      default:
        res = this.onResponse(msg, src, local, now);
    }
    this.tick(now);
    return res;
  }

  /**
   * Media (RTP/RTCP, SRTP after authentication; never STUN or DTLS) arrived from `from` on our socket `to`.
   * A controlled agent whose peer sends from another validated pair of that component than the selected one
   * makes that pair the selected one (returns true; a "selected" event follows).
   *
   * Why, with RFC 8445: the controlling agent chooses the pair. RFC 8445 8.1.1 has it nominate one and, if it
   * nominated several, both sides use the highest-priority one. Peers do not all keep to that: Chromium nominates
   * every pair that looks better than the one it has (its "semi-aggressive" nomination) and then picks by its own
   * network preferences (a loopback candidate is costlier than the same host's other address, whatever the
   * priorities say), and renomination (draft-thatcher-ice-renomination) moves the pair on purpose. Media it sends
   * is the peer's actual choice: answering on that pair keeps the path symmetric and lets the fast-path rule,
   * which only accepts the selected pair's source, match. It stays within RFC 8445's safety rule (12.1: data only
   * to valid pairs) and RFC 7675 (only while our consent on the pair is fresh; a stale pair is re-checked first).
   * A controlling agent does not move: it nominated the pair and must stick to it (8.1.1); a controlled peer sends
   * on it, so media from elsewhere is a leftover from before the nomination.
   */
  mediaFrom(from: IceAddr, to: IceAddr, now: number): boolean {
    if (this.controlling) return false;
    const local = this.localAt({ address: canonicalIp(to.address), port: to.port });
    if (!local) return false;
    const comp = local.component;
    const cur = this.selected.get(comp);
    // nothing selected yet: the nomination decides first (media waits for it anyway)
    if (!cur) return false;
    const src = { address: canonicalIp(from.address), port: from.port };
    if (sameAddr(cur.remote, src) && sameAddr(cur.local, local)) return false;
    if (now < (this.lastMediaSwitch.get(comp) ?? -Infinity) + MEDIA_SWITCH_HOLD_MS) return false;
    let next: Pair | Seen | undefined;
    if (this.lite) {
      const s = this.seen.get(`${comp}|${addrKey(src)}`);
      if (s && !s.expired && sameAddr(s.local, local)) next = s;
    } else {
      const p = this.pairs.get(`${addrKey(local)}>${addrKey(src)}`);
      if (p && p.valid && !p.expired) {
        if (now < p.lastConsent + this.t.consentTimeout) next = p;
        // consent on it has lapsed: ask again, the next packet after the answer switches
        else if (!this.hasConsentCheck(p)) this.sendCheck(p, now, false, true);
      }
    }
    if (!next) return false;
    this.lastMediaSwitch.set(comp, now);
    this.chosen.set(comp, next);
    this.updateSelected(comp);
    return true;
  }

  /** Drive pacing, retransmissions, nomination and consent. Call at nextTimeout(). */
  tick(now: number): void {
    this.expirePrevious(now);
    this.retransmit(now);
    if (!this.lite && this.remote) {
      if (this.controlling) this.nominate(now);
      this.pace(now);
      this.consent(now);
    }
    this.liteExpiry(now);
  }

  // ---- internals: candidates and pairs ----

  /** Our candidate a datagram to `dst` arrived on (an address-less match on the port when bound to a wildcard). */
  private localAt(dst: IceAddr): LocalCand | undefined {
    return this.locals.find((l) => sameAddr(l, dst)) ?? this.locals.find((l) => l.port === dst.port && ipFamily(l.address) === ipFamily(dst.address));
  }

  private hasConsentCheck(p: Pair): boolean {
    for (const tx of this.txs.values()) if (tx.pair === p && tx.consent) return true;
    return false;
  }

  private setLocal(ifs: readonly LocalInterface[]): void {
    this.locals = [];
    for (let comp = 1; comp <= this.components; comp++) {
      ifs.forEach((i, rank) => {
        const port = i.ports[comp - 1];
        if (port === undefined) return;
        const address = canonicalIp(i.address);
        this.locals.push({
          address, port, component: comp, rank, type: "host",
          foundation: i.foundation ?? crc32(new TextEncoder().encode(address)).toString(36),
          priority: candidatePriority("host", rank, comp),
        });
      });
    }
  }

  private addRemote(c: Candidate): Candidate | null {
    if (c.component < 1 || c.component > this.components) return null;
    const cand: Candidate = { ...c, address: canonicalIp(c.address) };
    const k = `${cand.component}|${addrKey(cand)}`;
    const old = this.remotes.get(k);
    if (old) {
      // a signalled candidate replaces a peer-reflexive one learned first (RFC 8445 7.3.1.3 note)
      if (old.type === "prflx" && cand.type !== "prflx") { old.type = cand.type; old.foundation = cand.foundation; old.priority = cand.priority; }
      return old;
    }
    this.remotes.set(k, cand);
    if (this.lite) return cand;
    for (const l of this.locals) {
      if (l.component !== cand.component || ipFamily(l.address) !== ipFamily(cand.address)) continue;
      this.addPair(l, cand);
    }
    return cand;
  }

  private addPair(l: LocalCand, r: Candidate): Pair {
    const key = `${addrKey(l)}>${addrKey(r)}`;
    const existing = this.pairs.get(key);
    if (existing) return existing;
    const p: Pair = {
      key, local: l, remote: r, component: l.component, foundation: `${l.foundation}:${r.foundation}`,
      priority: this.pairPrio(l, r), state: "frozen", valid: false, nominated: false, nominateOnSuccess: false,
      nominating: false, tx: null, lastConsent: 0, consentNextAt: 0, expired: false,
    };
    this.pairs.set(key, p);
    if (this.pairs.size > MAX_PAIRS) {
      // drop the lowest-priority pair that is not doing anything useful (RFC 8445 6.1.2.5)
      let worst: Pair | null = null;
      for (const q of this.pairs.values()) if (!q.valid && !q.tx && (!worst || q.priority < worst.priority)) worst = q;
      if (worst) this.pairs.delete(worst.key);
    }
    return p;
  }

  private pairPrio(l: Candidate, r: Candidate): bigint {
    return this.controlling ? pairPriority(l.priority, r.priority) : pairPriority(r.priority, l.priority);
  }

  private setRole(controlling: boolean, announce: boolean): void {
    if (this.controlling === controlling) return;
    this.controlling = controlling;
    for (const p of this.pairs.values()) p.priority = this.pairPrio(p.local, p.remote);
    if (announce) this.events.push({ type: "role-conflict", controlling });
  }

  // ---- internals: incoming requests ----

  private onRequest(msg: StunMessage, from: IceAddr, local: LocalCand, now: number): "handled" | "rejected" {
    this.counters.requestsIn++;
    if (msg.unknownRequired.length > 0) {
      this.sendError(msg, local, from, 420, "Unknown Attribute", null, [attrUnknownAttributes(msg.unknownRequired)]);
      return this.reject("unknown-attributes", `request from ${fmtAddr(from)}`);
    }
    if (msg.username === undefined || msg.integrityOffset === undefined) {
      this.sendError(msg, local, from, 400, "Bad Request", null);
      return this.reject("missing-credentials", `request from ${fmtAddr(from)}`);
    }
    // USERNAME is "<our ufrag>:<their ufrag>"; until the peer answers a restart it may use the old one
    const cred = [this.creds, this.prevCreds].find((c) => c && msg.username!.startsWith(c.ufrag + ":")) ?? null;
    if (!cred) {
      this.sendError(msg, local, from, 401, "Unauthorized", null);
      return this.reject("bad-username", `request from ${fmtAddr(from)}`);
    }
    if (!verifyIntegrity(msg, cred.pwd)) {
      this.sendError(msg, local, from, 401, "Unauthorized", null);
      return this.reject("bad-integrity", `request from ${fmtAddr(from)}`);
    }
    if (cred !== this.creds) {
      // a check for the pre-restart session: answer it (keeps the old path alive), learn nothing
      this.sendSuccess(msg, local, from, cred.pwd);
      return "handled";
    }
    // role conflict (RFC 8445 7.3.1.1); a lite agent has no role to defend
    if (!this.lite) {
      if (this.controlling && msg.controlling !== undefined) {
        if (this.tieBreaker >= msg.controlling) {
          this.sendError(msg, local, from, 487, "Role Conflict", cred.pwd);
          return "handled";
        }
        this.setRole(false, true);
      } else if (!this.controlling && msg.controlled !== undefined) {
        if (this.tieBreaker >= msg.controlled) this.setRole(true, true);
        else {
          this.sendError(msg, local, from, 487, "Role Conflict", cred.pwd);
          return "handled";
        }
      }
    }
    this.sendSuccess(msg, local, from, cred.pwd);
    if (this.lite) this.liteRequest(msg, from, local, now);
    else this.fullRequest(msg, from, local, now);
    return "handled";
  }

  private liteRequest(msg: StunMessage, from: IceAddr, local: LocalCand, now: number): void {
    const k = `${local.component}|${addrKey(from)}`;
    let s = this.seen.get(k);
    if (!s && this.seen.size >= MAX_REMOTES) return;
    if (!s) {
      s = { component: local.component, local, remote: from, priority: msg.priority ?? 0, lastSeen: now, nominated: false, expired: false };
      this.seen.set(k, s);
      this.events.push({ type: "validated", component: s.component, local: addrOf(local), remote: from });
    }
    s.lastSeen = now;
    if (s.expired) {
      s.expired = false;
      this.events.push({ type: "validated", component: s.component, local: addrOf(local), remote: from });
    }
    if (msg.useCandidate && !s.nominated) {
      s.nominated = true;
      this.chosen.delete(local.component); // a new nomination: the controlling agent speaks again
      this.updateSelected(local.component);
    }
  }

  private fullRequest(msg: StunMessage, from: IceAddr, local: LocalCand, now: number): void {
    let remote = this.remotes.get(`${local.component}|${addrKey(from)}`);
    if (!remote && this.remotes.size >= MAX_REMOTES) return;
    if (!remote) {
      // peer-reflexive remote candidate (RFC 8445 7.3.1.3)
      remote = this.addRemote({
        address: from.address, port: from.port, component: local.component, type: "prflx",
        priority: msg.priority ?? 0, foundation: `prflx${++this.prflxCount}`,
      })!;
      this.events.push({ type: "remote-candidate", candidate: { ...remote } });
    }
    const pair = this.addPair(local, remote);
    switch (pair.state) {
      case "succeeded":
        break;
      case "in-progress":
        if (pair.tx) pair.tx.cancelled = true;
        this.trigger(pair);
        break;
      default:
        this.trigger(pair);
    }
    // RFC 8445 7.3.1.5: the controlled agent learns nominations from USE-CANDIDATE
    if (msg.useCandidate && !this.controlling) {
      if (pair.valid) this.markNominated(pair, now);
      else pair.nominateOnSuccess = true;
    }
  }

  private trigger(p: Pair): void {
    p.state = "waiting";
    if (!this.triggered.includes(p)) this.triggered.push(p);
  }

  // ---- internals: responses to our checks ----

  private onResponse(msg: StunMessage, from: IceAddr, local: LocalCand, now: number): "handled" | "rejected" {
    this.counters.responsesIn++;
    const id = hex(msg.tid);
    const tx = this.txs.get(id);
    if (!tx) return this.reject("unmatched-response", `from ${fmtAddr(from)}`);
    // responses are signed with the peer's password, the key of our request
    if (!this.remote || !verifyIntegrity(msg, this.remote.pwd)) return this.reject("response-integrity", `from ${fmtAddr(from)}`);
    this.txs.delete(id);
    const p = tx.pair;
    if (p.tx === tx) p.tx = null;
    if (!sameAddr(from, p.remote) || !sameAddr(local, p.local)) {
      // RFC 8445 7.2.5.2.1: a response from elsewhere fails the check (unless a newer one replaced it)
      if (!tx.consent && !tx.cancelled && !p.valid) {
        p.state = "failed";
        this.checkFailed(p.component);
      }
      return this.reject("non-symmetric", `response from ${fmtAddr(from)} for check to ${fmtAddr(p.remote)}`);
    }
    if (msg.cls === StunClass.Error) {
      const code = msg.error?.code ?? 0;
      if (code === 487 && !tx.consent) {
        // switch role unless we already did since this check went out
        if (tx.controlling === this.controlling) this.setRole(!this.controlling, true);
        this.trigger(p);
      } else if (!tx.consent && !tx.cancelled) {
        // a failed re-check (e.g. a nomination) does not undo an earlier success
        p.state = p.valid ? "succeeded" : "failed";
        p.nominating = false;
        this.checkFailed(p.component);
      }
      return "handled";
    }
    if (tx.consent) {
      p.lastConsent = now;
      return "handled";
    }
    p.state = "succeeded";
    p.lastConsent = now;
    p.consentNextAt = now + this.consentDelay();
    if (!p.valid) {
      p.valid = true;
      this.events.push({ type: "validated", component: p.component, local: addrOf(p.local), remote: addrOf(p.remote) });
    }
    if (!this.firstValidAt.has(p.component)) this.firstValidAt.set(p.component, now);
    // RFC 8445 7.2.5.3.3: unfreeze pairs sharing the foundation
    for (const q of this.pairs.values()) if (q.state === "frozen" && q.foundation === p.foundation) q.state = "waiting";
    if ((this.controlling && tx.useCandidate) || (!this.controlling && p.nominateOnSuccess)) this.markNominated(p, now);
    return "handled";
  }

  private markNominated(p: Pair, now: number): void {
    p.nominating = false;
    if (p.nominated) return;
    p.nominated = true;
    p.consentNextAt = now + this.consentDelay();
    // a new nomination: the controlling agent speaks again, its nominations decide (until its media shows otherwise)
    this.chosen.delete(p.component);
    this.updateSelected(p.component);
  }

  /**
   * Selected pair = the pair the peer's media chose (mediaFrom), while usable; else the highest-priority
   * nominated pair of the component (RFC 8445 8.1.1).
   */
  private updateSelected(component: number): void {
    const chosen = this.chosen.get(component);
    const usable = chosen && !chosen.expired && (!("key" in chosen) || chosen.valid);
    if (!usable) this.chosen.delete(component);
    const best = usable ? chosen : this.bestNominated(component);
    const cur = this.selected.get(component) ?? null;
    if (best === cur) return;
    if (!best) {
      this.selected.delete(component);
      return;
    }
    this.selected.set(component, best);
    this.previous.delete(component);
    this.failedComponents.delete(component);
    const remote = "key" in best ? addrOf(best.remote) : best.remote;
    this.events.push({ type: "selected", component, local: addrOf(best.local), remote });
    if (!this.completed && this.selected.size === this.components) {
      this.completed = true;
      // a restart is over: stop honouring the old credentials
      this.prevCreds = null;
      this.previous.clear();
      this.events.push({ type: "completed" });
    }
  }

  private bestNominated(component: number): Pair | Seen | null {
    let best: Pair | Seen | null = null;
    let bestPrio = -1n;
    for (const p of this.pairs.values()) {
      if (p.component === component && p.nominated && p.valid && !p.expired && p.priority > bestPrio) { best = p; bestPrio = p.priority; }
    }
    for (const s of this.seen.values()) {
      if (s.component !== component || !s.nominated || s.expired) continue;
      const prio = pairPriority(s.priority, s.local.priority);
      if (prio > bestPrio) { best = s; bestPrio = prio; }
    }
    return best;
  }

  private checkFailed(component: number): void {
    if (!this.remoteComplete || this.failedComponents.has(component) || this.selected.has(component)) return;
    const mine = [...this.pairs.values()].filter((p) => p.component === component);
    if (mine.length > 0 && mine.every((p) => p.state === "failed")) {
      this.failedComponents.add(component);
      this.events.push({ type: "failed", component });
    }
  }

  // ---- internals: timers ----

  private retransmit(now: number): void {
    for (const tx of [...this.txs.values()]) {
      if (now < tx.nextAt) continue;
      if (!tx.cancelled && !tx.consent && tx.attempts < this.t.maxRetransmits) {
        tx.attempts++;
        this.counters.retransmits++;
        this.out.push({ component: tx.pair.component, from: addrOf(tx.pair.local), to: addrOf(tx.pair.remote), data: tx.data });
        tx.nextAt = now + Math.min(this.t.rto * 2 ** (tx.attempts - 1), this.t.rtoMax);
        continue;
      }
      // timed out (or cancelled and its grace time is over)
      this.txs.delete(tx.id);
      const p = tx.pair;
      if (p.tx === tx) p.tx = null;
      if (tx.useCandidate && !tx.cancelled) p.nominating = false;
      if (!tx.consent && !tx.cancelled && p.state === "in-progress") {
        p.state = p.valid ? "succeeded" : "failed";
        this.checkFailed(p.component);
      }
    }
  }

  /** Would pace() find something to check? (Mirrors its choice, so nextTimeout() never asks for an idle tick.) */
  private hasCheckablePair(): boolean {
    const open = [...this.pairs.values()].filter((p) => !this.selected.has(p.component));
    if (open.some((p) => p.state === "waiting")) return true;
    const busy = new Set(open.filter((p) => p.state === "in-progress").map((p) => p.foundation));
    return open.some((p) => p.state === "frozen" && !busy.has(p.foundation));
  }

  /** Controlling, regular: component without a selected pair and no nomination under way. */
  private nominationOpen(c: number): boolean {
    if (this.nomination !== "regular" || this.selected.has(c)) return false;
    let valid = false;
    for (const p of this.pairs.values()) {
      if (p.component !== c) continue;
      if (p.nominating || p.nominated) return false;
      if (p.valid && !p.expired) valid = true;
    }
    return valid;
  }

  /** One new check per Ta: the triggered queue first, then the best Waiting pair (RFC 8445 6.1.4.2). */
  private pace(now: number): void {
    if (now < this.lastCheckAt + this.t.ta) return;
    let pair: Pair | undefined;
    while (!pair && this.triggered.length > 0) {
      const p = this.triggered.shift()!;
      // a nominating re-check may find its pair answered meanwhile by an older check: still send it
      if ((p.state === "waiting" || p.nominating) && this.pairs.get(p.key) === p) pair = p;
    }
    if (!pair) {
      const open = [...this.pairs.values()].filter((p) => !this.selected.has(p.component));
      if (!open.some((p) => p.state === "waiting")) {
        // nothing waiting: per foundation with nothing waiting or in progress, unfreeze the best frozen pair
        const busy = new Set(open.filter((p) => p.state === "in-progress").map((p) => p.foundation));
        const best = new Map<string, Pair>();
        for (const p of open) {
          if (p.state !== "frozen" || busy.has(p.foundation)) continue;
          const b = best.get(p.foundation);
          if (!b || p.priority > b.priority) best.set(p.foundation, p);
        }
        for (const p of best.values()) p.state = "waiting";
      }
      for (const p of open) if (p.state === "waiting" && (!pair || p.priority > pair.priority)) pair = p;
    }
    if (!pair) return;
    this.lastCheckAt = now;
    const useCandidate = this.controlling && (this.nomination === "aggressive" || pair.nominating);
    this.sendCheck(pair, now, useCandidate, false);
  }

  /** Regular nomination: once the best pair is valid, or the wait is over, re-check it with USE-CANDIDATE. */
  private nominate(now: number): void {
    if (this.nomination !== "regular") return;
    for (let c = 1; c <= this.components; c++) {
      if (!this.nominationOpen(c)) continue;
      const mine = [...this.pairs.values()].filter((p) => p.component === c);
      let bestValid: Pair | null = null;
      for (const p of mine) if (p.valid && !p.expired && (!bestValid || p.priority > bestValid.priority)) bestValid = p;
      if (!bestValid) continue;
      const better = mine.some((p) => p.priority > bestValid!.priority && (p.state === "waiting" || p.state === "in-progress" || p.state === "frozen"));
      const first = this.firstValidAt.get(c) ?? now;
      if (better && now < first + this.t.nominationDelay) continue;
      bestValid.nominating = true;
      this.triggered.unshift(bestValid);
      bestValid.state = "waiting";
    }
  }

  /** RFC 7675 consent freshness on selected pairs. */
  private consent(now: number): void {
    for (const [comp, p] of this.selected) {
      if (!("key" in p) || p.expired) continue;
      if (now >= p.lastConsent + this.t.consentTimeout) {
        p.expired = true;
        p.valid = false;
        this.selected.delete(comp);
        this.completed = false;
        this.events.push({ type: "consent-expired", component: comp, local: addrOf(p.local), remote: addrOf(p.remote) });
        continue;
      }
      if (now >= p.consentNextAt) {
        p.consentNextAt = now + this.consentDelay();
        this.sendCheck(p, now, false, true);
      }
    }
  }

  private expirePrevious(now: number): void {
    if (this.previous.size === 0) return;
    if (this.previousUntil === null) this.previousUntil = now + this.t.consentTimeout;
    if (now < this.previousUntil) return;
    for (const [component, p] of this.previous) {
      this.events.push({ type: "consent-expired", component, local: addrOf(p.local), remote: addrOf(p.remote) });
    }
    this.previous.clear();
  }

  /** A lite agent's view of consent: the peer's checks stop, the address is no longer validated. */
  private liteExpiry(now: number): void {
    for (const s of this.seen.values()) {
      if (s.expired || now < s.lastSeen + this.t.consentTimeout) continue;
      s.expired = true;
      s.nominated = false;
      this.events.push({ type: "consent-expired", component: s.component, local: addrOf(s.local), remote: s.remote });
      if (this.selected.get(s.component) === s) {
        this.selected.delete(s.component);
        this.completed = false;
        this.updateSelected(s.component);
      }
    }
  }

  private consentDelay(): number {
    return this.t.consentInterval * (0.8 + 0.4 * this.random());
  }

  // ---- internals: sending ----

  private sendCheck(p: Pair, now: number, useCandidate: boolean, consent: boolean): void {
    if (!this.remote) {
      this.reject("no-remote-credentials", `check to ${fmtAddr(p.remote)}`);
      return;
    }
    const tid = new Uint8Array(randomBytes(12));
    const attrs: StunAttrOut[] = [];
    if (this.software) attrs.push(attrSoftware(this.software));
    attrs.push(
      attrUsername(`${this.remote.ufrag}:${this.creds.ufrag}`),
      // PRIORITY is what a peer-reflexive candidate of ours would get (RFC 8445 7.1.1)
      attrPriority(candidatePriority("prflx", p.local.rank, p.component)),
      attrRole(this.controlling, this.tieBreaker),
    );
    if (useCandidate) attrs.push(attrUseCandidate());
    const data = buildStun({ cls: StunClass.Request, tid, attrs, integrityKey: this.remote.pwd });
    const tx: Tx = {
      id: hex(tid), tid, pair: p, data, attempts: 0, nextAt: now + this.t.rto, cancelled: false, useCandidate, consent,
      controlling: this.controlling,
    };
    if (consent) tx.nextAt = now + this.t.rtoMax;
    this.txs.set(tx.id, tx);
    if (!consent) {
      if (p.tx) p.tx.cancelled = true;
      p.tx = tx;
      p.state = "in-progress";
    }
    this.counters.checksSent++;
    this.out.push({ component: p.component, from: addrOf(p.local), to: addrOf(p.remote), data });
  }

  private sendSuccess(req: StunMessage, local: LocalCand, to: IceAddr, pwd: string): void {
    const attrs: StunAttrOut[] = [];
    if (this.software) attrs.push(attrSoftware(this.software));
    attrs.push(attrXorMapped(to, req.tid));
    this.counters.responsesSent++;
    this.out.push({ component: local.component, from: addrOf(local), to, data: buildStun({ cls: StunClass.Success, tid: req.tid, attrs, integrityKey: pwd }) });
  }

  private sendError(req: StunMessage, local: LocalCand, to: IceAddr, code: number, reason: string, pwd: string | null, extra: StunAttrOut[] = []): void {
    const attrs: StunAttrOut[] = [];
    if (this.software) attrs.push(attrSoftware(this.software));
    attrs.push(attrErrorCode(code, reason), ...extra);
    this.counters.errorsSent++;
    const data = buildStun({ cls: StunClass.Error, tid: req.tid, attrs, integrityKey: pwd ?? undefined });
    this.out.push({ component: local.component, from: addrOf(local), to, data });
  }

  private reject(reason: IceRejectReason, detail: string): "rejected" {
    countReject(this.counters.rejected, reason, `${this.label}: ${detail}`);
    return "rejected";
  }
}

function addrOf(a: IceAddr): IceAddr {
  return { address: a.address, port: a.port };
}
