/* SPDX-License-Identifier: GPL-2.0 */
/*
 * rtpe.h - internal types and the interfaces between the module's files:
 *   main.c     module init/exit, x_tables targets (IPv4, IPv6)
 *   table.c    tables 0..63, rule hash, rule add/update/delete
 *   proc.c     /proc/rtpengine/...
 *   forward.c  packet match, rewrite and send
 *   rtp.c      RTP/RTCP header parsing, SSRC slots, ROC estimation
 *   srtp.c     SRTP/SRTCP through the kernel crypto API
 */
#ifndef RTPE_H
#define RTPE_H

#include <linux/types.h>
#include <linux/list.h>
#include <linux/rculist.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>
#include <linux/atomic.h>
#include <linux/skbuff.h>
#include "rtpengine_uapi.h"

#define RTPE_NAME		"xt_RTPENGINE"
#define RTPE_HASH_BITS		10
#define RTPE_HASH_SIZE		(1u << RTPE_HASH_BITS)
#define RTPE_MAX_RULES		65536	/* per table */
/* bytes an SRTP/SRTCP packet may grow by on output: tag + MKI + E|index */
#define RTPE_SRTP_GROWTH	(16 + RTPE_MAX_MKI + 4)

struct rtpe_srtp_ctx;
struct net;

struct rtpe_krule {
	struct hlist_node node;
	struct rcu_work free_work;
	struct rtpe_rule r;		/* validated; master keys zeroed after setup */
	struct rtpe_srtp_ctx *dec;	/* NULL: no SRTP on input */
	struct rtpe_srtp_ctx *enc;	/* NULL: no SRTP on output */
	struct dst_cache *dst_cache;	/* route of out.src -> out.dst */
	spinlock_t lock;		/* ssrc[] */
	struct rtpe_ssrc_stats ssrc[RTPE_MAX_SSRC];
	atomic64_t packets, bytes, errors, auth_failed, to_user, last_ms;
	atomic_t rtcp_index;		/* next SRTCP index for output */
};

#define RTPE_CTL_FREE	0
#define RTPE_CTL_HELD	1
#define RTPE_CTL_DYING	(-1)

struct rtpe_table {
	unsigned int id;
	spinlock_t lock;		/* writers of hash[] and nrules */
	unsigned int nrules;
	atomic_t ctl;			/* RTPE_CTL_*: control file holder */
	struct proc_dir_entry *dir;
	struct hlist_head hash[RTPE_HASH_SIZE];
};

/* table.c */
int rtpe_tables_init(void);
void rtpe_tables_exit(void);
int rtpe_table_add(unsigned int id);
int rtpe_table_del(unsigned int id);
struct rtpe_table *rtpe_table_get_rcu(unsigned int id);
int rtpe_table_ids(unsigned long *bitmap);	/* fills RTPE_NUM_TABLES bits */
struct rtpe_krule *rtpe_rule_lookup_rcu(struct rtpe_table *t, const struct rtpe_addr *local);
int rtpe_rule_add(struct rtpe_table *t, const struct rtpe_rule *r, bool update);
int rtpe_rule_del(struct rtpe_table *t, const struct rtpe_addr *local);
void rtpe_rule_flush(struct rtpe_table *t);
/* snapshot of rule i.. under the table lock: fn called per rule, stops on nonzero */
int rtpe_rule_foreach(struct rtpe_table *t, int (*fn)(struct rtpe_krule *k, void *arg), void *arg);
void rtpe_rule_export(struct rtpe_krule *k, struct rtpe_blist_entry *e);
bool rtpe_addr_valid(const struct rtpe_addr *a, bool need_port);

/* proc.c */
int rtpe_proc_init(void);
void rtpe_proc_exit(void);
int rtpe_proc_table_add(struct rtpe_table *t);
void rtpe_proc_table_del(struct rtpe_table *t);

/* forward.c */
unsigned int rtpe_forward(struct sk_buff *skb, struct net *net, unsigned int id, u8 family,
			  unsigned int hook);

/* rtp.c */
struct rtpe_rtp {
	u8 pt;
	u16 seq;
	u32 ssrc;
	unsigned int hdrlen;		/* fixed header + CSRCs + extension */
};
int rtpe_rtp_parse(const u8 *p, unsigned int len, struct rtpe_rtp *out);
bool rtpe_is_rtcp(const u8 *p, unsigned int len);
int rtpe_rtcp_ssrc(const u8 *p, unsigned int len, u32 *ssrc);
/* index estimation (RFC 3711 3.3.1) for slot, returns slot number or -1 */
struct rtpe_idx {
	int slot;
	u32 roc_in, roc_out;		/* estimated ROCs for this packet */
};
void rtpe_ssrc_estimate(struct rtpe_krule *k, u32 ssrc, u16 seq, struct rtpe_idx *ix);
void rtpe_ssrc_commit(struct rtpe_krule *k, u32 ssrc, u16 seq, unsigned int bytes,
		      const struct rtpe_idx *ix);

/* srtp.c */
int rtpe_srtp_validate(const struct rtpe_srtp *p);
struct rtpe_srtp_ctx *rtpe_srtp_new(const struct rtpe_srtp *p);
void rtpe_srtp_free(struct rtpe_srtp_ctx *c);
unsigned int rtpe_srtp_overhead_rtp(const struct rtpe_srtp_ctx *c);
/* return 0, -EBADMSG on authentication failure, other -errno on malformed */
int rtpe_srtp_unprotect_rtp(struct rtpe_srtp_ctx *c, u8 *pkt, unsigned int *len,
			    unsigned int hdrlen, u32 ssrc, u16 seq, u32 roc);
int rtpe_srtp_protect_rtp(struct rtpe_srtp_ctx *c, u8 *pkt, unsigned int *len,
			  unsigned int room, unsigned int hdrlen, u32 ssrc, u16 seq, u32 roc);
int rtpe_srtp_unprotect_rtcp(struct rtpe_srtp_ctx *c, u8 *pkt, unsigned int *len);
int rtpe_srtp_protect_rtcp(struct rtpe_srtp_ctx *c, u8 *pkt, unsigned int *len,
			   unsigned int room, u32 index);
int rtpe_srtp_selftest(void);

#endif /* RTPE_H */
