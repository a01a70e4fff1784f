// The media plane: shim sockets behind the port allocator, the relay, fast path, timeouts and the media ng commands.
import type { CallEngine } from "../call/engine.ts";
import type { Config } from "../config/types.ts";
import { registerCommand } from "../control/registry.ts";
import { NgError, type NgDict } from "../control/types.ts";
import { ShimPortAllocator } from "./allocator.ts";
import { applyControl, selectParticipants, type ControlName } from "./controls.ts";
import { audioModeWarning, DTMF_DROP, dtmfSecurityOf } from "./dtmf-security.ts";
import { fastPathEnabled, ShimFastPath } from "./fastpath.ts";
import { KernelFastPath } from "../kernel/forwarder.ts"; // kernel: --table
import type { KernelTable } from "../kernel/proc.ts"; // kernel: --table
import { MediaRelay } from "./relay.ts";
import { initMediaSockets, shutdownMediaSockets } from "./socket.ts";
import { callTimeout, callTimeoutDue, type TimeoutKind } from "./timeouts.ts";
import type { Call, Media, Monologue } from "../call/model.ts";
import { setMediaTotalsSource } from "./status.ts";

export type MediaConfig = Pick<Config, "portMin" | "portMax" | "tos" | "endpointLearning" | "timeout" | "silentTimeout" | "finalTimeout" | "offerTimeout"> &
  Partial<Pick<Config, "dtlsMtu" | "dtlsCertCipher" | "dtlsRsaKeySize" | "dtlsSignature" | "dtlsCiphers" | "numThreads">>;

export interface MediaPlaneOptions {
  log?: { info(m: string): void; warning(m: string): void; err?(m: string): void };
  /** false = slow path only (default: RTPENGINE_TS_FASTPATH, on unless "0") */
  fastPath?: boolean;
  /** how often rule counters are read and timeouts judged, ms */
  tickMs?: number;
  /** kernel: the held forwarding table (--table); rules then go to xt_RTPENGINE instead of the shim */
  kernel?: KernelTable | null;
}

/** ng commands of the media plane and the control each one sets. */
const CONTROL_COMMANDS: ReadonlyArray<[string, ControlName, boolean]> = [
  ["block media", "blockMedia", true],
  ["unblock media", "blockMedia", false],
  ["silence media", "silenceMedia", true],
  ["unsilence media", "silenceMedia", false],
  ["block DTMF", "blockDtmf", true],
  ["unblock DTMF", "blockDtmf", false],
];

export class MediaPlane {
  readonly timeouts: Record<TimeoutKind, number> = { timeout: 0, silent: 0, final: 0, offer: 0 };
  private engine: CallEngine | null = null;
  private timer: ReturnType<typeof setInterval> | null = null;
  /** per call: until when it cannot time out (timeouts.ts callTimeoutDue), for the call state it was judged on */
  private due = new WeakMap<Call, { at: number; lastSignal: number; all: readonly Monologue[] }>();
  private dueConfig = "";
  /** kernel: the kernel fast path, when a table is held */
  private kernelPath: KernelFastPath | null = null;

  private constructor(
    readonly config: MediaConfig,
    readonly ports: ShimPortAllocator,
    readonly relay: MediaRelay,
    private readonly opts: MediaPlaneOptions,
  ) {
    setMediaTotalsSource(() => ({ ...this.relay.totals(), timeouts: { ...this.timeouts } }));
  }

  /** Start the shim and build the plane; throws when the shim cannot be loaded. */
  static async start(config: MediaConfig, opts: MediaPlaneOptions = {}): Promise<MediaPlane> {
    // `--num-threads`: rtpengine's worker threads read media; ours are the shim's receive threads
    const shim = await initMediaSockets({ threads: Math.min(16, Math.max(1, config.numThreads ?? 1)) });
    const ports = new ShimPortAllocator({
      minPort: config.portMin, maxPort: config.portMax, tos: config.tos,
      // ports or descriptors ran out: the offer gets "Ran out of ports", the log says which
      onFailure: (m) => (opts.log?.err ?? opts.log?.warning)?.call(opts.log, m),
    });
    const fast = opts.fastPath ?? fastPathEnabled();
    // kernel: with a table every rule goes to the kernel (falling back to the shim per rule), else to the shim
    const kernel = fast && opts.kernel ? new KernelFastPath(shim.raw, opts.kernel, { tos: config.tos, log: opts.log ?? { info: console.log, warning: console.warn } }) : null;
    const relay = new MediaRelay({
      allocator: ports,
      fastPath: kernel ?? (fast ? new ShimFastPath(shim.raw) : null),
      learning: config.endpointLearning,
      log: (m) => opts.log?.warning(m),
    });
    // secure/ice: SRTP, DTLS and ICE on media ports; loaded lazily so that a runtime without bun:ffi (Deno) still relays plain media
    try {
      (await import("./secure-wire.ts")).wireSecureMedia(relay, ports, shim.binding.path, config, opts.log);
    } catch (e) {
      opts.log?.warning(`SRTP, DTLS and ICE unavailable on this runtime, plain media only: ${(e as Error).message}`);
    }
    opts.log?.info(`Media relay ready (fast path ${kernel ? `kernel table ${opts.kernel!.id}` : fast ? "on (userspace)" : "off"}, endpoint learning ${config.endpointLearning})`);
    const plane = new MediaPlane(config, ports, relay, opts);
    plane.kernelPath = kernel;
    return plane;
  }

  /** Hooks for the call engine (EngineOptions.media). */
  get hooks(): MediaRelay {
    return this.relay;
  }

  /** Bind to the engine: timeouts start and the media ng commands are registered. */
  attach(engine: CallEngine): void {
    this.engine = engine;
    for (const [name, what, on] of CONTROL_COMMANDS) registerCommand(name, (req) => this.control(req, what, on));
    this.timer = setInterval(() => this.tick(), this.opts.tickMs ?? 1000);
    (this.timer as { unref?: () => void }).unref?.();
  }

  private control(req: NgDict, what: ControlName, on: boolean): NgDict {
    const id = req["call-id"];
    if (typeof id !== "string" || id === "") throw new NgError("No call-id in message");
    const call = this.engine?.calls.get(id);
    if (!call) throw new NgError("Unknown call-ID");
    const sec = what === "blockDtmf" && on ? dtmfSecurityOf(req) : DTMF_DROP;
    applyControl(call, req, what, on, sec);
    this.relay.refresh(call); // blocked media leaves the fast path, unblocked media may return to it
    if (what !== "blockDtmf" || !on) return {};
    // an audio mode warns about selected audio media that have no codec to generate it in
    const audio = (selectParticipants(call, req) ?? call.all).flatMap((m) => m.medias).filter((m) => m.type === "audio" && m.peer);
    const warning = audioModeWarning(sec, audio.map((m) => m.peer!.codecs));
    return warning ? { warning } : {};
  }

  /** Read fast-path counters, then end calls whose media went quiet (or that lived too long). */
  tick(now = Date.now()): void {
    this.relay.creditAll();
    this.relay.confirmLearning(now);
    this.relay.pierceNat();
    const e = this.engine;
    if (!e) return;
    const cfgKey = `${this.config.timeout}/${this.config.silentTimeout}/${this.config.finalTimeout}/${this.config.offerTimeout}`;
    if (cfgKey !== this.dueConfig) {
      this.dueConfig = cfgKey; // `rtpengine-ctl set timeout` and the like: judge every call again
      this.due = new WeakMap();
    }
    const stateOf = (m: Media) => this.relay.stateOf(m);
    // a call deleted while iterating is not visited again (Map iteration); none is added here
    for (const call of e.calls.values()) {
      if (call.deleteTimer) continue;
      // not due: nothing could have timed out since the last look (signalling or a dropped branch looks again)
      const d = this.due.get(call);
      if (d && now < d.at && d.lastSignal === call.lastSignal && d.all === call.all) continue;
      const kind = callTimeout(call, now, this.config, stateOf);
      if (!kind) {
        this.due.set(call, { at: callTimeoutDue(call, this.config, stateOf), lastSignal: call.lastSignal, all: call.all });
        continue;
      }
      this.timeouts[kind]++;
      this.opts.log?.info(`Call ${call.callId} ended: ${kind} timeout`);
      e.destroyCall(call);
    }
  }

  /** Close every media socket and stop the shim (shutdown). */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.kernelPath?.stop();
    this.ports.closeAll();
    await shutdownMediaSockets();
  }
}

/** The daemon's media plane, or null (logged) when the shim cannot be loaded: calls are then signalled but not relayed. */
export async function startMediaPlane(config: MediaConfig, log: NonNullable<MediaPlaneOptions["log"]>, kernel: KernelTable | null = null): Promise<MediaPlane | null> {
  try {
    return await MediaPlane.start(config, { log, kernel });
  } catch (e) {
    log.warning(`Media relay unavailable, no packets will be relayed: ${(e as Error).message}`);
    return null;
  }
}
