// Conformance runner: replays /work/shared/conformance/*.json against a daemon, one network namespace per file.
//
//   bun test/conformance/run.ts [--daemon CMD] [--file NAME]... [--verbose] [--json] [--timeout MS]
//                               [--call LINE]... [--no-exclusions | --skip-excluded] [--log-dir DIR]
//
// The outer process (root) makes the namespace and re-executes this file inside it with
// --inner; the inner process starts the daemon, replays the file and prints a JSON result.
import { readFileSync, readdirSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { tmpdir } from "node:os";
import { parseArgs } from "node:util";
import { NgClient, waitForPing } from "./ng-client.ts";
import { countedSteps, emptyResult, replayFile, type FileResult, type StepResult, type VectorFile } from "./replay.ts";
import { daemonMissing, startDaemon } from "./daemon.ts";
import { cleanupOnExit, createNetns, destroyNetns, interfaceAddresses, isAllowedAddress, nsName } from "./netns.ts";

const VECTORS = process.env.CONFORMANCE_DIR ?? "/work/shared/conformance";
const HERE = import.meta.dir;

const { values: opt } = parseArgs({
  args: Bun.argv.slice(2),
  options: {
    daemon: { type: "string", default: "bun src/main.ts" },
    file: { type: "string", multiple: true },
    call: { type: "string", multiple: true }, // only calls containing this line (call or step line)
    verbose: { type: "boolean", short: "v", default: false },
    json: { type: "boolean", default: false },
    "no-exclusions": { type: "boolean", default: false }, // count excluded calls like all others
    "skip-excluded": { type: "boolean", default: false }, // do not send excluded calls at all
    timeout: { type: "string", default: "5000" }, // per step, ms
    "start-timeout": { type: "string", default: "30000" },
    "log-dir": { type: "string" },
    inner: { type: "string" }, // internal: path of the vector file to replay inside the namespace
    help: { type: "boolean", short: "h", default: false },
  },
});

if (opt.help) {
  console.log(readFileSync(import.meta.path, "utf8").split("\n").slice(0, 7).join("\n"));
  process.exit(0);
}

const readJson = <T>(p: string, dflt: T): T => (existsSync(p) ? (JSON.parse(readFileSync(p, "utf8")) as T) : dflt);

if (opt.inner) await inner(opt.inner);
else await outer();

/** Inside the namespace: daemon up, replay, daemon down, result JSON on stdout. */
async function inner(path: string): Promise<void> {
  const vf = JSON.parse(readFileSync(path, "utf8")) as VectorFile;
  if (opt.call?.length) {
    const lines = new Set(opt.call.map(Number));
    vf.calls = vf.calls.filter((c) => lines.has(c.line) || c.steps.some((s) => lines.has(s.line)));
  }
  const logPath = join(opt["log-dir"]!, `${basename(path, ".json")}.log`);
  const exclusions = loadExclusions();
  const daemon = startDaemon(opt.daemon!, vf.autotest_start, logPath);
  const client = await NgClient.open({ host: "127.0.0.1", port: ngPort(vf.autotest_start), timeoutMs: Number(opt.timeout) });
  let result: FileResult;
  try {
    if (!(await waitForPing(client, Number(opt["start-timeout"]), daemon.alive))) {
      const why = daemon.alive() ? "no pong within the start timeout" : `daemon exited (code ${daemon.proc.exitCode})`;
      result = unrun(vf, exclusions, `${why}; log tail:\n${daemon.logTail()}`);
    } else {
      result = await replayFile(vf, client, {
        timeoutMs: Number(opt.timeout),
        exclusions,
        skipExcluded: opt["skip-excluded"],
      });
      if (!daemon.alive()) result.error = `daemon died during the run (code ${daemon.proc.exitCode}); log tail:\n${daemon.logTail()}`;
    }
  } finally {
    client.close();
    await daemon.stop();
  }
  process.stdout.write(JSON.stringify(result) + "\n");
  process.exit(0);
}

/** The ng port from -n / --listen-ng (PORT or ADDR:PORT). */
function ngPort(args: string[]): number {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const v = a === "-n" || a === "--listen-ng" ? args[i + 1] : a.startsWith("--listen-ng=") ? a.slice(12) : undefined;
    if (v) return Number(v.split(":").pop());
  }
  return 2223;
}

async function outer(): Promise<void> {
  if (process.getuid?.() !== 0) {
    console.error("conformance: needs root (ip netns)");
    process.exit(2);
  }
  const missing = daemonMissing(opt.daemon!);
  if (missing) {
    console.error(`conformance: ${missing}`);
    process.exit(2);
  }
  const files = pickFiles();
  const logDir = opt["log-dir"] ?? mkdtempSync(join(tmpdir(), "conformance-"));
  let current: string | null = null;
  cleanupOnExit(() => current && destroyNetns(current));
  const results: FileResult[] = [];
  let n = 0;
  for (const path of files) {
    const vf = JSON.parse(readFileSync(path, "utf8")) as VectorFile;
    const addrs = [...interfaceAddresses(vf.autotest_start), ...vf.calls.flatMap((c) => c.addresses.map((a) => a[0]))];
    const skipped = [...new Set(addrs.filter((a) => !isAllowedAddress(a)))];
    current = nsName("conf", n++);
    createNetns(current, addrs);
    if (skipped.length && opt.verbose) console.error(`${vf.file}: not adding non-documentation addresses ${skipped.join(", ")} (the media primer sends only from documentation addresses)`);
    const t0 = Date.now();
    const proc = Bun.spawn(
      ["ip", "netns", "exec", current, process.execPath, join(HERE, "run.ts"), "--inner", path, "--daemon", opt.daemon!, "--timeout", opt.timeout!, "--start-timeout", opt["start-timeout"]!, "--log-dir", logDir, ...(opt.verbose ? ["--verbose"] : []), ...(opt["no-exclusions"] ? ["--no-exclusions"] : []), ...(opt["skip-excluded"] ? ["--skip-excluded"] : []), ...(opt.call ?? []).flatMap((c) => ["--call", c])],
      { stdout: "pipe", stderr: "inherit" },
    );
    // a whole-file bound on top of the per-step timeout
    const steps = vf.calls.reduce((k, c) => k + c.steps.length, 0);
    const killer = setTimeout(() => proc.kill("SIGKILL"), Number(opt["start-timeout"]) + steps * Number(opt.timeout) + 10_000);
    const out = await new Response(proc.stdout).text();
    await proc.exited;
    clearTimeout(killer);
    destroyNetns(current);
    current = null;
    let r: FileResult;
    try {
      r = JSON.parse(out.trim().split("\n").pop() ?? "") as FileResult;
    } catch {
      r = unrun(vf, loadExclusions(), `runner inside the namespace failed (exit ${proc.exitCode})`);
    }
    results.push(r);
    if (!opt.json) printFile(r, Date.now() - t0);
  }
  const total = { passed: 0, failed: 0, excludedPassed: 0, excludedFailed: 0, excludedSkipped: 0, conditional: 0 };
  for (const r of results) {
    total.passed += r.passed;
    total.failed += r.failed;
    total.excludedPassed += r.excludedPassed;
    total.excludedFailed += r.excludedFailed;
    total.excludedSkipped += r.excludedSkipped;
    total.conditional += r.conditionalSteps;
  }
  const floor = readJson<{ min_passed?: number }>(join(HERE, "floor.json"), {}).min_passed ?? 0;
  const fullRun = !opt.file?.length && !opt.call?.length;
  const belowFloor = fullRun && total.passed < floor;
  if (opt.json) console.log(JSON.stringify({ daemon: opt.daemon, total, floor, belowFloor, logDir, files: results }, null, 1));
  // daemon logs at -L 7 are large: keep them when something failed or a directory was asked for
  if (total.failed === 0 && !opt["log-dir"]) rmSync(logDir, { recursive: true, force: true });
  else (opt.json ? console.error : console.log)(`logs: ${logDir}`);
  if (belowFloor) console.error(`conformance: ${total.passed} passed is below the floor of ${floor} (test/conformance/floor.json)`);
  (opt.json ? console.error : console.log)(`TOTAL: ${total.passed} passed, ${total.failed} failed (excluded: ${total.excludedPassed} passed, ${total.excludedFailed} failed${total.excludedSkipped ? `, ${total.excludedSkipped} not run` : ""}; ${total.conditional} conditional steps skipped)`);
  process.exit(belowFloor ? 1 : 0);
}

/** A file whose steps could not be run at all: every counted step fails. */
function unrun(vf: VectorFile, exclusions: Record<string, string>, error: string): FileResult {
  const r = { ...emptyResult(vf.file), error };
  for (const c of vf.calls) {
    const n = countedSteps(c).length;
    if (c.condition !== null) (r.conditionalCalls++, (r.conditionalSteps += n));
    else if (`${vf.file}:${c.line}` in exclusions) r.excludedFailed += n;
    else r.failed += n;
  }
  return r;
}

function loadExclusions(): Record<string, string> {
  if (opt["no-exclusions"]) return {};
  const raw = readJson<Record<string, string>>(join(HERE, "exclusions.json"), {});
  return Object.fromEntries(Object.entries(raw).filter(([k]) => !k.startsWith("_")));
}

function pickFiles(): string[] {
  const all = readdirSync(VECTORS)
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((f) => join(VECTORS, f));
  if (!opt.file?.length) return all;
  return opt.file.map((f) => {
    const hit = existsSync(f) ? resolve(f) : all.find((p) => basename(p) === f || basename(p) === `${f}.json` || basename(p, ".pl.json") === f);
    if (!hit) {
      console.error(`conformance: no vector file '${f}' in ${VECTORS}`);
      process.exit(2);
    }
    return hit;
  });
}

function printFile(r: FileResult, ms: number): void {
  const extra = [
    r.excludedPassed + r.excludedFailed ? `excluded: ${r.excludedPassed} passed, ${r.excludedFailed} failed` : "",
    r.excludedSkipped ? `${r.excludedSkipped} excluded steps not run` : "",
    r.conditionalCalls ? `${r.conditionalCalls} conditional calls skipped` : "",
  ].filter(Boolean).join("; ");
  console.log(`${r.file}: ${r.passed} passed, ${r.failed} failed${extra ? ` (${extra})` : ""} [${(ms / 1000).toFixed(1)}s]`);
  if (r.error) console.log(`  ERROR: ${r.error.replace(/\n/g, "\n    ")}`);
  if (!opt.verbose) return;
  for (const s of r.steps.filter((x: StepResult) => x.status === "fail")) {
    console.log(`  FAIL ${s.id} [${s.command}] "${s.name}"${s.afterMedia ? " (after media)" : ""}${s.excluded ? ` (excluded: ${s.excluded})` : ""}: ${s.reason}`);
    if (s.mismatch) {
      console.log(`    first mismatch, line ${s.mismatch.line}:\n      expected: ${s.mismatch.expected}\n      got:      ${s.mismatch.got}`);
      console.log(`    expected:\n${indent(s.expected!)}\n    got:\n${indent(s.got!)}`);
    }
  }
}

function indent(t: string): string {
  return t.replace(/\n$/, "").split("\n").map((l) => `      | ${l}`).join("\n");
}
