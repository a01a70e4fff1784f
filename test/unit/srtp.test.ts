// librtpe_srtp through bun:ffi, checked byte for byte against an independent node:crypto SRTP model.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type CipherGCMTypes, createCipheriv, createHmac, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  SRTP_SUITES,
  SrtpError,
  SrtpFlag,
  SrtpLibrary,
  srtpFlags,
  srtpSuiteByName,
  type SrtpSuite,
} from "../../src/crypto/srtp.ts";

const root = join(import.meta.dir, "..", "..");
let outDir = "";
let lib: SrtpLibrary;

beforeAll(() => {
  outDir = mkdtempSync(join(tmpdir(), "rtpe-srtp-"));
  const build = Bun.spawnSync(["bash", join(root, "ffi/srtp/build.sh")], {
    env: { ...process.env, OUT: outDir },
    stdout: "pipe",
    stderr: "pipe",
  });
  if (build.exitCode !== 0) throw new Error(`build.sh failed: ${build.stderr.toString()}`);
  lib = new SrtpLibrary(join(outDir, "librtpe_srtp.so"));
  expect(lib.init()).toBe(0);
});

afterAll(() => {
  lib?.close();
  if (outDir) rmSync(outDir, { recursive: true, force: true });
});

// ---- the independent model: RFC 3711 / 6188 / 7714 written against node:crypto ----

const aesBits = (key: Uint8Array) => key.length * 8;

function prf(mkey: Uint8Array, msalt: Uint8Array, label: number, len: number): Buffer {
  const iv = Buffer.alloc(16);
  Buffer.from(msalt).copy(iv);
  iv[7]! ^= label;
  const c = createCipheriv(`aes-${aesBits(mkey)}-ctr`, mkey, iv);
  return c.update(Buffer.alloc(len));
}

interface Keys {
  enc: Buffer;
  auth: Buffer;
  salt: Buffer;
}

function derive(s: SrtpSuite, mkey: Uint8Array, msalt: Uint8Array, base: number): Keys {
  return {
    enc: prf(mkey, msalt, base, s.keyLength),
    auth: prf(mkey, msalt, base + 1, 20),
    salt: prf(mkey, msalt, base + 2, s.saltLength),
  };
}

function keystreamXor(s: SrtpSuite, k: Keys, iv: Buffer, data: Buffer): Buffer {
  if (s.cipher === "AES-CM") return createCipheriv(`aes-${k.enc.length * 8}-ctr`, k.enc, iv).update(data);
  if (s.cipher === "AES-F8") {
    const m = Buffer.alloc(k.enc.length, 0x55);
    k.salt.copy(m);
    const masked = Buffer.from(k.enc.map((b, i) => b ^ m[i]!));
    const ecb = (key: Buffer, block: Buffer) => {
      const c = createCipheriv(`aes-${key.length * 8}-ecb`, key, null);
      c.setAutoPadding(false);
      return c.update(block);
    };
    const ivp = ecb(masked, iv);
    const out = Buffer.from(data);
    let prev = Buffer.alloc(16);
    for (let j = 0, off = 0; off < data.length; j++, off += 16) {
      const x = Buffer.from(ivp.map((b, i) => b ^ prev[i]!));
      x.writeUInt32BE((x.readUInt32BE(12) ^ j) >>> 0, 12);
      prev = ecb(k.enc, x);
      for (let i = 0; i < 16 && off + i < data.length; i++) out[off + i]! ^= prev[i]!;
    }
    return out;
  }
  return Buffer.from(data);
}

function rtpHeaderLength(p: Buffer): number {
  let h = 12 + 4 * (p[0]! & 0x0f);
  if (p[0]! & 0x10) h += 4 + 4 * p.readUInt16BE(h + 2);
  return h;
}

function modelProtectRtp(s: SrtpSuite, k: Keys, plain: Buffer, roc: number, flags: number): Buffer {
  const hl = rtpHeaderLength(plain);
  const hdr = plain.subarray(0, hl);
  const seq = plain.readUInt16BE(2);
  const ssrc = plain.readUInt32BE(8);
  const encrypt = !(flags & SrtpFlag.UNENCRYPTED_SRTP);
  if (s.aead) {
    const iv = Buffer.alloc(12);
    iv.writeUInt32BE(ssrc, 2);
    iv.writeUInt32BE(roc, 6);
    iv.writeUInt16BE(seq, 10);
    for (let i = 0; i < 12; i++) iv[i]! ^= k.salt[i]!;
    const c = createCipheriv(`aes-${k.enc.length * 8}-gcm` as CipherGCMTypes, k.enc, iv);
    if (!encrypt) {
      c.setAAD(plain);
      c.final();
      return Buffer.concat([plain, c.getAuthTag()]);
    }
    c.setAAD(hdr);
    const body = Buffer.concat([c.update(plain.subarray(hl)), c.final()]);
    return Buffer.concat([hdr, body, c.getAuthTag()]);
  }
  let iv: Buffer;
  if (s.cipher === "AES-F8") {
    iv = Buffer.alloc(16);
    plain.copy(iv, 1, 1, 12);
    iv.writeUInt32BE(roc, 12);
  } else {
    iv = Buffer.alloc(16);
    k.salt.copy(iv);
    iv.writeUInt32BE((iv.readUInt32BE(4) ^ ssrc) >>> 0, 4);
    iv.writeUInt32BE((iv.readUInt32BE(8) ^ roc) >>> 0, 8);
    iv.writeUInt16BE(iv.readUInt16BE(12) ^ seq, 12);
  }
  const payload = encrypt ? keystreamXor(s, k, iv, plain.subarray(hl)) : plain.subarray(hl);
  const body = Buffer.concat([hdr, payload]);
  if (flags & SrtpFlag.UNAUTHENTICATED_SRTP) return body;
  const rocb = Buffer.alloc(4);
  rocb.writeUInt32BE(roc);
  const tag = createHmac("sha1", k.auth).update(body).update(rocb).digest().subarray(0, s.srtpTagLength);
  return Buffer.concat([body, tag]);
}

function modelProtectRtcp(s: SrtpSuite, k: Keys, plain: Buffer, index: number, flags: number): Buffer {
  const ssrc = plain.readUInt32BE(4);
  const encrypt = !(flags & SrtpFlag.UNENCRYPTED_SRTCP) && s.cipher !== "NULL";
  const eidx = Buffer.alloc(4);
  eidx.writeUInt32BE(((encrypt ? 0x80000000 : 0) | index) >>> 0);
  if (s.aead) {
    const iv = Buffer.alloc(12);
    iv.writeUInt32BE(ssrc, 2);
    iv.writeUInt32BE(index, 8);
    for (let i = 0; i < 12; i++) iv[i]! ^= k.salt[i]!;
    const c = createCipheriv(`aes-${k.enc.length * 8}-gcm` as CipherGCMTypes, k.enc, iv);
    if (!encrypt) {
      c.setAAD(Buffer.concat([plain, eidx]));
      c.final();
      return Buffer.concat([plain, c.getAuthTag(), eidx]);
    }
    c.setAAD(Buffer.concat([plain.subarray(0, 8), eidx]));
    const body = Buffer.concat([c.update(plain.subarray(8)), c.final()]);
    return Buffer.concat([plain.subarray(0, 8), body, c.getAuthTag(), eidx]);
  }
  const iv = Buffer.alloc(16);
  if (s.cipher === "AES-F8") {
    eidx.copy(iv, 4);
    plain.copy(iv, 8, 0, 8);
  } else {
    k.salt.copy(iv);
    iv.writeUInt32BE((iv.readUInt32BE(4) ^ ssrc) >>> 0, 4);
    iv.writeUInt32BE((iv.readUInt32BE(10) ^ index) >>> 0, 10);
  }
  const payload = encrypt ? keystreamXor(s, k, iv, plain.subarray(8)) : plain.subarray(8);
  const body = Buffer.concat([plain.subarray(0, 8), payload, eidx]);
  const tag = createHmac("sha1", k.auth).update(body).digest().subarray(0, s.srtcpTagLength);
  return Buffer.concat([body, tag]);
}

function rtpPacket(seq: number, ssrc: number, payload: number, csrcExt: boolean): Buffer {
  const head = Buffer.alloc(12);
  head[0] = csrcExt ? 0x91 : 0x80;
  head[1] = 96;
  head.writeUInt16BE(seq, 2);
  head.writeUInt32BE(seq * 160, 4);
  head.writeUInt32BE(ssrc, 8);
  const extra = csrcExt ? Buffer.from("11111111bede0001aabbccdd", "hex") : Buffer.alloc(0);
  return Buffer.concat([head, extra, randomBytes(payload)]);
}

function rtcpPacket(ssrc: number): Buffer {
  const p = Buffer.concat([Buffer.from([0x80, 201, 0, 6]), Buffer.alloc(4), randomBytes(24)]);
  p.writeUInt32BE(ssrc, 4);
  return p;
}

const withRoom = (p: Buffer, extra = 64) => {
  const b = new Uint8Array(p.length + extra);
  b.set(p);
  return b;
};

// ---- tests ----

describe("suite table", () => {
  test("12 suites in rtpengine's offer order, lengths agree with the C table", () => {
    expect(SRTP_SUITES.map((s) => s.name)).toEqual([
      "AEAD_AES_256_GCM",
      "AEAD_AES_128_GCM",
      "AES_256_CM_HMAC_SHA1_80",
      "AES_256_CM_HMAC_SHA1_32",
      "AES_192_CM_HMAC_SHA1_80",
      "AES_192_CM_HMAC_SHA1_32",
      "AES_CM_128_HMAC_SHA1_80",
      "AES_CM_128_HMAC_SHA1_32",
      "F8_128_HMAC_SHA1_80",
      "F8_128_HMAC_SHA1_32",
      "NULL_HMAC_SHA1_80",
      "NULL_HMAC_SHA1_32",
    ]);
    for (const s of SRTP_SUITES)
      expect(lib.suiteInfo(s.id)).toEqual([s.keyLength, s.saltLength, s.srtpTagLength, s.srtcpTagLength]);
    expect(lib.suiteInfo(0)).toBeUndefined();
    expect(srtpSuiteByName("aes_cm_128_hmac_sha1_80")?.id).toBe(1);
    expect(srtpSuiteByName("AES_CM_256_HMAC_SHA1_80")).toBeUndefined();
    expect(srtpFlags({ unencryptedSrtcp: true, unauthenticatedSrtp: true })).toBe(6);
  });
});

const flagSets = [0, SrtpFlag.UNENCRYPTED_SRTP, SrtpFlag.UNENCRYPTED_SRTCP, SrtpFlag.UNAUTHENTICATED_SRTP];

describe.each(SRTP_SUITES.map((s) => [s.name, s] as const))("%s against the node:crypto model", (_n, s) => {
  for (const flags of flagSets) {
    if (s.aead && flags === SrtpFlag.UNAUTHENTICATED_SRTP) continue;
    test(`flags ${flags}: RTP across the sequence wrap and SRTCP, both directions`, () => {
      const mkey = randomBytes(s.keyLength);
      const msalt = randomBytes(s.saltLength);
      const rtpKeys = derive(s, mkey, msalt, 0);
      const rtcpKeys = derive(s, mkey, msalt, 3);
      const tx = lib.context(s, mkey, msalt, flags);
      const rx = lib.context(s, mkey, msalt, flags);
      const ssrc = 0xcafe0001;
      try {
        for (let i = 0; i < 12; i++) {
          const seq = (65530 + i) & 0xffff;
          const roc = 65530 + i > 0xffff ? 1 : 0;
          const plain = rtpPacket(seq, ssrc, 20 + i * 7, i % 3 === 0);
          const want = modelProtectRtp(s, rtpKeys, plain, roc, flags);
          const buf = withRoom(plain);
          const n = tx.protect(buf, plain.length);
          expect(Buffer.from(buf.subarray(0, n)).toString("hex")).toBe(want.toString("hex"));
          const back = withRoom(want, 0);
          expect(rx.unprotect(back)).toBe(plain.length);
          expect(Buffer.from(back.subarray(0, plain.length)).equals(plain)).toBe(true);
        }
        expect(rx.getIndex(ssrc)?.rtpIndex).toBe((1n << 16n) | 5n);
        for (let i = 0; i < 4; i++) {
          const plain = rtcpPacket(ssrc);
          const want = modelProtectRtcp(s, rtcpKeys, plain, i, flags);
          const buf = withRoom(plain);
          const n = tx.protectRtcp(buf, plain.length);
          expect(Buffer.from(buf.subarray(0, n)).toString("hex")).toBe(want.toString("hex"));
          const back = withRoom(want, 0);
          expect(rx.unprotectRtcp(back)).toBe(plain.length);
          expect(Buffer.from(back.subarray(0, plain.length)).equals(plain)).toBe(true);
        }
      } finally {
        tx.free();
        rx.free();
      }
    });
  }
});

describe("errors through the FFI", () => {
  const s = srtpSuiteByName("AES_CM_128_HMAC_SHA1_80")!;
  const mkey = randomBytes(16);
  const msalt = randomBytes(14);

  test("tampered, replayed, short, no room, wrong MKI", () => {
    const tx = lib.context(s, mkey, msalt);
    const rx = lib.context(s, mkey, msalt);
    const plain = rtpPacket(1000, 42, 160, false);
    const buf = withRoom(plain);
    const n = tx.protect(buf, plain.length);
    expect(n).toBe(plain.length + 10);
    const copy = buf.slice(0, n);
    copy[30]! ^= 1;
    expect(rx.unprotect(copy)).toBe(SrtpError.AUTH);
    expect(rx.unprotect(buf.slice(0, n))).toBe(plain.length);
    expect(rx.unprotect(buf.slice(0, n))).toBe(SrtpError.REPLAY);
    expect(rx.unprotect(buf.slice(0, 11))).toBe(SrtpError.SHORT);
    expect(tx.protect(Buffer.from(plain))).toBe(SrtpError.NOSPACE);
    tx.setMki(new Uint8Array([1, 2]));
    rx.setMki(new Uint8Array([1, 3]));
    const b2 = withRoom(rtpPacket(1001, 42, 10, false));
    const n2 = tx.protect(b2, b2.length - 64);
    expect(rx.unprotect(b2, n2)).toBe(SrtpError.MKI);
    tx.free();
    rx.free();
    expect(() => tx.protect(buf)).toThrow();
  });

  test("bad key length throws with the C reason", () => {
    expect(() => lib.context(s, mkey.subarray(0, 15), msalt)).toThrow(/INVAL/);
  });

  test("RFC 7714 16.1.1 through the library (session keys)", () => {
    const g = srtpSuiteByName("AEAD_AES_128_GCM")!;
    const key = Uint8Array.from({ length: 16 }, (_, i) => i);
    const tx = lib.context(g, key, new TextEncoder().encode("Quid pro quo"), SrtpFlag.SESSION_KEYS);
    const plain = Buffer.from(
      "8040f17b 8041f8d3 5501a0b2 47616c6c 69612065 7374206f 6d6e6973 20646976 69736120 696e2070 61727465 73207472 6573".replace(
        / /g,
        "",
      ),
      "hex",
    );
    const buf = withRoom(plain);
    const n = tx.protect(buf, plain.length);
    expect(Buffer.from(buf.subarray(0, n)).toString("hex")).toBe(
      "8040f17b8041f8d35501a0b2f24de3a3fb34de6cacba861c9d7e4bcabe633bd50d294e6f42a5f47a51c7d19b36de3adf" +
        "8833899d7f27beb16a9152cf765ee4390cce",
    );
    tx.free();
  });
});
