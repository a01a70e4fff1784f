// Test helpers for secure media tests: SRTP contexts from SDES keys, protect/unprotect, RTCP reports, fast-path totals, a DTLS peer.
import dgram from "node:dgram";
import { srtpSuiteByName, type SrtpContext, type SrtpLibrary } from "../../src/crypto/srtp.ts";
import type { DtlsConnection } from "../../src/crypto/dtls.ts";
import type { NgDict } from "../../src/control/types.ts";
import type { TestDaemon } from "../helpers/daemon.ts";

/** An SRTP context from an SDES inline key (base64 master key + salt). */
export function srtpContext(lib: SrtpLibrary, suite: string, b64: string): SrtpContext {
  const s = srtpSuiteByName(suite)!;
  const raw = Buffer.from(b64, "base64");
  return lib.context(s, raw.subarray(0, s.keyLength), raw.subarray(s.keyLength, s.keyLength + s.saltLength));
}

/** The a=crypto lines of an SDP, in order. */
export function sdesCryptos(body: string): { tag: number; suite: string; key: string }[] {
  return [...body.matchAll(/^a=crypto:(\d+) (\S+) inline:([A-Za-z0-9+/=]+)/gm)].map((m) => ({ tag: Number(m[1]), suite: m[2]!, key: m[3]! }));
}

/** SRTP (or SRTCP) protect of a copy; throws on a transform error. */
export function protect(c: SrtpContext, plain: Buffer, rtcp = false): Buffer {
  const buf = new Uint8Array(plain.length + 64);
  buf.set(plain);
  const n = rtcp ? c.protectRtcp(buf, plain.length) : c.protect(buf, plain.length);
  if (n < 0) throw new Error(`protect: ${n}`);
  return Buffer.from(buf.subarray(0, n));
}

/** SRTP (or SRTCP) unprotect of a copy; null when it does not authenticate. */
export function unprotect(c: SrtpContext, enc: Buffer, rtcp = false): Buffer | null {
  const buf = new Uint8Array(enc);
  const n = rtcp ? c.unprotectRtcp(buf, buf.length) : c.unprotect(buf, buf.length);
  return n < 0 ? null : Buffer.from(buf.subarray(0, n));
}

/** An RTCP sender report; `n` (its packet count) makes each one differ. */
export function rtcpSr(ssrc: number, n = 0): Buffer {
  const b = Buffer.alloc(28);
  b[0] = 0x80;
  b[1] = 200;
  b.writeUInt16BE(6, 2);
  b.writeUInt32BE(ssrc, 4);
  b.writeUInt32BE(n, 20);
  return b;
}

/** Packets relayed by TypeScript (`user`) and by forwarding rules (`kernel`) so far, rule counters credited first. */
export async function relayedTotals(d: TestDaemon, callId: string): Promise<{ user: number; kernel: number }> {
  await d.ng({ command: "query", "call-id": callId }); // credits the rules' counters now (else once a second)
  const t = ((await d.ng({ command: "statistics" })).statistics as NgDict).totalstatistics as Record<string, number>;
  return { user: Number(t.relayedpackets_user), kernel: Number(t.relayedpackets_kernel) };
}

/** A DTLS-SRTP endpoint (one socket, rtcp-mux): DTLS datagrams go to `conn`, the others collect in `got`. */
export class DtlsPeer {
  readonly got: Buffer[] = [];
  daemon: { address: string; port: number } | null = null;
  private readonly timer: ReturnType<typeof setInterval>;
  constructor(readonly sock: dgram.Socket, readonly conn: DtlsConnection) {
    sock.on("message", (data, r) => {
      if (data[0]! >= 20 && data[0]! <= 63) {
        this.daemon ??= { address: r.address, port: r.port };
        this.conn.feed(data);
        this.flush();
      } else this.got.push(data);
    });
    this.timer = setInterval(() => {
      const ms = this.conn.timeoutMs();
      if (ms !== null && ms <= 0) this.conn.handleTimer();
      this.flush();
    }, 20);
  }
  /** On a fresh IPv4 socket of `host`. */
  static async open(conn: DtlsConnection, host = "127.0.0.1"): Promise<DtlsPeer> {
    const s = dgram.createSocket("udp4");
    await new Promise<void>((res) => s.bind(0, host, () => res()));
    return new DtlsPeer(s, conn);
  }
  get port(): number {
    return this.sock.address().port;
  }
  flush(): void {
    if (this.daemon) for (const x of this.conn.takeOutgoing()) this.sock.send(x, this.daemon.port, this.daemon.address);
  }
  /** Client side: send the first flight to the daemon. */
  start(daemon: { address: string; port: number }): void {
    this.daemon = daemon;
    this.conn.start();
    this.flush();
  }
  /** Whether the handshake completed within `ms`. */
  async connected(ms = 3000): Promise<boolean> {
    const end = Date.now() + ms;
    while (this.conn.state !== "connected" && this.conn.state !== "failed" && Date.now() < end) await Bun.sleep(10);
    return this.conn.state === "connected";
  }
  /** SRTP contexts from the exported keys: `out` protects what this peer sends, `in` unprotects what it gets. */
  contexts(lib: SrtpLibrary): { out: SrtpContext; in: SrtpContext } {
    const k = this.conn.keys()!;
    return { out: lib.context(k.suite, k.localKey, k.localSalt), in: lib.context(k.suite, k.remoteKey, k.remoteSalt) };
  }
  close(): void {
    clearInterval(this.timer);
    this.sock.close();
    this.conn.free();
  }
}
