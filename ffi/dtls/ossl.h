/* ossl.h - the libssl/libcrypto (OpenSSL 3) functions the DTLS code calls, resolved with dlopen at run time. */
#ifndef RTPE_DTLS_OSSL_H
#define RTPE_DTLS_OSSL_H

#include <stddef.h>
#include <stdint.h>

/* Opaque OpenSSL types under the names <openssl/types.h> gives them, so that test/abi_check.c can
 * include both headers and prove every prototype below equal to OpenSSL's. */
typedef struct ssl_st SSL;
typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_method_st SSL_METHOD;
typedef struct ssl_cipher_st SSL_CIPHER;
typedef struct x509_st X509;
typedef struct X509_name_st X509_NAME;
typedef struct x509_store_ctx_st X509_STORE_CTX;
typedef struct asn1_string_st ASN1_INTEGER;
typedef struct asn1_string_st ASN1_TIME;
typedef struct evp_pkey_st EVP_PKEY;
typedef struct evp_pkey_ctx_st EVP_PKEY_CTX;
typedef struct evp_md_st EVP_MD;
typedef struct ossl_lib_ctx_st OSSL_LIB_CTX;
typedef struct bio_st BIO;
typedef struct bio_method_st BIO_METHOD;
typedef int (*SSL_verify_cb)(int preverify_ok, X509_STORE_CTX *x509_ctx);

/* The same layout as OpenSSL's SRTP_PROTECTION_PROFILE (checked by test/abi_check.c). */
struct rtpe_srtp_protection_profile {
	const char *name;
	unsigned long id;
};
#ifndef RTPE_SRTP_PROFILE
#define RTPE_SRTP_PROFILE struct rtpe_srtp_protection_profile
#endif

/* Constants from <openssl/ssl.h>, <openssl/bio.h>, <openssl/asn1.h>, <openssl/x509_vfy.h>,
 * <openssl/srtp.h>; every one is compared with the real macro by test/abi_check.c. */
#define RTPE_SSL_CTRL_SET_MTU 17
#define RTPE_DTLS_CTRL_GET_TIMEOUT 73
#define RTPE_DTLS_CTRL_HANDLE_TIMEOUT 74
#define RTPE_SSL_OP_NO_QUERY_MTU ((uint64_t)1 << 12)
#define RTPE_SSL_OP_NO_TICKET ((uint64_t)1 << 14)
#define RTPE_SSL_VERIFY_PEER 0x01
#define RTPE_SSL_VERIFY_FAIL_IF_NO_PEER_CERT 0x02
#define RTPE_SSL_ERROR_SSL 1
#define RTPE_SSL_ERROR_WANT_READ 2
#define RTPE_SSL_ERROR_WANT_WRITE 3
#define RTPE_SSL_ERROR_SYSCALL 5
#define RTPE_SSL_ERROR_ZERO_RETURN 6
#define RTPE_BIO_TYPE_SOURCE_SINK 0x0400
#define RTPE_BIO_FLAGS_READ 0x01
#define RTPE_BIO_FLAGS_WRITE 0x02
#define RTPE_BIO_FLAGS_SHOULD_RETRY 0x08
#define RTPE_BIO_CTRL_FLUSH 11
#define RTPE_MBSTRING_ASC 0x1001
#define RTPE_X509_V_ERR_APPLICATION_VERIFICATION 50
#define RTPE_PROFILE_AES128_CM_SHA1_80 0x0001
#define RTPE_PROFILE_AES128_CM_SHA1_32 0x0002
#define RTPE_PROFILE_AEAD_AES_128_GCM 0x0007
#define RTPE_PROFILE_AEAD_AES_256_GCM 0x0008

/* X(return type, name, parameter list) for every symbol taken from libcrypto. */
#define RTPE_DTLS_CRYPTO_SYMBOLS(X) \
	X(unsigned long, ERR_get_error, (void)) \
	X(void, ERR_clear_error, (void)) \
	X(const char *, ERR_reason_error_string, (unsigned long)) \
	X(const char *, ERR_lib_error_string, (unsigned long)) \
	X(int, RAND_bytes, (unsigned char *, int)) \
	X(EVP_PKEY_CTX *, EVP_PKEY_CTX_new_from_name, (OSSL_LIB_CTX *, const char *, const char *)) \
	X(int, EVP_PKEY_keygen_init, (EVP_PKEY_CTX *)) \
	X(int, EVP_PKEY_CTX_set_group_name, (EVP_PKEY_CTX *, const char *)) \
	X(int, EVP_PKEY_CTX_set_rsa_keygen_bits, (EVP_PKEY_CTX *, int)) \
	X(int, EVP_PKEY_generate, (EVP_PKEY_CTX *, EVP_PKEY **)) \
	X(void, EVP_PKEY_CTX_free, (EVP_PKEY_CTX *)) \
	X(void, EVP_PKEY_free, (EVP_PKEY *)) \
	X(const EVP_MD *, EVP_get_digestbyname, (const char *)) \
	X(X509 *, X509_new, (void)) \
	X(void, X509_free, (X509 *)) \
	X(int, X509_set_version, (X509 *, long)) \
	X(ASN1_INTEGER *, X509_get_serialNumber, (X509 *)) \
	X(int, ASN1_INTEGER_set, (ASN1_INTEGER *, long)) \
	X(ASN1_TIME *, X509_getm_notBefore, (const X509 *)) \
	X(ASN1_TIME *, X509_getm_notAfter, (const X509 *)) \
	X(ASN1_TIME *, X509_gmtime_adj, (ASN1_TIME *, long)) \
	X(int, X509_set_pubkey, (X509 *, EVP_PKEY *)) \
	X(X509_NAME *, X509_get_subject_name, (const X509 *)) \
	X(int, X509_NAME_add_entry_by_txt, (X509_NAME *, const char *, int, const unsigned char *, int, int, int)) \
	X(int, X509_set_issuer_name, (X509 *, const X509_NAME *)) \
	X(int, X509_sign, (X509 *, EVP_PKEY *, const EVP_MD *)) \
	X(int, X509_digest, (const X509 *, const EVP_MD *, unsigned char *, unsigned int *)) \
	X(int, i2d_X509, (const X509 *, unsigned char **)) \
	X(X509 *, X509_STORE_CTX_get0_cert, (const X509_STORE_CTX *)) \
	X(void *, X509_STORE_CTX_get_ex_data, (const X509_STORE_CTX *, int)) \
	X(void, X509_STORE_CTX_set_error, (X509_STORE_CTX *, int)) \
	X(BIO_METHOD *, BIO_meth_new, (int, const char *)) \
	X(void, BIO_meth_free, (BIO_METHOD *)) \
	X(int, BIO_meth_set_write, (BIO_METHOD *, int (*)(BIO *, const char *, int))) \
	X(int, BIO_meth_set_read, (BIO_METHOD *, int (*)(BIO *, char *, int))) \
	X(int, BIO_meth_set_ctrl, (BIO_METHOD *, long (*)(BIO *, int, long, void *))) \
	X(int, BIO_get_new_index, (void)) \
	X(BIO *, BIO_new, (const BIO_METHOD *)) \
	X(int, BIO_free, (BIO *)) \
	X(void, BIO_set_data, (BIO *, void *)) \
	X(void *, BIO_get_data, (BIO *)) \
	X(void, BIO_set_init, (BIO *, int)) \
	X(void, BIO_set_flags, (BIO *, int)) \
	X(void, BIO_clear_flags, (BIO *, int))

/* ... and from libssl. */
#define RTPE_DTLS_SSL_SYMBOLS(X) \
	X(const SSL_METHOD *, DTLS_method, (void)) \
	X(SSL_CTX *, SSL_CTX_new, (const SSL_METHOD *)) \
	X(void, SSL_CTX_free, (SSL_CTX *)) \
	X(int, SSL_CTX_use_certificate, (SSL_CTX *, X509 *)) \
	X(int, SSL_CTX_use_PrivateKey, (SSL_CTX *, EVP_PKEY *)) \
	X(int, SSL_CTX_check_private_key, (const SSL_CTX *)) \
	X(int, SSL_CTX_set_cipher_list, (SSL_CTX *, const char *)) \
	X(int, SSL_CTX_set_tlsext_use_srtp, (SSL_CTX *, const char *)) \
	X(void, SSL_CTX_set_verify, (SSL_CTX *, int, SSL_verify_cb)) \
	X(void, SSL_CTX_set_cert_verify_callback, (SSL_CTX *, int (*)(X509_STORE_CTX *, void *), void *)) \
	X(uint64_t, SSL_CTX_set_options, (SSL_CTX *, uint64_t)) \
	X(SSL *, SSL_new, (SSL_CTX *)) \
	X(void, SSL_free, (SSL *)) \
	X(void, SSL_set_bio, (SSL *, BIO *, BIO *)) \
	X(void, SSL_set_connect_state, (SSL *)) \
	X(void, SSL_set_accept_state, (SSL *)) \
	X(int, SSL_do_handshake, (SSL *)) \
	X(int, SSL_read, (SSL *, void *, int)) \
	X(int, SSL_shutdown, (SSL *)) \
	X(int, SSL_get_error, (const SSL *, int)) \
	X(long, SSL_ctrl, (SSL *, int, long, void *)) \
	X(uint64_t, SSL_set_options, (SSL *, uint64_t)) \
	X(int, SSL_set_ex_data, (SSL *, int, void *)) \
	X(void *, SSL_get_ex_data, (const SSL *, int)) \
	X(int, SSL_get_ex_data_X509_STORE_CTX_idx, (void)) \
	X(RTPE_SRTP_PROFILE *, SSL_get_selected_srtp_profile, (SSL *)) \
	X(int, SSL_export_keying_material, (SSL *, unsigned char *, size_t, const char *, size_t, \
					    const unsigned char *, size_t, int)) \
	X(X509 *, SSL_get1_peer_certificate, (const SSL *)) \
	X(const char *, SSL_get_version, (const SSL *)) \
	X(const SSL_CIPHER *, SSL_get_current_cipher, (const SSL *)) \
	X(const char *, SSL_CIPHER_get_name, (const SSL_CIPHER *))

#define RTPE_DTLS_OSSL_MEMBER(ret, name, args) ret(*name) args;
struct rtpe_dtls_ossl {
	RTPE_DTLS_CRYPTO_SYMBOLS(RTPE_DTLS_OSSL_MEMBER)
	RTPE_DTLS_SSL_SYMBOLS(RTPE_DTLS_OSSL_MEMBER)
	BIO_METHOD *dgram_method; /* our datagram BIO (bio.c), created once at load time */
};
#undef RTPE_DTLS_OSSL_MEMBER

/* The loaded table, valid after rtpe_dtls_init() returned 0; never changes afterwards. */
extern struct rtpe_dtls_ossl rtpe_dtls_ossl;
#define OSSL (&rtpe_dtls_ossl)

#endif
