// Test helpers for media tests: UDP phones that send RTP and collect what arrives, SDP bodies, a TOS-reading receiver.
import dgram from "node:dgram";
import type { TestDaemon } from "../helpers/daemon.ts";

export interface Received {
  data: Buffer;
  from: { address: string; port: number };
}

/** RTP packet number `n` of a 20 ms PCMU-like stream (or `pt`): 12-byte header, 160 bytes of `fill`. */
export function rtpPacket(n: number, ssrc: number, fill: number, pt = 0): Buffer {
  const b = Buffer.alloc(172, fill);
  b[0] = 0x80;
  b[1] = pt;
  b.writeUInt16BE(n & 0xffff, 2);
  b.writeUInt32BE(((n + 1) * 160) >>> 0, 4);
  b.writeUInt32BE(ssrc, 8);
  return b;
}

/**
 * RTP (or SRTP) datagrams in sequence-number order. When a stream moves from TypeScript to the fast path its
 * first packets leave from another thread than the next ones, and on loopback two CPUs' queues can deliver
 * them a packet apart, as RTP over UDP may be: tests comparing what was sent with what arrived sort first.
 */
export function inSeqOrder(list: readonly Buffer[]): Buffer[] {
  return [...list].sort((x, y) => x.readUInt16BE(2) - y.readUInt16BE(2));
}

/** One UDP socket playing a phone's RTP (or RTCP) port. */
export class Phone {
  readonly got: Received[] = [];
  private seq = 0;
  private constructor(
    readonly sock: dgram.Socket,
    readonly host: string,
    readonly ssrc: number,
  ) {
    sock.on("message", (data, r) => this.got.push({ data, from: { address: r.address, port: r.port } }));
  }

  static async open(host = "127.0.0.1"): Promise<Phone> {
    const sock = dgram.createSocket(host.includes(":") ? "udp6" : "udp4");
    await new Promise<void>((res) => sock.bind(0, host, () => res()));
    return new Phone(sock, host, (Math.random() * 0xffffffff) >>> 0);
  }

  get port(): number {
    return this.sock.address().port;
  }

  /** A PCMU (or `pt`) RTP packet: 12-byte header and 160 bytes of `fill`. */
  rtp(pt = 0, fill = 0x55): Buffer {
    return rtpPacket(this.seq++, this.ssrc, fill, pt);
  }

  send(port: number, data: Buffer = this.rtp(), host = this.host): void {
    this.sock.send(data, port, host);
  }

  /** Send `n` RTP packets `gapMs` apart. */
  async burst(port: number, n: number, gapMs = 2, mk: () => Buffer = () => this.rtp()): Promise<void> {
    for (let i = 0; i < n; i++) {
      this.send(port, mk());
      if (gapMs) await Bun.sleep(gapMs);
    }
  }

  /** Wait until at least `n` packets arrived (or `ms` passed); returns how many there are. */
  async waitFor(n: number, ms = 2000): Promise<number> {
    const end = Date.now() + ms;
    while (this.got.length < n && Date.now() < end) await Bun.sleep(10);
    return this.got.length;
  }

  clear(): void {
    this.got.length = 0;
  }

  close(): void {
    this.sock.close();
  }
}

/** A one-stream audio SDP for a phone at host:port. */
export function audioSdp(host: string, port: number, extra: string[] = []): string {
  const ip = host.includes(":") ? "IP6" : "IP4";
  return [
    "v=0", `o=- 1545997027 1 IN ${ip} ${host}`, "s=tester", `c=IN ${ip} ${host}`, "t=0 0",
    `m=audio ${port} RTP/AVP 0 8 101`, "a=rtpmap:101 telephone-event/8000", ...extra, "",
  ].join("\r\n");
}

/** Media port and address the daemon put in an SDP. */
export function mediaOf(sdp: string): { address: string; port: number } {
  const port = Number(/^m=audio (\d+)/m.exec(sdp)?.[1]);
  const address = /^c=IN IP[46] (\S+)/m.exec(sdp)?.[1] ?? "";
  return { address, port };
}

let callSeq = 0;

/** Offer from A and answer from B; returns the ports each phone must send to. */
export async function setupCall(
  d: Pick<TestDaemon, "ng">,
  a: { host: string; port: number },
  b: { host: string; port: number },
  opts: { offer?: Record<string, unknown>; answer?: Record<string, unknown> } = {},
): Promise<{ callId: string; toA: { address: string; port: number }; toB: { address: string; port: number } }> {
  const callId = `media-${process.pid}-${++callSeq}-${Date.now()}`;
  const o = await d.ng({ command: "offer", "call-id": callId, "from-tag": "A", sdp: audioSdp(a.host, a.port), ...(opts.offer as object) });
  if (o.result !== "ok") throw new Error(`offer failed: ${JSON.stringify(o)}`);
  const an = await d.ng({ command: "answer", "call-id": callId, "from-tag": "A", "to-tag": "B", sdp: audioSdp(b.host, b.port), ...(opts.answer as object) });
  if (an.result !== "ok") throw new Error(`answer failed: ${JSON.stringify(an)}`);
  // A sends to the port in the answer (its side), B to the port in the offer
  return { callId, toA: mediaOf(an.sdp as string), toB: mediaOf(o.sdp as string) };
}

/** True when a UDP port on host can be bound (i.e. the daemon closed it). */
/** Whether the port becomes free within `withinMs`: the shim closes a socket on its forwarding thread's next
 * round (after its pending sends), so a port is free shortly after the reply that ended the call, not at once. */
export async function portFreed(host: string, port: number, withinMs = 1000): Promise<boolean> {
  const end = Date.now() + withinMs;
  for (;;) {
    if (await portFree(host, port)) return true;
    if (Date.now() > end) return false;
    await Bun.sleep(20);
  }
}

export async function portFree(host: string, port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = dgram.createSocket(host.includes(":") ? "udp6" : "udp4");
    s.once("error", () => res(false));
    s.bind(port, host, () => s.close(() => res(true)));
  });
}

const TOS_RECEIVER = `
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, socket.IP_RECVTOS, 1)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1], flush=True)
s.settimeout(5)
try:
    data, anc, flags, addr = s.recvmsg(2048, 64)
except socket.timeout:
    print("timeout", flush=True)
    sys.exit(0)
tos = -1
for level, typ, val in anc:
    if level == socket.IPPROTO_IP and typ == socket.IP_TOS:
        tos = val[0]
print("tos", tos, flush=True)
`;

/** A python3 receiver that reports the IP TOS byte of the first datagram it gets. */
export async function tosReceiver(): Promise<{ port: number; tos: Promise<number | null>; kill(): void }> {
  const p = Bun.spawn(["python3", "-c", TOS_RECEIVER], { stdout: "pipe", stderr: "inherit" });
  const reader = p.stdout.getReader();
  const dec = new TextDecoder();
  let buf = "";
  const line = async (): Promise<string | null> => {
    while (!buf.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) return null;
      buf += dec.decode(value);
    }
    const i = buf.indexOf("\n");
    const l = buf.slice(0, i);
    buf = buf.slice(i + 1);
    return l;
  };
  const port = Number(await line());
  const tos = line().then((l) => (l && l.startsWith("tos ") ? Number(l.slice(4)) : null));
  return { port, tos, kill: () => p.kill() };
}
