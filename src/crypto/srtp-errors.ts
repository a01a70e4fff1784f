// SRTP transform result codes (RTPE_SRTP_E_* of ffi/srtp), apart from the bindings so code without bun:ffi (Deno) can name them.

/** Negative results of the C transforms (RTPE_SRTP_E_*). */
export const SrtpError = Object.freeze({
  SHORT: -1,
  AUTH: -2,
  REPLAY: -3,
  NOSPACE: -4,
  CRYPTO: -5,
  INVAL: -6,
  NOLIB: -7,
  MKI: -8,
});
