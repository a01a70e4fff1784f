/* vectors.c - known-answer tests: RFC 3711 B.1-B.3, RFC 6188 7, RFC 7714 16-17, libsrtp reference packets. */
#include <stdlib.h>

#include "check.h"
#include "../srtp_internal.h"

static void expect_hex(const uint8_t *got, size_t n, const char *want, const char *what)
{
	uint8_t w[512];
	size_t wn = unhex(want, w, sizeof(w));
	CHECK(wn == n && memcmp(got, w, n) == 0, "%s differs", what);
}

static void kdf_case(const char *key, const char *salt, uint8_t label, size_t outlen, const char *want)
{
	uint8_t k[32], s[14], out[64];
	size_t kl = unhex(key, k, sizeof(k)), sl = unhex(salt, s, sizeof(s));
	CHECK(srtp_kdf(k, kl, s, sl, label, out, outlen) == 0, "kdf label %u", label);
	expect_hex(out, outlen, want, "kdf output");
}

static void test_kdf(void)
{
	const char *k128 = "E1F97A0D3E018BE0D64FA32C06DE4139", *s128 = "0EC675AD498AFEEBB6960B3AABE6";
	kdf_case(k128, s128, 0, 16, "C61E7A93744F39EE10734AFE3FF7A087");           /* RFC 3711 B.3 */
	kdf_case(k128, s128, 2, 14, "30CBBC08863D8C85D49DB34A9AE1");
	kdf_case(k128, s128, 1, 20, "CEBE321F6FF7716B6FD4AB49AF256A156D38BAA4");
	kdf_case(k128, s128, 3, 16, "4c1aa45a81f73d61c800bbb00fbb1eaa");           /* SRTCP labels */
	kdf_case(k128, s128, 4, 20, "8d54534feb49ae8e7993a6bd0b844fc323a93dfd");
	kdf_case(k128, s128, 5, 14, "9581c7ad87b3e530bf3e4454a8b3");
	const char *k256 = "f0f04914b513f2763a1b1fa130f10e2998f6f6e43e4309d1e622a0e332b9f1b6";
	const char *s256 = "3b04803de51ee7c96423ab5b78d2";                          /* RFC 6188 7.2 */
	kdf_case(k256, s256, 0, 32, "5ba1064e30ec51613cad926c5a28ef731ec7fb397f70a960653caf06554cd8c4");
	kdf_case(k256, s256, 2, 14, "fa31791685ca444a9e07c6c64e93");
	kdf_case(k256, s256, 1, 20, "fd9c32d39ed5fbb5a9dc96b30818454d1313dc05");
	const char *k192 = "73edc66c4fa15776fb57f9505c17136550ffda71f3e8e5f1";
	const char *s192 = "c8522f3acd4ce86d5add78edbb11";                          /* RFC 6188 7.4 */
	kdf_case(k192, s192, 0, 24, "31874736a8f1143870c26e4857d8a5b2c4a354407faadabb");
	kdf_case(k192, s192, 2, 14, "2372b82d639b6d8503a47adc0a6c");
	kdf_case(k192, s192, 1, 20, "355b10973cd95b9eacf4061c7e1a7151e7cfbfcb");
}

static void test_aes_cm_keystream(void)
{
	/* RFC 3711 B.2: keystream for session key 2B7E..3C and IV F0F1..FD0000 */
	uint8_t key[16], iv[16], ks[32] = { 0 };
	unhex("2B7E151628AED2A6ABF7158809CF4F3C", key, sizeof(key));
	unhex("F0F1F2F3F4F5F6F7F8F9FAFBFCFD0000", iv, sizeof(iv));
	EVP_CIPHER_CTX *c = rtpe_ossl.EVP_CIPHER_CTX_new();
	CHECK(rtpe_ossl.EVP_EncryptInit_ex(c, rtpe_ossl.aes_ecb[0], NULL, key, NULL) == 1 &&
	      rtpe_ossl.EVP_CIPHER_CTX_set_padding(c, 0) == 1, "ecb init");
	CHECK(srtp_aes_cm(c, iv, ks, sizeof(ks)) == 0, "aes-cm");
	expect_hex(ks, 32, "E03EAD0935C95E80E166B16DD92B4EB4 D23513162B02D0F72A43A2FE4A5F97AB",
		   "RFC 3711 B.2 keystream");
	rtpe_ossl.EVP_CIPHER_CTX_free(c);
}

static void test_f8(void)
{
	/* RFC 3711 B.1, through the full RTP path: the context's derived keys are replaced by the
	 * vector's session key and salt (4 bytes, which the 0x55 padding of m extends). */
	uint8_t mk[16] = { 0 }, ms[14] = { 0 };
	int err = 0;
	rtpe_srtp_ctx *ctx = rtpe_srtp_new(RTPE_SRTP_F8_128_HMAC_SHA1_80, mk, 16, ms, 14,
					   RTPE_SRTP_UNAUTHENTICATED_SRTP, &err);
	CHECK(ctx != NULL, "f8 ctx %d", err);
	if (!ctx)
		return;
	struct srtp_keys k;
	memset(&k, 0, sizeof(k));
	unhex("234829008467be186c3de14aae72d62c", k.enc, 16);
	memset(k.salt, 0x55, sizeof(k.salt));
	unhex("32f2870d", k.salt, 4);
	srtp_xform_free(&ctx->rtp);
	CHECK(srtp_xform_init(&ctx->rtp, ctx->suite, &k) == 0, "f8 xform");
	uint8_t pkt[128];
	size_t n = unhex("806e5cba50681de55c621599 70736575646f72616e646f6d6e657373"
			 "20697320746865206e65787420626573 74207468696e67", pkt, sizeof(pkt));
	CHECK(rtpe_srtp_set_index(ctx, 0x5c621599, (uint64_t)0xd462564a << 16 | 0x5cba, 0) == 0, "set roc");
	int r = rtpe_srtp_protect(ctx, pkt, n, sizeof(pkt));
	CHECK(r == (int)n, "f8 protect %d", r);
	expect_hex(pkt, n, "806e5cba50681de55c621599 019ce7a26e7854014a6366aa95d4eefd"
		   "1ad4172a14f9faf455b7f1d4b62bd08f 562c0eef7c4802", "RFC 3711 B.1 ciphertext");
	rtpe_srtp_free(ctx);
}

/* libsrtp's reference packets (srtp_driver.c validate tests), master keys through the KDF. */
static void test_libsrtp_reference(void)
{
	uint8_t key[32], salt[14], pkt[128];
	int err;
	unhex("e1f97a0d3e018be0d64fa32c06de4139", key, 16);
	unhex("0ec675ad498afeebb6960b3aabe6", salt, 14);
	rtpe_srtp_ctx *tx = rtpe_srtp_new(RTPE_SRTP_AES_CM_128_HMAC_SHA1_80, key, 16, salt, 14, 0, &err);
	rtpe_srtp_ctx *rx = rtpe_srtp_new(RTPE_SRTP_AES_CM_128_HMAC_SHA1_80, key, 16, salt, 14, 0, &err);
	const char *plain = "800f1234decafbadcafebabe abababababababababababababababab";
	size_t n = unhex(plain, pkt, sizeof(pkt));
	int r = rtpe_srtp_protect(tx, pkt, n, sizeof(pkt));
	CHECK(r == (int)n + 10, "protect len %d", r);
	expect_hex(pkt, (size_t)r, "800f1234decafbadcafebabe4e55dc4ce79978d88ca4d215949d2402b78d6acc99ea179b8dbb",
		   "libsrtp AES-128 SRTP reference");
	r = rtpe_srtp_unprotect(rx, pkt, (size_t)r);
	CHECK(r == (int)n, "unprotect %d", r);
	expect_hex(pkt, n, plain, "AES-128 SRTP decrypted");

	n = unhex("81c8000bcafebabe abababababababababababababababab", pkt, sizeof(pkt));
	CHECK(rtpe_srtp_set_index(tx, 0xcafebabe, 0, 1) == 0, "srtcp index 1");
	r = rtpe_srtcp_protect(tx, pkt, n, sizeof(pkt));
	CHECK(r == (int)n + 14, "srtcp protect %d", r);
	expect_hex(pkt, (size_t)r, "81c8000bcafebabe7128035be487b9bdbef89041f977a5a880000001993e08cd54d6c1230798",
		   "libsrtp AES-128 SRTCP reference");
	r = rtpe_srtcp_unprotect(rx, pkt, (size_t)r);
	CHECK(r == (int)n, "srtcp unprotect %d", r);
	rtpe_srtp_free(tx);
	rtpe_srtp_free(rx);

	unhex("f0f04914b513f2763a1b1fa130f10e2998f6f6e43e4309d1e622a0e332b9f1b6", key, 32);
	unhex("3b04803de51ee7c96423ab5b78d2", salt, 14);
	tx = rtpe_srtp_new(RTPE_SRTP_AES_256_CM_HMAC_SHA1_80, key, 32, salt, 14, 0, &err);
	n = unhex(plain, pkt, sizeof(pkt));
	r = rtpe_srtp_protect(tx, pkt, n, sizeof(pkt));
	expect_hex(pkt, (size_t)r, "800f1234decafbadcafebabef1d9de17ff251ff1aa007774b0b4b40da08d9d9a5b3a55d8873b",
		   "libsrtp AES-256 SRTP reference");
	rtpe_srtp_free(tx);
}

static rtpe_srtp_ctx *gcm_ctx(int suite, unsigned flags)
{
	uint8_t key[32], salt[12];
	for (int i = 0; i < 32; i++)
		key[i] = (uint8_t)i;
	memcpy(salt, "Quid pro quo", 12);
	int err = 0;
	rtpe_srtp_ctx *c = rtpe_srtp_new(suite, key, suite == RTPE_SRTP_AEAD_AES_128_GCM ? 16 : 32, salt,
					 12, flags | RTPE_SRTP_SESSION_KEYS, &err);
	CHECK(c != NULL, "gcm ctx %d", err);
	return c;
}

static void gcm_rtp(int suite, unsigned flags, const char *want)
{
	static const char *plain = "8040f17b 8041f8d3 5501a0b2 47616c6c 69612065 7374206f 6d6e6973 20646976"
				   "69736120 696e2070 61727465 73207472 6573";
	uint8_t pkt[256];
	size_t n = unhex(plain, pkt, sizeof(pkt));
	rtpe_srtp_ctx *tx = gcm_ctx(suite, flags), *rx = gcm_ctx(suite, flags);
	if (!tx || !rx)
		return;
	int r = rtpe_srtp_protect(tx, pkt, n, sizeof(pkt));
	CHECK(r == (int)n + 16, "gcm protect %d", r);
	expect_hex(pkt, (size_t)r, want, "RFC 7714 SRTP packet");
	pkt[20] ^= 1;
	CHECK(rtpe_srtp_unprotect(rx, pkt, (size_t)r) == RTPE_SRTP_E_AUTH, "gcm tamper");
	pkt[20] ^= 1;
	expect_hex(pkt, (size_t)r, want, "packet restored after failed GCM open");
	CHECK(rtpe_srtp_unprotect(rx, pkt, (size_t)r) == (int)n, "gcm unprotect");
	expect_hex(pkt, n, plain, "RFC 7714 SRTP decrypted");
	rtpe_srtp_free(tx);
	rtpe_srtp_free(rx);
}

static void gcm_rtcp(int suite, unsigned flags, const char *want)
{
	static const char *plain = "81c8000d 4d617273 4e545031 4e545032 52545020 0000042a 0000e930 4c756e61"
				   "deadbeef deadbeef deadbeef deadbeef deadbeef";
	uint8_t pkt[256];
	size_t n = unhex(plain, pkt, sizeof(pkt));
	rtpe_srtp_ctx *tx = gcm_ctx(suite, flags), *rx = gcm_ctx(suite, 0);
	if (!tx || !rx)
		return;
	rtpe_srtp_set_index(tx, 0x4d617273, 0, 0x5d4);
	int r = rtpe_srtcp_protect(tx, pkt, n, sizeof(pkt));
	CHECK(r == (int)n + 20, "gcm srtcp protect %d", r);
	expect_hex(pkt, (size_t)r, want, "RFC 7714 SRTCP packet");
	CHECK(rtpe_srtcp_unprotect(rx, pkt, (size_t)r) == (int)n, "gcm srtcp unprotect");
	expect_hex(pkt, n, plain, "RFC 7714 SRTCP decrypted");
	rtpe_srtp_free(tx);
	rtpe_srtp_free(rx);
}

static void test_gcm(void)
{
	gcm_rtp(RTPE_SRTP_AEAD_AES_128_GCM, 0,
		"8040f17b 8041f8d3 5501a0b2 f24de3a3 fb34de6c acba861c 9d7e4bca be633bd5 0d294e6f"
		"42a5f47a 51c7d19b 36de3adf 8833899d 7f27beb1 6a9152cf 765ee439 0cce");
	gcm_rtp(RTPE_SRTP_AEAD_AES_128_GCM, RTPE_SRTP_UNENCRYPTED_SRTP,
		"8040f17b 8041f8d3 5501a0b2 47616c6c 69612065 7374206f 6d6e6973 20646976 69736120"
		"696e2070 61727465 73207472 65732249 3f82d2bc e397e9d7 9e3b19aa 4216");
	gcm_rtp(RTPE_SRTP_AEAD_AES_256_GCM, 0,
		"8040f17b 8041f8d3 5501a0b2 32b1de78 a822fe12 ef9f78fa 332e33aa b1801238 9a58e2f3"
		"b50b2a02 76ffae0f 1ba63799 b87b7aa3 db36dfff d6b0f9bb 7878d7a7 6c13");
	gcm_rtcp(RTPE_SRTP_AEAD_AES_128_GCM, 0,
		 "81c8000d 4d617273 63e94885 dcdab67c a727d766 2f6b7e99 7ff5c0f7 6c06f32d c676a5f1"
		 "730d6fda 4ce09b46 86303ded 0bb9275b c84aa458 96cf4d2f c5abf872 45d9eade 800005d4");
	gcm_rtcp(RTPE_SRTP_AEAD_AES_128_GCM, RTPE_SRTP_UNENCRYPTED_SRTCP,
		 "81c8000d 4d617273 4e545031 4e545032 52545020 0000042a 0000e930 4c756e61 deadbeef"
		 "deadbeef deadbeef deadbeef deadbeef 841dd968 3dd78ec9 2ae58790 125f62b3 000005d4");
	gcm_rtcp(RTPE_SRTP_AEAD_AES_256_GCM, 0,
		 "81c8000d 4d617273 d50ae4d1 f5ce5d30 4ba297e4 7d470c28 2c3ece5d bffe0a50 a2eaa5c1"
		 "110555be 8415f658 c61de047 6f1b6fad 1d1eb30c 4446839f 57ff6f6c b26ac3be 800005d4");
}

int main(void)
{
	CHECK(rtpe_srtp_init() == 0, "libcrypto loads");
	if (check_failed)
		return check_report("vectors");
	test_kdf();
	test_aes_cm_keystream();
	test_f8();
	test_libsrtp_reference();
	test_gcm();
	return check_report("vectors");
}
