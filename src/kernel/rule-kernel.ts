// The kernel's binary formats (kernel-module/rtpengine_uapi.h) besides the rule itself: delete/flush messages and blist records.
import { decodeAddr, encodeAddr, type Endpoint } from "../platform/shim-addr.ts";
import { KERNEL_CMD, KERNEL_MSG_MAGIC, KERNEL_UAPI_VERSION } from "./rule.ts";

export { encodeKernelRule, KERNEL_RULE_MSG_SIZE } from "./rule.ts";

/** sizeof(struct rtpe_msg_hdr) */
export const KERNEL_HDR_SIZE = 16;
/** sizeof(struct rtpe_msg_del) */
export const KERNEL_DEL_MSG_SIZE = 40;
/** sizeof(struct rtpe_blist_entry): rule 360 + stats 48 + ssrc 4 x 40 */
export const BLIST_ENTRY_SIZE = 568;
/** offsets inside struct rtpe_blist_entry */
export const BLIST = { local: 0, rtcpIndex: 192 + 12, cookie: 352, stats: 360, ssrc: 408, ssrcSize: 40 } as const;

/** struct rtpe_stats of one rule, as read from blist. */
export interface KernelRuleStats {
  packets: number;
  bytes: number;
  errors: number;
  authFailed: number;
  toUser: number;
  /** wall clock ms of the last forwarded packet, 0 = never */
  lastMs: number;
}

/** One blist record: the rule's match key, our cookie and its counters. */
export interface BlistEntry {
  local: Endpoint;
  cookie: bigint;
  stats: KernelRuleStats;
  /** used SSRC slots: counters, highest sequence number, current ROCs (decrypt side, encrypt side) */
  ssrcs: { ssrc: number; packets: number; bytes: number; lastSeq: number; rocIn: number; rocOut: number }[];
  /** next SRTCP index of the output (out.encrypt.rtcp_index) */
  rtcpIndex: number;
}

function header(b: Uint8Array, cmd: number): DataView {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  dv.setUint32(0, KERNEL_MSG_MAGIC, true);
  dv.setUint16(4, KERNEL_UAPI_VERSION, true);
  dv.setUint16(6, cmd, true);
  dv.setUint32(8, b.byteLength, true);
  return dv;
}

/** struct rtpe_msg_del: delete the rule matching `local`. */
export function encodeKernelDel(local: Endpoint): Uint8Array {
  const b = new Uint8Array(KERNEL_DEL_MSG_SIZE);
  header(b, KERNEL_CMD.del);
  encodeAddr(b, KERNEL_HDR_SIZE, local.address, local.port);
  return b;
}

/** struct rtpe_msg_hdr alone: delete every rule of the table. */
export function encodeKernelFlush(): Uint8Array {
  const b = new Uint8Array(KERNEL_HDR_SIZE);
  header(b, KERNEL_CMD.flush);
  return b;
}

/** The map key of a rule: the kernel matches (local address, local port), unique per table. */
export function localKey(e: Endpoint): string {
  return `${e.address}|${e.port}`;
}

/** Parse blist content (whole records back to back); a trailing partial record is ignored. */
export function decodeBlist(buf: Uint8Array): BlistEntry[] {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const out: BlistEntry[] = [];
  const u64 = (o: number): number => Number(dv.getBigUint64(o, true));
  for (let o = 0; o + BLIST_ENTRY_SIZE <= buf.byteLength; o += BLIST_ENTRY_SIZE) {
    const local = decodeAddr(buf, o + BLIST.local);
    if (!local) continue;
    const s = o + BLIST.stats;
    const ssrcs: BlistEntry["ssrcs"] = [];
    for (let i = 0; i < 4; i++) {
      const q = o + BLIST.ssrc + i * BLIST.ssrcSize;
      if ((dv.getUint32(q + 4, true) & 1) === 0) continue;
      ssrcs.push({ ssrc: dv.getUint32(q, true), packets: u64(q + 8), bytes: u64(q + 16), lastSeq: dv.getUint32(q + 24, true) & 0xffff, rocIn: dv.getUint32(q + 28, true), rocOut: dv.getUint32(q + 32, true) });
    }
    out.push({
      local,
      cookie: dv.getBigUint64(o + BLIST.cookie, true),
      stats: { packets: u64(s), bytes: u64(s + 8), errors: u64(s + 16), authFailed: u64(s + 24), toUser: u64(s + 32), lastMs: u64(s + 40) },
      ssrcs,
      rtcpIndex: dv.getUint32(o + BLIST.rtcpIndex, true) & 0x7fffffff,
    });
  }
  return out;
}
