// The process's one copy of the SRTP and DTLS C code (the shim when built with them, else the standalone libraries) and its DTLS certificate.
import { CString, dlopen, FFIType, JSCallback, read, type Pointer } from "bun:ffi";
import { existsSync } from "node:fs";
import { DEFAULT_DTLS_LIBRARY, DtlsEngine, DtlsLibrary, type DtlsCertificateOptions } from "./dtls.ts";
import { setFingerprintSource } from "./dtls-sdp.ts";
import { DEFAULT_SRTP_LIBRARY, SrtpLibrary } from "./srtp.ts";

export interface SecureLibraries {
  srtp: SrtpLibrary;
  dtls: DtlsEngine;
  /** where the code was loaded from */
  path: string;
}

let current: SecureLibraries | null = null;

/**
 * Loaded objects opened from a memfd (`/proc/self/fd/N`, see src/platform/ffi.ts). dlopen of the
 * same name returns the loaded object without touching the (long closed) descriptor.
 */
function memfdObjects(): string[] {
  const names: string[] = [];
  try {
    const libc = dlopen("libc.so.6", { dl_iterate_phdr: { args: [FFIType.function, FFIType.ptr], returns: FFIType.i32 } });
    const cb = new JSCallback(
      (info: Pointer) => {
        const p = read.ptr(info, 8);
        if (p) {
          const n = new CString(p as Pointer).toString();
          if (/^\/proc\/self\/fd\/\d+$/.test(n)) names.push(n);
        }
        return 0;
      },
      { args: [FFIType.ptr, FFIType.u64, FFIType.ptr], returns: FFIType.i32 },
    );
    libc.symbols.dl_iterate_phdr(cb.ptr, null);
    cb.close();
    libc.close();
  } catch {
    /* not glibc: only real paths are tried */
  }
  return names;
}

/** The loaded libraries, or null before loadSecureLibraries() (or when it failed). */
export function secureLibraries(): SecureLibraries | null {
  return current;
}

/**
 * Load SRTP and DTLS once per process: from `shimPath` when that library carries them
 * (`RTPE_SHIM_WITH="srtp dtls"`), else from the standalone libraries. The DTLS certificate is
 * made now and its fingerprint is what SDP shows from then on. Throws with every reason tried.
 */
export function loadSecureLibraries(shimPath: string | null, opts: DtlsCertificateOptions = {}): SecureLibraries {
  if (current) return current;
  const errors: string[] = [];
  const pairs: [string, string][] = [];
  const envS = process.env.RTPE_SRTP_LIBRARY, envD = process.env.RTPE_DTLS_LIBRARY;
  if (envS || envD) pairs.push([envS ?? DEFAULT_SRTP_LIBRARY, envD ?? DEFAULT_DTLS_LIBRARY]);
  if (shimPath && existsSync(shimPath)) pairs.push([shimPath, shimPath]);
  // a compiled executable's shim lives in a memfd: reach that same mapping by the name it was opened with
  for (const name of memfdObjects()) pairs.push([name, name]);
  pairs.push([DEFAULT_SRTP_LIBRARY, DEFAULT_DTLS_LIBRARY]);
  for (const [sp, dp] of pairs) {
    try {
      const srtp = new SrtpLibrary(sp);
      if (srtp.init() !== 0) throw new Error("libcrypto.so.3 not loadable");
      const lib = new DtlsLibrary(dp);
      if (lib.init() !== 0) throw new Error("libssl.so.3 not loadable");
      const dtls = new DtlsEngine(lib, opts);
      current = { srtp, dtls, path: sp === dp ? sp : `${sp} + ${dp}` };
      setFingerprintSource((hash) => current!.dtls.certificate.fingerprintValue(hash));
      return current;
    } catch (e) {
      errors.push(`${sp}: ${(e as Error).message}`);
    }
  }
  throw new Error(`SRTP/DTLS code not loaded: ${errors.join("; ")}`);
}
