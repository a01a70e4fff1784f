// IceRunner: drives an IceAgent with a send callback and one real timer, so a media stream needs three calls.
//
//   const run = new IceRunner(agent, { send: (t) => socketFor(t.from).send(t.data, t.to), onEvent });
//   run.receive(data, src, dst)        for every datagram on the stream's sockets; "not-stun" = media
//   run.media(src, dst)                authenticated media on the stream's sockets (the peer's choice of pair)
//   run.update((a) => a.setRemote(...)) for anything else done to the agent (then it sends and re-arms)
//   run.close()
// Times are Date.now() milliseconds unless a `now` function is given.
import type { IceAddr } from "./addr.ts";
import type { IceAgent, IceEvent, Transmit } from "./agent.ts";

export interface IceRunnerOptions {
  send: (t: Transmit) => void;
  onEvent?: (e: IceEvent) => void;
  now?: () => number;
}

export class IceRunner {
  private timer: ReturnType<typeof setTimeout> | null = null;
  private armedFor = Infinity;
  private closed = false;
  private readonly now: () => number;

  constructor(readonly agent: IceAgent, private readonly o: IceRunnerOptions) {
    this.now = o.now ?? Date.now;
    this.pump();
  }

  receive(data: Uint8Array, from: IceAddr, to: IceAddr): "not-stun" | "handled" | "rejected" {
    const r = this.agent.receive(data, from, to, this.now());
    if (r !== "not-stun") this.pump();
    return r;
  }

  /** Media arrived (see IceAgent.mediaFrom); true when the selected pair moved (its event is out already). */
  media(from: IceAddr, to: IceAddr): boolean {
    const moved = this.agent.mediaFrom(from, to, this.now());
    this.pump(); // (also sends a consent check mediaFrom may have queued)
    return moved;
  }

  /** Apply a change to the agent (setRemote, addRemoteCandidate, restart...), then send and re-arm. */
  update(fn: (agent: IceAgent) => void): void {
    fn(this.agent);
    this.agent.tick(this.now());
    this.pump();
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private pump(): void {
    if (this.closed) return;
    for (const t of this.agent.takeTransmits()) this.o.send(t);
    for (const e of this.agent.takeEvents()) this.o.onEvent?.(e);
    const next = this.agent.nextTimeout() ?? Infinity;
    if (next === this.armedFor && this.timer) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.armedFor = next;
    if (next === Infinity) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.armedFor = Infinity;
      this.agent.tick(this.now());
      this.pump();
    }, Math.max(0, next - this.now()));
  }
}
