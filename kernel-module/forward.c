// SPDX-License-Identifier: GPL-2.0
/*
 * forward.c - the packet path: parse the incoming UDP datagram, find its
 * rule, copy the payload into a fresh skb, run SRTP, put new UDP/IP
 * headers on it and send it from the rule's local address.
 *
 * The original skb is never modified: a packet we do not take continues
 * (XT_CONTINUE) exactly as it arrived. All payload processing happens on
 * the private linear copy, with its length passed to every parser.
 */
#include <linux/kernel.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <linux/ktime.h>
#include <linux/netfilter.h>
#include <linux/netfilter_ipv4.h>
#include <linux/netfilter_ipv6.h>
#include <linux/netfilter/x_tables.h>
#include <net/ip.h>
#include <net/ipv6.h>
#include <net/ip6_route.h>
#include <net/route.h>
#include <net/dst.h>
#include <net/dst_cache.h>
#include <net/checksum.h>
#include <net/ip6_checksum.h>
#include "rtpe.h"

struct rtpe_pkt {
	struct rtpe_addr src, dst;	/* as in the packet */
	unsigned int off;		/* UDP payload offset from skb->data */
	unsigned int len;		/* UDP payload length */
	unsigned int thoff;		/* UDP header offset from skb->data */
	bool zero_csum;			/* IPv4 UDP without checksum */
};

/* ---- parsing the incoming datagram --------------------------------------- */

static int rtpe_parse_udp(struct sk_buff *skb, unsigned int thoff, struct rtpe_pkt *p)
{
	struct udphdr _uh;
	const struct udphdr *uh;
	unsigned int ulen;

	uh = skb_header_pointer(skb, thoff, sizeof(_uh), &_uh);
	if (!uh)
		return -EINVAL;
	ulen = ntohs(uh->len);
	if (ulen < sizeof(*uh) || ulen > skb->len - thoff)
		return -EINVAL;
	p->thoff = thoff;
	p->off = thoff + sizeof(*uh);
	p->len = ulen - sizeof(*uh);
	p->src.port = ntohs(uh->source);
	p->dst.port = ntohs(uh->dest);
	p->zero_csum = uh->check == 0;
	return 0;
}

static int rtpe_parse4(struct sk_buff *skb, struct rtpe_pkt *p)
{
	const struct iphdr *iph = ip_hdr(skb);
	int noff = skb_network_offset(skb);

	if (noff < 0 || iph->protocol != IPPROTO_UDP || ip_is_fragment(iph))
		return -EINVAL;
	memset(p, 0, sizeof(*p));
	p->src.family = p->dst.family = RTPE_AF_INET;
	memcpy(p->src.addr, &iph->saddr, 4);
	memcpy(p->dst.addr, &iph->daddr, 4);
	return rtpe_parse_udp(skb, noff + ip_hdrlen(skb), p);
}

static int rtpe_parse6(struct sk_buff *skb, struct rtpe_pkt *p)
{
	const struct ipv6hdr *ip6 = ipv6_hdr(skb);
	int noff = skb_network_offset(skb);

	/* extension headers (incl. fragments) are left to the stack */
	if (noff < 0 || ip6->nexthdr != IPPROTO_UDP)
		return -EINVAL;
	memset(p, 0, sizeof(*p));
	p->src.family = p->dst.family = RTPE_AF_INET6;
	memcpy(p->src.addr, &ip6->saddr, 16);
	memcpy(p->dst.addr, &ip6->daddr, 16);
	return rtpe_parse_udp(skb, noff + sizeof(*ip6), p);
}

static bool rtpe_csum_ok(struct sk_buff *skb, u8 family, unsigned int hook, const struct rtpe_pkt *p)
{
	if (family == NFPROTO_IPV4)
		return p->zero_csum || !nf_ip_checksum(skb, hook, p->thoff, IPPROTO_UDP);
	return !nf_ip6_checksum(skb, hook, p->thoff, IPPROTO_UDP);
}

static bool rtpe_src_ok(const struct rtpe_rule *r, const struct rtpe_pkt *p)
{
	const struct rtpe_addr *e = &r->expect_src;

	if (!(r->flags & RTPE_RF_EXPECT_SRC))
		return true;
	if (e->family != p->src.family || memcmp(e->addr, p->src.addr, sizeof(e->addr)))
		return false;
	return e->port == 0 || e->port == p->src.port;
}

/* ---- sending ------------------------------------------------------------- */

/*
 * Output route cache per rule (WireGuard keeps one per peer the same way).
 * dst_cache wants BH off; the hooks we run in normally have it off already.
 */
static struct rtable *rtpe_dst_cache_get4(struct dst_cache *c, __be32 saddr)
{
	struct rtable *rt;
	__be32 cached;

	local_bh_disable();
	rt = dst_cache_get_ip4(c, &cached);
	local_bh_enable();
	if (rt && cached != saddr) {
		ip_rt_put(rt);
		rt = NULL;
	}
	return rt;
}

static void rtpe_dst_cache_set4(struct dst_cache *c, struct dst_entry *d, __be32 saddr)
{
	local_bh_disable();
	dst_cache_set_ip4(c, d, saddr);
	local_bh_enable();
}

static struct dst_entry *rtpe_dst_cache_get6(struct dst_cache *c, const struct in6_addr *saddr)
{
	struct dst_entry *d;
	struct in6_addr cached;

	local_bh_disable();
	d = dst_cache_get_ip6(c, &cached);
	local_bh_enable();
	if (d && !ipv6_addr_equal(&cached, saddr)) {
		dst_release(d);
		d = NULL;
	}
	return d;
}

static void rtpe_dst_cache_set6(struct dst_cache *c, struct dst_entry *d, const struct in6_addr *saddr)
{
	local_bh_disable();
	dst_cache_set_ip6(c, d, saddr);
	local_bh_enable();
}

#define RTPE_HEADROOM (MAX_HEADER + sizeof(struct ipv6hdr) + sizeof(struct udphdr))

static struct udphdr *rtpe_push_udp(struct sk_buff *skb, const struct rtpe_addr *src,
				    const struct rtpe_addr *dst)
{
	unsigned int ulen = skb->len + sizeof(struct udphdr);
	struct udphdr *uh = skb_push(skb, sizeof(*uh));

	skb_reset_transport_header(skb);
	uh->source = htons(src->port);
	uh->dest = htons(dst->port);
	uh->len = htons(ulen);
	uh->check = 0;
	skb->csum = csum_partial(uh, ulen, 0);
	skb->ip_summed = CHECKSUM_NONE;
	return uh;
}

static int rtpe_send4(struct net *net, struct sk_buff *skb, const struct rtpe_addr *src,
		      const struct rtpe_addr *dst, u8 tos, struct dst_cache *cache)
{
	struct flowi4 fl4;
	struct rtable *rt;
	struct udphdr *uh;
	struct iphdr *iph;
	__be32 saddr, daddr;
	unsigned int ulen;
	int err;

	memcpy(&saddr, src->addr, 4);
	memcpy(&daddr, dst->addr, 4);
	memset(&fl4, 0, sizeof(fl4));
	fl4.daddr = daddr;
	fl4.saddr = saddr;
	fl4.flowi4_proto = IPPROTO_UDP;
	fl4.flowi4_flags = FLOWI_FLAG_ANYSRC;
	fl4.fl4_sport = htons(src->port);
	fl4.fl4_dport = htons(dst->port);
	rt = cache ? rtpe_dst_cache_get4(cache, saddr) : NULL;
	if (!rt) {
		rt = ip_route_output_key(net, &fl4);
		if (IS_ERR(rt)) {
			kfree_skb(skb);
			return PTR_ERR(rt);
		}
		if (cache)
			rtpe_dst_cache_set4(cache, &rt->dst, saddr);
	}
	skb_dst_set(skb, &rt->dst);

	uh = rtpe_push_udp(skb, src, dst);
	ulen = ntohs(uh->len);
	uh->check = csum_tcpudp_magic(saddr, daddr, ulen, IPPROTO_UDP, skb->csum);
	if (!uh->check)
		uh->check = CSUM_MANGLED_0;

	iph = skb_push(skb, sizeof(*iph));
	skb_reset_network_header(skb);
	iph->version = 4;
	iph->ihl = sizeof(*iph) / 4;
	iph->tos = tos;
	iph->tot_len = htons(skb->len);
	iph->frag_off = 0;
	iph->ttl = ip4_dst_hoplimit(&rt->dst);
	iph->protocol = IPPROTO_UDP;
	iph->saddr = saddr;
	iph->daddr = daddr;
	ip_select_ident(net, skb, NULL);
	skb->protocol = htons(ETH_P_IP);
	err = ip_local_out(net, NULL, skb);	/* net_xmit_eval() evaluates twice */
	return net_xmit_eval(err);
}

static int rtpe_send6(struct net *net, struct sk_buff *skb, const struct rtpe_addr *src,
		      const struct rtpe_addr *dst, u8 tos, struct dst_cache *cache)
{
	struct flowi6 fl6;
	struct dst_entry *dst_e;
	struct udphdr *uh;
	struct ipv6hdr *ip6;
	unsigned int ulen;
	int err;

	memset(&fl6, 0, sizeof(fl6));
	memcpy(&fl6.daddr, dst->addr, 16);
	memcpy(&fl6.saddr, src->addr, 16);
	fl6.flowi6_proto = IPPROTO_UDP;
	fl6.fl6_sport = htons(src->port);
	fl6.fl6_dport = htons(dst->port);
	dst_e = cache ? rtpe_dst_cache_get6(cache, &fl6.saddr) : NULL;
	if (!dst_e) {
		dst_e = ip6_route_output(net, NULL, &fl6);
		if (dst_e->error) {
			err = dst_e->error;
			dst_release(dst_e);
			kfree_skb(skb);
			return err;
		}
		if (cache)
			rtpe_dst_cache_set6(cache, dst_e, &fl6.saddr);
	}
	skb_dst_set(skb, dst_e);

	uh = rtpe_push_udp(skb, src, dst);
	ulen = ntohs(uh->len);
	uh->check = csum_ipv6_magic(&fl6.saddr, &fl6.daddr, ulen, IPPROTO_UDP, skb->csum);
	if (!uh->check)
		uh->check = CSUM_MANGLED_0;

	ip6 = skb_push(skb, sizeof(*ip6));
	skb_reset_network_header(skb);
	ip6_flow_hdr(ip6, tos, 0);
	ip6->payload_len = htons(ulen);
	ip6->nexthdr = IPPROTO_UDP;
	ip6->hop_limit = ip6_dst_hoplimit(dst_e);
	ip6->saddr = fl6.saddr;
	ip6->daddr = fl6.daddr;
	skb->protocol = htons(ETH_P_IPV6);
	skb->ignore_df = 1;	/* no socket to report PMTU to: fragment if needed */
	err = ip6_local_out(net, NULL, skb);
	return net_xmit_eval(err);
}

/* ---- the rule's action ----------------------------------------------------- */

enum rtpe_verdict { RTPE_SENT, RTPE_TO_USER, RTPE_DROP_ERR, RTPE_DROP_AUTH };

static bool rtpe_pt_allowed(const struct rtpe_rule *r, u8 pt)
{
	unsigned int i;

	if (!r->num_pt)
		return true;
	for (i = 0; i < r->num_pt && i < RTPE_MAX_PT; i++)
		if (r->pt[i] == pt)
			return true;
	return false;
}

/* set the skb's length to n after the payload was rewritten in place */
static void rtpe_set_len(struct sk_buff *skb, unsigned int n)
{
	if (n < skb->len)
		skb_trim(skb, n);
	else if (n > skb->len)
		skb_put(skb, n - skb->len);
}

static enum rtpe_verdict rtpe_process(struct net *net, struct sk_buff *skb, struct rtpe_krule *k,
				      const struct rtpe_pkt *p)
{
	const struct rtpe_rule *r = &k->r;
	const struct rtpe_addr *src = &r->out.src, *dst = &r->out.dst;
	struct sk_buff *nskb;
	struct rtpe_rtp rtp;
	struct rtpe_idx ix;
	bool rtcp = false, is_rtp = false;
	struct dst_cache *cache;
	unsigned int n = p->len, room;
	u8 *d;
	int err;

	if (n + sizeof(struct udphdr) + RTPE_SRTP_GROWTH > 0xffff)
		return RTPE_TO_USER;
	nskb = alloc_skb(RTPE_HEADROOM + n + RTPE_SRTP_GROWTH, GFP_ATOMIC);
	if (!nskb)
		return RTPE_DROP_ERR;
	skb_reserve(nskb, RTPE_HEADROOM);
	d = skb_put(nskb, n);
	if (skb_copy_bits(skb, p->off, d, n))
		goto drop_err;
	room = n + RTPE_SRTP_GROWTH;	/* == tailroom + n, checked by the SRTP code */

	/* classify */
	if (r->flags & RTPE_RF_RTCP) {
		rtcp = true;
	} else if ((r->flags & RTPE_RF_MUX_RTCP) && rtpe_is_rtcp(d, n)) {
		if (r->flags & RTPE_RF_RTCP_TO_USER)
			goto to_user;
		rtcp = true;
		if (r->flags & RTPE_RF_RTCP_DEMUX) {
			src = &r->rtcp_src;
			dst = &r->rtcp_dst;
		}
	} else if (r->flags & RTPE_RF_RTP) {
		if (rtpe_rtp_parse(d, n, &rtp) || !rtpe_pt_allowed(r, rtp.pt))
			goto to_user;	/* STUN, DTLS, unknown payload type... */
		is_rtp = true;
	}

	if (rtcp && (k->dec || k->enc)) {
		u32 ssrc;

		if (rtpe_rtcp_ssrc(d, n, &ssrc))
			goto to_user;
		if (k->dec) {
			err = rtpe_srtp_unprotect_rtcp(k->dec, d, &n);
			if (err == -EBADMSG)
				goto drop_auth;
			if (err)
				goto drop_err;
		}
		if (k->enc) {
			u32 idx = (u32)atomic_inc_return(&k->rtcp_index) - 1;

			err = rtpe_srtp_protect_rtcp(k->enc, d, &n, room, idx & 0x7fffffff);
			if (err)
				goto drop_err;
		}
		rtpe_set_len(nskb, n);
	}

	if (is_rtp) {
		rtpe_ssrc_estimate(k, rtp.ssrc, rtp.seq, &ix);
		if (k->dec) {
			err = rtpe_srtp_unprotect_rtp(k->dec, d, &n, rtp.hdrlen, rtp.ssrc, rtp.seq,
						      ix.roc_in);
			if (err == -EBADMSG)
				goto drop_auth;
			if (err)
				goto drop_err;
		}
		if (k->enc) {
			err = rtpe_srtp_protect_rtp(k->enc, d, &n, room, rtp.hdrlen, rtp.ssrc,
						    rtp.seq, ix.roc_out);
			if (err)
				goto drop_err;
		}
		rtpe_set_len(nskb, n);
		rtpe_ssrc_commit(k, rtp.ssrc, rtp.seq, p->len, &ix);
	}

	/* the rule's main output caches its route; demuxed RTCP looks it up */
	cache = dst == &r->out.dst ? k->dst_cache : NULL;
	if (dst->family == RTPE_AF_INET)
		err = rtpe_send4(net, nskb, src, dst, r->out.tos, cache);
	else
		err = rtpe_send6(net, nskb, src, dst, r->out.tos, cache);
	return err ? RTPE_DROP_ERR : RTPE_SENT;

to_user:
	kfree_skb(nskb);
	return RTPE_TO_USER;
drop_auth:
	kfree_skb(nskb);
	return RTPE_DROP_AUTH;
drop_err:
	kfree_skb(nskb);
	return RTPE_DROP_ERR;
}

unsigned int rtpe_forward(struct sk_buff *skb, struct net *net, unsigned int id, u8 family,
			  unsigned int hook)
{
	struct rtpe_pkt p;
	struct rtpe_table *t;
	struct rtpe_krule *k;
	unsigned int ret = XT_CONTINUE;

	if (family == NFPROTO_IPV4 ? rtpe_parse4(skb, &p) : rtpe_parse6(skb, &p))
		return XT_CONTINUE;

	rcu_read_lock();
	t = rtpe_table_get_rcu(id);
	if (!t)
		goto out;
	k = rtpe_rule_lookup_rcu(t, &p.dst);
	if (!k)
		goto out;
	if (!rtpe_src_ok(&k->r, &p)) {
		atomic64_inc(&k->to_user);
		goto out;
	}
	if (!rtpe_csum_ok(skb, family, hook, &p)) {
		atomic64_inc(&k->errors);	/* the stack will drop it */
		goto out;
	}
	switch (rtpe_process(net, skb, k, &p)) {
	case RTPE_SENT:
		atomic64_inc(&k->packets);
		atomic64_add(p.len, &k->bytes);
		atomic64_set(&k->last_ms, ktime_to_ms(ktime_get_real()));
		consume_skb(skb);
		ret = NF_STOLEN;
		break;
	case RTPE_TO_USER:
		atomic64_inc(&k->to_user);
		break;
	case RTPE_DROP_AUTH:
		atomic64_inc(&k->auth_failed);
		ret = NF_DROP;
		break;
	case RTPE_DROP_ERR:
		atomic64_inc(&k->errors);
		ret = NF_DROP;
		break;
	}
out:
	rcu_read_unlock();
	return ret;
}
