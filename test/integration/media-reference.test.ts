// Differential media behaviour: the same phones and packets through Debian's rtpengine 10.5 and through ours (both planes) must end up in the same places.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync } from "node:fs";
import { freePort, ngUdp, rawUdp, spawnDaemon, type TestDaemon } from "../helpers/daemon.ts";
import { audioSdp, mediaOf, Phone, setupCall } from "./media-helpers.ts";
import { missing } from "../helpers/requires.ts";

setDefaultTimeout(30_000);

const REFERENCE = "/usr/bin/rtpengine";
const have = !missing(!existsSync(REFERENCE), `${REFERENCE} not installed (apt-get install rtpengine-daemon)`);
type Ng = Pick<TestDaemon, "ng">;

let ref: { proc: ReturnType<typeof Bun.spawn>; d: Ng } | null = null;
const ours: Record<"fast" | "slow", TestDaemon | null> = { fast: null, slow: null };
const ARGS = ["--endpoint-learning=immediate", "--delete-delay=0"];

beforeAll(async () => {
  if (!have) return;
  const ng = await freePort();
  const proc = Bun.spawn([REFERENCE, "--config-file=none", "--table=-1", "--foreground", "-E", "-L", "3", "-i", "127.0.0.1",
    `--listen-ng=127.0.0.1:${ng}`, "--port-min=48000", "--port-max=48999", ...ARGS], { stdout: "ignore", stderr: "ignore" });
  ref = { proc, d: { ng: (dict, o) => ngUdp("127.0.0.1", ng, dict, o) } };
  let up = false;
  for (let i = 0; i < 50 && !up; i++) up = (await rawUdp("127.0.0.1", ng, "up d7:command4:pinge", 100)) !== null;
  if (!up) throw new Error("reference daemon did not start");
  ours.fast = await spawnDaemon({ args: ["--port-min=49000", "--port-max=49499", ...ARGS], env: { RTPENGINE_TS_FASTPATH: "1" } });
  ours.slow = await spawnDaemon({ args: ["--port-min=49500", "--port-max=49999", ...ARGS], env: { RTPENGINE_TS_FASTPATH: "0" } });
});
afterAll(async () => {
  await ours.fast?.stop();
  await ours.slow?.stop();
  ref?.proc.kill("SIGTERM");
  await ref?.proc.exited;
});

/** One scenario: A (SDP) and A2 (another source of A), B; returns who received how many packets. */
type Scenario = (d: Ng, p: { a: Phone; a2: Phone; b: Phone }) => Promise<void>;
const settle = () => Bun.sleep(120);

async function outcome(d: Ng, run: Scenario): Promise<string> {
  const a = await Phone.open(), a2 = await Phone.open(), b = await Phone.open();
  try {
    await run(d, { a, a2, b });
    await settle();
    // what each phone got: payload byte 12 of every packet (silence, RTCP has none), sorted: order across sockets is not kept
    const seen = (p: Phone) => p.got.map((x) => x.data[12] ?? -1).sort((x, y) => x - y).join(",");
    return `a=[${seen(a)}] a2=[${seen(a2)}] b=[${seen(b)}]`;
  } finally {
    a.close();
    a2.close();
    b.close();
  }
}

function learnThenSwitch(offer: Record<string, unknown>): Scenario {
  return async (d, { a, a2, b }) => {
    const c = await setupCall(d, a, b, { offer });
    await a.burst(c.toA.port, 3, 5);
    await settle();
    await a2.burst(c.toA.port, 3, 5);
    await settle();
    await b.burst(c.toB.port, 3, 5);
  };
}

const SCENARIOS: Array<[string, Scenario]> = [
  ["symmetric latching, later sources forwarded", learnThenSwitch({})],
  ["strict source", learnThenSwitch({ flags: ["strict source"] })],
  ["media handover", learnThenSwitch({ flags: ["media handover"] })],
  ["asymmetric: media to the SDP address", async (d, { a, a2, b }) => {
    const c = await setupCall(d, a, b, { offer: { flags: ["asymmetric"] } });
    await a2.burst(c.toA.port, 3, 5);
    await settle();
    await b.burst(c.toB.port, 3, 5);
  }],
  ["NAT: SDP says A, packets come from A2", async (d, { a, a2, b }) => {
    const c = await setupCall(d, a, b);
    await a2.burst(c.toA.port, 3, 5);
    await settle();
    await b.burst(c.toB.port, 3, 5);
  }],
  ["block media from A, DTMF passes", async (d, { a, b }) => {
    const c = await setupCall(d, a, b);
    await d.ng({ command: "block media", "call-id": c.callId, "from-tag": "A" });
    await a.burst(c.toA.port, 3, 5);
    await a.burst(c.toA.port, 2, 5, () => a.rtp(101));
    await b.burst(c.toB.port, 3, 5);
  }],
  ["media echo backwards", async (d, { a, b }) => {
    const c = await setupCall(d, a, b, { offer: { "media echo": "backwards" } });
    await a.burst(c.toA.port, 3, 5);
    await b.burst(c.toB.port, 3, 5);
  }],
  ["silence media from A (PCMU and PCMA)", async (d, { a, b }) => {
    const c = await setupCall(d, a, b);
    await d.ng({ command: "silence media", "call-id": c.callId, "from-tag": "A" });
    await a.burst(c.toA.port, 2, 5, () => a.rtp(0, 0x11));
    await a.burst(c.toA.port, 2, 5, () => a.rtp(8, 0x11));
    await b.burst(c.toB.port, 2, 5, () => b.rtp(0, 0x22));
  }],
  ["silence media from A (G.722)", async (d, { a, b }) => {
    const g722 = (p: { host: string; port: number }) => audioSdp(p.host, p.port).replace("RTP/AVP 0 8 101", "RTP/AVP 9 0 101");
    const c = await setupCall(d, a, b, { offer: { sdp: g722(a) }, answer: { sdp: g722(b) } });
    await d.ng({ command: "silence media", "call-id": c.callId, "from-tag": "A" });
    await a.burst(c.toA.port, 3, 5, () => a.rtp(9, 0x11));
    await b.burst(c.toB.port, 2, 5, () => b.rtp(9, 0x22));
  }],
  ["NAT-wait on B: A's media held until B sent", async (d, { a, b }) => {
    const c = await setupCall(d, a, b, { answer: { flags: ["NAT-wait"] } });
    await a.burst(c.toA.port, 3, 5, () => a.rtp(0, 0x11));
    await settle();
    await b.burst(c.toB.port, 2, 5, () => b.rtp(0, 0x22));
    await settle();
    await a.burst(c.toA.port, 2, 5, () => a.rtp(0, 0x33));
  }],
  ["pierce NAT from A: probes until A sends", async (d, { a, b }) => {
    const c = await setupCall(d, a, b, { offer: { flags: ["pierce NAT"] } });
    const end = Date.now() + 2500;
    while (a.got.length === 0 && Date.now() < end) await Bun.sleep(20);
    a.got.splice(1); // one probe: how many fit in the wait depends on both daemons' timer phase
    await a.burst(c.toA.port, 2, 5, () => a.rtp(0, 0x11));
    await Bun.sleep(1300);
  }],
  ["rtcp-mux towards A only (demux towards B); A2 plays B's RTCP port", async (d, { a, a2, b }) => {
    const callId = `mux-${Date.now()}-${Math.random()}`;
    const rr = (ssrc: number) => {
      const x = Buffer.alloc(8);
      x[0] = 0x80;
      x[1] = 201;
      x.writeUInt16BE(1, 2);
      x.writeUInt32BE(ssrc, 4);
      return x;
    };
    const o = await d.ng({ command: "offer", "call-id": callId, "from-tag": "A", "rtcp-mux": ["demux"], sdp: audioSdp("127.0.0.1", a.port, ["a=rtcp-mux"]) });
    const an = await d.ng({ command: "answer", "call-id": callId, "from-tag": "A", "to-tag": "B", sdp: audioSdp("127.0.0.1", b.port, [`a=rtcp:${a2.port}`]) });
    const toA = mediaOf(an.sdp as string).port, toB = mediaOf(o.sdp as string).port;
    for (let i = 0; i < 2; i++) {
      a.send(toA, rr(a.ssrc));
      a.send(toA);
      a2.send(toB + 1, rr(b.ssrc));
      b.send(toB);
      await Bun.sleep(5);
    }
    await settle();
    await d.ng({ command: "delete", "call-id": callId, "from-tag": "A" });
  }],
  ["media before the answer", async (d, { a, b }) => {
    const callId = `early-${Date.now()}-${Math.random()}`;
    const o = await d.ng({ command: "offer", "call-id": callId, "from-tag": "A", sdp: audioSdp("127.0.0.1", a.port) });
    const toB = mediaOf(o.sdp as string).port;
    await b.burst(toB, 3, 5); // early media from the callee to the offered port
    await settle();
    await d.ng({ command: "delete", "call-id": callId, "from-tag": "A" });
  }],
];

describe("media outcomes match rtpengine 10.5", () => {
  test.each(SCENARIOS)("%s", async (_name, run) => {
    if (!have) return; // skipped, reason stated once above by missing()
    const want = await outcome(ref!.d, run);
    expect(await outcome(ours.fast!, run)).toBe(want);
    expect(await outcome(ours.slow!, run)).toBe(want);
  });
});

describe("learning modes match rtpengine 10.5 (within the 3 s learning window)", () => {
  // A's SDP names phone a; a sends first, then a2 (same address, other port); where does B's media go?
  const order: Scenario = async (d, { a, a2, b }) => {
    const c = await setupCall(d, a, b);
    await a.burst(c.toA.port, 2, 5);
    await settle();
    await a2.burst(c.toA.port, 2, 5);
    await settle();
    await b.burst(c.toB.port, 3, 5);
  };
  for (const mode of ["heuristic", "delayed", "off"]) {
    test(`--endpoint-learning=${mode}`, async () => {
      if (!have) return; // skipped, reason stated once above by missing()
      const ng = await freePort();
      const args = [`--endpoint-learning=${mode}`, "--delete-delay=0"];
      const proc = Bun.spawn([REFERENCE, "--config-file=none", "--table=-1", "--foreground", "-E", "-L", "3", "-i", "127.0.0.1",
        `--listen-ng=127.0.0.1:${ng}`, "--port-min=47500", "--port-max=47999", ...args], { stdout: "ignore", stderr: "ignore" });
      const mine = await spawnDaemon({ args: ["--port-min=46500", "--port-max=46999", ...args] });
      try {
        let up = false;
        for (let i = 0; i < 50 && !up; i++) up = (await rawUdp("127.0.0.1", ng, "up d7:command4:pinge", 100)) !== null;
        expect(up).toBe(true);
        const want = await outcome({ ng: (dict, o) => ngUdp("127.0.0.1", ng, dict, o) }, order);
        const got = await outcome(mine, order);
        if (process.env["MEDIA_DIFF_VERBOSE"]) console.log(mode, want, got);
        expect(got).toBe(want);
      } finally {
        proc.kill("SIGTERM");
        await proc.exited;
        await mine.stop();
      }
    });
  }
});
