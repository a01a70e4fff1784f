// Differential: the same control messages to Debian's rtpengine 10.5 and to ours must get the same decoded replies.
import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { existsSync } from "node:fs";
import net from "node:net";
import { cliCommand, freePort, rawUdp, spawnDaemon, splitReply, type TestDaemon } from "../helpers/daemon.ts";
import { missing } from "../helpers/requires.ts";

// daemons start in ~1 s (shim, media plane) but much slower on a loaded CI box
setDefaultTimeout(30_000);

const REFERENCE = "/usr/bin/rtpengine";
const have = !missing(!existsSync(REFERENCE), `${REFERENCE} not installed (apt-get install rtpengine-daemon)`);

let ours: TestDaemon;
let ref: { proc: ReturnType<typeof Bun.spawn>; ng: number; tcp: number; cli: number; http: number } | null = null;

beforeAll(async () => {
  if (!have) return;
  ours = await spawnDaemon({ cli: true, tcpNg: true, http: true });
  const [ng, tcp, cli, http] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const proc = Bun.spawn([REFERENCE, "--config-file=none", "--table=-1", "--foreground", "-E", "-L", "3", "-i", "127.0.0.1",
    `--listen-ng=127.0.0.1:${ng}`, `--listen-tcp-ng=127.0.0.1:${tcp}`, `--listen-cli=127.0.0.1:${cli}`, `--listen-http=127.0.0.1:${http}`], { stdout: "ignore", stderr: "ignore" });
  ref = { proc, ng, tcp, cli, http };
  for (let i = 0; i < 50; i++) {
    if (await rawUdp("127.0.0.1", ng, "up d7:command4:pinge", 100)) return;
  }
  throw new Error("reference daemon did not start");
});
afterAll(async () => {
  await ours?.stop();
  ref?.proc.kill("SIGTERM");
  await ref?.proc.exited;
});

const MESSAGES = [
  "d1 d7:command4:pinge",
  "d2 garbage",
  "d3 li1ee",
  "d4 d3:fooi1ee",
  "d5 d7:command5:bogose",
  "d6 d7:command4:PINGe",
  "d7 ",
  "d8 d7:commandi5ee",
  "d9 d7:command12:subscribe re",
  "d10 d7:command4:pingeXYZ",
  "d11 d7:command4:ping3:foo-5:abce",
  "d12 d7:command4:ping3:fooi1.5ee",
  'd13 {"command":"ping"}',
  'd14 {"command":"bogus"}',
  "d15 d1:a4:abcd7:command4:ping",
  "d16 d7:command4:ping1:al1:b",
];

describe("ng and CLI replies match rtpengine 10.5", () => {
  test.each(MESSAGES)("UDP %j", async (msg) => {
    if (!have) return; // skipped, reason stated once above by missing()
    const [a, b] = await Promise.all([rawUdp("127.0.0.1", ref!.ng, msg, 1000), rawUdp("127.0.0.1", ours.ngPort, msg, 1000)]);
    expect(b === null).toBe(a === null);
    if (a && b) expect(splitReply(b)).toEqual(splitReply(a));
  });

  test("no cookie: neither answers", async () => {
    if (!have) return;
    const [a, b] = await Promise.all([rawUdp("127.0.0.1", ref!.ng, "nocookie", 300), rawUdp("127.0.0.1", ours.ngPort, "nocookie", 300)]);
    expect(a).toBeNull();
    expect(b).toBeNull();
  });

  test("TCP framing: back-to-back messages, a newline, a digit-colon cookie", async () => {
    if (!have) return;
    const send = (port: number) =>
      new Promise<string>((res, rej) => {
        const s = net.connect(port, "127.0.0.1", () => s.write("tA d7:command4:pinge\n20:tB d7:command4:pingetC d7:command4:pinge"));
        let out = "";
        s.on("data", (d) => {
          out += d.toString();
          if (out.length >= 57) {
            s.destroy();
            res(out);
          }
        });
        s.on("error", rej);
        setTimeout(() => (s.destroy(), res(out)), 1500);
      });
    expect(await send(ours.tcpNgPort!)).toBe(await send(ref!.tcp));
  });

  test.each(["list numsessions", "list totals", "list interfaces", "list sessions all", "terminate nosuchcall"])("CLI with no calls %j", async (cmd) => {
    if (!have) return;
    const [a, b] = await Promise.all([cliCommand("127.0.0.1", ref!.cli, cmd), ours.cli(cmd)]);
    // uptime and the per-proxy rows (startup pings differ) are normalised; we do not track the last port used
    const norm = (x: string) => x.replace(/(Uptime of rtpengine\s+:)\d+/, "$1N").replace(/^ +127\.0\.0\.1 \|.*\n/m, "");
    expect(norm(b)).toBe(norm(a).replace(/\n Last port used:.*\n/, "\n"));
  });

  test("Prometheus /metrics: same metric names, labels and order", async () => {
    if (!have) return;
    const get = async (port: number) => (await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()).split("\n").map((l) => l.replace(/ [-0-9.]+$/, " N"));
    const [a, b] = await Promise.all([get(ref!.http), get(ours.httpPort!)]);
    // our one extension, rtpengine_bad_packets_total, comes after everything 10.5 prints
    const ext = b.findIndex((l) => l.includes("rtpengine_bad_packets_total"));
    expect(ext).toBeGreaterThan(0);
    expect(b.slice(0, ext)).toEqual(a.slice(0, ext));
    expect(b.slice(ext).every((l) => l === "" || l.includes("rtpengine_bad_packets_total"))).toBe(true);
    expect(a.slice(ext).filter((l) => l !== "")).toEqual([]);
  });

  test.each(["list loglevels", "list timeout", "list maxsessions", "list maxcpu", "list maxload", "list maxbw", "list", "bogus", "list bogus", "help", "list help", "set help", "get loglevel core", "set timeout abc"])("CLI %j", async (cmd) => {
    if (!have) return;
    const [a, b] = await Promise.all([cliCommand("127.0.0.1", ref!.cli, cmd), ours.cli(cmd)]);
    // rtpengine's misspelling "digists" is not copied
    expect(b).toBe(a.replace("no digists found", "no digits found").replace(/^3\n$/, "6\n"));
  });
});
