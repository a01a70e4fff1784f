// JavaScriptCore heap sizing for the daemon: size the GC heap for a proxy's working set, not for the host's RAM.
//
// JSC grows its heap relative to the machine's RAM: below RAM/4 each collection lets the heap double
// before the next one. On a 24 GB host 2,000 held calls then cost ~44 KiB each of resident memory and
// deleted calls' memory is kept. With the RAM JSC assumes set to 64 MB the heap grows by 1.25x per
// cycle, collections run during setup bursts and freed memory goes back to the system
// (test/bench/memory-bench.ts: ~35 KiB per call, 40 % less memory left after the calls are deleted).
// The option is only read when the VM starts, so the daemon re-executes itself once with it set.
//
// The same re-exec turns off Bun's own idle GC timer (BUN_GC_TIMER_DISABLE): with the heap sized this way it
// ran an eden and a full collection every three seconds while nothing happened, 3.5 % of a core for 4,000
// held calls (test/bench/held-cpu.ts); without it 0.2 %, and the same memory per call (memory-bench held):
// JSC still collects as allocation demands. RTPENGINE_TS_GC_TIMER=on keeps Bun's timer.
//
// It also turns off JSC's top compiler tier, FTL (BUN_JSC_useFTLJIT=0; the DFG tier stays): its compiler code
// and compilations cost 0-3 KiB per held call at 2,000 calls and ~10 MB more under slow-path load, while the
// signalling code it would optimise runs no faster with it (test/bench/ng-setup.ts) and TypeScript's per-packet
// path only ~4 % faster (media-bench --only ours-slow); established streams never run JavaScript.
// RTPENGINE_TS_FTL=on keeps it.
import { isCompiledBinary, runtimeName } from "./runtime.ts";

/** JSC's option, read from the environment at VM creation (Bun maps BUN_JSC_<name>). */
export const HEAP_RAM_ENV = "BUN_JSC_forceRAMSize";
/** Operators' override: a byte count, or "0"/"host" for JSC's own sizing from the host's RAM. */
export const HEAP_RAM_OVERRIDE = "RTPENGINE_TS_HEAP_RAM";
const DEFAULT_RAM = 64 * 1024 * 1024;

/** Bun's idle GC timer: off unless the operator keeps it or set Bun's own variables. */
export const GC_TIMER_ENV = "BUN_GC_TIMER_DISABLE";
export const GC_TIMER_OVERRIDE = "RTPENGINE_TS_GC_TIMER";

/** JSC's FTL tier: off unless the operator keeps it or set JSC's own variable. */
export const FTL_ENV = "BUN_JSC_useFTLJIT";
export const FTL_OVERRIDE = "RTPENGINE_TS_FTL";

/** The value of BUN_JSC_useFTLJIT to run with, or null to leave it as the environment says. */
export function ftlSetting(env: Record<string, string | undefined>): string | null {
  if (env[FTL_ENV] !== undefined || env[FTL_OVERRIDE] === "on") return null;
  return "0";
}

/** The value of BUN_GC_TIMER_DISABLE to run with, or null to leave Bun's timer as the environment says. */
export function gcTimerSetting(env: Record<string, string | undefined>): string | null {
  if (env[GC_TIMER_ENV] !== undefined || env["BUN_GC_TIMER_INTERVAL"] !== undefined) return null;
  if (env[GC_TIMER_OVERRIDE] === "on") return null;
  return "1";
}

/** The value to run with, or null to leave JSC's default (already set, or turned off). */
export function heapRamSetting(env: Record<string, string | undefined>): string | null {
  if (env[HEAP_RAM_ENV] !== undefined) return null;
  const o = env[HEAP_RAM_OVERRIDE];
  if (o === "0" || o === "host") return null;
  if (o !== undefined && /^\d+$/.test(o) && Number(o) >= 16 * 1024 * 1024) return o;
  return String(DEFAULT_RAM);
}

/**
 * Re-execute this process (same pid, argv and environment) with the heap option, the GC timer and FTL switches set,
 * when they are not set yet. Returns only when no re-exec happened (not Bun, options present or off, execve refused).
 */
export function applyHeapSizing(): void {
  if (runtimeName() !== "bun") return;
  const value = heapRamSetting(process.env);
  const gcTimer = gcTimerSetting(process.env);
  const ftl = ftlSetting(process.env);
  if (value === null && gcTimer === null && ftl === null) return;
  const execve = (process as { execve?: (file: string, args: string[], env: Record<string, string>) => never }).execve;
  if (typeof execve !== "function") return;
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  if (value !== null) env[HEAP_RAM_ENV] = value;
  if (gcTimer !== null) env[GC_TIMER_ENV] = gcTimer;
  if (ftl !== null) env[FTL_ENV] = ftl;
  // argv0 is kept (the rtpengine-ctl personality and `ps` see the name the user ran); a compiled binary
  // takes the user's arguments right after it, bun running the source takes its flags and the script first
  const args = isCompiledBinary()
    ? [process.argv0, ...process.argv.slice(2)]
    : [process.argv0, ...process.execArgv, ...process.argv.slice(1)];
  try {
    execve.call(process, process.execPath, args, env);
  } catch {
    /* cannot re-exec: run on with JSC's default sizing */
  }
}
