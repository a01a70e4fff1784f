// SDP side of DTLS-SRTP: our certificate fingerprint (a=fingerprint) and setup role (a=setup).
import { createHash, generateKeyPairSync, randomBytes } from "node:crypto";

/**
 * Stand-in for the DTLS certificate until the crypto engineer's one exists: a stable per-process
 * DER-ish blob whose hash serves as fingerprint. Only the SDP needs it for now.
 */
let certDer: Buffer | null = null;
function certificate(): Buffer {
  if (!certDer) {
    try {
      const { publicKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
      certDer = publicKey.export({ type: "spki", format: "der" }) as Buffer;
    } catch {
      certDer = randomBytes(91);
    }
  }
  return certDer;
}

const HASHES: Record<string, string> = { "sha-1": "sha1", "sha-224": "sha224", "sha-256": "sha256", "sha-384": "sha384", "sha-512": "sha512" };

/** Normalise a hash name from a flag or SDP (`SHA-256`, `sha256`) to the SDP spelling `sha-256`, null if unknown. */
export function hashName(s: string): string | null {
  const n = s.trim().toLowerCase().replace(/^sha(\d)/, "sha-$1");
  return n in HASHES ? n : null;
}

/** media: the DTLS engine's certificate, once loaded (src/crypto/session.ts); the stand-in serves until then */
let fingerprintSource: ((hash: "sha-1" | "sha-224" | "sha-256" | "sha-384" | "sha-512") => string) | null = null;
export function setFingerprintSource(fn: typeof fingerprintSource): void {
  fingerprintSource = fn;
}

/** `a=fingerprint` value for our certificate with the given hash. */
export function fingerprintValue(hash: string): string {
  const h = hashName(hash) ?? "sha-256";
  if (fingerprintSource) return fingerprintSource(h as Parameters<typeof fingerprintSource & {}>[0]);
  const hex = createHash(HASHES[h]!).update(certificate()).digest("hex").toUpperCase();
  return `${h} ${hex.match(/../g)!.join(":")}`;
}

export type SetupRole = "actpass" | "active" | "passive" | "holdconn";
