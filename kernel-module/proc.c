// SPDX-License-Identifier: GPL-2.0
/*
 * proc.c - the /proc/rtpengine interface.
 *
 *   /proc/rtpengine/control   w  "add N" / "del N" (text, one command a write)
 *   /proc/rtpengine/list      r  ids of existing tables, one a line
 *   /proc/rtpengine/N/control w  binary messages (rtpengine_uapi.h); held
 *                                open by one daemon at a time
 *   /proc/rtpengine/N/list    r  rules and counters, human readable
 *   /proc/rtpengine/N/blist   r  struct rtpe_blist_entry records
 *   /proc/rtpengine/N/status  r  short table summary
 *
 * Readable files are snapshots taken at open(), so a reader always sees
 * whole records however it splits its reads. Access is by file mode only;
 * the module parameters proc_uid/proc_gid hand every entry to the user the
 * daemon runs as (as "options xt_RTPENGINE proc_uid=... proc_gid=...").
 */
#include <linux/module.h>
#include <linux/proc_fs.h>
#include <linux/uaccess.h>
#include <linux/slab.h>
#include <linux/mm.h>
#include <linux/uidgid.h>
#include <linux/moduleparam.h>
#include <linux/kernel.h>
#include "rtpe.h"
#include "compat.h"

static struct proc_dir_entry *rtpe_proc_root;

static unsigned int proc_uid;
static unsigned int proc_gid;
module_param(proc_uid, uint, 0444);
MODULE_PARM_DESC(proc_uid, "owner (uid) of the /proc/rtpengine entries");
module_param(proc_gid, uint, 0444);
MODULE_PARM_DESC(proc_gid, "group (gid) of the /proc/rtpengine entries");

/* NULL-safe: gives a freshly created entry to proc_uid/proc_gid */
static struct proc_dir_entry *rtpe_own(struct proc_dir_entry *e)
{
	kuid_t uid = make_kuid(&init_user_ns, proc_uid);
	kgid_t gid = make_kgid(&init_user_ns, proc_gid);

	if (e && uid_valid(uid) && gid_valid(gid))
		proc_set_user(e, uid, gid);
	return e;
}

/* the text list is for people: at most 16 MB, at most 2 kB per rule */
#define RTPE_LIST_PER_RULE	2048
#define RTPE_LIST_MAX		(16u << 20)

/* ---- snapshots ------------------------------------------------------------ */

struct rtpe_snap {
	size_t len, cap;
	char buf[];
};

static struct rtpe_snap *rtpe_snap_alloc(size_t cap)
{
	struct rtpe_snap *s = kvmalloc(sizeof(*s) + cap, GFP_KERNEL);

	if (s) {
		s->len = 0;
		s->cap = cap;
	}
	return s;
}

static __printf(2, 3) void rtpe_snap_printf(struct rtpe_snap *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	s->len += vscnprintf(s->buf + s->len, s->cap - s->len, fmt, ap);
	va_end(ap);
}

static ssize_t rtpe_snap_read(struct file *f, char __user *ubuf, size_t n, loff_t *pos)
{
	struct rtpe_snap *s = f->private_data;

	return simple_read_from_buffer(ubuf, n, pos, s->buf, s->len);
}

static int rtpe_snap_release(struct inode *inode, struct file *f)
{
	kvfree(f->private_data);
	return 0;
}

static unsigned int rtpe_table_nrules(struct rtpe_table *t)
{
	unsigned int n;

	spin_lock_bh(&t->lock);
	n = t->nrules;
	spin_unlock_bh(&t->lock);
	return n;
}

/* ---- text helpers ------------------------------------------------------------ */

static void rtpe_snap_addr(struct rtpe_snap *s, const struct rtpe_addr *a)
{
	if (a->family == RTPE_AF_INET)
		rtpe_snap_printf(s, "%pI4:%u", a->addr, a->port);
	else if (a->family == RTPE_AF_INET6)
		rtpe_snap_printf(s, "[%pI6c]:%u", a->addr, a->port);
	else
		rtpe_snap_printf(s, "none");
}

static const char *const rtpe_cipher_names[] = {
	"none", "NULL", "AES-CM-128", "AES-CM-192", "AES-CM-256", "AES-F8-128",
	"AEAD-AES-GCM-128", "AEAD-AES-GCM-256",
};

static void rtpe_snap_srtp(struct rtpe_snap *s, const char *dir, const struct rtpe_srtp *p)
{
	if (p->cipher == RTPE_CIPHER_NONE || p->cipher > RTPE_CIPHER_MAX)
		return;
	rtpe_snap_printf(s, "    %s %s", dir, rtpe_cipher_names[p->cipher]);
	if (p->auth == RTPE_AUTH_HMAC_SHA1)
		rtpe_snap_printf(s, " HMAC-SHA1-%u/%u", p->rtp_tag_len * 8, p->rtcp_tag_len * 8);
	rtpe_snap_printf(s, " mki_len %u flags 0x%x\n", p->mki_len, p->flags);
}

static int rtpe_list_one(struct rtpe_krule *k, void *arg)
{
	struct rtpe_snap *s = arg;
	struct rtpe_blist_entry *e;
	const struct rtpe_rule *r;
	unsigned int i;

	if (s->cap - s->len < RTPE_LIST_PER_RULE)
		return 1;	/* full: rules added since open() are left out */
	e = kmalloc(sizeof(*e), GFP_ATOMIC);
	if (!e)
		return -ENOMEM;
	rtpe_rule_export(k, e);
	r = &e->rule;
	rtpe_snap_printf(s, "local ");
	rtpe_snap_addr(s, &r->local);
	if (r->flags & RTPE_RF_EXPECT_SRC) {
		rtpe_snap_printf(s, " expect ");
		rtpe_snap_addr(s, &r->expect_src);
	}
	rtpe_snap_printf(s, " -> src ");
	rtpe_snap_addr(s, &r->out.src);
	rtpe_snap_printf(s, " dst ");
	rtpe_snap_addr(s, &r->out.dst);
	rtpe_snap_printf(s, " tos %u flags 0x%x cookie %llu\n", r->out.tos, r->flags,
			 (unsigned long long)r->cookie);
	rtpe_snap_printf(s, "    packets %llu bytes %llu errors %llu auth_failed %llu to_user %llu last_ms %llu\n",
			 e->stats.packets, e->stats.bytes, e->stats.errors,
			 e->stats.auth_failed, e->stats.to_user, e->stats.last_ms);
	if (r->flags & RTPE_RF_RTCP_DEMUX) {
		rtpe_snap_printf(s, "    rtcp src ");
		rtpe_snap_addr(s, &r->rtcp_src);
		rtpe_snap_printf(s, " dst ");
		rtpe_snap_addr(s, &r->rtcp_dst);
		rtpe_snap_printf(s, "\n");
	}
	if (r->num_pt) {
		rtpe_snap_printf(s, "    pt");
		for (i = 0; i < r->num_pt && i < RTPE_MAX_PT; i++)
			rtpe_snap_printf(s, " %u", r->pt[i]);
		rtpe_snap_printf(s, "\n");
	}
	rtpe_snap_srtp(s, "decrypt", &r->decrypt);
	rtpe_snap_srtp(s, "encrypt", &r->out.encrypt);
	for (i = 0; i < RTPE_MAX_SSRC; i++) {
		const struct rtpe_ssrc_stats *x = &e->ssrc[i];

		if (!(x->flags & RTPE_SSRC_USED))
			continue;
		rtpe_snap_printf(s, "    ssrc 0x%08x packets %llu bytes %llu last_seq %u roc %u/%u\n",
				 x->ssrc, x->packets, x->bytes, x->last_seq, x->roc_in, x->roc_out);
	}
	kfree(e);
	return 0;
}

static int rtpe_blist_one(struct rtpe_krule *k, void *arg)
{
	struct rtpe_snap *s = arg;

	if (s->cap - s->len < sizeof(struct rtpe_blist_entry))
		return 1;
	rtpe_rule_export(k, (struct rtpe_blist_entry *)(s->buf + s->len));
	s->len += sizeof(struct rtpe_blist_entry);
	return 0;
}

/* ---- per-table files ------------------------------------------------------------ */

static int rtpe_list_open(struct inode *inode, struct file *f)
{
	struct rtpe_table *t = pde_data(inode);
	size_t cap = ((size_t)rtpe_table_nrules(t) + 8) * RTPE_LIST_PER_RULE;
	struct rtpe_snap *s = rtpe_snap_alloc(min_t(size_t, cap, RTPE_LIST_MAX));

	if (!s)
		return -ENOMEM;
	if (rtpe_rule_foreach(t, rtpe_list_one, s) < 0) {
		kvfree(s);
		return -ENOMEM;
	}
	f->private_data = s;
	return 0;
}

static int rtpe_blist_open(struct inode *inode, struct file *f)
{
	struct rtpe_table *t = pde_data(inode);
	struct rtpe_snap *s = rtpe_snap_alloc(((size_t)rtpe_table_nrules(t) + 8) *
					      sizeof(struct rtpe_blist_entry));

	if (!s)
		return -ENOMEM;
	rtpe_rule_foreach(t, rtpe_blist_one, s);
	f->private_data = s;
	return 0;
}

static int rtpe_status_open(struct inode *inode, struct file *f)
{
	struct rtpe_table *t = pde_data(inode);
	struct rtpe_snap *s = rtpe_snap_alloc(256);

	if (!s)
		return -ENOMEM;
	rtpe_snap_printf(s, "table %u\nrules %u\ncontrol %s\nuapi %u\n", t->id,
			 rtpe_table_nrules(t),
			 atomic_read(&t->ctl) == RTPE_CTL_HELD ? "held" : "free",
			 RTPE_UAPI_VERSION);
	f->private_data = s;
	return 0;
}

static int rtpe_ctl_open(struct inode *inode, struct file *f)
{
	struct rtpe_table *t = pde_data(inode);

	if (atomic_cmpxchg(&t->ctl, RTPE_CTL_FREE, RTPE_CTL_HELD) != RTPE_CTL_FREE)
		return -EBUSY;
	f->private_data = t;
	return 0;
}

static int rtpe_ctl_release(struct inode *inode, struct file *f)
{
	struct rtpe_table *t = f->private_data;

	atomic_cmpxchg(&t->ctl, RTPE_CTL_HELD, RTPE_CTL_FREE);
	return 0;
}

static int rtpe_ctl_msg(struct rtpe_table *t, const void *buf, size_t n)
{
	const struct rtpe_msg_hdr *h = buf;

	if (n < sizeof(*h) || h->magic != RTPE_MSG_MAGIC || h->len != n || h->_reserved)
		return -EINVAL;
	if (h->version != RTPE_UAPI_VERSION)
		return -EPROTO;
	switch (h->cmd) {
	case RTPE_CMD_ADD:
	case RTPE_CMD_UPDATE:
		if (n != sizeof(struct rtpe_msg_rule))
			return -EINVAL;
		return rtpe_rule_add(t, &((const struct rtpe_msg_rule *)buf)->rule,
				     h->cmd == RTPE_CMD_UPDATE);
	case RTPE_CMD_DEL:
		if (n != sizeof(struct rtpe_msg_del))
			return -EINVAL;
		return rtpe_rule_del(t, &((const struct rtpe_msg_del *)buf)->local);
	case RTPE_CMD_FLUSH:
		if (n != sizeof(*h))
			return -EINVAL;
		rtpe_rule_flush(t);
		return 0;
	default:
		return -EOPNOTSUPP;
	}
}

static ssize_t rtpe_ctl_write(struct file *f, const char __user *ubuf, size_t n, loff_t *pos)
{
	struct rtpe_table *t = f->private_data;
	void *buf;
	int err;

	if (n < sizeof(struct rtpe_msg_hdr) || n > sizeof(struct rtpe_msg_rule))
		return -EINVAL;
	buf = memdup_user(ubuf, n);
	if (IS_ERR(buf))
		return PTR_ERR(buf);
	err = rtpe_ctl_msg(t, buf, n);
	kfree_sensitive(buf);
	return err ? err : (ssize_t)n;
}

static const struct proc_ops rtpe_list_ops = {
	.proc_open	= rtpe_list_open,
	.proc_read	= rtpe_snap_read,
	.proc_lseek	= default_llseek,
	.proc_release	= rtpe_snap_release,
};

static const struct proc_ops rtpe_blist_ops = {
	.proc_open	= rtpe_blist_open,
	.proc_read	= rtpe_snap_read,
	.proc_lseek	= default_llseek,
	.proc_release	= rtpe_snap_release,
};

static const struct proc_ops rtpe_status_ops = {
	.proc_open	= rtpe_status_open,
	.proc_read	= rtpe_snap_read,
	.proc_lseek	= default_llseek,
	.proc_release	= rtpe_snap_release,
};

static const struct proc_ops rtpe_ctl_ops = {
	.proc_open	= rtpe_ctl_open,
	.proc_write	= rtpe_ctl_write,
	.proc_lseek	= noop_llseek,
	.proc_release	= rtpe_ctl_release,
};

int rtpe_proc_table_add(struct rtpe_table *t)
{
	char name[8];

	snprintf(name, sizeof(name), "%u", t->id);
	t->dir = rtpe_own(proc_mkdir(name, rtpe_proc_root));
	if (!t->dir)
		return -ENOMEM;
	if (!rtpe_own(proc_create_data("control", 0200, t->dir, &rtpe_ctl_ops, t)) ||
	    !rtpe_own(proc_create_data("list", 0444, t->dir, &rtpe_list_ops, t)) ||
	    !rtpe_own(proc_create_data("blist", 0444, t->dir, &rtpe_blist_ops, t)) ||
	    !rtpe_own(proc_create_data("status", 0444, t->dir, &rtpe_status_ops, t))) {
		proc_remove(t->dir);
		t->dir = NULL;
		return -ENOMEM;
	}
	return 0;
}

void rtpe_proc_table_del(struct rtpe_table *t)
{
	proc_remove(t->dir);
	t->dir = NULL;
}

/* ---- top-level files ------------------------------------------------------------ */

static ssize_t rtpe_main_ctl_write(struct file *f, const char __user *ubuf, size_t n, loff_t *pos)
{
	char buf[32], *arg;
	unsigned int id;
	int err;

	if (n == 0 || n >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, n))
		return -EFAULT;
	buf[n] = '\0';
	arg = strim(buf);
	if (!strncmp(arg, "add ", 4) || !strncmp(arg, "del ", 4)) {
		err = kstrtouint(skip_spaces(arg + 4), 10, &id);
		if (err)
			return err;
		err = arg[0] == 'a' ? rtpe_table_add(id) : rtpe_table_del(id);
		return err ? err : (ssize_t)n;
	}
	return -EINVAL;
}

static int rtpe_main_list_open(struct inode *inode, struct file *f)
{
	DECLARE_BITMAP(ids, RTPE_NUM_TABLES);
	struct rtpe_snap *s = rtpe_snap_alloc(RTPE_NUM_TABLES * 4);
	unsigned int i;

	if (!s)
		return -ENOMEM;
	rtpe_table_ids(ids);
	for_each_set_bit(i, ids, RTPE_NUM_TABLES)
		rtpe_snap_printf(s, "%u\n", i);
	f->private_data = s;
	return 0;
}

static const struct proc_ops rtpe_main_ctl_ops = {
	.proc_write	= rtpe_main_ctl_write,
	.proc_lseek	= noop_llseek,
};

static const struct proc_ops rtpe_main_list_ops = {
	.proc_open	= rtpe_main_list_open,
	.proc_read	= rtpe_snap_read,
	.proc_lseek	= default_llseek,
	.proc_release	= rtpe_snap_release,
};

int rtpe_proc_init(void)
{
	rtpe_proc_root = rtpe_own(proc_mkdir("rtpengine", NULL));
	if (!rtpe_proc_root)
		return -ENOMEM;
	if (!rtpe_own(proc_create("control", 0200, rtpe_proc_root, &rtpe_main_ctl_ops)) ||
	    !rtpe_own(proc_create("list", 0444, rtpe_proc_root, &rtpe_main_list_ops))) {
		proc_remove(rtpe_proc_root);
		rtpe_proc_root = NULL;
		return -ENOMEM;
	}
	return 0;
}

void rtpe_proc_exit(void)
{
	proc_remove(rtpe_proc_root);
	rtpe_proc_root = NULL;
}
