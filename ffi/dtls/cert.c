/* cert.c - self-signed certificate and key generation, fingerprints, and the SSL_CTX around them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "dtls_internal.h"

#define DEFAULT_CIPHERS "DEFAULT:!NULL:!aNULL:!SHA256:!SHA384:!aECDH:!AESGCM+AES256:!aPSK"
#define DEFAULT_PROFILES \
	"SRTP_AEAD_AES_256_GCM:SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80:SRTP_AES128_CM_SHA1_32"
#define DEFAULT_VALIDITY (30 * 24 * 3600)
#define BACKDATE (24 * 3600)

const EVP_MD *rtpe_dtls_digest(const char *hash)
{
	static const struct {
		const char *sdp, *compact, *ossl;
	} names[] = {
		{ "sha-1", "sha1", "SHA1" },       { "sha-224", "sha224", "SHA224" },
		{ "sha-256", "sha256", "SHA256" }, { "sha-384", "sha384", "SHA384" },
		{ "sha-512", "sha512", "SHA512" },
	};
	if (!hash)
		return NULL;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcasecmp(hash, names[i].sdp) || !strcasecmp(hash, names[i].compact))
			return OSSL->EVP_get_digestbyname(names[i].ossl);
	return NULL;
}

static EVP_PKEY *generate_key(int key_type, int rsa_bits)
{
	EVP_PKEY *key = NULL;
	EVP_PKEY_CTX *kctx = OSSL->EVP_PKEY_CTX_new_from_name(NULL, key_type == RTPE_DTLS_KEY_RSA ? "RSA" : "EC",
							      NULL);
	if (!kctx)
		return NULL;
	int ok = OSSL->EVP_PKEY_keygen_init(kctx) > 0;
	if (ok && key_type == RTPE_DTLS_KEY_RSA)
		ok = OSSL->EVP_PKEY_CTX_set_rsa_keygen_bits(kctx, rsa_bits) > 0;
	else if (ok)
		ok = OSSL->EVP_PKEY_CTX_set_group_name(kctx, "prime256v1") > 0;
	if (ok && OSSL->EVP_PKEY_generate(kctx, &key) <= 0)
		key = NULL;
	OSSL->EVP_PKEY_CTX_free(kctx);
	return key;
}

static X509 *make_certificate(EVP_PKEY *key, const EVP_MD *sig_md, long validity)
{
	X509 *x = OSSL->X509_new();
	if (!x)
		return NULL;
	unsigned char rnd[4];
	long serial = 1;
	if (OSSL->RAND_bytes(rnd, sizeof(rnd)) == 1)
		serial = (long)(((unsigned long)(rnd[0] & 0x7f) << 24) | ((unsigned long)rnd[1] << 16) |
				((unsigned long)rnd[2] << 8) | rnd[3]) + 1;
	X509_NAME *name = OSSL->X509_get_subject_name(x);
	int ok = OSSL->X509_set_version(x, 2) == 1 &&
		 OSSL->ASN1_INTEGER_set(OSSL->X509_get_serialNumber(x), serial) == 1 &&
		 OSSL->X509_gmtime_adj(OSSL->X509_getm_notBefore(x), -BACKDATE) != NULL &&
		 OSSL->X509_gmtime_adj(OSSL->X509_getm_notAfter(x), validity) != NULL &&
		 OSSL->X509_set_pubkey(x, key) == 1 && name &&
		 OSSL->X509_NAME_add_entry_by_txt(name, "CN", RTPE_MBSTRING_ASC, (const unsigned char *)"rtpengine",
						  -1, -1, 0) == 1 &&
		 OSSL->X509_set_issuer_name(x, name) == 1 && OSSL->X509_sign(x, key, sig_md) > 0;
	if (!ok) {
		OSSL->X509_free(x);
		return NULL;
	}
	return x;
}

static SSL_CTX *make_context(rtpe_dtls_cert *cert, const char *ciphers, const char *profiles, char *err,
			     size_t errlen)
{
	SSL_CTX *ctx = OSSL->SSL_CTX_new(OSSL->DTLS_method());
	if (!ctx) {
		rtpe_dtls_set_error(err, errlen, "SSL_CTX_new");
		return NULL;
	}
	const char *what = NULL;
	if (OSSL->SSL_CTX_use_certificate(ctx, cert->x509) != 1 || OSSL->SSL_CTX_use_PrivateKey(ctx, cert->key) != 1 ||
	    OSSL->SSL_CTX_check_private_key(ctx) != 1)
		what = "certificate/key";
	else if (OSSL->SSL_CTX_set_cipher_list(ctx, ciphers) != 1)
		what = "dtls-ciphers";
	else if (OSSL->SSL_CTX_set_tlsext_use_srtp(ctx, profiles) != 0) /* 0 is success here */
		what = "use_srtp profiles";
	if (what) {
		rtpe_dtls_set_error(err, errlen, what);
		OSSL->SSL_CTX_free(ctx);
		return NULL;
	}
	/* every peer must show a certificate; its fingerprint, not a CA, decides (RFC 5763 5) */
	OSSL->SSL_CTX_set_verify(ctx, RTPE_SSL_VERIFY_PEER | RTPE_SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	OSSL->SSL_CTX_set_cert_verify_callback(ctx, rtpe_dtls_verify_cb, NULL);
	OSSL->SSL_CTX_set_options(ctx, RTPE_SSL_OP_NO_QUERY_MTU | RTPE_SSL_OP_NO_TICKET);
	return ctx;
}

rtpe_dtls_cert *rtpe_dtls_cert_new(int key_type, int rsa_bits, int sig, const char *ciphers, const char *profiles,
				   uint32_t validity_s, char *err, size_t errlen)
{
	if (err && errlen)
		err[0] = '\0';
	if (rtpe_dtls_init() != 0) {
		if (err && errlen)
			snprintf(err, errlen, "libssl.so.3 could not be loaded");
		return NULL;
	}
	if (key_type != RTPE_DTLS_KEY_EC_P256 && key_type != RTPE_DTLS_KEY_RSA) {
		if (err && errlen)
			snprintf(err, errlen, "unknown certificate key type %d", key_type);
		return NULL;
	}
	if (rsa_bits == 0)
		rsa_bits = 2048;
	if (key_type == RTPE_DTLS_KEY_RSA && (rsa_bits < 1024 || rsa_bits > 16384)) {
		if (err && errlen)
			snprintf(err, errlen, "RSA key size %d out of range 1024..16384", rsa_bits);
		return NULL;
	}
	if (sig != RTPE_DTLS_SIG_SHA256 && sig != RTPE_DTLS_SIG_SHA1) {
		if (err && errlen)
			snprintf(err, errlen, "unknown certificate signature hash %d", sig);
		return NULL;
	}
	OSSL->ERR_clear_error();
	rtpe_dtls_cert *cert = calloc(1, sizeof(*cert));
	if (!cert) {
		if (err && errlen)
			snprintf(err, errlen, "out of memory");
		return NULL;
	}
	atomic_init(&cert->refs, 1);
	long validity = validity_s ? (long)validity_s : DEFAULT_VALIDITY;
	cert->expiry = (int64_t)time(NULL) + validity;
	cert->key = generate_key(key_type, rsa_bits);
	if (!cert->key) {
		rtpe_dtls_set_error(err, errlen, "key generation");
		goto fail;
	}
	cert->x509 = make_certificate(cert->key, rtpe_dtls_digest(sig == RTPE_DTLS_SIG_SHA1 ? "sha-1" : "sha-256"),
				      validity);
	if (!cert->x509) {
		rtpe_dtls_set_error(err, errlen, "certificate");
		goto fail;
	}
	cert->ctx = make_context(cert, ciphers && ciphers[0] ? ciphers : DEFAULT_CIPHERS,
				 profiles && profiles[0] ? profiles : DEFAULT_PROFILES, err, errlen);
	if (!cert->ctx)
		goto fail;
	return cert;
fail:
	rtpe_dtls_cert_unref(cert);
	return NULL;
}

void rtpe_dtls_cert_ref(rtpe_dtls_cert *cert)
{
	if (cert)
		atomic_fetch_add(&cert->refs, 1);
}

void rtpe_dtls_cert_unref(rtpe_dtls_cert *cert)
{
	if (!cert || atomic_fetch_sub(&cert->refs, 1) != 1)
		return;
	if (cert->ctx)
		OSSL->SSL_CTX_free(cert->ctx);
	if (cert->x509)
		OSSL->X509_free(cert->x509);
	if (cert->key)
		OSSL->EVP_PKEY_free(cert->key);
	free(cert);
}

int rtpe_dtls_x509_fingerprint(const X509 *x, const char *hash, uint8_t *out, size_t cap)
{
	const EVP_MD *md = rtpe_dtls_digest(hash);
	if (!x || !md || !out)
		return RTPE_DTLS_E_INVAL;
	unsigned char buf[RTPE_DTLS_FP_MAX];
	unsigned int len = 0;
	if (OSSL->X509_digest(x, md, buf, &len) != 1 || len > sizeof(buf)) {
		OSSL->ERR_clear_error();
		return RTPE_DTLS_E_SSL;
	}
	if (len > cap)
		return RTPE_DTLS_E_NOSPACE;
	memcpy(out, buf, len);
	return (int)len;
}

int rtpe_dtls_cert_fingerprint(const rtpe_dtls_cert *cert, const char *hash, uint8_t *out, size_t cap)
{
	if (!cert)
		return RTPE_DTLS_E_INVAL;
	return rtpe_dtls_x509_fingerprint(cert->x509, hash, out, cap);
}

int rtpe_dtls_cert_der(const rtpe_dtls_cert *cert, uint8_t *out, size_t cap)
{
	if (!cert || !out)
		return RTPE_DTLS_E_INVAL;
	int len = OSSL->i2d_X509(cert->x509, NULL);
	if (len <= 0)
		return RTPE_DTLS_E_SSL;
	if ((size_t)len > cap)
		return RTPE_DTLS_E_NOSPACE;
	unsigned char *p = out;
	return OSSL->i2d_X509(cert->x509, &p) == len ? len : RTPE_DTLS_E_SSL;
}

int64_t rtpe_dtls_cert_expiry(const rtpe_dtls_cert *cert)
{
	return cert ? cert->expiry : 0;
}
