// SPDX-License-Identifier: GPL-2.0
/*
 * table.c - forwarding tables 0..63 and their rule hashes.
 *
 * Readers (the packet path) use RCU only. Writers (the /proc control
 * files, process context) serialise on rtpe_tables_mutex for the table
 * array and on table->lock for a table's hash. Replaced or deleted rules
 * are freed from a workqueue after an RCU grace period, because freeing
 * crypto transforms may sleep.
 */
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/mutex.h>
#include <linux/jhash.h>
#include <linux/bitmap.h>
#include <linux/socket.h>
#include <linux/ktime.h>
#include <net/dst_cache.h>
#include "rtpe.h"

static struct rtpe_table __rcu *rtpe_tables[RTPE_NUM_TABLES];
static DEFINE_MUTEX(rtpe_tables_mutex);
static struct workqueue_struct *rtpe_wq;
static u32 rtpe_hash_seed;

int rtpe_tables_init(void)
{
	rtpe_hash_seed = get_random_u32();
	rtpe_wq = alloc_workqueue("rtpengine", WQ_UNBOUND, 0);
	return rtpe_wq ? 0 : -ENOMEM;
}

/* ---- addresses --------------------------------------------------------- */

bool rtpe_addr_valid(const struct rtpe_addr *a, bool need_port)
{
	unsigned int i;

	if (need_port && a->port == 0)
		return false;
	switch (a->family) {
	case RTPE_AF_INET:
		for (i = 4; i < sizeof(a->addr); i++)
			if (a->addr[i])
				return false;
		return true;
	case RTPE_AF_INET6:
		return true;
	default:
		return false;
	}
}

static u32 rtpe_addr_hash(const struct rtpe_addr *a)
{
	return jhash(a, sizeof(*a), rtpe_hash_seed) & (RTPE_HASH_SIZE - 1);
}

/* ---- rules ------------------------------------------------------------- */

static void rtpe_rule_free_now(struct rtpe_krule *k)
{
	if (k->dst_cache) {
		dst_cache_destroy(k->dst_cache);
		kfree(k->dst_cache);
	}
	rtpe_srtp_free(k->dec);
	rtpe_srtp_free(k->enc);
	kfree_sensitive(k);
}

static void rtpe_rule_free_work(struct work_struct *w)
{
	struct rtpe_krule *k = container_of(to_rcu_work(w), struct rtpe_krule, free_work);

	rtpe_rule_free_now(k);
}

static void rtpe_rule_free_rcu(struct rtpe_krule *k)
{
	INIT_RCU_WORK(&k->free_work, rtpe_rule_free_work);
	queue_rcu_work(rtpe_wq, &k->free_work);
}

static int rtpe_rule_validate(const struct rtpe_rule *r)
{
	unsigned int f = r->flags, i;
	int err;

	if (f & ~RTPE_RF_ALL)
		return -EINVAL;
	if (!rtpe_addr_valid(&r->local, true))
		return -EINVAL;
	if ((f & RTPE_RF_EXPECT_SRC) && !rtpe_addr_valid(&r->expect_src, false))
		return -EINVAL;
	if ((f & RTPE_RF_RTP) && (f & RTPE_RF_RTCP))
		return -EINVAL;
	if ((f & RTPE_RF_MUX_RTCP) && !(f & RTPE_RF_RTP))
		return -EINVAL;
	if ((f & (RTPE_RF_RTCP_DEMUX | RTPE_RF_RTCP_TO_USER)) && !(f & RTPE_RF_MUX_RTCP))
		return -EINVAL;
	if ((f & RTPE_RF_RTCP_DEMUX) && (f & RTPE_RF_RTCP_TO_USER))
		return -EINVAL;
	if (r->num_pt > RTPE_MAX_PT || (r->num_pt && !(f & RTPE_RF_RTP)))
		return -EINVAL;
	for (i = 0; i < r->num_pt; i++)
		if (r->pt[i] > 127)
			return -EINVAL;
	if (!rtpe_addr_valid(&r->out.src, true) || !rtpe_addr_valid(&r->out.dst, true) ||
	    r->out.src.family != r->out.dst.family)
		return -EINVAL;
	if (f & RTPE_RF_RTCP_DEMUX) {
		if (!rtpe_addr_valid(&r->rtcp_src, true) || !rtpe_addr_valid(&r->rtcp_dst, true) ||
		    r->rtcp_src.family != r->rtcp_dst.family)
			return -EINVAL;
	}
	if (r->num_ssrc > RTPE_MAX_SSRC)
		return -EINVAL;
	if ((r->decrypt.cipher || r->out.encrypt.cipher) && !(f & (RTPE_RF_RTP | RTPE_RF_RTCP)))
		return -EINVAL;
	err = rtpe_srtp_validate(&r->decrypt);
	if (err)
		return err;
	return rtpe_srtp_validate(&r->out.encrypt);
}

static struct rtpe_krule *rtpe_rule_create(const struct rtpe_rule *r)
{
	struct rtpe_krule *k;
	unsigned int i;
	int err;

	err = rtpe_rule_validate(r);
	if (err)
		return ERR_PTR(err);
	k = kzalloc(sizeof(*k), GFP_KERNEL);
	if (!k)
		return ERR_PTR(-ENOMEM);
	k->r = *r;
	spin_lock_init(&k->lock);
	k->dst_cache = kzalloc(sizeof(*k->dst_cache), GFP_KERNEL);
	if (!k->dst_cache || dst_cache_init(k->dst_cache, GFP_KERNEL)) {
		kfree(k->dst_cache);
		k->dst_cache = NULL;
		err = -ENOMEM;
		goto fail;
	}
	atomic_set(&k->rtcp_index, r->out.encrypt.rtcp_index & 0x7fffffff);
	for (i = 0; i < r->num_ssrc; i++) {
		k->ssrc[i].ssrc = r->ssrc[i];
		k->ssrc[i].flags = RTPE_SSRC_USED;
		k->ssrc[i].roc_in = r->roc_in[i];
		k->ssrc[i].roc_out = r->roc_out[i];
	}
	if (r->decrypt.cipher != RTPE_CIPHER_NONE) {
		k->dec = rtpe_srtp_new(&r->decrypt);
		if (IS_ERR(k->dec)) {
			err = PTR_ERR(k->dec);
			k->dec = NULL;
			goto fail;
		}
	}
	if (r->out.encrypt.cipher != RTPE_CIPHER_NONE) {
		k->enc = rtpe_srtp_new(&r->out.encrypt);
		if (IS_ERR(k->enc)) {
			err = PTR_ERR(k->enc);
			k->enc = NULL;
			goto fail;
		}
	}
	/* keys live only in the crypto contexts from here on */
	memzero_explicit(k->r.decrypt.master_key, sizeof(k->r.decrypt.master_key));
	memzero_explicit(k->r.decrypt.master_salt, sizeof(k->r.decrypt.master_salt));
	memzero_explicit(k->r.out.encrypt.master_key, sizeof(k->r.out.encrypt.master_key));
	memzero_explicit(k->r.out.encrypt.master_salt, sizeof(k->r.out.encrypt.master_salt));
	return k;
fail:
	rtpe_rule_free_now(k);
	return ERR_PTR(err);
}

static struct rtpe_krule *rtpe_rule_find_locked(struct rtpe_table *t, const struct rtpe_addr *a)
{
	struct rtpe_krule *k;

	hlist_for_each_entry(k, &t->hash[rtpe_addr_hash(a)], node)
		if (!memcmp(&k->r.local, a, sizeof(*a)))
			return k;
	return NULL;
}

struct rtpe_krule *rtpe_rule_lookup_rcu(struct rtpe_table *t, const struct rtpe_addr *a)
{
	struct rtpe_krule *k;

	hlist_for_each_entry_rcu(k, &t->hash[rtpe_addr_hash(a)], node)
		if (!memcmp(&k->r.local, a, sizeof(*a)))
			return k;
	return NULL;
}

/* UPDATE keeps counters, and the state of SSRCs that are still expected */
static void rtpe_rule_inherit(struct rtpe_krule *nk, struct rtpe_krule *old)
{
	unsigned int i, j;

	atomic64_set(&nk->packets, atomic64_read(&old->packets));
	atomic64_set(&nk->bytes, atomic64_read(&old->bytes));
	atomic64_set(&nk->errors, atomic64_read(&old->errors));
	atomic64_set(&nk->auth_failed, atomic64_read(&old->auth_failed));
	atomic64_set(&nk->to_user, atomic64_read(&old->to_user));
	atomic64_set(&nk->last_ms, atomic64_read(&old->last_ms));
	if (!nk->r.out.encrypt.rtcp_index && nk->r.out.encrypt.cipher == old->r.out.encrypt.cipher)
		atomic_set(&nk->rtcp_index, atomic_read(&old->rtcp_index));

	spin_lock(&old->lock);
	if (nk->r.num_ssrc == 0) {
		memcpy(nk->ssrc, old->ssrc, sizeof(nk->ssrc));
	} else {
		for (i = 0; i < RTPE_MAX_SSRC; i++) {
			if (!(nk->ssrc[i].flags & RTPE_SSRC_USED))
				continue;
			for (j = 0; j < RTPE_MAX_SSRC; j++) {
				if ((old->ssrc[j].flags & RTPE_SSRC_USED) &&
				    old->ssrc[j].ssrc == nk->ssrc[i].ssrc) {
					nk->ssrc[i].packets = old->ssrc[j].packets;
					nk->ssrc[i].bytes = old->ssrc[j].bytes;
					nk->ssrc[i].last_seq = old->ssrc[j].last_seq;
				}
			}
		}
	}
	spin_unlock(&old->lock);
}

int rtpe_rule_add(struct rtpe_table *t, const struct rtpe_rule *r, bool update)
{
	struct rtpe_krule *k, *old;

	k = rtpe_rule_create(r);
	if (IS_ERR(k))
		return PTR_ERR(k);

	spin_lock_bh(&t->lock);
	old = rtpe_rule_find_locked(t, &r->local);
	if (update) {
		if (!old)
			goto enoent;
		rtpe_rule_inherit(k, old);
		hlist_replace_rcu(&old->node, &k->node);
	} else {
		if (old)
			goto eexist;
		if (t->nrules >= RTPE_MAX_RULES)
			goto enospc;
		hlist_add_head_rcu(&k->node, &t->hash[rtpe_addr_hash(&r->local)]);
		t->nrules++;
	}
	spin_unlock_bh(&t->lock);
	if (old)
		rtpe_rule_free_rcu(old);
	return 0;

enoent:
	spin_unlock_bh(&t->lock);
	rtpe_rule_free_now(k);
	return -ENOENT;
eexist:
	spin_unlock_bh(&t->lock);
	rtpe_rule_free_now(k);
	return -EEXIST;
enospc:
	spin_unlock_bh(&t->lock);
	rtpe_rule_free_now(k);
	return -ENOSPC;
}

int rtpe_rule_del(struct rtpe_table *t, const struct rtpe_addr *a)
{
	struct rtpe_krule *k;

	if (!rtpe_addr_valid(a, true))
		return -EINVAL;
	spin_lock_bh(&t->lock);
	k = rtpe_rule_find_locked(t, a);
	if (k) {
		hlist_del_rcu(&k->node);
		t->nrules--;
	}
	spin_unlock_bh(&t->lock);
	if (!k)
		return -ENOENT;
	rtpe_rule_free_rcu(k);
	return 0;
}

void rtpe_rule_flush(struct rtpe_table *t)
{
	struct rtpe_krule *k;
	struct hlist_node *tmp;
	unsigned int b;

	spin_lock_bh(&t->lock);
	for (b = 0; b < RTPE_HASH_SIZE; b++) {
		hlist_for_each_entry_safe(k, tmp, &t->hash[b], node) {
			hlist_del_rcu(&k->node);
			rtpe_rule_free_rcu(k);
		}
	}
	t->nrules = 0;
	spin_unlock_bh(&t->lock);
}

void rtpe_rule_export(struct rtpe_krule *k, struct rtpe_blist_entry *e)
{
	memset(e, 0, sizeof(*e));
	e->rule = k->r;
	e->stats.packets = atomic64_read(&k->packets);
	e->stats.bytes = atomic64_read(&k->bytes);
	e->stats.errors = atomic64_read(&k->errors);
	e->stats.auth_failed = atomic64_read(&k->auth_failed);
	e->stats.to_user = atomic64_read(&k->to_user);
	e->stats.last_ms = atomic64_read(&k->last_ms);
	e->rule.out.encrypt.rtcp_index = atomic_read(&k->rtcp_index);
	spin_lock_bh(&k->lock);
	memcpy(e->ssrc, k->ssrc, sizeof(e->ssrc));
	spin_unlock_bh(&k->lock);
}

int rtpe_rule_foreach(struct rtpe_table *t, int (*fn)(struct rtpe_krule *k, void *arg), void *arg)
{
	struct rtpe_krule *k;
	unsigned int b;
	int ret = 0;

	rcu_read_lock();
	for (b = 0; b < RTPE_HASH_SIZE && !ret; b++) {
		hlist_for_each_entry_rcu(k, &t->hash[b], node) {
			ret = fn(k, arg);
			if (ret)
				break;
		}
	}
	rcu_read_unlock();
	return ret;
}

/* ---- tables ------------------------------------------------------------ */

struct rtpe_table *rtpe_table_get_rcu(unsigned int id)
{
	if (id >= RTPE_NUM_TABLES)
		return NULL;
	return rcu_dereference(rtpe_tables[id]);
}

int rtpe_table_ids(unsigned long *bitmap)
{
	unsigned int i;
	int n = 0;

	bitmap_zero(bitmap, RTPE_NUM_TABLES);
	rcu_read_lock();
	for (i = 0; i < RTPE_NUM_TABLES; i++) {
		if (rcu_dereference(rtpe_tables[i])) {
			__set_bit(i, bitmap);
			n++;
		}
	}
	rcu_read_unlock();
	return n;
}

int rtpe_table_add(unsigned int id)
{
	struct rtpe_table *t;
	unsigned int b;
	int err;

	if (id >= RTPE_NUM_TABLES)
		return -EINVAL;
	t = kvzalloc(sizeof(*t), GFP_KERNEL);
	if (!t)
		return -ENOMEM;
	t->id = id;
	spin_lock_init(&t->lock);
	atomic_set(&t->ctl, RTPE_CTL_FREE);
	for (b = 0; b < RTPE_HASH_SIZE; b++)
		INIT_HLIST_HEAD(&t->hash[b]);

	mutex_lock(&rtpe_tables_mutex);
	if (rcu_access_pointer(rtpe_tables[id])) {
		err = -EEXIST;
		goto fail;
	}
	err = rtpe_proc_table_add(t);
	if (err)
		goto fail;
	__module_get(THIS_MODULE);	/* rmmod only once all tables are gone */
	rcu_assign_pointer(rtpe_tables[id], t);
	mutex_unlock(&rtpe_tables_mutex);
	return 0;
fail:
	mutex_unlock(&rtpe_tables_mutex);
	kvfree(t);
	return err;
}

static void rtpe_table_destroy(struct rtpe_table *t)
{
	rtpe_proc_table_del(t);		/* waits for running file operations */
	synchronize_rcu();		/* no packet path sees t any more */
	rtpe_rule_flush(t);
	rcu_barrier();			/* the flushed rules' callbacks are queued */
	flush_workqueue(rtpe_wq);
	kvfree(t);
}

int rtpe_table_del(unsigned int id)
{
	struct rtpe_table *t;

	if (id >= RTPE_NUM_TABLES)
		return -EINVAL;
	mutex_lock(&rtpe_tables_mutex);
	t = rcu_dereference_protected(rtpe_tables[id], lockdep_is_held(&rtpe_tables_mutex));
	if (!t) {
		mutex_unlock(&rtpe_tables_mutex);
		return -ENOENT;
	}
	if (atomic_cmpxchg(&t->ctl, RTPE_CTL_FREE, RTPE_CTL_DYING) != RTPE_CTL_FREE) {
		mutex_unlock(&rtpe_tables_mutex);
		return -EBUSY;
	}
	RCU_INIT_POINTER(rtpe_tables[id], NULL);
	mutex_unlock(&rtpe_tables_mutex);
	rtpe_table_destroy(t);
	module_put(THIS_MODULE);
	return 0;
}

void rtpe_tables_exit(void)
{
	unsigned int i;
	struct rtpe_table *t;

	/* tables hold module references, so normally none is left here */
	for (i = 0; i < RTPE_NUM_TABLES; i++) {
		t = rcu_dereference_protected(rtpe_tables[i], 1);
		if (!t)
			continue;
		RCU_INIT_POINTER(rtpe_tables[i], NULL);
		rtpe_table_destroy(t);
	}
	rcu_barrier();
	if (rtpe_wq)
		destroy_workqueue(rtpe_wq);
	rtpe_wq = NULL;
}
