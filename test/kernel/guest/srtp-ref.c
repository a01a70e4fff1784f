// SPDX-License-Identifier: GPL-2.0
/*
 * srtp-ref.c - a second, userspace SRTP/SRTCP implementation built on
 * OpenSSL, written straight from RFC 3711 / RFC 7714, so that the kernel's
 * output can be compared byte for byte. Its key derivation and keystream
 * are themselves checked against RFC 3711 appendix B in srtp-test.c.
 */
#include <string.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include "srtp-ref.h"

static const EVP_CIPHER *ctr_for(size_t klen)
{
	return klen == 16 ? EVP_aes_128_ctr() : klen == 24 ? EVP_aes_192_ctr() : EVP_aes_256_ctr();
}

int ref_ctr(const uint8_t *key, size_t klen, const uint8_t iv[16], uint8_t *buf, size_t len)
{
	EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
	int ol = 0, ok;

	ok = EVP_EncryptInit_ex(x, ctr_for(klen), NULL, key, iv) &&
	     EVP_EncryptUpdate(x, buf, &ol, buf, (int)len);
	EVP_CIPHER_CTX_free(x);
	return ok ? 0 : -1;
}

static void ecb1(const uint8_t *key, size_t klen, const uint8_t in[16], uint8_t out[16])
{
	EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
	int ol = 0;

	EVP_EncryptInit_ex(x, klen == 16 ? EVP_aes_128_ecb() : klen == 24 ? EVP_aes_192_ecb() :
			   EVP_aes_256_ecb(), NULL, key, NULL);
	EVP_CIPHER_CTX_set_padding(x, 0);
	EVP_EncryptUpdate(x, out, &ol, in, 16);
	EVP_CIPHER_CTX_free(x);
}

int ref_kdf(const struct rtpe_srtp *p, uint8_t label, uint8_t *out, size_t n)
{
	uint8_t iv[16] = { 0 };

	memcpy(iv, p->master_salt, p->salt_len);
	iv[7] ^= label;
	memset(out, 0, n);
	return ref_ctr(p->master_key, p->key_len, iv, out, n);
}

static int gcm(uint8_t c)
{
	return c == RTPE_CIPHER_AES_GCM_128 || c == RTPE_CIPHER_AES_GCM_256;
}

int ref_init(struct ref_ctx *c, const struct rtpe_srtp *p)
{
	int d;

	memset(c, 0, sizeof(*c));
	c->p = *p;
	for (d = 0; d < 2; d++) {
		if (ref_kdf(p, 3 * d + 0, c->ke[d], p->key_len) ||
		    ref_kdf(p, 3 * d + 1, c->ka[d], 20) ||
		    ref_kdf(p, 3 * d + 2, c->ks[d], p->salt_len))
			return -1;
	}
	return 0;
}

static void put32(uint8_t *b, uint32_t v)
{
	b[0] = v >> 24;
	b[1] = v >> 16;
	b[2] = v >> 8;
	b[3] = v;
}

void ref_f8(const uint8_t *ke, size_t klen, const uint8_t *ks, const uint8_t iv[16],
	       uint8_t *buf, size_t len)
{
	uint8_t m[32], kem[32], ivp[16], s[16] = { 0 }, in[16];
	size_t off, i;
	uint32_t j = 0;

	memset(m, 0x55, sizeof(m));
	memcpy(m, ks, 14);
	for (i = 0; i < klen; i++)
		kem[i] = ke[i] ^ m[i];
	ecb1(kem, klen, iv, ivp);
	for (off = 0; off < len; off += 16, j++) {
		for (i = 0; i < 16; i++)
			in[i] = ivp[i] ^ s[i];
		in[12] ^= j >> 24;
		in[13] ^= j >> 16;
		in[14] ^= j >> 8;
		in[15] ^= j;
		ecb1(ke, klen, in, s);
		for (i = 0; i < 16 && off + i < len; i++)
			buf[off + i] ^= s[i];
	}
}

static size_t hdr_len(const uint8_t *pkt)
{
	size_t hl = 12 + 4 * (pkt[0] & 15);

	if (pkt[0] & 0x10)
		hl += 4 + 4 * ((size_t)pkt[hl + 2] << 8 | pkt[hl + 3]);
	return hl;
}

static void gcm_enc(const uint8_t *key, size_t klen, const uint8_t iv[12], const uint8_t *aad,
		    size_t aadlen, uint8_t *text, size_t tlen, uint8_t tag[16])
{
	EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
	int ol = 0;

	EVP_EncryptInit_ex(x, klen == 16 ? EVP_aes_128_gcm() : EVP_aes_256_gcm(), NULL, NULL, NULL);
	EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_GCM_SET_IVLEN, 12, NULL);
	EVP_EncryptInit_ex(x, NULL, NULL, key, iv);
	EVP_EncryptUpdate(x, NULL, &ol, aad, (int)aadlen);
	if (tlen)
		EVP_EncryptUpdate(x, text, &ol, text, (int)tlen);
	EVP_EncryptFinal_ex(x, text + tlen, &ol);
	EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_GCM_GET_TAG, 16, tag);
	EVP_CIPHER_CTX_free(x);
}

size_t ref_protect_rtp(struct ref_ctx *c, uint8_t *pkt, size_t len, uint32_t roc)
{
	const struct rtpe_srtp *p = &c->p;
	size_t hl = hdr_len(pkt), i;
	uint32_t ssrc = (uint32_t)pkt[8] << 24 | pkt[9] << 16 | pkt[10] << 8 | pkt[11];
	uint16_t seq = pkt[2] << 8 | pkt[3];
	uint8_t iv[16], mac[20], rocb[4];
	unsigned int ml = 0;

	if (gcm(p->cipher)) {
		uint8_t tag[16];

		memset(iv, 0, 12);
		put32(iv + 2, ssrc);
		put32(iv + 6, roc);
		iv[10] = seq >> 8;
		iv[11] = seq;
		for (i = 0; i < 12; i++)
			iv[i] ^= c->ks[0][i];
		gcm_enc(c->ke[0], p->key_len, iv, pkt, hl, pkt + hl, len - hl, tag);
		memcpy(pkt + len, tag, 16);
		len += 16;
		memcpy(pkt + len, p->mki, p->mki_len);
		return len + p->mki_len;
	}
	if (p->cipher >= RTPE_CIPHER_AES_CM_128 && p->cipher <= RTPE_CIPHER_AES_CM_256) {
		memcpy(iv, c->ks[0], 14);
		iv[14] = iv[15] = 0;
		for (i = 0; i < 4; i++)
			iv[4 + i] ^= pkt[8 + i];
		iv[8] ^= roc >> 24;
		iv[9] ^= roc >> 16;
		iv[10] ^= roc >> 8;
		iv[11] ^= roc;
		iv[12] ^= pkt[2];
		iv[13] ^= pkt[3];
		ref_ctr(c->ke[0], p->key_len, iv, pkt + hl, len - hl);
	} else if (p->cipher == RTPE_CIPHER_AES_F8_128) {
		iv[0] = 0;
		memcpy(iv + 1, pkt + 1, 11);
		put32(iv + 12, roc);
		ref_f8(c->ke[0], p->key_len, c->ks[0], iv, pkt + hl, len - hl);
	}
	put32(rocb, roc);
	memcpy(pkt + len, rocb, 4);	/* authenticated: packet || ROC */
	HMAC(EVP_sha1(), c->ka[0], 20, pkt, len + 4, mac, &ml);
	memcpy(pkt + len, p->mki, p->mki_len);
	len += p->mki_len;
	memcpy(pkt + len, mac, p->rtp_tag_len);
	return len + p->rtp_tag_len;
}

size_t ref_protect_rtcp(struct ref_ctx *c, uint8_t *pkt, size_t len, uint32_t index)
{
	const struct rtpe_srtp *p = &c->p;
	int enc = p->cipher != RTPE_CIPHER_NULL;
	uint32_t eidx = index | (enc ? 0x80000000u : 0);
	uint8_t iv[16], mac[20], eb[4];
	unsigned int ml = 0;
	size_t i;

	put32(eb, eidx);
	if (gcm(p->cipher)) {
		uint8_t aad[12], tag[16];

		memset(iv, 0, 12);
		memcpy(iv + 2, pkt + 4, 4);
		put32(iv + 8, index);
		for (i = 0; i < 12; i++)
			iv[i] ^= c->ks[1][i];
		memcpy(aad, pkt, 8);
		memcpy(aad + 8, eb, 4);
		gcm_enc(c->ke[1], p->key_len, iv, aad, 12, pkt + 8, len - 8, tag);
		memcpy(pkt + len, tag, 16);
		len += 16;
		memcpy(pkt + len, eb, 4);
		len += 4;
		memcpy(pkt + len, p->mki, p->mki_len);
		return len + p->mki_len;
	}
	if (p->cipher >= RTPE_CIPHER_AES_CM_128 && p->cipher <= RTPE_CIPHER_AES_CM_256) {
		memcpy(iv, c->ks[1], 14);
		iv[14] = iv[15] = 0;
		for (i = 0; i < 4; i++)
			iv[4 + i] ^= pkt[4 + i];
		iv[10] ^= index >> 24;
		iv[11] ^= index >> 16;
		iv[12] ^= index >> 8;
		iv[13] ^= index;
		ref_ctr(c->ke[1], p->key_len, iv, pkt + 8, len - 8);
	} else if (p->cipher == RTPE_CIPHER_AES_F8_128) {
		memset(iv, 0, 4);
		put32(iv + 4, eidx);
		memcpy(iv + 8, pkt, 8);
		ref_f8(c->ke[1], p->key_len, c->ks[1], iv, pkt + 8, len - 8);
	}
	memcpy(pkt + len, eb, 4);
	len += 4;
	HMAC(EVP_sha1(), c->ka[1], 20, pkt, len, mac, &ml);
	memcpy(pkt + len, p->mki, p->mki_len);
	len += p->mki_len;
	memcpy(pkt + len, mac, p->rtcp_tag_len);
	return len + p->rtcp_tag_len;
}
