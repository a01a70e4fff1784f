// Endpoint learning: `--endpoint-learning` (delayed/immediate/off/heuristic), `asymmetric`, `strict source`, `media handover`.
import type { EndpointLearning } from "../config/types.ts";
import type { Endpoint } from "../platform/shim-addr.ts";

/** How long after the last signalling event learning stays open in the delayed and heuristic modes. */
export const LEARNING_WAIT_MS = 3000;

/** Per-stream learning options, from the flags of the offer/answer that described this endpoint. */
export interface LearningOptions {
  mode: EndpointLearning;
  /** `asymmetric`: the endpoint sends from elsewhere; never learn, send to the SDP address */
  asymmetric: boolean;
  /** `strict source`: after learning, packets from any other source are dropped */
  strictSource: boolean;
  /** `media handover`: after learning, a packet from a new source moves the endpoint there */
  mediaHandover: boolean;
}

export type Verdict = "forward" | "drop";

/** Rank of a source in `heuristic` mode: the closer to the SDP endpoint, the better. */
function heuristicRank(src: Endpoint, sdp: Endpoint | null): number {
  if (!sdp) return 0;
  if (src.address === sdp.address && src.port === sdp.port) return 3;
  if (src.address === sdp.address) return 2;
  if (src.port === sdp.port) return 1;
  return 0;
}

export function sameEndpoint(a: Endpoint | null, b: Endpoint | null): boolean {
  if (a === null || b === null) return a === b;
  return a.address === b.address && a.port === b.port;
}

/** The learning state of one stream (one local port, one remote endpoint). */
const sharedOptions = new Map<string, Readonly<LearningOptions>>();
/** One frozen options object per combination, shared by every learner that has it (four streams per call). */
export function learningOptions(o: LearningOptions): Readonly<LearningOptions> {
  const k = `${o.mode}|${+o.asymmetric}${+o.strictSource}${+o.mediaHandover}`;
  let v = sharedOptions.get(k);
  if (!v) sharedOptions.set(k, (v = Object.freeze({ mode: o.mode, asymmetric: o.asymmetric, strictSource: o.strictSource, mediaHandover: o.mediaHandover })));
  return v;
}

export class EndpointLearner {
  /** learned endpoint (null = none yet: send to the SDP address) */
  endpoint: Endpoint | null = null;
  /** learning is over: the fast path may take the stream */
  confirmed = false;
  private bestRank = -1;

  opts: Readonly<LearningOptions>;

  constructor(opts: LearningOptions) {
    this.opts = learningOptions(opts);
  }

  /** Nothing to learn: the endpoint is the SDP address and stays there. */
  get fixed(): boolean {
    return this.opts.asymmetric || this.opts.mode === "off";
  }

  /** Learning is still open but a source was seen: a rule may forward from it, sending other sources up. */
  get provisional(): boolean {
    return !this.confirmed && !this.fixed && this.endpoint !== null;
  }

  /**
   * Confirm without a packet, once learning would have ended: a stream whose packets a rule forwards during
   * the learning window brings no packet to onPacket() after it. Returns true when this confirmed it.
   */
  confirmIfDue(sinceSignalMs: number): boolean {
    if (!this.provisional || (this.opts.mode !== "immediate" && sinceSignalMs <= LEARNING_WAIT_MS)) return false;
    this.confirmed = true;
    return true;
  }

  /** Forget what was learned (new SDP address, `reset`). */
  reset(): void {
    this.endpoint = null;
    this.confirmed = false;
    this.bestRank = -1;
  }

  /**
   * Judge one packet from `src`. `sdp` is the endpoint the SDP gave, `sinceSignalMs` the time since
   * the call's last offer/answer. Returns the verdict; `changed()` tells whether the endpoint moved.
   */
  onPacket(src: Endpoint, sdp: Endpoint | null, sinceSignalMs: number): { verdict: Verdict; changed: boolean } {
    if (this.fixed) {
      const changed = !this.confirmed;
      this.confirmed = true;
      return { verdict: "forward", changed };
    }
    if (this.confirmed) {
      if (sameEndpoint(src, this.endpoint)) return { verdict: "forward", changed: false };
      if (this.opts.strictSource) return { verdict: "drop", changed: false };
      if (this.opts.mediaHandover) {
        this.endpoint = src;
        return { verdict: "forward", changed: true };
      }
      // after learning, other sources are forwarded but do not move the endpoint
      return { verdict: "forward", changed: false };
    }
    // the window is over: the source learned in it stays (a rule may have forwarded that source's packets, unseen
    // here, so the first packet to arrive now may be a stray one); this packet is judged as after learning
    if (this.confirmIfDue(sinceSignalMs)) return { verdict: this.onPacket(src, sdp, sinceSignalMs).verdict, changed: true };
    const before = this.endpoint;
    if (this.opts.mode === "heuristic") {
      // keep the best-ranked source seen so far (first one wins a tie)
      const rank = heuristicRank(src, sdp);
      if (this.endpoint === null || rank > this.bestRank) {
        this.endpoint = src;
        this.bestRank = rank;
      }
    } else this.endpoint = src;
    if (this.opts.mode === "immediate" || sinceSignalMs > LEARNING_WAIT_MS) this.confirmed = true;
    return { verdict: "forward", changed: this.confirmed || !sameEndpoint(before, this.endpoint) };
  }
}
