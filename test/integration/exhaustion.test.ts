// Exhaustion: with a tiny port range, or a low RLIMIT_NOFILE, new offers fail with "Ran out of ports" (an ng
// error, an error log line naming the cause, the proxy's error counter), existing calls keep forwarding, and
// after the deletes every port and descriptor is back and new calls work. The same scenario runs against
// rtpengine 10.5 when it is installed, to show the reply we match.
import { afterAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { existsSync, readdirSync } from "node:fs";
import { freePort, ngUdp, spawnDaemon } from "../helpers/daemon.ts";
import type { NgDict } from "../../src/control/types.ts";
import { Phone, portFreed, setupCall } from "./media-helpers.ts";
import { missing } from "../helpers/requires.ts";

setDefaultTimeout(60_000);

const H = "127.0.0.1";
const REFERENCE = "/usr/bin/rtpengine";

/** What the scenarios need of a daemon, ours or the reference. */
interface Under {
  pid: number;
  ng(d: NgDict): Promise<NgDict>;
  log(): string;
  stop(): Promise<void>;
}

async function ours(args: string[]): Promise<Under> {
  const d = await spawnDaemon({ args: [...args, "--delete-delay=0", "--endpoint-learning=immediate"] });
  return { pid: d.pid, ng: d.ng, log: d.log, stop: async () => void (await d.stop()) };
}

async function reference(args: string[]): Promise<Under> {
  const port = await freePort();
  let text = "";
  const p = Bun.spawn([REFERENCE, "--config-file=none", "--table=-1", "--foreground", "--log-stderr", "--log-level=5", "-i", H,
    `--listen-ng=${H}:${port}`, ...args, "--delete-delay=0", "--endpoint-learning=immediate"], { stdout: "ignore", stderr: "pipe" });
  void (async () => {
    const dec = new TextDecoder();
    for await (const c of p.stderr) text += dec.decode(c, { stream: true });
  })();
  const ng = (d: NgDict) => ngUdp(H, port, d);
  for (let i = 0; i < 100; i++) {
    try {
      if ((await ngUdp(H, port, { command: "ping" }, { timeout: 200 })).result === "pong") break;
    } catch {
      /* not up yet */
    }
  }
  return { pid: p.pid, ng, log: () => text, stop: async () => { p.kill("SIGTERM"); await p.exited; } };
}

const fdCount = (pid: number): number => readdirSync(`/proc/${pid}/fd`).length;

/** Sum of every `errorcount` in the statistics reply (per SIP proxy, rtpengine's shape). */
function errorCount(v: unknown): number {
  if (Array.isArray(v)) return v.reduce((a: number, x) => a + errorCount(x), 0);
  if (v && typeof v === "object" && !(v instanceof Uint8Array)) {
    return Object.entries(v).reduce((a, [k, x]) => a + (k === "errorcount" ? Number(x) : errorCount(x)), 0);
  }
  return 0;
}

interface Held {
  callId: string;
  a: Phone;
  b: Phone;
  toA: { port: number };
  toB: { port: number };
}

/** Set up calls until an offer fails; returns the calls that are up and the failing reply. */
async function fill(d: Under, phones: Phone[], max: number): Promise<{ held: Held[]; failure: NgDict | null }> {
  const held: Held[] = [];
  for (let i = 0; i < max; i++) {
    const a = await Phone.open(H);
    const b = await Phone.open(H);
    phones.push(a, b);
    try {
      const c = await setupCall(d, { host: H, port: a.port }, { host: H, port: b.port });
      held.push({ callId: c.callId, a, b, toA: c.toA, toB: c.toB });
    } catch (e) {
      const m = /offer failed: (.*)$/s.exec((e as Error).message);
      return { held, failure: m ? (JSON.parse(m[1]!) as NgDict) : { error: (e as Error).message } };
    }
  }
  return { held, failure: null };
}

/** Both directions of a held call get RTP through. */
async function flows(c: Held): Promise<boolean> {
  c.a.clear();
  c.b.clear();
  for (let i = 0; i < 5; i++) {
    c.a.send(c.toA.port);
    c.b.send(c.toB.port);
    await Bun.sleep(20);
  }
  return (await c.b.waitFor(3)) >= 3 && (await c.a.waitFor(3)) >= 3;
}

const daemons: Array<[string, (args: string[]) => Promise<Under>]> = [["ours", ours]];
if (!missing(!existsSync(REFERENCE), `exhaustion vs rtpengine 10.5: ${REFERENCE} not installed`)) daemons.push(["rtpengine 10.5", reference]);

for (const [name, start] of daemons) {
  describe(`exhaustion (${name})`, () => {
    const phones: Phone[] = [];
    const running: Under[] = [];
    afterAll(async () => {
      for (const p of phones) p.close();
      for (const d of running) await d.stop();
    });

    test("a full port range: new offers fail with 'Ran out of ports', held calls carry on, ports come back", async () => {
      // 12 ports: 3 calls of one stream (RTP + RTCP on each side); below the ephemeral range so clients never take them
      const [min, max] = name === "ours" ? [29600, 29611] : [29620, 29631];
      const d = await start([`--port-min=${min}`, `--port-max=${max}`]);
      running.push(d);
      const { held, failure } = await fill(d, phones, 8);
      expect(failure).not.toBeNull();
      expect(failure!.result).toBe("error");
      expect(failure!["error-reason"]).toBe("Ran out of ports");
      expect(held.length).toBe(3);
      // a second failing offer: still an error, not a crash or a hang
      const again = await d.ng({ command: "offer", "call-id": `more-${name}`, "from-tag": "X", sdp: (await import("./media-helpers.ts")).audioSdp(H, 9) });
      expect(again["error-reason"]).toBe("Ran out of ports");
      expect((await d.ng({ command: "ping" })).result).toBe("pong");
      // the failed offers' calls are not kept (10.5 forgets them too): only the held calls are listed
      expect((await d.ng({ command: "query", "call-id": `more-${name}` }))["error-reason"]).toBe("Unknown call-id");
      expect([...((await d.ng({ command: "list" })).calls as string[])].sort()).toEqual(held.map((c) => c.callId).sort());
      for (const c of held) expect(await flows(c)).toBe(true);
      if (name === "ours") {
        expect(d.log()).toMatch(/Failed to get 2 consecutive ports on interface 127\.0\.0\.1 for media relay \(last error: every port pair in 29600-29611 is in use\)/);
        const stats = await d.ng({ command: "statistics" });
        expect(errorCount(stats)).toBeGreaterThanOrEqual(2);
      }

      for (const c of held) expect((await d.ng({ command: "delete", "call-id": c.callId })).result).toBe("ok");
      await Bun.sleep(300);
      for (let p = min; p <= max; p++) expect(await portFreed(H, p)).toBe(true);
      const { held: again2 } = await fill(d, phones, 3);
      expect(again2.length).toBe(3);
      expect(await flows(again2[0]!)).toBe(true);
    });

    test("descriptors run out (RLIMIT_NOFILE): new offers fail cleanly, held calls carry on, every fd comes back", async () => {
      const [min, max] = name === "ours" ? [29700, 29799] : [29800, 29899];
      const d = await start([`--port-min=${min}`, `--port-max=${max}`]);
      running.push(d);
      await Bun.sleep(200);
      const before = fdCount(d.pid);
      // room for two calls (4 sockets each) and a bit: the third or fourth offer runs out
      const limit = before + 10;
      const r = Bun.spawnSync(["prlimit", `--pid=${d.pid}`, `--nofile=${limit}:${limit}`], { stderr: "pipe" });
      expect(r.exitCode).toBe(0);
      const { held, failure } = await fill(d, phones, 10);
      expect(failure).not.toBeNull();
      expect(failure!.result).toBe("error");
      expect(failure!["error-reason"]).toBe("Ran out of ports");
      expect(held.length).toBeGreaterThanOrEqual(2);
      expect(fdCount(d.pid)).toBeLessThanOrEqual(limit);
      expect((await d.ng({ command: "ping" })).result).toBe("pong");
      for (const c of held) expect(await flows(c)).toBe(true);
      if (name === "ours") expect(d.log()).toMatch(/for media relay \(last error: Too many open files/);
      else expect(d.log()).toMatch(/last error: Too many open files/);

      for (const c of held) expect((await d.ng({ command: "delete", "call-id": c.callId })).result).toBe("ok");
      await Bun.sleep(300);
      expect(fdCount(d.pid)).toBe(before);
      // the limit is still in place: as many calls fit again as before
      const { held: again } = await fill(d, phones, held.length);
      expect(again.length).toBe(held.length);
      expect(await flows(again[0]!)).toBe(true);
    });
  });
}
