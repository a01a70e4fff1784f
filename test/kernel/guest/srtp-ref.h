/* SPDX-License-Identifier: GPL-2.0 */
/* srtp-ref.h - independent userspace SRTP/SRTCP (OpenSSL) to check the kernel against */
#ifndef SRTP_REF_H
#define SRTP_REF_H
#include <stdint.h>
#include <stddef.h>
#include "rtpengine_uapi.h"

struct ref_ctx {
	struct rtpe_srtp p;
	uint8_t ke[2][32], ka[2][20], ks[2][14];	/* [0] RTP, [1] RTCP */
};

int ref_kdf(const struct rtpe_srtp *p, uint8_t label, uint8_t *out, size_t n);
int ref_init(struct ref_ctx *c, const struct rtpe_srtp *p);
/* return new length */
size_t ref_protect_rtp(struct ref_ctx *c, uint8_t *pkt, size_t len, uint32_t roc);
size_t ref_protect_rtcp(struct ref_ctx *c, uint8_t *pkt, size_t len, uint32_t index);
int ref_ctr(const uint8_t *key, size_t klen, const uint8_t iv[16], uint8_t *buf, size_t len);
/* AES-F8 keystream XOR, m = ks(14 bytes) || 0x5555 */
void ref_f8(const uint8_t *ke, size_t klen, const uint8_t *ks, const uint8_t iv[16],
	    uint8_t *buf, size_t len);
#endif
