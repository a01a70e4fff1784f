// Differential: our ICE agent against Debian's rtpengine 10.5 ICE agent over loopback (skipped without /usr/bin/rtpengine).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import bencode from "bencode";
import dgram from "node:dgram";
import { existsSync } from "node:fs";
import { spawn, type ChildProcess } from "node:child_process";
import { addrKey } from "../../src/ice/addr.ts";
import { IceAgent, type IceEvent } from "../../src/ice/agent.ts";
import { formatCandidate, parseCandidate } from "../../src/ice/candidate.ts";
import { IceRunner } from "../../src/ice/runner.ts";
import { missing } from "../helpers/requires.ts";

const RTPENGINE = "/usr/bin/rtpengine";
const have = !missing(!existsSync(RTPENGINE), `ICE against rtpengine 10.5: ${RTPENGINE} not installed (apt-get install rtpengine-daemon)`);
const base = 52000 + Math.floor(Math.random() * 6000);
const NG_PORT = base;
const MEDIA = "127.0.0.3";

let daemon: ChildProcess | null = null;
let ng: dgram.Socket;
let daemonLog = "";
let seq = 0;
const td = new TextDecoder();

type Reply = { result: string; sdp: string; reason: string };

async function ngCommand(d: Record<string, unknown>, timeoutMs = 1000): Promise<Reply | null> {
  const cookie = `ice${process.pid}_${++seq}`;
  return new Promise((res) => {
    const timer = setTimeout(() => { ng.off("message", on); res(null); }, timeoutMs);
    const on = (m: Buffer): void => {
      const s = m.toString("latin1");
      if (!s.startsWith(cookie + " ")) return;
      clearTimeout(timer);
      ng.off("message", on);
      const r = bencode.decode(Buffer.from(s.slice(cookie.length + 1), "latin1")) as Record<string, Uint8Array>;
      const txt = (k: string): string => (r[k] ? td.decode(r[k]) : "");
      res({ result: txt("result"), sdp: txt("sdp"), reason: txt("error-reason") });
    };
    ng.on("message", on);
    ng.send(Buffer.concat([Buffer.from(cookie + " "), Buffer.from(bencode.encode(d))]), NG_PORT, "127.0.0.1");
  });
}

beforeAll(async () => {
  // (generous: the 2 shared cores may be busy)
  if (!have) return;
  daemon = spawn(RTPENGINE, [
    "--config-file=none", "--table=-1", "--foreground", "--log-stderr", "--log-level=7", `--interface=${MEDIA}`,
    `--listen-ng=127.0.0.1:${NG_PORT}`, `--port-min=${base + 2}`, `--port-max=${base + 60}`,
  ], { stdio: ["ignore", "ignore", "pipe"] });
  daemon.stderr!.on("data", (d: Buffer) => { daemonLog += d.toString(); });
  ng = dgram.createSocket("udp4");
  await new Promise<void>((r) => ng.bind(0, "127.0.0.1", () => r()));
  for (let i = 0; i < 50; i++) {
    const r = await ngCommand({ command: "ping" }, 200);
    if (r?.result === "pong") return;
  }
  throw new Error(`rtpengine did not answer ping:\n${daemonLog.slice(-2000)}`);
}, 20000);

afterAll(() => {
  daemon?.kill();
  if (have) ng.close();
});

interface Side { agent: IceAgent; run: IceRunner; socks: dgram.Socket[]; events: IceEvent[]; ports: number[] }

async function openSide(controlling: boolean, lite: boolean): Promise<Side> {
  const socks: dgram.Socket[] = [];
  const ports: number[] = [];
  for (let i = 0; i < 2; i++) {
    const s = dgram.createSocket("udp4");
    await new Promise<void>((r) => s.bind(0, "127.0.0.1", () => r()));
    socks.push(s);
    ports.push(s.address().port);
  }
  const agent = new IceAgent({
    components: 2, local: [{ address: "127.0.0.1", ports }], credentials: { ufrag: "tsufrag1", pwd: "tspassword0123456789abcd" },
    controlling, lite, timing: { ta: 20 },
  });
  const events: IceEvent[] = [];
  const byKey = new Map(socks.map((s, i) => [addrKey({ address: "127.0.0.1", port: ports[i]! }), s]));
  const run = new IceRunner(agent, { send: (t) => byKey.get(addrKey(t.from))!.send(t.data, t.to.port, t.to.address), onEvent: (e) => events.push(e) });
  socks.forEach((s, i) => s.on("message", (m, ri) => {
    run.receive(new Uint8Array(m), { address: ri.address, port: ri.port }, { address: "127.0.0.1", port: ports[i]! });
  }));
  return { agent, run, socks, events, ports };
}

function iceSdp(s: Side, lite: boolean): string {
  const cands = s.agent.localCandidates().map((c) => `a=${formatCandidate(c)}\r\n`).join("");
  return `v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio ${s.ports[0]} RTP/AVP 0\r\na=rtcp:${s.ports[1]}\r\n` +
    `a=ice-ufrag:${s.agent.credentials.ufrag}\r\na=ice-pwd:${s.agent.credentials.pwd}\r\n${lite ? "a=ice-lite\r\n" : ""}${cands}`;
}
const plainSdp = (port: number): string => `v=0\r\no=- 2 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio ${port} RTP/AVP 0\r\n`;

async function waitFor(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
  return cond();
}

/** We send the ICE offer (so we control), or answer rtpengine's ICE=force offer (so it controls). */
async function negotiate(mode: "we-offer" | "we-answer" | "we-lite" | "they-lite"): Promise<void> {
  const callId = `ice-${mode}-${process.pid}`;
  const side = await openSide(mode === "we-offer", mode === "we-lite");
  try {
    let theirs: string;
    if (mode === "we-answer" || mode === "they-lite") {
      const extra = mode === "they-lite" ? { "ICE-lite": "forward" } : {};
      const o = await ngCommand({ command: "offer", "call-id": callId, "from-tag": "ft", sdp: plainSdp(9000), ICE: "force", ...extra });
      expect(o?.result).toBe("ok");
      theirs = o!.sdp;
      expect((await ngCommand({ command: "answer", "call-id": callId, "from-tag": "ft", "to-tag": "tt", sdp: iceSdp(side, false) }))?.result).toBe("ok");
    } else {
      expect((await ngCommand({ command: "offer", "call-id": callId, "from-tag": "ft", sdp: iceSdp(side, mode === "we-lite") }))?.result).toBe("ok");
      const a = await ngCommand({ command: "answer", "call-id": callId, "from-tag": "ft", "to-tag": "tt", sdp: plainSdp(9000) });
      expect(a?.result).toBe("ok");
      theirs = a!.sdp;
    }
    const ufrag = /a=ice-ufrag:(\S+)/.exec(theirs)?.[1];
    const pwd = /a=ice-pwd:(\S+)/.exec(theirs)?.[1];
    expect(ufrag && pwd).toBeTruthy();
    const candidates = theirs.split(/\r?\n/).filter((l) => l.startsWith("a=candidate:")).map((l) => parseCandidate(l)).filter((c) => c !== null);
    expect(candidates.length).toBe(2);
    expect(/a=ice-lite/.test(theirs)).toBe(mode === "they-lite");
    side.run.update((a) => a.setRemote({ ufrag: ufrag!, pwd: pwd!, candidates, lite: /a=ice-lite/.test(theirs) }));
    const theyCompleted = (): boolean => daemonLog.split("\n").some((l) => l.includes(callId) && l.includes("ICE completed"));
    // a lite rtpengine does not log "ICE completed"; it just answers our checks
    const done = await waitFor(() => side.events.some((e) => e.type === "completed") && (mode === "they-lite" || theyCompleted()), 5000);
    expect(done).toBe(true);
    for (const c of [1, 2]) expect(side.agent.selectedPair(c)?.remote).toEqual({ address: MEDIA, port: candidates.find((x) => x.component === c)!.port });
    if (mode === "we-lite") expect(side.agent.counters.checksSent).toBe(0);
    if (mode === "they-lite") expect(side.agent.isControlling).toBe(true);
    expect(side.agent.counters.rejected).toEqual({});
  } finally {
    await ngCommand({ command: "delete", "call-id": callId, "from-tag": "ft" });
    side.run.close();
    for (const s of side.socks) s.close();
  }
}

describe.skipIf(!have)("ICE against rtpengine 10.5", () => {
  test("we offer ICE and control; rtpengine's agent is controlled", async () => { await negotiate("we-offer"); }, 15000);
  test("rtpengine offers with ICE=force and controls; we answer", async () => { await negotiate("we-answer"); }, 15000);
  test("we are ICE-lite; rtpengine checks and nominates", async () => { await negotiate("we-lite"); }, 15000);
  test("rtpengine is ICE-lite (ICE-lite=forward); our answering full agent takes control", async () => { await negotiate("they-lite"); }, 15000);
});
