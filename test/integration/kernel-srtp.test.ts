// SRTP rules for xt_RTPENGINE against a stand-in /proc/rtpengine: the keys and ROC seeds the daemon writes, the kernel's indices taken back on withdrawal, refusals logged (the real module: test/kernel/daemon-srtp.c).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { SrtpLibrary, srtpSuiteByName } from "../../src/crypto/srtp.ts";
import { DtlsEngine, DtlsLibrary, parseFingerprint } from "../../src/crypto/dtls.ts";
import { decodeAddr, encodeAddr } from "../../src/platform/shim-addr.ts";
import { spawnDaemon, type TestDaemon } from "../helpers/daemon.ts";
import { inSeqOrder, mediaOf, Phone } from "./media-helpers.ts";
import { DtlsPeer, protect, srtpContext, unprotect } from "./srtp-helpers.ts";

const H = "127.0.0.1";
const REPO = resolve(import.meta.dir, "../..");
const ctx = (suite: string, b64: string) => srtpContext(lib, suite, b64);
const work = mkdtempSync(join(tmpdir(), "kernel-srtp-"));
const root = join(work, "proc"), ctl = join(root, "0", "control"), bl = join(root, "0", "blist");
let lib: SrtpLibrary;
let d: TestDaemon;
const phones: Phone[] = [];
let calls = 0;

beforeAll(async () => {
  lib = new SrtpLibrary();
  expect(lib.init()).toBe(0);
  // SRTP rules need the shim to carry ffi/srtp (as the compiled binary's does)
  const b = spawnSync("sh", [join(REPO, "ffi/build.sh")], { env: { ...process.env, OUT: join(work, "shim"), RTPE_SHIM_WITH: "srtp dtls" }, encoding: "utf8" });
  if (b.status !== 0) throw new Error(`ffi/build.sh: ${b.stderr}`);
  mkdirSync(join(root, "0"), { recursive: true });
  for (const f of [join(root, "control"), ctl, bl]) writeFileSync(f, "");
  d = await spawnDaemon({
    args: ["--endpoint-learning=immediate", "--port-min=46200", "--port-max=46399", "--delete-delay=0", "--table=0"],
    env: { RTPE_SHIM_PATH: join(work, "shim", "librtpe_shim.so"), RTPENGINE_TS_FASTPATH: "1", RTPENGINE_TS_PROC_RTPENGINE: root },
  });
}, 120_000);

afterAll(async () => {
  for (const p of phones) p.close();
  await d?.stop();
  rmSync(work, { recursive: true, force: true });
});

async function phone(): Promise<Phone> {
  const p = await Phone.open(H);
  phones.push(p);
  return p;
}

async function until(what: string, cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(20);
  }
}

const sdp = (port: number, proto: string, crypto: string[] = []) =>
  ["v=0", `o=- 1 1 IN IP4 ${H}`, "s=-", `c=IN IP4 ${H}`, "t=0 0", `m=audio ${port} ${proto} 0`, "a=rtpmap:0 PCMU/8000", ...crypto.map((c) => `a=${c}`), ""].join("\r\n");
const cryptos = (body: string) => [...body.matchAll(/^a=crypto:(\d+) (\S+) inline:([A-Za-z0-9+/=]+)/gm)].map((m) => ({ tag: Number(m[1]), suite: m[2]!, key: m[3]! }));
const newKey = (suite: string) => {
  const s = srtpSuiteByName(suite)!;
  return Buffer.from(Array.from({ length: s.keyLength + s.saltLength }, () => (Math.random() * 256) | 0)).toString("base64");
};

interface KSrtp { cipher: number; auth: number; keyLen: number; saltLen: number; mkiLen: number; rtcpIndex: number; key: string; salt: string }
interface KMsg { cmd: number; port: number; flags: number; decrypt: KSrtp; encrypt: KSrtp; ssrcs: { ssrc: number; rocIn: number; rocOut: number }[] }

/** The messages written to the stand-in N/control, SRTP fields decoded (offsets: kernel-module/rtpengine_uapi.h). */
function messages(): KMsg[] {
  const b = new Uint8Array(readFileSync(ctl));
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const srtp = (o: number): KSrtp => o < 0 ? { cipher: 0, auth: 0, keyLen: 0, saltLen: 0, mkiLen: 0, rtcpIndex: 0, key: "", salt: "" } : ({
    cipher: b[o]!, auth: b[o + 1]!, keyLen: b[o + 4]!, saltLen: b[o + 5]!, mkiLen: b[o + 6]!, rtcpIndex: dv.getUint32(o + 12, true),
    key: Buffer.from(b.subarray(o + 16, o + 16 + b[o + 4]!)).toString("hex"), salt: Buffer.from(b.subarray(o + 48, o + 48 + b[o + 5]!)).toString("hex"),
  });
  const out: KMsg[] = [];
  for (let o = 0; o + 16 <= b.byteLength; o += dv.getUint32(o + 8, true)) {
    const cmd = dv.getUint16(o + 6, true), r = o + 16;
    const n = cmd <= 2 ? dv.getUint32(r + 344, true) : 0;
    out.push({
      cmd, port: decodeAddr(b, r)?.port ?? 0, flags: cmd <= 2 ? dv.getUint32(r + 40, true) : 0,
      decrypt: cmd <= 2 ? srtp(r + 80) : srtp(-1), encrypt: cmd <= 2 ? srtp(r + 192) : srtp(-1),
      ssrcs: Array.from({ length: n }, (_, i) => ({ ssrc: dv.getUint32(r + 296 + 4 * i, true), rocIn: dv.getUint32(r + 312 + 4 * i, true), rocOut: dv.getUint32(r + 328 + 4 * i, true) })),
    });
  }
  return out;
}

/** blist records as the module writes them: per rule port, one SSRC slot and the output's next SRTCP index. */
function writeBlist(entries: { port: number; ssrc?: number; packets?: number; lastSeq?: number; rocIn?: number; rocOut?: number; rtcpIndex?: number }[]): void {
  const b = new Uint8Array(568 * entries.length);
  const dv = new DataView(b.buffer);
  entries.forEach((e, i) => {
    const o = i * 568;
    encodeAddr(b, o, H, e.port);
    dv.setUint32(o + 204, e.rtcpIndex ?? 0, true);
    dv.setBigUint64(o + 360, BigInt(e.packets ?? 0), true);
    if (e.ssrc === undefined) return;
    const s = o + 408;
    dv.setUint32(s, e.ssrc, true);
    dv.setUint32(s + 4, 1, true);
    dv.setBigUint64(s + 8, BigInt(e.packets ?? 0), true);
    dv.setUint32(s + 24, e.lastSeq ?? 0, true);
    dv.setUint32(s + 28, e.rocIn ?? 0, true);
    dv.setUint32(s + 32, e.rocOut ?? 0, true);
  });
  writeFileSync(bl, b);
}


const hex = (b64: string, from: number, to: number) => Buffer.from(b64, "base64").subarray(from, to).toString("hex");

describe("SRTP rules for xt_RTPENGINE (stand-in /proc/rtpengine)", () => {
  test("SDES AES-CM-128 <-> AEAD-AES-256-GCM: each rule carries its input's and its output's keys, SSRCs seeded", async () => {
    const a = await phone(), b = await phone();
    const callId = `ks-${process.pid}-${++calls}`;
    const aKey = newKey("AES_CM_128_HMAC_SHA1_80");
    const o = await d.ng({ command: "offer", "call-id": callId, "from-tag": "A", sdp: sdp(a.port, "RTP/SAVP", [`crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${aKey}`]) });
    const ours = cryptos(o.sdp as string).find((c) => c.suite === "AEAD_AES_256_GCM")!;
    const bKey = newKey("AEAD_AES_256_GCM");
    const an = await d.ng({ command: "answer", "call-id": callId, "from-tag": "A", "to-tag": "B", sdp: sdp(b.port, "RTP/SAVP", [`crypto:${ours.tag} AEAD_AES_256_GCM inline:${bKey}`]) });
    const back = cryptos(an.sdp as string)[0]!;
    const toA = mediaOf(an.sdp as string), toB = mediaOf(o.sdp as string);
    writeBlist([{ port: toA.port }, { port: toB.port }]);
    const before = messages().length;
    const aOut = ctx("AES_CM_128_HMAC_SHA1_80", aKey), bOut = ctx("AEAD_AES_256_GCM", bKey);
    const pa = a.rtp(), pb = b.rtp();
    a.send(toA.port, protect(aOut, pa));
    b.send(toB.port, protect(bOut, pb));
    expect(await b.waitFor(1)).toBe(1);
    expect(await a.waitFor(1)).toBe(1);
    await until("two rule messages", () => messages().length >= before + 2);
    const m = messages().slice(before);
    const fromA = m.find((x) => x.port === toA.port)!, fromB = m.find((x) => x.port === toB.port)!;
    expect(fromA.cmd).toBe(1);
    expect(fromA.flags & 0x2).toBe(0x2); // RTP
    expect(fromA.decrypt).toMatchObject({ cipher: 2, auth: 1, keyLen: 16, saltLen: 14, mkiLen: 0, key: hex(aKey, 0, 16), salt: hex(aKey, 16, 30) });
    expect(fromA.encrypt).toMatchObject({ cipher: 7, auth: 0, keyLen: 32, saltLen: 12, key: hex(ours.key, 0, 32), salt: hex(ours.key, 32, 44) });
    expect(fromA.ssrcs).toEqual([{ ssrc: pa.readUInt32BE(8), rocIn: 0, rocOut: 0 }]);
    expect(fromB.decrypt).toMatchObject({ cipher: 7, keyLen: 32, key: hex(bKey, 0, 32), salt: hex(bKey, 32, 44) });
    expect(fromB.encrypt).toMatchObject({ cipher: 2, keyLen: 16, key: hex(back.key, 0, 16), salt: hex(back.key, 16, 30) });
    expect(d.log()).not.toContain("stays in userspace");
    aOut.free();
    bOut.free();
    await d.ng({ command: "delete", "call-id": callId });
  }, 20_000);

  test("withdrawal takes the kernel's ROCs back: userspace continues the streams where the kernel stood", async () => {
    const a = await phone(), b = await phone();
    const callId = `ks-${process.pid}-${++calls}`;
    const suite = "AES_CM_128_HMAC_SHA1_80";
    const o = await d.ng({ command: "offer", "call-id": callId, "from-tag": "A", sdp: sdp(a.port, "RTP/AVP"), "transport-protocol": "RTP/SAVP" });
    const ours = cryptos(o.sdp as string).find((c) => c.suite === suite)!;
    const bKey = newKey(suite);
    const an = await d.ng({ command: "answer", "call-id": callId, "from-tag": "A", "to-tag": "B", sdp: sdp(b.port, "RTP/SAVP", [`crypto:${ours.tag} ${suite} inline:${bKey}`]) });
    const toA = mediaOf(an.sdp as string), toB = mediaOf(o.sdp as string);
    writeBlist([{ port: toA.port }, { port: toB.port }]);
    const before = messages().length;
    const bOut = ctx(suite, bKey), bIn = ctx(suite, ours.key);
    const pa = a.rtp(), pb = b.rtp();
    const aSsrc = pa.readUInt32BE(8), bSsrc = pb.readUInt32BE(8);
    a.send(toA.port, pa);
    b.send(toB.port, protect(bOut, pb));
    expect(await b.waitFor(1)).toBe(1);
    expect(await a.waitFor(1)).toBe(1);
    await until("two rule messages", () => messages().length >= before + 2);
    // the kernel went on: B's stream (decrypted) is at ROC 5 seq 100, A's (encrypted) at ROC 7 seq 200
    writeBlist([
      { port: toB.port, ssrc: bSsrc, packets: 400000, lastSeq: 100, rocIn: 5, rocOut: 5 },
      { port: toA.port, ssrc: aSsrc, packets: 500000, lastSeq: 200, rocIn: 7, rocOut: 7, rtcpIndex: 900 },
    ]);
    for (const tag of ["A", "B"]) expect((await d.ng({ command: "block DTMF", "call-id": callId, "from-tag": tag })).result).toBe("ok");
    await until("two delete messages", () => messages().slice(before).filter((x) => x.cmd === 3).length === 2);
    expect(d.log()).not.toContain("not handed back");
    a.clear();
    b.clear();
    // B sends seq 101 of ROC 5: userspace must authenticate it at ROC 5
    const nb = b.rtp();
    nb.writeUInt16BE(101, 2);
    bOut.setIndex(bSsrc, (5n << 16n) | 100n, 0);
    b.send(toB.port, protect(bOut, nb));
    expect(await a.waitFor(1)).toBe(1);
    expect(a.got[0]!.data.toString("hex")).toBe(nb.toString("hex"));
    // A sends seq 201: userspace must encrypt it at ROC 7
    const na = a.rtp();
    na.writeUInt16BE(201, 2);
    a.send(toA.port, na);
    expect(await b.waitFor(1)).toBe(1);
    bIn.setIndex(aSsrc, (7n << 16n) | 200n, 0);
    expect(unprotect(bIn, b.got[0]!.data)?.toString("hex")).toBe(na.toString("hex"));
    // back to the kernel: the new rules are seeded with those ROCs
    const mark = messages().length;
    for (const tag of ["A", "B"]) expect((await d.ng({ command: "unblock DTMF", "call-id": callId, "from-tag": tag })).result).toBe("ok");
    await until("two rule messages again", () => messages().length >= mark + 2);
    const again = messages().slice(mark);
    expect(again.find((x) => x.port === toB.port)!.ssrcs).toEqual([{ ssrc: bSsrc, rocIn: 5, rocOut: 5 }]);
    expect(again.find((x) => x.port === toA.port)!.ssrcs).toEqual([{ ssrc: aSsrc, rocIn: 7, rocOut: 7 }]);
    expect(again.find((x) => x.port === toA.port)!.encrypt.rtcpIndex).toBeGreaterThanOrEqual(900);
    bOut.free();
    bIn.free();
    await d.ng({ command: "delete", "call-id": callId });
  }, 20_000);

  test("DTLS-SRTP (rtcp-mux) <-> plain RTP: once the handshake is done the rules carry the exported keys, SRTCP muxed", async () => {
    const dl = new DtlsLibrary();
    expect(dl.init()).toBe(0);
    const engine = new DtlsEngine(dl);
    const a = await DtlsPeer.open(engine.connection("passive"), H);
    const b = await phone();
    const callId = `ks-${process.pid}-${++calls}`;
    const mux = (port: number, proto: string, extra: string[] = []) => sdp(port, proto, extra).replace("a=rtpmap:0 PCMU/8000", "a=rtpmap:0 PCMU/8000\r\na=rtcp-mux");
    try {
      const o = await d.ng({ command: "offer", "call-id": callId, "from-tag": "A", "transport-protocol": "RTP/AVP",
        sdp: mux(a.port, "UDP/TLS/RTP/SAVPF", [`fingerprint:${engine.certificate.fingerprintValue("sha-256")}`, "setup:actpass"]) });
      const an = await d.ng({ command: "answer", "call-id": callId, "from-tag": "A", "to-tag": "B", sdp: mux(b.port, "RTP/AVP") });
      expect(an.result).toBe("ok");
      a.conn.expect(parseFingerprint(/^a=fingerprint:(.*)$/m.exec(an.sdp as string)![1]!.trim())!);
      const toA = mediaOf(an.sdp as string), toB = mediaOf(o.sdp as string);
      writeBlist([{ port: toA.port }, { port: toB.port }]);
      const before = messages().length;
      expect(await a.connected()).toBe(true);
      const k = a.conn.keys()!;
      const aOut = lib.context(k.suite, k.localKey, k.localSalt);
      for (let i = 0; i < 3; i++) {
        a.sock.send(protect(aOut, b.rtp()), toA.port, H);
        b.send(toB.port, b.rtp());
        await Bun.sleep(5);
      }
      expect(await b.waitFor(3)).toBe(3);
      await until("two rule messages", () => messages().slice(before).filter((x) => x.cmd === 1).length >= 2);
      const m = messages().slice(before);
      const fromA = m.find((x) => x.port === toA.port)!, fromB = m.find((x) => x.port === toB.port)!;
      const kh = (x: Uint8Array) => Buffer.from(x).toString("hex");
      // the peer's outbound keys are what the daemon decrypts with, the peer's inbound ones what it encrypts with
      expect(fromA.decrypt).toMatchObject({ key: kh(k.localKey), salt: kh(k.localSalt), mkiLen: 0 });
      expect(fromA.decrypt.cipher).toBeGreaterThan(0);
      expect(fromA.encrypt.cipher).toBe(0);
      expect(fromA.flags & 0xa).toBe(0xa); // RTP, muxed RTCP told apart
      expect(fromB.encrypt).toMatchObject({ key: kh(k.remoteKey), salt: kh(k.remoteSalt) });
      expect(fromB.decrypt.cipher).toBe(0);
      aOut.free();
    } finally {
      a.close();
      await d.ng({ command: "delete", "call-id": callId });
    }
  }, 20_000);

  test("an MKI longer than the module takes: the rule stays in userspace, logged with the reason, media flows", async () => {
    const a = await phone(), b = await phone();
    const callId = `ks-${process.pid}-${++calls}`;
    const suite = "AES_CM_128_HMAC_SHA1_80";
    const aKey = newKey(suite);
    const o = await d.ng({ command: "offer", "call-id": callId, "from-tag": "A", sdp: sdp(a.port, "RTP/SAVP", [`crypto:1 ${suite} inline:${aKey}|2^31|1:5`]), "transport-protocol": "RTP/AVP" });
    expect(o.result).toBe("ok");
    const an = await d.ng({ command: "answer", "call-id": callId, "from-tag": "A", "to-tag": "B", sdp: sdp(b.port, "RTP/AVP") });
    const toA = mediaOf(an.sdp as string), toB = mediaOf(o.sdp as string);
    writeBlist([{ port: toA.port }, { port: toB.port }]);
    const aOut = ctx(suite, aKey);
    expect(aOut.setMki(Uint8Array.of(0, 0, 0, 0, 1))).toBe(0);
    const sent: string[] = [];
    for (let i = 0; i < 5; i++) {
      const p = a.rtp();
      sent.push(p.toString("hex"));
      a.send(toA.port, protect(aOut, p));
      b.send(toB.port, b.rtp());
      await Bun.sleep(5);
    }
    expect(await b.waitFor(5)).toBe(5);
    expect(inSeqOrder(b.got.map((g) => g.data)).map((p) => p.toString("hex"))).toEqual(sent);
    await until("the refusal line", () => /Kernel rule 127\.0\.0\.1:\d+ -> 127\.0\.0\.1:\d+ stays in userspace: AES_CM_128_HMAC_SHA1_80: 5-byte MKI/.test(d.log()));
    aOut.free();
    await d.ng({ command: "delete", "call-id": callId });
  }, 20_000);
});
