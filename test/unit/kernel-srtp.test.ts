// SRTP in kernel rules: encodeKernelRule's struct rtpe_srtp and SSRC seeds against a compiled uapi probe, refusals, and the index handover through real librtpe_srtp contexts.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { SRTP_SUITES, SrtpLibrary, srtpSuiteByName, type SrtpContext, type SrtpSuite } from "../../src/crypto/srtp.ts";
import { encodeKernelRule, KRULE, type ForwardingRule } from "../../src/kernel/rule.ts";
import {
  encodeKernelSrtp, kernelCipher, kernelKeysRefusal, kernelSrtpRefusal, KSRTP, KSRTP_SIZE, type KernelSrtp, type KernelSrtpIndices, type SrtpKeyMaterial,
} from "../../src/kernel/srtp-kernel.ts";
import { RuleSrtp, SRTCP_HANDOVER_GAP, type SrtpPlan } from "../../src/media/secure-fast.ts";
import type { SecureContexts } from "../../src/media/secure.ts";
import { missing } from "../helpers/requires.ts";

const REPO = resolve(import.meta.dir, "../..");
const PROBE = `#include <stddef.h>
#include <stdio.h>
#include "rtpengine_uapi.h"
#define P(name, v) printf("%s %zu\\n", name, (size_t)(v))
#define R(f) P("rule." #f, offsetof(struct rtpe_rule, f))
#define S(f) P("srtp." #f, offsetof(struct rtpe_srtp, f))
int main(void) {
  R(flags); R(decrypt); R(out.src); R(out.dst); R(out.tos); R(out.encrypt); R(ssrc); R(roc_in); R(roc_out); R(num_ssrc); R(cookie);
  S(cipher); S(auth); S(rtp_tag_len); S(rtcp_tag_len); S(key_len); S(salt_len); S(mki_len); S(flags); S(mki); S(rtcp_index); S(master_key); S(master_salt);
  P("srtp", sizeof(struct rtpe_srtp));
  P("hdr", sizeof(struct rtpe_msg_hdr));
  P("RF_RTP", RTPE_RF_RTP); P("RF_RTCP", RTPE_RF_RTCP); P("RF_MUX_RTCP", RTPE_RF_MUX_RTCP);
  P("NULL", RTPE_CIPHER_NULL); P("AES_CM_128", RTPE_CIPHER_AES_CM_128); P("AES_CM_192", RTPE_CIPHER_AES_CM_192); P("AES_CM_256", RTPE_CIPHER_AES_CM_256);
  P("AES_F8_128", RTPE_CIPHER_AES_F8_128); P("AES_GCM_128", RTPE_CIPHER_AES_GCM_128); P("AES_GCM_256", RTPE_CIPHER_AES_GCM_256);
  P("AUTH_NONE", RTPE_AUTH_NONE); P("AUTH_HMAC_SHA1", RTPE_AUTH_HMAC_SHA1);
  P("UNENCRYPTED_SRTP", RTPE_SRTP_UNENCRYPTED_SRTP); P("UNENCRYPTED_SRTCP", RTPE_SRTP_UNENCRYPTED_SRTCP); P("UNAUTHENTICATED_SRTP", RTPE_SRTP_UNAUTHENTICATED_SRTP);
  P("MAX_MKI", RTPE_MAX_MKI); P("MAX_SSRC", RTPE_MAX_SSRC);
  return 0;
}
`;

const off: Record<string, number> = {};
const hasCc = !missing(Bun.spawnSync(["sh", "-c", "command -v cc"]).exitCode !== 0, "kernel-srtp: no cc to compile the uapi probe");
let tmp = "";
let lib: SrtpLibrary | null = null;

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), "kernel-srtp-"));
  if (hasCc) {
    writeFileSync(join(tmp, "p.c"), PROBE);
    const cc = Bun.spawnSync(["cc", "-Wall", "-Werror", "-I", join(REPO, "kernel-module"), "-o", join(tmp, "p"), join(tmp, "p.c")], { stderr: "pipe" });
    if (cc.exitCode !== 0) throw new Error(`probe does not compile:\n${cc.stderr.toString()}`);
    for (const l of Bun.spawnSync([join(tmp, "p")]).stdout.toString().trim().split("\n")) off[l.split(" ")[0]!] = Number(l.split(" ")[1]);
    const build = Bun.spawnSync(["bash", join(REPO, "ffi/srtp/build.sh")], { env: { ...process.env, OUT: tmp }, stdout: "pipe", stderr: "pipe" });
    if (build.exitCode !== 0) throw new Error(`ffi/srtp/build.sh failed: ${build.stderr.toString()}`);
    lib = new SrtpLibrary(join(tmp, "librtpe_srtp.so"));
    expect(lib.init()).toBe(0);
  }
});

afterAll(() => {
  lib?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const bytes = (n: number, start: number) => Uint8Array.from({ length: n }, (_, i) => (start + i) & 0xff);
const material = (name: string, start: number, mki: Uint8Array | null = null, flags = 0): SrtpKeyMaterial => {
  const suite = srtpSuiteByName(name)!;
  return { suite, key: bytes(suite.keyLength, start), salt: bytes(suite.saltLength, start + 100), mki, flags };
};
const fixed = (ix: KernelSrtpIndices, decrypt: SrtpKeyMaterial | null, encrypt: SrtpKeyMaterial | null): KernelSrtp => ({ decrypt, encrypt, current: () => ix, handBack: () => {} });

function srtpRule(kernel: KernelSrtp, payload: "rtp" | "rtcp" = "rtp", mux = false): ForwardingRule {
  return {
    local: { handle: 1, local: { address: "127.0.0.1", port: 30000, family: 4 } }, expectSrc: null, dropMismatch: false,
    outSrc: { handle: 2, local: { address: "127.0.0.1", port: 30002, family: 4 } }, outDst: { address: "127.0.0.1", port: 5000, family: 4 },
    tos: null, payload, srtp: { key: "1/0", decrypt: 0, encrypt: 0, mux, kernel },
  };
}

describe.skipIf(!hasCc)("struct rtpe_srtp in kernel rules (compiled uapi probe)", () => {
  test("offsets and enum values match the header", () => {
    expect(KSRTP_SIZE).toBe(off["srtp"]!);
    const want = { cipher: "cipher", auth: "auth", rtpTag: "rtp_tag_len", rtcpTag: "rtcp_tag_len", keyLen: "key_len", saltLen: "salt_len", mkiLen: "mki_len", flags: "flags", mki: "mki", rtcpIndex: "rtcp_index", key: "master_key", salt: "master_salt" };
    for (const [k, c] of Object.entries(want)) expect<[string, number]>([k, KSRTP[k as keyof typeof KSRTP]]).toEqual([k, off[`srtp.${c}`]!]);
    const rw = { flags: "flags", decrypt: "decrypt", outSrc: "out.src", outDst: "out.dst", tos: "out.tos", encrypt: "out.encrypt", ssrc: "ssrc", rocIn: "roc_in", rocOut: "roc_out", numSsrc: "num_ssrc", cookie: "cookie" };
    for (const [k, c] of Object.entries(rw)) expect<[string, number]>([k, KRULE[k as keyof typeof KRULE]]).toEqual([k, off[`rule.${c}`]!]);
    const ciphers: Record<string, number> = {
      NULL_HMAC_SHA1_80: off["NULL"]!, AES_CM_128_HMAC_SHA1_80: off["AES_CM_128"]!, AES_192_CM_HMAC_SHA1_32: off["AES_CM_192"]!, AES_256_CM_HMAC_SHA1_80: off["AES_CM_256"]!,
      F8_128_HMAC_SHA1_80: off["AES_F8_128"]!, AEAD_AES_128_GCM: off["AES_GCM_128"]!, AEAD_AES_256_GCM: off["AES_GCM_256"]!,
    };
    for (const [name, v] of Object.entries(ciphers)) expect([name, kernelCipher(srtpSuiteByName(name)!)]).toEqual([name, v]);
  });

  test("every suite rtpengine negotiates has a kernel cipher", () => {
    for (const s of SRTP_SUITES) expect([s.name, kernelKeysRefusal(material(s.name, 1))]).toEqual([s.name, null]);
  });

  test("SDES AES_CM_128_HMAC_SHA1_80 -> plain: decrypt filled, output plain, SSRCs seeded, RTCP muxed", () => {
    const dec = material("AES_CM_128_HMAC_SHA1_80", 1, Uint8Array.of(0, 0, 0, 7), off["UNENCRYPTED_SRTCP"]!);
    const ix = { ssrcs: [{ ssrc: 0xdeadbeef, rocIn: 3, rocOut: 3, seq: 1000 }, { ssrc: 7, rocIn: 0, rocOut: 0, seq: 200 }], rtcpIndex: 55 };
    const m = encodeKernelRule(srtpRule(fixed(ix, dec, null), "rtp", true), "add", 9n);
    const dv = new DataView(m.buffer);
    const r = off["hdr"]!, d = r + off["rule.decrypt"]!, e = r + off["rule.out.encrypt"]!;
    expect(dv.getUint32(r + off["rule.flags"]!, true)).toBe(off["RF_RTP"]! | off["RF_MUX_RTCP"]!);
    expect([m[d + off["srtp.cipher"]!], m[d + off["srtp.auth"]!], m[d + off["srtp.rtp_tag_len"]!], m[d + off["srtp.rtcp_tag_len"]!]]).toEqual([off["AES_CM_128"]!, off["AUTH_HMAC_SHA1"]!, 10, 10]);
    expect([m[d + off["srtp.key_len"]!], m[d + off["srtp.salt_len"]!], m[d + off["srtp.mki_len"]!], m[d + off["srtp.flags"]!]]).toEqual([16, 14, 4, off["UNENCRYPTED_SRTCP"]!]);
    expect([...m.subarray(d + off["srtp.mki"]!, d + off["srtp.mki"]! + 4)]).toEqual([0, 0, 0, 7]);
    expect([...m.subarray(d + off["srtp.master_key"]!, d + off["srtp.master_key"]! + 16)]).toEqual([...dec.key]);
    expect([...m.subarray(d + off["srtp.master_salt"]!, d + off["srtp.master_salt"]! + 14)]).toEqual([...dec.salt]);
    expect([...m.subarray(d + 16 + 16, d + 48)].every((x) => x === 0)).toBe(true); // key bytes past key_len stay zero
    expect(dv.getUint32(d + off["srtp.rtcp_index"]!, true)).toBe(0); // the input side has no output index
    expect([...m.subarray(e, e + off["srtp"]!)].every((x) => x === 0)).toBe(true); // RTPE_CIPHER_NONE on output
    expect(dv.getUint32(r + off["rule.num_ssrc"]!, true)).toBe(2);
    expect([0, 1].map((i) => [dv.getUint32(r + off["rule.ssrc"]! + 4 * i, true), dv.getUint32(r + off["rule.roc_in"]! + 4 * i, true), dv.getUint32(r + off["rule.roc_out"]! + 4 * i, true)])).toEqual([[0xdeadbeef, 3, 3], [7, 0, 0]]);
    expect(dv.getBigUint64(r + off["rule.cookie"]!, true)).toBe(9n);
  });

  test("SRTCP rule plain -> AEAD_AES_256_GCM: encrypt filled with the next SRTCP index, no tags", () => {
    const enc = material("AEAD_AES_256_GCM", 50);
    const m = encodeKernelRule(srtpRule(fixed({ ssrcs: [], rtcpIndex: 0x80000005 }, null, enc), "rtcp"), "update");
    const dv = new DataView(m.buffer);
    const r = off["hdr"]!, e = r + off["rule.out.encrypt"]!;
    expect(dv.getUint32(r + off["rule.flags"]!, true)).toBe(off["RF_RTCP"]!);
    expect([m[e], m[e + 1], m[e + 2], m[e + 3], m[e + 4], m[e + 5], m[e + 6]]).toEqual([off["AES_GCM_256"]!, off["AUTH_NONE"]!, 0, 0, 32, 12, 0]);
    expect(dv.getUint32(e + off["srtp.rtcp_index"]!, true)).toBe(5); // 31 bits
    expect([...m.subarray(e + off["srtp.master_key"]!, e + off["srtp.master_key"]! + 32)]).toEqual([...enc.key]);
    expect(m[r + off["rule.decrypt"]!]).toBe(0);
  });

  test("what the module cannot do is refused with the reason", () => {
    const big = material("AES_CM_128_HMAC_SHA1_80", 1, new Uint8Array(5));
    expect(kernelKeysRefusal(big)).toContain("5-byte MKI");
    expect(() => encodeKernelRule(srtpRule(fixed({ ssrcs: [], rtcpIndex: 0 }, big, null)))).toThrow("MKI");
    const odd: SrtpSuite = { ...srtpSuiteByName("AES_CM_128_HMAC_SHA1_80")!, keyLength: 20 };
    expect(kernelKeysRefusal({ suite: odd, key: new Uint8Array(20), salt: new Uint8Array(14), mki: null, flags: 0 })).toContain("20-byte AES-CM key");
    expect(kernelKeysRefusal({ ...material("AES_CM_128_HMAC_SHA1_80", 1), flags: 0x10 })).toContain("flags");
    expect(kernelKeysRefusal({ ...material("AES_CM_128_HMAC_SHA1_80", 1), salt: new Uint8Array(12) })).toContain("salt");
    const ok = fixed({ ssrcs: [], rtcpIndex: 0 }, material("AES_CM_128_HMAC_SHA1_32", 1), material("AEAD_AES_128_GCM", 2));
    const at = (seq: number, roc = 1) => kernelSrtpRefusal(ok, { ssrcs: [{ ssrc: 1, rocIn: roc, rocOut: roc, seq }], rtcpIndex: 0 });
    expect(at(30000)).toBeNull();
    expect(at(65500)).toContain("rollover");
    expect(at(10)).toContain("rollover");
    expect(at(10, 0)).toBeNull(); // a new stream starting low has no previous cycle
    const five = Array.from({ length: 5 }, (_, i) => ({ ssrc: i, rocIn: 0, rocOut: 0, seq: 1000 }));
    expect(kernelSrtpRefusal(ok, { ssrcs: five, rtcpIndex: 0 })).toContain("5 SSRCs");
    expect(() => encodeKernelRule({ ...srtpRule(ok), srtp: { key: "x", decrypt: 0, encrypt: 0, mux: false } })).toThrow("no SRTP keys");
    const buf = new Uint8Array(64);
    encodeKernelSrtp(buf, 0, null);
    expect(buf.every((x) => x === 0)).toBe(true);
  });
});

// ---- the handover through real contexts (ffi/srtp) ----

function rtp(ssrc: number, seq: number): Uint8Array {
  const b = new Uint8Array(12 + 20 + 64);
  b.set([0x80, 0, seq >> 8, seq & 0xff, 0, 0, 0, 1, ssrc >>> 24, (ssrc >> 16) & 0xff, (ssrc >> 8) & 0xff, ssrc & 0xff]);
  b.fill(0x33, 12, 32);
  return b;
}

function contexts(inb: SrtpKeyMaterial, outb: SrtpKeyMaterial, id: number): SecureContexts {
  const mk = (k: SrtpKeyMaterial) => lib!.context(k.suite, k.key, k.salt, k.flags);
  const fork = () => ({ inbound: mk(inb), outbound: mk(outb) });
  return { ...fork(), id, fork, keys: { inbound: inb, outbound: outb } };
}

/** protect as the sender would at index roc<<16|seq, the context seeded just below it */
function sendAt(keys: SrtpKeyMaterial, ssrc: number, roc: number, seq: number): Uint8Array {
  const c = lib!.context(keys.suite, keys.key, keys.salt, keys.flags);
  try {
    const at = (BigInt(roc) << 16n) | BigInt(seq);
    if (at > 0n) c.setIndex(ssrc, at - 1n, 0);
    const b = rtp(ssrc, seq);
    const n = c.protect(b, 32);
    expect(n).toBeGreaterThan(32);
    return b.slice(0, n);
  } finally {
    c.free();
  }
}

describe.skipIf(!hasCc)("RuleSrtp.kernel(): seeds from userspace, the kernel's indices back (real librtpe_srtp contexts)", () => {
  test("SRTP -> SRTP with other keys: seeds, hand-back, userspace continues at the kernel's ROC", () => {
    const aKeys = material("AES_CM_128_HMAC_SHA1_80", 10), bKeys = material("AEAD_AES_128_GCM", 60);
    const A = contexts(aKeys, material("AES_CM_128_HMAC_SHA1_80", 20), 1); // A's side: inbound = what A sends
    const B = contexts(material("AEAD_AES_128_GCM", 70), bKeys, 2); // B's side: outbound = what B receives
    const ssrc = 0x1234abcd;
    // userspace relayed seq 100..109 at ROC 0 (A -> B)
    for (let seq = 100; seq < 110; seq++) {
      const p = sendAt(aKeys, ssrc, 0, seq);
      const n = A.inbound.unprotect(p);
      expect(n).toBe(32);
      const out = new Uint8Array(256);
      out.set(p.subarray(0, n));
      expect(B.outbound.protect(out, n)).toBeGreaterThan(n);
    }
    const plan: SrtpPlan = { key: "1/2", from: A, to: B };
    const rs = RuleSrtp.make(plan, [ssrc]);
    const ks = rs.kernel();
    expect(ks.decrypt).toBe(aKeys);
    expect(ks.encrypt).toBe(bKeys);
    expect(ks.current()).toEqual({ ssrcs: [{ ssrc, rocIn: 0, rocOut: 0, seq: 109 }], rtcpIndex: SRTCP_HANDOVER_GAP });
    // the kernel forwarded 3 cycles more, plus an SSRC userspace never saw; and 40 SRTCP packets
    ks.handBack({ ssrcs: [{ ssrc, packets: 200000, lastSeq: 5, rocIn: 3, rocOut: 3 }, { ssrc: 99, packets: 10, lastSeq: 70, rocIn: 0, rocOut: 0 }, { ssrc: 98, packets: 0, lastSeq: 0, rocIn: 9, rocOut: 9 }], rtcpIndex: 40 });
    rs.release();
    expect(A.inbound.getIndex(ssrc)!.rtpIndex).toBe((3n << 16n) | 5n);
    expect(B.outbound.getIndex(ssrc)).toEqual({ rtpIndex: (3n << 16n) | 5n, srtcpIndex: 40 + SRTCP_HANDOVER_GAP });
    expect(A.inbound.getIndex(99)!.rtpIndex).toBe(70n);
    expect(A.inbound.getIndex(98)).toBeUndefined(); // an empty slot hands nothing back
    // userspace continues: seq 6 of ROC 3 authenticates (the estimate picks ROC 3), B's receiver decrypts what userspace protects
    const p = sendAt(aKeys, ssrc, 3, 6);
    const n = A.inbound.unprotect(p);
    expect(n).toBe(32);
    const out = new Uint8Array(256);
    out.set(p.subarray(0, n));
    const m = B.outbound.protect(out, n);
    const rx = lib!.context(bKeys.suite, bKeys.key, bKeys.salt);
    rx.setIndex(ssrc, (3n << 16n) | 5n, 0);
    expect(rx.unprotect(out, m)).toBe(32);
    rx.free();
    // a rule released later with older indices (the stream's RTCP rule) never moves them back
    const stale = RuleSrtp.make({ key: "1/2", from: A, to: B }, [ssrc]);
    (stale.decrypt as SrtpContext).setIndex(ssrc, 50n, 0);
    stale.release();
    expect(A.inbound.getIndex(ssrc)!.rtpIndex).toBe((3n << 16n) | 6n);
    for (const c of [A, B]) {
      c.inbound.free();
      c.outbound.free();
    }
  });

  test("plain -> SRTP: the plain side's ROC follows the output's; hand-back after release is ignored", () => {
    const bKeys = material("AES_256_CM_HMAC_SHA1_32", 5);
    const B = contexts(material("AES_256_CM_HMAC_SHA1_32", 6), bKeys, 3);
    const ssrc = 77;
    B.outbound.setIndex(ssrc, (2n << 16n) | 30000n, 12);
    const rs = RuleSrtp.make({ key: "0/3", from: null, to: B }, [ssrc, 78]);
    const ks = rs.kernel();
    expect(ks.decrypt).toBeNull();
    expect(ks.current()).toEqual({ ssrcs: [{ ssrc, rocIn: 2, rocOut: 2, seq: 30000 }], rtcpIndex: 12 + SRTCP_HANDOVER_GAP });
    rs.release();
    ks.handBack({ ssrcs: [{ ssrc, packets: 5, lastSeq: 30005, rocIn: 2, rocOut: 2 }], rtcpIndex: 0 });
    expect(B.outbound.getIndex(ssrc)!.rtpIndex).toBe((2n << 16n) | 30000n);
    B.inbound.free();
    B.outbound.free();
  });
});
