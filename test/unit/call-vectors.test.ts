// Replays the conformance vectors straight into the call engine (no sockets, no namespace) and counts matching steps.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { callHandlers, createCallEngine } from "../../src/call/commands.ts";
import type { NgDict as EngineDict, NgValue as EngineValue } from "../../src/control/types.ts";
import type { InterfaceSpec } from "../../src/config/types.ts";
import { matchSdp } from "../conformance/match.ts";
import { buildRequest, doBind, type Step, type VectorFile } from "../conformance/replay.ts";

const DIR = process.env.CONFORMANCE_DIR ?? "/work/shared/conformance";
const VERBOSE = !!process.env.VECTORS_VERBOSE;

/** `-i [NAME/]ADDR[!ADV]` options of a file's autotest_start. */
function interfacesOf(args: string[]): InterfaceSpec[] {
  const out: InterfaceSpec[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    let v: string | null = null;
    if (a === "-i" || a === "--interface") v = args[++i] ?? null;
    else if (a.startsWith("--interface=")) v = a.slice(12);
    if (!v) continue;
    const slash = v.indexOf("/");
    const name = slash > 0 && !v.slice(0, slash).includes(":") ? v.slice(0, slash) : "default";
    const rest = slash > 0 && name !== "default" ? v.slice(slash + 1) : v;
    const [address, adv] = rest.split("!");
    out.push({ name, address: address!, advertised: adv ?? null, family: address!.includes(":") ? 6 : 4 });
  }
  return out;
}

/** The runner's request values may hold bytes; the engine sees latin1 strings, as the ng codec delivers them. */
function toEngine(v: unknown): EngineValue {
  if (v instanceof Uint8Array) return Buffer.from(v).toString("latin1");
  if (Array.isArray(v)) return v.map(toEngine);
  if (v !== null && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toEngine(x)])) as EngineDict;
  return v as EngineValue;
}

interface Tally {
  pass: number;
  fail: number;
  skipped: number;
  failures: string[];
}

let seq = 0;
const tagGen = () => `t${(++seq).toString(36)}x${Math.random().toString(36).slice(2, 8)}`;

function replay(file: string): Tally {
  const vf = JSON.parse(readFileSync(`${DIR}/${file}`, "utf8")) as VectorFile & { autotest_start: string[] };
  const engine = createCallEngine({ interfaces: interfacesOf(vf.autotest_start), portMin: 30000, portMax: 40000, deleteDelay: 0, maxSessions: -1 });
  const h = callHandlers(engine);
  const t: Tally = { pass: 0, fail: 0, skipped: 0, failures: [] };
  const vars: Record<string, unknown> = {};
  for (const call of vf.calls) {
    if (call.condition !== null) continue;
    const callId = `vec-${call.line}-${tagGen()}`;
    const tags = { ft: tagGen(), tt: tagGen() };
    for (const step of call.steps as Step[]) {
      if (step.command === "reverse_tags") {
        [tags.ft, tags.tt] = [tags.tt, tags.ft];
        continue;
      }
      if (step.command === "new_ft") { tags.ft = tagGen(); continue; }
      if (step.command === "new_tt") { tags.tt = tagGen(); continue; }
      if (step.command === "let" || step.command === "use_json") { t.skipped++; continue; }
      const handler = h[step.command];
      if (!handler) { t.skipped++; continue; }
      let reply: EngineDict;
      const where = `${file}:${call.line}/${step.line} ${step.command} ${step.name ?? ""}`;
      try {
        reply = handler(toEngine(buildRequest(step, callId, vars, tags)) as EngineDict);
      } catch (e) {
        t.fail++;
        t.failures.push(`${where}: threw ${(e as Error).message}`);
        continue;
      }
      if (step.sdp_expected == null) {
        t.pass++;
        doBind(step, [], reply as never, vars);
        continue;
      }
      const got = String(reply.sdp ?? "");
      const m = matchSdp(step.sdp_expected, got, vars);
      if (m.ok) {
        t.pass++;
        doBind(step, m.groups, reply as never, vars);
      } else {
        t.fail++;
        t.failures.push(`${where}: line ${m.mismatch?.line}\n   expected: ${m.mismatch?.expected}\n   got:      ${m.mismatch?.got}`);
        if (VERBOSE) t.failures.push(`--- full output:\n${got.replace(/\r\n/g, "\n")}`);
      }
    }
  }
  engine.clear();
  return t;
}

/** Steps known to pass; raise these as the engine improves so a regression fails the test. */
const FLOOR: Record<string, number> = {
  "auto-daemon-tests.pl.json": 221,
  "auto-daemon-tests-intfs.pl.json": 3,
  "auto-daemon-tests-stats.pl.json": 9,
  "auto-daemon-tests-dtx.pl.json": 9,
  "auto-daemon-tests-jb.pl.json": 2,
};

describe("conformance vectors replayed into the call engine", () => {
  for (const [file, floor] of Object.entries(FLOOR)) {
    test(file, () => {
      const t = replay(file);
      console.log(`${file}: ${t.pass} pass, ${t.fail} fail, ${t.skipped} not run (commands outside the call engine)`);
      if (VERBOSE || process.env.VECTORS_FAILURES) for (const f of t.failures) console.log(f);
      expect(t.pass).toBeGreaterThanOrEqual(floor);
    });
  }
});
