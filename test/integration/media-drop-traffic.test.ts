// `drop-traffic start` / `drop-traffic stop` on offer/answer: all media of the whole call is dropped, then flows again —
// fast path on and off.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { parseCallFlags } from "../../src/call/flags.ts";
import { spawnDaemon, type TestDaemon } from "../helpers/daemon.ts";
import { audioSdp, mediaOf, Phone, setupCall } from "./media-helpers.ts";

const H = "127.0.0.1";

test("drop-traffic: start / stop, stop has priority, other values ignored", () => {
  const f = (v: unknown) => parseCallFlags({ command: "offer", "call-id": "x", "from-tag": "A", "drop-traffic": v } as never).dropTraffic;
  expect(f("start")).toBe("start");
  expect(f("stop")).toBe("stop");
  expect(f(["start", "stop"])).toBe("stop");
  expect(f("sideways")).toBe(null);
  expect(parseCallFlags({ command: "offer", "call-id": "x", "from-tag": "A" }).dropTraffic).toBe(null);
  expect(parseCallFlags({ command: "offer", "call-id": "x", "from-tag": "A", "drop traffic": "start" }).dropTraffic).toBe("start");
});

for (const fast of [true, false]) {
  const plane = fast ? "fast path on" : "fast path off";

  describe(`drop-traffic (${plane})`, () => {
    let d: TestDaemon;
    const phones: Phone[] = [];
    const phone = async () => {
      const p = await Phone.open(H);
      phones.push(p);
      return p;
    };

    beforeAll(async () => {
      d = await spawnDaemon({
        args: ["--endpoint-learning=immediate", "--port-min=44000", "--port-max=44999", "--delete-delay=0"],
        env: { RTPENGINE_TS_FASTPATH: fast ? "1" : "0" },
      });
    });
    afterAll(async () => {
      for (const p of phones) p.close();
      await d?.stop();
    });

    test("start in a re-offer drops the call's media both ways; stop in a re-answer lets it flow again", async () => {
      const a = await phone(), b = await phone();
      const c = await setupCall(d, a, b);
      await a.burst(c.toA.port, 5);
      await b.burst(c.toB.port, 5);
      expect(await b.waitFor(5)).toBe(5);
      expect(await a.waitFor(5)).toBe(5);
      await Bun.sleep(50);
      await a.burst(c.toA.port, 50, 1); // the fast path takes it when enabled
      expect(await b.waitFor(55)).toBe(55);

      const o = await d.ng({ command: "offer", "call-id": c.callId, "from-tag": "A", sdp: audioSdp(H, a.port), "drop-traffic": "start" });
      expect(o.result).toBe("ok");
      expect(mediaOf(o.sdp as string).port).toBe(c.toB.port);
      await Bun.sleep(50);
      a.clear();
      b.clear();
      await a.burst(c.toA.port, 30, 1);
      await b.burst(c.toB.port, 30, 1);
      await Bun.sleep(300);
      expect(b.got.length).toBe(0);
      expect(a.got.length).toBe(0);
      // dropped packets are still received (counted)
      await Bun.sleep(1200);
      const q = await d.ng({ command: "query", "call-id": c.callId });
      expect((q.totals as { RTP: { packets: number } }).RTP.packets).toBe(5 + 5 + 50 + 30 + 30);

      // `stop` in the answer (to the re-offer): the whole call flows again
      const an = await d.ng({ command: "answer", "call-id": c.callId, "from-tag": "A", "to-tag": "B", sdp: audioSdp(H, b.port), "drop-traffic": "stop" });
      expect(an.result).toBe("ok");
      await Bun.sleep(50);
      await a.burst(c.toA.port, 20, 1);
      await b.burst(c.toB.port, 20, 1);
      expect(await b.waitFor(20)).toBe(20);
      expect(await a.waitFor(20)).toBe(20);
    });

    test("a re-offer without drop-traffic leaves it on; another call is unaffected", async () => {
      const a = await phone(), b = await phone(), x = await phone(), y = await phone();
      const c = await setupCall(d, a, b, { offer: { "drop-traffic": "start" } });
      const other = await setupCall(d, x, y);
      await d.ng({ command: "offer", "call-id": c.callId, "from-tag": "A", sdp: audioSdp(H, a.port) });
      await a.burst(c.toA.port, 10, 1);
      await b.burst(c.toB.port, 10, 1);
      await x.burst(other.toA.port, 10, 1);
      await y.burst(other.toB.port, 10, 1);
      expect(await y.waitFor(10)).toBe(10);
      expect(await x.waitFor(10)).toBe(10);
      await Bun.sleep(200);
      expect(a.got.length + b.got.length).toBe(0);
    });
  });
}
