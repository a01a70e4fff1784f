// SRTP<->RTP bridging benchmark: N calls with SDES-SRTP on one side and plain RTP on the other, at fixed
// offered rates, for our daemon (fast path on / off) and rtpengine 10.5, interleaved; plain RTP<->RTP calls
// through each daemon as the baseline. Prints a markdown table (loss, forwarded pps, daemon CPU µs/packet).
//
//   bun test/bench/srtp-bench.ts [--calls 200] [--rates 20000,60000] [--duration 5] [--warmup 2] [--reps 2]
//                                [--ours "bun src/main.ts"] [--reference /usr/bin/rtpengine]
//                                [--only ours-fast,ours-slow,reference,ours-fast-plain,reference-plain]
//
// The daemon runs pinned to CPU 1, the load (test/bench/srtp-load.c, built here with ffi/srtp) to CPU 0.
// Each call: the SRTP phone offers RTP/SAVP with an AES_CM_128_HMAC_SHA1_80 key and `transport-protocol`
// RTP/AVP, the plain phone answers RTP/AVP; both send at rate/(2*calls) pps. The SRTP phone checks one in
// 16 packets it receives against the key the daemon answered (verified / auth_failed columns).
// Ours from source uses a shim built with RTPE_SHIM_WITH="srtp dtls" (RTPE_SHIM_PATH), so the rules carry
// SRTP as in the compiled binary. Benchmark only, not part of the test run; needs taskset.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { REFERENCE, REPO, daemonArgv, daemonMissing } from "../conformance/daemon.ts";
import { NgClient, waitForPing, type NgDict } from "../conformance/ng-client.ts";

const { values: opt } = parseArgs({
  args: Bun.argv.slice(2),
  options: {
    ours: { type: "string", default: "bun src/main.ts" },
    reference: { type: "string", default: REFERENCE },
    calls: { type: "string", default: "200" },
    rates: { type: "string", default: "20000,60000" },
    duration: { type: "string", default: "5" },
    warmup: { type: "string", default: "2" },
    reps: { type: "string", default: "2" },
    only: { type: "string", default: "ours-fast,ours-slow,reference,ours-fast-plain,reference-plain" },
  },
});

interface Target {
  id: string;
  name: string;
  cmd: string;
  env: Record<string, string>;
  srtp: boolean;
}

const work = mkdtempSync(join(tmpdir(), "srtpbench-"));
const load = join(work, "srtp-load");
const shim = join(work, "librtpe_shim.so");
build();
const NG_PORT = 2290;
const calls = Number(opt.calls);
const rates = opt.rates!.split(",").map(Number);
const only = new Set(opt.only!.split(","));
const ourEnv = (fast: boolean): Record<string, string> => ({ RTPENGINE_TS_FASTPATH: fast ? "1" : "0", ...(opt.ours!.startsWith("bun ") ? { RTPE_SHIM_PATH: shim } : {}) });
const all: Target[] = [
  { id: "ours-fast", name: "ours, fast path (SRTP in C rules)", cmd: opt.ours!, env: ourEnv(true), srtp: true },
  { id: "ours-slow", name: "ours, slow path only (SRTP in TS)", cmd: opt.ours!, env: ourEnv(false), srtp: true },
  { id: "reference", name: "rtpengine 10.5 (no kernel module)", cmd: opt.reference!, env: {}, srtp: true },
  { id: "ours-fast-plain", name: "ours, fast path, plain RTP<->RTP", cmd: opt.ours!, env: ourEnv(true), srtp: false },
  { id: "reference-plain", name: "rtpengine 10.5, plain RTP<->RTP", cmd: opt.reference!, env: {}, srtp: false },
];
const targets = all.filter((t) => only.has(t.id) && !daemonMissing(t.cmd));
for (const t of all) if (only.has(t.id) && daemonMissing(t.cmd)) console.error(`srtp-bench: ${t.id}: ${daemonMissing(t.cmd)}`);

type Row = Record<string, string>;
const results = new Map<string, Row[]>();
for (let rep = 1; rep <= Number(opt.reps); rep++) {
  for (const rate of rates) {
    for (const t of targets) {
      const r = await measure(t, rate);
      const k = `${t.id}@${rate}`;
      results.set(k, [...(results.get(k) ?? []), r]);
      console.error(`rep ${rep} ${t.name} @ ${rate} pps: ${r.error ?? `sent ${r.sent_pps} (${r.skipped} late packets skipped, ${r.send_errors} send errors), fwd ${r.fwd_pps} pps, loss ${r.loss_pct}%, ${r.cpu_us_per_pkt} µs/pkt, CPU ${r.cpu_pct}%, verified ${r.verified}, auth_failed ${r.auth_failed}`}`);
    }
  }
}
printTable();
rmSync(work, { recursive: true, force: true });
process.exit(0);

function build(): void {
  const srtp = ["auth", "cipher", "ctx", "kdf", "ossl", "replay", "rtcp", "rtp"].map((f) => join(REPO, "ffi/srtp", `${f}.c`));
  let r = spawnSync("gcc", ["-O2", "-Wall", "-Wextra", "-Werror", `-I${join(REPO, "ffi/srtp")}`, "-o", load, join(REPO, "test/bench/srtp-load.c"), ...srtp, "-ldl"], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`srtp-load: ${r.stderr}`);
  r = spawnSync("sh", [join(REPO, "ffi/build.sh")], { env: { ...process.env, OUT: work, RTPE_SHIM_WITH: "srtp dtls" }, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`ffi/build.sh: ${r.stderr}`);
}

function b64hex(b64: string): string {
  return Buffer.from(b64, "base64").subarray(0, 30).toString("hex");
}

function sdp(port: number, proto: string, crypto: string | null): string {
  return ["v=0", "o=- 1 1 IN IP4 127.0.0.1", "s=-", "c=IN IP4 127.0.0.1", "t=0 0", `m=audio ${port} ${proto} 0`, "a=rtpmap:0 PCMU/8000", "a=sendrecv",
    ...(crypto ? [`a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${crypto}`] : []), ""].join("\r\n");
}

async function measure(t: Target, rate: number): Promise<Row> {
  const args = ["--config-file=none", "--table=-1", "--interface=127.0.0.1", `--listen-ng=127.0.0.1:${NG_PORT}`, "--foreground", "--log-stderr", "--log-level=4",
    "--port-min=30000", "--port-max=40000", "--delete-delay=0", "--endpoint-learning=immediate", "--num-threads=1"];
  const d = Bun.spawn(["taskset", "-c", "1", ...daemonArgv(t.cmd), ...args], { cwd: REPO, stdout: "ignore", stderr: "ignore", env: { ...process.env, ...t.env } });
  const lg = Bun.spawn(["taskset", "-c", "0", load], { stdin: "pipe", stdout: "pipe", stderr: "pipe" });
  try {
    const ng = await NgClient.open({ host: "127.0.0.1", port: NG_PORT });
    if (!(await waitForPing(ng, 20000))) return { error: "daemon did not answer ping" };
    const reader = lg.stdout.getReader();
    let buf = "";
    const line = async (): Promise<string> => {
      while (!buf.includes("\n")) {
        const { value, done } = await reader.read();
        if (done) throw new Error("srtp-load ended");
        buf += new TextDecoder().decode(value);
      }
      const i = buf.indexOf("\n");
      const l = buf.slice(0, i);
      buf = buf.slice(i + 1);
      return l;
    };
    lg.stdin.write(`CALLS ${calls}\n`);
    lg.stdin.flush();
    const ports = (await line()).split(" ").slice(1).map(Number);
    for (let c = 0; c < calls; c++) {
      const key = t.srtp ? Buffer.from(Array.from({ length: 30 }, () => (Math.random() * 256) | 0)).toString("base64") : null;
      const callId = `sb-${process.pid}-${rate}-${c}`;
      const o = await ng.request({ command: "offer", "call-id": callId, "from-tag": "S", sdp: sdp(ports[2 * c]!, t.srtp ? "RTP/SAVP" : "RTP/AVP", key), ...(t.srtp ? { "transport-protocol": "RTP/AVP" } : {}) } as NgDict);
      if (o.result !== "ok") return { error: `offer: ${String(o["error-reason"])}` };
      const a = await ng.request({ command: "answer", "call-id": callId, "from-tag": "S", "to-tag": "P", sdp: sdp(ports[2 * c + 1]!, "RTP/AVP", null) } as NgDict);
      if (a.result !== "ok") return { error: `answer: ${String(a["error-reason"])}` };
      const offerSdp = String(o.sdp), answerSdp = String(a.sdp);
      const toP = Number(/^m=audio (\d+)/m.exec(offerSdp)?.[1]), toS = Number(/^m=audio (\d+)/m.exec(answerSdp)?.[1]);
      const ours = /^a=crypto:\d+ AES_CM_128_HMAC_SHA1_80 inline:([A-Za-z0-9+/=]+)/m.exec(answerSdp)?.[1];
      if (t.srtp && !ours) return { error: "answer to the SRTP side has no AES_CM_128_HMAC_SHA1_80 key" };
      lg.stdin.write(`CALL ${toS} ${toP} ${key ? b64hex(key) : "-"} ${ours ? b64hex(ours) : "-"}\n`);
    }
    lg.stdin.write(`GO ${rate} ${opt.warmup} ${opt.duration} ${d.pid}\n`);
    lg.stdin.flush();
    let res = "";
    while (!res.startsWith("RESULT ")) res = await line();
    return Object.fromEntries(res.slice(7).trim().split(/\s+/).map((kv) => kv.split("=", 2) as [string, string]));
  } catch (e) {
    return { error: (e as Error).message };
  } finally {
    lg.kill("SIGKILL");
    d.kill("SIGKILL");
    await Promise.all([lg.exited, d.exited]);
  }
}

function median(xs: number[]): number {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (!s.length) return NaN;
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}
function med(k: string, key: string): number {
  return median((results.get(k) ?? []).filter((r) => !r.error).map((r) => Number(r[key])));
}
function fmt(x: number, d = 0): string {
  return Number.isFinite(x) ? x.toFixed(d) : "n/a";
}

function printTable(): void {
  console.log(`\nSRTP (SDES, AES_CM_128_HMAC_SHA1_80) <-> plain RTP, ${calls} calls, both directions, ${opt.duration} s after ${opt.warmup} s warm-up, median of ${opt.reps} interleaved runs; daemon on CPU 1, load on CPU 0; ours: \`${opt.ours}\`\n`);
  console.log("| daemon | offered pps | sent pps | forwarded pps | loss % | daemon CPU % | CPU µs/pkt | SRTP checked ok / failed |");
  console.log("|---|---:|---:|---:|---:|---:|---:|---:|");
  for (const rate of rates) {
    for (const t of targets) {
      const k = `${t.id}@${rate}`;
      const chk = t.srtp ? `${fmt(med(k, "verified"))} / ${fmt(med(k, "auth_failed"))}` : "-";
      console.log(`| ${t.name} | ${rate} | ${fmt(med(k, "sent_pps"))} | ${fmt(med(k, "fwd_pps"))} | ${fmt(med(k, "loss_pct"), 3)} | ${fmt(med(k, "cpu_pct"), 1)} | ${fmt(med(k, "cpu_us_per_pkt"), 2)} | ${chk} |`);
    }
  }
  const errs = [...results.values()].flat().filter((r) => r.error);
  if (errs.length) console.log(`\n${errs.length} run(s) produced no figures: ${[...new Set(errs.map((e) => e.error))].join("; ")}`);
}
