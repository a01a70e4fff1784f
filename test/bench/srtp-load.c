/* srtp-load.c - media load for test/bench/srtp-bench.ts: N calls, SDES-SRTP phone on one side, plain RTP
 * phone on the other, both sending at a fixed total rate; counts what arrives, verifies a sample of the
 * SRTP that arrives, and reads the daemon's CPU time over the measured window.
 *
 * Protocol (stdin/stdout, one line each):
 *   out: PORTS <srtp phone port> <plain phone port> ...        (one pair per call, after binding)
 *   in:  CALL <daemon port for the SRTP phone> <daemon port for the plain phone> <hex key||salt the
 *        SRTP phone protects with> <hex key||salt it verifies with>      (N lines; "-" keys = plain call)
 *   in:  GO <total pps> <warmup s> <duration s> <daemon pid>
 *   out: RESULT sent=.. received=.. loss_pct=.. cpu_us_per_pkt=.. verified=.. auth_failed=..
 * Build: gcc -O2 -Iffi/srtp test/bench/srtp-load.c ffi/srtp/{auth,cipher,ctx,kdf,ossl,replay,rtcp,rtp}.c -ldl
 * Suite: AES_CM_128_HMAC_SHA1_80. Benchmark tool only. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "rtpe_srtp.h"

#define PAYLOAD 160
#define MAXCALLS 4096

struct leg {
	int fd;
	uint16_t dst;            /* daemon port this phone sends to */
	uint32_t ssrc;
	uint16_t seq;
	uint32_t ts;
	rtpe_srtp_ctx *tx, *rx;  /* SRTP phone only */
	uint64_t sent, got;
};

static struct leg legs[MAXCALLS * 2];
static int ncalls;
static uint64_t verified, auth_failed, send_errors, skipped;

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static double cpu_s(int pid)
{
	char path[64], buf[1024];
	unsigned long ut = 0, st = 0;
	int fd, n;
	char *p;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	n = (int)read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
		return 0;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static int hex(const char *s, uint8_t *out, size_t n)
{
	if (strlen(s) != 2 * n)
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (uint8_t)v;
	}
	return 0;
}

static void send_one(struct leg *l)
{
	uint8_t b[12 + PAYLOAD + RTPE_SRTP_MAX_OVERHEAD];
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(l->dst), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int len = 12 + PAYLOAD;

	b[0] = 0x80;
	b[1] = 0;
	b[2] = (uint8_t)(l->seq >> 8);
	b[3] = (uint8_t)l->seq;
	b[4] = (uint8_t)(l->ts >> 24); b[5] = (uint8_t)(l->ts >> 16); b[6] = (uint8_t)(l->ts >> 8); b[7] = (uint8_t)l->ts;
	b[8] = (uint8_t)(l->ssrc >> 24); b[9] = (uint8_t)(l->ssrc >> 16); b[10] = (uint8_t)(l->ssrc >> 8); b[11] = (uint8_t)l->ssrc;
	memset(b + 12, 0x55, PAYLOAD);
	l->seq++;
	l->ts += 160;
	if (l->tx) {
		len = rtpe_srtp_protect(l->tx, b, (size_t)len, sizeof(b));
		if (len < 0)
			return;
	}
	/* (a pending ICMP error fails one sendto: try again once) */
	if (sendto(l->fd, b, (size_t)len, MSG_DONTWAIT, (struct sockaddr *)&sa, sizeof(sa)) == len ||
			sendto(l->fd, b, (size_t)len, MSG_DONTWAIT, (struct sockaddr *)&sa, sizeof(sa)) == len)
		l->sent++;
	else
		send_errors++;
}

static void drain(struct leg *l, int count)
{
	uint8_t b[2048];

	for (;;) {
		ssize_t n = recv(l->fd, b, sizeof(b), MSG_DONTWAIT);
		if (n < 0)
			return;
		if (!count)
			continue;
		l->got++;
		/* verify one in 16 (the daemon's SRTP must authenticate; the sample keeps our CPU low) */
		if (l->rx && (l->got & 15) == 0) {
			if (rtpe_srtp_unprotect(l->rx, b, (size_t)n) >= 0)
				verified++;
			else
				auth_failed++;
		}
	}
}

int main(void)
{
	char line[512];
	double pps, warm, dur;
	int pid;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!fgets(line, sizeof(line), stdin) || sscanf(line, "CALLS %d", &ncalls) != 1 || ncalls < 1 || ncalls > MAXCALLS) {
		fprintf(stderr, "srtp-load: expected CALLS n\n");
		return 2;
	}
	if (rtpe_srtp_init() != 0) {
		fprintf(stderr, "srtp-load: no libcrypto\n");
		return 2;
	}
	srand((unsigned)getpid());
	printf("PORTS");
	for (int i = 0; i < 2 * ncalls; i++) {
		struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		socklen_t sl = sizeof(sa);
		int rb = 1 << 20;
		legs[i].fd = socket(AF_INET, SOCK_DGRAM, 0);
		setsockopt(legs[i].fd, SOL_SOCKET, SO_RCVBUFFORCE, &rb, sizeof(rb));
		if (legs[i].fd < 0 || bind(legs[i].fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
				getsockname(legs[i].fd, (struct sockaddr *)&sa, &sl) < 0) {
			fprintf(stderr, "srtp-load: socket: %s\n", strerror(errno));
			return 2;
		}
		legs[i].ssrc = (uint32_t)rand() ^ ((uint32_t)rand() << 16);
		printf(" %u", ntohs(sa.sin_port));
	}
	printf("\n");
	for (int c = 0; c < ncalls; c++) {
		char ktx[128], krx[128];
		unsigned ps, pp;
		uint8_t k[30];
		int err;
		if (!fgets(line, sizeof(line), stdin) || sscanf(line, "CALL %u %u %127s %127s", &ps, &pp, ktx, krx) != 4) {
			fprintf(stderr, "srtp-load: expected CALL line %d\n", c);
			return 2;
		}
		legs[2 * c].dst = (uint16_t)ps;
		legs[2 * c + 1].dst = (uint16_t)pp;
		if (strcmp(ktx, "-") != 0) {
			if (hex(ktx, k, 30) < 0 || !(legs[2 * c].tx = rtpe_srtp_new(RTPE_SRTP_AES_CM_128_HMAC_SHA1_80, k, 16, k + 16, 14, 0, &err)) ||
					hex(krx, k, 30) < 0 || !(legs[2 * c].rx = rtpe_srtp_new(RTPE_SRTP_AES_CM_128_HMAC_SHA1_80, k, 16, k + 16, 14, RTPE_SRTP_NO_REPLAY_CHECK, &err))) {
				fprintf(stderr, "srtp-load: bad key in call %d\n", c);
				return 2;
			}
		}
	}
	if (!fgets(line, sizeof(line), stdin) || sscanf(line, "GO %lf %lf %lf %d", &pps, &warm, &dur, &pid) != 4) {
		fprintf(stderr, "srtp-load: expected GO\n");
		return 2;
	}

	/* paced: every 1 ms the packets due since the start, round robin over all legs */
	int nlegs = 2 * ncalls, next = 0, measuring = 0;
	uint64_t due_sent = 0, base_sent = 0, base_got = 0;
	double t0 = now_s(), tm = t0 + warm, tend = tm + dur, cpu0 = 0, cpu1 = 0, next_drain = 0;
	uint64_t sent_m = 0, got_m = 0;
	for (;;) {
		double t = now_s();
		if (!measuring && t >= tm) {
			measuring = 1;
			for (int i = 0; i < nlegs; i++)
				drain(&legs[i], 1);
			base_sent = base_got = 0;
			for (int i = 0; i < nlegs; i++) {
				base_sent += legs[i].sent;
				base_got += legs[i].got;
			}
			verified = auth_failed = send_errors = skipped = 0;
			cpu0 = cpu_s(pid);
		}
		if (t >= tend)
			break;
		uint64_t target = (uint64_t)((t - t0) * pps);
		uint64_t backlog = (uint64_t)(pps * 0.002) + 1;
		/* starved (a shared CPU): skip what is more than 2 ms late rather than burst it out */
		if (target > due_sent + backlog) {
			skipped += target - backlog - due_sent;
			due_sent = target - backlog;
		}
		while (due_sent < target) {
			send_one(&legs[next]);
			next = (next + 1) % nlegs;
			due_sent++;
		}
		/* every 4 ms a look at each socket (1 MiB receive buffers hold far more than that) */
		if (t >= next_drain) {
			for (int i = 0; i < nlegs; i++)
				drain(&legs[i], 1);
			next_drain = t + 0.004;
		}
		usleep(200);
	}
	/* what was sent until the end may still be in flight: count arrivals for 200 ms more */
	cpu1 = cpu_s(pid);
	double tq = now_s() + 0.2;
	while (now_s() < tq) {
		for (int i = 0; i < nlegs; i++)
			drain(&legs[i], 1);
		usleep(1000);
	}
	for (int i = 0; i < nlegs; i++) {
		sent_m += legs[i].sent;
		got_m += legs[i].got;
	}
	sent_m -= base_sent;
	got_m -= base_got;
	double loss = sent_m ? 100.0 * ((double)sent_m - (double)got_m) / (double)sent_m : 0;
	if (loss < 0)
		loss = 0;
	printf("RESULT offered_pps=%.0f sent_pps=%.0f skipped=%llu send_errors=%llu sent=%llu received=%llu fwd_pps=%.0f loss_pct=%.3f cpu_pct=%.1f cpu_us_per_pkt=%.2f verified=%llu auth_failed=%llu\n",
			pps, (double)sent_m / dur, (unsigned long long)skipped, (unsigned long long)send_errors, (unsigned long long)sent_m, (unsigned long long)got_m, (double)got_m / dur, loss,
			100.0 * (cpu1 - cpu0) / dur, got_m ? 1e6 * (cpu1 - cpu0) / (double)got_m : 0,
			(unsigned long long)verified, (unsigned long long)auth_failed);
	return 0;
}
