// DTLS-SRTP engine: handshakes between our own connections, against OpenSSL's s_server/s_client over UDP, loss and garbage.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash, randomBytes, X509Certificate } from "node:crypto";
import { createSocket, type RemoteInfo, type Socket } from "node:dgram";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import {
  DTLS_HASHES,
  DTLS_SRTP_PROFILES,
  type DtlsConnection,
  DtlsEngine,
  DtlsFailure,
  type DtlsFingerprint,
  DtlsLibrary,
  type DtlsSrtpProfile,
  type DtlsState,
  demuxFirstByte,
  dtlsHashName,
  formatFingerprint,
  parseFingerprint,
} from "../../src/crypto/dtls.ts";

const root = join(import.meta.dir, "..", "..");
let outDir = "";
let lib: DtlsLibrary;
let engine: DtlsEngine;

beforeAll(() => {
  outDir = mkdtempSync(join(tmpdir(), "rtpe-dtls-"));
  const build = Bun.spawnSync(["bash", join(root, "ffi/dtls/build.sh")], {
    env: { ...process.env, OUT: outDir },
    stdout: "pipe",
    stderr: "pipe",
  });
  if (build.exitCode !== 0) throw new Error(`build.sh failed: ${build.stderr.toString()}`);
  lib = new DtlsLibrary(join(outDir, "librtpe_dtls.so"));
  expect(lib.init()).toBe(0);
  engine = new DtlsEngine(lib);
}, 120000);

afterAll(() => {
  engine?.close();
  rmSync(outDir, { recursive: true, force: true });
});

/** Deliver everything each side queued to the other until nothing moves; returns the datagrams sent. */
function exchange(
  a: DtlsConnection,
  b: DtlsConnection,
  drop: (from: "a" | "b", d: Uint8Array, n: number) => boolean = () => false,
): { a: Uint8Array[]; b: Uint8Array[] } {
  const sent = { a: [] as Uint8Array[], b: [] as Uint8Array[] };
  for (let round = 0; round < 20; round++) {
    const fromA = a.takeOutgoing();
    const fromB = b.takeOutgoing();
    if (fromA.length === 0 && fromB.length === 0) break;
    for (const d of fromA) {
      sent.a.push(d);
      if (!drop("a", d, sent.a.length)) b.feed(d);
    }
    for (const d of fromB) {
      sent.b.push(d);
      if (!drop("b", d, sent.b.length)) a.feed(d);
    }
  }
  return sent;
}

function hex(b: Uint8Array): string {
  return Buffer.from(b).toString("hex");
}

function pair(opts: { expectA?: DtlsFingerprint; expectP?: DtlsFingerprint; mtu?: number; e?: DtlsEngine } = {}) {
  const e = opts.e ?? engine;
  const fp = e.certificate.fingerprint("sha-256");
  const active = e.connection("active", { expect: opts.expectA ?? fp, mtu: opts.mtu });
  const passive = e.connection("passive", { expect: opts.expectP ?? fp, mtu: opts.mtu });
  return { active, passive };
}

function expectMirrorKeys(a: DtlsConnection, p: DtlsConnection, suiteName: string) {
  const ka = a.keys();
  const kp = p.keys();
  expect(ka).not.toBeNull();
  expect(kp).not.toBeNull();
  expect(ka!.suite.name as string).toBe(suiteName);
  expect(kp!.suite.name as string).toBe(suiteName);
  expect(ka!.localKey.length).toBe(ka!.suite.keyLength);
  expect(ka!.localSalt.length).toBe(ka!.suite.saltLength);
  expect(Buffer.from(ka!.localKey)).toEqual(Buffer.from(kp!.remoteKey));
  expect(Buffer.from(ka!.localSalt)).toEqual(Buffer.from(kp!.remoteSalt));
  expect(Buffer.from(ka!.remoteKey)).toEqual(Buffer.from(kp!.localKey));
  expect(Buffer.from(ka!.remoteSalt)).toEqual(Buffer.from(kp!.localSalt));
  expect(Buffer.from(ka!.localKey)).not.toEqual(Buffer.from(ka!.remoteKey));
}

describe("demux (RFC 5764 5.1.2)", () => {
  test("first byte ranges", () => {
    const cls = (b: number) => lib.demux(Uint8Array.of(b, 0));
    for (const b of [0, 1, 2, 3]) expect(cls(b)).toBe("stun");
    for (const b of [20, 22, 63]) expect(cls(b)).toBe("dtls");
    for (const b of [128, 144, 191]) expect(cls(b)).toBe("rtp");
    for (const b of [4, 19, 64, 127, 192, 255]) expect(cls(b)).toBe("other");
    expect(lib.demux(new Uint8Array(0))).toBe("other");
    for (let b = 0; b < 256; b++) expect(demuxFirstByte(b)).toBe(cls(b));
  });
});

describe("certificates", () => {
  test("fingerprints of all five hashes equal the hash of the DER", () => {
    const cert = engine.certificate;
    const der = cert.der();
    const x = new X509Certificate(Buffer.from(der));
    expect(x.subject).toContain("CN=rtpengine");
    expect(x.publicKey.asymmetricKeyDetails?.namedCurve).toBe("prime256v1");
    for (const h of DTLS_HASHES) {
      const fp = cert.fingerprint(h);
      const node = createHash(h.replace("-", "")).update(der).digest();
      expect(Buffer.from(fp.bytes)).toEqual(node);
      expect(parseFingerprint(formatFingerprint(fp))).toEqual(fp);
    }
    expect(cert.fingerprintValue("sha-1")).toMatch(/^sha-1 ([0-9A-F]{2}:){19}[0-9A-F]{2}$/);
    expect(x.fingerprint256).toBe(cert.fingerprintValue("sha-256").slice(8));
    const days = (cert.expiry.getTime() - Date.now()) / 86400e3;
    expect(days).toBeGreaterThan(29);
    expect(days).toBeLessThan(31);
  });

  test("hash names and fingerprint parsing", () => {
    expect(dtlsHashName("SHA-256")).toBe("sha-256");
    expect(dtlsHashName("sha1")).toBe("sha-1");
    expect(dtlsHashName("md5")).toBeUndefined();
    expect(parseFingerprint("sha-256 AB:CD")).toBeUndefined(); // wrong length
    expect(parseFingerprint("md5 AB:CD")).toBeUndefined();
  });

  test("RSA key of --dtls-rsa-key-size, SHA-1 signature", () => {
    const cert = lib.certificate({ cipher: "RSA", rsaKeySize: 3072, signature: "SHA-1" });
    try {
      const der = cert.der();
      const x = new X509Certificate(Buffer.from(der));
      expect(x.publicKey.asymmetricKeyType).toBe("rsa");
      expect(x.publicKey.asymmetricKeyDetails?.modulusLength).toBe(3072);
      const text = Bun.spawnSync(["openssl", "x509", "-inform", "DER", "-noout", "-text"], { stdin: Buffer.from(der) });
      expect(text.stdout.toString()).toContain("Signature Algorithm: sha1WithRSAEncryption");
      // and it serves a handshake (an RSA/SHA-1 server against the default EC client)
      const passive = lib.connection(cert, "passive", { expect: engine.certificate.fingerprint() });
      const active = engine.connection("active", { expect: cert.fingerprint("sha-1") });
      active.start();
      exchange(active, passive);
      expect(active.error).toBe("");
      expect(passive.state).toBe("connected");
      expect(active.describe()).toMatch(/RSA/);
      active.free();
      passive.free();
    } finally {
      cert.release();
    }
  }, 30000);

  test("bad options are reported, not crashed on", () => {
    expect(() => lib.certificate({ ciphers: "NO-SUCH-CIPHER" })).toThrow(/dtls-ciphers.*no cipher match/);
    expect(() => lib.certificate({ profiles: ["SRTP_BOGUS" as DtlsSrtpProfile] })).toThrow(DtlsFailure);
    expect(() => lib.certificate({ cipher: "RSA", rsaKeySize: 100 })).toThrow(/RSA key size/);
  });

  test("rotateIfDue rotates once half the lifetime is gone", () => {
    const e = new DtlsEngine(lib, { validitySeconds: 3600 });
    const first = e.certificate.fingerprintValue();
    expect(e.rotateIfDue()).toBe(false);
    expect(e.rotateIfDue(Date.now() + 1700e3)).toBe(false);
    expect(e.certificate.fingerprintValue()).toBe(first);
    expect(e.rotateIfDue(Date.now() + 1900e3)).toBe(true);
    expect(e.certificate.fingerprintValue()).not.toBe(first);
    e.close();
  });

  test("rotation: new fingerprint; a connection made before keeps the old certificate", () => {
    const e = new DtlsEngine(lib);
    const oldFp = e.certificate.fingerprint("sha-256");
    const server = e.connection("passive"); // made before the rotation
    const rotated = e.rotate();
    expect(rotated).toBe(e.certificate);
    const newFp = e.certificate.fingerprint("sha-256");
    expect(Buffer.from(newFp.bytes)).not.toEqual(Buffer.from(oldFp.bytes));
    const client = e.connection("active", { expect: oldFp }); // made after: presents the new one
    server.expect(newFp);
    client.start();
    exchange(client, server);
    expect(client.error).toBe("");
    expect(client.state).toBe("connected");
    expect(server.state).toBe("connected");
    expect(Buffer.from(client.peerFingerprint("sha-256")!.bytes)).toEqual(Buffer.from(oldFp.bytes));
    expect(Buffer.from(server.peerFingerprint("sha-256")!.bytes)).toEqual(Buffer.from(newFp.bytes));
    client.free();
    server.free();
    e.close();
  });
});

describe("handshake between our connections", () => {
  test("default profiles: AEAD_AES_256_GCM, mirror-image keys", () => {
    const { active, passive } = pair();
    expect(active.state).toBe("new");
    expect(active.start()).toBe("handshake");
    exchange(active, passive);
    expect(active.error).toBe("");
    expect(active.state).toBe("connected");
    expect(passive.state).toBe("connected");
    expectMirrorKeys(active, passive, "AEAD_AES_256_GCM");
    expect(active.describe()).toMatch(/^DTLSv1\.2 /);
    expect(active.timeoutMs()).toBeNull();
    active.free();
    passive.free();
  });

  for (const [profile, suite] of [
    ["SRTP_AEAD_AES_128_GCM", "AEAD_AES_128_GCM"],
    ["SRTP_AES128_CM_SHA1_80", "AES_CM_128_HMAC_SHA1_80"],
    ["SRTP_AES128_CM_SHA1_32", "AES_CM_128_HMAC_SHA1_32"],
  ] as const) {
    test(`profile ${profile} maps to ${suite}`, () => {
      const e = new DtlsEngine(lib, { profiles: [profile] });
      const { active, passive } = pair({ e });
      active.start();
      exchange(active, passive);
      expect(active.state).toBe("connected");
      expectMirrorKeys(active, passive, suite);
      active.free();
      passive.free();
      e.close();
    });
  }

  test("the server picks by its own preference order among the client's offer", () => {
    const client = new DtlsEngine(lib, { profiles: ["SRTP_AES128_CM_SHA1_32", "SRTP_AES128_CM_SHA1_80"] });
    const active = client.connection("active");
    const passive = engine.connection("passive");
    active.start();
    exchange(active, passive);
    expect(passive.state).toBe("connected");
    // OpenSSL's server honours the client's order; both sides agree either way
    expect(active.keys()!.suite.name).toBe(passive.keys()!.suite.name);
    expect(["AES_CM_128_HMAC_SHA1_32", "AES_CM_128_HMAC_SHA1_80"]).toContain(active.keys()!.suite.name);
    active.free();
    passive.free();
    client.close();
  });

  test("fingerprint mismatch on the passive side fails both ends cleanly", () => {
    const wrong: DtlsFingerprint = { hash: "sha-256", bytes: new Uint8Array(32).fill(0xab) };
    const { active, passive } = pair({ expectP: wrong });
    active.start();
    exchange(active, passive);
    expect(passive.state).toBe("failed");
    expect(passive.error).toMatch(/fingerprint/);
    expect(passive.error).toMatch(/certificate verify failed/);
    expect(active.state).toBe("failed");
    expect(active.error).toMatch(/alert/); // OpenSSL's reason for the alert the passive side sent
    expect(passive.keys()).toBeNull();
    expect(active.keys()).toBeNull();
    active.free();
    passive.free();
  });

  test("fingerprint mismatch on the active side (other hash) fails too", () => {
    const wrong: DtlsFingerprint = { hash: "sha-1", bytes: new Uint8Array(20) };
    const { active, passive } = pair({ expectA: wrong });
    active.start();
    exchange(active, passive);
    expect(active.state).toBe("failed");
    expect(active.error).toMatch(/fingerprint/);
    expect(passive.state).not.toBe("connected");
    active.free();
    passive.free();
  });

  test("no expected fingerprint: accepted, peer fingerprint reported", () => {
    const active = engine.connection("active");
    const passive = engine.connection("passive");
    active.start();
    exchange(active, passive);
    expect(active.state).toBe("connected");
    const want = engine.certificate.fingerprint("sha-384");
    expect(Buffer.from(active.peerFingerprint("sha-384")!.bytes)).toEqual(Buffer.from(want.bytes));
    expect(Buffer.from(passive.peerFingerprint("sha-384")!.bytes)).toEqual(Buffer.from(want.bytes));
    active.free();
    passive.free();
  });

  test("--dtls-mtu: no datagram is larger, big RSA certificates are fragmented", () => {
    const e = new DtlsEngine(lib, { cipher: "RSA", rsaKeySize: 2048 });
    const { active, passive } = pair({ e, mtu: 576 });
    active.start();
    const sent = exchange(active, passive);
    expect(active.state).toBe("connected");
    expect(passive.state).toBe("connected");
    const all = [...sent.a, ...sent.b];
    expect(Math.max(...all.map((d) => d.length))).toBeLessThanOrEqual(576);
    expect(sent.b.length).toBeGreaterThan(2); // the certificate flight took several datagrams
    expect(() => e.connection("active", { mtu: 100 })).toThrow(/MTU/);
    active.free();
    passive.free();
    e.close();
  }, 30000);

  test("close_notify ends the association on the other side", () => {
    const { active, passive } = pair();
    active.start();
    exchange(active, passive);
    expect(passive.shutdown()).toBe("closed");
    exchange(active, passive);
    expect(active.state).toBe("closed");
    expect(active.error).toMatch(/close_notify/);
    expect(active.keys()).not.toBeNull(); // keys stay readable for the stream's lifetime
    active.free();
    passive.free();
  });

  test("non-DTLS datagrams are refused without touching the connection", () => {
    const { active, passive } = pair();
    expect(passive.feed(Uint8Array.of(0x80, 0, 0, 1))).toEqual({ state: "new", accepted: false });
    expect(passive.feed(Uint8Array.of(0, 1, 0, 0))).toEqual({ state: "new", accepted: false });
    expect(passive.feed(new Uint8Array(0))).toEqual({ state: "new", accepted: false });
    active.start();
    exchange(active, passive);
    expect(passive.state).toBe("connected");
    active.free();
    passive.free();
  });
});

describe("retransmission", () => {
  test("a lost server flight is retransmitted on the timer and the handshake completes", async () => {
    const { active, passive } = pair();
    active.start();
    let droppedB = 0;
    exchange(active, passive, (from) => {
      if (from === "b" && droppedB === 0) {
        droppedB++;
        return true; // lose the whole first server flight (one coalesced datagram)
      }
      return false;
    });
    expect(droppedB).toBe(1);
    expect(active.state).toBe("handshake");
    expect(passive.state).toBe("handshake");
    const wait = Math.max(active.timeoutMs() ?? 0, passive.timeoutMs() ?? 0);
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(1000);
    // not due yet: nothing is retransmitted
    expect(passive.handleTimer()).toBe("handshake");
    expect(passive.takeOutgoing().length).toBe(0);
    await Bun.sleep(wait + 20);
    expect(passive.timeoutMs()).toBe(0);
    passive.handleTimer();
    const again = passive.takeOutgoing();
    expect(again.length).toBeGreaterThan(0); // the server flight again
    for (const d of again) active.feed(d);
    active.handleTimer();
    exchange(active, passive);
    expect(active.state).toBe("connected");
    expect(passive.state).toBe("connected");
    expectMirrorKeys(active, passive, "AEAD_AES_256_GCM");
    active.free();
    passive.free();
  }, 10000);

  test("a lost final client flight is recovered by the client's timer", async () => {
    const { active, passive } = pair();
    active.start();
    let n = 0;
    exchange(active, passive, (from) => from === "a" && ++n === 2); // drop the client's second flight
    expect(active.state).toBe("handshake");
    const wait = active.timeoutMs();
    expect(wait).not.toBeNull();
    await Bun.sleep(wait! + 20);
    active.handleTimer();
    exchange(active, passive);
    expect(active.state).toBe("connected");
    expect(passive.state).toBe("connected");
    expectMirrorKeys(active, passive, "AEAD_AES_256_GCM");
    active.free();
    passive.free();
  }, 10000);
  test("a lost final server flight: the client retransmits, the connected server answers again", async () => {
    const { active, passive } = pair();
    active.start();
    let n = 0;
    exchange(active, passive, (from) => from === "b" && ++n === 2); // drop the server's CCS+Finished
    expect(passive.state).toBe("connected");
    expect(active.state).toBe("handshake");
    const wait = active.timeoutMs();
    expect(wait).not.toBeNull();
    await Bun.sleep(wait! + 20);
    active.handleTimer();
    exchange(active, passive);
    expect(active.state).toBe("connected");
    expectMirrorKeys(active, passive, "AEAD_AES_256_GCM");
    active.free();
    passive.free();
  }, 10000);
});

describe("garbage", () => {
  const STATES: DtlsState[] = ["new", "handshake", "connected", "closed", "failed"];

  test("random and mutated datagrams never crash; failures are reported", () => {
    // real handshake datagrams to mutate
    const { active, passive } = pair();
    active.start();
    const sent = exchange(active, passive);
    expect(active.state).toBe("connected");
    const corpus = [...sent.a, ...sent.b];
    let failures = 0;
    for (let i = 0; i < 400; i++) {
      const victim = i % 2 === 0 ? engine.connection("passive") : engine.connection("active");
      if (i % 2 === 1) victim.start();
      for (let j = 0; j < 8; j++) {
        let d: Uint8Array;
        const kind = (i + j) % 3;
        if (kind === 0) {
          d = randomBytes(1 + ((i * 7 + j * 13) % 300));
          d[0] = 20 + (d[0]! % 44); // looks like DTLS, so OpenSSL has to parse it
        } else {
          d = Uint8Array.from(corpus[(i + j) % corpus.length]!);
          const flips = 1 + (j % 4);
          for (let f = 0; f < flips; f++) d[(i * 31 + f * 97 + j) % d.length] = randomBytes(1)[0]!;
          if (kind === 2) d = d.subarray(0, (i * 13 + j) % d.length || 1);
        }
        const r = victim.feed(d);
        expect(STATES).toContain(r.state);
        victim.takeOutgoing();
      }
      victim.handleTimer();
      if (victim.state === "failed") {
        failures++;
        expect(victim.error.length).toBeGreaterThan(0);
      }
      expect(typeof victim.error).toBe("string");
      victim.free();
    }
    // established connections shrug off garbage too
    for (let i = 0; i < 200; i++) {
      const d = randomBytes(1 + (i % 200));
      d[0] = 20 + (i % 44);
      active.feed(d);
    }
    expect(["connected", "closed"]).toContain(active.state);
    expect(active.keys()).not.toBeNull();
    active.free();
    passive.free();
    console.log(`garbage: ${failures} of 400 connections failed the handshake (reported)`);
  });
});

// ---- interop with OpenSSL's own DTLS tool over loopback UDP ----

interface Peer {
  proc: Subprocess<"pipe", "pipe", "pipe">;
  output: () => string;
  certFp: DtlsFingerprint;
}

function makePeerCert(dir: string): { cert: string; key: string; fp: DtlsFingerprint } {
  const cert = join(dir, "peer.pem");
  const key = join(dir, "peer.key");
  const r = Bun.spawnSync([
    "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
    "-subj", "/CN=peer", "-days", "1", "-keyout", key, "-out", cert,
  ], { stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(r.stderr.toString());
  const der = new X509Certificate(readFileSync(cert)).raw;
  return { cert, key, fp: { hash: "sha-256", bytes: new Uint8Array(createHash("sha256").update(der).digest()) } };
}

function spawnPeer(args: string[], certFp: DtlsFingerprint): Peer {
  const proc = Bun.spawn(["openssl", ...args], { stdin: "pipe", stdout: "pipe", stderr: "pipe" });
  let text = "";
  const dec = new TextDecoder();
  const read = async (s: ReadableStream<Uint8Array>) => {
    for await (const chunk of s) text += dec.decode(chunk);
  };
  void read(proc.stdout);
  void read(proc.stderr);
  return { proc, output: () => text, certFp };
}

async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await Bun.sleep(20);
  }
  return cond();
}

async function freePort(): Promise<number> {
  const s = createSocket("udp4");
  await new Promise<void>((r) => s.bind(0, "127.0.0.1", () => r()));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Drive conn over a UDP socket: received datagrams are fed, outgoing ones sent, timers run. */
function drive(conn: DtlsConnection, sock: Socket, peer: { port: number } | null) {
  let dest = peer;
  const flush = () => {
    if (!dest) return;
    for (const d of conn.takeOutgoing()) sock.send(d, dest.port, "127.0.0.1");
  };
  sock.on("message", (msg: Buffer, rinfo: RemoteInfo) => {
    dest = { port: rinfo.port };
    conn.feed(new Uint8Array(msg));
    flush();
  });
  const timer = setInterval(() => {
    if (conn.timeoutMs() === 0) conn.handleTimer();
    flush();
  }, 25);
  return { flush, stop: () => clearInterval(timer) };
}

function keymat(out: string): Buffer {
  const m = /Keying material: ([0-9A-F]+)/.exec(out);
  if (!m) throw new Error(`no keying material in openssl output:\n${out}`);
  return Buffer.from(m[1]!, "hex");
}

describe("interop with openssl", () => {
  let dir = "";
  let peerCert: { cert: string; key: string; fp: DtlsFingerprint };
  const procs: Subprocess[] = [];
  const socks: Socket[] = [];

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "rtpe-dtls-ossl-"));
    peerCert = makePeerCert(dir);
  });
  afterAll(() => {
    for (const p of procs) p.kill();
    for (const s of socks) s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("we are active against `openssl s_server -dtls -use_srtp SRTP_AES128_CM_SHA1_80`", async () => {
    const port = await freePort();
    const peer = spawnPeer(
      [
        "s_server", "-dtls", "-accept", `127.0.0.1:${port}`, "-cert", peerCert.cert, "-key", peerCert.key,
        "-use_srtp", "SRTP_AES128_CM_SHA1_80", "-keymatexport", "EXTRACTOR-dtls_srtp", "-keymatexportlen", "60",
        "-verify", "1", "-naccept", "1",
      ],
      peerCert.fp,
    );
    procs.push(peer.proc);
    expect(await until(() => peer.output().includes("ACCEPT"), 5000)).toBe(true);
    const sock = createSocket("udp4");
    socks.push(sock);
    await new Promise<void>((r) => sock.bind(0, "127.0.0.1", () => r()));
    const conn = engine.connection("active", { expect: peerCert.fp });
    const d = drive(conn, sock, { port });
    conn.start();
    d.flush();
    expect(await until(() => conn.state !== "handshake" && /Keying material: /.test(peer.output()), 8000)).toBe(true);
    d.stop();
    expect(conn.error).toBe("");
    expect(conn.state).toBe("connected");
    const km = keymat(peer.output());
    const k = conn.keys()!;
    expect(k.suite.name).toBe("AES_CM_128_HMAC_SHA1_80");
    // RFC 5764 4.2: client key | server key | client salt | server salt; we are the client
    expect(hex(k.localKey)).toBe(hex(km.subarray(0, 16)));
    expect(hex(k.remoteKey)).toBe(hex(km.subarray(16, 32)));
    expect(hex(k.localSalt)).toBe(hex(km.subarray(32, 46)));
    expect(hex(k.remoteSalt)).toBe(hex(km.subarray(46, 60)));
    expect(peer.output()).toContain("SRTP Extension negotiated, profile=SRTP_AES128_CM_SHA1_80");
    expect(peer.output()).toContain("CN = rtpengine"); // s_server saw our certificate
    conn.free();
  }, 15000);

  test("we are passive against `openssl s_client -dtls` with a certificate (AEAD_AES_128_GCM)", async () => {
    const sock = createSocket("udp4");
    socks.push(sock);
    await new Promise<void>((r) => sock.bind(0, "127.0.0.1", () => r()));
    const port = sock.address().port;
    const conn = engine.connection("passive", { expect: peerCert.fp });
    const d = drive(conn, sock, null);
    const peer = spawnPeer(
      [
        "s_client", "-dtls", "-connect", `127.0.0.1:${port}`, "-cert", peerCert.cert, "-key", peerCert.key,
        "-use_srtp", "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80", "-keymatexport", "EXTRACTOR-dtls_srtp",
        "-keymatexportlen", "56",
      ],
      peerCert.fp,
    );
    procs.push(peer.proc);
    expect(await until(() => conn.state !== "new" && conn.state !== "handshake" && /Keying material: /.test(peer.output()), 8000)).toBe(true);
    d.stop();
    expect(conn.error).toBe("");
    expect(conn.state).toBe("connected");
    const km = keymat(peer.output());
    const k = conn.keys()!;
    expect(k.suite.name).toBe("AEAD_AES_128_GCM");
    // 16+16+12+12; we are the server: local = server half
    expect(hex(k.remoteKey)).toBe(hex(km.subarray(0, 16)));
    expect(hex(k.localKey)).toBe(hex(km.subarray(16, 32)));
    expect(hex(k.remoteSalt)).toBe(hex(km.subarray(32, 44)));
    expect(hex(k.localSalt)).toBe(hex(km.subarray(44, 56)));
    expect(Buffer.from(conn.peerFingerprint("sha-256")!.bytes)).toEqual(Buffer.from(peerCert.fp.bytes));
    conn.free();
  }, 15000);

  test("s_client with a certificate that does not match a=fingerprint is rejected", async () => {
    const sock = createSocket("udp4");
    socks.push(sock);
    await new Promise<void>((r) => sock.bind(0, "127.0.0.1", () => r()));
    const port = sock.address().port;
    const conn = engine.connection("passive", { expect: { hash: "sha-256", bytes: new Uint8Array(32).fill(1) } });
    const d = drive(conn, sock, null);
    const peer = spawnPeer(
      ["s_client", "-dtls", "-connect", `127.0.0.1:${port}`, "-cert", peerCert.cert, "-key", peerCert.key,
        "-use_srtp", "SRTP_AES128_CM_SHA1_80"],
      peerCert.fp,
    );
    procs.push(peer.proc);
    expect(await until(() => conn.state === "failed", 8000)).toBe(true);
    d.stop();
    expect(conn.error).toMatch(/fingerprint/);
    expect(conn.keys()).toBeNull();
    conn.free();
  }, 15000);

  test("a peer without use_srtp completes DTLS but yields a clear error, no keys", async () => {
    const port = await freePort();
    const peer = spawnPeer(
      ["s_server", "-dtls", "-accept", `127.0.0.1:${port}`, "-cert", peerCert.cert, "-key", peerCert.key, "-naccept", "1"],
      peerCert.fp,
    );
    procs.push(peer.proc);
    expect(await until(() => peer.output().includes("ACCEPT"), 5000)).toBe(true);
    const sock = createSocket("udp4");
    socks.push(sock);
    await new Promise<void>((r) => sock.bind(0, "127.0.0.1", () => r()));
    const conn = engine.connection("active", { expect: peerCert.fp });
    const d = drive(conn, sock, { port });
    conn.start();
    d.flush();
    expect(await until(() => conn.state === "failed", 8000)).toBe(true);
    d.stop();
    expect(conn.error).toMatch(/SRTP profile/);
    expect(conn.keys()).toBeNull();
    conn.free();
  }, 15000);
});

test("every profile name is one OpenSSL knows", () => {
  const c = lib.certificate({ profiles: DTLS_SRTP_PROFILES });
  c.release();
});
