/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * rtpengine_uapi.h - the only contract between xt_RTPENGINE and user space.
 *
 * Used unchanged by the kernel module, the iptables plugin, the C shim's
 * userspace fast path (ffi/) and mirrored by the daemon (src/kernel/).
 * See kernel-module/README.md for the prose description.
 *
 * Conventions (binding for every struct below):
 *  - integers are in host byte order (little-endian on amd64), EXCEPT
 *    IP address bytes, which are in network order as in struct in_addr /
 *    struct in6_addr;
 *  - ports are host byte order;
 *  - every struct has explicit padding, no implicit holes, and a size that
 *    is checked at compile time; reserved/padding bytes must be zero;
 *  - one write(2) to /proc/rtpengine/<N>/control carries exactly one
 *    message; its length must equal hdr.len.
 */
#ifndef RTPENGINE_UAPI_H
#define RTPENGINE_UAPI_H

#ifdef __KERNEL__
#include <linux/types.h>
#else
#include <linux/types.h>
#include <stddef.h>
#endif

#define RTPE_UAPI_VERSION	1
#define RTPE_MSG_MAGIC		0x45505452u	/* "RTPE" little-endian */

#define RTPE_NUM_TABLES		64	/* table ids 0..63 */
#define RTPE_MAX_PT		32	/* payload types in the filter list */
#define RTPE_MAX_SSRC		4	/* per-rule SSRC slots */
#define RTPE_MAX_KEY		32	/* master key bytes */
#define RTPE_MAX_SALT		14	/* master salt bytes */
#define RTPE_MAX_MKI		4	/* MKI bytes */

/* ------------------------------------------------------------------ */
/* iptables target info: -j RTPENGINE --id N                           */

struct xt_rtpengine_info {
	__u32 id;			/* table, 0..RTPE_NUM_TABLES-1 */
};

/* ------------------------------------------------------------------ */
/* Addresses                                                           */

#define RTPE_AF_NONE	0
#define RTPE_AF_INET	2	/* == AF_INET on Linux */
#define RTPE_AF_INET6	10	/* == AF_INET6 on Linux */

struct rtpe_addr {
	__u16 family;			/* RTPE_AF_* */
	__u16 port;			/* host byte order */
	__u8 addr[16];			/* network order; IPv4 uses addr[0..3], rest 0 */
};					/* 20 bytes */

/* ------------------------------------------------------------------ */
/* SRTP parameters (one direction)                                     */

enum rtpe_cipher {
	RTPE_CIPHER_NONE	= 0,	/* plain RTP: no SRTP processing at all */
	RTPE_CIPHER_NULL	= 1,	/* SRTP with NULL cipher (auth only) */
	RTPE_CIPHER_AES_CM_128	= 2,
	RTPE_CIPHER_AES_CM_192	= 3,
	RTPE_CIPHER_AES_CM_256	= 4,
	RTPE_CIPHER_AES_F8_128	= 5,
	RTPE_CIPHER_AES_GCM_128	= 6,	/* RFC 7714, AEAD, 16-byte tag */
	RTPE_CIPHER_AES_GCM_256	= 7,
	RTPE_CIPHER_MAX		= 7,
};

enum rtpe_auth {
	RTPE_AUTH_NONE		= 0,	/* required for GCM (tag is implicit) */
	RTPE_AUTH_HMAC_SHA1	= 1,	/* tag length from rtp_tag_len/rtcp_tag_len */
	RTPE_AUTH_MAX		= 1,
};

/* rtpe_srtp.flags */
#define RTPE_SRTP_UNENCRYPTED_SRTP	0x01	/* RFC 4568 UNENCRYPTED_SRTP */
#define RTPE_SRTP_UNENCRYPTED_SRTCP	0x02
#define RTPE_SRTP_UNAUTHENTICATED_SRTP	0x04

struct rtpe_srtp {
	__u8 cipher;			/* enum rtpe_cipher */
	__u8 auth;			/* enum rtpe_auth */
	__u8 rtp_tag_len;		/* HMAC-SHA1: 10 (80 bit) or 4 (32 bit) */
	__u8 rtcp_tag_len;		/* HMAC-SHA1: normally 10 */
	__u8 key_len;			/* 16, 24 or 32; must match the cipher */
	__u8 salt_len;			/* 14 (CM, F8, NULL) or 12 (GCM) */
	__u8 mki_len;			/* 0..RTPE_MAX_MKI */
	__u8 flags;			/* RTPE_SRTP_* */
	__u8 mki[RTPE_MAX_MKI];
	__u32 rtcp_index;		/* encrypt: next SRTCP index (31 bit) */
	__u8 master_key[RTPE_MAX_KEY];
	__u8 master_salt[RTPE_MAX_SALT];
	__u8 _pad[2];
};					/* 64 bytes */

/* ------------------------------------------------------------------ */
/* Forwarding rule                                                     */

/* rtpe_rule.flags */
#define RTPE_RF_EXPECT_SRC	0x0001	/* only forward if source == expect_src */
#define RTPE_RF_RTP		0x0002	/* payload is RTP: PT filter, SSRC stats, SRTP */
#define RTPE_RF_RTCP		0x0004	/* payload is RTCP: SRTCP */
#define RTPE_RF_MUX_RTCP	0x0008	/* RTP rule on an rtcp-mux port: RTCP packets
					 * (RFC 5761 PT 64..95) are handled as RTCP */
#define RTPE_RF_RTCP_DEMUX	0x0010	/* ...and sent via rtcp_src -> rtcp_dst */
#define RTPE_RF_RTCP_TO_USER	0x0020	/* ...or left to user space (XT_CONTINUE) */
#define RTPE_RF_ALL		0x003f

struct rtpe_output {
	struct rtpe_addr src;		/* local address+port the packet is sent from */
	struct rtpe_addr dst;		/* destination */
	__u8 tos;			/* IPv4 TOS / IPv6 traffic class */
	__u8 _pad[7];
	struct rtpe_srtp encrypt;	/* SRTP/SRTCP applied on output */
};					/* 112 bytes */

struct rtpe_rule {
	struct rtpe_addr local;		/* match: destination of the incoming packet */
	struct rtpe_addr expect_src;	/* match: source, if RTPE_RF_EXPECT_SRC;
					 * port 0 = any port */
	__u32 flags;			/* RTPE_RF_* */
	__u32 num_pt;			/* 0 = no filter, else pt[0..num_pt-1] */
	__u8 pt[RTPE_MAX_PT];		/* payload types forwarded; others go to user */
	struct rtpe_srtp decrypt;	/* SRTP/SRTCP removed on input */
	struct rtpe_output out;
	struct rtpe_addr rtcp_src;	/* RTPE_RF_RTCP_DEMUX only */
	struct rtpe_addr rtcp_dst;
	__u32 ssrc[RTPE_MAX_SSRC];	/* pre-seeded SSRC slots (see num_ssrc) */
	__u32 roc_in[RTPE_MAX_SSRC];	/* initial decrypt ROC per slot */
	__u32 roc_out[RTPE_MAX_SSRC];	/* initial encrypt ROC per slot */
	__u32 num_ssrc;			/* pre-seeded slots, 0..RTPE_MAX_SSRC */
	__u32 _pad;
	__u64 cookie;			/* opaque to the kernel, echoed in blist */
};					/* 360 bytes */

/* ------------------------------------------------------------------ */
/* Messages written to /proc/rtpengine/<N>/control                     */

enum rtpe_cmd {
	RTPE_CMD_ADD	= 1,	/* struct rtpe_msg_rule; EEXIST if local is taken */
	RTPE_CMD_UPDATE	= 2,	/* struct rtpe_msg_rule; ENOENT if missing; keeps
				 * counters and SSRC state (ROC) of matching SSRCs */
	RTPE_CMD_DEL	= 3,	/* struct rtpe_msg_del; ENOENT if missing */
	RTPE_CMD_FLUSH	= 4,	/* struct rtpe_msg_hdr only: delete all rules */
};

struct rtpe_msg_hdr {
	__u32 magic;			/* RTPE_MSG_MAGIC */
	__u16 version;			/* RTPE_UAPI_VERSION */
	__u16 cmd;			/* enum rtpe_cmd */
	__u32 len;			/* whole message incl. this header */
	__u32 _reserved;		/* 0 */
};					/* 16 bytes */

struct rtpe_msg_rule {
	struct rtpe_msg_hdr hdr;
	struct rtpe_rule rule;
};					/* 376 bytes */

struct rtpe_msg_del {
	struct rtpe_msg_hdr hdr;
	struct rtpe_addr local;
	__u32 _pad;
};					/* 40 bytes */

/* ------------------------------------------------------------------ */
/* Records read from /proc/rtpengine/<N>/blist (a sequence of these)   */

#define RTPE_SSRC_USED		0x1

struct rtpe_ssrc_stats {
	__u32 ssrc;
	__u32 flags;			/* RTPE_SSRC_USED */
	__u64 packets;
	__u64 bytes;
	__u32 last_seq;			/* highest RTP sequence number seen (16 bit) */
	__u32 roc_in;			/* current decrypt ROC */
	__u32 roc_out;			/* current encrypt ROC */
	__u32 _pad;
};					/* 40 bytes */

struct rtpe_stats {
	__u64 packets;			/* forwarded */
	__u64 bytes;			/* forwarded, UDP payload bytes as received */
	__u64 errors;			/* malformed, send or crypto errors (dropped) */
	__u64 auth_failed;		/* SRTP/SRTCP authentication failures (dropped) */
	__u64 to_user;			/* matched but left to user space (XT_CONTINUE) */
	__u64 last_ms;			/* wall clock (ms since epoch) of last packet, 0 = never */
};					/* 48 bytes */

struct rtpe_blist_entry {
	struct rtpe_rule rule;		/* as installed; master keys/salts zeroed */
	struct rtpe_stats stats;
	struct rtpe_ssrc_stats ssrc[RTPE_MAX_SSRC];
};					/* 568 bytes */

/* ------------------------------------------------------------------ */

#define RTPE_UAPI_ASSERT(c, m) _Static_assert(c, m)
RTPE_UAPI_ASSERT(sizeof(struct xt_rtpengine_info) == 4, "xt_rtpengine_info");
RTPE_UAPI_ASSERT(sizeof(struct rtpe_addr) == 20, "rtpe_addr");
RTPE_UAPI_ASSERT(sizeof(struct rtpe_srtp) == 64, "rtpe_srtp");
RTPE_UAPI_ASSERT(sizeof(struct rtpe_output) == 112, "rtpe_output");
RTPE_UAPI_ASSERT(sizeof(struct rtpe_rule) == 360, "rtpe_rule");
RTPE_UAPI_ASSERT(sizeof(struct rtpe_msg_hdr) == 16, "rtpe_msg_hdr");
RTPE_UAPI_ASSERT(sizeof(struct rtpe_msg_rule) == 376, "rtpe_msg_rule");
RTPE_UAPI_ASSERT(sizeof(struct rtpe_msg_del) == 40, "rtpe_msg_del");
RTPE_UAPI_ASSERT(sizeof(struct rtpe_ssrc_stats) == 40, "rtpe_ssrc_stats");
RTPE_UAPI_ASSERT(sizeof(struct rtpe_stats) == 48, "rtpe_stats");
RTPE_UAPI_ASSERT(sizeof(struct rtpe_blist_entry) == 568, "rtpe_blist_entry");

#endif /* RTPENGINE_UAPI_H */
