/* ctx.c - the suite table, context creation (key derivation, cipher setup), MKI and index access. */
#include <stdlib.h>
#include <string.h>

#include "srtp_internal.h"

static const struct srtp_suite suites[RTPE_SRTP_SUITE_MAX + 1] = {
	[RTPE_SRTP_AES_CM_128_HMAC_SHA1_80] = { CIPHER_AES_CM, 16, 14, 10, 10 },
	[RTPE_SRTP_AES_CM_128_HMAC_SHA1_32] = { CIPHER_AES_CM, 16, 14, 4, 10 },
	[RTPE_SRTP_AES_192_CM_HMAC_SHA1_80] = { CIPHER_AES_CM, 24, 14, 10, 10 },
	[RTPE_SRTP_AES_192_CM_HMAC_SHA1_32] = { CIPHER_AES_CM, 24, 14, 4, 10 },
	[RTPE_SRTP_AES_256_CM_HMAC_SHA1_80] = { CIPHER_AES_CM, 32, 14, 10, 10 },
	[RTPE_SRTP_AES_256_CM_HMAC_SHA1_32] = { CIPHER_AES_CM, 32, 14, 4, 10 },
	[RTPE_SRTP_F8_128_HMAC_SHA1_80] = { CIPHER_AES_F8, 16, 14, 10, 10 },
	[RTPE_SRTP_F8_128_HMAC_SHA1_32] = { CIPHER_AES_F8, 16, 14, 4, 10 },
	[RTPE_SRTP_NULL_HMAC_SHA1_80] = { CIPHER_NULL, 16, 14, 10, 10 },
	[RTPE_SRTP_NULL_HMAC_SHA1_32] = { CIPHER_NULL, 16, 14, 4, 10 },
	[RTPE_SRTP_AEAD_AES_128_GCM] = { CIPHER_AES_GCM, 16, 12, 16, 16 },
	[RTPE_SRTP_AEAD_AES_256_GCM] = { CIPHER_AES_GCM, 32, 12, 16, 16 },
};

const struct srtp_suite *srtp_suite_get(int suite)
{
	if (suite < 1 || suite > RTPE_SRTP_SUITE_MAX)
		return NULL;
	return &suites[suite];
}

int rtpe_srtp_suite_info(int suite, uint32_t *key_len, uint32_t *salt_len, uint32_t *srtp_tag,
			 uint32_t *srtcp_tag)
{
	const struct srtp_suite *s = srtp_suite_get(suite);
	if (!s)
		return RTPE_SRTP_E_INVAL;
	if (key_len)
		*key_len = s->key_len;
	if (salt_len)
		*salt_len = s->salt_len;
	if (srtp_tag)
		*srtp_tag = s->srtp_tag;
	if (srtcp_tag)
		*srtcp_tag = s->srtcp_tag;
	return 0;
}

/* Labels 0..2 make the SRTP keys, 3..5 the SRTCP keys (RFC 3711 4.3.1). */
static int derive(const struct srtp_suite *s, const uint8_t *key, const uint8_t *salt,
		  uint8_t base, struct srtp_keys *k)
{
	int r = 0;
	if (s->cipher != CIPHER_NULL)
		r |= srtp_kdf(key, s->key_len, salt, s->salt_len, base, k->enc, s->key_len);
	if (s->cipher != CIPHER_AES_GCM)
		r |= srtp_kdf(key, s->key_len, salt, s->salt_len, (uint8_t)(base + 1), k->auth,
			      SRTP_AUTH_KEY_LEN);
	r |= srtp_kdf(key, s->key_len, salt, s->salt_len, (uint8_t)(base + 2), k->salt, s->salt_len);
	return r ? RTPE_SRTP_E_CRYPTO : 0;
}

static int setup(rtpe_srtp_ctx *ctx, const uint8_t *key, const uint8_t *salt)
{
	const struct srtp_suite *s = ctx->suite;
	struct srtp_keys k;
	int r;
	memset(&k, 0, sizeof(k));
	if (ctx->flags & RTPE_SRTP_SESSION_KEYS) {
		memcpy(k.enc, key, s->key_len);
		memcpy(k.salt, salt, s->salt_len);
		r = srtp_xform_init(&ctx->rtp, s, &k);
		if (r == 0)
			r = srtp_xform_init(&ctx->rtcp, s, &k);
	} else {
		r = derive(s, key, salt, 0, &k);
		if (r == 0)
			r = srtp_xform_init(&ctx->rtp, s, &k);
		if (r == 0)
			r = derive(s, key, salt, 3, &k);
		if (r == 0)
			r = srtp_xform_init(&ctx->rtcp, s, &k);
	}
	srtp_wipe(&k, sizeof(k));
	return r;
}

#define KNOWN_FLAGS (RTPE_SRTP_UNENCRYPTED_SRTP | RTPE_SRTP_UNENCRYPTED_SRTCP | \
		     RTPE_SRTP_UNAUTHENTICATED_SRTP | RTPE_SRTP_SESSION_KEYS | RTPE_SRTP_NO_REPLAY_CHECK)

rtpe_srtp_ctx *rtpe_srtp_new(int suite, const uint8_t *key, size_t klen, const uint8_t *salt,
			     size_t slen, unsigned flags, int *err)
{
	int dummy;
	if (!err)
		err = &dummy;
	const struct srtp_suite *s = srtp_suite_get(suite);
	*err = RTPE_SRTP_E_INVAL;
	if (!s || !key || !salt || klen != s->key_len || slen != s->salt_len || (flags & ~KNOWN_FLAGS))
		return NULL;
	/* An AEAD cipher always authenticates; rtpengine offers the parameter on GCM lines too, so
	 * it is accepted and has no effect there. */
	if (s->cipher == CIPHER_AES_GCM)
		flags &= ~RTPE_SRTP_UNAUTHENTICATED_SRTP;
	if (s->cipher != CIPHER_AES_GCM && (flags & RTPE_SRTP_SESSION_KEYS))
		return NULL;
	*err = rtpe_srtp_init();
	if (*err != 0)
		return NULL;
	rtpe_srtp_ctx *ctx = calloc(1, sizeof(*ctx));
	if (!ctx) {
		*err = RTPE_SRTP_E_CRYPTO;
		return NULL;
	}
	ctx->suite = s;
	ctx->flags = flags;
	*err = setup(ctx, key, salt);
	if (*err != 0) {
		rtpe_srtp_free(ctx);
		return NULL;
	}
	return ctx;
}

void rtpe_srtp_free(rtpe_srtp_ctx *ctx)
{
	if (!ctx)
		return;
	srtp_xform_free(&ctx->rtp);
	srtp_xform_free(&ctx->rtcp);
	srtp_wipe(ctx, sizeof(*ctx));
	free(ctx);
}

int rtpe_srtp_set_mki(rtpe_srtp_ctx *ctx, const uint8_t *mki, size_t len)
{
	if (!ctx || len > RTPE_SRTP_MAX_MKI || (len && !mki))
		return RTPE_SRTP_E_INVAL;
	if (len)
		memcpy(ctx->mki, mki, len);
	ctx->mki_len = len;
	return 0;
}

int rtpe_srtp_get_index(const rtpe_srtp_ctx *ctx, uint32_t ssrc, uint64_t *rtp_index,
			uint32_t *srtcp_index)
{
	if (!ctx)
		return RTPE_SRTP_E_INVAL;
	for (size_t i = 0; i < SRTP_SSRC_SLOTS; i++) {
		const struct srtp_ssrc *s = &ctx->slots[i];
		if (s->used && s->ssrc == ssrc) {
			if (rtp_index)
				*rtp_index = s->rtp_index;
			if (srtcp_index)
				*srtcp_index = s->rtcp_index;
			return 0;
		}
	}
	return -1;
}

int rtpe_srtp_set_index(rtpe_srtp_ctx *ctx, uint32_t ssrc, uint64_t rtp_index, uint32_t srtcp_index)
{
	if (!ctx || rtp_index > 0xffffffffffffULL || srtcp_index > 0x7fffffffU)
		return RTPE_SRTP_E_INVAL;
	struct srtp_ssrc *s = srtp_slot(ctx, ssrc, true);
	s->rtp_seen = true;
	s->rtp_index = rtp_index;
	s->rtp_window = 1;
	s->rtcp_seen = true;
	s->rtcp_index = srtcp_index;
	s->rtcp_window = 1;
	return 0;
}
