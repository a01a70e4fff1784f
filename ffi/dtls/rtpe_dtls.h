/* rtpe_dtls.h - public API of the packet-driven DTLS-SRTP engine (RFC 5763, RFC 5764). */
#ifndef RTPE_DTLS_H
#define RTPE_DTLS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped whenever a signature, a constant or a numbering below changes. */
#define RTPE_DTLS_API_VERSION 1

#ifndef RTPE_DTLS_API
#define RTPE_DTLS_API __attribute__((visibility("default")))
#endif

/* Certificate key types (--dtls-cert-cipher). */
#define RTPE_DTLS_KEY_EC_P256 0 /* prime256v1, the default */
#define RTPE_DTLS_KEY_RSA 1

/* Certificate signature hashes (--dtls-signature). */
#define RTPE_DTLS_SIG_SHA256 0
#define RTPE_DTLS_SIG_SHA1 1

/* Connection roles (RFC 5763 a=setup: active = DTLS client, passive = DTLS server). */
#define RTPE_DTLS_PASSIVE 0
#define RTPE_DTLS_ACTIVE 1

/* Connection states (values >= 0). */
#define RTPE_DTLS_S_NEW 0       /* created, nothing sent or received */
#define RTPE_DTLS_S_HANDSHAKE 1 /* handshake in progress */
#define RTPE_DTLS_S_CONNECTED 2 /* handshake done, fingerprint verified, keys available */
#define RTPE_DTLS_S_CLOSED 3    /* close_notify received or sent after connecting */
#define RTPE_DTLS_S_FAILED 4    /* handshake failed or timed out; see rtpe_dtls_conn_error() */

/* Error codes (all negative). */
#define RTPE_DTLS_E_INVAL (-1)   /* bad argument (NULL, unknown hash, wrong length) */
#define RTPE_DTLS_E_NOLIB (-2)   /* libssl.so.3/libcrypto.so.3 could not be loaded */
#define RTPE_DTLS_E_SSL (-3)     /* an OpenSSL call failed; the text says which and why */
#define RTPE_DTLS_E_NOSPACE (-4) /* output buffer too small */
#define RTPE_DTLS_E_STATE (-5)   /* not possible in the connection's state (e.g. keys before CONNECTED) */
#define RTPE_DTLS_E_NOTDTLS (-6) /* datagram is not a DTLS record (RFC 5764 demux) */

/* RFC 5764 section 5.1.2 demultiplexing of a datagram by its first byte. */
#define RTPE_DTLS_DEMUX_STUN 1  /* 0..3 */
#define RTPE_DTLS_DEMUX_DTLS 2  /* 20..63 */
#define RTPE_DTLS_DEMUX_RTP 3   /* 128..191: RTP or RTCP */
#define RTPE_DTLS_DEMUX_OTHER 0 /* anything else: drop */

#define RTPE_DTLS_MTU_DEFAULT 1200
#define RTPE_DTLS_MTU_MIN 576
#define RTPE_DTLS_FP_MAX 64       /* bytes of the longest fingerprint (sha-512) */
#define RTPE_DTLS_KEYS_MAX (2 * (32 + 14)) /* local key|salt + remote key|salt, largest suite */

typedef struct rtpe_dtls_cert rtpe_dtls_cert;
typedef struct rtpe_dtls_conn rtpe_dtls_conn;

/* 0 once libssl.so.3 (RTPE_LIBSSL overrides the name) is loaded, else RTPE_DTLS_E_NOLIB. */
RTPE_DTLS_API int rtpe_dtls_init(void);
RTPE_DTLS_API int rtpe_dtls_api_version(void);

/* Classify a datagram by its first byte (RTPE_DTLS_DEMUX_*); len 0 is OTHER. */
RTPE_DTLS_API int rtpe_dtls_demux(const uint8_t *buf, size_t len);

/* A self-signed certificate with its key and the DTLS context built around it. key_type and
 * rsa_bits as --dtls-cert-cipher/--dtls-rsa-key-size (bits 0 = 2048), sig as --dtls-signature.
 * ciphers: OpenSSL cipher list (--dtls-ciphers; NULL = rtpengine's default). profiles: use_srtp
 * profile list in preference order (NULL = all four, AEAD_AES_256_GCM first). Valid for
 * validity_s seconds (0 = 30 days), starting a day back to absorb clock skew. NULL on error, with
 * the reason in err[0..errlen). Reference counted: rotation makes a new certificate and unrefs
 * the old one; connections hold their own reference. */
RTPE_DTLS_API rtpe_dtls_cert *rtpe_dtls_cert_new(int key_type, int rsa_bits, int sig, const char *ciphers,
						 const char *profiles, uint32_t validity_s, char *err,
						 size_t errlen);
RTPE_DTLS_API void rtpe_dtls_cert_ref(rtpe_dtls_cert *cert);
RTPE_DTLS_API void rtpe_dtls_cert_unref(rtpe_dtls_cert *cert);
/* Fingerprint of the certificate's DER with hash "sha-1", "sha-224", "sha-256", "sha-384" or
 * "sha-512" (also "SHA256", case-insensitive): returns its length or a negative error. */
RTPE_DTLS_API int rtpe_dtls_cert_fingerprint(const rtpe_dtls_cert *cert, const char *hash, uint8_t *out,
					     size_t cap);
/* The certificate in DER (for tests and logging): length or negative error. */
RTPE_DTLS_API int rtpe_dtls_cert_der(const rtpe_dtls_cert *cert, uint8_t *out, size_t cap);
/* Unix time at which the certificate expires. */
RTPE_DTLS_API int64_t rtpe_dtls_cert_expiry(const rtpe_dtls_cert *cert);

/* One DTLS association of one stream (one per component without rtcp-mux). mtu: largest datagram
 * the connection sends (--dtls-mtu; 0 = 1200, at least 576). NULL on error, reason in err. */
RTPE_DTLS_API rtpe_dtls_conn *rtpe_dtls_conn_new(rtpe_dtls_cert *cert, int role, uint32_t mtu, char *err,
						 size_t errlen);
RTPE_DTLS_API void rtpe_dtls_conn_free(rtpe_dtls_conn *conn);
/* The a=fingerprint the peer's certificate must match (hash as above, fp raw bytes). Without it
 * any certificate is accepted and the caller checks rtpe_dtls_conn_peer_fingerprint() itself.
 * 0 or RTPE_DTLS_E_INVAL. */
RTPE_DTLS_API int rtpe_dtls_conn_expect(rtpe_dtls_conn *conn, const char *hash, const uint8_t *fp, size_t len);
/* Active role: queue the ClientHello. Passive role: just enter HANDSHAKE. Returns the state. */
RTPE_DTLS_API int rtpe_dtls_conn_start(rtpe_dtls_conn *conn);
/* Process one received datagram (any bytes; non-DTLS datagrams return RTPE_DTLS_E_NOTDTLS and
 * change nothing). Returns the new state. A passive connection starts on its first datagram. */
RTPE_DTLS_API int rtpe_dtls_conn_feed(rtpe_dtls_conn *conn, const uint8_t *buf, size_t len);
/* Take the next datagram to send into out: its length, 0 when none is queued, or
 * RTPE_DTLS_E_NOSPACE (datagram kept) when cap is smaller than rtpe_dtls_conn_pending(). */
RTPE_DTLS_API int rtpe_dtls_conn_next_out(rtpe_dtls_conn *conn, uint8_t *out, size_t cap);
/* Length of the next queued datagram, 0 when none. */
RTPE_DTLS_API int rtpe_dtls_conn_pending(const rtpe_dtls_conn *conn);
/* Milliseconds until the retransmission timer fires (0 = due now), -1 when no timer runs. */
RTPE_DTLS_API int64_t rtpe_dtls_conn_timeout_ms(rtpe_dtls_conn *conn);
/* Run the retransmission timer: queues the retransmitted flight when due. Returns the state
 * (FAILED after too many retransmissions). */
RTPE_DTLS_API int rtpe_dtls_conn_handle_timer(rtpe_dtls_conn *conn);
/* Queue a close_notify alert (when connected); state becomes CLOSED. */
RTPE_DTLS_API int rtpe_dtls_conn_shutdown(rtpe_dtls_conn *conn);
RTPE_DTLS_API int rtpe_dtls_conn_state(const rtpe_dtls_conn *conn);
/* Last error as text (OpenSSL's reason strings), "" when none. Valid until the next call. */
RTPE_DTLS_API const char *rtpe_dtls_conn_error(const rtpe_dtls_conn *conn);
/* When CONNECTED: SRTP suite (enum rtpe_srtp_suite in ffi/srtp/rtpe_srtp.h), key and salt
 * lengths, and out = local key | local salt | remote key | remote salt (RFC 5764 section 4.2:
 * the client's half is "local" for the active role). Returns the bytes written or an error. */
RTPE_DTLS_API int rtpe_dtls_conn_keys(const rtpe_dtls_conn *conn, int *suite, uint32_t *key_len,
				      uint32_t *salt_len, uint8_t *out, size_t cap);
/* Fingerprint of the peer's certificate (after it was received): length or negative error. */
RTPE_DTLS_API int rtpe_dtls_conn_peer_fingerprint(const rtpe_dtls_conn *conn, const char *hash, uint8_t *out,
						  size_t cap);
/* Our certificate of this connection (not referenced again; valid while conn lives). */
RTPE_DTLS_API rtpe_dtls_cert *rtpe_dtls_conn_cert(const rtpe_dtls_conn *conn);
/* Negotiated protocol version and cipher ("DTLSv1.2", "ECDHE-ECDSA-AES256-SHA") into out as
 * "version cipher": length or negative error. */
RTPE_DTLS_API int rtpe_dtls_conn_describe(const rtpe_dtls_conn *conn, char *out, size_t cap);

#ifdef __cplusplus
}
#endif

#endif
