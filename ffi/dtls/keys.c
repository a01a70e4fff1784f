/* keys.c - RFC 5764 section 4.2: the negotiated use_srtp profile as our SRTP suite, and the
 * exported keying material split into this side's and the peer's master key and salt. */
#include <string.h>

#include "dtls_internal.h"

static const struct {
	unsigned long profile;
	int suite;
	uint32_t key_len, salt_len;
} profiles[] = {
	{ RTPE_PROFILE_AES128_CM_SHA1_80, RTPE_DTLS_SUITE_AES_CM_128_HMAC_SHA1_80, 16, 14 },
	{ RTPE_PROFILE_AES128_CM_SHA1_32, RTPE_DTLS_SUITE_AES_CM_128_HMAC_SHA1_32, 16, 14 },
	{ RTPE_PROFILE_AEAD_AES_128_GCM, RTPE_DTLS_SUITE_AEAD_AES_128_GCM, 16, 12 },
	{ RTPE_PROFILE_AEAD_AES_256_GCM, RTPE_DTLS_SUITE_AEAD_AES_256_GCM, 32, 12 },
};

static const char LABEL[] = "EXTRACTOR-dtls_srtp";

int rtpe_dtls_export_keys(struct rtpe_dtls_conn *conn)
{
	RTPE_SRTP_PROFILE *p = OSSL->SSL_get_selected_srtp_profile(conn->ssl);
	if (!p) {
		strcpy(conn->err, "peer negotiated no SRTP profile (use_srtp missing)");
		return -1;
	}
	size_t i;
	for (i = 0; i < sizeof(profiles) / sizeof(profiles[0]); i++)
		if (profiles[i].profile == p->id)
			break;
	if (i == sizeof(profiles) / sizeof(profiles[0])) {
		strcpy(conn->err, "unsupported SRTP profile negotiated");
		return -1;
	}
	uint32_t kl = profiles[i].key_len, sl = profiles[i].salt_len;
	uint8_t km[RTPE_DTLS_KEYS_MAX];
	size_t total = 2 * ((size_t)kl + sl);
	_Static_assert(RTPE_DTLS_KEYS_MAX >= 2 * (32 + 14), "key buffer");
	if (OSSL->SSL_export_keying_material(conn->ssl, km, total, LABEL, sizeof(LABEL) - 1, NULL, 0, 0) != 1) {
		rtpe_dtls_set_error(conn->err, sizeof(conn->err), "keying material export");
		return -1;
	}
	/* km = client key | server key | client salt | server salt */
	const uint8_t *ck = km, *sk = km + kl, *cs = km + 2 * kl, *ss = km + 2 * kl + sl;
	int client = conn->role == RTPE_DTLS_ACTIVE;
	uint8_t *o = conn->keys;
	memcpy(o, client ? ck : sk, kl);
	memcpy(o + kl, client ? cs : ss, sl);
	memcpy(o + kl + sl, client ? sk : ck, kl);
	memcpy(o + 2 * kl + sl, client ? ss : cs, sl);
	memset(km, 0, sizeof(km));
	conn->suite = profiles[i].suite;
	conn->key_len = kl;
	conn->salt_len = sl;
	return 0;
}

int rtpe_dtls_conn_keys(const rtpe_dtls_conn *conn, int *suite, uint32_t *key_len, uint32_t *salt_len,
			uint8_t *out, size_t cap)
{
	if (!conn || !suite || !key_len || !salt_len || !out)
		return RTPE_DTLS_E_INVAL;
	if (conn->suite == 0)
		return RTPE_DTLS_E_STATE;
	size_t total = 2 * ((size_t)conn->key_len + conn->salt_len);
	if (cap < total)
		return RTPE_DTLS_E_NOSPACE;
	memcpy(out, conn->keys, total);
	*suite = conn->suite;
	*key_len = conn->key_len;
	*salt_len = conn->salt_len;
	return (int)total;
}
