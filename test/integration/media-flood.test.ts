// Media flood: a third socket floods one of a call's media ports; the call recovers, the daemon keeps answering,
// and another call keeps flowing during the flood — fast path on and off.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnDaemon, type TestDaemon } from "../helpers/daemon.ts";
import { Phone, setupCall } from "./media-helpers.ts";

const H = "127.0.0.1";

/** A python3 flooder: up to `count` small junk datagrams to host:port, as fast as it can, for at most `secs`. */
const FLOODER = `
import socket, sys, time
host, port, count, secs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
junk = bytes(range(8))
end = time.monotonic() + secs
n = 0
while n < count:
    try:
        s.sendto(junk, (host, port))
    except OSError:
        pass
    n += 1
    if (n & 1023) == 0 and time.monotonic() > end:
        break
print(n, flush=True)
`;

async function flood(port: number, count = 200_000, secs = 2): Promise<number> {
  const p = Bun.spawn(["python3", "-c", FLOODER, H, String(port), String(count), String(secs)], { stdout: "pipe", stderr: "inherit" });
  const killer = setTimeout(() => p.kill(), (secs + 5) * 1000);
  const out = await new Response(p.stdout).text();
  await p.exited;
  clearTimeout(killer);
  return Number(out.trim());
}

const mine = (p: Phone, from: Phone) => p.got.filter((x) => x.data.length === 172 && x.data.readUInt32BE(8) === from.ssrc).length;

async function waitMine(p: Phone, from: Phone, n: number, ms = 2000): Promise<number> {
  const end = Date.now() + ms;
  while (mine(p, from) < n && Date.now() < end) await Bun.sleep(10);
  return mine(p, from);
}

for (const fast of [true, false]) {
  const plane = fast ? "fast path on" : "fast path off";

  describe(`media flood (${plane})`, () => {
    let d: TestDaemon;
    const phones: Phone[] = [];
    const phone = async () => {
      const p = await Phone.open(H);
      phones.push(p);
      return p;
    };

    beforeAll(async () => {
      d = await spawnDaemon({
        args: ["--endpoint-learning=immediate", "--port-min=43000", "--port-max=43999", "--delete-delay=0"],
        env: { RTPENGINE_TS_FASTPATH: fast ? "1" : "0" },
      });
    });
    afterAll(async () => {
      for (const p of phones) p.close();
      await d?.stop();
    });

    test("a flood of one media port: the call recovers, the daemon answers, another call keeps flowing", async () => {
      const a = await phone(), b = await phone(), x = await phone(), y = await phone();
      const c = await setupCall(d, a, b);
      const other = await setupCall(d, x, y);
      // learn both calls both ways
      for (const [s, r, port] of [[a, b, c.toA.port], [b, a, c.toB.port], [x, y, other.toA.port], [y, x, other.toB.port]] as const) {
        await s.burst(port, 5);
        expect(await waitMine(r, s, 5)).toBe(5);
      }
      await Bun.sleep(50);

      // flood the port A sends to, while the other call streams both ways every 5 ms
      let streaming = true;
      let sent = 0;
      const stream = (async () => {
        while (streaming) {
          x.send(other.toA.port);
          y.send(other.toB.port);
          sent++;
          await Bun.sleep(5);
        }
      })();
      const before = [mine(y, x), mine(x, y)];
      const flooded = await flood(c.toA.port);
      streaming = false;
      await stream;
      expect(flooded).toBeGreaterThan(1000);
      expect(sent).toBeGreaterThan(50);
      // the other call was not starved during the flood (allow some loss)
      await waitMine(y, x, before[0]! + sent, 1000);
      expect(mine(y, x) - before[0]!).toBeGreaterThan(sent * 0.5);
      expect(mine(x, y) - before[1]!).toBeGreaterThan(sent * 0.5);

      // within a second or two, the flooded call flows again both ways
      const t0 = Date.now();
      let ok = false;
      let rounds = 0;
      while (!ok && Date.now() - t0 < 3000) {
        a.clear();
        b.clear();
        rounds++;
        await a.burst(c.toA.port, 20, 1);
        await b.burst(c.toB.port, 20, 1);
        ok = (await waitMine(b, a, 20, 500)) >= 18 && (await waitMine(a, b, 20, 500)) >= 18;
      }
      expect(ok).toBe(true);

      // the control plane still answers: ping and a new offer/answer that carries media
      expect(await d.ng({ command: "ping" })).toEqual({ result: "pong" });
      const p = await phone(), q = await phone();
      const c2 = await setupCall(d, p, q);
      await p.burst(c2.toA.port, 5);
      await q.burst(c2.toB.port, 5);
      expect(await waitMine(q, p, 5)).toBe(5);
      expect(await waitMine(p, q, 5)).toBe(5);
      // the flooded call is still there
      const r = await d.ng({ command: "query", "call-id": c.callId });
      expect(r.result).toBe("ok");

      // counters (the fast path's are read once a second): the other call counted what it relayed and no more than
      // was sent; the flooded call counted at least its legitimate packets and at most those plus the flood
      await Bun.sleep(1200);
      const rtp = async (callId: string) =>
        ((await d.ng({ command: "query", "call-id": callId })).totals as { RTP: { packets: number } }).RTP.packets;
      const otherCount = await rtp(other.callId);
      expect(otherCount).toBeGreaterThanOrEqual(mine(y, x) + mine(x, y));
      expect(otherCount).toBeLessThanOrEqual(2 * (5 + sent));
      const floodedCount = await rtp(c.callId);
      expect(floodedCount).toBeGreaterThanOrEqual(10 + mine(b, a) + mine(a, b));
      expect(floodedCount).toBeLessThanOrEqual(flooded + 2 * 5 + 2 * 20 * rounds);
    }, 30_000);
  });
}
