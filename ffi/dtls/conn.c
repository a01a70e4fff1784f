/* conn.c - one DTLS association driven by datagrams in and out: handshake, retransmission
 * timer, completion (fingerprint verified, keys exported), close and failure. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "dtls_internal.h"

#define READ_LOOP_MAX 64

static void set_err(char *err, size_t errlen, const char *msg)
{
	if (err && errlen)
		snprintf(err, errlen, "%s", msg);
}

rtpe_dtls_conn *rtpe_dtls_conn_new(rtpe_dtls_cert *cert, int role, uint32_t mtu, char *err, size_t errlen)
{
	set_err(err, errlen, "");
	if (rtpe_dtls_init() != 0) {
		set_err(err, errlen, "libssl.so.3 could not be loaded");
		return NULL;
	}
	if (!cert || (role != RTPE_DTLS_ACTIVE && role != RTPE_DTLS_PASSIVE)) {
		set_err(err, errlen, "bad certificate or role");
		return NULL;
	}
	if (mtu == 0)
		mtu = RTPE_DTLS_MTU_DEFAULT;
	if (mtu < RTPE_DTLS_MTU_MIN || mtu > RTPE_DTLS_DGRAM_MAX) {
		set_err(err, errlen, "DTLS MTU out of range 576..16384");
		return NULL;
	}
	rtpe_dtls_conn *conn = calloc(1, sizeof(*conn));
	if (!conn) {
		set_err(err, errlen, "out of memory");
		return NULL;
	}
	OSSL->ERR_clear_error();
	conn->role = role;
	conn->mtu = mtu;
	conn->state = RTPE_DTLS_S_NEW;
	conn->cert = cert;
	rtpe_dtls_cert_ref(cert);
	conn->ssl = OSSL->SSL_new(cert->ctx);
	if (!conn->ssl)
		goto fail;
	conn->bio = rtpe_dtls_bio_new(conn);
	if (!conn->bio)
		goto fail;
	OSSL->SSL_set_bio(conn->ssl, conn->bio, conn->bio); /* one reference, owned by ssl */
	if (OSSL->SSL_set_ex_data(conn->ssl, 0, conn) != 1)
		goto fail;
	if (OSSL->SSL_ctrl(conn->ssl, RTPE_SSL_CTRL_SET_MTU, (long)mtu, NULL) <= 0)
		goto fail;
	if (role == RTPE_DTLS_ACTIVE)
		OSSL->SSL_set_connect_state(conn->ssl);
	else
		OSSL->SSL_set_accept_state(conn->ssl);
	return conn;
fail:
	rtpe_dtls_set_error(err, errlen, "DTLS connection setup");
	rtpe_dtls_conn_free(conn);
	return NULL;
}

void rtpe_dtls_conn_free(rtpe_dtls_conn *conn)
{
	if (!conn)
		return;
	if (conn->ssl)
		OSSL->SSL_free(conn->ssl); /* frees the BIO too */
	else if (conn->bio)
		OSSL->BIO_free(conn->bio);
	rtpe_dtls_outq_clear(conn);
	rtpe_dtls_cert_unref(conn->cert);
	memset(conn->keys, 0, sizeof(conn->keys));
	free(conn);
}

static void fail(rtpe_dtls_conn *conn, const char *prefix)
{
	rtpe_dtls_set_error(conn->err, sizeof(conn->err), prefix);
	conn->state = RTPE_DTLS_S_FAILED;
}

/* SSL_do_handshake once; on completion export the keys. */
static void handshake(rtpe_dtls_conn *conn)
{
	int r = OSSL->SSL_do_handshake(conn->ssl);
	if (r == 1) {
		if (rtpe_dtls_export_keys(conn) != 0) {
			conn->state = RTPE_DTLS_S_FAILED;
			return;
		}
		conn->err[0] = '\0';
		conn->state = RTPE_DTLS_S_CONNECTED;
		return;
	}
	int e = OSSL->SSL_get_error(conn->ssl, r);
	if (e == RTPE_SSL_ERROR_WANT_READ || e == RTPE_SSL_ERROR_WANT_WRITE) {
		OSSL->ERR_clear_error();
		return;
	}
	if (conn->fp_mismatch)
		fail(conn, "DTLS handshake failed: peer certificate does not match a=fingerprint");
	else if (e == RTPE_SSL_ERROR_ZERO_RETURN)
		fail(conn, "DTLS handshake failed: peer closed the connection");
	else
		fail(conn, "DTLS handshake failed");
}

/* After the handshake: consume what the datagram holds (application data is discarded; an
 * alert or close_notify ends the association). */
static void read_records(rtpe_dtls_conn *conn)
{
	uint8_t sink[2048];
	for (int i = 0; i < READ_LOOP_MAX; i++) {
		int r = OSSL->SSL_read(conn->ssl, sink, (int)sizeof(sink));
		if (r > 0)
			continue;
		int e = OSSL->SSL_get_error(conn->ssl, r);
		if (e == RTPE_SSL_ERROR_WANT_READ || e == RTPE_SSL_ERROR_WANT_WRITE) {
			OSSL->ERR_clear_error();
			return;
		}
		if (e == RTPE_SSL_ERROR_ZERO_RETURN) {
			snprintf(conn->err, sizeof(conn->err), "peer sent close_notify");
			OSSL->ERR_clear_error();
		} else {
			rtpe_dtls_set_error(conn->err, sizeof(conn->err), "DTLS connection ended");
		}
		conn->state = RTPE_DTLS_S_CLOSED;
		return;
	}
	memset(sink, 0, sizeof(sink));
}

int rtpe_dtls_conn_start(rtpe_dtls_conn *conn)
{
	if (!conn)
		return RTPE_DTLS_E_INVAL;
	if (conn->state != RTPE_DTLS_S_NEW)
		return conn->state;
	conn->state = RTPE_DTLS_S_HANDSHAKE;
	if (conn->role == RTPE_DTLS_ACTIVE) {
		OSSL->ERR_clear_error();
		handshake(conn);
	}
	return conn->state;
}

int rtpe_dtls_conn_feed(rtpe_dtls_conn *conn, const uint8_t *buf, size_t len)
{
	if (!conn || !buf || len == 0)
		return RTPE_DTLS_E_INVAL;
	if (rtpe_dtls_demux(buf, len) != RTPE_DTLS_DEMUX_DTLS || len > RTPE_DTLS_DGRAM_MAX)
		return RTPE_DTLS_E_NOTDTLS;
	if (conn->state == RTPE_DTLS_S_FAILED || conn->state == RTPE_DTLS_S_CLOSED)
		return conn->state;
	if (conn->state == RTPE_DTLS_S_NEW)
		rtpe_dtls_conn_start(conn);
	if (conn->state != RTPE_DTLS_S_HANDSHAKE && conn->state != RTPE_DTLS_S_CONNECTED)
		return conn->state;
	OSSL->ERR_clear_error();
	conn->in = buf;
	conn->in_len = len;
	if (conn->state == RTPE_DTLS_S_HANDSHAKE)
		handshake(conn);
	if (conn->state == RTPE_DTLS_S_CONNECTED && conn->in)
		read_records(conn); /* the rest of a datagram that completed the handshake, or a later one */
	conn->in = NULL;
	conn->in_len = 0;
	return conn->state;
}

int64_t rtpe_dtls_conn_timeout_ms(rtpe_dtls_conn *conn)
{
	if (!conn || !conn->ssl || conn->state == RTPE_DTLS_S_FAILED || conn->state == RTPE_DTLS_S_NEW)
		return -1;
	struct timeval tv = { 0, 0 };
	if (OSSL->SSL_ctrl(conn->ssl, RTPE_DTLS_CTRL_GET_TIMEOUT, 0, &tv) != 1)
		return -1;
	if (tv.tv_sec < 0 || tv.tv_usec < 0)
		return 0;
	return (int64_t)tv.tv_sec * 1000 + ((int64_t)tv.tv_usec + 999) / 1000;
}

int rtpe_dtls_conn_handle_timer(rtpe_dtls_conn *conn)
{
	if (!conn)
		return RTPE_DTLS_E_INVAL;
	if (conn->state != RTPE_DTLS_S_HANDSHAKE && conn->state != RTPE_DTLS_S_CONNECTED)
		return conn->state;
	OSSL->ERR_clear_error();
	long r = OSSL->SSL_ctrl(conn->ssl, RTPE_DTLS_CTRL_HANDLE_TIMEOUT, 0, NULL);
	if (r < 0) {
		if (conn->state == RTPE_DTLS_S_HANDSHAKE)
			fail(conn, "DTLS handshake timed out");
		else
			OSSL->ERR_clear_error();
	}
	return conn->state;
}

int rtpe_dtls_conn_shutdown(rtpe_dtls_conn *conn)
{
	if (!conn)
		return RTPE_DTLS_E_INVAL;
	if (conn->state == RTPE_DTLS_S_CONNECTED) {
		OSSL->ERR_clear_error();
		(void)OSSL->SSL_shutdown(conn->ssl); /* queues close_notify; no answer awaited */
		OSSL->ERR_clear_error();
		conn->state = RTPE_DTLS_S_CLOSED;
	} else if (conn->state == RTPE_DTLS_S_NEW || conn->state == RTPE_DTLS_S_HANDSHAKE) {
		conn->state = RTPE_DTLS_S_CLOSED;
	}
	return conn->state;
}

int rtpe_dtls_conn_state(const rtpe_dtls_conn *conn)
{
	return conn ? conn->state : RTPE_DTLS_E_INVAL;
}

const char *rtpe_dtls_conn_error(const rtpe_dtls_conn *conn)
{
	return conn ? conn->err : "no connection";
}

rtpe_dtls_cert *rtpe_dtls_conn_cert(const rtpe_dtls_conn *conn)
{
	return conn ? conn->cert : NULL;
}

int rtpe_dtls_conn_describe(const rtpe_dtls_conn *conn, char *out, size_t cap)
{
	if (!conn || !out || cap == 0)
		return RTPE_DTLS_E_INVAL;
	if (conn->state != RTPE_DTLS_S_CONNECTED && conn->state != RTPE_DTLS_S_CLOSED)
		return RTPE_DTLS_E_STATE;
	const SSL_CIPHER *c = OSSL->SSL_get_current_cipher(conn->ssl);
	const char *v = OSSL->SSL_get_version(conn->ssl);
	int n = snprintf(out, cap, "%s %s", v ? v : "?", c ? OSSL->SSL_CIPHER_get_name(c) : "?");
	if (n < 0)
		return RTPE_DTLS_E_INVAL;
	return (size_t)n < cap ? n : RTPE_DTLS_E_NOSPACE;
}
