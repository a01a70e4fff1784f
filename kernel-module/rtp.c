// SPDX-License-Identifier: GPL-2.0
/*
 * rtp.c - RTP/RTCP header parsing (RFC 3550, RFC 5761) and per-SSRC
 * state: slots, counters and the rollover counter (RFC 3711 3.3.1).
 * Every read is checked against the packet length passed in.
 */
#include <linux/kernel.h>
#include <linux/errno.h>
#include "rtpe.h"

int rtpe_rtp_parse(const u8 *p, unsigned int len, struct rtpe_rtp *out)
{
	unsigned int hl, cc, xlen;

	if (len < 12 || (p[0] >> 6) != 2)
		return -EINVAL;
	cc = p[0] & 0x0f;
	hl = 12 + 4 * cc;
	if (hl > len)
		return -EINVAL;
	if (p[0] & 0x10) {		/* header extension */
		if (hl + 4 > len)
			return -EINVAL;
		xlen = ((unsigned int)p[hl + 2] << 8 | p[hl + 3]) * 4;
		hl += 4 + xlen;
		if (hl > len)
			return -EINVAL;
	}
	out->pt = p[1] & 0x7f;
	out->seq = (u16)(p[2] << 8 | p[3]);
	out->ssrc = (u32)p[8] << 24 | (u32)p[9] << 16 | (u32)p[10] << 8 | p[11];
	out->hdrlen = hl;
	return 0;
}

/* RFC 5761 4: on a muxed port, RTCP packet types 192..223 give 64..95 here */
bool rtpe_is_rtcp(const u8 *p, unsigned int len)
{
	u8 pt;

	if (len < 8 || (p[0] >> 6) != 2)
		return false;
	pt = p[1] & 0x7f;
	return pt >= 64 && pt <= 95;
}

int rtpe_rtcp_ssrc(const u8 *p, unsigned int len, u32 *ssrc)
{
	if (len < 8 || (p[0] >> 6) != 2)
		return -EINVAL;
	*ssrc = (u32)p[4] << 24 | (u32)p[5] << 16 | (u32)p[6] << 8 | p[7];
	return 0;
}

/* caller holds k->lock */
static int rtpe_ssrc_slot(struct rtpe_krule *k, u32 ssrc, bool claim)
{
	unsigned int i;

	for (i = 0; i < RTPE_MAX_SSRC; i++)
		if ((k->ssrc[i].flags & RTPE_SSRC_USED) && k->ssrc[i].ssrc == ssrc)
			return i;
	if (!claim)
		return -1;
	for (i = 0; i < RTPE_MAX_SSRC; i++) {
		if (!(k->ssrc[i].flags & RTPE_SSRC_USED)) {
			memset(&k->ssrc[i], 0, sizeof(k->ssrc[i]));
			k->ssrc[i].ssrc = ssrc;
			k->ssrc[i].flags = RTPE_SSRC_USED;
			return i;
		}
	}
	return -1;
}

/* RFC 3711 3.3.1: guess the ROC of a packet from the highest seq seen */
static u32 rtpe_guess_roc(u32 roc, u16 s_l, u16 seq, bool first)
{
	if (first)
		return roc;
	if (s_l < 32768) {
		if (seq > s_l && seq - s_l > 32768)
			return roc - 1;
	} else {
		if (seq < s_l - 32768)
			return roc + 1;
	}
	return roc;
}

void rtpe_ssrc_estimate(struct rtpe_krule *k, u32 ssrc, u16 seq, struct rtpe_idx *ix)
{
	struct rtpe_ssrc_stats *x;
	u32 v;

	spin_lock_bh(&k->lock);
	ix->slot = rtpe_ssrc_slot(k, ssrc, false);
	if (ix->slot < 0) {
		ix->roc_in = ix->roc_out = 0;
		spin_unlock_bh(&k->lock);
		return;
	}
	x = &k->ssrc[ix->slot];
	v = rtpe_guess_roc(x->roc_in, (u16)x->last_seq, seq, x->packets == 0);
	ix->roc_in = v;
	ix->roc_out = x->roc_out + (v - x->roc_in);
	spin_unlock_bh(&k->lock);
}

/* after a packet was forwarded: count it and move s_l/ROC forward */
void rtpe_ssrc_commit(struct rtpe_krule *k, u32 ssrc, u16 seq, unsigned int bytes,
		      const struct rtpe_idx *ix)
{
	struct rtpe_ssrc_stats *x;
	int slot;
	u64 old_idx, new_idx;

	spin_lock_bh(&k->lock);
	slot = rtpe_ssrc_slot(k, ssrc, true);
	if (slot < 0) {
		spin_unlock_bh(&k->lock);
		return;
	}
	x = &k->ssrc[slot];
	if (slot != ix->slot) {
		/* new SSRC: the estimate used ROC 0 for both directions */
		x->roc_in = ix->roc_in;
		x->roc_out = ix->roc_out;
		x->last_seq = seq;
	} else {
		old_idx = ((u64)x->roc_in << 16) | (u16)x->last_seq;
		new_idx = ((u64)ix->roc_in << 16) | seq;
		if (x->packets == 0 || new_idx > old_idx) {
			x->roc_out += ix->roc_in - x->roc_in;
			x->roc_in = ix->roc_in;
			x->last_seq = seq;
		}
	}
	x->packets++;
	x->bytes += bytes;
	spin_unlock_bh(&k->lock);
}
