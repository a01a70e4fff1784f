// Memory and soak benchmark: idle RSS, RSS with N calls carrying media, KB per call, RSS over time, loss,
// and descriptors/ports before and after, for our compiled daemon and the reference, interleaved.
//
//   bun test/bench/memory-bench.ts [--mode idle|held|soak] [--calls N] [--pps P] [--duration S]
//                                  [--reps 1] [--sample S] [--ours CMD] [--reference PATH] [--only ours,reference]
//                                  [--env-ours K=V,K=V] [--smaps]
//
//   idle: the daemon started and answering ping, nothing else (RSS after 5 s and after 60 s).
//   held: 2000 calls, 5 pps per stream for 90 s (defaults); "held RSS" is the median of the samples after
//         the first 10 s (the ng reply caches of both daemons expire after 60 s).
//   soak: 4000 calls, 5 pps per stream for 300 s; RSS sampled every 10 s; growth after the first minute.
//   --smaps: also print, per daemon, the mappings whose resident size grew most from idle to the end of
//            the hold (/proc/PID/smaps, by start address): where the memory of held calls lives.
//
// 5 pps per stream (one packet every 200 ms): 4000 calls are 8000 streams, 40k packets/s in total,
// which this shared 2-vCPU machine sustains for both daemons next to the generator (50 pps, the
// real 20 ms ptime, would be 400k pps). Memory per call does not depend on the rate; the rate only
// has to keep every stream alive and exercised (learning, fast path, timeouts).
//
// Benchmark only, not part of the test run; needs root (each daemon runs in its own throw-away
// network namespace, rtpload inside it). RSS is VmRSS (file pages of the executable included);
// "anon" is the Anonymous line of smaps_rollup: the process's own memory. Ports are the daemon's
// UDP sockets in /proc/PID/net/udp{,6}; fds are the entries of /proc/PID/fd.
import { existsSync, readFileSync, readdirSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { REFERENCE, REPO, daemonArgv } from "../conformance/daemon.ts";
import { createNetns, destroyNetns, nsName } from "../conformance/netns.ts";
import { benchStart, buildRtpload, parseEnvList } from "./bench-setup.ts";

const { values: opt } = parseArgs({
  args: Bun.argv.slice(2),
  options: {
    mode: { type: "string", default: "held" },
    ours: { type: "string", default: existsSync(join(REPO, "dist/rtpengine")) ? "dist/rtpengine" : "bun src/main.ts" },
    reference: { type: "string", default: REFERENCE },
    only: { type: "string", default: "ours,reference" },
    reps: { type: "string", default: "1" },
    calls: { type: "string" },
    pps: { type: "string", default: "5" },
    duration: { type: "string" },
    sample: { type: "string" },
    "env-ours": { type: "string", default: "" },
    smaps: { type: "boolean", default: false },
  },
});

const mode = opt.mode!;
if (!["idle", "held", "soak"].includes(mode)) {
  console.error(`memory-bench: --mode idle, held or soak, not ${mode}`);
  process.exit(2);
}
const calls = Number(opt.calls ?? (mode === "soak" ? 4000 : 2000));
const duration = Number(opt.duration ?? (mode === "soak" ? 300 : 90));
const sampleEvery = Number(opt.sample ?? (mode === "soak" ? 10 : 5));
const work = benchStart("memory-bench", opt.ours!);
const rtpload = mode === "idle" ? "" : buildRtpload("memory-bench", work);

interface Target {
  id: string;
  cmd: string;
  env: Record<string, string>;
}
const only = new Set(opt.only!.split(","));
const targets: Target[] = [];
const envOurs = parseEnvList(opt["env-ours"]!);
if (only.has("ours")) targets.push({ id: "ours", cmd: opt.ours!, env: envOurs });
if (only.has("reference")) {
  if (existsSync(opt.reference!)) targets.push({ id: "reference", cmd: opt.reference!, env: {} });
  else console.error(`memory-bench: reference ${opt.reference} not installed; measuring ours only`);
}

interface Mem {
  rssKib: number;
  anonKib: number;
  pssKib: number;
}
interface Sample extends Mem {
  t: number;
}
interface Run {
  target: string;
  error?: string;
  idle: Mem;
  /** idle mode: RSS a minute later (pages that come back while idle: timers, GC) */
  idleLater?: Mem;
  idleFds: number;
  idlePorts: number;
  samples: Sample[];
  held?: Mem;
  heldFds?: number;
  heldPorts?: number;
  afterFds?: number;
  afterPorts?: number;
  after?: Mem;
  /** --smaps: resident KiB by mapping at idle and at the end of the hold */
  idleMaps?: Map<string, MapUse>;
  heldMaps?: Map<string, MapUse>;
  result?: Record<string, string>;
  setupFailed?: string;
}

const runs: Run[] = [];
let n = 0;
for (let rep = 1; rep <= Number(opt.reps); rep++) {
  for (const t of targets) {
    const r = await measure(t, n++);
    runs.push(r);
    console.error(`rep ${rep} ${t.id}: ${r.error ?? summary(r)}`);
  }
}
printReport();
process.exit(0);


function mem(pid: number): Mem {
  try {
    const s = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
    const get = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, "m").exec(s)?.[1] ?? NaN);
    return { rssKib: get("Rss"), anonKib: get("Anonymous"), pssKib: get("Pss") };
  } catch {
    return { rssKib: NaN, anonKib: NaN, pssKib: NaN };
  }
}

interface MapUse {
  name: string;
  sizeKib: number;
  rssKib: number;
  anonKib: number;
}

/** Resident memory of each mapping of pid, keyed by start address (mappings merge and split, so a key is approximate). */
function smaps(pid: number): Map<string, MapUse> {
  const out = new Map<string, MapUse>();
  let cur: MapUse | undefined;
  try {
    for (const line of readFileSync(`/proc/${pid}/smaps`, "utf8").split("\n")) {
      const head = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
      if (head) {
        cur = { name: head[3] || "[anon]", sizeKib: (parseInt(head[2]!, 16) - parseInt(head[1]!, 16)) / 1024, rssKib: 0, anonKib: 0 };
        out.set(head[1]!, cur);
        continue;
      }
      const kv = /^(Rss|Anonymous):\s+(\d+) kB/.exec(line);
      if (kv && cur) cur[kv[1] === "Rss" ? "rssKib" : "anonKib"] = Number(kv[2]);
    }
  } catch {
    /* the process ended */
  }
  return out;
}

/** Mappings by growth of resident memory from idle to held, largest first, and totals by name. */
function smapsReport(r: Run): string {
  if (!r.idleMaps || !r.heldMaps) return "";
  const rows: { key: string; m: MapUse; grew: number }[] = [];
  for (const [key, m] of r.heldMaps) rows.push({ key, m, grew: m.rssKib - (r.idleMaps.get(key)?.rssKib ?? 0) });
  for (const [key, m] of r.idleMaps) if (!r.heldMaps.has(key)) rows.push({ key, m, grew: -m.rssKib });
  rows.sort((a, b) => b.grew - a.grew);
  const byName = new Map<string, number>();
  for (const x of rows) byName.set(x.m.name, (byName.get(x.m.name) ?? 0) + x.grew);
  const lines = [`\n${r.target}: resident growth idle → held by mapping (KiB; size, anon at held)`];
  for (const x of rows.slice(0, 25)) lines.push(`  ${x.key.padStart(12)} ${String(x.grew).padStart(8)}  size ${x.m.sizeKib} anon ${x.m.anonKib} ${x.m.name}`);
  lines.push("  by name: " + [...byName].sort((a, b) => b[1] - a[1]).slice(0, 10).map(([k, v]) => `${k} ${v}`).join(", "));
  return lines.join("\n");
}

/** Open descriptors and, of those, UDP sockets (bound ports) of pid, seen from its own namespace. */
function fdsAndPorts(pid: number): { fds: number; ports: number } {
  try {
    const inodes = new Set<string>();
    const names = readdirSync(`/proc/${pid}/fd`);
    for (const f of names) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${f}`));
        if (m) inodes.add(m[1]!);
      } catch {
        /* closed meanwhile */
      }
    }
    let ports = 0;
    for (const table of ["udp", "udp6"]) {
      for (const line of readFileSync(`/proc/${pid}/net/${table}`, "utf8").split("\n").slice(1)) {
        const cols = line.trim().split(/\s+/);
        if (cols.length > 9 && inodes.has(cols[9]!)) ports++;
      }
    }
    // minus the ng control socket(s): the ports of media, not of control
    return { fds: names.length, ports };
  } catch {
    return { fds: NaN, ports: NaN };
  }
}

function daemonArgs(): string[] {
  return ["--config-file=none", "--table=-1", "--interface=127.0.0.1", "--listen-ng=127.0.0.1:2223", "--foreground", "--log-stderr", "--log-level=5", "--port-min=20000", "--port-max=60000", "--delete-delay=0"];
}

async function measure(t: Target, i: number): Promise<Run> {
  const ns = nsName("membench", i);
  createNetns(ns, []);
  const log = Bun.file(join(work, `${t.id}-${i}.log`));
  const d = Bun.spawn(["ip", "netns", "exec", ns, ...daemonArgv(t.cmd), ...daemonArgs()], { cwd: REPO, stdout: log, stderr: log, env: { ...process.env, ...t.env } });
  const run: Run = { target: t.id, idle: { rssKib: NaN, anonKib: NaN, pssKib: NaN }, idleFds: NaN, idlePorts: NaN, samples: [] };
  try {
    const ping = Bun.spawn(["ip", "netns", "exec", ns, process.execPath, "-e", pingScript()], { stdout: "pipe", stderr: "inherit" });
    if ((await ping.exited) !== 0) return { ...run, error: "daemon did not answer ping" };
    // the daemon's pid: `ip netns exec` execs, so the spawned pid is the daemon's
    await Bun.sleep(5000);
    run.idle = mem(d.pid);
    if (opt.smaps) run.idleMaps = smaps(d.pid);
    ({ fds: run.idleFds, ports: run.idlePorts } = fdsAndPorts(d.pid));
    if (mode === "idle") {
      await Bun.sleep(55_000);
      run.idleLater = mem(d.pid);
      return run;
    }

    const total = duration + 300;
    const p = Bun.spawn(["timeout", String(total), "ip", "netns", "exec", ns, rtpload, "--mode", "media", "--ng", "127.0.0.1:2223", "--pid", String(d.pid),
      "--calls", String(calls), "--pps", opt.pps!, "--duration", String(duration), "--warmup", "0", "--tag", `mem${i}`], { stdout: "pipe", stderr: "pipe" });
    // rtpload prints "setup: N calls in ..." on stderr when every call is up: the hold starts there
    let t0 = 0;
    let errText = "";
    const errDone = (async () => {
      const dec = new TextDecoder();
      for await (const chunk of p.stderr as ReadableStream<Uint8Array>) {
        errText += dec.decode(chunk);
        if (!t0 && /setup: \d+ calls/.test(errText)) t0 = performance.now();
      }
    })();
    const sampler = setInterval(() => {
      if (!t0) return;
      const t = (performance.now() - t0) / 1000;
      // stop at the end of the hold: afterwards rtpload deletes the calls
      if (t > duration - 0.5) return;
      run.samples.push({ t, ...mem(d.pid) });
      if (t > duration - 0.5 - sampleEvery) {
        ({ fds: run.heldFds, ports: run.heldPorts } = fdsAndPorts(d.pid));
        if (opt.smaps) run.heldMaps = smaps(d.pid);
      }
    }, sampleEvery * 1000);
    const out = await new Response(p.stdout).text();
    await p.exited;
    await errDone;
    clearInterval(sampler);
    run.held = heldMem(run.samples);
    const failed = /(\d+) calls failed to set up/.exec(errText);
    if (failed) run.setupFailed = failed[1];
    const line = out.split("\n").find((l) => l.startsWith("RESULT "));
    if (!line) return { ...run, error: `no RESULT line (exit ${p.exitCode}): ${errText.trim().split("\n").slice(-2).join(" / ")}` };
    run.result = Object.fromEntries(line.slice(7).trim().split(/\s+/).map((kv) => kv.split("=", 2) as [string, string]));
    // the calls are deleted (delete-delay 0): give both daemons a moment to close what they hold
    await Bun.sleep(5000);
    run.after = mem(d.pid);
    ({ fds: run.afterFds, ports: run.afterPorts } = fdsAndPorts(d.pid));
    return run;
  } finally {
    d.kill("SIGKILL");
    await d.exited;
    destroyNetns(ns);
  }
}

/**
 * Memory of the held calls: the median of each measure over the samples after the first 10 s (or the
 * second half of a shorter hold). A garbage-collected heap swings by several MiB between collections;
 * one sample would measure where the collector happened to be.
 */
function heldMem(samples: Sample[]): Mem | undefined {
  const from = Math.min(10, duration / 2);
  const xs = samples.filter((s) => s.t >= from);
  if (!xs.length) return undefined;
  const med = (k: keyof Mem) => {
    const v = xs.map((s) => s[k]).sort((a, b) => a - b);
    return v.length % 2 ? v[(v.length - 1) / 2]! : (v[v.length / 2 - 1]! + v[v.length / 2]!) / 2;
  };
  return { rssKib: med("rssKib"), anonKib: med("anonKib"), pssKib: med("pssKib") };
}

function pingScript(): string {
  return `import { NgClient, waitForPing } from ${JSON.stringify(join(REPO, "test/conformance/ng-client.ts"))};
const c = await NgClient.open({ host: "127.0.0.1", port: 2223 });
process.exit((await waitForPing(c, 20000)) ? 0 : 1);`;
}

function mib(kib: number | undefined): string {
  return kib !== undefined && Number.isFinite(kib) ? (kib / 1024).toFixed(1) : "n/a";
}
function perCall(held: number | undefined, idle: number): string {
  return held !== undefined && Number.isFinite(held) && Number.isFinite(idle) ? ((held - idle) / calls).toFixed(1) : "n/a";
}

/**
 * RSS growth after the first minute: median of the last minute's samples minus the median of the second
 * minute's (medians, because a collected heap swings between collections).
 */
function growthAfterMinute(r: Run): string {
  const med = (xs: number[]) => {
    const v = [...xs].sort((a, b) => a - b);
    return v.length % 2 ? v[(v.length - 1) / 2]! : (v[v.length / 2 - 1]! + v[v.length / 2]!) / 2;
  };
  const second = r.samples.filter((s) => s.t >= 60 && s.t < 120).map((s) => s.rssKib);
  const last = r.samples.filter((s) => s.t >= duration - 60).map((s) => s.rssKib);
  if (duration < 180 || !second.length || !last.length) return "n/a";
  return ((med(last) - med(second)) / 1024).toFixed(1);
}

function summary(r: Run): string {
  if (mode === "idle") return `idle RSS ${mib(r.idle.rssKib)} MiB (anon ${mib(r.idle.anonKib)}) after 5 s, ${mib(r.idleLater?.rssKib)} MiB (anon ${mib(r.idleLater?.anonKib)}) after 60 s, ${r.idleFds} fds`;
  return `idle ${mib(r.idle.rssKib)} MiB, held ${mib(r.held?.rssKib)} MiB (${perCall(r.held?.rssKib, r.idle.rssKib)} KiB/call, anon ${perCall(r.held?.anonKib, r.idle.anonKib)}), ` +
    `loss ${r.result?.loss_pct}%, fds ${r.idleFds}/${r.heldFds}/${r.afterFds}, ports ${r.idlePorts}/${r.heldPorts}/${r.afterPorts}` +
    (r.setupFailed ? `, ${r.setupFailed} calls failed to set up` : "");
}

function printReport(): void {
  const what = mode === "idle" ? "idle daemon" : `${calls} calls, ${opt.pps} pps per stream (${calls * 2 * Number(opt.pps)} pps in total), held ${duration} s`;
  console.log(`\nmemory (${mode}): ${what}; ours: \`${opt.ours}\`${Object.keys(envOurs).length ? ` with ${opt["env-ours"]}` : ""}\n`);
  console.log("| daemon | idle RSS MiB | idle anon MiB | held RSS MiB | RSS KiB/call | anon KiB/call | loss % | fds idle/held/after | ports idle/held/after | RSS MiB after delete |");
  console.log("|---|---:|---:|---:|---:|---:|---:|---|---|---:|");
  for (const r of runs) {
    if (r.error) {
      console.log(`| ${r.target} | ${r.error} |||||||||`);
      continue;
    }
    console.log(`| ${r.target} | ${mib(r.idle.rssKib)} | ${mib(r.idle.anonKib)} | ${mib(r.held?.rssKib)} | ${perCall(r.held?.rssKib, r.idle.rssKib)} | ${perCall(r.held?.anonKib, r.idle.anonKib)} | ${r.result?.loss_pct ?? "n/a"} | ${r.idleFds}/${r.heldFds ?? "-"}/${r.afterFds ?? "-"} | ${r.idlePorts}/${r.heldPorts ?? "-"}/${r.afterPorts ?? "-"} | ${mib(r.after?.rssKib)} |`);
  }
  if (mode === "idle") return;
  console.log("\nRSS over the hold (MiB; t = seconds since every call was set up):\n");
  for (const r of runs) {
    if (r.error) continue;
    console.log(`- ${r.target}: ${r.samples.map((s) => `${s.t.toFixed(0)}s ${mib(s.rssKib)}`).join(", ")}; growth after the first minute (median of the last minute − median of minute 2) ${growthAfterMinute(r)} MiB; max ${mib(Math.max(...r.samples.map((s) => s.rssKib)))} MiB; ` +
      `forwarded ${r.result?.forwarded_pps} of ${r.result?.offered_pps} pps, dead streams ${r.result?.dead_streams}, proxy CPU ${r.result?.proxy_cpu_pct}%`);
  }
  for (const r of runs) if (!r.error && opt.smaps) console.log(smapsReport(r));
}
