/* rtpe_nft.h - the daemon's own nftables rule for xt_RTPENGINE (--nftables-chain): raw NETLINK_NETFILTER batches. */
#ifndef RTPE_NFT_H
#define RTPE_NFT_H

#include <stdint.h>

/* flags of rtpe_nft_setup / rtpe_nft_teardown */
#define RTPE_NFT_IP      0x1u  /* table "filter" of family ip */
#define RTPE_NFT_IP6     0x2u  /* table "filter" of family ip6 */
#define RTPE_NFT_APPEND  0x4u  /* append the jump to the base chain (default: insert first) */
/* rtpe_nft_setup returns (and rtpe_nft_teardown takes, shifted left by 8) what it created:
 * bit 0 = ip table, 1 = ip base chain, 2 = ip6 table, 3 = ip6 base chain. Teardown deletes
 * those only when nothing else is left in them. */
#define RTPE_NFT_CREATED_SHIFT 8

/* Names: 1..63 characters of [A-Za-z0-9_.-]; base may be empty (len 0): no base chain and no jump.
 * In each selected family: table "filter", chain `chain` (created, or flushed if it exists) holding
 * `meta l4proto udp` + xt target RTPENGINE --id table_id (via nft_compat), and the base chain (type
 * filter, hook input, priority 0, policy accept; created if missing) with a rule jumping there,
 * tagged with a comment so a restart and the teardown find it. Returns the created bits (>= 0) or
 * -errno; `err` (NUL-terminated, truncated to err_len) says which step failed. */
int rtpe_nft_setup(const char *chain, uint32_t chain_len, const char *base, uint32_t base_len, uint32_t table_id,
		   uint32_t flags, char *err, uint32_t err_len);

/* Deletes the jump(s) and the chain in each selected family; flags as above plus the created bits
 * << RTPE_NFT_CREATED_SHIFT. Returns 0 or -errno (first failure; the other families are still done). */
int rtpe_nft_teardown(const char *chain, uint32_t chain_len, const char *base, uint32_t base_len, uint32_t flags,
		      char *err, uint32_t err_len);

#endif
