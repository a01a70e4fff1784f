/* rtpe_shim.h - public API of librtpe_shim: the media sockets, their receive thread and sd_notify. */
#ifndef RTPE_SHIM_H
#define RTPE_SHIM_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped whenever a signature or a struct layout below changes; TypeScript refuses other versions. */
#define RTPE_SHIM_API_VERSION 8

/* Sockets are identified by small non-negative handles; every call returning int returns a
 * negative errno on failure. */
#define RTPE_MAX_SOCKETS 65536
#define RTPE_MAX_BATCH 32          /* recvmmsg / sendmmsg batch size */
#define RTPE_MAX_RX_THREADS 16
#define RTPE_MAX_DATAGRAM 65535

/* An IP endpoint as it crosses the FFI boundary: fixed 20 bytes, no pointers. The same layout as
 * struct rtpe_addr in kernel-module/rtpengine_uapi.h, so one encoder serves both forwarders:
 * family AF_INET (2) or AF_INET6 (10), 0 = unspecified; port in host order; address bytes in
 * network order, IPv4 in addr[0..3] with the rest zero. */
struct rtpe_addr {
	uint16_t family;
	uint16_t port;
	uint8_t addr[16];
};

/* Socket open flags. */
#define RTPE_SOCK_REUSEADDR 0x1u   /* SO_REUSEADDR (tests, restarts) */
#define RTPE_SOCK_RECV_TOS  0x2u   /* report each packet's TOS / traffic class (tests): off, rx_hdr.tos is 0 */

/* Per-socket counters, read with rtpe_socket_stats(). */
struct rtpe_sock_stats {
	uint64_t rx_packets;    /* received from the kernel */
	uint64_t rx_bytes;
	uint64_t rx_ring_drops; /* received but dropped: the ring to JS was full */
	uint64_t tx_packets;    /* sent, from JS or by a forwarding rule */
	uint64_t tx_bytes;
	uint64_t tx_errors;
	uint64_t fwd_packets;   /* received and handed to a forwarding rule (never reached JS) */
	uint64_t fwd_bytes;
};

/* Process-wide counters. */
struct rtpe_global_stats {
	uint64_t ring_drops;
	uint64_t ring_bytes_used;
	uint64_t wakeups;       /* calls of the wake callback */
	uint64_t polls;
	uint64_t loop_iterations;
	uint64_t sockets_open;
	uint64_t uring_threads;     /* receive threads forwarding on io_uring (ffi/engine_uring.c) */
	uint64_t uring_trunc_drops; /* io_uring: datagrams larger than a receive buffer (never for UDP) */
	uint64_t uring_rx_buffers;  /* io_uring: receive buffers the threads handed to the kernel so far
	                             * (they start with a few and add more as the load needs them) */
	uint64_t uring_fixed_files; /* io_uring: output sockets in the threads' fixed-file tables (an entry
	                             * per thread that sent from the socket; sends then skip the fd lookup) */
	uint64_t uring_rx_starved;  /* io_uring: receives that ended because no buffer was in the ring (each
	                             * is re-armed, and the thread adds buffers) */
};

/* One received packet as rtpe_poll() writes it: a 64-byte header then len bytes of payload,
 * the whole record padded to a multiple of 8 (rec_len includes header, data and padding). */
struct rtpe_rx_hdr {
	uint32_t rec_len;
	int32_t handle;        /* socket it arrived on */
	uint64_t ts_ns;        /* CLOCK_REALTIME at receive, nanoseconds */
	struct rtpe_addr src;  /* sender */
	struct rtpe_addr dst;  /* local address from IP_PKTINFO / IPV6_PKTINFO, port = socket port */
	uint32_t len;          /* payload bytes following the header */
	uint8_t tos;           /* IP TOS / IPv6 traffic class of the packet */
	uint8_t pad[3];
};
#define RTPE_RX_HDR_SIZE 64

/* One packet to send in a rtpe_send_batch() buffer: a 32-byte header then len bytes,
 * the record padded to a multiple of 8 (rec_len includes everything). */
struct rtpe_tx_hdr {
	uint32_t rec_len;
	int32_t handle;        /* socket to send from */
	struct rtpe_addr dst;
	uint32_t len;
};
#define RTPE_TX_HDR_SIZE 32

typedef void (*rtpe_wake_fn)(void);

/* Version of this header the library was built from. */
int rtpe_api_version(void);

/* Open a UDP socket bound to *local (port 0 = kernel's choice), IPV6_V6ONLY on IPv6, TOS/traffic
 * class tos (-1 = leave), receive buffer rcvbuf (0 = leave; SO_RCVBUFFORCE when permitted, else
 * SO_RCVBUF), packet-info and TOS reception enabled.
 * The socket is read by the receive thread as soon as it exists. Returns the handle. */
int rtpe_socket_open(const struct rtpe_addr *local, int tos, int rcvbuf, uint32_t flags);
int rtpe_socket_close(int handle);
/* Local address and port the socket is bound to. */
int rtpe_socket_local(int handle, struct rtpe_addr *out);
int rtpe_socket_set_tos(int handle, int tos);
int rtpe_socket_stats(int handle, struct rtpe_sock_stats *out);
/* The kernel file descriptor (for getsockopt in tests and diagnostics); never close it. */
int rtpe_socket_fd(int handle);

/* RTP/RTCP pair: bind the first free even port p and p+1 in [min,max], starting the search at a
 * position derived from seed and wrapping around once. out[0] = RTP handle, out[1] = RTCP.
 * Returns 0, or -EADDRINUSE when no pair is free. */
int rtpe_port_pair(const struct rtpe_addr *local, uint16_t min, uint16_t max, uint32_t seed,
		int tos, int rcvbuf, uint32_t flags, int32_t out[2]);

/* rtpe_start flags */
#define RTPE_START_WAKER_THREAD 0x1u /* call wake from a thread of its own (see rtpe_start) */

/* Start the receive threads. wake is called at most once between two rtpe_poll() calls, after
 * packets were queued; ring_bytes is the budget of the rings, one per thread (each rounded up to
 * a power of two, at least 128 KiB).
 * wake is called from the receive thread itself, unless RTPE_START_WAKER_THREAD: then from a
 * second thread, so that a wake callback that blocks until the runtime's event loop runs it
 * (Deno's thread-safe callbacks do) never stalls receiving and forwarding.
 * Returns 0, or -EALREADY. */
int rtpe_start(rtpe_wake_fn wake, uint32_t ring_bytes, uint32_t flags);
/* Number of receive threads rtpe_start will run (1..RTPE_MAX_RX_THREADS, default 1). Each socket
 * is read by one of them (handle modulo the count), so per-socket order holds. Only while no
 * socket is open and the threads are stopped: else -EBUSY. */
int rtpe_set_threads(int n);
/* Stop and join the receive thread, close every socket, free the ring. Safe to call twice.
 * Under a runtime whose wake callback blocks until its event loop runs it (Deno), the thread may
 * need that loop to finish exiting: call rtpe_stop_begin(), let the loop run until rtpe_stop_poll()
 * returns 1, then rtpe_stop(). */
void rtpe_stop(void);
/* Ask the receive thread to exit without waiting. 0, or -EALREADY when it is not running. */
int rtpe_stop_begin(void);
/* 1 once the shim's threads have exited and been joined (or never ran), else 0. Never blocks. */
int rtpe_stop_poll(void);
/* Caps the bytes the ring may hold (0 = its whole size): for tests and memory tuning. */
void rtpe_set_ring_limit(uint32_t bytes);

/* Copy whole queued records into buf (struct rtpe_rx_hdr + data each), from every thread's ring.
 * Returns the bytes written (0 = all empty). Re-arms the wake callback: call until it returns 0. */
int rtpe_poll(uint8_t *buf, uint32_t buf_len);

/* Send len bytes from handle to *dst. Returns bytes sent. */
int rtpe_send(int handle, const struct rtpe_addr *dst, const uint8_t *data, uint32_t len);
/* Send every struct rtpe_tx_hdr record in buf, batched with sendmmsg per socket run.
 * Returns the number of packets the kernel accepted, or -EINVAL on a malformed buffer. */
int rtpe_send_batch(const uint8_t *buf, uint32_t buf_len);

void rtpe_global_stats(struct rtpe_global_stats *out);

/* sd_notify: send state ("READY=1", "STOPPING=1", ...) as one datagram to $NOTIFY_SOCKET.
 * Returns 1 when sent, 0 when NOTIFY_SOCKET is unset, negative errno on failure. */
int rtpe_sd_notify(const char *state);
/* Same with an explicit socket path ('@' first = abstract namespace) and lengths, so callers need
 * not rely on the C environment matching the runtime's. */
int rtpe_sd_notify_to(const char *path, uint32_t path_len, const char *state, uint32_t state_len);

/* Drop this process's resident copies of clean, read-only file pages (the executable's and its
 * libraries' code and constants, private mappings without modified pages): they stay in the page
 * cache and fault back in when used. Returns the KiB that were resident, or -errno. */
int32_t rtpe_release_file_pages(void);

/* Forwarding rules: see rtpe_rule.h. */

#ifdef __cplusplus
}
#endif

#endif
