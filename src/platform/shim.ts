// The running shim: starts its receive threads, drains the packet ring on wake-ups, dispatches batches per socket.
import { setDense } from "./dense.ts";
import { loadShim } from "./ffi.ts";
import { check } from "./shim-errno.ts";
import { decodeAddr, type Endpoint } from "./shim-addr.ts";
import {
  ADDR_SIZE, GLOBAL_STATS_WORDS, RX, RX_HDR_SIZE, START_WAKER_THREAD, type ShimBinding, type ShimRaw, type WakeCallback,
} from "./shim-abi.ts";

/** One received packet. `data` is a view into a reused buffer: valid only during the handler call. */
export interface RxPacket {
  readonly handle: number;
  readonly src: Endpoint;
  /** local address the packet was sent to: the bound address, or from IP_PKTINFO on a wildcard bind; the socket's port */
  readonly dst: Endpoint;
  /** its TOS / traffic class when the socket was bound with `recvTos`, else 0 */
  readonly tos: number;
  /** receive time, microseconds since the epoch */
  readonly tsUs: number;
  readonly data: Uint8Array;
}

export type BatchHandler = (packets: RxPacket[]) => void;
/** An object that takes a socket's batches itself (a media socket: no closure per socket). */
export interface BatchTarget {
  onBatch(packets: RxPacket[]): void;
}

export interface ShimGlobalStats {
  ringDrops: number;
  ringBytesUsed: number;
  wakeups: number;
  polls: number;
  loopIterations: number;
  socketsOpen: number;
  /** receive threads forwarding on io_uring (the rest, or all with RTPE_SHIM_ENGINE=epoll, use epoll) */
  uringThreads: number;
  /** receive buffers the io_uring threads handed to the kernel: a few at start, more as the load needs them */
  uringRxBuffers: number;
  /** output sockets in the io_uring threads' fixed-file tables (one entry per thread that sent from one) */
  uringFixedFiles: number;
  /** io_uring receives that ended because no buffer was left (re-armed; the thread then adds buffers) */
  uringRxStarved: number;
}

export interface ShimOptions {
  /** ring between the receive thread and JS (default 8 MiB) */
  ringBytes?: number;
  /** JS-owned buffer one rtpe_poll fills (default 1 MiB; at least one max-size record) */
  pollBytes?: number;
  /** receive threads (1..16, default 1); each socket is read by one of them, keeping its order */
  threads?: number;
  /** wake JS from a thread of its own (default: only under Deno, whose wake-ups block the caller) */
  wakerThread?: boolean;
  /** reports a handler that threw; default logs to stderr */
  onHandlerError?: (err: unknown) => void;
}

const POLL_MIN = RX_HDR_SIZE + 65536;

/** Consecutive packets mostly share source and destination: reuse the last decoded Endpoint
 * (immutable) when the 20 address bytes are the same, instead of building new strings. */
class EndpointCache {
  private readonly key = new Uint8Array(ADDR_SIZE);
  private value: Endpoint | null = null;

  get(buf: Uint8Array, off: number): Endpoint {
    const k = this.key;
    if (this.value) {
      let same = true;
      for (let i = 0; i < ADDR_SIZE; i++) {
        if (buf[off + i] !== k[i]) {
          same = false;
          break;
        }
      }
      if (same) return this.value;
    }
    k.set(buf.subarray(off, off + ADDR_SIZE));
    this.value = decodeAddr(buf, off);
    return this.value!;
  }
}

export class Shim {
  readonly binding: ShimBinding;
  readonly raw: ShimRaw;
  private readonly pollBuf: Uint8Array;
  private readonly pollView: DataView;
  /** indexed by socket handle (small, reused): a dense array costs 8 bytes a socket, a Map ~80 */
  private readonly handlers: Array<BatchHandler | BatchTarget | undefined> = [];
  private readonly srcCache = new EndpointCache();
  private readonly dstCache = new EndpointCache();
  private readonly onHandlerError: (err: unknown) => void;
  private wake: WakeCallback | null = null;
  private paused = false;
  private draining = false;
  private stopped = false;

  private constructor(binding: ShimBinding, opts: ShimOptions) {
    this.binding = binding;
    this.raw = binding.raw;
    this.pollBuf = new Uint8Array(Math.max(POLL_MIN, opts.pollBytes ?? 1 << 20));
    this.pollView = new DataView(this.pollBuf.buffer);
    this.onHandlerError = opts.onHandlerError ?? ((e) => console.error("media socket handler failed:", e));
  }

  /** Load the library and start its receive thread. */
  static async start(opts: ShimOptions = {}): Promise<Shim> {
    const binding = await loadShim();
    check("rtpe_set_threads", binding.raw.rtpe_set_threads(opts.threads ?? 1));
    const shim = new Shim(binding, opts);
    shim.wake = binding.createWakeCallback(() => shim.drain());
    // Deno's thread-safe callbacks block their caller until the event loop runs them: keep that
    // wait off the receive thread, which must go on receiving and forwarding meanwhile
    const flags = (opts.wakerThread ?? binding.runtime === "deno") ? START_WAKER_THREAD : 0;
    const r = shim.raw.rtpe_start(shim.wake.pointer, opts.ringBytes ?? 8 << 20, flags);
    if (r < 0) {
      shim.wake.close();
      shim.wake = null;
      check("rtpe_start", r);
    }
    return shim;
  }

  get running(): boolean {
    return !this.stopped;
  }

  /** Route packets of this socket handle to fn (replacing any previous handler). */
  setHandler(handle: number, fn: BatchHandler | BatchTarget | null): void {
    setDense(this.handlers, handle, fn ?? undefined);
  }

  /** Stop delivering to JS; packets wait in the ring (and are dropped, counted, once it is full). */
  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.drain();
  }

  /** Cap the ring's fill level (0 = whole ring): for tests and memory tuning. */
  setRingLimit(bytes: number): void {
    this.raw.rtpe_set_ring_limit(bytes >>> 0);
  }

  /** Empty the ring into the handlers. Returns packets delivered. Called on every wake-up. */
  drain(): number {
    if (this.paused || this.draining || this.stopped) return 0;
    this.draining = true;
    let total = 0;
    try {
      for (;;) {
        const n = this.raw.rtpe_poll(this.pollBuf, this.pollBuf.byteLength);
        if (n <= 0) break;
        total += this.dispatch(n);
      }
    } finally {
      this.draining = false;
    }
    return total;
  }

  /** Parse the records rtpe_poll wrote and hand each socket its batch, in arrival order. */
  private dispatch(bytes: number): number {
    const buf = this.pollBuf, dv = this.pollView;
    const batches = new Map<number, RxPacket[]>();
    let off = 0, count = 0;
    while (off + RX_HDR_SIZE <= bytes) {
      const recLen = dv.getUint32(off + RX.recLen, true);
      const len = dv.getUint32(off + RX.len, true);
      if (recLen < RX_HDR_SIZE + len || off + recLen > bytes) break; // cannot happen unless the ABI drifted
      const handle = dv.getInt32(off + RX.handle, true);
      const ts = dv.getUint32(off + RX.tsNs, true) + dv.getUint32(off + RX.tsNs + 4, true) * 4294967296;
      const pkt: RxPacket = {
        handle,
        src: this.srcCache.get(buf, off + RX.src),
        dst: this.dstCache.get(buf, off + RX.dst),
        tos: buf[off + RX.tos]!,
        tsUs: Math.floor(ts / 1000),
        data: buf.subarray(off + RX_HDR_SIZE, off + RX_HDR_SIZE + len),
      };
      let list = batches.get(handle);
      if (!list) batches.set(handle, (list = []));
      list.push(pkt);
      off += recLen;
      count++;
    }
    for (const [handle, list] of batches) {
      const fn = handle >= 0 ? this.handlers[handle] : undefined;
      if (!fn) continue; // socket has no reader (or was closed meanwhile): counted as received, not delivered
      try {
        if (typeof fn === "function") fn(list);
        else fn.onBatch(list);
      } catch (e) {
        this.onHandlerError(e);
      }
    }
    return count;
  }

  globalStats(): ShimGlobalStats {
    const w = new BigUint64Array(GLOBAL_STATS_WORDS);
    this.raw.rtpe_global_stats(w);
    return {
      ringDrops: Number(w[0]),
      ringBytesUsed: Number(w[1]),
      wakeups: Number(w[2]),
      polls: Number(w[3]),
      loopIterations: Number(w[4]),
      socketsOpen: Number(w[5]),
      uringThreads: Number(w[6]),
      uringRxBuffers: Number(w[8]),
      uringFixedFiles: Number(w[9]),
      uringRxStarved: Number(w[10]),
    };
  }

  /** Join the receive thread and close every shim socket. The event loop keeps running while the
   * thread exits: Deno's wake callback may need it to let the thread finish. */
  async stop(timeoutMs = 2000): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.handlers.length = 0;
    this.raw.rtpe_stop_begin();
    const deadline = Date.now() + timeoutMs;
    while (this.raw.rtpe_stop_poll() === 0) {
      // never block in a join that needs this very event loop: report instead
      if (Date.now() > deadline) throw new Error("shim threads did not stop");
      await new Promise((r) => setTimeout(r, 2));
    }
    this.raw.rtpe_stop();
    this.wake?.close();
    this.wake = null;
  }
}

let current: Promise<Shim> | undefined;

/** The process-wide shim, started on first use. */
export function getShim(opts?: ShimOptions): Promise<Shim> {
  current ??= Shim.start(opts);
  return current;
}

/** Stop the process-wide shim (if started); a later getShim() starts a fresh one. */
export async function stopShim(): Promise<void> {
  const p = current;
  current = undefined;
  if (!p) return;
  const shim = await p.catch(() => null); // it never started: nothing to stop
  await shim?.stop();
}

/** sd_notify through the shim, with NOTIFY_SOCKET read by the runtime (its env may differ from libc's).
 * Returns true when a datagram was sent, false when there is no NOTIFY_SOCKET. */
export function sdNotify(raw: ShimRaw, state: string, socketPath?: string): boolean {
  const path = socketPath ?? readEnv("NOTIFY_SOCKET");
  if (!path) return false;
  const p = new TextEncoder().encode(path);
  const s = new TextEncoder().encode(state);
  return check("rtpe_sd_notify_to", raw.rtpe_sd_notify_to(p, p.byteLength, s, s.byteLength)) === 1;
}

function readEnv(name: string): string | undefined {
  const deno = (globalThis as { Deno?: { env: { get(k: string): string | undefined } } }).Deno;
  if (deno) {
    try {
      return deno.env.get(name);
    } catch {
      return undefined;
    }
  }
  return process.env[name];
}

