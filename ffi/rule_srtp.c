/* rule_srtp.c - SRTP/SRTCP in the fast path: a rule's decrypt and encrypt contexts, applied in place.
 *
 * The contexts are ffi/srtp's rtpe_srtp_ctx, created (and freed) by the control plane through this
 * same library (the shim is built with RTPE_SHIM_WITH=srtp, which defines RTPE_SHIM_SRTP), so the
 * code using them here is the code that made them. A context is not thread-safe: the control plane
 * gives each rule contexts of its own, and a rule is only applied by the thread reading its socket,
 * under that socket's slot lock (rtpe_rule_del takes the same lock before it returns).
 *
 * Decision: a packet failing authentication or the replay check is dropped and counted
 * (auth_failed), not handed to JS: JS holds the same keys and would reject it too. */
#include <errno.h>
#include <stdint.h>

#include "rule_srtp.h"

#ifdef RTPE_SHIM_SRTP
#include "rtpe_srtp.h"
#endif

int rule_srtp_check(const struct rtpe_rule *r)
{
	uint16_t f = r->flags;

	if (!(f & RTPE_RULE_SRTP))
		return 0;
	if (!(f & (RTPE_RULE_RTP | RTPE_RULE_RTCP)))
		return -EINVAL;
	if (((f & RTPE_RULE_SRTP_DECRYPT) && !r->decrypt) || ((f & RTPE_RULE_SRTP_ENCRYPT) && !r->encrypt))
		return -EINVAL;
	/* muxed SRTCP demuxed out of rtcp_output uses the rule's contexts like the rest; towards JS it
	 * would interleave with JS's own indices for the same SSRCs: not covered */
	if (f & RTPE_RULE_RTCP_TO_USER)
		return -EINVAL;
#ifdef RTPE_SHIM_SRTP
	return 0;
#else
	return -EOPNOTSUPP;
#endif
}

#ifdef RTPE_SHIM_SRTP
/* RFC 5761 section 4, as rule.c reads it on a muxed port */
static int looks_rtcp(const uint8_t *d, uint32_t n)
{
	uint8_t pt;

	if (n < 8 || (d[0] >> 6) != 2)
		return 0;
	pt = d[1] & 0x7f;
	return pt >= 64 && pt <= 95;
}

static rtpe_srtp_ctx *ctx_of(uint64_t p)
{
	return (rtpe_srtp_ctx *)(uintptr_t)p;
}

int rule_srtp_apply(struct shim_rule *sr, uint8_t *d, uint32_t *len, uint32_t cap)
{
	const struct rtpe_rule *r = &sr->r;
	int rtcp = (r->flags & RTPE_RULE_RTCP) || ((r->flags & RTPE_RULE_MUX_RTCP) && looks_rtcp(d, *len));
	int n = (int)*len;

	if (*len > cap || cap > (uint32_t)INT32_MAX) {
		CNT_ADD(sr->errors, 1);
		return -1;
	}
	if (r->flags & RTPE_RULE_SRTP_DECRYPT) {
		n = rtcp ? rtpe_srtcp_unprotect(ctx_of(r->decrypt), d, (size_t)n)
			: rtpe_srtp_unprotect(ctx_of(r->decrypt), d, (size_t)n);
		if (n < 0) {
			if (n == RTPE_SRTP_E_AUTH || n == RTPE_SRTP_E_REPLAY || n == RTPE_SRTP_E_MKI)
				CNT_ADD(sr->auth_failed, 1);
			else
				CNT_ADD(sr->errors, 1);
			return -1;
		}
	}
	if (r->flags & RTPE_RULE_SRTP_ENCRYPT) {
		n = rtcp ? rtpe_srtcp_protect(ctx_of(r->encrypt), d, (size_t)n, cap)
			: rtpe_srtp_protect(ctx_of(r->encrypt), d, (size_t)n, cap);
		if (n < 0) {
			CNT_ADD(sr->errors, 1);
			return -1;
		}
	}
	*len = (uint32_t)n;
	return 0;
}
#else
int rule_srtp_apply(struct shim_rule *sr, uint8_t *d, uint32_t *len, uint32_t cap)
{
	(void)d;
	(void)len;
	(void)cap;
	CNT_ADD(sr->errors, 1);   /* unreachable: rule_srtp_check refuses such rules */
	return -1;
}
#endif
