// Integration: the same daemon source runs under Deno (node:dgram, node:net, signals) and answers ping and malformed input.
import { describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { DENO, splitReply, spawnDaemon } from "../helpers/daemon.ts";

describe("daemon under Deno", () => {
  test("answers ping, a malformed request, the CLI, and exits 0 on SIGTERM", async () => {
    if (!existsSync(DENO)) {
      console.warn(`skipped: ${DENO} not installed (npm dependency "deno")`);
      return;
    }
    // Deno type-checks nothing here but compiles the graph on first start: allow it time
    const d = await spawnDaemon({ runtime: "deno", cli: true, tcpNg: true, startTimeout: 60000 });
    try {
      expect(await d.ng({ command: "ping" })).toEqual({ result: "pong" });
      expect(await d.ng({ command: "ping" }, { transport: "tcp" })).toEqual({ result: "pong" });
      const bad = await d.rawUdp("dn1 d3:fooi1ee");
      expect(splitReply(bad!).dict).toEqual({ result: "error", "error-reason": 'Dictionary contains no key "command"' });
      expect(await d.rawUdp("no-cookie-here", 300)).toBeNull();
      expect(await d.ng({ command: "ping" })).toEqual({ result: "pong" });
      d.kill("SIGUSR1");
      await Bun.sleep(200);
      expect(await d.cli("get loglevel core")).toBe("5\n");
      expect(d.log()).toContain(" on deno ");
    } finally {
      expect(await d.stop()).toBe(0);
    }
  }, 90000);
});
