// MediaSocket: a UDP media socket owned by the C shim, with batched receive, send, counters and port pairs.
import { getShim, stopShim, type RxPacket, type Shim, type ShimOptions } from "../platform/shim.ts";
import { check, ShimError } from "../platform/shim-errno.ts";
import { decodeAddr, encodeAddr, type Endpoint } from "../platform/shim-addr.ts";
import { ADDR_SIZE, MAX_DATAGRAM, SOCK_RECV_TOS, SOCK_REUSEADDR, SOCK_STATS_WORDS } from "../platform/shim-abi.ts";

export type { Endpoint, RxPacket };
export { ShimError };

export interface SocketCounters {
  rxPackets: number;
  rxBytes: number;
  /** received but dropped because JS had not drained the ring */
  rxRingDrops: number;
  txPackets: number;
  txBytes: number;
  txErrors: number;
  /** received and forwarded by a shim rule, never seen by JS */
  fwdPackets: number;
  fwdBytes: number;
}

export interface BindOptions {
  address: string;
  /** 0 or absent: any free port */
  port?: number;
  /** IP TOS / IPv6 traffic class for everything sent (rtpengine's `tos` option) */
  tos?: number;
  /** SO_RCVBUF in bytes (rtpengine's `socket-rcvbuf`); absent = kernel default */
  rcvbuf?: number;
  reuseAddr?: boolean;
  /** fill RxPacket.tos with each packet's TOS / traffic class (tests; media needs none, and it costs per packet) */
  recvTos?: boolean;
}

export interface PairOptions {
  address: string;
  /** port-min / port-max */
  minPort: number;
  maxPort: number;
  tos?: number;
  rcvbuf?: number;
  /** where the search starts (default random), so calls spread over the range */
  seed?: number;
}

export type PacketsHandler = (packets: RxPacket[], socket: MediaSocket) => void;

let shim: Shim | null = null;
const addrScratch = new Uint8Array(ADDR_SIZE);

/** Start the shim (once per process). MediaSocket calls are synchronous after this resolves. */
export async function initMediaSockets(opts?: ShimOptions): Promise<Shim> {
  shim = await getShim(opts);
  return shim;
}

/** True once initMediaSockets() succeeded and until shutdownMediaSockets(). */
export function mediaSocketsReady(): boolean {
  return shim !== null && shim.running;
}

/** Close every media socket and join the shim's thread. */
export async function shutdownMediaSockets(): Promise<void> {
  shim = null;
  await stopShim();
}

function ready(): Shim {
  if (!shim || !shim.running) throw new Error("media sockets not initialised (initMediaSockets)");
  return shim;
}

export class MediaSocket {
  readonly handle: number;
  /** the address string it was bound with (BindOptions.address), as the caller spelled it */
  readonly address: string;
  /** bound address and port */
  readonly local: Endpoint;
  private readonly shim: Shim;
  private handler: PacketsHandler | null = null;
  private closed = false;

  private constructor(s: Shim, handle: number, address: string) {
    this.shim = s;
    this.handle = handle;
    this.address = address;
    check("rtpe_socket_local", s.raw.rtpe_socket_local(handle, addrScratch));
    const l = decodeAddr(addrScratch, 0)!;
    // thousands of sockets share a few addresses: keep one string, not a copy per socket
    this.local = l.address === address ? { address, port: l.port, family: l.family } : l;
  }

  /** Open a socket bound to address:port. Throws ShimError (e.g. code EADDRINUSE). */
  static bind(opts: BindOptions): MediaSocket {
    const s = ready();
    encodeAddr(addrScratch, 0, opts.address, opts.port ?? 0);
    const h = check(
      "rtpe_socket_open",
      s.raw.rtpe_socket_open(addrScratch, opts.tos ?? -1, opts.rcvbuf ?? 0, (opts.reuseAddr ? SOCK_REUSEADDR : 0) | (opts.recvTos ? SOCK_RECV_TOS : 0)),
    );
    return new MediaSocket(s, h, opts.address);
  }

  /** Bind an RTP socket on a free even port and RTCP on the next port, within [minPort, maxPort].
   * Busy ports are skipped; throws ShimError EADDRINUSE when the range is exhausted. */
  static bindPair(opts: PairOptions): [rtp: MediaSocket, rtcp: MediaSocket] {
    const s = ready();
    encodeAddr(addrScratch, 0, opts.address, 0);
    const out = new Int32Array(2);
    const seed = opts.seed ?? Math.floor(Math.random() * 0x100000000);
    check(
      "rtpe_port_pair",
      s.raw.rtpe_port_pair(addrScratch, opts.minPort, opts.maxPort, seed >>> 0, opts.tos ?? -1, opts.rcvbuf ?? 0, 0, out),
    );
    return [new MediaSocket(s, out[0]!, opts.address), new MediaSocket(s, out[1]!, opts.address)];
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Batch handler: called on the JS thread with every packet that arrived since the last call.
   * The shim calls onBatch on the socket itself, so a handler shared by many sockets costs nothing per socket. */
  set onPackets(fn: PacketsHandler | null) {
    this.handler = fn;
    if (!this.closed) this.shim.setHandler(this.handle, fn ? this : null);
  }

  /** The shim's delivery (BatchTarget). */
  onBatch(packets: RxPacket[]): void {
    this.handler?.(packets, this);
  }

  get onPackets(): PacketsHandler | null {
    return this.handler;
  }

  /** Send one datagram. Returns false when the kernel refused it (counted in txErrors). */
  send(dst: Endpoint | { address: string; port: number }, data: Uint8Array): boolean {
    if (this.closed) return false;
    if (data.byteLength > MAX_DATAGRAM) throw new RangeError("datagram too large");
    encodeAddr(addrScratch, 0, dst.address, dst.port);
    return this.shim.raw.rtpe_send(this.handle, addrScratch, data.byteLength ? data : null, data.byteLength) >= 0;
  }

  setTos(tos: number): void {
    check("rtpe_socket_set_tos", this.shim.raw.rtpe_socket_set_tos(this.handle, tos));
  }

  stats(): SocketCounters {
    const w = new BigUint64Array(SOCK_STATS_WORDS);
    check("rtpe_socket_stats", this.shim.raw.rtpe_socket_stats(this.handle, w));
    return {
      rxPackets: Number(w[0]), rxBytes: Number(w[1]), rxRingDrops: Number(w[2]),
      txPackets: Number(w[3]), txBytes: Number(w[4]), txErrors: Number(w[5]),
      fwdPackets: Number(w[6]), fwdBytes: Number(w[7]),
    };
  }

  /** Kernel descriptor, for diagnostics only (the shim owns and closes it). */
  get fd(): number {
    return check("rtpe_socket_fd", this.shim.raw.rtpe_socket_fd(this.handle));
  }

  /** The shim this socket lives in (for send batches and forwarding rules). */
  get owner(): Shim {
    return this.shim;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.shim.setHandler(this.handle, null);
    if (this.shim.running) this.shim.raw.rtpe_socket_close(this.handle);
  }
}
