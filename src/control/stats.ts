// Control-plane counters: per ng command and per SIP proxy (count, errors, time spent) and protocol-level errors, for statistics and Prometheus.
import type { NgDict } from "./types.ts";

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

interface ProxyCounters {
  commands: Map<string, { count: number; totalMs: number }>;
  errors: number;
}
const proxies = new Map<string, ProxyCounters>();
/** bound the per-proxy table: a scan from many source addresses must not grow it forever */
const MAX_PROXIES = 1024;

function proxy(address: string): ProxyCounters {
  let p = proxies.get(address);
  if (!p) {
    if (proxies.size >= MAX_PROXIES) proxies.delete(proxies.keys().next().value!);
    p = { commands: new Map(), errors: 0 };
    proxies.set(address, p);
  }
  return p;
}

/** Count one executed command (key is lower case). */
export function countCommand(name: string, ms: number, error: boolean, proxyAddress?: string): void {
  const key = name.toLowerCase();
  let c = controlCounters.commands.get(key);
  if (!c) {
    c = { count: 0, errors: 0, totalMs: 0 };
    controlCounters.commands.set(key, c);
  }
  c.count++;
  c.totalMs += ms;
  if (error) c.errors++;
  if (proxyAddress !== undefined) {
    const p = proxy(proxyAddress);
    const pc = p.commands.get(key) ?? { count: 0, totalMs: 0 };
    pc.count++;
    pc.totalMs += ms;
    p.commands.set(key, pc);
    if (error) p.errors++;
  }
}

/** Count an error reply that never reached a command (malformed message). */
export function countProxyError(proxyAddress: string): void {
  proxy(proxyAddress).errors++;
}

/** Per proxy: executed commands (lower-case name -> count and total ms) and error replies, for Prometheus. */
export function proxyCounters(): Array<{ proxy: string; commands: ReadonlyMap<string, { count: number; totalMs: number }>; errors: number }> {
  return [...proxies].map(([proxy, p]) => ({ proxy, commands: p.commands, errors: p.errors }));
}

/** For tests and `statistics`: a plain snapshot. */
export function snapshotControlCounters(): Omit<ControlCounters, "commands"> & { commands: Record<string, CommandCounter> } {
  const commands: Record<string, CommandCounter> = {};
  for (const [k, v] of controlCounters.commands) commands[k] = { ...v };
  const { dropped, malformed, unknownCommand, retransmissions, internalErrors } = controlCounters;
  return { commands, dropped, malformed, unknownCommand, retransmissions, internalErrors };
}

// Short names rtpengine uses in "controlstatistics" (statistics reply, list jsonstats), in its order.
const SHORT_NAMES: ReadonlyArray<[string, string]> = [
  ["ping", "ping"], ["offer", "offer"], ["answer", "answer"], ["delete", "delete"], ["query", "query"], ["list", "list"],
  ["start recording", "startrec"], ["stop recording", "stoprec"], ["start forwarding", "startfwd"], ["stop forwarding", "stopfwd"],
  ["block dtmf", "blkdtmf"], ["unblock dtmf", "unblkdtmf"], ["block media", "blkmedia"], ["unblock media", "unblkmedia"],
  ["play media", "playmedia"], ["stop media", "stopmedia"], ["play dtmf", "playdtmf"], ["statistics", "stats"],
  ["silence media", "slnmedia"], ["unsilence media", "unslnmedia"], ["publish", "pub"], ["subscribe request", "subreq"],
  ["subscribe answer", "subans"], ["unsubscribe", "unsub"],
];

const seconds = (ms: number): string => (ms / 1000).toFixed(6);

/** The "controlstatistics" dictionary of the `statistics` reply, in rtpengine's shape. */
export function controlStatistics(): NgDict {
  const list: NgDict[] = [];
  for (const [address, p] of proxies) {
    const entry: NgDict = { proxy: address };
    for (const [cmd, short] of SHORT_NAMES) {
      const c = p.commands.get(cmd);
      entry[`${short}count`] = c?.count ?? 0;
      entry[`${short}duration`] = seconds(c && c.count ? c.totalMs / c.count : 0);
    }
    entry["errorcount"] = p.errors;
    list.push(entry);
  }
  const out: NgDict = { proxies: list };
  for (const [cmd, short] of SHORT_NAMES) out[`total${short}count`] = controlCounters.commands.get(cmd)?.count ?? 0;
  return out;
}
