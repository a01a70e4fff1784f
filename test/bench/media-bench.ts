// Media relay benchmark: rtpload --mode media (500 calls, 50k pps) or --mode ramp (highest rate at
// <0.1% loss) against our daemon (fast path on/off) and the reference, interleaved.
//
//   bun test/bench/media-bench.ts [--mode media|ramp] [--ours CMD] [--reference PATH] [--reps 3] [--calls 500]
//                                 [--pps 50] [--duration 10] [--warmup 4] [--threads 1[,2...]]
//                                 [--only ours-fast,ours-epoll,ours-nocoal,ours-slow,reference] [--ramp-start 40000] [--pin]
//
// --pin runs each daemon on CPU 1 and rtpload on CPU 0 (taskset): on a 2-vCPU machine the generator then no
// longer takes CPU from the daemon under test, so a ramp finds the daemon's own limit on one CPU.
//
// ours-fast runs the shim's default forwarding engine (io_uring where the kernel allows it), ours-epoll the
// epoll fallback (RTPE_SHIM_ENGINE=epoll).
//
// --threads 1,2 measures every daemon at each --num-threads, all interleaved. Ramp: 4 s steps (--duration
// defaults to 4 there), x1.25 until a step loses >0.1%, 3 bisections. The reference gets fresh calls every
// step (rtpload's default: rtpengine mutes a socket for good after an overloaded read); ours keeps its calls
// (--no-fresh), warmed up --warmup s first, so the steps measure the forwarding path that established calls use.
//
// Benchmark only, not part of the test run; needs root (each daemon runs in its own throw-away
// network namespace, rtpload inside it). rtpload is built from /work/shared/tools/rtpload into a
// temp dir. "At rest" memory is measured separately (calls up, 1 pps), since the RSS growth under
// load also holds garbage-collector headroom. The warm-up covers the reference's 3 s delayed endpoint learning, after which our
// daemon moves learned streams to the fast path (the same default learning for both).
import { existsSync, readFileSync } from "node:fs";
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
    calls: { type: "string", default: "500" },
    pps: { type: "string", default: "50" },
    duration: { type: "string", default: "10" },
    warmup: { type: "string", default: "4" },
    /** --num-threads for every daemon: the reference's workers, our shim receive threads */
    threads: { type: "string", default: "1" },
    only: { type: "string", default: "ours-fast,ours-slow,reference" },
    mode: { type: "string", default: "media" },
    "ramp-start": { type: "string", default: "40000" },
    "state-calls": { type: "string", default: "1000" },
    /** daemon on CPU 1, rtpload on CPU 0: each daemon's capacity per CPU, not shared with the generator */
    pin: { type: "boolean", default: false },
  },
});
const pinDaemon = opt.pin ? ["taskset", "-c", "1"] : [];
const pinLoad = opt.pin ? ["taskset", "-c", "0"] : [];
const pinNote = opt.pin ? "; daemon pinned to CPU 1, rtpload to CPU 0" : "";

const work = benchStart("media-bench", opt.ours!);
const rtpload = buildRtpload("media-bench", work);

interface Target {
  id: string;
  name: string;
  cmd: string;
  extra: string[];
  env: Record<string, string>;
}
const only = new Set(opt.only!.split(","));
/** Idle RSS is read this long after the first pong: ours drops its start-up pages 2 s after ready
 * (src/platform/page-release.ts), and a baseline taken before that would understate every per-call figure. */
const SETTLE_MS = 3000;

const ramp = opt.mode === "ramp";
const SLO_KEY = "max_fwd_pps_p99_le_20000us";
if (opt.mode !== "media" && !ramp) {
  console.error(`media-bench: --mode media or ramp, not ${opt.mode}`);
  process.exit(2);
}
const duration = ramp && !Bun.argv.includes("--duration") ? "4" : opt.duration!;
const threadCounts = opt.threads!.split(",").map((x) => x.trim()).filter(Boolean);
const targets: Target[] = [];
for (const th of threadCounts) {
  const tn = threadCounts.length > 1 ? `, ${th} thread${th === "1" ? "" : "s"}` : "";
  const extra = [`--num-threads=${th}`];
  if (only.has("ours-fast")) targets.push({ id: `ours-fast/${th}`, name: `ours, fast path${tn}`, cmd: opt.ours!, extra, env: { RTPENGINE_TS_FASTPATH: "1" } });
  if (only.has("ours-epoll")) targets.push({ id: `ours-epoll/${th}`, name: `ours, fast path, epoll engine${tn}`, cmd: opt.ours!, extra, env: { RTPENGINE_TS_FASTPATH: "1", RTPE_SHIM_ENGINE: "epoll" } });
  // the shim's receive coalescing off (RTPE_SHIM_COALESCE_US=0), to measure what it buys
  if (only.has("ours-nocoal")) targets.push({ id: `ours-nocoal/${th}`, name: `ours, fast path, no coalescing${tn}`, cmd: opt.ours!, extra, env: { RTPENGINE_TS_FASTPATH: "1", RTPE_SHIM_COALESCE_US: "0" } });
  if (only.has("ours-slow")) targets.push({ id: `ours-slow/${th}`, name: `ours, slow path only${tn}`, cmd: opt.ours!, extra, env: { RTPENGINE_TS_FASTPATH: "0" } });
  if (only.has("reference")) {
    if (existsSync(opt.reference!)) {
      targets.push({ id: `reference/${th}`, name: `rtpengine 10.5${tn}`, cmd: opt.reference!, extra, env: {} });
    } else if (th === threadCounts[0]) console.error(`media-bench: reference ${opt.reference} not installed; measuring ours only`);
  }
}

type Row = Record<string, string>;
const results = new Map<string, Row[]>();
let run = 0;
for (let rep = 1; rep <= Number(opt.reps); rep++) {
  for (const t of targets) {
    // a fresh daemon per measurement, targets interleaved (A, B, C, A, B, C ...)
    const r = await measure(t, run++);
    // memory per call at rest: calls kept up with almost no traffic, measured in a fresh daemon
    if (!ramp && Number(opt["state-calls"]) > 0) r.state_kib_per_call = await measureState(t, run++);
    results.set(t.id, [...(results.get(t.id) ?? []), r]);
    console.error(`rep ${rep} ${t.name}: ${r.error ?? `${ramp ? `ramp best ${r.forwarded_pps} (${r.limit}), p99<=20ms best ${r[SLO_KEY]}; at best: ` : ""}${r.forwarded_pps} pps fwd, loss ${r.loss_pct}%, ${r.cpu_us_per_pkt} µs/pkt, p99 ${r.p99_us} µs, RSS ${r.rss_kib_per_call} KiB/call under load, ${r.state_kib_per_call ?? "?"} KiB/call at rest`}`);
  }
}
if (ramp) printRampTable();
else printTable();
process.exit(0);


function rssKib(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) : NaN;
  } catch {
    return NaN;
  }
}

function daemonArgs(t: Target): string[] {
  return ["--config-file=none", "--table=-1", "--interface=127.0.0.1", "--listen-ng=127.0.0.1:2223", "--foreground", "--log-stderr", "--log-level=5", "--port-min=20000", "--port-max=60000", "--delete-delay=0", ...t.extra];
}

/** RSS growth per call with `state-calls` calls up and 1 pps per stream for 1 s (state, not garbage). */
async function measureState(t: Target, n: number): Promise<string> {
  const ns = nsName("mediabench", n);
  createNetns(ns, []);
  const log = Bun.file(join(work, `${t.id.replace("/", "-t")}-${n}-state.log`));
  const d = Bun.spawn(["ip", "netns", "exec", ns, ...daemonArgv(t.cmd), ...daemonArgs(t)], { cwd: REPO, stdout: log, stderr: log, env: { ...process.env, ...t.env } });
  try {
    const ping = Bun.spawn(["ip", "netns", "exec", ns, process.execPath, "-e", pingScript()], { stdout: "pipe", stderr: "inherit" });
    if ((await ping.exited) !== 0) return "n/a";
    await Bun.sleep(SETTLE_MS);
    const idle = rssKib(d.pid);
    const p = Bun.spawn(["timeout", "120", "ip", "netns", "exec", ns, rtpload, "--mode", "media", "--ng", "127.0.0.1:2223", "--pid", String(d.pid),
      "--calls", opt["state-calls"]!, "--pps", "1", "--duration", "1", "--warmup", "0", "--no-delete", "--tag", `s${n}`], { stdout: "pipe", stderr: "pipe" });
    await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text()]);
    await p.exited;
    await Bun.sleep(1000);
    return ((rssKib(d.pid) - idle) / Number(opt["state-calls"])).toFixed(1);
  } finally {
    d.kill("SIGKILL");
    await d.exited;
    destroyNetns(ns);
  }
}

async function measure(t: Target, n: number): Promise<Row> {
  const ns = nsName("mediabench", n);
  createNetns(ns, []);
  const args = daemonArgs(t);
  const log = Bun.file(join(work, `${t.id.replace("/", "-t")}-${n}.log`));
  const d = Bun.spawn(["ip", "netns", "exec", ns, ...pinDaemon, ...daemonArgv(t.cmd), ...args], { cwd: REPO, stdout: log, stderr: log, env: { ...process.env, ...t.env } });
  try {
    const ping = Bun.spawn(["ip", "netns", "exec", ns, process.execPath, "-e", pingScript()], { stdout: "pipe", stderr: "inherit" });
    if ((await ping.exited) !== 0) return { error: "daemon did not answer ping" };
    await Bun.sleep(SETTLE_MS);
    const idleRss = rssKib(d.pid);
    let peakRss = idleRss;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, rssKib(d.pid))), 500);
    const total = ramp ? 600 : Number(opt.warmup) + Number(duration) + 60;
    const mode = ramp
      ? ["--mode", "ramp", "--ramp-start", opt["ramp-start"]!, ...(t.id.startsWith("reference") ? [] : ["--no-fresh"])]
      : ["--mode", "media", "--pps", opt.pps!];
    const p = Bun.spawn(["timeout", String(total), "ip", "netns", "exec", ns, ...pinLoad, rtpload, ...mode, "--ng", "127.0.0.1:2223", "--pid", String(d.pid),
      "--calls", opt.calls!, "--duration", duration, "--warmup", opt.warmup!, "--tag", `m${n}`], { stdout: "pipe", stderr: "pipe" });
    const [out, err] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text()]);
    await p.exited;
    clearInterval(sampler);
    const line = out.split("\n").find((l) => l.startsWith("RESULT "));
    if (!line) return { error: `no RESULT line (exit ${p.exitCode}): ${err.trim().split("\n").slice(-2).join(" / ")}` };
    const row: Row = Object.fromEntries(line.slice(7).trim().split(/\s+/).map((kv) => kv.split("=", 2) as [string, string]));
    row.rss_idle_kib = String(idleRss);
    row.rss_kib_per_call = ((peakRss - idleRss) / Number(opt.calls)).toFixed(1);
    return row;
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
function med(id: string, key: string): number {
  return median((results.get(id) ?? []).filter((r) => !r.error).map((r) => Number(r[key])));
}
function fmt(x: number, d = 0): string {
  return Number.isFinite(x) ? x.toFixed(d) : "n/a";
}

function printRampTable(): void {
  console.log(`\nrtpload ramp: ${opt.calls} calls from ${opt["ramp-start"]} pps x1.25, ${duration} s steps, pass = loss <= 0.1%; median of ${opt.reps} interleaved runs; --num-threads=${opt.threads}${pinNote}; ours: \`${opt.ours}\`\n`);
  console.log("| daemon | highest pps at <0.1% loss | highest pps with p99 <= 20 ms | first failing pps | limit (runs) | CPU µs/pkt at best | p99 µs at best |");
  console.log("|---|---:|---:|---:|---|---:|---:|");
  for (const t of targets) {
    const limits = (results.get(t.id) ?? []).map((r) => r.limit ?? "error").join(",");
    console.log(`| ${t.name} | ${fmt(med(t.id, "forwarded_pps"))} | ${fmt(med(t.id, SLO_KEY))} | ${fmt(med(t.id, "first_fail_pps"))} | ${limits} | ${fmt(med(t.id, "cpu_us_per_pkt"), 2)} | ${fmt(med(t.id, "p99_us"))} |`);
  }
  const errs = [...results.values()].flat().filter((r) => r.error);
  if (errs.length) console.log(`\n${errs.length} run(s) produced no figures: ${[...new Set(errs.map((e) => e.error))].join("; ")}`);
}

function printTable(): void {
  const target = Number(opt.calls) * 2 * Number(opt.pps);
  console.log(`\nrtpload media: ${opt.calls} calls, ${target} pps offered, ${duration} s after ${opt.warmup} s warm-up; median of ${opt.reps} interleaved runs; --num-threads=${opt.threads} for all${pinNote}; ours: \`${opt.ours}\`\n`);
  console.log("| daemon | forwarded pps | loss % | proxy CPU µs/pkt | proxy CPU % | p50 µs | p99 µs | RSS idle MiB | RSS KiB/call under load | RSS KiB/call at rest |");
  console.log("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
  for (const t of targets) {
    console.log(`| ${t.name} | ${fmt(med(t.id, "forwarded_pps"))} | ${fmt(med(t.id, "loss_pct"), 3)} | ${fmt(med(t.id, "cpu_us_per_pkt"), 2)} | ${fmt(med(t.id, "proxy_cpu_pct"), 1)} | ${fmt(med(t.id, "p50_us"))} | ${fmt(med(t.id, "p99_us"))} | ${fmt(med(t.id, "rss_idle_kib") / 1024, 1)} | ${fmt(med(t.id, "rss_kib_per_call"), 1)} | ${fmt(med(t.id, "state_kib_per_call"), 1)} |`);
  }
  for (const ref of targets.filter((t) => t.id.startsWith("reference/"))) {
    console.log(`\n| ours ÷ ${ref.name} | CPU µs/pkt | p99 | RSS/call under load | RSS/call at rest |`);
    console.log("|---|---:|---:|---:|---:|");
    for (const t of targets.filter((x) => !x.id.startsWith("reference/"))) {
      const r = (k: string) => fmt(med(t.id, k) / med(ref.id, k), 2);
      console.log(`| ${t.name} | ${r("cpu_us_per_pkt")} | ${r("p99_us")} | ${r("rss_kib_per_call")} | ${r("state_kib_per_call")} |`);
    }
  }
  const errs = [...results.values()].flat().filter((r) => r.error);
  if (errs.length) console.log(`\n${errs.length} run(s) produced no figures: ${[...new Set(errs.map((e) => e.error))].join("; ")}`);
}
