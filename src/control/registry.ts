// The table of ng commands: subsystems register their handlers here; the dispatcher looks them up.
import type { NgHandler } from "./types.ts";

const handlers = new Map<string, NgHandler>();
/** the spelling each command was registered with (the wire is case-sensitive: "block DTMF", not "block dtmf") */
const spellings = new Map<string, string>();

/**
 * Register the handler for an ng command name, e.g. "offer", "start recording", "block DTMF".
 * Lookup is case-insensitive; the dispatcher accepts on the wire only the spelling rtpengine
 * documents (or, for commands it does not document, the spelling registered here).
 */
export function registerCommand(name: string, handler: NgHandler): void {
  handlers.set(name.toLowerCase(), handler);
  spellings.set(name.toLowerCase(), name);
}

export function lookupCommand(name: string): NgHandler | undefined {
  return handlers.get(name.toLowerCase());
}

/** The spelling a command was registered with, if it is registered. */
export function registeredName(name: string): string | undefined {
  return spellings.get(name.toLowerCase());
}

export function registeredCommands(): string[] {
  return [...handlers.keys()].sort();
}
