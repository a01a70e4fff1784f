// SPDX-License-Identifier: GPL-2.0
/* srtp-test.c - SRTP checks (not yet: kernel SRTP pending) */
#include "common.h"

int srtp_tests(void);

int srtp_tests(void)
{
	return 0;
}
