// Throw-away network namespaces for tests: create with addresses on lo, kill what runs inside, delete.

/** Documentation and loopback ranges: the only addresses we may put on an interface or send to. */
export function isAllowedAddress(a: string): boolean {
  if (a.includes(":")) return /^2001:db8:/i.test(a) || a === "::1";
  return /^(203\.0\.113|198\.51\.100|192\.0\.2)\.\d+$/.test(a) || /^127\./.test(a);
}

function ip(...args: string[]): { ok: boolean; out: string } {
  const r = Bun.spawnSync(["ip", ...args], { stdout: "pipe", stderr: "pipe" });
  return { ok: r.exitCode === 0, out: r.stdout.toString() + r.stderr.toString() };
}

const live = new Set<string>();

/** Create namespace `name` with lo up and each address on lo (IPv4 /32, IPv6 /128 nodad). */
export function createNetns(name: string, addresses: Iterable<string>): void {
  if (!ip("netns", "add", name).ok) throw new Error(`ip netns add ${name} failed (need root and iproute2)`);
  live.add(name);
  const inNs = (...a: string[]) => ip("-n", name, ...a);
  inNs("link", "set", "lo", "up");
  for (const a of new Set(addresses)) {
    if (!isAllowedAddress(a) || a === "::1" || a.startsWith("127.")) continue;
    const r = a.includes(":") ? inNs("-6", "addr", "add", `${a}/128`, "dev", "lo", "nodad") : inNs("addr", "add", `${a}/32`, "dev", "lo");
    if (!r.ok) throw new Error(`adding ${a} in ${name}: ${r.out.trim()}`);
  }
}

/** Kill every process still inside the namespace, then delete it. Safe to call twice. */
export function destroyNetns(name: string): void {
  for (let i = 0; i < 3; i++) {
    const pids = ip("netns", "pids", name).out.split(/\s+/).filter((p) => /^\d+$/.test(p));
    if (pids.length === 0) break;
    for (const p of pids) {
      try {
        process.kill(Number(p), "SIGKILL");
      } catch {
        /* already gone */
      }
    }
    Bun.sleepSync(100);
  }
  ip("netns", "del", name);
  live.delete(name);
}

/** Namespaces this process created and has not deleted yet (for exit handlers). */
export function destroyAllNetns(): void {
  for (const n of [...live]) destroyNetns(n);
}

let hooked = false;
/** Delete our namespaces on normal exit and on SIGINT/SIGTERM/SIGHUP. */
export function cleanupOnExit(extra: () => void = () => {}): void {
  if (hooked) return;
  hooked = true;
  process.on("exit", () => {
    extra();
    destroyAllNetns();
  });
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.on(sig, () => {
      extra();
      destroyAllNetns();
      process.exit(130);
    });
  }
}

/** A namespace name unique to this process. */
export const nsName = (prefix: string, n: number | string): string => `${prefix}-${process.pid}-${n}`;

/** Interface addresses named by daemon arguments: -i / --interface=[NAME/]ADDR[!ADV]. */
export function interfaceAddresses(args: string[]): string[] {
  const specs: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if ((a === "-i" || a === "--interface") && i + 1 < args.length) specs.push(args[++i]!);
    else if (a.startsWith("--interface=")) specs.push(a.slice("--interface=".length));
    else if (a.startsWith("-i") && a.length > 2) specs.push(a.slice(2));
  }
  const out: string[] = [];
  for (const s of specs) {
    const noName = s.includes("/") ? s.slice(s.indexOf("/") + 1) : s;
    for (const part of noName.split("!")) {
      const addr = part.replace(/^\[|\]$/g, "").replace(/%.*/, "");
      if (/^[0-9.]+$/.test(addr) || addr.includes(":")) out.push(addr);
    }
  }
  return out;
}
