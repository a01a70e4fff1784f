// SRTP in kernel rules: struct rtpe_srtp (kernel-module/rtpengine_uapi.h) from a suite and its keys, per-SSRC ROC seeds, what cannot go to the kernel and why.
//
// The daemon's SRTP contexts (src/media/secure-fast.ts RuleSrtp) describe a rule's SRTP as a KernelSrtp:
// the keys of each direction, `current()` = the indices userspace reached (seeds for the rule), and
// `handBack(state)` = what the kernel reached, read from blist when the rule is withdrawn, so that
// userspace continues the streams with the right ROCs and SRTCP indices.
import type { SrtpSuite } from "../crypto/srtp.ts";

/** One direction's key material, as negotiated (SDES a=crypto or a DTLS-SRTP export). */
export interface SrtpKeyMaterial {
  readonly suite: SrtpSuite;
  readonly key: Uint8Array;
  readonly salt: Uint8Array;
  /** MKI appended to every packet (SDES key tail), null = none */
  readonly mki: Uint8Array | null;
  /** RTPE_SRTP_UNENCRYPTED_SRTP / _SRTCP / UNAUTHENTICATED_SRTP (same bits in ffi/srtp and the uapi) */
  readonly flags: number;
}

/** A pre-seeded SSRC slot: the ROCs the kernel starts with; `seq` = highest sequence number userspace processed. */
export interface KernelSsrcSeed {
  readonly ssrc: number;
  readonly rocIn: number;
  readonly rocOut: number;
  readonly seq: number;
}

/** Where userspace stands: the SSRC slots to pre-seed and the next SRTCP index for output. */
export interface KernelSrtpIndices {
  readonly ssrcs: readonly KernelSsrcSeed[];
  readonly rtcpIndex: number;
}

/** Where the kernel stood when the rule was withdrawn (blist). */
export interface KernelSrtpState {
  /** SSRC slots that forwarded at least one packet */
  readonly ssrcs: readonly { ssrc: number; packets: number; lastSeq: number; rocIn: number; rocOut: number }[];
  /** next SRTCP index the rule would have used for output */
  readonly rtcpIndex: number;
}

/** A rule's SRTP for the kernel; built by src/media/secure-fast.ts. */
export interface KernelSrtp {
  /** SRTP removed on input (rtpe_rule.decrypt), null = plain input */
  readonly decrypt: SrtpKeyMaterial | null;
  /** SRTP applied on output (rtpe_output.encrypt), null = plain output */
  readonly encrypt: SrtpKeyMaterial | null;
  /** userspace's indices now (read again for every installation) */
  current(): KernelSrtpIndices;
  /** the kernel's indices after the rule left it: userspace continues from them */
  handBack(state: KernelSrtpState): void;
}

/** sizeof(struct rtpe_srtp) and its field offsets */
export const KSRTP_SIZE = 64;
export const KSRTP = { cipher: 0, auth: 1, rtpTag: 2, rtcpTag: 3, keyLen: 4, saltLen: 5, mkiLen: 6, flags: 7, mki: 8, rtcpIndex: 12, key: 16, salt: 48 } as const;
export const KCIPHER = { none: 0, null: 1, aesCm128: 2, aesCm192: 3, aesCm256: 4, aesF8128: 5, aesGcm128: 6, aesGcm256: 7 } as const;
export const KAUTH = { none: 0, hmacSha1: 1 } as const;
/** RTPE_MAX_SSRC, RTPE_MAX_MKI */
export const KERNEL_MAX_SSRC = 4;
export const KERNEL_MAX_MKI = 4;
const KNOWN_FLAGS = 0x7;
/**
 * A slot pre-seeded with a ROC takes that ROC for its first packet whatever the sequence number
 * (the uapi carries no sequence number for seeds): a handover this close to a wrap (either way,
 * reordering included) could start the kernel one ROC off, so such rules wait in userspace.
 */
export const SEQ_WRAP_MARGIN = 64;

/** enum rtpe_cipher for a suite, or why the module cannot do it. */
export function kernelCipher(s: SrtpSuite): number | string {
  switch (s.cipher) {
    case "NULL":
      return KCIPHER.null;
    case "AES-CM":
      return s.keyLength === 16 ? KCIPHER.aesCm128 : s.keyLength === 24 ? KCIPHER.aesCm192 : s.keyLength === 32 ? KCIPHER.aesCm256 : `${s.name}: no kernel cipher for a ${s.keyLength}-byte AES-CM key`;
    case "AES-F8":
      return s.keyLength === 16 ? KCIPHER.aesF8128 : `${s.name}: the kernel does AES-F8 with 128-bit keys only`;
    case "AES-GCM":
      return s.keyLength === 16 ? KCIPHER.aesGcm128 : s.keyLength === 32 ? KCIPHER.aesGcm256 : `${s.name}: no kernel cipher for a ${s.keyLength}-byte AES-GCM key`;
  }
  return `${(s as SrtpSuite).name}: cipher unknown to the kernel module`;
}

/** Why one direction's keys cannot go to the kernel, or null. */
export function kernelKeysRefusal(k: SrtpKeyMaterial): string | null {
  const c = kernelCipher(k.suite);
  if (typeof c === "string") return c;
  const s = k.suite;
  if (k.key.length !== s.keyLength || k.key.length > 32) return `${s.name}: ${k.key.length}-byte master key`;
  if (k.salt.length !== (s.aead ? 12 : 14)) return `${s.name}: ${k.salt.length}-byte master salt`;
  if (!s.aead && ![4, 10].includes(s.srtpTagLength)) return `${s.name}: ${s.srtpTagLength}-byte SRTP tag`;
  if (!s.aead && ![4, 10].includes(s.srtcpTagLength)) return `${s.name}: ${s.srtcpTagLength}-byte SRTCP tag`;
  if (k.mki && k.mki.length > KERNEL_MAX_MKI) return `${s.name}: ${k.mki.length}-byte MKI (the kernel module takes at most ${KERNEL_MAX_MKI})`;
  if (k.flags & ~KNOWN_FLAGS) return `${s.name}: SRTP flags 0x${k.flags.toString(16)} unknown to the kernel module`;
  return null;
}

/** Why a rule's SRTP cannot (yet) go to the kernel, or null. `ix` = the indices the rule would be seeded with. */
export function kernelSrtpRefusal(ks: KernelSrtp, ix: KernelSrtpIndices): string | null {
  for (const k of [ks.decrypt, ks.encrypt]) {
    const why = k ? kernelKeysRefusal(k) : null;
    if (why) return why;
  }
  if (ix.ssrcs.length > KERNEL_MAX_SSRC) return `${ix.ssrcs.length} SSRCs (the kernel rule seeds ${KERNEL_MAX_SSRC})`;
  // just after a wrap, only a ROC above 0 leaves room for late packets of the previous cycle
  const near = ix.ssrcs.find((s) => (s.seq < SEQ_WRAP_MARGIN && (s.rocIn > 0 || s.rocOut > 0)) || s.seq > 0xffff - SEQ_WRAP_MARGIN);
  if (near) return `SSRC 0x${(near.ssrc >>> 0).toString(16)} is at sequence ${near.seq}, too close to a rollover to hand its ROC over`;
  return null;
}

/** Write struct rtpe_srtp at `o` (null = RTPE_CIPHER_NONE, all zero). Throws on what kernelKeysRefusal refuses. */
export function encodeKernelSrtp(b: Uint8Array, o: number, k: SrtpKeyMaterial | null, rtcpIndex = 0): void {
  if (!k) return;
  const why = kernelKeysRefusal(k);
  if (why) throw new Error(why);
  const s = k.suite;
  b[o + KSRTP.cipher] = kernelCipher(s) as number;
  b[o + KSRTP.auth] = s.aead ? KAUTH.none : KAUTH.hmacSha1;
  b[o + KSRTP.rtpTag] = s.aead ? 0 : s.srtpTagLength;
  b[o + KSRTP.rtcpTag] = s.aead ? 0 : s.srtcpTagLength;
  b[o + KSRTP.keyLen] = k.key.length;
  b[o + KSRTP.saltLen] = k.salt.length;
  b[o + KSRTP.mkiLen] = k.mki?.length ?? 0;
  b[o + KSRTP.flags] = k.flags;
  if (k.mki) b.set(k.mki, o + KSRTP.mki);
  new DataView(b.buffer, b.byteOffset, b.byteLength).setUint32(o + KSRTP.rtcpIndex, rtcpIndex & 0x7fffffff, true);
  b.set(k.key, o + KSRTP.key);
  b.set(k.salt, o + KSRTP.salt);
}
