// Value-kind parsers: turn one raw option string into a typed value or throw ConfigError naming the option.

import { invalidValue } from "./errors.ts";
import { allNonLoopbackAddresses, ipFamily, resolveAddress, systemInterfaceAddresses } from "./resolve.ts";
import type { Endpoint, InterfaceSpec, Listener, RedisSpec } from "./types.ts";

/** Command-line integer as GOption reads it (strtol base 0: decimal, 0x hex, 0 octal), 32-bit signed. */
export function parseCmdlineInt(option: string, raw: string): number {
  const m = /^[ \t\n\v\f\r]*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/.exec(raw);
  if (!m) throw invalidValue(option, raw, "expected an integer");
  const body = m[2]!;
  const n = body.length > 1 && body[0] === "0" && !/[xX]/.test(body) ? parseInt(body, 8) : Number(body);
  const v = m[1] === "-" ? -n : n;
  if (v < -2147483648 || v > 2147483647) throw invalidValue(option, raw, "integer out of range");
  return v;
}

/** A floating-point number (g_ascii_strtod without the hex/inf/nan forms). */
export function parseDouble(option: string, raw: string): number {
  if (!/^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/.test(raw)) throw invalidValue(option, raw, "expected a number");
  return Number(raw.trim());
}

/** An integer inside [min, max]. */
export function checkRange(option: string, value: number, min: number, max: number): number {
  if (value < min || value > max) throw invalidValue(option, String(value), `expected ${min} to ${max}`);
  return value;
}

function parsePort(option: string, raw: string, whole: string, min: number): number {
  if (!/^\d{1,5}$/.test(raw)) throw invalidValue(option, whole, "bad port");
  const port = Number(raw);
  if (port < min || port > 65535) throw invalidValue(option, whole, `port must be ${min} to 65535`);
  return port;
}

/** Split `[v6]:port`, `v6:port` (last colon), `v4-or-host:port`; host is null for a bare port. */
function splitHostPort(option: string, raw: string): { host: string | null; port: string } {
  if (/^\d+$/.test(raw)) return { host: null, port: raw };
  const br = /^\[([^\]]+)\]:(.*)$/.exec(raw);
  if (br) return { host: br[1]!, port: br[2]! };
  const i = raw.lastIndexOf(":");
  if (i <= 0) throw invalidValue(option, raw, "expected [ADDRESS:]PORT");
  return { host: raw.slice(0, i), port: raw.slice(i + 1) };
}

function resolveOrThrow(option: string, host: string, whole: string): { address: string; family: 4 | 6 } {
  const r = resolveAddress(host);
  if (!r) throw invalidValue(option, whole, `cannot resolve '${host}'`);
  return r;
}

/** Control listener `[IP46|HOSTNAME:]PORT`; a bare port means every address of both families. Port 0 = any free port, as the reference allows. */
export function parseListener(option: string, raw: string): Listener {
  const { host, port } = splitHostPort(option, raw);
  const p = parsePort(option, port, raw, 0);
  if (host === null) return { address: null, port: p, family: 0 };
  const r = resolveOrThrow(option, host, raw);
  return { address: r.address, port: p, family: r.family };
}

/** Remote endpoint `IP46|HOSTNAME:PORT` (graphite, homer, dtmf-log-dest). */
export function parseEndpoint(option: string, raw: string): Endpoint {
  const { host, port } = splitHostPort(option, raw);
  if (host === null) throw invalidValue(option, raw, "expected ADDRESS:PORT");
  const p = parsePort(option, port, raw, 1);
  const r = resolveOrThrow(option, host, raw);
  return { address: r.address, port: p, family: r.family };
}

/** Redis `[PW@]IP:PORT/INT`; without a password in the value, `envPassword` (from the environment) is used. */
export function parseRedis(option: string, raw: string, envPassword: string | null): RedisSpec {
  const at = raw.lastIndexOf("@");
  const password = at >= 0 ? raw.slice(0, at) : envPassword;
  const rest = at >= 0 ? raw.slice(at + 1) : raw;
  const m = /^(.*)\/(\d+)$/.exec(rest);
  if (!m) throw invalidValue(option, raw, "expected [PASSWORD@]ADDRESS:PORT/DB");
  const ep = parseEndpoint(option, m[1]!);
  return { password: password === "" ? null : password, address: ep.address, port: ep.port, db: Number(m[2]) };
}

/**
 * One `--interface` value, `[NAME/]IP[!IP]`, expanded to one spec per local address: IP may be
 * an IP literal, `any`, a system interface name (all its addresses) or a host name.
 */
export function parseInterface(option: string, raw: string): InterfaceSpec[] {
  const slash = raw.indexOf("/");
  const name = slash >= 0 ? raw.slice(0, slash) : "default";
  const rest = slash >= 0 ? raw.slice(slash + 1) : raw;
  if (name === "") throw invalidValue(option, raw, "empty interface name");
  const bang = rest.indexOf("!");
  const local = bang >= 0 ? rest.slice(0, bang) : rest;
  const adv = bang >= 0 ? rest.slice(bang + 1) : null;
  if (local === "") throw invalidValue(option, raw, "missing address");
  let advertised: string | null = null;
  if (adv !== null) {
    // the advertised address must be a network address, never an interface name
    const r = adv === "" ? null : resolveAddress(adv);
    if (!r) throw invalidValue(option, raw, `bad advertised address '${adv}'`);
    advertised = r.address;
  }
  let addrs: { address: string; family: 4 | 6 }[];
  const fam = ipFamily(local);
  if (fam) addrs = [{ address: local, family: fam }];
  else if (local === "any") addrs = allNonLoopbackAddresses();
  else addrs = systemInterfaceAddresses(local) ?? [resolveOrThrow(option, local, raw)];
  if (addrs.length === 0) throw invalidValue(option, raw, `no usable address on '${local}'`);
  return addrs.map((a) => ({ name, address: a.address, advertised, family: a.family }));
}

/** Case-(in)sensitive choice among fixed words; returns the canonical spelling. */
export function parseEnum<T extends string>(option: string, raw: string, values: readonly T[], caseInsensitive: boolean): T {
  const hit = values.find((v) => (caseInsensitive ? v.toLowerCase() === raw.toLowerCase() : v === raw));
  if (hit === undefined) throw invalidValue(option, raw, `expected one of: ${values.join(", ")}`);
  return hit;
}
