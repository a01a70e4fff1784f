/* verify.c - RFC 5763 section 5: the peer's self-signed certificate is accepted when its digest
 * equals the a=fingerprint the peer put in its SDP; no CA chain is consulted. */
#include <string.h>

#include "dtls_internal.h"

static int equal_const_time(const uint8_t *a, const uint8_t *b, size_t n)
{
	uint8_t diff = 0;
	for (size_t i = 0; i < n; i++)
		diff |= (uint8_t)(a[i] ^ b[i]);
	return diff == 0;
}

int rtpe_dtls_verify_cb(X509_STORE_CTX *store, void *arg)
{
	(void)arg;
	int idx = OSSL->SSL_get_ex_data_X509_STORE_CTX_idx();
	SSL *ssl = idx >= 0 ? OSSL->X509_STORE_CTX_get_ex_data(store, idx) : NULL;
	struct rtpe_dtls_conn *conn = ssl ? OSSL->SSL_get_ex_data(ssl, 0) : NULL;
	X509 *peer = OSSL->X509_STORE_CTX_get0_cert(store);
	if (!conn || !peer) {
		OSSL->X509_STORE_CTX_set_error(store, RTPE_X509_V_ERR_APPLICATION_VERIFICATION);
		return 0;
	}
	if (!conn->expect_md)
		return 1; /* no a=fingerprint known: the caller checks the peer fingerprint itself */
	unsigned char fp[RTPE_DTLS_FP_MAX];
	unsigned int len = 0;
	if (OSSL->X509_digest(peer, conn->expect_md, fp, &len) != 1 || len != conn->expect_len ||
	    !equal_const_time(fp, conn->expect_fp, len)) {
		conn->fp_mismatch = 1;
		OSSL->X509_STORE_CTX_set_error(store, RTPE_X509_V_ERR_APPLICATION_VERIFICATION);
		return 0;
	}
	return 1;
}

int rtpe_dtls_conn_expect(rtpe_dtls_conn *conn, const char *hash, const uint8_t *fp, size_t len)
{
	if (!conn || rtpe_dtls_init() != 0)
		return RTPE_DTLS_E_INVAL;
	const EVP_MD *md = rtpe_dtls_digest(hash);
	if (!md || !fp || len == 0 || len > RTPE_DTLS_FP_MAX)
		return RTPE_DTLS_E_INVAL;
	memcpy(conn->expect_fp, fp, len);
	conn->expect_len = (unsigned)len;
	conn->expect_md = md;
	return 0;
}

int rtpe_dtls_conn_peer_fingerprint(const rtpe_dtls_conn *conn, const char *hash, uint8_t *out, size_t cap)
{
	if (!conn || !conn->ssl)
		return RTPE_DTLS_E_INVAL;
	X509 *peer = OSSL->SSL_get1_peer_certificate(conn->ssl);
	if (!peer)
		return RTPE_DTLS_E_STATE;
	int r = rtpe_dtls_x509_fingerprint(peer, hash, out, cap);
	OSSL->X509_free(peer);
	return r;
}
