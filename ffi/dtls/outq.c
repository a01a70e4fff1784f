/* outq.c - a connection's outgoing datagrams: a bounded FIFO, one entry per BIO write. OpenSSL
 * already packs a flight's records up to the MTU through its handshake write buffer; records of
 * different writes are never merged (a retransmitted old flight must not share a datagram with
 * a new one: OpenSSL 3.0 was seen to ignore the new flight in such a datagram). */
#include <stdlib.h>
#include <string.h>

#include "dtls_internal.h"

void rtpe_dtls_outq_push(struct rtpe_dtls_conn *conn, const uint8_t *rec, size_t len)
{
	if (len == 0 || len > RTPE_DTLS_DGRAM_MAX)
		return;
	if (conn->out_count == RTPE_DTLS_OUTQ_MAX)
		return; /* the caller stopped draining: drop, the peer retransmits */
	uint8_t *copy = malloc(len);
	if (!copy)
		return;
	memcpy(copy, rec, len);
	struct rtpe_dtls_dgram *d = &conn->outq[(conn->out_head + conn->out_count) % RTPE_DTLS_OUTQ_MAX];
	d->data = copy;
	d->len = len;
	conn->out_count++;
}

void rtpe_dtls_outq_clear(struct rtpe_dtls_conn *conn)
{
	while (conn->out_count > 0) {
		struct rtpe_dtls_dgram *d = &conn->outq[conn->out_head];
		free(d->data);
		d->data = NULL;
		d->len = 0;
		conn->out_head = (conn->out_head + 1) % RTPE_DTLS_OUTQ_MAX;
		conn->out_count--;
	}
	conn->out_head = 0;
}

int rtpe_dtls_conn_pending(const rtpe_dtls_conn *conn)
{
	if (!conn || conn->out_count == 0)
		return 0;
	return (int)conn->outq[conn->out_head].len;
}

int rtpe_dtls_conn_next_out(rtpe_dtls_conn *conn, uint8_t *out, size_t cap)
{
	if (!conn || (!out && cap))
		return RTPE_DTLS_E_INVAL;
	if (conn->out_count == 0)
		return 0;
	struct rtpe_dtls_dgram *d = &conn->outq[conn->out_head];
	if (d->len > cap)
		return RTPE_DTLS_E_NOSPACE;
	memcpy(out, d->data, d->len);
	int len = (int)d->len;
	free(d->data);
	d->data = NULL;
	d->len = 0;
	conn->out_head = (conn->out_head + 1) % RTPE_DTLS_OUTQ_MAX;
	conn->out_count--;
	return len;
}
