// daemon-client.c - guest side of test/kernel/daemon-e2e.sh: one call through the real daemon over ng,
// RTP both ways on loopback, then proof that xt_RTPENGINE (not the daemon) forwarded it.
// Prints "CHECK PASS|FAIL name" lines like rtpe-test. Usage: daemon-client NG_PORT TABLE
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "rtpengine_uapi.h"

static int failures;
static void check(int ok, const char *name, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void check(int ok, const char *name, const char *fmt, ...)
{
	va_list ap;
	printf("CHECK %s daemon: %s", ok ? "PASS" : "FAIL", name);
	if (!ok && fmt) {
		printf(": ");
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
	}
	printf("\n");
	fflush(stdout);
	if (!ok)
		failures++;
}

static int ng_port;
static char reply[65536];

static int udp_bound(uint16_t *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t l = sizeof(a);
	int fd = socket(AF_INET, SOCK_DGRAM, 0), big = 4 << 20;
	/* 200 queued datagrams exceed the default receive buffer */
	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big));
	if (fd < 0 || bind(fd, (void *)&a, sizeof(a)) || getsockname(fd, (void *)&a, &l))
		return -1;
	*port = ntohs(a.sin_port);
	return fd;
}

static int wait_readable(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	return poll(&p, 1, ms) == 1;
}

/* One ng request (bencoded body built by the caller); the reply body is left in `reply`. */
static int ng(const char *body, int timeout_ms)
{
	static int seq;
	char msg[8192];
	struct sockaddr_in d = { .sin_family = AF_INET, .sin_port = htons(ng_port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	uint16_t p;
	int fd = udp_bound(&p), n = snprintf(msg, sizeof(msg), "c%d-%d %s", (int)getpid(), ++seq, body); /* the daemon caches replies by cookie */
	ssize_t r;
	sendto(fd, msg, n, 0, (void *)&d, sizeof(d));
	if (!wait_readable(fd, timeout_ms)) {
		close(fd);
		return -1;
	}
	r = recv(fd, reply, sizeof(reply) - 1, 0);
	close(fd);
	if (r < 0)
		return -1;
	reply[r] = 0;
	return 0;
}

/* "i<n>e" after key `k` in the bencoded reply, or -1 */
static long long bint(const char *k)
{
	char pat[128];
	const char *s;
	snprintf(pat, sizeof(pat), "%zu:%s", strlen(k), k);
	s = strstr(reply, pat);
	if (!s || s[strlen(pat)] != 'i')
		return -1;
	return atoll(s + strlen(pat) + 1);
}

static int sdp_port(void)
{
	const char *m = strstr(reply, "m=audio ");
	return m ? atoi(m + 8) : -1;
}

static const char *sdp(uint16_t port)
{
	static char s[512];
	snprintf(s, sizeof(s), "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=e2e\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio %u RTP/AVP 0\r\n", port);
	return s;
}

static void send_rtp(int fd, uint16_t to, uint32_t ssrc, int n, int gap_us)
{
	static uint16_t seq;
	struct sockaddr_in d = { .sin_family = AF_INET, .sin_port = htons(to), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	unsigned char b[172];
	for (int i = 0; i < n; i++) {
		memset(b, 0x55, sizeof(b));
		b[0] = 0x80;
		b[1] = 0;
		b[2] = seq >> 8;
		b[3] = seq & 0xff;
		seq++;
		b[8] = ssrc >> 24; b[9] = ssrc >> 16; b[10] = ssrc >> 8; b[11] = ssrc;
		sendto(fd, b, sizeof(b), 0, (void *)&d, sizeof(d));
		if (gap_us)
			usleep(gap_us);
	}
}

/* Receive up to n datagrams (until quiet for ms); counts those from `from_port`. */
static int recv_n(int fd, int n, uint16_t from_port, int ms, int *wrong)
{
	int got = 0;
	unsigned char b[2048];
	*wrong = 0;
	while (got + *wrong < n && wait_readable(fd, ms)) {
		struct sockaddr_in s;
		socklen_t l = sizeof(s);
		if (recvfrom(fd, b, sizeof(b), 0, (void *)&s, &l) < 0)
			break;
		if (ntohs(s.sin_port) == from_port)
			got++;
		else
			(*wrong)++;
	}
	return got;
}

struct kstats { int rules; uint64_t pk_a, pk_b; uint16_t dst_b; };

/* Udp: InDatagrams from /proc/net/snmp: every datagram delivered to any UDP socket of the guest */
static long long udp_in(void)
{
	char l[1024], hdr[1024] = "";
	long long v[8] = { 0 };
	FILE *f = fopen("/proc/net/snmp", "r");
	if (!f)
		return -1;
	while (fgets(l, sizeof(l), f)) {
		if (strncmp(l, "Udp: ", 5))
			continue;
		if (!hdr[0]) {
			strcpy(hdr, l);
			continue;
		}
		sscanf(l + 5, "%lld %lld", &v[0], &v[1]); /* InDatagrams NoPorts ... */
		break;
	}
	fclose(f);
	return strstr(hdr, "Udp: InDatagrams ") ? v[0] : -1;
}

static struct kstats blist(int table, uint16_t port_a, uint16_t port_b)
{
	static struct rtpe_blist_entry e[64];
	char path[64];
	struct kstats k = { 0 };
	ssize_t n, off = 0;
	int fd;
	snprintf(path, sizeof(path), "/proc/rtpengine/%d/blist", table);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return (struct kstats){ .rules = -1 };
	while ((n = read(fd, (char *)e + off, sizeof(e) - off)) > 0)
		off += n;
	close(fd);
	k.rules = off / sizeof(e[0]);
	for (int i = 0; i < k.rules; i++) {
		if (e[i].rule.local.port == port_a)
			k.pk_a = e[i].stats.packets;
		if (e[i].rule.local.port == port_b) {
			k.pk_b = e[i].stats.packets;
			k.dst_b = e[i].rule.out.dst.port;
		}
	}
	return k;
}

#ifndef DAEMON_CLIENT_LIB	/* daemon-srtp.c includes the helpers above */
int main(int argc, char **argv)
{
	uint16_t pa, pb;
	int a, b, to_a, to_b, wrong, got, table;
	char body[4096];
	struct timespec t0, t1;
	long long user0, user1, in0, in1;
	struct kstats k0, k1;

	if (argc != 3)
		return 2;
	ng_port = atoi(argv[1]);
	table = atoi(argv[2]);

	/* the daemon (bun under TCG) needs a while to start: ping until it answers */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < 240 && ng("d7:command4:pinge", 500); i++)
		;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	check(strstr(reply, "4:pong") != NULL, "ng ping answered", "no pong");
	printf("DAEMONTEST first pong after %.1fs\n", (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	if (!strstr(reply, "4:pong"))
		return 1;

	a = udp_bound(&pa);
	b = udp_bound(&pb);
	snprintf(body, sizeof(body), "d7:call-id3:e2e7:command5:offer8:from-tag1:A3:sdp%zu:%se", strlen(sdp(pa)), sdp(pa));
	check(ng(body, 10000) == 0 && strstr(reply, "6:result2:ok"), "offer", "%.200s", reply);
	to_b = sdp_port();
	snprintf(body, sizeof(body), "d7:call-id3:e2e7:command6:answer8:from-tag1:A3:sdp%zu:%s6:to-tag1:Be", strlen(sdp(pb)), sdp(pb));
	check(ng(body, 10000) == 0 && strstr(reply, "6:result2:ok"), "answer", "%.200s", reply);
	to_a = sdp_port();
	printf("DAEMONTEST phones A=%u B=%u, daemon ports toA=%d toB=%d\n", pa, pb, to_a, to_b);

	/* learning: the first packets go through the daemon */
	send_rtp(a, to_a, 0xaaaa0001, 5, 20000);
	send_rtp(b, to_b, 0xbbbb0001, 5, 20000);
	got = recv_n(b, 5, to_b, 3000, &wrong);
	check(got == 5, "learning: B gets A's first packets from the daemon", "got %d (+%d wrong source)", got, wrong);
	got = recv_n(a, 5, to_a, 3000, &wrong);
	check(got == 5, "learning: A gets B's first packets from the daemon", "got %d (+%d wrong source)", got, wrong);

	/* the rules are pushed on learning; wait until both are in the kernel */
	for (int i = 0; i < 50; i++) {
		k0 = blist(table, to_a, to_b);
		if (k0.rules >= 2)
			break;
		usleep(100000);
	}
	check(k0.rules == 2, "two rules in the kernel table after learning", "%d rules", k0.rules);
	check(ng("d7:command10:statisticse", 10000) == 0, "statistics before", NULL);
	user0 = bint("relayedpackets_user");

	in0 = udp_in();
	send_rtp(a, to_a, 0xaaaa0001, 200, 1000);
	send_rtp(b, to_b, 0xbbbb0001, 200, 1000);
	got = recv_n(b, 200, to_b, 3000, &wrong);
	check(got == 200 && !wrong, "kernel: B gets 200 packets from the daemon's port", "got %d (+%d wrong source)", got, wrong);
	got = recv_n(a, 200, to_a, 3000, &wrong);
	check(got == 200 && !wrong, "kernel: A gets 200 packets from the daemon's port", "got %d (+%d wrong source)", got, wrong);
	in1 = udp_in();
	/* the phones got 400; had the daemon's sockets received them too it would be 800 */
	check(in0 >= 0 && in1 - in0 == 400, "the daemon's sockets received none of the 400 (Udp InDatagrams +400: the phones only)", "%lld -> %lld", in0, in1);
	k1 = blist(table, to_a, to_b);
	check(k1.pk_a - k0.pk_a == 200, "blist: A->B rule counted the 200 packets", "%llu -> %llu", (unsigned long long)k0.pk_a, (unsigned long long)k1.pk_a);
	check(k1.pk_b - k0.pk_b == 200, "blist: B->A rule counted the 200 packets", "%llu -> %llu", (unsigned long long)k0.pk_b, (unsigned long long)k1.pk_b);

	sleep(2); /* the daemon reads blist once a second */
	check(ng("d7:command10:statisticse", 10000) == 0, "statistics after", NULL);
	user1 = bint("relayedpackets_user");
	check(user0 >= 0 && user1 == user0, "statistics: relayedpackets_user unchanged", "%lld -> %lld", user0, user1);
	check(bint("relayedpackets_kernel") >= 400, "statistics: relayedpackets_kernel counts the kernel's packets", "%lld", bint("relayedpackets_kernel"));
	check(ng("d7:call-id3:e2e7:command5:querye", 10000) == 0 && strstr(reply, "10:kernelized"), "query: streams kernelized", "%.300s", reply);

	/* block media from A: its rule leaves the kernel (TypeScript drops its packets), unblock brings it back */
	check(ng("d7:call-id3:e2e7:command11:block media8:from-tag1:Ae", 10000) == 0 && strstr(reply, "6:result2:ok"), "block media", "%.200s", reply);
	k1 = blist(table, to_a, to_b);
	check(k1.rules == 1 && k1.pk_b > 0, "block media withdraws A's rule only", "%d rules", k1.rules);
	send_rtp(a, to_a, 0xaaaa0001, 10, 1000);
	got = recv_n(b, 10, to_b, 1000, &wrong);
	check(got == 0, "blocked: B gets nothing from A", "got %d", got);
	check(ng("d7:call-id3:e2e7:command13:unblock media8:from-tag1:Ae", 10000) == 0 && strstr(reply, "6:result2:ok"), "unblock media", "%.200s", reply);
	k1 = blist(table, to_a, to_b);
	check(k1.rules == 2, "unblock media puts A's rule back", "%d rules", k1.rules);

	/* re-INVITE: A moves to a new port; A's learned rule is withdrawn, B->A now goes to the new port */
	{
		uint16_t pa2;
		int a2 = udp_bound(&pa2);
		snprintf(body, sizeof(body), "d7:call-id3:e2e7:command5:offer8:from-tag1:A3:sdp%zu:%se", strlen(sdp(pa2)), sdp(pa2));
		check(ng(body, 10000) == 0 && strstr(reply, "6:result2:ok"), "re-offer with a new port for A", "%.200s", reply);
		k1 = blist(table, to_a, to_b);
		check(k1.rules == 1 && k1.dst_b == pa2, "re-INVITE: A's rule withdrawn, B's rule sends to A's new port", "%d rules, B->%u (want %u)", k1.rules, k1.dst_b, pa2);
		send_rtp(b, to_b, 0xbbbb0001, 20, 1000);
		got = recv_n(a2, 20, to_a, 2000, &wrong);
		check(got == 20, "re-INVITE: A's new port gets B's packets", "got %d", got);
		close(a2);
	}

	check(ng("d7:call-id3:e2e7:command6:delete8:from-tag1:Ae", 10000) == 0 && strstr(reply, "6:result2:ok"), "delete", "%.200s", reply);
	usleep(300000);
	k1 = blist(table, to_a, to_b);
	check(k1.rules == 0, "delete withdraws the kernel rules", "%d rules left", k1.rules);
	return failures ? 1 : 0;
}
#endif
