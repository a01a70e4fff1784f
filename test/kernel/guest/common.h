/* SPDX-License-Identifier: GPL-2.0 */
/* common.h - helpers of the in-VM test program (rtpe-test) */
#ifndef RTPE_TEST_COMMON_H
#define RTPE_TEST_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include "rtpengine_uapi.h"

extern int g_pass, g_fail, g_bf;
void check(int ok, const char *name, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

struct rtpe_addr mkaddr(int family, const char *ip, uint16_t port);
int addr_to_sa(const struct rtpe_addr *a, struct sockaddr_storage *ss, socklen_t *len);

int udp_sock(const struct rtpe_addr *bind_to);
int udp_send(int fd, const struct rtpe_addr *to, const void *buf, size_t len);
/* waits up to ms; returns bytes received or -1; fills from and tos if non-NULL */
int udp_recv(int fd, int ms, void *buf, size_t cap, struct rtpe_addr *from, int *tos);
void udp_drain(int fd);

int ctl_open(unsigned int table);
int ctl_rule(int fd, uint16_t cmd, const struct rtpe_rule *r);	/* 0 or -errno */
int ctl_del(int fd, const struct rtpe_addr *local);
int ctl_flush(int fd);
int ctl_raw(int fd, const void *msg, size_t len);

/* reads /proc/rtpengine/<t>/blist; returns entries (malloc'd) and count */
int blist_read(unsigned int table, struct rtpe_blist_entry **out);
int blist_find(unsigned int table, const struct rtpe_addr *local, struct rtpe_blist_entry *e);
int file_read(const char *path, char *buf, size_t cap);
int file_write(const char *path, const char *s);

size_t rtp_make(uint8_t *buf, uint8_t pt, uint16_t seq, uint32_t ts, uint32_t ssrc,
		const uint8_t *payload, size_t plen);

#endif
