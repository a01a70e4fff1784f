/* fuzz.c - under ASan/UBSan: handshakes between two connections, then random and mutated
 * datagrams fed to fresh, handshaking and connected connections; prints "fuzz: N passed, M failed". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../rtpe_dtls.h"

static int passed, failed;
#define CHECK(c) \
	do { \
		if (c) \
			passed++; \
		else { \
			failed++; \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c); \
		} \
	} while (0)

#define CORPUS_MAX 64
static uint8_t corpus[CORPUS_MAX][2048];
static size_t corpus_len[CORPUS_MAX];
static int corpus_n;

static uint64_t rng = 0x9e3779b97f4a7c15u;
static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

/* move queued datagrams between a and b until quiet; remember them as fuzz seeds */
static void exchange(rtpe_dtls_conn *a, rtpe_dtls_conn *b)
{
	uint8_t buf[4096];
	for (int round = 0; round < 20; round++) {
		int moved = 0;
		rtpe_dtls_conn *from[2] = { a, b }, *to[2] = { b, a };
		for (int s = 0; s < 2; s++) {
			int n;
			while ((n = rtpe_dtls_conn_next_out(from[s], buf, sizeof(buf))) > 0) {
				if (corpus_n < CORPUS_MAX && (size_t)n <= sizeof(corpus[0])) {
					memcpy(corpus[corpus_n], buf, (size_t)n);
					corpus_len[corpus_n++] = (size_t)n;
				}
				rtpe_dtls_conn_feed(to[s], buf, (size_t)n);
				moved = 1;
			}
		}
		if (!moved)
			return;
	}
}

static void feed_garbage(rtpe_dtls_conn *c, int iter)
{
	uint8_t d[2048], out[4096];
	size_t len;
	if (iter % 3 == 0 || corpus_n == 0) {
		len = 1 + rnd() % 400;
		for (size_t i = 0; i < len; i++)
			d[i] = (uint8_t)rnd();
		d[0] = (uint8_t)(20 + d[0] % 44);
	} else {
		int k = (int)(rnd() % (uint32_t)corpus_n);
		len = corpus_len[k];
		memcpy(d, corpus[k], len);
		for (int f = 0; f < 1 + iter % 5; f++)
			d[rnd() % len] = (uint8_t)rnd();
		if (iter % 3 == 2)
			len = 1 + rnd() % len;
	}
	int st = rtpe_dtls_conn_feed(c, d, len);
	CHECK((st >= RTPE_DTLS_S_NEW && st <= RTPE_DTLS_S_FAILED) || (st == RTPE_DTLS_E_NOTDTLS && (d[0] < 20 || d[0] > 63)));
	while (rtpe_dtls_conn_next_out(c, out, sizeof(out)) > 0)
		;
	rtpe_dtls_conn_handle_timer(c);
	CHECK(rtpe_dtls_conn_error(c) != NULL);
}

int main(void)
{
	char err[256];
	CHECK(rtpe_dtls_init() == 0);
	rtpe_dtls_cert *cert = rtpe_dtls_cert_new(RTPE_DTLS_KEY_EC_P256, 0, RTPE_DTLS_SIG_SHA256, NULL, NULL, 0, err,
						  sizeof(err));
	CHECK(cert != NULL);
	if (!cert) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	uint8_t fp[64];
	int fpl = rtpe_dtls_cert_fingerprint(cert, "sha-256", fp, sizeof(fp));
	CHECK(fpl == 32);
	CHECK(rtpe_dtls_cert_fingerprint(cert, "md5", fp, sizeof(fp)) == RTPE_DTLS_E_INVAL);
	CHECK(rtpe_dtls_cert_fingerprint(cert, "sha-512", fp, 10) == RTPE_DTLS_E_NOSPACE);

	/* a clean handshake */
	rtpe_dtls_conn *a = rtpe_dtls_conn_new(cert, RTPE_DTLS_ACTIVE, 0, err, sizeof(err));
	rtpe_dtls_conn *p = rtpe_dtls_conn_new(cert, RTPE_DTLS_PASSIVE, 0, err, sizeof(err));
	CHECK(a && p);
	if (!a || !p)
		return 1;
	CHECK(rtpe_dtls_conn_expect(a, "sha-256", fp, (size_t)fpl) == 0);
	CHECK(rtpe_dtls_conn_expect(p, "SHA256", fp, (size_t)fpl) == 0);
	CHECK(rtpe_dtls_conn_expect(p, "sha-256", fp, 65) == RTPE_DTLS_E_INVAL);
	rtpe_dtls_conn_start(a);
	exchange(a, p);
	CHECK(rtpe_dtls_conn_state(a) == RTPE_DTLS_S_CONNECTED);
	CHECK(rtpe_dtls_conn_state(p) == RTPE_DTLS_S_CONNECTED);
	int suite = 0;
	uint32_t kl = 0, sl = 0;
	uint8_t ka[RTPE_DTLS_KEYS_MAX], kp[RTPE_DTLS_KEYS_MAX];
	int na = rtpe_dtls_conn_keys(a, &suite, &kl, &sl, ka, sizeof(ka));
	int np = rtpe_dtls_conn_keys(p, &suite, &kl, &sl, kp, sizeof(kp));
	CHECK(na == 88 && np == 88 && suite == 12);
	CHECK(na == 88 && memcmp(ka, kp + kl + sl, kl + sl) == 0 && memcmp(kp, ka + kl + sl, kl + sl) == 0);
	CHECK(rtpe_dtls_conn_keys(a, &suite, &kl, &sl, ka, 10) == RTPE_DTLS_E_NOSPACE);
	uint8_t small[8];
	CHECK(rtpe_dtls_conn_next_out(a, small, sizeof(small)) == 0);

	/* garbage against connected, fresh passive, fresh active and handshaking connections */
	for (int i = 0; i < 300; i++)
		feed_garbage(i % 2 ? a : p, i);
	CHECK(rtpe_dtls_conn_keys(a, &suite, &kl, &sl, ka, sizeof(ka)) == 88);
	int fails = 0;
	for (int i = 0; i < 600; i++) {
		rtpe_dtls_conn *c = rtpe_dtls_conn_new(cert, i % 2 ? RTPE_DTLS_ACTIVE : RTPE_DTLS_PASSIVE, 576, err,
						       sizeof(err));
		CHECK(c != NULL);
		if (!c)
			continue;
		if (i % 4 == 1)
			rtpe_dtls_conn_start(c);
		if (i % 4 == 3) { /* half way through a real handshake */
			rtpe_dtls_conn *peer = rtpe_dtls_conn_new(cert, RTPE_DTLS_PASSIVE, 0, err, sizeof(err));
			uint8_t buf[4096];
			int n;
			rtpe_dtls_conn_start(c);
			while ((n = rtpe_dtls_conn_next_out(c, buf, sizeof(buf))) > 0)
				rtpe_dtls_conn_feed(peer, buf, (size_t)n);
			rtpe_dtls_conn_free(peer);
		}
		for (int j = 0; j < 6; j++)
			feed_garbage(c, i + j);
		if (rtpe_dtls_conn_state(c) == RTPE_DTLS_S_FAILED) {
			fails++;
			CHECK(rtpe_dtls_conn_error(c)[0] != '\0');
		}
		rtpe_dtls_conn_free(c);
	}
	/* refused inputs */
	uint8_t rtp[12] = { 0x80 };
	CHECK(rtpe_dtls_conn_feed(a, rtp, sizeof(rtp)) == RTPE_DTLS_E_NOTDTLS);
	CHECK(rtpe_dtls_conn_feed(a, NULL, 5) == RTPE_DTLS_E_INVAL);
	CHECK(rtpe_dtls_conn_feed(NULL, rtp, 5) == RTPE_DTLS_E_INVAL);
	CHECK(rtpe_dtls_conn_new(cert, 7, 0, err, sizeof(err)) == NULL);
	CHECK(rtpe_dtls_conn_new(cert, RTPE_DTLS_ACTIVE, 100, err, sizeof(err)) == NULL);
	CHECK(rtpe_dtls_demux(NULL, 0) == RTPE_DTLS_DEMUX_OTHER);

	rtpe_dtls_conn_free(a);
	rtpe_dtls_conn_free(p);
	rtpe_dtls_cert_unref(cert);
	printf("fuzz: %d garbage-fed connections failed (reported)\n", fails);
	printf("fuzz: %d passed, %d failed\n", passed, failed);
	return failed != 0;
}
