// DTLS-SRTP through the daemon over real UDP: a DtlsConnection in the test is the peer; after the handshake its SRTP reaches a plain RTP phone and back.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnDaemon, type TestDaemon } from "../helpers/daemon.ts";
import { mediaOf, Phone } from "./media-helpers.ts";
import { DtlsPeer, protect, unprotect } from "./srtp-helpers.ts";
import { DtlsEngine, DtlsLibrary, parseFingerprint, type DtlsRole } from "../../src/crypto/dtls.ts";
import { SrtpLibrary } from "../../src/crypto/srtp.ts";

const H = "127.0.0.1";
let srtp: SrtpLibrary;
let engine: DtlsEngine;
let seq = 0;

function sdp(port: number, proto: string, extra: string[] = []): string {
  return ["v=0", `o=- 1 1 IN IP4 ${H}`, "s=-", `c=IN IP4 ${H}`, "t=0 0", `m=audio ${port} ${proto} 0`, "a=rtpmap:0 PCMU/8000", "a=rtcp-mux", ...extra.map((c) => `a=${c}`), ""].join("\r\n");
}

function rtp(ssrc: number, n: number): Buffer {
  const b = Buffer.alloc(172, n & 0xff);
  b[0] = 0x80;
  b.writeUInt16BE(n, 2);
  b.writeUInt32BE(n * 160, 4);
  b.writeUInt32BE(ssrc, 8);
  return b;
}



describe("DTLS-SRTP media", () => {
  let d: TestDaemon;
  const closers: { close(): void }[] = [];

  beforeAll(async () => {
    srtp = new SrtpLibrary();
    expect(srtp.init()).toBe(0);
    const lib = new DtlsLibrary();
    expect(lib.init()).toBe(0);
    engine = new DtlsEngine(lib);
    d = await spawnDaemon({ args: ["--endpoint-learning=immediate", "--port-min=45500", "--port-max=45999", "--delete-delay=0"] });
  });
  afterAll(async () => {
    for (const c of closers) c.close();
    await d?.stop();
  });

  async function call(role: "daemon-active" | "daemon-passive", fingerprint?: string) {
    const peerRole: DtlsRole = role === "daemon-active" ? "passive" : "active";
    const a = await DtlsPeer.open(engine.connection(peerRole));
    const b = await Phone.open(H);
    closers.push(a, b);
    const callId = `dtls-${process.pid}-${++seq}`;
    const fp = fingerprint ?? engine.certificate.fingerprintValue("sha-256");
    const o = await d.ng({
      command: "offer", "call-id": callId, "from-tag": "A", "transport-protocol": "RTP/AVP",
      sdp: sdp(a.port, "UDP/TLS/RTP/SAVPF", [`fingerprint:${fp}`, "setup:actpass"]),
    });
    expect(o.result).toBe("ok");
    expect(o.sdp as string).not.toContain("a=fingerprint");
    const an = await d.ng({ command: "answer", "call-id": callId, "from-tag": "A", "to-tag": "B", sdp: sdp(b.port, "RTP/AVP"), ...(role === "daemon-passive" ? { DTLS: "passive" } : {}) });
    expect(an.result).toBe("ok");
    const body = an.sdp as string;
    expect(body).toContain(role === "daemon-active" ? "a=setup:active" : "a=setup:passive");
    const theirFp = parseFingerprint(/^a=fingerprint:(.*)$/m.exec(body)![1]!.trim())!;
    a.conn.expect(theirFp);
    const toA = mediaOf(body), toB = mediaOf(o.sdp as string);
    if (peerRole === "active") a.start(toA);
    return { a, b, callId, toA, toB };
  }

  for (const role of ["daemon-active", "daemon-passive"] as const) {
    test(`handshake (${role}), then SRTP -> RTP and RTP -> SRTP`, async () => {
      const { a, b, callId, toA, toB } = await call(role);
      expect(await a.connected()).toBe(true);
      const c = a.contexts(srtp);
      await Bun.sleep(50); // the daemon's side finishes with the last flight
      const sent: Buffer[] = [];
      for (let i = 0; i < 5; i++) {
        const p = rtp(0x1234, i + 1);
        sent.push(p);
        a.sock.send(protect(c.out, p), toA.port, toA.address);
        await Bun.sleep(2);
      }
      expect(await b.waitFor(5)).toBe(5);
      // by sequence number: at the handover to the fast path a packet still queued for TypeScript can be overtaken
      const bySeq = b.got.map((g) => g.data).sort((x, y) => x.readUInt16BE(2) - y.readUInt16BE(2));
      for (let i = 0; i < 5; i++) expect(bySeq[i]!).toEqual(sent[i]!);
      const back = b.rtp();
      b.send(toB.port, Buffer.from(back));
      const end = Date.now() + 2000;
      while (a.got.length < 1 && Date.now() < end) await Bun.sleep(10);
      expect(a.got.length).toBe(1);
      expect(unprotect(c.in, a.got[0]!)).toEqual(back);
      await d.ng({ command: "delete", "call-id": callId });
    });
  }

  test("garbage DTLS and STUN on the port before the handshake: counted and dropped, the real peer still connects", async () => {
    const a = await DtlsPeer.open(engine.connection("active"));
    const b = await Phone.open(H);
    const junk = await Phone.open(H);
    closers.push(a, b, junk);
    const callId = `dtls-${process.pid}-${++seq}`;
    const o = await d.ng({ command: "offer", "call-id": callId, "from-tag": "A", "transport-protocol": "RTP/AVP", sdp: sdp(a.port, "UDP/TLS/RTP/SAVPF", [`fingerprint:${engine.certificate.fingerprintValue("sha-256")}`, "setup:actpass"]) });
    const an = await d.ng({ command: "answer", "call-id": callId, "from-tag": "A", "to-tag": "B", sdp: sdp(b.port, "RTP/AVP"), DTLS: "passive" });
    const body = an.sdp as string;
    a.conn.expect(parseFingerprint(/^a=fingerprint:(.*)$/m.exec(body)![1]!.trim())!);
    const toA = mediaOf(body), toB = mediaOf(o.sdp as string);
    const rec = Buffer.alloc(60, 0xa5);
    rec[0] = 22; rec[1] = 0xfe; rec[2] = 0xfd; rec.writeUInt16BE(47, 11); rec[13] = 1; // a "ClientHello" of garbage
    junk.send(toA.port, rec);
    junk.send(toA.port, Buffer.from([22, 0xfe, 0xfd, 1, 2])); // truncated record
    junk.send(toA.port, Buffer.from([40, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]));
    const stun = Buffer.alloc(28, 0x11);
    stun.writeUInt16BE(1, 0); stun.writeUInt16BE(8, 2); stun.writeUInt32BE(0x2112a442, 4);
    junk.send(toA.port, stun);
    await Bun.sleep(100);
    a.start(toA);
    expect(await a.connected()).toBe(true);
    const c = a.contexts(srtp);
    await Bun.sleep(50);
    const p = rtp(0x55, 1);
    a.sock.send(protect(c.out, p), toA.port, toA.address);
    expect(await b.waitFor(1)).toBe(1);
    expect(b.got[0]!.data).toEqual(p);
    b.send(toB.port);
    await d.ng({ command: "delete", "call-id": callId });
  });

  test("the answerer's ClientHello before its answer (we offered actpass): handshake done early, media after the answer", async () => {
    const a = await Phone.open(H);
    const b = await DtlsPeer.open(engine.connection("active"));
    closers.push(a, b);
    const callId = `dtls-${process.pid}-${++seq}`;
    const o = await d.ng({ command: "offer", "call-id": callId, "from-tag": "A", "transport-protocol": "UDP/TLS/RTP/SAVPF", sdp: sdp(a.port, "RTP/AVP") });
    const body = o.sdp as string;
    expect(body).toContain("a=setup:actpass");
    b.conn.expect(parseFingerprint(/^a=fingerprint:(.*)$/m.exec(body)![1]!.trim())!);
    const toB = mediaOf(body);
    b.start(toB);
    expect(await b.connected(800)).toBe(true); // no answer yet: the daemon took the passive role at once
    const fp = engine.certificate.fingerprintValue("sha-256");
    const an = await d.ng({ command: "answer", "call-id": callId, "from-tag": "A", "to-tag": "B", sdp: sdp(b.port, "UDP/TLS/RTP/SAVPF", [`fingerprint:${fp}`, "setup:active"]) });
    expect(an.result).toBe("ok");
    const toA = mediaOf(an.sdp as string);
    const c = b.contexts(srtp);
    const p = rtp(0x77, 1);
    b.sock.send(protect(c.out, p), toB.port, toB.address);
    expect(await a.waitFor(1)).toBe(1);
    expect(a.got[0]!.data).toEqual(p);
    const back = a.rtp();
    a.send(toA.port, Buffer.from(back));
    const end = Date.now() + 2000;
    while (b.got.length < 1 && Date.now() < end) await Bun.sleep(10);
    expect(unprotect(c.in, b.got[0]!)).toEqual(back);
    await d.ng({ command: "delete", "call-id": callId });
  });

  test("a peer whose certificate does not match its a=fingerprint gets no media through", async () => {
    const other = engine.lib.certificate();
    const { a, b, callId, toA } = await call("daemon-passive", other.fingerprintValue("sha-256"));
    await a.connected(1500);
    if (a.conn.state === "connected") {
      const c = a.contexts(srtp);
      a.sock.send(protect(c.out, rtp(7, 1)), toA.port, toA.address);
    }
    expect(await b.waitFor(1, 500)).toBe(0);
    other.release();
    await d.ng({ command: "delete", "call-id": callId });
  });
});
