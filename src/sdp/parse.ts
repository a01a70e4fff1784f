// Line-based SDP parser: strict enough to reject garbage with a clear reason, loose enough to keep unknown lines.
import { isIPv6 } from "node:net";
import { NgError } from "../control/types.ts";
import type { SdpConnection, SdpLine, SdpMedia, SdpOrigin, SdpSession } from "./types.ts";

/** Upper bounds that keep a hostile SDP from costing more than a normal one. */
export const SDP_MAX_BYTES = 256 * 1024;
export const SDP_MAX_MEDIA = 256;
export const SDP_MAX_LINES = 8192;

function fail(reason: string): never {
  throw new NgError(`Failed to parse SDP: ${reason}`);
}

export interface ParseOptions {
  /** `--reject-invalid-sdp`: a body ending in a blank line is an error instead of being tolerated */
  rejectInvalid?: boolean;
}

export function parseSdp(text: string, opts: ParseOptions = {}): SdpSession {
  if (text.length > SDP_MAX_BYTES) fail(`body too large (${text.length} bytes, limit ${SDP_MAX_BYTES})`);
  if (opts.rejectInvalid && /(\r?\n){2,}$/.test(text)) fail("body ends in a blank line");
  const raw = text.split(/\r?\n/);
  if (raw.length > SDP_MAX_LINES) fail(`too many lines (limit ${SDP_MAX_LINES})`);
  const top: SdpSession = { lines: [], media: [], more: [] };
  let session = top;
  let mediaCount = 0;
  let current: SdpMedia | null = null;
  let first = true;
  for (const l of raw) {
    if (l === "" || l === "\r") continue;
    const line = l.endsWith("\r") ? l.slice(0, -1) : l;
    if (line.length < 2 || line[1] !== "=" || !/^[a-zA-Z]$/.test(line[0]!)) fail(`invalid line '${line.slice(0, 40)}'`);
    const type = line[0]!;
    const value = line.slice(2);
    if (first) {
      if (type !== "v") fail("does not start with v=");
      first = false;
    } else if (type === "v") {
      // another session in the same body
      session = { lines: [], media: [], more: [] };
      top.more.push(session);
      current = null;
    }
    if (type === "m") {
      if (++mediaCount > SDP_MAX_MEDIA) fail(`too many media sections (limit ${SDP_MAX_MEDIA})`);
      current = parseMediaLine(value);
      session.media.push(current);
      continue;
    }
    const entry: SdpLine = { type, value };
    if (type === "c") parseConnection(value);
    if (current) current.lines.push(entry);
    else {
      if (type === "o") parseOrigin(value);
      session.lines.push(entry);
    }
  }
  if (first) fail("empty body");
  return top;
}

function parseMediaLine(value: string): SdpMedia {
  const parts = value.split(" ").filter((p) => p !== "");
  if (parts.length < 3) fail(`invalid m= line '${value.slice(0, 40)}'`);
  const [type, portStr, proto, ...formats] = parts as [string, string, string, ...string[]];
  const pm = /^(\d{1,5})(?:\/(\d{1,5}))?$/.exec(portStr);
  if (!pm) fail(`invalid port in m= line '${value.slice(0, 40)}'`);
  const port = Number(pm[1]);
  if (port > 65535) fail(`invalid port in m= line '${value.slice(0, 40)}'`);
  return { type, port, portCount: pm[2] ? Number(pm[2]) : null, proto, formats, lines: [] };
}

export function parseConnection(value: string): SdpConnection {
  const parts = value.split(" ").filter((p) => p !== "");
  if (parts.length < 3) fail(`invalid c= line '${value.slice(0, 40)}'`);
  const addrType = parts[1]!.toUpperCase();
  if (addrType !== "IP4" && addrType !== "IP6") fail(`invalid address type in c= line '${value.slice(0, 40)}'`);
  // strip a multicast TTL/count suffix; host names are refused like rtpengine does
  const address = parts[2]!.replace(/\/.*$/, "");
  if (addrType === "IP4" ? !isDottedQuad(address) : !isIPv6(address)) fail(`invalid address in c= line '${value.slice(0, 40)}'`);
  return { netType: parts[0]!, addrType, address };
}

export function parseOrigin(value: string): SdpOrigin {
  const parts = value.split(" ").filter((p) => p !== "");
  if (parts.length < 6) fail(`invalid o= line '${value.slice(0, 40)}'`);
  return {
    username: parts[0]!,
    sessionId: parts[1]!,
    sessionVersion: parts[2]!,
    netType: parts[3]!,
    addrType: parts[4]!,
    address: parts[5]!,
  };
}

const QUAD = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
/** IPv4 dotted quad check (cheaper than node:net on this hot path) */
function isDottedQuad(a: string): boolean {
  const m = QUAD.exec(a);
  return m !== null && +m[1]! < 256 && +m[2]! < 256 && +m[3]! < 256 && +m[4]! < 256;
}
