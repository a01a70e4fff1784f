// Integration: once ready, the compiled daemon drops its resident start-up pages (ffi/pages.c) and keeps relaying;
// RTPENGINE_TS_RELEASE_PAGES=0 keeps them.
import { describe, expect, test, setDefaultTimeout } from "bun:test";
import { readFileSync } from "node:fs";
import { BINARY, binaryExists, spawnDaemon, type TestDaemon } from "../helpers/daemon.ts";
import { missing } from "../helpers/requires.ts";
import { Phone, setupCall } from "./media-helpers.ts";

setDefaultTimeout(60_000);

/** RssFile of /proc/PID/status in KiB: resident pages backed by files (the executable, libraries). */
function rssFileKib(pid: number): number {
  const m = /^RssFile:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (!m) throw new Error(`no RssFile for ${pid}`);
  return Number(m[1]);
}

async function waitForLog(d: TestDaemon, re: RegExp, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (re.test(d.log())) return true;
    await Bun.sleep(100);
  }
  return re.test(d.log());
}

const RELEASED = /Released \d+ MiB of start-up pages/;

describe("start-up pages", () => {
  test("are dropped after ready, and calls still relay both ways", async () => {
    if (missing(!binaryExists(), `${BINARY} not built (bun run build)`)) return;
    const d = await spawnDaemon({ runtime: "binary", args: ["--log-level=7", "--port-min=50200", "--port-max=50399"] });
    const a = await Phone.open(), b = await Phone.open();
    try {
      const before = rssFileKib(d.pid);
      expect(await waitForLog(d, RELEASED, 10_000)).toBe(true);
      const after = rssFileKib(d.pid);
      // ~27 MiB of Bun's start-up code and constants go; what the idle daemon uses comes back
      expect(before - after).toBeGreaterThan(10 * 1024);
      const c = await setupCall(d, { host: "127.0.0.1", port: a.port }, { host: "127.0.0.1", port: b.port });
      for (let i = 0; i < 20; i++) {
        a.send(c.toA.port);
        b.send(c.toB.port);
        await Bun.sleep(5);
      }
      expect(await b.waitFor(20)).toBe(20);
      expect(await a.waitFor(20)).toBe(20);
      expect((await d.ng({ command: "ping" })).result).toBe("pong");
    } finally {
      a.close();
      b.close();
      expect(await d.stop()).toBe(0);
    }
  });

  test("RTPENGINE_TS_RELEASE_PAGES=0 keeps them", async () => {
    if (missing(!binaryExists(), `${BINARY} not built (bun run build)`)) return;
    const d = await spawnDaemon({ runtime: "binary", args: ["--log-level=7"], env: { RTPENGINE_TS_RELEASE_PAGES: "0" } });
    try {
      const before = rssFileKib(d.pid);
      expect(await waitForLog(d, RELEASED, 4_000)).toBe(false);
      expect(rssFileKib(d.pid)).toBeGreaterThan(before - 2 * 1024);
    } finally {
      expect(await d.stop()).toBe(0);
    }
  });
});
