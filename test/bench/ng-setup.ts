// ng call-setup benchmark: rtpload --mode setup against our daemon and the reference, interleaved; prints a markdown table.
//
//   bun test/bench/ng-setup.ts [--ours CMD] [--reference PATH] [--reps 3] [--calls 2000] [--ref-threads 1]
//
// Benchmark only, not part of the test run. Each daemon runs in its own throw-away network
// namespace; rtpload (built from /work/shared/tools/rtpload into a temp dir) runs inside it.
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { REFERENCE, REPO, daemonArgv } from "../conformance/daemon.ts";
import { createNetns, destroyNetns, nsName } from "../conformance/netns.ts";
import { benchStart, buildRtpload } from "./bench-setup.ts";

const { values: opt } = parseArgs({
  args: Bun.argv.slice(2),
  options: {
    ours: { type: "string", default: existsSync(join(REPO, "dist/rtpengine")) ? "dist/rtpengine" : "bun src/main.ts" },
    reference: { type: "string", default: REFERENCE },
    reps: { type: "string", default: "3" },
    calls: { type: "string", default: "2000" },
    concurrency: { type: "string", default: "1,16" },
    "ref-threads": { type: "string", default: "1" },
  },
});

const work = benchStart("ng-setup", opt.ours!);
const rtpload = buildRtpload("ng-setup", work);

interface Target {
  name: string;
  cmd: string;
  extra: string[];
}
const targets: Target[] = [{ name: "ours", cmd: opt.ours!, extra: [] }];
if (existsSync(opt.reference!)) targets.push({ name: "rtpengine 10.5", cmd: opt.reference!, extra: [`--num-threads=${opt["ref-threads"]}`] });
else console.error(`ng-setup: reference ${opt.reference} not installed; measuring ours only`);
const concs = opt.concurrency!.split(",").map(Number);

type Row = Record<string, string>;
const results = new Map<string, Row[]>(); // key "target|conc"
let run = 0;
for (let rep = 1; rep <= Number(opt.reps); rep++) {
  for (const t of targets) {
    for (const c of concs) {
      // a fresh daemon per measurement: no state carried between runs, A/B interleaved
      const r = await measure(t, c, run++);
      const k = `${t.name}|${c}`;
      results.set(k, [...(results.get(k) ?? []), r]);
      console.error(`rep ${rep} ${t.name} c=${c}: ${r.calls_per_s ?? "?"} calls/s, ok=${r.ok ?? "?"} failed=${r.failed ?? "?"}${r.error ? ` (${r.error})` : ""}`);
    }
  }
}
printTable();
// keep the daemon logs only when a run produced no figures
if ([...results.values()].flat().some((r) => r.error)) console.error(`ng-setup: daemon logs in ${work}`);
else rmSync(work, { recursive: true, force: true });
process.exit(0);


async function measure(t: Target, conc: number, n: number): Promise<Row> {
  const ns = nsName("ngbench", n);
  createNetns(ns, []);
  const args = ["--config-file=none", "--table=-1", "--interface=127.0.0.1", "--listen-ng=127.0.0.1:2223", "--foreground", "--log-stderr", "--log-level=5", "--port-min=20000", "--port-max=60000", "--delete-delay=0", ...t.extra];
  const log = Bun.file(join(work, `${t.name.replace(/\W+/g, "_")}-${n}.log`));
  const d = Bun.spawn(["ip", "netns", "exec", ns, ...daemonArgv(t.cmd), ...args], { cwd: REPO, stdout: log, stderr: log });
  try {
    // ping from inside the namespace: the ng socket is on its loopback
    const ping = Bun.spawn(["ip", "netns", "exec", ns, process.execPath, "-e", pingScript()], { stdout: "pipe", stderr: "inherit" });
    if ((await ping.exited) !== 0) return { error: "daemon did not answer ping" };
    const p = Bun.spawn(["timeout", "120", "ip", "netns", "exec", ns, rtpload, "--mode", "setup", "--ng", "127.0.0.1:2223", "--pid", String(d.pid), "--calls", opt.calls!, "--concurrency", String(conc), "--tag", `b${n}`], { stdout: "pipe", stderr: "pipe" });
    const [out, err] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text()]);
    await p.exited;
    const line = out.split("\n").find((l) => l.startsWith("RESULT "));
    if (!line) return { error: `no RESULT line (exit ${p.exitCode}): ${err.trim().split("\n").slice(-2).join(" / ")}` };
    return Object.fromEntries(line.slice(7).trim().split(/\s+/).map((kv) => kv.split("=", 2) as [string, string]));
  } finally {
    d.kill("SIGKILL");
    await d.exited;
    destroyNetns(ns);
  }
}

function pingScript(): string {
  return `import { NgClient, waitForPing } from ${JSON.stringify(join(REPO, "test/conformance/ng-client.ts"))};
const c = await NgClient.open({ host: "127.0.0.1", port: 2223 });
process.exit((await waitForPing(c, 20000)) ? 0 : 1);`;
}

function median(xs: number[]): number {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (!s.length) return NaN;
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}
/** Median over runs where every call succeeded: a rate over failed calls measures nothing. */
function med(rows: Row[], key: string): number {
  return median(rows.filter((r) => !r.error && Number(r.failed) === 0).map((r) => Number(r[key])));
}
function fmt(x: number, d = 0): string {
  return Number.isFinite(x) ? x.toFixed(d) : "n/a";
}

function printTable(): void {
  console.log(`\nng call setup (offer + answer + delete), ${opt.calls} calls, median of ${opt.reps} interleaved runs; ours: \`${opt.ours}\`\n`);
  console.log("| daemon | concurrency | calls/s | ng p50 µs | ng p99 µs | proxy CPU µs/call | failed calls |");
  console.log("|---|---:|---:|---:|---:|---:|---:|");
  for (const c of concs) {
    for (const t of targets) {
      const rows = results.get(`${t.name}|${c}`) ?? [];
      const failed = rows.reduce((a, r) => a + (r.error ? Number(opt.calls) : Number(r.failed ?? 0)), 0);
      console.log(`| ${t.name} | ${c} | ${fmt(med(rows, "calls_per_s"))} | ${fmt(med(rows, "ng_p50_us"))} | ${fmt(med(rows, "ng_p99_us"))} | ${fmt(med(rows, "proxy_cpu_us_per_call"))} | ${failed} |`);
    }
  }
  if (targets.length < 2) return;
  console.log("\n| concurrency | calls/s ours ÷ reference | CPU/call ours ÷ reference |");
  console.log("|---:|---:|---:|");
  for (const c of concs) {
    const o = results.get(`ours|${c}`) ?? [];
    const r = results.get(`${targets[1]!.name}|${c}`) ?? [];
    console.log(`| ${c} | ${fmt(med(o, "calls_per_s") / med(r, "calls_per_s"), 2)} | ${fmt(med(o, "proxy_cpu_us_per_call") / med(r, "proxy_cpu_us_per_call"), 2)} |`);
  }
  const errs = [...results.values()].flat().filter((r) => r.error);
  if (errs.length) console.log(`\n${errs.length} run(s) produced no figures: ${[...new Set(errs.map((e) => e.error))].join("; ")}`);
}
