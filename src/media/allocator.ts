// PortAllocator backed by real shim sockets: RTP on an even port, RTCP on the next, the same ports on every address of a stream.
import { setDense } from "../platform/dense.ts";
import type { PortAllocator } from "./ports.ts";
import { MediaSocket, ShimError, type RxPacket } from "./socket.ts";

/** Packets of one allocated socket; `address` is the local address string the engine asked for. */
export type AllocatedPacketsHandler = (sock: MediaSocket, packets: RxPacket[]) => void;

export interface ShimAllocatorOptions {
  minPort: number;
  maxPort: number;
  /** `--tos`: 0 = leave the kernel's default */
  tos: number;
  /** bind attempts for multi-address streams whose port is busy on another address */
  attempts?: number;
  /** told why a reservation failed (ports or file descriptors exhausted), for the error log */
  onFailure?: (message: string) => void;
}

/** Why binding failed, in words an operator recognises (rtpengine logs strerror). */
function reason(e: unknown, min: number, max: number): string {
  if (!(e instanceof ShimError)) return e instanceof Error ? e.message : String(e);
  if (e.code === "EADDRINUSE") return `every port pair in ${min}-${max} is in use`;
  if (e.code === "EMFILE") return "Too many open files (RLIMIT_NOFILE reached)";
  if (e.code === "ENFILE") return "Too many open files in system";
  return e.message;
}

export class ShimPortAllocator implements PortAllocator {
  /** per local address, the open sockets indexed by port - minPort: dense arrays, 8 bytes a port of the
   * range once used, instead of a Map entry (~80 bytes) and a key string per socket */
  private readonly sockets = new Map<string, Array<MediaSocket | undefined>>();
  private readonly counts = new Map<string, number>();
  /** every packet of every allocated socket goes here (the media relay) */
  onPackets: AllocatedPacketsHandler | null = null;
  /** why the last reserve() failed, for the log */
  lastError: string | null = null;
  /** one handler for every socket (each was bound with the address the engine asked for) */
  private readonly deliver = (packets: RxPacket[], sock: MediaSocket): void => this.onPackets?.(sock, packets);

  constructor(private readonly opts: ShimAllocatorOptions) {
    if (opts.minPort > opts.maxPort) throw new Error(`port range ${opts.minPort}-${opts.maxPort} is empty`);
  }

  reserve(addresses: readonly string[], count: number): number | null {
    if (count !== 2) throw new RangeError("ShimPortAllocator reserves RTP/RTCP pairs only");
    if (addresses.length === 0) return null;
    const attempts = this.opts.attempts ?? 16;
    for (let i = 0; i < attempts; i++) {
      const opened: Array<[string, MediaSocket]> = [];
      try {
        const [rtp, rtcp] = MediaSocket.bindPair({
          address: addresses[0]!, minPort: this.opts.minPort, maxPort: this.opts.maxPort, tos: this.tos(),
        });
        opened.push([addresses[0]!, rtp], [addresses[0]!, rtcp]);
        const base = rtp.local.port;
        // the other addresses of the interface must offer the same port (one port per stream in SDP)
        for (const a of addresses.slice(1)) {
          opened.push([a, MediaSocket.bind({ address: a, port: base, tos: this.tos() })]);
          opened.push([a, MediaSocket.bind({ address: a, port: base + 1, tos: this.tos() })]);
        }
        for (const [a, s] of opened) this.adopt(a, s);
        return base;
      } catch (e) {
        for (const [, s] of opened) s.close();
        this.lastError = reason(e, this.opts.minPort, this.opts.maxPort);
        // the whole range is busy on the first address (no retry can help), or not a busy port at all
        if (!(e instanceof ShimError && e.code === "EADDRINUSE") || opened.length === 0) return this.failed(addresses);
      }
    }
    return this.failed(addresses);
  }

  private failed(addresses: readonly string[]): null {
    this.opts.onFailure?.(`Failed to get 2 consecutive ports on interface ${addresses.join(", ")} for media relay (last error: ${this.lastError ?? "unknown"})`);
    return null;
  }

  private tos(): number | undefined {
    return this.opts.tos > 0 ? this.opts.tos : undefined;
  }

  private adopt(address: string, s: MediaSocket): void {
    let byPort = this.sockets.get(address);
    if (!byPort) this.sockets.set(address, (byPort = []));
    setDense(byPort, s.local.port - this.opts.minPort, s);
    this.counts.set(address, (this.counts.get(address) ?? 0) + 1);
    s.onPackets = this.deliver;
  }

  release(addresses: readonly string[], base: number, count: number): void {
    for (const a of addresses) {
      for (let p = base; p < base + count; p++) {
        const s = this.socket(a, p);
        if (!s) continue;
        s.close();
        this.sockets.get(a)![p - this.opts.minPort] = undefined;
        this.counts.set(a, (this.counts.get(a) ?? 1) - 1);
      }
    }
  }

  inUse(address: string): number {
    return this.counts.get(address) ?? 0;
  }

  /** The open socket bound to address:port, if this allocator holds it. */
  socket(address: string, port: number): MediaSocket | undefined {
    return this.sockets.get(address)?.[port - this.opts.minPort];
  }

  /** Every open socket (tests, shutdown). */
  get size(): number {
    let n = 0;
    for (const c of this.counts.values()) n += c;
    return n;
  }

  /** Close everything (shutdown). */
  closeAll(): void {
    for (const byPort of this.sockets.values()) for (const s of byPort) s?.close();
    this.sockets.clear();
    this.counts.clear();
  }
}
