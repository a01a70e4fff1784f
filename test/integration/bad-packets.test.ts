// Bad input on an SDES-SRTP + ICE stream over real UDP: corrupted and replayed SRTP, truncated packets, STUN with bad integrity and DTLS garbage are dropped and counted (query errors, statistics, /metrics, log); good media is unaffected.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import dgram from "node:dgram";
import { spawnDaemon, type TestDaemon } from "../helpers/daemon.ts";
import { inSeqOrder, mediaOf, Phone } from "./media-helpers.ts";
import { protect } from "./srtp-helpers.ts";
import { SrtpLibrary, srtpSuiteByName } from "../../src/crypto/srtp.ts";
import { IceAgent, IceRunner, parseCandidate, type Candidate, type IceEvent } from "../../src/ice/index.ts";
import { attrPriority, attrRole, attrUsername, buildStun, METHOD_BINDING, StunClass } from "../../src/ice/stun.ts";

setDefaultTimeout(30_000);
const H = "127.0.0.1";
const SUITE = "AES_CM_128_HMAC_SHA1_80";
let lib: SrtpLibrary;
let seq = 0;

/** The SRTP + ICE phone (B): one socket, rtcp-mux, an ICE agent answering the daemon's checks. */
class SecureIcePeer {
  readonly media: Buffer[] = [];
  readonly events: IceEvent[] = [];
  runner: IceRunner | null = null;
  readonly ufrag = `u${Math.random().toString(36).slice(2, 8)}`;
  readonly pwd = `p${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`;
  readonly ssrc = (Math.random() * 0xffffffff) >>> 0;
  private seq = 1;
  constructor(readonly sock: dgram.Socket) {
    sock.on("message", (data, r) => {
      const res = this.runner?.receive(new Uint8Array(data), { address: r.address, port: r.port }, { address: H, port: this.port }) ?? "not-stun";
      if (res === "not-stun" && !(data[0]! < 4)) this.media.push(data);
    });
  }
  static async open(): Promise<SecureIcePeer> {
    const s = dgram.createSocket("udp4");
    await new Promise<void>((res) => s.bind(0, H, () => res()));
    return new SecureIcePeer(s);
  }
  get port(): number {
    return this.sock.address().port;
  }
  start(offer: string): void {
    const ufrag = /^a=ice-ufrag:(\S+)/m.exec(offer)![1]!;
    const pwd = /^a=ice-pwd:(\S+)/m.exec(offer)![1]!;
    const cands = [...offer.matchAll(/^a=(candidate:.*)$/gm)].map((m) => parseCandidate(m[1]!.trim())).filter((c): c is Candidate => c !== null);
    const agent = new IceAgent({ components: 1, local: [{ address: H, ports: [this.port] }], credentials: { ufrag: this.ufrag, pwd: this.pwd }, controlling: false });
    this.runner = new IceRunner(agent, { send: (t) => this.sock.send(t.data, t.to.port, t.to.address), onEvent: (e) => this.events.push(e) });
    this.runner.update((a) => a.setRemote({ ufrag, pwd, candidates: cands }));
  }
  async selected(ms = 4000): Promise<boolean> {
    const end = Date.now() + ms;
    while (!this.events.some((e) => e.type === "selected") && Date.now() < end) await Bun.sleep(10);
    return this.events.some((e) => e.type === "selected");
  }
  rtp(): Buffer {
    const b = Buffer.alloc(172, 0x55);
    b[0] = 0x80;
    b[1] = 0; // PCMU (a PT of 64..95 would read as RTCP on an rtcp-mux port)
    b.writeUInt16BE(this.seq++ & 0xffff, 2);
    b.writeUInt32BE((this.seq * 160) >>> 0, 4);
    b.writeUInt32BE(this.ssrc, 8);
    return b;
  }
  close(): void {
    this.runner?.close();
    this.sock.close();
  }
}


function sdp(port: number, proto: string, extra: string[] = []): string {
  return ["v=0", `o=- 1 1 IN IP4 ${H}`, "s=-", `c=IN IP4 ${H}`, "t=0 0", `m=audio ${port} ${proto} 0`, "a=rtpmap:0 PCMU/8000", "a=rtcp-mux", ...extra.map((c) => `a=${c}`), ""].join("\r\n");
}

type Stats = Record<string, number | string>;
async function totals(d: TestDaemon): Promise<Stats> {
  const s = await d.ng({ command: "statistics" });
  return (s.statistics as Record<string, Stats>)["totalstatistics"]!;
}
async function metrics(d: TestDaemon): Promise<Map<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${d.httpPort}/metrics`)).text();
  const out = new Map<string, number>();
  for (const l of text.split("\n")) {
    const m = /^(rtpengine_(?:bad_packets_total\{kind="\w+"\}|packet_errors_total\{type="\w+"\}))\s+(\d+)/.exec(l);
    if (m) out.set(m[1]!, Number(m[2]));
  }
  return out;
}
async function streamErrors(d: TestDaemon, callId: string, tag: string): Promise<number> {
  const q = await d.ng({ command: "query", "call-id": callId });
  const t = (q.tags as Record<string, { medias: { streams: { stats: { errors: number } }[] }[] }>)[tag]!;
  return t.medias[0]!.streams[0]!.stats.errors;
}

for (const plane of ["fast", "slow"] as const) {
  describe(`bad packets on a secure ICE stream (${plane} path)`, () => {
    let d: TestDaemon;
    const closers: { close(): void }[] = [];
    beforeAll(async () => {
      lib ??= new SrtpLibrary();
      expect(lib.init()).toBe(0);
      const base = plane === "fast" ? 47000 : 47200;
      d = await spawnDaemon({ http: true, args: [`--port-min=${base}`, `--port-max=${base + 199}`, "--delete-delay=0"], env: { RTPENGINE_TS_FASTPATH: plane === "fast" ? "1" : "0" } });
    });
    afterAll(async () => {
      for (const c of closers) c.close();
      await d?.stop();
    });

    test("each kind is dropped, counted per stream and in totals, logged; good SRTP keeps flowing", async () => {
      const a = await Phone.open(H);
      const b = await SecureIcePeer.open();
      closers.push(a, b);
      const callId = `bad-${process.pid}-${++seq}`;
      // A (plain RTP) calls B; the daemon offers B SDES-SRTP with ICE
      const o = await d.ng({ command: "offer", "call-id": callId, "from-tag": "A", sdp: sdp(a.port, "RTP/AVP"), ICE: "force", "transport-protocol": "RTP/SAVP" });
      expect(o.result).toBe("ok");
      const offer = o.sdp as string;
      const ours = [...offer.matchAll(/^a=crypto:(\d+) (\S+) inline:([A-Za-z0-9+/=]+)/gm)].find((m) => m[2] === SUITE)!;
      expect(ours).toBeDefined();
      const bRaw = Buffer.from(Array.from({ length: 30 }, () => (Math.random() * 256) | 0));
      const bKey = bRaw.toString("base64");
      const bLines = [`crypto:${ours[1]} ${SUITE} inline:${bKey}`, `ice-ufrag:${b.ufrag}`, `ice-pwd:${b.pwd}`, `candidate:1 1 UDP 2130706431 ${H} ${b.port} typ host`];
      const an = await d.ng({ command: "answer", "call-id": callId, "from-tag": "A", "to-tag": "B", sdp: sdp(b.port, "RTP/SAVP", bLines) });
      expect(an.result).toBe("ok");
      const toB = mediaOf(offer); // where B sends (the daemon's port facing B)
      b.start(offer);
      expect(await b.selected()).toBe(true);
      const suite = srtpSuiteByName(SUITE)!;
      const bOut = lib.context(suite, bRaw.subarray(0, suite.keyLength), bRaw.subarray(suite.keyLength, suite.keyLength + suite.saltLength));

      // good SRTP from B reaches A as plain RTP
      const good: Buffer[] = [];
      const sendGood = async (n: number) => {
        for (let i = 0; i < n; i++) {
          const p = b.rtp();
          good.push(Buffer.from(p));
          const enc = protect(bOut, p);
          b.sock.send(enc, toB.port, toB.address);
          await Bun.sleep(3);
        }
      };
      await sendGood(5);
      expect(await a.waitFor(5)).toBe(5);
      const before = await totals(d);
      const mBefore = await metrics(d);
      const replayable = protect(bOut, b.rtp()); // accepted once below, then replayed
      b.sock.send(replayable, toB.port, toB.address);
      expect(await a.waitFor(6)).toBe(6);
      good.push(Buffer.from(a.got[5]!.data));

      // 1. corrupted SRTP (a flipped payload byte), 2 of them
      for (let i = 0; i < 2; i++) {
        const forged = protect(bOut, b.rtp());
        forged[30]! ^= 0xff;
        b.sock.send(forged, toB.port, toB.address);
      }
      // 2. a replay of an accepted packet, twice
      b.sock.send(replayable, toB.port, toB.address);
      b.sock.send(replayable, toB.port, toB.address);
      // 3. truncated: an SRTP packet cut inside its header, and one shorter than header + tag
      const whole = protect(bOut, b.rtp());
      b.sock.send(whole.subarray(0, 8), toB.port, toB.address);
      b.sock.send(whole.subarray(0, 20), toB.port, toB.address);
      // 4. STUN binding requests with the right USERNAME but MESSAGE-INTEGRITY from a wrong password
      const dUfrag = /^a=ice-ufrag:(\S+)/m.exec(offer)![1]!;
      for (let i = 0; i < 2; i++) {
        const stun = buildStun({
          cls: StunClass.Request,
          method: METHOD_BINDING,
          tid: crypto.getRandomValues(new Uint8Array(12)),
          attrs: [attrUsername(`${dUfrag}:${b.ufrag}`), attrPriority(1), attrRole(false, 1n)],
          integrityKey: "not-the-password",
        });
        b.sock.send(stun, toB.port, toB.address);
      }
      // 5. DTLS garbage: a record header (handshake, DTLS 1.2) followed by noise, on an SDES stream
      const garbage = Buffer.alloc(60);
      crypto.getRandomValues(garbage);
      garbage[0] = 22;
      garbage[1] = 0xfe;
      garbage[2] = 0xfd;
      b.sock.send(garbage, toB.port, toB.address);
      await Bun.sleep(100);
      // good media after the storm
      await sendGood(5);
      expect(await a.waitFor(11)).toBe(11);
      await Bun.sleep(300);

      // A got exactly the good packets, decrypted, in order: nothing bad went through
      expect(a.got.length).toBe(11);
      const atA = inSeqOrder(a.got.map((g) => g.data));
      for (let i = 0; i < 11; i++) expect(atA[i]!).toEqual(good[i]!);
      // B's STUN agent still talks to the daemon (the bad requests got no answer, the good ones still do)
      expect(b.events.some((e) => e.type === "selected")).toBe(true);

      // per stream (query): 2 corrupted + 2 replays + 2 truncated + 2 STUN + 1 DTLS
      let errs = 0;
      for (const end = Date.now() + 3000; Date.now() < end; await Bun.sleep(100)) {
        errs = await streamErrors(d, callId, "B");
        if (errs >= 9) break;
      }
      expect(errs).toBe(9);
      // totals (statistics): relayedpacketerrors and the breakdown by kind
      const after = await totals(d);
      const delta = (k: string) => Number(after[k]) - Number(before[k]);
      expect(delta("relayedpacketerrors")).toBeGreaterThanOrEqual(9);
      expect(delta("badpackets_stun")).toBe(2);
      expect(delta("badpackets_dtls")).toBe(1);
      if (plane === "slow") {
        expect(delta("badpackets_srtp_auth")).toBe(2);
        expect(delta("badpackets_srtp_replay")).toBe(2);
        expect(delta("badpackets_short")).toBe(2);
      } else {
        // the shim counts authentication and replay failures together; truncated ones as plain errors
        expect(delta("badpackets_srtp_auth") + delta("badpackets_srtp_replay")).toBe(4);
      }
      // Prometheus on --listen-http
      const mAfter = await metrics(d);
      const mDelta = (k: string) => (mAfter.get(k) ?? NaN) - (mBefore.get(k) ?? NaN);
      expect(mDelta('rtpengine_bad_packets_total{kind="stun"}')).toBe(2);
      expect(mDelta('rtpengine_bad_packets_total{kind="dtls"}')).toBe(1);
      expect(mDelta('rtpengine_packet_errors_total{type="userspace"}') + mDelta('rtpengine_packet_errors_total{type="kernel"}')).toBeGreaterThanOrEqual(9);
      // a log line says what was dropped and from where
      expect(d.log()).toMatch(/Dropped bad media packet.*STUN rejected.*of call bad-/);
      expect(d.log()).toMatch(/Dropped bad media packet.*DTLS not accepted/);
      // still alive and serving
      expect((await d.ng({ command: "ping" })).result).toBe("pong");
      await d.ng({ command: "delete", "call-id": callId });
    });
  });
}
