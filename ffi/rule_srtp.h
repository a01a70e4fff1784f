/* rule_srtp.h - SRTP/SRTCP of a forwarding rule, applied in place by the receive thread. */
#ifndef RTPE_RULE_SRTP_H
#define RTPE_RULE_SRTP_H

#include <stdint.h>

#include "internal.h"

#define RTPE_RULE_SRTP (RTPE_RULE_SRTP_DECRYPT | RTPE_RULE_SRTP_ENCRYPT)

/* 0 when the rule's SRTP part is consistent, -EINVAL when not, -EOPNOTSUPP when this shim was
 * built without ffi/srtp. A rule without SRTP flags is always fine. */
int rule_srtp_check(const struct rtpe_rule *r);
/* Unprotect (DECRYPT) then protect (ENCRYPT) d[0..*len), cap bytes writable, in place; *len is
 * updated. Returns 0, or -1 when the packet must be dropped: authentication/replay failures are
 * counted in sr->auth_failed, anything else (protect had no room, a malformed packet) in
 * sr->errors. Called with the input slot locked, so a withdrawn rule's contexts are never used. */
int rule_srtp_apply(struct shim_rule *sr, uint8_t *d, uint32_t *len, uint32_t cap);

#endif
