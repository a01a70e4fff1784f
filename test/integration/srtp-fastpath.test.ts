// SRTP in the shim fast path over real UDP: once learned, SDES calls are decrypted/encrypted by forwarding rules (TypeScript sees no more media), SRTCP and auth failures included.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { spawnDaemon, type TestDaemon } from "../helpers/daemon.ts";
import { mediaOf, Phone } from "./media-helpers.ts";
import { DtlsPeer, protect, rtcpSr, relayedTotals as totals, sdesCryptos as cryptos, srtpContext, unprotect } from "./srtp-helpers.ts";

const ctx = (suite: string, b64: string) => srtpContext(lib, suite, b64);
import { SrtpLibrary, srtpSuiteByName } from "../../src/crypto/srtp.ts";
import { DtlsEngine, DtlsLibrary, parseFingerprint } from "../../src/crypto/dtls.ts";

const H = "127.0.0.1";
const REPO = resolve(import.meta.dir, "../..");
let lib: SrtpLibrary;
let seq = 0;

function sdp(port: number, proto: string, crypto: string[] = [], rtcpPort?: number): string {
  const rtcp = rtcpPort ? [`a=rtcp:${rtcpPort}`] : [];
  return ["v=0", `o=- 1 1 IN IP4 ${H}`, "s=-", `c=IN IP4 ${H}`, "t=0 0", `m=audio ${port} ${proto} 0`, "a=rtpmap:0 PCMU/8000", ...rtcp, ...crypto.map((c) => `a=${c}`), ""].join("\r\n");
}

function key(suite: string): string {
  const s = srtpSuiteByName(suite)!;
  return Buffer.from(Array.from({ length: s.keyLength + s.saltLength }, () => (Math.random() * 256) | 0)).toString("base64");
}








type Streams = Record<string, { medias: { streams: { flags?: string[]; stats: { packets: number; errors: number } }[] }[] }>;

describe("SRTP in the shim fast path", () => {
  let d: TestDaemon;
  let dir: string;
  const phones: Phone[] = [];
  const phone = async () => {
    const p = await Phone.open(H);
    phones.push(p);
    return p;
  };

  beforeAll(async () => {
    lib = new SrtpLibrary();
    expect(lib.init()).toBe(0);
    // a shim with ffi/srtp inside (as the compiled binary has it), of its own: other tests rebuild ffi/build's
    dir = mkdtempSync(join(tmpdir(), "rtpe-srtp-fast-"));
    const b = spawnSync("sh", [join(REPO, "ffi/build.sh")], { env: { ...process.env, OUT: dir, RTPE_SHIM_WITH: "srtp dtls" }, encoding: "utf8" });
    if (b.status !== 0) throw new Error(`ffi/build.sh: ${b.stderr}`);
    d = await spawnDaemon({
      args: ["--endpoint-learning=immediate", "--port-min=45600", "--port-max=45799", "--delete-delay=0"],
      env: { RTPE_SHIM_PATH: join(dir, "librtpe_shim.so"), RTPENGINE_TS_FASTPATH: "1" },
    });
  }, 120_000);
  afterAll(async () => {
    for (const p of phones) p.close();
    await d?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test("plain RTP <-> SDES-SRTP: after learning the rules do the crypto, both sides decrypt, SRTCP continues its index, forged packets counted", async () => {
    const a = await phone(), aRtcp = await phone(), b = await phone(), bRtcp = await phone();
    const callId = `sfp-${process.pid}-${++seq}`;
    const suite = "AES_CM_128_HMAC_SHA1_80";
    const o = await d.ng({ command: "offer", "call-id": callId, "from-tag": "A", sdp: sdp(a.port, "RTP/AVP", [], aRtcp.port), "transport-protocol": "RTP/SAVP" });
    expect(o.result).toBe("ok");
    const ours = cryptos(o.sdp as string).find((c) => c.suite === suite)!;
    const bKey = key(suite);
    const an = await d.ng({ command: "answer", "call-id": callId, "from-tag": "A", "to-tag": "B", sdp: sdp(b.port, "RTP/SAVP", [`crypto:${ours.tag} ${suite} inline:${bKey}`], bRtcp.port) });
    expect(an.result).toBe("ok");
    const toA = mediaOf(an.sdp as string), toB = mediaOf(o.sdp as string);
    const bOut = ctx(suite, bKey), bIn = ctx(suite, ours.key);

    // learning: the first packets of every stream go through TypeScript (its contexts), then the rules take over
    const aSent: Buffer[] = [], bSent: Buffer[] = [], aRtcpSent: Buffer[] = [], bRtcpSent: Buffer[] = [];
    let reports = 0;
    const round = async () => {
      const pa = a.rtp(), pb = b.rtp(), ra = rtcpSr(a.ssrc, ++reports), rb = rtcpSr(b.ssrc, reports);
      aSent.push(pa); bSent.push(pb); aRtcpSent.push(ra); bRtcpSent.push(rb);
      a.send(toA.port, pa);
      b.send(toB.port, protect(bOut, pb));
      aRtcp.send(toA.port + 1, ra);
      bRtcp.send(toB.port + 1, protect(bOut, rb, true));
      await Bun.sleep(3);
    };
    for (let i = 0; i < 3; i++) await round();
    expect(await b.waitFor(3)).toBe(3);
    expect(await a.waitFor(3)).toBe(3);
    await Bun.sleep(100);
    const before = await totals(d, callId);

    for (let i = 0; i < 60; i++) await round();
    const n = aSent.length;
    expect(await b.waitFor(n)).toBe(n);
    expect(await a.waitFor(n)).toBe(n);
    expect(await bRtcp.waitFor(n)).toBe(n);
    expect(await aRtcp.waitFor(n)).toBe(n);
    // B decrypts what the daemon encrypted (in TypeScript, then in C): the same packets, none replayed
    // (order may differ where the handover happened: what TypeScript had queued leaves after the rule's first)
    const hex = (l: (Buffer | null)[]) => l.map((x) => (x ? x.toString("hex") : "undecryptable")).sort();
    expect(b.got.every((g, i) => g.data.length === aSent[i]!.length + 10)).toBe(true);
    expect(hex(b.got.map((g) => unprotect(bIn, g.data)))).toEqual(hex(aSent));
    const rtcpIn = bRtcp.got.map((g) => unprotect(bIn, g.data, true));
    expect(hex(rtcpIn)).toEqual(hex(aRtcpSent));
    expect(hex(a.got.map((g) => g.data))).toEqual(hex(bSent));
    expect(hex(aRtcp.got.map((g) => g.data))).toEqual(hex(bRtcpSent));
    const after = await totals(d, callId);
    expect(after.user).toBe(before.user); // TypeScript saw none of the 4 x 60 packets
    expect(after.kernel - before.kernel).toBeGreaterThanOrEqual(4 * 60);

    // forged: authentication fails in C, dropped and counted as an error of B's stream; JS still sees nothing
    const q0 = (await d.ng({ command: "query", "call-id": callId })).tags as Streams;
    const errors0 = q0["B"]!.medias[0]!.streams[0]!.stats.errors;
    expect(q0["B"]!.medias[0]!.streams[0]!.flags).toContain("kernelized");
    for (let i = 0; i < 3; i++) {
      const forged = protect(bOut, b.rtp());
      forged[20]! ^= 0xff;
      b.send(toB.port, forged);
    }
    await Bun.sleep(200);
    expect(a.got.length).toBe(n);
    const q1 = (await d.ng({ command: "query", "call-id": callId })).tags as Streams;
    expect(q1["B"]!.medias[0]!.streams[0]!.stats.errors - errors0).toBe(3);
    expect((await totals(d, callId)).user).toBe(before.user);
    await d.ng({ command: "delete", "call-id": callId });
  });

  test("delayed learning: SDES-SRTP crosses from the wait's rule to the learned one without a lost, undecryptable or replayed packet", async () => {
    const dl = await spawnDaemon({
      args: ["--endpoint-learning=delayed", "--port-min=45800", "--port-max=45899", "--delete-delay=0"],
      env: { RTPE_SHIM_PATH: join(dir, "librtpe_shim.so"), RTPENGINE_TS_FASTPATH: "1" },
    });
    try {
      const a = await phone(), b = await phone();
      const callId = `sfp-delayed-${process.pid}-${++seq}`;
      const suite = "AES_CM_128_HMAC_SHA1_80";
      const o = await dl.ng({ command: "offer", "call-id": callId, "from-tag": "A", sdp: sdp(a.port, "RTP/AVP"), "transport-protocol": "RTP/SAVP" });
      const ours = cryptos(o.sdp as string).find((c) => c.suite === suite)!;
      const bKey = key(suite);
      const an = await dl.ng({ command: "answer", "call-id": callId, "from-tag": "A", "to-tag": "B", sdp: sdp(b.port, "RTP/SAVP", [`crypto:${ours.tag} ${suite} inline:${bKey}`]) });
      expect(an.result).toBe("ok");
      const toA = mediaOf(an.sdp as string), toB = mediaOf(o.sdp as string);
      const bOut = ctx(suite, bKey), bIn = ctx(suite, ours.key);
      const aSent: Buffer[] = [], bSent: Buffer[] = [];
      const signalled = Date.now();
      // 20 ms packets both ways until well after the wait (3 s) and the tick that confirms it
      while (Date.now() - signalled < 5000) {
        const pa = a.rtp(), pb = b.rtp();
        aSent.push(pa);
        bSent.push(pb);
        a.send(toA.port, pa);
        b.send(toB.port, protect(bOut, pb));
        await Bun.sleep(20);
      }
      const n = aSent.length;
      expect(await b.waitFor(n)).toBe(n);
      expect(await a.waitFor(n)).toBe(n);
      const hex = (l: (Buffer | null)[]) => l.map((x) => (x ? x.toString("hex") : "undecryptable")).sort();
      expect(hex(b.got.map((g) => unprotect(bIn, g.data)))).toEqual(hex(aSent));
      expect(hex(a.got.map((g) => g.data))).toEqual(hex(bSent));
      const q = (await dl.ng({ command: "query", "call-id": callId })).tags as Streams;
      for (const tag of ["A", "B"]) expect(q[tag]!.medias[0]!.streams[0]!.flags).toEqual(expect.arrayContaining(["confirmed", "kernelized"]));
    } finally {
      await dl.stop();
    }
  }, 20_000);

  test("DTLS-SRTP (daemon active, rtcp-mux) <-> plain RTP: once the handshake is done the rules carry the DTLS keys", async () => {
    const dl = new DtlsLibrary();
    expect(dl.init()).toBe(0);
    const engine = new DtlsEngine(dl);
    const a = await DtlsPeer.open(engine.connection("passive"), H);
    const b = await phone();
    const callId = `sfp-${process.pid}-${++seq}`;
    const mux = (port: number, proto: string, extra: string[] = []) => sdp(port, proto, extra).replace("a=rtpmap:0 PCMU/8000", "a=rtpmap:0 PCMU/8000\r\na=rtcp-mux");
    try {
      const o = await d.ng({ command: "offer", "call-id": callId, "from-tag": "A", "transport-protocol": "RTP/AVP",
        sdp: mux(a.port, "UDP/TLS/RTP/SAVPF", [`fingerprint:${engine.certificate.fingerprintValue("sha-256")}`, "setup:actpass"]) });
      const an = await d.ng({ command: "answer", "call-id": callId, "from-tag": "A", "to-tag": "B", sdp: mux(b.port, "RTP/AVP") });
      expect(an.result).toBe("ok");
      a.conn.expect(parseFingerprint(/^a=fingerprint:(.*)$/m.exec(an.sdp as string)![1]!.trim())!);
      const toA = mediaOf(an.sdp as string), toB = mediaOf(o.sdp as string);
      expect(await a.connected()).toBe(true);
      await Bun.sleep(50);
      const { out: aOut, in: aIn } = a.contexts(lib);
      const aSent: Buffer[] = [], bSent: Buffer[] = [];
      const round = async () => {
        const pa = b.rtp(8, 0x11), pb = b.rtp();
        pa.writeUInt32BE(0x5eed, 8);
        aSent.push(pa); bSent.push(pb);
        a.sock.send(protect(aOut, pa), toA.port, H);
        b.send(toB.port, pb);
        await Bun.sleep(3);
      };
      for (let i = 0; i < 3; i++) await round();
      expect(await b.waitFor(3)).toBe(3);
      await Bun.sleep(100);
      const before = await totals(d, callId);
      for (let i = 0; i < 40; i++) await round();
      expect(await b.waitFor(43)).toBe(43);
      const until = Date.now() + 2000;
      while (a.got.length < 43 && Date.now() < until) await Bun.sleep(10);
      const hex = (l: (Buffer | null)[]) => l.map((x) => (x ? x.toString("hex") : "undecryptable")).sort();
      expect(hex(b.got.map((g) => g.data))).toEqual(hex(aSent));
      expect(hex(a.got.map((g) => unprotect(aIn, g)))).toEqual(hex(bSent));
      const after = await totals(d, callId);
      expect(after.user).toBe(before.user);
      expect(after.kernel - before.kernel).toBeGreaterThanOrEqual(80);
    } finally {
      a.close();
      await d.ng({ command: "delete", "call-id": callId });
    }
  });

  test("SRTP <-> SRTP with other suites (GCM one side, AES-CM the other) through rules", async () => {
    const a = await phone(), b = await phone();
    const callId = `sfp-${process.pid}-${++seq}`;
    const aKey = key("AES_CM_128_HMAC_SHA1_80");
    const o = await d.ng({ command: "offer", "call-id": callId, "from-tag": "A", sdp: sdp(a.port, "RTP/SAVP", [`crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${aKey}`]) });
    const ours = cryptos(o.sdp as string).find((c) => c.suite === "AEAD_AES_256_GCM")!;
    const bKey = key("AEAD_AES_256_GCM");
    const an = await d.ng({ command: "answer", "call-id": callId, "from-tag": "A", "to-tag": "B", sdp: sdp(b.port, "RTP/SAVP", [`crypto:${ours.tag} AEAD_AES_256_GCM inline:${bKey}`]) });
    const back = cryptos(an.sdp as string)[0]!;
    const toA = mediaOf(an.sdp as string), toB = mediaOf(o.sdp as string);
    const aOut = ctx("AES_CM_128_HMAC_SHA1_80", aKey), aIn = ctx("AES_CM_128_HMAC_SHA1_80", back.key);
    const bOut = ctx("AEAD_AES_256_GCM", bKey), bIn = ctx("AEAD_AES_256_GCM", ours.key);
    const aSent: Buffer[] = [], bSent: Buffer[] = [];
    const round = async () => {
      const pa = a.rtp(), pb = b.rtp();
      aSent.push(pa); bSent.push(pb);
      a.send(toA.port, protect(aOut, pa));
      b.send(toB.port, protect(bOut, pb));
      await Bun.sleep(3);
    };
    for (let i = 0; i < 3; i++) await round();
    expect(await b.waitFor(3)).toBe(3);
    await Bun.sleep(100);
    const before = await totals(d, callId);
    for (let i = 0; i < 40; i++) await round();
    expect(await b.waitFor(43)).toBe(43);
    expect(await a.waitFor(43)).toBe(43);
    const hex = (l: (Buffer | null)[]) => l.map((x) => (x ? x.toString("hex") : "undecryptable")).sort();
    expect(hex(b.got.map((g) => unprotect(bIn, g.data)))).toEqual(hex(aSent));
    expect(hex(a.got.map((g) => unprotect(aIn, g.data)))).toEqual(hex(bSent));
    const after = await totals(d, callId);
    expect(after.user).toBe(before.user);
    expect(after.kernel - before.kernel).toBeGreaterThanOrEqual(80);
    await d.ng({ command: "delete", "call-id": callId });
  });
});
