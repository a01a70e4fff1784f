// Registers the call commands (offer, answer, delete, query, list, statistics) with the ng dispatcher.
import type { Config } from "../config/types.ts";
import { registerCommand } from "../control/registry.ts";
import { NgError, type NgDict } from "../control/types.ts";
import { BookingPortAllocator, type PortAllocator } from "../media/ports.ts";
import type { MediaHooks } from "../media/hooks.ts";
import { CallEngine } from "./engine.ts";
import { parseCallFlags } from "./flags.ts";
import { Interfaces } from "./interfaces.ts";
import { callStats, listReply, statisticsReply } from "./query.ts";

let engine: CallEngine | null = null;

/** The running engine (for the media plane, CLI and tests). */
export function callEngine(): CallEngine | null {
  return engine;
}

/** Build the engine from the configuration; `ports` lets the media plane supply a socket-backed allocator. */
export function createCallEngine(config: Pick<Config, "interfaces" | "portMin" | "portMax" | "deleteDelay" | "maxSessions"> & Partial<Config>, ports?: PortAllocator, media?: MediaHooks): CallEngine {
  return new CallEngine({
    interfaces: new Interfaces(config.interfaces),
    ports: ports ?? new BookingPortAllocator(config.portMin, config.portMax),
    media,
    deleteDelay: config.deleteDelay,
    maxSessions: config.maxSessions,
    portMin: config.portMin,
    portMax: config.portMax,
    dtlsPassive: config.dtlsPassive ?? false,
    rejectInvalidSdp: config.rejectInvalidSdp ?? false,
    sipSource: config.sipSource ?? false,
  });
}

/** The ng handlers over one engine, usable without the registry (tests). */
export function callHandlers(e: CallEngine): Record<string, (req: NgDict) => NgDict> {
  return {
    offer: (req): NgDict => {
      const r = e.offer(parseCallFlags(req));
      if ("loadLimit" in r) return { result: "load limit", message: "Parallel session limit reached" };
      return { sdp: r.sdp };
    },
    answer: (req) => ({ sdp: e.answer(parseCallFlags(req)) }),
    delete: (req) => {
      const f = parseCallFlags(req);
      try {
        return e.delete(f, f.deleteDelay, (call) => callStats(call));
      } catch (err) {
        // without `fatal`, a delete for an unknown call is only a warning
        if (err instanceof NgError && !f.flags.has("fatal")) return { warning: err.message };
        throw err;
      }
    },
    query: (req) => {
      const f = parseCallFlags(req);
      const call = e.calls.get(f.callId);
      if (!call) throw new NgError("Unknown call-id");
      return callStats(call, f.fromTag || null);
    },
    list: (req) => {
      const lim = req.limit;
      const n = typeof lim === "number" ? lim : typeof lim === "string" && /^\d+$/.test(lim) ? Number(lim) : 32;
      if (n <= 0) throw new NgError("Invalid limit, must be > 0");
      return listReply(e, n);
    },
    statistics: () => statisticsReply(e),
  };
}

export function registerCallCommands(config: Config, ports?: PortAllocator, media?: MediaHooks): CallEngine {
  engine = createCallEngine(config, ports, media);
  for (const [name, h] of Object.entries(callHandlers(engine))) registerCommand(name, h);
  return engine;
}
