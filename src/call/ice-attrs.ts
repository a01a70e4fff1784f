// ICE in SDP towards one endpoint: our credentials and host candidates, or low-priority extras for ICE=optional.
import type { CallFlags } from "./flags.ts";
import { advertised } from "./interfaces.ts";
import type { Media } from "./model.ts";
import { candidateLines, foundationFor, hostPriority, newIceCredentials } from "../ice/sdp.ts";
import type { MediaOut } from "../sdp/rewrite.ts";

/** Our ICE attributes towards one endpoint: credentials kept per media, a host candidate per local address and component. */
export function iceOut(f: CallFlags, m: Media, components: number, trickle = false): MediaOut["ice"] {
  if (!m.iceEnabled || m.port === null) return null;
  m.ice ??= newIceCredentials();
  const port = m.port;
  return {
    ufrag: m.ice.ufrag,
    pwd: m.ice.pwd,
    trickle: trickle || f.flags.has("trickle-ice"),
    candidates: candidateLines(
      m.addrs.map((x) => ({ address: advertised(x), port })),
      components,
    ),
  };
}

/**
 * `ICE=optional` on SDP that already has ICE: the endpoint's own ICE lines stay and we only add
 * ourselves as low-priority candidates (priorities as 10.5 prints them).
 */
/**
 * ICE=optional on SDP that already has ICE: we join as extra candidates ranked just around the
 * endpoint's lowest host candidate. The rule is empirical (matched against 10.5): base = lowest
 * host priority with the component bits cleared, then +256 for our first address, +0 for the
 * others, +(256 - component). When that cannot work (the local preference would overflow, or our
 * first candidate would repeat one of the endpoint's priorities) 10.5 prints
 * 125<<24 | (256 - component) for the first address and 2^32 - component for the others.
 */
export function optionalIce(f: CallFlags, m: Media, out: MediaOut, components: number, peerPriorities: readonly number[] = []): void {
  if (m.port === null) return;
  out.keepPeerIce = true;
  const lowest = peerPriorities.length ? Math.min(...peerPriorities) : null;
  const base = lowest === null ? 0 : lowest - (lowest % 256);
  const fallback = lowest !== null && (Math.floor(lowest / 256) % 65536 === 65535 || peerPriorities.includes(base + 256 + 255));
  const lines: string[] = [];
  for (let comp = 1; comp <= components; comp++) {
    m.addrs.forEach((a, rank) => {
      let prio: number;
      if (lowest === null) prio = hostPriority(rank, comp);
      else if (fallback) prio = rank === 0 ? 125 * 2 ** 24 + (256 - comp) : 2 ** 32 - comp;
      else prio = base + (rank === 0 ? 256 : 0) + (256 - comp);
      const addr = f.mediaAddress ?? advertised(a);
      lines.push(`candidate:${foundationFor(a.address)} ${comp} UDP ${prio} ${addr} ${m.port! + comp - 1} typ host`);
    });
  }
  out.extraCandidates = lines;
}
