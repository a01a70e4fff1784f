/* rule.c - forwarding rules: per-socket table the receive thread consults before queueing to JS. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "internal.h"
#include "rule_srtp.h"

static int same_src(const struct rtpe_addr *a, const struct rtpe_addr *b)
{
	if (a->family == 0 || b->family == 0)
		return a->family == b->family;
	return shim_addr_equal(a, b, 1);
}

struct shim_rule *rule_match(struct shim_sock *s, const struct rtpe_addr *src, int *drop)
{
	int strict = 0;

	for (int i = 0; i < s->nrules; i++) {
		struct shim_rule *r = sock_rule(s, i);
		const struct rtpe_addr *es = &r->r.expect_src;

		if (r->r.src_mismatch == RTPE_MISMATCH_DROP)
			strict = 1;
		if (es->family == 0 || shim_addr_equal(es, src, es->port != 0))
			return r;
	}
	*drop = strict;
	return NULL;
}

/* RFC 5761 section 4: on a muxed port RTCP packet types 192..223 read as 64..95 here */
static int is_rtcp(const uint8_t *d, uint32_t n)
{
	uint8_t pt;

	if (n < 8 || (d[0] >> 6) != 2)
		return 0;
	pt = d[1] & 0x7f;
	return pt >= 64 && pt <= 95;
}

/* A well-formed RTP header (fixed part, CSRCs, extension) with an allowed payload type. */
static int rtp_ok(const struct rtpe_rule *r, const uint8_t *d, uint32_t n)
{
	uint32_t hl;

	if (n < 12 || (d[0] >> 6) != 2)
		return 0;
	hl = 12u + 4u * (d[0] & 0x0fu);
	if (hl > n)
		return 0;
	if (d[0] & 0x10) {
		if (hl + 4u > n)
			return 0;
		hl += 4u + 4u * (((uint32_t)d[hl + 2] << 8) | d[hl + 3]);
		if (hl > n)
			return 0;
	}
	if (r->num_pt == 0)
		return 1;
	for (uint32_t i = 0; i < r->num_pt && i < RTPE_MAX_PT; i++)
		if (r->pt[i] == (d[1] & 0x7f))
			return 1;
	return 0;
}

/* Counts the muxed RTCP it accepts (a subset of the rule's packets/bytes, which the caller adds): the
 * control plane credits those to the RTCP stream, as the slow path does. */
int rule_accepts(struct shim_rule *sr, const uint8_t *d, uint32_t n, int *rtcp_demux)
{
	const struct rtpe_rule *r = &sr->r;

	*rtcp_demux = 0;
	if (r->flags & RTPE_RULE_RTCP)
		return n >= 8 && (d[0] >> 6) == 2;
	if ((r->flags & RTPE_RULE_MUX_RTCP) && is_rtcp(d, n)) {
		if (r->flags & RTPE_RULE_RTCP_TO_USER)
			return 0;
		*rtcp_demux = (r->flags & RTPE_RULE_RTCP_DEMUX) != 0;
		CNT_ADD(sr->mux_rtcp_packets, 1);
		CNT_ADD(sr->mux_rtcp_bytes, n);
		return 1;
	}
	if (r->flags & RTPE_RULE_RTP)
		return rtp_ok(r, d, n);
	return 1;
}

/* Generation and family of an open output socket, one slot lock at a time like the receive thread. */
static int output_info(int handle, uint32_t *gen, uint16_t *family)
{
	struct shim_sock *out = shim_sock_lock(handle);

	if (!out)
		return -EBADF;
	*gen = out->gen;
	*family = out->local.family;
	shim_sock_unlock(out);
	return 0;
}

/* The same consistency rules as the kernel's table, plus the shim's own fields. */
static int rule_valid(const struct rtpe_rule *rule)
{
	uint16_t f = rule->flags;

	if ((rule->dst.family != AF_INET && rule->dst.family != AF_INET6) || rule->dst.port == 0 ||
			rule->src_mismatch > RTPE_MISMATCH_DROP ||
			(rule->expect_src.family != 0 && rule->expect_src.family != AF_INET &&
			 rule->expect_src.family != AF_INET6))
		return 0;
	if ((f & ~RTPE_RULE_FLAGS_ALL) || ((f & RTPE_RULE_RTP) && (f & RTPE_RULE_RTCP)) ||
			((f & RTPE_RULE_MUX_RTCP) && !(f & RTPE_RULE_RTP)) ||
			((f & (RTPE_RULE_RTCP_DEMUX | RTPE_RULE_RTCP_TO_USER)) && !(f & RTPE_RULE_MUX_RTCP)))
		return 0;
	if (rule->num_pt > RTPE_MAX_PT || (rule->num_pt && !(f & RTPE_RULE_RTP)))
		return 0;
	for (uint32_t i = 0; i < rule->num_pt; i++)
		if (rule->pt[i] > 127)
			return 0;
	if ((f & RTPE_RULE_RTCP_DEMUX) && ((rule->rtcp_dst.family != AF_INET &&
			rule->rtcp_dst.family != AF_INET6) || rule->rtcp_dst.port == 0))
		return 0;
	return 1;
}

/* The socket's rule storage (slot locked) grows by blocks that are never moved or freed (kept for the
 * slot's next socket): forwarding threads hold pointers to a matched rule past the slot lock (sends,
 * io_uring completions), so growing by realloc would leave them pointing at freed memory. The first
 * block (SHIM_RULES_LO) comes with the first rule, the second (the rest of RTPE_RULES_PER_SOCKET)
 * only when a socket needs more, which is rare. Sockets that never carry a rule cost nothing. */
static int rules_grow(struct shim_sock *s)
{
	struct shim_rule *n;

	if (s->rules_cap >= RTPE_RULES_PER_SOCKET)
		return -ENOSPC;
	if (!s->rules_lo) {
		if (!(n = calloc(SHIM_RULES_LO, sizeof(*n))))
			return -ENOMEM;
		s->rules_lo = n;
		s->rules_cap = SHIM_RULES_LO;
		return 0;
	}
	if (!(n = calloc(RTPE_RULES_PER_SOCKET - SHIM_RULES_LO, sizeof(*n))))
		return -ENOMEM;
	s->rules_hi = n;
	s->rules_cap = RTPE_RULES_PER_SOCKET;
	return 0;
}

SHIM_EXPORT int rtpe_rule_add(const struct rtpe_rule *rule)
{
	struct shim_sock *s;
	struct shim_rule *sr;
	uint32_t out_gen, rtcp_gen = 0;
	uint16_t out_family, rtcp_family;
	int slot = -1, r;

	if (!rule || !rule_valid(rule))
		return -EINVAL;
	if ((r = rule_srtp_check(rule)) < 0)   /* rule_srtp.c */
		return r;
	if ((r = output_info(rule->output, &out_gen, &out_family)) < 0)
		return r;
	if (out_family != rule->dst.family)
		return -EAFNOSUPPORT;
	if (rule->flags & RTPE_RULE_RTCP_DEMUX) {
		if ((r = output_info(rule->rtcp_output, &rtcp_gen, &rtcp_family)) < 0)
			return r;
		if (rtcp_family != rule->rtcp_dst.family)
			return -EAFNOSUPPORT;
	}

	s = shim_sock_lock(rule->local);
	if (!s)
		return -EBADF;
	for (int i = 0; i < s->nrules; i++)
		if (same_src(&sock_rule(s, i)->r.expect_src, &rule->expect_src))
			slot = i;
	if (slot < 0) {
		if (s->nrules >= RTPE_RULES_PER_SOCKET) {
			shim_sock_unlock(s);
			return -ENOSPC;
		}
		if (s->nrules >= s->rules_cap && (r = rules_grow(s)) < 0) {
			shim_sock_unlock(s);
			return r;
		}
		slot = s->nrules++;
		memset(sock_rule(s, slot), 0, sizeof(struct shim_rule));
	}
	sr = sock_rule(s, slot);
	sr->r = *rule;
	sr->output_gen = out_gen;
	sr->rtcp_output_gen = rtcp_gen;
	shim_sock_unlock(s);
	return 0;
}

SHIM_EXPORT int rtpe_rule_del(int local, const struct rtpe_addr *expect_src)
{
	struct shim_sock *s = shim_sock_lock(local);
	int removed = 0, w = 0;

	if (!s)
		return -EBADF;
	for (int i = 0; i < s->nrules; i++) {
		if (!expect_src || same_src(&sock_rule(s, i)->r.expect_src, expect_src)) {
			removed++;
			continue;
		}
		if (w != i)
			*sock_rule(s, w) = *sock_rule(s, i);   /* compact, across blocks as in one array */
		w++;
	}
	s->nrules = w;
	shim_sock_unlock(s);
	return removed;
}

SHIM_EXPORT int rtpe_rule_stats(int local, const struct rtpe_addr *expect_src,
		struct rtpe_rule_stats *out)
{
	struct shim_sock *s;
	int r = -ENOENT;

	if (!expect_src || !out)
		return -EINVAL;
	s = shim_sock_lock(local);
	if (!s)
		return -EBADF;
	for (int i = 0; i < s->nrules; i++) {
		struct shim_rule *sr = sock_rule(s, i);
		if (!same_src(&sr->r.expect_src, expect_src))
			continue;
		out->packets = CNT_GET(sr->packets);
		out->bytes = CNT_GET(sr->bytes);
		out->errors = CNT_GET(sr->errors);
		out->last_ns = CNT_GET(sr->last_ns);
		out->mismatch_drops = CNT_GET(s->mismatch_drops);
		out->auth_failed = CNT_GET(sr->auth_failed);
		out->mux_rtcp_packets = CNT_GET(sr->mux_rtcp_packets);
		out->mux_rtcp_bytes = CNT_GET(sr->mux_rtcp_bytes);
		r = 0;
		break;
	}
	shim_sock_unlock(s);
	return r;
}
