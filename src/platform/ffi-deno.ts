// Deno loader for librtpe_shim: Deno.dlopen and Deno.UnsafeCallback.threadSafe wake-ups.
import { SHIM_SYMBOLS, type AbiType, type ShimBinding, type ShimRaw, type WakeCallback } from "./shim-abi.ts";

// The slice of the Deno namespace used here, so this file type-checks under Bun's types too.
interface DenoCallback {
  readonly pointer: unknown;
  close(): void;
  unref(): void;
}
interface DenoFfi {
  dlopen(path: string, symbols: Record<string, { parameters: string[]; result: string }>): {
    symbols: Record<string, unknown>;
    close(): void;
  };
  UnsafeCallback: {
    threadSafe(def: { parameters: string[]; result: string }, fn: () => void): DenoCallback;
  };
}

const TYPES: Record<AbiType, string> = {
  i32: "i32",
  u32: "u32",
  u16: "u16",
  buf: "buffer",
  fn: "function",
  void: "void",
};

export function openShimDeno(path: string): ShimBinding {
  const deno = (globalThis as unknown as { Deno: DenoFfi }).Deno;
  const defs: Record<string, { parameters: string[]; result: string }> = {};
  for (const [name, sym] of Object.entries(SHIM_SYMBOLS)) {
    defs[name] = { parameters: sym.args.map((t) => TYPES[t]), result: TYPES[sym.ret] };
  }
  const lib = deno.dlopen(path, defs);
  return {
    runtime: "deno",
    path,
    raw: lib.symbols as unknown as ShimRaw,
    createWakeCallback(fn: () => void): WakeCallback {
      const cb = deno.UnsafeCallback.threadSafe({ parameters: [], result: "void" }, fn);
      // like Bun's JSCallback: the callback alone does not keep the process alive
      cb.unref();
      return { pointer: cb.pointer, close: () => cb.close() };
    },
    close: () => lib.close(),
  };
}
