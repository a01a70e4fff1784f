// Unit tests of the daemon lifecycle core: requests held until open(), pidfile, a hanging shutdown step cannot block exit.
import { expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Config } from "../../src/config/types.ts";
import { startDaemon } from "../../src/control/daemon.ts";
import { initLogging } from "../../src/log/logger.ts";
import { ngUdp } from "../helpers/daemon.ts";

initLogging({ stderr: true, timestamps: false, level: 0 });

function config(pidfile: string): Config {
  return {
    listenNg: [{ address: "127.0.0.1", port: 0, family: 4 }], listenTcpNg: [], listenCli: null, listenHttp: [], listenHttps: [],
    pidfile, timeout: 60, maxSessions: -1, deleteDelay: 30,
  } as unknown as Config;
}

test("held until open(); pidfile written and removed; a hanging shutdown step is cut off", async () => {
  const pidfile = join(mkdtempSync(join(tmpdir(), "rtpe-d-")), "pid");
  const d = await startDaemon(config(pidfile), { onShutdown: [() => new Promise<void>(() => undefined)], shutdownStepMs: 200 });
  expect(readFileSync(pidfile, "utf8")).toBe(`${process.pid}\n`);
  const port = d.listeners[0]!.port;
  let answered = false;
  const ping = ngUdp("127.0.0.1", port, { command: "ping" }).then((r) => ((answered = true), r));
  await Bun.sleep(50);
  expect(answered).toBe(false);
  d.open();
  expect(await ping).toEqual({ result: "pong" });
  const t0 = Date.now();
  expect(await d.shutdown("test")).toBe(0);
  expect(Date.now() - t0).toBeLessThan(2000);
  expect(existsSync(pidfile)).toBe(false);
  expect(await d.finished).toBe(0);
});
