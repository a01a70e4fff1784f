/* uring.h - a minimal io_uring over raw system calls (no liburing): one ring, its SQ/CQ, a
 * provided-buffer ring. Used by the io_uring forwarding engine (engine_uring.c) only. */
#ifndef RTPE_URING_H
#define RTPE_URING_H

#include <linux/io_uring.h>
#include <stdint.h>

struct uring {
	int fd;
	unsigned sq_entries, cq_entries;
	unsigned *sq_head, *sq_tail, *sq_mask, *sq_array;
	unsigned *cq_head, *cq_tail, *cq_mask;
	struct io_uring_sqe *sqes;
	struct io_uring_cqe *cqes;
	unsigned sq_local;      /* next SQE to fill (private) */
	unsigned to_submit;     /* filled but not yet passed to io_uring_enter */
	void *sq_map, *cq_map;
	size_t sq_map_len, cq_map_len, sqes_len;
};

struct uring_bufs {
	struct io_uring_buf_ring *br;   /* entries * 16 bytes, page aligned */
	uint8_t *mem;                   /* entries * size bytes */
	unsigned entries, size, tail;
	unsigned live;                  /* buffers 0..live-1 are in use; the rest were never touched */
	unsigned avail;                 /* of those, in the ring and not yet taken by a receive */
	uint16_t bgid;
};

/* Set up a ring owned by the calling thread (SINGLE_ISSUER | DEFER_TASKRUN, so Linux 6.1 or later:
 * that also guarantees multishot recvmsg and provided-buffer rings). 0 or -errno. */
int uring_init(struct uring *u, unsigned sq_entries, unsigned cq_entries);
void uring_exit(struct uring *u);
/* A zeroed SQE, or NULL when the SQ is full even after submitting what it holds. */
struct io_uring_sqe *uring_sqe(struct uring *u);
/* Publish the filled SQEs (release) without entering the kernel. */
void uring_publish(struct uring *u);
/* Submit everything filled and wait for at least min completions. Returns what io_uring_enter
 * returned (SQEs consumed) or -errno. */
int uring_submit_wait(struct uring *u, unsigned min);
/* The same, waiting at most timeout_ns (IORING_ENTER_EXT_ARG); -ETIME when it expired. */
int uring_submit_wait_timeout(struct uring *u, unsigned min, uint64_t timeout_ns);

/* An empty table of n fixed files (IORING_REGISTER_FILES2, sparse), filled by IORING_OP_FILES_UPDATE.
 * 0 or -errno (n may not exceed RLIMIT_NOFILE). */
int uring_files_sparse(struct uring *u, unsigned n);
/* The index in u->sqes of an SQE returned by uring_sqe. */
static inline unsigned uring_sqe_index(const struct uring *u, const struct io_uring_sqe *sqe)
{
	return (unsigned)(sqe - u->sqes);
}

/* Provided buffers: a ring of entries (power of two, <= 32768) buffers of size bytes in group bgid,
 * of which the first `initial` are handed to the kernel now and the others by uring_bufs_grow. */
int uring_bufs_init(struct uring *u, struct uring_bufs *b, uint16_t bgid, unsigned entries, unsigned size,
		unsigned initial);
void uring_bufs_free(struct uring *u, struct uring_bufs *b);
static inline uint8_t *uring_buf(const struct uring_bufs *b, unsigned bid)
{
	return b->mem + (size_t)bid * b->size;
}
/* Hand buffer bid back (visible to the kernel at the next uring_bufs_publish). */
void uring_bufs_give(struct uring_bufs *b, unsigned bid);
void uring_bufs_publish(struct uring_bufs *b);
/* A receive completion carried a buffer: it left the ring. */
static inline void uring_bufs_taken(struct uring_bufs *b)
{
	if (b->avail)
		b->avail--;
}
/* Whether a thread should add buffers after a round: fewer than a quarter of its buffers wait in the ring,
 * or `starved` receives ended this round because none was there (a burst larger than the ring starves
 * receives even when enough buffers are back by the end of the round). */
static inline int uring_bufs_short(const struct uring_bufs *b, unsigned starved)
{
	return starved > 0 || b->avail < b->live / 4u;
}
/* Hand up to n never-used buffers to the kernel (visible at the next publish); returns how many. */
unsigned uring_bufs_grow(struct uring_bufs *b, unsigned n);

#endif
