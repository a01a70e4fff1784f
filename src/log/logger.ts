// Logging through pino with rtpengine's syslog levels (0 emerg .. 7 debug), per-subsystem levels, stderr or syslog output.
import pino from "pino";
import { existsSync } from "node:fs";
import { spawn, type ChildProcess } from "node:child_process";

export const SYSLOG_LEVEL_NAMES = ["emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"] as const;
export type SyslogLevelName = (typeof SYSLOG_LEVEL_NAMES)[number];

/** Logging subsystems named like rtpengine's --log-level-<subsystem> options. */
export type Subsystem =
  | "core" | "spandsp" | "ffmpeg" | "transcoding" | "codec" | "rtcp" | "ice" | "crypto" | "srtp" | "internals" | "http" | "control" | "dtx";
export const SUBSYSTEMS: readonly Subsystem[] = [
  "core", "spandsp", "ffmpeg", "transcoding", "codec", "rtcp", "ice", "crypto", "srtp", "internals", "http", "control", "dtx",
];

// pino wants "higher number = more severe"; syslog is the other way round.
const PINO_VALUES: Record<SyslogLevelName, number> = {
  emerg: 80, alert: 70, crit: 60, err: 50, warning: 40, notice: 35, info: 30, debug: 20,
};
const UPPER: Record<number, string> = { 80: "EMERG", 70: "ALERT", 60: "CRIT", 50: "ERR", 40: "WARNING", 35: "NOTICE", 30: "INFO", 20: "DEBUG" };
const SYSLOG_OF_PINO: Record<number, number> = { 80: 0, 70: 1, 60: 2, 50: 3, 40: 4, 35: 5, 30: 6, 20: 7 };

const FACILITIES: Record<string, number> = {
  kern: 0, user: 1, mail: 2, daemon: 3, auth: 4, syslog: 5, lpr: 6, news: 7, uucp: 8, cron: 9, authpriv: 10, ftp: 11,
  local0: 16, local1: 17, local2: 18, local3: 19, local4: 20, local5: 21, local6: 22, local7: 23,
};

export interface LogOptions {
  /** --log-stderr */
  stderr: boolean;
  /** --no-log-timestamps clears this */
  timestamps: boolean;
  /** --log-level (0..7) */
  level: number;
  /** --log-level-<subsystem> overrides */
  subsystemLevels?: Partial<Record<Subsystem, number>>;
  /** --log-facility */
  facility?: string;
  /** syslog ident, "rtpengine" */
  ident?: string;
  /** syslog datagram socket, default /dev/log (tests point it elsewhere) */
  syslogSocket?: string;
  /** --split-logs: each line of a multi-line message becomes its own log line with the prefix */
  splitLogs?: boolean;
  /** --max-log-line-length: 0 = default (unlimited on stderr, 500 on syslog), negative = unlimited */
  maxLineLength?: number;
}

export type LogFn = (msg: string) => void;
export type Logger = Record<SyslogLevelName, LogFn> & { enabled(level: number): boolean };

type PinoLogger = pino.Logger<SyslogLevelName, true>;

interface State {
  root: PinoLogger;
  children: Map<Subsystem, PinoLogger>;
  level: number;
  overrides: Partial<Record<Subsystem, number>>;
  /** "stderr" or "syslog" or "stderr (no syslog socket)" */
  sink: string;
  syslogChild?: ChildProcess;
}

let state: State | undefined;

function clampLevel(n: number): number {
  return Math.max(0, Math.min(7, Math.trunc(n)));
}

/** Formats pino's JSON lines as rtpengine-style text lines, split and cut as configured. */
function textSink(write: (line: string, syslogLevel: number) => void, split: boolean, maxLen: number) {
  return {
    write(json: string): void {
      let rec: { level?: number; msg?: string; sub?: string };
      try {
        rec = JSON.parse(json);
      } catch {
        write(json.trimEnd(), 6);
        return;
      }
      const lvl = rec.level ?? 30;
      const prefix = `${UPPER[lvl] ?? "INFO"}: [${rec.sub ?? "core"}] `;
      const msg = rec.msg ?? "";
      const bodies = split ? msg.split(/\r?\n/) : [msg];
      for (const body of bodies) {
        const line = prefix + body;
        if (maxLen <= 0 || line.length <= maxLen) write(line, SYSLOG_OF_PINO[lvl] ?? 6);
        else for (let i = 0; i < line.length; i += maxLen) write((i ? prefix : "") + line.slice(i, i + maxLen), SYSLOG_OF_PINO[lvl] ?? 6);
      }
    },
  };
}

function stderrWriter(timestamps: boolean) {
  return (line: string): void => {
    const prefix = timestamps ? `[${((performance.timeOrigin + performance.now()) / 1000).toFixed(6)}] ` : "";
    process.stderr.write(prefix + line + "\n");
  };
}

/**
 * Set up logging. Without --log-stderr rtpengine logs to syslog; node APIs cannot open the
 * /dev/log datagram socket, so we feed util-linux `logger --prio-prefix` through a pipe.
 * When /dev/log or `logger` is missing we log to stderr and report that in `sinkDescription()`.
 */
export function initLogging(opts: LogOptions): void {
  shutdownLogging();
  let sink = "stderr";
  let writeLine: (line: string, syslogLevel: number) => void = stderrWriter(opts.timestamps);
  let syslogChild: ChildProcess | undefined;
  if (!opts.stderr) {
    const facility = FACILITIES[opts.facility ?? "daemon"] ?? 3;
    const loggerBin = ["/usr/bin/logger", "/bin/logger"].find((p) => existsSync(p));
    const socketPath = opts.syslogSocket ?? "/dev/log";
    if (existsSync(socketPath) && loggerBin) {
      try {
        const child = spawn(loggerBin, ["--prio-prefix", "-u", socketPath, "-d", "-t", opts.ident ?? "rtpengine", "--id=" + process.pid], {
          stdio: ["pipe", "ignore", "ignore"],
          detached: false,
        });
        child.on("error", () => undefined);
        child.stdin?.on("error", () => undefined);
        child.unref();
        (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
        syslogChild = child;
        sink = "syslog";
        writeLine = (line, lvl) => {
          child.stdin?.write(`<${facility * 8 + lvl}>${line.replace(/\n/g, " ")}\n`);
        };
      } catch {
        sink = "stderr (could not start logger(1) for syslog)";
      }
    } else {
      sink = existsSync(socketPath) ? "stderr (logger(1) not found, no syslog)" : `stderr (no ${socketPath} syslog socket)`;
    }
  }
  const level = clampLevel(opts.level);
  const root = pino(
    {
      customLevels: PINO_VALUES,
      useOnlyCustomLevels: true,
      level: SYSLOG_LEVEL_NAMES[level],
      base: undefined,
      timestamp: false,
    },
    textSink(writeLine, opts.splitLogs ?? false, effectiveMaxLen(opts.maxLineLength ?? 0, sink === "syslog")),
  ) as unknown as PinoLogger;
  state = { root, children: new Map(), level, overrides: { ...(opts.subsystemLevels ?? {}) }, sink, syslogChild };
  // internals is off unless asked for, as in rtpengine
  if (state.overrides.internals === undefined) state.overrides.internals = -1;
}

function effectiveMaxLen(configured: number, syslog: boolean): number {
  if (configured < 0) return 0;
  if (configured === 0) return syslog ? 500 : 0;
  return configured;
}

function ensureState(): State {
  if (!state) initLogging({ stderr: true, timestamps: true, level: 6 });
  return state!;
}

function childFor(sub: Subsystem): PinoLogger {
  const s = ensureState();
  let c = s.children.get(sub);
  if (!c) {
    c = s.root.child({ sub }) as PinoLogger;
    applyLevel(c, sub, s);
    s.children.set(sub, c);
  }
  return c;
}

function effectiveLevel(sub: Subsystem, s: State): number {
  const o = s.overrides[sub];
  return o === undefined ? s.level : o;
}

function applyLevel(c: PinoLogger, sub: Subsystem, s: State): void {
  const lvl = effectiveLevel(sub, s);
  // -1 (internals default) means silent
  c.level = lvl < 0 ? "silent" : SYSLOG_LEVEL_NAMES[clampLevel(lvl)];
}

/** A logger for one subsystem; cheap, call it once per module. */
export function getLogger(sub: Subsystem = "core"): Logger {
  const call = (name: SyslogLevelName): LogFn => (msg: string) => {
    childFor(sub)[name](msg);
  };
  return {
    emerg: call("emerg"), alert: call("alert"), crit: call("crit"), err: call("err"),
    warning: call("warning"), notice: call("notice"), info: call("info"), debug: call("debug"),
    enabled: (level: number) => level <= effectiveLevel(sub, ensureState()),
  };
}

export function getLogLevel(): number {
  return ensureState().level;
}

/** Set the default level (the one SIGUSR1/2 and `set loglevel` change). Returns the new level. */
export function setLogLevel(n: number): number {
  const s = ensureState();
  s.level = clampLevel(n);
  s.root.level = SYSLOG_LEVEL_NAMES[s.level];
  for (const [sub, c] of s.children) applyLevel(c, sub, s);
  return s.level;
}

/** `set loglevel N`: the default and every subsystem (internals included) to N. */
export function setAllLogLevels(n: number): number {
  const s = ensureState();
  for (const sub of SUBSYSTEMS) s.overrides[sub] = undefined;
  return setLogLevel(n);
}

/** SIGUSR1/SIGUSR2: move the default and every explicitly set subsystem level by `delta` (disabled ones stay off). */
export function shiftLogLevels(delta: number): number {
  const s = ensureState();
  for (const sub of SUBSYSTEMS) {
    const o = s.overrides[sub];
    if (o !== undefined && o >= 0) s.overrides[sub] = clampLevel(o + delta);
  }
  return setLogLevel(s.level + delta);
}

export function getSubsystemLevel(sub: Subsystem): number {
  return effectiveLevel(sub, ensureState());
}

export function setSubsystemLevel(sub: Subsystem, n: number): number {
  const s = ensureState();
  s.overrides[sub] = clampLevel(n);
  const c = s.children.get(sub);
  if (c) applyLevel(c, sub, s);
  return s.overrides[sub]!;
}

/** Where log lines go, for the startup line. */
export function sinkDescription(): string {
  return ensureState().sink;
}

export function shutdownLogging(): void {
  if (state?.syslogChild) {
    state.syslogChild.stdin?.end();
  }
  state = undefined;
}
