// ICE on media ports: one IceAgent (driven by an IceRunner) per media that does ICE, fed the STUN arriving there; media only to validated pairs.
//
// An ICE restart (new ufrag/pwd on a re-offer, RFC 8445 9) restarts the same agent rather than making a new one:
// its selected pairs stay usable for media until the new checks select, so media keeps flowing on the old path.
import type { Call, Media, Monologue } from "../call/model.ts";
import { IceAgent, IceRunner, parseCandidate, type IceEvent } from "../ice/index.ts";
import type { Candidate, IceTiming } from "../ice/index.ts";
import type { Endpoint } from "../platform/shim-addr.ts";
import type { MediaSocket, RxPacket } from "./socket.ts";

interface IceStream {
  call: Call;
  mono: Monologue;
  runner: IceRunner;
  components: number;
  /** the RTP port the agent's candidates were made from */
  port: number;
  localUfrag: string;
  remoteUfrag: string;
  remotePwd: string;
  candidates: Set<string>;
}

export interface IceMediaOptions {
  /** our socket bound to address:port, if any */
  socketAt: (address: string, port: number) => MediaSocket | undefined;
  /** a component's pair was selected: media goes there from now on */
  onSelected: (call: Call, mono: Monologue, m: Media, rtcpPort: boolean, remote: Endpoint) => void;
  /** a component lost its pair (consent expired, a restart's old pair ran out, the agent went): rules must follow */
  onLost?: (call: Call, m: Media) => void;
  log?: (msg: string) => void;
  /** agents' timers (tests shorten consent freshness); default RFC 8445/7675 values */
  timing?: Partial<IceTiming>;
}

/**
 * RTPENGINE_TS_ICE_CONSENT_MS=<timeout> (tests only): consent freshness expires after that many ms, checks every
 * fifth of it, instead of 30 s / 5 s, so that a test can watch media stop when a peer withdraws consent.
 */
export function iceTimingFromEnv(env: Record<string, string | undefined> = process.env): Partial<IceTiming> | undefined {
  const ms = Number(env["RTPENGINE_TS_ICE_CONSENT_MS"]);
  return Number.isFinite(ms) && ms >= 500 ? { consentTimeout: ms, consentInterval: ms / 5 } : undefined;
}

export interface IceMediaCounters {
  stunIn: number;
  /** ICE restarts applied to a running agent */
  restarts: number;
  /** STUN on a media without an agent (ICE not negotiated, or the peer's credentials not known yet) */
  stunNoAgent: number;
  stunRejected: number;
  agents: number;
}

const endpointOf = (a: { address: string; port: number }): Endpoint => ({ address: a.address, port: a.port, family: a.address.includes(":") ? 6 : 4 });

export class IceMedia {
  readonly counters: IceMediaCounters = { stunIn: 0, restarts: 0, stunNoAgent: 0, stunRejected: 0, agents: 0 };
  private readonly streams = new WeakMap<Media, IceStream>();

  constructor(private readonly opts: IceMediaOptions) {}

  /** The agent of a media (tests, diagnostics). */
  agentOf(m: Media): IceAgent | null {
    return this.streams.get(m)?.runner.agent ?? null;
  }

  /** After signalling: an agent for every media that does ICE and knows both sides' credentials. */
  sync(call: Call, _from: Monologue): void {
    for (const mono of call.all) {
      for (const m of mono.medias) {
        const cur = this.streams.get(m);
        const p = m.peer;
        // the agent exists as soon as we gave the endpoint our credentials: its checks may come before its answer does
        // (an endpoint whose SDP has no ICE gets none from us: its media goes where learning says)
        const usable = m.iceEnabled && m.port !== null && (!p || (p.port !== 0 && p.hasIce));
        // a re-offer restarting ICE: our new credentials come with the answer; until then the running session goes on
        if (usable && m.ice === null && cur && cur.mono === mono) continue;
        if (!usable || m.ice === null) {
          if (cur) this.drop(m, cur);
          continue;
        }
        if (cur && (cur.mono !== mono || cur.port !== m.port || (cur.components === 1 && !m.rtcpMuxActive))) this.drop(m, cur);
        const old = this.streams.get(m);
        if (old && old.localUfrag !== m.ice.ufrag) this.restart(m, old);
        const s = this.streams.get(m) ?? this.create(call, mono, m, m.rtcpMuxActive ? 1 : 2);
        if (!p || !p.iceUfrag || !p.icePwd) continue;
        const comps = s.components;
        const cands = p.iceCandidates.filter((c) => !s.candidates.has(c));
        if (s.remoteUfrag !== p.iceUfrag || s.remotePwd !== p.icePwd || cands.length) {
          if (s.remoteUfrag !== p.iceUfrag || s.remotePwd !== p.icePwd) s.candidates.clear();
          s.remoteUfrag = p.iceUfrag;
          s.remotePwd = p.icePwd;
          for (const c of p.iceCandidates) s.candidates.add(c);
          const parsed = p.iceCandidates.map((c) => parseCandidate(c)).filter((c): c is Candidate => c !== null && c.component <= comps);
          const lite = p.iceLite;
          s.runner.update((a) => a.setRemote({ ufrag: s.remoteUfrag, pwd: s.remotePwd, candidates: parsed, lite }));
        }
      }
    }
  }

  /** Our side restarts (new local credentials): same agent, old pairs kept for media until the new ones select. */
  private restart(m: Media, s: IceStream): void {
    const creds = { ufrag: m.ice!.ufrag, pwd: m.ice!.pwd };
    s.localUfrag = creds.ufrag;
    // the peer's credentials (new ones, as RFC 8445 9 requires of a restart's answer) are applied afresh
    s.remoteUfrag = "";
    s.remotePwd = "";
    s.candidates.clear();
    s.runner.update((a) => a.restart(creds));
    this.counters.restarts++;
  }

  destroyed(call: Call): void {
    for (const mono of call.all) for (const m of mono.medias) {
      const s = this.streams.get(m);
      if (s) this.drop(m, s);
    }
  }

  /** A STUN datagram on m's port (RTP or RTCP socket). */
  stun(m: Media, sock: MediaSocket, packet: RxPacket): void {
    this.counters.stunIn++;
    const s = this.streams.get(m);
    if (!s) {
      this.counters.stunNoAgent++;
      return;
    }
    const r = s.runner.receive(packet.data, packet.src, sock.local);
    if (r === "rejected") this.counters.stunRejected++;
  }

  /**
   * Media (decrypted if SRTP, so authentic) from `src` on m's socket: a controlled agent takes a switch of the
   * peer to another validated pair as its choice (IceAgent.mediaFrom), and onSelected moves the rules along.
   */
  media(m: Media, sock: MediaSocket, src: Endpoint): void {
    const s = this.streams.get(m);
    if (!s) return;
    const sel = s.runner.agent.selectedPair(s.components === 2 && sock.local.port === s.port + 1 ? 2 : 1);
    // nearly every packet comes from the selected pair (with the fast path on, the rule takes those: they never get here)
    if (sel && sel.remote.port === src.port && sel.remote.address === src.address && sel.local.port === sock.local.port) return;
    if (s.runner.media(src, sock.local)) this.opts.log?.(`ICE: call ${s.call.callId}: media from ${src.address}:${src.port} on another validated pair, selected it (the peer's choice)`);
  }

  /**
   * Where media for m's endpoint may go: undefined = m does not do ICE (the relay decides),
   * null = no pair validated yet (drop), else the selected pair's remote address.
   */
  destination(m: Media, rtcpPort: boolean): Endpoint | null | undefined {
    const sel = this.selected(m, rtcpPort);
    return sel ? sel.remote : sel;
  }

  /**
   * The pair media of m's endpoint uses: undefined = m does not do ICE, null = none validated,
   * else our address (the socket to send from, where its media arrives) and the peer's.
   */
  selected(m: Media, rtcpPort: boolean): { local: Endpoint; remote: Endpoint } | null | undefined {
    const s = this.streams.get(m);
    if (!s) return undefined;
    const comp = rtcpPort && s.components > 1 ? 2 : 1;
    const sel = s.runner.agent.selectedPair(comp);
    return sel ? { local: endpointOf(sel.local), remote: endpointOf(sel.remote) } : null;
  }

  private create(call: Call, mono: Monologue, m: Media, components: number): IceStream {
    const port = m.port!;
    const agent = new IceAgent({
      components,
      local: m.addrs.map((a) => ({ address: a.address, ports: components === 1 ? [port] : [port, port + 1] })),
      credentials: { ufrag: m.ice!.ufrag, pwd: m.ice!.pwd },
      controlling: m.iceControlling && !mono.iceLite,
      lite: mono.iceLite,
      label: `${call.callId}/${mono.tag}/${m.index}`,
      ...(this.opts.timing ? { timing: this.opts.timing } : {}),
    });
    const s: IceStream = { call, mono, runner: null as unknown as IceRunner, components, port, localUfrag: m.ice!.ufrag, remoteUfrag: "", remotePwd: "", candidates: new Set() };
    s.runner = new IceRunner(agent, {
      send: (t) => {
        const sock = this.opts.socketAt(t.from.address, t.from.port);
        try {
          sock?.send(endpointOf(t.to), t.data);
        } catch {
          /* socket closed under us: the call is ending */
        }
      },
      onEvent: (e) => this.event(m, s, e),
    });
    this.streams.set(m, s);
    this.counters.agents++;
    return s;
  }

  private event(m: Media, s: IceStream, e: IceEvent): void {
    if (this.streams.get(m) !== s) return;
    if (e.type === "selected") this.opts.onSelected(s.call, s.mono, m, e.component === 2, endpointOf(e.remote));
    else if (e.type === "consent-expired") this.opts.onLost?.(s.call, m);
    else if (e.type === "failed") this.opts.log?.(`ICE failed for component ${e.component} of call ${s.call.callId}`);
  }

  private drop(m: Media, s: IceStream): void {
    s.runner.close();
    this.streams.delete(m);
    // (from sync/destroyed: the relay refreshes the call's rules right after)
  }
}
