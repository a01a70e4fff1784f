// Start and stop a daemon under test (ours from source, ours compiled, or the reference) with its log in a file.
import { isAbsolute, join, resolve } from "node:path";
import { openSync, closeSync, readFileSync, existsSync } from "node:fs";

export const REPO = resolve(import.meta.dir, "../..");
export const REFERENCE = "/usr/bin/rtpengine";

/**
 * Turn a `--daemon` string into argv: a leading `bun` becomes this bun's path (PATH differs
 * under `ip netns exec`), relative paths resolve against the repo.
 */
export function daemonArgv(cmd: string): string[] {
  const parts = cmd.trim().split(/\s+/);
  return parts.map((p, i) => {
    if (i === 0 && p === "bun") return process.execPath;
    if (!isAbsolute(p) && (p.includes("/") || p.endsWith(".ts")) && existsSync(join(REPO, p))) return join(REPO, p);
    return p;
  });
}

/** Null when the daemon's executable exists, else a message saying what is missing. */
export function daemonMissing(cmd: string): string | null {
  const exe = daemonArgv(cmd)[0]!;
  if (exe.includes("/") ? existsSync(exe) : Bun.which(exe) !== null) return null;
  return `daemon executable '${exe}' not found${exe.endsWith("dist/rtpengine") ? " (build it: bun scripts/build.ts)" : ""}`;
}

export interface Daemon {
  proc: ReturnType<typeof Bun.spawn>;
  logPath: string;
  alive(): boolean;
  stop(): Promise<void>;
  logTail(lines?: number): string;
}

/** Spawn `cmd args`, stdout+stderr appended to logPath; cwd is the repo so `src/main.ts` resolves. */
export function startDaemon(cmd: string, args: string[], logPath: string): Daemon {
  const fd = openSync(logPath, "a");
  const argv = [...daemonArgv(cmd), ...args];
  const proc = Bun.spawn(argv, { cwd: REPO, stdin: "ignore", stdout: fd, stderr: fd });
  closeSync(fd);
  let exited = false;
  void proc.exited.then(() => (exited = true));
  return {
    proc,
    logPath,
    alive: () => !exited,
    async stop() {
      if (exited) return;
      proc.kill("SIGTERM");
      const t = setTimeout(() => proc.kill("SIGKILL"), 3000);
      await proc.exited;
      clearTimeout(t);
    },
    logTail(lines = 15) {
      try {
        return readFileSync(logPath, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
      } catch {
        return "";
      }
    },
  };
}
