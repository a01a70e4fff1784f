// Sends a few RTP packets both ways of a replayed call, so steps that upstream ran after media (play DTMF) find their SSRCs.
import type { udp } from "bun";

export interface Endpoint {
  addr: string;
  port: number;
  pt: number;
}

/** First connection address, first m= port and first payload type of an SDP. */
export function sdpEndpoint(sdp: string | undefined): Endpoint | null {
  if (!sdp) return null;
  const c = /^c=IN IP[46] (\S+)/m.exec(sdp);
  const m = /^m=\S+ (\d+) \S+ (\d+)/m.exec(sdp);
  if (!c || !m) return null;
  return { addr: c[1]!, port: Number(m[1]), pt: Number(m[2]) };
}

function rtp(pt: number, seq: number, ts: number, ssrc: number): Uint8Array {
  const b = Buffer.alloc(12 + 160, 0xff); // PCMU-sized silence-ish payload
  b[0] = 0x80;
  b[1] = pt & 0x7f;
  b.writeUInt16BE(seq & 0xffff, 2);
  b.writeUInt32BE(ts >>> 0, 4);
  b.writeUInt32BE(ssrc >>> 0, 8);
  return b;
}

/**
 * From each endpoint (bound on its own address and port, as upstream's test sockets were),
 * send `count` packets at 20 ms to the media proxy address it was given in the other side's reply.
 */
export async function primeMedia(pairs: { from: Endpoint; to: Endpoint }[], count = 5): Promise<string | null> {
  const socks: udp.Socket<"buffer">[] = [];
  try {
    for (const p of pairs) {
      socks.push(await Bun.udpSocket({ hostname: p.from.addr, port: p.from.port, socket: { data: () => {}, error: () => {} } }));
    }
    const ssrcs = pairs.map(() => (Math.random() * 0xffffffff) >>> 0);
    const seq0 = pairs.map(() => Math.floor(Math.random() * 30000));
    for (let i = 0; i < count; i++) {
      pairs.forEach((p, k) => socks[k]!.send(rtp(p.from.pt, seq0[k]! + i, 160 * i, ssrcs[k]!), p.to.port, p.to.addr));
      await Bun.sleep(20);
    }
    await Bun.sleep(30); // let the daemon read them
    return null;
  } catch (e) {
    return (e as Error).message;
  } finally {
    socks.forEach((s) => s.close());
  }
}
