/* uring_bufs.c - the provided-buffer pool of ffi/uring.c against the running kernel: a ring that starts
 * with a few buffers runs out (the multishot receive ends with -ENOBUFS and the packets wait in the
 * socket), grows, and the rest arrive; growth stops at the ring's size. Prints "ok" lines; exit 0. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../uring.h"

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #c); return 1; } } while (0)

static struct msghdr tmpl;

static void arm(struct uring *u, struct uring_bufs *b, int fd)
{
	struct io_uring_sqe *sqe = uring_sqe(u);

	sqe->opcode = IORING_OP_RECVMSG;
	sqe->fd = fd;
	sqe->addr = (uint64_t)(uintptr_t)&tmpl;
	sqe->len = 1;
	sqe->flags = IOSQE_BUFFER_SELECT;
	sqe->buf_group = b->bgid;
	sqe->ioprio = IORING_RECV_MULTISHOT;
}

/* Reap until the multishot receive ends; returns the packets received (each recycled at once
 * unless keep), and sets *ended to the final result. */
static int drain(struct uring *u, struct uring_bufs *b, int keep, int *ended)
{
	int got = 0;

	for (;;) {
		if (uring_submit_wait(u, 1) < 0)
			return -1;
		unsigned head = *u->cq_head, tail = __atomic_load_n(u->cq_tail, __ATOMIC_ACQUIRE);
		for (; head != tail; head++) {
			struct io_uring_cqe c = u->cqes[head & *u->cq_mask];
			if (c.res > 0 && (c.flags & IORING_CQE_F_BUFFER)) {
				uring_bufs_taken(b);
				got++;
				if (!keep)
					uring_bufs_give(b, c.flags >> IORING_CQE_BUFFER_SHIFT);
			}
			if (!(c.flags & IORING_CQE_F_MORE)) {
				*ended = c.res;
				__atomic_store_n(u->cq_head, head + 1, __ATOMIC_RELEASE);
				uring_bufs_publish(b);
				return got;
			}
		}
		__atomic_store_n(u->cq_head, head, __ATOMIC_RELEASE);
		uring_bufs_publish(b);
	}
}

int main(void)
{
	struct uring u;
	struct uring_bufs b;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);
	int rx, tx, ended = 0, r;

	r = uring_init(&u, 64, 256);
	if (r == -ENOSYS || r == -EPERM || r == -EINVAL) {
		printf("skip io_uring unavailable (%d)\n", r);
		return 0;
	}
	CHECK(r == 0);
	CHECK(uring_bufs_init(&u, &b, 0, 16, 2048, 4) == 0);
	CHECK(b.live == 4 && b.avail == 4);
	tmpl.msg_namelen = sizeof(struct sockaddr_in6);
	rx = socket(AF_INET, SOCK_DGRAM, 0);
	tx = socket(AF_INET, SOCK_DGRAM, 0);
	CHECK(rx >= 0 && tx >= 0);
	CHECK(bind(rx, (struct sockaddr *)&a, sizeof(a)) == 0);
	CHECK(getsockname(rx, (struct sockaddr *)&a, &al) == 0);
	for (int i = 0; i < 10; i++)
		CHECK(sendto(tx, "packet", 6, 0, (struct sockaddr *)&a, sizeof(a)) == 6);

	/* 4 buffers, kept (as a forwarded packet keeps its buffer until sent): the 5th finds none */
	arm(&u, &b, rx);
	CHECK(drain(&u, &b, 1, &ended) == 4);
	CHECK(ended == -ENOBUFS);
	CHECK(b.avail == 0 && uring_bufs_short(&b, 1));
	printf("ok   runs_out\n");

	/* grow by 8: the 6 waiting packets arrive */
	CHECK(uring_bufs_grow(&b, 8) == 8);
	CHECK(b.live == 12 && b.avail == 8);
	/* plenty waiting: more only if a receive found none this round */
	CHECK(!uring_bufs_short(&b, 0) && uring_bufs_short(&b, 1));
	uring_bufs_publish(&b);
	arm(&u, &b, rx);
	for (int i = 0; i < 6; i++)
		CHECK(sendto(tx, "packet", 6, 0, (struct sockaddr *)&a, sizeof(a)) == 6);
	CHECK(drain(&u, &b, 1, &ended) == 8);
	CHECK(ended == -ENOBUFS);
	printf("ok   grows\n");

	/* the ring holds 16: only 4 more exist */
	CHECK(uring_bufs_grow(&b, 128) == 4);
	CHECK(uring_bufs_grow(&b, 128) == 0);
	CHECK(b.live == 16);
	printf("ok   bounded\n");

	close(rx);
	close(tx);
	uring_bufs_free(&u, &b);
	uring_exit(&u);
	return 0;
}
