// Entry point: personality (daemon or rtpengine-ctl), options -> config, logging, daemonizing, control listeners, signals.
import { spawn } from "node:child_process";
import { openSync } from "node:fs";
import { ConfigError, loadConfig, VERSION, type Config } from "./config/index.ts";
import { runCtl } from "./control/ctl-client.ts";
import { startDaemon } from "./control/daemon.ts";
import { ListenError } from "./control/listen-error.ts";
import { getLogger, initLogging, shutdownLogging, sinkDescription } from "./log/logger.ts";
import { programName, runtimeVersion, selfCommand, userArgs } from "./platform/runtime.ts";

/** Options src/config marks as not implemented but that the control layer serves (tell src/config to flip them). */
const SERVED_BY_CONTROL = new Set(["listen-http"]);

/** Set in the re-spawned child so it knows it is the daemonized copy. */
const DAEMON_CHILD_ENV = "RTPENGINE_TS_DAEMON_CHILD";

async function main(): Promise<number> {
  const argv = userArgs();
  if (programName() === "rtpengine-ctl") return runCtl(argv);
  if (argv[0] === "ctl") return runCtl(argv.slice(1));

  let config: Config;
  try {
    const loaded = loadConfig(argv);
    if ("kind" in loaded) {
      process.stdout.write(loaded.text.endsWith("\n") ? loaded.text : loaded.text + "\n");
      return 0;
    }
    config = loaded;
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`${e.message}\n`);
      return 1;
    }
    throw e;
  }

  if (!config.foreground && process.env[DAEMON_CHILD_ENV] !== "1") return daemonize(argv);

  initLogging({
    stderr: config.logStderr,
    timestamps: !config.noLogTimestamps,
    level: config.logLevel,
    subsystemLevels: config.logLevels,
    facility: config.logFacility,
  });
  const log = getLogger("core");
  log.info(`Starting rtpengine ${VERSION} on ${runtimeVersion()}, pid ${process.pid}, logging to ${sinkDescription()}`);
  const unsupported = config.unsupportedGiven.filter((o) => !SERVED_BY_CONTROL.has(o));
  if (unsupported.length) log.warning(`Options given but not supported by this version (ignored): ${unsupported.map((o) => "--" + o).join(", ")}`);
  if (config.listenNg.length + config.listenTcpNg.length + config.listenHttp.length === 0) {
    log.warning("No ng control listener configured (--listen-ng, --listen-tcp-ng or --listen-http)");
  }

  let daemon;
  try {
    daemon = await startDaemon(config, { notify: await notifier(log) });
  } catch (e) {
    if (e instanceof ListenError) {
      process.stderr.write(`rtpengine: ${e.message}\n`);
      log.err(e.message);
      return 1;
    }
    throw e;
  }
  log.info(`Startup complete, version ${VERSION}`);
  // tell a daemonizing parent we are listening
  if (process.env[DAEMON_CHILD_ENV] === "1" && typeof process.send === "function") process.send("ready");
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
 * detached with stdio on /dev/null and exit 0 once the child reports that it is listening
 * (or with the child's exit code if it fails to start).
 */
async function daemonize(argv: string[]): Promise<number> {
  const { cmd, args } = selfCommand();
  const devnull = openSync("/dev/null", "r+");
  const child = spawn(cmd, [...args, ...argv], {
    detached: true,
    stdio: [devnull, devnull, "pipe", "ipc"],
    env: { ...process.env, [DAEMON_CHILD_ENV]: "1" },
  });
  let errText = "";
  child.stderr?.on("data", (d: Buffer) => (errText += d.toString()));
  return new Promise<number>((resolve) => {
    child.on("message", (m) => {
      if (m === "ready") {
        child.stderr?.destroy();
        child.disconnect();
        child.unref();
        resolve(0);
      }
    });
    child.on("exit", (code) => {
      process.stderr.write(errText);
      resolve(code ?? 1);
    });
    child.on("error", (e) => {
      process.stderr.write(`rtpengine: cannot start daemon process: ${e.message}\n`);
      resolve(1);
    });
  });
}

main().then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`rtpengine: fatal: ${(e as Error)?.stack ?? String(e)}\n`);
    process.exit(1);
  },
);
