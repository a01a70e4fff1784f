// Plain RTP/AVP endpoint (the "SIP side"): answers the daemon's offer, sends G.711 at 20 ms, checks what it receives.
import dgram from "node:dgram";

export interface SdpMedia {
  /** audio, video, ... */
  type?: string;
  address: string;
  port: number;
  proto: string;
  /** a=rtcp port if given, else port + 1 */
  rtcpPort: number;
  payloadTypes: number[];
  rtpmap: Map<number, string>;
}

/** The first audio m= line of an SDP with its connection address (media c= before session c=). */
export function parseAudio(sdp: string): SdpMedia | null {
  const lines = sdp.split(/\r?\n/);
  let sessionAddr = "";
  let m: SdpMedia | null = null;
  for (const l of lines) {
    if (l.startsWith("m=")) {
      if (m) break;
      const f = l.slice(2).split(" ");
      if (f[0] !== "audio") continue;
      m = { address: sessionAddr, port: Number(f[1]), proto: f[2] ?? "", rtcpPort: Number(f[1]) + 1, payloadTypes: f.slice(3).map(Number), rtpmap: new Map() };
    } else if (l.startsWith("c=")) {
      const addr = l.split(" ")[2] ?? "";
      if (m) m.address = addr;
      else sessionAddr = addr;
    } else if (m && l.startsWith("a=rtcp:")) {
      m.rtcpPort = Number(l.slice(7).split(" ")[0]);
    } else if (m && l.startsWith("a=rtpmap:")) {
      const [pt, enc] = l.slice(9).split(" ");
      m.rtpmap.set(Number(pt), enc ?? "");
    }
  }
  return m;
}

/** Every m= line of an SDP (media c= before session c=), with its a=mid if any. */
export function parseMedias(sdp: string): (SdpMedia & { type: string; mid: string | null; fmtp: Map<number, string> })[] {
  const out: (SdpMedia & { type: string; mid: string | null; fmtp: Map<number, string> })[] = [];
  let sessionAddr = "";
  for (const l of sdp.split(/\r?\n/)) {
    const m = out[out.length - 1];
    if (l.startsWith("m=")) {
      const f = l.slice(2).split(" ");
      out.push({ type: f[0] ?? "", address: sessionAddr, port: Number(f[1]), proto: f[2] ?? "", rtcpPort: Number(f[1]) + 1, payloadTypes: f.slice(3).map(Number), rtpmap: new Map(), mid: null, fmtp: new Map() });
    } else if (l.startsWith("c=")) {
      const addr = l.split(" ")[2] ?? "";
      if (m) m.address = addr;
      else sessionAddr = addr;
    } else if (m && l.startsWith("a=rtcp:")) m.rtcpPort = Number(l.slice(7).split(" ")[0]);
    else if (m && l.startsWith("a=mid:")) m.mid = l.slice(6).trim();
    else if (m && l.startsWith("a=rtpmap:")) {
      const [pt, enc] = l.slice(9).split(" ");
      m.rtpmap.set(Number(pt), enc ?? "");
    } else if (m && l.startsWith("a=fmtp:")) {
      const sp = l.indexOf(" ");
      m.fmtp.set(Number(l.slice(7, sp)), l.slice(sp + 1));
    }
  }
  return out;
}

/** Linear 16-bit PCM sample to G.711 mu-law. */
function linearToUlaw(sample: number): number {
  const BIAS = 0x84;
  const sign = sample < 0 ? 0x80 : 0;
  let s = Math.min(Math.abs(sample), 32635) + BIAS;
  let exp = 7;
  for (let mask = 0x4000; (s & mask) === 0 && exp > 0; mask >>= 1) exp--;
  const mant = (s >> (exp + 3)) & 0x0f;
  s = ~(sign | (exp << 4) | mant) & 0xff;
  return s;
}

/** Linear 16-bit PCM sample to G.711 A-law. */
function linearToAlaw(sample: number): number {
  const sign = sample >= 0 ? 0x80 : 0;
  let s = Math.min(Math.abs(sample), 32767) >> 3;
  let exp = 0;
  if (s >= 32) {
    exp = 1;
    while (s >= 64 && exp < 7) {
      s >>= 1;
      exp++;
    }
    s &= 0x1f;
    s >>= 1;
    return (sign | (exp << 4) | (s & 0x0f)) ^ 0x55;
  }
  return (sign | (s >> 1)) ^ 0x55;
}

export interface ReceivedSummary {
  packets: number;
  badVersion: number;
  payloadTypes: Map<number, number>;
  payloadSizes: Map<number, number>;
  ssrcs: Set<number>;
  seqGaps: number;
  nonSilent: number;
  firstAt: number | null;
  from: Set<string>;
  /** RTCP on the RTP port (should have been demuxed by the daemon). */
  rtcpPackets: number;
  /** Packets on the RTCP port (port + 1): valid plain compound RTCP, and anything else. */
  rtcpDemuxed: number;
  rtcpInvalid: number;
  rtcpTypes: Set<number>;
  rtcpFirstAt: number | null;
  stunOrDtls: number;
}

export class RtpEndpoint {
  readonly rtp: dgram.Socket;
  readonly rtcp: dgram.Socket;
  port = 0;
  private timer: ReturnType<typeof setInterval> | null = null;
  private rtcpTimer: ReturnType<typeof setInterval> | null = null;
  private seq = Math.floor(Math.random() * 65535);
  private ts = Math.floor(Math.random() * 2 ** 31);
  private readonly ssrc = Math.floor(Math.random() * 2 ** 32) >>> 0;
  private phase = 0;
  private lastSeq = -1;
  sent = 0;
  readonly rx: ReceivedSummary = {
    packets: 0,
    badVersion: 0,
    payloadTypes: new Map(),
    payloadSizes: new Map(),
    ssrcs: new Set(),
    seqGaps: 0,
    nonSilent: 0,
    firstAt: null,
    from: new Set(),
    rtcpPackets: 0,
    rtcpDemuxed: 0,
    rtcpInvalid: 0,
    rtcpTypes: new Set(),
    rtcpFirstAt: null,
    stunOrDtls: 0,
  };

  private constructor(rtp: dgram.Socket, rtcp: dgram.Socket) {
    this.rtp = rtp;
    this.rtcp = rtcp;
  }

  /** Bind an even RTP port and the RTCP port above it on 127.0.0.1. */
  static async open(): Promise<RtpEndpoint> {
    for (let attempt = 0; attempt < 50; attempt++) {
      const base = 20000 + 2 * Math.floor(Math.random() * 10000);
      const rtp = dgram.createSocket("udp4");
      const rtcp = dgram.createSocket("udp4");
      const ok = await Promise.all([bind(rtp, base), bind(rtcp, base + 1)]);
      if (ok[0] && ok[1]) {
        const ep = new RtpEndpoint(rtp, rtcp);
        ep.port = base;
        rtp.on("message", (msg, rinfo) => ep.onRtp(msg, `${rinfo.address}:${rinfo.port}`));
        rtcp.on("message", (msg) => ep.onRtcp(msg));
        return ep;
      }
      rtp.close();
      rtcp.close();
    }
    throw new Error("could not bind an RTP port pair");
  }

  /** A plain compound RTCP packet: each part version 2, PT 200-207, lengths adding up exactly (SRTCP would leave index + tag over). */
  private onRtcp(msg: Buffer): void {
    const rx = this.rx;
    let off = 0;
    const types: number[] = [];
    while (off + 4 <= msg.length) {
      if (msg[off]! >> 6 !== 2) break;
      const pt = msg[off + 1]!;
      if (pt < 200 || pt > 207) break;
      types.push(pt);
      off += 4 * (msg.readUInt16BE(off + 2) + 1);
    }
    if (off !== msg.length || types.length === 0) {
      rx.rtcpInvalid++;
      return;
    }
    rx.rtcpDemuxed++;
    rx.rtcpFirstAt ??= performance.now();
    for (const t of types) rx.rtcpTypes.add(t);
  }

  private onRtp(msg: Buffer, from: string): void {
    const rx = this.rx;
    if (msg.length < 12) return;
    const b0 = msg[0]!;
    if (b0 < 2 || (b0 >= 20 && b0 <= 63)) {
      rx.stunOrDtls++; // STUN (0-3) or DTLS (20-63): must not reach a plain RTP/AVP endpoint
      return;
    }
    if (b0 >> 6 !== 2) {
      rx.badVersion++;
      return;
    }
    const pt = msg[1]! & 0x7f;
    if (pt >= 72 && pt <= 79) {
      rx.rtcpPackets++; // muxed RTCP: should have been demuxed, counted only
      return;
    }
    rx.packets++;
    rx.firstAt ??= performance.now();
    rx.from.add(from);
    rx.payloadTypes.set(pt, (rx.payloadTypes.get(pt) ?? 0) + 1);
    rx.ssrcs.add(msg.readUInt32BE(8));
    const seq = msg.readUInt16BE(2);
    if (this.lastSeq >= 0 && seq !== ((this.lastSeq + 1) & 0xffff)) rx.seqGaps++;
    this.lastSeq = seq;
    // header length: fixed 12 + CSRCs + extension; payload is the rest minus padding
    let off = 12 + 4 * (b0 & 0x0f);
    if (b0 & 0x10 && msg.length >= off + 4) off += 4 + 4 * msg.readUInt16BE(off + 2);
    let end = msg.length;
    if (b0 & 0x20 && end > off) end -= msg[end - 1]!;
    const size = end - off;
    rx.payloadSizes.set(size, (rx.payloadSizes.get(size) ?? 0) + 1);
    // G.711 silence is 0xff/0x7f (mu-law) or 0xd5/0x55 (A-law); count packets carrying anything else
    const payload = msg.subarray(off, end);
    const quiet = new Set([0xff, 0x7f, 0xfe, 0x7e, 0xd5, 0x55, 0xd4, 0x54]);
    if (payload.some((x) => !quiet.has(x))) rx.nonSilent++;
  }

  /** SDP answer for the daemon's (plain RTP/AVP) offer: one G.711 codec, our socket. */
  answerSdp(offer: SdpMedia): { sdp: string; pt: number } {
    const pt = offer.payloadTypes.includes(0) ? 0 : offer.payloadTypes.includes(8) ? 8 : -1;
    if (pt < 0) throw new Error(`the offer has neither PCMU nor PCMA: ${offer.payloadTypes.join(" ")}`);
    const sdp = [
      "v=0",
      `o=plain-ep ${Date.now()} 1 IN IP4 127.0.0.1`,
      "s=-",
      "c=IN IP4 127.0.0.1",
      "t=0 0",
      `m=audio ${this.port} RTP/AVP ${pt}`,
      `a=rtpmap:${pt} ${pt === 0 ? "PCMU" : "PCMA"}/8000`,
      "a=ptime:20",
      "a=sendrecv",
      "",
    ].join("\r\n");
    return { sdp, pt };
  }

  /** SDP offer of a SIP phone: PCMU, PCMA and telephone-event on our socket. */
  offerSdp(): string {
    return [
      "v=0",
      `o=plain-ep ${Date.now()} 1 IN IP4 127.0.0.1`,
      "s=-",
      "c=IN IP4 127.0.0.1",
      "t=0 0",
      `m=audio ${this.port} RTP/AVP 0 8 101`,
      "a=rtpmap:0 PCMU/8000",
      "a=rtpmap:8 PCMA/8000",
      "a=rtpmap:101 telephone-event/8000",
      "a=fmtp:101 0-16",
      "a=ptime:20",
      "a=sendrecv",
      "",
    ].join("\r\n");
  }

  /** Send a 440 Hz tone as G.711 every 20 ms to addr:port. */
  startSending(addr: string, port: number, pt: number): void {
    const encode = pt === 0 ? linearToUlaw : linearToAlaw;
    this.timer = setInterval(() => {
      const pkt = Buffer.alloc(12 + 160);
      pkt[0] = 0x80;
      pkt[1] = pt | (this.sent === 0 ? 0x80 : 0);
      pkt.writeUInt16BE(this.seq, 2);
      pkt.writeUInt32BE(this.ts >>> 0, 4);
      pkt.writeUInt32BE(this.ssrc, 8);
      for (let i = 0; i < 160; i++) {
        pkt[12 + i] = encode(Math.round(8000 * Math.sin(this.phase)));
        this.phase += (2 * Math.PI * 440) / 8000;
      }
      this.seq = (this.seq + 1) & 0xffff;
      this.ts = (this.ts + 160) >>> 0;
      this.sent++;
      this.rtp.send(pkt, port, addr);
    }, 20);
  }

  /** Compound RTCP: a sender report and an SDES CNAME, for our stream. */
  senderReport(): Buffer {
    const sr = Buffer.alloc(28);
    sr[0] = 0x80;
    sr[1] = 200;
    sr.writeUInt16BE(6, 2);
    sr.writeUInt32BE(this.ssrc, 4);
    const ntp = Date.now() / 1000 + 2208988800;
    sr.writeUInt32BE(Math.floor(ntp) >>> 0, 8);
    sr.writeUInt32BE(Math.floor((ntp % 1) * 2 ** 32) >>> 0, 12);
    sr.writeUInt32BE(this.ts >>> 0, 16);
    sr.writeUInt32BE(this.sent >>> 0, 20);
    sr.writeUInt32BE((this.sent * 160) >>> 0, 24);
    const cname = Buffer.from("plain-ep@127.0.0.1");
    const chunkLen = 4 + 2 + cname.length + 1;
    const padded = Math.ceil(chunkLen / 4) * 4;
    const sdes = Buffer.alloc(4 + padded);
    sdes[0] = 0x81;
    sdes[1] = 202;
    sdes.writeUInt16BE(padded / 4, 2);
    sdes.writeUInt32BE(this.ssrc, 4);
    sdes[8] = 1; // CNAME
    sdes[9] = cname.length;
    cname.copy(sdes, 10);
    return Buffer.concat([sr, sdes]);
  }

  /** Send a sender report now and every `everyMs` to addr:port (the daemon's RTCP port). */
  startRtcp(addr: string, port: number, everyMs = 500): void {
    const send = () => this.rtcp.send(this.senderReport(), port, addr);
    send();
    this.rtcpTimer = setInterval(send, everyMs);
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.rtcpTimer) clearInterval(this.rtcpTimer);
    this.timer = null;
    this.rtcpTimer = null;
    for (const s of [this.rtp, this.rtcp]) {
      try {
        s.close();
      } catch {
        /* already closed */
      }
    }
  }
}

function bind(s: dgram.Socket, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    s.once("error", () => resolve(false));
    s.bind(port, "127.0.0.1", () => resolve(true));
  });
}

/**
 * A plain RTP/AVP "phone" for one m= line that mirrors: every RTP packet it receives goes back to the
 * daemon with its own SSRC (so the browser gets real, decodable media of the codec it sent), and it
 * records what arrived. Used for Opus audio and VP8 video, which the harness cannot synthesise simply.
 */
export class MirrorEndpoint {
  readonly rtp: dgram.Socket;
  readonly rtcp: dgram.Socket;
  port = 0;
  private readonly ssrc = Math.floor(Math.random() * 2 ** 32) >>> 0;
  private dest: { address: string; port: number } | null = null;
  sent = 0;
  readonly rx = {
    packets: 0,
    bytes: 0,
    payloadTypes: new Map<number, number>(),
    ssrcs: new Set<number>(),
    from: new Set<string>(),
    stunOrDtls: 0,
    rtcpOnRtpPort: 0,
    rtcpDemuxed: 0,
    /** payloads (after header, extension and padding) */
    payloads: [] as Buffer[],
  };

  private constructor(rtp: dgram.Socket, rtcp: dgram.Socket) {
    this.rtp = rtp;
    this.rtcp = rtcp;
  }

  static async open(): Promise<MirrorEndpoint> {
    const ep = await RtpEndpoint.open();
    // reuse the port-pair binding, then take the sockets over
    ep.rtp.removeAllListeners("message");
    ep.rtcp.removeAllListeners("message");
    const m = new MirrorEndpoint(ep.rtp, ep.rtcp);
    m.port = ep.port;
    m.rtp.on("message", (msg, rinfo) => m.onRtp(msg, `${rinfo.address}:${rinfo.port}`));
    m.rtcp.on("message", () => m.rx.rtcpDemuxed++);
    return m;
  }

  /** Start mirroring towards the daemon's port for this m= line. */
  mirrorTo(address: string, port: number): void {
    this.dest = { address, port };
  }

  private onRtp(msg: Buffer, from: string): void {
    const rx = this.rx;
    if (msg.length < 12) return;
    const b0 = msg[0]!;
    if (b0 < 2 || (b0 >= 20 && b0 <= 63)) {
      rx.stunOrDtls++;
      return;
    }
    if (b0 >> 6 !== 2) return;
    const pt = msg[1]! & 0x7f;
    if (pt >= 72 && pt <= 79) {
      rx.rtcpOnRtpPort++;
      return;
    }
    rx.packets++;
    rx.bytes += msg.length;
    rx.from.add(from);
    rx.payloadTypes.set(pt, (rx.payloadTypes.get(pt) ?? 0) + 1);
    rx.ssrcs.add(msg.readUInt32BE(8));
    let off = 12 + 4 * (b0 & 0x0f);
    if (b0 & 0x10 && msg.length >= off + 4) off += 4 + 4 * msg.readUInt16BE(off + 2);
    let end = msg.length;
    if (b0 & 0x20 && end > off) end -= msg[end - 1]!;
    if (rx.payloads.length < 2000 && end > off) rx.payloads.push(Buffer.from(msg.subarray(off, end)));
    if (this.dest) {
      const back = Buffer.from(msg);
      back.writeUInt32BE(this.ssrc, 8);
      this.rtp.send(back, this.dest.port, this.dest.address);
      this.sent++;
    }
  }

  close(): void {
    for (const s of [this.rtp, this.rtcp]) {
      try {
        s.close();
      } catch {
        /* already closed */
      }
    }
  }
}

/** VP8 (RFC 7741): does any payload start a key frame (descriptor S=1, PID 0, then the 0x9d012a start code)? */
export function vp8KeyFrames(payloads: Buffer[]): number {
  let n = 0;
  for (const p of payloads) {
    if (p.length < 10) continue;
    let off = 1;
    const x = p[0]! & 0x80;
    if (!(p[0]! & 0x10) || (p[0]! & 0x07) !== 0) continue; // S bit, partition 0
    if (x) {
      const ext = p[1]!;
      off = 2;
      if (ext & 0x80) off += p[off]! & 0x80 ? 2 : 1; // I: picture id (7 or 15 bits)
      if (ext & 0x40) off += 1; // L: TL0PICIDX
      if (ext & 0x30) off += 1; // T/K
    }
    // payload header: P bit (0 = key frame) in the first byte, start code at bytes 3..5
    if (p.length >= off + 6 && (p[off]! & 0x01) === 0 && p[off + 3] === 0x9d && p[off + 4] === 0x01 && p[off + 5] === 0x2a) n++;
  }
  return n;
}

/** Opus (RFC 6716): the share of payloads whose TOC byte is the most common one (encrypted payloads are random). */
export function opusTocConsistency(payloads: Buffer[]): number {
  const counts = new Map<number, number>();
  for (const p of payloads) if (p.length) counts.set(p[0]!, (counts.get(p[0]!) ?? 0) + 1);
  const top = Math.max(0, ...counts.values());
  return payloads.length ? top / payloads.length : 0;
}
