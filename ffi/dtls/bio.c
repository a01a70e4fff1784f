/* bio.c - a BIO that keeps datagram boundaries: reads hand over the one datagram being fed,
 * each write becomes one outgoing datagram. */
#include <string.h>

#include "dtls_internal.h"

static int dgram_write(BIO *b, const char *data, int len)
{
	struct rtpe_dtls_conn *conn = OSSL->BIO_get_data(b);
	OSSL->BIO_clear_flags(b, RTPE_BIO_FLAGS_WRITE | RTPE_BIO_FLAGS_SHOULD_RETRY);
	if (!conn || !data || len <= 0)
		return 0;
	rtpe_dtls_outq_push(conn, (const uint8_t *)data, (size_t)len);
	return len; /* a lost datagram is UDP's business: never ask OpenSSL to retry */
}

static int dgram_read(BIO *b, char *out, int cap)
{
	struct rtpe_dtls_conn *conn = OSSL->BIO_get_data(b);
	OSSL->BIO_clear_flags(b, RTPE_BIO_FLAGS_READ | RTPE_BIO_FLAGS_SHOULD_RETRY);
	if (!conn || !out || cap <= 0)
		return 0;
	if (!conn->in) {
		OSSL->BIO_set_flags(b, RTPE_BIO_FLAGS_READ | RTPE_BIO_FLAGS_SHOULD_RETRY);
		return -1;
	}
	/* datagram semantics: what does not fit is lost, never read later */
	size_t n = conn->in_len < (size_t)cap ? conn->in_len : (size_t)cap;
	memcpy(out, conn->in, n);
	conn->in = NULL;
	conn->in_len = 0;
	return (int)n;
}

static long dgram_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	(void)b;
	(void)num;
	(void)ptr;
	/* flush succeeds; everything datagram-socket specific (peer, MTU query, timeouts) is
	 * unsupported, which OpenSSL handles with SSL_OP_NO_QUERY_MTU and its own timer */
	return cmd == RTPE_BIO_CTRL_FLUSH ? 1 : 0;
}

int rtpe_dtls_bio_method_init(void)
{
	int type = OSSL->BIO_get_new_index();
	if (type < 0)
		return -1;
	BIO_METHOD *m = OSSL->BIO_meth_new(type | RTPE_BIO_TYPE_SOURCE_SINK, "rtpe dtls datagram");
	if (!m)
		return -1;
	if (OSSL->BIO_meth_set_write(m, dgram_write) != 1 || OSSL->BIO_meth_set_read(m, dgram_read) != 1 ||
	    OSSL->BIO_meth_set_ctrl(m, dgram_ctrl) != 1) {
		OSSL->BIO_meth_free(m);
		return -1;
	}
	OSSL->dgram_method = m; /* lives as long as the process */
	return 0;
}

BIO *rtpe_dtls_bio_new(struct rtpe_dtls_conn *conn)
{
	BIO *b = OSSL->BIO_new(OSSL->dgram_method);
	if (!b)
		return NULL;
	OSSL->BIO_set_data(b, conn);
	OSSL->BIO_set_init(b, 1);
	return b;
}
