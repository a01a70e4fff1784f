/* engine_uring.c - the receive threads on io_uring: no system call per packet.
 *
 * With epoll (loop.c + io.c) every forwarded packet costs about three system calls, because each
 * media socket carries ~50 packets/s and so has one packet ready when epoll reports it: epoll_wait
 * (shared), recvmmsg on it, sendmmsg on the output socket. Here each thread owns one io_uring
 * (SINGLE_ISSUER | DEFER_TASKRUN, Linux 6.1+): a multishot IORING_OP_RECVMSG per socket draws
 * buffers from a provided-buffer ring, a forwarded packet becomes an IORING_OP_SENDMSG of that same
 * buffer (no copy), and one io_uring_enter per round submits every send and collects every arrival.
 *
 * Sockets still join the thread's epoll set when they open (socket.c, unchanged): the thread
 * watches that set with a multishot poll, and the first time a socket is readable it arms the
 * socket's multishot receive and takes it out of the set. The epoll set is thus only a registry.
 * The stop eventfd stays in the set, so stopping works as in the epoll engine.
 *
 * Closing (socket.c calls uring_before_close with the slot already marked closed):
 *  - a socket's armed receive holds its own reference to the socket, so the owning thread cancels
 *    it (closers queue the request and kick the thread's eventfd; ring and cancel are owned by the
 *    thread). The port is free once the thread has run the cancel: rtpe_socket_open waits for
 *    pending cancels before it retries a bind that failed with EADDRINUSE (uring_settle).
 *  - a send SQE names its output socket by descriptor and is submitted a little after it was
 *    prepared under the slot lock, so before the descriptor may be closed (and its number reused)
 *    every thread must have handed the SQEs it prepared to the kernel: each thread publishes its SQ
 *    tail then makes `seq` even before io_uring_enter, odd after; a closer waits until every thread
 *    is even with the kernel's SQ head at the published tail (at once for an idle thread).
 *
 * Fixed files: a send names its output socket by descriptor, and the kernel looks the descriptor up and
 * takes a reference for every one (fget, ~3 % of the forwarding CPU). So each ring keeps a sparse table of
 * registered files indexed by socket slot: the first send from a thread to a socket puts the socket in
 * that thread's table (an IORING_OP_FILES_UPDATE placed before the send in the SQ, so it runs first), and
 * later sends name the slot (IOSQE_FIXED_FILE). A table entry holds the socket open, so a closer asks every
 * thread to clear the slot (queued like the cancels, counted in cancels_pending, which a bind of the same
 * port waits for); a thread clears it only if its entry is still that socket's generation (a newer socket
 * in the slot replaced it already). RTPE_SHIM_URING_FIXED=0 turns fixed files off; a thread whose table
 * cannot be registered (it may not exceed RLIMIT_NOFILE) sends by descriptor.
 *
 * A thread whose ring cannot be set up returns an error and loop.c runs the epoll loop instead;
 * loop.c picks this engine only when uring_engine_probe() succeeds (RTPE_SHIM_ENGINE overrides).
 */
#include <errno.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "uring.h"

#define U_SQ 2048u
#define U_CQ 8192u
/* Up to 1024 receive buffers per thread, handed to the kernel as the load needs them: every buffer in
 * circulation ends up touched (a page each), so 1024 from the start were ~4 MiB resident per thread
 * even at low rates, while a fixed 256 lost packets at peak rates in the ramp. A thread starts with
 * U_NBUF_START and adds U_NBUF_STEP whenever fewer than a quarter of its buffers wait in the ring. */
#define U_NBUF 1024u
#define U_NBUF_START 256u
#define U_NBUF_STEP 128u
/* every buffer takes a whole datagram (65535) plus SRTP growth after its header, so nothing is
 * ever truncated; 17 pages each, mapped without reserve: a small packet touches one page, so the
 * resident cost is about U_NBUF pages per thread (68 MiB of address space). */
#define U_BUFSZ (17u * 4096u)
/* >= sizeof(struct sockaddr_in6) and a multiple of 8, so the control messages after it are aligned */
#define U_NAMELEN 32u
#define U_HDR ((uint32_t)sizeof(struct io_uring_recvmsg_out) + U_NAMELEN + CTRL_BUF)
#define U_EVENTS 128
#define CANCEL_Q 4096u
#define CLOSE_WAIT_NS 200000000ull   /* a closer gives up on a stuck thread after 200 ms */
#define STOP_DRAIN_NS 50000000ull
/* RTPE_SHIM_URING_WAIT_US (0..1000, default 0 = off): wait for up to that long for WAIT_BATCH
 * completions instead of returning on the first, trading that much latency for fewer wake-ups. */
#define WAIT_BATCH 32u

_Static_assert(U_HDR % 8 == 0 && U_BUFSZ - U_HDR >= RTPE_MAX_DATAGRAM + 1024u, "buffer layout");
_Static_assert(RTPE_MAX_SOCKETS <= (1 << 24), "slot index in user_data");

enum { K_RECV = 1, K_SEND, K_EPOLL, K_WAKE, K_CANCEL, K_FILES, K_UNFIX };

static inline uint64_t ud(unsigned kind, uint32_t idx, uint32_t gen)
{
	return ((uint64_t)kind << 56) | ((uint64_t)(idx & 0xffffffu) << 32) | gen;
}

/* A forwarded packet in flight: its message, pointing into the receive buffer of the same index. */
struct tx_slot {
	struct mmsghdr mm;
	struct iovec iov;
	struct sockaddr_storage name;
	union ctrl_buf ctrl;
	struct shim_sock *out;      /* slots are never freed */
	struct shim_rule *rule;
	uint32_t out_gen;
};

struct urx {
	struct uring u;
	struct uring_bufs b;
	struct msghdr rx_tmpl;
	struct tx_slot tx[U_NBUF];
	unsigned me, ring;
	int epfd, wake_fd;
	uint64_t wake_val;
	unsigned inflight;          /* requests whose last completion has not arrived */
	unsigned starved;           /* receives that ended this round for want of a buffer */
	int stop;
	uint64_t seq;               /* close barrier: odd while handling completions */
	int exiting;
	pthread_mutex_t q_lock;     /* cancels queued by closers */
	uint64_t q[CANCEL_Q];
	unsigned nq;
	int kicked;
	/* fixed files: table size (0 = off), the socket generation each entry holds (0 = empty), and the
	 * descriptor each IORING_OP_FILES_UPDATE reads, by SQE index (read when the SQE is submitted) */
	unsigned nfixed;
	uint32_t *fixed_gen;
	int *upd_fd;
};

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct urx *urx_of[RTPE_MAX_RX_THREADS];
static unsigned cancels_pending;
static uint64_t trunc_drops;
static uint64_t bufs_live;      /* receive buffers handed to the kernel, all threads (global stats) */
static uint64_t fixed_live;     /* fixed-file table entries, all threads (global stats) */
static uint64_t starved_total;  /* receives ended by -ENOBUFS, all threads (global stats) */

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int uring_engine_probe(void)
{
	struct uring u;
	struct uring_bufs b;
	int r = uring_init(&u, 8, 16);

	if (r < 0)
		return r;
	r = uring_bufs_init(&u, &b, 0, 8, 64, 8);
	if (r == 0)
		uring_bufs_free(&u, &b);
	uring_exit(&u);
	return r;
}

static struct io_uring_sqe *new_sqe(struct urx *x)
{
	struct io_uring_sqe *sqe = uring_sqe(&x->u);

	if (sqe)
		x->inflight++;
	return sqe;
}

static void arm_epoll(struct urx *x)
{
	struct io_uring_sqe *sqe = new_sqe(x);

	if (!sqe)
		return;
	sqe->opcode = IORING_OP_POLL_ADD;
	sqe->fd = x->epfd;
	sqe->poll32_events = EPOLLIN;
	sqe->len = IORING_POLL_ADD_MULTI;
	sqe->user_data = ud(K_EPOLL, 0, 0);
}

static void arm_wake(struct urx *x)
{
	struct io_uring_sqe *sqe = new_sqe(x);

	if (!sqe)
		return;
	sqe->opcode = IORING_OP_READ;
	sqe->fd = x->wake_fd;
	sqe->addr = (uint64_t)(uintptr_t)&x->wake_val;
	sqe->len = sizeof(x->wake_val);
	sqe->user_data = ud(K_WAKE, 0, 0);
}

/* Slot locked and open. */
static int arm_recv(struct urx *x, struct shim_sock *s, uint32_t idx)
{
	struct io_uring_sqe *sqe = new_sqe(x);

	if (!sqe)
		return -1;
	sqe->opcode = IORING_OP_RECVMSG;
	sqe->fd = s->fd;
	sqe->addr = (uint64_t)(uintptr_t)&x->rx_tmpl;
	sqe->len = 1;
	sqe->flags = IOSQE_BUFFER_SELECT;
	sqe->buf_group = x->b.bgid;
	sqe->ioprio = IORING_RECV_MULTISHOT;
	sqe->user_data = ud(K_RECV, idx, s->gen);
	return 0;
}

static struct shim_sock *slot_locked(uint32_t idx, uint32_t gen)
{
	struct shim_sock *s;

	if (idx >= RTPE_MAX_SOCKETS)
		return NULL;
	s = __atomic_load_n(&shim_socks[idx], __ATOMIC_ACQUIRE);
	if (!s)
		return NULL;
	pthread_mutex_lock(&s->lock);
	if (s->fd < 0 || s->gen != gen) {
		pthread_mutex_unlock(&s->lock);
		return NULL;
	}
	return s;
}

/* Back into the epoll set (the thread stops): a later start, of either engine, reads it again. */
static void detach(struct shim_sock *s, uint32_t idx)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.u64 = (uint64_t)idx | ((uint64_t)s->gen << 32);
	s->uring_armed = 0;
	epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->fd, &ev);
}

static void attach(struct urx *x, uint32_t idx, uint32_t gen)
{
	struct shim_sock *s = slot_locked(idx, gen);

	if (!s)
		return;
	if (!s->uring_armed && arm_recv(x, s, idx) == 0) {
		s->uring_armed = 1;
		epoll_ctl(s->epfd, EPOLL_CTL_DEL, s->fd, NULL);
	}
	pthread_mutex_unlock(&s->lock);
}

static void on_epoll(struct urx *x, const struct io_uring_cqe *cqe)
{
	struct epoll_event ev[U_EVENTS];
	int n;

	if (!(cqe->flags & IORING_CQE_F_MORE)) {
		x->inflight--;
		if (!x->stop)
			arm_epoll(x);
	}
	do {
		n = epoll_wait(x->epfd, ev, U_EVENTS, 0);
		for (int i = 0; i < n; i++) {
			uint64_t tok = ev[i].data.u64;
			if (tok == SHIM_STOP_TOKEN)
				x->stop = 1;
			else if (!x->stop)
				attach(x, (uint32_t)(tok & 0xffffffffu), (uint32_t)(tok >> 32));
		}
	} while (n == U_EVENTS && !x->stop);
}

static void unfix(struct urx *x, uint32_t idx, uint32_t gen);

static void on_wake(struct urx *x)
{
	uint64_t q[64];
	unsigned n;

	x->inflight--;
	for (;;) {
		pthread_mutex_lock(&x->q_lock);
		n = x->nq < 64 ? x->nq : 64;
		memcpy(q, x->q + (x->nq - n), n * sizeof(q[0]));
		x->nq -= n;
		if (!x->nq)
			x->kicked = 0;
		pthread_mutex_unlock(&x->q_lock);
		if (!n)
			break;
		for (unsigned i = 0; i < n; i++) {
			struct io_uring_sqe *sqe;
			if ((unsigned)(q[i] >> 56) == K_UNFIX) {
				unfix(x, (uint32_t)(q[i] >> 32) & 0xffffffu, (uint32_t)q[i]);
				continue;
			}
			sqe = new_sqe(x);
			if (!sqe) {
				__atomic_fetch_sub(&cancels_pending, 1, __ATOMIC_RELEASE);
				continue;
			}
			sqe->opcode = IORING_OP_ASYNC_CANCEL;
			sqe->addr = q[i];
			sqe->user_data = ud(K_CANCEL, 1, 0);
		}
	}
	if (!x->stop)
		arm_wake(x);
}

/* Table entry idx := fd (-1 empties it), when sqe is submitted. */
static void files_update(struct urx *x, struct io_uring_sqe *sqe, uint32_t idx, int fd, uint64_t user_data)
{
	int *arg = &x->upd_fd[uring_sqe_index(&x->u, sqe)];

	*arg = fd;
	sqe->opcode = IORING_OP_FILES_UPDATE;
	sqe->fd = -1;
	sqe->addr = (uint64_t)(uintptr_t)arg;
	sqe->len = 1;
	sqe->off = idx;
	sqe->user_data = user_data;
}

/* Put socket `out` (slot idx, locked and open) into this thread's fixed-file table unless it is there.
 * 1 when a send may name the slot (the entry holds out, or its update is queued ahead of the send). */
static int fix(struct urx *x, uint32_t idx, const struct shim_sock *out)
{
	struct io_uring_sqe *sqe;

	if (idx >= x->nfixed || out->gen == 0)
		return 0;
	if (x->fixed_gen[idx] == out->gen)
		return 1;
	if (!(sqe = new_sqe(x)))
		return 0;
	files_update(x, sqe, idx, out->fd, ud(K_FILES, idx, out->gen));
	if (!x->fixed_gen[idx])
		CNT_ADD(fixed_live, 1);
	x->fixed_gen[idx] = out->gen;
	return 1;
}

/* A closer's request: empty slot idx if it still holds generation gen. */
static void unfix(struct urx *x, uint32_t idx, uint32_t gen)
{
	struct io_uring_sqe *sqe;

	if (idx >= x->nfixed || x->fixed_gen[idx] != gen || !(sqe = new_sqe(x))) {
		__atomic_fetch_sub(&cancels_pending, 1, __ATOMIC_RELEASE);
		return;
	}
	x->fixed_gen[idx] = 0;
	__atomic_fetch_sub(&fixed_live, 1, __ATOMIC_RELAXED);
	files_update(x, sqe, idx, -1, ud(K_UNFIX, idx, gen));
}

/* Forward the packet in buffer bid as f says. 0, or -1 when it was not sent (counted). */
static int send_packet(struct urx *x, unsigned bid, const struct fwd_item *f, uint8_t *d, uint32_t len)
{
	struct tx_slot *t = &x->tx[bid];
	struct shim_sock *out = shim_sock_lock(f->out);
	struct io_uring_sqe *sqe;
	int fixed;

	if (!out || out->gen != f->out_gen) {
		if (out)
			shim_sock_unlock(out);
		CNT_ADD(f->rule->errors, 1);
		return -1;
	}
	/* the table update, when one is needed, goes into the SQ before the send that uses it */
	fixed = fix(x, f->out, out);
	if (io_fill_tx(&t->mm, &t->iov, &t->name, &t->ctrl, &f->dst, d, len,
			f->set_tos ? f->tos : -1) < 0 || !(sqe = new_sqe(x))) {
		CNT_ADD(out->st.tx_errors, 1);
		shim_sock_unlock(out);
		CNT_ADD(f->rule->errors, 1);
		return -1;
	}
	t->out = out;
	t->out_gen = out->gen;
	t->rule = f->rule;
	sqe->opcode = IORING_OP_SENDMSG;
	if (fixed) {
		sqe->fd = (int)f->out;
		sqe->flags = IOSQE_FIXED_FILE;
	} else {
		sqe->fd = out->fd;
	}
	sqe->addr = (uint64_t)(uintptr_t)&t->mm.msg_hdr;
	sqe->len = 1;
	sqe->msg_flags = MSG_DONTWAIT;
	sqe->user_data = ud(K_SEND, bid, 0);
	shim_sock_unlock(out);
	return 0;
}

static void on_sent(struct urx *x, const struct io_uring_cqe *cqe, unsigned bid)
{
	struct tx_slot *t;

	x->inflight--;
	if (bid >= U_NBUF)
		return;
	t = &x->tx[bid];
	if (t->out && __atomic_load_n(&t->out->gen, __ATOMIC_RELAXED) == t->out_gen) {
		if (cqe->res >= 0) {
			CNT_ADD(t->out->st.tx_packets, 1);
			CNT_ADD(t->out->st.tx_bytes, (uint64_t)cqe->res);
		} else {
			CNT_ADD(t->out->st.tx_errors, 1);
		}
	}
	if (cqe->res < 0 && t->rule)
		CNT_ADD(t->rule->errors, 1);
	t->out = NULL;
	t->rule = NULL;
	uring_bufs_give(&x->b, bid);
}

/* One completion of a socket's multishot receive; returns 1 when a packet was queued to JS. */
static int on_recv(struct urx *x, const struct io_uring_cqe *cqe, uint32_t idx, uint32_t gen, uint64_t now)
{
	struct io_uring_recvmsg_out out;
	struct shim_sock *s;
	struct fwd_item f;
	struct msghdr mh;
	unsigned bid;
	uint8_t *buf;
	uint32_t res, len;
	int r;

	if (!(cqe->flags & IORING_CQE_F_MORE)) {
		/* the receive ended (cancelled, out of buffers, error): re-arm while the socket lives */
		x->inflight--;
		if (cqe->res == -ENOBUFS) {
			x->starved++;
			CNT_ADD(starved_total, 1);
		}
		if ((s = slot_locked(idx, gen)) != NULL) {
			if (x->stop)
				detach(s, idx);
			else if (s->uring_armed && arm_recv(x, s, idx) < 0)
				detach(s, idx);
			pthread_mutex_unlock(&s->lock);
		}
	}
	if (cqe->res <= 0 || !(cqe->flags & IORING_CQE_F_BUFFER))
		return 0;
	uring_bufs_taken(&x->b);
	bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
	if (bid >= U_NBUF)
		return 0;
	buf = uring_buf(&x->b, bid);
	res = (uint32_t)cqe->res;
	if (res > U_BUFSZ || res < U_HDR) {
		uring_bufs_give(&x->b, bid);
		return 0;
	}
	memcpy(&out, buf, sizeof(out));
	s = slot_locked(idx, gen);
	if (!s) {
		uring_bufs_give(&x->b, bid);
		return 0;
	}
	if ((out.flags & MSG_TRUNC) || out.payloadlen > res - U_HDR) {
		CNT_ADD(s->st.rx_packets, 1);
		CNT_ADD(s->st.rx_ring_drops, 1);   /* larger than a buffer: cannot happen for UDP */
		CNT_ADD(trunc_drops, 1);
		pthread_mutex_unlock(&s->lock);
		uring_bufs_give(&x->b, bid);
		return 0;
	}
	memset(&mh, 0, sizeof(mh));
	mh.msg_name = buf + sizeof(out);
	mh.msg_namelen = out.namelen < U_NAMELEN ? out.namelen : U_NAMELEN;
	mh.msg_control = buf + sizeof(out) + U_NAMELEN;
	mh.msg_controllen = out.controllen < CTRL_BUF ? out.controllen : CTRL_BUF;
	len = out.payloadlen;
	CNT_ADD(s->st.rx_packets, 1);
	CNT_ADD(s->st.rx_bytes, len);
	r = io_rx_packet(s, idx, x->ring, buf + U_HDR, &len, U_BUFSZ - U_HDR, &mh, now, &f);
	pthread_mutex_unlock(&s->lock);
	/* sends happen with the input slot unlocked: never two slot locks at once */
	if (r <= 0 || send_packet(x, bid, &f, buf + U_HDR, len) < 0)
		uring_bufs_give(&x->b, bid);
	return r == 0;
}

/* Submit what is prepared and wait: the close barrier's even/odd marks around io_uring_enter. */
static int enter(struct urx *x, unsigned min, uint64_t timeout_ns)
{
	int r;

	uring_publish(&x->u);
	__atomic_store_n(&x->seq, x->seq + 1, __ATOMIC_RELEASE);    /* even: SQ tail published */
	r = timeout_ns ? uring_submit_wait_timeout(&x->u, min, timeout_ns) : uring_submit_wait(&x->u, min);
	__atomic_store_n(&x->seq, x->seq + 1, __ATOMIC_RELEASE);
	return r;
}

static int reap(struct urx *x)
{
	unsigned head = *x->u.cq_head, tail = __atomic_load_n(x->u.cq_tail, __ATOMIC_ACQUIRE);
	uint64_t now = head != tail ? shim_now_ns() : 0;
	int queued = 0;

	for (; head != tail; head++) {
		struct io_uring_cqe cqe = x->u.cqes[head & *x->u.cq_mask];
		unsigned kind = (unsigned)(cqe.user_data >> 56);
		uint32_t idx = (uint32_t)(cqe.user_data >> 32) & 0xffffffu, gen = (uint32_t)cqe.user_data;

		switch (kind) {
		case K_RECV:
			queued += on_recv(x, &cqe, idx, gen, now);
			break;
		case K_SEND:
			on_sent(x, &cqe, idx);
			break;
		case K_EPOLL:
			on_epoll(x, &cqe);
			break;
		case K_WAKE:
			on_wake(x);
			break;
		case K_CANCEL:
			x->inflight--;
			if (idx)
				__atomic_fetch_sub(&cancels_pending, 1, __ATOMIC_RELEASE);
			break;
		case K_FILES:
			x->inflight--;
			/* not in the table: the send after it failed (counted); the next one tries again */
			if (cqe.res < 0 && idx < x->nfixed && x->fixed_gen[idx] == gen) {
				x->fixed_gen[idx] = 0;
				__atomic_fetch_sub(&fixed_live, 1, __ATOMIC_RELAXED);
			}
			break;
		case K_UNFIX:
			x->inflight--;
			__atomic_fetch_sub(&cancels_pending, 1, __ATOMIC_RELEASE);
			break;
		default:
			break;
		}
	}
	__atomic_store_n(x->u.cq_head, head, __ATOMIC_RELEASE);
	/* running low, or out: a receive ended with -ENOBUFS and was re-armed above, which costs the kernel
	 * a new request, a descriptor lookup and a poll registration (at 50k pps with 256 buffers, one
	 * packet in ten before this rule) */
	if (uring_bufs_short(&x->b, x->starved))
		CNT_ADD(bufs_live, uring_bufs_grow(&x->b, U_NBUF_STEP));
	x->starved = 0;
	uring_bufs_publish(&x->b);
	return queued;
}

static void urx_free(struct urx *x)
{
	__atomic_fetch_sub(&bufs_live, (uint64_t)x->b.live, __ATOMIC_RELAXED);
	for (unsigned i = 0; i < x->nfixed; i++)    /* the ring's teardown releases its table */
		if (x->fixed_gen[i])
			__atomic_fetch_sub(&fixed_live, 1, __ATOMIC_RELAXED);
	uring_bufs_free(&x->u, &x->b);
	uring_exit(&x->u);
	free(x->fixed_gen);
	free(x->upd_fd);
	if (x->wake_fd >= 0)
		close(x->wake_fd);
	pthread_mutex_destroy(&x->q_lock);
	free(x);
}

/* The thread's fixed-file table, one entry per socket slot up to RLIMIT_NOFILE; off when it cannot be had. */
static void fixed_init(struct urx *x)
{
	const char *e = getenv("RTPE_SHIM_URING_FIXED");
	struct rlimit rl;
	unsigned n = RTPE_MAX_SOCKETS;

	if (e && strcmp(e, "0") == 0)
		return;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < n)
		n = (unsigned)rl.rlim_cur;
	x->fixed_gen = calloc(n, sizeof(*x->fixed_gen));
	x->upd_fd = calloc(x->u.sq_entries, sizeof(*x->upd_fd));
	if (n == 0 || !x->fixed_gen || !x->upd_fd || uring_files_sparse(&x->u, n) < 0) {
		free(x->fixed_gen);
		free(x->upd_fd);
		x->fixed_gen = NULL;
		x->upd_fd = NULL;
		return;
	}
	x->nfixed = n;
}

int uring_rx_run(unsigned me, int epfd, unsigned ring)
{
	struct urx *x = calloc(1, sizeof(*x));
	struct io_uring_sqe *sqe;
	uint64_t deadline, wait_ns;
	int r;

	if (!x)
		return -ENOMEM;
	x->wake_fd = -1;
	pthread_mutex_init(&x->q_lock, NULL);
	r = uring_init(&x->u, U_SQ, U_CQ);
	if (r == 0)
		r = uring_bufs_init(&x->u, &x->b, 0, U_NBUF, U_BUFSZ, U_NBUF_START);
	if (r == 0)
		CNT_ADD(bufs_live, x->b.live);
	if (r == 0)
		fixed_init(x);
	if (r == 0) {
		x->wake_fd = eventfd(0, EFD_CLOEXEC);   /* blocking: an io_uring read of an O_NONBLOCK file returns -EAGAIN at once */
		if (x->wake_fd < 0)
			r = -errno;
	}
	if (r < 0) {
		urx_free(x);
		return r;
	}
	x->me = me;
	x->ring = ring;
	x->epfd = epfd;
	x->seq = 1;
	x->rx_tmpl.msg_namelen = U_NAMELEN;
	x->rx_tmpl.msg_controllen = CTRL_BUF;
	arm_wake(x);
	arm_epoll(x);
	pthread_mutex_lock(&reg_lock);
	urx_of[me] = x;
	pthread_mutex_unlock(&reg_lock);

	{
		const char *w = getenv("RTPE_SHIM_URING_WAIT_US");
		unsigned long us = w && *w ? strtoul(w, NULL, 10) : 0;
		wait_ns = (us > 1000 ? 1000 : us) * 1000ull;
	}
	while (!x->stop) {
		int queued;

		r = wait_ns ? enter(x, WAIT_BATCH, wait_ns) : enter(x, 1, 0);
		if (r < 0 && r != -EINTR && r != -ETIME) {
			struct timespec pause = { 0, 1000000 };   /* -EBUSY/-EAGAIN: completions back up */
			nanosleep(&pause, NULL);
		}
		queued = reap(x);
		if (queued)
			ring_commit(ring);
		loop_round_done(queued);
	}

	/* stop: cancel everything (each socket goes back to the epoll set), collect the completions */
	sqe = new_sqe(x);
	if (sqe) {
		sqe->opcode = IORING_OP_ASYNC_CANCEL;
		sqe->cancel_flags = IORING_ASYNC_CANCEL_ANY | IORING_ASYNC_CANCEL_ALL;
		sqe->user_data = ud(K_CANCEL, 0, 0);
	}
	deadline = mono_ns() + STOP_DRAIN_NS;
	while (x->inflight > 0 && mono_ns() < deadline) {
		int queued;
		enter(x, 1, STOP_DRAIN_NS / 10);
		queued = reap(x);
		if (queued)
			ring_commit(ring);
	}
	__atomic_store_n(&x->exiting, 1, __ATOMIC_RELEASE);
	pthread_mutex_lock(&reg_lock);
	urx_of[me] = NULL;
	/* cancels still queued for this thread will not run: the ring's teardown releases them */
	__atomic_fetch_sub(&cancels_pending, x->nq, __ATOMIC_RELEASE);
	x->nq = 0;
	pthread_mutex_unlock(&reg_lock);
	urx_free(x);
	return 0;
}

/* Wait until thread x has handed the kernel every SQE it prepared before now. */
static void wait_quiescent(struct urx *x, uint64_t deadline)
{
	uint64_t s0 = __atomic_load_n(&x->seq, __ATOMIC_ACQUIRE), s;
	unsigned tail;

	while ((s0 & 1u) && !__atomic_load_n(&x->exiting, __ATOMIC_ACQUIRE)) {
		if (mono_ns() > deadline)
			return;
		sched_yield();
		s0 = __atomic_load_n(&x->seq, __ATOMIC_ACQUIRE);
	}
	tail = __atomic_load_n(x->u.sq_tail, __ATOMIC_ACQUIRE);
	for (;;) {
		unsigned head = __atomic_load_n(x->u.sq_head, __ATOMIC_ACQUIRE);
		s = __atomic_load_n(&x->seq, __ATOMIC_ACQUIRE);
		if ((int)(head - tail) >= 0 || s >= s0 + 2u || __atomic_load_n(&x->exiting, __ATOMIC_ACQUIRE) ||
				mono_ns() > deadline)
			return;
		sched_yield();
	}
}

/* Queue request item for thread x (reg_lock held) and kick it; counted in cancels_pending. */
static void request(struct urx *x, uint64_t item)
{
	uint64_t one = 1;
	int kick = 0;

	for (;;) {
		pthread_mutex_lock(&x->q_lock);
		if (x->nq < CANCEL_Q) {
			x->q[x->nq++] = item;
			__atomic_fetch_add(&cancels_pending, 1, __ATOMIC_RELEASE);
			kick = !x->kicked;
			x->kicked = 1;
			pthread_mutex_unlock(&x->q_lock);
			break;
		}
		pthread_mutex_unlock(&x->q_lock);
		sched_yield();      /* the thread drains the queue: it was kicked already */
	}
	if (kick && write(x->wake_fd, &one, sizeof(one)) < 0) {
		/* eventfd full cannot happen with one pending kick; nothing else to do */
	}
}

void uring_before_close(uint32_t idx, uint32_t gen, int armed)
{
	uint64_t deadline = 0;

	pthread_mutex_lock(&reg_lock);
	if (armed) {
		struct urx *x = urx_of[shim_thread_for((int)idx)];
		if (x)
			request(x, ud(K_RECV, idx, gen));
	}
	/* any thread may have sent from this socket: each empties its table entry if it has one */
	for (unsigned i = 0; i < RTPE_MAX_RX_THREADS; i++)
		if (urx_of[i] && urx_of[i]->nfixed)
			request(urx_of[i], ud(K_UNFIX, idx, gen));
	for (unsigned i = 0; i < RTPE_MAX_RX_THREADS; i++) {
		if (!urx_of[i])
			continue;
		if (!deadline)
			deadline = mono_ns() + CLOSE_WAIT_NS;
		wait_quiescent(urx_of[i], deadline);
	}
	pthread_mutex_unlock(&reg_lock);
}

void uring_settle(void)
{
	uint64_t deadline = mono_ns() + CLOSE_WAIT_NS;

	while (__atomic_load_n(&cancels_pending, __ATOMIC_ACQUIRE) > 0 && mono_ns() < deadline)
		sched_yield();
}

uint64_t uring_trunc_drops(void)
{
	return CNT_GET(trunc_drops);
}

uint64_t uring_rx_starved(void)
{
	return CNT_GET(starved_total);
}

uint64_t uring_fixed_files(void)
{
	return CNT_GET(fixed_live);
}

uint64_t uring_rx_buffers(void)
{
	return CNT_GET(bufs_live);
}
