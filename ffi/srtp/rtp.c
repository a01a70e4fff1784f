/* rtp.c - SRTP: in-place protect and unprotect of RTP packets (RFC 3711 3.3, RFC 7714 8). */
#include <limits.h>
#include <string.h>

#include "srtp_internal.h"

/* Length of the RTP header including CSRCs and the extension, or E_SHORT. */
static int rtp_header_len(const uint8_t *b, size_t len, size_t *hl)
{
	if (len < 12 || (b[0] >> 6) != 2)
		return RTPE_SRTP_E_SHORT;
	size_t h = 12 + 4 * (size_t)(b[0] & 0x0f);
	if (b[0] & 0x10) {
		if (len < h + 4)
			return RTPE_SRTP_E_SHORT;
		h += 4 + 4 * (size_t)srtp_be16(b + h + 2);
	}
	if (h > len)
		return RTPE_SRTP_E_SHORT;
	*hl = h;
	return 0;
}

/* AES-CM: (k_s << 16) XOR (SSRC << 64) XOR (index << 16). */
static void cm_iv(const uint8_t salt[14], uint32_t ssrc, uint64_t index, uint8_t iv[16])
{
	memcpy(iv, salt, 14);
	iv[14] = iv[15] = 0;
	iv[4] ^= (uint8_t)(ssrc >> 24);
	iv[5] ^= (uint8_t)(ssrc >> 16);
	iv[6] ^= (uint8_t)(ssrc >> 8);
	iv[7] ^= (uint8_t)ssrc;
	for (int i = 0; i < 6; i++)
		iv[13 - i] ^= (uint8_t)(index >> (8 * i));
}

/* AES-f8 RTP: 0x00 || M,PT || SEQ || TS || SSRC || ROC. */
static void f8_rtp_iv(const uint8_t *hdr, uint32_t roc, uint8_t iv[16])
{
	iv[0] = 0;
	memcpy(iv + 1, hdr + 1, 11);
	srtp_put32(iv + 12, roc);
}

/* GCM: (00 00 || SSRC || ROC || SEQ) XOR salt. */
static void gcm_rtp_iv(const uint8_t salt[12], uint32_t ssrc, uint32_t roc, uint16_t seq, uint8_t iv[12])
{
	iv[0] = 0;
	iv[1] = 0;
	srtp_put32(iv + 2, ssrc);
	srtp_put32(iv + 6, roc);
	iv[10] = (uint8_t)(seq >> 8);
	iv[11] = (uint8_t)seq;
	for (int i = 0; i < 12; i++)
		iv[i] ^= salt[i];
}

static int keystream(rtpe_srtp_ctx *ctx, const uint8_t *hdr, uint32_t ssrc, uint64_t index,
		     uint8_t *data, size_t len)
{
	uint8_t iv[16];
	switch (ctx->suite->cipher) {
	case CIPHER_AES_CM:
		cm_iv(ctx->rtp.salt, ssrc, index, iv);
		return srtp_aes_cm(ctx->rtp.cipher, iv, data, len);
	case CIPHER_AES_F8:
		f8_rtp_iv(hdr, (uint32_t)(index >> 16), iv);
		return srtp_aes_f8(&ctx->rtp, iv, data, len);
	default:
		return 0;
	}
}

static size_t auth_tag_len(const rtpe_srtp_ctx *ctx)
{
	if (ctx->suite->cipher == CIPHER_AES_GCM)
		return SRTP_GCM_TAG;
	return (ctx->flags & RTPE_SRTP_UNAUTHENTICATED_SRTP) ? 0 : ctx->suite->srtp_tag;
}

int rtpe_srtp_protect(rtpe_srtp_ctx *ctx, uint8_t *buf, size_t len, size_t cap)
{
	size_t hl;
	if (!ctx || !buf || len > INT_MAX / 2)
		return RTPE_SRTP_E_INVAL;
	int r = rtp_header_len(buf, len, &hl);
	if (r)
		return r;
	size_t tag = auth_tag_len(ctx);
	size_t out = len + tag + ctx->mki_len;
	if (cap < out)
		return RTPE_SRTP_E_NOSPACE;
	uint32_t ssrc = srtp_be32(buf + 8);
	uint16_t seq = srtp_be16(buf + 2);
	struct srtp_ssrc *st = srtp_slot(ctx, ssrc, true);
	uint64_t index = srtp_estimate_index(st, seq);
	uint32_t roc = (uint32_t)(index >> 16);
	bool encrypt = !(ctx->flags & RTPE_SRTP_UNENCRYPTED_SRTP);

	if (ctx->suite->cipher == CIPHER_AES_GCM) {
		uint8_t iv[12];
		gcm_rtp_iv(ctx->rtp.salt, ssrc, roc, seq, iv);
		if (encrypt)
			r = srtp_gcm_seal(ctx->rtp.cipher, iv, buf, hl, NULL, 0, buf + hl, len - hl, buf + len);
		else /* tag only: the whole packet is associated data */
			r = srtp_gcm_seal(ctx->rtp.cipher, iv, buf, len, NULL, 0, buf + len, 0, buf + len);
		if (r)
			return r;
		memcpy(buf + len + SRTP_GCM_TAG, ctx->mki, ctx->mki_len);
	} else {
		if (encrypt && (r = keystream(ctx, buf, ssrc, index, buf + hl, len - hl)) != 0)
			return r;
		memcpy(buf + len, ctx->mki, ctx->mki_len);
		if (tag) {
			uint8_t rocb[4], mac[20];
			srtp_put32(rocb, roc);
			if ((r = srtp_hmac(&ctx->rtp, buf, len, rocb, 4, mac)) != 0) {
				if (encrypt)
					keystream(ctx, buf, ssrc, index, buf + hl, len - hl);
				return r;
			}
			memcpy(buf + len + ctx->mki_len, mac, tag);
		}
	}
	srtp_rtp_replay_update(st, index);
	return (int)out;
}

int rtpe_srtp_unprotect(rtpe_srtp_ctx *ctx, uint8_t *buf, size_t len)
{
	size_t hl;
	if (!ctx || !buf || len > INT_MAX)
		return RTPE_SRTP_E_INVAL;
	int r = rtp_header_len(buf, len, &hl);
	if (r)
		return r;
	size_t tag = auth_tag_len(ctx);
	size_t mki = ctx->mki_len;
	if (len < hl + tag + mki)
		return RTPE_SRTP_E_SHORT;
	size_t body = len - tag - mki; /* header + encrypted payload */
	size_t mki_at = ctx->suite->cipher == CIPHER_AES_GCM ? len - mki : body;
	if (mki && memcmp(buf + mki_at, ctx->mki, mki) != 0)
		return RTPE_SRTP_E_MKI;

	uint32_t ssrc = srtp_be32(buf + 8);
	uint16_t seq = srtp_be16(buf + 2);
	struct srtp_ssrc *st = srtp_slot(ctx, ssrc, false);
	uint64_t index = srtp_estimate_index(st, seq);
	uint32_t roc = (uint32_t)(index >> 16);
	if (!(ctx->flags & RTPE_SRTP_NO_REPLAY_CHECK) && (r = srtp_rtp_replay_check(st, index)) != 0)
		return r;
	bool encrypted = !(ctx->flags & RTPE_SRTP_UNENCRYPTED_SRTP);

	if (ctx->suite->cipher == CIPHER_AES_GCM) {
		uint8_t iv[12];
		gcm_rtp_iv(ctx->rtp.salt, ssrc, roc, seq, iv);
		if (encrypted)
			r = srtp_gcm_open(ctx->rtp.cipher, iv, buf, hl, NULL, 0, buf + hl, body - hl, buf + body);
		else
			r = srtp_gcm_open(ctx->rtp.cipher, iv, buf, body, NULL, 0, buf + body, 0, buf + body);
		if (r)
			return r;
	} else {
		if (tag) {
			uint8_t rocb[4], mac[20];
			srtp_put32(rocb, roc);
			if ((r = srtp_hmac(&ctx->rtp, buf, body, rocb, 4, mac)) != 0)
				return r;
			if (srtp_ct_differ(mac, buf + body + mki, tag))
				return RTPE_SRTP_E_AUTH;
		}
		if (encrypted && (r = keystream(ctx, buf, ssrc, index, buf + hl, body - hl)) != 0)
			return r;
	}
	srtp_rtp_replay_update(srtp_slot(ctx, ssrc, true), index);
	return (int)body;
}
