/* nft.c - installs and removes the daemon's nftables chain (meta l4proto udp -> xt target RTPENGINE) over NETLINK_NETFILTER. */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nf_tables_compat.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>

#include "rtpe_nft.h"

#define NFT_EXPORT __attribute__((visibility("default")))

#define TABLE_NAME "filter"
#define NAME_MAX_LEN 63
#define MAX_MSGS 64           /* messages in one batch */
#define BUF_SIZE 16384        /* one batch, or one received datagram */
#define MAX_HANDLES 32        /* tagged jump rules found in a base chain */
#define RECV_TIMEOUT_MS 3000
#define XT_INFO_LEN 8         /* XT_ALIGN(sizeof(struct xt_rtpengine_info)) */
#define UDATA_COMMENT 0       /* nftables' userdata TLV type for a rule comment */
#define TAG_PREFIX "rtpengine-ts jump "
#ifndef RTPE_NFT_TARGET
#define RTPE_NFT_TARGET "RTPENGINE"   /* tests on a host without the module may name another */
#define RTPE_NFT_TARGET_REV 0
#endif

/* ---------- message builder: every append is bounds checked; a full buffer poisons it ---------- */

struct msgbuf {
	uint8_t buf[BUF_SIZE] __attribute__((aligned(NLMSG_ALIGNTO)));
	size_t len;
	int overflow;
	struct nlmsghdr *cur;
	uint32_t seq0, seq;   /* first and next sequence number of the batch */
	unsigned nmsgs;       /* messages that will be acknowledged */
};

static void *mb_reserve(struct msgbuf *m, size_t n)
{
	size_t need = NLMSG_ALIGN(n);
	void *p;

	if (m->overflow || need > sizeof(m->buf) - m->len) {
		m->overflow = 1;
		return NULL;
	}
	p = m->buf + m->len;
	memset(p, 0, need);
	m->len += need;
	return p;
}

static void mb_begin(struct msgbuf *m, uint16_t type, uint16_t flags, uint8_t family, uint16_t res_id)
{
	struct nlmsghdr *h = mb_reserve(m, NLMSG_HDRLEN);
	struct nfgenmsg *g;

	m->cur = h;
	if (!h)
		return;
	h->nlmsg_type = type;
	h->nlmsg_flags = flags;
	h->nlmsg_seq = m->seq++;
	g = mb_reserve(m, sizeof(*g));
	if (!g)
		return;
	g->nfgen_family = family;
	g->version = NFNETLINK_V0;
	g->res_id = htons(res_id);
}

static void mb_end(struct msgbuf *m)
{
	if (m->overflow || !m->cur)
		return;
	m->cur->nlmsg_len = (uint32_t)((m->buf + m->len) - (uint8_t *)m->cur);
	if (m->cur->nlmsg_flags & NLM_F_ACK)
		m->nmsgs++;
	m->cur = NULL;
}

static void mb_attr(struct msgbuf *m, uint16_t type, const void *data, size_t len)
{
	struct nlattr *a;

	if (len > UINT16_MAX - NLA_HDRLEN) {
		m->overflow = 1;
		return;
	}
	a = mb_reserve(m, NLA_HDRLEN + len);
	if (!a)
		return;
	a->nla_type = type;
	a->nla_len = (uint16_t)(NLA_HDRLEN + len);
	if (len)
		memcpy((uint8_t *)a + NLA_HDRLEN, data, len);
}

static void mb_str(struct msgbuf *m, uint16_t type, const char *s)
{
	mb_attr(m, type, s, strlen(s) + 1);
}

static void mb_be32(struct msgbuf *m, uint16_t type, uint32_t v)
{
	uint32_t be = htonl(v);

	mb_attr(m, type, &be, sizeof(be));
}

static void mb_be64(struct msgbuf *m, uint16_t type, uint64_t v)
{
	uint8_t be[8];

	for (int i = 0; i < 8; i++)
		be[i] = (uint8_t)(v >> (56 - 8 * i));
	mb_attr(m, type, be, sizeof(be));
}

/* a nested attribute: returns its offset in the buffer (0 = failed); close with mb_nest_end */
static size_t mb_nest(struct msgbuf *m, uint16_t type)
{
	size_t off = m->len;
	struct nlattr *a = mb_reserve(m, NLA_HDRLEN);

	if (!a)
		return 0;
	a->nla_type = (uint16_t)(type | NLA_F_NESTED);
	return off;
}

static void mb_nest_end(struct msgbuf *m, size_t off)
{
	struct nlattr *a;
	size_t len;

	if (m->overflow || off == 0 || off >= m->len)
		return;
	len = m->len - off;
	if (len > UINT16_MAX) {
		m->overflow = 1;
		return;
	}
	a = (struct nlattr *)(m->buf + off);
	a->nla_len = (uint16_t)len;
}

/* ---------- errors ---------- */

struct ctx {
	int fd;
	uint32_t portid;
	uint32_t seq;
	char *err;
	uint32_t err_len;
	int err_set;
};

static void set_err(struct ctx *c, int e, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void set_err(struct ctx *c, int e, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (c->err_set || !c->err || c->err_len == 0)
		return;
	c->err_set = 1;
	va_start(ap, fmt);
	n = vsnprintf(c->err, c->err_len, fmt, ap);
	va_end(ap);
	if (n >= 0 && (uint32_t)n < c->err_len && e)
		snprintf(c->err + n, c->err_len - (uint32_t)n, ": %s", strerror(e));
}

/* ---------- socket ---------- */

static int nl_open(struct ctx *c)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);

	if (fd < 0) {
		int e = errno;
		set_err(c, e, "netlink socket (NETLINK_NETFILTER)");
		return -e;
	}
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || getsockname(fd, (struct sockaddr *)&sa, &sl)) {
		int e = errno;
		close(fd);
		set_err(c, e, "netlink bind");
		return -e;
	}
	c->fd = fd;
	c->portid = sa.nl_pid;
	return 0;
}

/* One received datagram into buf; -ETIMEDOUT when nothing arrives in time. */
static ssize_t nl_recv(struct ctx *c, uint8_t *buf, size_t len)
{
	struct pollfd p = { .fd = c->fd, .events = POLLIN };
	ssize_t n;
	int r;

	do
		r = poll(&p, 1, RECV_TIMEOUT_MS);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	if (r == 0)
		return -ETIMEDOUT;
	do
		n = recv(c->fd, buf, len, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n;
}

static int nl_send(struct ctx *c, const struct msgbuf *m, const char *what)
{
	struct sockaddr_nl to = { .nl_family = AF_NETLINK };
	ssize_t n;

	if (m->overflow) {
		set_err(c, 0, "%s: message too large", what);
		return -EMSGSIZE;
	}
	do
		n = sendto(c->fd, m->buf, m->len, 0, (struct sockaddr *)&to, sizeof(to));
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		int e = errno;
		set_err(c, e, "%s: send", what);
		return -e;
	}
	if ((size_t)n != m->len) {
		set_err(c, 0, "%s: short send", what);
		return -EIO;
	}
	return 0;
}

/* Callback for each non-error reply message of a request (dumps); may be NULL. */
typedef void (*reply_fn)(const struct nlmsghdr *h, void *arg);

/* Reads replies to the sequence numbers [seq0, seq_end) until every acked message has its ack (or a
 * dump its NLMSG_DONE). Returns 0 or the first error (-errno) any message got. */
static int nl_wait(struct ctx *c, uint32_t seq0, uint32_t seq_end, unsigned expect, reply_fn fn, void *arg,
		   const char *what)
{
	static uint8_t rbuf[BUF_SIZE] __attribute__((aligned(NLMSG_ALIGNTO)));
	unsigned got = 0;
	int first_err = 0;

	while (got < expect) {
		ssize_t n = nl_recv(c, rbuf, sizeof(rbuf));
		size_t left;
		const struct nlmsghdr *h;

		if (n < 0) {
			set_err(c, (int)-n, "%s: waiting for the kernel's answer", what);
			return (int)n;
		}
		left = (size_t)n;
		for (h = (const struct nlmsghdr *)rbuf; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
			if (h->nlmsg_pid != c->portid || h->nlmsg_seq < seq0 || h->nlmsg_seq >= seq_end)
				continue;   /* not ours (a stale answer) */
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(h);

				if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
					return -EPROTO;
				got++;
				if (e->error < 0 && !first_err)
					first_err = e->error;
			} else if (h->nlmsg_type == NLMSG_DONE) {
				got++;
			} else if (fn) {
				fn(h, arg);
			}
		}
	}
	return first_err;
}

/* ---------- attribute parsing (replies) ---------- */

/* The top-level attributes of an nftables message, indexed by type (0..max); absent = NULL. */
static void parse_attrs(const struct nlmsghdr *h, const struct nlattr **tb, unsigned max)
{
	const uint8_t *p, *end;

	for (unsigned i = 0; i <= max; i++)
		tb[i] = NULL;
	if (h->nlmsg_len < NLMSG_LENGTH(sizeof(struct nfgenmsg)))
		return;
	p = (const uint8_t *)NLMSG_DATA(h) + NLMSG_ALIGN(sizeof(struct nfgenmsg));
	end = (const uint8_t *)h + h->nlmsg_len;
	while (p + NLA_HDRLEN <= end) {
		const struct nlattr *a = (const struct nlattr *)p;
		unsigned type = a->nla_type & NLA_TYPE_MASK;

		if (a->nla_len < NLA_HDRLEN || a->nla_len > (size_t)(end - p))
			return;
		if (type <= max)
			tb[type] = a;
		p += NLA_ALIGN(a->nla_len);
	}
}

struct handles {
	const char *tag;
	size_t tag_len;      /* the userdata TLV we wrote, byte for byte */
	const uint8_t *udata;
	uint64_t h[MAX_HANDLES];
	unsigned n;
	unsigned total;      /* rules in the chain, tagged or not */
	int overflow;
};

static void collect_rule(const struct nlmsghdr *h, void *arg)
{
	struct handles *hs = arg;
	const struct nlattr *tb[NFTA_RULE_MAX + 1];
	const uint8_t *v;
	uint64_t handle = 0;

	if ((h->nlmsg_type & 0xff) != NFT_MSG_NEWRULE)
		return;
	hs->total++;
	parse_attrs(h, tb, NFTA_RULE_MAX);
	if (!tb[NFTA_RULE_HANDLE] || tb[NFTA_RULE_HANDLE]->nla_len != NLA_HDRLEN + 8 || !tb[NFTA_RULE_USERDATA])
		return;
	if (tb[NFTA_RULE_USERDATA]->nla_len != NLA_HDRLEN + hs->tag_len ||
	    memcmp((const uint8_t *)tb[NFTA_RULE_USERDATA] + NLA_HDRLEN, hs->udata, hs->tag_len))
		return;
	v = (const uint8_t *)tb[NFTA_RULE_HANDLE] + NLA_HDRLEN;
	for (int i = 0; i < 8; i++)
		handle = (handle << 8) | v[i];
	if (hs->n >= MAX_HANDLES) {
		hs->overflow = 1;
		return;
	}
	hs->h[hs->n++] = handle;
}

/* ---------- requests ---------- */

static uint8_t nfproto_of(unsigned fam_bit)
{
	return fam_bit == RTPE_NFT_IP ? NFPROTO_IPV4 : NFPROTO_IPV6;
}

static const char *fam_name(uint8_t family)
{
	return family == NFPROTO_IPV4 ? "ip" : "ip6";
}

static void msg_init(struct ctx *c, struct msgbuf *m)
{
	m->len = 0;
	m->overflow = 0;
	m->cur = NULL;
	m->nmsgs = 0;
	m->seq0 = m->seq = c->seq;
}

/* Whether table (chain == NULL) or chain exists: 1, 0, or -errno. */
static int nft_exists(struct ctx *c, uint8_t family, const char *chain)
{
	static struct msgbuf m;
	char what[128];
	int r;

	snprintf(what, sizeof(what), "get %s %s %s %s", chain ? "chain" : "table", fam_name(family), TABLE_NAME,
		 chain ? chain : "");
	msg_init(c, &m);
	mb_begin(&m, NFNL_SUBSYS_NFTABLES << 8 | (chain ? NFT_MSG_GETCHAIN : NFT_MSG_GETTABLE),
		 NLM_F_REQUEST | NLM_F_ACK, family, 0);
	if (chain) {
		mb_str(&m, NFTA_CHAIN_TABLE, TABLE_NAME);
		mb_str(&m, NFTA_CHAIN_NAME, chain);
	} else {
		mb_str(&m, NFTA_TABLE_NAME, TABLE_NAME);
	}
	mb_end(&m);
	c->seq = m.seq;
	r = nl_send(c, &m, what);
	if (r)
		return r;
	/* a found object answers with its NEW* message and then the ack */
	r = nl_wait(c, m.seq0, m.seq, m.nmsgs, NULL, NULL, what);
	if (r == -ENOENT)
		return 0;
	if (r < 0) {
		set_err(c, -r, "%s", what);
		return r;
	}
	return 1;
}

/* Rules of table/chain: tagged handles and the total count. */
static int nft_rules(struct ctx *c, uint8_t family, const char *chain, struct handles *hs)
{
	static struct msgbuf m;
	char what[128];
	int r;

	snprintf(what, sizeof(what), "list rules of %s %s %s", fam_name(family), TABLE_NAME, chain);
	msg_init(c, &m);
	mb_begin(&m, NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_GETRULE, NLM_F_REQUEST | NLM_F_DUMP, family, 0);
	mb_str(&m, NFTA_RULE_TABLE, TABLE_NAME);
	mb_str(&m, NFTA_RULE_CHAIN, chain);
	mb_end(&m);
	c->seq = m.seq;
	r = nl_send(c, &m, what);
	if (r)
		return r;
	hs->n = hs->total = 0;
	hs->overflow = 0;
	r = nl_wait(c, m.seq0, m.seq, 1, collect_rule, hs, what);
	if (r < 0) {
		set_err(c, -r, "%s", what);
		return r;
	}
	if (hs->overflow) {
		set_err(c, 0, "%s: more than %d rules tagged '%s'", what, MAX_HANDLES, hs->tag);
		return -E2BIG;
	}
	return 0;
}

static void batch_begin(struct ctx *c, struct msgbuf *m)
{
	msg_init(c, m);
	mb_begin(m, NFNL_MSG_BATCH_BEGIN, NLM_F_REQUEST, AF_UNSPEC, NFNL_SUBSYS_NFTABLES);
	mb_end(m);
}

static int batch_commit(struct ctx *c, struct msgbuf *m, const char *what)
{
	int r;

	mb_begin(m, NFNL_MSG_BATCH_END, NLM_F_REQUEST, AF_UNSPEC, NFNL_SUBSYS_NFTABLES);
	mb_end(m);
	c->seq = m->seq;
	r = nl_send(c, m, what);
	if (r)
		return r;
	r = nl_wait(c, m->seq0, m->seq, m->nmsgs, NULL, NULL, what);
	if (r < 0)
		set_err(c, -r, "%s", what);
	return r;
}

static void add_expr_begin(struct msgbuf *m, const char *name, size_t *elem, size_t *data)
{
	*elem = mb_nest(m, NFTA_LIST_ELEM);
	mb_str(m, NFTA_EXPR_NAME, name);
	*data = mb_nest(m, NFTA_EXPR_DATA);
}

static void add_expr_end(struct msgbuf *m, size_t elem, size_t data)
{
	mb_nest_end(m, data);
	mb_nest_end(m, elem);
}

/* the rule comment as nftables stores it: TLV type 0 (comment), length, text with its NUL */
static size_t make_tag(uint8_t *out, size_t cap, const char *chain)
{
	size_t n = strlen(TAG_PREFIX) + strlen(chain) + 1;

	if (n + 2 > cap || n > 255)
		return 0;
	out[0] = UDATA_COMMENT;
	out[1] = (uint8_t)n;
	snprintf((char *)out + 2, cap - 2, "%s%s", TAG_PREFIX, chain);
	return n + 2;
}

static int valid_name(const char *s, uint32_t len)
{
	if (len == 0 || len > NAME_MAX_LEN)
		return 0;
	for (uint32_t i = 0; i < len; i++) {
		char ch = s[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_' ||
		      ch == '.' || ch == '-'))
			return 0;
	}
	return 1;
}

/* Copies and checks the names; base may be empty. */
static int names(struct ctx *c, const char *chain, uint32_t chain_len, const char *base, uint32_t base_len,
		 char *chain_out, char *base_out)
{
	if (!chain || !valid_name(chain, chain_len)) {
		set_err(c, 0, "invalid chain name (1..%d characters of A-Z a-z 0-9 _ . -)", NAME_MAX_LEN);
		return -EINVAL;
	}
	memcpy(chain_out, chain, chain_len);
	chain_out[chain_len] = 0;
	base_out[0] = 0;
	if (base_len) {
		if (!base || !valid_name(base, base_len)) {
			set_err(c, 0, "invalid base chain name (1..%d characters of A-Z a-z 0-9 _ . -)", NAME_MAX_LEN);
			return -EINVAL;
		}
		memcpy(base_out, base, base_len);
		base_out[base_len] = 0;
	}
	if (base_len && !strcmp(chain_out, base_out)) {
		set_err(c, 0, "chain and base chain must differ");
		return -EINVAL;
	}
	return 0;
}

static void del_rule(struct msgbuf *m, uint8_t family, const char *chain, const uint64_t *handle)
{
	mb_begin(m, NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_DELRULE, NLM_F_REQUEST | NLM_F_ACK, family, 0);
	mb_str(m, NFTA_RULE_TABLE, TABLE_NAME);
	mb_str(m, NFTA_RULE_CHAIN, chain);
	if (handle)
		mb_be64(m, NFTA_RULE_HANDLE, *handle);
	mb_end(m);
}

/* One family: returns the created bits (table 1, base chain 2) or -errno. */
static int setup_family(struct ctx *c, uint8_t family, const char *chain, const char *base, uint32_t table_id,
			int append)
{
	static struct msgbuf m;
	static struct handles hs;
	uint8_t tag[2 + 256];
	size_t tag_len = make_tag(tag, sizeof(tag), chain);
	int t_ex, b_ex = 1, c_ex, created = 0, r;
	uint8_t info[XT_INFO_LEN] = { 0 };
	uint8_t l4 = IPPROTO_UDP;
	size_t exprs, e, d, d2;
	char what[160];

	if (!tag_len)
		return -EINVAL;
	hs.tag = chain;
	hs.udata = tag;
	hs.tag_len = tag_len;
	t_ex = nft_exists(c, family, NULL);
	if (t_ex < 0)
		return t_ex;
	if (t_ex && base[0]) {
		b_ex = nft_exists(c, family, base);
		if (b_ex < 0)
			return b_ex;
	} else if (base[0]) {
		b_ex = 0;
	}
	c_ex = t_ex ? nft_exists(c, family, chain) : 0;
	if (c_ex < 0)
		return c_ex;
	hs.n = 0;
	if (base[0] && b_ex) {
		r = nft_rules(c, family, base, &hs);
		if (r)
			return r;
	}

	batch_begin(c, &m);
	if (!t_ex) {
		mb_begin(&m, NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_NEWTABLE, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE,
			 family, 0);
		mb_str(&m, NFTA_TABLE_NAME, TABLE_NAME);
		mb_end(&m);
		created |= 1;
	}
	if (base[0] && !b_ex) {
		size_t hook;

		mb_begin(&m, NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_NEWCHAIN, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE,
			 family, 0);
		mb_str(&m, NFTA_CHAIN_TABLE, TABLE_NAME);
		mb_str(&m, NFTA_CHAIN_NAME, base);
		hook = mb_nest(&m, NFTA_CHAIN_HOOK);
		mb_be32(&m, NFTA_HOOK_HOOKNUM, NF_INET_LOCAL_IN);
		mb_be32(&m, NFTA_HOOK_PRIORITY, 0);
		mb_nest_end(&m, hook);
		mb_be32(&m, NFTA_CHAIN_POLICY, NF_ACCEPT);
		mb_str(&m, NFTA_CHAIN_TYPE, "filter");
		mb_end(&m);
		created |= 2;
	}
	if (!c_ex) {
		mb_begin(&m, NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_NEWCHAIN, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE,
			 family, 0);
		mb_str(&m, NFTA_CHAIN_TABLE, TABLE_NAME);
		mb_str(&m, NFTA_CHAIN_NAME, chain);
		mb_end(&m);
	} else {
		del_rule(&m, family, chain, NULL);   /* a left-over chain (crash, restart): flush it */
	}
	for (unsigned i = 0; i < hs.n; i++)
		del_rule(&m, family, base, &hs.h[i]);   /* left-over jumps */

	/* chain: meta l4proto udp -> xt target RTPENGINE --id N (struct xt_rtpengine_info, XT_ALIGNed) */
	memcpy(info, &table_id, sizeof(table_id));
	mb_begin(&m, NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_NEWRULE,
		 NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_APPEND, family, 0);
	mb_str(&m, NFTA_RULE_TABLE, TABLE_NAME);
	mb_str(&m, NFTA_RULE_CHAIN, chain);
	exprs = mb_nest(&m, NFTA_RULE_EXPRESSIONS);
	add_expr_begin(&m, "meta", &e, &d);
	mb_be32(&m, NFTA_META_KEY, NFT_META_L4PROTO);
	mb_be32(&m, NFTA_META_DREG, NFT_REG_1);
	add_expr_end(&m, e, d);
	add_expr_begin(&m, "cmp", &e, &d);
	mb_be32(&m, NFTA_CMP_SREG, NFT_REG_1);
	mb_be32(&m, NFTA_CMP_OP, NFT_CMP_EQ);
	d2 = mb_nest(&m, NFTA_CMP_DATA);
	mb_attr(&m, NFTA_DATA_VALUE, &l4, 1);
	mb_nest_end(&m, d2);
	add_expr_end(&m, e, d);
	add_expr_begin(&m, "target", &e, &d);
	mb_str(&m, NFTA_TARGET_NAME, RTPE_NFT_TARGET);
	mb_be32(&m, NFTA_TARGET_REV, RTPE_NFT_TARGET_REV);
	mb_attr(&m, NFTA_TARGET_INFO, info, sizeof(info));
	add_expr_end(&m, e, d);
	mb_nest_end(&m, exprs);
	mb_end(&m);

	/* base chain: jump to the chain, first (or last with append), tagged */
	if (base[0]) {
		size_t imm, vd;

		mb_begin(&m, NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_NEWRULE,
			 NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | (append ? NLM_F_APPEND : 0), family, 0);
		mb_str(&m, NFTA_RULE_TABLE, TABLE_NAME);
		mb_str(&m, NFTA_RULE_CHAIN, base);
		exprs = mb_nest(&m, NFTA_RULE_EXPRESSIONS);
		add_expr_begin(&m, "immediate", &e, &d);
		mb_be32(&m, NFTA_IMMEDIATE_DREG, NFT_REG_VERDICT);
		imm = mb_nest(&m, NFTA_IMMEDIATE_DATA);
		vd = mb_nest(&m, NFTA_DATA_VERDICT);
		mb_be32(&m, NFTA_VERDICT_CODE, (uint32_t)NFT_JUMP);
		mb_str(&m, NFTA_VERDICT_CHAIN, chain);
		mb_nest_end(&m, vd);
		mb_nest_end(&m, imm);
		add_expr_end(&m, e, d);
		mb_nest_end(&m, exprs);
		mb_attr(&m, NFTA_RULE_USERDATA, tag, tag_len);
		mb_end(&m);
	}
	snprintf(what, sizeof(what), "install %s %s chain %s%s%s", fam_name(family), TABLE_NAME, chain,
		 base[0] ? " and jump from " : "", base);
	r = batch_commit(c, &m, what);
	return r < 0 ? r : created;
}

static int teardown_family(struct ctx *c, uint8_t family, const char *chain, const char *base, int created)
{
	static struct msgbuf m;
	static struct handles hs;
	uint8_t tag[2 + 256];
	size_t tag_len = make_tag(tag, sizeof(tag), chain);
	char what[160];
	int r, ex;

	if (!tag_len)
		return -EINVAL;
	hs.tag = chain;
	hs.udata = tag;
	hs.tag_len = tag_len;
	hs.n = 0;
	ex = nft_exists(c, family, NULL);
	if (ex <= 0)
		return ex;   /* no table: nothing of ours left */
	if (base[0]) {
		ex = nft_exists(c, family, base);
		if (ex < 0)
			return ex;
		if (ex) {
			r = nft_rules(c, family, base, &hs);
			if (r)
				return r;
		}
	}
	ex = nft_exists(c, family, chain);
	if (ex < 0)
		return ex;
	batch_begin(c, &m);
	for (unsigned i = 0; i < hs.n; i++)
		del_rule(&m, family, base, &hs.h[i]);
	if (ex) {
		mb_begin(&m, NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_DELCHAIN, NLM_F_REQUEST | NLM_F_ACK, family, 0);
		mb_str(&m, NFTA_CHAIN_TABLE, TABLE_NAME);
		mb_str(&m, NFTA_CHAIN_NAME, chain);
		mb_end(&m);
	}
	snprintf(what, sizeof(what), "delete %s %s chain %s%s%s", fam_name(family), TABLE_NAME, chain,
		 base[0] ? " and its jump from " : "", base);
	if (m.nmsgs) {
		r = batch_commit(c, &m, what);
		if (r)
			return r;
	}
	/* what we created goes only while nobody else uses it (NLM_F_NONREC: EBUSY otherwise) */
	if ((created & 2) && base[0] && hs.total == hs.n) {
		batch_begin(c, &m);
		mb_begin(&m, NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_DELCHAIN, NLM_F_REQUEST | NLM_F_ACK | NLM_F_NONREC,
			 family, 0);
		mb_str(&m, NFTA_CHAIN_TABLE, TABLE_NAME);
		mb_str(&m, NFTA_CHAIN_NAME, base);
		mb_end(&m);
		c->err_set = 1;   /* EBUSY here is expected, not an error to report */
		(void)batch_commit(c, &m, what);
		c->err_set = 0;
	}
	if (created & 1) {
		batch_begin(c, &m);
		mb_begin(&m, NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_DELTABLE, NLM_F_REQUEST | NLM_F_ACK | NLM_F_NONREC,
			 family, 0);
		mb_str(&m, NFTA_TABLE_NAME, TABLE_NAME);
		mb_end(&m);
		c->err_set = 1;
		(void)batch_commit(c, &m, what);
		c->err_set = 0;
	}
	return 0;
}

static void ctx_init(struct ctx *c, char *err, uint32_t err_len)
{
	c->fd = -1;
	c->portid = 0;
	c->seq = 1;   /* a fresh socket per call: no stale replies to tell apart */
	c->err = err;
	c->err_len = err_len;
	c->err_set = 0;
	if (err && err_len)
		err[0] = 0;
}

NFT_EXPORT int rtpe_nft_setup(const char *chain, uint32_t chain_len, const char *base, uint32_t base_len,
			      uint32_t table_id, uint32_t flags, char *err, uint32_t err_len)
{
	char ch[NAME_MAX_LEN + 1], bs[NAME_MAX_LEN + 1];
	struct ctx c;
	int r = 0, created = 0;
	unsigned fams[2] = { RTPE_NFT_IP, RTPE_NFT_IP6 }, done = 0;

	ctx_init(&c, err, err_len);
	r = names(&c, chain, chain_len, base, base_len, ch, bs);
	if (r)
		return r;
	if (!(flags & (RTPE_NFT_IP | RTPE_NFT_IP6))) {
		set_err(&c, 0, "no family selected");
		return -EINVAL;
	}
	r = nl_open(&c);
	if (r)
		return r;
	for (unsigned i = 0; i < 2; i++) {
		if (!(flags & fams[i]))
			continue;
		r = setup_family(&c, nfproto_of(fams[i]), ch, bs, table_id, !!(flags & RTPE_NFT_APPEND));
		if (r < 0)
			break;
		created |= r << (2 * i);
		done |= fams[i];
	}
	if (r < 0) {
		/* undo the families already done (a failed batch changed nothing), so a failed start leaves
		 * nothing behind; the first error stays the one reported */
		int e = c.err_set;
		c.err_set = 1;
		for (unsigned i = 0; i < 2; i++)
			if (done & fams[i])
				(void)teardown_family(&c, nfproto_of(fams[i]), ch, bs, (created >> (2 * i)) & 3);
		c.err_set = e;
		close(c.fd);
		return r;
	}
	close(c.fd);
	return created;
}

NFT_EXPORT int rtpe_nft_teardown(const char *chain, uint32_t chain_len, const char *base, uint32_t base_len,
				 uint32_t flags, char *err, uint32_t err_len)
{
	char ch[NAME_MAX_LEN + 1], bs[NAME_MAX_LEN + 1];
	struct ctx c;
	int r, first = 0;
	unsigned fams[2] = { RTPE_NFT_IP, RTPE_NFT_IP6 };
	int created = (int)(flags >> RTPE_NFT_CREATED_SHIFT);

	ctx_init(&c, err, err_len);
	r = names(&c, chain, chain_len, base, base_len, ch, bs);
	if (r)
		return r;
	r = nl_open(&c);
	if (r)
		return r;
	for (unsigned i = 0; i < 2; i++) {
		if (!(flags & fams[i]))
			continue;
		r = teardown_family(&c, nfproto_of(fams[i]), ch, bs, (created >> (2 * i)) & 3);
		if (r < 0 && !first)
			first = r;
	}
	close(c.fd);
	return first;
}
