// Held-call CPU benchmark: the daemon's CPU while N answered calls sit without media (timers, timeout checks,
// garbage collection), ours and the reference interleaved, each in a throw-away network namespace.
//
//   bun test/bench/held-cpu.ts [--calls 4000] [--seconds 20] [--reps 2] [--ours CMD] [--reference PATH]
//                              [--only ours,reference] [--env-ours K=V,K=V]
//
// Benchmark only, not part of the test run; needs root (ip netns). No RTP is sent: the figure is the fixed
// cost of holding calls, which an appliance pays for every call in its table, media or not.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { REFERENCE, REPO, daemonArgv } from "../conformance/daemon.ts";
import { createNetns, destroyNetns, nsName } from "../conformance/netns.ts";
import { benchStart, parseEnvList } from "./bench-setup.ts";

const { values: opt } = parseArgs({
  args: Bun.argv.slice(2),
  options: {
    ours: { type: "string", default: existsSync(join(REPO, "dist/rtpengine")) ? "dist/rtpengine" : "bun src/main.ts" },
    reference: { type: "string", default: REFERENCE },
    only: { type: "string", default: "ours,reference" },
    calls: { type: "string", default: "4000" },
    seconds: { type: "string", default: "20" },
    reps: { type: "string", default: "2" },
    "env-ours": { type: "string", default: "" },
  },
});
const calls = Number(opt.calls), seconds = Number(opt.seconds);
const work = benchStart("held-cpu", opt.ours!);

const only = new Set(opt.only!.split(","));
const envOurs = parseEnvList(opt["env-ours"]!);
const targets: { id: string; cmd: string; env: Record<string, string> }[] = [];
if (only.has("ours")) targets.push({ id: "ours", cmd: opt.ours!, env: envOurs });
if (only.has("reference") && existsSync(opt.reference!)) targets.push({ id: "reference", cmd: opt.reference!, env: {} });

/** CPU (user + system) of a process in ms, from /proc/PID/stat (clock ticks of 10 ms). */
function cpuMs(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(f[11]) + Number(f[12])) * 10;
}

/** Runs inside the namespace: offers and answers `calls` calls, one at a time, then exits. */
function holdScript(): string {
  return `import { NgClient, waitForPing } from ${JSON.stringify(join(REPO, "test/conformance/ng-client.ts"))};
const c = await NgClient.open({ host: "127.0.0.1", port: 2223 });
if (!(await waitForPing(c, 20000))) process.exit(1);
const sdp = (p) => "v=0\\r\\no=- 1 1 IN IP4 127.0.0.1\\r\\ns=-\\r\\nc=IN IP4 127.0.0.1\\r\\nt=0 0\\r\\nm=audio " + p + " RTP/AVP 0 8 101\\r\\na=rtpmap:101 telephone-event/8000\\r\\na=sendrecv\\r\\n";
for (let i = 0; i < ${calls}; i++) {
  const o = await c.request({ command: "offer", "call-id": "held-" + i, "from-tag": "a", sdp: sdp(4000 + (i % 1000) * 2) });
  const a = await c.request({ command: "answer", "call-id": "held-" + i, "from-tag": "a", "to-tag": "b", sdp: sdp(6000 + (i % 1000) * 2) });
  if (o.result !== "ok" || a.result !== "ok") { console.error("call " + i + ": " + (o["error-reason"] ?? a["error-reason"])); process.exit(1); }
}
process.exit(0);`;
}

interface Run { target: string; pct?: number; error?: string }
const runs: Run[] = [];
let n = 0;
for (let rep = 1; rep <= Number(opt.reps); rep++) {
  for (const t of targets) {
    const ns = nsName("heldcpu", n++);
    createNetns(ns, []);
    const log = Bun.file(join(work, `${t.id}-${n}.log`));
    const args = ["--config-file=none", "--table=-1", "--interface=127.0.0.1", "--listen-ng=127.0.0.1:2223", "--foreground", "--log-stderr",
      "--log-level=5", "--port-min=20000", "--port-max=60000"];
    const d = Bun.spawn(["ip", "netns", "exec", ns, ...daemonArgv(t.cmd), ...args], { cwd: REPO, stdout: log, stderr: log, env: { ...process.env, ...t.env } });
    let run: Run = { target: t.id };
    try {
      const h = Bun.spawn(["ip", "netns", "exec", ns, process.execPath, "-e", holdScript()], { stdout: "inherit", stderr: "inherit" });
      if ((await h.exited) !== 0) run.error = "setting up the calls failed";
      else {
        await Bun.sleep(3000); // setup's garbage collected, timers settled
        const c0 = cpuMs(d.pid);
        await Bun.sleep(seconds * 1000);
        run = { target: t.id, pct: ((cpuMs(d.pid) - c0) / (seconds * 1000)) * 100 };
      }
    } finally {
      d.kill("SIGTERM");
      await d.exited;
      destroyNetns(ns);
    }
    runs.push(run);
    console.error(`rep ${rep} ${t.id}: ${run.error ?? `${run.pct!.toFixed(2)}% CPU`}`);
  }
}

console.log(`\nheld calls without media: ${calls} calls, CPU over ${seconds} s after 3 s settling, ${opt.reps} interleaved reps${opt["env-ours"] ? `; ours with ${opt["env-ours"]}` : ""}\n`);
console.log("| daemon | CPU % of one core | µs per held call per second |");
console.log("| --- | ---: | ---: |");
for (const t of targets) {
  const ok = runs.filter((r) => r.target === t.id && r.pct !== undefined).map((r) => r.pct!);
  const fmt = (f: (p: number) => string) => ok.map(f).join(" / ") || "failed";
  console.log(`| ${t.id === "ours" ? "ours" : "rtpengine 10.5"} | ${fmt((p) => p.toFixed(2))} | ${fmt((p) => ((p * 10_000) / calls).toFixed(2))} |`);
}
process.exit(0);
