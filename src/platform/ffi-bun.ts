// Bun loader for librtpe_shim: bun:ffi dlopen and threadsafe JSCallback wake-ups.
import { dlopen, JSCallback, FFIType, ptr } from "bun:ffi";
import { SHIM_SYMBOLS, type AbiType, type ShimBinding, type ShimRaw, type WakeCallback } from "./shim-abi.ts";

const TYPES: Record<AbiType, FFIType> = {
  i32: FFIType.i32,
  u32: FFIType.u32,
  u16: FFIType.u16,
  buf: FFIType.ptr,
  // a JSCallback's .ptr (or null) travels as a plain pointer
  fn: FFIType.ptr,
  void: FFIType.void,
};

const MFD_CLOEXEC = 1;

/** Put bytes in an anonymous memory file (memfd_create through libc) and return its /proc path and
 * fd: dlopen can map it, and nothing touches the filesystem. Close the fd once the library is open. */
export function memfdWithBytes(name: string, bytes: Uint8Array): { path: string; fd: number } {
  const libc = dlopen("libc.so.6", {
    memfd_create: { args: [FFIType.cstring, FFIType.u32], returns: FFIType.i32 },
    write: { args: [FFIType.i32, FFIType.ptr, FFIType.u64], returns: FFIType.i64 },
    close: { args: [FFIType.i32], returns: FFIType.i32 },
  });
  try {
    const cname = Buffer.from(`${name}\0`);
    const fd = libc.symbols.memfd_create(ptr(cname), MFD_CLOEXEC);
    if (fd < 0) throw new Error("memfd_create failed");
    for (let off = 0; off < bytes.byteLength; ) {
      const n = Number(libc.symbols.write(fd, ptr(bytes, off), bytes.byteLength - off));
      if (n <= 0) {
        libc.symbols.close(fd);
        throw new Error("write to memfd failed");
      }
      off += n;
    }
    return { path: `/proc/self/fd/${fd}`, fd };
  } finally {
    libc.close();
  }
}

export function openShimBun(path: string): ShimBinding {
  const defs: Record<string, { args: FFIType[]; returns: FFIType }> = {};
  for (const [name, sym] of Object.entries(SHIM_SYMBOLS)) {
    defs[name] = { args: sym.args.map((t) => TYPES[t]), returns: TYPES[sym.ret] };
  }
  const lib = dlopen(path, defs);
  return {
    runtime: "bun",
    path,
    raw: lib.symbols as unknown as ShimRaw,
    createWakeCallback(fn: () => void): WakeCallback {
      // threadsafe: the shim's receive thread calls it; Bun queues the call onto the JS thread
      const cb = new JSCallback(fn, { args: [], returns: FFIType.void, threadsafe: true });
      return { pointer: cb.ptr, close: () => cb.close() };
    },
    close: () => lib.close(),
  };
}
