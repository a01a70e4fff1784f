/* socket.c - the socket table: open/bind/close UDP sockets, RTP/RTCP port pairs, counters. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "internal.h"

struct shim_sock *shim_socks[RTPE_MAX_SOCKETS];
static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t open_count;

/* Closed handles wait in a FIFO and are reused only once QUARANTINE others have closed after
 * them, so a record still in the ring for an old socket cannot reach a new one, while the table
 * grows only to the peak number of open sockets plus the quarantine. */
#define QUARANTINE 1024u
static uint32_t free_fifo[RTPE_MAX_SOCKETS];
static uint32_t fifo_head, fifo_len;   /* guarded by table_lock */
static uint32_t slots_made;

int shim_addr_to_sa(const struct rtpe_addr *a, struct sockaddr_storage *ss, socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	if (a->family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;
		sin->sin_family = AF_INET;
		sin->sin_port = htons(a->port);
		memcpy(&sin->sin_addr, a->addr, 4);
		*len = sizeof(*sin);
		return 0;
	}
	if (a->family == AF_INET6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(a->port);
		memcpy(&sin6->sin6_addr, a->addr, 16);
		*len = sizeof(*sin6);
		return 0;
	}
	return -EAFNOSUPPORT;
}

void shim_sa_to_addr(const struct sockaddr *sa, socklen_t len, struct rtpe_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
		a->family = AF_INET;
		a->port = ntohs(sin->sin_port);
		memcpy(a->addr, &sin->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
		a->family = AF_INET6;
		a->port = ntohs(sin6->sin6_port);
		memcpy(a->addr, &sin6->sin6_addr, 16);
	}
}

int shim_addr_equal(const struct rtpe_addr *a, const struct rtpe_addr *b, int with_port)
{
	if (a->family != b->family)
		return 0;
	if (with_port && a->port != b->port)
		return 0;
	return memcmp(a->addr, b->addr, a->family == AF_INET ? 4 : 16) == 0;
}

struct shim_sock *shim_sock_lock(int handle)
{
	struct shim_sock *s;

	if (handle < 0 || handle >= RTPE_MAX_SOCKETS)
		return NULL;
	s = __atomic_load_n(&shim_socks[handle], __ATOMIC_ACQUIRE);
	if (!s)
		return NULL;
	pthread_mutex_lock(&s->lock);
	if (s->fd < 0) {
		pthread_mutex_unlock(&s->lock);
		return NULL;
	}
	return s;
}

void shim_sock_unlock(struct shim_sock *s)
{
	pthread_mutex_unlock(&s->lock);
}

/* Reserve a slot index: a quarantined one when enough are waiting, else a new slot (slots are
 * created on first use and kept for reuse, never freed: the receive thread may hold a pointer). */
static int slot_reserve(void)
{
	struct shim_sock *s;
	uint32_t idx;

	pthread_mutex_lock(&table_lock);
	if (fifo_len > QUARANTINE || (slots_made == RTPE_MAX_SOCKETS && fifo_len > 0)) {
		idx = free_fifo[fifo_head];
		fifo_head = (fifo_head + 1u) % RTPE_MAX_SOCKETS;
		fifo_len--;
		s = shim_socks[idx];
	} else if (slots_made < RTPE_MAX_SOCKETS) {
		s = calloc(1, sizeof(*s));
		if (!s) {
			pthread_mutex_unlock(&table_lock);
			return -ENOMEM;
		}
		pthread_mutex_init(&s->lock, NULL);
		s->fd = -1;
		idx = slots_made++;
		__atomic_store_n(&shim_socks[idx], s, __ATOMIC_RELEASE);
	} else {
		pthread_mutex_unlock(&table_lock);
		return -ENFILE;
	}
	s->in_use = 1;
	pthread_mutex_unlock(&table_lock);
	return (int)idx;
}

static void slot_release(int idx)
{
	pthread_mutex_lock(&table_lock);
	shim_socks[idx]->in_use = 0;
	/* fifo_len < RTPE_MAX_SOCKETS: every queued index is a distinct released slot */
	free_fifo[(fifo_head + fifo_len) % RTPE_MAX_SOCKETS] = (uint32_t)idx;
	fifo_len++;
	pthread_mutex_unlock(&table_lock);
}

static int set_int(int fd, int level, int opt, int val)
{
	return setsockopt(fd, level, opt, &val, sizeof(val)) < 0 ? -errno : 0;
}

static int apply_tos(int fd, uint16_t family, int tos)
{
	if (tos < 0)
		return 0;
	if (tos > 255)
		return -EINVAL;
	if (family == AF_INET6)
		return set_int(fd, IPPROTO_IPV6, IPV6_TCLASS, tos);
	return set_int(fd, IPPROTO_IP, IP_TOS, tos);
}

/* Whether a local address is the wildcard (0.0.0.0 or ::): packets may then arrive for any address. */
static int wildcard(const struct rtpe_addr *a)
{
	unsigned n = a->family == AF_INET6 ? 16 : 4;

	for (unsigned i = 0; i < n; i++)
		if (a->addr[i])
			return 0;
	return 1;
}

/* Create and bind the kernel socket; returns fd or -errno. */
static int make_socket(const struct rtpe_addr *local, int tos, int rcvbuf, uint32_t flags,
		struct rtpe_addr *bound)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, r;

	r = shim_addr_to_sa(local, &ss, &len);
	if (r < 0)
		return r;
	fd = socket(local->family == AF_INET6 ? AF_INET6 : AF_INET,
			SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP);
	if (fd < 0)
		return -errno;

	/* Control messages cost every received packet a put_cmsg (~2 % of forwarding CPU at 50k pps): the
	 * packet's destination is only asked for on a wildcard bind (else it is the bound address, which
	 * io_parse_cmsgs reports), its TOS only when the caller wants it (RTPE_SOCK_RECV_TOS). */
	if (local->family == AF_INET6) {
		if ((r = set_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1)) < 0 ||
				(wildcard(local) && (r = set_int(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1)) < 0) ||
				((flags & RTPE_SOCK_RECV_TOS) && (r = set_int(fd, IPPROTO_IPV6, IPV6_RECVTCLASS, 1)) < 0))
			goto fail;
	} else {
		if ((wildcard(local) && (r = set_int(fd, IPPROTO_IP, IP_PKTINFO, 1)) < 0) ||
				((flags & RTPE_SOCK_RECV_TOS) && (r = set_int(fd, IPPROTO_IP, IP_RECVTOS, 1)) < 0))
			goto fail;
	}
	if ((r = apply_tos(fd, local->family, tos)) < 0)
		goto fail;
	/* SO_RCVBUFFORCE passes rmem_max when we may (CAP_NET_ADMIN); else the capped SO_RCVBUF */
	if (rcvbuf > 0 && set_int(fd, SOL_SOCKET, SO_RCVBUFFORCE, rcvbuf) < 0 &&
			(r = set_int(fd, SOL_SOCKET, SO_RCVBUF, rcvbuf)) < 0)
		goto fail;
	if ((flags & RTPE_SOCK_REUSEADDR) && (r = set_int(fd, SOL_SOCKET, SO_REUSEADDR, 1)) < 0)
		goto fail;
	if (bind(fd, (struct sockaddr *)&ss, len) < 0) {
		r = -errno;
		goto fail;
	}
	len = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0) {
		r = -errno;
		goto fail;
	}
	shim_sa_to_addr((struct sockaddr *)&ss, len, bound);
	return fd;
fail:
	close(fd);
	return r;
}

SHIM_EXPORT int rtpe_socket_open(const struct rtpe_addr *local, int tos, int rcvbuf, uint32_t flags)
{
	struct rtpe_addr bound;
	struct epoll_event ev;
	struct shim_sock *s;
	int idx, fd, epfd;

	if (!local)
		return -EINVAL;
	idx = slot_reserve();
	if (idx < 0)
		return idx;
	epfd = shim_epoll_fd_for(idx);
	if (epfd < 0) {
		slot_release(idx);
		return epfd;
	}
	fd = make_socket(local, tos, rcvbuf, flags, &bound);
	if (fd == -EADDRINUSE && local->port) {
		/* io_uring engine: a just-closed socket holds its port until its receive is cancelled */
		uring_settle();
		fd = make_socket(local, tos, rcvbuf, flags, &bound);
	}
	if (fd < 0) {
		slot_release(idx);
		return fd;
	}
	s = shim_socks[idx];
	pthread_mutex_lock(&s->lock);
	s->fd = fd;
	s->epfd = epfd;
	s->gen++;
	s->local = bound;
	memset(&s->st, 0, sizeof(s->st));
	s->mismatch_drops = 0;
	s->nrules = 0;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.u64 = (uint64_t)(uint32_t)idx | ((uint64_t)s->gen << 32);
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int e = errno;
		close(fd);
		s->fd = -1;
		pthread_mutex_unlock(&s->lock);
		slot_release(idx);
		return -e;
	}
	pthread_mutex_unlock(&s->lock);
	__atomic_fetch_add(&open_count, 1, __ATOMIC_RELAXED);
	return idx;
}

SHIM_EXPORT int rtpe_socket_close(int handle)
{
	struct shim_sock *s = shim_sock_lock(handle);
	int fd, armed;
	uint32_t gen;

	if (!s)
		return -EBADF;
	epoll_ctl(s->epfd, EPOLL_CTL_DEL, s->fd, NULL);
	fd = s->fd;
	gen = s->gen;
	armed = s->uring_armed;
	s->uring_armed = 0;
	s->fd = -1;
	s->nrules = 0;
	shim_sock_unlock(s);
	/* io_uring engine: cancel the socket's receive, and let no prepared send outlive the fd */
	uring_before_close((uint32_t)handle, gen, armed);
	close(fd);
	slot_release(handle);
	__atomic_fetch_sub(&open_count, 1, __ATOMIC_RELAXED);
	return 0;
}

void shim_close_all(void)
{
	for (int i = 0; i < RTPE_MAX_SOCKETS; i++)
		if (__atomic_load_n(&shim_socks[i], __ATOMIC_ACQUIRE))
			rtpe_socket_close(i);
}

uint64_t shim_sockets_open(void)
{
	return __atomic_load_n(&open_count, __ATOMIC_RELAXED);
}

SHIM_EXPORT int rtpe_socket_local(int handle, struct rtpe_addr *out)
{
	struct shim_sock *s = shim_sock_lock(handle);

	if (!s)
		return -EBADF;
	if (out)
		*out = s->local;
	shim_sock_unlock(s);
	return 0;
}

SHIM_EXPORT int rtpe_socket_fd(int handle)
{
	struct shim_sock *s = shim_sock_lock(handle);
	int fd;

	if (!s)
		return -EBADF;
	fd = s->fd;
	shim_sock_unlock(s);
	return fd;
}

SHIM_EXPORT int rtpe_socket_set_tos(int handle, int tos)
{
	struct shim_sock *s = shim_sock_lock(handle);
	int r;

	if (!s)
		return -EBADF;
	r = apply_tos(s->fd, s->local.family, tos);
	shim_sock_unlock(s);
	return r;
}

SHIM_EXPORT int rtpe_socket_stats(int handle, struct rtpe_sock_stats *out)
{
	struct shim_sock *s = shim_sock_lock(handle);

	if (!s)
		return -EBADF;
	if (out) {
		out->rx_packets = CNT_GET(s->st.rx_packets);
		out->rx_bytes = CNT_GET(s->st.rx_bytes);
		out->rx_ring_drops = CNT_GET(s->st.rx_ring_drops);
		out->tx_packets = CNT_GET(s->st.tx_packets);
		out->tx_bytes = CNT_GET(s->st.tx_bytes);
		out->tx_errors = CNT_GET(s->st.tx_errors);
		out->fwd_packets = CNT_GET(s->st.fwd_packets);
		out->fwd_bytes = CNT_GET(s->st.fwd_bytes);
	}
	shim_sock_unlock(s);
	return 0;
}

SHIM_EXPORT int rtpe_port_pair(const struct rtpe_addr *local, uint16_t min, uint16_t max,
		uint32_t seed, int tos, int rcvbuf, uint32_t flags, int32_t out[2])
{
	uint32_t first, npairs, start;
	struct rtpe_addr a;

	if (!local || !out || min > max)
		return -EINVAL;
	first = (min + 1u) & ~1u;                   /* lowest even port in range */
	if (first == 0)
		first = 2;                              /* port 0 would mean "any" */
	if (first + 1u > max)
		return -EADDRINUSE;
	npairs = (max - first + 1u) / 2u;
	start = seed % npairs;
	/* SO_REUSEADDR would let us bind a busy UDP port and so hide it */
	flags &= ~RTPE_SOCK_REUSEADDR;
	a = *local;

	for (uint32_t i = 0; i < npairs; i++) {
		uint32_t port = first + 2u * ((start + i) % npairs);
		int rtp, rtcp;

		a.port = (uint16_t)port;
		rtp = rtpe_socket_open(&a, tos, rcvbuf, flags);
		if (rtp == -EADDRINUSE)
			continue;
		if (rtp < 0)
			return rtp;
		a.port = (uint16_t)(port + 1u);
		rtcp = rtpe_socket_open(&a, tos, rcvbuf, flags);
		if (rtcp == -EADDRINUSE) {
			rtpe_socket_close(rtp);
			continue;
		}
		if (rtcp < 0) {
			rtpe_socket_close(rtp);
			return rtcp;
		}
		out[0] = rtp;
		out[1] = rtcp;
		return 0;
	}
	return -EADDRINUSE;
}
