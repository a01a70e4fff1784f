/* fuzz.c - garbage, truncated and bit-flipped packets into every transform; run under ASan/UBSan.
 * Every buffer is malloc'd to its exact length (or capacity), so any read or write past it traps. */
#include <stdlib.h>

#include "check.h"
#include "../rtpe_srtp.h"

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)rng;
}

typedef int (*unprot_fn)(rtpe_srtp_ctx *, uint8_t *, size_t);
typedef int (*prot_fn)(rtpe_srtp_ctx *, uint8_t *, size_t, size_t);

static int bad_results;

static void feed(rtpe_srtp_ctx *rx, unprot_fn f, const uint8_t *src, size_t len)
{
	uint8_t *b = malloc(len ? len : 1);
	if (!b)
		return;
	if (len)
		memcpy(b, src, len);
	int r = f(rx, b, len);
	if (r > (int)len || (r < 0 && r < RTPE_SRTP_E_MKI))
		bad_results++;
	free(b);
}

static void fuzz_suite(int suite, unsigned flags, int mki, int iterations)
{
	uint32_t kl, sl;
	rtpe_srtp_suite_info(suite, &kl, &sl, NULL, NULL);
	uint8_t master[46];
	for (size_t i = 0; i < sizeof(master); i++)
		master[i] = (uint8_t)rnd();
	rtpe_srtp_ctx *tx = rtpe_srtp_new(suite, master, kl, master + kl, sl, flags, NULL);
	rtpe_srtp_ctx *rx = rtpe_srtp_new(suite, master, kl, master + kl, sl, flags, NULL);
	CHECK(tx && rx, "suite %d ctx", suite);
	if (!tx || !rx)
		return;
	if (mki) {
		uint8_t m[7] = { 1, 2, 3, 4, 5, 6, 7 };
		rtpe_srtp_set_mki(tx, m, sizeof(m));
		rtpe_srtp_set_mki(rx, m, sizeof(m));
	}
	uint8_t pkt[600];
	for (int it = 0; it < iterations; it++) {
		int rtcp = it & 1;
		size_t len = rnd() % 120;
		for (size_t i = 0; i < len; i++)
			pkt[i] = (uint8_t)rnd();
		if (len && rnd() % 2)
			pkt[0] = (uint8_t)((pkt[0] & 0x3f) | 0x80); /* mostly version 2 */
		/* protect into an exactly sized buffer: random capacity around the need */
		size_t cap = len + rnd() % 40;
		uint8_t *pb = malloc(cap ? cap : 1);
		if (!pb)
			continue;
		if (len)
			memcpy(pb, pkt, len);
		prot_fn pf = rtcp ? rtpe_srtcp_protect : rtpe_srtp_protect;
		int pn = pf(tx, pb, len, cap);
		if (pn > (int)cap)
			bad_results++;
		unprot_fn uf = rtcp ? rtpe_srtcp_unprotect : rtpe_srtp_unprotect;
		/* pure garbage */
		feed(rx, uf, pkt, len);
		if (pn > 0) {
			/* every truncation, and one random bit flip, of a valid packet */
			for (size_t l = 0; l + 1 < (size_t)pn; l += 1 + rnd() % 5)
				feed(rx, uf, pb, l);
			memcpy(pkt, pb, (size_t)pn);
			pkt[rnd() % (uint32_t)pn] ^= (uint8_t)(1u << (rnd() % 8));
			feed(rx, uf, pkt, (size_t)pn);
			feed(rx, uf, pb, (size_t)pn);
		}
		free(pb);
	}
	rtpe_srtp_free(tx);
	rtpe_srtp_free(rx);
}

int main(int argc, char **argv)
{
	int iterations = argc > 1 ? atoi(argv[1]) : 4000;
	CHECK(rtpe_srtp_init() == 0, "libcrypto loads");
	static const unsigned flag_sets[] = { 0, RTPE_SRTP_UNENCRYPTED_SRTP | RTPE_SRTP_UNENCRYPTED_SRTCP,
					      RTPE_SRTP_UNAUTHENTICATED_SRTP };
	for (int s = 1; s <= RTPE_SRTP_SUITE_MAX; s++)
		for (size_t f = 0; f < 3; f++)
			for (int mki = 0; mki < 2; mki++) {
				int aead = s >= RTPE_SRTP_AEAD_AES_128_GCM;
				if (aead && (flag_sets[f] & RTPE_SRTP_UNAUTHENTICATED_SRTP))
					continue;
				bad_results = 0;
				fuzz_suite(s, flag_sets[f], mki, iterations);
				CHECK(bad_results == 0, "suite %d flags %x mki %d: %d impossible results", s,
				      flag_sets[f], mki, bad_results);
			}
	return check_report("fuzz");
}
