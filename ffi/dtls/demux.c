/* demux.c - RFC 5764 section 5.1.2: which protocol a datagram on a media port carries. */
#include "rtpe_dtls.h"

int rtpe_dtls_demux(const uint8_t *buf, size_t len)
{
	if (!buf || len == 0)
		return RTPE_DTLS_DEMUX_OTHER;
	uint8_t b = buf[0];
	if (b <= 3)
		return RTPE_DTLS_DEMUX_STUN;
	if (b >= 20 && b <= 63)
		return RTPE_DTLS_DEMUX_DTLS;
	if (b >= 128 && b <= 191)
		return RTPE_DTLS_DEMUX_RTP;
	return RTPE_DTLS_DEMUX_OTHER;
}
