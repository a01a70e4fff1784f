/* rtcp.c - SRTCP: in-place protect and unprotect of RTCP compound packets (RFC 3711 3.4, RFC 7714 9). */
#include <limits.h>
#include <string.h>

#include "srtp_internal.h"

#define RTCP_HDR 8          /* V,P,RC | PT | length | sender SSRC: never encrypted */
#define E_FLAG 0x80000000U
#define INDEX_MAX 0x7fffffffU

static int rtcp_check(const uint8_t *b, size_t len)
{
	if (len < RTCP_HDR || (b[0] >> 6) != 2)
		return RTPE_SRTP_E_SHORT;
	return 0;
}

static int keystream(rtpe_srtp_ctx *ctx, const uint8_t *b, uint32_t eindex, uint8_t *data, size_t len)
{
	uint8_t iv[16];
	uint32_t ssrc = srtp_be32(b + 4);
	uint32_t index = eindex & INDEX_MAX;
	switch (ctx->suite->cipher) {
	case CIPHER_AES_CM:
		/* as for SRTP, with the 31-bit SRTCP index as packet index */
		memcpy(iv, ctx->rtcp.salt, 14);
		iv[14] = iv[15] = 0;
		for (int i = 0; i < 4; i++) {
			iv[4 + i] ^= (uint8_t)(ssrc >> (24 - 8 * i));
			iv[10 + i] ^= (uint8_t)(index >> (24 - 8 * i));
		}
		return srtp_aes_cm(ctx->rtcp.cipher, iv, data, len);
	case CIPHER_AES_F8:
		/* 0..0 (32 bits) || E || SRTCP index || V,P,RC || PT || length || SSRC */
		memset(iv, 0, 4);
		srtp_put32(iv + 4, eindex);
		memcpy(iv + 8, b, RTCP_HDR);
		return srtp_aes_f8(&ctx->rtcp, iv, data, len);
	default:
		return 0;
	}
}

/* GCM: (00 00 || SSRC || 00 00 || 0 || SRTCP index) XOR salt. */
static void gcm_rtcp_iv(const uint8_t salt[12], uint32_t ssrc, uint32_t index, uint8_t iv[12])
{
	iv[0] = iv[1] = 0;
	srtp_put32(iv + 2, ssrc);
	iv[6] = iv[7] = 0;
	srtp_put32(iv + 8, index & INDEX_MAX);
	for (int i = 0; i < 12; i++)
		iv[i] ^= salt[i];
}

int rtpe_srtcp_protect(rtpe_srtp_ctx *ctx, uint8_t *buf, size_t len, size_t cap)
{
	if (!ctx || !buf || len > INT_MAX / 2)
		return RTPE_SRTP_E_INVAL;
	int r = rtcp_check(buf, len);
	if (r)
		return r;
	bool gcm = ctx->suite->cipher == CIPHER_AES_GCM;
	size_t tag = ctx->suite->srtcp_tag;
	size_t mki = ctx->mki_len;
	size_t out = len + 4 + tag + mki;
	if (cap < out)
		return RTPE_SRTP_E_NOSPACE;
	uint32_t ssrc = srtp_be32(buf + 4);
	struct srtp_ssrc *st = srtp_slot(ctx, ssrc, true);
	uint32_t index = st->rtcp_index & INDEX_MAX;
	/* E says whether the payload is encrypted: never with the NULL cipher */
	bool encrypt = !(ctx->flags & RTPE_SRTP_UNENCRYPTED_SRTCP) && ctx->suite->cipher != CIPHER_NULL;
	uint32_t eindex = index | (encrypt ? E_FLAG : 0);
	uint8_t eb[4];
	srtp_put32(eb, eindex);

	if (gcm) {
		uint8_t iv[12];
		gcm_rtcp_iv(ctx->rtcp.salt, ssrc, index, iv);
		if (encrypt)
			r = srtp_gcm_seal(ctx->rtcp.cipher, iv, buf, RTCP_HDR, eb, 4, buf + RTCP_HDR,
					  len - RTCP_HDR, buf + len);
		else
			r = srtp_gcm_seal(ctx->rtcp.cipher, iv, buf, len, eb, 4, buf + len, 0, buf + len);
		if (r)
			return r;
		memcpy(buf + len + SRTP_GCM_TAG, eb, 4);
		memcpy(buf + len + SRTP_GCM_TAG + 4, ctx->mki, mki);
	} else {
		if (encrypt && (r = keystream(ctx, buf, eindex, buf + RTCP_HDR, len - RTCP_HDR)) != 0)
			return r;
		memcpy(buf + len, eb, 4);
		memcpy(buf + len + 4, ctx->mki, mki);
		uint8_t mac[20];
		if ((r = srtp_hmac(&ctx->rtcp, buf, len + 4, NULL, 0, mac)) != 0) {
			if (encrypt)
				keystream(ctx, buf, eindex, buf + RTCP_HDR, len - RTCP_HDR);
			return r;
		}
		memcpy(buf + len + 4 + mki, mac, tag);
	}
	st->rtcp_index = (index + 1) & INDEX_MAX;
	return (int)out;
}

int rtpe_srtcp_unprotect(rtpe_srtp_ctx *ctx, uint8_t *buf, size_t len)
{
	if (!ctx || !buf || len > INT_MAX)
		return RTPE_SRTP_E_INVAL;
	int r = rtcp_check(buf, len);
	if (r)
		return r;
	bool gcm = ctx->suite->cipher == CIPHER_AES_GCM;
	size_t tag = ctx->suite->srtcp_tag;
	size_t mki = ctx->mki_len;
	if (len < RTCP_HDR + 4 + tag + mki)
		return RTPE_SRTP_E_SHORT;
	size_t body; /* plain RTCP length after unprotect */
	size_t eidx_at, mki_at;
	if (gcm) {
		/* header | ciphertext | tag | E+index | MKI */
		body = len - mki - 4 - tag;
		eidx_at = body + tag;
		mki_at = eidx_at + 4;
	} else {
		/* header | ciphertext | E+index | MKI | tag */
		body = len - tag - mki - 4;
		eidx_at = body;
		mki_at = body + 4;
	}
	if (mki && memcmp(buf + mki_at, ctx->mki, mki) != 0)
		return RTPE_SRTP_E_MKI;
	uint32_t eindex = srtp_be32(buf + eidx_at);
	uint32_t index = eindex & INDEX_MAX;
	bool encrypted = (eindex & E_FLAG) != 0;
	uint32_t ssrc = srtp_be32(buf + 4);
	struct srtp_ssrc *st = srtp_slot(ctx, ssrc, false);
	if (!(ctx->flags & RTPE_SRTP_NO_REPLAY_CHECK) && (r = srtp_rtcp_replay_check(st, index)) != 0)
		return r;

	if (gcm) {
		uint8_t iv[12];
		gcm_rtcp_iv(ctx->rtcp.salt, ssrc, index, iv);
		if (encrypted)
			r = srtp_gcm_open(ctx->rtcp.cipher, iv, buf, RTCP_HDR, buf + eidx_at, 4,
					  buf + RTCP_HDR, body - RTCP_HDR, buf + body);
		else
			r = srtp_gcm_open(ctx->rtcp.cipher, iv, buf, body, buf + eidx_at, 4, buf + body, 0,
					  buf + body);
		if (r)
			return r;
	} else {
		uint8_t mac[20];
		if ((r = srtp_hmac(&ctx->rtcp, buf, body + 4, NULL, 0, mac)) != 0)
			return r;
		if (srtp_ct_differ(mac, buf + len - tag, tag))
			return RTPE_SRTP_E_AUTH;
		if (encrypted && (r = keystream(ctx, buf, eindex, buf + RTCP_HDR, body - RTCP_HDR)) != 0)
			return r;
	}
	srtp_rtcp_replay_update(srtp_slot(ctx, ssrc, true), index);
	return (int)body;
}
