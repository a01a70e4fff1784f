// `--table` and `--no-fallback`: open the kernel forwarding table at startup, or fall back to userspace (logged), or refuse to start.
import { KernelTable, PROC_ROOT } from "./proc.ts";
import { kernelStatus } from "./status.ts";

export interface KernelLog {
  info(m: string): void;
  warning(m: string): void;
}

export interface KernelStartup {
  /** the held table, or null: forwarding in userspace */
  table: KernelTable | null;
  /** with --no-fallback and no table: the one line to print before exiting 1 */
  fatal: string | null;
}

/** Test hook: a directory standing in for /proc/rtpengine (the host here cannot load the module). */
export function procRoot(env: Record<string, string | undefined> = process.env): string {
  return env["RTPENGINE_TS_PROC_RTPENGINE"] || PROC_ROOT;
}

/** As rtpengine's startup: a negative table means userspace by choice; a table that cannot be set up is logged and either tolerated or fatal (`no-fallback`). */
export function openKernelTable(cfg: { table: number; noFallback: boolean }, log: KernelLog, root = procRoot()): KernelStartup {
  kernelStatus.table = cfg.table;
  if (cfg.table < 0) {
    kernelStatus.reason = "disabled by --table";
    log.info(`Kernel forwarding disabled (--table=${cfg.table}): forwarding in userspace`);
    return { table: null, fatal: null };
  }
  try {
    const table = KernelTable.open(cfg.table, root);
    kernelStatus.active = true;
    kernelStatus.reason = "";
    log.info(`Kernel forwarding table ${cfg.table} created, ${root}/${cfg.table}/control held`);
    return { table, fatal: null };
  } catch (e) {
    const why = (e as Error).message;
    kernelStatus.reason = why;
    // rtpengine's own wording, so existing log monitoring keeps matching
    const line = `FAILED TO CREATE KERNEL TABLE ${cfg.table} (${why}), KERNEL FORWARDING DISABLED`;
    // --no-fallback: the caller prints the one fatal line (and logs it when the log is not stderr)
    if (cfg.noFallback) {
      return { table: null, fatal: `rtpengine: kernel forwarding table ${cfg.table} unavailable (${why}) and --no-fallback given: exiting` };
    }
    log.warning(`${line}: falling back to userspace forwarding`);
    return { table: null, fatal: null };
  }
}

/** Shutdown: release and delete the table (as rtpengine does), logging instead of throwing. */
export function closeKernelTable(table: KernelTable | null, log: KernelLog): void {
  if (!table) return;
  try {
    table.close();
    log.info(`Kernel forwarding table ${table.id} deleted`);
  } catch (e) {
    log.warning(`Kernel forwarding table ${table.id} not deleted: ${(e as Error).message}`);
  } finally {
    kernelStatus.active = false;
    kernelStatus.reason = "shut down";
    kernelStatus.rules = 0;
  }
}
