// The forwarding rule: one typed description of "packets on this local socket go out there", consumed by the shim fast path (and later the kernel).
import { encodeAddr, type Endpoint } from "../platform/shim-addr.ts";
import { encodeKernelSrtp, type KernelSrtp, type KernelSrtpIndices } from "./srtp-kernel.ts";
import { ADDR_SIZE, MISMATCH_DROP, MISMATCH_PROPAGATE, RULE, RULE_MUX_RTCP, RULE_RTCP, RULE_RTCP_DEMUX, RULE_RTP, RULE_SET_TOS, RULE_SIZE, RULE_SRTP_DECRYPT, RULE_SRTP_ENCRYPT } from "../platform/shim-abi.ts";

/** A local media socket as both forwarders know it: the shim by handle, the kernel by address. */
export interface RuleSocket {
  readonly handle: number;
  readonly local: Endpoint;
}

/**
 * Match (local socket, optional expected source) -> action (output socket, destination, TOS), counted.
 * Field names follow kernel-module/rtpengine_uapi.h (local, expect_src, out.src, out.dst, out.tos).
 */
export interface ForwardingRule {
  /** socket the packets arrive on */
  readonly local: RuleSocket;
  /** only packets from this source match (port 0 = any port); null = any source */
  readonly expectSrc: Endpoint | null;
  /** `strict source`: packets not from expectSrc are dropped instead of going up to TypeScript */
  readonly dropMismatch: boolean;
  /** socket the packets leave from (the other side's local socket) */
  readonly outSrc: RuleSocket;
  /** where they go (the other side's learned or signalled endpoint) */
  readonly outDst: Endpoint;
  /** TOS / traffic class for the output; null = the output socket's own */
  readonly tos: number | null;
  /** what the packets are: the kernel counts RTP per SSRC and would apply SRTP per kind */
  readonly payload: "rtp" | "rtcp" | "other";
  /**
   * SRTP done by the forwarder (names as the kernel's rtpe_rule.decrypt / rtpe_output.encrypt):
   * `key` names the keys (equal keys = same rule), the pointers are rtpe_srtp_ctx of the shim's own
   * copy of ffi/srtp (0 = that direction is plain), filled in when the rule is installed.
   * `mux`: RTCP arrives muxed on this RTP port and leaves on the same output.
   * `kernel`: the same SRTP as keys and indices for xt_RTPENGINE (src/kernel/srtp-kernel.ts); without it the rule stays in the shim.
   */
  readonly srtp?: { readonly key: string; readonly decrypt: number; readonly encrypt: number; readonly mux: boolean; readonly kernel?: KernelSrtp };
  /**
   * The socket also carries STUN (ICE checks, consent) or DTLS: only RTP/RTCP may match, the rest goes up to
   * TypeScript. Rules with SRTP classify anyway; the kernel classifies by `payload`.
   */
  readonly mediaOnly?: boolean;
  /**
   * rtcp-mux towards a side without it: RTCP arriving muxed on this RTP port (RFC 5761 payload types) leaves from `out`
   * (the other side's RTCP socket) to `dst` (its RTCP endpoint); RTP still goes to outSrc/outDst. Only the shim applies it.
   */
  readonly rtcpDemux?: { readonly out: RuleSocket; readonly dst: Endpoint };
}

/** Two rules are the same installation (nothing to update) when every field matches. */
export function sameRule(a: ForwardingRule | null, b: ForwardingRule | null): boolean {
  if (a === null || b === null) return a === b;
  return a.local.handle === b.local.handle && a.outSrc.handle === b.outSrc.handle && sameEndpoint(a.expectSrc, b.expectSrc) &&
    sameEndpoint(a.outDst, b.outDst) && a.dropMismatch === b.dropMismatch && a.tos === b.tos && a.payload === b.payload &&
    (a.srtp?.key ?? null) === (b.srtp?.key ?? null) && !!a.mediaOnly === !!b.mediaOnly &&
    (a.rtcpDemux?.out.handle ?? -1) === (b.rtcpDemux?.out.handle ?? -1) && sameEndpoint(a.rtcpDemux?.dst ?? null, b.rtcpDemux?.dst ?? null);
}

function sameEndpoint(a: Endpoint | null, b: Endpoint | null): boolean {
  if (a === null || b === null) return a === b;
  return a.address === b.address && a.port === b.port;
}

/** struct rtpe_addr for a rule's expected source (family 0 = any source). */
export function encodeExpectedSrc(rule: ForwardingRule, b: Uint8Array = new Uint8Array(ADDR_SIZE)): Uint8Array {
  if (rule.expectSrc) encodeAddr(b, 0, rule.expectSrc.address, rule.expectSrc.port);
  else b.fill(0, 0, ADDR_SIZE);
  return b;
}

/** struct rtpe_rule (ffi/rtpe_rule.h) for the shim's rtpe_rule_add. */
export function encodeShimRule(rule: ForwardingRule): Uint8Array {
  const b = new Uint8Array(RULE_SIZE);
  const dv = new DataView(b.buffer);
  dv.setInt32(RULE.local, rule.local.handle, true);
  dv.setInt32(RULE.output, rule.outSrc.handle, true);
  if (rule.expectSrc) encodeAddr(b, RULE.expectedSrc, rule.expectSrc.address, rule.expectSrc.port);
  encodeAddr(b, RULE.dstAddr, rule.outDst.address, rule.outDst.port);
  b[RULE.tos] = rule.tos ?? 0;
  b[RULE.srcMismatch] = rule.dropMismatch ? MISMATCH_DROP : MISMATCH_PROPAGATE;
  let flags = rule.tos === null ? 0 : RULE_SET_TOS;
  const s = rule.srtp;
  // SRTP rules and those of ICE ports classify: only RTP (or RTCP) is forwarded, STUN/DTLS still go up to TypeScript
  const d = rule.payload === "rtp" ? rule.rtcpDemux : undefined;
  if (s || rule.mediaOnly || d) flags |= rule.payload === "rtcp" ? RULE_RTCP : RULE_RTP | (s?.mux || d ? RULE_MUX_RTCP : 0);
  if (d) {
    flags |= RULE_RTCP_DEMUX;
    dv.setInt32(RULE.rtcpOutput, d.out.handle, true);
    encodeAddr(b, RULE.rtcpDst, d.dst.address, d.dst.port);
  }
  if (s) {
    if (s.decrypt) flags |= RULE_SRTP_DECRYPT;
    if (s.encrypt) flags |= RULE_SRTP_ENCRYPT;
    dv.setBigUint64(RULE.decrypt, BigInt(s.decrypt), true);
    dv.setBigUint64(RULE.encrypt, BigInt(s.encrypt), true);
  }
  dv.setUint16(RULE.flags, flags, true);
  return b;
}

// ---------------------------------------------------------------- kernel (kernel-module/rtpengine_uapi.h)

export const KERNEL_MSG_MAGIC = 0x45505452;
export const KERNEL_UAPI_VERSION = 1;
export const KERNEL_CMD = { add: 1, update: 2, del: 3, flush: 4 } as const;
const RF_EXPECT_SRC = 0x1, RF_RTP = 0x2, RF_RTCP = 0x4, RF_MUX_RTCP = 0x8;
/** struct rtpe_msg_hdr + struct rtpe_rule */
export const KERNEL_RULE_MSG_SIZE = 16 + 360;
/** offsets inside struct rtpe_rule */
export const KRULE = { local: 0, expectSrc: 20, flags: 40, numPt: 44, decrypt: 80, outSrc: 144, outDst: 164, tos: 184, encrypt: 192, ssrc: 296, rocIn: 312, rocOut: 328, numSsrc: 344, cookie: 352 } as const;
const K = KRULE;

/**
 * One `struct rtpe_msg_rule` write for /proc/rtpengine/<table>/control (add or update). No PT filter yet.
 * SRTP rules need `srtp.kernel`: keys of both directions, SSRC slots pre-seeded with `ix` (default: its current indices).
 */
export function encodeKernelRule(rule: ForwardingRule, cmd: "add" | "update" = "add", cookie = 0n, ix?: KernelSrtpIndices): Uint8Array {
  const ks = rule.srtp?.kernel;
  if (rule.rtcpDemux) throw new Error("RTCP demux rules are applied by the shim only");
  if (rule.srtp && !ks) throw new Error("no SRTP keys for the kernel");
  if (ks && rule.payload === "other") throw new Error("SRTP on a rule that is not RTP or RTCP");
  const b = new Uint8Array(KERNEL_RULE_MSG_SIZE);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, KERNEL_MSG_MAGIC, true);
  dv.setUint16(4, KERNEL_UAPI_VERSION, true);
  dv.setUint16(6, KERNEL_CMD[cmd], true);
  dv.setUint32(8, KERNEL_RULE_MSG_SIZE, true);
  const r = 16;
  // the kernel matches by local address, not by socket handle
  encodeAddr(b, r + K.local, rule.local.local.address, rule.local.local.port);
  let flags = rule.payload === "rtp" ? RF_RTP : rule.payload === "rtcp" ? RF_RTCP : 0;
  // SRTCP muxed on an SRTP port is told apart per packet and leaves on the same output
  if (ks && rule.payload === "rtp" && rule.srtp?.mux) flags |= RF_MUX_RTCP;
  if (rule.expectSrc) {
    encodeAddr(b, r + K.expectSrc, rule.expectSrc.address, rule.expectSrc.port);
    flags |= RF_EXPECT_SRC; // mismatches go up to user space, which drops them for `strict source`
  }
  dv.setUint32(r + K.flags, flags, true);
  encodeAddr(b, r + K.outSrc, rule.outSrc.local.address, rule.outSrc.local.port);
  encodeAddr(b, r + K.outDst, rule.outDst.address, rule.outDst.port);
  b[r + K.tos] = rule.tos ?? 0;
  if (ks) {
    const seeds = ix ?? ks.current();
    if (seeds.ssrcs.length > 4) throw new Error(`${seeds.ssrcs.length} SSRCs to seed (at most 4)`);
    encodeKernelSrtp(b, r + K.decrypt, ks.decrypt);
    encodeKernelSrtp(b, r + K.encrypt, ks.encrypt, ks.encrypt ? seeds.rtcpIndex : 0);
    seeds.ssrcs.forEach((s, i) => {
      dv.setUint32(r + K.ssrc + 4 * i, s.ssrc >>> 0, true);
      dv.setUint32(r + K.rocIn + 4 * i, s.rocIn >>> 0, true);
      dv.setUint32(r + K.rocOut + 4 * i, s.rocOut >>> 0, true);
    });
    dv.setUint32(r + K.numSsrc, seeds.ssrcs.length, true);
  }
  dv.setBigUint64(r + K.cookie, cookie, true);
  return b;
}
