// Test helper: spawn our daemon (from source under Bun or Deno, or dist/rtpengine) on free ports and talk ng/CLI to it.
//
//   const d = await spawnDaemon({ tcpNg: true, cli: true });
//   expect(await d.ng({ command: "ping" })).toEqual({ result: "pong" });
//   expect(await d.cli("get loglevel core")).toBe("6\n");
//   expect(await d.stop()).toBe(0);          // SIGTERM, resolves to the exit code
//
// Every daemon runs with --foreground --log-stderr --config-file=none; its stderr is kept in d.log().
import dgram from "node:dgram";
import net from "node:net";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { decodeBencodeDict } from "../../src/control/codec.ts";
import { encodeNgMessage } from "../../src/control/codec.ts";
import type { NgDict } from "../../src/control/types.ts";

export const REPO = resolve(import.meta.dir, "../..");
export const BUN = process.execPath;
/** Deno 2 for the compatibility tests: scripts/setup-test-deps.sh installs it into .cache/deno (the npm registry here
 * lacks its other-platform packages, so it cannot sit in package-lock.json); RTPENGINE_TS_DENO overrides. */
export const DENO = process.env["RTPENGINE_TS_DENO"] ??
  [resolve(REPO, ".cache/deno/node_modules/.bin/deno"), resolve(REPO, "node_modules/.bin/deno")].find((p) => existsSync(p)) ??
  resolve(REPO, ".cache/deno/node_modules/.bin/deno");
/** the compiled daemon; RTPENGINE_TS_BINARY overrides (e.g. a build elsewhere) */
export const BINARY = process.env["RTPENGINE_TS_BINARY"] ?? resolve(REPO, "dist/rtpengine");

export type Runtime = "bun" | "deno" | "binary";

export interface SpawnOptions {
  runtime?: Runtime;
  /** also listen for ng over TCP (--listen-tcp-ng) */
  tcpNg?: boolean;
  /** also listen for the CLI (--listen-cli) */
  cli?: boolean;
  /** also listen for HTTP/WebSocket (--listen-http) */
  http?: boolean;
  /** ng UDP listen host, default 127.0.0.1 (use "::1" for IPv6) */
  ngHost?: string;
  /** listen on the port only (`--listen-ng=PORT`, every address); pings then go to ngHost */
  ngPortOnly?: boolean;
  /** extra command-line arguments */
  args?: string[];
  env?: Record<string, string>;
  /** how long to wait for the first pong, ms */
  startTimeout?: number;
}

export interface TestDaemon {
  readonly pid: number;
  readonly ngHost: string;
  readonly ngPort: number;
  readonly tcpNgPort: number | null;
  readonly cliPort: number | null;
  readonly httpPort: number | null;
  /** everything the daemon wrote to stderr/stdout so far */
  log(): string;
  /** resolves to the exit code when the process ends */
  readonly exited: Promise<number>;
  /** send one ng request over UDP (default) or TCP, resolve to the decoded reply dict */
  ng(dict: NgDict, opts?: NgOptions): Promise<NgDict>;
  /** send raw bytes over UDP, resolve to the raw reply or null after `timeout` ms */
  rawUdp(bytes: Uint8Array | string, timeout?: number): Promise<Buffer | null>;
  /** run one CLI command, resolve to the text reply */
  cli(command: string): Promise<string>;
  /** send a signal (default SIGTERM) and resolve to the exit code */
  stop(signal?: NodeJS.Signals): Promise<number>;
  kill(signal: NodeJS.Signals): void;
}

export interface NgOptions {
  cookie?: string;
  transport?: "udp" | "tcp";
  timeout?: number;
}

let cookieSeq = 0;
export function newCookie(): string {
  return `t${process.pid}_${Date.now().toString(36)}_${++cookieSeq}`;
}

/** A port that is currently free for both UDP and TCP on 127.0.0.1 and ::1 (bind-and-release; tiny race accepted),
 * other than those in `taken` (the kernel may hand a just-released port out again). */
export async function freePort(taken: ReadonlySet<number> = new Set()): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await new Promise<number>((res, rej) => {
      const s = net.createServer();
      s.once("error", rej);
      s.listen(0, "127.0.0.1", () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => res(p));
      });
    });
    const udpFree = await new Promise<boolean>((res) => {
      const u = dgram.createSocket("udp4");
      u.once("error", () => res(false));
      u.bind(port, "127.0.0.1", () => u.close(() => res(true)));
    });
    if (udpFree && !taken.has(port)) return port;
  }
  throw new Error("no free port found");
}

/** Decode "COOKIE DICT" into its parts. */
export function splitReply(buf: Buffer): { cookie: string; dict: NgDict } {
  const sp = buf.indexOf(0x20);
  if (sp <= 0) throw new Error(`reply without cookie: ${buf.toString("latin1").slice(0, 80)}`);
  const body = buf.subarray(sp + 1);
  const dict = body[0] === 0x7b ? (JSON.parse(body.toString("utf8")) as NgDict) : decodeBencodeDict(body);
  return { cookie: buf.subarray(0, sp).toString("latin1"), dict };
}

/** One ng request over UDP to host:port; rejects on timeout. */
export function ngUdp(host: string, port: number, dict: NgDict, opts: NgOptions = {}): Promise<NgDict> {
  const cookie = opts.cookie ?? newCookie();
  return rawUdp(host, port, encodeNgMessage(cookie, "bencode", dict), opts.timeout ?? 3000).then((r) => {
    if (!r) throw new Error(`no ng reply from ${host}:${port} within ${opts.timeout ?? 3000} ms`);
    const { cookie: c, dict: d } = splitReply(r);
    if (c !== cookie) throw new Error(`reply cookie ${c} does not match ${cookie}`);
    return d;
  });
}

/** Send a datagram and wait for one datagram back (null on timeout). */
export function rawUdp(host: string, port: number, bytes: Uint8Array | string, timeout = 1000): Promise<Buffer | null> {
  return new Promise((res) => {
    const s = dgram.createSocket(host.includes(":") ? "udp6" : "udp4");
    const t = setTimeout(() => {
      s.close();
      res(null);
    }, timeout);
    s.on("message", (m) => {
      clearTimeout(t);
      s.close();
      res(m);
    });
    s.on("error", () => undefined);
    s.send(typeof bytes === "string" ? Buffer.from(bytes, "latin1") : bytes, port, host);
  });
}

/** One ng request over a fresh TCP connection. */
export function ngTcp(host: string, port: number, dict: NgDict, opts: NgOptions = {}): Promise<NgDict> {
  const cookie = opts.cookie ?? newCookie();
  return new Promise((res, rej) => {
    const sock = net.connect({ host, port }, () => sock.write(encodeNgMessage(cookie, "bencode", dict)));
    let buf = Buffer.alloc(0);
    const t = setTimeout(() => {
      sock.destroy();
      rej(new Error("ng TCP reply timeout"));
    }, opts.timeout ?? 3000);
    sock.on("data", (d) => {
      buf = Buffer.concat([buf, d as Buffer]);
      try {
        const r = splitReply(buf);
        clearTimeout(t);
        sock.destroy();
        if (r.cookie !== cookie) rej(new Error(`reply cookie ${r.cookie} does not match ${cookie}`));
        else res(r.dict);
      } catch {
        /* incomplete, wait for more */
      }
    });
    sock.on("error", (e) => {
      clearTimeout(t);
      rej(e);
    });
  });
}

/** One CLI command (what rtpengine-ctl does): send the line, read until the daemon closes. */
export function cliCommand(host: string, port: number, command: string, timeout = 3000): Promise<string> {
  return new Promise((res, rej) => {
    const sock = net.connect({ host, port }, () => sock.write(command + "\n"));
    let out = "";
    const t = setTimeout(() => {
      sock.destroy();
      rej(new Error("CLI timeout"));
    }, timeout);
    sock.setEncoding("latin1");
    sock.on("data", (d: string) => (out += d));
    sock.on("close", () => {
      clearTimeout(t);
      res(out);
    });
    sock.on("error", (e) => {
      clearTimeout(t);
      rej(e);
    });
  });
}

/** The argv that runs our daemon under the given runtime. */
export function daemonCommand(runtime: Runtime): string[] {
  if (runtime === "deno") return [DENO, "run", "-A", resolve(REPO, "src/main.ts")];
  if (runtime === "binary") return [BINARY];
  return [BUN, resolve(REPO, "src/main.ts")];
}

export function binaryExists(): boolean {
  return existsSync(BINARY);
}

/** Spawn a daemon on free ports and wait until it answers ping. */
export async function spawnDaemon(opts: SpawnOptions = {}): Promise<TestDaemon> {
  const ngHost = opts.ngHost ?? "127.0.0.1";
  const taken = new Set<number>();
  const pick = async (): Promise<number> => {
    const p = await freePort(taken);
    taken.add(p);
    return p;
  };
  const ngPort = await pick();
  const tcpNgPort = opts.tcpNg ? await pick() : null;
  const cliPort = opts.cli ? await pick() : null;
  const httpPort = opts.http ? await pick() : null;
  const hp = (h: string, p: number) => (h.includes(":") ? `[${h}]:${p}` : `${h}:${p}`);
  const args = [
    "--config-file=none", "--table=-1", "-i", "127.0.0.1", "--foreground", "--log-stderr",
    `--listen-ng=${opts.ngPortOnly ? String(ngPort) : hp(ngHost, ngPort)}`,
    ...(tcpNgPort ? [`--listen-tcp-ng=127.0.0.1:${tcpNgPort}`] : []),
    ...(cliPort ? [`--listen-cli=127.0.0.1:${cliPort}`] : []),
    ...(httpPort ? [`--listen-http=127.0.0.1:${httpPort}`] : []),
    ...(opts.args ?? []),
  ];
  const proc = Bun.spawn([...daemonCommand(opts.runtime ?? "bun"), ...args], {
    cwd: REPO,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, ...(opts.env ?? {}) },
  });
  let logText = "";
  const drain = async (s: ReadableStream<Uint8Array>) => {
    const dec = new TextDecoder();
    for await (const chunk of s) logText += dec.decode(chunk, { stream: true });
  };
  void drain(proc.stdout);
  void drain(proc.stderr);
  const exited = proc.exited;
  let done = false;
  void exited.then(() => (done = true));

  const d: TestDaemon = {
    pid: proc.pid,
    ngHost,
    ngPort,
    tcpNgPort,
    cliPort,
    httpPort,
    log: () => logText,
    exited,
    ng: async (dict, o = {}) => {
      const reply = await (o.transport === "tcp" ? ngTcp("127.0.0.1", tcpNgPort ?? 0, dict, o) : ngUdp(ngHost, ngPort, dict, o));
      // a failing test shows only `Received: "error"`: say why next to it (tests that expect errors print it too)
      if (reply["result"] === "error" && (dict["command"] === "offer" || dict["command"] === "answer")) {
        console.error(`[test daemon] ${String(dict["command"])} ${String(dict["call-id"] ?? "")}: error: ${String(reply["error-reason"] ?? "")}`);
      }
      return reply;
    },
    rawUdp: (bytes, timeout) => rawUdp(ngHost, ngPort, bytes, timeout),
    cli: (command) => {
      if (!cliPort) throw new Error("daemon started without cli: true");
      return cliCommand("127.0.0.1", cliPort, command);
    },
    async stop(signal = "SIGTERM") {
      if (!done) proc.kill(signal);
      const t = setTimeout(() => proc.kill("SIGKILL"), 5000);
      const code = await exited;
      clearTimeout(t);
      return code;
    },
    kill: (signal) => proc.kill(signal),
  };

  const deadline = Date.now() + (opts.startTimeout ?? 15000);
  while (Date.now() < deadline) {
    if (done) throw new Error(`daemon exited early (code ${await exited}):\n${logText}`);
    try {
      const r = await ngUdp(ngHost, ngPort, { command: "ping" }, { timeout: 300 });
      if (r["result"] === "pong") return d;
    } catch {
      /* not up yet */
    }
  }
  proc.kill("SIGKILL");
  throw new Error(`daemon did not answer ping within ${opts.startTimeout ?? 15000} ms:\n${logText}`);
}
