// What in-kernel forwarding is doing: which table, why not (if not), and every fallback to userspace, counted.

export interface KernelStatus {
  /** --table (negative = userspace only by choice) */
  table: number;
  /** true while this daemon holds /proc/rtpengine/<table>/control */
  active: boolean;
  /** why forwarding is in userspace (empty while active) */
  reason: string;
  /** rules currently in the kernel */
  rules: number;
  /** rules that went to userspace instead: a write to the kernel failed */
  writeFailures: number;
  /** rules that vanished from the kernel (table flushed or deleted behind our back) and moved to userspace */
  lostRules: number;
  /** SRTP rules kept in userspace because the module cannot do their suite, MKI or seeding (logged) */
  srtpInUserspace: number;
}

/** One per process, like the table it describes. */
export const kernelStatus: KernelStatus = { table: -1, active: false, reason: "not started", rules: 0, writeFailures: 0, lostRules: 0, srtpInUserspace: 0 };

/** Userspace fallbacks of single rules since start (write failures + vanished rules), for statistics. */
export function kernelFallbacks(): number {
  return kernelStatus.writeFailures + kernelStatus.lostRules;
}

/** The kernel figures for the ng `statistics` reply (currentstatistics), flat like rtpengine's keys. */
export function kernelStatistics(): Record<string, number | string> {
  const s = kernelStatus;
  return {
    kernel_table: s.table,
    kernel_forwarding: s.active ? "active" : `userspace (${s.reason})`,
    kernel_rules: s.rules,
    kernel_fallbacks: kernelFallbacks(),
  };
}
