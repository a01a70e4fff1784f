/* kdf.c - SRTP session key derivation: the AES-CM PRF of RFC 3711 4.3 (RFC 6188, RFC 7714 salts). */
#include <string.h>

#include "srtp_internal.h"

static int aes_index(size_t klen)
{
	return klen == 16 ? 0 : klen == 24 ? 1 : klen == 32 ? 2 : -1;
}

/* With KDR 0 the key id is just the label: x = (label << 48) XOR master salt, the salt sitting in
 * the top 112 bits of the 128-bit counter block (a 96-bit GCM salt is zero-padded on the right).
 * The output is the AES-CTR keystream from that block. */
int srtp_kdf(const uint8_t *mkey, size_t mklen, const uint8_t *msalt, size_t mslen, uint8_t label,
	     uint8_t *out, size_t outlen)
{
	int ai = aes_index(mklen);
	if (ai < 0 || mslen > 14 || outlen > 64 || !mkey || (!msalt && mslen) || !out)
		return RTPE_SRTP_E_INVAL;
	uint8_t iv[16] = { 0 };
	if (mslen)
		memcpy(iv, msalt, mslen);
	iv[7] ^= label;

	EVP_CIPHER_CTX *c = rtpe_ossl.EVP_CIPHER_CTX_new();
	if (!c)
		return RTPE_SRTP_E_CRYPTO;
	int ret = RTPE_SRTP_E_CRYPTO;
	memset(out, 0, outlen);
	int outl = 0;
	if (rtpe_ossl.EVP_EncryptInit_ex(c, rtpe_ossl.aes_ctr[ai], NULL, mkey, iv) == 1 &&
	    rtpe_ossl.EVP_EncryptUpdate(c, out, &outl, out, (int)outlen) == 1 && (size_t)outl == outlen)
		ret = 0;
	rtpe_ossl.EVP_CIPHER_CTX_free(c);
	srtp_wipe(iv, sizeof(iv));
	return ret;
}
