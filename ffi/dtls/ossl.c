/* ossl.c - loads libssl.so.3 (and through it libcrypto.so.3) with dlopen once per process. */
#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "dtls_internal.h"

struct rtpe_dtls_ossl rtpe_dtls_ossl;

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static int load_result = RTPE_DTLS_E_NOLIB;

static void *open_first(const char *const *names, size_t n)
{
	void *lib = NULL;
	for (size_t i = 0; i < n && !lib; i++)
		if (names[i] && names[i][0])
			lib = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
	return lib;
}

/* libcrypto symbols are looked up in libssl's handle too: dlsym searches its dependencies. */
static int resolve(void *ssl, void *crypto)
{
	void *sym;
#define RTPE_DTLS_RESOLVE(lib, ret, name, args) \
	sym = dlsym(lib, #name); \
	if (!sym) \
		return RTPE_DTLS_E_NOLIB; \
	/* POSIX: object and function pointers share size and representation */ \
	_Static_assert(sizeof(rtpe_dtls_ossl.name) == sizeof(sym), #name); \
	memcpy(&rtpe_dtls_ossl.name, &sym, sizeof(sym));
#define RTPE_DTLS_RESOLVE_CRYPTO(ret, name, args) RTPE_DTLS_RESOLVE(crypto, ret, name, args)
#define RTPE_DTLS_RESOLVE_SSL(ret, name, args) RTPE_DTLS_RESOLVE(ssl, ret, name, args)
	RTPE_DTLS_CRYPTO_SYMBOLS(RTPE_DTLS_RESOLVE_CRYPTO)
	RTPE_DTLS_SSL_SYMBOLS(RTPE_DTLS_RESOLVE_SSL)
#undef RTPE_DTLS_RESOLVE_SSL
#undef RTPE_DTLS_RESOLVE_CRYPTO
#undef RTPE_DTLS_RESOLVE
	return 0;
}

static void load(void)
{
	/* RTPE_LIBSSL/RTPE_LIBCRYPTO name other builds (tests, unusual installs) */
	const char *ssl_names[3] = { getenv("RTPE_LIBSSL"), "libssl.so.3", "libssl.so" };
	const char *crypto_names[3] = { getenv("RTPE_LIBCRYPTO"), "libcrypto.so.3", "libcrypto.so" };
	void *crypto = open_first(crypto_names, 3);
	void *ssl = open_first(ssl_names, 3);
	if (!ssl || !crypto)
		return;
	if (resolve(ssl, crypto) != 0)
		return; /* the libraries stay loaded; their symbols are simply unused */
	if (rtpe_dtls_bio_method_init() != 0)
		return;
	load_result = 0;
}

int rtpe_dtls_init(void)
{
	pthread_once(&load_once, load);
	return load_result;
}

int rtpe_dtls_api_version(void)
{
	return RTPE_DTLS_API_VERSION;
}
