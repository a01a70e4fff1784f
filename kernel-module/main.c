// SPDX-License-Identifier: GPL-2.0
/*
 * main.c - module init/exit and the x_tables target "RTPENGINE" for IPv4
 * and IPv6. The target hands matching UDP to forward.c; everything else
 * continues through the chain untouched.
 */
#include <linux/module.h>
#include <linux/netfilter.h>
#include <linux/netfilter/x_tables.h>
#include "rtpe.h"
#include "compat.h"

static unsigned int rtpe_tg4(struct sk_buff *skb, const struct xt_action_param *par)
{
	const struct xt_rtpengine_info *info = par->targinfo;

	return rtpe_forward(skb, xt_net(par), info->id, NFPROTO_IPV4, xt_hooknum(par));
}

static unsigned int rtpe_tg6(struct sk_buff *skb, const struct xt_action_param *par)
{
	const struct xt_rtpengine_info *info = par->targinfo;

	return rtpe_forward(skb, xt_net(par), info->id, NFPROTO_IPV6, xt_hooknum(par));
}

static int rtpe_tg_check(const struct xt_tgchk_param *par)
{
	const struct xt_rtpengine_info *info = par->targinfo;

	if (info->id >= RTPE_NUM_TABLES) {
		pr_info_ratelimited(RTPE_NAME ": --id %u out of range 0..%u\n",
				    info->id, RTPE_NUM_TABLES - 1);
		return -EINVAL;
	}
	return 0;
}

#define RTPE_HOOKS ((1 << NF_INET_PRE_ROUTING) | (1 << NF_INET_LOCAL_IN) | (1 << NF_INET_FORWARD))

static struct xt_target rtpe_targets[] __read_mostly = {
	{
		.name		= "RTPENGINE",
		.revision	= 0,
		.family		= NFPROTO_IPV4,
		.target		= rtpe_tg4,
		.targetsize	= sizeof(struct xt_rtpengine_info),
		.checkentry	= rtpe_tg_check,
		.hooks		= RTPE_HOOKS,
		.me		= THIS_MODULE,
	},
	{
		.name		= "RTPENGINE",
		.revision	= 0,
		.family		= NFPROTO_IPV6,
		.target		= rtpe_tg6,
		.targetsize	= sizeof(struct xt_rtpengine_info),
		.checkentry	= rtpe_tg_check,
		.hooks		= RTPE_HOOKS,
		.me		= THIS_MODULE,
	},
};

static int __init rtpe_init(void)
{
	int err;

	err = rtpe_srtp_selftest();
	if (err) {
		pr_err(RTPE_NAME ": SRTP self-test failed (%d)\n", err);
		return err;
	}
	err = rtpe_tables_init();
	if (err)
		return err;
	err = rtpe_proc_init();
	if (err)
		goto err_tables;
	err = xt_register_targets(rtpe_targets, ARRAY_SIZE(rtpe_targets));
	if (err)
		goto err_proc;
	pr_info(RTPE_NAME ": loaded, uapi version %u, SRTP self-test (RFC 3711 B.1-B.3) passed\n",
		RTPE_UAPI_VERSION);
	return 0;

err_proc:
	rtpe_proc_exit();
err_tables:
	rtpe_tables_exit();
	return err;
}

static void __exit rtpe_exit(void)
{
	xt_unregister_targets(rtpe_targets, ARRAY_SIZE(rtpe_targets));
	rtpe_tables_exit();
	rtpe_proc_exit();
	pr_info(RTPE_NAME ": unloaded\n");
}

module_init(rtpe_init);
module_exit(rtpe_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("RTP/SRTP in-kernel forwarding target for a drop-in rtpengine");
MODULE_ALIAS("ipt_RTPENGINE");
MODULE_ALIAS("ip6t_RTPENGINE");
MODULE_SOFTDEP("pre: ctr gcm");
