// Integration: the same daemon source runs under Deno (node:dgram, node:net, signals) and answers ping and malformed input.
import { describe, expect, test, setDefaultTimeout } from "bun:test";
import { existsSync } from "node:fs";
import { DENO, splitReply, spawnDaemon } from "../helpers/daemon.ts";
import { missing } from "../helpers/requires.ts";

// daemons start in ~1 s (shim, media plane) but much slower on a loaded CI box
setDefaultTimeout(30_000);

describe("daemon under Deno", () => {
  test("answers ping (UDP, TCP, HTTP, WebSocket), a malformed request, the CLI, SIGUSR1, and exits 0 on SIGTERM", async () => {
    if (missing(!existsSync(DENO), `${DENO} not installed (scripts/setup-test-deps.sh puts it in .cache/deno)`)) return;
    // Deno type-checks nothing here but compiles the graph on first start: allow it time
    const d = await spawnDaemon({ runtime: "deno", cli: true, tcpNg: true, http: true, startTimeout: 60000 });
    try {
      expect(await d.ng({ command: "ping" })).toEqual({ result: "pong" });
      expect(await d.ng({ command: "ping" }, { transport: "tcp" })).toEqual({ result: "pong" });
      const bad = await d.rawUdp("dn1 d3:fooi1ee");
      expect(splitReply(bad!).dict).toEqual({ result: "error", "error-reason": 'Dictionary contains no key "command"' });
      expect(await d.rawUdp("no-cookie-here", 300)).toBeNull();
      expect(await d.ng({ command: "ping" })).toEqual({ result: "pong" });
      const r = await fetch(`http://127.0.0.1:${d.httpPort}/ng`, { method: "POST", body: "dh1 d7:command4:pinge" });
      expect(await r.text()).toBe("dh1 d6:result4:ponge");
      const ws = new WebSocket(`ws://127.0.0.1:${d.httpPort}/`, "ng.rtpengine.com");
      const viaWs = await new Promise<string>((res, rej) => {
        ws.onopen = () => ws.send("dw1 d7:command4:pinge");
        ws.onmessage = (ev) => res(String(ev.data));
        ws.onerror = () => rej(new Error("ws error"));
        setTimeout(() => rej(new Error("ws timeout")), 3000);
      });
      ws.close();
      expect(viaWs).toBe("dw1 d6:result4:ponge");
      d.kill("SIGUSR1");
      await Bun.sleep(200);
      expect(await d.cli("get loglevel core")).toBe("5\n");
      expect(d.log()).toContain(" on deno ");
    } finally {
      expect(await d.stop()).toBe(0);
    }
  }, 90000);
});
