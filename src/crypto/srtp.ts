// SRTP crypto suites (SDES names and lengths, rtpengine's offer order) and bun:ffi bindings to librtpe_srtp.
import { dlopen, FFIType, type Pointer } from "bun:ffi";
import { join } from "node:path";
import { SrtpError } from "./srtp-errors.ts";

/** SDES crypto-suite names, exactly as rtpengine 10.5 writes them in a=crypto lines. */
export type SrtpSuiteName =
  | "AEAD_AES_256_GCM"
  | "AEAD_AES_128_GCM"
  | "AES_256_CM_HMAC_SHA1_80"
  | "AES_256_CM_HMAC_SHA1_32"
  | "AES_192_CM_HMAC_SHA1_80"
  | "AES_192_CM_HMAC_SHA1_32"
  | "AES_CM_128_HMAC_SHA1_80"
  | "AES_CM_128_HMAC_SHA1_32"
  | "F8_128_HMAC_SHA1_80"
  | "F8_128_HMAC_SHA1_32"
  | "NULL_HMAC_SHA1_80"
  | "NULL_HMAC_SHA1_32";

export type SrtpCipher = "AES-CM" | "AES-F8" | "NULL" | "AES-GCM";

export interface SrtpSuite {
  readonly name: SrtpSuiteName;
  /** enum rtpe_srtp_suite in ffi/srtp/rtpe_srtp.h */
  readonly id: number;
  readonly cipher: SrtpCipher;
  /** master key bytes (= session encryption key bytes) */
  readonly keyLength: number;
  /** master salt bytes (= session salt bytes) */
  readonly saltLength: number;
  /** bytes added to each RTP packet (HMAC tag, or the GCM tag), before any MKI */
  readonly srtpTagLength: number;
  /** HMAC/GCM tag bytes of SRTCP; SRTCP also adds the 4-byte E+index word */
  readonly srtcpTagLength: number;
  readonly aead: boolean;
}

function suite(
  name: SrtpSuiteName,
  id: number,
  cipher: SrtpCipher,
  keyLength: number,
  saltLength: number,
  srtpTagLength: number,
  srtcpTagLength: number,
): SrtpSuite {
  return Object.freeze({
    name,
    id,
    cipher,
    keyLength,
    saltLength,
    srtpTagLength,
    srtcpTagLength,
    aead: cipher === "AES-GCM",
  });
}

/**
 * Every suite, in the order rtpengine 10.5.3.5 lists them when it generates an SDES offer
 * (observed from Debian's rtpengine-daemon: an offer to RTP/SAVP with no crypto received).
 */
export const SRTP_SUITES: readonly SrtpSuite[] = Object.freeze([
  suite("AEAD_AES_256_GCM", 12, "AES-GCM", 32, 12, 16, 16),
  suite("AEAD_AES_128_GCM", 11, "AES-GCM", 16, 12, 16, 16),
  suite("AES_256_CM_HMAC_SHA1_80", 5, "AES-CM", 32, 14, 10, 10),
  suite("AES_256_CM_HMAC_SHA1_32", 6, "AES-CM", 32, 14, 4, 10),
  suite("AES_192_CM_HMAC_SHA1_80", 3, "AES-CM", 24, 14, 10, 10),
  suite("AES_192_CM_HMAC_SHA1_32", 4, "AES-CM", 24, 14, 4, 10),
  suite("AES_CM_128_HMAC_SHA1_80", 1, "AES-CM", 16, 14, 10, 10),
  suite("AES_CM_128_HMAC_SHA1_32", 2, "AES-CM", 16, 14, 4, 10),
  suite("F8_128_HMAC_SHA1_80", 7, "AES-F8", 16, 14, 10, 10),
  suite("F8_128_HMAC_SHA1_32", 8, "AES-F8", 16, 14, 4, 10),
  suite("NULL_HMAC_SHA1_80", 9, "NULL", 16, 14, 10, 10),
  suite("NULL_HMAC_SHA1_32", 10, "NULL", 16, 14, 4, 10),
]);

const byName = new Map<string, SrtpSuite>(SRTP_SUITES.map((s) => [s.name, s]));

/** The suite of an a=crypto line's suite token (case-insensitive), or undefined. */
export function srtpSuiteByName(name: string): SrtpSuite | undefined {
  return byName.get(name.toUpperCase());
}

/** Context flags (RTPE_SRTP_* in rtpe_srtp.h). */
export const SrtpFlag = Object.freeze({
  UNENCRYPTED_SRTP: 0x1,
  UNENCRYPTED_SRTCP: 0x2,
  UNAUTHENTICATED_SRTP: 0x4,
  /** key/salt are session keys (GCM only): for RFC 7714 test vectors */
  SESSION_KEYS: 0x8,
  NO_REPLAY_CHECK: 0x10,
});

/** The RFC 4568 session parameters that change packet processing. */
export interface SrtpSessionParams {
  unencryptedSrtp?: boolean;
  unencryptedSrtcp?: boolean;
  unauthenticatedSrtp?: boolean;
}

export function srtpFlags(p: SrtpSessionParams): number {
  return (
    (p.unencryptedSrtp ? SrtpFlag.UNENCRYPTED_SRTP : 0) |
    (p.unencryptedSrtcp ? SrtpFlag.UNENCRYPTED_SRTCP : 0) |
    (p.unauthenticatedSrtp ? SrtpFlag.UNAUTHENTICATED_SRTP : 0)
  );
}

export { SrtpError };

const errorNames = new Map<number, string>(Object.entries(SrtpError).map(([k, v]) => [v, k]));

export function srtpErrorName(code: number): string {
  return errorNames.get(code) ?? `unknown(${code})`;
}

/** Largest number of bytes protect adds: 16 tag + 4 SRTCP index + 128 MKI. */
export const SRTP_MAX_OVERHEAD = 16 + 4 + 128;
export const SRTP_API_VERSION = 1;

const symbols = {
  rtpe_srtp_init: { args: [], returns: FFIType.i32 },
  rtpe_srtp_api_version: { args: [], returns: FFIType.i32 },
  rtpe_srtp_new: {
    args: [FFIType.i32, FFIType.ptr, FFIType.u64, FFIType.ptr, FFIType.u64, FFIType.u32, FFIType.ptr],
    returns: FFIType.ptr,
  },
  rtpe_srtp_free: { args: [FFIType.ptr], returns: FFIType.void },
  rtpe_srtp_set_mki: { args: [FFIType.ptr, FFIType.ptr, FFIType.u64], returns: FFIType.i32 },
  rtpe_srtp_protect: { args: [FFIType.ptr, FFIType.ptr, FFIType.u64, FFIType.u64], returns: FFIType.i32 },
  rtpe_srtp_unprotect: { args: [FFIType.ptr, FFIType.ptr, FFIType.u64], returns: FFIType.i32 },
  rtpe_srtcp_protect: { args: [FFIType.ptr, FFIType.ptr, FFIType.u64, FFIType.u64], returns: FFIType.i32 },
  rtpe_srtcp_unprotect: { args: [FFIType.ptr, FFIType.ptr, FFIType.u64], returns: FFIType.i32 },
  rtpe_srtp_get_index: { args: [FFIType.ptr, FFIType.u32, FFIType.ptr, FFIType.ptr], returns: FFIType.i32 },
  rtpe_srtp_set_index: { args: [FFIType.ptr, FFIType.u32, FFIType.u64, FFIType.u32], returns: FFIType.i32 },
  rtpe_srtp_suite_info: {
    args: [FFIType.i32, FFIType.ptr, FFIType.ptr, FFIType.ptr, FFIType.ptr],
    returns: FFIType.i32,
  },
} as const;

type SrtpSymbols = ReturnType<typeof dlopen<typeof symbols>>["symbols"];

/** Where build.sh puts the standalone library. The shim exports the same symbols when linked in. */
export const DEFAULT_SRTP_LIBRARY = join(import.meta.dir, "..", "..", "ffi", "build", "librtpe_srtp.so");

export class SrtpFailure extends Error {
  constructor(
    readonly code: number,
    what: string,
  ) {
    super(`${what}: ${srtpErrorName(code)}`);
  }
}

/** One loaded copy of the C library (librtpe_srtp.so, or the shim with it linked in). */
export class SrtpLibrary {
  readonly #sym: SrtpSymbols;
  readonly #close: () => void;

  constructor(path: string = process.env.RTPE_SRTP_LIBRARY ?? DEFAULT_SRTP_LIBRARY) {
    const lib = dlopen(path, symbols);
    this.#sym = lib.symbols;
    this.#close = () => lib.close();
    const v = this.#sym.rtpe_srtp_api_version();
    if (v !== SRTP_API_VERSION) {
      lib.close();
      throw new Error(`${path}: SRTP API version ${v}, expected ${SRTP_API_VERSION}`);
    }
  }

  /** 0 when libcrypto.so.3 could be loaded, else SrtpError.NOLIB. */
  init(): number {
    return this.#sym.rtpe_srtp_init();
  }

  /** Lengths the C side uses for a suite id: [key, salt, srtp tag, srtcp tag]. */
  suiteInfo(id: number): [number, number, number, number] | undefined {
    const out = new Uint32Array(4);
    const r = this.#sym.rtpe_srtp_suite_info(id, out.subarray(0, 1), out.subarray(1, 2), out.subarray(2, 3), out.subarray(3, 4));
    return r === 0 ? [out[0]!, out[1]!, out[2]!, out[3]!] : undefined;
  }

  /** A context for one stream and direction. Throws SrtpFailure on bad keys or missing libcrypto. */
  context(suite: SrtpSuite, key: Uint8Array, salt: Uint8Array, flags = 0): SrtpContext {
    const err = new Int32Array(1);
    const p = this.#sym.rtpe_srtp_new(suite.id, key, key.length, salt, salt.length, flags, err);
    if (p === null || typeof p !== "number") throw new SrtpFailure(err[0]!, `SRTP context for ${suite.name}`);
    return new SrtpContext(this.#sym, p);
  }

  close(): void {
    this.#close();
  }
}

/** The per-stream state in C. Buffers are transformed in place; results are lengths or SrtpError codes. */
export class SrtpContext {
  #ptr: Pointer | null;
  readonly #sym: SrtpSymbols;

  constructor(sym: SrtpSymbols, ptr: Pointer) {
    this.#sym = sym;
    this.#ptr = ptr;
  }

  #p(): Pointer {
    if (this.#ptr === null) throw new Error("SRTP context used after free()");
    return this.#ptr;
  }

  /** Encrypt/authenticate buf[0..len); buf must have room for the overhead. New length or error. */
  protect(buf: Uint8Array, len: number = buf.length): number {
    return this.#sym.rtpe_srtp_protect(this.#p(), buf, len, buf.length);
  }

  unprotect(buf: Uint8Array, len: number = buf.length): number {
    return this.#sym.rtpe_srtp_unprotect(this.#p(), buf, len);
  }

  protectRtcp(buf: Uint8Array, len: number = buf.length): number {
    return this.#sym.rtpe_srtcp_protect(this.#p(), buf, len, buf.length);
  }

  unprotectRtcp(buf: Uint8Array, len: number = buf.length): number {
    return this.#sym.rtpe_srtcp_unprotect(this.#p(), buf, len);
  }

  setMki(mki: Uint8Array): number {
    return this.#sym.rtpe_srtp_set_mki(this.#p(), mki, mki.length);
  }

  /** Highest RTP index (ROC << 16 | SEQ) and SRTCP index of an SSRC, if it was seen. */
  getIndex(ssrc: number): { rtpIndex: bigint; srtcpIndex: number } | undefined {
    const rtp = new BigUint64Array(1);
    const rtcp = new Uint32Array(1);
    if (this.#sym.rtpe_srtp_get_index(this.#p(), ssrc >>> 0, rtp, rtcp) !== 0) return undefined;
    return { rtpIndex: rtp[0]!, srtcpIndex: rtcp[0]! };
  }

  setIndex(ssrc: number, rtpIndex: bigint, srtcpIndex: number): number {
    return this.#sym.rtpe_srtp_set_index(this.#p(), ssrc >>> 0, rtpIndex, srtcpIndex >>> 0);
  }

  /** Raw pointer, for handing the context to the shim's forwarding rules. */
  get pointer(): Pointer {
    return this.#p();
  }

  free(): void {
    if (this.#ptr !== null) this.#sym.rtpe_srtp_free(this.#ptr);
    this.#ptr = null;
  }
}
