/* abi_check.c - compile-time proof that ossl.h's hand-written libcrypto prototypes match <openssl/evp.h>. */
#include <openssl/evp.h>

#include "../ossl.h"

#define RTPE_SAME_TYPE(ret, name, args) \
	_Static_assert(__builtin_types_compatible_p(__typeof__(&name), ret(*) args), \
		       #name " differs from the OpenSSL prototype");
RTPE_OSSL_SYMBOLS(RTPE_SAME_TYPE)

_Static_assert(RTPE_EVP_CTRL_GCM_GET_TAG == EVP_CTRL_GCM_GET_TAG, "GET_TAG");
_Static_assert(RTPE_EVP_CTRL_GCM_SET_TAG == EVP_CTRL_GCM_SET_TAG, "SET_TAG");

int main(void)
{
	return 0;
}
