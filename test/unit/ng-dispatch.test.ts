// Unit tests of the ng dispatcher: built-in ping, reply cache per cookie, case-sensitive commands, errors never escape.
import { describe, expect, test } from "bun:test";
import { NgDispatcher } from "../../src/control/dispatch.ts";
import { DOCUMENTED_NG_COMMANDS } from "../../src/control/known.ts";
import { lookupCommand, registerCommand } from "../../src/control/registry.ts";
import { controlCounters, controlStatistics } from "../../src/control/stats.ts";
import { NgError, type NgDict } from "../../src/control/types.ts";
import { decodeBencodeDict } from "../../src/control/codec.ts";
import { initLogging } from "../../src/log/logger.ts";

initLogging({ stderr: true, timestamps: false, level: 0 });
const ctx = { transport: "udp" as const, remoteAddress: "127.0.0.1", remotePort: 5000 };

async function ask(d: NgDispatcher, msg: string): Promise<NgDict | null> {
  const r = await d.handle(Buffer.from(msg, "latin1"), ctx);
  if (!r) return null;
  const sp = r.indexOf(0x20);
  expect(r.subarray(0, sp).toString()).toBe(msg.slice(0, msg.indexOf(" ")));
  return decodeBencodeDict(r.subarray(sp + 1));
}

describe("NgDispatcher", () => {
  test("ping answers pong", async () => {
    expect(await ask(new NgDispatcher(), "a1 d7:command4:pinge")).toEqual({ result: "pong" });
  });

  test("a retransmitted cookie is answered from the cache without running the handler again", async () => {
    let runs = 0;
    registerCommand("x-count", () => ({ runs: ++runs }));
    const d = new NgDispatcher();
    const before = controlCounters.retransmissions;
    expect(await ask(d, "rc1 d7:command7:x-counte")).toEqual({ result: "ok", runs: 1 });
    expect(await ask(d, "rc1 d7:command7:x-counte")).toEqual({ result: "ok", runs: 1 });
    expect(await ask(d, "rc2 d7:command7:x-counte")).toEqual({ result: "ok", runs: 2 });
    expect(runs).toBe(2);
    expect(controlCounters.retransmissions - before).toBe(1);
  });

  test("a retransmission arriving while the first is still running waits for the same reply", async () => {
    let runs = 0;
    let release!: () => void;
    registerCommand("x-slow", () => new Promise<NgDict>((r) => (release = () => r({ runs: ++runs }))));
    const d = new NgDispatcher();
    const first = ask(d, "sl1 d7:command6:x-slowe");
    const second = ask(d, "sl1 d7:command6:x-slowe");
    await Bun.sleep(5);
    release();
    expect(await first).toEqual({ result: "ok", runs: 1 });
    expect(await second).toEqual({ result: "ok", runs: 1 });
    expect(runs).toBe(1);
  });

  test("cache entries expire", async () => {
    let runs = 0;
    registerCommand("x-exp", () => ({ runs: ++runs }));
    const d = new NgDispatcher({ cacheTtlMs: 20 });
    await ask(d, "ex1 d7:command5:x-expe");
    await Bun.sleep(40);
    expect(await ask(d, "ex1 d7:command5:x-expe")).toEqual({ result: "ok", runs: 2 });
  });

  test("the cache is bounded by entries and by bytes", async () => {
    const d = new NgDispatcher({ maxCacheEntries: 10 });
    for (let i = 0; i < 50; i++) await ask(d, `cb${i} d7:command4:pinge`);
    expect(d.cacheSize).toBeLessThanOrEqual(10);
    const small = new NgDispatcher({ maxCacheBytes: 100 });
    for (let i = 0; i < 50; i++) await ask(small, `cs${i} d7:command4:pinge`);
    // each reply is about 20 bytes
    expect(small.cacheSize).toBeLessThanOrEqual(5);
    expect(small.cacheSize).toBeGreaterThan(0);
  });

  test("NgError becomes error-reason; other exceptions become 'internal error' and the dispatcher keeps working", async () => {
    registerCommand("x-ngerr", () => {
      throw new NgError("Unknown call-ID");
    });
    registerCommand("x-boom", () => {
      throw new TypeError("cannot read properties of undefined");
    });
    const d = new NgDispatcher();
    expect(await ask(d, "e1 d7:command7:x-ngerre")).toEqual({ result: "error", "error-reason": "Unknown call-ID" });
    const before = controlCounters.internalErrors;
    expect(await ask(d, "e2 d7:command6:x-boome")).toEqual({ result: "error", "error-reason": "internal error" });
    expect(controlCounters.internalErrors).toBe(before + 1);
    expect(await ask(d, "e3 d7:command4:pinge")).toEqual({ result: "pong" });
  });

  test("documented but unbuilt commands say 'not implemented'; unknown ones 'Unrecognized command'", async () => {
    const d = new NgDispatcher();
    const unbuilt = DOCUMENTED_NG_COMMANDS.find((c) => !lookupCommand(c));
    if (unbuilt) {
      const msg = `n1 d7:command${unbuilt.length}:${unbuilt}e`;
      expect(await ask(d, msg)).toEqual({ result: "error", "error-reason": `${unbuilt} not implemented` });
    } else {
      console.warn("skipped the 'not implemented' half: every documented command has a handler in this process");
    }
    expect(await ask(d, "n2 d7:command5:bogose")).toEqual({ result: "error", "error-reason": "Unrecognized command" });
  });

  test("command names are case-sensitive, as in rtpengine", async () => {
    const d = new NgDispatcher();
    expect(await ask(d, "k1 d7:command4:PINGe")).toEqual({ result: "error", "error-reason": "Unrecognized command" });
    expect(await ask(d, "k2 d7:command9:play dtmfe")).toEqual({ result: "error", "error-reason": "Unrecognized command" });
    // a command outside the docs is matched in the spelling it was registered with
    registerCommand("x-Case", () => ({}));
    expect(await ask(d, "k3 d7:command6:x-casee")).toEqual({ result: "error", "error-reason": "Unrecognized command" });
    expect(await ask(d, "k4 d7:command6:x-Casee")).toEqual({ result: "ok" });
  });

  test("controlstatistics: per proxy and totals, in rtpengine's key names", async () => {
    const d = new NgDispatcher();
    const before = controlStatistics();
    await d.handle(Buffer.from("cs1 d7:command4:pinge"), { ...ctx, remoteAddress: "192.0.2.7" });
    await d.handle(Buffer.from("cs2 li1ee"), { ...ctx, remoteAddress: "192.0.2.7" });
    const after = controlStatistics();
    expect(after["totalpingcount"]).toBe((before["totalpingcount"] as number) + 1);
    const p = (after["proxies"] as NgDict[]).find((x) => x["proxy"] === "192.0.2.7")!;
    expect(p["pingcount"]).toBe(1);
    expect(p["errorcount"]).toBe(1);
    expect(p["blkdtmfcount"]).toBe(0);
    expect(typeof p["pingduration"]).toBe("string");
  });

  test("while held (startup), requests wait instead of being refused", async () => {
    const d = new NgDispatcher();
    d.hold();
    let answered = false;
    const p = ask(d, "h1 d7:command4:pinge").then((r) => ((answered = true), r));
    await Bun.sleep(20);
    expect(answered).toBe(false);
    d.release();
    expect(await p).toEqual({ result: "pong" });
  });

  test("no cookie: dropped and counted", async () => {
    const before = controlCounters.dropped;
    expect(await new NgDispatcher().handle(Buffer.from("garbage"), ctx)).toBeNull();
    expect(controlCounters.dropped).toBe(before + 1);
  });
});
