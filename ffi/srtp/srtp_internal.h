/* srtp_internal.h - the context layout and the helpers shared by the SRTP source files. */
#ifndef RTPE_SRTP_INTERNAL_H
#define RTPE_SRTP_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ossl.h"
#include "rtpe_srtp.h"

#define SRTP_SSRC_SLOTS 8
#define SRTP_WINDOW 64           /* replay window, packets */
#define SRTP_MAX_KEY 32
#define SRTP_MAX_SALT 14
#define SRTP_AUTH_KEY_LEN 20     /* HMAC-SHA1 session auth key, RFC 3711 */
#define SRTP_GCM_TAG 16

enum srtp_cipher { CIPHER_NULL, CIPHER_AES_CM, CIPHER_AES_F8, CIPHER_AES_GCM };

/* Static description of one suite. */
struct srtp_suite {
	enum srtp_cipher cipher;
	uint8_t key_len;    /* master = session key length */
	uint8_t salt_len;   /* master = session salt length */
	uint8_t srtp_tag;   /* HMAC tag on SRTP (GCM: 16, part of the cipher output) */
	uint8_t srtcp_tag;  /* HMAC tag on SRTCP */
};
const struct srtp_suite *srtp_suite_get(int suite);

/* Keys of one of the two sub-streams (SRTP or SRTCP) after derivation. */
struct srtp_keys {
	uint8_t enc[SRTP_MAX_KEY];
	uint8_t salt[SRTP_MAX_SALT];
	uint8_t auth[SRTP_AUTH_KEY_LEN];
};

/* The ready-to-use crypto state for one sub-stream. */
struct srtp_xform {
	EVP_CIPHER_CTX *cipher;  /* ECB (AES-CM, F8) or GCM, keyed with the session key */
	EVP_CIPHER_CTX *f8_iv;   /* F8 only: ECB keyed with key XOR mask, makes IV' */
	EVP_MD_CTX *hmac_inner;  /* SHA1 state after (key ^ ipad) */
	EVP_MD_CTX *hmac_outer;  /* SHA1 state after (key ^ opad) */
	EVP_MD_CTX *hmac_work;
	struct rtpe_sha1_state sha_inner, sha_outer; /* when rtpe_ossl.sha1_direct */
	uint8_t salt[SRTP_MAX_SALT];
};

/* Per-SSRC state. */
struct srtp_ssrc {
	uint32_t ssrc;
	bool used;
	bool rtp_seen;            /* rtp_index valid */
	bool rtcp_seen;           /* rtcp_index / rtcp_window valid (receiver) */
	uint64_t rtp_index;       /* highest ROC<<16|SEQ seen */
	uint64_t rtp_window;      /* bit i: rtp_index - i received */
	uint32_t rtcp_index;      /* sender: next index; receiver: highest accepted */
	uint64_t rtcp_window;
	uint64_t last_use;
};

struct rtpe_srtp_ctx {
	const struct srtp_suite *suite;
	unsigned flags;
	struct srtp_xform rtp, rtcp;
	uint8_t mki[RTPE_SRTP_MAX_MKI];
	size_t mki_len;
	uint64_t clock;           /* LRU counter for the SSRC slots */
	struct srtp_ssrc slots[SRTP_SSRC_SLOTS];
};

/* kdf.c: AES-CM PRF of RFC 3711 4.3.3 (KDR 0), keyed with the master key. */
int srtp_kdf(const uint8_t *mkey, size_t mklen, const uint8_t *msalt, size_t mslen, uint8_t label,
	     uint8_t *out, size_t outlen);

/* cipher.c: keystream ciphers, each XORing data[0..len) in place. iv is 16 bytes. AES-CM takes
 * an ECB context keyed with the session key. */
int srtp_aes_cm(EVP_CIPHER_CTX *c, const uint8_t iv[16], uint8_t *data, size_t len);
int srtp_aes_f8(const struct srtp_xform *x, const uint8_t iv[16], uint8_t *data, size_t len);
/* GCM: encrypt data in place and write a 16-byte tag; or check tag and decrypt (E_AUTH on
 * mismatch, data restored). aad may be empty. */
int srtp_gcm_seal(EVP_CIPHER_CTX *c, const uint8_t iv[12], const uint8_t *aad, size_t aadlen,
		  const uint8_t *aad2, size_t aad2len, uint8_t *data, size_t len, uint8_t tag[SRTP_GCM_TAG]);
int srtp_gcm_open(EVP_CIPHER_CTX *c, const uint8_t iv[12], const uint8_t *aad, size_t aadlen,
		  const uint8_t *aad2, size_t aad2len, uint8_t *data, size_t len, const uint8_t tag[SRTP_GCM_TAG]);
int srtp_xform_init(struct srtp_xform *x, const struct srtp_suite *s, const struct srtp_keys *k);
void srtp_xform_free(struct srtp_xform *x);

/* auth.c: HMAC-SHA1 over a then b (b may be empty), full 20-byte output. */
int srtp_hmac(struct srtp_xform *x, const uint8_t *a, size_t alen, const uint8_t *b, size_t blen,
	      uint8_t out[20]);
int srtp_hmac_init(struct srtp_xform *x, const uint8_t key[SRTP_AUTH_KEY_LEN]);
/* constant-time comparison: 0 when equal */
int srtp_ct_differ(const uint8_t *a, const uint8_t *b, size_t n);
void srtp_wipe(void *p, size_t n);

/* replay.c: SSRC slots, index estimation (RFC 3711 3.3.1, appendix A) and replay windows. */
struct srtp_ssrc *srtp_slot(rtpe_srtp_ctx *ctx, uint32_t ssrc, bool create);
uint64_t srtp_estimate_index(const struct srtp_ssrc *st, uint16_t seq);
int srtp_rtp_replay_check(const struct srtp_ssrc *st, uint64_t index);
void srtp_rtp_replay_update(struct srtp_ssrc *st, uint64_t index);
int srtp_rtcp_replay_check(const struct srtp_ssrc *st, uint32_t index);
void srtp_rtcp_replay_update(struct srtp_ssrc *st, uint32_t index);

/* big-endian helpers */
static inline uint16_t srtp_be16(const uint8_t *p)
{
	return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}
static inline uint32_t srtp_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline void srtp_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

#endif
