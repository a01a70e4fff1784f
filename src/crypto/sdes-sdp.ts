// SDP side of SDES (RFC 4568): the crypto suites we offer, a=crypto parsing and generation. Keys for SRTP live elsewhere.
import { keep, keepUnique } from "../sdp/keep.ts";
import { randomBytes } from "node:crypto";
import type { SdesOptions } from "../call/flags.ts";

export interface CryptoSuite {
  name: string;
  keyLen: number;
  saltLen: number;
}

/** Suites in rtpengine's preference order (the order of a fresh offer). */
export const CRYPTO_SUITES: readonly CryptoSuite[] = [
  { name: "AEAD_AES_256_GCM", keyLen: 32, saltLen: 12 },
  { name: "AEAD_AES_128_GCM", keyLen: 16, saltLen: 12 },
  { name: "AES_256_CM_HMAC_SHA1_80", keyLen: 32, saltLen: 14 },
  { name: "AES_256_CM_HMAC_SHA1_32", keyLen: 32, saltLen: 14 },
  { name: "AES_192_CM_HMAC_SHA1_80", keyLen: 24, saltLen: 14 },
  { name: "AES_192_CM_HMAC_SHA1_32", keyLen: 24, saltLen: 14 },
  { name: "AES_CM_128_HMAC_SHA1_80", keyLen: 16, saltLen: 14 },
  { name: "AES_CM_128_HMAC_SHA1_32", keyLen: 16, saltLen: 14 },
  { name: "F8_128_HMAC_SHA1_80", keyLen: 16, saltLen: 14 },
  { name: "F8_128_HMAC_SHA1_32", keyLen: 16, saltLen: 14 },
  { name: "NULL_HMAC_SHA1_80", keyLen: 16, saltLen: 14 },
  { name: "NULL_HMAC_SHA1_32", keyLen: 16, saltLen: 14 },
];

export function suiteByName(name: string): CryptoSuite | undefined {
  const n = name.toUpperCase();
  return CRYPTO_SUITES.find((s) => s.name === n);
}

export interface SdesCrypto {
  tag: number;
  suite: string;
  /** base64 master key||salt as it appears after `inline:` (without lifetime/MKI) */
  key: string;
  /** everything after the key in the key-params (e.g. `|2^31|1:4`), kept verbatim */
  keyTail: string;
  /** session parameters after the key-params */
  params: string;
}

/** Parse an a=crypto value; null when malformed or an unknown suite (those are ignored, not fatal). */
export function parseCrypto(value: string): SdesCrypto | null {
  const m = /^(\d{1,9})\s+(\S+)\s+inline:([A-Za-z0-9+/=]+)(\S*)\s*(.*)$/.exec(value.trim());
  if (!m) return null;
  if (!suiteByName(m[2]!)) return null;
  return { tag: Number(m[1]), suite: keep(m[2]!.toUpperCase()), key: keepUnique(m[3]!), keyTail: keep(m[4]!), params: keep(m[5]!) };
}

/** A fresh random key for a suite, base64 without padding unless `pad`. */
export function newKey(suite: CryptoSuite, pad: boolean): string {
  const b64 = randomBytes(suite.keyLen + suite.saltLen).toString("base64");
  return pad ? b64 : b64.replace(/=+$/, "");
}

export function cryptoLine(c: SdesCrypto): string {
  return `crypto:${c.tag} ${c.suite} inline:${c.key}${c.keyTail}${c.params ? ` ${c.params}` : ""}`;
}

/** Is this suite allowed by the SDES options (`no-X`, `only-X`)? */
export function suiteAllowed(name: string, o: SdesOptions): boolean {
  const n = name.toUpperCase();
  if (o.noSuites.has(n)) return false;
  if (o.onlySuites.size > 0 && !o.onlySuites.has(n)) return false;
  return true;
}

const PARAM_ORDER = ["UNENCRYPTED_SRTP", "UNENCRYPTED_SRTCP", "UNAUTHENTICATED_SRTP"];
const PARAM_FLAGS: Record<string, [string, boolean]> = {
  unencrypted_srtp: ["UNENCRYPTED_SRTP", true],
  encrypted_srtp: ["UNENCRYPTED_SRTP", false],
  unencrypted_srtcp: ["UNENCRYPTED_SRTCP", true],
  encrypted_srtcp: ["UNENCRYPTED_SRTCP", false],
  unauthenticated_srtp: ["UNAUTHENTICATED_SRTP", true],
  authenticated_srtp: ["UNAUTHENTICATED_SRTP", false],
};

/**
 * SDES session parameters after the `SDES` flags (`unencrypted_srtp`, `encrypted_srtcp`, ...) are
 * applied to `base` (the offerer's own parameters, or none). Known ones in 10.5's order, others kept after.
 */
export function sessionParams(base: string, flags: ReadonlySet<string>): string {
  const have = new Set(base.split(/\s+/).filter((x) => x !== ""));
  for (const f of flags) {
    const spec = PARAM_FLAGS[f];
    if (!spec) continue;
    if (spec[1]) have.add(spec[0]);
    else have.delete(spec[0]);
  }
  const known = PARAM_ORDER.filter((p) => have.has(p));
  const rest = [...have].filter((p) => !PARAM_ORDER.includes(p));
  return [...known, ...rest].join(" ");
}
