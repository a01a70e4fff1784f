// Typed daemon configuration: the one seam between option parsing and the rest of the daemon.

/** A control-protocol listener, `[IP46|HOSTNAME:]PORT`. */
export interface Listener {
  /** null = bind to any address */
  address: string | null;
  port: number;
  /** 0 = unspecified (any address, both families) */
  family: 4 | 6 | 0;
}

/** A remote `IP46|HOSTNAME:PORT` endpoint (graphite, homer, dtmf-log-dest). */
export interface Endpoint {
  address: string;
  port: number;
  family: 4 | 6;
}

/** One local address of a logical interface, from `[NAME/]IP[!IP]` after name/`any` resolution. */
export interface InterfaceSpec {
  /** logical interface name, `default` if none given; may be `BASE:SUFFIX` */
  name: string;
  /** local address to bind */
  address: string;
  /** address advertised in SDP instead of `address`, if given after `!` */
  advertised: string | null;
  family: 4 | 6;
}

/** `[PW@]IP:PORT/INT` */
export interface RedisSpec {
  password: string | null;
  address: string;
  port: number;
  db: number;
}

export type LogFacility =
  | "auth" | "authpriv" | "cron" | "daemon" | "ftp" | "kern" | "lpr" | "mail" | "news" | "syslog" | "user" | "uucp"
  | "local0" | "local1" | "local2" | "local3" | "local4" | "local5" | "local6" | "local7";
export type LogFormat = "default" | "parsable";
export type EndpointLearning = "delayed" | "immediate" | "off" | "heuristic";
export type Scheduling = "default" | "none" | "fifo" | "rr" | "other" | "batch" | "idle";
export type RecordingMethod = "pcap" | "proc";
export type RecordingFormat = "raw" | "eth";
export type HomerProtocol = "udp" | "tcp";
export type DtlsCertCipher = "prime256v1" | "RSA";
export type DtlsSignature = "SHA-256" | "SHA-1";
export type AmrDtx = "native" | "CN";
export type MqttPublishScope = "global" | "call" | "media";
export type Mos = "CQ" | "LQ";

/** Logging subsystems that take a `--log-level-<subsystem>` option. */
export const LOG_SUBSYSTEMS = [
  "core", "spandsp", "ffmpeg", "transcoding", "codec", "rtcp", "ice", "crypto", "srtp", "internals", "http", "control", "dtx",
] as const;
export type LogSubsystem = (typeof LOG_SUBSYSTEMS)[number];

/**
 * The whole configuration, one field per rtpengine 10.5 option (camelCase of the long name),
 * defaults applied. `null` means "not given" where the option has no default value.
 */
/** `--nftables-family` values. */
export type NftFamily = "ip" | "ip6";

export interface Config {
  // config file
  /** the config file that was read; null with `--config-file=none` or when the default file is absent */
  configFile: string | null;
  configSection: string;

  // logging
  logFacility: LogFacility;
  logLevel: number;
  /** per-subsystem levels; a subsystem absent here uses logLevel (internals: off) */
  logLevels: Partial<Record<LogSubsystem, number>>;
  logStderr: boolean;
  splitLogs: boolean;
  maxLogLineLength: number;
  noLogTimestamps: boolean;
  logMarkPrefix: string;
  logMarkSuffix: string;
  logFacilityCdr: LogFacility | null;
  logFacilityRtcp: LogFacility | null;
  logFacilityDtmf: LogFacility | null;
  logFormat: LogFormat;
  logSrtpKeys: boolean;
  debugSrtp: boolean;

  // process
  pidfile: string | null;
  foreground: boolean;
  threadStack: number;
  numThreads: number;
  mediaNumThreads: number;
  httpThreads: number | null;
  pollerPerThread: boolean;
  scheduling: Scheduling;
  priority: number | null;
  idleScheduling: Scheduling;
  idlePriority: number | null;
  socketCpuAffinity: number;

  // kernel
  table: number; // negative = userspace only
  noFallback: boolean;
  iptablesChain: string | null;
  // kernel, our extension (as later rtpengine versions): the daemon installs its own nftables rule
  nftablesChain: string | null; // null = off (default)
  nftablesBaseChain: string; // "" = no base chain, no jump
  nftablesAppend: boolean;
  nftablesFamily: NftFamily[];

  // interfaces and ports
  interfaces: InterfaceSpec[];
  saveInterfacePorts: boolean;
  portMin: number;
  portMax: number;
  tos: number; // 0 = leave untouched
  controlTos: number; // 0 = leave untouched

  // control listeners
  listenTcp: Listener | null;
  listenUdp: Listener | null;
  listenNg: Listener[];
  listenTcpNg: Listener[];
  listenCli: Listener | null;
  listenHttp: Listener[];
  listenHttps: Listener[];
  httpsCert: string | null;
  httpsKey: string | null;

  // timeouts and limits
  timeout: number;
  silentTimeout: number;
  finalTimeout: number; // 0 = disabled
  offerTimeout: number;
  deleteDelay: number;
  maxSessions: number; // -1 = unlimited
  maxLoad: number; // 0 = disabled
  maxCpu: number; // 0 = disabled
  maxBandwidth: number; // 0 = disabled

  // call behaviour
  sipSource: boolean;
  dtlsPassive: boolean;
  endpointLearning: EndpointLearning;
  rejectInvalidSdp: boolean;
  jitterBuffer: number;
  jbClockDrift: boolean;
  softwareId: string;
  mos: Mos;

  // graphite
  graphite: Endpoint | null;
  graphiteInterval: number;
  graphitePrefix: string | null;
  graphiteTimeout: number;

  // redis
  redis: RedisSpec | null;
  redisWrite: RedisSpec | null;
  subscribeKeyspace: number[];
  redisNumThreads: number;
  redisExpires: number;
  noRedisRequired: boolean;
  redisAllowedErrors: number;
  redisDisableTime: number;
  redisCmdTimeout: number;
  redisConnectTimeout: number;
  redisDeleteAsync: boolean;
  redisDeleteAsyncInterval: number;
  activeSwitchover: boolean;

  // xmlrpc
  b2bUrl: string | null;
  xmlrpcFormat: number;

  // dtmf
  dtmfLogDest: Endpoint | null;
  dtmfLogNgTcp: boolean;
  dtmfNoSuppress: boolean;
  dtmfDigitDelay: number;

  // homer
  homer: Endpoint | null;
  homerProtocol: HomerProtocol;
  homerId: number;

  // recording
  recordingDir: string | null;
  recordingMethod: RecordingMethod;
  recordingFormat: RecordingFormat;

  // media playback from MySQL
  mysqlHost: string | null;
  mysqlPort: number;
  mysqlUser: string | null;
  mysqlPass: string | null;
  mysqlQuery: string | null;

  // DTLS
  dtlsRsaKeySize: number;
  dtlsCertCipher: DtlsCertCipher;
  dtlsMtu: number;
  dtlsCiphers: string;
  dtlsSignature: DtlsSignature;

  // DTX and comfort noise
  dtxDelay: number;
  maxDtx: number;
  dtxBuffer: number;
  dtxLag: number;
  dtxShift: number;
  dtxCnParams: number[];
  amrDtx: AmrDtx;
  silenceDetect: number;
  cnPayload: number[];

  // MQTT
  mqttHost: string | null;
  mqttPort: number;
  mqttId: string | null;
  mqttKeepalive: number;
  mqttUser: string | null;
  mqttPass: string | null;
  mqttCafile: string | null;
  mqttCapath: string | null;
  mqttCertfile: string | null;
  mqttKeyfile: string | null;
  mqttPublishQos: 0 | 1 | 2;
  mqttPublishTopic: string | null;
  mqttPublishInterval: number;
  mqttPublishScope: MqttPublishScope;

  // janus
  janusSecret: string | null;

  /** keys in the config-file section that are no rtpengine option; ignored, as the reference does */
  unknownConfigKeys: string[];
  /** long names of options that were given (file or command line) but that we do not implement yet */
  unsupportedGiven: string[];
}
