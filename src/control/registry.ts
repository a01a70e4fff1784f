// The table of ng commands: subsystems register their handlers here; the dispatcher looks them up.
import type { NgHandler } from "./types.ts";

const handlers = new Map<string, NgHandler>();

/** Register the handler for an ng command name (lower case, as sent on the wire, e.g. "offer", "start recording"). */
export function registerCommand(name: string, handler: NgHandler): void {
  handlers.set(name.toLowerCase(), handler);
}

export function lookupCommand(name: string): NgHandler | undefined {
  return handlers.get(name.toLowerCase());
}

export function registeredCommands(): string[] {
  return [...handlers.keys()].sort();
}
