// ICE over real UDP: a peer with two host candidates nominates both (as Chromium does) and sends from the lower-priority one; the daemon's pair and its fast-path rule follow.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import dgram from "node:dgram";
import { spawnDaemon, type TestDaemon } from "../helpers/daemon.ts";
import { inSeqOrder, mediaOf, Phone, rtpPacket } from "./media-helpers.ts";
import { relayedTotals as totals } from "./srtp-helpers.ts";
import { IceAgent, IceRunner, parseCandidate, type Candidate } from "../../src/ice/index.ts";

const H = "127.0.0.1";
const H2 = "127.0.0.2"; // the same host's second address (all of 127/8 is loopback)
let seq = 0;

/**
 * One endpoint, two host candidates (H: higher priority, H2: lower), rtcp-mux. Each socket has its own controlling
 * agent with the endpoint's credentials and aggressive nomination, so the daemon sees USE-CANDIDATE on both pairs,
 * as from Chromium, which nominates each pair better than the one it has before settling on one by its own rules.
 */
class TwoHomedPeer {
  readonly got = new Map<string, Buffer[]>(); // media received, by local address
  runners: IceRunner[] = [];
  readonly ufrag = `u${Math.random().toString(36).slice(2, 8)}`;
  readonly pwd = `p${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`;
  readonly ssrc = (Math.random() * 0xffffffff) >>> 0;
  private seq = 0;
  private constructor(readonly socks: dgram.Socket[]) {
    socks.forEach((s, i) => {
      this.got.set(this.addr(i), []);
      s.on("message", (data, r) => {
        const res = this.runners[i]?.receive(new Uint8Array(data), { address: r.address, port: r.port }, { address: s.address().address, port: s.address().port }) ?? "not-stun";
        if (res === "not-stun" && data[0]! >= 128) this.got.get(this.addr(i))!.push(data);
      });
    });
  }
  static async open(): Promise<TwoHomedPeer> {
    const socks = await Promise.all([H, H2].map(async (h) => {
      const s = dgram.createSocket("udp4");
      await new Promise<void>((res) => s.bind(0, h, () => res()));
      return s;
    }));
    return new TwoHomedPeer(socks);
  }
  addr(i: number): string {
    const a = this.socks[i]!.address();
    return `${a.address}:${a.port}`;
  }
  port(i: number): number {
    return this.socks[i]!.address().port;
  }
  sdpLines(): string[] {
    return [
      `ice-ufrag:${this.ufrag}`, `ice-pwd:${this.pwd}`,
      `candidate:1 1 UDP 2130706431 ${H} ${this.port(0)} typ host`,
      `candidate:2 1 UDP 2130706175 ${H2} ${this.port(1)} typ host`,
    ];
  }
  start(answer: string): void {
    const ufrag = /^a=ice-ufrag:(\S+)/m.exec(answer)![1]!;
    const pwd = /^a=ice-pwd:(\S+)/m.exec(answer)![1]!;
    const cands = [...answer.matchAll(/^a=(candidate:.*)$/gm)].map((m) => parseCandidate(m[1]!.trim())).filter((c): c is Candidate => c !== null);
    const tieBreaker = 0xfffffffffffffn; // one agent towards the daemon: one tie-breaker
    this.runners = this.socks.map((s, i) => {
      const agent = new IceAgent({
        components: 1, local: [{ address: s.address().address, ports: [s.address().port] }], credentials: { ufrag: this.ufrag, pwd: this.pwd },
        controlling: true, nomination: "aggressive", tieBreaker, label: `peer${i}`,
      });
      const r = new IceRunner(agent, { send: (t) => this.socks[i]!.send(t.data, t.to.port, t.to.address) });
      r.update((a) => a.setRemote({ ufrag, pwd, candidates: cands }));
      return r;
    });
  }
  rtp(): Buffer {
    return rtpPacket(this.seq++, this.ssrc, 0x44);
  }
  close(): void {
    for (const r of this.runners) r.close();
    for (const s of this.socks) s.close();
  }
}

function sdp(port: number, extra: string[] = []): string {
  return ["v=0", `o=- 1 1 IN IP4 ${H}`, "s=-", `c=IN IP4 ${H}`, "t=0 0", `m=audio ${port} RTP/AVP 0`, "a=rtpmap:0 PCMU/8000", "a=rtcp-mux", ...extra.map((c) => `a=${c}`), ""].join("\r\n");
}


type Tags = Record<string, { medias: { streams: { flags?: string[]; endpoint?: { address: string; port: number } }[] }[] }>;

async function until(cond: () => boolean, ms = 3000): Promise<boolean> {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await Bun.sleep(10);
  return cond();
}

describe("ICE: the pair the peer uses", () => {
  let d: TestDaemon;
  const closers: { close(): void }[] = [];

  beforeAll(async () => {
    d = await spawnDaemon({
      args: ["--endpoint-learning=immediate", "--port-min=41000", "--port-max=41199", "--delete-delay=0"],
      env: { RTPENGINE_TS_FASTPATH: "1" },
    });
  });
  afterAll(async () => {
    for (const c of closers) c.close();
    await d?.stop();
  });

  test("both pairs nominated, media from the lower-priority one: the daemon selects it, the rule matches it, the fast path carries it", async () => {
    const a = await TwoHomedPeer.open();
    const b = await Phone.open(H);
    closers.push(a, b);
    const callId = `icechoice-${process.pid}-${++seq}`;
    const o = await d.ng({ command: "offer", "call-id": callId, "from-tag": "A", sdp: sdp(a.port(0), a.sdpLines()), ICE: "remove" });
    expect(o.result).toBe("ok");
    const an = await d.ng({ command: "answer", "call-id": callId, "from-tag": "A", "to-tag": "B", sdp: sdp(b.port) });
    expect(an.result).toBe("ok");
    const toA = mediaOf(an.sdp as string), toB = mediaOf(o.sdp as string);
    a.start(an.sdp as string);
    // both of the peer's agents complete (each nominated its pair)
    expect(await until(() => a.runners.every((r) => r.agent.selectedPair(1) !== null))).toBe(true);
    await Bun.sleep(100);
    const endpointA = async () => ((await d.ng({ command: "query", "call-id": callId })).tags as Tags)["A"]!.medias[0]!.streams[0]!;
    // by priority the daemon took the H pair (RFC 8445 8.1.1: the highest-priority nominated one)...
    expect((await endpointA()).endpoint).toEqual(expect.objectContaining({ address: H, port: a.port(0) }));

    // ...but the peer sends from H2, its choice: the first packets go up to TypeScript, which follows
    const aSent: Buffer[] = [];
    const round = async () => {
      const pa = a.rtp();
      aSent.push(pa);
      a.socks[1]!.send(pa, toA.port, H);
      b.send(toB.port, b.rtp());
      await Bun.sleep(3);
    };
    for (let i = 0; i < 5; i++) await round();
    expect(await b.waitFor(5)).toBe(5);
    expect(await until(() => (a.got.get(a.addr(1))?.length ?? 0) >= 3)).toBe(true);
    const s = await endpointA();
    expect(s.endpoint).toEqual(expect.objectContaining({ address: H2, port: a.port(1) }));
    expect(s.flags).toContain("kernelized");
    await Bun.sleep(100);

    // from now on the rule carries A's media (TypeScript sees none of it) and B's goes to A's H2 socket only
    const before = await totals(d, callId);
    const atH = a.got.get(a.addr(0))!.length, atH2 = a.got.get(a.addr(1))!.length;
    for (let i = 0; i < 50; i++) await round();
    expect(await b.waitFor(55)).toBe(55);
    expect(await until(() => a.got.get(a.addr(1))!.length >= atH2 + 50)).toBe(true);
    const after = await totals(d, callId);
    expect(after.user).toBe(before.user);
    expect(after.kernel - before.kernel).toBeGreaterThanOrEqual(100);
    expect(a.got.get(a.addr(0))!.length).toBe(atH);
    expect(inSeqOrder(b.got.map((g) => g.data)).map((p) => p.toString("hex"))).toEqual(aSent.map((p) => p.toString("hex")));
    await d.ng({ command: "delete", "call-id": callId });
  });
});
