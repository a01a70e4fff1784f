/* loop.c - the receive threads: epoll over the shim sockets, batches to the rings, wakes JS. */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

#define STOP_TOKEN SHIM_STOP_TOKEN
#define MAX_EVENTS 128

/* Receive coalescing (off by default): after a round that found several sockets ready, pause
 * RTPE_SHIM_COALESCE_US (max 1000) before the next epoll_wait, so the next round finds more
 * packets ready: fewer wake-ups per packet for up to that much added latency. A round with a single
 * ready socket (light load) never pauses, nor does a full one (more is pending). Measured with
 * rtpload (500 calls, 50k pps, 2 shared cores, interleaved medians of 3): 100 us cost CPU
 * (8.1 -> 9.3 us/pkt with 1 thread, 9.9 -> 10.4 with 2): the timer wake-up costs more than the
 * batching saves, as ~75% of the per-packet cost is the kernel's UDP send + loopback delivery. */
#define COALESCE_US_DEFAULT 0u
#define COALESCE_MIN_EVENTS 2
static unsigned coalesce_us = COALESCE_US_DEFAULT;

/* Forwarding engine of the receive threads, chosen at rtpe_start: io_uring (engine_uring.c) when
 * this kernel and process allow it (Linux 6.1+, io_uring not disabled by sysctl or seccomp), else
 * epoll. RTPE_SHIM_ENGINE=epoll forces epoll; =uring or =auto (default) try io_uring first. A
 * thread whose ring cannot be set up runs the epoll loop on its own. */
static int engine_uring;
static unsigned uring_threads;   /* receive threads running on io_uring */

/* One epoll set per receive thread; a socket joins set (handle % nthreads) when it opens, so each
 * socket is read by exactly one thread and its packets stay in order. */
static pthread_mutex_t ep_lock = PTHREAD_MUTEX_INITIALIZER;
static int ep_fds[RTPE_MAX_RX_THREADS] = { -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1 };
static unsigned nthreads = 1;

static pthread_mutex_t life = PTHREAD_MUTEX_INITIALIZER;
static int running, stopping;
static unsigned nstarted;
static pthread_t threads[RTPE_MAX_RX_THREADS];
static int joined[RTPE_MAX_RX_THREADS];
static struct rx_scratch *scratch[RTPE_MAX_RX_THREADS];
static int stop_fd = -1;
static rtpe_wake_fn wake_cb;
static uint64_t iterations;

/* optional waker thread (RTPE_START_WAKER_THREAD) */
static pthread_t waker;
static int use_waker, waker_joined;
static pthread_mutex_t wk_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wk_cond = PTHREAD_COND_INITIALIZER;
static int wk_pending, wk_stop;

_Static_assert(RTPE_MAX_RX_THREADS == 16, "ep_fds initialiser");

int shim_epoll_fd_for(int handle)
{
	unsigned set;
	int fd;

	pthread_mutex_lock(&ep_lock);
	set = (unsigned)handle % nthreads;
	if (ep_fds[set] < 0)
		ep_fds[set] = epoll_create1(EPOLL_CLOEXEC);
	fd = ep_fds[set] >= 0 ? ep_fds[set] : -errno;
	pthread_mutex_unlock(&ep_lock);
	return fd;
}

uint64_t shim_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void wake_js(void)
{
	if (!use_waker) {
		wake_cb();
		return;
	}
	pthread_mutex_lock(&wk_lock);
	wk_pending = 1;
	pthread_cond_signal(&wk_cond);
	pthread_mutex_unlock(&wk_lock);
}

unsigned shim_thread_for(int handle)
{
	return (unsigned)handle % nthreads;
}

void loop_round_done(int queued)
{
	CNT_ADD(iterations, 1);
	/* one wake per round at most, and none while JS has not drained the last one */
	if (queued && wake_cb && ring_take_wake())
		wake_js();
}

static void *rx_main(void *arg)
{
	unsigned me = (unsigned)(uintptr_t)arg;
	struct epoll_event ev[MAX_EVENTS];
	struct timespec pause = { 0, (long)coalesce_us * 1000L };
	int epfd = ep_fds[me], stop = 0, busy = 0;

	if (engine_uring) {
		__atomic_fetch_add(&uring_threads, 1, __ATOMIC_RELAXED);
		if (uring_rx_run(me, epfd, me) == 0) {
			__atomic_fetch_sub(&uring_threads, 1, __ATOMIC_RELAXED);
			return NULL;
		}
		__atomic_fetch_sub(&uring_threads, 1, __ATOMIC_RELAXED);
	}

	while (!stop) {
		int n, queued = 0;

		if (busy && coalesce_us)
			clock_nanosleep(CLOCK_MONOTONIC, 0, &pause, NULL);   /* EINTR: just go on */
		n = epoll_wait(epfd, ev, MAX_EVENTS, -1);
		busy = n >= COALESCE_MIN_EVENTS && n < MAX_EVENTS;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (int i = 0; i < n; i++) {
			uint64_t tok = ev[i].data.u64;
			if (tok == STOP_TOKEN) {
				stop = 1;
				continue;
			}
			queued += io_rx_socket(scratch[me], me, (uint32_t)(tok & 0xffffffffu),
					(uint32_t)(tok >> 32));
		}
		loop_round_done(queued);
	}
	return NULL;
}

static void *waker_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&wk_lock);
	for (;;) {
		while (!wk_pending && !wk_stop)
			pthread_cond_wait(&wk_cond, &wk_lock);
		if (wk_stop)
			break;
		wk_pending = 0;
		pthread_mutex_unlock(&wk_lock);
		wake_cb();     /* may block until the runtime runs it: only this thread waits */
		pthread_mutex_lock(&wk_lock);
	}
	pthread_mutex_unlock(&wk_lock);
	return NULL;
}

SHIM_EXPORT int rtpe_api_version(void)
{
	return RTPE_SHIM_API_VERSION;
}

SHIM_EXPORT int rtpe_set_threads(int n)
{
	int r = 0;

	if (n < 1 || n > RTPE_MAX_RX_THREADS)
		return -EINVAL;
	pthread_mutex_lock(&life);
	pthread_mutex_lock(&ep_lock);
	/* open sockets are bound to a set already: the count is fixed while any exists */
	if (running || shim_sockets_open() > 0)
		r = -EBUSY;
	else
		nthreads = (unsigned)n;
	pthread_mutex_unlock(&ep_lock);
	pthread_mutex_unlock(&life);
	return r;
}

/* Ask the threads to exit (idempotent). Caller holds `life`. */
static void signal_stop(void)
{
	uint64_t one = 1;

	if (!running || stopping)
		return;
	stopping = 1;
	/* the eventfd stays readable: every epoll set that holds it reports it */
	while (write(stop_fd, &one, sizeof(one)) < 0 && errno == EINTR)
		;
	pthread_mutex_lock(&wk_lock);
	wk_stop = 1;
	pthread_cond_signal(&wk_cond);
	pthread_mutex_unlock(&wk_lock);
}

/* Release what the threads used once all are joined. Caller holds `life`. */
static void after_join(void)
{
	for (unsigned i = 0; i < nstarted; i++) {
		epoll_ctl(ep_fds[i], EPOLL_CTL_DEL, stop_fd, NULL);
		rx_scratch_free(scratch[i]);
		scratch[i] = NULL;
	}
	close(stop_fd);
	stop_fd = -1;
	wake_cb = NULL;
	nstarted = 0;
	running = 0;
	stopping = 0;
}

/* Undo a partial start: stop and join what runs, free the rest. Caller holds `life`. */
static void abort_start(void)
{
	running = 1;
	signal_stop();
	for (unsigned i = 0; i < nstarted; i++)
		pthread_join(threads[i], NULL);
	if (use_waker && !waker_joined)
		pthread_join(waker, NULL);
	for (unsigned i = 0; i < RTPE_MAX_RX_THREADS; i++) {
		if (stop_fd >= 0 && ep_fds[i] >= 0)
			epoll_ctl(ep_fds[i], EPOLL_CTL_DEL, stop_fd, NULL);
		rx_scratch_free(scratch[i]);
		scratch[i] = NULL;
	}
	if (stop_fd >= 0)
		close(stop_fd);
	stop_fd = -1;
	wake_cb = NULL;
	nstarted = 0;
	running = stopping = 0;
	ring_free();
}

SHIM_EXPORT int rtpe_start(rtpe_wake_fn wake, uint32_t ring_bytes, uint32_t flags)
{
	struct epoll_event ev;
	sigset_t all, old;
	unsigned n;
	int r;

	pthread_mutex_lock(&life);
	if (running) {
		pthread_mutex_unlock(&life);
		return -EALREADY;
	}
	n = nthreads;
	nstarted = 0;
	coalesce_us = COALESCE_US_DEFAULT;
	{
		const char *c = getenv("RTPE_SHIM_COALESCE_US");
		if (c && *c) {
			unsigned long v = strtoul(c, NULL, 10);
			coalesce_us = v > 1000ul ? 1000u : (unsigned)v;
		}
	}
	{
		const char *e = getenv("RTPE_SHIM_ENGINE");
		engine_uring = !(e && !strcmp(e, "epoll")) && uring_engine_probe() == 0;
	}
	use_waker = wake && (flags & RTPE_START_WAKER_THREAD);
	waker_joined = !use_waker;
	wk_pending = wk_stop = 0;
	wake_cb = wake;

	/* the ring budget is shared by the threads, each ring at least the minimum */
	r = ring_init(n, ring_bytes / n);
	if (r < 0)
		goto fail;
	stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (stop_fd < 0) {
		r = -errno;
		goto fail;
	}
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.u64 = STOP_TOKEN;
	for (unsigned i = 0; i < n; i++) {
		int epfd = shim_epoll_fd_for((int)i);
		if (epfd < 0) {
			r = epfd;
			goto fail;
		}
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, stop_fd, &ev) < 0) {
			r = -errno;
			goto fail;
		}
		scratch[i] = rx_scratch_new();
		if (!scratch[i]) {
			r = -ENOMEM;
			goto fail;
		}
	}

	/* the runtime's signal handlers must never run on our threads */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	if (use_waker) {
		r = -pthread_create(&waker, NULL, waker_main, NULL);
		if (r < 0) {
			waker_joined = 1;
			pthread_sigmask(SIG_SETMASK, &old, NULL);
			goto fail;
		}
		pthread_setname_np(waker, "rtpe-wake");
	}
	for (unsigned i = 0; i < n; i++) {
		char name[16];
		r = -pthread_create(&threads[i], NULL, rx_main, (void *)(uintptr_t)i);
		if (r < 0)
			break;
		joined[i] = 0;
		nstarted = i + 1;
		if (n == 1)
			snprintf(name, sizeof(name), "rtpe-rx");
		else
			snprintf(name, sizeof(name), "rtpe-rx%u", i % 100u);  /* i < 16 */
		pthread_setname_np(threads[i], name);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r < 0)
		goto fail;
	running = 1;
	pthread_mutex_unlock(&life);
	return 0;

fail:
	abort_start();
	pthread_mutex_unlock(&life);
	return r;
}

SHIM_EXPORT int rtpe_stop_begin(void)
{
	int r;

	pthread_mutex_lock(&life);
	r = running ? 0 : -EALREADY;
	signal_stop();
	pthread_mutex_unlock(&life);
	return r;
}

SHIM_EXPORT int rtpe_stop_poll(void)
{
	int done = 1;

	pthread_mutex_lock(&life);
	if (running) {
		signal_stop();
		for (unsigned i = 0; i < nstarted; i++) {
			if (!joined[i] && pthread_tryjoin_np(threads[i], NULL) == 0)
				joined[i] = 1;
			if (!joined[i])
				done = 0;
		}
		if (!waker_joined && pthread_tryjoin_np(waker, NULL) == 0)
			waker_joined = 1;
		if (!waker_joined)
			done = 0;
		if (done)
			after_join();
	}
	pthread_mutex_unlock(&life);
	return done;
}

SHIM_EXPORT void rtpe_stop(void)
{
	pthread_mutex_lock(&life);
	if (running) {
		signal_stop();
		for (unsigned i = 0; i < nstarted; i++)
			if (!joined[i])
				pthread_join(threads[i], NULL);
		if (!waker_joined)
			pthread_join(waker, NULL);
		waker_joined = 1;
		after_join();
	}
	shim_close_all();
	ring_free();
	pthread_mutex_unlock(&life);
}

SHIM_EXPORT void rtpe_global_stats(struct rtpe_global_stats *out)
{
	if (!out)
		return;
	memset(out, 0, sizeof(*out));
	ring_stats(out);
	out->loop_iterations = CNT_GET(iterations);
	out->sockets_open = shim_sockets_open();
	out->uring_threads = __atomic_load_n(&uring_threads, __ATOMIC_RELAXED);
	out->uring_trunc_drops = uring_trunc_drops();
	out->uring_rx_buffers = uring_rx_buffers();
	out->uring_fixed_files = uring_fixed_files();
	out->uring_rx_starved = uring_rx_starved();
}
