/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libxt_RTPENGINE.c - iptables/ip6tables plugin for the RTPENGINE target:
 *   -j RTPENGINE --id N     hand UDP to xt_RTPENGINE forwarding table N
 * Works with iptables-legacy and iptables-nft (through nft_compat).
 */
#include <stdio.h>
#include <xtables.h>
#include "rtpengine_uapi.h"

enum { O_ID = 0 };

static const struct xt_option_entry rtpengine_opts[] = {
	{.name = "id", .id = O_ID, .type = XTTYPE_UINT32,
	 .flags = XTOPT_MAND | XTOPT_PUT, .min = 0, .max = RTPE_NUM_TABLES - 1,
	 XTOPT_POINTER(struct xt_rtpengine_info, id)},
	XTOPT_TABLEEND,
};

static void rtpengine_help(void)
{
	printf("RTPENGINE target options:\n"
	       "  --id N    forwarding table of xt_RTPENGINE to use (0..%u)\n",
	       RTPE_NUM_TABLES - 1);
}

static void rtpengine_print(const void *ip, const struct xt_entry_target *t, int numeric)
{
	const struct xt_rtpengine_info *info = (const void *)t->data;

	printf(" RTPENGINE id:%u", info->id);
}

static void rtpengine_save(const void *ip, const struct xt_entry_target *t)
{
	const struct xt_rtpengine_info *info = (const void *)t->data;

	printf(" --id %u", info->id);
}

static struct xtables_target rtpengine_tg_reg = {
	.family		= NFPROTO_UNSPEC,
	.name		= "RTPENGINE",
	.version	= XTABLES_VERSION,
	.revision	= 0,
	.size		= XT_ALIGN(sizeof(struct xt_rtpengine_info)),
	.userspacesize	= XT_ALIGN(sizeof(struct xt_rtpengine_info)),
	.help		= rtpengine_help,
	.print		= rtpengine_print,
	.save		= rtpengine_save,
	.x6_parse	= xtables_option_parse,
	.x6_options	= rtpengine_opts,
};

static void __attribute__((constructor)) rtpengine_register(void)
{
	xtables_register_target(&rtpengine_tg_reg);
}
