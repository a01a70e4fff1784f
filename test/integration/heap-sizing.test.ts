// Integration: the compiled daemon re-executes itself once with its heap sizing and Bun's idle GC timer off
// (src/platform/heap-sizing.ts), and the operator's switches keep Bun's behaviour.
import { expect, test, setDefaultTimeout } from "bun:test";
import { readFileSync } from "node:fs";
import { BINARY, binaryExists, spawnDaemon } from "../helpers/daemon.ts";
import { missing } from "../helpers/requires.ts";

setDefaultTimeout(30_000);

/** The environment the running process was started with (after its re-exec: same pid). */
function environ(pid: number): Map<string, string> {
  const m = new Map<string, string>();
  for (const kv of readFileSync(`/proc/${pid}/environ`, "latin1").split("\0")) {
    const i = kv.indexOf("=");
    if (i > 0) m.set(kv.slice(0, i), kv.slice(i + 1));
  }
  return m;
}

test("runs with the 64 MB heap sizing, Bun's idle GC timer off and JSC's FTL tier off", async () => {
  if (missing(!binaryExists(), `${BINARY} not built (bun run build)`)) return;
  const d = await spawnDaemon({ runtime: "binary" });
  try {
    const env = environ(d.pid);
    expect(env.get("BUN_JSC_forceRAMSize")).toBe(String(64 * 1024 * 1024));
    expect(env.get("BUN_GC_TIMER_DISABLE")).toBe("1");
    expect(env.get("BUN_JSC_useFTLJIT")).toBe("0");
    expect(await d.ng({ command: "ping" })).toEqual({ result: "pong" });
  } finally {
    await d.stop();
  }
});

test("RTPENGINE_TS_GC_TIMER=on keeps Bun's timer, RTPENGINE_TS_HEAP_RAM=host JSC's sizing, RTPENGINE_TS_FTL=on the FTL tier", async () => {
  if (missing(!binaryExists(), `${BINARY} not built (bun run build)`)) return;
  const d = await spawnDaemon({ runtime: "binary", env: { RTPENGINE_TS_GC_TIMER: "on", RTPENGINE_TS_HEAP_RAM: "host", RTPENGINE_TS_FTL: "on" } });
  try {
    const env = environ(d.pid);
    expect(env.has("BUN_GC_TIMER_DISABLE")).toBe(false);
    expect(env.has("BUN_JSC_forceRAMSize")).toBe(false);
    expect(env.has("BUN_JSC_useFTLJIT")).toBe(false);
    expect(await d.ng({ command: "ping" })).toEqual({ result: "pong" });
  } finally {
    await d.stop();
  }
});
