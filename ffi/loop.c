/* loop.c - the receive thread: epoll over every shim socket, batches to the ring, wakes JS. */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

#define STOP_TOKEN UINT64_MAX
#define MAX_EVENTS 64

static pthread_once_t ep_once = PTHREAD_ONCE_INIT;
static int ep_fd = -1, ep_err;

static pthread_mutex_t life = PTHREAD_MUTEX_INITIALIZER;
static int running, stopping;
static pthread_t thread;
static int stop_fd = -1;
static rtpe_wake_fn wake_cb;
static struct rx_scratch *scratch;
static uint64_t iterations;

/* optional waker thread (RTPE_START_WAKER_THREAD) and what the threads still need joining */
static pthread_t waker;
static int use_waker, rx_joined, waker_joined;
static pthread_mutex_t wk_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wk_cond = PTHREAD_COND_INITIALIZER;
static int wk_pending, wk_stop;

static void ep_init(void)
{
	ep_fd = epoll_create1(EPOLL_CLOEXEC);
	if (ep_fd < 0)
		ep_err = -errno;
}

int shim_epoll_fd(void)
{
	pthread_once(&ep_once, ep_init);
	return ep_fd >= 0 ? ep_fd : ep_err;
}

uint64_t shim_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void *rx_main(void *arg)
{
	struct epoll_event ev[MAX_EVENTS];
	int stop = 0;

	(void)arg;
	while (!stop) {
		int n = epoll_wait(ep_fd, ev, MAX_EVENTS, -1), queued = 0;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		CNT_ADD(iterations, 1);
		for (int i = 0; i < n; i++) {
			uint64_t tok = ev[i].data.u64;
			if (tok == STOP_TOKEN) {
				stop = 1;
				continue;
			}
			queued += io_rx_socket(scratch, (uint32_t)(tok & 0xffffffffu), (uint32_t)(tok >> 32));
		}
		/* one wake per iteration at most, and none while JS has not drained the last one */
		if (queued && wake_cb && ring_take_wake()) {
			if (use_waker) {
				pthread_mutex_lock(&wk_lock);
				wk_pending = 1;
				pthread_cond_signal(&wk_cond);
				pthread_mutex_unlock(&wk_lock);
			} else {
				wake_cb();
			}
		}
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

SHIM_EXPORT int rtpe_start(rtpe_wake_fn wake, uint32_t ring_bytes, uint32_t flags)
{
	struct epoll_event ev;
	sigset_t all, old;
	int r, epfd;

	pthread_mutex_lock(&life);
	if (running) {
		pthread_mutex_unlock(&life);
		return -EALREADY;
	}
	epfd = shim_epoll_fd();
	if (epfd < 0) {
		pthread_mutex_unlock(&life);
		return epfd;
	}
	r = ring_init(ring_bytes);
	if (r < 0)
		goto fail;
	scratch = rx_scratch_new();
	if (!scratch) {
		r = -ENOMEM;
		goto fail_ring;
	}
	stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (stop_fd < 0) {
		r = -errno;
		goto fail_scratch;
	}
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.u64 = STOP_TOKEN;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, stop_fd, &ev) < 0) {
		r = -errno;
		goto fail_stopfd;
	}
	wake_cb = wake;
	use_waker = wake && (flags & RTPE_START_WAKER_THREAD);
	wk_pending = wk_stop = 0;
	rx_joined = 0;
	waker_joined = !use_waker;
	/* the runtime's signal handlers must never run on our threads */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	if (use_waker) {
		r = -pthread_create(&waker, NULL, waker_main, NULL);
		if (r < 0) {
			pthread_sigmask(SIG_SETMASK, &old, NULL);
			goto fail_epoll;
		}
		pthread_setname_np(waker, "rtpe-wake");
	}
	r = -pthread_create(&thread, NULL, rx_main, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r < 0) {
		if (use_waker) {
			pthread_mutex_lock(&wk_lock);
			wk_stop = 1;
			pthread_cond_signal(&wk_cond);
			pthread_mutex_unlock(&wk_lock);
			pthread_join(waker, NULL);
		}
		goto fail_epoll;
	}
	pthread_setname_np(thread, "rtpe-rx");
	running = 1;
	pthread_mutex_unlock(&life);
	return 0;

fail_epoll:
	epoll_ctl(epfd, EPOLL_CTL_DEL, stop_fd, NULL);
fail_stopfd:
	close(stop_fd);
	stop_fd = -1;
fail_scratch:
	rx_scratch_free(scratch);
	scratch = NULL;
fail_ring:
	ring_free();
fail:
	pthread_mutex_unlock(&life);
	return r;
}

/* Ask the thread to exit (idempotent). Caller holds `life`. */
static void signal_stop(void)
{
	uint64_t one = 1;

	if (!running || stopping)
		return;
	stopping = 1;
	while (write(stop_fd, &one, sizeof(one)) < 0 && errno == EINTR)
		;
	pthread_mutex_lock(&wk_lock);
	wk_stop = 1;
	pthread_cond_signal(&wk_cond);
	pthread_mutex_unlock(&wk_lock);
}

/* Release what the thread used once it has been joined. Caller holds `life`. */
static void after_join(void)
{
	epoll_ctl(ep_fd, EPOLL_CTL_DEL, stop_fd, NULL);
	close(stop_fd);
	stop_fd = -1;
	rx_scratch_free(scratch);
	scratch = NULL;
	wake_cb = NULL;
	running = 0;
	stopping = 0;
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
		if (!rx_joined && pthread_tryjoin_np(thread, NULL) == 0)
			rx_joined = 1;
		if (!waker_joined && pthread_tryjoin_np(waker, NULL) == 0)
			waker_joined = 1;
		if (rx_joined && waker_joined)
			after_join();
		else
			done = 0;
	}
	pthread_mutex_unlock(&life);
	return done;
}

SHIM_EXPORT void rtpe_stop(void)
{
	pthread_mutex_lock(&life);
	if (running) {
		signal_stop();
		if (!rx_joined)
			pthread_join(thread, NULL);
		if (!waker_joined)
			pthread_join(waker, NULL);
		rx_joined = waker_joined = 1;
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
}
