// Bun loader for librtpe_shim: bun:ffi dlopen and threadsafe JSCallback wake-ups.
import { dlopen, JSCallback, FFIType } from "bun:ffi";
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
