/* cipher.c - AES counter mode, AES-f8 and AES-GCM over libcrypto, and per-sub-stream key setup. */
#include <limits.h>
#include <string.h>

#include "srtp_internal.h"

/* Counter mode without re-keying per packet: the counter blocks IV, IV+1, ... are encrypted in
 * batches with the ECB context (one EVP call per 512 bytes, no IV set-up) and XORed in. The
 * 16-bit block counter of RFC 3711 never carries: packets are far below 2^16 blocks. */
#define CM_BATCH 32
int srtp_aes_cm(EVP_CIPHER_CTX *c, const uint8_t iv[16], uint8_t *data, size_t len)
{
	uint8_t ctr[CM_BATCH * 16], ks[CM_BATCH * 16];
	if (len > 0xffff * 16)
		return RTPE_SRTP_E_INVAL;
	uint32_t block = 0;
	for (size_t off = 0; off < len;) {
		size_t n = len - off > sizeof(ks) ? sizeof(ks) : len - off;
		size_t blocks = (n + 15) / 16;
		for (size_t b = 0; b < blocks; b++, block++) {
			uint8_t *cb = ctr + 16 * b;
			memcpy(cb, iv, 14);
			uint32_t low = ((uint32_t)iv[14] << 8 | iv[15]) + block;
			cb[14] = (uint8_t)(low >> 8);
			cb[15] = (uint8_t)low;
		}
		int outl = 0;
		if (rtpe_ossl.EVP_EncryptUpdate(c, ks, &outl, ctr, (int)(blocks * 16)) != 1 ||
		    (size_t)outl != blocks * 16)
			return RTPE_SRTP_E_CRYPTO;
		for (size_t i = 0; i < n; i++)
			data[off + i] ^= ks[i];
		off += n;
	}
	return 0;
}

static int ecb_block(EVP_CIPHER_CTX *c, const uint8_t in[16], uint8_t out[16])
{
	int outl = 0;
	if (rtpe_ossl.EVP_EncryptUpdate(c, out, &outl, in, 16) != 1 || outl != 16)
		return RTPE_SRTP_E_CRYPTO;
	return 0;
}

/* RFC 3711 4.1.2: IV' = E(k_e XOR m, IV); S(j) = E(k_e, IV' XOR j XOR S(j-1)), S(-1) = 0. */
int srtp_aes_f8(const struct srtp_xform *x, const uint8_t iv[16], uint8_t *data, size_t len)
{
	uint8_t ivp[16], in[16], s[16] = { 0 };
	if (ecb_block(x->f8_iv, iv, ivp) != 0)
		return RTPE_SRTP_E_CRYPTO;
	uint32_t j = 0;
	for (size_t off = 0; off < len; off += 16, j++) {
		for (int i = 0; i < 16; i++)
			in[i] = (uint8_t)(ivp[i] ^ s[i]);
		in[12] ^= (uint8_t)(j >> 24);
		in[13] ^= (uint8_t)(j >> 16);
		in[14] ^= (uint8_t)(j >> 8);
		in[15] ^= (uint8_t)j;
		if (ecb_block(x->cipher, in, s) != 0)
			return RTPE_SRTP_E_CRYPTO;
		size_t n = len - off < 16 ? len - off : 16;
		for (size_t i = 0; i < n; i++)
			data[off + i] ^= s[i];
	}
	return 0;
}

int srtp_gcm_seal(EVP_CIPHER_CTX *c, const uint8_t iv[12], const uint8_t *aad, size_t aadlen,
		  const uint8_t *aad2, size_t aad2len, uint8_t *data, size_t len, uint8_t tag[SRTP_GCM_TAG])
{
	int outl = 0;
	if (len > INT_MAX || aadlen > INT_MAX || aad2len > INT_MAX)
		return RTPE_SRTP_E_INVAL;
	if (rtpe_ossl.EVP_EncryptInit_ex(c, NULL, NULL, NULL, iv) != 1)
		return RTPE_SRTP_E_CRYPTO;
	if (aadlen && rtpe_ossl.EVP_EncryptUpdate(c, NULL, &outl, aad, (int)aadlen) != 1)
		return RTPE_SRTP_E_CRYPTO;
	if (aad2len && rtpe_ossl.EVP_EncryptUpdate(c, NULL, &outl, aad2, (int)aad2len) != 1)
		return RTPE_SRTP_E_CRYPTO;
	if (len && (rtpe_ossl.EVP_EncryptUpdate(c, data, &outl, data, (int)len) != 1 ||
		    (size_t)outl != len))
		return RTPE_SRTP_E_CRYPTO;
	if (rtpe_ossl.EVP_EncryptFinal_ex(c, data + len, &outl) != 1 || outl != 0)
		return RTPE_SRTP_E_CRYPTO;
	if (rtpe_ossl.EVP_CIPHER_CTX_ctrl(c, RTPE_EVP_CTRL_GCM_GET_TAG, SRTP_GCM_TAG, tag) != 1)
		return RTPE_SRTP_E_CRYPTO;
	return 0;
}

int srtp_gcm_open(EVP_CIPHER_CTX *c, const uint8_t iv[12], const uint8_t *aad, size_t aadlen,
		  const uint8_t *aad2, size_t aad2len, uint8_t *data, size_t len, const uint8_t tag[SRTP_GCM_TAG])
{
	int outl = 0;
	uint8_t t[SRTP_GCM_TAG];
	if (len > INT_MAX || aadlen > INT_MAX || aad2len > INT_MAX)
		return RTPE_SRTP_E_INVAL;
	memcpy(t, tag, sizeof(t));
	if (rtpe_ossl.EVP_DecryptInit_ex(c, NULL, NULL, NULL, iv) != 1)
		return RTPE_SRTP_E_CRYPTO;
	if (aadlen && rtpe_ossl.EVP_DecryptUpdate(c, NULL, &outl, aad, (int)aadlen) != 1)
		return RTPE_SRTP_E_CRYPTO;
	if (aad2len && rtpe_ossl.EVP_DecryptUpdate(c, NULL, &outl, aad2, (int)aad2len) != 1)
		return RTPE_SRTP_E_CRYPTO;
	if (len && (rtpe_ossl.EVP_DecryptUpdate(c, data, &outl, data, (int)len) != 1 ||
		    (size_t)outl != len))
		return RTPE_SRTP_E_CRYPTO;
	if (rtpe_ossl.EVP_CIPHER_CTX_ctrl(c, RTPE_EVP_CTRL_GCM_SET_TAG, SRTP_GCM_TAG, t) != 1)
		return RTPE_SRTP_E_CRYPTO;
	if (rtpe_ossl.EVP_DecryptFinal_ex(c, data + len, &outl) > 0)
		return 0;
	/* Tag mismatch: the payload was already decrypted in place; the same keystream puts the
	 * received ciphertext back so the caller sees its packet unchanged. */
	if (len && (rtpe_ossl.EVP_EncryptInit_ex(c, NULL, NULL, NULL, iv) != 1 ||
		    rtpe_ossl.EVP_EncryptUpdate(c, data, &outl, data, (int)len) != 1))
		return RTPE_SRTP_E_CRYPTO;
	return RTPE_SRTP_E_AUTH;
}

static int aes_index(size_t klen)
{
	return klen == 16 ? 0 : klen == 24 ? 1 : 2;
}

int srtp_xform_init(struct srtp_xform *x, const struct srtp_suite *s, const struct srtp_keys *k)
{
	memcpy(x->salt, k->salt, s->salt_len);
	if (s->cipher != CIPHER_AES_GCM) {
		int r = srtp_hmac_init(x, k->auth);
		if (r != 0)
			return r;
	}
	if (s->cipher == CIPHER_NULL)
		return 0;
	x->cipher = rtpe_ossl.EVP_CIPHER_CTX_new();
	if (!x->cipher)
		return RTPE_SRTP_E_CRYPTO;
	int ai = aes_index(s->key_len);
	switch (s->cipher) {
	case CIPHER_AES_CM:
		if (rtpe_ossl.EVP_EncryptInit_ex(x->cipher, rtpe_ossl.aes_ecb[ai], NULL, k->enc, NULL) != 1 ||
		    rtpe_ossl.EVP_CIPHER_CTX_set_padding(x->cipher, 0) != 1)
			return RTPE_SRTP_E_CRYPTO;
		return 0;
	case CIPHER_AES_GCM:
		if (rtpe_ossl.EVP_EncryptInit_ex(x->cipher, rtpe_ossl.aes_gcm[ai == 0 ? 0 : 1], NULL,
						 k->enc, NULL) != 1)
			return RTPE_SRTP_E_CRYPTO;
		return 0;
	case CIPHER_AES_F8: {
		/* m = k_s || 0x55..55, as long as the key */
		uint8_t masked[SRTP_MAX_KEY];
		memset(masked, 0x55, sizeof(masked));
		memcpy(masked, k->salt, s->salt_len);
		for (size_t i = 0; i < s->key_len; i++)
			masked[i] ^= k->enc[i];
		x->f8_iv = rtpe_ossl.EVP_CIPHER_CTX_new();
		int ok = x->f8_iv &&
			 rtpe_ossl.EVP_EncryptInit_ex(x->cipher, rtpe_ossl.aes_ecb[ai], NULL, k->enc, NULL) == 1 &&
			 rtpe_ossl.EVP_CIPHER_CTX_set_padding(x->cipher, 0) == 1 &&
			 rtpe_ossl.EVP_EncryptInit_ex(x->f8_iv, rtpe_ossl.aes_ecb[ai], NULL, masked, NULL) == 1 &&
			 rtpe_ossl.EVP_CIPHER_CTX_set_padding(x->f8_iv, 0) == 1;
		srtp_wipe(masked, sizeof(masked));
		return ok ? 0 : RTPE_SRTP_E_CRYPTO;
	}
	case CIPHER_NULL:
		break;
	}
	return 0;
}

void srtp_xform_free(struct srtp_xform *x)
{
	if (x->cipher)
		rtpe_ossl.EVP_CIPHER_CTX_free(x->cipher);
	if (x->f8_iv)
		rtpe_ossl.EVP_CIPHER_CTX_free(x->f8_iv);
	if (x->hmac_inner)
		rtpe_ossl.EVP_MD_CTX_free(x->hmac_inner);
	if (x->hmac_outer)
		rtpe_ossl.EVP_MD_CTX_free(x->hmac_outer);
	if (x->hmac_work)
		rtpe_ossl.EVP_MD_CTX_free(x->hmac_work);
	srtp_wipe(x, sizeof(*x));
}
