/* rtpe_srtp.h - public API of the SRTP/SRTCP packet transform (RFC 3711, RFC 6188, RFC 7714). */
#ifndef RTPE_SRTP_H
#define RTPE_SRTP_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped whenever a signature, a constant or a numbering below changes. */
#define RTPE_SRTP_API_VERSION 1

/* Crypto suites, named as rtpengine's SDES code names them. The numbers are ABI; they are not
 * rtpengine's offer order (see src/crypto/srtp.ts). */
enum rtpe_srtp_suite {
	RTPE_SRTP_AES_CM_128_HMAC_SHA1_80 = 1,
	RTPE_SRTP_AES_CM_128_HMAC_SHA1_32 = 2,
	RTPE_SRTP_AES_192_CM_HMAC_SHA1_80 = 3,
	RTPE_SRTP_AES_192_CM_HMAC_SHA1_32 = 4,
	RTPE_SRTP_AES_256_CM_HMAC_SHA1_80 = 5,
	RTPE_SRTP_AES_256_CM_HMAC_SHA1_32 = 6,
	RTPE_SRTP_F8_128_HMAC_SHA1_80 = 7,
	RTPE_SRTP_F8_128_HMAC_SHA1_32 = 8,
	RTPE_SRTP_NULL_HMAC_SHA1_80 = 9,
	RTPE_SRTP_NULL_HMAC_SHA1_32 = 10,
	RTPE_SRTP_AEAD_AES_128_GCM = 11,
	RTPE_SRTP_AEAD_AES_256_GCM = 12,
};
#define RTPE_SRTP_SUITE_MAX 12

/* Context flags: the RFC 4568 SDES session parameters, plus one for test vectors. */
#define RTPE_SRTP_UNENCRYPTED_SRTP   0x1u  /* RTP payload left in clear (GCM: tag only)  */
#define RTPE_SRTP_UNENCRYPTED_SRTCP  0x2u  /* SRTCP sent with E=0 (payload in clear)      */
#define RTPE_SRTP_UNAUTHENTICATED_SRTP 0x4u /* no RTP auth tag (ignored by GCM suites)   */
#define RTPE_SRTP_SESSION_KEYS       0x8u  /* key/salt ARE the session keys (GCM only, skips
                                              the KDF; for RFC 7714 vectors) */
#define RTPE_SRTP_NO_REPLAY_CHECK    0x10u /* unprotect: accept repeated indices */

/* Error codes (all negative). */
#define RTPE_SRTP_E_SHORT   (-1) /* too short, not RTP/RTCP version 2, or malformed header */
#define RTPE_SRTP_E_AUTH    (-2) /* authentication tag mismatch */
#define RTPE_SRTP_E_REPLAY  (-3) /* index already seen or older than the replay window */
#define RTPE_SRTP_E_NOSPACE (-4) /* protect: cap too small for tag/MKI/SRTCP index */
#define RTPE_SRTP_E_CRYPTO  (-5) /* libcrypto call failed */
#define RTPE_SRTP_E_INVAL   (-6) /* bad argument (suite, key length, NULL, flags) */
#define RTPE_SRTP_E_NOLIB   (-7) /* libcrypto.so.3 could not be loaded */
#define RTPE_SRTP_E_MKI     (-8) /* unprotect: MKI in packet differs from the configured one */

#define RTPE_SRTP_MAX_MKI 128    /* RFC 4568 MKI length is 1..128 bytes */
#define RTPE_SRTP_MAX_OVERHEAD (16 + 4 + RTPE_SRTP_MAX_MKI) /* tag + SRTCP index + MKI */

/* Exported even when the including library builds with -fvisibility=hidden. */
#ifndef RTPE_SRTP_API
#define RTPE_SRTP_API __attribute__((visibility("default")))
#endif

typedef struct rtpe_srtp_ctx rtpe_srtp_ctx;

/* 0 when libcrypto.so.3 is loaded (loads it on first call), else RTPE_SRTP_E_NOLIB. */
RTPE_SRTP_API int rtpe_srtp_init(void);
/* RTPE_SRTP_API_VERSION of the library. */
RTPE_SRTP_API int rtpe_srtp_api_version(void);

/* One context per stream and direction, created once and reused for every packet; it tracks up
 * to 8 SSRCs (ROC, replay window, SRTCP index) and recycles the least recently used slot.
 * key/salt: master key and salt of the suite's lengths. Returns NULL on any error; *err (may be
 * NULL) gets the reason. A context must not be used by two threads at once. */
RTPE_SRTP_API rtpe_srtp_ctx *rtpe_srtp_new(int suite, const uint8_t *key, size_t klen, const uint8_t *salt,
			     size_t slen, unsigned flags, int *err);
RTPE_SRTP_API void rtpe_srtp_free(rtpe_srtp_ctx *ctx);
/* Configure the MKI carried in every packet (len 0 = none). 0 or RTPE_SRTP_E_INVAL. */
RTPE_SRTP_API int rtpe_srtp_set_mki(rtpe_srtp_ctx *ctx, const uint8_t *mki, size_t len);

/* In-place transforms of buf[0..len), with cap bytes writable at buf. Return the new length or a
 * negative RTPE_SRTP_E_*. On error the buffer holds the original packet again. */
RTPE_SRTP_API int rtpe_srtp_protect(rtpe_srtp_ctx *ctx, uint8_t *buf, size_t len, size_t cap);
RTPE_SRTP_API int rtpe_srtp_unprotect(rtpe_srtp_ctx *ctx, uint8_t *buf, size_t len);
RTPE_SRTP_API int rtpe_srtcp_protect(rtpe_srtp_ctx *ctx, uint8_t *buf, size_t len, size_t cap);
RTPE_SRTP_API int rtpe_srtcp_unprotect(rtpe_srtp_ctx *ctx, uint8_t *buf, size_t len);

/* Per-SSRC state, for handing a stream between forwarders or restoring it. rtp_index is the
 * 48-bit packet index ROC<<16|SEQ of the highest packet seen; srtcp_index is the next index
 * protect uses (or the highest accepted by unprotect). get returns 0 or -1 (unknown SSRC). */
RTPE_SRTP_API int rtpe_srtp_get_index(const rtpe_srtp_ctx *ctx, uint32_t ssrc, uint64_t *rtp_index,
			uint32_t *srtcp_index);
RTPE_SRTP_API int rtpe_srtp_set_index(rtpe_srtp_ctx *ctx, uint32_t ssrc, uint64_t rtp_index, uint32_t srtcp_index);

/* Per-suite lengths: master key, master salt, SRTP tag, SRTCP tag. 0 or RTPE_SRTP_E_INVAL. */
RTPE_SRTP_API int rtpe_srtp_suite_info(int suite, uint32_t *key_len, uint32_t *salt_len, uint32_t *srtp_tag,
			 uint32_t *srtcp_tag);

#ifdef __cplusplus
}
#endif

#endif
