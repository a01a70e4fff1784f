// ICE in SDP towards one endpoint: our credentials and host candidates, or low-priority extras for ICE=optional.
import type { CallFlags } from "./flags.ts";
import { advertised } from "./interfaces.ts";
import type { Media } from "./model.ts";
import { candidateLines, foundationFor, newIceCredentials } from "../ice/sdp.ts";
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
export function optionalIce(f: CallFlags, m: Media, out: MediaOut, components: number): void {
  if (m.port === null) return;
  out.keepPeerIce = true;
  const lines: string[] = [];
  for (let comp = 1; comp <= components; comp++) {
    m.addrs.forEach((a, rank) => {
      const prio = rank === 0 ? 125 * 2 ** 24 + (256 - comp) : 2 ** 32 - comp;
      const addr = f.mediaAddress ?? advertised(a);
      lines.push(`candidate:${foundationFor(a.address)} ${comp} UDP ${prio} ${addr} ${m.port! + comp - 1} typ host`);
    });
  }
  out.extraCandidates = lines;
}
