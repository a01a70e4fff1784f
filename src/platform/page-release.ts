// Start-up pages: once the daemon is ready, drop its resident copies of clean read-only file pages.
//
// The single executable carries Bun's runtime: starting it touches ~27 MiB of its code and constants that
// an idle or relaying daemon never uses again. They are clean copies of the file, so the kernel would
// reclaim them under memory pressure anyway; dropping them ourselves makes RSS show the working set.
// They stay in the page cache, and a page that is used again comes back with a minor fault
// (ffi/pages.c: private read-only file mappings without modified pages only; RELRO segments are kept).
import type { Logger } from "../log/logger.ts";

/** Operators' switch: "0" or "off" keeps every page (RSS then includes start-up code). */
export const PAGE_RELEASE_ENV = "RTPENGINE_TS_RELEASE_PAGES";
/** After ready: late start-up work (first timers, media plane threads) has run by then. */
export const PAGE_RELEASE_DELAY_MS = 2000;

export function pageReleaseEnabled(env: Record<string, string | undefined>): boolean {
  const v = env[PAGE_RELEASE_ENV];
  return v !== "0" && v !== "off";
}

/** Release now; returns the KiB that were resident in the dropped mappings, or null when the shim is unavailable. */
export async function releaseFilePages(log: Logger): Promise<number | null> {
  try {
    const { loadShim } = await import("./ffi.ts");
    const shim = await loadShim();
    const kib = shim.raw.rtpe_release_file_pages();
    if (kib < 0) {
      log.debug(`Could not release start-up pages (errno ${-kib})`);
      return null;
    }
    return kib;
  } catch (e) {
    log.debug(`Could not release start-up pages: ${(e as Error).message}`);
    return null;
  }
}

/** Schedule the release once, PAGE_RELEASE_DELAY_MS after ready (never keeps the process alive). */
export function scheduleStartupPageRelease(log: Logger, env: Record<string, string | undefined> = process.env): void {
  if (!pageReleaseEnabled(env)) return;
  const t = setTimeout(() => {
    void releaseFilePages(log).then((kib) => {
      if (kib !== null) log.info(`Released ${Math.round(kib / 1024)} MiB of start-up pages`);
    });
  }, PAGE_RELEASE_DELAY_MS);
  (t as { unref?: () => void }).unref?.();
}
