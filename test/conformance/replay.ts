// Replays the calls of one conformance vector file over ng and grades every step.
import { randomBytes } from "node:crypto";
import { matchSdp, interpolate, normaliseSdp, type Vars } from "./match.ts";
import type { Encoding, NgClient, NgDict, NgValue } from "./ng-client.ts";
import { primeMedia, sdpEndpoint, type Endpoint } from "./media-primer.ts";

export interface Step {
  line: number;
  command: string;
  via?: string;
  name?: string;
  flags?: Record<string, unknown> | null;
  sdp_in?: string | null;
  sdp_expected?: string | null;
  bind?: { var: string; from: string; list?: boolean }[];
  after_media?: boolean;
  media_before?: number;
  var?: string;
  value?: unknown;
}
export interface Call {
  line: number;
  addresses: [string, number][];
  condition: string | null;
  steps: Step[];
}
export interface VectorFile {
  file: string;
  autotest_start: string[];
  calls: Call[];
}

export type StepStatus = "pass" | "fail" | "not-run";
export interface StepResult {
  id: string; // FILE:STEPLINE
  call: string; // FILE:CALLLINE
  name: string;
  command: string;
  status: StepStatus;
  reason?: string;
  afterMedia?: boolean;
  /** Reason from exclusions.json when the call is excluded. */
  excluded?: string;
  expected?: string;
  got?: string;
  mismatch?: { line: number; expected: string; got: string };
}
export interface FileResult {
  file: string;
  passed: number;
  failed: number;
  /** Excluded calls (features owned by later work) are run but counted apart. */
  excludedPassed: number;
  excludedFailed: number;
  excludedSkipped: number;
  conditionalCalls: number;
  conditionalSteps: number;
  steps: StepResult[];
  error?: string;
}

const PSEUDO = new Set(["reverse_tags", "new_ft", "new_tt", "let", "use_json"]);
const tag = (): string => randomBytes(6).toString("hex");

/** Every step that is a real request (pseudo-steps are not counted). */
export const countedSteps = (c: Call): Step[] => c.steps.filter((s) => !PSEUDO.has(s.command));

/** Resolve `{"$var": X}` / `{"$bytes_hex": H}` inside flag values. */
function resolveValue(v: unknown, vars: Vars, tags: { ft: string; tt: string }): NgValue {
  if (v === null || v === undefined) return "";
  if (typeof v === "boolean") return v ? 1 : 0;
  if (typeof v === "number" || typeof v === "string") return v;
  if (Array.isArray(v)) return v.map((x) => resolveValue(x, vars, tags));
  const o = v as Record<string, unknown>;
  if ("$var" in o) {
    const name = String(o.$var);
    if (name === "ft") return tags.ft;
    if (name === "tt") return tags.tt;
    return resolveValue(vars[name], vars, tags);
  }
  if ("$bytes_hex" in o) return new Uint8Array(Buffer.from(String(o.$bytes_hex), "hex"));
  if ("$perl" in o) throw new Error(`unconvertible Perl value: ${String(o.$perl)}`);
  return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, resolveValue(x, vars, tags)]));
}

/** Build the ng request for a step, with the documented implicit defaults. */
export function buildRequest(step: Step, callId: string, vars: Vars, tags: { ft: string; tt: string }): NgDict {
  const via = step.via ?? step.command;
  const req: NgDict = { command: step.command, "call-id": callId };
  if (via === "offer" || via === "answer" || via === "publish") req["from-tag"] = tags.ft;
  if (via === "answer") req["to-tag"] = tags.tt;
  for (const [k, v] of Object.entries(step.flags ?? {})) req[k] = resolveValue(v, vars, tags);
  if (step.sdp_in != null) req.sdp = interpolate(step.sdp_in, vars).replace(/\r?\n/g, "\r\n");
  return req;
}

export function doBind(step: Step, groups: string[], reply: NgDict, vars: Vars): void {
  for (const b of step.bind ?? []) {
    const from = b.from;
    if (from === "response") vars[b.var] = reply;
    else if (from.startsWith("response.")) vars[b.var] = reply[from.slice("response.".length)];
    else if (from === "group.count") vars[b.var] = groups.length;
    else if (from.startsWith("group.")) {
      const spec = from.slice("group.".length);
      const n = parseInt(spec, 10);
      if (spec.endsWith("..") || b.list) vars[b.var] = groups.slice(n - 1);
      else vars[b.var] = groups[n - 1]; // a missing group is undef in Perl
    }
  }
}

export interface ReplayOptions {
  timeoutMs: number;
  /** Call ids (FILE:CALLLINE) counted apart, with the reason. */
  exclusions: Record<string, string>;
  /** Do not even send the excluded calls. */
  skipExcluded?: boolean;
  /** Send a little RTP before steps that upstream ran after media (default on). */
  primeMedia?: boolean;
  /** Called after each step (progress output). */
  onStep?: (r: StepResult) => void;
}

export const emptyResult = (file: string): FileResult => ({ file, passed: 0, failed: 0, excludedPassed: 0, excludedFailed: 0, excludedSkipped: 0, conditionalCalls: 0, conditionalSteps: 0, steps: [] });

/** Replay every unconditional call of `vf` through `client`. */
export async function replayFile(vf: VectorFile, client: NgClient, opts: ReplayOptions): Promise<FileResult> {
  const res = emptyResult(vf.file);
  const vars: Vars = {}; // file-scoped, as the Perl lexicals are
  let encoding: Encoding = "bencode";
  let timeouts = 0; // consecutive request timeouts
  let dead: string | null = null; // set once the daemon stops answering: the rest fails fast
  for (const call of vf.calls) {
    const callKey = `${vf.file}:${call.line}`;
    if (call.condition !== null) {
      res.conditionalCalls++;
      res.conditionalSteps += countedSteps(call).length;
      continue;
    }
    const excluded = opts.exclusions[callKey];
    if (excluded !== undefined && opts.skipExcluded) {
      res.excludedSkipped += countedSteps(call).length;
      continue;
    }
    const callId = `conf-${tag()}-${call.line}`;
    const tags = { ft: tag(), tt: tag() };
    let broken: string | null = null;
    const sdps: { offerIn?: string; offerOut?: string; answerIn?: string; answerOut?: string } = {};
    for (const step of call.steps) {
      switch (step.command) {
        case "reverse_tags":
          [tags.ft, tags.tt] = [tags.tt, tags.ft];
          continue;
        case "new_ft":
          tags.ft = tag();
          continue;
        case "new_tt":
          tags.tt = tag();
          continue;
        case "let":
          if (step.var) vars[step.var] = step.value;
          continue;
        case "use_json":
          encoding = "json";
          continue;
      }
      const r: StepResult = { id: `${vf.file}:${step.line}`, call: callKey, name: step.name ?? "", command: step.command, status: "pass" };
      if (step.after_media) r.afterMedia = true;
      if (excluded !== undefined) r.excluded = excluded;
      if (dead !== null) {
        r.status = "not-run";
        r.reason = dead;
      } else if (broken !== null) {
        r.status = "not-run";
        r.reason = `earlier step failed (${broken})`;
      } else {
        if (step.after_media && (step.media_before ?? 0) > 0 && opts.primeMedia !== false) {
          const why = await primeCall(call, sdps);
          if (why) r.reason = `media primer: ${why}`;
        }
        const reply = await runStep(step, callId, vars, tags, encoding, client, opts.timeoutMs, r);
        if (r.status === "fail") broken = `line ${step.line}`;
        timeouts = r.reason?.includes("timeout waiting for reply") ? timeouts + 1 : 0;
        if (timeouts >= 3) {
          const alive = await client.request({ command: "ping" }, "bencode", 2000).then((x) => x.result === "pong", () => false);
          if (!alive) dead = "daemon stopped answering (3 timeouts, no pong)";
          timeouts = 0;
        }
        const sent = step.sdp_in != null ? interpolate(step.sdp_in, vars) : undefined;
        const got = typeof reply?.sdp === "string" ? reply.sdp : undefined;
        if (step.command === "offer") [sdps.offerIn, sdps.offerOut] = [sent, got];
        if (step.command === "answer") [sdps.answerIn, sdps.answerOut] = [sent, got];
      }
      if (excluded !== undefined) r.status === "pass" ? res.excludedPassed++ : res.excludedFailed++;
      else r.status === "pass" ? res.passed++ : res.failed++;
      res.steps.push(r);
      opts.onStep?.(r);
    }
  }
  return res;
}

/**
 * The offerer sends to the port in the answer reply, the answerer to the port in the offer
 * reply; each only from an address:port the call's test sockets used upstream.
 */
async function primeCall(call: Call, sdps: { offerIn?: string; offerOut?: string; answerIn?: string; answerOut?: string }): Promise<string | null> {
  const bound = new Set(call.addresses.map(([a, p]) => `${a}:${p}`));
  const pairs: { from: Endpoint; to: Endpoint }[] = [];
  for (const [fromSdp, toSdp] of [[sdps.offerIn, sdps.answerOut], [sdps.answerIn, sdps.offerOut]]) {
    const from = sdpEndpoint(fromSdp);
    const to = sdpEndpoint(toSdp);
    if (from && to && bound.has(`${from.addr}:${from.port}`)) pairs.push({ from, to });
  }
  return pairs.length ? primeMedia(pairs) : "no endpoints to send from";
}

async function runStep(step: Step, callId: string, vars: Vars, tags: { ft: string; tt: string }, encoding: Encoding, client: NgClient, timeoutMs: number, r: StepResult): Promise<NgDict | null> {
  const fail = (reason: string): null => {
    r.status = "fail";
    r.reason = (r.reason ? `${r.reason}; ` : "") + reason;
    return null;
  };
  let req: NgDict;
  try {
    req = buildRequest(step, callId, vars, tags);
  } catch (e) {
    return fail(`cannot build request: ${(e as Error).message}`);
  }
  let reply: NgDict;
  try {
    reply = await client.request(req, encoding, timeoutMs);
  } catch (e) {
    return fail((e as Error).message);
  }
  if (reply.result !== "ok") {
    const why = reply["error-reason"] ?? reply["warning"] ?? "";
    return fail(`result '${String(reply.result)}'${why ? `: ${String(why)}` : ""}`);
  }
  let groups: string[] = [];
  if (step.sdp_expected != null) {
    if (typeof reply.sdp !== "string") return fail("reply has no sdp");
    const m = matchSdp(step.sdp_expected, reply.sdp, vars);
    if (!m.ok) {
      r.expected = interpolate(step.sdp_expected, vars);
      r.got = normaliseSdp(reply.sdp);
      r.mismatch = m.mismatch;
      return fail(`SDP mismatch at line ${m.mismatch?.line}`);
    }
    groups = m.groups;
  }
  doBind(step, groups, reply, vars);
  return reply;
}
