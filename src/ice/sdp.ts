// SDP side of ICE: our credentials, host candidates with rtpengine's priorities and foundations, parsing the peer's.
import { randomBytes } from "node:crypto";

const ALNUM = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

/** Random string over [0-9a-zA-Z], as used for ufrag, pwd and foundations. */
export function randomAlnum(n: number): string {
  const b = randomBytes(n);
  let s = "";
  for (let i = 0; i < n; i++) s += ALNUM[b[i]! % 62];
  return s;
}

export interface IceCredentials {
  ufrag: string;
  pwd: string;
}

export function newIceCredentials(): IceCredentials {
  return { ufrag: randomAlnum(8), pwd: randomAlnum(26) };
}

/** One foundation per local address, stable for the daemon's lifetime. */
const foundations = new Map<string, string>();
export function foundationFor(address: string): string {
  let f = foundations.get(address);
  if (!f) {
    f = randomAlnum(16);
    foundations.set(address, f);
  }
  return f;
}

/** RFC 8445 priority of a host candidate: type preference 126, local preference by address rank. */
export function hostPriority(rank: number, component: number): number {
  return 126 * 2 ** 24 + (65535 - rank) * 256 + (256 - component);
}

export interface LocalCandidateAddr {
  address: string;
  port: number;
}

/** a= values for our host candidates: every component, then every local address in rank order. */
export function candidateLines(addrs: readonly LocalCandidateAddr[], components: number): string[] {
  const out: string[] = [];
  for (let comp = 1; comp <= components; comp++) {
    addrs.forEach((a, rank) => {
      out.push(`candidate:${foundationFor(a.address)} ${comp} UDP ${hostPriority(rank, comp)} ${a.address} ${a.port + comp - 1} typ host`);
    });
  }
  return out;
}

/** Attribute names that belong to ICE and are consumed from incoming SDP. */
export const ICE_ATTRS = new Set(["ice-ufrag", "ice-pwd", "ice-options", "ice-lite", "candidate", "end-of-candidates", "remote-candidates", "ice-mismatch"]);

export interface PeerIce {
  ufrag: string | null;
  pwd: string | null;
  candidates: string[];
  trickle: boolean;
}
