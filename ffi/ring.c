/* ring.c - single-producer (receive thread) / single-consumer (JS thread) byte ring of packet records. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define RING_MIN (128u * 1024u)  /* holds at least one record of the largest datagram */
#define RING_MAX (1u << 30)

/* Records are 8-byte aligned and at least RTPE_RX_HDR_SIZE long; a rec_len of 0 marks the unused
 * tail of the buffer before a wrap. Positions grow forever; offset = pos & mask. */
static struct {
	uint8_t *buf;
	uint32_t size, mask;
	uint32_t limit;        /* soft cap on bytes held, 0 = size */
	uint64_t head;         /* published by the producer (release) */
	uint64_t tail;         /* published by the consumer (release) */
	uint64_t pending;      /* producer-private: reserved but not yet published */
	int wake_pending;
	uint64_t drops, wakeups, polls;
} ring;

int ring_init(uint32_t bytes)
{
	uint32_t size = RING_MIN;

	if (bytes > RING_MAX)
		bytes = RING_MAX;
	while (size < bytes)
		size <<= 1;
	ring.buf = malloc(size);
	if (!ring.buf)
		return -ENOMEM;
	ring.size = size;
	ring.mask = size - 1u;
	ring.head = ring.tail = ring.pending = 0;
	ring.wake_pending = 0;
	return 0;
}

void ring_free(void)
{
	free(ring.buf);
	ring.buf = NULL;
	ring.size = ring.mask = 0;
	ring.head = ring.tail = ring.pending = 0;
}

SHIM_EXPORT void rtpe_set_ring_limit(uint32_t bytes)
{
	__atomic_store_n(&ring.limit, bytes, __ATOMIC_RELAXED);
}

uint8_t *ring_reserve(uint32_t rec_len)
{
	uint64_t tail = __atomic_load_n(&ring.tail, __ATOMIC_ACQUIRE);
	uint32_t limit = __atomic_load_n(&ring.limit, __ATOMIC_RELAXED);
	uint32_t cap = (limit && limit < ring.size) ? limit : ring.size;
	uint32_t off, contig, need;
	uint64_t used;

	if (!ring.buf || rec_len > ring.size)
		return NULL;
	used = ring.pending - tail;
	off = (uint32_t)(ring.pending & ring.mask);
	contig = ring.size - off;
	need = contig < rec_len ? contig + rec_len : rec_len;
	if (used + need > cap)
		return NULL;
	if (contig < rec_len) {
		/* contig >= 8 because every record and the size are multiples of 8 */
		memset(ring.buf + off, 0, 4);
		ring.pending += contig;
		off = 0;
	}
	ring.pending += rec_len;
	return ring.buf + off;
}

void ring_commit(void)
{
	__atomic_store_n(&ring.head, ring.pending, __ATOMIC_RELEASE);
}

void ring_note_drop(void)
{
	CNT_ADD(ring.drops, 1);
}

int ring_take_wake(void)
{
	if (__atomic_exchange_n(&ring.wake_pending, 1, __ATOMIC_SEQ_CST))
		return 0;
	CNT_ADD(ring.wakeups, 1);
	return 1;
}

SHIM_EXPORT int rtpe_poll(uint8_t *buf, uint32_t buf_len)
{
	uint64_t head, tail;
	uint32_t written = 0;

	if (!buf || !ring.buf)
		return buf ? 0 : -EINVAL;
	if (buf_len > INT32_MAX)
		buf_len = INT32_MAX;     /* the byte count is returned as int */
	CNT_ADD(ring.polls, 1);
	/* re-arm before looking, so a record published after this point wakes JS again */
	__atomic_store_n(&ring.wake_pending, 0, __ATOMIC_SEQ_CST);
	head = __atomic_load_n(&ring.head, __ATOMIC_SEQ_CST);
	tail = ring.tail;

	while (tail < head) {
		uint32_t off = (uint32_t)(tail & ring.mask);
		uint32_t rec_len;

		memcpy(&rec_len, ring.buf + off, 4);
		if (rec_len == 0) {
			tail += ring.size - off;
			continue;
		}
		if (rec_len > buf_len - written) {
			if (written == 0) {
				/* can never fit this caller's buffer: drop rather than stall */
				tail += rec_len;
				CNT_ADD(ring.drops, 1);
				continue;
			}
			break;
		}
		memcpy(buf + written, ring.buf + off, rec_len);
		written += rec_len;
		tail += rec_len;
	}
	__atomic_store_n(&ring.tail, tail, __ATOMIC_RELEASE);
	return (int)written;
}

void ring_stats(struct rtpe_global_stats *out)
{
	uint64_t head = __atomic_load_n(&ring.head, __ATOMIC_ACQUIRE);
	uint64_t tail = __atomic_load_n(&ring.tail, __ATOMIC_ACQUIRE);

	out->ring_drops = CNT_GET(ring.drops);
	out->ring_bytes_used = head - tail;
	out->wakeups = CNT_GET(ring.wakeups);
	out->polls = CNT_GET(ring.polls);
}
