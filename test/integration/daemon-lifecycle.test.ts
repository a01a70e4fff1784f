// Integration: daemon lifecycle — signals, pidfile, log-level signals, port conflicts, IPv6, sd_notify, daemonizing, option errors.
import { describe, expect, test, setDefaultTimeout } from "bun:test";
import dgram from "node:dgram";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { daemonCommand, freePort, ngUdp, REPO, spawnDaemon } from "../helpers/daemon.ts";

// daemons start in ~1 s (shim, media plane) but much slower on a loaded CI box
setDefaultTimeout(30_000);

const tmp = () => mkdtempSync(join(tmpdir(), "rtpe-life-"));

async function run(args: string[], env: Record<string, string> = {}, timeoutMs = 20000) {
  const p = Bun.spawn([...daemonCommand("bun"), ...args], { cwd: REPO, stdout: "pipe", stderr: "pipe", env: { ...process.env, ...env } });
  const t = setTimeout(() => p.kill("SIGKILL"), timeoutMs);
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  clearTimeout(t);
  return { out, err, code };
}

describe("lifecycle", () => {
  test("SIGTERM: exit 0 and the pidfile is removed", async () => {
    const dir = tmp();
    const pidfile = join(dir, "rtpengine.pid");
    const d = await spawnDaemon({ args: [`--pidfile=${pidfile}`] });
    expect(readFileSync(pidfile, "utf8").trim()).toBe(String(d.pid));
    expect(await d.stop("SIGTERM")).toBe(0);
    expect(existsSync(pidfile)).toBe(false);
    expect(d.log()).toContain("Shutting down (SIGTERM)");
    rmSync(dir, { recursive: true, force: true });
  });

  test("SIGINT: exit 0", async () => {
    const d = await spawnDaemon();
    expect(await d.stop("SIGINT")).toBe(0);
  });

  test("SIGUSR1 lowers and SIGUSR2 raises the log level (seen through the CLI)", async () => {
    const d = await spawnDaemon({ cli: true, args: ["--log-level=6"] });
    try {
      expect(await d.cli("get loglevel core")).toBe("6\n");
      d.kill("SIGUSR1");
      await Bun.sleep(150);
      expect(await d.cli("get loglevel core")).toBe("5\n");
      // one at a time: POSIX merges a signal that is already pending
      d.kill("SIGUSR2");
      await Bun.sleep(150);
      d.kill("SIGUSR2");
      await Bun.sleep(150);
      expect(await d.cli("get loglevel core")).toBe("7\n");
      d.kill("SIGUSR2");
      await Bun.sleep(150);
      expect(await d.cli("get loglevel control")).toBe("7\n");
      expect(await d.ng({ command: "ping" })).toEqual({ result: "pong" });
    } finally {
      expect(await d.stop()).toBe(0);
    }
  });

  test("a port already in use: exit 1 with one line naming the option", async () => {
    const port = await freePort();
    const blocker = dgram.createSocket("udp4");
    await new Promise<void>((r) => blocker.bind(port, "127.0.0.1", () => r()));
    try {
      const r = await run(["--config-file=none", "--table=-1", "-i", "127.0.0.1", "-f", `--listen-ng=127.0.0.1:${port}`]);
      expect(r.code).toBe(1);
      // earlier log lines may precede it (no syslog here: the log is on stderr); the error is one last line
      const lines = r.err.trim().split("\n");
      expect(lines.filter((l) => l.includes("--listen-ng")).length).toBe(1);
      expect(lines.at(-1)).toBe(`rtpengine: --listen-ng: cannot listen on 127.0.0.1:${port}: address already in use`);
    } finally {
      blocker.close();
    }
  });

  test("second listener in use: exit 1 naming --listen-tcp-ng, after releasing the first", async () => {
    const [ng, tcp] = [await freePort(), await freePort()];
    const net = await import("node:net");
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(tcp, "127.0.0.1", () => r()));
    try {
      const r = await run(["--config-file=none", "--table=-1", "-i", "127.0.0.1", "-f", "-E", `--listen-ng=127.0.0.1:${ng}`, `--listen-tcp-ng=127.0.0.1:${tcp}`]);
      expect(r.code).toBe(1);
      expect(r.err).toContain(`rtpengine: --listen-tcp-ng: cannot listen on 127.0.0.1:${tcp}: address already in use`);
    } finally {
      blocker.close();
    }
  });

  test("ping over UDP IPv6", async () => {
    const d = await spawnDaemon({ ngHost: "::1" });
    try {
      expect(await ngUdp("::1", d.ngPort, { command: "ping" })).toEqual({ result: "pong" });
    } finally {
      await d.stop();
    }
  });

  test("a port-only --listen-ng/--listen-tcp-ng serves IPv4 and IPv6", async () => {
    const t = await freePort();
    const d = await spawnDaemon({ ngPortOnly: true, args: [`--listen-tcp-ng=${t}`] });
    const u = d.ngPort;
    try {
      const { ngTcp } = await import("../helpers/daemon.ts");
      for (const host of ["127.0.0.1", "::1"]) {
        expect(await ngUdp(host, u, { command: "ping" })).toEqual({ result: "pong" });
        expect(await ngTcp(host, t, { command: "ping" })).toEqual({ result: "pong" });
      }
    } finally {
      await d.stop();
    }
  });

  test("--listen-https: HTTPS and secure WebSocket with --https-cert/--https-key; without them exit 1", async () => {
    const dir = tmp();
    const [cert, key] = [join(dir, "cert.pem"), join(dir, "key.pem")];
    const gen = Bun.spawnSync(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-days", "1", "-keyout", key, "-out", cert]);
    if (gen.exitCode !== 0) {
      console.warn("skipped: openssl could not make a test certificate");
      return;
    }
    const port = await freePort();
    const d = await spawnDaemon({ args: [`--listen-https=127.0.0.1:${port}`, `--https-cert=${cert}`, `--https-key=${key}`] });
    try {
      const r = await fetch(`https://127.0.0.1:${port}/ng`, { method: "POST", body: "s1 d7:command4:pinge", tls: { rejectUnauthorized: false } } as RequestInit);
      expect(await r.text()).toBe("s1 d6:result4:ponge");
      const ws = new WebSocket(`wss://127.0.0.1:${port}/`, { protocols: ["ng.rtpengine.com"], tls: { rejectUnauthorized: false } } as unknown as string[]);
      const viaWss = await new Promise<string>((res, rej) => {
        ws.onopen = () => ws.send("s2 d7:command4:pinge");
        ws.onmessage = (ev) => res(String(ev.data));
        ws.onerror = () => rej(new Error("wss error"));
        setTimeout(() => rej(new Error("wss timeout")), 5000);
      });
      ws.close();
      expect(viaWss).toBe("s2 d6:result4:ponge");
    } finally {
      await d.stop();
    }
    const bad = await run(["--config-file=none", "--table=-1", "-i", "127.0.0.1", "-f", `--listen-https=127.0.0.1:${port}`]);
    expect(bad.code).toBe(1);
    expect(bad.err.trim().split("\n").at(-1)).toBe("rtpengine: --listen-https: needs --https-cert and --https-key");
    rmSync(dir, { recursive: true, force: true });
  });

  test("hidden --self-test-shim runs the shim self-test and exits 0", async () => {
    const r = await run(["--self-test-shim"]);
    expect(r.err).toContain("shim: ok");
    expect(r.code).toBe(0);
  });

  test("option errors: one line on stderr, exit 1; --help exits 0", async () => {
    const bad = await run(["--no-such-option"]);
    expect(bad.code).toBe(1);
    expect(bad.err.trim().split("\n").length).toBe(1);
    const help = await run(["--help"]);
    expect(help.code).toBe(0);
    expect(help.out).toContain("--listen-ng");
  });

  test("sd_notify: READY=1 arrives on NOTIFY_SOCKET", async () => {
    // node APIs cannot bind a unix datagram socket; python3 (part of Debian's base) receives for us
    if (!existsSync("/usr/bin/python3")) {
      console.warn("skipped: /usr/bin/python3 not available to receive on a unix datagram socket");
      return;
    }
    const dir = tmp();
    const sockPath = join(dir, "notify.sock");
    const py = Bun.spawn(["/usr/bin/python3", "-c",
      "import socket,sys\ns=socket.socket(socket.AF_UNIX,socket.SOCK_DGRAM)\ns.bind(sys.argv[1])\nprint('bound',flush=True)\ns.settimeout(20)\nprint(s.recv(4096).decode(),flush=True)", sockPath],
      { stdout: "pipe" });
    const reader = py.stdout.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    expect(first).toContain("bound");
    const d = await spawnDaemon({ env: { NOTIFY_SOCKET: sockPath } });
    try {
      let text = "";
      const deadline = Date.now() + 10000;
      while (!text.includes("READY=1") && Date.now() < deadline) {
        const chunk = await reader.read();
        if (chunk.done) break;
        text += new TextDecoder().decode(chunk.value);
      }
      expect(text).toContain("READY=1");
    } finally {
      await d.stop();
      py.kill();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("without --foreground: the parent exits 0 once the detached child listens", async () => {
    const dir = tmp();
    const pidfile = join(dir, "d.pid");
    const port = await freePort();
    const r = await run(["--config-file=none", "--table=-1", "-i", "127.0.0.1", `--listen-ng=127.0.0.1:${port}`, `--pidfile=${pidfile}`, "-E"]);
    expect(r.code).toBe(0);
    const pid = Number(readFileSync(pidfile, "utf8").trim());
    try {
      expect(await ngUdp("127.0.0.1", port, { command: "ping" })).toEqual({ result: "pong" });
    } finally {
      process.kill(pid, "SIGTERM");
    }
    const deadline = Date.now() + 5000;
    while (existsSync(pidfile) && Date.now() < deadline) await Bun.sleep(50);
    expect(existsSync(pidfile)).toBe(false);
    rmSync(dir, { recursive: true, force: true });
  });

  test("without --foreground, a startup failure is reported by the parent with exit 1", async () => {
    const port = await freePort();
    const blocker = dgram.createSocket("udp4");
    await new Promise<void>((r) => blocker.bind(port, "127.0.0.1", () => r()));
    try {
      const r = await run(["--config-file=none", "--table=-1", "-i", "127.0.0.1", `--listen-ng=127.0.0.1:${port}`]);
      expect(r.code).toBe(1);
      expect(r.err).toContain("--listen-ng");
    } finally {
      blocker.close();
    }
  });
});
