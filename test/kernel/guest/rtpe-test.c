// SPDX-License-Identifier: GPL-2.0
/*
 * rtpe-test.c - runs inside the test VM against xt_RTPENGINE.
 *
 *   rtpe-test tables              table add/del, del refused while held
 *   rtpe-test control             rule add/update/delete, message validation
 *   rtpe-test forward v4|v6|v4v6 TAG  forwarding through table 1 (iptables rule
 *                                 -j RTPENGINE --id 1 must be installed)
 *   rtpe-test fallback v4|v6      rule installed, iptables rule absent:
 *                                 packets reach the local socket
 *   rtpe-test fuzz                malformed packets against RTP/SRTP rules
 *   rtpe-test churn               rule updates and readers during traffic
 *   rtpe-test srtp                SRTP/SRTCP (see srtp-test.c)
 *   rtpe-test asuser UID ok|denied  /proc access as an unprivileged user
 *   rtpe-test bench N             throughput report (see bench.c)
 *
 * Prints "CHECK PASS|FAIL name" lines; exit status is the failure count.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include "common.h"

#define TBL 1

int srtp_tests(void);
int bench_main(int n);

static const char *fam_ip(int v6)
{
	return v6 ? "::1" : "127.0.0.1";
}

static int test_tables(void)
{
	char buf[4096];
	int fd, err;

	err = file_write("/proc/rtpengine/control", "add 5");
	check(err == 0, "tables: add 5", "err=%d", err);
	err = file_write("/proc/rtpengine/control", "add 5");
	check(err == -EEXIST, "tables: add 5 twice refused", "err=%d", err);
	err = file_write("/proc/rtpengine/control", "add 64");
	check(err == -EINVAL, "tables: add 64 refused", "err=%d", err);
	err = file_write("/proc/rtpengine/control", "frobnicate 1");
	check(err == -EINVAL, "tables: bad command refused", "err=%d", err);
	file_read("/proc/rtpengine/list", buf, sizeof(buf));
	check(strstr(buf, "5\n") != NULL, "tables: list shows 5", "list=%s", buf);
	check(access("/proc/rtpengine/5/blist", R_OK) == 0 &&
	      access("/proc/rtpengine/5/status", R_OK) == 0 &&
	      access("/proc/rtpengine/5/list", R_OK) == 0, "tables: 5/{blist,list,status} exist", " ");

	fd = ctl_open(5);
	check(fd >= 0, "tables: open 5/control", "errno=%d", errno);
	err = ctl_open(5);
	check(err < 0 && errno == EBUSY, "tables: second open of 5/control refused", "ret=%d", err);
	if (err >= 0)
		close(err);
	file_read("/proc/rtpengine/5/status", buf, sizeof(buf));
	check(strstr(buf, "control held") != NULL, "tables: status says held", "%s", buf);
	err = file_write("/proc/rtpengine/control", "del 5");
	check(err == -EBUSY, "tables: del refused while control held", "err=%d", err);
	close(fd);
	err = file_write("/proc/rtpengine/control", "del 5");
	check(err == 0, "tables: del after close", "err=%d", err);
	check(access("/proc/rtpengine/5", F_OK) != 0, "tables: 5/ gone", " ");
	err = file_write("/proc/rtpengine/control", "del 5");
	check(err == -ENOENT, "tables: del missing table", "err=%d", err);
	file_read("/proc/rtpengine/list", buf, sizeof(buf));
	check(strstr(buf, "5\n") == NULL, "tables: list without 5", "list=%s", buf);
	err = file_write("/proc/rtpengine/control", "add 63");
	check(err == 0, "tables: add 63", "err=%d", err);
	err = file_write("/proc/rtpengine/control", "del 63");
	check(err == 0, "tables: del 63", "err=%d", err);
	return 0;
}

static struct rtpe_rule plain_rule(int v6in, int v6out, uint16_t lport, uint16_t sport, uint16_t dport)
{
	struct rtpe_rule r;

	memset(&r, 0, sizeof(r));
	r.local = mkaddr(v6in ? AF_INET6 : AF_INET, fam_ip(v6in), lport);
	r.out.src = mkaddr(v6out ? AF_INET6 : AF_INET, fam_ip(v6out), sport);
	r.out.dst = mkaddr(v6out ? AF_INET6 : AF_INET, fam_ip(v6out), dport);
	r.out.tos = 0xb8;
	r.cookie = 0x1122334455667788ull;
	return r;
}

static int test_control(void)
{
	struct rtpe_rule r = plain_rule(0, 0, 31000, 31002, 31004), bad;
	struct rtpe_msg_rule m;
	struct rtpe_blist_entry e;
	int fd, err;

	fd = ctl_open(TBL);
	check(fd >= 0, "control: open", "errno=%d", errno);
	if (fd < 0)
		return 1;
	check(ctl_rule(fd, RTPE_CMD_ADD, &r) == 0, "control: add rule", " ");
	err = ctl_rule(fd, RTPE_CMD_ADD, &r);
	check(err == -EEXIST, "control: add twice -> EEXIST", "err=%d", err);
	g_bf = blist_find(TBL, &r.local, &e);
	check(g_bf == 0 && e.rule.cookie == r.cookie &&
	      e.rule.out.tos == 0xb8 && e.rule.out.dst.port == 31004,
	      "control: blist has rule", " ");
	r.out.dst.port = 31006;
	check(ctl_rule(fd, RTPE_CMD_UPDATE, &r) == 0, "control: update rule", " ");
	g_bf = blist_find(TBL, &r.local, &e);
	check(g_bf == 0 && e.rule.out.dst.port == 31006,
	      "control: blist shows update", "dst=%u", e.rule.out.dst.port);
	bad = r;
	bad.local.port = 31100;
	err = ctl_rule(fd, RTPE_CMD_UPDATE, &bad);
	check(err == -ENOENT, "control: update missing -> ENOENT", "err=%d", err);
	bad = r;
	bad.flags = 0x8000;
	check(ctl_rule(fd, RTPE_CMD_ADD, &bad) == -EINVAL, "control: unknown flag -> EINVAL", " ");
	bad = r;
	bad.local.port = 31102;
	bad.out.dst.family = RTPE_AF_INET6;
	check(ctl_rule(fd, RTPE_CMD_ADD, &bad) == -EINVAL, "control: mixed out families -> EINVAL", " ");
	bad = r;
	bad.local.port = 31104;
	bad.num_pt = 33;
	check(ctl_rule(fd, RTPE_CMD_ADD, &bad) == -EINVAL, "control: num_pt 33 -> EINVAL", " ");
	bad = r;
	bad.local.port = 31106;
	bad.local.addr[7] = 1;	/* garbage after an IPv4 address */
	check(ctl_rule(fd, RTPE_CMD_ADD, &bad) == -EINVAL, "control: dirty v4 addr -> EINVAL", " ");

	memset(&m, 0, sizeof(m));
	m.hdr.magic = 0x12345678;
	m.hdr.version = RTPE_UAPI_VERSION;
	m.hdr.cmd = RTPE_CMD_ADD;
	m.hdr.len = sizeof(m);
	m.rule = r;
	check(ctl_raw(fd, &m, sizeof(m)) == -EINVAL, "control: bad magic -> EINVAL", " ");
	m.hdr.magic = RTPE_MSG_MAGIC;
	m.hdr.len = sizeof(m) - 1;
	check(ctl_raw(fd, &m, sizeof(m)) == -EINVAL, "control: len mismatch -> EINVAL", " ");
	m.hdr.len = sizeof(m);
	m.hdr.version = 99;
	check(ctl_raw(fd, &m, sizeof(m)) == -EPROTO, "control: bad version -> EPROTO", " ");
	check(ctl_raw(fd, &m, 3) == -EINVAL, "control: short write -> EINVAL", " ");
	m.hdr.version = RTPE_UAPI_VERSION;
	m.hdr.cmd = 77;
	check(ctl_raw(fd, &m, sizeof(m)) == -EOPNOTSUPP, "control: unknown cmd -> EOPNOTSUPP", " ");

	check(ctl_del(fd, &r.local) == 0, "control: delete rule", " ");
	g_bf = blist_find(TBL, &r.local, &e);
	check(g_bf != 0, "control: blist without rule", " ");
	err = ctl_del(fd, &r.local);
	check(err == -ENOENT, "control: delete missing -> ENOENT", "err=%d", err);

	/* many rules, then flush */
	{
		struct rtpe_blist_entry *all;
		int i, n, ok = 1;

		for (i = 0; i < 500; i++) {
			struct rtpe_rule x = plain_rule(i & 1, 0, 32000 + i, 31002, 31004);

			ok &= ctl_rule(fd, RTPE_CMD_ADD, &x) == 0;
		}
		n = blist_read(TBL, &all);
		check(ok && n == 500, "control: 500 rules in blist", "n=%d", n);
		if (n > 0)
			free(all);
		check(ctl_flush(fd) == 0, "control: flush", " ");
		n = blist_read(TBL, &all);
		check(n == 0, "control: blist empty after flush", "n=%d", n);
		if (n > 0)
			free(all);
	}
	close(fd);
	return 0;
}

/* ports: peer 40000 -> local 40010 ; out src 40012 -> dst 40014 */
static int test_forward(const char *mode, const char *tag)
{
	int v6in = !strcmp(mode, "v6"), v6out = strcmp(mode, "v4") != 0;
	int fi = v6in ? AF_INET6 : AF_INET, fo = v6out ? AF_INET6 : AF_INET;
	struct rtpe_addr peer = mkaddr(fi, fam_ip(v6in), 40000);
	struct rtpe_addr peer2 = mkaddr(fi, fam_ip(v6in), 40001);
	struct rtpe_addr local = mkaddr(fi, fam_ip(v6in), 40010);
	struct rtpe_addr other = mkaddr(fi, fam_ip(v6in), 40020);
	struct rtpe_addr osrc = mkaddr(fo, fam_ip(v6out), 40012);
	struct rtpe_addr odst = mkaddr(fo, fam_ip(v6out), 40014);
	struct rtpe_rule r = plain_rule(v6in, v6out, 40010, 40012, 40014);
	struct rtpe_blist_entry e;
	uint8_t pkt[200], got[2048], pl[160];
	struct rtpe_addr from;
	int sp, sp2, sl, so, sd, sother, fd, i, n, tos, ok, bad, cnt;
	char name[128], buf[8192], path[64];
	const int N = 20;

#define NAME(s) (snprintf(name, sizeof(name), "forward %s %s: %s", tag, mode, s), name)
	sp = udp_sock(&peer);
	sp2 = udp_sock(&peer2);
	sl = udp_sock(&local);
	so = udp_sock(&osrc);
	sd = udp_sock(&odst);
	sother = udp_sock(&other);
	for (i = 0; i < (int)sizeof(pl); i++)
		pl[i] = (uint8_t)(i * 7);

	fd = ctl_open(TBL);
	check(fd >= 0, NAME("open control"), "errno=%d", errno);
	if (fd < 0)
		return 1;
	ctl_flush(fd);
	r.flags = RTPE_RF_RTP;
	check(ctl_rule(fd, RTPE_CMD_ADD, &r) == 0, NAME("add rule"), " ");

	/* 1. plain forwarding: rewritten source, destination, TOS; counted */
	ok = 0;
	bad = 0;
	for (i = 0; i < N; i++) {
		size_t len = rtp_make(pkt, 0, 1000 + i, 160 * i, 0xdeadbeef, pl, 160);

		udp_send(sp, &local, pkt, len);
		n = udp_recv(sd, 1000, got, sizeof(got), &from, &tos);
		if (n == (int)len && !memcmp(got, pkt, len) && !memcmp(&from, &osrc, sizeof(from)) &&
		    tos == 0xb8)
			ok++;
		else if (!bad++)
			printf("  packet %d: n=%d from port %u tos %d\n", i, n, from.port, tos);
	}
	check(ok == N, NAME("forwarded with new src/dst/tos"), "%d/%d", ok, N);
	n = udp_recv(sl, 100, got, sizeof(got), NULL, NULL);
	check(n < 0, NAME("local socket saw nothing"), "n=%d", n);
	g_bf = blist_find(TBL, &local, &e);
	check(g_bf == 0 && e.stats.packets == N &&
	      e.stats.bytes == (uint64_t)N * 172 && e.stats.last_ms > 1000000000000ull &&
	      e.stats.errors == 0,
	      NAME("blist counters"), "packets=%llu bytes=%llu last_ms=%llu errors=%llu",
	      (unsigned long long)e.stats.packets, (unsigned long long)e.stats.bytes,
	      (unsigned long long)e.stats.last_ms, (unsigned long long)e.stats.errors);
	check((e.ssrc[0].flags & RTPE_SSRC_USED) && e.ssrc[0].ssrc == 0xdeadbeef &&
	      e.ssrc[0].packets == N && e.ssrc[0].last_seq == 1000 + N - 1,
	      NAME("blist per-SSRC counters"), "ssrc=%08x packets=%llu seq=%u",
	      e.ssrc[0].ssrc, (unsigned long long)e.ssrc[0].packets, e.ssrc[0].last_seq);
	snprintf(path, sizeof(path), "/proc/rtpengine/%u/list", TBL);
	file_read(path, buf, sizeof(buf));
	snprintf((char *)got, sizeof(got), "packets %d bytes %d ", N, N * 172);
	check(strstr(buf, (char *)got) && strstr(buf, "ssrc 0xdeadbeef"), NAME("list counters"),
	      "%s", buf);

	/* 2. a port without a rule: the socket gets it */
	udp_send(sp, &other, "hello", 5);
	n = udp_recv(sother, 1000, got, sizeof(got), &from, NULL);
	check(n == 5 && from.port == 40000, NAME("non-matching packet reaches its socket"), "n=%d", n);

	/* 3. non-RTP on an RTP rule goes to user space (e.g. STUN) */
	udp_send(sp, &local, "\x00\x01\x00\x00 stun-ish", 14);
	n = udp_recv(sl, 1000, got, sizeof(got), NULL, NULL);
	check(n == 14, NAME("non-RTP packet continues to local socket"), "n=%d", n);

	/* 4. payload-type filter */
	r.num_pt = 2;
	r.pt[0] = 0;
	r.pt[1] = 8;
	check(ctl_rule(fd, RTPE_CMD_UPDATE, &r) == 0, NAME("update with PT filter"), " ");
	n = (int)rtp_make(pkt, 96, 2000, 0, 0xdeadbeef, pl, 20);
	udp_send(sp, &local, pkt, n);
	cnt = udp_recv(sl, 1000, got, sizeof(got), NULL, NULL);
	check(cnt == n && udp_recv(sd, 100, got, sizeof(got), NULL, NULL) < 0,
	      NAME("PT 96 not in filter: to local socket"), "n=%d", cnt);
	n = (int)rtp_make(pkt, 8, 2001, 0, 0xdeadbeef, pl, 20);
	udp_send(sp, &local, pkt, n);
	cnt = udp_recv(sd, 1000, got, sizeof(got), NULL, NULL);
	check(cnt == n, NAME("PT 8 in filter: forwarded"), "n=%d", cnt);
	g_bf = blist_find(TBL, &local, &e);
	check(g_bf == 0 && e.stats.packets == N + 1 && e.stats.to_user == 2,
	      NAME("update kept counters, to_user counted"), "packets=%llu to_user=%llu",
	      (unsigned long long)e.stats.packets, (unsigned long long)e.stats.to_user);

	/* 5. expected source */
	r.num_pt = 0;
	r.flags |= RTPE_RF_EXPECT_SRC;
	r.expect_src = peer2;
	check(ctl_rule(fd, RTPE_CMD_UPDATE, &r) == 0, NAME("update with expected source"), " ");
	n = (int)rtp_make(pkt, 0, 3000, 0, 0xdeadbeef, pl, 40);
	udp_send(sp, &local, pkt, n);
	cnt = udp_recv(sl, 1000, got, sizeof(got), NULL, NULL);
	check(cnt == n && udp_recv(sd, 100, got, sizeof(got), NULL, NULL) < 0,
	      NAME("wrong source: not forwarded, reaches local socket"), "n=%d", cnt);
	udp_send(sp2, &local, pkt, n);
	cnt = udp_recv(sd, 1000, got, sizeof(got), NULL, NULL);
	check(cnt == n, NAME("expected source: forwarded"), "n=%d", cnt);
	r.expect_src.port = 0;	/* address only */
	check(ctl_rule(fd, RTPE_CMD_UPDATE, &r) == 0 && udp_send(sp, &local, pkt, n) == 0 &&
	      udp_recv(sd, 1000, got, sizeof(got), NULL, NULL) == n,
	      NAME("expected address, any port: forwarded"), " ");

	/* 6. rtcp-mux demux: RTCP on the RTP port goes to the RTCP destination */
	{
		struct rtpe_addr rsrc = mkaddr(fo, fam_ip(v6out), 40016);
		struct rtpe_addr rdst = mkaddr(fo, fam_ip(v6out), 40018);
		int srd = udp_sock(&rdst);
		uint8_t rtcp[28] = { 0x80, 200, 0, 6, 0xde, 0xad, 0xbe, 0xef };

		r.flags = RTPE_RF_RTP | RTPE_RF_MUX_RTCP | RTPE_RF_RTCP_DEMUX;
		r.rtcp_src = rsrc;
		r.rtcp_dst = rdst;
		check(ctl_rule(fd, RTPE_CMD_UPDATE, &r) == 0, NAME("update with rtcp demux"), " ");
		udp_send(sp, &local, rtcp, sizeof(rtcp));
		cnt = udp_recv(srd, 1000, got, sizeof(got), &from, NULL);
		check(cnt == (int)sizeof(rtcp) && from.port == 40016 && !memcmp(got, rtcp, sizeof(rtcp)),
		      NAME("RTCP demuxed to rtcp_dst from rtcp_src"), "n=%d port=%u", cnt, from.port);
		udp_send(sp, &local, pkt, n);
		cnt = udp_recv(sd, 1000, got, sizeof(got), NULL, NULL);
		check(cnt == n, NAME("RTP still to dst with demux"), "n=%d", cnt);
		r.flags = RTPE_RF_RTP | RTPE_RF_MUX_RTCP | RTPE_RF_RTCP_TO_USER;
		check(ctl_rule(fd, RTPE_CMD_UPDATE, &r) == 0, NAME("update with rtcp to user"), " ");
		udp_send(sp, &local, rtcp, sizeof(rtcp));
		cnt = udp_recv(sl, 1000, got, sizeof(got), NULL, NULL);
		check(cnt == (int)sizeof(rtcp), NAME("muxed RTCP left to user space"), "n=%d", cnt);
		close(srd);
	}

	/* 7. opaque UDP (no RTP flag): anything is forwarded */
	r.flags = 0;
	check(ctl_rule(fd, RTPE_CMD_UPDATE, &r) == 0, NAME("update to opaque UDP"), " ");
	udp_send(sp, &local, "x", 1);
	cnt = udp_recv(sd, 1000, got, sizeof(got), NULL, NULL);
	check(cnt == 1 && got[0] == 'x', NAME("1-byte datagram forwarded"), "n=%d", cnt);
	udp_send(sp, &local, "", 0);
	cnt = udp_recv(sd, 1000, got, sizeof(got), NULL, NULL);
	check(cnt == 0, NAME("empty datagram forwarded"), "n=%d", cnt);

	/* 8. delete: back to the local socket */
	check(ctl_del(fd, &local) == 0, NAME("delete rule"), " ");
	udp_send(sp, &local, pkt, n);
	cnt = udp_recv(sl, 1000, got, sizeof(got), NULL, NULL);
	check(cnt == n && udp_recv(sd, 100, got, sizeof(got), NULL, NULL) < 0,
	      NAME("after delete: local socket gets it"), "n=%d", cnt);

	close(fd);
	close(sp);
	close(sp2);
	close(sl);
	close(so);
	close(sd);
	close(sother);
	return 0;
#undef NAME
}

static int test_fallback(const char *mode)
{
	int v6 = !strcmp(mode, "v6"), f = v6 ? AF_INET6 : AF_INET;
	struct rtpe_addr peer = mkaddr(f, fam_ip(v6), 41000);
	struct rtpe_addr local = mkaddr(f, fam_ip(v6), 41010);
	struct rtpe_addr odst = mkaddr(f, fam_ip(v6), 41014);
	struct rtpe_rule r = plain_rule(v6, v6, 41010, 41012, 41014);
	int sp = udp_sock(&peer), sl = udp_sock(&local), sd = udp_sock(&odst), fd, n;
	char name[96];

	fd = ctl_open(TBL);
	ctl_flush(fd);
	check(ctl_rule(fd, RTPE_CMD_ADD, &r) == 0, "fallback: add rule", " ");
	udp_send(sp, &local, "fallback", 8);
	n = udp_recv(sl, 1000, name, sizeof(name), NULL, NULL);
	snprintf(name, sizeof(name), "fallback %s: no iptables rule -> local socket", mode);
	check(n == 8 && udp_recv(sd, 100, name + 60, 30, NULL, NULL) < 0, name, "n=%d", n);
	ctl_flush(fd);
	close(fd);
	close(sp);
	close(sl);
	close(sd);
	return 0;
}

/* malformed traffic at RTP/SRTP rules: must never crash, leak or read out of bounds */
static void fuzz_params(struct rtpe_srtp *p, uint8_t cipher, uint8_t mki_len)
{
	int gcm = cipher == RTPE_CIPHER_AES_GCM_128 || cipher == RTPE_CIPHER_AES_GCM_256;
	unsigned int i;

	memset(p, 0, sizeof(*p));
	p->cipher = cipher;
	p->auth = gcm ? RTPE_AUTH_NONE : RTPE_AUTH_HMAC_SHA1;
	p->rtp_tag_len = gcm ? 0 : 4;
	p->rtcp_tag_len = gcm ? 0 : 10;
	p->key_len = cipher == RTPE_CIPHER_AES_GCM_256 ? 32 : 16;
	p->salt_len = gcm ? 12 : 14;
	p->mki_len = mki_len;
	for (i = 0; i < 32; i++)
		p->master_key[i] = (uint8_t)i;
}

static void fuzz_one(int fd, const char *what, const struct rtpe_rule *r, int count)
{
	struct rtpe_addr peer = mkaddr(AF_INET, "127.0.0.1", 42000);
	int sp = udp_sock(&peer), sl = udp_sock(&r->local), sd = udp_sock(&r->out.dst);
	int srd = udp_sock(&r->rtcp_dst), i, j, len;
	uint8_t pkt[1500];
	unsigned int seed = 12345;
	struct rtpe_blist_entry e;
	char name[96];

	ctl_flush(fd);
	snprintf(name, sizeof(name), "fuzz %s: add rule", what);
	check(ctl_rule(fd, RTPE_CMD_ADD, r) == 0, name, " ");
	for (i = 0; i < count; i++) {
		len = rand_r(&seed) % 64;
		if (i % 10 == 0)
			len = rand_r(&seed) % 1400;
		for (j = 0; j < len; j++)
			pkt[j] = (uint8_t)rand_r(&seed);
		if (len > 0 && i % 3 == 0)
			pkt[0] = 0x80 | (pkt[0] & 0x3f);	/* version 2, random cc/x */
		if (len > 1 && i % 6 == 0)
			pkt[1] &= 0x80;				/* PT 0 */
		if (len > 1 && i % 12 == 1)
			pkt[1] = 0x80 | (64 + pkt[1] % 32);	/* RTCP on the mux port */
		udp_send(sp, &r->local, pkt, len);
		if (i % 50 == 0) {
			udp_drain(sl);
			udp_drain(sd);
			udp_drain(srd);
		}
	}
	usleep(100000);
	udp_drain(sl);
	udp_drain(sd);
	udp_drain(srd);
	g_bf = blist_find(TBL, &r->local, &e);
	snprintf(name, sizeof(name), "fuzz %s: %d malformed datagrams survived", what, count);
	check(g_bf == 0 && e.stats.packets + e.stats.to_user + e.stats.errors + e.stats.auth_failed > 0,
	      name, "packets=%llu to_user=%llu errors=%llu auth_failed=%llu",
	      (unsigned long long)e.stats.packets, (unsigned long long)e.stats.to_user,
	      (unsigned long long)e.stats.errors, (unsigned long long)e.stats.auth_failed);
	ctl_flush(fd);
	close(sp);
	close(sl);
	close(sd);
	close(srd);
}

/* random and half-valid control messages: only errors or valid rules may result */
static void fuzz_control(int fd)
{
	unsigned int seed = 777, i, j, accepted = 0, rejected = 0, other = 0;
	uint8_t buf[512];
	struct rtpe_msg_hdr *h = (struct rtpe_msg_hdr *)buf;
	struct rtpe_msg_rule *m = (struct rtpe_msg_rule *)buf;
	struct rtpe_blist_entry *all;
	int err, n;

	for (i = 0; i < 3000; i++) {
		size_t len = rand_r(&seed) % sizeof(buf);

		for (j = 0; j < sizeof(buf); j++)
			buf[j] = (uint8_t)rand_r(&seed);
		if (i % 2) {
			/* valid header, random body, sometimes sane addresses */
			len = i % 4 == 1 ? sizeof(*m) : (i % 8 == 3 ? sizeof(struct rtpe_msg_del) : len);
			h->magic = RTPE_MSG_MAGIC;
			h->version = RTPE_UAPI_VERSION;
			h->cmd = 1 + rand_r(&seed) % 4;
			h->len = (uint32_t)len;
			h->_reserved = 0;
			if (len == sizeof(*m) && i % 3) {
				struct rtpe_rule *r = &m->rule;
				static const uint8_t tags[] = { 0, 4, 10, 7 }, keys[] = { 16, 24, 32, 20 };
				struct rtpe_srtp *sp[2] = { &r->decrypt, &r->out.encrypt };
				int k;

				memset(r, 0, sizeof(*r));
				r->local = mkaddr(AF_INET, "127.0.0.1", 46000 + i % 200);
				r->out.src = mkaddr(AF_INET, "127.0.0.1", 46500);
				r->out.dst = mkaddr(AF_INET, "127.0.0.1", 46502);
				r->rtcp_src = mkaddr(AF_INET, "127.0.0.1", 46504);
				r->rtcp_dst = mkaddr(AF_INET, "127.0.0.1", 46506);
				r->flags = rand_r(&seed) & RTPE_RF_ALL;
				r->num_pt = rand_r(&seed) % 34;
				for (j = 0; j < RTPE_MAX_PT; j++)
					r->pt[j] = rand_r(&seed) % 130;
				r->out.tos = rand_r(&seed);
				r->num_ssrc = rand_r(&seed) % 5;
				if (rand_r(&seed) % 4)
					r->flags &= ~(RTPE_RF_RTCP | RTPE_RF_EXPECT_SRC);
				if (r->flags & RTPE_RF_RTCP)
					r->flags &= ~(RTPE_RF_RTP | RTPE_RF_MUX_RTCP);
				if (rand_r(&seed) % 2)
					r->num_pt %= 8;
				for (k = 0; k < 2; k++) {
					unsigned int c = rand_r(&seed) % 9, gcm = c == 6 || c == 7;

					if (rand_r(&seed) % 4 == 0)
						continue;	/* cipher NONE */
					sp[k]->cipher = c;
					sp[k]->auth = gcm ? 0 : rand_r(&seed) % 3;
					sp[k]->rtp_tag_len = tags[rand_r(&seed) % 4];
					sp[k]->rtcp_tag_len = tags[rand_r(&seed) % 4];
					sp[k]->key_len = c == 3 ? 24 : (c == 4 || c == 7) ? 32 : 16;
					sp[k]->salt_len = gcm ? 12 : 14;
					if (rand_r(&seed) % 8 == 0) {
						sp[k]->key_len = keys[rand_r(&seed) % 4];
						sp[k]->salt_len = 12 + rand_r(&seed) % 3;
					}
					sp[k]->mki_len = rand_r(&seed) % 6;
					sp[k]->flags = rand_r(&seed) % 8;
				}
				if ((sp[0]->cipher || sp[1]->cipher) && !(r->flags & RTPE_RF_RTCP))
					r->flags |= RTPE_RF_RTP;
				h->cmd = rand_r(&seed) % 4 ? RTPE_CMD_ADD : RTPE_CMD_UPDATE;
			}
		}
		err = ctl_raw(fd, buf, len);
		if (!err)
			accepted++;
		else if (err == -EINVAL || err == -EEXIST || err == -ENOENT || err == -EPROTO ||
			 err == -EOPNOTSUPP)
			rejected++;
		else
			other++;
	}
	/* and traffic at whatever got installed */
	{
		struct rtpe_addr peer = mkaddr(AF_INET, "127.0.0.1", 46600), to;
		int sp = udp_sock(&peer);

		for (i = 0; i < 2500; i++) {
			size_t plen = rand_r(&seed) % 300;

			for (j = 0; j < plen; j++)
				buf[j] = (uint8_t)rand_r(&seed);
			if (plen > 1 && i % 2)
				buf[0] = 0x80 | (buf[0] & 0x3f);
			to = mkaddr(AF_INET, "127.0.0.1", 46000 + rand_r(&seed) % 200);
			udp_send(sp, &to, buf, plen);
		}
		close(sp);
	}
	n = blist_read(TBL, &all);
	check(other == 0 && n >= 0, "fuzz control: 3000 random messages, only clean errors",
	      "accepted=%u rejected=%u other=%u rules=%d", accepted, rejected, other, n);
	if (n > 0)
		free(all);
	ctl_flush(fd);
}

static int test_fuzz(void)
{
	struct rtpe_rule r = plain_rule(0, 0, 42010, 42012, 42014);
	int fd = ctl_open(TBL);

	check(fd >= 0, "fuzz: open control", " ");
	if (fd < 0)
		return 1;
	r.flags = RTPE_RF_RTP | RTPE_RF_MUX_RTCP | RTPE_RF_RTCP_DEMUX;
	r.rtcp_src = mkaddr(AF_INET, "127.0.0.1", 42016);
	r.rtcp_dst = mkaddr(AF_INET, "127.0.0.1", 42018);
	r.num_pt = 1;
	r.pt[0] = 0;
	fuzz_one(fd, "plain RTP+mux", &r, 2000);
	r.num_pt = 0;
	fuzz_params(&r.decrypt, RTPE_CIPHER_AES_CM_128, 4);
	fuzz_params(&r.out.encrypt, RTPE_CIPHER_AES_F8_128, 0);
	fuzz_one(fd, "AES-CM in, F8 out, MKI", &r, 2000);
	fuzz_params(&r.decrypt, RTPE_CIPHER_AES_GCM_128, 0);
	fuzz_params(&r.out.encrypt, RTPE_CIPHER_AES_GCM_256, 2);
	fuzz_one(fd, "GCM in, GCM out", &r, 2000);
	r.flags = RTPE_RF_RTCP;
	fuzz_params(&r.decrypt, RTPE_CIPHER_NULL, 0);
	fuzz_params(&r.out.encrypt, RTPE_CIPHER_AES_CM_128, 0);
	fuzz_one(fd, "SRTCP NULL in, AES-CM out", &r, 2000);
	fuzz_control(fd);
	close(fd);
	return 0;
}

/*
 * rules replaced, deleted and re-added (plain <-> SRTP) by one process, and
 * blist/list read by another, while a third sends: exercises the RCU paths
 */
static int test_churn(void)
{
	struct rtpe_addr peer = mkaddr(AF_INET, "127.0.0.1", 45000);
	struct rtpe_rule r = plain_rule(0, 0, 45010, 45012, 45014), s;
	int sp = udp_sock(&peer), sl = udp_sock(&r.local), sd = udp_sock(&r.out.dst);
	int fd = ctl_open(TBL), i, st, errs = 0;
	pid_t upd, rd;
	uint8_t pkt[200], pl[100];

	check(fd >= 0, "churn: open control", " ");
	if (fd < 0)
		return 1;
	ctl_flush(fd);
	r.flags = RTPE_RF_RTP;
	s = r;
	fuzz_params(&s.decrypt, RTPE_CIPHER_AES_CM_128, 0);
	fuzz_params(&s.out.encrypt, RTPE_CIPHER_AES_GCM_128, 0);
	ctl_rule(fd, RTPE_CMD_ADD, &r);
	memset(pl, 7, sizeof(pl));
	upd = fork();
	if (upd == 0) {
		for (i = 0; i < 1500; i++) {
			switch (i % 4) {
			case 0: errs += ctl_rule(fd, RTPE_CMD_UPDATE, &s) != 0; break;
			case 1: errs += ctl_rule(fd, RTPE_CMD_UPDATE, &r) != 0; break;
			case 2: errs += ctl_del(fd, &r.local) != 0; break;
			case 3: errs += ctl_rule(fd, RTPE_CMD_ADD, i & 4 ? &s : &r) != 0; break;
			}
		}
		_exit(errs > 99 ? 99 : errs);
	}
	rd = fork();
	if (rd == 0) {
		char buf[65536];
		struct rtpe_blist_entry *all;

		for (i = 0; i < 300; i++) {
			int n = blist_read(TBL, &all);

			if (n > 0)
				free(all);
			file_read("/proc/rtpengine/1/list", buf, sizeof(buf));
		}
		_exit(0);
	}
	for (i = 0; i < 6000; i++) {
		size_t len = rtp_make(pkt, 0, i, 0, 0xabcdef01, pl, sizeof(pl));

		udp_send(sp, &r.local, pkt, len);
		if (i % 32 == 0) {
			udp_drain(sl);
			udp_drain(sd);
		}
	}
	waitpid(upd, &st, 0);
	check(WIFEXITED(st) && WEXITSTATUS(st) == 0, "churn: 1500 update/del/add during traffic",
	      "status=%d", st);
	waitpid(rd, &st, 0);
	check(WIFEXITED(st) && WEXITSTATUS(st) == 0, "churn: concurrent blist/list readers", " ");
	ctl_flush(fd);
	close(fd);
	close(sp);
	close(sl);
	close(sd);
	return 0;
}

/* a table deleted while a reader holds its blist open: the reader gets EIO, no crash */
static int test_del_open_reader(void)
{
	struct rtpe_rule r = plain_rule(0, 0, 45110, 45112, 45114);
	char buf[64];
	int fd, bfd, err;
	ssize_t n;

	err = file_write("/proc/rtpengine/control", "add 9");
	fd = ctl_open(9);
	check(err == 0 && fd >= 0 && ctl_rule(fd, RTPE_CMD_ADD, &r) == 0, "del-open: table 9 with a rule",
	      " ");
	bfd = open("/proc/rtpengine/9/blist", O_RDONLY);
	close(fd);
	err = file_write("/proc/rtpengine/control", "del 9");
	check(err == 0, "del-open: del while blist open", "err=%d", err);
	n = read(bfd, buf, sizeof(buf));
	check(n < 0 && errno == EIO, "del-open: read after del -> EIO", "n=%zd errno=%d", n, errno);
	close(bfd);
	return 0;
}

/* as an unprivileged user: allowed only when the module gave it the files */
static int test_asuser(unsigned int uid, int expect_ok)
{
	struct rtpe_rule r = plain_rule(0, 0, 45210, 45212, 45214);
	char name[96];
	int err, fd;

	if (setgid(uid) || setuid(uid)) {
		check(0, "asuser: setuid", "errno=%d", errno);
		return 1;
	}
	err = file_write("/proc/rtpengine/control", "add 7");
	snprintf(name, sizeof(name), "uid %u: add table %s", uid, expect_ok ? "allowed" : "refused");
	check(expect_ok ? err == 0 : err == -EACCES, name, "err=%d", err);
	if (err)
		return 0;
	fd = ctl_open(7);
	snprintf(name, sizeof(name), "uid %u: open 7/control and add a rule", uid);
	check(fd >= 0 && ctl_rule(fd, RTPE_CMD_ADD, &r) == 0, name, "errno=%d", errno);
	if (fd >= 0)
		close(fd);
	err = file_write("/proc/rtpengine/control", "del 7");
	snprintf(name, sizeof(name), "uid %u: del table", uid);
	check(err == 0, name, "err=%d", err);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 2 && !strcmp(argv[1], "tables"))
		test_tables();
	else if (argc >= 2 && !strcmp(argv[1], "control"))
		test_control();
	else if (argc >= 4 && !strcmp(argv[1], "forward"))
		test_forward(argv[2], argv[3]);
	else if (argc >= 3 && !strcmp(argv[1], "fallback"))
		test_fallback(argv[2]);
	else if (argc >= 2 && !strcmp(argv[1], "fuzz"))
		test_fuzz();
	else if (argc >= 2 && !strcmp(argv[1], "churn")) {
		test_churn();
		test_del_open_reader();
	}
	else if (argc >= 2 && !strcmp(argv[1], "srtp"))
		srtp_tests();
	else if (argc >= 4 && !strcmp(argv[1], "asuser"))
		test_asuser((unsigned int)atoi(argv[2]), !strcmp(argv[3], "ok"));
	else if (argc >= 3 && !strcmp(argv[1], "bench"))
		return bench_main(atoi(argv[2]));
	else {
		fprintf(stderr, "usage: rtpe-test tables|control|forward MODE TAG|fallback MODE|fuzz|srtp\n");
		return 100;
	}
	return g_fail > 99 ? 99 : g_fail;
}
