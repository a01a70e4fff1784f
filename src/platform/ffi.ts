// Finds, copies out if embedded, and opens librtpe_shim under Bun or Deno; checks its API version.
import { closeSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { SHIM_API_VERSION, type ShimBinding } from "./shim-abi.ts";

export type { ShimBinding } from "./shim-abi.ts";

const isBun = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined";
const isDeno = typeof (globalThis as { Deno?: unknown }).Deno !== "undefined";

/** The library next to the sources: ffi/build/librtpe_shim.so (built by ffi/build.sh). */
export function sourceShimPath(): string {
  return fileURLToPath(new URL("../../ffi/build/librtpe_shim.so", import.meta.url));
}

function env(name: string): string | undefined {
  if (isDeno) {
    try {
      return (globalThis as unknown as { Deno: { env: { get(k: string): string | undefined } } }).Deno.env.get(name);
    } catch {
      return undefined; // no --allow-env
    }
  }
  return process.env[name];
}

/** Where the embedded library may be copied: the first directory that lets us dlopen from it wins. */
function scratchDirs(): string[] {
  const dirs = [env("RTPE_SHIM_TMPDIR"), tmpdir(), env("XDG_RUNTIME_DIR"), "/dev/shm", "/var/tmp"];
  return dirs.filter((d): d is string => !!d && existsSync(d));
}

/** Candidate paths, best first. An embedded asset comes from a dynamic import so Deno never sees it. */
async function candidates(): Promise<string[]> {
  const out: string[] = [];
  const override = env("RTPE_SHIM_PATH");
  if (override) out.push(override);
  if (isBun) {
    try {
      out.push((await import("./ffi-embed.ts")).default);
    } catch {
      // not built yet when running from source: fall through to the source path
    }
  }
  out.push(sourceShimPath());
  return [...new Set(out)];
}

async function openAt(path: string): Promise<ShimBinding> {
  if (isBun) return (await import("./ffi-bun.ts")).openShimBun(path);
  if (isDeno) return (await import("./ffi-deno.ts")).openShimDeno(path);
  throw new Error("no FFI on this runtime");
}

/** Inside a compiled executable the asset is not a file dlopen can map: put it in a memfd (no
 * filesystem at all), or else copy it to a private temp dir, open it, and unlink it at once (the
 * mapping keeps it alive; nothing is left behind). */
async function openCopied(embedded: string): Promise<ShimBinding> {
  const bytes = isBun
    ? new Uint8Array(await (globalThis as unknown as { Bun: { file(p: string): Blob } }).Bun.file(embedded).arrayBuffer())
    : readFileSync(embedded);
  const errors: string[] = [];
  if (isBun && !env("RTPE_SHIM_NO_MEMFD")) {
    let fd = -1;
    try {
      const { memfdWithBytes } = await import("./ffi-bun.ts");
      const m = memfdWithBytes("librtpe_shim.so", bytes);
      fd = m.fd;
      // the /proc path dies with the fd: name the memfd instead
      return { ...(await openAt(m.path)), path: "memfd:librtpe_shim.so" };
    } catch (e) {
      errors.push(`memfd: ${(e as Error).message}`);
    } finally {
      if (fd >= 0) closeSync(fd);
    }
  }
  for (const base of scratchDirs()) {
    let dir: string | undefined;
    try {
      dir = mkdtempSync(join(base, "rtpe-shim-"));
      const file = join(dir, "librtpe_shim.so");
      writeFileSync(file, bytes, { mode: 0o500 });
      return await openAt(file);
    } catch (e) {
      errors.push(`${base}: ${(e as Error).message}`);
    } finally {
      if (dir) rmSync(dir, { recursive: true, force: true });
    }
  }
  throw new Error(`cannot copy out the embedded shim (${errors.join("; ")})`);
}

function isEmbedded(path: string): boolean {
  return path.startsWith("/$bunfs/") || path.startsWith("B:/~BUN/") || !existsSync(path);
}

let loading: Promise<ShimBinding> | undefined;

/** Load the shim once per process. Rejects with every reason tried when no copy can be opened. */
export function loadShim(): Promise<ShimBinding> {
  loading ??= (async () => {
    const errors: string[] = [];
    for (const path of await candidates()) {
      try {
        const b = isBun && isEmbedded(path) ? await openCopied(path) : await openAt(path);
        const v = b.raw.rtpe_api_version();
        if (v !== SHIM_API_VERSION) {
          b.close();
          throw new Error(`API version ${v}, expected ${SHIM_API_VERSION}`);
        }
        return b;
      } catch (e) {
        errors.push(`${path}: ${(e as Error).message}`);
      }
    }
    throw new Error(`librtpe_shim not loaded: ${errors.join("; ")}`);
  })();
  return loading;
}
