/* behave.c - behaviour of every suite end to end: ROC across wrap, replay, tampering, truncation, MKI, flags. */
#include <stdlib.h>

#include "check.h"
#include "../rtpe_srtp.h"

#define CAP 1500
#define SSRC 0x01020304u

static uint32_t rng = 777;
static uint8_t rnd(void)
{
	rng = rng * 1103515245u + 12345u;
	return (uint8_t)(rng >> 16);
}

static rtpe_srtp_ctx *mk(int suite, const uint8_t *master, unsigned flags)
{
	uint32_t kl, sl;
	rtpe_srtp_suite_info(suite, &kl, &sl, NULL, NULL);
	int err = 0;
	rtpe_srtp_ctx *c = rtpe_srtp_new(suite, master, kl, master + kl, sl, flags, &err);
	CHECK(c != NULL, "suite %d flags %x: new failed %d", suite, flags, err);
	return c;
}

static size_t rtp(uint8_t *b, uint16_t seq, uint32_t ssrc, size_t payload, int csrc_ext)
{
	b[0] = (uint8_t)(0x80 | (csrc_ext ? 0x11 : 0));
	b[1] = 0;
	b[2] = (uint8_t)(seq >> 8);
	b[3] = (uint8_t)seq;
	memset(b + 4, 0x42, 4);
	b[8] = (uint8_t)(ssrc >> 24); b[9] = (uint8_t)(ssrc >> 16); b[10] = (uint8_t)(ssrc >> 8); b[11] = (uint8_t)ssrc;
	size_t n = 12;
	if (csrc_ext) {
		memset(b + n, 0x11, 4);             /* one CSRC */
		n += 4;
		b[n] = 0xbe; b[n + 1] = 0xde; b[n + 2] = 0; b[n + 3] = 1;
		memset(b + n + 4, 0x22, 4);
		n += 8;
	}
	for (size_t i = 0; i < payload; i++)
		b[n++] = rnd();
	return n;
}

static size_t rtcp(uint8_t *b, uint32_t ssrc)
{
	b[0] = 0x80; b[1] = 201; b[2] = 0; b[3] = 7;
	b[4] = (uint8_t)(ssrc >> 24); b[5] = (uint8_t)(ssrc >> 16); b[6] = (uint8_t)(ssrc >> 8); b[7] = (uint8_t)ssrc;
	for (int i = 8; i < 32; i++)
		b[i] = rnd();
	return 32;
}

static void suite_behaviour(int suite, unsigned flags, int use_mki)
{
	uint8_t master[46], other[46];
	for (size_t i = 0; i < sizeof(master); i++) {
		master[i] = rnd();
		other[i] = (uint8_t)(master[i] ^ 1);
	}
	rtpe_srtp_ctx *tx = mk(suite, master, flags), *rx = mk(suite, master, flags);
	rtpe_srtp_ctx *wrong = mk(suite, other, flags);
	if (!tx || !rx || !wrong)
		return;
	static const uint8_t mki[3] = { 1, 2, 3 };
	if (use_mki) {
		rtpe_srtp_set_mki(tx, mki, 3);
		rtpe_srtp_set_mki(rx, mki, 3);
		rtpe_srtp_set_mki(wrong, mki, 3);
	}
	uint8_t plain[CAP], pkt[CAP], held[CAP], saved[CAP], tmp[CAP];
	size_t held_len = 0, saved_len = 0, held_plain = 0;
	int bad = 0, encrypted_seen = 0;
	/* 200 packets from seq 65500: wraps once; packet 20 is held back and delivered 10 later */
	for (int i = 0; i < 200; i++) {
		uint16_t seq = (uint16_t)(65500 + i);
		size_t n = rtp(plain, seq, SSRC, (size_t)(i % 50) * 3, i % 4 == 0);
		memcpy(pkt, plain, n);
		int pn = rtpe_srtp_protect(tx, pkt, n, CAP);
		if (pn < (int)n) {
			bad++;
			continue;
		}
		if (memcmp(pkt, plain, n) != 0)
			encrypted_seen = 1;
		if (i == 20) {
			memcpy(held, pkt, (size_t)pn);
			held_len = (size_t)pn;
			held_plain = n;
			continue;
		}
		if (i == 10) {
			memcpy(saved, pkt, (size_t)pn);
			saved_len = (size_t)pn;
		}
		int rn = rtpe_srtp_unprotect(rx, pkt, (size_t)pn);
		if (rn != (int)n || memcmp(pkt, plain, n) != 0)
			bad++;
		if (i == 30) {
			memcpy(tmp, held, held_len);
			CHECK(rtpe_srtp_unprotect(rx, tmp, held_len) == (int)held_plain,
			      "suite %d: late packet inside the window accepted", suite);
			memcpy(tmp, held, held_len);
			CHECK(rtpe_srtp_unprotect(rx, tmp, held_len) == RTPE_SRTP_E_REPLAY,
			      "suite %d: late packet twice is a replay", suite);
		}
	}
	CHECK(bad == 0, "suite %d flags %x mki %d: %d round trips failed", suite, flags, use_mki, bad);
	int expect_clear = (flags & RTPE_SRTP_UNENCRYPTED_SRTP) || suite == RTPE_SRTP_NULL_HMAC_SHA1_80 ||
			   suite == RTPE_SRTP_NULL_HMAC_SHA1_32;
	CHECK(encrypted_seen == !expect_clear, "suite %d flags %x: payload encryption %d", suite, flags,
	      encrypted_seen);
	uint64_t idx = 0;
	CHECK(rtpe_srtp_get_index(rx, SSRC, &idx, NULL) == 0 && idx == (1ULL << 16 | 163),
	      "suite %d: index after wrap %llx", suite, (unsigned long long)idx);
	memcpy(tmp, saved, saved_len);
	CHECK(rtpe_srtp_unprotect(rx, tmp, saved_len) == RTPE_SRTP_E_REPLAY, "suite %d: old packet", suite);

	/* tampering, wrong key, truncation, no room, bad version */
	size_t n = rtp(plain, 200, SSRC, 100, 1);
	memcpy(pkt, plain, n);
	int pn = rtpe_srtp_protect(tx, pkt, n, CAP);
	int authenticated = !(flags & RTPE_SRTP_UNAUTHENTICATED_SRTP);
	memcpy(saved, pkt, (size_t)pn);
	if (authenticated) {
		pkt[n - 5] ^= 0x10;
		CHECK(rtpe_srtp_unprotect(rx, pkt, (size_t)pn) == RTPE_SRTP_E_AUTH, "suite %d: payload bit", suite);
		pkt[n - 5] ^= 0x10;
		CHECK(memcmp(pkt, saved, (size_t)pn) == 0, "suite %d: packet restored after auth failure", suite);
		pkt[3] ^= 1;
		CHECK(rtpe_srtp_unprotect(rx, pkt, (size_t)pn) == RTPE_SRTP_E_AUTH, "suite %d: header bit", suite);
		pkt[3] ^= 1;
		pkt[pn - 1] ^= 0x80;
		CHECK(rtpe_srtp_unprotect(rx, pkt, (size_t)pn) < 0, "suite %d: tag or MKI bit", suite);
		pkt[pn - 1] ^= 0x80;
		memcpy(tmp, pkt, (size_t)pn);
		CHECK(rtpe_srtp_unprotect(wrong, tmp, (size_t)pn) == RTPE_SRTP_E_AUTH, "suite %d: wrong key", suite);
	}
	int tooshort = 0;
	for (size_t l = 0; l < (size_t)pn; l++) {
		memcpy(tmp, saved, l);
		int r = rtpe_srtp_unprotect(rx, tmp, l);
		/* without a tag any cut behind the 24-byte header is a valid packet */
		if (r >= 0 && (authenticated || l < 24))
			tooshort++;
		if (!authenticated && l >= 24)
			break;
	}
	CHECK(tooshort == 0, "suite %d: %d truncations accepted", suite, tooshort);
	CHECK(!authenticated || (rtpe_srtp_unprotect(rx, pkt, (size_t)pn) == (int)n &&
				 memcmp(pkt, plain, n) == 0), "suite %d: untouched packet still accepted", suite);
	memcpy(pkt, plain, n);
	CHECK(rtpe_srtp_protect(tx, pkt, n, (size_t)pn - 1) == RTPE_SRTP_E_NOSPACE &&
	      memcmp(pkt, plain, n) == 0, "suite %d: no room", suite);
	pkt[0] = 0x40;
	CHECK(rtpe_srtp_protect(tx, pkt, n, CAP) == RTPE_SRTP_E_SHORT, "suite %d: version 1", suite);
	if (use_mki) {
		static const uint8_t other_mki[3] = { 9, 9, 9 };
		rtpe_srtp_ctx *rx2 = mk(suite, master, flags);
		rtpe_srtp_set_mki(rx2, other_mki, 3);
		memcpy(tmp, saved, (size_t)pn);
		CHECK(rtpe_srtp_unprotect(rx2, tmp, (size_t)pn) == RTPE_SRTP_E_MKI, "suite %d: MKI mismatch", suite);
		rtpe_srtp_free(rx2);
	}

	/* SRTCP */
	bad = 0;
	for (int i = 0; i < 20; i++) {
		size_t cn = rtcp(plain, SSRC);
		memcpy(pkt, plain, cn);
		int cp = rtpe_srtcp_protect(tx, pkt, cn, CAP);
		int clear = memcmp(pkt + 8, plain + 8, cn - 8) == 0;
		int want_clear = (flags & RTPE_SRTP_UNENCRYPTED_SRTCP) || suite == RTPE_SRTP_NULL_HMAC_SHA1_80 ||
				 suite == RTPE_SRTP_NULL_HMAC_SHA1_32;
		if (cp <= (int)cn || clear != want_clear)
			bad++;
		if (i == 3) {
			memcpy(saved, pkt, (size_t)cp);
			saved_len = (size_t)cp;
		}
		if (rtpe_srtcp_unprotect(rx, pkt, (size_t)cp) != (int)cn || memcmp(pkt, plain, cn))
			bad++;
	}
	CHECK(bad == 0, "suite %d flags %x: %d SRTCP round trips failed", suite, flags, bad);
	memcpy(tmp, saved, saved_len);
	CHECK(rtpe_srtcp_unprotect(rx, tmp, saved_len) == RTPE_SRTP_E_REPLAY, "suite %d: SRTCP replay", suite);
	size_t cn = rtcp(plain, SSRC);
	memcpy(pkt, plain, cn);
	int cp = rtpe_srtcp_protect(tx, pkt, cn, CAP);
	memcpy(saved, pkt, (size_t)cp);
	pkt[12] ^= 4;
	CHECK(rtpe_srtcp_unprotect(rx, pkt, (size_t)cp) == RTPE_SRTP_E_AUTH, "suite %d: SRTCP tamper", suite);
	tooshort = 0;
	for (size_t l = 0; l < (size_t)cp; l++) {
		memcpy(tmp, saved, l);
		if (rtpe_srtcp_unprotect(rx, tmp, l) >= 0)
			tooshort++;
	}
	CHECK(tooshort == 0, "suite %d: %d SRTCP truncations accepted", suite, tooshort);
	rtpe_srtp_free(tx);
	rtpe_srtp_free(rx);
	rtpe_srtp_free(wrong);
}

static void roc_estimation(void)
{
	uint8_t master[46] = { 7 }, plain[CAP], pkt[CAP];
	rtpe_srtp_ctx *tx = mk(RTPE_SRTP_AES_CM_128_HMAC_SHA1_80, master, 0);
	rtpe_srtp_ctx *rx = mk(RTPE_SRTP_AES_CM_128_HMAC_SHA1_80, master, 0);
	/* both sides start at ROC 5 near the wrap (a stream handed over mid-call) */
	rtpe_srtp_set_index(tx, SSRC, 5ULL << 16 | 65530, 0);
	rtpe_srtp_set_index(rx, SSRC, 5ULL << 16 | 65530, 0);
	uint16_t seqs[] = { 65533, 3, 65535, 0, 1, 65534 /* late, before the wrap */, 30000, 60000, 9000 };
	uint64_t want[] = { 5ULL << 16 | 65533, 6ULL << 16 | 3, 5ULL << 16 | 65535, 6ULL << 16 | 0,
			    6ULL << 16 | 1, 5ULL << 16 | 65534, 6ULL << 16 | 30000, 6ULL << 16 | 60000,
			    7ULL << 16 | 9000 };
	for (size_t i = 0; i < sizeof(seqs) / sizeof(seqs[0]); i++) {
		size_t n = rtp(plain, seqs[i], SSRC, 20, 0);
		memcpy(pkt, plain, n);
		int pn = rtpe_srtp_protect(tx, pkt, n, CAP);
		int rn = rtpe_srtp_unprotect(rx, pkt, (size_t)pn);
		uint64_t idx = 0;
		rtpe_srtp_get_index(rx, SSRC, &idx, NULL);
		uint64_t hi = idx > want[i] ? idx : want[i];
		CHECK(rn == (int)n && memcmp(pkt, plain, n) == 0 && hi == idx,
		      "seq %u: rn %d highest %llx want index %llx", seqs[i], rn, (unsigned long long)idx,
		      (unsigned long long)want[i]);
	}
	uint64_t idx = 0;
	rtpe_srtp_get_index(rx, SSRC, &idx, NULL);
	CHECK(idx == (7ULL << 16 | 9000), "final index %llx", (unsigned long long)idx);
	/* a jump of more than 2^15 is read as the closer, older index: outside the window */
	size_t n = rtp(plain, 50000, SSRC, 20, 0);
	memcpy(pkt, plain, n);
	int pn = rtpe_srtp_protect(tx, pkt, n, CAP);
	CHECK(rtpe_srtp_unprotect(rx, pkt, (size_t)pn) == RTPE_SRTP_E_REPLAY, "jump read as ROC 6: too old");
	rtpe_srtp_free(tx);
	rtpe_srtp_free(rx);
}

static void ssrc_slots(void)
{
	uint8_t master[46] = { 3 }, pkt[CAP];
	rtpe_srtp_ctx *tx = mk(RTPE_SRTP_AES_CM_128_HMAC_SHA1_80, master, 0);
	for (uint32_t s = 1; s <= 9; s++) {
		size_t n = rtp(pkt, 100, s, 10, 0);
		CHECK(rtpe_srtp_protect(tx, pkt, n, CAP) > 0, "ssrc %u", s);
	}
	CHECK(rtpe_srtp_get_index(tx, 1, NULL, NULL) == -1, "least recently used SSRC recycled");
	CHECK(rtpe_srtp_get_index(tx, 9, NULL, NULL) == 0 && rtpe_srtp_get_index(tx, 2, NULL, NULL) == 0,
	      "other SSRCs kept");
	rtpe_srtp_free(tx);
}

static void bad_arguments(void)
{
	uint8_t k[32] = { 0 };
	int err = 0;
	CHECK(rtpe_srtp_new(RTPE_SRTP_AES_CM_128_HMAC_SHA1_80, k, 15, k, 14, 0, &err) == NULL &&
	      err == RTPE_SRTP_E_INVAL, "short key rejected");
	CHECK(rtpe_srtp_new(99, k, 16, k, 14, 0, &err) == NULL && err == RTPE_SRTP_E_INVAL, "unknown suite");
	rtpe_srtp_ctx *g = rtpe_srtp_new(RTPE_SRTP_AEAD_AES_128_GCM, k, 16, k, 12, RTPE_SRTP_UNAUTHENTICATED_SRTP, &err);
	uint8_t p[64] = { 0x80, 0, 0, 1 };
	int gl = rtpe_srtp_protect(g, p, 20, sizeof(p));
	CHECK(gl == 36, "GCM ignores UNAUTHENTICATED_SRTP: still tagged (%d)", gl);
	rtpe_srtp_free(g);
	CHECK(rtpe_srtp_new(RTPE_SRTP_AES_CM_128_HMAC_SHA1_80, k, 16, k, 14, 0x100, &err) == NULL, "unknown flag");
	rtpe_srtp_ctx *c = rtpe_srtp_new(RTPE_SRTP_AES_CM_128_HMAC_SHA1_80, k, 16, k, 14, 0, &err);
	uint8_t big[RTPE_SRTP_MAX_MKI + 1] = { 0 };
	CHECK(rtpe_srtp_set_mki(c, big, sizeof(big)) == RTPE_SRTP_E_INVAL, "MKI too long");
	CHECK(rtpe_srtp_protect(c, NULL, 0, 0) == RTPE_SRTP_E_INVAL, "NULL buffer");
	rtpe_srtp_free(c);
	rtpe_srtp_free(NULL);
}

int main(void)
{
	CHECK(rtpe_srtp_init() == 0, "libcrypto loads");
	for (int s = 1; s <= RTPE_SRTP_SUITE_MAX; s++) {
		int aead = s == RTPE_SRTP_AEAD_AES_128_GCM || s == RTPE_SRTP_AEAD_AES_256_GCM;
		suite_behaviour(s, 0, 0);
		suite_behaviour(s, 0, 1);
		suite_behaviour(s, RTPE_SRTP_UNENCRYPTED_SRTP, 0);
		suite_behaviour(s, RTPE_SRTP_UNENCRYPTED_SRTCP, 1);
		if (!aead)
			suite_behaviour(s, RTPE_SRTP_UNAUTHENTICATED_SRTP, 0);
	}
	roc_estimation();
	ssrc_slots();
	bad_arguments();
	return check_report("behaviour");
}
