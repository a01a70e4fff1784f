// DTLS-SRTP (RFC 5763/5764) through bun:ffi: certificates, fingerprints, rotation and packet-driven connections.
import { CString, dlopen, FFIType, type Pointer } from "bun:ffi";
import { join } from "node:path";
import { SRTP_SUITES, type SrtpSuite } from "./srtp.ts";

/** a=fingerprint hash names, as SDP spells them. */
export type DtlsHash = "sha-1" | "sha-224" | "sha-256" | "sha-384" | "sha-512";
export const DTLS_HASHES: readonly DtlsHash[] = Object.freeze(["sha-1", "sha-224", "sha-256", "sha-384", "sha-512"]);
const HASH_LENGTH: Record<DtlsHash, number> = { "sha-1": 20, "sha-224": 28, "sha-256": 32, "sha-384": 48, "sha-512": 64 };

/** RFC 5763 roles: active = DTLS client, passive = DTLS server. */
export type DtlsRole = "active" | "passive";
export type DtlsState = "new" | "handshake" | "connected" | "closed" | "failed";
const STATES: readonly DtlsState[] = ["new", "handshake", "connected", "closed", "failed"];

/** RFC 5764 section 5.1.2 classes of a datagram's first byte. */
export type DemuxClass = "stun" | "dtls" | "rtp" | "other";
const DEMUX: readonly DemuxClass[] = ["other", "stun", "dtls", "rtp"];

/** The same classification in TypeScript, for callers that already hold the first byte. */
export function demuxFirstByte(b: number): DemuxClass {
  if (b >= 0 && b <= 3) return "stun";
  if (b >= 20 && b <= 63) return "dtls";
  if (b >= 128 && b <= 191) return "rtp";
  return "other";
}

/** Negative results of the C side (RTPE_DTLS_E_* in ffi/dtls/rtpe_dtls.h). */
export const DtlsError = Object.freeze({ INVAL: -1, NOLIB: -2, SSL: -3, NOSPACE: -4, STATE: -5, NOTDTLS: -6 });

/** use_srtp profile names (OpenSSL's spelling), in rtpengine's preference order. */
export type DtlsSrtpProfile =
  | "SRTP_AEAD_AES_256_GCM"
  | "SRTP_AEAD_AES_128_GCM"
  | "SRTP_AES128_CM_SHA1_80"
  | "SRTP_AES128_CM_SHA1_32";
export const DTLS_SRTP_PROFILES: readonly DtlsSrtpProfile[] = Object.freeze([
  "SRTP_AEAD_AES_256_GCM",
  "SRTP_AEAD_AES_128_GCM",
  "SRTP_AES128_CM_SHA1_80",
  "SRTP_AES128_CM_SHA1_32",
]);

/** The command-line options that shape the certificate and the handshake. */
export interface DtlsCertificateOptions {
  /** --dtls-cert-cipher (default prime256v1) */
  cipher?: "prime256v1" | "RSA";
  /** --dtls-rsa-key-size (default 2048) */
  rsaKeySize?: number;
  /** --dtls-signature (default SHA-256) */
  signature?: "SHA-256" | "SHA-1";
  /** --dtls-ciphers: OpenSSL cipher list (default rtpengine's) */
  ciphers?: string;
  /** use_srtp profiles offered/accepted, most preferred first (default DTLS_SRTP_PROFILES) */
  profiles?: readonly DtlsSrtpProfile[];
  /** certificate lifetime in seconds (default 30 days) */
  validitySeconds?: number;
}

export interface DtlsConnectionOptions {
  /** --dtls-mtu: largest datagram sent (default 1200, minimum 576) */
  mtu?: number;
  /** the peer's a=fingerprint; without it any certificate is accepted (check peerFingerprint()) */
  expect?: DtlsFingerprint;
  /** the certificate to present (default: the engine's current one) */
  certificate?: DtlsCertificate;
}

export interface DtlsFingerprint {
  hash: DtlsHash;
  bytes: Uint8Array;
}

/** SRTP master keys of a completed handshake, from this side's point of view. */
export interface DtlsSrtpKeys {
  suite: SrtpSuite;
  /** key/salt this side protects its outgoing SRTP with */
  localKey: Uint8Array;
  localSalt: Uint8Array;
  /** key/salt the peer protects with, for unprotecting what it sends */
  remoteKey: Uint8Array;
  remoteSalt: Uint8Array;
}

export interface DtlsFeedResult {
  state: DtlsState;
  /** false when the datagram was not DTLS (first byte outside 20..63) or the argument was bad */
  accepted: boolean;
}

/** Normalise `SHA-256`, `sha256`, `sha-256` to the SDP spelling, or undefined. */
export function dtlsHashName(s: string): DtlsHash | undefined {
  const n = s.trim().toLowerCase().replace(/^sha(\d)/, "sha-$1");
  return (DTLS_HASHES as readonly string[]).includes(n) ? (n as DtlsHash) : undefined;
}

/** `sha-256 AB:CD:...` (the a=fingerprint value). */
export function formatFingerprint(fp: DtlsFingerprint): string {
  const hex = Array.from(fp.bytes, (b) => b.toString(16).padStart(2, "0").toUpperCase());
  return `${fp.hash} ${hex.join(":")}`;
}

/** Parse an a=fingerprint value; undefined when the hash is unknown or the length wrong. */
export function parseFingerprint(value: string): DtlsFingerprint | undefined {
  const m = /^\s*(\S+)\s+([0-9a-fA-F]{2}(?::[0-9a-fA-F]{2})*)\s*$/.exec(value);
  if (!m) return undefined;
  const hash = dtlsHashName(m[1]!);
  if (!hash) return undefined;
  const bytes = Uint8Array.from(m[2]!.split(":"), (h) => parseInt(h, 16));
  return bytes.length === HASH_LENGTH[hash] ? { hash, bytes } : undefined;
}

export function dtlsErrorName(code: number): string {
  for (const [k, v] of Object.entries(DtlsError)) if (v === code) return k;
  return `unknown(${code})`;
}

export const DTLS_API_VERSION = 1;
const ERR_LEN = 256;
const FP_MAX = 64;
const KEYS_MAX = 2 * (32 + 14);
const DGRAM_MAX = 16384;

const symbols = {
  rtpe_dtls_init: { args: [], returns: FFIType.i32 },
  rtpe_dtls_api_version: { args: [], returns: FFIType.i32 },
  rtpe_dtls_demux: { args: [FFIType.ptr, FFIType.u64], returns: FFIType.i32 },
  rtpe_dtls_cert_new: {
    args: [FFIType.i32, FFIType.i32, FFIType.i32, FFIType.ptr, FFIType.ptr, FFIType.u32, FFIType.ptr, FFIType.u64],
    returns: FFIType.ptr,
  },
  rtpe_dtls_cert_ref: { args: [FFIType.ptr], returns: FFIType.void },
  rtpe_dtls_cert_unref: { args: [FFIType.ptr], returns: FFIType.void },
  rtpe_dtls_cert_fingerprint: { args: [FFIType.ptr, FFIType.ptr, FFIType.ptr, FFIType.u64], returns: FFIType.i32 },
  rtpe_dtls_cert_der: { args: [FFIType.ptr, FFIType.ptr, FFIType.u64], returns: FFIType.i32 },
  rtpe_dtls_cert_expiry: { args: [FFIType.ptr], returns: FFIType.i64_fast },
  rtpe_dtls_conn_new: { args: [FFIType.ptr, FFIType.i32, FFIType.u32, FFIType.ptr, FFIType.u64], returns: FFIType.ptr },
  rtpe_dtls_conn_free: { args: [FFIType.ptr], returns: FFIType.void },
  rtpe_dtls_conn_expect: { args: [FFIType.ptr, FFIType.ptr, FFIType.ptr, FFIType.u64], returns: FFIType.i32 },
  rtpe_dtls_conn_start: { args: [FFIType.ptr], returns: FFIType.i32 },
  rtpe_dtls_conn_feed: { args: [FFIType.ptr, FFIType.ptr, FFIType.u64], returns: FFIType.i32 },
  rtpe_dtls_conn_next_out: { args: [FFIType.ptr, FFIType.ptr, FFIType.u64], returns: FFIType.i32 },
  rtpe_dtls_conn_pending: { args: [FFIType.ptr], returns: FFIType.i32 },
  rtpe_dtls_conn_timeout_ms: { args: [FFIType.ptr], returns: FFIType.i64_fast },
  rtpe_dtls_conn_handle_timer: { args: [FFIType.ptr], returns: FFIType.i32 },
  rtpe_dtls_conn_shutdown: { args: [FFIType.ptr], returns: FFIType.i32 },
  rtpe_dtls_conn_state: { args: [FFIType.ptr], returns: FFIType.i32 },
  rtpe_dtls_conn_error: { args: [FFIType.ptr], returns: FFIType.ptr },
  rtpe_dtls_conn_keys: {
    args: [FFIType.ptr, FFIType.ptr, FFIType.ptr, FFIType.ptr, FFIType.ptr, FFIType.u64],
    returns: FFIType.i32,
  },
  rtpe_dtls_conn_peer_fingerprint: { args: [FFIType.ptr, FFIType.ptr, FFIType.ptr, FFIType.u64], returns: FFIType.i32 },
  rtpe_dtls_conn_describe: { args: [FFIType.ptr, FFIType.ptr, FFIType.u64], returns: FFIType.i32 },
} as const;

type DtlsSymbols = ReturnType<typeof dlopen<typeof symbols>>["symbols"];

/** Where ffi/dtls/build.sh puts the standalone library. The shim exports the same symbols when linked in. */
export const DEFAULT_DTLS_LIBRARY = join(import.meta.dir, "..", "..", "ffi", "build", "librtpe_dtls.so");

export class DtlsFailure extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

function cstr(s: string): Buffer {
  return Buffer.from(`${s}\0`, "utf8");
}

function bufText(b: Uint8Array): string {
  const end = b.indexOf(0);
  return Buffer.from(b.subarray(0, end < 0 ? b.length : end)).toString("utf8");
}

function stateOf(code: number): DtlsState {
  const s = STATES[code];
  if (s === undefined) throw new DtlsFailure(code, `DTLS: unexpected state/result ${dtlsErrorName(code)}`);
  return s;
}

function suiteById(id: number): SrtpSuite {
  const s = SRTP_SUITES.find((x) => x.id === id);
  if (!s) throw new DtlsFailure(DtlsError.STATE, `DTLS: unknown SRTP suite id ${id}`);
  return s;
}

/** One loaded copy of the C engine (librtpe_dtls.so, or the shim with it linked in). */
export class DtlsLibrary {
  readonly #sym: DtlsSymbols;
  readonly #close: () => void;

  constructor(path: string = process.env.RTPE_DTLS_LIBRARY ?? DEFAULT_DTLS_LIBRARY) {
    const lib = dlopen(path, symbols);
    this.#sym = lib.symbols;
    this.#close = () => lib.close();
    const v = this.#sym.rtpe_dtls_api_version();
    if (v !== DTLS_API_VERSION) {
      lib.close();
      throw new Error(`${path}: DTLS API version ${v}, expected ${DTLS_API_VERSION}`);
    }
  }

  /** 0 when libssl.so.3 could be loaded, else DtlsError.NOLIB. */
  init(): number {
    return this.#sym.rtpe_dtls_init();
  }

  /** RFC 5764 demultiplexing by the first byte. */
  demux(datagram: Uint8Array): DemuxClass {
    if (datagram.length === 0) return "other";
    return DEMUX[this.#sym.rtpe_dtls_demux(datagram, datagram.length)] ?? "other";
  }

  /** A new self-signed certificate (key generation takes a moment for RSA). Throws DtlsFailure. */
  certificate(opts: DtlsCertificateOptions = {}): DtlsCertificate {
    const err = new Uint8Array(ERR_LEN);
    const profiles = opts.profiles ?? DTLS_SRTP_PROFILES;
    if (profiles.length === 0) throw new DtlsFailure(DtlsError.INVAL, "DTLS: no SRTP profile configured");
    const p = this.#sym.rtpe_dtls_cert_new(
      opts.cipher === "RSA" ? 1 : 0,
      opts.rsaKeySize ?? 2048,
      opts.signature === "SHA-1" ? 1 : 0,
      opts.ciphers ? cstr(opts.ciphers) : null,
      cstr(profiles.join(":")),
      opts.validitySeconds ?? 0,
      err,
      err.length,
    );
    if (p === null || typeof p !== "number") throw new DtlsFailure(DtlsError.SSL, `DTLS certificate: ${bufText(err)}`);
    return new DtlsCertificate(this.#sym, p);
  }

  /** Internal: a connection on a certificate. */
  connection(cert: DtlsCertificate, role: DtlsRole, opts: DtlsConnectionOptions = {}): DtlsConnection {
    const err = new Uint8Array(ERR_LEN);
    const p = this.#sym.rtpe_dtls_conn_new(cert.pointer, role === "active" ? 1 : 0, opts.mtu ?? 0, err, err.length);
    if (p === null || typeof p !== "number") throw new DtlsFailure(DtlsError.SSL, `DTLS connection: ${bufText(err)}`);
    const conn = new DtlsConnection(this.#sym, p, role);
    if (opts.expect) conn.expect(opts.expect);
    return conn;
  }

  close(): void {
    this.#close();
  }
}

/** A certificate and key in C, reference counted: release() drops this handle's reference. */
export class DtlsCertificate {
  #ptr: Pointer | null;
  readonly #sym: DtlsSymbols;

  constructor(sym: DtlsSymbols, ptr: Pointer) {
    this.#sym = sym;
    this.#ptr = ptr;
  }

  get pointer(): Pointer {
    if (this.#ptr === null) throw new Error("DTLS certificate used after release()");
    return this.#ptr;
  }

  fingerprint(hash: DtlsHash = "sha-256"): DtlsFingerprint {
    const out = new Uint8Array(FP_MAX);
    const n = this.#sym.rtpe_dtls_cert_fingerprint(this.pointer, cstr(hash), out, out.length);
    if (n < 0) throw new DtlsFailure(n, `DTLS fingerprint ${hash}: ${dtlsErrorName(n)}`);
    return { hash, bytes: out.slice(0, n) };
  }

  /** The a=fingerprint value, e.g. `sha-256 AB:CD:...`. */
  fingerprintValue(hash: DtlsHash = "sha-256"): string {
    return formatFingerprint(this.fingerprint(hash));
  }

  der(): Uint8Array {
    const out = new Uint8Array(8192);
    const n = this.#sym.rtpe_dtls_cert_der(this.pointer, out, out.length);
    if (n < 0) throw new DtlsFailure(n, `DTLS certificate DER: ${dtlsErrorName(n)}`);
    return out.slice(0, n);
  }

  get expiry(): Date {
    return new Date(Number(this.#sym.rtpe_dtls_cert_expiry(this.pointer)) * 1000);
  }

  /** Another handle on the same certificate (its own reference). */
  ref(): DtlsCertificate {
    this.#sym.rtpe_dtls_cert_ref(this.pointer);
    return new DtlsCertificate(this.#sym, this.pointer);
  }

  release(): void {
    if (this.#ptr !== null) this.#sym.rtpe_dtls_cert_unref(this.#ptr);
    this.#ptr = null;
  }
}

/**
 * The daemon's DTLS state: the current certificate (made at start from the options) and rotation.
 * Connections made before a rotation keep the certificate they were made with.
 */
export class DtlsEngine {
  readonly lib: DtlsLibrary;
  readonly options: DtlsCertificateOptions;
  #current: DtlsCertificate;

  constructor(lib: DtlsLibrary, options: DtlsCertificateOptions = {}) {
    this.lib = lib;
    this.options = { ...options };
    this.#current = lib.certificate(this.options);
  }

  /** The current certificate; the handle is released by rotate(), so keep `certificate.ref()` for longer use. */
  get certificate(): DtlsCertificate {
    return this.#current;
  }

  /**
   * Rotate when less than half of the current certificate's lifetime is left (call it from a
   * periodic timer); returns whether it rotated.
   */
  rotateIfDue(now: number = Date.now()): boolean {
    const lifetime = (this.options.validitySeconds ?? 30 * 86400) * 1000;
    if (this.#current.expiry.getTime() - now > lifetime / 2) return false;
    this.rotate();
    return true;
  }

  /** Replace the current certificate with a fresh one; returns the new one. */
  rotate(): DtlsCertificate {
    const next = this.lib.certificate(this.options);
    this.#current.release();
    this.#current = next;
    return next;
  }

  connection(role: DtlsRole, opts: DtlsConnectionOptions = {}): DtlsConnection {
    return this.lib.connection(opts.certificate ?? this.#current, role, opts);
  }

  close(): void {
    this.#current.release();
  }
}

/** One DTLS association of one stream, driven by datagrams in (feed) and out (takeOutgoing). */
export class DtlsConnection {
  #ptr: Pointer | null;
  readonly #sym: DtlsSymbols;
  readonly role: DtlsRole;

  constructor(sym: DtlsSymbols, ptr: Pointer, role: DtlsRole) {
    this.#sym = sym;
    this.#ptr = ptr;
    this.role = role;
  }

  #p(): Pointer {
    if (this.#ptr === null) throw new Error("DTLS connection used after free()");
    return this.#ptr;
  }

  /** Require the peer's certificate to match this a=fingerprint. */
  expect(fp: DtlsFingerprint): void {
    const r = this.#sym.rtpe_dtls_conn_expect(this.#p(), cstr(fp.hash), fp.bytes, fp.bytes.length);
    if (r !== 0) throw new DtlsFailure(r, `DTLS: bad expected fingerprint (${fp.hash}, ${fp.bytes.length} bytes)`);
  }

  /** Active: queue the ClientHello. Passive: wait for one. */
  start(): DtlsState {
    return stateOf(this.#sym.rtpe_dtls_conn_start(this.#p()));
  }

  feed(datagram: Uint8Array): DtlsFeedResult {
    if (datagram.length === 0 || datagram.length > DGRAM_MAX) return { state: this.state, accepted: false };
    const r = this.#sym.rtpe_dtls_conn_feed(this.#p(), datagram, datagram.length);
    if (r < 0) return { state: this.state, accepted: false };
    return { state: stateOf(r), accepted: true };
  }

  /** Every queued outgoing datagram, oldest first (the caller sends them to the peer). */
  takeOutgoing(): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (;;) {
      const len = this.#sym.rtpe_dtls_conn_pending(this.#p());
      if (len <= 0) return out;
      const buf = new Uint8Array(len);
      const n = this.#sym.rtpe_dtls_conn_next_out(this.#p(), buf, buf.length);
      if (n <= 0) return out;
      out.push(buf.subarray(0, n));
    }
  }

  /** Milliseconds until handleTimer() is due, or null when no retransmission timer runs. */
  timeoutMs(): number | null {
    const ms = Number(this.#sym.rtpe_dtls_conn_timeout_ms(this.#p()));
    return ms < 0 ? null : ms;
  }

  /** Retransmit the last flight if its timer expired; "failed" after too many. */
  handleTimer(): DtlsState {
    return stateOf(this.#sym.rtpe_dtls_conn_handle_timer(this.#p()));
  }

  /** Queue a close_notify (when connected). */
  shutdown(): DtlsState {
    return stateOf(this.#sym.rtpe_dtls_conn_shutdown(this.#p()));
  }

  get state(): DtlsState {
    return stateOf(this.#sym.rtpe_dtls_conn_state(this.#p()));
  }

  /** Why the handshake failed or the association ended (OpenSSL's reasons), "" when nothing went wrong. */
  get error(): string {
    const p = this.#sym.rtpe_dtls_conn_error(this.#p());
    return p === null ? "" : new CString(p).toString();
  }

  /** The SRTP suite and keys once connected, else null. */
  keys(): DtlsSrtpKeys | null {
    const suite = new Int32Array(1);
    const kl = new Uint32Array(1);
    const sl = new Uint32Array(1);
    const out = new Uint8Array(KEYS_MAX);
    const n = this.#sym.rtpe_dtls_conn_keys(this.#p(), suite, kl, sl, out, out.length);
    if (n < 0) return null;
    const k = kl[0]!;
    const s = sl[0]!;
    return {
      suite: suiteById(suite[0]!),
      localKey: out.slice(0, k),
      localSalt: out.slice(k, k + s),
      remoteKey: out.slice(k + s, 2 * k + s),
      remoteSalt: out.slice(2 * k + s, 2 * (k + s)),
    };
  }

  /** The peer certificate's fingerprint (once received), else null. */
  peerFingerprint(hash: DtlsHash = "sha-256"): DtlsFingerprint | null {
    const out = new Uint8Array(FP_MAX);
    const n = this.#sym.rtpe_dtls_conn_peer_fingerprint(this.#p(), cstr(hash), out, out.length);
    return n < 0 ? null : { hash, bytes: out.slice(0, n) };
  }

  /** "DTLSv1.2 ECDHE-ECDSA-AES128-SHA" once connected, else null. */
  describe(): string | null {
    const out = new Uint8Array(128);
    return this.#sym.rtpe_dtls_conn_describe(this.#p(), out, out.length) < 0 ? null : bufText(out);
  }

  free(): void {
    if (this.#ptr !== null) this.#sym.rtpe_dtls_conn_free(this.#ptr);
    this.#ptr = null;
  }
}
