// ICE on media ports: one IceAgent (driven by an IceRunner) per media that does ICE, fed the STUN arriving there; media only to validated pairs.
import type { Call, Media, Monologue } from "../call/model.ts";
import { IceAgent, IceRunner, parseCandidate, type IceEvent } from "../ice/index.ts";
import type { Candidate } from "../ice/index.ts";
import type { Endpoint } from "../platform/shim-addr.ts";
import type { MediaSocket, RxPacket } from "./socket.ts";

interface IceStream {
  call: Call;
  mono: Monologue;
  runner: IceRunner;
  components: number;
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
  log?: (msg: string) => void;
}

export interface IceMediaCounters {
  stunIn: number;
  /** STUN on a media without an agent (ICE not negotiated, or the peer's credentials not known yet) */
  stunNoAgent: number;
  stunRejected: number;
  agents: number;
}

const endpointOf = (a: { address: string; port: number }): Endpoint => ({ address: a.address, port: a.port, family: a.address.includes(":") ? 6 : 4 });

export class IceMedia {
  readonly counters: IceMediaCounters = { stunIn: 0, stunNoAgent: 0, stunRejected: 0, agents: 0 };
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
        const can = m.iceEnabled && m.port !== null && m.ice !== null && (!p || (p.port !== 0 && p.hasIce));
        if (!can) {
          if (cur) this.drop(m, cur);
          continue;
        }
        if (cur && (cur.localUfrag !== m.ice!.ufrag || cur.mono !== mono || (cur.components === 1 && !m.rtcpMuxActive))) this.drop(m, cur);
        const s = this.streams.get(m) ?? this.create(call, mono, m, m.rtcpMuxActive ? 1 : 2);
        if (!p || !p.iceUfrag || !p.icePwd) continue;
        const comps = s.components;
        const cands = p!.iceCandidates.filter((c) => !s.candidates.has(c));
        if (s.remoteUfrag !== p!.iceUfrag || s.remotePwd !== p!.icePwd || cands.length) {
          if (s.remoteUfrag !== p!.iceUfrag || s.remotePwd !== p!.icePwd) s.candidates.clear();
          s.remoteUfrag = p!.iceUfrag!;
          s.remotePwd = p!.icePwd!;
          for (const c of p!.iceCandidates) s.candidates.add(c);
          const parsed = p!.iceCandidates.map((c) => parseCandidate(c)).filter((c): c is Candidate => c !== null && c.component <= comps);
          s.runner.update((a) => a.setRemote({ ufrag: s.remoteUfrag, pwd: s.remotePwd, candidates: parsed, lite: p!.iceLite }));
        }
      }
    }
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
   * Where media for m's endpoint may go: undefined = m does not do ICE (the relay decides),
   * null = no pair validated yet (drop), else the selected pair's remote address.
   */
  destination(m: Media, rtcpPort: boolean): Endpoint | null | undefined {
    const s = this.streams.get(m);
    if (!s) return undefined;
    const comp = rtcpPort && s.components > 1 ? 2 : 1;
    const sel = s.runner.agent.selectedPair(comp);
    return sel ? endpointOf(sel.remote) : null;
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
    });
    const s: IceStream = { call, mono, runner: null as unknown as IceRunner, components, localUfrag: m.ice!.ufrag, remoteUfrag: "", remotePwd: "", candidates: new Set() };
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
    else if (e.type === "failed") this.opts.log?.(`ICE failed for component ${e.component} of call ${s.call.callId}`);
  }

  private drop(m: Media, s: IceStream): void {
    s.runner.close();
    this.streams.delete(m);
  }
}
