// Whether the shim's io_uring forwarding engine can run here: Linux 6.1+ (DEFER_TASKRUN) and io_uring not
// disabled by sysctl. (Under a seccomp filter that blocks io_uring the shim falls back to epoll; tests
// that assert the engine then fail, which is what they are for.)
import { readFileSync } from "node:fs";
import { release } from "node:os";

export function uringAvailable(): boolean {
  const [maj = 0, min = 0] = release().split(".").map((x) => parseInt(x, 10));
  if (maj < 6 || (maj === 6 && min < 1)) return false;
  try {
    return readFileSync("/proc/sys/kernel/io_uring_disabled", "utf8").trim() === "0";
  } catch {
    return true; // no such sysctl before 6.6: io_uring is on
  }
}

/** The engine the shim picks in this process: RTPE_SHIM_ENGINE=epoll forces the fallback. */
export function uringExpected(env: Record<string, string | undefined> = process.env): boolean {
  return env["RTPE_SHIM_ENGINE"] !== "epoll" && uringAvailable();
}
