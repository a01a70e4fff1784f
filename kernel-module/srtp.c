// SPDX-License-Identifier: GPL-2.0
/*
 * srtp.c - SRTP and SRTCP (RFC 3711, RFC 6188, RFC 7714) through the kernel
 * crypto API: "ctr(aes)" for AES-CM and key derivation, "hmac(sha1)" for
 * authentication, "gcm(aes)" for AEAD; AES-F8 is built from single-block
 * AES (lib/crypto). Transforms are allocated in process context when a rule
 * is installed and only used (never re-keyed) in the packet path.
 *
 * Every function here gets the packet buffer and its length, and checks
 * every offset against that length before touching a byte.
 */
#include <linux/kernel.h>
#include <linux/slab.h>
#include <linux/scatterlist.h>
#include <linux/string.h>
#include <crypto/aes.h>
#include <crypto/aead.h>
#include <crypto/hash.h>
#include <crypto/skcipher.h>
#include <crypto/algapi.h>
#include "rtpe.h"

#define SHA1_LEN	20
#define GCM_TAG		16

enum { L_RTP_ENC = 0, L_RTP_AUTH = 1, L_RTP_SALT = 2, L_RTCP_ENC = 3, L_RTCP_AUTH = 4, L_RTCP_SALT = 5 };

struct rtpe_srtp_dir {
	struct crypto_sync_skcipher *ctr;	/* AES-CM */
	struct crypto_aead *gcm;		/* AEAD-AES-GCM */
	struct crypto_shash *hmac;		/* HMAC-SHA1 */
	struct crypto_aes_ctx *f8;		/* [0] k_e, [1] k_e ^ m */
	u8 salt[RTPE_MAX_SALT];
};

struct rtpe_srtp_ctx {
	u8 cipher, auth, rtp_tag, rtcp_tag, mki_len, flags;
	u8 mki[RTPE_MAX_MKI];
	struct rtpe_srtp_dir rtp, rtcp;
};

static bool is_gcm(u8 c)
{
	return c == RTPE_CIPHER_AES_GCM_128 || c == RTPE_CIPHER_AES_GCM_256;
}

static unsigned int cipher_key_len(u8 c)
{
	switch (c) {
	case RTPE_CIPHER_AES_CM_128:
	case RTPE_CIPHER_AES_F8_128:
	case RTPE_CIPHER_AES_GCM_128:
		return 16;
	case RTPE_CIPHER_AES_CM_192:
		return 24;
	case RTPE_CIPHER_AES_CM_256:
	case RTPE_CIPHER_AES_GCM_256:
		return 32;
	default:
		return 0;	/* NULL: any AES key length */
	}
}

int rtpe_srtp_validate(const struct rtpe_srtp *p)
{
	unsigned int kl;

	if (p->cipher == RTPE_CIPHER_NONE)
		return 0;
	if (p->cipher > RTPE_CIPHER_MAX || p->auth > RTPE_AUTH_MAX || p->mki_len > RTPE_MAX_MKI)
		return -EINVAL;
	kl = cipher_key_len(p->cipher);
	if (kl ? p->key_len != kl : (p->key_len != 16 && p->key_len != 24 && p->key_len != 32))
		return -EINVAL;
	if (p->salt_len != (is_gcm(p->cipher) ? 12 : 14))
		return -EINVAL;
	if (is_gcm(p->cipher))
		return p->auth == RTPE_AUTH_NONE ? 0 : -EINVAL;
	if (p->auth == RTPE_AUTH_HMAC_SHA1) {
		if ((p->rtp_tag_len != 4 && p->rtp_tag_len != 10) ||
		    (p->rtcp_tag_len != 4 && p->rtcp_tag_len != 10))
			return -EINVAL;
	}
	return 0;
}

/* ---- AES-CM ---------------------------------------------------------------------- */

static int ctr_xor(struct crypto_sync_skcipher *tfm, const u8 iv_in[16], u8 *buf, unsigned int len)
{
	SYNC_SKCIPHER_REQUEST_ON_STACK(req, tfm);
	struct scatterlist sg;
	u8 iv[16];
	int err;

	if (!len)
		return 0;
	memcpy(iv, iv_in, 16);
	sg_init_one(&sg, buf, len);
	skcipher_request_set_sync_tfm(req, tfm);
	skcipher_request_set_callback(req, 0, NULL, NULL);
	skcipher_request_set_crypt(req, &sg, &sg, len, iv);
	err = crypto_skcipher_encrypt(req);
	skcipher_request_zero(req);
	return err;
}

/* RFC 3711 4.3.1 with kdr = 0: PRF_n(k_m, (label * 2^48) XOR salt) */
static int kdf(const struct rtpe_srtp *p, u8 label, u8 *out, unsigned int n)
{
	struct crypto_sync_skcipher *tfm;
	u8 iv[16] = { 0 };
	u8 *tmp;	/* scatterlists must not point at the (vmapped) stack */
	int err;

	tmp = kzalloc(n, GFP_KERNEL);
	if (!tmp)
		return -ENOMEM;
	tfm = crypto_alloc_sync_skcipher("ctr(aes)", 0, 0);
	if (IS_ERR(tfm)) {
		kfree(tmp);
		return PTR_ERR(tfm);
	}
	err = crypto_sync_skcipher_setkey(tfm, p->master_key, p->key_len);
	if (!err) {
		/* a 96-bit (GCM) master salt is padded with zeros to 112 bits */
		memcpy(iv, p->master_salt, min_t(unsigned int, p->salt_len, RTPE_MAX_SALT));
		iv[7] ^= label;
		err = ctr_xor(tfm, iv, tmp, n);
		memcpy(out, tmp, n);
	}
	crypto_free_sync_skcipher(tfm);
	memzero_explicit(iv, sizeof(iv));
	kfree_sensitive(tmp);
	return err;
}

/* ---- AES-F8 (RFC 3711 4.1.2) -------------------------------------------------------- */

static void f8_xor(const struct crypto_aes_ctx f8[2], const u8 iv[16], u8 *buf, unsigned int len)
{
	u8 ivp[16], s[16], in[16];
	unsigned int j = 0, off, i, c;

	aes_encrypt(&f8[1], ivp, iv);		/* IV' = E(k_e ^ m, IV) */
	memset(s, 0, sizeof(s));
	for (off = 0; off < len; off += 16, j++) {
		for (i = 0; i < 16; i++)
			in[i] = ivp[i] ^ s[i];
		in[12] ^= (u8)(j >> 24);
		in[13] ^= (u8)(j >> 16);
		in[14] ^= (u8)(j >> 8);
		in[15] ^= (u8)j;
		aes_encrypt(&f8[0], s, in);
		c = min_t(unsigned int, 16, len - off);
		for (i = 0; i < c; i++)
			buf[off + i] ^= s[i];
	}
	memzero_explicit(s, sizeof(s));
	memzero_explicit(ivp, sizeof(ivp));
}

/* ---- contexts ----------------------------------------------------------------------- */

static void dir_free(struct rtpe_srtp_dir *d)
{
	if (d->ctr)
		crypto_free_sync_skcipher(d->ctr);
	if (d->gcm)
		crypto_free_aead(d->gcm);
	if (d->hmac)
		crypto_free_shash(d->hmac);
	kfree_sensitive(d->f8);
	memzero_explicit(d->salt, sizeof(d->salt));
}

static int dir_init(struct rtpe_srtp_dir *d, const struct rtpe_srtp *p, u8 l_enc)
{
	u8 ke[RTPE_MAX_KEY], ka[SHA1_LEN], m[RTPE_MAX_KEY];
	unsigned int i;
	int err;

	err = kdf(p, l_enc, ke, p->key_len);
	if (!err)
		err = kdf(p, l_enc + 2, d->salt, p->salt_len);
	if (!err && p->auth == RTPE_AUTH_HMAC_SHA1)
		err = kdf(p, l_enc + 1, ka, sizeof(ka));
	if (err)
		goto out;

	switch (p->cipher) {
	case RTPE_CIPHER_AES_CM_128:
	case RTPE_CIPHER_AES_CM_192:
	case RTPE_CIPHER_AES_CM_256:
		d->ctr = crypto_alloc_sync_skcipher("ctr(aes)", 0, 0);
		if (IS_ERR(d->ctr)) {
			err = PTR_ERR(d->ctr);
			d->ctr = NULL;
			goto out;
		}
		err = crypto_sync_skcipher_setkey(d->ctr, ke, p->key_len);
		break;
	case RTPE_CIPHER_AES_F8_128:
		d->f8 = kcalloc(2, sizeof(*d->f8), GFP_KERNEL);
		if (!d->f8) {
			err = -ENOMEM;
			goto out;
		}
		/* m = k_s || 0x555..5, as long as the key */
		memset(m, 0x55, sizeof(m));
		memcpy(m, d->salt, 14);
		for (i = 0; i < p->key_len; i++)
			m[i] ^= ke[i];
		err = aes_expandkey(&d->f8[0], ke, p->key_len);
		if (!err)
			err = aes_expandkey(&d->f8[1], m, p->key_len);
		break;
	case RTPE_CIPHER_AES_GCM_128:
	case RTPE_CIPHER_AES_GCM_256:
		d->gcm = crypto_alloc_aead("gcm(aes)", 0, CRYPTO_ALG_ASYNC);
		if (IS_ERR(d->gcm)) {
			err = PTR_ERR(d->gcm);
			d->gcm = NULL;
			goto out;
		}
		err = crypto_aead_setkey(d->gcm, ke, p->key_len);
		if (!err)
			err = crypto_aead_setauthsize(d->gcm, GCM_TAG);
		break;
	default:	/* NULL cipher */
		break;
	}
	if (err)
		goto out;
	if (p->auth == RTPE_AUTH_HMAC_SHA1) {
		d->hmac = crypto_alloc_shash("hmac(sha1)", 0, 0);
		if (IS_ERR(d->hmac)) {
			err = PTR_ERR(d->hmac);
			d->hmac = NULL;
			goto out;
		}
		err = crypto_shash_setkey(d->hmac, ka, sizeof(ka));
	}
out:
	memzero_explicit(ke, sizeof(ke));
	memzero_explicit(ka, sizeof(ka));
	memzero_explicit(m, sizeof(m));
	return err;
}

struct rtpe_srtp_ctx *rtpe_srtp_new(const struct rtpe_srtp *p)
{
	struct rtpe_srtp_ctx *c;
	int err;

	err = rtpe_srtp_validate(p);
	if (err)
		return ERR_PTR(err);
	c = kzalloc(sizeof(*c), GFP_KERNEL);
	if (!c)
		return ERR_PTR(-ENOMEM);
	c->cipher = p->cipher;
	c->auth = p->auth;
	c->rtp_tag = p->auth ? p->rtp_tag_len : 0;
	c->rtcp_tag = p->auth ? p->rtcp_tag_len : 0;
	c->mki_len = p->mki_len;
	c->flags = p->flags;
	memcpy(c->mki, p->mki, sizeof(c->mki));
	err = dir_init(&c->rtp, p, L_RTP_ENC);
	if (!err)
		err = dir_init(&c->rtcp, p, L_RTCP_ENC);
	if (err) {
		rtpe_srtp_free(c);
		return ERR_PTR(err);
	}
	return c;
}

void rtpe_srtp_free(struct rtpe_srtp_ctx *c)
{
	if (!c)
		return;
	dir_free(&c->rtp);
	dir_free(&c->rtcp);
	kfree_sensitive(c);
}

/* ---- building blocks ---------------------------------------------------------------- */

static void put32(u8 *p, u32 v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

static u32 get32(const u8 *p)
{
	return (u32)p[0] << 24 | (u32)p[1] << 16 | (u32)p[2] << 8 | p[3];
}

/* HMAC-SHA1 over buf[0..len) followed by extra[0..xlen) */
static int hmac(struct crypto_shash *tfm, const u8 *buf, unsigned int len,
		const u8 *extra, unsigned int xlen, u8 out[SHA1_LEN])
{
	SHASH_DESC_ON_STACK(desc, tfm);
	int err;

	desc->tfm = tfm;
	err = crypto_shash_init(desc);
	if (!err)
		err = crypto_shash_update(desc, buf, len);
	if (!err && xlen)
		err = crypto_shash_update(desc, extra, xlen);
	if (!err)
		err = crypto_shash_final(desc, out);
	shash_desc_zero(desc);
	return err;
}

/* AES-CM IV: k_s * 2^16 ^ SSRC * 2^64 ^ index * 2^16 */
static void cm_iv(u8 iv[16], const u8 *salt, u32 ssrc, u64 index)
{
	unsigned int i;

	memcpy(iv, salt, 14);
	iv[14] = iv[15] = 0;
	iv[4] ^= ssrc >> 24;
	iv[5] ^= ssrc >> 16;
	iv[6] ^= ssrc >> 8;
	iv[7] ^= ssrc;
	for (i = 0; i < 6; i++)
		iv[8 + i] ^= (u8)(index >> (40 - 8 * i));
}

/* GCM IV (RFC 7714 8.1 / 9.1): 00 00 || SSRC || a(4) || b(2..4), XOR salt */
static void gcm_iv(u8 iv[12], const u8 *salt, u32 ssrc, u32 a, u32 b, bool rtcp)
{
	unsigned int i;

	memset(iv, 0, 12);
	put32(iv + 2, ssrc);
	if (rtcp) {
		put32(iv + 8, b);	/* 00 00 || SSRC || 00 00 || index */
	} else {
		put32(iv + 6, a);	/* ROC */
		iv[10] = (u8)(b >> 8);	/* SEQ */
		iv[11] = (u8)b;
	}
	for (i = 0; i < 12; i++)
		iv[i] ^= salt[i];
}

/* in-place AEAD over sg list: aad pieces then the text (+ tag) */
static int gcm_crypt(struct crypto_aead *tfm, bool enc, const u8 iv_in[12],
		     u8 *aad1, unsigned int aad1_len, u8 *aad2, unsigned int aad2_len,
		     u8 *text, unsigned int text_len)
{
	struct aead_request *req;
	struct scatterlist sg[3];
	u8 iv[12];
	int n = 0, err;

	req = aead_request_alloc(tfm, GFP_ATOMIC);
	if (!req)
		return -ENOMEM;
	memcpy(iv, iv_in, 12);
	sg_init_table(sg, aad2_len ? 3 : 2);
	sg_set_buf(&sg[n++], aad1, aad1_len);
	if (aad2_len)
		sg_set_buf(&sg[n++], aad2, aad2_len);
	sg_set_buf(&sg[n], text, text_len);
	aead_request_set_callback(req, 0, NULL, NULL);
	aead_request_set_ad(req, aad1_len + aad2_len);
	aead_request_set_crypt(req, sg, sg, enc ? text_len - GCM_TAG : text_len, iv);
	err = enc ? crypto_aead_encrypt(req) : crypto_aead_decrypt(req);
	aead_request_free(req);
	return err == -EBADMSG ? -EBADMSG : err;
}

/* ---- SRTP ---------------------------------------------------------------------------- */

unsigned int rtpe_srtp_overhead_rtp(const struct rtpe_srtp_ctx *c)
{
	return c->mki_len + (is_gcm(c->cipher) ? GCM_TAG : c->rtp_tag);
}

static int rtp_keystream(struct rtpe_srtp_ctx *c, u8 *pkt, unsigned int hdrlen,
			 unsigned int end, u32 ssrc, u16 seq, u32 roc)
{
	u8 iv[16];

	if (c->flags & RTPE_SRTP_UNENCRYPTED_SRTP)
		return 0;
	switch (c->cipher) {
	case RTPE_CIPHER_AES_CM_128:
	case RTPE_CIPHER_AES_CM_192:
	case RTPE_CIPHER_AES_CM_256:
		cm_iv(iv, c->rtp.salt, ssrc, ((u64)roc << 16) | seq);
		return ctr_xor(c->rtp.ctr, iv, pkt + hdrlen, end - hdrlen);
	case RTPE_CIPHER_AES_F8_128:
		iv[0] = 0;
		memcpy(iv + 1, pkt + 1, 11);	/* M|PT, SEQ, TS, SSRC */
		put32(iv + 12, roc);
		f8_xor(c->rtp.f8, iv, pkt + hdrlen, end - hdrlen);
		return 0;
	default:
		return 0;
	}
}

int rtpe_srtp_unprotect_rtp(struct rtpe_srtp_ctx *c, u8 *pkt, unsigned int *len,
			    unsigned int hdrlen, u32 ssrc, u16 seq, u32 roc)
{
	unsigned int n = *len, tag, end;
	u8 mac[SHA1_LEN], rocb[4], iv[12];
	int err;

	if (is_gcm(c->cipher)) {
		if (n < hdrlen + GCM_TAG + c->mki_len)
			return -EINVAL;
		end = n - c->mki_len;		/* ciphertext + tag */
		if (c->mki_len && crypto_memneq(pkt + end, c->mki, c->mki_len))
			return -EBADMSG;
		gcm_iv(iv, c->rtp.salt, ssrc, roc, seq, false);
		err = gcm_crypt(c->rtp.gcm, false, iv, pkt, hdrlen, NULL, 0, pkt + hdrlen,
				end - hdrlen);
		if (err)
			return err;
		*len = end - GCM_TAG;
		return 0;
	}
	tag = (c->flags & RTPE_SRTP_UNAUTHENTICATED_SRTP) ? 0 : c->rtp_tag;
	if (n < hdrlen + tag + c->mki_len)
		return -EINVAL;
	end = n - tag - c->mki_len;
	if (c->mki_len && crypto_memneq(pkt + end, c->mki, c->mki_len))
		return -EBADMSG;
	if (tag) {
		put32(rocb, roc);
		err = hmac(c->rtp.hmac, pkt, end, rocb, 4, mac);
		if (err)
			return err;
		if (crypto_memneq(mac, pkt + n - tag, tag))
			return -EBADMSG;
	}
	err = rtp_keystream(c, pkt, hdrlen, end, ssrc, seq, roc);
	*len = end;
	return err;
}

int rtpe_srtp_protect_rtp(struct rtpe_srtp_ctx *c, u8 *pkt, unsigned int *len,
			  unsigned int room, unsigned int hdrlen, u32 ssrc, u16 seq, u32 roc)
{
	unsigned int n = *len, tag;
	u8 mac[SHA1_LEN], rocb[4], iv[12];
	int err;

	if (n < hdrlen || n + rtpe_srtp_overhead_rtp(c) > room)
		return -EINVAL;
	if (is_gcm(c->cipher)) {
		gcm_iv(iv, c->rtp.salt, ssrc, roc, seq, false);
		err = gcm_crypt(c->rtp.gcm, true, iv, pkt, hdrlen, NULL, 0, pkt + hdrlen,
				n - hdrlen + GCM_TAG);
		if (err)
			return err;
		n += GCM_TAG;
		memcpy(pkt + n, c->mki, c->mki_len);
		*len = n + c->mki_len;
		return 0;
	}
	err = rtp_keystream(c, pkt, hdrlen, n, ssrc, seq, roc);
	if (err)
		return err;
	tag = (c->flags & RTPE_SRTP_UNAUTHENTICATED_SRTP) ? 0 : c->rtp_tag;
	if (tag) {
		put32(rocb, roc);
		err = hmac(c->rtp.hmac, pkt, n, rocb, 4, mac);
		if (err)
			return err;
	}
	memcpy(pkt + n, c->mki, c->mki_len);
	n += c->mki_len;
	memcpy(pkt + n, mac, tag);
	*len = n + tag;
	return 0;
}

/* ---- SRTCP ---------------------------------------------------------------------------- */

static int rtcp_keystream(struct rtpe_srtp_ctx *c, u8 *pkt, unsigned int end, u32 eidx)
{
	u8 iv[16];

	switch (c->cipher) {
	case RTPE_CIPHER_AES_CM_128:
	case RTPE_CIPHER_AES_CM_192:
	case RTPE_CIPHER_AES_CM_256:
		cm_iv(iv, c->rtcp.salt, get32(pkt + 4), eidx & 0x7fffffff);
		return ctr_xor(c->rtcp.ctr, iv, pkt + 8, end - 8);
	case RTPE_CIPHER_AES_F8_128:
		memset(iv, 0, 4);
		put32(iv + 4, eidx);		/* E || SRTCP index */
		memcpy(iv + 8, pkt, 8);		/* V|P|RC, PT, length, SSRC */
		f8_xor(c->rtcp.f8, iv, pkt + 8, end - 8);
		return 0;
	default:
		return 0;
	}
}

int rtpe_srtp_unprotect_rtcp(struct rtpe_srtp_ctx *c, u8 *pkt, unsigned int *len)
{
	unsigned int n = *len, tag = is_gcm(c->cipher) ? 0 : c->rtcp_tag, end;
	u8 mac[SHA1_LEN], iv[12];
	u32 eidx;
	int err;

	/* header(8) [payload] E|index(4) [MKI] [tag] */
	if (n < 8 + 4 + c->mki_len + tag + (is_gcm(c->cipher) ? GCM_TAG : 0))
		return -EINVAL;
	end = n - tag - c->mki_len;		/* end of E||index */
	if (c->mki_len && crypto_memneq(pkt + end, c->mki, c->mki_len))
		return -EBADMSG;
	eidx = get32(pkt + end - 4);
	if (is_gcm(c->cipher)) {
		gcm_iv(iv, c->rtcp.salt, get32(pkt + 4), 0, eidx & 0x7fffffff, true);
		if (eidx & 0x80000000) {
			err = gcm_crypt(c->rtcp.gcm, false, iv, pkt, 8, pkt + end - 4, 4, pkt + 8,
					end - 4 - 8);
		} else {
			/* unencrypted SRTCP: everything is AAD, the tag follows it */
			err = gcm_crypt(c->rtcp.gcm, false, iv, pkt, end - 4 - GCM_TAG,
					pkt + end - 4, 4, pkt + end - 4 - GCM_TAG, GCM_TAG);
		}
		if (err)
			return err;
		*len = end - 4 - GCM_TAG;
		return 0;
	}
	if (tag) {
		err = hmac(c->rtcp.hmac, pkt, end, NULL, 0, mac);
		if (err)
			return err;
		if (crypto_memneq(mac, pkt + n - tag, tag))
			return -EBADMSG;
	}
	if (eidx & 0x80000000) {
		err = rtcp_keystream(c, pkt, end - 4, eidx);
		if (err)
			return err;
	}
	*len = end - 4;
	return 0;
}

int rtpe_srtp_protect_rtcp(struct rtpe_srtp_ctx *c, u8 *pkt, unsigned int *len,
			   unsigned int room, u32 index)
{
	unsigned int n = *len, tag = is_gcm(c->cipher) ? 0 : c->rtcp_tag;
	bool encrypt = !(c->flags & RTPE_SRTP_UNENCRYPTED_SRTCP) && c->cipher != RTPE_CIPHER_NULL;
	u32 eidx = (index & 0x7fffffff) | (encrypt ? 0x80000000 : 0);
	u8 mac[SHA1_LEN], iv[12], *eb;
	int err;

	if (n < 8 || n + 4 + c->mki_len + tag + (is_gcm(c->cipher) ? GCM_TAG : 0) > room)
		return -EINVAL;
	if (is_gcm(c->cipher)) {
		gcm_iv(iv, c->rtcp.salt, get32(pkt + 4), 0, index & 0x7fffffff, true);
		/* E||index sits after the tag; it is written there first (it is AAD) */
		eb = pkt + n + GCM_TAG;
		put32(eb, eidx);
		if (encrypt)
			err = gcm_crypt(c->rtcp.gcm, true, iv, pkt, 8, eb, 4, pkt + 8,
					n - 8 + GCM_TAG);
		else
			err = gcm_crypt(c->rtcp.gcm, true, iv, pkt, n, eb, 4, pkt + n, GCM_TAG);
		if (err)
			return err;
		n += GCM_TAG + 4;
		memcpy(pkt + n, c->mki, c->mki_len);
		*len = n + c->mki_len;
		return 0;
	}
	if (encrypt) {
		err = rtcp_keystream(c, pkt, n, eidx);
		if (err)
			return err;
	}
	put32(pkt + n, eidx);
	n += 4;
	if (tag) {
		err = hmac(c->rtcp.hmac, pkt, n, NULL, 0, mac);
		if (err)
			return err;
	}
	memcpy(pkt + n, c->mki, c->mki_len);
	n += c->mki_len;
	memcpy(pkt + n, mac, tag);
	*len = n + tag;
	return 0;
}

/* ---- self-test: RFC 3711 appendix B.1 (F8), B.2 (AES-CM), B.3 (key derivation) -------- */

static int rtpe_f8_selftest(void)
{
	static const u8 ke[16] = { 0x23, 0x48, 0x29, 0x00, 0x84, 0x67, 0xbe, 0x18,
				   0x6c, 0x3d, 0xe1, 0x4a, 0xae, 0x72, 0xd6, 0x2c };
	static const u8 iv[16] = { 0x00, 0x6e, 0x5c, 0xba, 0x50, 0x68, 0x1d, 0xe5,
				   0x5c, 0x62, 0x15, 0x99, 0xd4, 0x62, 0x56, 0x4a };
	static const u8 want[39] = {
		0x01, 0x9c, 0xe7, 0xa2, 0x6e, 0x78, 0x54, 0x01, 0x4a, 0x63, 0x66, 0xaa, 0x95,
		0xd4, 0xee, 0xfd, 0x1a, 0xd4, 0x17, 0x2a, 0x14, 0xf9, 0xfa, 0xf4, 0x55, 0xb7,
		0xf1, 0xd4, 0xb6, 0x2b, 0xd0, 0x8f, 0x56, 0x2c, 0x0e, 0xef, 0x7c, 0x48, 0x02 };
	struct crypto_aes_ctx *f8;
	u8 m[16], buf[39];
	unsigned int i;
	int err;

	f8 = kcalloc(2, sizeof(*f8), GFP_KERNEL);
	if (!f8)
		return -ENOMEM;
	memset(m, 0x55, sizeof(m));
	m[0] = 0x32;		/* session salt 32f2870d */
	m[1] = 0xf2;
	m[2] = 0x87;
	m[3] = 0x0d;
	for (i = 0; i < 16; i++)
		m[i] ^= ke[i];
	memcpy(buf, "pseudorandomness is the next best thing", sizeof(buf));
	err = aes_expandkey(&f8[0], ke, 16);
	if (!err)
		err = aes_expandkey(&f8[1], m, 16);
	if (!err) {
		f8_xor(f8, iv, buf, sizeof(buf));
		if (memcmp(buf, want, sizeof(want)))
			err = -EBADE;
	}
	kfree_sensitive(f8);
	return err;
}

int rtpe_srtp_selftest(void)
{
	static const u8 mk[16] = { 0xe1, 0xf9, 0x7a, 0x0d, 0x3e, 0x01, 0x8b, 0xe0,
				   0xd6, 0x4f, 0xa3, 0x2c, 0x06, 0xde, 0x41, 0x39 };
	static const u8 ms[14] = { 0x0e, 0xc6, 0x75, 0xad, 0x49, 0x8a, 0xfe, 0xeb,
				   0xb6, 0x96, 0x0b, 0x3a, 0xab, 0xe6 };
	static const u8 want_ke[16] = { 0xc6, 0x1e, 0x7a, 0x93, 0x74, 0x4f, 0x39, 0xee,
					0x10, 0x73, 0x4a, 0xfe, 0x3f, 0xf7, 0xa0, 0x87 };
	static const u8 want_ks[14] = { 0x30, 0xcb, 0xbc, 0x08, 0x86, 0x3d, 0x8c, 0x85,
					0xd4, 0x9d, 0xb3, 0x4a, 0x9a, 0xe1 };
	static const u8 want_ka[20] = { 0xce, 0xbe, 0x32, 0x1f, 0x6f, 0xf7, 0x71, 0x6b,
					0x6f, 0xd4, 0xab, 0x49, 0xaf, 0x25, 0x6a, 0x15,
					0x6d, 0x38, 0xba, 0xa4 };
	/* B.2: session key 2B7E...4F3C, IV F0F1...FCFD0000 (salt F0..FD, SSRC 0, index 0) */
	static const u8 sk[16] = { 0x2b, 0x7e, 0x15, 0x16, 0x28, 0xae, 0xd2, 0xa6,
				   0xab, 0xf7, 0x15, 0x88, 0x09, 0xcf, 0x4f, 0x3c };
	static const u8 want_ks0[32] = {
		0xe0, 0x3e, 0xad, 0x09, 0x35, 0xc9, 0x5e, 0x80, 0xe1, 0x66, 0xb1, 0x6d, 0xd9, 0x2b, 0x4e, 0xb4,
		0xd2, 0x35, 0x13, 0x16, 0x2b, 0x02, 0xd0, 0xf7, 0x2a, 0x43, 0xa2, 0xfe, 0x4a, 0x5f, 0x97, 0xab };
	struct rtpe_srtp *p;
	u8 *out, iv[16], salt[14];
	unsigned int i;
	int err;

	p = kzalloc(sizeof(*p), GFP_KERNEL);
	out = kzalloc(32, GFP_KERNEL);	/* used in a scatterlist: not on the stack */
	if (!p || !out) {
		kfree(p);
		kfree(out);
		return -ENOMEM;
	}
	p->key_len = 16;
	p->salt_len = 14;
	memcpy(p->master_key, mk, 16);
	memcpy(p->master_salt, ms, 14);
	err = kdf(p, L_RTP_ENC, out, 16);
	if (!err && memcmp(out, want_ke, 16))
		err = -EBADE;
	if (!err)
		err = kdf(p, L_RTP_SALT, out, 14);
	if (!err && memcmp(out, want_ks, 14))
		err = -EBADE;
	if (!err)
		err = kdf(p, L_RTP_AUTH, out, 20);
	if (!err && memcmp(out, want_ka, 20))
		err = -EBADE;
	kfree_sensitive(p);
	if (err)
		goto out;

	for (i = 0; i < 14; i++)
		salt[i] = 0xf0 + i;
	cm_iv(iv, salt, 0, 0);
	{
		struct crypto_sync_skcipher *tfm = crypto_alloc_sync_skcipher("ctr(aes)", 0, 0);

		if (IS_ERR(tfm)) {
			err = PTR_ERR(tfm);
			goto out;
		}
		err = crypto_sync_skcipher_setkey(tfm, sk, 16);
		memset(out, 0, 32);
		if (!err)
			err = ctr_xor(tfm, iv, out, 32);
		crypto_free_sync_skcipher(tfm);
	}
	if (!err && memcmp(out, want_ks0, 32))
		err = -EBADE;
	if (!err)
		err = rtpe_f8_selftest();
out:
	kfree(out);
	return err;
}
