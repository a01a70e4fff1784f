/* abi_check.c - compile-time proof that ossl.h's hand-written libcrypto prototypes match <openssl/evp.h>. */
#define OPENSSL_SUPPRESS_DEPRECATED /* SHA1_Init & co. are deprecated, still exported */
#include <openssl/evp.h>
#include <openssl/sha.h>

#define RTPE_SHA_CTX SHA_CTX
#include "../ossl.h"

#define RTPE_SAME_TYPE(ret, name, args) \
	_Static_assert(__builtin_types_compatible_p(__typeof__(&name), ret(*) args), \
		       #name " differs from the OpenSSL prototype");
RTPE_OSSL_SYMBOLS(RTPE_SAME_TYPE)
RTPE_OSSL_OPTIONAL(RTPE_SAME_TYPE)
_Static_assert(sizeof(struct rtpe_sha1_state) == sizeof(SHA_CTX), "SHA_CTX size");
_Static_assert(_Alignof(struct rtpe_sha1_state) == _Alignof(SHA_CTX), "SHA_CTX alignment");

_Static_assert(RTPE_EVP_CTRL_GCM_GET_TAG == EVP_CTRL_GCM_GET_TAG, "GET_TAG");
_Static_assert(RTPE_EVP_CTRL_GCM_SET_TAG == EVP_CTRL_GCM_SET_TAG, "SET_TAG");

int main(void)
{
	return 0;
}
