// Runtime differences between Bun (source or compiled binary) and Deno: program name, user arguments, how to re-run ourselves.
import { basename } from "node:path";

export type RuntimeName = "bun" | "deno" | "node";

const g = globalThis as { Bun?: unknown; Deno?: unknown };

export function runtimeName(): RuntimeName {
  if (g.Deno !== undefined) return "deno";
  if (g.Bun !== undefined) return "bun";
  return "node";
}

/** True for the `bun build --compile` executable: the script lives in Bun's embedded file system. */
export function isCompiledBinary(): boolean {
  return runtimeName() === "bun" && (process.argv[1] ?? "").startsWith("/$bunfs/");
}

/**
 * The name we were invoked as, for the `rtpengine-ctl` personality: the basename of the
 * executable the user ran (compiled binary: argv0 through a symlink), or of the script.
 */
export function programName(): string {
  if (isCompiledBinary()) return basename(process.argv0 || process.execPath);
  return basename(process.argv[1] ?? process.argv0 ?? "rtpengine").replace(/\.(ts|js)$/, "");
}

/** The user's arguments (after program/script). */
export function userArgs(): string[] {
  return process.argv.slice(2);
}

/** The command line that starts this same program again (for daemonizing), without user arguments. */
export function selfCommand(): { cmd: string; args: string[] } {
  if (isCompiledBinary()) return { cmd: process.execPath, args: [] };
  const script = process.argv[1] ?? "";
  if (runtimeName() === "deno") return { cmd: process.execPath, args: ["run", "-A", script] };
  return { cmd: process.execPath, args: [script] };
}

/** Version string of the runtime, for the startup line. */
export function runtimeVersion(): string {
  const v = process.versions as Record<string, string | undefined>;
  const name = runtimeName();
  return `${name} ${v[name] ?? process.version}`;
}
