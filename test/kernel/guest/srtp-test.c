// SPDX-License-Identifier: GPL-2.0
/*
 * srtp-test.c - SRTP/SRTCP through xt_RTPENGINE (table 1, iptables rule
 * installed by /init), checked byte for byte against srtp-ref.c, which is
 * itself checked against the RFC 3711 appendix B vectors first.
 * (The module runs the same B.2/B.3 vectors at load time and refuses to
 * load if they fail.)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include "common.h"
#include "srtp-ref.h"

int srtp_tests(void);

#define TBL 1

static int hexeq(const uint8_t *a, const char *hex)
{
	size_t i, n = strlen(hex) / 2;
	unsigned int v;

	for (i = 0; i < n; i++) {
		if (sscanf(hex + 2 * i, "%2x", &v) != 1 || a[i] != v)
			return 0;
	}
	return 1;
}

static void rfc3711_vectors(void)
{
	struct rtpe_srtp p;
	uint8_t out[32], iv[16], key[16];
	unsigned int i;
	static const uint8_t mk[16] = { 0xe1, 0xf9, 0x7a, 0x0d, 0x3e, 0x01, 0x8b, 0xe0,
					0xd6, 0x4f, 0xa3, 0x2c, 0x06, 0xde, 0x41, 0x39 };
	static const uint8_t ms[14] = { 0x0e, 0xc6, 0x75, 0xad, 0x49, 0x8a, 0xfe, 0xeb,
					0xb6, 0x96, 0x0b, 0x3a, 0xab, 0xe6 };

	memset(&p, 0, sizeof(p));
	p.key_len = 16;
	p.salt_len = 14;
	memcpy(p.master_key, mk, 16);
	memcpy(p.master_salt, ms, 14);
	ref_kdf(&p, 0, out, 16);
	check(hexeq(out, "C61E7A93744F39EE10734AFE3FF7A087"), "srtp: RFC 3711 B.3 cipher key (reference)", " ");
	ref_kdf(&p, 2, out, 14);
	check(hexeq(out, "30CBBC08863D8C85D49DB34A9AE1"), "srtp: RFC 3711 B.3 cipher salt (reference)", " ");
	ref_kdf(&p, 1, out, 20);
	check(hexeq(out, "CEBE321F6FF7716B6FD4AB49AF256A156D38BAA4"), "srtp: RFC 3711 B.3 auth key (reference)", " ");
	for (i = 0; i < 16; i++)
		iv[i] = i < 14 ? 0xf0 + i : 0;
	memcpy(key, "\x2b\x7e\x15\x16\x28\xae\xd2\xa6\xab\xf7\x15\x88\x09\xcf\x4f\x3c", 16);
	memset(out, 0, sizeof(out));
	ref_ctr(key, 16, iv, out, 32);
	check(hexeq(out, "E03EAD0935C95E80E166B16DD92B4EB4D23513162B02D0F72A43A2FE4A5F97AB"),
	      "srtp: RFC 3711 B.2 AES-CM keystream (reference)", " ");
	{
		/* B.1: session salt 32f2870d, so m = 32f2870d 55..55 */
		static const uint8_t ke[16] = { 0x23, 0x48, 0x29, 0x00, 0x84, 0x67, 0xbe, 0x18,
						0x6c, 0x3d, 0xe1, 0x4a, 0xae, 0x72, 0xd6, 0x2c };
		static const uint8_t f8iv[16] = { 0x00, 0x6e, 0x5c, 0xba, 0x50, 0x68, 0x1d, 0xe5,
						  0x5c, 0x62, 0x15, 0x99, 0xd4, 0x62, 0x56, 0x4a };
		uint8_t ks[14], buf[39];

		memset(ks, 0x55, sizeof(ks));
		memcpy(ks, "\x32\xf2\x87\x0d", 4);
		memcpy(buf, "pseudorandomness is the next best thing", 39);
		ref_f8(ke, 16, ks, f8iv, buf, 39);
		check(hexeq(buf, "019CE7A26E7854014A6366AA95D4EEFD1AD4172A14F9FAF455B7F1D4B62BD08F562C0EEF7C4802"),
		      "srtp: RFC 3711 B.1 AES-F8 (reference)", " ");
	}
}

struct suite {
	const char *name;
	uint8_t cipher, auth, tag, key_len, salt_len, mki_len;
};

static const struct suite suites[] = {
	{ "AES_CM_128_HMAC_SHA1_80", RTPE_CIPHER_AES_CM_128, RTPE_AUTH_HMAC_SHA1, 10, 16, 14, 0 },
	{ "AES_CM_128_HMAC_SHA1_32", RTPE_CIPHER_AES_CM_128, RTPE_AUTH_HMAC_SHA1, 4, 16, 14, 0 },
	{ "AES_CM_128_HMAC_SHA1_80+MKI", RTPE_CIPHER_AES_CM_128, RTPE_AUTH_HMAC_SHA1, 10, 16, 14, 4 },
	{ "AES_192_CM_HMAC_SHA1_80", RTPE_CIPHER_AES_CM_192, RTPE_AUTH_HMAC_SHA1, 10, 24, 14, 0 },
	{ "AES_256_CM_HMAC_SHA1_80", RTPE_CIPHER_AES_CM_256, RTPE_AUTH_HMAC_SHA1, 10, 32, 14, 0 },
	{ "F8_128_HMAC_SHA1_80", RTPE_CIPHER_AES_F8_128, RTPE_AUTH_HMAC_SHA1, 10, 16, 14, 0 },
	{ "NULL_HMAC_SHA1_80", RTPE_CIPHER_NULL, RTPE_AUTH_HMAC_SHA1, 10, 16, 14, 0 },
	{ "AEAD_AES_128_GCM", RTPE_CIPHER_AES_GCM_128, RTPE_AUTH_NONE, 0, 16, 12, 0 },
	{ "AEAD_AES_256_GCM", RTPE_CIPHER_AES_GCM_256, RTPE_AUTH_NONE, 0, 32, 12, 0 },
};

static struct rtpe_srtp mkparams(const struct suite *s, uint8_t seed)
{
	struct rtpe_srtp p;
	unsigned int i;

	memset(&p, 0, sizeof(p));
	p.cipher = s->cipher;
	p.auth = s->auth;
	p.rtp_tag_len = s->tag;
	p.rtcp_tag_len = s->auth ? 10 : 0;
	p.key_len = s->key_len;
	p.salt_len = s->salt_len;
	p.mki_len = s->mki_len;
	for (i = 0; i < s->mki_len; i++)
		p.mki[i] = 0xa0 + i + seed;
	for (i = 0; i < s->key_len; i++)
		p.master_key[i] = (uint8_t)(seed * 31 + i * 7 + 1);
	for (i = 0; i < s->salt_len; i++)
		p.master_salt[i] = (uint8_t)(seed * 17 + i * 3 + 5);
	return p;
}

static void hexdump(const char *what, const uint8_t *b, int n)
{
	int i;

	printf("  %s (%d):", what, n);
	for (i = 0; i < n && i < 64; i++)
		printf("%02x", b[i]);
	printf("\n");
}

/* ports: peer 43000, local 43010 (RTP) / 43011 (RTCP), out 43012/43013 -> 43014/43015 */
static void suite_test(const struct suite *s, int fd)
{
	struct rtpe_addr peer = mkaddr(AF_INET, "127.0.0.1", 43000);
	struct rtpe_addr lrtp = mkaddr(AF_INET, "127.0.0.1", 43010);
	struct rtpe_addr lrtcp = mkaddr(AF_INET, "127.0.0.1", 43011);
	struct rtpe_addr drtp = mkaddr(AF_INET, "127.0.0.1", 43014);
	struct rtpe_addr drtcp = mkaddr(AF_INET, "127.0.0.1", 43015);
	struct rtpe_rule r;
	struct rtpe_blist_entry e;
	struct ref_ctx in, out;
	uint8_t pl[200], pkt[512], want[512], got[2048];
	static const uint16_t seqs[] = { 65533, 65534, 65535, 0, 1, 2 };
	int sp = udp_sock(&peer), sl = udp_sock(&lrtp), slc = udp_sock(&lrtcp);
	int sd = udp_sock(&drtp), sdc = udp_sock(&drtcp);
	int i, n, ok = 0, okc = 0, dumped = 0;
	char name[128];
	size_t len, wlen;

	for (i = 0; i < (int)sizeof(pl); i++)
		pl[i] = (uint8_t)(i ^ 0x5a);
	memset(&r, 0, sizeof(r));
	r.local = lrtp;
	r.out.src = mkaddr(AF_INET, "127.0.0.1", 43012);
	r.out.dst = drtp;
	r.flags = RTPE_RF_RTP;
	r.decrypt = mkparams(s, 1);
	r.out.encrypt = mkparams(s, 2);
	ref_init(&in, &r.decrypt);
	ref_init(&out, &r.out.encrypt);
	snprintf(name, sizeof(name), "srtp %s: add rule (SRTP in, re-keyed SRTP out)", s->name);
	n = ctl_rule(fd, RTPE_CMD_ADD, &r);
	check(n == 0, name, "err=%d", n);

	/* SRTP in -> SRTP out across a sequence number wrap (ROC 0 -> 1) */
	for (i = 0; i < 6; i++) {
		uint32_t roc = seqs[i] < 100 ? 1 : 0;

		len = rtp_make(pkt, 0, seqs[i], 160 * i, 0x11223344, pl, 100 + i * 13);
		memcpy(want, pkt, len);
		wlen = ref_protect_rtp(&out, want, len, roc);
		len = ref_protect_rtp(&in, pkt, len, roc);
		udp_send(sp, &lrtp, pkt, len);
		n = udp_recv(sd, 1000, got, sizeof(got), NULL, NULL);
		if (n == (int)wlen && !memcmp(got, want, wlen)) {
			ok++;
		} else if (!dumped++) {
			hexdump("want", want, wlen);
			if (n > 0)
				hexdump("got", got, n);
		}
	}
	snprintf(name, sizeof(name), "srtp %s: RTP decrypted and re-encrypted = reference", s->name);
	check(ok == 6, name, "%d/6", ok);
	snprintf(name, sizeof(name), "srtp %s: ROC followed the wrap", s->name);
	g_bf = blist_find(TBL, &lrtp, &e);
	check(g_bf == 0 && e.ssrc[0].ssrc == 0x11223344 &&
	      e.ssrc[0].roc_in == 1 && e.ssrc[0].roc_out == 1 && e.ssrc[0].last_seq == 2,
	      name, "roc %u/%u seq %u", e.ssrc[0].roc_in, e.ssrc[0].roc_out, e.ssrc[0].last_seq);

	/* tampered packet: dropped and counted */
	len = rtp_make(pkt, 0, 3, 0, 0x11223344, pl, 80);
	len = ref_protect_rtp(&in, pkt, len, 1);
	pkt[20] ^= 1;
	udp_send(sp, &lrtp, pkt, len);
	n = udp_recv(sd, 200, got, sizeof(got), NULL, NULL);
	i = udp_recv(sl, 200, got, sizeof(got), NULL, NULL);
	snprintf(name, sizeof(name), "srtp %s: tampered packet dropped, auth_failed counted", s->name);
	g_bf = blist_find(TBL, &lrtp, &e);
	check(n < 0 && i < 0 && g_bf == 0 && e.stats.auth_failed == 1, name,
	      "fwd=%d local=%d auth_failed=%llu", n, i, (unsigned long long)e.stats.auth_failed);

	/* plain in -> SRTP out, and SRTP in -> plain out */
	r.decrypt.cipher = RTPE_CIPHER_NONE;
	ctl_rule(fd, RTPE_CMD_UPDATE, &r);
	len = rtp_make(pkt, 0, 10, 0, 0x11223344, pl, 120);
	memcpy(want, pkt, len);
	wlen = ref_protect_rtp(&out, want, len, 1);
	udp_send(sp, &lrtp, pkt, len);
	n = udp_recv(sd, 1000, got, sizeof(got), NULL, NULL);
	snprintf(name, sizeof(name), "srtp %s: plain RTP in, SRTP out = reference", s->name);
	check(n == (int)wlen && !memcmp(got, want, wlen), name, "n=%d want %zu", n, wlen);
	r.decrypt = mkparams(s, 1);
	r.out.encrypt.cipher = RTPE_CIPHER_NONE;
	ctl_rule(fd, RTPE_CMD_UPDATE, &r);
	len = rtp_make(pkt, 0, 11, 0, 0x11223344, pl, 120);
	memcpy(want, pkt, len);
	wlen = len;
	len = ref_protect_rtp(&in, pkt, len, 1);
	udp_send(sp, &lrtp, pkt, len);
	n = udp_recv(sd, 1000, got, sizeof(got), NULL, NULL);
	snprintf(name, sizeof(name), "srtp %s: SRTP in, plain RTP out", s->name);
	check(n == (int)wlen && !memcmp(got, want, wlen), name, "n=%d want %zu", n, wlen);

	/* SRTCP: rule on the RTCP port */
	memset(&r, 0, sizeof(r));
	r.local = lrtcp;
	r.out.src = mkaddr(AF_INET, "127.0.0.1", 43013);
	r.out.dst = drtcp;
	r.flags = RTPE_RF_RTCP;
	r.decrypt = mkparams(s, 3);
	r.out.encrypt = mkparams(s, 4);
	ref_init(&in, &r.decrypt);
	ref_init(&out, &r.out.encrypt);
	check(ctl_rule(fd, RTPE_CMD_ADD, &r) == 0, "srtcp: add rule", " ");
	for (i = 0; i < 3; i++) {
		uint8_t rtcp[28] = { 0x80, 200, 0, 6, 0x11, 0x22, 0x33, 0x44 };

		memcpy(rtcp + 8, pl + i, 20);
		memcpy(pkt, rtcp, sizeof(rtcp));
		memcpy(want, rtcp, sizeof(rtcp));
		len = ref_protect_rtcp(&in, pkt, sizeof(rtcp), 100 + i);
		wlen = ref_protect_rtcp(&out, want, sizeof(rtcp), i);
		udp_send(sp, &lrtcp, pkt, len);
		n = udp_recv(sdc, 1000, got, sizeof(got), NULL, NULL);
		if (n == (int)wlen && !memcmp(got, want, wlen))
			okc++;
		else if (!dumped++) {
			hexdump("want", want, wlen);
			if (n > 0)
				hexdump("got", got, n);
		}
	}
	snprintf(name, sizeof(name), "srtp %s: SRTCP decrypted and re-encrypted = reference", s->name);
	check(okc == 3, name, "%d/3", okc);
	{
		uint8_t rtcp[28] = { 0x80, 200, 0, 6, 0x11, 0x22, 0x33, 0x44 };

		memcpy(pkt, rtcp, sizeof(rtcp));
		len = ref_protect_rtcp(&in, pkt, sizeof(rtcp), 200);
		pkt[len - 1] ^= 0x80;
		udp_send(sp, &lrtcp, pkt, len);
		n = udp_recv(sdc, 200, got, sizeof(got), NULL, NULL);
		snprintf(name, sizeof(name), "srtp %s: tampered SRTCP dropped, counted", s->name);
		g_bf = blist_find(TBL, &lrtcp, &e);
		check(n < 0 && g_bf == 0 && e.stats.auth_failed == 1, name,
		      "n=%d auth_failed=%llu", n, (unsigned long long)e.stats.auth_failed);
	}
	ctl_flush(fd);
	close(sp);
	close(sl);
	close(slc);
	close(sd);
	close(sdc);
}

/* a stream handed over mid-call: the daemon pre-seeds SSRC slots with their ROCs */
static void preseeded_roc(int fd)
{
	struct rtpe_addr peer = mkaddr(AF_INET, "127.0.0.1", 43200);
	struct rtpe_addr local = mkaddr(AF_INET, "127.0.0.1", 43210);
	struct rtpe_addr dst = mkaddr(AF_INET, "127.0.0.1", 43214);
	int sp = udp_sock(&peer), sl = udp_sock(&local), sd = udp_sock(&dst), n;
	struct rtpe_blist_entry e;
	struct rtpe_rule r;
	struct ref_ctx in, out;
	uint8_t pl[50], pkt[256], want[256], got[2048];
	size_t len, wlen;

	memset(pl, 3, sizeof(pl));
	memset(&r, 0, sizeof(r));
	r.local = local;
	r.out.src = mkaddr(AF_INET, "127.0.0.1", 43212);
	r.out.dst = dst;
	r.flags = RTPE_RF_RTP;
	r.decrypt = mkparams(&suites[0], 5);
	r.out.encrypt = mkparams(&suites[7], 6);
	r.num_ssrc = 1;
	r.ssrc[0] = 0x55667788;
	r.roc_in[0] = 5;
	r.roc_out[0] = 9;
	ref_init(&in, &r.decrypt);
	ref_init(&out, &r.out.encrypt);
	check(ctl_rule(fd, RTPE_CMD_ADD, &r) == 0, "srtp: rule with pre-seeded ROC 5 in / 9 out", " ");
	len = rtp_make(pkt, 8, 4000, 0, 0x55667788, pl, sizeof(pl));
	memcpy(want, pkt, len);
	wlen = ref_protect_rtp(&out, want, len, 9);
	len = ref_protect_rtp(&in, pkt, len, 5);
	udp_send(sp, &local, pkt, len);
	n = udp_recv(sd, 1000, got, sizeof(got), NULL, NULL);
	check(n == (int)wlen && !memcmp(got, want, wlen),
	      "srtp: pre-seeded ROC used (AES-CM in, GCM out = reference)", "n=%d", n);
	/* UPDATE without SSRC list keeps the slot state */
	r.num_ssrc = 0;
	ctl_rule(fd, RTPE_CMD_UPDATE, &r);
	g_bf = blist_find(TBL, &local, &e);
	check(g_bf == 0 && e.ssrc[0].ssrc == 0x55667788 && e.ssrc[0].roc_in == 5 &&
	      e.ssrc[0].roc_out == 9 && e.ssrc[0].last_seq == 4000 && e.stats.packets == 1,
	      "srtp: UPDATE keeps SSRC state and counters", "roc %u/%u seq %u", e.ssrc[0].roc_in,
	      e.ssrc[0].roc_out, e.ssrc[0].last_seq);
	ctl_flush(fd);
	close(sp);
	close(sl);
	close(sd);
}

int srtp_tests(void)
{
	struct rtpe_rule r;
	unsigned int i;
	int fd;

	rfc3711_vectors();
	fd = ctl_open(TBL);
	check(fd >= 0, "srtp: open control", "errno=%d", errno);
	if (fd < 0)
		return 1;
	ctl_flush(fd);

	/* parameter validation */
	memset(&r, 0, sizeof(r));
	r.local = mkaddr(AF_INET, "127.0.0.1", 43100);
	r.out.src = mkaddr(AF_INET, "127.0.0.1", 43102);
	r.out.dst = mkaddr(AF_INET, "127.0.0.1", 43104);
	r.flags = RTPE_RF_RTP;
	r.decrypt = mkparams(&suites[0], 1);
	r.decrypt.key_len = 24;
	check(ctl_rule(fd, RTPE_CMD_ADD, &r) == -EINVAL, "srtp: AES-CM-128 with 24-byte key -> EINVAL", " ");
	r.decrypt = mkparams(&suites[7], 1);
	r.decrypt.auth = RTPE_AUTH_HMAC_SHA1;
	check(ctl_rule(fd, RTPE_CMD_ADD, &r) == -EINVAL, "srtp: GCM with HMAC -> EINVAL", " ");
	r.decrypt = mkparams(&suites[0], 1);
	r.decrypt.rtp_tag_len = 7;
	check(ctl_rule(fd, RTPE_CMD_ADD, &r) == -EINVAL, "srtp: tag length 7 -> EINVAL", " ");
	r.decrypt = mkparams(&suites[0], 1);
	r.flags = 0;
	check(ctl_rule(fd, RTPE_CMD_ADD, &r) == -EINVAL, "srtp: SRTP without RTP/RTCP flag -> EINVAL", " ");
	{
		struct rtpe_blist_entry e;

		int added;

		r.flags = RTPE_RF_RTP;
		added = ctl_rule(fd, RTPE_CMD_ADD, &r);
		g_bf = blist_find(TBL, &r.local, &e);
		check(added == 0 && g_bf == 0 &&
		      e.rule.decrypt.cipher == RTPE_CIPHER_AES_CM_128 &&
		      !memcmp(e.rule.decrypt.master_key, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16),
		      "srtp: blist hides master keys", " ");
		ctl_flush(fd);
	}
	for (i = 0; i < sizeof(suites) / sizeof(suites[0]); i++)
		suite_test(&suites[i], fd);
	preseeded_roc(fd);
	close(fd);
	return 0;
}
