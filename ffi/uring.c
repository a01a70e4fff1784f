/* uring.c - a minimal io_uring over raw system calls: ring setup and teardown, SQEs, provided buffers. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "uring.h"

#ifndef __NR_io_uring_setup
#define __NR_io_uring_setup 425
#endif
#ifndef __NR_io_uring_enter
#define __NR_io_uring_enter 426
#endif
#ifndef __NR_io_uring_register
#define __NR_io_uring_register 427
#endif

static int sys_setup(unsigned entries, struct io_uring_params *p)
{
	long r = syscall(__NR_io_uring_setup, entries, p);
	return r < 0 ? -errno : (int)r;
}

static int sys_enter(int fd, unsigned submit, unsigned min, unsigned flags)
{
	long r = syscall(__NR_io_uring_enter, fd, submit, min, flags, NULL, (size_t)0);
	return r < 0 ? -errno : (int)r;
}

static int sys_enter_arg(int fd, unsigned submit, unsigned min, unsigned flags, void *arg, size_t sz)
{
	long r = syscall(__NR_io_uring_enter, fd, submit, min, flags, arg, sz);
	return r < 0 ? -errno : (int)r;
}

static int sys_register(int fd, unsigned op, void *arg, unsigned n)
{
	long r = syscall(__NR_io_uring_register, fd, op, arg, n);
	return r < 0 ? -errno : (int)r;
}

int uring_init(struct uring *u, unsigned sq_entries, unsigned cq_entries)
{
	struct io_uring_params p;
	uint8_t *sq, *cq;
	int fd, r;

	memset(u, 0, sizeof(*u));
	u->fd = -1;
	memset(&p, 0, sizeof(p));
	p.flags = IORING_SETUP_CQSIZE | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN |
		IORING_SETUP_SUBMIT_ALL;
	p.cq_entries = cq_entries;
	fd = sys_setup(sq_entries, &p);
	if (fd < 0)
		return fd;
	u->fd = fd;
	u->sq_entries = p.sq_entries;
	u->cq_entries = p.cq_entries;
	u->sq_map_len = p.sq_off.array + p.sq_entries * sizeof(unsigned);
	u->cq_map_len = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
	if (p.features & IORING_FEAT_SINGLE_MMAP) {
		if (u->cq_map_len > u->sq_map_len)
			u->sq_map_len = u->cq_map_len;
		u->cq_map_len = 0;
	}
	u->sq_map = mmap(NULL, u->sq_map_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd,
			IORING_OFF_SQ_RING);
	if (u->sq_map == MAP_FAILED) {
		u->sq_map = NULL;
		goto fail;
	}
	if (u->cq_map_len) {
		u->cq_map = mmap(NULL, u->cq_map_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd,
				IORING_OFF_CQ_RING);
		if (u->cq_map == MAP_FAILED) {
			u->cq_map = NULL;
			goto fail;
		}
	}
	u->sqes_len = p.sq_entries * sizeof(struct io_uring_sqe);
	u->sqes = mmap(NULL, u->sqes_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd,
			IORING_OFF_SQES);
	if (u->sqes == MAP_FAILED) {
		u->sqes = NULL;
		goto fail;
	}
	sq = u->sq_map;
	cq = u->cq_map ? u->cq_map : u->sq_map;
	u->sq_head = (unsigned *)(void *)(sq + p.sq_off.head);
	u->sq_tail = (unsigned *)(void *)(sq + p.sq_off.tail);
	u->sq_mask = (unsigned *)(void *)(sq + p.sq_off.ring_mask);
	u->sq_array = (unsigned *)(void *)(sq + p.sq_off.array);
	u->cq_head = (unsigned *)(void *)(cq + p.cq_off.head);
	u->cq_tail = (unsigned *)(void *)(cq + p.cq_off.tail);
	u->cq_mask = (unsigned *)(void *)(cq + p.cq_off.ring_mask);
	u->cqes = (struct io_uring_cqe *)(void *)(cq + p.cq_off.cqes);
	u->sq_local = *u->sq_tail;
	return 0;
fail:
	r = -errno;
	uring_exit(u);
	return r ? r : -ENOMEM;
}

void uring_exit(struct uring *u)
{
	if (u->sqes)
		munmap(u->sqes, u->sqes_len);
	if (u->cq_map)
		munmap(u->cq_map, u->cq_map_len);
	if (u->sq_map)
		munmap(u->sq_map, u->sq_map_len);
	if (u->fd >= 0)
		close(u->fd);
	memset(u, 0, sizeof(*u));
	u->fd = -1;
}

void uring_publish(struct uring *u)
{
	__atomic_store_n(u->sq_tail, u->sq_local, __ATOMIC_RELEASE);
}

int uring_submit_wait(struct uring *u, unsigned min)
{
	int r;

	uring_publish(u);
	r = sys_enter(u->fd, u->to_submit, min, min ? IORING_ENTER_GETEVENTS : 0);
	if (r > 0)
		u->to_submit -= (unsigned)r > u->to_submit ? u->to_submit : (unsigned)r;
	return r;
}

int uring_submit_wait_timeout(struct uring *u, unsigned min, uint64_t timeout_ns)
{
	struct __kernel_timespec ts;
	struct io_uring_getevents_arg arg;
	int r;

	memset(&ts, 0, sizeof(ts));
	memset(&arg, 0, sizeof(arg));
	ts.tv_sec = (long long)(timeout_ns / 1000000000u);
	ts.tv_nsec = (long long)(timeout_ns % 1000000000u);
	arg.ts = (uint64_t)(uintptr_t)&ts;
	uring_publish(u);
	r = sys_enter_arg(u->fd, u->to_submit, min, IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG, &arg,
			sizeof(arg));
	if (r > 0)
		u->to_submit -= (unsigned)r > u->to_submit ? u->to_submit : (unsigned)r;
	return r;
}

int uring_files_sparse(struct uring *u, unsigned n)
{
	struct io_uring_rsrc_register rr;

	memset(&rr, 0, sizeof(rr));
	rr.nr = n;
	rr.flags = IORING_RSRC_REGISTER_SPARSE;
	return sys_register(u->fd, IORING_REGISTER_FILES2, &rr, sizeof(rr));
}

struct io_uring_sqe *uring_sqe(struct uring *u)
{
	unsigned head = __atomic_load_n(u->sq_head, __ATOMIC_ACQUIRE), i;
	struct io_uring_sqe *sqe;

	if (u->sq_local - head >= u->sq_entries) {
		uring_submit_wait(u, 0);
		head = __atomic_load_n(u->sq_head, __ATOMIC_ACQUIRE);
		if (u->sq_local - head >= u->sq_entries)
			return NULL;
	}
	i = u->sq_local & *u->sq_mask;
	sqe = &u->sqes[i];
	u->sq_array[i] = i;
	u->sq_local++;
	u->to_submit++;
	memset(sqe, 0, sizeof(*sqe));
	return sqe;
}

int uring_bufs_init(struct uring *u, struct uring_bufs *b, uint16_t bgid, unsigned entries, unsigned size,
		unsigned initial)
{
	struct io_uring_buf_reg reg;
	size_t ring_len = (size_t)entries * sizeof(struct io_uring_buf);
	int r;

	memset(b, 0, sizeof(*b));
	if (!entries || (entries & (entries - 1)) || entries > 32768u || !size)
		return -EINVAL;
	b->br = mmap(NULL, ring_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (b->br == MAP_FAILED) {
		b->br = NULL;
		return -ENOMEM;
	}
	b->mem = mmap(NULL, (size_t)entries * size, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (b->mem == MAP_FAILED) {
		b->mem = NULL;
		munmap(b->br, ring_len);
		b->br = NULL;
		return -ENOMEM;
	}
	b->entries = entries;
	b->size = size;
	b->bgid = bgid;
	memset(&reg, 0, sizeof(reg));
	reg.ring_addr = (uint64_t)(uintptr_t)b->br;
	reg.ring_entries = entries;
	reg.bgid = bgid;
	r = sys_register(u->fd, IORING_REGISTER_PBUF_RING, &reg, 1);
	if (r < 0) {
		munmap(b->mem, (size_t)entries * size);
		munmap(b->br, ring_len);
		memset(b, 0, sizeof(*b));
		return r;
	}
	uring_bufs_grow(b, initial);
	uring_bufs_publish(b);
	return 0;
}

void uring_bufs_free(struct uring *u, struct uring_bufs *b)
{
	struct io_uring_buf_reg reg;

	if (!b->br)
		return;
	if (u->fd >= 0) {
		memset(&reg, 0, sizeof(reg));
		reg.bgid = b->bgid;
		sys_register(u->fd, IORING_UNREGISTER_PBUF_RING, &reg, 1);
	}
	munmap(b->br, (size_t)b->entries * sizeof(struct io_uring_buf));
	munmap(b->mem, (size_t)b->entries * b->size);
	memset(b, 0, sizeof(*b));
}

void uring_bufs_give(struct uring_bufs *b, unsigned bid)
{
	struct io_uring_buf *e = &b->br->bufs[b->tail & (b->entries - 1u)];

	e->addr = (uint64_t)(uintptr_t)uring_buf(b, bid);
	e->len = b->size;
	e->bid = (uint16_t)bid;
	b->tail++;
	b->avail++;
}

unsigned uring_bufs_grow(struct uring_bufs *b, unsigned n)
{
	unsigned i;

	if (n > b->entries - b->live)
		n = b->entries - b->live;
	for (i = 0; i < n; i++)
		uring_bufs_give(b, b->live + i);
	b->live += n;
	return n;
}

void uring_bufs_publish(struct uring_bufs *b)
{
	__atomic_store_n(&b->br->tail, (uint16_t)b->tail, __ATOMIC_RELEASE);
}
