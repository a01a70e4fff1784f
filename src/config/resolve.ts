// Address resolution for options: IP literals, system interface names, `any`, and host names.

import { execFileSync } from "node:child_process";
import { isIPv4, isIPv6 } from "node:net";
import { networkInterfaces } from "node:os";

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** 4 or 6 for an IP literal, else null. IPv6 literals may carry a `%zone`. */
export function ipFamily(s: string): 4 | 6 | null {
  if (isIPv4(s)) return 4;
  if (isIPv6(s)) return 6;
  return null;
}

/** Link-local IPv6 (fe80::/10) is never used for media: it needs a scope the SDP cannot carry. */
function isLinkLocal6(address: string): boolean {
  return /^fe[89ab][0-9a-f]:/i.test(address);
}

/** Addresses of one system network interface (e.g. `eth0`), without IPv6 link-local; null if no such interface. */
export function systemInterfaceAddresses(name: string): ResolvedAddress[] | null {
  const list = networkInterfaces()[name];
  if (!list) return null;
  return list
    .filter((a) => !(a.family === "IPv6" && isLinkLocal6(a.address)))
    .map((a) => ({ address: a.address, family: a.family === "IPv6" ? 6 : 4 }));
}

/** `any`: every address of every interface except loopback and IPv6 link-local. */
export function allNonLoopbackAddresses(): ResolvedAddress[] {
  const out: ResolvedAddress[] = [];
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) {
      if (a.internal) continue;
      if (a.family === "IPv6" && isLinkLocal6(a.address)) continue;
      out.push({ address: a.address, family: a.family === "IPv6" ? 6 : 4 });
    }
  }
  return out;
}

/**
 * Resolve a host name once, at startup, to its first address (as getaddrinfo orders them),
 * like the reference. Uses the system resolver through `getent` so that the config loader
 * stays synchronous; null when the name does not resolve.
 */
export function resolveHostName(name: string): ResolvedAddress | null {
  if (!/^[A-Za-z0-9._-]+$/.test(name)) return null;
  let out: string;
  try {
    out = execFileSync("getent", ["ahosts", name], { encoding: "utf8", timeout: 5000, stdio: ["ignore", "pipe", "ignore"] });
  } catch {
    return null;
  }
  for (const line of out.split("\n")) {
    const addr = line.split(/\s+/)[0] ?? "";
    const family = ipFamily(addr);
    if (family) return { address: addr, family };
  }
  return null;
}

/** An IP literal as is, else a resolved host name. */
export function resolveAddress(s: string): ResolvedAddress | null {
  const family = ipFamily(s);
  if (family) return { address: s, family };
  return resolveHostName(s);
}
