// TEMPORARY: a minimal option parser so the daemon can start before src/config's loadConfig lands; main.ts switches over then.
import type { Config, Listener } from "../config/types.ts";

function listener(v: string): Listener {
  const m = /^(?:\[?([^\]]*?)\]?:)?(\d+)$/.exec(v);
  if (!m) throw new Error(`rtpengine: invalid listener '${v}'`);
  const address = m[1] || null;
  return { address, port: Number(m[2]), family: address === null ? 0 : address.includes(":") ? 6 : 4 };
}

export function interimConfig(argv: string[]): Config {
  const c = {
    configFile: null, logLevel: 6, logLevels: {}, logStderr: false, noLogTimestamps: false, logFacility: "daemon",
    pidfile: null, foreground: false, listenNg: [] as Listener[], listenTcpNg: [] as Listener[], listenCli: null as Listener | null,
    listenHttp: [] as Listener[], listenHttps: [], interfaces: [], unsupportedGiven: [] as string[],
    timeout: 60, silentTimeout: 3600, offerTimeout: 3600, finalTimeout: 0, deleteDelay: 30, controlTos: 0, maxSessions: -1,
    redisAllowedErrors: -1, redisDisableTime: 10, redisConnectTimeout: 1000, redisCmdTimeout: 0, maxBandwidth: 0,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const eq = a.indexOf("=");
    const name = eq > 0 ? a.slice(0, eq) : a;
    const val = () => (eq > 0 ? a.slice(eq + 1) : argv[++i] ?? "");
    switch (name) {
      case "-n": case "--listen-ng": c.listenNg.push(listener(val())); break;
      case "--listen-tcp-ng": c.listenTcpNg.push(listener(val())); break;
      case "-c": case "--listen-cli": c.listenCli = listener(val()); break;
      case "--listen-http": c.listenHttp.push(listener(val())); break;
      case "-f": case "--foreground": c.foreground = true; break;
      case "-E": case "--log-stderr": c.logStderr = true; break;
      case "--no-log-timestamps": c.noLogTimestamps = true; break;
      case "-L": case "--log-level": c.logLevel = Number(val()); break;
      case "-p": case "--pidfile": (c as { pidfile: string | null }).pidfile = val(); break;
      case "-i": case "--interface": val(); break;
      case "--config-file": case "--table": case "-t": val(); break;
      default: c.unsupportedGiven.push(name.replace(/^-+/, ""));
    }
  }
  return c as unknown as Config;
}
