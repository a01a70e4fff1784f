// Entry point: personality (daemon or rtpengine-ctl), options -> config, logging, daemonizing, control listeners, signals.
import { spawn } from "node:child_process";
import { closeSync, openSync, writeSync } from "node:fs";
import { ConfigError, loadConfig, VERSION, type Config } from "./config/index.ts";
import { registerCallCommands } from "./call/commands.ts";
import { registerCallCliCommands } from "./control/cli-calls.ts";
import { registerPrometheus } from "./control/prometheus.ts";
import { runCtl } from "./control/ctl-client.ts";
import { startDaemon } from "./control/daemon.ts";
import { ListenError } from "./control/listen-error.ts";
import { getLogger, initLogging, shutdownLogging, sinkDescription } from "./log/logger.ts";
import { closeKernelTable, openKernelTable } from "./kernel/setup.ts";
import { installNftRule, removeNftRule } from "./kernel/nft.ts";
import { programName, runtimeVersion, selfCommand, userArgs } from "./platform/runtime.ts";
import { applyHeapSizing } from "./platform/heap-sizing.ts";
import { scheduleStartupPageRelease } from "./platform/page-release.ts";


/** Set in the re-spawned child so it knows it is the daemonized copy; fd 3 is then its status pipe to the parent. */
const DAEMON_CHILD_ENV = "RTPENGINE_TS_DAEMON_CHILD";
const STATUS_FD = 3;
const isDaemonChild = process.env[DAEMON_CHILD_ENV] === "1";

/** Daemonized child: tell the waiting parent "ready" or the fatal line, once. */
function reportToParent(line: string): void {
  if (!isDaemonChild) return;
  try {
    writeSync(STATUS_FD, line + "\n");
    closeSync(STATUS_FD);
  } catch {
    /* parent gone */
  }
}

/** A startup failure: one line on stderr (and to a daemonizing parent). */
function fatalLine(line: string): number {
  process.stderr.write(line + "\n");
  reportToParent("fatal " + line);
  return 1;
}

async function main(): Promise<number> {
  const argv = userArgs();
  if (programName() === "rtpengine-ctl") return runCtl(argv);
  if (argv[0] === "ctl") return runCtl(argv.slice(1));
  // memory: the daemon runs with a GC heap sized for its working set (re-executes once; src/platform/heap-sizing.ts)
  applyHeapSizing();
  // hidden: packaging and CI prove the C shim works in this very binary (exit 0 = packet went through)
  if (argv.length === 1 && argv[0] === "--self-test-shim") {
    const { runShimSelfTest } = await import("./platform/selftest.ts");
    return runShimSelfTest();
  }

  let config: Config;
  try {
    const loaded = loadConfig(argv);
    if ("kind" in loaded) {
      process.stdout.write(loaded.text.endsWith("\n") ? loaded.text : loaded.text + "\n");
      return 0;
    }
    config = loaded;
  } catch (e) {
    if (e instanceof ConfigError) return fatalLine(e.message);
    throw e;
  }

  if (!config.foreground && !isDaemonChild) return daemonize(argv);

  initLogging({
    stderr: config.logStderr,
    timestamps: !config.noLogTimestamps,
    level: config.logLevel,
    subsystemLevels: config.logLevels,
    facility: config.logFacility,
    splitLogs: config.splitLogs,
    maxLineLength: config.maxLogLineLength,
  });
  const log = getLogger("core");

  // Last line of defence: a bug reached by one request must not take down every call.
  process.on("uncaughtException", (e) => log.err(`Uncaught exception (daemon continues): ${e?.stack ?? e}`));
  process.on("unhandledRejection", (e) => log.err(`Unhandled rejection (daemon continues): ${(e as Error)?.stack ?? e}`));

  // kernel: --table / --no-fallback (src/kernel/setup.ts): a missing module is logged, or fatal with --no-fallback
  const kernel = openKernelTable(config, log);
  if (kernel.fatal) {
    if (!sinkDescription().startsWith("stderr")) log.err(kernel.fatal);
    return fatalLine(kernel.fatal);
  }
  // kernel, extension: --nftables-chain (src/kernel/nft.ts) installs the daemon's own rule to the module; off by default
  const nft = await installNftRule(config, kernel.table !== null, log);
  if (nft.fatal) {
    closeKernelTable(kernel.table, log);
    if (!sinkDescription().startsWith("stderr")) log.err(nft.fatal);
    return fatalLine(nft.fatal);
  }

  // Control sockets next: a taken port fails fast with one error line, before the media plane starts.
  let daemon;
  try {
    daemon = await startDaemon(config, { notify: await notifier(log) });
  } catch (e) {
    await removeNftRule(nft.installed, log); // kernel: nor our nftables rule
    closeKernelTable(kernel.table, log); // kernel: never leave our table behind
    if (e instanceof ListenError) {
      // with stderr as the log sink the line below is the log line; do not print it twice
      if (!sinkDescription().startsWith("stderr")) log.err(e.message);
      return fatalLine(`rtpengine: ${e.message}`);
    }
    throw e;
  }

  // media: shim sockets behind the port allocator, relay hooks in the engine, media ng commands
  const media = await import("./media/plane.ts").then(
    (m) => m.startMediaPlane(config, log, kernel.table),
    (e: Error) => (log.warning(`Media relay unavailable: ${e.message}`), null),
  );
  const engine = registerCallCommands(config, media?.ports, media?.hooks);
  media?.attach(engine);
  registerCallCliCommands(engine);
  registerPrometheus(engine);
  daemon.onShutdown(() => engine.clear());
  daemon.onShutdown(async () => media?.stop());
  daemon.onShutdown(() => removeNftRule(nft.installed, log)); // kernel: the nftables rule before the table
  daemon.onShutdown(() => closeKernelTable(kernel.table, log)); // kernel: after the rules' calls are gone
  // requests that arrived meanwhile were held, not refused
  daemon.open();

  // logged only once the listeners are bound, so that a bind failure prints exactly one line
  log.info(`Startup complete, version ${VERSION} on ${runtimeVersion()}, pid ${process.pid}, logging to ${sinkDescription()}`);
  const unsupported = config.unsupportedGiven;
  if (unsupported.length) log.warning(`Options given but not supported by this version (ignored): ${unsupported.map((o) => "--" + o).join(", ")}`);
  if (config.listenNg.length + config.listenTcpNg.length + config.listenHttp.length + config.listenHttps.length === 0) {
    log.warning("No ng control listener configured (--listen-ng, --listen-tcp-ng, --listen-http or --listen-https)");
  }
  reportToParent("ready");
  scheduleStartupPageRelease(log);
  const code = await daemon.finished;
  log.info("Exiting");
  shutdownLogging();
  return code;
}

/** sd_notify goes through the C shim (node APIs cannot send on a unix datagram socket); only loaded when systemd asks. */
async function notifier(log: ReturnType<typeof getLogger>): Promise<((state: string) => boolean) | undefined> {
  if (!process.env["NOTIFY_SOCKET"]) return undefined;
  try {
    const { loadShim } = await import("./platform/ffi.ts");
    const { sdNotify } = await import("./platform/shim.ts");
    const shim = await loadShim();
    return (state) => sdNotify(shim.raw, state);
  } catch (e) {
    log.warning(`NOTIFY_SOCKET is set but sd_notify is unavailable: ${(e as Error).message}`);
    return undefined;
  }
}

/**
 * rtpengine daemonizes unless --foreground. A JS runtime cannot fork, so we re-run ourselves
 * detached (new session) with stdin/stdout/stderr on /dev/null and a status pipe on fd 3; we
 * exit 0 once the child says it is listening, or 1 with the child's one-line error.
 */
async function daemonize(argv: string[]): Promise<number> {
  const { cmd, args } = selfCommand();
  const devnull = openSync("/dev/null", "r+");
  const child = spawn(cmd, [...args, ...argv], {
    detached: true,
    stdio: [devnull, devnull, devnull, "pipe"],
    env: { ...process.env, [DAEMON_CHILD_ENV]: "1" },
  });
  closeSync(devnull);
  const status = child.stdio[STATUS_FD] as NodeJS.ReadableStream | null;
  let text = "";
  return new Promise<number>((resolve) => {
    status?.on("data", (d: Buffer) => {
      text += d.toString();
      if (!text.includes("\n")) return;
      const line = text.split("\n")[0]!;
      if (line === "ready") {
        child.unref();
        (status as unknown as { destroy?: () => void }).destroy?.();
        resolve(0);
      } else {
        process.stderr.write(line.replace(/^fatal /, "") + "\n");
        resolve(1);
      }
    });
    child.on("exit", (code) => resolve(code ?? 1));
    child.on("error", (e) => {
      process.stderr.write(`rtpengine: cannot start daemon process: ${e.message}\n`);
      resolve(1);
    });
  });
}

main().then(
  (code) => process.exit(code),
  (e) => {
    process.exit(fatalLine(`rtpengine: fatal: ${(e as Error)?.stack ?? String(e)}`));
  },
);
