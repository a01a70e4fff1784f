/* rule.c - forwarding rules: per-socket table the receive thread consults before queueing to JS. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "internal.h"

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
		struct shim_rule *r = &s->rules[i];
		const struct rtpe_addr *es = &r->r.expect_src;

		if (r->r.src_mismatch == RTPE_MISMATCH_DROP)
			strict = 1;
		if (es->family == 0 || shim_addr_equal(es, src, es->port != 0))
			return r;
	}
	*drop = strict;
	return NULL;
}

SHIM_EXPORT int rtpe_rule_add(const struct rtpe_rule *rule)
{
	struct shim_sock *s, *out;
	uint32_t out_gen;
	uint16_t out_family;
	int slot = -1;

	if (!rule || (rule->dst.family != AF_INET && rule->dst.family != AF_INET6) ||
			rule->dst.port == 0 || rule->src_mismatch > RTPE_MISMATCH_DROP ||
			(rule->expect_src.family != 0 && rule->expect_src.family != AF_INET &&
			 rule->expect_src.family != AF_INET6))
		return -EINVAL;
	/* one slot lock at a time, like the receive thread */
	out = shim_sock_lock(rule->output);
	if (!out)
		return -EBADF;
	out_gen = out->gen;
	out_family = out->local.family;
	shim_sock_unlock(out);
	if (out_family != rule->dst.family)
		return -EAFNOSUPPORT;

	s = shim_sock_lock(rule->local);
	if (!s)
		return -EBADF;
	for (int i = 0; i < s->nrules; i++)
		if (same_src(&s->rules[i].r.expect_src, &rule->expect_src))
			slot = i;
	if (slot < 0) {
		if (s->nrules >= RTPE_RULES_PER_SOCKET) {
			shim_sock_unlock(s);
			return -ENOSPC;
		}
		slot = s->nrules++;
		memset(&s->rules[slot], 0, sizeof(s->rules[slot]));
	}
	s->rules[slot].r = *rule;
	s->rules[slot].output_gen = out_gen;
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
		if (!expect_src || same_src(&s->rules[i].r.expect_src, expect_src)) {
			removed++;
			continue;
		}
		if (w != i)
			s->rules[w] = s->rules[i];
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
		struct shim_rule *sr = &s->rules[i];
		if (!same_src(&sr->r.expect_src, expect_src))
			continue;
		out->packets = CNT_GET(sr->packets);
		out->bytes = CNT_GET(sr->bytes);
		out->errors = CNT_GET(sr->errors);
		out->last_ns = CNT_GET(sr->last_ns);
		out->mismatch_drops = CNT_GET(s->mismatch_drops);
		r = 0;
		break;
	}
	shim_sock_unlock(s);
	return r;
}
