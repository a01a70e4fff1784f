/* ossl.h - the libcrypto (OpenSSL 3) functions the SRTP code calls, resolved with dlopen at run time. */
#ifndef RTPE_SRTP_OSSL_H
#define RTPE_SRTP_OSSL_H

#include <stddef.h>

/* Opaque OpenSSL types; the same typedefs as <openssl/types.h>, so test/abi_check.c can include
 * both and prove every prototype below matches the real header. */
typedef struct evp_cipher_st EVP_CIPHER;
typedef struct evp_cipher_ctx_st EVP_CIPHER_CTX;
typedef struct evp_md_st EVP_MD;
typedef struct evp_md_ctx_st EVP_MD_CTX;
typedef struct engine_st ENGINE;
typedef struct ossl_lib_ctx_st OSSL_LIB_CTX;

/* ctrl numbers from <openssl/evp.h>, checked by test/abi_check.c */
#define RTPE_EVP_CTRL_GCM_GET_TAG 0x10
#define RTPE_EVP_CTRL_GCM_SET_TAG 0x11

/* X(return type, name, parameter list) for every symbol taken from libcrypto. */
#define RTPE_OSSL_SYMBOLS(X) \
	X(EVP_CIPHER *, EVP_CIPHER_fetch, (OSSL_LIB_CTX *, const char *, const char *)) \
	X(void, EVP_CIPHER_free, (EVP_CIPHER *)) \
	X(EVP_CIPHER_CTX *, EVP_CIPHER_CTX_new, (void)) \
	X(void, EVP_CIPHER_CTX_free, (EVP_CIPHER_CTX *)) \
	X(int, EVP_CIPHER_CTX_set_padding, (EVP_CIPHER_CTX *, int)) \
	X(int, EVP_CIPHER_CTX_ctrl, (EVP_CIPHER_CTX *, int, int, void *)) \
	X(int, EVP_EncryptInit_ex, (EVP_CIPHER_CTX *, const EVP_CIPHER *, ENGINE *, \
				    const unsigned char *, const unsigned char *)) \
	X(int, EVP_EncryptUpdate, (EVP_CIPHER_CTX *, unsigned char *, int *, const unsigned char *, int)) \
	X(int, EVP_EncryptFinal_ex, (EVP_CIPHER_CTX *, unsigned char *, int *)) \
	X(int, EVP_DecryptInit_ex, (EVP_CIPHER_CTX *, const EVP_CIPHER *, ENGINE *, \
				    const unsigned char *, const unsigned char *)) \
	X(int, EVP_DecryptUpdate, (EVP_CIPHER_CTX *, unsigned char *, int *, const unsigned char *, int)) \
	X(int, EVP_DecryptFinal_ex, (EVP_CIPHER_CTX *, unsigned char *, int *)) \
	X(EVP_MD *, EVP_MD_fetch, (OSSL_LIB_CTX *, const char *, const char *)) \
	X(void, EVP_MD_free, (EVP_MD *)) \
	X(EVP_MD_CTX *, EVP_MD_CTX_new, (void)) \
	X(void, EVP_MD_CTX_free, (EVP_MD_CTX *)) \
	X(int, EVP_MD_CTX_copy_ex, (EVP_MD_CTX *, const EVP_MD_CTX *)) \
	X(int, EVP_DigestInit_ex, (EVP_MD_CTX *, const EVP_MD *, ENGINE *)) \
	X(int, EVP_DigestUpdate, (EVP_MD_CTX *, const void *, size_t)) \
	X(int, EVP_DigestFinal_ex, (EVP_MD_CTX *, unsigned char *, unsigned int *))

/* Optional: OpenSSL's direct SHA-1 functions (deprecated in 3.0, still exported). With them an
 * HMAC state is a plain struct copied by value instead of an EVP_MD_CTX duplicated per packet;
 * without them (or with RTPE_SRTP_EVP_ONLY=1 in the environment) the EVP path is used. */
struct rtpe_sha1_state {
	unsigned int w[24]; /* size and alignment of SHA_CTX, checked by test/abi_check.c */
};
#ifndef RTPE_SHA_CTX
#define RTPE_SHA_CTX struct rtpe_sha1_state
#endif
#define RTPE_OSSL_OPTIONAL(X) \
	X(int, SHA1_Init, (RTPE_SHA_CTX *)) \
	X(int, SHA1_Update, (RTPE_SHA_CTX *, const void *, size_t)) \
	X(int, SHA1_Final, (unsigned char *, RTPE_SHA_CTX *))

#define RTPE_OSSL_MEMBER(ret, name, args) ret(*name) args;
struct rtpe_ossl {
	RTPE_OSSL_SYMBOLS(RTPE_OSSL_MEMBER)
	RTPE_OSSL_OPTIONAL(RTPE_OSSL_MEMBER)
	int sha1_direct;          /* the optional SHA-1 functions are present and enabled */
	/* algorithms fetched once at load time */
	EVP_CIPHER *aes_ctr[3];   /* AES-128/192/256-CTR */
	EVP_CIPHER *aes_ecb[3];   /* AES-128/192/256-ECB (F8) */
	EVP_CIPHER *aes_gcm[2];   /* AES-128/256-GCM */
	EVP_MD *sha1;
};
#undef RTPE_OSSL_MEMBER

/* The loaded table, valid after rtpe_srtp_init() returned 0; never changes afterwards. */
extern struct rtpe_ossl rtpe_ossl;

#endif
