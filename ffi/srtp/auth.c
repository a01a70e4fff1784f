/* auth.c - HMAC-SHA1 with the inner and outer pads hashed once per context (RFC 2104). */
#include <string.h>

#include "srtp_internal.h"

#define SHA1_BLOCK 64

static int hmac_init_direct(struct srtp_xform *x, const uint8_t key[SRTP_AUTH_KEY_LEN])
{
	uint8_t pad[SHA1_BLOCK];
	int ok = 1;
	memset(pad, 0x36, sizeof(pad));
	for (size_t i = 0; i < SRTP_AUTH_KEY_LEN; i++)
		pad[i] ^= key[i];
	ok &= rtpe_ossl.SHA1_Init(&x->sha_inner) == 1;
	ok &= rtpe_ossl.SHA1_Update(&x->sha_inner, pad, sizeof(pad)) == 1;
	memset(pad, 0x5c, sizeof(pad));
	for (size_t i = 0; i < SRTP_AUTH_KEY_LEN; i++)
		pad[i] ^= key[i];
	ok &= rtpe_ossl.SHA1_Init(&x->sha_outer) == 1;
	ok &= rtpe_ossl.SHA1_Update(&x->sha_outer, pad, sizeof(pad)) == 1;
	srtp_wipe(pad, sizeof(pad));
	return ok ? 0 : RTPE_SRTP_E_CRYPTO;
}

static int hmac_direct(const struct srtp_xform *x, const uint8_t *a, size_t alen, const uint8_t *b,
		       size_t blen, uint8_t out[20])
{
	uint8_t inner[20];
	struct rtpe_sha1_state w = x->sha_inner;
	int ok = rtpe_ossl.SHA1_Update(&w, a, alen) == 1;
	if (blen)
		ok = ok && rtpe_ossl.SHA1_Update(&w, b, blen) == 1;
	ok = ok && rtpe_ossl.SHA1_Final(inner, &w) == 1;
	w = x->sha_outer;
	ok = ok && rtpe_ossl.SHA1_Update(&w, inner, sizeof(inner)) == 1;
	ok = ok && rtpe_ossl.SHA1_Final(out, &w) == 1;
	srtp_wipe(&w, sizeof(w));
	return ok ? 0 : RTPE_SRTP_E_CRYPTO;
}

int srtp_hmac_init(struct srtp_xform *x, const uint8_t key[SRTP_AUTH_KEY_LEN])
{
	if (rtpe_ossl.sha1_direct)
		return hmac_init_direct(x, key);
	uint8_t pad[SHA1_BLOCK];
	x->hmac_inner = rtpe_ossl.EVP_MD_CTX_new();
	x->hmac_outer = rtpe_ossl.EVP_MD_CTX_new();
	x->hmac_work = rtpe_ossl.EVP_MD_CTX_new();
	if (!x->hmac_inner || !x->hmac_outer || !x->hmac_work)
		return RTPE_SRTP_E_CRYPTO;
	int ok = 1;
	memset(pad, 0x36, sizeof(pad));
	for (size_t i = 0; i < SRTP_AUTH_KEY_LEN; i++)
		pad[i] ^= key[i];
	ok &= rtpe_ossl.EVP_DigestInit_ex(x->hmac_inner, rtpe_ossl.sha1, NULL) == 1;
	ok &= rtpe_ossl.EVP_DigestUpdate(x->hmac_inner, pad, sizeof(pad)) == 1;
	memset(pad, 0x5c, sizeof(pad));
	for (size_t i = 0; i < SRTP_AUTH_KEY_LEN; i++)
		pad[i] ^= key[i];
	ok &= rtpe_ossl.EVP_DigestInit_ex(x->hmac_outer, rtpe_ossl.sha1, NULL) == 1;
	ok &= rtpe_ossl.EVP_DigestUpdate(x->hmac_outer, pad, sizeof(pad)) == 1;
	srtp_wipe(pad, sizeof(pad));
	return ok ? 0 : RTPE_SRTP_E_CRYPTO;
}

int srtp_hmac(struct srtp_xform *x, const uint8_t *a, size_t alen, const uint8_t *b, size_t blen,
	      uint8_t out[20])
{
	if (rtpe_ossl.sha1_direct)
		return hmac_direct(x, a, alen, b, blen, out);
	uint8_t inner[20];
	unsigned int n = 0;
	int ok = rtpe_ossl.EVP_MD_CTX_copy_ex(x->hmac_work, x->hmac_inner) == 1;
	ok = ok && rtpe_ossl.EVP_DigestUpdate(x->hmac_work, a, alen) == 1;
	if (blen)
		ok = ok && rtpe_ossl.EVP_DigestUpdate(x->hmac_work, b, blen) == 1;
	ok = ok && rtpe_ossl.EVP_DigestFinal_ex(x->hmac_work, inner, &n) == 1 && n == 20;
	ok = ok && rtpe_ossl.EVP_MD_CTX_copy_ex(x->hmac_work, x->hmac_outer) == 1;
	ok = ok && rtpe_ossl.EVP_DigestUpdate(x->hmac_work, inner, sizeof(inner)) == 1;
	ok = ok && rtpe_ossl.EVP_DigestFinal_ex(x->hmac_work, out, &n) == 1 && n == 20;
	return ok ? 0 : RTPE_SRTP_E_CRYPTO;
}

int srtp_ct_differ(const uint8_t *a, const uint8_t *b, size_t n)
{
	uint8_t d = 0;
	for (size_t i = 0; i < n; i++)
		d |= (uint8_t)(a[i] ^ b[i]);
	return d != 0;
}

void srtp_wipe(void *p, size_t n)
{
	volatile uint8_t *v = p;
	while (n--)
		*v++ = 0;
}
