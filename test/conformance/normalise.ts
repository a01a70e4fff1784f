// Normalises ng replies for differential comparison: volatile ports, ICE credentials, keys, ids become placeholders.
import type { NgValue } from "./ng-client.ts";

/**
 * Rewrite the volatile parts of an SDP. Tokens that also occur in `request` (what the client
 * sent) are kept: echoing a value back is behaviour worth comparing.
 */
export function normaliseSdpText(sdp: string, request = ""): string {
  const keep = (tok: string, ph: string) => (request.includes(tok) ? tok : ph);
  return sdp
    .replace(/\r\n?/g, "\n")
    .split("\n")
    .map((l) =>
      l
        .replace(/^(o=\S+) (\d+) (\d+)/, (_m, h: string, id: string, v: string) => `${h} ${keep(id, "<SESS-ID>")} ${keep(v, "<SESS-VER>")}`)
        .replace(/^(m=\S+) (\d+)/, (_m, h: string, p: string) => `${h} ${keep(p, "<PORT>")}`)
        .replace(/^a=rtcp:(\d+)/, (_m, p: string) => `a=rtcp:${keep(p, "<PORT>")}`)
        .replace(/^a=ice-ufrag:(\S+)/, (_m, u: string) => `a=ice-ufrag:${keep(u, "<UFRAG>")}`)
        .replace(/^a=ice-pwd:(\S+)/, (_m, u: string) => `a=ice-pwd:${keep(u, "<PWD>")}`)
        .replace(/^a=candidate:(\S+) (\d+) (\S+) (\d+) (\S+) (\d+)/, (m, f: string, c: string, t: string, pr: string, a: string, p: string) =>
          request.includes(m) ? m : `a=candidate:<FOUNDATION> ${c} ${t} ${pr} ${a} <PORT>`,
        )
        .replace(/ rport \d+/, (m) => keep(m, " rport <PORT>"))
        .replace(/inline:([A-Za-z0-9+/=]+)/g, (_m, k: string) => `inline:${keep(k, "<KEY>")}`)
        .replace(/^a=fingerprint:(\S+) (\S+)/, (_m, h: string, f: string) => `a=fingerprint:${h} ${keep(f, "<FINGERPRINT>")}`)
        .replace(/^a=tls-id:(\S+)/, (_m, t: string) => `a=tls-id:${keep(t, "<TLS-ID>")}`)
        .replace(/rtpengine-\S+/g, "<RTPE-VERSION>")
        .replace(/^a=rtpengine:[0-9a-f]{12}$/, "a=rtpengine:<LOOPER>")
        .replace(/^a=(ssrc|msid-semantic|msid):(\d+)/, (_m, k: string, s: string) => `a=${k}:${keep(s, "<SSRC>")}`),
    )
    .join("\n");
}

/** Keys whose numeric or string values differ run to run (timestamps, ports, SSRCs, tags). */
const VOLATILE_KEYS = /^([a-z]*duration|min|max|last|created|created_us|last signal|last redis update|last packet|last rtcp|timestamp|local port|port|SSRC|ssrc|tag|from-tag|to-tag|call-id|totals|uptime|start time|last activity)$/i;

/** Normalise a decoded reply dict: SDP via normaliseSdpText, volatile keys to "<X>", dict keys sorted. */
export function normaliseReply(v: NgValue, requestSdp = "", key = ""): unknown {
  if (typeof v === "string") {
    if (key === "sdp") return normaliseSdpText(v, requestSdp).split("\n");
    if (VOLATILE_KEYS.test(key)) return "<" + key.toUpperCase() + ">";
    return v.replace(/rtpengine-\S+/g, "<RTPE-VERSION>");
  }
  if (typeof v === "number") return VOLATILE_KEYS.test(key) ? "<" + key.toUpperCase() + ">" : v;
  if (v instanceof Uint8Array) return `<${v.length} bytes>`;
  if (Array.isArray(v)) {
    const out = v.map((x) => normaliseReply(x, requestSdp, key));
    // 'list' returns call-ids in hash order
    return key === "calls" && out.every((x) => typeof x === "string") ? out.sort() : out;
  }
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v).sort()) {
    // SSRC-keyed dictionaries: the key itself is volatile
    const nk = /^\d{6,}$/.test(k) ? "<SSRC-KEY>" : k;
    out[nk] = normaliseReply(v[k]!, requestSdp, k);
  }
  return out;
}

/** Line diff (LCS) of two texts, as "  same" / "- ref" / "+ ours" lines; empty when equal. */
export function lineDiff(a: string[], b: string[]): string[] {
  if (a.length === b.length && a.every((x, i) => x === b[i])) return [];
  const n = a.length;
  const m = b.length;
  const L: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) L[i]![j] = a[i] === b[j] ? L[i + 1]![j + 1]! + 1 : Math.max(L[i + 1]![j]!, L[i]![j + 1]!);
  const out: string[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) (out.push(`  ${a[i]}`), i++, j++);
    else if (j < m && (i >= n || L[i]![j + 1]! >= L[i + 1]![j]!)) out.push(`+ ${b[j++]}`);
    else out.push(`- ${a[i++]}`);
  }
  return out;
}
