// Daemon lifecycle after configuration: bind the control listeners, pidfile, readiness, signals, clean shutdown.
import { readFileSync, unlinkSync, writeFileSync } from "node:fs";
import type { Config, Listener } from "../config/types.ts";
import { initCli } from "./cli.ts";
import { listenCli } from "./cli-server.ts";
import { NgDispatcher } from "./dispatch.ts";
import { listenHttp, type TlsFiles } from "./http.ts";
import { ListenError } from "./listen-error.ts";
import { listenNgTcp } from "./tcp.ts";
import { listenNgUdp, type BoundListener } from "./udp.ts";
import { getLogger, shiftLogLevels } from "../log/logger.ts";
import { onSignal } from "../platform/signals.ts";

const log = getLogger("core");

export interface DaemonHooks {
  /** sends an sd_notify state string; returns false when not possible (no NOTIFY_SOCKET or no shim) */
  notify?: (state: string) => boolean;
  /** extra shutdown work of other subsystems (calls, media sockets, redis), run before the listeners close */
  onShutdown?: Array<() => void | Promise<void>>;
  /** time limit per shutdown step, default 5 s */
  shutdownStepMs?: number;
}

export interface RunningDaemon {
  readonly dispatcher: NgDispatcher;
  readonly listeners: BoundListener[];
  /** start answering requests (they wait until then) and tell systemd READY=1 */
  open(): void;
  /** add shutdown work (run in order, before the listeners close) */
  onShutdown(fn: () => void | Promise<void>): void;
  /** resolves when the daemon has shut down; value is the exit code */
  readonly finished: Promise<number>;
  shutdown(reason: string, code?: number): Promise<number>;
}

/** --listen-https needs --https-cert and --https-key; problems surface as a ListenError naming the option. */
function tlsFiles(config: Config): TlsFiles {
  if (!config.httpsCert || !config.httpsKey) {
    throw new ListenError("--listen-https", "", "needs --https-cert and --https-key");
  }
  try {
    return { cert: readFileSync(config.httpsCert), key: readFileSync(config.httpsKey) };
  } catch (e) {
    throw new ListenError("--listen-https", "", `cannot read certificate or key: ${(e as Error).message}`);
  }
}

const SHUTDOWN_STEP_MS = 5000;

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`step did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([p, limit]).finally(() => clearTimeout(timer));
}

type Binder = { option: string; listener: Listener; bind: () => Promise<BoundListener> };

/** Bind everything in order; on the first failure close what is already bound and rethrow (a ListenError). */
async function bindAll(binders: Binder[]): Promise<BoundListener[]> {
  const bound: BoundListener[] = [];
  try {
    for (const b of binders) bound.push(await b.bind());
  } catch (e) {
    await Promise.all(bound.map((l) => l.close()));
    throw e;
  }
  return bound;
}

/**
 * Bind every control listener (or fail with a ListenError, having released what was bound)
 * and install the signal handlers. Requests are held until `open()`, so that the caller can
 * start the call engine after the cheap-to-fail part and still not miss early requests.
 */
export async function startDaemon(config: Config, hooks: DaemonHooks = {}): Promise<RunningDaemon> {
  const dispatcher = new NgDispatcher();
  dispatcher.hold();
  const shutdownWork = [...(hooks.onShutdown ?? [])];
  const stepMs = hooks.shutdownStepMs ?? SHUTDOWN_STEP_MS;
  initCli(config);
  const binders: Binder[] = [
    ...config.listenNg.map((l) => ({ option: "--listen-ng", listener: l, bind: () => listenNgUdp(l, dispatcher) })),
    ...config.listenTcpNg.map((l) => ({ option: "--listen-tcp-ng", listener: l, bind: () => listenNgTcp(l, dispatcher) })),
    ...(config.listenCli ? [{ option: "--listen-cli", listener: config.listenCli, bind: () => listenCli(config.listenCli!) }] : []),
    ...config.listenHttp.map((l) => ({ option: "--listen-http", listener: l, bind: () => listenHttp(l, dispatcher) })),
    ...config.listenHttps.map((l) => ({ option: "--listen-https", listener: l, bind: () => listenHttp(l, dispatcher, "--listen-https", tlsFiles(config)) })),
  ];
  const listeners = await bindAll(binders);

  let pidfileWritten = false;
  if (config.pidfile) {
    try {
      writeFileSync(config.pidfile, `${process.pid}\n`);
      pidfileWritten = true;
    } catch (e) {
      log.warning(`Could not write pidfile ${config.pidfile}: ${(e as Error).message}`);
    }
  }

  let resolveFinished!: (code: number) => void;
  const finished = new Promise<number>((r) => (resolveFinished = r));
  let stopping: Promise<number> | undefined;
  const removers: Array<() => void> = [];

  const shutdown = (reason: string, code = 0): Promise<number> => {
    if (stopping) return stopping;
    stopping = (async () => {
      log.info(`Shutting down (${reason})`);
      hooks.notify?.("STOPPING=1");
      for (const r of removers) r();
      dispatcher.release();
      for (const h of shutdownWork) {
        try {
          // a subsystem that hangs must not keep the process (and its pidfile) around forever
          await withTimeout(Promise.resolve().then(h), stepMs);
        } catch (e) {
          log.err(`Error during shutdown: ${(e as Error).message}`);
        }
      }
      await withTimeout(Promise.all(listeners.map((l) => l.close())), stepMs).catch((e: Error) => log.err(`Closing listeners: ${e.message}`));
      if (pidfileWritten && config.pidfile) {
        try {
          unlinkSync(config.pidfile);
        } catch {
          /* already gone */
        }
      }
      resolveFinished(code);
      return code;
    })();
    return stopping;
  };

  removers.push(onSignal("SIGTERM", () => void shutdown("SIGTERM")));
  removers.push(onSignal("SIGINT", () => void shutdown("SIGINT")));
  // rtpengine: SIGUSR1 lowers the log level, SIGUSR2 raises it
  removers.push(onSignal("SIGUSR1", () => log.notice(`Log level lowered to ${shiftLogLevels(-1)}`)));
  removers.push(onSignal("SIGUSR2", () => log.notice(`Log level raised to ${shiftLogLevels(+1)}`)));
  // SIGHUP would terminate the process by default; rtpengine does not reload its config on it either
  removers.push(onSignal("SIGHUP", () => log.notice("SIGHUP received and ignored (no config reload)")));

  const open = (): void => {
    dispatcher.release();
    if (hooks.notify && process.env["NOTIFY_SOCKET"]) {
      if (!hooks.notify("READY=1")) log.warning("Could not send READY=1 to NOTIFY_SOCKET");
    }
  };
  return { dispatcher, listeners, finished, shutdown, open, onShutdown: (fn) => void shutdownWork.push(fn) };
}
