// heapRamSetting: the JSC heap option the daemon re-executes with, and the operator's ways to turn it off.
import { expect, test } from "bun:test";
import { FTL_ENV, FTL_OVERRIDE, GC_TIMER_ENV, GC_TIMER_OVERRIDE, HEAP_RAM_ENV, HEAP_RAM_OVERRIDE, ftlSetting, gcTimerSetting, heapRamSetting } from "../../src/platform/heap-sizing.ts";

test("64 MB by default", () => {
  expect(heapRamSetting({})).toBe(String(64 * 1024 * 1024));
});

test("already set (e.g. after the re-exec, or by the operator): nothing to do, so no exec loop", () => {
  expect(heapRamSetting({ [HEAP_RAM_ENV]: "123456789" })).toBeNull();
});

test("RTPENGINE_TS_HEAP_RAM: 0 or host leaves JSC's own sizing, a byte count replaces the default", () => {
  expect(heapRamSetting({ [HEAP_RAM_OVERRIDE]: "0" })).toBeNull();
  expect(heapRamSetting({ [HEAP_RAM_OVERRIDE]: "host" })).toBeNull();
  expect(heapRamSetting({ [HEAP_RAM_OVERRIDE]: "268435456" })).toBe("268435456");
  // nonsense or too small to hold a daemon: the default
  expect(heapRamSetting({ [HEAP_RAM_OVERRIDE]: "1k" })).toBe(String(64 * 1024 * 1024));
  expect(heapRamSetting({ [HEAP_RAM_OVERRIDE]: "1000" })).toBe(String(64 * 1024 * 1024));
});

test("Bun's idle GC timer is turned off unless the operator keeps it or set Bun's variables", () => {
  expect(gcTimerSetting({})).toBe("1");
  expect(gcTimerSetting({ [GC_TIMER_ENV]: "1" })).toBeNull(); // the re-executed process: nothing more to do
  expect(gcTimerSetting({ [GC_TIMER_ENV]: "0" })).toBeNull();
  expect(gcTimerSetting({ BUN_GC_TIMER_INTERVAL: "5000" })).toBeNull();
  expect(gcTimerSetting({ [GC_TIMER_OVERRIDE]: "on" })).toBeNull();
});

test("JSC's FTL tier is turned off unless the operator keeps it or set JSC's variable", () => {
  expect(ftlSetting({})).toBe("0");
  expect(ftlSetting({ [FTL_ENV]: "0" })).toBeNull(); // the re-executed process
  expect(ftlSetting({ [FTL_ENV]: "1" })).toBeNull();
  expect(ftlSetting({ [FTL_OVERRIDE]: "on" })).toBeNull();
});
