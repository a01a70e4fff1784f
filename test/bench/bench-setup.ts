// What every side-by-side benchmark does first: check for root and a runnable daemon, make a scratch directory
// (network namespaces removed on exit), build rtpload into it; and the `--env-ours K=V,K=V` list.
import { copyFileSync, mkdtempSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { daemonMissing } from "../conformance/daemon.ts";
import { cleanupOnExit } from "../conformance/netns.ts";

const RTPLOAD_SRC = "/work/shared/tools/rtpload";

/** Exits 2 with a message naming the benchmark when it cannot run; returns its scratch directory. */
export function benchStart(name: string, ours: string): string {
  if (process.getuid?.() !== 0) {
    console.error(`${name}: needs root (ip netns)`);
    process.exit(2);
  }
  const missing = daemonMissing(ours);
  if (missing) {
    console.error(`${name}: ${missing}`);
    process.exit(2);
  }
  const work = mkdtempSync(join(tmpdir(), `${name.replace(/-/g, "")}-`));
  cleanupOnExit();
  return work;
}

/** rtpload built from the shared tools into `work`; exits 2 when make fails. */
export function buildRtpload(name: string, work: string): string {
  for (const f of ["rtpload.c", "Makefile"]) copyFileSync(join(RTPLOAD_SRC, f), join(work, f));
  const r = Bun.spawnSync(["make", "-s", "-C", work], { stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) {
    console.error(`${name}: building rtpload failed:\n${r.stderr.toString()}`);
    process.exit(2);
  }
  return join(work, "rtpload");
}

/** `K=V,K=V` as an environment to add. */
export function parseEnvList(list: string): Record<string, string> {
  return Object.fromEntries(list.split(",").filter(Boolean).map((kv) => kv.split("=", 2) as [string, string]));
}
