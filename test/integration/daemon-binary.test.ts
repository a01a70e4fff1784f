// Integration: the compiled single binary (dist/rtpengine) starts, answers ng, and shuts down cleanly.
import { describe, expect, test, setDefaultTimeout } from "bun:test";
import { BINARY, binaryExists, splitReply, spawnDaemon } from "../helpers/daemon.ts";
import { missing } from "../helpers/requires.ts";

// daemons start in ~1 s (shim, media plane) but much slower on a loaded CI box
setDefaultTimeout(30_000);

describe("dist/rtpengine", () => {
  test("answers ping and a malformed request, reports the CLI log level, exits 0 on SIGTERM", async () => {
    if (missing(!binaryExists(), `${BINARY} not built (bun run build)`)) return;
    const d = await spawnDaemon({ runtime: "binary", cli: true, tcpNg: true });
    try {
      expect(await d.ng({ command: "ping" })).toEqual({ result: "pong" });
      expect(await d.ng({ command: "ping" }, { transport: "tcp" })).toEqual({ result: "pong" });
      expect(splitReply((await d.rawUdp("bin1 li1ee"))!).dict).toEqual({ result: "error", "error-reason": "Invalid NG data format" });
      expect(await d.cli("get loglevel core")).toBe("6\n");
    } finally {
      expect(await d.stop()).toBe(0);
    }
  });
});
