/* abi_check.c - compile-time proof that ossl.h's hand-written libssl/libcrypto prototypes and
 * constants match the real OpenSSL 3 headers. Build: gcc -fsyntax-only -I.. abi_check.c */
#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/srtp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <stddef.h>

#define RTPE_SRTP_PROFILE SRTP_PROTECTION_PROFILE
#include "../dtls_internal.h"
#include "../../srtp/rtpe_srtp.h"

#define RTPE_SAME_TYPE(ret, name, args) \
	_Static_assert(__builtin_types_compatible_p(__typeof__(&name), ret(*) args), \
		       #name " differs from the OpenSSL prototype");
RTPE_DTLS_CRYPTO_SYMBOLS(RTPE_SAME_TYPE)
RTPE_DTLS_SSL_SYMBOLS(RTPE_SAME_TYPE)

_Static_assert(sizeof(struct rtpe_srtp_protection_profile) == sizeof(SRTP_PROTECTION_PROFILE), "profile size");
_Static_assert(offsetof(struct rtpe_srtp_protection_profile, name) == offsetof(SRTP_PROTECTION_PROFILE, name),
	       "profile name");
_Static_assert(offsetof(struct rtpe_srtp_protection_profile, id) == offsetof(SRTP_PROTECTION_PROFILE, id),
	       "profile id");
_Static_assert(__builtin_types_compatible_p(SSL_verify_cb, __typeof__(SSL_verify_cb)), "verify cb");

#define SAME(ours, theirs) _Static_assert((ours) == (theirs), #theirs);
SAME(RTPE_SSL_CTRL_SET_MTU, SSL_CTRL_SET_MTU)
SAME(RTPE_DTLS_CTRL_GET_TIMEOUT, DTLS_CTRL_GET_TIMEOUT)
SAME(RTPE_DTLS_CTRL_HANDLE_TIMEOUT, DTLS_CTRL_HANDLE_TIMEOUT)
SAME(RTPE_SSL_OP_NO_QUERY_MTU, SSL_OP_NO_QUERY_MTU)
SAME(RTPE_SSL_OP_NO_TICKET, SSL_OP_NO_TICKET)
SAME(RTPE_SSL_VERIFY_PEER, SSL_VERIFY_PEER)
SAME(RTPE_SSL_VERIFY_FAIL_IF_NO_PEER_CERT, SSL_VERIFY_FAIL_IF_NO_PEER_CERT)
SAME(RTPE_SSL_ERROR_SSL, SSL_ERROR_SSL)
SAME(RTPE_SSL_ERROR_WANT_READ, SSL_ERROR_WANT_READ)
SAME(RTPE_SSL_ERROR_WANT_WRITE, SSL_ERROR_WANT_WRITE)
SAME(RTPE_SSL_ERROR_SYSCALL, SSL_ERROR_SYSCALL)
SAME(RTPE_SSL_ERROR_ZERO_RETURN, SSL_ERROR_ZERO_RETURN)
SAME(RTPE_BIO_TYPE_SOURCE_SINK, BIO_TYPE_SOURCE_SINK)
SAME(RTPE_BIO_FLAGS_READ, BIO_FLAGS_READ)
SAME(RTPE_BIO_FLAGS_WRITE, BIO_FLAGS_WRITE)
SAME(RTPE_BIO_FLAGS_SHOULD_RETRY, BIO_FLAGS_SHOULD_RETRY)
SAME(RTPE_BIO_CTRL_FLUSH, BIO_CTRL_FLUSH)
SAME(RTPE_MBSTRING_ASC, MBSTRING_ASC)
SAME(RTPE_X509_V_ERR_APPLICATION_VERIFICATION, X509_V_ERR_APPLICATION_VERIFICATION)
SAME(RTPE_PROFILE_AES128_CM_SHA1_80, SRTP_AES128_CM_SHA1_80)
SAME(RTPE_PROFILE_AES128_CM_SHA1_32, SRTP_AES128_CM_SHA1_32)
SAME(RTPE_PROFILE_AEAD_AES_128_GCM, SRTP_AEAD_AES_128_GCM)
SAME(RTPE_PROFILE_AEAD_AES_256_GCM, SRTP_AEAD_AES_256_GCM)
SAME(RTPE_DTLS_SUITE_AES_CM_128_HMAC_SHA1_80, RTPE_SRTP_AES_CM_128_HMAC_SHA1_80)
SAME(RTPE_DTLS_SUITE_AES_CM_128_HMAC_SHA1_32, RTPE_SRTP_AES_CM_128_HMAC_SHA1_32)
SAME(RTPE_DTLS_SUITE_AEAD_AES_128_GCM, RTPE_SRTP_AEAD_AES_128_GCM)
SAME(RTPE_DTLS_SUITE_AEAD_AES_256_GCM, RTPE_SRTP_AEAD_AES_256_GCM)

int main(void)
{
	return 0;
}
