// daemon-srtp.c - guest side of test/kernel/daemon-e2e.sh: an SDES-SRTP <-> RTP call through the real daemon
// with xt_RTPENGINE doing the crypto. Phone P speaks plain RTP, phone S AES_CM_128_HMAC_SHA1_80 (SDES).
// Every packet is checked byte for byte: what P gets must be S's plaintext, what S gets must equal an
// independent OpenSSL SRTP (guest/srtp-ref.c) of P's packet at the right ROC. Sequence numbers jump by
// 20000 so that the kernel goes through several rollovers: after "block DTMF" withdraws the rules the
// daemon's userspace must continue with the kernel's ROCs (else S's packets fail authentication and
// P's leave with the wrong ROC), and "unblock DTMF" must seed the kernel with userspace's again.
// Prints "CHECK PASS|FAIL name" lines. Usage: daemon-srtp NG_PORT TABLE
#define DAEMON_CLIENT_LIB
#pragma GCC diagnostic ignored "-Wunused-function"	/* the helpers this client does not need */
#include "daemon-client.c"
#pragma GCC diagnostic warning "-Wunused-function"
#include <openssl/evp.h>
#include "guest/srtp-ref.h"

#define SUITE "AES_CM_128_HMAC_SHA1_80"
#define PLEN 172

/* one direction: extended index (ROC << 16 | seq) of the next packet */
struct dir {
	int from_fd, to_fd;
	uint16_t to_port;	/* the daemon's port the sender sends to */
	uint16_t from_port;	/* the daemon's port the receiver gets packets from */
	uint32_t ssrc;
	uint64_t next;
	int sent, ok, bad;
};

static struct ref_ctx s_out;	/* S's own key: what S sends */
static struct ref_ctx d_out;	/* the daemon's key towards S */

static void plain_packet(uint8_t *b, uint32_t ssrc, uint64_t idx)
{
	b[0] = 0x80;
	b[1] = 0;
	b[2] = (idx >> 8) & 0xff;
	b[3] = idx & 0xff;
	b[4] = idx >> 24; b[5] = idx >> 16; b[6] = idx >> 8; b[7] = idx;	/* timestamp */
	b[8] = ssrc >> 24; b[9] = ssrc >> 16; b[10] = ssrc >> 8; b[11] = ssrc;
	for (int i = 12; i < PLEN; i++)
		b[i] = (uint8_t)(idx * 7 + i);
}

/* Send n packets (index step `step`) and check each arrival: srtp_in = the sender is S. */
static void exchange(struct dir *d, int n, unsigned step, int srtp_in, int gap_us)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(d->to_port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	for (int i = 0; i < n; i++) {
		uint8_t pkt[PLEN + 64], want[PLEN + 64], got[2048];
		size_t len = PLEN, wlen = PLEN;
		uint32_t roc = (uint32_t)(d->next >> 16);
		plain_packet(pkt, d->ssrc, d->next);
		memcpy(want, pkt, PLEN);
		if (srtp_in)
			len = ref_protect_rtp(&s_out, pkt, PLEN, roc);		/* S -> daemon: SRTP; P must get the plaintext */
		else
			wlen = ref_protect_rtp(&d_out, want, PLEN, roc);	/* P -> daemon: plain; S must get the daemon's SRTP */
		sendto(d->from_fd, pkt, len, 0, (void *)&to, sizeof(to));
		d->sent++;
		/* after a loss, do not wait the full time for every further packet */
		if (wait_readable(d->to_fd, d->sent - 1 > d->ok + d->bad ? 100 : 2000)) {
			struct sockaddr_in s;
			socklen_t l = sizeof(s);
			ssize_t r = recvfrom(d->to_fd, got, sizeof(got), 0, (void *)&s, &l);
			if (r == (ssize_t)wlen && !memcmp(got, want, wlen) && ntohs(s.sin_port) == d->from_port)
				d->ok++;
			else
				d->bad++;
		}
		d->next += step;
		if (gap_us)
			usleep(gap_us);
	}
}

struct kslot { int found; uint8_t dec, enc; uint64_t packets, auth_failed, errors; uint32_t roc_in, roc_out, last_seq; };
static int krules;

/* the blist record of the rule on local port `port`, with the slot of `ssrc` */
static struct kslot kslot(int table, uint16_t port, uint32_t ssrc)
{
	static struct rtpe_blist_entry e[64];
	char path[64];
	struct kslot k = { 0 };
	ssize_t n, off = 0;
	int fd;
	snprintf(path, sizeof(path), "/proc/rtpengine/%d/blist", table);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return k;
	while ((n = read(fd, (char *)e + off, sizeof(e) - off)) > 0)
		off += n;
	close(fd);
	krules = off / sizeof(e[0]);
	for (int i = 0; i < krules; i++) {
		if (e[i].rule.local.port != port)
			continue;
		k.found = 1;
		k.dec = e[i].rule.decrypt.cipher;
		k.enc = e[i].rule.out.encrypt.cipher;
		k.packets = e[i].stats.packets;
		k.auth_failed = e[i].stats.auth_failed;
		k.errors = e[i].stats.errors;
		for (int j = 0; j < RTPE_MAX_SSRC; j++)
			if ((e[i].ssrc[j].flags & RTPE_SSRC_USED) && e[i].ssrc[j].ssrc == ssrc) {
				k.roc_in = e[i].ssrc[j].roc_in;
				k.roc_out = e[i].ssrc[j].roc_out;
				k.last_seq = e[i].ssrc[j].last_seq;
			}
	}
	return k;
}

static int b64key(const char *s, uint8_t out[30])
{
	uint8_t tmp[48];
	if (strlen(s) < 40 || EVP_DecodeBlock(tmp, (const unsigned char *)s, 40) != 30)
		return -1;
	memcpy(out, tmp, 30);
	return 0;
}

static void ref_setup(struct ref_ctx *c, const uint8_t key[30])
{
	struct rtpe_srtp p = { .cipher = RTPE_CIPHER_AES_CM_128, .auth = RTPE_AUTH_HMAC_SHA1, .rtp_tag_len = 10,
			       .rtcp_tag_len = 10, .key_len = 16, .salt_len = 14 };
	memcpy(p.master_key, key, 16);
	memcpy(p.master_salt, key + 16, 14);
	ref_init(c, &p);
}

static const char *sdp_of(uint16_t port, const char *proto, const char *crypto)
{
	static char s[768];
	snprintf(s, sizeof(s), "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=srtp\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio %u %s 0\r\na=rtpmap:0 PCMU/8000\r\n%s", port, proto, crypto);
	return s;
}

static void reset(struct dir *d) { d->sent = d->ok = d->bad = 0; }

#define RULES_WAIT(cond) do { for (int w_ = 0; w_ < 50; w_++) { kslot(table, 0, 0); if (cond) break; usleep(100000); } } while (0)

int main(int argc, char **argv)
{
	static const uint8_t s_key[30] = { 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x01,
					   0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x80, 0x90, 0xa0, 0xb0, 0xc0, 0xd0, 0xe0 };
	uint8_t d_key[30];
	uint16_t pp, ps;
	int table, to_p, to_s, tag;
	char body[4096], crypto[256], b64[64];
	const char *k, *t;
	struct dir sp = { .ssrc = 0x5e5e0001, .next = 1000 }, ps_ = { .ssrc = 0x9a9a0002, .next = 3000 };
	struct kslot a, b;
	long long in0, in1;
	int total;

	if (argc != 3)
		return 2;
	ng_port = atoi(argv[1]);
	table = atoi(argv[2]);
	for (int i = 0; i < 240 && ng("d7:command4:pinge", 500); i++)
		;
	check(strstr(reply, "4:pong") != NULL, "srtp: ng ping answered", "no pong");

	/* P offers plain, the daemon offers SDES to S; S answers with its key for the suite */
	int P = udp_bound(&pp), S = udp_bound(&ps);
	snprintf(body, sizeof(body), "d7:call-id4:srtp7:command5:offer8:from-tag1:P18:transport-protocol8:RTP/SAVP3:sdp%zu:%se",
		 strlen(sdp_of(pp, "RTP/AVP", "")), sdp_of(pp, "RTP/AVP", ""));
	check(ng(body, 10000) == 0 && strstr(reply, "6:result2:ok"), "srtp: offer (plain -> RTP/SAVP)", "%.200s", reply);
	to_s = sdp_port();
	k = strstr(reply, " " SUITE " inline:");
	t = k ? k : reply;
	while (t > reply && strncmp(t, "a=crypto:", 9))
		t--;
	check(k && !strncmp(t, "a=crypto:", 9) && !b64key(k + strlen(" " SUITE " inline:"), d_key), "srtp: the daemon offers " SUITE, "%.300s", reply);
	if (!k)
		return 1;
	tag = atoi(t + 9);
	ref_setup(&d_out, d_key);
	ref_setup(&s_out, s_key);
	EVP_EncodeBlock((unsigned char *)b64, s_key, 30);
	snprintf(crypto, sizeof(crypto), "a=crypto:%d " SUITE " inline:%s\r\n", tag, b64);
	snprintf(body, sizeof(body), "d7:call-id4:srtp7:command6:answer8:from-tag1:P6:to-tag1:S3:sdp%zu:%se",
		 strlen(sdp_of(ps, "RTP/SAVP", crypto)), sdp_of(ps, "RTP/SAVP", crypto));
	check(ng(body, 10000) == 0 && strstr(reply, "6:result2:ok"), "srtp: answer (RTP/SAVP with S's key)", "%.200s", reply);
	to_p = sdp_port();
	printf("DAEMONTEST srtp phones P=%u S=%u, daemon ports toP=%d toS=%d, crypto tag %d\n", pp, ps, to_p, to_s, tag);
	sp = (struct dir){ .from_fd = S, .to_fd = P, .to_port = to_s, .from_port = to_p, .ssrc = 0x5e5e0001, .next = 1000 };
	ps_ = (struct dir){ .from_fd = P, .to_fd = S, .to_port = to_p, .from_port = to_s, .ssrc = 0x9a9a0002, .next = 3000 };

	/* learning: through the daemon's userspace (its own SRTP) */
	exchange(&sp, 5, 1, 1, 20000);
	exchange(&ps_, 5, 1, 0, 20000);
	check(sp.ok == 5, "srtp learning: P gets S's plaintext from the daemon (userspace decrypt)", "%d ok, %d bad", sp.ok, sp.bad);
	check(ps_.ok == 5, "srtp learning: S gets P's packets as reference SRTP (userspace encrypt)", "%d ok, %d bad", ps_.ok, ps_.bad);

	RULES_WAIT(krules >= 2);
	a = kslot(table, to_s, sp.ssrc);
	b = kslot(table, to_p, ps_.ssrc);
	check(krules == 2 && a.found && b.found, "srtp: both rules in the kernel after learning", "%d rules", krules);
	check(a.dec == RTPE_CIPHER_AES_CM_128 && a.enc == RTPE_CIPHER_NONE, "srtp: S->P rule decrypts AES-CM-128, output plain", "dec %u enc %u", a.dec, a.enc);
	check(b.dec == RTPE_CIPHER_NONE && b.enc == RTPE_CIPHER_AES_CM_128, "srtp: P->S rule encrypts AES-CM-128, input plain", "dec %u enc %u", b.dec, b.enc);

	/* the kernel: 100 in order, then 12 jumps of 20000 (3 rollovers) each way */
	reset(&sp); reset(&ps_);
	in0 = udp_in();
	exchange(&sp, 100, 1, 1, 1000);
	exchange(&ps_, 100, 1, 0, 1000);
	exchange(&sp, 12, 20000, 1, 1000);
	exchange(&ps_, 12, 20000, 0, 1000);
	in1 = udp_in();
	total = sp.sent + ps_.sent;
	check(sp.ok == sp.sent, "srtp kernel: P gets every S packet decrypted, byte for byte", "%d/%d ok, %d bad", sp.ok, sp.sent, sp.bad);
	check(ps_.ok == ps_.sent, "srtp kernel: S gets every P packet as reference SRTP, across 3 rollovers", "%d/%d ok, %d bad", ps_.ok, ps_.sent, ps_.bad);
	check(in0 >= 0 && in1 - in0 == total, "srtp kernel: the daemon's sockets received none (Udp InDatagrams + phones only)", "%lld -> %lld, %d sent", in0, in1, total);
	a = kslot(table, to_s, sp.ssrc);
	b = kslot(table, to_p, ps_.ssrc);
	check(a.packets >= 112 && b.packets >= 112, "srtp kernel: blist counters rose by the packets", "%llu / %llu", (unsigned long long)a.packets, (unsigned long long)b.packets);
	check(a.auth_failed == 0 && a.errors == 0 && b.errors == 0, "srtp kernel: no auth failures or errors", "auth %llu errors %llu/%llu",
	      (unsigned long long)a.auth_failed, (unsigned long long)a.errors, (unsigned long long)b.errors);
	check(a.roc_in == (uint32_t)((sp.next - 20000) >> 16) && b.roc_out == (uint32_t)((ps_.next - 20000) >> 16) && a.roc_in >= 3,
	      "srtp kernel: ROCs follow the rollovers", "S->P roc_in %u (want %u), P->S roc_out %u (want %u)",
	      a.roc_in, (uint32_t)((sp.next - 20000) >> 16), b.roc_out, (uint32_t)((ps_.next - 20000) >> 16));
	printf("DAEMONTEST srtp kernel: S->P roc %u seq %u, P->S roc %u seq %u\n", a.roc_in, a.last_seq, b.roc_out, b.last_seq);

	/* withdraw both rules: userspace continues the streams with the kernel's ROCs */
	check(ng("d7:call-id4:srtp7:command10:block DTMF8:from-tag1:Pe", 10000) == 0 && strstr(reply, "6:result2:ok"), "srtp: block DTMF (P)", "%.200s", reply);
	check(ng("d7:call-id4:srtp7:command10:block DTMF8:from-tag1:Se", 10000) == 0 && strstr(reply, "6:result2:ok"), "srtp: block DTMF (S)", "%.200s", reply);
	kslot(table, 0, 0);
	check(krules == 0, "srtp: block DTMF withdraws both rules (media stays in userspace)", "%d rules", krules);
	reset(&sp); reset(&ps_);
	in0 = udp_in();
	exchange(&sp, 20, 1, 1, 2000);
	exchange(&ps_, 20, 1, 0, 2000);
	exchange(&sp, 4, 20000, 1, 2000);
	exchange(&ps_, 4, 20000, 0, 2000);
	in1 = udp_in();
	total = sp.sent + ps_.sent;
	check(sp.ok == sp.sent, "srtp userspace after withdrawal: S's packets authenticate at the kernel's ROC (P gets all)", "%d/%d ok, %d bad", sp.ok, sp.sent, sp.bad);
	check(ps_.ok == ps_.sent, "srtp userspace after withdrawal: S gets reference SRTP at the kernel's ROC", "%d/%d ok, %d bad", ps_.ok, ps_.sent, ps_.bad);
	check(in0 >= 0 && in1 - in0 == 2 * total, "srtp userspace: the daemon's sockets received them", "%lld -> %lld, %d sent", in0, in1, total);

	/* back to the kernel, seeded with userspace's ROCs */
	check(ng("d7:call-id4:srtp7:command12:unblock DTMF8:from-tag1:Pe", 10000) == 0 && strstr(reply, "6:result2:ok"), "srtp: unblock DTMF (P)", "%.200s", reply);
	check(ng("d7:call-id4:srtp7:command12:unblock DTMF8:from-tag1:Se", 10000) == 0 && strstr(reply, "6:result2:ok"), "srtp: unblock DTMF (S)", "%.200s", reply);
	RULES_WAIT(krules >= 2);
	check(krules == 2, "srtp: unblock DTMF puts both rules back", "%d rules", krules);
	reset(&sp); reset(&ps_);
	in0 = udp_in();
	exchange(&sp, 50, 1, 1, 1000);
	exchange(&ps_, 50, 1, 0, 1000);
	exchange(&sp, 4, 20000, 1, 1000);
	exchange(&ps_, 4, 20000, 0, 1000);
	in1 = udp_in();
	total = sp.sent + ps_.sent;
	check(sp.ok == sp.sent && ps_.ok == ps_.sent, "srtp kernel again: both directions byte for byte at the continued ROCs", "S->P %d/%d, P->S %d/%d", sp.ok, sp.sent, ps_.ok, ps_.sent);
	check(in0 >= 0 && in1 - in0 == total, "srtp kernel again: the daemon's sockets received none", "%lld -> %lld, %d sent", in0, in1, total);
	a = kslot(table, to_s, sp.ssrc);
	check(a.found && a.packets >= 54 && a.auth_failed == 0, "srtp kernel again: counters rise, no auth failures", "%llu packets, %llu auth failures",
	      (unsigned long long)a.packets, (unsigned long long)a.auth_failed);

	sleep(2); /* the daemon reads blist once a second */
	check(ng("d7:call-id4:srtp7:command5:querye", 10000) == 0 && strstr(reply, "10:kernelized"), "srtp: query: streams kernelized", "%.300s", reply);
	check(ng("d7:call-id4:srtp7:command6:delete8:from-tag1:Pe", 10000) == 0 && strstr(reply, "6:result2:ok"), "srtp: delete", "%.200s", reply);
	usleep(300000);
	kslot(table, 0, 0);
	check(krules == 0, "srtp: delete withdraws the kernel rules", "%d rules left", krules);
	close(P);
	close(S);
	return failures ? 1 : 0;
}
