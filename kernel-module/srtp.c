// SPDX-License-Identifier: GPL-2.0
/* srtp.c - placeholder until SRTP lands: plain forwarding only */
#include <linux/kernel.h>
#include <linux/errno.h>
#include "rtpe.h"

int rtpe_srtp_validate(const struct rtpe_srtp *p)
{
	return p->cipher == RTPE_CIPHER_NONE ? 0 : -EOPNOTSUPP;
}

struct rtpe_srtp_ctx *rtpe_srtp_new(const struct rtpe_srtp *p)
{
	return ERR_PTR(-EOPNOTSUPP);
}

void rtpe_srtp_free(struct rtpe_srtp_ctx *c)
{
}

int rtpe_srtp_unprotect_rtp(struct rtpe_srtp_ctx *c, u8 *pkt, unsigned int *len,
			    unsigned int hdrlen, u32 ssrc, u16 seq, u32 roc)
{
	return -EOPNOTSUPP;
}

int rtpe_srtp_protect_rtp(struct rtpe_srtp_ctx *c, u8 *pkt, unsigned int *len,
			  unsigned int room, unsigned int hdrlen, u32 ssrc, u16 seq, u32 roc)
{
	return -EOPNOTSUPP;
}

int rtpe_srtp_unprotect_rtcp(struct rtpe_srtp_ctx *c, u8 *pkt, unsigned int *len)
{
	return -EOPNOTSUPP;
}

int rtpe_srtp_protect_rtcp(struct rtpe_srtp_ctx *c, u8 *pkt, unsigned int *len,
			   unsigned int room, u32 index)
{
	return -EOPNOTSUPP;
}

int rtpe_srtp_selftest(void)
{
	return 0;
}
