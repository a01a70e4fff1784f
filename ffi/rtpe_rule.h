/* rtpe_rule.h - forwarding rules the receive thread applies without entering JS (the shim fast path). */
#ifndef RTPE_RULE_H
#define RTPE_RULE_H

#include <stdint.h>
#include "rtpe_shim.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A rule says: a packet arriving on socket `local` from `expect_src` leaves through socket
 * `output` towards `dst` with TOS `tos`, counted, and never reaches JS. Names follow struct
 * rtpe_rule in kernel-module/rtpengine_uapi.h (local, expect_src, out.dst, out.tos) so one
 * TypeScript rule object can drive either forwarder; the shim names sockets by handle where the
 * kernel uses addresses.
 *
 * Matching, per arriving packet, over the rules of its socket in insertion order:
 *  - expect_src.family 0 matches any sender; otherwise the address must match and, when
 *    expect_src.port is non-zero, the port too.
 *  - the first rule that matches forwards the packet.
 *  - when no rule matches and a rule of the socket has src_mismatch RTPE_MISMATCH_DROP, the packet
 *    is dropped (strict source); otherwise it goes up to JS like any unruled packet.
 * Payloads are forwarded unchanged unless the rule carries SRTP contexts (flags below). */
#define RTPE_RULES_PER_SOCKET 8

#define RTPE_MISMATCH_PROPAGATE 0  /* unmatched packets go to JS */
#define RTPE_MISMATCH_DROP 1       /* unmatched packets are dropped and counted */

/* flags: the classification bits carry the values and meaning of RTPE_RF_* in the kernel's uapi,
 * with one difference: a rule with RTPE_RULE_RTP or RTPE_RULE_RTCP forwards only version-2
 * packets, so STUN and DTLS on the same port always reach JS. */
#define RTPE_RULE_RTP 0x0002u          /* payload is RTP: not RTP (STUN, DTLS...) or a payload type
                                         * outside pt[0..num_pt) goes to JS */
#define RTPE_RULE_RTCP 0x0004u         /* payload is RTCP (a separate RTCP port) */
#define RTPE_RULE_MUX_RTCP 0x0008u     /* with RTP, on an rtcp-mux port: RTCP (RFC 5761, second byte
                                         * 192..223) is told apart from RTP and forwarded as is... */
#define RTPE_RULE_RTCP_DEMUX 0x0010u   /* ...or out of rtcp_output to rtcp_dst instead... */
#define RTPE_RULE_RTCP_TO_USER 0x0020u /* ...or up to JS (this wins over RTCP_DEMUX) */
#define RTPE_RULE_SET_TOS 0x0100u      /* send with `tos` (cmsg) instead of the output socket's */
/* SRTP (ffi/rule_srtp.c; only in a shim built with RTPE_SHIM_WITH=srtp, else rtpe_rule_add says
 * -EOPNOTSUPP). Needs RTP or RTCP: a packet is SRTCP on an RTCP rule or, with MUX_RTCP, when it
 * reads as RTCP; else SRTP. With RTCP_DEMUX the same contexts apply to the SRTCP that leaves out of
 * rtcp_output (one key set per rule); RTCP_TO_USER is refused with SRTP. Names follow the kernel's rtpe_rule.decrypt / rtpe_output.encrypt. */
#define RTPE_RULE_SRTP_DECRYPT 0x0200u /* unprotect arriving packets with `decrypt`; a packet failing
                                         * authentication or replay is dropped, counted in auth_failed */
#define RTPE_RULE_SRTP_ENCRYPT 0x0400u /* protect forwarded packets with `encrypt` (failure: errors) */
#define RTPE_RULE_FLAGS_ALL 0x073eu
#define RTPE_MAX_PT 32

struct rtpe_rule {
	int32_t local;                 /* handle packets arrive on */
	int32_t output;                /* handle packets leave from */
	struct rtpe_addr expect_src;
	struct rtpe_addr dst;
	uint8_t tos;
	uint8_t src_mismatch;
	uint16_t flags;
	uint32_t num_pt;               /* 0 = every payload type, else pt[0..num_pt) (RTP only) */
	uint8_t pt[RTPE_MAX_PT];
	int32_t rtcp_output;           /* RTPE_RULE_RTCP_DEMUX only */
	struct rtpe_addr rtcp_dst;
	/* rtpe_srtp_ctx pointers (ffi/srtp/rtpe_srtp.h) made by this same library's rtpe_srtp_new:
	 * owned by the caller, used only by the thread reading `local` (one context per rule), and
	 * freed only after rtpe_rule_del / a replacing rtpe_rule_add / closing `local` returned. */
	uint64_t decrypt;              /* RTPE_RULE_SRTP_DECRYPT only */
	uint64_t encrypt;              /* RTPE_RULE_SRTP_ENCRYPT only */
};
#define RTPE_RULE_SIZE 128

struct rtpe_rule_stats {
	uint64_t packets;
	uint64_t bytes;
	uint64_t errors;        /* send failures */
	uint64_t last_ns;       /* CLOCK_REALTIME of the last forwarded packet */
	uint64_t mismatch_drops; /* socket-wide: packets dropped by strict source */
	uint64_t auth_failed;   /* SRTP/SRTCP that failed authentication or replay (dropped) */
	uint64_t mux_rtcp_packets; /* MUX_RTCP: of `packets`, those that read as RTCP (forwarded or demuxed) */
	uint64_t mux_rtcp_bytes;
};

/* Add or replace (same local + expect_src) a rule. Returns 0, -ENOSPC when the socket has
 * RTPE_RULES_PER_SOCKET rules, -EBADF for a closed handle. */
int rtpe_rule_add(const struct rtpe_rule *rule);
/* Remove the rule of `local` with this expect_src (NULL = all rules of the socket).
 * Returns the number removed. */
int rtpe_rule_del(int local, const struct rtpe_addr *expect_src);
/* Counters of the rule of `local` with this expect_src. Returns 0 or -ENOENT. */
int rtpe_rule_stats(int local, const struct rtpe_addr *expect_src, struct rtpe_rule_stats *out);

#ifdef __cplusplus
}
#endif

#endif
