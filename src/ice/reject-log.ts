// Counted, rate-limited logging of rejected ICE/STUN input, so a flood cannot flood the log.
import { getLogger } from "../log/logger.ts";

const log = getLogger("ice");
let windowStart = 0;
let linesInWindow = 0;
const LINES_PER_SECOND = 10;

/** Increment counters[reason] and log one line (at most 10 a second process-wide). */
export function countReject<R extends string>(counters: Partial<Record<R, number>>, reason: R, detail: string): void {
  counters[reason] = (counters[reason] ?? 0) + 1;
  const now = Date.now();
  if (now - windowStart >= 1000) { windowStart = now; linesInWindow = 0; }
  if (++linesInWindow <= LINES_PER_SECOND) log.info(`ICE: rejected ${detail}: ${reason}`);
}
