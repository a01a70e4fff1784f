/* outq.c - a connection's outgoing datagrams: a bounded FIFO; consecutive records share a
 * datagram while it stays within the MTU. */
#include <stdlib.h>
#include <string.h>

#include "dtls_internal.h"

void rtpe_dtls_outq_push(struct rtpe_dtls_conn *conn, const uint8_t *rec, size_t len)
{
	if (len == 0 || len > RTPE_DTLS_DGRAM_MAX)
		return;
	if (conn->out_count > 0 && !conn->out_sealed) {
		struct rtpe_dtls_dgram *last = &conn->outq[(conn->out_head + conn->out_count - 1) % RTPE_DTLS_OUTQ_MAX];
		if (last->len + len <= conn->mtu) {
			uint8_t *grown = realloc(last->data, last->len + len);
			if (grown) {
				memcpy(grown + last->len, rec, len);
				last->data = grown;
				last->len += len;
				return;
			}
		}
	}
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
	conn->out_sealed = 0;
}

void rtpe_dtls_outq_seal(struct rtpe_dtls_conn *conn)
{
	conn->out_sealed = 1;
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
	if (conn->out_count == 0)
		conn->out_sealed = 0;
	return len;
}
