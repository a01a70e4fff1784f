// Config entry point: command line + config file → typed, validated Config (rtpengine 10.5 semantics).

import { ConfigError } from "./errors.ts";
import { parseCommandLine } from "./cmdline.ts";
import { DEFAULT_CONFIG_FILE, DEFAULT_CONFIG_SECTION, defaultConfig, defaultNumThreads } from "./defaults.ts";
import { readConfigFile } from "./file.ts";
import { helpText, versionText } from "./help.ts";
import { OPTIONS, SPECIAL_OPTIONS } from "./options.ts";
import type { RawOf } from "./options.ts";
import type { Config } from "./types.ts";

export { ConfigError } from "./errors.ts";
export { helpText, VERSION, COMPATIBLE_WITH } from "./help.ts";
export { OPTIONS } from "./options.ts";
export type { OptionDef } from "./options.ts";
export { DEFAULT_CONFIG_FILE } from "./defaults.ts";
export type * from "./types.ts";

export interface LoadOptions {
  /** environment for RTPENGINE_REDIS_AUTH_PW and friends; default process.env */
  env?: Record<string, string | undefined>;
  /** default config file path; default /etc/rtpengine/rtpengine.conf (tests point it elsewhere) */
  defaultConfigFile?: string;
}

export type LoadResult = Config | { kind: "help" | "version"; text: string };

/**
 * Build the configuration from `argv` (without the program name) and the config file. The
 * command line wins over the file; a list given on the command line replaces the file's
 * list, as with the reference. Throws ConfigError (one-line message) on any bad input.
 */
export function loadConfig(argv: string[], opts: LoadOptions = {}): LoadResult {
  const env = opts.env ?? process.env;
  const cmd = parseCommandLine(argv);
  if (cmd.help) return { kind: "help", text: helpText() };
  if (cmd.values.get("version") === true) return { kind: "version", text: versionText() };
  if (cmd.values.get("codecs") === true) throw new ConfigError("--codecs is not implemented yet");

  const cfg = defaultConfig();
  const fileArg = cmd.values.get("config-file") as string | undefined;
  cfg.configSection = (cmd.values.get("config-section") as string | undefined) ?? DEFAULT_CONFIG_SECTION;
  const merged = new Map<string, boolean | number | string | string[]>();
  if (fileArg !== "none") {
    const path = fileArg ?? opts.defaultConfigFile ?? DEFAULT_CONFIG_FILE;
    const file = readConfigFile(path, cfg.configSection, fileArg === undefined);
    if (file) {
      cfg.configFile = path;
      cfg.unknownConfigKeys = file.unknownKeys;
      for (const [k, v] of file.values) merged.set(k, v);
    }
  }
  for (const [k, v] of cmd.values) merged.set(k, v);

  const given = new Set<string>();
  for (const opt of OPTIONS) {
    if (SPECIAL_OPTIONS.has(opt.long)) continue;
    const value = merged.get(opt.long);
    if (value === undefined) continue;
    opt.apply(cfg, value as RawOf[typeof opt.arg] as never, { env });
    if (value !== false) given.add(opt.long);
  }
  cfg.unsupportedGiven = OPTIONS.filter((o) => !o.implemented && given.has(o.long)).map((o) => o.long);

  finish(cfg, given);
  return cfg;
}

/** Defaults that depend on other options, and checks across options. */
function finish(cfg: Config, given: Set<string>): void {
  if (cfg.numThreads <= 0) cfg.numThreads = defaultNumThreads(); // the reference treats 0 and below as "not set"
  if (!given.has("media-num-threads")) cfg.mediaNumThreads = cfg.numThreads;
  // the reference sanitises the software ID for use in STUN and elsewhere
  cfg.softwareId = cfg.softwareId.replace(/[^A-Za-z0-9]/g, "-");
  if (cfg.portMin > cfg.portMax) {
    throw new ConfigError(`invalid value for --port-min: '${cfg.portMin}' (greater than --port-max ${cfg.portMax})`);
  }
  if (cfg.interfaces.length === 0) throw new ConfigError("missing option --interface");
  const anyListener =
    cfg.listenTcp || cfg.listenUdp || cfg.listenNg.length || cfg.listenTcpNg.length || cfg.listenHttp.length || cfg.listenHttps.length;
  if (!anyListener) {
    throw new ConfigError("missing option --listen-ng (or --listen-tcp-ng, --listen-udp, --listen-tcp, --listen-http, --listen-https)");
  }
}
