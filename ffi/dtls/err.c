/* err.c - turns OpenSSL's error queue into one line of text for the caller. */
#include <stdio.h>
#include <string.h>

#include "dtls_internal.h"

void rtpe_dtls_set_error(char *err, size_t errlen, const char *prefix)
{
	if (!err || errlen == 0) {
		OSSL->ERR_clear_error();
		return;
	}
	size_t used = (size_t)snprintf(err, errlen, "%s", prefix ? prefix : "");
	if (used >= errlen)
		used = errlen - 1;
	int first = 1;
	unsigned long e;
	while ((e = OSSL->ERR_get_error()) != 0) {
		const char *reason = OSSL->ERR_reason_error_string(e);
		const char *lib = OSSL->ERR_lib_error_string(e);
		if (used + 1 >= errlen)
			continue; /* keep draining the queue */
		int n;
		if (reason)
			n = snprintf(err + used, errlen - used, "%s%s%s%s", first ? ": " : "; ", lib ? lib : "",
				     lib ? ": " : "", reason);
		else
			n = snprintf(err + used, errlen - used, "%serror %#lx", first ? ": " : "; ", e);
		if (n > 0)
			used += (size_t)n < errlen - used ? (size_t)n : errlen - used - 1;
		first = 0;
	}
}
