/* io.c - batched packet I/O: recvmmsg into the ring or through forwarding rules, send and sendmmsg. */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "internal.h"
#include "rule_srtp.h"

#define DGRAM_BUF 65536u
/* Per-thread buffers of the receive path: one batch of datagrams and its send-side mirror. */
struct rx_scratch {
	struct mmsghdr msgs[RTPE_MAX_BATCH];
	struct iovec iov[RTPE_MAX_BATCH];
	struct sockaddr_storage names[RTPE_MAX_BATCH];
	union ctrl_buf ctrl[RTPE_MAX_BATCH];
	struct fwd_item fwd[RTPE_MAX_BATCH];
	struct mmsghdr tx[RTPE_MAX_BATCH];
	struct iovec txiov[RTPE_MAX_BATCH];
	struct sockaddr_storage txnames[RTPE_MAX_BATCH];
	union ctrl_buf txctrl[RTPE_MAX_BATCH];
	uint8_t *data;             /* RTPE_MAX_BATCH * DGRAM_BUF */
};

struct rx_scratch *rx_scratch_new(void)
{
	struct rx_scratch *sc = calloc(1, sizeof(*sc));

	if (!sc)
		return NULL;
	sc->data = malloc((size_t)RTPE_MAX_BATCH * DGRAM_BUF);
	if (!sc->data) {
		free(sc);
		return NULL;
	}
	return sc;
}

void rx_scratch_free(struct rx_scratch *sc)
{
	if (!sc)
		return;
	free(sc->data);
	free(sc);
}

void io_parse_cmsgs(struct msghdr *mh, const struct shim_sock *s, struct rtpe_addr *dst,
		uint8_t *tos)
{
	struct cmsghdr *cm;

	*dst = s->local;
	*tos = 0;
	for (cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
		if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_PKTINFO &&
				cm->cmsg_len >= CMSG_LEN(sizeof(struct in_pktinfo))) {
			struct in_pktinfo pi;
			memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
			dst->family = AF_INET;
			memset(dst->addr, 0, sizeof(dst->addr));
			memcpy(dst->addr, &pi.ipi_addr, 4);
		} else if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_TOS &&
				cm->cmsg_len >= CMSG_LEN(1)) {
			memcpy(tos, CMSG_DATA(cm), 1);
		} else if (cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_PKTINFO &&
				cm->cmsg_len >= CMSG_LEN(sizeof(struct in6_pktinfo))) {
			struct in6_pktinfo pi6;
			memcpy(&pi6, CMSG_DATA(cm), sizeof(pi6));
			dst->family = AF_INET6;
			memcpy(dst->addr, &pi6.ipi6_addr, 16);
		} else if (cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_TCLASS &&
				cm->cmsg_len >= CMSG_LEN(sizeof(int))) {
			int tc;
			memcpy(&tc, CMSG_DATA(cm), sizeof(tc));
			*tos = (uint8_t)(tc & 0xff);
		}
	}
}

int io_fill_tx(struct mmsghdr *m, struct iovec *iov, struct sockaddr_storage *name,
		union ctrl_buf *ctrl, const struct rtpe_addr *dst, const void *data, uint32_t len,
		int tos)
{
	socklen_t nlen;
	int r = shim_addr_to_sa(dst, name, &nlen);

	if (r < 0)
		return r;
	memset(m, 0, sizeof(*m));
	iov->iov_base = (void *)(uintptr_t)data;
	iov->iov_len = len;
	m->msg_hdr.msg_name = name;
	m->msg_hdr.msg_namelen = nlen;
	m->msg_hdr.msg_iov = iov;
	m->msg_hdr.msg_iovlen = 1;
	if (ctrl && tos >= 0) {
		struct cmsghdr *cm;
		memset(ctrl, 0, sizeof(*ctrl));
		m->msg_hdr.msg_control = ctrl->buf;
		m->msg_hdr.msg_controllen = CMSG_SPACE(sizeof(int));
		cm = CMSG_FIRSTHDR(&m->msg_hdr);
		cm->cmsg_level = dst->family == AF_INET6 ? IPPROTO_IPV6 : IPPROTO_IP;
		cm->cmsg_type = dst->family == AF_INET6 ? IPV6_TCLASS : IP_TOS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &tos, sizeof(tos));
	}
	return 0;
}

/* sendmmsg all of msgs[0..n), skipping a message the kernel rejects. Returns packets sent. */
static unsigned send_all(int fd, struct mmsghdr *msgs, unsigned n, uint64_t *bytes)
{
	unsigned done = 0, sent = 0;

	*bytes = 0;
	while (done < n) {
		int r = sendmmsg(fd, msgs + done, n - done, MSG_DONTWAIT);
		if (r <= 0) {
			if (r < 0 && errno == EINTR)
				continue;
			done++;            /* this one failed: count it and go on with the rest */
			continue;
		}
		for (int k = 0; k < r; k++)
			*bytes += msgs[done + (unsigned)k].msg_len;
		done += (unsigned)r;
		sent += (unsigned)r;
	}
	return sent;
}

static void forward_batch(struct rx_scratch *sc, unsigned nfwd)
{
	unsigned i = 0;

	while (i < nfwd) {
		unsigned j = i, cnt = 0, sent;
		struct shim_sock *out;
		uint64_t bytes;

		while (j < nfwd && sc->fwd[j].out == sc->fwd[i].out &&
				sc->fwd[j].out_gen == sc->fwd[i].out_gen)
			j++;
		out = shim_sock_lock(sc->fwd[i].out);
		if (!out || out->gen != sc->fwd[i].out_gen) {
			if (out)
				shim_sock_unlock(out);
			for (unsigned k = i; k < j; k++)
				CNT_ADD(sc->fwd[k].rule->errors, 1);
			i = j;
			continue;
		}
		for (unsigned k = i; k < j; k++) {
			struct fwd_item *f = &sc->fwd[k];
			if (io_fill_tx(&sc->tx[cnt], &sc->txiov[cnt], &sc->txnames[cnt], &sc->txctrl[cnt],
					&f->dst, sc->iov[f->pkt].iov_base, sc->msgs[f->pkt].msg_len,
					f->set_tos ? f->tos : -1) < 0) {
				CNT_ADD(f->rule->errors, 1);
				continue;
			}
			cnt++;
		}
		sent = send_all(out->fd, sc->tx, cnt, &bytes);
		CNT_ADD(out->st.tx_packets, sent);
		CNT_ADD(out->st.tx_bytes, bytes);
		CNT_ADD(out->st.tx_errors, cnt - sent);
		shim_sock_unlock(out);
		if (cnt > sent)
			CNT_ADD(sc->fwd[i].rule->errors, cnt - sent);
		i = j;
	}
}

/* One received packet of slot s (locked, handle idx): dropped (strict source, SRTP failure, full
 * ring: returns -1), queued to JS in ring `ring` (0; the caller commits the ring), or to be forwarded
 * by a rule (1, *f filled but for f->pkt). d[0..*len) may be rewritten in place (SRTP) within cap
 * bytes; mh carries the sender's address (msg_name/msg_namelen) and the control messages. */
int io_rx_packet(struct shim_sock *s, uint32_t idx, unsigned ring, uint8_t *d, uint32_t *len,
		uint32_t cap, struct msghdr *mh, uint64_t now, struct fwd_item *f)
{
	struct rtpe_rx_hdr h;
	struct shim_rule *rule;
	uint32_t rec_len, n = *len;
	uint8_t *p;
	int drop = 0, demux = 0;

	memset(&h, 0, sizeof(h));
	shim_sa_to_addr((struct sockaddr *)mh->msg_name, mh->msg_namelen, &h.src);

	rule = rule_match(s, &h.src, &drop);
	if (drop) {
		CNT_ADD(s->mismatch_drops, 1);
		return -1;
	}
	if (rule && !rule_accepts(rule, d, n, &demux))
		rule = NULL;   /* STUN, DTLS, a filtered payload type...: up to JS */
	if (rule && (rule->r.flags & RTPE_RULE_SRTP) && rule_srtp_apply(rule, d, len, cap) < 0) {
		CNT_ADD(rule->packets, 1);   /* rule_srtp.c: arrived for this rule, dropped, counted */
		CNT_ADD(rule->bytes, n);
		return -1;
	}
	if (rule) {
		f->rule = rule;
		f->out = demux ? rule->r.rtcp_output : rule->r.output;
		f->out_gen = demux ? rule->rtcp_output_gen : rule->output_gen;
		f->dst = demux ? rule->r.rtcp_dst : rule->r.dst;
		f->tos = rule->r.tos;
		f->set_tos = (rule->r.flags & RTPE_RULE_SET_TOS) != 0;
		CNT_ADD(rule->packets, 1);
		CNT_ADD(rule->bytes, n);
		__atomic_store_n(&rule->last_ns, now, __ATOMIC_RELAXED);
		CNT_ADD(s->st.fwd_packets, 1);
		CNT_ADD(s->st.fwd_bytes, n);
		return 1;
	}

	rec_len = (RTPE_RX_HDR_SIZE + n + 7u) & ~7u;
	p = ring_reserve(ring, rec_len);
	if (!p) {
		CNT_ADD(s->st.rx_ring_drops, 1);
		ring_note_drop();
		return -1;
	}
	h.rec_len = rec_len;
	h.handle = (int32_t)idx;
	h.ts_ns = now;
	h.len = n;
	io_parse_cmsgs(mh, s, &h.dst, &h.tos);
	memcpy(p, &h, sizeof(h));
	memcpy(p + RTPE_RX_HDR_SIZE, d, n);
	return 0;
}

int io_rx_socket(struct rx_scratch *sc, unsigned ring, uint32_t idx, uint32_t gen)
{
	struct shim_sock *s;
	unsigned nfwd = 0;
	uint64_t bytes = 0, now;
	int n, queued = 0;

	if (idx >= RTPE_MAX_SOCKETS)
		return 0;
	s = __atomic_load_n(&shim_socks[idx], __ATOMIC_ACQUIRE);
	if (!s)
		return 0;
	pthread_mutex_lock(&s->lock);
	if (s->fd < 0 || s->gen != gen) {
		pthread_mutex_unlock(&s->lock);
		return 0;
	}
	for (unsigned i = 0; i < RTPE_MAX_BATCH; i++) {
		struct msghdr *mh = &sc->msgs[i].msg_hdr;
		sc->iov[i].iov_base = sc->data + (size_t)i * DGRAM_BUF;
		sc->iov[i].iov_len = DGRAM_BUF;
		mh->msg_name = &sc->names[i];
		mh->msg_namelen = sizeof(sc->names[i]);
		mh->msg_iov = &sc->iov[i];
		mh->msg_iovlen = 1;
		mh->msg_control = sc->ctrl[i].buf;
		mh->msg_controllen = CTRL_BUF;
		mh->msg_flags = 0;
		sc->msgs[i].msg_len = 0;
	}
	n = recvmmsg(s->fd, sc->msgs, RTPE_MAX_BATCH, MSG_DONTWAIT, NULL);
	if (n <= 0) {
		pthread_mutex_unlock(&s->lock);
		return 0;
	}
	now = shim_now_ns();

	for (int i = 0; i < n; i++) {
		uint32_t len = sc->msgs[i].msg_len;
		int r;

		if (len > DGRAM_BUF)
			len = DGRAM_BUF;
		sc->msgs[i].msg_len = len;
		bytes += len;
		r = io_rx_packet(s, idx, ring, sc->iov[i].iov_base, &sc->msgs[i].msg_len, DGRAM_BUF,
				&sc->msgs[i].msg_hdr, now, &sc->fwd[nfwd]);
		if (r > 0) {
			sc->fwd[nfwd].pkt = (uint32_t)i;
			nfwd++;
		} else if (r == 0) {
			queued++;
		}
	}
	if (queued)
		ring_commit(ring);
	CNT_ADD(s->st.rx_packets, (unsigned)n);
	CNT_ADD(s->st.rx_bytes, bytes);
	pthread_mutex_unlock(&s->lock);

	/* sends happen with the input socket unlocked: never two slot locks at once */
	if (nfwd)
		forward_batch(sc, nfwd);
	return queued;
}

SHIM_EXPORT int rtpe_send(int handle, const struct rtpe_addr *dst, const uint8_t *data, uint32_t len)
{
	struct sockaddr_storage ss;
	struct shim_sock *s;
	socklen_t slen;
	ssize_t r;
	int e;

	if (!dst || (!data && len) || len > RTPE_MAX_DATAGRAM)
		return -EINVAL;
	e = shim_addr_to_sa(dst, &ss, &slen);
	if (e < 0)
		return e;
	s = shim_sock_lock(handle);
	if (!s)
		return -EBADF;
	r = sendto(s->fd, data, len, MSG_DONTWAIT, (struct sockaddr *)&ss, slen);
	if (r < 0) {
		e = errno;
		CNT_ADD(s->st.tx_errors, 1);
		shim_sock_unlock(s);
		return -e;
	}
	CNT_ADD(s->st.tx_packets, 1);
	CNT_ADD(s->st.tx_bytes, (uint64_t)r);
	shim_sock_unlock(s);
	return (int)r;
}

/* Validate the whole buffer first so a malformed one sends nothing. */
static int tx_validate(const uint8_t *buf, uint32_t buf_len, uint32_t *count)
{
	uint32_t off = 0, n = 0;

	while (off < buf_len) {
		struct rtpe_tx_hdr h;
		if (buf_len - off < RTPE_TX_HDR_SIZE)
			return -EINVAL;
		memcpy(&h, buf + off, sizeof(h));
		if (h.len > RTPE_MAX_DATAGRAM || h.rec_len < RTPE_TX_HDR_SIZE + h.len ||
				h.rec_len > buf_len - off || (h.rec_len & 7u))
			return -EINVAL;
		if (h.dst.family != AF_INET && h.dst.family != AF_INET6)
			return -EINVAL;
		off += h.rec_len;
		n++;
	}
	*count = n;
	return 0;
}

SHIM_EXPORT int rtpe_send_batch(const uint8_t *buf, uint32_t buf_len)
{
	struct mmsghdr msgs[RTPE_MAX_BATCH];
	struct iovec iov[RTPE_MAX_BATCH];
	struct sockaddr_storage names[RTPE_MAX_BATCH];
	uint32_t off = 0, count = 0;
	int total = 0, r;

	if (!buf && buf_len)
		return -EINVAL;
	r = tx_validate(buf, buf_len, &count);
	if (r < 0)
		return r;

	while (off < buf_len) {
		struct rtpe_tx_hdr h;
		struct shim_sock *s;
		unsigned cnt = 0, sent;
		uint64_t bytes;
		int32_t handle;

		memcpy(&h, buf + off, sizeof(h));
		handle = h.handle;
		s = shim_sock_lock(handle);
		/* gather the run of records for this socket, up to one sendmmsg batch */
		while (off < buf_len && cnt < RTPE_MAX_BATCH) {
			memcpy(&h, buf + off, sizeof(h));
			if (h.handle != handle)
				break;
			if (s)
				io_fill_tx(&msgs[cnt], &iov[cnt], &names[cnt], NULL, &h.dst,
						buf + off + RTPE_TX_HDR_SIZE, h.len, -1);
			cnt++;
			off += h.rec_len;
		}
		if (!s)
			continue;      /* closed handle: its packets are simply not sent */
		sent = send_all(s->fd, msgs, cnt, &bytes);
		CNT_ADD(s->st.tx_packets, sent);
		CNT_ADD(s->st.tx_bytes, bytes);
		CNT_ADD(s->st.tx_errors, cnt - sent);
		shim_sock_unlock(s);
		total += (int)sent;
	}
	(void)count;
	return total;
}
