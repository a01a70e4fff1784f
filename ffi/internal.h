/* internal.h - state shared by the shim's C files: socket table, ring, receive-path helpers. */
#ifndef RTPE_INTERNAL_H
#define RTPE_INTERNAL_H

#include <pthread.h>
#include <stdint.h>
#include <sys/socket.h>

#include "rtpe_rule.h"
#include "rtpe_shim.h"

#include <stddef.h>

/* The TypeScript side (src/platform/shim-abi.ts) hard-codes these layouts. */
_Static_assert(sizeof(struct rtpe_addr) == 20, "rtpe_addr layout");
_Static_assert(sizeof(struct rtpe_rx_hdr) == RTPE_RX_HDR_SIZE, "rtpe_rx_hdr layout");
_Static_assert(offsetof(struct rtpe_rx_hdr, len) == 56, "rtpe_rx_hdr.len");
_Static_assert(sizeof(struct rtpe_tx_hdr) == RTPE_TX_HDR_SIZE, "rtpe_tx_hdr layout");
_Static_assert(sizeof(struct rtpe_rule) == RTPE_RULE_SIZE, "rtpe_rule layout");
_Static_assert(offsetof(struct rtpe_rule, tos) == 48, "rtpe_rule.tos");
_Static_assert(offsetof(struct rtpe_rule, pt) == 56, "rtpe_rule.pt");
_Static_assert(offsetof(struct rtpe_rule, rtcp_output) == 88, "rtpe_rule.rtcp_output");
_Static_assert(sizeof(struct rtpe_sock_stats) == 64, "rtpe_sock_stats layout");
_Static_assert(sizeof(struct rtpe_global_stats) == 88, "rtpe_global_stats layout");
_Static_assert(offsetof(struct rtpe_rule, decrypt) == 112, "rtpe_rule.decrypt");
_Static_assert(sizeof(struct rtpe_rule_stats) == 64, "rtpe_rule_stats layout");

#define SHIM_EXPORT __attribute__((visibility("default")))

#define CNT_ADD(field, n) __atomic_fetch_add(&(field), (uint64_t)(n), __ATOMIC_RELAXED)
#define CNT_GET(field) __atomic_load_n(&(field), __ATOMIC_RELAXED)

struct shim_rule {
	struct rtpe_rule r;
	uint32_t output_gen;   /* generation of r.output when the rule was added */
	uint32_t rtcp_output_gen;
	uint64_t packets, bytes, errors, last_ns;
	uint64_t auth_failed;   /* SRTP: rule_srtp.c */
	uint64_t mux_rtcp_packets, mux_rtcp_bytes;   /* RTCP told apart on an rtcp-mux port (rule_accepts) */
};

/* One socket slot. Slots are allocated once and reused; `lock` guards fd, gen and rules, and is
 * held by the receive thread while it reads the socket, so close never races a recvmmsg. */
struct shim_sock {
	pthread_mutex_t lock;
	int fd;                 /* -1 when closed */
	int epfd;               /* the epoll set it was added to */
	int in_use;             /* reserved in the table (guarded by the table lock) */
	int uring_armed;        /* engine_uring.c: a multishot receive reads it (not the epoll set) */
	uint32_t gen;           /* bumped at every open: stale epoll events and rules are ignored */
	struct rtpe_addr local;
	struct rtpe_sock_stats st;
	uint64_t mismatch_drops;
	int nrules;
	/* Rules live out of line in two blocks, each allocated when first needed (rule.c rules_grow) and
	 * never moved or freed: rules_lo (SHIM_RULES_LO) at the first rule, rules_hi (the rest of the
	 * RTPE_RULES_PER_SOCKET) at the third. Many sockets (RTCP, idle) carry none, almost all others
	 * one, rarely two: 384 bytes instead of 1.5 KB for eight. Index them through sock_rule().
	 * Touched with `lock` held, but for the counters of a matched rule during its sends. */
	int rules_cap;                /* 0, SHIM_RULES_LO or RTPE_RULES_PER_SOCKET */
	struct shim_rule *rules_lo;
	struct shim_rule *rules_hi;
};

#define SHIM_RULES_LO 2
_Static_assert(SHIM_RULES_LO < RTPE_RULES_PER_SOCKET, "two rule blocks");

/* Rule i (< s->rules_cap) of slot s: split storage so the common 1-2 rule socket allocates 2, not 8. */
static inline struct shim_rule *sock_rule(struct shim_sock *s, int i)
{
	return i < SHIM_RULES_LO ? &s->rules_lo[i] : &s->rules_hi[i - SHIM_RULES_LO];
}

extern struct shim_sock *shim_socks[RTPE_MAX_SOCKETS];

/* socket.c */
struct shim_sock *shim_sock_lock(int handle);      /* locked open slot, or NULL */
void shim_sock_unlock(struct shim_sock *s);
int shim_addr_to_sa(const struct rtpe_addr *a, struct sockaddr_storage *ss, socklen_t *len);
void shim_sa_to_addr(const struct sockaddr *sa, socklen_t len, struct rtpe_addr *a);
int shim_addr_equal(const struct rtpe_addr *a, const struct rtpe_addr *b, int with_port);
void shim_close_all(void);
uint64_t shim_sockets_open(void);

/* loop.c */
#define SHIM_STOP_TOKEN UINT64_MAX    /* epoll token of the stop eventfd */
int shim_epoll_fd_for(int handle);   /* the epoll set of the thread that reads this socket */
unsigned shim_thread_for(int handle); /* the receive thread that reads this socket */
uint64_t shim_now_ns(void);
void loop_round_done(int queued);    /* after a receive round: wake JS when packets were queued */

/* engine_uring.c: the receive threads on io_uring (loop.c falls back to epoll without it) */
int uring_engine_probe(void);        /* 0 when this kernel and process can run it, else -errno */
/* Run receive thread me until the stop token shows in epfd; -errno when its ring could not be
 * set up (nothing was touched: run the epoll loop instead). */
int uring_rx_run(unsigned me, int epfd, unsigned ring);
/* socket.c, between marking slot idx closed and closing its descriptor (armed: s->uring_armed) */
void uring_before_close(uint32_t idx, uint32_t gen, int armed);
void uring_settle(void);             /* wait (bounded) until closed sockets' receives are cancelled */
uint64_t uring_trunc_drops(void);
uint64_t uring_rx_buffers(void);   /* receive buffers in use by the io_uring threads */
uint64_t uring_fixed_files(void);  /* entries in the io_uring threads' fixed-file tables */
uint64_t uring_rx_starved(void);   /* io_uring receives that ended for want of a buffer */

/* ring.c */
int ring_init(unsigned nrings, uint32_t bytes_each);
void ring_free(void);
uint8_t *ring_reserve(unsigned ring, uint32_t rec_len);  /* contiguous space or NULL when full */
void ring_commit(unsigned ring);                         /* publish everything reserved so far */
void ring_note_drop(void);
void ring_stats(struct rtpe_global_stats *out);
int ring_take_wake(void);                 /* 1 when the caller should call the wake callback */

/* io.c */
#define CTRL_BUF 128u
union ctrl_buf {
	char buf[CTRL_BUF];
	size_t align;              /* struct cmsghdr's alignment (it ends in a flexible array) */
};
_Static_assert(_Alignof(struct cmsghdr) <= _Alignof(size_t), "ctrl_buf alignment");
/* A received packet a rule forwards: where it goes. */
struct fwd_item {
	struct shim_rule *rule;    /* for error counts; slot storage is never freed */
	int32_t out;
	uint32_t out_gen;
	struct rtpe_addr dst;
	uint32_t pkt;              /* index into the receive batch (io.c) */
	uint8_t tos;
	uint8_t set_tos;
};
struct rx_scratch;
struct rx_scratch *rx_scratch_new(void);
void rx_scratch_free(struct rx_scratch *sc);
/* read one batch from socket idx (generation gen) into ring; returns packets queued to JS */
int io_rx_socket(struct rx_scratch *sc, unsigned ring, uint32_t idx, uint32_t gen);
/* one received packet of slot s (locked): -1 dropped, 0 queued to JS, 1 forward as *f says */
int io_rx_packet(struct shim_sock *s, uint32_t idx, unsigned ring, uint8_t *d, uint32_t *len,
		uint32_t cap, struct msghdr *mh, uint64_t now, struct fwd_item *f);
/* Local destination address and TOS of a received packet, from its control messages. */
void io_parse_cmsgs(struct msghdr *mh, const struct shim_sock *s, struct rtpe_addr *dst, uint8_t *tos);
/* Fill one outgoing message; returns 0 or -EAFNOSUPPORT. ctrl may be NULL (no TOS override). */
int io_fill_tx(struct mmsghdr *m, struct iovec *iov, struct sockaddr_storage *name,
		union ctrl_buf *ctrl, const struct rtpe_addr *dst, const void *data, uint32_t len, int tos);

/* rule.c */
/* Match a packet against the socket's rules (slot locked). Returns the rule or NULL; sets *drop
 * when strict source rejects it. */
struct shim_rule *rule_match(struct shim_sock *s, const struct rtpe_addr *src, int *drop);
/* Whether the matched rule forwards this payload (else it goes to JS); *rtcp_demux is set when
 * it leaves through the rule's RTCP output. */
int rule_accepts(struct shim_rule *r, const uint8_t *d, uint32_t n, int *rtcp_demux);

#endif
