// Unit tests of the ng reply cache's eviction order (oldest first, replaced entries moved to the back), across many evictions.
import { expect, test } from "bun:test";
import { NgDispatcher } from "../../src/control/dispatch.ts";
import { registerCommand } from "../../src/control/registry.ts";
import { decodeBencodeDict } from "../../src/control/codec.ts";
import { initLogging } from "../../src/log/logger.ts";

initLogging({ stderr: true, timestamps: false, level: 0 });
const ctx = { transport: "udp" as const, remoteAddress: "127.0.0.1", remotePort: 5000 };

let runs = 0;
registerCommand("x-evict", () => ({ runs: ++runs }));
async function ask(d: NgDispatcher, cookie: string): Promise<number> {
  const r = (await d.handle(Buffer.from(`${cookie} d7:command7:x-evicte`, "latin1"), ctx))!;
  return decodeBencodeDict(r.subarray(r.indexOf(0x20) + 1))["runs"] as number;
}

test("a full cache evicts the oldest replies first, over thousands of evictions", async () => {
  const d = new NgDispatcher({ maxCacheEntries: 100 });
  for (let i = 0; i < 5000; i++) await ask(d, `e${i}`);
  expect(d.cacheSize).toBe(100);
  const before = runs;
  // the newest 100 are answered from the cache, without running the handler
  for (let i = 4900; i < 5000; i++) expect(await ask(d, `e${i}`)).toBeLessThanOrEqual(before);
  expect(runs).toBe(before);
  // an evicted one runs again
  expect(await ask(d, "e0")).toBe(before + 1);
  expect(d.cacheSize).toBe(100);
});

test("expired replies are evicted and the cache keeps answering fresh ones", async () => {
  const d = new NgDispatcher({ cacheTtlMs: 30 });
  for (let i = 0; i < 50; i++) await ask(d, `x${i}`);
  await Bun.sleep(50);
  await ask(d, "fresh");
  expect(d.cacheSize).toBe(1);
  const r = runs;
  expect(await ask(d, "fresh")).toBe(r);
  expect(await ask(d, "x1")).toBe(r + 1);
});

test("expired replies go without new commands: a quiet control plane keeps no replies", async () => {
  // the sweep runs every min(ttl, 10 s): with a 40 ms TTL it has run several times 200 ms later
  const d = new NgDispatcher({ cacheTtlMs: 40 });
  for (let i = 0; i < 50; i++) await ask(d, `q${i}`);
  expect(d.cacheSize).toBe(50);
  await Bun.sleep(200);
  expect(d.cacheSize).toBe(0);
});

test("the sweep does not evict live replies from a cache that is exactly full", async () => {
  // sweep at 1 s; the replies were cached at 0.5 s, so they are live (until 1.5 s) when it runs
  const d = new NgDispatcher({ maxCacheEntries: 10, cacheTtlMs: 1000 });
  await Bun.sleep(500);
  for (let i = 0; i < 10; i++) await ask(d, `f${i}`);
  await Bun.sleep(650);
  expect(d.cacheSize).toBe(10);
});
