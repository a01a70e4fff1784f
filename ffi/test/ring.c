/* ring.c - the receive rings of ffi/ring.c (included, to see the producer's offset): records arrive whole and
 * in order across wraps and rewinds, an empty ring starts again at the front (its touched pages stay few),
 * a backlog still fills the buffer, and the soft limit drops instead of overrunning. Prints "ok" lines; exit 0. */
#include <stdio.h>
#include <string.h>

#include "../ring.c"

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #c); return 1; } } while (0)

static uint8_t out[4u << 20];

/* One record of len bytes (a multiple of 8): length word, then a sequence number, the rest filled with it. */
static int put(uint32_t len, uint32_t seq)
{
	uint8_t *p = ring_reserve(0, len);

	if (!p)
		return 0;
	memcpy(p, &len, 4);
	memset(p + 4, (int)(seq & 0xff), len - 4);
	memcpy(p + 4, &seq, 4);
	ring_commit(0);
	return 1;
}

/* Drain and check that the records are seq0, seq0+1, ... whole; returns how many, -1 on a bad record. */
static int take(uint32_t seq0)
{
	int n = 0, w = rtpe_poll(out, sizeof(out));
	uint32_t off = 0;

	while (off < (uint32_t)w) {
		uint32_t len, seq;

		memcpy(&len, out + off, 4);
		memcpy(&seq, out + off + 4, 4);
		if (len < 8 || off + len > (uint32_t)w || seq != seq0 + (uint32_t)n)
			return -1;
		for (uint32_t i = 8; i < len; i++)
			if (out[off + i] != (uint8_t)(seq & 0xff))
				return -1;
		off += len;
		n++;
	}
	return n;
}

int main(void)
{
	uint32_t seq = 0, far = 0;

	CHECK(ring_init(1, 4u << 20) == 0);
	CHECK(rings[0].size == 4u << 20);

	/* caught up after every packet: the producer never gets far past RING_REWIND */
	for (int i = 0; i < 40000; i++) {
		CHECK(put(248, seq));
		uint32_t off = (uint32_t)(rings[0].pending & rings[0].mask);
		if (off > far)
			far = off;
		CHECK(take(seq) == 1);
		seq++;
	}
	CHECK(far <= RING_REWIND + 248);
	printf("ok 1 - an idle-paced ring stays within its first %u bytes (40000 records, 10 MB)\n", far);

	/* a backlog goes past the rewind point and wraps at the end of the buffer, in order */
	for (int round = 0; round < 6; round++) {
		uint32_t first = seq;
		int n = 0;
		while (put(1000, seq)) {
			seq++;
			n++;
		}
		CHECK(n > 4000);        /* ~4 MiB of 1000-byte records before the ring is full */
		CHECK(take(first) == n);
	}
	printf("ok 2 - a backlog fills the whole buffer and drains in order across wraps\n");

	/* the soft limit: full at the limit, never less (a rewind does not take room under it) */
	rtpe_set_ring_limit(128u * 1024u);
	for (int round = 0; round < 2000; round++) {
		uint32_t first = seq;
		int n = 0;
		while (n < 1000 && put(4096, seq)) {
			seq++;
			n++;
		}
		CHECK(n >= 31 && n <= 32);
		CHECK(take(first) == n);
	}
	rtpe_set_ring_limit(0);
	printf("ok 3 - the soft limit holds across rewinds\n");
	ring_free();
	return 0;
}
