// The typed seam to librtpe_shim: symbol signatures and struct layouts mirrored from ffi/rtpe_shim.h and ffi/rtpe_rule.h.

/** Must equal RTPE_SHIM_API_VERSION in ffi/rtpe_shim.h; the loader refuses any other library. */
export const SHIM_API_VERSION = 8;

/** Argument/return kinds, mapped to bun:ffi or Deno FFI types by the runtime loaders. */
export type AbiType = "i32" | "u32" | "u16" | "buf" | "fn" | "void";

export interface AbiSymbol {
  readonly args: readonly AbiType[];
  readonly ret: AbiType;
}

/** Every exported C function the TypeScript side calls. "buf" is any TypedArray (or null where C accepts NULL). */
export const SHIM_SYMBOLS = {
  rtpe_api_version: { args: [], ret: "i32" },
  rtpe_socket_open: { args: ["buf", "i32", "i32", "u32"], ret: "i32" },
  rtpe_socket_close: { args: ["i32"], ret: "i32" },
  rtpe_socket_local: { args: ["i32", "buf"], ret: "i32" },
  rtpe_socket_set_tos: { args: ["i32", "i32"], ret: "i32" },
  rtpe_socket_stats: { args: ["i32", "buf"], ret: "i32" },
  rtpe_socket_fd: { args: ["i32"], ret: "i32" },
  rtpe_port_pair: { args: ["buf", "u16", "u16", "u32", "i32", "i32", "u32", "buf"], ret: "i32" },
  rtpe_set_threads: { args: ["i32"], ret: "i32" },
  rtpe_start: { args: ["fn", "u32", "u32"], ret: "i32" },
  rtpe_stop: { args: [], ret: "void" },
  rtpe_stop_begin: { args: [], ret: "i32" },
  rtpe_stop_poll: { args: [], ret: "i32" },
  rtpe_set_ring_limit: { args: ["u32"], ret: "void" },
  rtpe_poll: { args: ["buf", "u32"], ret: "i32" },
  rtpe_send: { args: ["i32", "buf", "buf", "u32"], ret: "i32" },
  rtpe_send_batch: { args: ["buf", "u32"], ret: "i32" },
  rtpe_global_stats: { args: ["buf"], ret: "void" },
  rtpe_sd_notify_to: { args: ["buf", "u32", "buf", "u32"], ret: "i32" },
  rtpe_release_file_pages: { args: [], ret: "i32" },
  rtpe_rule_add: { args: ["buf"], ret: "i32" },
  rtpe_rule_del: { args: ["i32", "buf"], ret: "i32" },
  rtpe_rule_stats: { args: ["i32", "buf", "buf"], ret: "i32" },
  // ffi/rtpe_nft.h: --nftables-chain
  rtpe_nft_setup: { args: ["buf", "u32", "buf", "u32", "u32", "u32", "buf", "u32"], ret: "i32" },
  rtpe_nft_teardown: { args: ["buf", "u32", "buf", "u32", "u32", "buf", "u32"], ret: "i32" },
} as const satisfies Record<string, AbiSymbol>;

type Buf = ArrayBufferView;
/** An opaque function pointer made by ShimBinding.createWakeCallback (null = poll-only). */
export type FnPointer = unknown;

/** The raw C functions, one to one. Negative returns are -errno. */
export interface ShimRaw {
  rtpe_api_version(): number;
  rtpe_socket_open(local: Buf, tos: number, rcvbuf: number, flags: number): number;
  rtpe_socket_close(handle: number): number;
  rtpe_socket_local(handle: number, out: Buf): number;
  rtpe_socket_set_tos(handle: number, tos: number): number;
  rtpe_socket_stats(handle: number, out: Buf): number;
  rtpe_socket_fd(handle: number): number;
  rtpe_port_pair(
    local: Buf, min: number, max: number, seed: number, tos: number, rcvbuf: number, flags: number, out: Buf,
  ): number;
  rtpe_set_threads(n: number): number;
  rtpe_start(wake: FnPointer, ringBytes: number, flags: number): number;
  rtpe_stop(): void;
  rtpe_stop_begin(): number;
  rtpe_stop_poll(): number;
  rtpe_set_ring_limit(bytes: number): void;
  rtpe_poll(buf: Buf, len: number): number;
  rtpe_send(handle: number, dst: Buf, data: Buf | null, len: number): number;
  rtpe_send_batch(buf: Buf, len: number): number;
  rtpe_global_stats(out: Buf): void;
  rtpe_sd_notify_to(path: Buf, pathLen: number, state: Buf, stateLen: number): number;
  rtpe_release_file_pages(): number;
  rtpe_rule_add(rule: Buf): number;
  rtpe_rule_del(local: number, expectedSrc: Buf | null): number;
  rtpe_rule_stats(local: number, expectedSrc: Buf, out: Buf): number;
  rtpe_nft_setup(
    chain: Buf, chainLen: number, base: Buf, baseLen: number, tableId: number, flags: number, err: Buf, errLen: number,
  ): number;
  rtpe_nft_teardown(chain: Buf, chainLen: number, base: Buf, baseLen: number, flags: number, err: Buf, errLen: number): number;
}

/** A wake callback callable from the shim's receive thread; close() frees it (after rtpe_stop). */
export interface WakeCallback {
  readonly pointer: FnPointer;
  close(): void;
}

/** A loaded library, whichever runtime loaded it. */
export interface ShimBinding {
  readonly runtime: "bun" | "deno";
  /** where the library was loaded from (a temp copy is already unlinked) */
  readonly path: string;
  readonly raw: ShimRaw;
  createWakeCallback(fn: () => void): WakeCallback;
  close(): void;
}

// struct rtpe_addr (same layout as kernel-module/rtpengine_uapi.h): family u16 (AF_*), port u16 host order, addr[16]
export const ADDR_SIZE = 20;
export const AF_INET = 2;
export const AF_INET6 = 10;
// struct rtpe_rx_hdr
export const RX_HDR_SIZE = 64;
export const RX = { recLen: 0, handle: 4, tsNs: 8, src: 16, dst: 36, len: 56, tos: 60 } as const;
// struct rtpe_tx_hdr
export const TX_HDR_SIZE = 32;
export const TX = { recLen: 0, handle: 4, dst: 8, len: 28 } as const;
// struct rtpe_rule (ffi/rtpe_rule.h)
export const RULE_SIZE = 128;
export const RULE = {
  local: 0, output: 4, expectedSrc: 8, dstAddr: 28, tos: 48, srcMismatch: 49, flags: 50,
  numPt: 52, pt: 56, rtcpOutput: 88, rtcpDst: 92,
  /** u64 rtpe_srtp_ctx pointers (ffi/rule_srtp.c) */
  decrypt: 112, encrypt: 120,
} as const;
/** rule flags; the classification bits equal the kernel's RTPE_RF_* values */
export const RULE_RTP = 0x0002;
export const RULE_RTCP = 0x0004;
export const RULE_MUX_RTCP = 0x0008;
export const RULE_RTCP_DEMUX = 0x0010;
export const RULE_RTCP_TO_USER = 0x0020;
export const RULE_SET_TOS = 0x0100;
/** SRTP in the shim's rules (ffi/rule_srtp.c): unprotect arriving, protect leaving */
export const RULE_SRTP_DECRYPT = 0x0200;
export const RULE_SRTP_ENCRYPT = 0x0400;
export const RULE_MAX_PT = 32;
export const MISMATCH_PROPAGATE = 0;
export const MISMATCH_DROP = 1;
/** u64 counts in struct rtpe_sock_stats, rtpe_global_stats, rtpe_rule_stats */
export const SOCK_STATS_WORDS = 8;
export const GLOBAL_STATS_WORDS = 11;
export const RULE_STATS_WORDS = 8;
export const SOCK_REUSEADDR = 0x1;
/** report each packet's TOS / traffic class in RxPacket.tos (tests); otherwise it is 0 */
export const SOCK_RECV_TOS = 0x2;
/** rtpe_start: call the wake callback from a thread of its own */
export const START_WAKER_THREAD = 0x1;
export const MAX_DATAGRAM = 65535;
export const MAX_RX_THREADS = 16;
