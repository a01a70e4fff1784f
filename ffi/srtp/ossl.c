/* ossl.c - loads libcrypto.so.3 with dlopen once per process and fetches the algorithms SRTP uses. */
#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "ossl.h"
#include "rtpe_srtp.h"

struct rtpe_ossl rtpe_ossl;

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static int load_result = RTPE_SRTP_E_NOLIB;

static int resolve(void *lib)
{
	void *sym;
#define RTPE_OSSL_RESOLVE(ret, name, args) \
	sym = dlsym(lib, #name); \
	if (!sym) \
		return RTPE_SRTP_E_NOLIB; \
	/* POSIX: object and function pointers share size and representation */ \
	_Static_assert(sizeof(rtpe_ossl.name) == sizeof(sym), #name); \
	memcpy(&rtpe_ossl.name, &sym, sizeof(sym));
	RTPE_OSSL_SYMBOLS(RTPE_OSSL_RESOLVE)
#undef RTPE_OSSL_RESOLVE
	int direct = 1;
#define RTPE_OSSL_OPTIONAL_RESOLVE(ret, name, args) \
	sym = dlsym(lib, #name); \
	if (!sym) \
		direct = 0; \
	memcpy(&rtpe_ossl.name, &sym, sizeof(sym));
	RTPE_OSSL_OPTIONAL(RTPE_OSSL_OPTIONAL_RESOLVE)
#undef RTPE_OSSL_OPTIONAL_RESOLVE
	const char *evp_only = getenv("RTPE_SRTP_EVP_ONLY");
	rtpe_ossl.sha1_direct = direct && !(evp_only && evp_only[0] == '1');
	return 0;
}

static int fetch_all(void)
{
	static const char *const ctr[3] = { "AES-128-CTR", "AES-192-CTR", "AES-256-CTR" };
	static const char *const ecb[3] = { "AES-128-ECB", "AES-192-ECB", "AES-256-ECB" };
	static const char *const gcm[2] = { "AES-128-GCM", "AES-256-GCM" };
	for (int i = 0; i < 3; i++) {
		rtpe_ossl.aes_ctr[i] = rtpe_ossl.EVP_CIPHER_fetch(NULL, ctr[i], NULL);
		rtpe_ossl.aes_ecb[i] = rtpe_ossl.EVP_CIPHER_fetch(NULL, ecb[i], NULL);
		if (!rtpe_ossl.aes_ctr[i] || !rtpe_ossl.aes_ecb[i])
			return RTPE_SRTP_E_NOLIB;
	}
	for (int i = 0; i < 2; i++) {
		rtpe_ossl.aes_gcm[i] = rtpe_ossl.EVP_CIPHER_fetch(NULL, gcm[i], NULL);
		if (!rtpe_ossl.aes_gcm[i])
			return RTPE_SRTP_E_NOLIB;
	}
	rtpe_ossl.sha1 = rtpe_ossl.EVP_MD_fetch(NULL, "SHA1", NULL);
	return rtpe_ossl.sha1 ? 0 : RTPE_SRTP_E_NOLIB;
}

static void load(void)
{
	/* RTPE_LIBCRYPTO names another libcrypto (tests, unusual installs) */
	const char *names[3] = { getenv("RTPE_LIBCRYPTO"), "libcrypto.so.3", "libcrypto.so" };
	void *lib = NULL;
	for (int i = 0; i < 3 && !lib; i++)
		if (names[i] && names[i][0])
			lib = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
	if (!lib)
		return;
	if (resolve(lib) != 0 || fetch_all() != 0)
		return; /* the library stays loaded; its symbols are simply unused */
	load_result = 0;
}

int rtpe_srtp_init(void)
{
	pthread_once(&load_once, load);
	return load_result;
}

int rtpe_srtp_api_version(void)
{
	return RTPE_SRTP_API_VERSION;
}
