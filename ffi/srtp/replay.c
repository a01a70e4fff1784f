/* replay.c - per-SSRC slots, packet index estimation (RFC 3711 3.3.1) and the replay windows. */
#include <string.h>

#include "srtp_internal.h"

#define INDEX_MASK 0xffffffffffffULL /* 48-bit packet index */

struct srtp_ssrc *srtp_slot(rtpe_srtp_ctx *ctx, uint32_t ssrc, bool create)
{
	struct srtp_ssrc *victim = NULL;
	for (size_t i = 0; i < SRTP_SSRC_SLOTS; i++) {
		struct srtp_ssrc *s = &ctx->slots[i];
		if (s->used && s->ssrc == ssrc) {
			s->last_use = ++ctx->clock;
			return s;
		}
		if (!victim || (victim->used && (!s->used || s->last_use < victim->last_use)))
			victim = s;
	}
	if (!create)
		return NULL;
	memset(victim, 0, sizeof(*victim));
	victim->used = true;
	victim->ssrc = ssrc;
	victim->last_use = ++ctx->clock;
	return victim;
}

/* Pick the ROC among ROC-1, ROC, ROC+1 that puts seq closest to the highest index seen. */
uint64_t srtp_estimate_index(const struct srtp_ssrc *st, uint16_t seq)
{
	if (!st || !st->rtp_seen)
		return seq;
	uint32_t roc = (uint32_t)(st->rtp_index >> 16);
	uint16_t s_l = (uint16_t)st->rtp_index;
	uint32_t v = roc;
	if (s_l < 0x8000) {
		if (seq > s_l && seq - s_l > 0x8000 && roc > 0)
			v = roc - 1;
	} else {
		if (seq < s_l - 0x8000)
			v = roc + 1; /* wraps to 0 after 2^32 rollovers, as the 32-bit ROC does */
	}
	return ((uint64_t)v << 16 | seq) & INDEX_MASK;
}

int srtp_rtp_replay_check(const struct srtp_ssrc *st, uint64_t index)
{
	if (!st || !st->rtp_seen || index > st->rtp_index)
		return 0;
	uint64_t delta = st->rtp_index - index;
	if (delta >= SRTP_WINDOW)
		return RTPE_SRTP_E_REPLAY;
	if (st->rtp_window & (1ULL << delta))
		return RTPE_SRTP_E_REPLAY;
	return 0;
}

void srtp_rtp_replay_update(struct srtp_ssrc *st, uint64_t index)
{
	if (!st->rtp_seen) {
		st->rtp_seen = true;
		st->rtp_index = index;
		st->rtp_window = 1;
		return;
	}
	if (index > st->rtp_index) {
		uint64_t shift = index - st->rtp_index;
		st->rtp_window = shift >= SRTP_WINDOW ? 1 : (st->rtp_window << shift) | 1;
		st->rtp_index = index;
		return;
	}
	uint64_t delta = st->rtp_index - index;
	if (delta < SRTP_WINDOW)
		st->rtp_window |= 1ULL << delta;
}

int srtp_rtcp_replay_check(const struct srtp_ssrc *st, uint32_t index)
{
	if (!st || !st->rtcp_seen || index > st->rtcp_index)
		return 0;
	uint32_t delta = st->rtcp_index - index;
	if (delta >= SRTP_WINDOW)
		return RTPE_SRTP_E_REPLAY;
	if (st->rtcp_window & (1ULL << delta))
		return RTPE_SRTP_E_REPLAY;
	return 0;
}

void srtp_rtcp_replay_update(struct srtp_ssrc *st, uint32_t index)
{
	if (!st->rtcp_seen) {
		st->rtcp_seen = true;
		st->rtcp_index = index;
		st->rtcp_window = 1;
		return;
	}
	if (index > st->rtcp_index) {
		uint32_t shift = index - st->rtcp_index;
		st->rtcp_window = shift >= SRTP_WINDOW ? 1 : (st->rtcp_window << shift) | 1;
		st->rtcp_index = index;
		return;
	}
	uint32_t delta = st->rtcp_index - index;
	if (delta < SRTP_WINDOW)
		st->rtcp_window |= 1ULL << delta;
}
