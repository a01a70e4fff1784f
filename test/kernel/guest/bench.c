// SPDX-License-Identifier: GPL-2.0
/*
 * bench.c - "rtpe-test bench N": forwarded packets per second and CPU per
 * packet inside the VM (one vCPU: the whole path, sender syscall included,
 * runs on it), for
 *   user-relay   no kernel rule: recvmmsg at the local port, sendmmsg on
 *                (what a userspace relay costs at least)
 *   kernel-plain xt_RTPENGINE forwards plain RTP
 *   kernel-srtp  xt_RTPENGINE decrypts AES-CM-128/HMAC-SHA1-80 and re-encrypts
 * Reports; it is not a pass/fail test.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include "common.h"
#include "srtp-ref.h"

int bench_main(int n);

#define BATCH 32
#define TBL 1

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* busy (non-idle) CPU seconds of the whole machine, from /proc/stat */
static double busy(void)
{
	unsigned long long v[10] = { 0 };
	char buf[512];
	long hz = sysconf(_SC_CLK_TCK);

	if (file_read("/proc/stat", buf, sizeof(buf)) <= 0)
		return 0;
	sscanf(buf, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
	       &v[4], &v[5], &v[6], &v[7]);
	return (double)(v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / hz;
}

static int drain(int fd, struct mmsghdr *m, int relay_fd, const struct rtpe_addr *to)
{
	int got = recvmmsg(fd, m, BATCH, MSG_DONTWAIT, NULL), i;
	struct sockaddr_storage ss;
	socklen_t sl;

	if (got <= 0)
		return 0;
	if (relay_fd >= 0) {
		addr_to_sa(to, &ss, &sl);
		for (i = 0; i < got; i++) {
			m[i].msg_hdr.msg_name = &ss;
			m[i].msg_hdr.msg_namelen = sl;
			m[i].msg_hdr.msg_iov->iov_len = m[i].msg_len;
		}
		sendmmsg(relay_fd, m, got, 0);
		for (i = 0; i < got; i++) {
			m[i].msg_hdr.msg_name = NULL;
			m[i].msg_hdr.msg_namelen = 0;
			m[i].msg_hdr.msg_iov->iov_len = 2048;
		}
	}
	return got;
}

static void rule_stats(const char *mode)
{
	struct rtpe_addr local = mkaddr(AF_INET, "127.0.0.1", 44010);
	struct rtpe_blist_entry e;

	if (blist_find(TBL, &local, &e) == 0)
		printf("BENCH mode=%s rule: packets=%llu errors=%llu auth_failed=%llu to_user=%llu\n",
		       mode, (unsigned long long)e.stats.packets, (unsigned long long)e.stats.errors,
		       (unsigned long long)e.stats.auth_failed, (unsigned long long)e.stats.to_user);
}

static void run(const char *mode, int n, int relay, const uint8_t *pkts, size_t plen, size_t stride)
{
	struct rtpe_addr peer = mkaddr(AF_INET, "127.0.0.1", 44000);
	struct rtpe_addr local = mkaddr(AF_INET, "127.0.0.1", 44010);
	struct rtpe_addr osrc = mkaddr(AF_INET, "127.0.0.1", 44012);
	struct rtpe_addr dst = mkaddr(AF_INET, "127.0.0.1", 44014);
	int sp = udp_sock(&peer), sl = udp_sock(&local), so = udp_sock(&osrc), sd = udp_sock(&dst);
	static uint8_t rbuf[2][BATCH][2048];
	struct iovec siov[BATCH], riov[2][BATCH];
	struct mmsghdr sm[BATCH], rm[2][BATCH];
	struct sockaddr_storage ss;
	socklen_t sl_len;
	int sent = 0, recvd = 0, i, big = 4 << 20;
	double t0, b0, t, b;

	setsockopt(sd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big));
	setsockopt(sl, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big));
	addr_to_sa(&local, &ss, &sl_len);
	memset(sm, 0, sizeof(sm));
	memset(rm, 0, sizeof(rm));
	for (i = 0; i < BATCH; i++) {
		sm[i].msg_hdr.msg_name = &ss;
		sm[i].msg_hdr.msg_namelen = sl_len;
		sm[i].msg_hdr.msg_iov = &siov[i];
		sm[i].msg_hdr.msg_iovlen = 1;
		for (int k = 0; k < 2; k++) {
			riov[k][i].iov_base = rbuf[k][i];
			riov[k][i].iov_len = 2048;
			rm[k][i].msg_hdr.msg_iov = &riov[k][i];
			rm[k][i].msg_hdr.msg_iovlen = 1;
		}
	}
	t0 = now();
	b0 = busy();
	while (sent < n) {
		int c = n - sent < BATCH ? n - sent : BATCH;

		for (i = 0; i < c; i++) {
			siov[i].iov_base = (void *)(pkts + (size_t)((sent + i) % 1024) * stride);
			siov[i].iov_len = plen;
		}
		c = sendmmsg(sp, sm, c, 0);
		if (c <= 0)
			break;
		sent += c;
		if (relay)
			while (drain(sl, rm[0], so, &dst) > 0)
				;
		while ((i = drain(sd, rm[1], -1, NULL)) > 0)
			recvd += i;
	}
	for (int k = 0; k < 20 && recvd < sent; k++) {
		usleep(1000);
		if (relay)
			while (drain(sl, rm[0], so, &dst) > 0)
				;
		while ((i = drain(sd, rm[1], -1, NULL)) > 0)
			recvd += i;
	}
	t = now() - t0;
	b = busy() - b0;
	printf("BENCH mode=%s payload=%zu sent=%d forwarded=%d wall=%.3fs pps=%.0f cpu_per_pkt=%.0fns\n",
	       mode, plen, sent, recvd, t, recvd / t, recvd ? b * 1e9 / recvd : 0.0);
	fflush(stdout);
	close(sp);
	close(sl);
	close(so);
	close(sd);
}

int bench_main(int n)
{
	static uint8_t plain[1024][200], srtp[1024][232];
	struct rtpe_rule r;
	struct ref_ctx rc;
	uint8_t pl[160];
	int fd = ctl_open(TBL), i;

	if (fd < 0) {
		perror("control");
		return 1;
	}
	memset(pl, 0x42, sizeof(pl));
	memset(&r, 0, sizeof(r));
	r.local = mkaddr(AF_INET, "127.0.0.1", 44010);
	r.out.src = mkaddr(AF_INET, "127.0.0.1", 44012);
	r.out.dst = mkaddr(AF_INET, "127.0.0.1", 44014);
	r.flags = RTPE_RF_RTP;
	r.decrypt.cipher = RTPE_CIPHER_AES_CM_128;
	r.decrypt.auth = RTPE_AUTH_HMAC_SHA1;
	r.decrypt.rtp_tag_len = r.decrypt.rtcp_tag_len = 10;
	r.decrypt.key_len = 16;
	r.decrypt.salt_len = 14;
	for (i = 0; i < 16; i++)
		r.decrypt.master_key[i] = i;
	r.out.encrypt = r.decrypt;
	r.out.encrypt.master_key[0] = 99;
	ref_init(&rc, &r.decrypt);
	for (i = 0; i < 1024; i++) {
		size_t len = rtp_make(plain[i], 0, i, 160 * i, 0x1234, pl, 160);

		memcpy(srtp[i], plain[i], len);
		ref_protect_rtp(&rc, srtp[i], len, 0);
	}

	ctl_flush(fd);
	run("user-relay", n, 1, plain[0], 172, sizeof(plain[0]));
	{
		struct rtpe_rule p = r;

		p.decrypt.cipher = RTPE_CIPHER_NONE;
		p.out.encrypt.cipher = RTPE_CIPHER_NONE;
		ctl_rule(fd, RTPE_CMD_ADD, &p);
		run("kernel-plain", n, 0, plain[0], 172, sizeof(plain[0]));
		rule_stats("kernel-plain");
		ctl_flush(fd);
	}
	ctl_rule(fd, RTPE_CMD_ADD, &r);
	run("kernel-srtp", n, 0, srtp[0], 182, sizeof(srtp[0]));
	rule_stats("kernel-srtp");
	ctl_flush(fd);
	close(fd);
	return 0;
}
