// librtpe_shim through MediaSocket on real UDP sockets: bind, port pairs, batched receive, sendmmsg, TOS, ring drops, rules, sd_notify.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawn, spawnSync } from "node:child_process";
import dgram from "node:dgram";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { initMediaSockets, MediaSocket, shutdownMediaSockets, ShimError, type RxPacket } from "../../src/media/socket.ts";
import { SendBatch } from "../../src/media/socket-batch.ts";
import { sdNotify, type Shim } from "../../src/platform/shim.ts";
import { uringAvailable, uringExpected } from "../helpers/uring.ts";
import { canonicalAddress, decodeAddr, encodeAddr } from "../../src/platform/shim-addr.ts";
import {
  ADDR_SIZE, SHIM_API_VERSION, MISMATCH_DROP, RULE_MUX_RTCP, RULE_RTCP, RULE_RTCP_DEMUX, RULE_RTCP_TO_USER, RULE_RTP, MISMATCH_PROPAGATE, RULE, RULE_SET_TOS, RULE_SIZE, RULE_STATS_WORDS,
} from "../../src/platform/shim-abi.ts";
import { missing } from "../helpers/requires.ts";

const root = resolve(import.meta.dir, "../..");
const lib = join(root, "ffi/build/librtpe_shim.so");
let shim: Shim;
const open: MediaSocket[] = [];

/** Rebuild the shim when a C source is newer than the library (tests must see the current C). */
function ensureShimBuilt(): void {
  const ffi = join(root, "ffi");
  const newest = Math.max(...readdirSync(ffi).filter((f) => /\.(c|h|sh)$/.test(f)).map((f) => statSync(join(ffi, f)).mtimeMs));
  if (existsSync(lib) && statSync(lib).mtimeMs >= newest) return;
  const r = spawnSync("sh", [join(ffi, "build.sh")], { stdio: "inherit" });
  if (r.status !== 0) throw new Error("ffi/build.sh failed");
}

async function waitFor(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("timed out waiting");
    await Bun.sleep(5);
  }
}

function bind(address = "127.0.0.1", opts: { tos?: number; port?: number; recvTos?: boolean; rcvbuf?: number } = {}): MediaSocket {
  const s = MediaSocket.bind({ address, ...opts });
  open.push(s);
  return s;
}

function collect(s: MediaSocket): { packets: { src: RxPacket["src"]; dst: RxPacket["dst"]; tos: number; data: string }[]; batches: number[] } {
  const got = { packets: [] as { src: RxPacket["src"]; dst: RxPacket["dst"]; tos: number; data: string }[], batches: [] as number[] };
  s.onPackets = (pk) => {
    got.batches.push(pk.length);
    // data views are only valid during the call: copy
    for (const p of pk) got.packets.push({ src: p.src, dst: p.dst, tos: p.tos, data: Buffer.from(p.data).toString("latin1") });
  };
  return got;
}

function udp(type: "udp4" | "udp6" = "udp4"): Promise<dgram.Socket> {
  const s = dgram.createSocket(type);
  return new Promise((res) => s.bind(0, type === "udp4" ? "127.0.0.1" : "::1", () => res(s)));
}

function udpAt(port: number): Promise<dgram.Socket> {
  const s = dgram.createSocket("udp4");
  return new Promise((res) => s.bind(port, "127.0.0.1", () => res(s)));
}

/** A free even port P such that P..P+7 are all free right now. */
async function freeRange(): Promise<number> {
  for (let tries = 0; tries < 50; tries++) {
    const base = 40000 + 2 * Math.floor(Math.random() * 5000);
    const probes: MediaSocket[] = [];
    try {
      for (let p = base; p < base + 8; p++) probes.push(MediaSocket.bind({ address: "127.0.0.1", port: p }));
      return base;
    } catch {
      // one was busy: try elsewhere
    } finally {
      for (const s of probes) s.close();
    }
  }
  throw new Error("no free port range");
}

// a cold zig build takes several seconds: longer than bun's default hook timeout
beforeAll(async () => {
  ensureShimBuilt();
  shim = await initMediaSockets();
}, 120_000);

afterAll(async () => {
  for (const s of open) s.close();
  await shutdownMediaSockets();
});

describe("addresses", () => {
  test("IPv6 text round-trips in RFC 5952 form", () => {
    const b = new Uint8Array(ADDR_SIZE);
    for (const [inp, out] of [
      ["::1", "::1"], ["2001:DB8:0:0:0:0:0:1", "2001:db8::1"], ["2001:db8:0:1:0:0:0:0", "2001:db8:0:1::"],
      ["fe80::1:0:0:2", "fe80::1:0:0:2"], ["::ffff:192.0.2.1", "::ffff:192.0.2.1"], ["2001:db8:1:2:3:4:5:6", "2001:db8:1:2:3:4:5:6"],
    ]) {
      encodeAddr(b, 0, inp!, 9);
      expect(decodeAddr(b, 0)).toEqual({ family: 6, port: 9, address: out! });
    }
    // byte layout shared with kernel-module/rtpengine_uapi.h: u16 AF_INET, u16 port (host order), address
    encodeAddr(b, 0, "192.0.2.1", 5004);
    expect([...b.subarray(0, 9)]).toEqual([2, 0, 0x8c, 0x13, 192, 0, 2, 1, 0]);
    encodeAddr(b, 0, "2001:db8::7", 1);
    expect([...b.subarray(0, 6)]).toEqual([10, 0, 1, 0, 0x20, 0x01]);
    expect(canonicalAddress("192.0.2.10")).toBe("192.0.2.10");
    expect(() => encodeAddr(b, 0, "1.2.3", 1)).toThrow();
    expect(() => encodeAddr(b, 0, "1::2::3", 1)).toThrow();
    expect(() => encodeAddr(b, 0, "256.1.1.1", 1)).toThrow();
  });
});

describe("sockets", () => {
  test("binds IPv4 and IPv6 (v6-only), reports busy ports, frees a port on close", async () => {
    expect(shim.raw.rtpe_api_version()).toBe(SHIM_API_VERSION);
    const a = bind("127.0.0.1");
    expect(a.local.family).toBe(4);
    expect(a.local.port).toBeGreaterThan(0);
    const b = bind("::1");
    expect(b.local).toMatchObject({ family: 6, address: "::1" });
    let err: unknown;
    try {
      bind("127.0.0.1", { port: a.local.port });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ShimError);
    expect((err as ShimError).code).toBe("EADDRINUSE");
    const port = a.local.port;
    a.close();
    expect(a.isClosed).toBe(true);
    expect(shim.raw.rtpe_socket_close(a.handle)).toBe(-9); // EBADF: a handle is not closed twice
    expect(bind("127.0.0.1", { port }).local.port).toBe(port);
    // IPV6_V6ONLY: a v6 wildcard socket leaves the same v4 port free (retry if another process
    // happens to hold that v4 port already)
    let v4Port = 0;
    for (let tries = 0; tries < 10 && !v4Port; tries++) {
      const v6 = bind("::");
      const probe = dgram.createSocket("udp4");
      const free = await new Promise<boolean>((res) => {
        probe.once("error", () => res(false));
        probe.bind(v6.local.port, "0.0.0.0", () => res(true));
      });
      probe.close();
      if (free) v4Port = bind("0.0.0.0", { port: v6.local.port }).local.port === v6.local.port ? v6.local.port : -1;
    }
    expect(v4Port).toBeGreaterThan(0);
  });

  test("a closed handle is not reused right away (stale ring records cannot reach a new socket)", () => {
    const closed = new Set<number>();
    for (let i = 0; i < 50; i++) {
      const s = MediaSocket.bind({ address: "127.0.0.1" });
      expect(closed.has(s.handle)).toBe(false);
      closed.add(s.handle);
      s.close();
    }
  });

  test("port pairs: RTP even, RTCP next, busy ports skipped, exhausted range refused", async () => {
    const base = await freeRange();
    // occupy base (an RTP port) and base+3 (the RTCP port of the second pair): the first usable pair is base+4/+5
    const blockers = [await udpAt(base), await udpAt(base + 3)];
    try {
      const [rtp, rtcp] = MediaSocket.bindPair({ address: "127.0.0.1", minPort: base, maxPort: base + 7, seed: 0 });
      open.push(rtp, rtcp);
      expect(rtp.local.port).toBe(base + 4);
      expect(rtcp.local.port).toBe(base + 5);
      const [rtp2, rtcp2] = MediaSocket.bindPair({ address: "127.0.0.1", minPort: base, maxPort: base + 7, seed: 0 });
      open.push(rtp2, rtcp2);
      expect([rtp2.local.port, rtcp2.local.port]).toEqual([base + 6, base + 7]);
      expect(() => MediaSocket.bindPair({ address: "127.0.0.1", minPort: base, maxPort: base + 7 })).toThrow("EADDRINUSE");
      // an odd minimum starts at the next even port; seeds spread the start over the range
      const seen = new Set<number>();
      for (let seed = 0; seed < 4; seed++) {
        const [r, c] = MediaSocket.bindPair({ address: "127.0.0.1", minPort: base + 9, maxPort: base + 400, seed: seed * 50 });
        seen.add(r.local.port);
        expect(r.local.port % 2).toBe(0);
        expect(c.local.port).toBe(r.local.port + 1);
        r.close();
        c.close();
      }
      expect(seen.size).toBe(4);
    } finally {
      for (const b of blockers) b.close();
    }
  });

  test("batched receive: source, pktinfo destination, length and order reach JS in one batch", async () => {
    const s = bind("127.0.0.1");
    const got = collect(s);
    const tx = await udp();
    shim.pause(); // hold delivery so the whole burst is queued before JS drains it
    try {
      for (let i = 0; i < 20; i++) tx.send(`packet-${i}-${"x".repeat(i)}`, s.local.port, "127.0.0.1");
      await waitFor(() => s.stats().rxPackets === 20);
      expect(got.packets.length).toBe(0);
    } finally {
      shim.resume();
    }
    expect(got.packets.length).toBe(20);
    expect(got.batches).toEqual([20]);
    got.packets.forEach((p, i) => {
      expect(p.data).toBe(`packet-${i}-${"x".repeat(i)}`);
      expect(p.src).toEqual({ family: 4, address: "127.0.0.1", port: tx.address().port });
      expect(p.dst).toEqual({ family: 4, address: "127.0.0.1", port: s.local.port });
    });
    const st = s.stats();
    expect(st.rxBytes).toBe(got.packets.reduce((n, p) => n + p.data.length, 0));
    tx.close();
  });

  test("a wildcard IPv4 bind carries the packet's destination address (IP_PKTINFO)", async () => {
    const s = bind("0.0.0.0");
    const got = collect(s);
    const tx = await udp("udp4");
    tx.send("four", s.local.port, "127.0.0.2");
    await waitFor(() => got.packets.length === 1);
    expect(got.packets[0]!.dst).toEqual({ family: 4, address: "127.0.0.2", port: s.local.port });
    tx.close();
  });

  test("IPv6 receive carries the packet's destination address", async () => {
    const s = bind("::");
    const got = collect(s);
    const tx = await udp("udp6");
    tx.send("six", s.local.port, "::1");
    await waitFor(() => got.packets.length === 1);
    expect(got.packets[0]!.dst).toEqual({ family: 6, address: "::1", port: s.local.port });
    expect(got.packets[0]!.src.port).toBe(tx.address().port);
    tx.close();
  });

  test("send and sendmmsg batches reach real UDP receivers from the right sockets", async () => {
    const a = bind(), b = bind();
    const r1 = await udp(), r2 = await udp();
    const seen: { to: number; from: number; msg: string }[] = [];
    for (const r of [r1, r2]) r.on("message", (m, rinfo) => seen.push({ to: r.address().port, from: rinfo.port, msg: m.toString() }));
    expect(a.send({ address: "127.0.0.1", port: r1.address().port }, Buffer.from("single"))).toBe(true);
    const batch = new SendBatch(4096);
    for (let i = 0; i < 10; i++) {
      const [from, to] = i % 3 === 0 ? [b, r2] : [a, r1];
      expect(batch.add(from, { address: "127.0.0.1", port: to.address().port }, Buffer.from(`m${i}`))).toBe(true);
    }
    expect(batch.flush()).toBe(10);
    await waitFor(() => seen.length === 11);
    expect(seen.find((s) => s.msg === "single")).toEqual({ to: r1.address().port, from: a.local.port, msg: "single" });
    for (let i = 0; i < 10; i++) {
      const e = seen.find((s) => s.msg === `m${i}`)!;
      expect(e.from).toBe(i % 3 === 0 ? b.local.port : a.local.port);
      expect(e.to).toBe(i % 3 === 0 ? r2.address().port : r1.address().port);
    }
    expect(a.stats().txPackets).toBe(1 + 6);
    expect(b.stats().txPackets).toBe(4);
    // a full batch says so instead of overflowing
    const small = new SendBatch(64);
    expect(small.add(a, { address: "127.0.0.1", port: 9 }, new Uint8Array(40))).toBe(false);
    // a malformed buffer is refused whole
    expect(shim.raw.rtpe_send_batch(new Uint8Array(16), 16)).toBe(-22);
    r1.close();
    r2.close();
  });

  test("a maximum-size datagram (65507 bytes over IPv4) goes through the ring intact", async () => {
    const s = bind();
    let got: Uint8Array | null = null;
    s.onPackets = (pk) => { got = new Uint8Array(pk[0]!.data); };
    const big = new Uint8Array(65507).map((_, i) => (i * 7) & 0xff);
    expect(bind().send(s.local, big)).toBe(true);
    await waitFor(() => got !== null);
    expect(got!.byteLength).toBe(65507);
    expect(Buffer.compare(Buffer.from(got!), Buffer.from(big))).toBe(0);
  });

  test("TOS / traffic class set on the socket is seen by a receiver bound with recvTos (IP_RECVTOS / IPV6_RECVTCLASS)", async () => {
    for (const addr of ["127.0.0.1", "::1"]) {
      const tx = bind(addr, { tos: 0xb8 });
      const rx = bind(addr, { recvTos: true });
      const plain = bind(addr); // without recvTos: no control message per packet, tos reads 0
      const got = collect(rx), gotPlain = collect(plain);
      tx.send(plain.local, Buffer.from("cs0"));
      await waitFor(() => gotPlain.packets.length === 1);
      expect(gotPlain.packets[0]!.tos).toBe(0);
      expect(gotPlain.packets[0]!.dst.address).toBe(plain.local.address);
      expect(gotPlain.packets[0]!.dst.port).toBe(plain.local.port);
      tx.send(rx.local, Buffer.from("ef"));
      await waitFor(() => got.packets.length === 1);
      expect(got.packets[0]!.tos).toBe(0xb8);
      tx.setTos(0x68);
      tx.send(rx.local, Buffer.from("af31"));
      await waitFor(() => got.packets.length === 2);
      expect(got.packets[1]!.tos).toBe(0x68);
    }
  });

  test("a full ring drops and counts instead of blocking the receive thread", async () => {
    const s = bind();
    const got = collect(s);
    const tx = await udp();
    shim.pause();
    shim.setRingLimit(4096); // room for ~15 records of 200 payload bytes
    const before = shim.globalStats().ringDrops;
    try {
      for (let i = 0; i < 100; i++) tx.send(Buffer.alloc(200, i), s.local.port, "127.0.0.1");
      await waitFor(() => s.stats().rxPackets === 100);
    } finally {
      shim.setRingLimit(0);
      shim.resume();
    }
    const st = s.stats();
    expect(st.rxRingDrops).toBeGreaterThan(50);
    expect(got.packets.length + st.rxRingDrops).toBe(100);
    expect(got.packets.length).toBeGreaterThan(0);
    expect(shim.globalStats().ringDrops - before).toBe(st.rxRingDrops);
    // delivery works again afterwards
    tx.send("after", s.local.port, "127.0.0.1");
    await waitFor(() => got.packets.some((p) => p.data === "after"));
    tx.close();
  });
});

/** struct rtpe_rule, written here independently of src/kernel/rule.ts. */
function rule(local: MediaSocket, output: MediaSocket, dst: { address: string; port: number },
  opts: {
    src?: { address: string; port: number }; drop?: boolean; tos?: number; flags?: number; pts?: number[];
    rtcpOut?: MediaSocket; rtcpDst?: { address: string; port: number };
  } = {}): Uint8Array {
  const b = new Uint8Array(RULE_SIZE);
  const dv = new DataView(b.buffer);
  dv.setInt32(RULE.local, local.handle, true);
  dv.setInt32(RULE.output, output.handle, true);
  if (opts.src) encodeAddr(b, RULE.expectedSrc, opts.src.address, opts.src.port);
  encodeAddr(b, RULE.dstAddr, dst.address, dst.port);
  b[RULE.tos] = opts.tos ?? 0;
  b[RULE.srcMismatch] = opts.drop ? MISMATCH_DROP : MISMATCH_PROPAGATE;
  dv.setUint16(RULE.flags, (opts.tos === undefined ? 0 : RULE_SET_TOS) | (opts.flags ?? 0), true);
  dv.setUint32(RULE.numPt, opts.pts?.length ?? 0, true);
  b.set(opts.pts ?? [], RULE.pt);
  if (opts.rtcpOut) dv.setInt32(RULE.rtcpOutput, opts.rtcpOut.handle, true);
  if (opts.rtcpDst) encodeAddr(b, RULE.rtcpDst, opts.rtcpDst.address, opts.rtcpDst.port);
  return b;
}

function src(addr: string, port: number): Uint8Array {
  const b = new Uint8Array(ADDR_SIZE);
  encodeAddr(b, 0, addr, port);
  return b;
}

describe("forwarding rules", () => {
  test("matched packets go out of the output socket with TOS, counted, never reaching JS; others propagate or drop", async () => {
    const inSock = bind(), outSock = bind(), dest = bind("127.0.0.1", { recvTos: true });
    const inGot = collect(inSock), destGot = collect(dest);
    const caller = await udp(), stranger = await udp();
    const callerEp = { address: "127.0.0.1", port: caller.address().port };
    expect(shim.raw.rtpe_rule_add(rule(inSock, outSock, dest.local, { src: callerEp, tos: 0x88 }))).toBe(0);

    for (let i = 0; i < 5; i++) caller.send(`fwd${i}`, inSock.local.port, "127.0.0.1");
    stranger.send("stranger", inSock.local.port, "127.0.0.1");
    await waitFor(() => destGot.packets.length === 5 && inGot.packets.length === 1);
    expect(destGot.packets.map((p) => p.data)).toEqual(["fwd0", "fwd1", "fwd2", "fwd3", "fwd4"]);
    for (const p of destGot.packets) {
      expect(p.src.port).toBe(outSock.local.port);
      expect(p.tos).toBe(0x88);
    }
    expect(inGot.packets[0]!.data).toBe("stranger"); // propagate: the unmatched source goes up to JS
    const rs = new BigUint64Array(RULE_STATS_WORDS);
    expect(shim.raw.rtpe_rule_stats(inSock.handle, src(callerEp.address, callerEp.port), rs)).toBe(0);
    expect(Number(rs[0])).toBe(5);
    expect(Number(rs[1])).toBe(5 * 4);
    expect(Number(rs[3])).toBeGreaterThan(0);
    expect(inSock.stats()).toMatchObject({ rxPackets: 6, fwdPackets: 5, fwdBytes: 20 });
    expect(outSock.stats().txPackets).toBe(5);

    // strict source: the same rule with drop-on-mismatch drops the stranger
    expect(shim.raw.rtpe_rule_add(rule(inSock, outSock, dest.local, { src: callerEp, drop: true }))).toBe(0);
    stranger.send("dropped", inSock.local.port, "127.0.0.1");
    caller.send("fwd5", inSock.local.port, "127.0.0.1");
    await waitFor(() => destGot.packets.length === 6);
    await waitFor(() => inSock.stats().rxPackets === 8);
    expect(inGot.packets.length).toBe(1);
    expect(shim.raw.rtpe_rule_stats(inSock.handle, src(callerEp.address, callerEp.port), rs)).toBe(0);
    expect(Number(rs[4])).toBe(1);
    expect(destGot.packets[5]!.tos).toBe(0); // replaced rule has no TOS override

    // removing the rule hands the stream back to JS
    expect(shim.raw.rtpe_rule_del(inSock.handle, src(callerEp.address, callerEp.port))).toBe(1);
    caller.send("slow", inSock.local.port, "127.0.0.1");
    await waitFor(() => inGot.packets.length === 2);
    expect(inGot.packets[1]!.data).toBe("slow");
    caller.close();
    stranger.close();
  });

  test("many sockets busy at once (receive coalescing): every packet forwarded in order; a lone packet still goes out at once", async () => {
    const n = 40, per = 25;
    const ins = Array.from({ length: n }, () => bind());
    const outSock = bind(), dest = bind();
    const destGot = collect(dest);
    const tx = await udp();
    for (const s of ins) expect(shim.raw.rtpe_rule_add(rule(s, outSock, dest.local))).toBe(0);
    // rounds of one packet per socket: many sockets ready at once, yet no receive buffer overflows
    for (let i = 0; i < per; i++) {
      for (let k = 0; k < n; k++) tx.send(`${k}:${i}`, ins[k]!.local.port, "127.0.0.1");
      await Bun.sleep(3);
    }
    await waitFor(() => destGot.packets.length === n * per);
    const seqs = new Map<string, number[]>();
    for (const p of destGot.packets) {
      const [k, i] = p.data.split(":");
      seqs.set(k!, [...(seqs.get(k!) ?? []), Number(i)]);
    }
    expect(seqs.size).toBe(n);
    for (const v of seqs.values()) expect(v).toEqual([...Array(per).keys()]);
    expect(outSock.stats().txPackets).toBe(n * per);
    // light load never waits for company: one packet on an idle thread is forwarded within a few ms
    await Bun.sleep(50);
    const lat: number[] = [];
    for (let j = 0; j < 5; j++) {
      const t0 = performance.now();
      tx.send("lone", ins[j]!.local.port, "127.0.0.1");
      await waitFor(() => destGot.packets.length === n * per + j + 1);
      lat.push(performance.now() - t0);
      await Bun.sleep(20);
    }
    lat.sort((a, b) => a - b);
    expect(lat[2]!).toBeLessThan(50);
    tx.close();
  });

  test("RTP rules forward only RTP of the listed payload types; STUN, DTLS and others go up to JS", async () => {
    const inSock = bind(), outSock = bind(), dest = bind();
    const inGot = collect(inSock), destGot = collect(dest);
    const tx = await udp();
    expect(shim.raw.rtpe_rule_add(rule(inSock, outSock, dest.local, { flags: RULE_RTP, pts: [0, 8] }))).toBe(0);
    const rtp = (pt: number, extra: number[] = []) => Buffer.from([0x80, pt, 0, 1, 0, 0, 0, 0, 0, 0, 0, 9, ...extra]);
    const packets: [string, Buffer, boolean][] = [
      ["pcmu", rtp(0, [1, 2]), true],
      ["pcma with marker", rtp(0x80 | 8), true],
      ["dynamic pt", rtp(96), false],
      ["stun binding request", Buffer.from([0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]), false],
      ["dtls client hello", Buffer.from([22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]), false],
      ["short", Buffer.from([0x80, 0]), false],
      ["csrc count beyond the packet", Buffer.from([0x8f, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0]), false],
      ["extension beyond the packet", Buffer.from([0x90, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 9, 0xbe, 0xde, 0, 9]), false],
    ];
    for (const [, data] of packets) tx.send(data, inSock.local.port, "127.0.0.1");
    const fwd = packets.filter((p) => p[2]).length;
    await waitFor(() => destGot.packets.length === fwd && inGot.packets.length === packets.length - fwd);
    expect(inGot.packets.length).toBe(packets.length - fwd);
    expect(inSock.stats().fwdPackets).toBe(fwd);
    tx.close();
  });

  test("rtcp-mux rules: RTCP to JS, or demuxed out of the RTCP socket; inconsistent rules refused", async () => {
    const inSock = bind(), out = bind(), rtcpOut = bind(), dest = bind(), rtcpDest = bind();
    const inGot = collect(inSock), destGot = collect(dest), rtcpGot = collect(rtcpDest);
    const tx = await udp();
    const rtp = Buffer.from([0x80, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 9]);
    const rtcp = Buffer.from([0x80, 200, 0, 6, 0, 0, 0, 9]); // sender report header
    expect(shim.raw.rtpe_rule_add(rule(inSock, out, dest.local, { flags: RULE_RTP | RULE_MUX_RTCP | RULE_RTCP_TO_USER }))).toBe(0);
    tx.send(rtp, inSock.local.port, "127.0.0.1");
    tx.send(rtcp, inSock.local.port, "127.0.0.1");
    await waitFor(() => destGot.packets.length === 1 && inGot.packets.length === 1);
    expect(Buffer.from(inGot.packets[0]!.data, "latin1")[1]).toBe(200);

    expect(shim.raw.rtpe_rule_add(rule(inSock, out, dest.local,
      { flags: RULE_RTP | RULE_MUX_RTCP | RULE_RTCP_DEMUX, rtcpOut, rtcpDst: rtcpDest.local }))).toBe(0);
    tx.send(rtcp, inSock.local.port, "127.0.0.1");
    tx.send(rtp, inSock.local.port, "127.0.0.1");
    await waitFor(() => rtcpGot.packets.length === 1 && destGot.packets.length === 2);
    expect(rtcpGot.packets[0]!.src.port).toBe(rtcpOut.local.port);
    expect(destGot.packets[1]!.src.port).toBe(out.local.port);
    expect(inGot.packets.length).toBe(1);
    // the rule counts all it forwarded, and apart the muxed RTCP among them (the control plane credits it to RTCP)
    const rs = new BigUint64Array(RULE_STATS_WORDS);
    expect(shim.raw.rtpe_rule_stats(inSock.handle, new Uint8Array(ADDR_SIZE), rs)).toBe(0);
    expect([rs[0], rs[6], rs[7]]).toEqual([3n, 1n, BigInt(rtcp.length)]); // packets (a replaced rule keeps them); mux_rtcp packets, bytes (TO_USER's RTCP went up)

    for (const bad of [
      { flags: RULE_RTP | RULE_RTCP }, { flags: RULE_MUX_RTCP }, { flags: RULE_RTP | RULE_RTCP_TO_USER },
      { pts: [0] }, { flags: RULE_RTP, pts: [128] }, { flags: 0x4000 },
      { flags: RULE_RTP | RULE_MUX_RTCP | RULE_RTCP_DEMUX, rtcpOut }, // no RTCP destination
    ]) {
      expect(shim.raw.rtpe_rule_add(rule(inSock, out, dest.local, bad))).toBe(-22);
    }
    tx.close();
  });

  test("a rule whose output socket closed counts errors instead of sending from a reused handle", async () => {
    const inSock = bind(), outSock = bind(), dest = bind();
    const destGot = collect(dest);
    const tx = await udp();
    expect(shim.raw.rtpe_rule_add(rule(inSock, outSock, dest.local))).toBe(0);
    outSock.close();
    const reused = bind(); // may take the freed handle
    tx.send("x", inSock.local.port, "127.0.0.1");
    const rs = new BigUint64Array(RULE_STATS_WORDS);
    await waitFor(() => shim.raw.rtpe_rule_stats(inSock.handle, new Uint8Array(ADDR_SIZE), rs) === 0 && rs[2] === 1n);
    expect(reused.stats().txPackets).toBe(0);
    expect(destGot.packets.length).toBe(0);
    // bad rules are refused
    expect(shim.raw.rtpe_rule_add(rule(inSock, bind("::1"), dest.local))).toBe(-97); // family mismatch
    expect(shim.raw.rtpe_rule_add(rule(inSock, reused, { address: "127.0.0.1", port: 0 }))).toBe(-22);
    tx.close();
  });
});

describe("io_uring fixed files", () => {
  test("an output socket enters the thread's fixed-file table; closing it frees its port at once for a new socket that forwards again", async () => {
    const base = await freeRange();
    const inSock = bind(), dest = bind();
    const destGot = collect(dest);
    const tx = await udp();
    const before = shim.globalStats().uringFixedFiles;
    let outSock = bind("127.0.0.1", { port: base });
    expect(shim.raw.rtpe_rule_add(rule(inSock, outSock, dest.local))).toBe(0);
    for (let i = 0; i < 3; i++) tx.send(`a${i}`, inSock.local.port, "127.0.0.1");
    await waitFor(() => destGot.packets.length === 3);
    // sends by table slot where the engine is io_uring (the table holds a reference to the socket)
    expect(shim.globalStats().uringFixedFiles - before).toBe(uringExpected() && process.env.RTPE_SHIM_URING_FIXED !== "0" ? 1 : 0);
    outSock.close();
    // the port is free again although the table held the socket: the close emptied the entry
    outSock = bind("127.0.0.1", { port: base });
    expect(shim.raw.rtpe_rule_add(rule(inSock, outSock, dest.local))).toBe(0);
    for (let i = 0; i < 3; i++) tx.send(`b${i}`, inSock.local.port, "127.0.0.1");
    await waitFor(() => destGot.packets.length === 6);
    expect(destGot.packets.map((p) => p.data)).toEqual(["a0", "a1", "a2", "b0", "b1", "b2"]);
    for (const p of destGot.packets) expect(p.src.port).toBe(base);
    expect(outSock.stats().txPackets).toBe(3);
    outSock.close();
    await waitFor(() => shim.globalStats().uringFixedFiles === before);
    tx.close();
  });
});

describe("lifecycle", () => {
  test("stop joins the threads and closes every socket; a restart with a waker thread delivers again", async () => {
    const a = bind();
    const port = a.local.port;
    await shutdownMediaSockets();
    const threads = () => readdirSync("/proc/self/task").map((t) => readFileSync(`/proc/self/task/${t}/comm`, "utf8").trim());
    expect(threads()).not.toContain("rtpe-rx");
    shim = await initMediaSockets({ wakerThread: true });
    expect(threads()).toContain("rtpe-rx");
    expect(threads()).toContain("rtpe-wake");
    const b = bind("127.0.0.1", { port }); // the old socket is gone with the old thread
    const got = collect(b);
    const tx = await udp();
    tx.send("woken", port, "127.0.0.1");
    await waitFor(() => got.packets.length === 1);
    expect(got.packets[0]!.data).toBe("woken");
    tx.close();
    await shutdownMediaSockets();
    expect(threads()).not.toContain("rtpe-wake");
    open.length = 0;
    shim = await initMediaSockets();
  });

  test("several receive threads: every socket delivers in order, rules forward across threads", async () => {
    await shutdownMediaSockets();
    shim = await initMediaSockets({ threads: 3 });
    try {
      const names = readdirSync("/proc/self/task").map((t) => readFileSync(`/proc/self/task/${t}/comm`, "utf8").trim());
      expect(names.filter((n) => /^rtpe-rx\d$/.test(n)).sort()).toEqual(["rtpe-rx0", "rtpe-rx1", "rtpe-rx2"]);
      // the count is fixed while sockets exist
      const socks = Array.from({ length: 6 }, () => bind());
      expect(shim.raw.rtpe_set_threads(2)).toBe(-16); // EBUSY
      const got = socks.map((s) => collect(s));
      const tx = await udp();
      for (let i = 0; i < 30; i++) for (const s of socks) tx.send(`${i}`, s.local.port, "127.0.0.1");
      await waitFor(() => got.every((g) => g.packets.length === 30));
      for (const g of got) expect(g.packets.map((p) => Number(p.data))).toEqual([...Array(30).keys()]);
      // socket handles 0..5 spread over the three threads: forward from each to the next
      const sink = bind();
      const sinkGot = collect(sink);
      for (let i = 0; i < 3; i++) expect(shim.raw.rtpe_rule_add(rule(socks[i]!, socks[i + 1]!, sink.local))).toBe(0);
      for (let i = 0; i < 3; i++) tx.send(`via${i}`, socks[i]!.local.port, "127.0.0.1");
      await waitFor(() => sinkGot.packets.length === 3);
      expect(sinkGot.packets.map((p) => p.src.port).sort()).toEqual([1, 2, 3].map((i) => socks[i]!.local.port).sort());
      // every thread runs the engine this process gets (io_uring here unless RTPE_SHIM_ENGINE=epoll)
      expect(shim.globalStats().uringThreads).toBe(uringExpected() ? 3 : 0);
      tx.close();
    } finally {
      for (const s of open) s.close();
      open.length = 0;
      await shutdownMediaSockets();
      shim = await initMediaSockets();
    }
  });
});

describe("hostile input", () => {
  test("rtpe_send_batch parses random and truncated buffers without crashing or over-reading", () => {
    // with no socket open nothing can be sent, whatever the random records say
    expect(shim.globalStats().socketsOpen).toBe(0);
    let seed = 12345;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) & 0xff;
    const outcomes = new Set<number>();
    for (let i = 0; i < 3000; i++) {
      const len = rnd() + (i % 3 === 0 ? 0 : rnd() * 8);
      const buf = new Uint8Array(len);
      for (let j = 0; j < len; j++) buf[j] = rnd();
      if (i % 2 === 0 && len >= 32) {
        // a plausible header so the parser gets past the first checks
        const dv = new DataView(buf.buffer);
        dv.setUint32(0, Math.min(len, 32 + (rnd() % 64)) & ~7, true);
        dv.setUint16(8, i % 4 === 0 ? 2 : 10, true);
        dv.setUint32(28, rnd() % 48, true);
      }
      // hand C a view shorter than the allocation too: it must honour the length it is given
      const r = shim.raw.rtpe_send_batch(buf, Math.max(0, len - (i % 5)));
      expect(r === -22 || r === 0).toBe(true);
      outcomes.add(r);
    }
    expect([...outcomes].sort()).toEqual([-22, 0]);
    // polling into a buffer too small for any record is refused sanely
    expect(shim.raw.rtpe_poll(new Uint8Array(8), 8)).toBe(0);
  });
});

const python = ["/usr/bin/python3", "python3"].find((p) => spawnSync(p, ["-c", "pass"]).status === 0);
missing(python === undefined, "sd_notify socket test: python3 is missing");

describe("sd_notify", () => {
  // node:dgram has no unix datagram sockets; python3 is the independent receiver
  test.skipIf(!python)("READY=1 arrives on a unix datagram socket, by path and abstract name (skipped when python3 is missing)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "rtpe-notify-"));
    const abstract = `@rtpe-test-${process.pid}-${Date.now()}`;
    try {
      for (const path of [join(dir, "notify.sock"), abstract]) {
        const py = spawn(python!, ["-c", `
import socket, sys
p = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\\0" + p[1:] if p.startswith("@") else p)
print("bound", flush=True)
s.settimeout(5)
print(s.recv(4096).decode(), flush=True)
`, path]);
        let out = "";
        py.stdout.on("data", (d) => (out += d));
        await waitFor(() => out.includes("bound"));
        expect(sdNotify(shim.raw, "READY=1\nSTATUS=testing", path)).toBe(true);
        await waitFor(() => out.includes("STATUS"));
        expect(out).toBe("bound\nREADY=1\nSTATUS=testing\n");
        py.kill();
      }
      expect(sdNotify(shim.raw, "READY=1", "")).toBe(false); // no NOTIFY_SOCKET: nothing to do
      expect(() => sdNotify(shim.raw, "READY=1", join(dir, "missing.sock"))).toThrow("ENOENT");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("rule storage per socket", () => {
  // rules are allocated on demand (a block of two, then the other six): every one of the eight still matches and counts,
  // the ninth is refused, and a socket's slot reused after close starts empty
  test("eight sources on one socket forward, the ninth rule is ENOSPC, a reused slot has no rules", async () => {
    const inSock = bind(), outSock = bind(), dest = bind();
    const destGot = collect(dest);
    const senders = await Promise.all(Array.from({ length: 9 }, () => udp()));
    const eps = senders.map((s) => ({ address: "127.0.0.1", port: s.address().port }));
    for (let i = 0; i < 8; i++) expect(shim.raw.rtpe_rule_add(rule(inSock, outSock, dest.local, { src: eps[i]!, drop: true }))).toBe(0);
    expect(shim.raw.rtpe_rule_add(rule(inSock, outSock, dest.local, { src: eps[8]!, drop: true }))).toBe(-28);
    // replacing an existing source's rule is not a new rule
    expect(shim.raw.rtpe_rule_add(rule(inSock, outSock, dest.local, { src: eps[7]!, drop: true }))).toBe(0);
    for (let i = 0; i < 8; i++) senders[i]!.send(`s${i}`, inSock.local.port, "127.0.0.1");
    await waitFor(() => destGot.packets.length === 8);
    expect(destGot.packets.map((p) => p.data).sort()).toEqual(Array.from({ length: 8 }, (_, i) => `s${i}`));
    const rs = new BigUint64Array(RULE_STATS_WORDS);
    for (let i = 0; i < 8; i++) {
      expect(shim.raw.rtpe_rule_stats(inSock.handle, src(eps[i]!.address, eps[i]!.port), rs)).toBe(0);
      expect(Number(rs[0])).toBe(1);
    }
    expect(shim.raw.rtpe_rule_del(inSock.handle, null)).toBe(8);
    expect(shim.raw.rtpe_rule_add(rule(inSock, outSock, dest.local, { src: eps[8]!, drop: true }))).toBe(0);
    inSock.close();
    const again = bind();
    expect(shim.raw.rtpe_rule_stats(again.handle, src(eps[8]!.address, eps[8]!.port), rs)).toBe(-2);
    for (const s of senders) s.close();
    for (const s of [outSock, dest, again]) s.close();
  });

  // deleting compacts the table across both blocks (counters move with their rule), freed places take
  // new rules, and every source still reaches its own rule's destination
  test("deleting rules in either block and adding again keeps each source on its own rule", async () => {
    const inSock = bind(), outSock = bind();
    const dests = Array.from({ length: 10 }, () => bind());
    const destGot = dests.map((d) => collect(d));
    const inGot = collect(inSock);
    const senders = await Promise.all(Array.from({ length: 10 }, () => udp()));
    const eps = senders.map((s) => ({ address: "127.0.0.1", port: s.address().port }));
    const add = (i: number, d = i) => shim.raw.rtpe_rule_add(rule(inSock, outSock, dests[d]!.local, { src: eps[i]! }));
    const rs = new BigUint64Array(RULE_STATS_WORDS);
    const packets = (i: number) => {
      const r = shim.raw.rtpe_rule_stats(inSock.handle, src(eps[i]!.address, eps[i]!.port), rs);
      return r < 0 ? r : Number(rs[0]);
    };

    for (let i = 0; i < 8; i++) expect(add(i)).toBe(0);
    expect(add(8)).toBe(-28);
    for (let i = 0; i < 8; i++) senders[i]!.send(`a${i}`, inSock.local.port, "127.0.0.1");
    await waitFor(() => destGot.slice(0, 8).every((g) => g.packets.length === 1));

    // one from the first block, one from the second: the rules behind them move down
    expect(shim.raw.rtpe_rule_del(inSock.handle, src(eps[1]!.address, eps[1]!.port))).toBe(1);
    expect(shim.raw.rtpe_rule_del(inSock.handle, src(eps[4]!.address, eps[4]!.port))).toBe(1);
    expect(shim.raw.rtpe_rule_del(inSock.handle, src(eps[4]!.address, eps[4]!.port))).toBe(0);
    for (const i of [0, 2, 3, 5, 6, 7]) expect(packets(i)).toBe(1);
    expect(packets(1)).toBe(-2);
    expect(add(8)).toBe(0);
    expect(add(9, 1)).toBe(0);   // last place, first pointed at dests[1]...
    expect(add(1)).toBe(-28);
    expect(add(9)).toBe(0);      // ...then replaced in place
    expect(packets(9)).toBe(0);

    for (let i = 0; i < 10; i++) senders[i]!.send(`b${i}`, inSock.local.port, "127.0.0.1");
    await waitFor(() => inGot.packets.length === 2 &&
      [0, 2, 3, 5, 6, 7].every((i) => destGot[i]!.packets.length === 2) &&
      destGot[8]!.packets.length === 1 && destGot[9]!.packets.length === 1);
    for (const i of [0, 2, 3, 5, 6, 7]) {
      expect(destGot[i]!.packets.map((p) => p.data)).toEqual([`a${i}`, `b${i}`]);
      expect(packets(i)).toBe(2);
    }
    expect(destGot[8]!.packets.map((p) => p.data)).toEqual(["b8"]);
    expect(destGot[9]!.packets.map((p) => p.data)).toEqual(["b9"]);
    expect(destGot[1]!.packets.map((p) => p.data)).toEqual(["a1"]);
    expect(destGot[4]!.packets.map((p) => p.data)).toEqual(["a4"]);
    expect(packets(8)).toBe(1);
    expect(packets(9)).toBe(1);
    // no rule left for 1 and 4: their packets go up to JS
    expect(inGot.packets.map((p) => p.data).sort()).toEqual(["b1", "b4"]);

    expect(shim.raw.rtpe_rule_del(inSock.handle, null)).toBe(8);
    for (const s of senders) s.close();
    for (const s of [inSock, outSock, ...dests]) s.close();
  });
});

describe("receive rings", () => {
  test("ffi/test/ring.c: records whole and in order; an emptied ring starts again at its front", () => {
    if (missing(Bun.which("gcc") === null, "ring: gcc is missing")) return;
    const exe = join(tmpdir(), `ring-${process.pid}`);
    const cc = spawnSync("gcc", ["-O1", "-Wall", "-Wextra", "-Werror", "-D_GNU_SOURCE", "-o", exe, join(root, "ffi/test/ring.c")], { encoding: "utf8" });
    expect(cc.stderr).toBe("");
    const r = spawnSync(exe, [], { encoding: "utf8" });
    rmSync(exe, { force: true });
    expect(r.stderr).toBe("");
    expect(r.stdout).toMatch(/^ok 1 - .*\nok 2 - .*\nok 3 - .*\n$/);
    expect(r.status).toBe(0);
  });
});

describe("io_uring receive buffers", () => {
  test("each thread starts with 256 (more are added under load: ffi/test/uring_bufs.c)", () => {
    const g = shim.globalStats();
    expect(g.uringRxBuffers).toBe(uringExpected() ? g.uringThreads * 256 : 0);
  });

  test("a burst larger than the buffers: receives that find none are re-armed (nothing lost) and the thread adds buffers", async () => {
    // forwarded packets keep their buffers until sent, so the thread drains slower than one sendmmsg fills
    const ins = Array.from({ length: 8 }, () => bind("127.0.0.1", { rcvbuf: 4 << 20 }));
    const out = bind();
    const sink = await udp(); // never read: the kernel drops what overflows it, the sends still count
    for (const s of ins) expect(shim.raw.rtpe_rule_add(rule(s, out, { address: "127.0.0.1", port: sink.address().port }))).toBe(0);
    const tx = bind();
    const before = shim.globalStats();
    const per = 1024;
    const batch = new SendBatch(4 << 20);
    for (let i = 0; i < per; i++) for (const s of ins) batch.add(tx, s.local, Buffer.from(`p${i}`));
    expect(batch.flush()).toBe(per * ins.length);
    await waitFor(() => ins.every((s) => s.stats().fwdPackets === per), 10_000);
    for (const s of ins) expect(s.stats()).toMatchObject({ rxPackets: per, fwdPackets: per });
    const after = shim.globalStats();
    sink.close();
    if (!uringExpected()) return;
    // 8,192 packets queued at once against 256 buffers per thread
    expect(after.uringRxStarved).toBeGreaterThan(before.uringRxStarved);
    expect(after.uringRxBuffers).toBeGreaterThan(before.uringRxBuffers);
  });

  test("ffi/test/uring_bufs.c: the pool runs out, grows, and stops at the ring's size", () => {
    if (missing(Bun.which("gcc") === null, "uring_bufs: gcc is missing")) return;
    const exe = join(tmpdir(), `uring-bufs-${process.pid}`);
    const cc = spawnSync("gcc", ["-O1", "-Wall", "-Wextra", "-Werror", "-D_GNU_SOURCE", "-o", exe, join(root, "ffi/test/uring_bufs.c"), join(root, "ffi/uring.c")], { encoding: "utf8" });
    expect(cc.stderr).toBe("");
    const r = spawnSync(exe, [], { encoding: "utf8" });
    rmSync(exe, { force: true });
    if (r.stdout.startsWith("skip")) {
      // the kernel refused the ring (before 6.1, or io_uring disabled): only acceptable where the engine cannot run either
      expect(uringAvailable()).toBe(false);
      console.warn(`skipped: uring_bufs: ${r.stdout.trim()}`);
      return;
    }
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("ok   runs_out\nok   grows\nok   bounded\n");
    expect(r.status).toBe(0);
  });
});
