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
_Static_assert(sizeof(struct rtpe_global_stats) == 64, "rtpe_global_stats layout");
_Static_assert(offsetof(struct rtpe_rule, decrypt) == 112, "rtpe_rule.decrypt");
_Static_assert(sizeof(struct rtpe_rule_stats) == 48, "rtpe_rule_stats layout");

#define SHIM_EXPORT __attribute__((visibility("default")))

#define CNT_ADD(field, n) __atomic_fetch_add(&(field), (uint64_t)(n), __ATOMIC_RELAXED)
#define CNT_GET(field) __atomic_load_n(&(field), __ATOMIC_RELAXED)

struct shim_rule {
	struct rtpe_rule r;
	uint32_t output_gen;   /* generation of r.output when the rule was added */
	uint32_t rtcp_output_gen;
	uint64_t packets, bytes, errors, last_ns;
	uint64_t auth_failed;   /* SRTP: rule_srtp.c */
};

/* One socket slot. Slots are allocated once and reused; `lock` guards fd, gen and rules, and is
 * held by the receive thread while it reads the socket, so close never races a recvmmsg. */
struct shim_sock {
	pthread_mutex_t lock;
	int fd;                 /* -1 when closed */
	int epfd;               /* the epoll set it was added to */
	int in_use;             /* reserved in the table (guarded by the table lock) */
	uint32_t gen;           /* bumped at every open: stale epoll events and rules are ignored */
	struct rtpe_addr local;
	struct rtpe_sock_stats st;
	uint64_t mismatch_drops;
	int nrules;
	/* Rules live out of line and grow on demand (1, then RTPE_RULES_PER_SOCKET): almost every socket
	 * carries one rule or none, and eight inline rules were 1.4 KB per socket (5.6 KB per call). The
	 * array may move when a rule is added, so it is only ever touched with `lock` held, like the rest. */
	int rules_cap;
	struct shim_rule *rules;
};

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
int shim_epoll_fd_for(int handle);   /* the epoll set of the thread that reads this socket */
uint64_t shim_now_ns(void);

/* ring.c */
int ring_init(unsigned nrings, uint32_t bytes_each);
void ring_free(void);
uint8_t *ring_reserve(unsigned ring, uint32_t rec_len);  /* contiguous space or NULL when full */
void ring_commit(unsigned ring);                         /* publish everything reserved so far */
void ring_note_drop(void);
void ring_stats(struct rtpe_global_stats *out);
int ring_take_wake(void);                 /* 1 when the caller should call the wake callback */

/* io.c */
struct rx_scratch;
struct rx_scratch *rx_scratch_new(void);
void rx_scratch_free(struct rx_scratch *sc);
/* read one batch from socket idx (generation gen) into ring; returns packets queued to JS */
int io_rx_socket(struct rx_scratch *sc, unsigned ring, uint32_t idx, uint32_t gen);

/* rule.c */
/* Match a packet against the socket's rules (slot locked). Returns the rule or NULL; sets *drop
 * when strict source rejects it. */
struct shim_rule *rule_match(struct shim_sock *s, const struct rtpe_addr *src, int *drop);
/* Whether the matched rule forwards this payload (else it goes to JS); *rtcp_demux is set when
 * it leaves through the rule's RTCP output. */
int rule_accepts(const struct shim_rule *r, const uint8_t *d, uint32_t n, int *rtcp_demux);

#endif
