// ICE on media ports over real UDP: an IceAgent in the test is the peer; media reaches it only once its pair is validated.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import dgram from "node:dgram";
import { spawnDaemon, type TestDaemon } from "../helpers/daemon.ts";
import { mediaOf, Phone } from "./media-helpers.ts";
import { IceAgent, IceRunner, parseCandidate, type Candidate, type IceEvent } from "../../src/ice/index.ts";

const H = "127.0.0.1";
let seq = 0;

/** An ICE endpoint on one socket (rtcp-mux, one component). */
class IcePeer {
  readonly media: Buffer[] = [];
  readonly events: IceEvent[] = [];
  runner: IceRunner | null = null;
  readonly ufrag = `u${Math.random().toString(36).slice(2, 8)}`;
  readonly pwd = `p${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`;
  constructor(readonly sock: dgram.Socket) {
    sock.on("message", (data, r) => {
      // (a copy: parseStun's XOR-MAPPED decoding writes into a Buffer's slice, i.e. into the datagram)
      const res = this.runner?.receive(new Uint8Array(data), { address: r.address, port: r.port }, { address: H, port: this.port }) ?? "not-stun";
      if (res === "not-stun" && !(data[0]! < 4)) this.media.push(data);
    });
  }
  static async open(): Promise<IcePeer> {
    const s = dgram.createSocket("udp4");
    await new Promise<void>((res) => s.bind(0, H, () => res()));
    return new IcePeer(s);
  }
  get port(): number {
    return this.sock.address().port;
  }
  sdpLines(): string[] {
    return [`ice-ufrag:${this.ufrag}`, `ice-pwd:${this.pwd}`, `candidate:1 1 UDP 2130706431 ${H} ${this.port} typ host`];
  }
  start(answer: string, controlling: boolean): void {
    const ufrag = /^a=ice-ufrag:(\S+)/m.exec(answer)![1]!;
    const pwd = /^a=ice-pwd:(\S+)/m.exec(answer)![1]!;
    const cands = [...answer.matchAll(/^a=(candidate:.*)$/gm)].map((m) => parseCandidate(m[1]!.trim())).filter((c): c is Candidate => c !== null);
    const agent = new IceAgent({ components: 1, local: [{ address: H, ports: [this.port] }], credentials: { ufrag: this.ufrag, pwd: this.pwd }, controlling });
    this.runner = new IceRunner(agent, {
      send: (t) => this.sock.send(t.data, t.to.port, t.to.address),
      onEvent: (e) => this.events.push(e),
    });
    this.runner.update((a) => a.setRemote({ ufrag, pwd, candidates: cands }));
  }
  async selected(ms = 4000): Promise<boolean> {
    const end = Date.now() + ms;
    while (!this.events.some((e) => e.type === "selected") && Date.now() < end) await Bun.sleep(10);
    return this.events.some((e) => e.type === "selected");
  }
  close(): void {
    this.runner?.close();
    this.sock.close();
  }
}

function sdp(port: number, extra: string[] = []): string {
  return ["v=0", `o=- 1 1 IN IP4 ${H}`, "s=-", `c=IN IP4 ${H}`, "t=0 0", `m=audio ${port} RTP/AVP 0`, "a=rtpmap:0 PCMU/8000", "a=rtcp-mux", ...extra.map((c) => `a=${c}`), ""].join("\r\n");
}

describe("ICE on media ports", () => {
  let d: TestDaemon;
  const closers: { close(): void }[] = [];

  beforeAll(async () => {
    d = await spawnDaemon({ args: ["--port-min=46000", "--port-max=46499", "--delete-delay=0"] });
  });
  afterAll(async () => {
    for (const c of closers) c.close();
    await d?.stop();
  });

  test("ICE offerer <-> plain answerer: checks complete, media flows both ways only after validation", async () => {
    const a = await IcePeer.open();
    const b = await Phone.open(H);
    closers.push(a, b);
    const callId = `ice-${process.pid}-${++seq}`;
    const o = await d.ng({ command: "offer", "call-id": callId, "from-tag": "A", sdp: sdp(a.port, a.sdpLines()), ICE: "remove" });
    expect(o.result).toBe("ok");
    expect(o.sdp as string).not.toContain("a=ice-ufrag"); // B gets no ICE
    const an = await d.ng({ command: "answer", "call-id": callId, "from-tag": "A", "to-tag": "B", sdp: sdp(b.port) });
    expect(an.result).toBe("ok");
    const body = an.sdp as string;
    expect(body).toContain("a=ice-ufrag:");
    const toA = mediaOf(body), toB = mediaOf(o.sdp as string);

    // before ICE: B's media is not sent to A's (unvalidated) SDP address
    await b.burst(toB.port, 3);
    await Bun.sleep(150);
    expect(a.media.length).toBe(0);

    a.start(body, true); // the offerer controls
    expect(await a.selected()).toBe(true);
    const sel = a.runner!.agent.selectedPair(1)!;
    expect(sel.remote.port).toBe(toA.port);

    const p = b.rtp();
    b.send(toB.port, Buffer.from(p));
    const end = Date.now() + 2000;
    while (a.media.length < 1 && Date.now() < end) await Bun.sleep(10);
    expect(a.media.length).toBe(1);
    expect(a.media[0]!).toEqual(p);

    const pa = Buffer.alloc(172, 3);
    pa[0] = 0x80;
    pa.writeUInt32BE(0xabcdef, 8);
    a.sock.send(pa, toA.port, toA.address);
    expect(await b.waitFor(1)).toBe(1);
    expect(b.got[0]!.data).toEqual(pa);
    await d.ng({ command: "delete", "call-id": callId });
  });

  test("ICE offerer, the answerer is offered ICE but answers without: no ICE towards it, media flows", async () => {
    const a = await IcePeer.open();
    const b = await Phone.open(H);
    closers.push(a, b);
    const callId = `ice-${process.pid}-${++seq}`;
    const o = await d.ng({ command: "offer", "call-id": callId, "from-tag": "A", sdp: sdp(a.port, a.sdpLines()) });
    expect(o.sdp as string).toContain("a=ice-ufrag:");
    const an = await d.ng({ command: "answer", "call-id": callId, "from-tag": "A", "to-tag": "B", sdp: sdp(b.port) });
    const toA = mediaOf(an.sdp as string), toB = mediaOf(o.sdp as string);
    a.start(an.sdp as string, true);
    expect(await a.selected()).toBe(true);
    const pa = Buffer.alloc(172, 4);
    pa[0] = 0x80;
    a.sock.send(pa, toA.port, toA.address);
    expect(await b.waitFor(1)).toBe(1);
    b.send(toB.port);
    const end = Date.now() + 2000;
    while (a.media.length < 1 && Date.now() < end) await Bun.sleep(10);
    expect(a.media.length).toBe(1);
    await d.ng({ command: "delete", "call-id": callId });
  });

  test("ICE=force towards a plain offerer: the ICE answerer's checks complete and media flows", async () => {
    const a = await Phone.open(H);
    const b = await IcePeer.open();
    closers.push(a, b);
    const callId = `ice-${process.pid}-${++seq}`;
    const o = await d.ng({ command: "offer", "call-id": callId, "from-tag": "A", sdp: sdp(a.port), ICE: "force" });
    expect(o.result).toBe("ok");
    expect(o.sdp as string).toContain("a=ice-ufrag:");
    const an = await d.ng({ command: "answer", "call-id": callId, "from-tag": "A", "to-tag": "B", sdp: sdp(b.port, b.sdpLines()) });
    expect(an.result).toBe("ok");
    expect(an.sdp as string).not.toContain("a=ice-ufrag");
    const toA = mediaOf(an.sdp as string), toB = mediaOf(o.sdp as string);
    b.start(o.sdp as string, false); // the daemon offered, so it controls
    expect(await b.selected()).toBe(true);
    // the controlled peer selects on the nominating check, the daemon only once its answer is back: let it arrive
    await Bun.sleep(100);
    await a.burst(toA.port, 3);
    const end = Date.now() + 2000;
    while (b.media.length < 3 && Date.now() < end) await Bun.sleep(10);
    expect(b.media.length).toBe(3);
    const pb = Buffer.alloc(100, 9);
    pb[0] = 0x80;
    b.sock.send(pb, toB.port, toB.address);
    expect(await a.waitFor(1)).toBe(1);
    await d.ng({ command: "delete", "call-id": callId });
  });
});
