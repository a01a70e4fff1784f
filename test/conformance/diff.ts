// Differential check: the same ng requests to the reference rtpengine and to ours, replies normalised and diffed.
//
//   bun test/conformance/diff.ts [--ours CMD] [--reference PATH] [--corpus FILE] [--call NAME]... [--strict]
//   bun test/conformance/diff.ts --request '{"command":"offer","sdp":"v=0\n..."}' [--request ...]
//
// Both daemons run in one throw-away network namespace, same interface addresses, distinct
// ng ports and port ranges. --corpus also accepts a conformance vector file. Exit 0 unless
// --strict and some reply differs (or a daemon does not come up: exit 2).
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { randomBytes } from "node:crypto";
import { parseArgs } from "node:util";
import { NgClient, waitForPing, type NgDict } from "./ng-client.ts";
import { buildRequest, doBind, type Step } from "./replay.ts";
import { matchSdp, type Vars } from "./match.ts";
import { lineDiff, normaliseReply } from "./normalise.ts";
import { REFERENCE, daemonMissing, startDaemon, type Daemon } from "./daemon.ts";
import { cleanupOnExit, createNetns, destroyNetns, nsName } from "./netns.ts";

const HERE = import.meta.dir;
const { values: opt } = parseArgs({
  args: Bun.argv.slice(2),
  options: {
    ours: { type: "string", default: "bun src/main.ts" },
    reference: { type: "string", default: REFERENCE },
    corpus: { type: "string", default: join(HERE, "diff-corpus.json") },
    call: { type: "string", multiple: true }, // only calls whose name contains this
    request: { type: "string", multiple: true },
    strict: { type: "boolean", default: false },
    "show-same": { type: "boolean", default: false },
    "keep-logs": { type: "boolean", default: false },
    timeout: { type: "string", default: "5000" },
    inner: { type: "boolean", default: false },
    "log-dir": { type: "string" },
  },
});

const ADDRS = ["203.0.113.1", "2001:db8:4321::1", "203.0.113.2", "2001:db8:4321::2"];
const common = ["--config-file=none", "-t", "-1", "-i", "203.0.113.1", "-i", "2001:db8:4321::1", "-f", "-E", "-L", "7"];
const REF_ARGS = [...common, "-n", "127.0.0.1:2223", "-c", "127.0.0.1:12345", "--port-min=30000", "--port-max=39999"];
const OUR_ARGS = [...common, "-n", "127.0.0.1:2224", "-c", "127.0.0.1:12346", "--port-min=40000", "--port-max=49999"];

interface CorpusCall {
  name?: string;
  line?: number;
  condition?: string | null;
  steps: Step[];
}

if (opt.inner) await inner();
else await outer();

async function outer(): Promise<void> {
  if (!existsSync(opt.reference!)) {
    console.log(`SKIP: reference daemon ${opt.reference} is not installed (apt-get install -y rtpengine-daemon); nothing to compare against`);
    process.exit(0);
  }
  const missing = daemonMissing(opt.ours!);
  if (missing) {
    console.error(`diff: ${missing}`);
    process.exit(2);
  }
  if (process.getuid?.() !== 0) {
    console.error("diff: needs root (ip netns)");
    process.exit(2);
  }
  const ns = nsName("diff", 0);
  cleanupOnExit(() => destroyNetns(ns));
  createNetns(ns, ADDRS);
  const logDir = opt["log-dir"] ?? mkdtempSync(join(tmpdir(), "ngdiff-"));
  const fwd = Bun.argv.slice(2).filter((a) => a !== "--inner");
  const p = Bun.spawn(["ip", "netns", "exec", ns, process.execPath, import.meta.path, "--inner", "--log-dir", logDir, ...fwd], { stdout: "inherit", stderr: "inherit" });
  const killer = setTimeout(() => p.kill("SIGKILL"), 600_000);
  const code = await p.exited;
  clearTimeout(killer);
  destroyNetns(ns);
  process.exit(code);
}

function loadCalls(): CorpusCall[] {
  if (opt.request?.length) {
    const steps = opt.request.map((r, i) => {
      const d = JSON.parse(r) as Record<string, unknown>;
      const { command, sdp, ...flags } = d;
      // flags override the generated call-id / tags, so an ad-hoc request may name its own
      const via = command === "offer" || command === "answer" ? String(command) : "rtpe_req";
      return { line: i + 1, command: String(command), via, flags, sdp_in: typeof sdp === "string" ? sdp : null } as Step;
    });
    return [{ name: "ad-hoc", steps }];
  }
  const c = JSON.parse(readFileSync(opt.corpus!, "utf8")) as { calls: CorpusCall[] };
  const calls = c.calls.filter((x) => x.condition == null);
  return opt.call?.length ? calls.filter((x) => opt.call!.some((n) => (x.name ?? x.steps[0]?.name ?? "").includes(n))) : calls;
}

async function inner(): Promise<void> {
  const logDir = opt["log-dir"]!;
  const timeoutMs = Number(opt.timeout);
  const ref = startDaemon(opt.reference!, REF_ARGS, join(logDir, "reference.log"));
  const ours = startDaemon(opt.ours!, OUR_ARGS, join(logDir, "ours.log"));
  const cref = await NgClient.open({ host: "127.0.0.1", port: 2223, timeoutMs });
  const cours = await NgClient.open({ host: "127.0.0.1", port: 2224, timeoutMs });
  const stopAll = async () => {
    cref.close();
    cours.close();
    await Promise.all([ref.stop(), ours.stop()]);
  };
  const up = async (d: Daemon, c: NgClient, what: string) => {
    if (await waitForPing(c, 30_000, d.alive)) return true;
    console.log(`ERROR: ${what} daemon did not answer ping; log tail:\n${d.logTail()}`);
    return false;
  };
  if (!(await up(ref, cref, "reference")) || !(await up(ours, cours, "our"))) {
    await stopAll();
    process.exit(2);
  }
  let same = 0;
  let differ = 0;
  const vars: Vars = {};
  for (const call of loadCalls()) {
    const callId = `diff-${randomBytes(5).toString("hex")}`;
    const tags = { ft: randomBytes(5).toString("hex"), tt: randomBytes(5).toString("hex") };
    const title = call.name ?? call.steps[0]?.name ?? `line ${call.line}`;
    for (const step of call.steps) {
      if (step.command === "reverse_tags") {
        [tags.ft, tags.tt] = [tags.tt, tags.ft];
        continue;
      }
      if (["new_ft", "new_tt", "let", "use_json"].includes(step.command)) continue;
      let req: NgDict;
      try {
        req = buildRequest(step, callId, vars, tags);
      } catch (e) {
        console.log(`# ${title} / ${step.command}: cannot build request: ${(e as Error).message}`);
        continue;
      }
      const [a, b] = await Promise.all([ask(cref, req), ask(cours, req)]);
      if (step.sdp_expected != null && typeof a.sdp === "string") {
        const m = matchSdp(step.sdp_expected, a.sdp, vars);
        if (m.ok) doBind(step, m.groups, a, vars);
      }
      const sent = typeof req.sdp === "string" ? req.sdp : "";
      const ja = JSON.stringify(normaliseReply(a, sent), null, 1).split("\n");
      const jb = JSON.stringify(normaliseReply(b, sent), null, 1).split("\n");
      const d = lineDiff(ja, jb);
      const head = `# ${title} / ${step.command}${step.line ? ` (line ${step.line})` : ""}`;
      if (d.length === 0) {
        same++;
        if (opt["show-same"] || opt.request?.length) console.log(`${head}: SAME`);
        if (opt.request?.length) console.log(ja.map((l) => `    ${l}`).join("\n"));
      } else {
        differ++;
        console.log(`${head}: DIFFERENT (- reference, + ours)`);
        console.log(d.map((l) => `  ${l}`).join("\n"));
      }
    }
  }
  await stopAll();
  // the outer process made logDir; keep it only when there is something to look at
  const keep = differ > 0 || opt["keep-logs"];
  if (!keep) rmSync(logDir, { recursive: true, force: true });
  console.log(`diff: ${same} identical, ${differ} different replies${keep ? ` (logs: ${logDir})` : ""}`);
  process.exit(opt.strict && differ > 0 ? 1 : 0);
}

/** A reply dict, or a stand-in dict describing why there is none (so both sides diff uniformly). */
async function ask(c: NgClient, req: NgDict): Promise<NgDict> {
  try {
    return await c.request(req);
  } catch (e) {
    return { "no-reply": (e as Error).message };
  }
}
