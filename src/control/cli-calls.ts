// CLI commands over the call engine's state: `list numsessions` and `terminate <callid>|all|own|foreign`.
import type { CallEngine } from "../call/engine.ts";
import { registerCliCommand } from "./cli.ts";

/** Register the session commands for a running engine (all calls are "own": there is no Redis foreign state yet). */
export function registerCallCliCommands(engine: CallEngine): void {
  registerCliCommand("list numsessions", () => {
    const n = engine.calls.size;
    return (
      `Current sessions own: ${n}\n` +
      `Current sessions foreign: 0\n` +
      `Current sessions total: ${n}\n`
    );
  });
  registerCliCommand("terminate", (args) => {
    const what = args[0];
    if (what === undefined) return "More parameters required.\n";
    if (what === "all" || what === "own") {
      for (const c of [...engine.calls.values()]) engine.destroyCall(c);
      return what === "all" ? "All calls terminated by operator.\n" : "All own calls terminated by operator.\n";
    }
    if (what === "foreign") return "All foreign calls terminated by operator.\n";
    const call = engine.calls.get(args.join(" "));
    if (!call) return `\nCall Id not found (${args.join(" ")}).\n\n`;
    engine.destroyCall(call);
    return `\nCall Id (${call.callId}) successfully terminated by operator.\n\n`;
  });
}
