// Control-plane counters: per ng command (count, errors, time spent) and protocol-level errors, for statistics and Prometheus.
export interface CommandCounter {
  /** requests executed (retransmissions answered from the cache are not counted here) */
  count: number;
  /** of those, how many answered result=error */
  errors: number;
  /** total handler time in milliseconds */
  totalMs: number;
}

export interface ControlCounters {
  commands: Map<string, CommandCounter>;
  /** datagrams dropped before a reply was possible (no cookie) */
  dropped: number;
  /** messages with a cookie that could not be decoded or had no command */
  malformed: number;
  /** requests naming a command that does not exist */
  unknownCommand: number;
  /** requests answered from the reply cache */
  retransmissions: number;
  /** handlers that threw something other than NgError */
  internalErrors: number;
}

export const controlCounters: ControlCounters = {
  commands: new Map(),
  dropped: 0,
  malformed: 0,
  unknownCommand: 0,
  retransmissions: 0,
  internalErrors: 0,
};

export function countCommand(name: string, ms: number, error: boolean): void {
  const key = name.toLowerCase();
  let c = controlCounters.commands.get(key);
  if (!c) {
    c = { count: 0, errors: 0, totalMs: 0 };
    controlCounters.commands.set(key, c);
  }
  c.count++;
  c.totalMs += ms;
  if (error) c.errors++;
}

/** For tests and `statistics`: a plain snapshot. */
export function snapshotControlCounters(): Omit<ControlCounters, "commands"> & { commands: Record<string, CommandCounter> } {
  const commands: Record<string, CommandCounter> = {};
  for (const [k, v] of controlCounters.commands) commands[k] = { ...v };
  const { dropped, malformed, unknownCommand, retransmissions, internalErrors } = controlCounters;
  return { commands, dropped, malformed, unknownCommand, retransmissions, internalErrors };
}
