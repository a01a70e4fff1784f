// Per-call and per-participant media controls: `block media`, `silence media`, `block DTMF` (and their `un` forms).
import type { Call, Monologue } from "../call/model.ts";
import { NgError, type NgDict, type NgValue } from "../control/types.ts";
import { DTMF_DROP, type DtmfSecurity } from "./dtmf-security.ts";

export type ControlName = "blockMedia" | "silenceMedia" | "blockDtmf";

interface Controls {
  blockMedia: boolean;
  silenceMedia: boolean;
  blockDtmf: boolean;
  /** what `block DTMF` does with the events (its `DTMF-security` mode) */
  dtmfSecurity: DtmfSecurity;
}

const none = (): Controls => ({ blockMedia: false, silenceMedia: false, blockDtmf: false, dtmfSecurity: DTMF_DROP });
const byCall = new WeakMap<Call, Controls>();
const byMonologue = new WeakMap<Monologue, Controls>();

/** What applies to packets sent by this participant: its own setting or the call-wide one. */
export function effectiveControls(call: Call, from: Monologue): Controls {
  const c = byCall.get(call);
  const m = byMonologue.get(from);
  return {
    blockMedia: (c?.blockMedia ?? false) || (m?.blockMedia ?? false),
    silenceMedia: (c?.silenceMedia ?? false) || (m?.silenceMedia ?? false),
    blockDtmf: (c?.blockDtmf ?? false) || (m?.blockDtmf ?? false),
    // a participant's own block DTMF decides the mode over the call-wide one
    dtmfSecurity: m?.blockDtmf ? m.dtmfSecurity : c?.blockDtmf ? c.dtmfSecurity : DTMF_DROP,
  };
}

function str(v: NgValue | undefined): string | null {
  return typeof v === "string" ? v : typeof v === "number" ? String(v) : null;
}

function flagList(v: NgValue | undefined): string[] {
  if (Array.isArray(v)) return v.map((x) => (typeof x === "string" ? x.toLowerCase() : ""));
  return typeof v === "string" ? [v.toLowerCase()] : [];
}

/**
 * Participants a command selects, as the README describes for `block DTMF`: by `from-tag`, by SDP media
 * `address`, or by `label`; none of these = the whole call (returned as null).
 */
export function selectParticipants(call: Call, req: NgDict): Monologue[] | null {
  const tag = str(req["from-tag"]);
  const label = str(req.label);
  const address = str(req.address);
  if (tag) {
    const m = call.monologues.get(tag);
    if (!m) throw new NgError("From-tag given, but no such tag exists");
    return [m];
  }
  if (label) {
    const ms = call.all.filter((m) => m.label === label);
    if (!ms.length) throw new NgError("No monologue matching the given label");
    return ms;
  }
  if (address) {
    const ms = call.all.filter((m) => m.medias.some((md) => md.peer?.address === address));
    if (!ms.length) throw new NgError("Failed to match address to any tag");
    return ms;
  }
  return null;
}

/**
 * `drop-traffic start` / `drop-traffic stop` (offer or answer key): all media of the whole call is dropped (counted
 * as received, never forwarded) until stopped. Set here, checked by the relay and its fast-path rules.
 */
const dropTrafficCalls = new WeakSet<Call>();

export function setDropTraffic(call: Call, v: "start" | "stop" | null): void {
  if (v === "start") dropTrafficCalls.add(call);
  else if (v === "stop") dropTrafficCalls.delete(call);
}

export function dropTraffic(call: Call): boolean {
  return dropTrafficCalls.has(call);
}

/** Apply one `block`/`unblock` command to a call (`block DTMF`: with its `DTMF-security`). Throws NgError for bad selections. */
export function applyControl(call: Call, req: NgDict, what: ControlName, on: boolean, dtmfSecurity: DtmfSecurity = DTMF_DROP): void {
  const set = (c: Controls) => {
    c[what] = on;
    if (what === "blockDtmf" && on) c.dtmfSecurity = dtmfSecurity;
  };
  const targets = selectParticipants(call, req);
  if (targets) {
    for (const m of targets) {
      let c = byMonologue.get(m);
      if (!c) byMonologue.set(m, (c = none()));
      set(c);
    }
    return;
  }
  let c = byCall.get(call);
  if (!c) byCall.set(call, (c = none()));
  set(c);
  // unblocking the whole call leaves directional blocks in place unless `all` is given
  if (!on && flagList(req.flags).includes("all")) {
    for (const m of call.all) {
      const mc = byMonologue.get(m);
      if (mc) mc[what] = false;
    }
  }
}
