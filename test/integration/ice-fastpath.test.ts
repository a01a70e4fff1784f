// ICE streams in the shim fast path over real UDP (plain RTP and DTLS-SRTP), and ICE restart on a re-offer without losing media — fast path on and off.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import dgram from "node:dgram";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { spawnDaemon, type TestDaemon } from "../helpers/daemon.ts";
import { mediaOf, Phone, rtpPacket } from "./media-helpers.ts";
import { protect, rtcpSr, relayedTotals as totals, unprotect } from "./srtp-helpers.ts";
import { IceAgent, IceRunner, parseCandidate, type Candidate, type IceEvent } from "../../src/ice/index.ts";
import { DtlsEngine, DtlsLibrary, parseFingerprint, type DtlsConnection } from "../../src/crypto/dtls.ts";
import { SrtpLibrary } from "../../src/crypto/srtp.ts";

const H = "127.0.0.1";
const REPO = resolve(import.meta.dir, "../..");
let seq = 0;
let srtp: SrtpLibrary;
let dtlsEngine: DtlsEngine;

/** An ICE (optionally DTLS-SRTP) endpoint on one socket, rtcp-mux: STUN to its agent, DTLS to its connection, the rest is media. */
class IcePeer {
  readonly media: Buffer[] = [];
  readonly events: IceEvent[] = [];
  runner: IceRunner | null = null;
  dtls: DtlsConnection | null = null;
  private daemon: { address: string; port: number } | null = null;
  private timer: ReturnType<typeof setInterval> | null = null;
  readonly ufrag = `u${Math.random().toString(36).slice(2, 8)}`;
  readonly pwd = `p${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`;
  readonly ssrc = (Math.random() * 0xffffffff) >>> 0;
  private seq = 0;
  constructor(readonly sock: dgram.Socket) {
    sock.on("message", (data, r) => {
      if (data[0]! >= 20 && data[0]! <= 63 && this.dtls) {
        this.daemon ??= { address: r.address, port: r.port };
        this.dtls.feed(data);
        this.flush();
        return;
      }
      // (a copy: parseStun's XOR-MAPPED decoding writes into the datagram)
      const res = this.runner?.receive(new Uint8Array(data), { address: r.address, port: r.port }, { address: H, port: this.port }) ?? "not-stun";
      if (res === "not-stun" && data[0]! >= 128) this.media.push(data);
    });
  }
  static async open(dtls = false): Promise<IcePeer> {
    const s = dgram.createSocket("udp4");
    await new Promise<void>((res) => s.bind(0, H, () => res()));
    const p = new IcePeer(s);
    if (dtls) {
      p.dtls = dtlsEngine.connection("passive");
      p.timer = setInterval(() => {
        const ms = p.dtls!.timeoutMs();
        if (ms !== null && ms <= 0) p.dtls!.handleTimer();
        p.flush();
      }, 20);
    }
    return p;
  }
  get port(): number {
    return this.sock.address().port;
  }
  sdpLines(withIce = true): string[] {
    const ice = withIce ? [`ice-ufrag:${this.ufrag}`, `ice-pwd:${this.pwd}`, `candidate:1 1 UDP 2130706431 ${H} ${this.port} typ host`] : [];
    return this.dtls ? [`fingerprint:${dtlsEngine.certificate.fingerprintValue("sha-256")}`, "setup:actpass", ...ice] : ice;
  }
  start(answer: string): void {
    const ufrag = /^a=ice-ufrag:(\S+)/m.exec(answer)![1]!;
    const pwd = /^a=ice-pwd:(\S+)/m.exec(answer)![1]!;
    const cands = [...answer.matchAll(/^a=(candidate:.*)$/gm)].map((m) => parseCandidate(m[1]!.trim())).filter((c): c is Candidate => c !== null);
    if (this.dtls) this.dtls.expect(parseFingerprint(/^a=fingerprint:(.*)$/m.exec(answer)![1]!.trim())!);
    // the offerer controls
    const agent = new IceAgent({ components: 1, local: [{ address: H, ports: [this.port] }], credentials: { ufrag: this.ufrag, pwd: this.pwd }, controlling: true });
    this.runner = new IceRunner(agent, { send: (t) => this.sock.send(t.data, t.to.port, t.to.address), onEvent: (e) => this.events.push(e) });
    this.runner.update((a) => a.setRemote({ ufrag, pwd, candidates: cands }));
  }
  async selected(ms = 5000): Promise<boolean> {
    const end = Date.now() + ms;
    while (!this.events.some((e) => e.type === "selected") && Date.now() < end) await Bun.sleep(10);
    return this.events.some((e) => e.type === "selected");
  }
  flush(): void {
    if (this.daemon && this.dtls) for (const d of this.dtls.takeOutgoing()) this.sock.send(d, this.daemon.port, this.daemon.address);
  }
  /** RTP with this peer's SSRC and the next sequence number. */
  rtp(): Buffer {
    return rtpPacket(this.seq++, this.ssrc, 0x33);
  }
  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.runner?.close();
    this.sock.close();
    this.dtls?.free();
  }
}

function sdp(port: number, extra: string[] = [], proto = "RTP/AVP"): string {
  return ["v=0", `o=- 1 1 IN IP4 ${H}`, "s=-", `c=IN IP4 ${H}`, "t=0 0", `m=audio ${port} ${proto} 0`, "a=rtpmap:0 PCMU/8000", "a=rtcp-mux", ...extra.map((c) => `a=${c}`), ""].join("\r\n");
}


type Tags = Record<string, { medias: { streams: { flags?: string[]; stats: { packets: number } }[] }[] }>;
async function stream(d: TestDaemon, callId: string, tag: string): Promise<{ flags: string[]; packets: number }> {
  const q = (await d.ng({ command: "query", "call-id": callId })).tags as Tags;
  const s = q[tag]!.medias[0]!.streams[0]!;
  return { flags: s.flags ?? [], packets: s.stats.packets };
}





/** On an rtcp-mux port: RTCP reads as payload type 64..95 (RFC 5761 4). */
const isMuxRtcp = (b: Buffer) => b.length >= 8 && (b[1]! & 0x7f) >= 64 && (b[1]! & 0x7f) <= 95;

const hex = (l: (Buffer | null)[]) => l.map((x) => (x ? x.toString("hex") : "undecryptable")).sort();
const seqOf = (b: Buffer) => b.readUInt16BE(2);

async function until(cond: () => boolean, ms = 3000): Promise<boolean> {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await Bun.sleep(10);
  return cond();
}

let shimDir = "";
const CONSENT_MS = 3000;

beforeAll(() => {
  srtp = new SrtpLibrary();
  expect(srtp.init()).toBe(0);
  const dl = new DtlsLibrary();
  expect(dl.init()).toBe(0);
  dtlsEngine = new DtlsEngine(dl);
  // a shim with ffi/srtp inside (as the compiled binary has it), of its own: SRTP rules need TypeScript's contexts to be the shim's
  shimDir = mkdtempSync(join(tmpdir(), "rtpe-ice-fast-"));
  const b = spawnSync("sh", [join(REPO, "ffi/build.sh")], { env: { ...process.env, OUT: shimDir, RTPE_SHIM_WITH: "srtp dtls" }, encoding: "utf8" });
  if (b.status !== 0) throw new Error(`ffi/build.sh: ${b.stderr}`);
}, 120_000);
afterAll(() => {
  if (shimDir) rmSync(shimDir, { recursive: true, force: true });
});

for (const fast of [true, false]) {
  const plane = fast ? "fast path on" : "fast path off";

  describe(`ICE streams (${plane})`, () => {
    let d: TestDaemon;
    const closers: { close(): void }[] = [];
    const base = fast ? 47000 : 47250;

    beforeAll(async () => {
      d = await spawnDaemon({
        args: ["--endpoint-learning=immediate", `--port-min=${base}`, `--port-max=${base + 249}`, "--delete-delay=0"],
        // consent freshness lapses after 3 s instead of 30 (a restart's old pair too: the restart test stays well inside)
        env: { RTPE_SHIM_PATH: join(shimDir, "librtpe_shim.so"), RTPENGINE_TS_FASTPATH: fast ? "1" : "0", RTPENGINE_TS_ICE_CONSENT_MS: String(CONSENT_MS) },
      });
    });
    afterAll(async () => {
      for (const c of closers) c.close();
      await d?.stop();
    });

    /** what the relay's planes did between two totals: with the fast path TypeScript saw none of it, without it saw all */
    const expectPlane = (before: { user: number; kernel: number }, after: { user: number; kernel: number }, n: number) => {
      if (fast) {
        expect(after.user).toBe(before.user);
        expect(after.kernel - before.kernel).toBeGreaterThanOrEqual(n);
      } else {
        expect(after.kernel).toBe(0);
        expect(after.user - before.user).toBeGreaterThanOrEqual(n);
      }
    };

    test("plain RTP ICE <-> plain RTP: once the pair is selected the rules forward both ways, counters add up", async () => {
      const a = await IcePeer.open();
      const b = await Phone.open(H);
      closers.push(a, b);
      const callId = `icefp-${process.pid}-${++seq}`;
      const o = await d.ng({ command: "offer", "call-id": callId, "from-tag": "A", sdp: sdp(a.port, a.sdpLines()), ICE: "remove" });
      const an = await d.ng({ command: "answer", "call-id": callId, "from-tag": "A", "to-tag": "B", sdp: sdp(b.port) });
      expect(an.result).toBe("ok");
      const toA = mediaOf(an.sdp as string), toB = mediaOf(o.sdp as string);

      // nothing for A before its pair is validated, in either plane
      await b.burst(toB.port, 3);
      await Bun.sleep(150);
      expect(a.media.length).toBe(0);

      a.start(an.sdp as string);
      expect(await a.selected()).toBe(true);
      const aSent: Buffer[] = [], bSent: Buffer[] = [];
      const round = async () => {
        const pa = a.rtp(), pb = b.rtp();
        aSent.push(pa);
        bSent.push(pb);
        a.sock.send(pa, toA.port, H);
        b.send(toB.port, pb);
        await Bun.sleep(3);
      };
      for (let i = 0; i < 3; i++) await round();
      expect(await b.waitFor(3)).toBe(3);
      expect(await until(() => a.media.length >= 3)).toBe(true);
      await Bun.sleep(100);
      const before = await totals(d, callId);
      for (let i = 0; i < 60; i++) await round();
      expect(await b.waitFor(63)).toBe(63);
      expect(await until(() => a.media.length >= 63)).toBe(true);
      expect(hex(b.got.map((g) => g.data))).toEqual(hex(aSent)); // (A's STUN, were it forwarded, would show here)
      expect(hex(a.media)).toEqual(hex(bSent));
      expectPlane(before, await totals(d, callId), 120);
      const sa = await stream(d, callId, "A");
      expect(sa.packets).toBe(63); // STUN is not media; rule counters read back into the stream's
      expect((await stream(d, callId, "B")).packets).toBe(66);
      expect(sa.flags).toContain("kernelized"); // (also without the fast path: as rtpengine without its kernel module)
      await d.ng({ command: "delete", "call-id": callId });
    });

    test("DTLS-SRTP + ICE <-> plain RTP: after the checks and the handshake the rules carry the DTLS keys", async () => {
      const a = await IcePeer.open(true);
      const b = await Phone.open(H);
      closers.push(a, b);
      const callId = `icefp-${process.pid}-${++seq}`;
      const o = await d.ng({ command: "offer", "call-id": callId, "from-tag": "A", ICE: "remove", "transport-protocol": "RTP/AVP", sdp: sdp(a.port, a.sdpLines(), "UDP/TLS/RTP/SAVPF") });
      expect(o.result).toBe("ok");
      const an = await d.ng({ command: "answer", "call-id": callId, "from-tag": "A", "to-tag": "B", sdp: sdp(b.port) });
      expect(an.result).toBe("ok");
      expect(an.sdp as string).toContain("a=ice-ufrag:");
      expect(an.sdp as string).toContain("a=fingerprint:");
      const toA = mediaOf(an.sdp as string), toB = mediaOf(o.sdp as string);
      a.start(an.sdp as string);
      expect(await a.selected()).toBe(true);
      expect(await until(() => a.dtls!.state === "connected", 5000)).toBe(true);
      await Bun.sleep(50);
      const k = a.dtls!.keys()!;
      const aOut = srtp.context(k.suite, k.localKey, k.localSalt), aIn = srtp.context(k.suite, k.remoteKey, k.remoteSalt);
      const aSent: Buffer[] = [], bSent: Buffer[] = [];
      const round = async () => {
        const pa = a.rtp(), pb = b.rtp();
        aSent.push(pa);
        bSent.push(pb);
        a.sock.send(protect(aOut, pa), toA.port, H);
        b.send(toB.port, pb);
        await Bun.sleep(3);
      };
      for (let i = 0; i < 3; i++) await round();
      expect(await b.waitFor(3)).toBe(3);
      expect(await until(() => a.media.length >= 3)).toBe(true);
      await Bun.sleep(100);
      const before = await totals(d, callId);
      for (let i = 0; i < 40; i++) await round();
      expect(await b.waitFor(43)).toBe(43);
      expect(await until(() => a.media.length >= 43)).toBe(true);
      expect(hex(b.got.map((g) => g.data))).toEqual(hex(aSent));
      expect(hex(a.media.map((m) => unprotect(aIn, m)))).toEqual(hex(bSent));
      expectPlane(before, await totals(d, callId), 80);
      if (fast) expect((await stream(d, callId, "A")).flags).toContain("kernelized"); // (SRTP rules exist only in the fast path)
      await d.ng({ command: "delete", "call-id": callId });
    });

    test("ICE restart on a re-offer (new ufrag/pwd, new candidate): media stays on the old pair until the new one is selected, then moves", async () => {
      const a1 = await IcePeer.open();
      const a2 = await IcePeer.open(); // the same endpoint after moving (new port, new credentials)
      const b = await Phone.open(H);
      closers.push(a1, a2, b);
      const callId = `icefp-${process.pid}-${++seq}`;
      const o = await d.ng({ command: "offer", "call-id": callId, "from-tag": "A", sdp: sdp(a1.port, a1.sdpLines()), ICE: "remove" });
      const an = await d.ng({ command: "answer", "call-id": callId, "from-tag": "A", "to-tag": "B", sdp: sdp(b.port) });
      const toA = mediaOf(an.sdp as string), toB = mediaOf(o.sdp as string);
      const ufrag1 = /^a=ice-ufrag:(\S+)/m.exec(an.sdp as string)![1]!;
      a1.start(an.sdp as string);
      expect(await a1.selected()).toBe(true);

      // both sides send every 10 ms throughout; A from whichever socket it currently uses
      let aNow = a1;
      const bSeqs: number[] = [];
      let aCount = 0;
      const pump = setInterval(() => {
        const pb = b.rtp();
        bSeqs.push(seqOf(pb));
        b.send(toB.port, pb);
        aNow.sock.send(aNow === a1 ? a1.rtp() : a2.rtp(), toA.port, H);
        aCount++;
      }, 10);
      try {
        expect(await until(() => a1.media.length >= 10 && b.got.length >= 10)).toBe(true);

        // the restart: A re-offers with new credentials and its new candidate; B answers again
        const o2 = await d.ng({ command: "offer", "call-id": callId, "from-tag": "A", sdp: sdp(a2.port, a2.sdpLines()), ICE: "remove" });
        expect(o2.result).toBe("ok");
        expect(mediaOf(o2.sdp as string).port).toBe(toB.port);
        const an2 = await d.ng({ command: "answer", "call-id": callId, "from-tag": "A", "to-tag": "B", sdp: sdp(b.port) });
        expect(an2.result).toBe("ok");
        expect(mediaOf(an2.sdp as string).port).toBe(toA.port); // ports latched: ICE restarts on the same sockets
        expect(/^a=ice-ufrag:(\S+)/m.exec(an2.sdp as string)![1]).not.toBe(ufrag1); // RFC 8445 9: the answer restarts too

        // before A's new checks: B's media keeps reaching A on the old pair
        const atAnswer = a1.media.length;
        await Bun.sleep(400);
        expect(a1.media.length - atAnswer).toBeGreaterThanOrEqual(10);
        expect(a2.media.length).toBe(0);

        a2.start(an2.sdp as string);
        expect(await a2.selected()).toBe(true);
        aNow = a2;
        // the daemon selects when A's nomination arrives: from then on B's media goes to the new pair only
        expect(await until(() => a2.media.length >= 20)).toBe(true);
        await Bun.sleep(50);
        const old = a1.media.length;
        await Bun.sleep(300);
        expect(a1.media.length).toBe(old);

        // the new pair is forwarded by a rule (fast path) or by TypeScript (without), as before the restart
        const before = await totals(d, callId);
        await Bun.sleep(500);
        const after = await totals(d, callId);
        expectPlane(before, after, 40);
      } finally {
        clearInterval(pump);
      }
      await Bun.sleep(200);
      // no loss beyond the switchover: every packet B sent reached A on one pair or the other
      const got = new Set([...a1.media, ...a2.media].map(seqOf));
      const missing = bSeqs.filter((s) => !got.has(s)).length;
      expect(missing).toBeLessThanOrEqual(3);
      expect(b.got.length).toBeGreaterThanOrEqual(aCount - 3);
      expect(b.got.every((g) => g.data[0]! >= 128)).toBe(true); // A's STUN went to the daemon's agent, never to B
      // counters add up across the planes and the switch
      expect((await stream(d, callId, "B")).packets).toBe(bSeqs.length);
      expect((await stream(d, callId, "A")).packets).toBe(aCount);
      await d.ng({ command: "delete", "call-id": callId });
    }, 20_000);

    test("consent freshness lost (the peer stops answering): media to it stops, the rule is withdrawn", async () => {
      const a = await IcePeer.open();
      const b = await Phone.open(H);
      closers.push(a, b);
      const callId = `icefp-${process.pid}-${++seq}`;
      const o = await d.ng({ command: "offer", "call-id": callId, "from-tag": "A", sdp: sdp(a.port, a.sdpLines()), ICE: "remove" });
      const an = await d.ng({ command: "answer", "call-id": callId, "from-tag": "A", "to-tag": "B", sdp: sdp(b.port) });
      const toA = mediaOf(an.sdp as string), toB = mediaOf(o.sdp as string);
      a.start(an.sdp as string);
      expect(await a.selected()).toBe(true);
      const pump = setInterval(() => {
        b.send(toB.port);
        a.sock.send(a.rtp(), toA.port, H);
      }, 10);
      try {
        expect(await until(() => a.media.length >= 20 && b.got.length >= 20)).toBe(true);
        // past the consent timeout, while A answers the daemon's consent checks (they must reach its agent): media flows
        await Bun.sleep(CONSENT_MS * 1.5);
        const alive = a.media.length;
        await Bun.sleep(300);
        expect(a.media.length).toBeGreaterThan(alive + 10);
        expect(b.got.every((g) => g.data[0]! >= 128)).toBe(true);
        // A's ICE stack goes (its socket stays open: whatever still arrives is seen)
        a.runner!.close();
        a.runner = null;
        await Bun.sleep(CONSENT_MS);
        // consent lapses within a check interval or two after the timeout: then nothing more for A
        let n = a.media.length, quietSince = Date.now();
        const end = Date.now() + 5000;
        while (Date.now() - quietSince < 600 && Date.now() < end) {
          await Bun.sleep(20);
          if (a.media.length !== n) (n = a.media.length), (quietSince = Date.now());
        }
        expect(Date.now() - quietSince).toBeGreaterThanOrEqual(600);
        expect(b.got.length).toBeGreaterThan(0);
      } finally {
        clearInterval(pump);
      }
      await d.ng({ command: "delete", "call-id": callId });
    }, 20_000);
    // WebRTC browser (rtcp-mux, optionally ICE and DTLS-SRTP) <-> SIP phone (plain RTP/AVP, RTCP on its own port)
    for (const [ice, dtls] of [[false, false], [false, true], [true, false], [true, true]] as const) {
      const what = `${dtls ? "DTLS-SRTP" : "plain RTP"}${ice ? " + ICE" : ""} with rtcp-mux <-> plain RTP without`;
      test(`${what}: RTP and RTCP both ways, muxed RTCP demuxed (decrypted) to the phone's RTCP port and back`, async () => {
        const a = await IcePeer.open(dtls);
        const b = await Phone.open(H), bRtcp = await Phone.open(H);
        closers.push(a, b, bRtcp);
        const callId = `icefp-mux-${process.pid}-${++seq}`;
        const o = await d.ng({ command: "offer", "call-id": callId, "from-tag": "A", "rtcp-mux": ["demux"], ...(ice ? { ICE: "remove" } : {}),
          ...(dtls ? { "transport-protocol": "RTP/AVP" } : {}), sdp: sdp(a.port, a.sdpLines(ice), dtls ? "UDP/TLS/RTP/SAVPF" : "RTP/AVP") });
        expect(o.result).toBe("ok");
        expect(o.sdp as string).not.toContain("a=rtcp-mux");
        const an = await d.ng({ command: "answer", "call-id": callId, "from-tag": "A", "to-tag": "B",
          sdp: sdp(b.port, [`rtcp:${bRtcp.port}`]).replace("a=rtcp-mux\r\n", "") });
        expect(an.result).toBe("ok");
        expect(an.sdp as string).toContain("a=rtcp-mux");
        const toA = mediaOf(an.sdp as string), toB = mediaOf(o.sdp as string);
        if (ice) {
          a.start(an.sdp as string);
          expect(await a.selected()).toBe(true);
        } else if (dtls) a.dtls!.expect(parseFingerprint(/^a=fingerprint:(.*)$/m.exec(an.sdp as string)![1]!.trim())!);
        if (dtls) expect(await until(() => a.dtls!.state === "connected", 5000)).toBe(true);
        await Bun.sleep(50);
        const k = dtls ? a.dtls!.keys()! : null;
        const aOut = k ? srtp.context(k.suite, k.localKey, k.localSalt) : null, aIn = k ? srtp.context(k.suite, k.remoteKey, k.remoteSalt) : null;
        const aSent: Buffer[] = [], bSent: Buffer[] = [], aRtcpSent: Buffer[] = [], bRtcpSent: Buffer[] = [];
        let reports = 0;
        const round = async () => {
          const pa = a.rtp(), pb = b.rtp(), ra = rtcpSr(a.ssrc, ++reports), rb = rtcpSr(b.ssrc, reports);
          aSent.push(pa); bSent.push(pb); aRtcpSent.push(ra); bRtcpSent.push(rb);
          a.sock.send(aOut ? protect(aOut, pa) : pa, toA.port, H);
          b.send(toB.port, pb);
          a.sock.send(aOut ? protect(aOut, ra, true) : ra, toA.port, H); // muxed: on the RTP port
          bRtcp.send(toB.port + 1, rb);
          await Bun.sleep(3);
        };
        for (let i = 0; i < 3; i++) await round();
        expect(await b.waitFor(3)).toBe(3);
        expect(await until(() => a.media.length >= 6)).toBe(true);
        await Bun.sleep(100);
        // the warm-up rounds crossed the handover from TypeScript to the rule; a packet queued for TypeScript just as
        // the rule takes over the SRTCP context can be lost there (seen 1 in ~10 runs under load): exact checks start after
        const warm = aSent.length;
        b.clear(); bRtcp.clear(); a.media.length = 0;
        aSent.length = 0; bSent.length = 0; aRtcpSent.length = 0; bRtcpSent.length = 0;
        const before = await totals(d, callId);
        for (let i = 0; i < 40; i++) await round();
        const n = aSent.length;
        expect(await b.waitFor(n)).toBe(n);
        expect(await bRtcp.waitFor(n)).toBe(n);
        expect(await until(() => a.media.length >= 2 * n)).toBe(true);
        await Bun.sleep(50);
        // the phone: A's RTP on its RTP port, A's RTCP in the clear on its RTCP port, from our RTCP port
        expect(hex(b.got.map((g) => g.data))).toEqual(hex(aSent));
        expect(hex(bRtcp.got.map((g) => g.data))).toEqual(hex(aRtcpSent));
        expect(bRtcp.got.every((g) => g.from.port === toB.port + 1)).toBe(true);
        // the browser: B's RTP and RTCP muxed on its one port (protected when DTLS-SRTP)
        const aRtp = a.media.filter((m) => !isMuxRtcp(m)), aRtcp = a.media.filter(isMuxRtcp);
        expect(hex(aRtp.map((m) => (aIn ? unprotect(aIn, m) : m)))).toEqual(hex(bSent));
        expect(hex(aRtcp.map((m) => (aIn ? unprotect(aIn, m, true) : m)))).toEqual(hex(bRtcpSent));
        expectPlane(before, await totals(d, callId), 4 * 40);
        // counters: the same in both planes, muxed RTCP counted as A's RTCP
        type Q = Record<string, { medias: { streams: { flags?: string[]; stats: { packets: number } }[] }[] }>;
        const q = (await d.ng({ command: "query", "call-id": callId })).tags as Q;
        for (const t of ["A", "B"]) expect(q[t]!.medias[0]!.streams.map((s) => s.stats.packets)).toEqual([n + warm, n + warm]);
        if (fast || !dtls) expect(q["A"]!.medias[0]!.streams[0]!.flags).toContain("kernelized");
        await d.ng({ command: "delete", "call-id": callId });
      });
    }
  });
}
