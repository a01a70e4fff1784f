/* SPDX-License-Identifier: GPL-2.0 */
/*
 * compat.h - the one place that absorbs kernel API churn between the
 * kernels we build for (5.10 .. 6.x). Nothing else tests version numbers.
 */
#ifndef RTPE_COMPAT_H
#define RTPE_COMPAT_H

#include <linux/version.h>
#include <linux/proc_fs.h>

#if LINUX_VERSION_CODE < KERNEL_VERSION(5, 10, 0)
#error "xt_RTPENGINE needs Linux 5.10 or newer"
#endif

/* PDE_DATA() became pde_data() in 5.17 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(5, 17, 0)
#define pde_data(inode) PDE_DATA(inode)
#endif

/*
 * Deliberately not used, because they churn: flowi4_tos (dscp_t from 6.x on),
 * crypto_cipher (namespaced), skb_make_writable. The packet path builds a
 * new skb and routes it with ip_route_output_key()/ip6_route_output().
 */

#endif /* RTPE_COMPAT_H */
