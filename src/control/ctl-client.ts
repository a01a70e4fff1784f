// rtpengine-ctl: the CLI client personality of the same binary (`rtpengine-ctl [-ip A[:P]] [-port P] COMMAND...`).
import net from "node:net";
import { readFileSync, existsSync } from "node:fs";

const USAGE = `
    rtpengine-ctl [ -ip <ipaddress>[:<port>] -port <port> ] [ -config-file <file> ] <command>

    Sends <command> to the --listen-cli port of a running rtpengine (default 127.0.0.1:9900,
    or listen-cli from the config file) and prints the answer.
    Run "rtpengine-ctl help" or "rtpengine-ctl list help" for the daemon's command list.

    Return Value:
    0 on success with output from server side, other values for failure.
`;

interface CtlArgs {
  ip: string;
  port: number;
  command: string;
}

/** Read `listen-cli` from the [rtpengine] section of an INI config file. */
function listenCliFromConfig(path: string): string | undefined {
  if (!existsSync(path)) return undefined;
  let section = "";
  for (const raw of readFileSync(path, "utf8").split("\n")) {
    const line = raw.trim();
    const sec = /^\[(.+)\]$/.exec(line);
    if (sec) section = sec[1]!.trim();
    else if (section === "rtpengine") {
      const kv = /^listen-cli\s*=\s*(.*)$/.exec(line);
      if (kv) return kv[1]!.trim();
    }
  }
  return undefined;
}

/** Parse like the Perl rtpengine-ctl: options first (single or double dash), the rest is the command. */
export function parseCtlArgs(argv: string[]): CtlArgs | "help" | string {
  let ip: string | undefined;
  let port: number | undefined;
  let configFile = "/etc/rtpengine/rtpengine.conf";
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    const m = /^--?([a-z-]+)(?:=(.*))?$/.exec(a);
    if (!m) break;
    const name = m[1]!;
    const value = (): string | undefined => m[2] ?? argv[++i];
    if (name === "help" || name === "h") return "help";
    else if (name === "ip") ip = value();
    else if (name === "port") {
      const v = value();
      if (!v || !/^\d+$/.test(v)) return `invalid port '${v ?? ""}'`;
      port = Number(v);
    } else if (name === "config-file") configFile = value() ?? configFile;
    else return `unknown option '${a}'`;
  }
  const listen = listenCliFromConfig(configFile);
  if (listen !== undefined) {
    if (/^\d+$/.test(listen)) port ??= Number(listen);
    else ip ??= listen;
  }
  if (ip) {
    const m = /^(.*):(\d+)$/.exec(ip);
    if (m && !m[1]!.endsWith(":") && (m[1]!.includes("]") || !m[1]!.includes(":"))) {
      ip = m[1]!;
      port ??= Number(m[2]);
    }
    ip = ip.replace(/^\[(.*)\]$/, "$1");
  }
  const command = argv.slice(i).join(" ").trim();
  port ??= 9900;
  if (!command || port <= 0 || port > 65535) return "help";
  return { ip: ip ?? "127.0.0.1", port, command };
}

/** Run the client; resolves to the process exit code. */
export async function runCtl(argv: string[]): Promise<number> {
  const parsed = parseCtlArgs(argv);
  if (parsed === "help") {
    process.stdout.write(USAGE);
    return argv.some((a) => a === "-h" || a === "--help" || a === "-help") ? 0 : 1;
  }
  if (typeof parsed === "string") {
    process.stderr.write(`rtpengine-ctl: ${parsed}\n${USAGE}`);
    return 1;
  }
  return new Promise<number>((resolve) => {
    let got = false;
    const sock = net.connect({ host: parsed.ip, port: parsed.port }, () => sock.write(parsed.command + "\n"));
    sock.setTimeout(3000, () => {
      process.stderr.write("rtpengine-ctl: timed out waiting for rtpengine\n");
      sock.destroy();
      resolve(1);
    });
    sock.on("data", (d) => {
      got = true;
      process.stdout.write(d);
    });
    sock.on("error", (e) => {
      process.stderr.write(`Cannot connect to the rtpengine ${e.message}\n`);
      resolve(1);
    });
    sock.on("close", () => resolve(got ? 0 : 1));
  });
}
