/* relay.c - a throw-away RTP relay that answers just enough of the ng protocol (ping, offer, answer,
 * delete) for rtpload, to compare forwarding I/O designs across many sockets with everything else
 * equal. Not part of the daemon; see README.md beside it.
 *
 *   relay [--listen-ng=IP:PORT] [--num-threads=N] [--engine=epoll|uring] [--batch-us=U] [other options ignored]
 *
 * Each call gets two sockets on 127.0.0.1: `a` faces the caller, `b` the callee. The offer reply
 * gives b's port, the answer reply a's. Once answered, what arrives on a leaves b for the callee's
 * SDP address and vice versa (no learning: the prototype measures I/O, not policy).
 *
 * epoll: what ffi/loop.c + ffi/io.c do: epoll_wait, then per ready socket recvmmsg and a sendmmsg on
 *        the peer socket.
 * uring: one io_uring per thread (raw syscalls): a multishot RECVMSG with a provided-buffer ring on
 *        every socket, a SENDMSG SQE per packet (the buffer goes back to the ring when it completes),
 *        one io_uring_enter per round that submits all sends and waits. --batch-us U > 0: when a round
 *        was small, wait up to U µs for 64 completions instead of 1 (fewer wake-ups, more latency). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/io_uring.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define MAX_SOCKS 65536
#define MAX_THREADS 16
#define BATCH 32
#define BUF_SIZE 2048u
#define NBUFS 4096u           /* per thread, power of two */
#define SQ_ENTRIES 4096u
#define CQ_ENTRIES 16384u

struct rsock {
	int fd;
	int peer_fd;
	struct sockaddr_in dst;
};

static struct rsock socks[MAX_SOCKS];
static int nsocks;
static unsigned nthreads = 1;
static int use_uring;
static unsigned batch_us;
static int use_connect;      /* --connect: connect each socket to its peer, send without an address */
static int use_sibling;      /* --sibling: a second socket on the same port (SO_REUSEPORT), connected, sends */
static int use_send;         /* --send: IORING_OP_SEND (address in addr2 unless connected), not SENDMSG */

static void die(const char *m)
{
	perror(m);
	exit(1);
}

/* ---------------- epoll engine ---------------- */

static int ep_fd[MAX_THREADS];

static void *epoll_main(void *arg)
{
	unsigned me = (unsigned)(uintptr_t)arg;
	struct epoll_event ev[128];
	static __thread struct mmsghdr rx[BATCH], tx[BATCH];
	static __thread struct iovec iov[BATCH], tiov[BATCH];
	static __thread struct sockaddr_in names[BATCH];
	static __thread uint8_t data[BATCH][BUF_SIZE];

	for (;;) {
		int n = epoll_wait(ep_fd[me], ev, 128, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("epoll_wait");
		}
		for (int e = 0; e < n; e++) {
			struct rsock *s = &socks[ev[e].data.u32];
			for (int i = 0; i < BATCH; i++) {
				iov[i].iov_base = data[i];
				iov[i].iov_len = BUF_SIZE;
				memset(&rx[i].msg_hdr, 0, sizeof(rx[i].msg_hdr));
				rx[i].msg_hdr.msg_name = &names[i];
				rx[i].msg_hdr.msg_namelen = sizeof(names[i]);
				rx[i].msg_hdr.msg_iov = &iov[i];
				rx[i].msg_hdr.msg_iovlen = 1;
			}
			int r = recvmmsg(s->fd, rx, BATCH, MSG_DONTWAIT, NULL);
			if (r <= 0)
				continue;
			for (int i = 0; i < r; i++) {
				tiov[i].iov_base = data[i];
				tiov[i].iov_len = rx[i].msg_len;
				memset(&tx[i].msg_hdr, 0, sizeof(tx[i].msg_hdr));
				tx[i].msg_hdr.msg_name = &s->dst;
				tx[i].msg_hdr.msg_namelen = sizeof(s->dst);
				tx[i].msg_hdr.msg_iov = &tiov[i];
				tx[i].msg_hdr.msg_iovlen = 1;
			}
			sendmmsg(s->peer_fd, tx, (unsigned)r, MSG_DONTWAIT);
		}
	}
	return NULL;
}

static void epoll_add(int idx)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = (uint32_t)idx };
	if (epoll_ctl(ep_fd[(unsigned)idx % nthreads], EPOLL_CTL_ADD, socks[idx].fd, &ev) < 0)
		die("epoll_ctl");
}

/* ---------------- io_uring engine ---------------- */

#define UD_RECV 1ull
#define UD_SEND 2ull
#define UD_WAKE 3ull
#define UD(kind, v) (((uint64_t)(kind) << 56) | (uint64_t)(v))

struct uring {
	int fd;
	unsigned *sq_head, *sq_tail, *sq_mask, *sq_array, *cq_head, *cq_tail, *cq_mask;
	struct io_uring_sqe *sqes;
	struct io_uring_cqe *cqes;
	unsigned sq_local_tail, to_submit;
	struct io_uring_buf_ring *br;
	unsigned br_tail;
	uint8_t *bufs;
	struct msghdr rx_msg;           /* template for multishot recvmsg */
	struct msghdr tx_msg[NBUFS];    /* one per buffer: the send of that buffer's packet */
	struct iovec tx_iov[NBUFS];
	int wake_fd;
	uint64_t wake_val;
	/* sockets handed over by the ng thread */
	pthread_mutex_t lock;
	int pending[1024];
	int npending;
};

static struct uring *rings[MAX_THREADS];

static int sys_setup(unsigned entries, struct io_uring_params *p)
{
	return (int)syscall(__NR_io_uring_setup, entries, p);
}

static int sys_enter(int fd, unsigned submit, unsigned min, unsigned flags, void *arg, size_t sz)
{
	return (int)syscall(__NR_io_uring_enter, fd, submit, min, flags, arg, sz);
}

static int sys_register(int fd, unsigned op, void *arg, unsigned n)
{
	return (int)syscall(__NR_io_uring_register, fd, op, arg, n);
}

static struct io_uring_sqe *get_sqe(struct uring *u)
{
	unsigned head = __atomic_load_n(u->sq_head, __ATOMIC_ACQUIRE);
	struct io_uring_sqe *sqe;

	if (u->sq_local_tail - head >= SQ_ENTRIES) {
		/* full: push what we have */
		__atomic_store_n(u->sq_tail, u->sq_local_tail, __ATOMIC_RELEASE);
		sys_enter(u->fd, u->to_submit, 0, 0, NULL, 0);
		u->to_submit = 0;
		head = __atomic_load_n(u->sq_head, __ATOMIC_ACQUIRE);
		if (u->sq_local_tail - head >= SQ_ENTRIES)
			return NULL;
	}
	sqe = &u->sqes[u->sq_local_tail & *u->sq_mask];
	u->sq_array[u->sq_local_tail & *u->sq_mask] = u->sq_local_tail & *u->sq_mask;
	u->sq_local_tail++;
	u->to_submit++;
	memset(sqe, 0, sizeof(*sqe));
	return sqe;
}

static void buf_give(struct uring *u, unsigned bid)
{
	struct io_uring_buf *b = &u->br->bufs[u->br_tail & (NBUFS - 1)];
	b->addr = (uint64_t)(uintptr_t)(u->bufs + (size_t)bid * BUF_SIZE);
	b->len = BUF_SIZE;
	b->bid = (uint16_t)bid;
	u->br_tail++;
}

static void buf_publish(struct uring *u)
{
	__atomic_store_n(&u->br->tail, (uint16_t)u->br_tail, __ATOMIC_RELEASE);
}

static void arm_recv(struct uring *u, int idx)
{
	struct io_uring_sqe *sqe = get_sqe(u);
	if (!sqe)
		return;
	sqe->opcode = IORING_OP_RECVMSG;
	sqe->fd = socks[idx].fd;
	sqe->addr = (uint64_t)(uintptr_t)&u->rx_msg;
	sqe->len = 1;
	sqe->flags = IOSQE_BUFFER_SELECT;
	sqe->buf_group = 0;
	sqe->ioprio = IORING_RECV_MULTISHOT;
	sqe->user_data = UD(UD_RECV, idx);
}

static void arm_wake(struct uring *u)
{
	struct io_uring_sqe *sqe = get_sqe(u);
	if (!sqe)
		return;
	sqe->opcode = IORING_OP_READ;
	sqe->fd = u->wake_fd;
	sqe->addr = (uint64_t)(uintptr_t)&u->wake_val;
	sqe->len = sizeof(u->wake_val);
	sqe->user_data = UD(UD_WAKE, 0);
}

static struct uring *uring_new(void)
{
	struct io_uring_params p;
	struct uring *u = calloc(1, sizeof(*u));
	struct io_uring_buf_reg reg;
	size_t sq_sz, cq_sz;
	uint8_t *sq, *cq;

	if (!u)
		die("calloc");
	memset(&p, 0, sizeof(p));
	p.flags = IORING_SETUP_CQSIZE | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
	p.cq_entries = CQ_ENTRIES;
	u->fd = sys_setup(SQ_ENTRIES, &p);
	if (u->fd < 0)
		die("io_uring_setup");
	sq_sz = p.sq_off.array + p.sq_entries * sizeof(unsigned);
	cq_sz = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
	if (p.features & IORING_FEAT_SINGLE_MMAP) {
		if (cq_sz > sq_sz)
			sq_sz = cq_sz;
		cq_sz = sq_sz;
	}
	sq = mmap(NULL, sq_sz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, u->fd, IORING_OFF_SQ_RING);
	if (sq == MAP_FAILED)
		die("mmap sq");
	cq = (p.features & IORING_FEAT_SINGLE_MMAP) ? sq :
		mmap(NULL, cq_sz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, u->fd, IORING_OFF_CQ_RING);
	if (cq == MAP_FAILED)
		die("mmap cq");
	u->sqes = mmap(NULL, p.sq_entries * sizeof(struct io_uring_sqe), PROT_READ | PROT_WRITE,
			MAP_SHARED | MAP_POPULATE, u->fd, IORING_OFF_SQES);
	if (u->sqes == MAP_FAILED)
		die("mmap sqes");
	u->sq_head = (unsigned *)(sq + p.sq_off.head);
	u->sq_tail = (unsigned *)(sq + p.sq_off.tail);
	u->sq_mask = (unsigned *)(sq + p.sq_off.ring_mask);
	u->sq_array = (unsigned *)(sq + p.sq_off.array);
	u->cq_head = (unsigned *)(cq + p.cq_off.head);
	u->cq_tail = (unsigned *)(cq + p.cq_off.tail);
	u->cq_mask = (unsigned *)(cq + p.cq_off.ring_mask);
	u->cqes = (struct io_uring_cqe *)(cq + p.cq_off.cqes);
	u->sq_local_tail = *u->sq_tail;

	u->br = mmap(NULL, NBUFS * sizeof(struct io_uring_buf), PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (u->br == MAP_FAILED)
		die("mmap br");
	u->bufs = malloc((size_t)NBUFS * BUF_SIZE);
	if (!u->bufs)
		die("malloc bufs");
	memset(&reg, 0, sizeof(reg));
	reg.ring_addr = (uint64_t)(uintptr_t)u->br;
	reg.ring_entries = NBUFS;
	reg.bgid = 0;
	if (sys_register(u->fd, IORING_REGISTER_PBUF_RING, &reg, 1) < 0)
		die("register pbuf ring");
	for (unsigned i = 0; i < NBUFS; i++)
		buf_give(u, i);
	buf_publish(u);
	u->rx_msg.msg_namelen = sizeof(struct sockaddr_in6);
	u->rx_msg.msg_controllen = 0;
	u->wake_fd = eventfd(0, EFD_CLOEXEC);
	if (u->wake_fd < 0)
		die("eventfd");
	pthread_mutex_init(&u->lock, NULL);
	return u;
}

static void handle_recv(struct uring *u, struct io_uring_cqe *cqe, int idx)
{
	struct rsock *s = &socks[idx];
	unsigned bid;
	uint8_t *buf;
	struct io_uring_recvmsg_out out;
	size_t off;
	struct io_uring_sqe *sqe;

	if (!(cqe->flags & IORING_CQE_F_MORE))
		arm_recv(u, idx);      /* multishot ended (ENOBUFS, error): re-arm */
	if (cqe->res < 0 || !(cqe->flags & IORING_CQE_F_BUFFER))
		return;
	bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
	if (bid >= NBUFS)
		return;
	buf = u->bufs + (size_t)bid * BUF_SIZE;
	if ((unsigned)cqe->res < sizeof(out)) {
		buf_give(u, bid);
		return;
	}
	memcpy(&out, buf, sizeof(out));
	off = sizeof(out) + u->rx_msg.msg_namelen + u->rx_msg.msg_controllen;
	if (off > (unsigned)cqe->res || out.payloadlen > (unsigned)cqe->res - off ||
			(out.flags & MSG_TRUNC)) {
		buf_give(u, bid);
		return;
	}
	sqe = get_sqe(u);
	if (!sqe) {
		buf_give(u, bid);
		return;
	}
	if (use_send) {
		sqe->opcode = IORING_OP_SEND;
		sqe->fd = s->peer_fd;
		sqe->addr = (uint64_t)(uintptr_t)(buf + off);
		sqe->len = out.payloadlen;
		sqe->msg_flags = MSG_DONTWAIT;
		sqe->user_data = UD(UD_SEND, bid);
		if (!use_connect) {
			sqe->addr2 = (uint64_t)(uintptr_t)&s->dst;
			sqe->addr_len = sizeof(s->dst);
		}
		return;
	}
	u->tx_iov[bid].iov_base = buf + off;
	u->tx_iov[bid].iov_len = out.payloadlen;
	memset(&u->tx_msg[bid], 0, sizeof(u->tx_msg[bid]));
	if (!use_connect) {
		u->tx_msg[bid].msg_name = &s->dst;
		u->tx_msg[bid].msg_namelen = sizeof(s->dst);
	}
	u->tx_msg[bid].msg_iov = &u->tx_iov[bid];
	u->tx_msg[bid].msg_iovlen = 1;
	sqe->opcode = IORING_OP_SENDMSG;
	sqe->fd = s->peer_fd;
	sqe->addr = (uint64_t)(uintptr_t)&u->tx_msg[bid];
	sqe->len = 1;
	sqe->msg_flags = MSG_DONTWAIT;
	sqe->user_data = UD(UD_SEND, bid);
}

static void *uring_main(void *arg)
{
	unsigned me = (unsigned)(uintptr_t)arg;
	struct uring *u = uring_new();
	struct io_uring_getevents_arg ga;
	struct __kernel_timespec ts;
	unsigned last = 0;

	pthread_mutex_lock(&u->lock);
	rings[me] = u;
	pthread_mutex_unlock(&u->lock);
	arm_wake(u);
	for (;;) {
		unsigned head, tail, n = 0, min = 1, flags = IORING_ENTER_GETEVENTS;
		void *a = NULL;
		size_t asz = 0;
		int r;

		__atomic_store_n(u->sq_tail, u->sq_local_tail, __ATOMIC_RELEASE);
		if (batch_us && last < 64) {
			memset(&ga, 0, sizeof(ga));
			ts.tv_sec = 0;
			ts.tv_nsec = (long long)batch_us * 1000;
			ga.ts = (uint64_t)(uintptr_t)&ts;
			a = &ga;
			asz = sizeof(ga);
			flags |= IORING_ENTER_EXT_ARG;
			min = 64;
		}
		r = sys_enter(u->fd, u->to_submit, min, flags, a, asz);
		if (r < 0 && errno != EINTR && errno != ETIME && errno != EBUSY && errno != EAGAIN)
			die("io_uring_enter");
		if (r >= 0)
			u->to_submit -= (unsigned)r > u->to_submit ? u->to_submit : (unsigned)r;
		head = *u->cq_head;
		tail = __atomic_load_n(u->cq_tail, __ATOMIC_ACQUIRE);
		for (; head != tail; head++, n++) {
			struct io_uring_cqe cqe = u->cqes[head & *u->cq_mask];
			unsigned kind = (unsigned)(cqe.user_data >> 56);
			uint64_t v = cqe.user_data & ((1ull << 56) - 1);
			if (kind == UD_RECV) {
				handle_recv(u, &cqe, (int)v);
			} else if (kind == UD_SEND) {
				if (v < NBUFS)
					buf_give(u, (unsigned)v);
			} else if (kind == UD_WAKE) {
				pthread_mutex_lock(&u->lock);
				for (int i = 0; i < u->npending; i++)
					arm_recv(u, u->pending[i]);
				u->npending = 0;
				pthread_mutex_unlock(&u->lock);
				arm_wake(u);
			}
		}
		__atomic_store_n(u->cq_head, head, __ATOMIC_RELEASE);
		buf_publish(u);
		last = n;
	}
	return NULL;
}

static void uring_add(int idx)
{
	struct uring *u;
	uint64_t one = 1;

	for (;;) {
		u = __atomic_load_n(&rings[(unsigned)idx % nthreads], __ATOMIC_ACQUIRE);
		if (u)
			break;
		usleep(1000);
	}
	for (;;) {
		pthread_mutex_lock(&u->lock);
		if (u->npending < 1024) {
			u->pending[u->npending++] = idx;
			pthread_mutex_unlock(&u->lock);
			break;
		}
		pthread_mutex_unlock(&u->lock);
		usleep(100);
	}
	if (write(u->wake_fd, &one, sizeof(one)) < 0)
		die("write eventfd");
}

/* A connected sibling of socket idx (same address and port, SO_REUSEPORT on both, the primary bound
 * first without it so that the port was free), forwarding like idx; returns its index. */
static int new_sibling(int idx, const struct sockaddr_in *peer)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	int one = 1, fd;

	if (getsockname(socks[idx].fd, (struct sockaddr *)&sin, &sl) < 0 ||
			setsockopt(socks[idx].fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0)
		die("sibling: primary");
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || nsocks >= MAX_SOCKS ||
			setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0 ||
			bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
			connect(fd, (const struct sockaddr *)peer, sizeof(*peer)) < 0)
		die("sibling");
	socks[nsocks] = socks[idx];
	socks[nsocks].fd = fd;
	return nsocks++;
}

/* ---------------- ng control (just enough for rtpload) ---------------- */

struct call {
	char id[128];
	int a, b;       /* socket indexes */
};
static struct call calls[MAX_SOCKS / 2];
static int ncalls;

static int new_sock(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int buf = 1 << 20;

	if (fd < 0 || nsocks >= MAX_SOCKS)
		die("socket");
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		die("bind");
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	socks[nsocks].fd = fd;
	socks[nsocks].peer_fd = -1;
	return nsocks++;
}

static unsigned sock_port(int idx)
{
	struct sockaddr_in sin;
	socklen_t l = sizeof(sin);
	getsockname(socks[idx].fd, (struct sockaddr *)&sin, &l);
	return ntohs(sin.sin_port);
}

/* bencode string value of key k in dict text d (flat scan; fine for rtpload's requests) */
static int bget(const char *d, size_t n, const char *k, const char **v, size_t *vl)
{
	char pat[64];
	int pl = snprintf(pat, sizeof(pat), "%zu:%s", strlen(k), k);
	const char *p = memmem(d, n, pat, (size_t)pl);
	char *e;
	unsigned long l;

	if (!p)
		return -1;
	p += pl;
	l = strtoul(p, &e, 10);
	if (*e != ':' || (size_t)(e + 1 - d) + l > n)
		return -1;
	*v = e + 1;
	*vl = l;
	return 0;
}

static int sdp_addr(const char *s, size_t n, struct sockaddr_in *out)
{
	char buf[1024], ip[64];
	const char *c, *m;
	unsigned port;

	if (n >= sizeof(buf))
		return -1;
	memcpy(buf, s, n);
	buf[n] = 0;
	c = strstr(buf, "c=IN IP4 ");
	m = strstr(buf, "m=audio ");
	if (!c || !m || sscanf(c + 9, "%63s", ip) != 1 || sscanf(m + 8, "%u", &port) != 1)
		return -1;
	memset(out, 0, sizeof(*out));
	out->sin_family = AF_INET;
	out->sin_port = htons((uint16_t)port);
	return inet_pton(AF_INET, ip, &out->sin_addr) == 1 ? 0 : -1;
}

static void ng_loop(int fd)
{
	char req[4096], rep[4096];

	for (;;) {
		struct sockaddr_storage from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(fd, req, sizeof(req) - 1, 0, (struct sockaddr *)&from, &fl);
		const char *sp, *cmd, *cid, *sdp;
		size_t cmdl, cidl, sdpl;
		int len = 0;

		if (n <= 0)
			continue;
		req[n] = 0;
		sp = memchr(req, ' ', (size_t)n);
		if (!sp || bget(sp, (size_t)(req + n - sp), "command", &cmd, &cmdl) < 0)
			continue;
		if (cmdl == 4 && !memcmp(cmd, "ping", 4)) {
			len = snprintf(rep, sizeof(rep), "%.*s d6:result4:ponge", (int)(sp - req), req);
		} else if ((cmdl == 5 && !memcmp(cmd, "offer", 5)) || (cmdl == 6 && !memcmp(cmd, "answer", 6))) {
			int offer = cmdl == 5, ci;
			struct sockaddr_in addr;
			char body[512];
			int bl;
			if (bget(sp, (size_t)(req + n - sp), "call-id", &cid, &cidl) < 0 || cidl >= 128 ||
					bget(sp, (size_t)(req + n - sp), "sdp", &sdp, &sdpl) < 0 ||
					sdp_addr(sdp, sdpl, &addr) < 0)
				continue;
			for (ci = 0; ci < ncalls; ci++)
				if (strlen(calls[ci].id) == cidl && !memcmp(calls[ci].id, cid, cidl))
					break;
			if (ci == ncalls) {
				if (!offer || ncalls >= MAX_SOCKS / 2 - 1)
					continue;
				memcpy(calls[ci].id, cid, cidl);
				calls[ci].id[cidl] = 0;
				calls[ci].a = new_sock();
				calls[ci].b = new_sock();
				ncalls++;
			}
			if (offer) {
				socks[calls[ci].b].dst = addr;        /* b's packets go to the caller */
				socks[calls[ci].b].peer_fd = socks[calls[ci].a].fd;
			} else if (socks[calls[ci].a].peer_fd < 0) {
				socks[calls[ci].a].dst = addr;        /* a's packets go to the callee */
				socks[calls[ci].a].peer_fd = socks[calls[ci].b].fd;
				if (use_connect && !use_sibling &&
						(connect(socks[calls[ci].b].fd, (struct sockaddr *)&socks[calls[ci].a].dst,
							sizeof(struct sockaddr_in)) < 0 ||
						connect(socks[calls[ci].a].fd, (struct sockaddr *)&socks[calls[ci].b].dst,
							sizeof(struct sockaddr_in)) < 0))
					die("connect");
				if (use_sibling) {
					int a = calls[ci].a, b = calls[ci].b;
					int sb = new_sibling(b, &socks[a].dst), sa = new_sibling(a, &socks[b].dst);
					/* forwarded packets leave through the connected siblings */
					socks[a].peer_fd = socks[sa].peer_fd = socks[sb].fd;
					socks[b].peer_fd = socks[sb].peer_fd = socks[sa].fd;
					if (use_uring) {
						uring_add(sa);
						uring_add(sb);
					}
				}
				if (use_uring) {
					uring_add(calls[ci].a);
					uring_add(calls[ci].b);
				} else {
					epoll_add(calls[ci].a);
					epoll_add(calls[ci].b);
				}
			}
			bl = snprintf(body, sizeof(body),
				"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=relay\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
				"m=audio %u RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n",
				sock_port(offer ? calls[ci].b : calls[ci].a));
			len = snprintf(rep, sizeof(rep), "%.*s d6:result2:ok3:sdp%d:%se", (int)(sp - req), req,
				bl, body);
		} else {
			len = snprintf(rep, sizeof(rep), "%.*s d6:result2:oke", (int)(sp - req), req);
		}
		if (len > 0 && len < (int)sizeof(rep))
			sendto(fd, rep, (size_t)len, 0, (struct sockaddr *)&from, fl);
	}
}

int main(int argc, char **argv)
{
	struct sockaddr_in ng = { .sin_family = AF_INET, .sin_port = htons(2223) };
	pthread_t t;
	int fd;

	ng.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (int i = 1; i < argc; i++) {
		if (!strncmp(argv[i], "--num-threads=", 14))
			nthreads = (unsigned)atoi(argv[i] + 14);
		else if (!strcmp(argv[i], "--engine=uring"))
			use_uring = 1;
		else if (!strcmp(argv[i], "--connect"))
			use_connect = 1;
		else if (!strcmp(argv[i], "--sibling"))
			use_sibling = use_connect = 1;
		else if (!strcmp(argv[i], "--send"))
			use_send = 1;
		else if (!strncmp(argv[i], "--batch-us=", 11))
			batch_us = (unsigned)atoi(argv[i] + 11);
		else if (!strncmp(argv[i], "--listen-ng=", 12)) {
			char ip[64];
			unsigned port;
			if (sscanf(argv[i] + 12, "%63[^:]:%u", ip, &port) == 2) {
				inet_pton(AF_INET, ip, &ng.sin_addr);
				ng.sin_port = htons((uint16_t)port);
			}
		}
	}
	if (nthreads < 1 || nthreads > MAX_THREADS)
		nthreads = 1;
	signal(SIGPIPE, SIG_IGN);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&ng, sizeof(ng)) < 0)
		die("ng socket");
	for (unsigned i = 0; i < nthreads; i++) {
		if (!use_uring) {
			ep_fd[i] = epoll_create1(0);
			if (ep_fd[i] < 0)
				die("epoll_create1");
		}
		if (pthread_create(&t, NULL, use_uring ? uring_main : epoll_main, (void *)(uintptr_t)i))
			die("pthread_create");
	}
	fprintf(stderr, "relay: %s, %u threads, batch %u us\n", use_uring ? "io_uring" : "epoll", nthreads, batch_us);
	ng_loop(fd);
	return 0;
}
