// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target for ring.c's record framing: the input interleaves
 * honest record writes and reads (with copy faults and peeks) with a
 * hostile peer that pokes prod and the bytes of the data area, record
 * headers included.
 *
 * Checked on every step:
 *  - copies stay inside the data area (heap, exactly the ring's size, so
 *    ASan's redzones catch any overrun) and never exceed what was asked;
 *  - a read returns at most the buffer and at most the record's length,
 *    and a record's length is never above the largest record;
 *  - a read never consumes past the producer's published prod;
 *  - -EPROTO is sticky: the reader is not used after it;
 *  - while the peer has poked nothing, records come out exactly as they
 *    went in (length and bytes, in order), and nothing is -EPROTO.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>

#include "ring.h"

typedef uint8_t u8;
typedef uint32_t u32;

#define ASSERT(c, ...) do {						\
	if (!(c)) {							\
		fprintf(stderr, "rec_fuzz: line %d: ", __LINE__);	\
		fprintf(stderr, __VA_ARGS__);				\
		fputc('\n', stderr);					\
		abort();						\
	}								\
} while (0)

struct in {
	const u8 *p;
	size_t n;
};

static u32 in_u16(struct in *in)
{
	u32 v = 0;

	for (int i = 0; i < 2 && in->n; i++, in->n--)
		v = v << 8 | *in->p++;
	return v;
}

struct cp {
	u8 *area;
	u32 size;
	u8 *buf;
	size_t pos, limit, asked;
};

static size_t cp_move(struct cp *c, void *ring, size_t len, bool in)
{
	u8 *r = ring;
	size_t n;

	ASSERT(r >= c->area && r + len <= c->area + c->size,
	       "copy outside the data area");
	c->asked += len;
	n = c->limit > c->pos ? c->limit - c->pos : 0;
	n = n < len ? n : len;
	if (in)
		memcpy(r, c->buf + c->pos, n);
	else
		memcpy(c->buf + c->pos, r, n);
	c->pos += n;
	return n;
}

static size_t copy_in(void *ctx, void *ring, size_t len)
{
	return cp_move(ctx, ring, len, true);
}

static size_t copy_out(void *ctx, void *ring, size_t len)
{
	return cp_move(ctx, ring, len, false);
}

#define MAXQ 256

struct fz {
	struct afx_ring_shared sh;
	struct afx_ring tx, rx;
	u8 *area;
	u32 size;
	bool poked, broken;
	u32 qlen[MAXQ], qseed[MAXQ], head, tail, seed;
	u8 buf[4200], want[4200];
};

static void fill(u8 *b, size_t n, u32 seed)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (u8)(seed * 167 + i * 13 + 1);
}

static void do_write(struct fz *f, size_t len, size_t limit)
{
	struct cp c = { f->area, f->size, f->buf, 0, limit, 0 };
	long n;

	fill(f->buf, len, f->seed);
	n = afx_ring_write_rec(&f->tx, copy_in, &c, len, 0);
	ASSERT(c.asked <= len, "write copied %zu of %zu", c.asked, len);
	if (n == (long)len && f->head - f->tail < MAXQ) {
		f->qlen[f->head % MAXQ] = len;
		f->qseed[f->head++ % MAXQ] = f->seed++;
	} else if (n == (long)len) {
		f->poked = true;	/* the model lost track: stop judging */
	}
	if (!f->poked)
		ASSERT(n == (long)len || n == -EAGAIN || n == -EMSGSIZE ||
		       n == -EFAULT, "honest write of %zu: %ld", len, n);
}

static void do_read(struct fz *f, size_t len, size_t limit, bool peek)
{
	struct cp c = { f->area, f->size, f->buf, 0, limit, 0 };
	u32 rl = 0, before = f->rx.idx, prod = f->sh.prod;
	long n;

	n = afx_ring_rec_bytes(&f->rx);
	ASSERT(n == -EPROTO ? f->poked : n >= 0 && n <= (long)f->size,
	       "queued payload %ld", n);
	if (!f->poked) {
		long sum = 0;
		u32 i;

		for (i = f->tail; i != f->head; i++)
			sum += f->qlen[i % MAXQ];
		ASSERT(n == sum, "queued payload %ld, wrote %ld", n, sum);
	}
	n = afx_ring_read_rec(&f->rx, copy_out, &c, len, peek, &rl);
	ASSERT(f->rx.idx - before <= prod - before,
	       "consumed %u bytes past prod", f->rx.idx - prod);
	ASSERT(c.asked <= len, "read copied %zu for a %zu-byte buffer",
	       c.asked, len);
	if (n == -EPROTO) {
		ASSERT(f->poked, "EPROTO from an honest peer");
		f->broken = true;
		return;
	}
	if (n < 0) {
		ASSERT(n == -EAGAIN || n == -EFAULT, "read: %ld", n);
		if (!f->poked && n == -EAGAIN)
			ASSERT(f->head == f->tail, "a record went missing");
		return;
	}
	ASSERT((size_t)n <= len && n <= (long)rl && rl <= afx_ring_rec_max(&f->rx),
	       "read %ld of a %u-byte record into %zu", n, rl, len);
	if (f->poked)
		return;
	ASSERT(f->head != f->tail, "a record nobody wrote");
	ASSERT(rl == f->qlen[f->tail % MAXQ], "length %u, wrote %u", rl,
	       f->qlen[f->tail % MAXQ]);
	fill(f->want, n, f->qseed[f->tail % MAXQ]);
	ASSERT(!memcmp(f->buf, f->want, n), "record bytes differ");
	if (!peek)
		f->tail++;
}

static void poke(struct fz *f, struct in *in, u8 op)
{
	u32 v = in_u16(in);

	f->poked = true;
	if (op & 1)
		f->sh.prod = f->rx.idx + (v % (f->size + 8));
	else
		f->area[v % f->size] = (u8)(v >> 8);
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size);

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct in in = { data, size };
	static struct fz f;
	u32 start;

	if (size < 2)
		return 0;
	memset(&f, 0, sizeof(f));
	f.size = 16u << (data[0] % 9);	/* 16 B .. 4 KiB */
	start = data[1] & 1 ? 0xffffff00u : 0;
	in.p += 2;
	in.n -= 2;
	f.area = malloc(f.size);
	memset(f.area, 0, f.size);
	afx_ring_init(&f.tx, &f.sh, f.area, f.size);
	afx_ring_init(&f.rx, &f.sh, f.area, f.size);
	f.tx.idx = f.tx.peer_idx = f.rx.idx = f.rx.peer_idx = start;
	f.sh.prod = f.sh.cons = start;
	while (in.n && !f.broken) {
		u8 op = *in.p++;
		size_t len, limit;

		in.n--;
		len = in_u16(&in) % (f.size + 8);
		limit = op & 0x40 ? in_u16(&in) % (len + 1) : len;
		switch (op % 8) {
		case 0: case 1: case 2:
			do_write(&f, len, limit);
			break;
		case 3: case 4: case 5:
			do_read(&f, len, limit, op & 0x80);
			break;
		default:
			poke(&f, &in, op);
		}
	}
	free(f.area);
	return 0;
}
