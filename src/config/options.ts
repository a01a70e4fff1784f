// The option table: every rtpengine 10.5 option with its names, value kind, help line, and whether we implement it.

import { ConfigError, invalidValue } from "./errors.ts";
import { checkRange, parseCmdlineInt, parseEndpoint, parseEnum, parseInterface, parseListener, parseRedis } from "./values.ts";
import { LOG_SUBSYSTEMS } from "./types.ts";
import type { Config, LogFacility } from "./types.ts";

/** How GOption collects the value: `none` is a flag (a boolean in the file), `strings` may repeat (`;`-list in the file). */
export type ArgKind = "none" | "int" | "double" | "string" | "strings";
export interface RawOf {
  none: boolean;
  int: number;
  double: number;
  string: string;
  strings: string[];
}

export interface ApplyContext {
  env: Record<string, string | undefined>;
}

export interface OptionDef<A extends ArgKind = ArgKind> {
  long: string;
  short?: string;
  arg: A;
  /** placeholder shown in --help, e.g. `INT` or `[IP46|HOSTNAME:]PORT` */
  argName?: string;
  help: string;
  /** true once the daemon honours the option; otherwise it is parsed, validated and reported at startup */
  implemented: boolean;
  /** ours, not rtpengine 10.5's (named as in later rtpengine versions); absent from the reference's --help */
  extension?: boolean;
  /** store the collected value into the config (validate first, throw ConfigError naming the option) */
  apply(cfg: Config, value: RawOf[A], ctx: ApplyContext): void;
}

// Keys of Config whose values have a given type, so each helper can only target a matching field.
type FieldOf<T> = { [K in keyof Config]: Config[K] extends T ? (T extends Config[K] ? K : never) : never }[keyof Config];
type NullableFieldOf<T> = { [K in keyof Config]: Config[K] extends T | null ? (T | null extends Config[K] ? K : never) : never }[keyof Config];

const YES = true;
const NO = false;

function flag(long: string, short: string | undefined, field: FieldOf<boolean>, implemented: boolean, help: string): OptionDef<"none"> {
  return { long, short, arg: "none", help, implemented, apply: (c, v) => { c[field] = v; } };
}

const ANY_INT: [number, number] = [-2147483648, 2147483647];

/** An integer option; `range` rejects, `normalise` maps accepted-but-odd values the way the reference does. */
function int(
  long: string, short: string | undefined, field: FieldOf<number> | NullableFieldOf<number>, implemented: boolean, help: string,
  range: [number, number] = ANY_INT, argName = "INT", normalise: (v: number) => number = (v) => v,
): OptionDef<"int"> {
  return { long, short, arg: "int", argName, help, implemented, apply: (c, v) => {
    (c as unknown as Record<string, number>)[field] = normalise(checkRange(long, v, range[0], range[1]));
  } };
}

/** The reference replaces a zero or negative value of these timeouts by the default. */
const orDefault = (d: number) => (v: number) => (v <= 0 ? d : v);

function dbl(long: string, field: FieldOf<number>, implemented: boolean, help: string, range: [number, number]): OptionDef<"double"> {
  return { long, arg: "double", argName: "FLOAT", help, implemented, apply: (c, v) => {
    if (v < range[0] || v > range[1]) throw invalidValue(long, String(v), `expected ${range[0]} to ${range[1]}`);
    c[field] = v;
  } };
}

function str(long: string, short: string | undefined, field: FieldOf<string> | NullableFieldOf<string>, implemented: boolean, help: string, argName = "STRING"): OptionDef<"string"> {
  return { long, short, arg: "string", argName, help, implemented, apply: (c, v) => { (c as unknown as Record<string, string>)[field] = v; } };
}

function choice<T extends string>(
  long: string, field: FieldOf<T> | NullableFieldOf<T>, values: readonly T[], caseInsensitive: boolean, implemented: boolean, help: string, argName = values.join("|"),
): OptionDef<"string"> {
  return { long, arg: "string", argName, help, implemented, apply: (c, v) => { (c as unknown as Record<string, T>)[field] = parseEnum(long, v, values, caseInsensitive); } };
}

export const LOG_FACILITIES: readonly LogFacility[] = [
  "auth", "authpriv", "cron", "daemon", "ftp", "kern", "lpr", "mail", "news", "syslog", "user", "uucp",
  "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
];
const FACILITY_ARG = "daemon|local0|...|local7";
const SCHEDULING = ["default", "none", "fifo", "rr", "other", "batch", "idle"] as const;

function intList(option: string, items: string[], each: (n: number, i: number) => void): number[] {
  return items.flatMap((item) => item.split(/[\s]+/).filter((s) => s !== "")).map((s, i) => {
    const n = parseCmdlineInt(option, s);
    each(n, i);
    return n;
  });
}

/** RFC 3389 CN parameters: noise level 0..127 first, then reflection coefficients 0..254. */
function cnParams(option: string, items: string[]): number[] {
  return intList(option, items, (n, i) => checkRange(option, n, 0, i === 0 ? 127 : 254));
}

/** An nftables chain name as ffi/nft.c accepts it: 1..63 of [A-Za-z0-9_.-] (empty only where allowed). */
function nftName(option: string, v: string, emptyOk: boolean): string {
  if (v === "" && emptyOk) return v;
  if (!/^[A-Za-z0-9_.-]{1,63}$/.test(v)) throw invalidValue(option, v, "expected 1 to 63 characters of A-Z a-z 0-9 _ . -");
  return v;
}

/** Identity helper so that an inline entry's `apply` gets its value type from `arg`. */
function def<A extends ArgKind>(o: OptionDef<A>): OptionDef<A> {
  return o;
}

/** An option the loader acts on itself (see index.ts); storing it is a no-op. */
function special(long: string, short: string | undefined, arg: "none" | "string", implemented: boolean, help: string, argName?: string): OptionDef {
  return { long, short, arg, argName, help, implemented, apply: () => {} };
}

/** Every option, in the order of the reference's --help. */
export const OPTIONS: readonly OptionDef[] = [
  special("version", "v", "none", YES, "Print the version and exit"),
  special("config-file", undefined, "string", YES, "Read options from this file ('none' for no file)", "FILE"),
  special("config-section", undefined, "string", YES, "Section of the config file to use", "STRING"),
  choice("log-facility", "logFacility", LOG_FACILITIES, false, YES, "Syslog facility for log messages", FACILITY_ARG),
  int("log-level", "L", "logLevel", YES, "Log level (syslog 0 to 7) for subsystems without their own"), // the reference takes any integer
  ...LOG_SUBSYSTEMS.map((sub): OptionDef<"int"> => ({
    long: `log-level-${sub}`, arg: "int", argName: "INT", help: `Log level for the '${sub}' subsystem (-1 = off)`, implemented: NO,
    apply: (c, v) => { c.logLevels[sub] = v; },
  })),
  flag("log-stderr", "E", "logStderr", YES, "Log to stderr, not syslog"),
  flag("split-logs", undefined, "splitLogs", YES, "Log each line of a multi-line message separately"),
  int("max-log-line-length", undefined, "maxLogLineLength", YES, "Split log lines longer than this (0 = default, negative = never)"),
  flag("no-log-timestamps", undefined, "noLogTimestamps", YES, "No timestamps on stderr log lines"),
  str("log-mark-prefix", undefined, "logMarkPrefix", NO, "Text placed before sensitive values in logs"),
  str("log-mark-suffix", undefined, "logMarkSuffix", NO, "Text placed after sensitive values in logs"),
  str("pidfile", "p", "pidfile", YES, "Write the daemon's PID into this file", "FILE"),
  flag("foreground", "f", "foreground", YES, "Stay in the foreground, do not daemonise"),
  int("thread-stack", undefined, "threadStack", NO, "Stack size per thread in kB (-1 = system default)"),
  int("table", "t", "table", YES, "Kernel forwarding table (negative = userspace only)"),
  flag("no-fallback", "F", "noFallback", YES, "Refuse to start without the kernel module"),
  // extension, named as in later rtpengine versions: the daemon installs its own nftables rule (src/kernel/nft.ts)
  def({
    long: "nftables-chain", arg: "string", argName: "CHAIN", implemented: YES, extension: true,
    help: "Create this nftables chain (table filter) sending UDP to the kernel module; off unless given [extension]",
    apply: (c, v) => { c.nftablesChain = nftName("nftables-chain", v, false); },
  }),
  def({
    long: "nftables-base-chain", arg: "string", argName: "CHAIN", implemented: YES, extension: true,
    help: "Base chain (hook input) that jumps to --nftables-chain, created if missing; empty = none [extension]",
    apply: (c, v) => { c.nftablesBaseChain = nftName("nftables-base-chain", v, true); },
  }),
  def({
    long: "nftables-append", arg: "none", implemented: YES, extension: true,
    help: "Append the jump to the base chain instead of inserting it first [extension]",
    apply: (c, v) => { c.nftablesAppend = v; },
  }),
  def({
    long: "nftables-family", arg: "string", argName: "ip|ip6|ip,ip6", implemented: YES, extension: true,
    help: "Address families to install the nftables rules for [extension]",
    apply: (c, v) => {
      const fams = v.split(",").map((f) => f.trim()).filter((f) => f !== "");
      if (!fams.length) throw invalidValue("nftables-family", v, "expected ip, ip6 or ip,ip6");
      c.nftablesFamily = [...new Set(fams.map((f) => parseEnum("nftables-family", f, ["ip", "ip6"] as const, true)))];
    },
  }),
  def({
    long: "interface", short: "i", arg: "strings", argName: "[NAME/]IP[!IP]", help: "Local address for media; repeat for more", implemented: YES,
    apply: (c, v) => { c.interfaces = v.flatMap((s) => parseInterface("interface", s)); },
  }),
  flag("save-interface-ports", "S", "saveInterfacePorts", NO, "Allocate ports on the first usable address of an interface only"),
  def({
    long: "subscribe-keyspace", short: "k", arg: "strings", argName: "INT INT ...", help: "Redis keyspaces to subscribe to", implemented: NO,
    apply: (c, v) => { c.subscribeKeyspace = intList("subscribe-keyspace", v, (n) => checkRange("subscribe-keyspace", n, 0, 2147483647)); },
  }),
  def({
    long: "listen-tcp", short: "l", arg: "string", argName: "[IP:]PORT", help: "Legacy TCP control port", implemented: NO,
    apply: (c, v) => { c.listenTcp = parseListener("listen-tcp", v); },
  }),
  def({
    long: "listen-udp", short: "u", arg: "string", argName: "[IP46|HOSTNAME:]PORT", help: "Legacy rtpproxy UDP control port", implemented: NO,
    apply: (c, v) => { c.listenUdp = parseListener("listen-udp", v); },
  }),
  def({
    // a single value in 10.5: a repeated -n keeps the last one
    long: "listen-ng", short: "n", arg: "string", argName: "[IP46|HOSTNAME:]PORT", help: "UDP control port, ng protocol", implemented: YES,
    apply: (c, v) => { c.listenNg = [parseListener("listen-ng", v)]; },
  }),
  def({
    long: "listen-tcp-ng", short: "N", arg: "string", argName: "[IP46|HOSTNAME:]PORT", help: "TCP control port, ng protocol", implemented: YES,
    apply: (c, v) => { c.listenTcpNg = [parseListener("listen-tcp-ng", v)]; },
  }),
  def({
    long: "listen-cli", short: "c", arg: "string", argName: "[IP46|HOSTNAME:]PORT", help: "TCP port for rtpengine-ctl", implemented: YES,
    apply: (c, v) => { c.listenCli = parseListener("listen-cli", v); },
  }),
  def({
    long: "graphite", short: "g", arg: "string", argName: "IP46|HOSTNAME:PORT", help: "Graphite server to send statistics to", implemented: NO,
    apply: (c, v) => { c.graphite = parseEndpoint("graphite", v); },
  }),
  int("graphite-interval", "G", "graphiteInterval", NO, "Seconds between graphite reports", ANY_INT),
  str("graphite-prefix", undefined, "graphitePrefix", NO, "Prefix for every graphite line"),
  int("graphite-timeout", undefined, "graphiteTimeout", NO, "Seconds before a graphite connection attempt fails (0 = no limit)", ANY_INT),
  int("tos", "T", "tos", YES, "TOS byte for media packets (0 = leave alone)", [0, 255]),
  int("control-tos", undefined, "controlTos", NO, "TOS byte for ng control packets (0 = leave alone)", [0, 255]),
  int("timeout", "o", "timeout", YES, "Seconds without media before a call is dropped", ANY_INT, "SECS", orDefault(60)),
  int("silent-timeout", "s", "silentTimeout", YES, "The same for muted or inactive media", ANY_INT, "SECS", orDefault(3600)),
  int("final-timeout", "a", "finalTimeout", YES, "Seconds after creation when a call is dropped (0 = never)", ANY_INT, "SECS", (v) => Math.max(0, v)),
  int("offer-timeout", undefined, "offerTimeout", YES, "Seconds a call with an offer but no answer is kept", ANY_INT, "SECS", orDefault(3600)),
  int("port-min", "m", "portMin", YES, "Lowest local port for media", [1, 65535]),
  int("port-max", "M", "portMax", YES, "Highest local port for media", [1, 65535]),
  def({
    long: "redis", short: "r", arg: "string", argName: "[PW@]IP:PORT/INT", help: "Redis database for call persistence", implemented: NO,
    apply: (c, v, ctx) => { c.redis = parseRedis("redis", v, ctx.env.RTPENGINE_REDIS_AUTH_PW ?? null); },
  }),
  def({
    long: "redis-write", short: "w", arg: "string", argName: "[PW@]IP:PORT/INT", help: "Separate Redis database for writes", implemented: NO,
    apply: (c, v, ctx) => { c.redisWrite = parseRedis("redis-write", v, ctx.env.RTPENGINE_REDIS_WRITE_AUTH_PW ?? null); },
  }),
  int("redis-num-threads", undefined, "redisNumThreads", NO, "Threads restoring calls from Redis", ANY_INT),
  int("redis-expires", undefined, "redisExpires", NO, "Expiry of Redis keys in seconds", ANY_INT),
  flag("no-redis-required", "q", "noRedisRequired", NO, "Start even when Redis cannot be reached"),
  int("redis-allowed-errors", undefined, "redisAllowedErrors", NO, "Consecutive Redis errors before pausing Redis (negative = never pause)", ANY_INT),
  int("redis-disable-time", undefined, "redisDisableTime", NO, "Seconds Redis stays paused after errors", ANY_INT),
  int("redis-cmd-timeout", undefined, "redisCmdTimeout", NO, "Redis command timeout in ms (0 = none)", ANY_INT),
  int("redis-connect-timeout", undefined, "redisConnectTimeout", NO, "Redis connect timeout in ms", ANY_INT),
  flag("redis-delete-async", "y", "redisDeleteAsync", NO, "Delete Redis keys in the background"),
  int("redis-delete-async-interval", undefined, "redisDeleteAsyncInterval", NO, "Seconds between background Redis deletions", ANY_INT),
  flag("active-switchover", undefined, "activeSwitchover", NO, "Take over calls learned from Redis once they show activity"),
  str("b2b-url", "b", "b2bUrl", NO, "XMLRPC URL to notify when a call times out"),
  choice("log-facility-cdr", "logFacilityCdr", LOG_FACILITIES, false, NO, "Syslog facility for CDRs", FACILITY_ARG),
  choice("log-facility-rtcp", "logFacilityRtcp", LOG_FACILITIES, false, NO, "Syslog facility for RTCP data", FACILITY_ARG),
  choice("log-facility-dtmf", "logFacilityDtmf", LOG_FACILITIES, false, NO, "Syslog facility for DTMF events", FACILITY_ARG),
  def({
    long: "dtmf-log-dest", arg: "string", argName: "IP46|HOSTNAME:PORT", help: "Send DTMF events as JSON over UDP to this address", implemented: NO,
    apply: (c, v) => { c.dtmfLogDest = parseEndpoint("dtmf-log-dest", v); },
  }),
  flag("dtmf-log-ng-tcp", undefined, "dtmfLogNgTcp", NO, "Send DTMF events to connected tcp-ng clients"),
  flag("dtmf-no-suppress", undefined, "dtmfNoSuppress", NO, "Keep forwarding audio during DTMF events when transcoding"),
  int("dtmf-digit-delay", undefined, "dtmfDigitDelay", NO, "Milliseconds between DTMF digits for trigger detection", ANY_INT),
  choice("log-format", "logFormat", ["default", "parsable"] as const, false, NO, "Style of log line prefixes"),
  int("xmlrpc-format", "x", "xmlrpcFormat", NO, "XMLRPC callback format: 0 SEMS, 1 call-id only, 2 Kamailio", [0, 2]),
  int("num-threads", undefined, "numThreads", YES, "Worker threads (0 = one per CPU core, at least 4)"),
  int("media-num-threads", undefined, "mediaNumThreads", NO, "Media playback threads (default: num-threads)", ANY_INT),
  int("delete-delay", "d", "deleteDelay", YES, "Seconds a deleted call stays in memory (0 = delete at once)", ANY_INT, "INT", (v) => Math.max(0, v)),
  flag("sip-source", undefined, "sipSource", NO, "Default to the SIP source address instead of the SDP address"),
  flag("dtls-passive", undefined, "dtlsPassive", NO, "Always prefer the passive DTLS role"),
  int("max-sessions", undefined, "maxSessions", YES, "Maximum concurrent calls (-1 = no limit)", ANY_INT, "INT", (v) => Math.max(-1, v)),
  dbl("max-load", "maxLoad", NO, "Refuse new calls above this 1-minute load average (0 = off)", [0, Number.MAX_VALUE]),
  dbl("max-cpu", "maxCpu", NO, "Refuse new calls above this CPU usage in percent (0 = off)", [0, Number.MAX_VALUE]),
  int("max-bandwidth", undefined, "maxBandwidth", NO, "Refuse new calls above this received bytes per second (0 = off)", ANY_INT),
  def({
    long: "homer", arg: "string", argName: "IP46|HOSTNAME:PORT", help: "Homer (HEP) server for RTCP data", implemented: NO,
    apply: (c, v) => { c.homer = parseEndpoint("homer", v); },
  }),
  choice("homer-protocol", "homerProtocol", ["udp", "tcp"] as const, false, NO, "Transport to the Homer server"),
  int("homer-id", undefined, "homerId", NO, "HEP capture ID"),
  str("recording-dir", undefined, "recordingDir", NO, "Directory for recordings and their metadata", "FILE"),
  choice("recording-method", "recordingMethod", ["pcap", "proc"] as const, true, NO, "How calls are recorded"),
  choice("recording-format", "recordingFormat", ["raw", "eth"] as const, true, NO, "Link layer of recorded pcap files"),
  str("iptables-chain", undefined, "iptablesChain", NO, "iptables chain to fill with ACCEPT rules for open media ports"),
  special("codecs", undefined, "none", NO, "List the supported codecs and exit"),
  choice("scheduling", "scheduling", SCHEDULING, false, NO, "Scheduling policy of worker threads"),
  int("priority", undefined, "priority", NO, "Scheduling priority (or nice value) of worker threads"),
  choice("idle-scheduling", "idleScheduling", SCHEDULING, false, NO, "Scheduling policy of low-priority threads"),
  int("idle-priority", undefined, "idlePriority", NO, "Scheduling priority (or nice value) of low-priority threads"),
  flag("log-srtp-keys", undefined, "logSrtpKeys", NO, "Log SRTP keys at error level"),
  str("mysql-host", undefined, "mysqlHost", NO, "MySQL server holding media files", "HOST|IP"),
  int("mysql-port", undefined, "mysqlPort", NO, "MySQL port (0 = client default)", [0, 65535]),
  str("mysql-user", undefined, "mysqlUser", NO, "MySQL user name", "USERNAME"),
  str("mysql-pass", undefined, "mysqlPass", NO, "MySQL password", "PASSWORD"),
  str("mysql-query", undefined, "mysqlQuery", NO, "Query returning a media file, with one %llu for the ID"),
  choice("endpoint-learning", "endpointLearning", ["delayed", "immediate", "off", "heuristic"] as const, true, YES, "How RTP endpoint addresses are learned"),
  int("jitter-buffer", undefined, "jitterBuffer", NO, "Jitter buffer size in packets (0 = off)", ANY_INT),
  flag("jb-clock-drift", undefined, "jbClockDrift", NO, "Compensate clock drift in the jitter buffer"),
  flag("debug-srtp", undefined, "debugSrtp", NO, "Log SRTP details per packet"),
  flag("reject-invalid-sdp", undefined, "rejectInvalidSdp", YES, "Refuse SDP bodies that do not parse cleanly"),
  int("dtls-rsa-key-size", undefined, "dtlsRsaKeySize", NO, "RSA key size for the DTLS certificate"),
  choice("dtls-cert-cipher", "dtlsCertCipher", ["prime256v1", "RSA"] as const, true, NO, "Key type of the DTLS certificate"),
  int("dtls-mtu", undefined, "dtlsMtu", NO, "DTLS MTU (at least 576)", [576, 65535]),
  str("dtls-ciphers", undefined, "dtlsCiphers", NO, "OpenSSL cipher list for DTLS"),
  def({
    long: "dtls-signature", arg: "string", argName: "SHA-256|SHA-1", help: "Signature algorithm of the DTLS certificate", implemented: NO,
    apply: (c, v) => {
      const k = v.toLowerCase().replace("-", "");
      if (k === "sha256") c.dtlsSignature = "SHA-256";
      else if (k === "sha1") c.dtlsSignature = "SHA-1";
      else throw invalidValue("dtls-signature", v, "expected one of: SHA-256, SHA-1");
    },
  }),
  def({
    long: "listen-http", arg: "strings", argName: "[IP46|HOSTNAME:]PORT", help: "HTTP and WebSocket port; repeat for more", implemented: YES,
    apply: (c, v) => { c.listenHttp = v.map((s) => parseListener("listen-http", s)); },
  }),
  def({
    long: "listen-https", arg: "strings", argName: "[IP46|HOSTNAME:]PORT", help: "HTTPS and secure WebSocket port; repeat for more", implemented: YES,
    apply: (c, v) => { c.listenHttps = v.map((s) => parseListener("listen-https", s)); },
  }),
  str("https-cert", undefined, "httpsCert", YES, "PEM certificate for HTTPS and WSS", "FILE"),
  str("https-key", undefined, "httpsKey", YES, "PEM private key for HTTPS and WSS", "FILE"),
  int("http-threads", undefined, "httpThreads", NO, "HTTP and WebSocket worker threads (default: num-threads)", ANY_INT),
  str("software-id", undefined, "softwareId", NO, "Name of this software towards others, e.g. in STUN"),
  flag("poller-per-thread", undefined, "pollerPerThread", NO, "One poller per worker thread"),
  int("dtx-delay", undefined, "dtxDelay", NO, "Milliseconds of delay used to detect DTX gaps (0 = off)", ANY_INT),
  int("max-dtx", undefined, "maxDtx", NO, "Seconds of DTX handling before it stops (0 or less = forever)"),
  int("dtx-buffer", undefined, "dtxBuffer", NO, "Most packets held in the DTX buffer", ANY_INT),
  int("dtx-lag", undefined, "dtxLag", NO, "Most milliseconds of audio held in the DTX buffer", ANY_INT),
  int("dtx-shift", undefined, "dtxShift", NO, "Milliseconds the DTX timer moves on over- or underflow"),
  def({
    long: "dtx-cn-params", arg: "strings", argName: "INT INT INT ...", help: "Comfort noise parameters for DTX gaps (RFC 3389)", implemented: NO,
    apply: (c, v) => { c.dtxCnParams = cnParams("dtx-cn-params", v); },
  }),
  choice("amr-dtx", "amrDtx", ["native", "CN"] as const, true, NO, "DTX handling for AMR and AMR-WB"),
  dbl("silence-detect", "silenceDetect", NO, "Silence threshold in percent (0 = off)", [0, 100]),
  def({
    long: "cn-payload", arg: "strings", argName: "INT INT INT ...", help: "Comfort noise parameters replacing silence (RFC 3389)", implemented: NO,
    apply: (c, v) => { c.cnPayload = cnParams("cn-payload", v); },
  }),
  str("mqtt-host", undefined, "mqttHost", NO, "Mosquitto broker", "HOST|IP"),
  int("mqtt-port", undefined, "mqttPort", NO, "Mosquitto broker port", [1, 65535]),
  str("mqtt-id", undefined, "mqttId", NO, "Mosquitto client ID"),
  int("mqtt-keepalive", undefined, "mqttKeepalive", NO, "Seconds between Mosquitto keepalives", ANY_INT),
  str("mqtt-user", undefined, "mqttUser", NO, "Mosquitto user name", "USERNAME"),
  str("mqtt-pass", undefined, "mqttPass", NO, "Mosquitto password", "PASSWORD"),
  str("mqtt-cafile", undefined, "mqttCafile", NO, "CA file for Mosquitto TLS", "FILE"),
  str("mqtt-capath", undefined, "mqttCapath", NO, "CA directory for Mosquitto TLS", "PATH"),
  str("mqtt-certfile", undefined, "mqttCertfile", NO, "Client certificate for Mosquitto TLS", "FILE"),
  str("mqtt-keyfile", undefined, "mqttKeyfile", NO, "Client key for Mosquitto TLS", "FILE"),
  def({
    long: "mqtt-publish-qos", arg: "int", argName: "0|1|2", help: "QoS of Mosquitto publications", implemented: NO,
    apply: (c, v) => { c.mqttPublishQos = checkRange("mqtt-publish-qos", v, 0, 2) as 0 | 1 | 2; },
  }),
  str("mqtt-publish-topic", undefined, "mqttPublishTopic", NO, "Topic of Mosquitto publications"),
  int("mqtt-publish-interval", undefined, "mqttPublishInterval", NO, "Milliseconds between Mosquitto publications", ANY_INT, "MILLISECONDS"),
  choice("mqtt-publish-scope", "mqttPublishScope", ["global", "call", "media"] as const, false, NO, "What one Mosquitto message covers"),
  choice("mos", "mos", ["CQ", "LQ"] as const, true, NO, "MOS formula: conversational or listening quality"),
  int("socket-cpu-affinity", undefined, "socketCpuAffinity", NO, "Spread media sockets over this many CPUs (0 = off, negative = all)"),
  str("janus-secret", undefined, "janusSecret", NO, "Admin secret for the Janus protocol"),
];

/** Options handled by the loader itself rather than stored: they never reach `apply`. */
export const SPECIAL_OPTIONS = new Set(["version", "codecs", "config-file", "config-section"]);

const byLong = new Map(OPTIONS.map((o) => [o.long, o]));
const byShort = new Map(OPTIONS.filter((o) => o.short).map((o) => [o.short!, o]));

export function findLong(name: string): OptionDef | undefined {
  return byLong.get(name);
}
export function findShort(ch: string): OptionDef | undefined {
  return byShort.get(ch);
}

/** Programming-error guard: the table must not reuse a name. */
if (byLong.size !== OPTIONS.length || byShort.size !== OPTIONS.filter((o) => o.short).length) {
  throw new ConfigError("internal error: duplicate option name in the option table");
}
