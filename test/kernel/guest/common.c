// SPDX-License-Identifier: GPL-2.0
/* common.c - sockets, /proc/rtpengine access and reporting for rtpe-test */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "common.h"

int g_pass, g_fail, g_bf;

void check(int ok, const char *name, const char *fmt, ...)
{
	va_list ap;

	printf("CHECK %s %s", ok ? "PASS" : "FAIL", name);
	if (fmt && *fmt && strcmp(fmt, " ")) {
		printf(": ");
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
	}
	printf("\n");
	fflush(stdout);
	if (ok)
		g_pass++;
	else
		g_fail++;
}

struct rtpe_addr mkaddr(int family, const char *ip, uint16_t port)
{
	struct rtpe_addr a;

	memset(&a, 0, sizeof(a));
	a.family = family == AF_INET6 ? RTPE_AF_INET6 : RTPE_AF_INET;
	a.port = port;
	if (inet_pton(family, ip, a.addr) != 1) {
		fprintf(stderr, "bad address %s\n", ip);
		exit(2);
	}
	return a;
}

int addr_to_sa(const struct rtpe_addr *a, struct sockaddr_storage *ss, socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	if (a->family == RTPE_AF_INET) {
		struct sockaddr_in *s = (struct sockaddr_in *)ss;

		s->sin_family = AF_INET;
		s->sin_port = htons(a->port);
		memcpy(&s->sin_addr, a->addr, 4);
		*len = sizeof(*s);
	} else {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)ss;

		s->sin6_family = AF_INET6;
		s->sin6_port = htons(a->port);
		memcpy(&s->sin6_addr, a->addr, 16);
		*len = sizeof(*s);
	}
	return 0;
}

int udp_sock(const struct rtpe_addr *b)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int one = 1, fd;

	fd = socket(b->family == RTPE_AF_INET ? AF_INET : AF_INET6, SOCK_DGRAM, 0);
	if (fd < 0) {
		perror("socket");
		exit(2);
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (b->family == RTPE_AF_INET) {
		setsockopt(fd, IPPROTO_IP, IP_RECVTOS, &one, sizeof(one));
	} else {
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		setsockopt(fd, IPPROTO_IPV6, IPV6_RECVTCLASS, &one, sizeof(one));
	}
	addr_to_sa(b, &ss, &len);
	if (bind(fd, (struct sockaddr *)&ss, len)) {
		perror("bind");
		exit(2);
	}
	return fd;
}

int udp_send(int fd, const struct rtpe_addr *to, const void *buf, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl;

	addr_to_sa(to, &ss, &sl);
	return sendto(fd, buf, len, 0, (struct sockaddr *)&ss, sl) == (ssize_t)len ? 0 : -1;
}

int udp_recv(int fd, int ms, void *buf, size_t cap, struct rtpe_addr *from, int *tos)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	struct sockaddr_storage ss;
	char cbuf[256];
	struct iovec iov = { .iov_base = buf, .iov_len = cap };
	struct msghdr mh = {
		.msg_name = &ss, .msg_namelen = sizeof(ss),
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *c;
	ssize_t n;

	if (poll(&pfd, 1, ms) != 1)
		return -1;
	n = recvmsg(fd, &mh, MSG_DONTWAIT);
	if (n < 0)
		return -1;
	if (tos) {
		*tos = -1;
		for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
			if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TOS)
				*tos = *(unsigned char *)CMSG_DATA(c);
			if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_TCLASS) {
				int v;

				memcpy(&v, CMSG_DATA(c), sizeof(v));
				*tos = v;
			}
		}
	}
	if (from) {
		memset(from, 0, sizeof(*from));
		if (ss.ss_family == AF_INET) {
			struct sockaddr_in *s = (struct sockaddr_in *)&ss;

			from->family = RTPE_AF_INET;
			from->port = ntohs(s->sin_port);
			memcpy(from->addr, &s->sin_addr, 4);
		} else {
			struct sockaddr_in6 *s = (struct sockaddr_in6 *)&ss;

			from->family = RTPE_AF_INET6;
			from->port = ntohs(s->sin6_port);
			memcpy(from->addr, &s->sin6_addr, 16);
		}
	}
	return (int)n;
}

void udp_drain(int fd)
{
	char b[2048];

	while (recv(fd, b, sizeof(b), MSG_DONTWAIT) >= 0)
		;
}

int ctl_open(unsigned int table)
{
	char p[64];

	snprintf(p, sizeof(p), "/proc/rtpengine/%u/control", table);
	return open(p, O_WRONLY);
}

int ctl_raw(int fd, const void *msg, size_t len)
{
	ssize_t n = write(fd, msg, len);

	if (n < 0)
		return -errno;
	return n == (ssize_t)len ? 0 : -EIO;
}

static void hdr_init(struct rtpe_msg_hdr *h, uint16_t cmd, uint32_t len)
{
	memset(h, 0, sizeof(*h));
	h->magic = RTPE_MSG_MAGIC;
	h->version = RTPE_UAPI_VERSION;
	h->cmd = cmd;
	h->len = len;
}

int ctl_rule(int fd, uint16_t cmd, const struct rtpe_rule *r)
{
	struct rtpe_msg_rule m;

	hdr_init(&m.hdr, cmd, sizeof(m));
	m.rule = *r;
	return ctl_raw(fd, &m, sizeof(m));
}

int ctl_del(int fd, const struct rtpe_addr *local)
{
	struct rtpe_msg_del m;

	memset(&m, 0, sizeof(m));
	hdr_init(&m.hdr, RTPE_CMD_DEL, sizeof(m));
	m.local = *local;
	return ctl_raw(fd, &m, sizeof(m));
}

int ctl_flush(int fd)
{
	struct rtpe_msg_hdr h;

	hdr_init(&h, RTPE_CMD_FLUSH, sizeof(h));
	return ctl_raw(fd, &h, sizeof(h));
}

int blist_read(unsigned int table, struct rtpe_blist_entry **out)
{
	char p[64];
	size_t cap = 64 * sizeof(**out), len = 0;
	char *buf = malloc(cap);
	ssize_t n;
	int fd;

	snprintf(p, sizeof(p), "/proc/rtpengine/%u/blist", table);
	fd = open(p, O_RDONLY);
	if (fd < 0 || !buf) {
		free(buf);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	/* deliberately odd read sizes: records must come out whole anyway */
	for (;;) {
		if (cap - len < 1000) {
			cap *= 2;
			buf = realloc(buf, cap);
			if (!buf)
				exit(2);
		}
		n = read(fd, buf + len, 777);
		if (n <= 0)
			break;
		len += n;
	}
	close(fd);
	if (n < 0 || len % sizeof(**out)) {
		free(buf);
		return -1;
	}
	*out = (struct rtpe_blist_entry *)buf;
	return (int)(len / sizeof(**out));
}

int blist_find(unsigned int table, const struct rtpe_addr *local, struct rtpe_blist_entry *e)
{
	struct rtpe_blist_entry *all;
	int n, i, found = -1;

	n = blist_read(table, &all);
	if (n < 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (!memcmp(&all[i].rule.local, local, sizeof(*local))) {
			*e = all[i];
			found = 0;
		}
	}
	free(all);
	return found;
}

int file_read(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY);
	size_t len = 0;
	ssize_t n;

	if (fd < 0)
		return -errno;
	while (len + 1 < cap && (n = read(fd, buf + len, cap - 1 - len)) > 0)
		len += n;
	buf[len] = 0;
	close(fd);
	return (int)len;
}

int file_write(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;
	int err;

	if (fd < 0)
		return -errno;
	n = write(fd, s, strlen(s));
	err = n < 0 ? -errno : 0;
	close(fd);
	return err;
}

size_t rtp_make(uint8_t *b, uint8_t pt, uint16_t seq, uint32_t ts, uint32_t ssrc,
		const uint8_t *payload, size_t plen)
{
	b[0] = 0x80;
	b[1] = pt & 0x7f;
	b[2] = seq >> 8;
	b[3] = seq & 0xff;
	b[4] = ts >> 24;
	b[5] = ts >> 16;
	b[6] = ts >> 8;
	b[7] = ts;
	b[8] = ssrc >> 24;
	b[9] = ssrc >> 16;
	b[10] = ssrc >> 8;
	b[11] = ssrc;
	memcpy(b + 12, payload, plen);
	return 12 + plen;
}
