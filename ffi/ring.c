/* ring.c - per-receive-thread single-producer rings of packet records, drained by the JS thread. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define RING_MIN (128u * 1024u)  /* holds at least one record of the largest datagram */
#define RING_MAX (1u << 30)
/* An empty ring starts again at offset 0 once the producer is this far in: the pages a ring touches are
 * then the front of its buffer plus its deepest backlog, not the whole buffer (positions only ever grow,
 * so without this every page is resident after one lap: the whole 8 MiB even for a daemon at rest).
 * Until the consumer has jumped the rewind's marker the skipped tail counts as used, so the room for a
 * burst in that moment is what lies before the marker: at least RING_REWIND (~4,000 RTP packets). */
#define RING_REWIND (1u << 20)

/* Records are 8-byte aligned and at least RTPE_RX_HDR_SIZE long; a rec_len of 0 marks the unused
 * tail of the buffer before a wrap. Positions grow forever; offset = pos & mask. Each receive
 * thread produces into its own ring, so a socket's packets stay in order without a lock. */
struct ring {
	uint8_t *buf;
	uint32_t size, mask;
	uint64_t head;         /* published by the producer (release) */
	uint64_t tail;         /* published by the consumer (release) */
	uint64_t pending;      /* producer-private: reserved but not yet published */
} __attribute__((aligned(64)));

static struct ring rings[RTPE_MAX_RX_THREADS];
static unsigned nrings, poll_start;
static uint32_t limit;         /* soft cap on bytes held per ring, 0 = its size */
static int wake_pending;
static uint64_t drops, wakeups, polls;

int ring_init(unsigned n, uint32_t bytes)
{
	uint32_t size = RING_MIN;

	if (n == 0 || n > RTPE_MAX_RX_THREADS)
		return -EINVAL;
	if (bytes > RING_MAX)
		bytes = RING_MAX;
	while (size < bytes)
		size <<= 1;
	for (unsigned i = 0; i < n; i++) {
		struct ring *r = &rings[i];
		r->buf = malloc(size);
		if (!r->buf) {
			ring_free();
			return -ENOMEM;
		}
		r->size = size;
		r->mask = size - 1u;
		r->head = r->tail = r->pending = 0;
		nrings = i + 1;
	}
	wake_pending = 0;
	return 0;
}

void ring_free(void)
{
	for (unsigned i = 0; i < RTPE_MAX_RX_THREADS; i++) {
		free(rings[i].buf);
		memset(&rings[i], 0, sizeof(rings[i]));
	}
	nrings = 0;
}

SHIM_EXPORT void rtpe_set_ring_limit(uint32_t bytes)
{
	__atomic_store_n(&limit, bytes, __ATOMIC_RELAXED);
}

uint8_t *ring_reserve(unsigned ri, uint32_t rec_len)
{
	struct ring *r = &rings[ri];
	uint64_t tail = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
	uint32_t lim = __atomic_load_n(&limit, __ATOMIC_RELAXED);
	uint32_t cap = (lim && lim < r->size) ? lim : r->size;
	uint32_t off, contig, need;
	uint64_t used;
	int rewind;

	if (ri >= nrings || !r->buf || rec_len > r->size)
		return NULL;
	used = r->pending - tail;
	off = (uint32_t)(r->pending & r->mask);
	contig = r->size - off;
	need = contig < rec_len ? contig + rec_len : rec_len;
	if (used + need > cap)
		return NULL;
	/* rewind: nothing unread, past RING_REWIND, and RING_REWIND of room left under the soft limit */
	rewind = used == 0 && off >= RING_REWIND && contig <= cap && cap - contig >= RING_REWIND;
	if (contig < rec_len || rewind) {
		/* contig >= 8 because every record and the size are multiples of 8 */
		memset(r->buf + off, 0, 4);
		r->pending += contig;
		off = 0;
	}
	r->pending += rec_len;
	return r->buf + off;
}

void ring_commit(unsigned ri)
{
	__atomic_store_n(&rings[ri].head, rings[ri].pending, __ATOMIC_RELEASE);
}

void ring_note_drop(void)
{
	CNT_ADD(drops, 1);
}

int ring_take_wake(void)
{
	if (__atomic_exchange_n(&wake_pending, 1, __ATOMIC_SEQ_CST))
		return 0;
	CNT_ADD(wakeups, 1);
	return 1;
}

/* Copy whole records of one ring into buf[*written..len). Returns 0 when the ring is empty, 1 when
 * buf is full. */
static int drain_one(struct ring *r, uint8_t *buf, uint32_t len, uint32_t *written)
{
	uint64_t head = __atomic_load_n(&r->head, __ATOMIC_SEQ_CST);
	uint64_t tail = r->tail;
	int full = 0;

	while (tail < head) {
		uint32_t off = (uint32_t)(tail & r->mask);
		uint32_t rec_len;

		memcpy(&rec_len, r->buf + off, 4);
		if (rec_len == 0) {
			tail += r->size - off;
			continue;
		}
		if (rec_len > len - *written) {
			if (*written == 0) {
				/* can never fit this caller's buffer: drop rather than stall */
				tail += rec_len;
				CNT_ADD(drops, 1);
				continue;
			}
			full = 1;
			break;
		}
		memcpy(buf + *written, r->buf + off, rec_len);
		*written += rec_len;
		tail += rec_len;
	}
	__atomic_store_n(&r->tail, tail, __ATOMIC_RELEASE);
	return full;
}

SHIM_EXPORT int rtpe_poll(uint8_t *buf, uint32_t buf_len)
{
	uint32_t written = 0;
	unsigned n = nrings;

	if (!buf)
		return -EINVAL;
	if (n == 0)
		return 0;
	if (buf_len > INT32_MAX)
		buf_len = INT32_MAX;     /* the byte count is returned as int */
	CNT_ADD(polls, 1);
	/* re-arm before looking, so a record published after this point wakes JS again */
	__atomic_store_n(&wake_pending, 0, __ATOMIC_SEQ_CST);
	/* start at a different ring each call so one busy thread cannot starve the others */
	for (unsigned k = 0; k < n; k++)
		if (drain_one(&rings[(poll_start + k) % n], buf, buf_len, &written))
			break;
	poll_start = (poll_start + 1u) % n;
	return (int)written;
}

void ring_stats(struct rtpe_global_stats *out)
{
	uint64_t used = 0;

	for (unsigned i = 0; i < nrings; i++)
		used += __atomic_load_n(&rings[i].head, __ATOMIC_ACQUIRE) -
			__atomic_load_n(&rings[i].tail, __ATOMIC_ACQUIRE);
	out->ring_drops = CNT_GET(drops);
	out->ring_bytes_used = used;
	out->wakeups = CNT_GET(wakeups);
	out->polls = CNT_GET(polls);
}
