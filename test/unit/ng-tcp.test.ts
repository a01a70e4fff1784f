// Unit tests of the ng TCP transport: messages split across segments, replies in order, broadcast to connected proxies.
import { afterAll, beforeAll, expect, test } from "bun:test";
import net from "node:net";
import { NgDispatcher } from "../../src/control/dispatch.ts";
import { registerCommand } from "../../src/control/registry.ts";
import { broadcastNgTcp, listenNgTcp } from "../../src/control/tcp.ts";
import type { BoundListener } from "../../src/control/udp.ts";
import { initLogging } from "../../src/log/logger.ts";

initLogging({ stderr: true, timestamps: false, level: 0 });
let l: BoundListener;
beforeAll(async () => {
  l = await listenNgTcp({ address: "127.0.0.1", port: 0, family: 4 }, new NgDispatcher());
});
afterAll(async () => {
  await l.close();
});

function connect(): Promise<{ sock: net.Socket; read: (n: number) => Promise<string> }> {
  return new Promise((res) => {
    const sock = net.connect(l.port, "127.0.0.1", () => {
      let buf = "";
      const waiters: Array<() => void> = [];
      sock.on("data", (d) => {
        buf += d.toString("latin1");
        waiters.splice(0).forEach((w) => w());
      });
      const read = async (n: number) => {
        while (buf.length < n) await new Promise<void>((r) => waiters.push(r));
        const out = buf.slice(0, n);
        buf = buf.slice(n);
        return out;
      };
      res({ sock, read });
    });
  });
}

test("a message split over several segments is reassembled", async () => {
  const { sock, read } = await connect();
  for (const part of ["s1 d7:com", "mand4:pi", "nge"]) {
    sock.write(part);
    await Bun.sleep(10);
  }
  expect(await read(19)).toBe("s1 d6:result4:ponge");
  sock.destroy();
});

test("replies keep request order even when a later request finishes first", async () => {
  registerCommand("x-tcp-slow", async () => {
    await Bun.sleep(50);
    return { n: 1 };
  });
  const { sock, read } = await connect();
  sock.write("o1 d7:command10:x-tcp-slowe" + "o2 d7:command4:pinge");
  expect(await read(42)).toBe("o1 d1:ni1e6:result2:oke" + "o2 d6:result4:ponge");
  sock.destroy();
});

test("broadcastNgTcp reaches every connected client", async () => {
  const a = await connect();
  const b = await connect();
  await Bun.sleep(20);
  expect(broadcastNgTcp({ event: "DTMF", digit: "5" })).toBeGreaterThanOrEqual(2);
  const expected = "d5:digit1:55:event4:DTMFe";
  expect(await a.read(expected.length)).toBe(expected);
  expect(await b.read(expected.length)).toBe(expected);
  a.sock.destroy();
  b.sock.destroy();
});
