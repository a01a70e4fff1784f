// The shim's forwarding engines: io_uring (default where the kernel allows it) and epoll (the fallback,
// RTPE_SHIM_ENGINE=epoll) relay the same media through the fast path: order per stream, large datagrams,
// ports freed on delete and reusable at once; the daemon really runs the engine asked for.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, readlinkSync } from "node:fs";
import { spawnDaemon, type TestDaemon } from "../helpers/daemon.ts";
import { uringAvailable } from "../helpers/uring.ts";
import { Phone, portFree, setupCall } from "./media-helpers.ts";

const H = "127.0.0.1";

function uringRings(pid: number): number {
  let n = 0;
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      if (readlinkSync(`/proc/${pid}/fd/${fd}`) === "anon_inode:[io_uring]") n++;
    } catch {
      // closed meanwhile
    }
  }
  return n;
}

const ssrcOf = (b: Buffer) => b.readUInt32BE(8);

for (const [i, engine] of (["uring", "epoll"] as const).entries()) {
  describe(`forwarding engine ${engine}`, () => {
    let d: TestDaemon;
    const phones: Phone[] = [];
    const phone = async () => {
      const p = await Phone.open(H);
      phones.push(p);
      return p;
    };

    beforeAll(async () => {
      const base = 44000 + i * 1000;
      d = await spawnDaemon({
        args: ["--endpoint-learning=immediate", `--port-min=${base}`, `--port-max=${base + 999}`, "--delete-delay=0", "--num-threads=2"],
        env: { RTPENGINE_TS_FASTPATH: "1", RTPE_SHIM_ENGINE: engine },
      });
    });
    afterAll(async () => {
      for (const p of phones) p.close();
      await d?.stop();
    });

    test("runs the engine asked for: one io_uring per receive thread, or none", () => {
      expect(uringRings(d.pid)).toBe(engine === "uring" && uringAvailable() ? 2 : 0);
    });

    test("several calls both ways: every packet arrives, in order per stream; large datagrams intact", async () => {
      const calls = [];
      for (let k = 0; k < 4; k++) {
        const a = await phone(), b = await phone();
        calls.push({ a, b, c: await setupCall(d, a, b) });
      }
      // learn, then let the rules reach the fast path
      for (const { a, b, c } of calls) {
        await a.burst(c.toA.port, 3, 1);
        await b.burst(c.toB.port, 3, 1);
      }
      await Bun.sleep(300);
      for (const { a, b } of calls) (a.clear(), b.clear());
      for (let n = 0; n < 100; n++) {
        for (const { a, b, c } of calls) {
          a.send(c.toA.port);
          b.send(c.toB.port);
        }
        if (n % 10 === 9) await Bun.sleep(2);
      }
      for (const { a, b } of calls) {
        expect(await b.waitFor(100)).toBe(100);
        expect(await a.waitFor(100)).toBe(100);
        for (const [rx, tx] of [[b, a], [a, b]] as const) {
          expect(rx.got.every((g) => ssrcOf(g.data) === tx.ssrc)).toBe(true);
          const seqs = rx.got.map((g) => g.data.readUInt16BE(2));
          expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
        }
      }
      // one socket's buffer must take a whole datagram: 9000 (jumbo) and 65000 bytes
      const { a, b, c } = calls[0]!;
      b.clear();
      for (const size of [9000, 65000]) {
        const big = Buffer.alloc(size, size & 0xff);
        a.rtp().copy(big, 0, 0, 12);
        for (let k = 12; k < size; k += 997) big[k] = k & 0xff;
        a.send(c.toA.port, big);
      }
      expect(await b.waitFor(2)).toBe(2);
      expect(b.got.map((g) => g.data.length)).toEqual([9000, 65000]);
      for (const g of b.got) {
        const want = Buffer.alloc(g.data.length, g.data.length & 0xff);
        g.data.copy(want, 0, 0, 12);
        for (let k = 12; k < g.data.length; k += 997) want[k] = k & 0xff;
        expect(g.data.equals(want)).toBe(true);
      }
    }, 20_000);

    test("delete frees the call's ports at once (a receive in flight is cancelled) and media still flows elsewhere", async () => {
      const a = await phone(), b = await phone(), x = await phone(), y = await phone();
      const c = await setupCall(d, a, b);
      const other = await setupCall(d, x, y);
      await a.burst(c.toA.port, 5, 1);
      await b.burst(c.toB.port, 5, 1);
      expect(await b.waitFor(5)).toBe(5);
      expect(await a.waitFor(5)).toBe(5);
      expect((await d.ng({ command: "delete", "call-id": c.callId, "from-tag": "A" })).result).toBe("ok");
      const end = Date.now() + 1000;
      let free = false;
      while (!free && Date.now() < end) {
        free = (await portFree(H, c.toA.port)) && (await portFree(H, c.toB.port));
        if (!free) await Bun.sleep(5);
      }
      expect(free).toBe(true);
      await x.burst(other.toA.port, 5, 1);
      await y.burst(other.toB.port, 5, 1);
      expect(await y.waitFor(5)).toBe(5);
      expect(await x.waitFor(5)).toBe(5);
    }, 20_000);
  });
}
