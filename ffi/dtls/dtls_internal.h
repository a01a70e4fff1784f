/* dtls_internal.h - structures and helpers shared by the DTLS engine's files (not part of the API). */
#ifndef RTPE_DTLS_INTERNAL_H
#define RTPE_DTLS_INTERNAL_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "ossl.h"
#include "rtpe_dtls.h"

/* enum rtpe_srtp_suite of ffi/srtp/rtpe_srtp.h (checked by test/abi_check.c) */
#define RTPE_DTLS_SUITE_AES_CM_128_HMAC_SHA1_80 1
#define RTPE_DTLS_SUITE_AES_CM_128_HMAC_SHA1_32 2
#define RTPE_DTLS_SUITE_AEAD_AES_128_GCM 11
#define RTPE_DTLS_SUITE_AEAD_AES_256_GCM 12

#define RTPE_DTLS_ERR_LEN 256
#define RTPE_DTLS_OUTQ_MAX 32         /* queued outgoing datagrams per connection */
#define RTPE_DTLS_DGRAM_MAX 16384     /* largest datagram accepted in either direction */

struct rtpe_dtls_cert {
	atomic_int refs;
	EVP_PKEY *key;
	X509 *x509;
	SSL_CTX *ctx;
	int64_t expiry;
};

struct rtpe_dtls_dgram {
	uint8_t *data;
	size_t len;
};

struct rtpe_dtls_conn {
	rtpe_dtls_cert *cert;
	SSL *ssl;
	BIO *bio;
	int role;
	int state;
	uint32_t mtu;
	/* the datagram being fed (bio.c hands it to OpenSSL once) */
	const uint8_t *in;
	size_t in_len;
	/* outgoing datagrams: FIFO ring */
	struct rtpe_dtls_dgram outq[RTPE_DTLS_OUTQ_MAX];
	unsigned out_head, out_count;
	/* peer verification */
	const EVP_MD *expect_md;
	uint8_t expect_fp[RTPE_DTLS_FP_MAX];
	unsigned expect_len;
	int fp_mismatch;
	/* result */
	int suite;
	uint32_t key_len, salt_len;
	uint8_t keys[RTPE_DTLS_KEYS_MAX];
	char err[RTPE_DTLS_ERR_LEN];
};

/* err.c: err = prefix + ": " + OpenSSL's queued reasons (queue emptied). */
void rtpe_dtls_set_error(char *err, size_t errlen, const char *prefix);
/* cert.c: digest named in SDP (sha-256, SHA256, ...) or NULL. */
const EVP_MD *rtpe_dtls_digest(const char *hash);
/* cert.c: fingerprint of any certificate; length or negative error. */
int rtpe_dtls_x509_fingerprint(const X509 *x, const char *hash, uint8_t *out, size_t cap);
/* bio.c: the datagram BIO method; attach a new BIO to conn. */
int rtpe_dtls_bio_method_init(void);
BIO *rtpe_dtls_bio_new(struct rtpe_dtls_conn *conn);
/* keys.c: on handshake completion, map the profile and export keys; 0 or -1 (error set). */
int rtpe_dtls_export_keys(struct rtpe_dtls_conn *conn);
/* verify.c: the certificate verification callback installed in every SSL_CTX. */
int rtpe_dtls_verify_cb(X509_STORE_CTX *store, void *arg);
/* outq.c: queue a datagram for sending; drop all queued datagrams. */
void rtpe_dtls_outq_push(struct rtpe_dtls_conn *conn, const uint8_t *rec, size_t len);
void rtpe_dtls_outq_clear(struct rtpe_dtls_conn *conn);

#endif
