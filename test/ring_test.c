// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests and a two-thread stress test of ring.c in userspace.
 *
 *   ring_test [--only SUBSTR] [--tag PREFIX] [--list]
 *
 * Prints one line per test: "ok - ring: NAME" or "not ok - ring: NAME # why".
 * Lines starting with "# " are comments (statistics).  Exit status is 1 if
 * any test failed.
 *
 * Environment: RING_STRESS_BYTES (default 1 GiB; suffixes K, M, G),
 * RING_STRESS_SEED (default 1).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <inttypes.h>
#include <stdarg.h>
#include <time.h>
#include <pthread.h>
#include <unistd.h>
#include <linux/futex.h>
#include <sys/syscall.h>

#include "ring.h"
#include "unit_check.h"

/* Run a helper that may CHECK-fail, then leave the caller too. */
#define CALL(f) do { f; if (t_failed) return; } while (0)

/* ----- a ring with guard bytes and bounds-checking copy callbacks ----- */

#define GUARD 64
#define GUARD_BYTE 0xa5

struct tring {
	struct afx_ring_shared *sh;
	u8 *area;		/* GUARD + size + GUARD */
	u8 *data;
	u32 size;
	struct afx_ring tx, rx;
};

static void tring_init(struct tring *t, u32 size)
{
	t->sh = aligned_alloc(64, sizeof(*t->sh));
	memset(t->sh, 0, sizeof(*t->sh));
	t->area = malloc(size + 2 * GUARD);
	memset(t->area, GUARD_BYTE, size + 2 * GUARD);
	t->data = t->area + GUARD;
	memset(t->data, 0, size);
	t->size = size;
	afx_ring_init(&t->tx, t->sh, t->data, size);
	afx_ring_init(&t->rx, t->sh, t->data, size);
}

/* Both sides start at index start, as if start bytes had gone through. */
static void tring_start_at(struct tring *t, u32 start)
{
	t->tx.idx = t->tx.peer_idx = start;
	t->rx.idx = t->rx.peer_idx = start;
	t->sh->prod = t->sh->cons = start;
}

static int tring_guards_ok(const struct tring *t)
{
	for (int i = 0; i < GUARD; i++)
		if (t->area[i] != GUARD_BYTE ||
		    t->area[GUARD + t->size + i] != GUARD_BYTE)
			return 0;
	return 1;
}

static void tring_free(struct tring *t)
{
	free(t->sh);
	free(t->area);
}

struct piece {
	size_t off, len;
};

/* Copy context: a flat buffer on our side, fault injection, a log. */
struct cbuf {
	struct tring *t;
	u8 *buf;
	size_t pos;		/* bytes moved so far */
	size_t limit;		/* fault after this many bytes in total */
	int calls;
	int oob;		/* callback was handed memory outside the ring */
	struct piece pieces[4];
};

static void cbuf_init(struct cbuf *c, struct tring *t, u8 *buf)
{
	memset(c, 0, sizeof(*c));
	c->t = t;
	c->buf = buf;
	c->limit = SIZE_MAX;
}

static size_t cbuf_move(struct cbuf *c, void *ring_ptr, size_t len, int in)
{
	u8 *p = ring_ptr;
	size_t n;

	if (p < c->t->data || p > c->t->data + c->t->size ||
	    len > (size_t)(c->t->data + c->t->size - p) || !len) {
		c->oob++;
		return 0;
	}
	if (c->calls < 4) {
		c->pieces[c->calls].off = p - c->t->data;
		c->pieces[c->calls].len = len;
	}
	c->calls++;
	n = c->limit - c->pos < len ? c->limit - c->pos : len;
	if (in)
		memcpy(p, c->buf + c->pos, n);
	else
		memcpy(c->buf + c->pos, p, n);
	c->pos += n;
	return n;
}

static size_t copy_in(void *ctx, void *ring_ptr, size_t len)
{
	return cbuf_move(ctx, ring_ptr, len, 1);
}

static size_t copy_out(void *ctx, void *ring_ptr, size_t len)
{
	return cbuf_move(ctx, ring_ptr, len, 0);
}

static void pattern(u8 *buf, size_t len, u32 seed)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (u8)((seed + i) * 2654435761u >> 13);
}

static long twrite(struct tring *t, const u8 *src, size_t len)
{
	struct cbuf c;

	cbuf_init(&c, t, (u8 *)src);
	return afx_ring_write(&t->tx, copy_in, &c, len);
}

static long tread(struct tring *t, u8 *dst, size_t len, bool peek)
{
	struct cbuf c;

	cbuf_init(&c, t, dst);
	return afx_ring_read(&t->rx, copy_out, &c, len, peek);
}

/* ----- basic ----- */

static void t_empty_full(void)
{
	struct tring t;
	u8 in[4096], out[4096];

	tring_init(&t, 4096);
	pattern(in, sizeof(in), 1);
	CHECK(afx_ring_rx_avail(&t.rx) == 0, "empty ring has data");
	CHECK(afx_ring_tx_space(&t.tx) == 4096, "empty ring space %d",
	      afx_ring_tx_space(&t.tx));
	CHECK(tread(&t, out, 100, false) == 0, "read of empty ring");
	CHECK(twrite(&t, in, 0) == 0, "zero write");
	CHECK(twrite(&t, in, 1000) == 1000, "write 1000");
	CHECK(afx_ring_rx_avail(&t.rx) == 1000, "avail after 1000");
	CHECK(afx_ring_tx_space(&t.tx) == 3096, "space after 1000");
	CHECK(twrite(&t, in + 1000, 4000) == 3096, "write is not capped");
	CHECK(afx_ring_tx_space(&t.tx) == 0, "full ring has space");
	CHECK(twrite(&t, in, 1) == 0, "write to full ring");
	CHECK(afx_ring_rx_avail(&t.rx) == 4096, "full ring avail");
	CHECK(t.sh->prod - t.sh->cons == 4096, "shared fill");
	CHECK(tread(&t, out, 0, false) == 0, "zero read");
	CHECK(tread(&t, out, 5000, false) == 4096, "read of full ring");
	CHECK(!memcmp(in, out, 4096), "data differ");
	CHECK(afx_ring_rx_avail(&t.rx) == 0, "drained ring has data");
	CHECK(afx_ring_tx_space(&t.tx) == 4096, "drained ring space");
	CHECK(tring_guards_ok(&t), "guard bytes overwritten");
	tring_free(&t);
}

static void t_exact_fill(void)
{
	struct tring t;
	u8 in[256], out[256];

	tring_init(&t, 256);
	for (int round = 0; round < 5; round++) {
		pattern(in, sizeof(in), round);
		CHECK(twrite(&t, in, 256) == 256, "round %d: fill", round);
		CHECK(afx_ring_tx_space(&t.tx) == 0, "round %d: space", round);
		CHECK(afx_ring_rx_avail(&t.rx) == 256, "round %d: avail",
		      round);
		memset(out, 0, sizeof(out));
		CHECK(tread(&t, out, 256, false) == 256, "round %d: drain",
		      round);
		CHECK(!memcmp(in, out, 256), "round %d: data", round);
		/* Shift the start so later rounds fill across the end. */
		CHECK(twrite(&t, in, 37) == 37, "round %d: shift", round);
		CHECK(tread(&t, out, 37, false) == 37, "round %d: unshift",
		      round);
	}
	CHECK(tring_guards_ok(&t), "guard bytes overwritten");
	tring_free(&t);
}

static void t_wrap_u32(void)
{
	static u8 in[65536], out[65536];
	struct tring t;
	size_t w = 0, r = 0;
	u32 start = 0xFFFFFF00u;
	int crossed = 0;

	tring_init(&t, 4096);
	tring_start_at(&t, start);
	pattern(in, sizeof(in), 7);
	CHECK(afx_ring_rx_avail(&t.rx) == 0, "avail at start");
	CHECK(afx_ring_tx_space(&t.tx) == 4096, "space at start");
	/* Fill past UINT32_MAX in one go: prod wraps, cons has not. */
	CHECK(twrite(&t, in, 4096) == 4096, "fill across 2^32");
	w = 4096;
	CHECK(t.sh->prod == (u32)(start + 4096) && t.sh->prod < t.sh->cons,
	      "prod did not wrap (%#x)", t.sh->prod);
	CHECK(afx_ring_rx_avail(&t.rx) == 4096, "avail with prod < cons: %d",
	      afx_ring_rx_avail(&t.rx));
	CHECK(afx_ring_tx_space(&t.tx) == 0, "space with prod < cons");
	while (r < sizeof(in)) {
		size_t len = 1 + (r * 7919 % 3001);
		long n;

		if (w < sizeof(in)) {
			len = len > sizeof(in) - w ? sizeof(in) - w : len;
			n = twrite(&t, in + w, len);
			CHECK(n >= 0 && (size_t)n <= len, "write %ld", n);
			w += n;
		}
		n = tread(&t, out + r, 1 + (r * 104729 % 2999), false);
		CHECK(n >= 0, "read %ld", n);
		r += n;
		if (t.rx.idx < start)
			crossed = 1;
		CHECK((u32)(t.sh->prod - t.sh->cons) <= 4096, "fill %#x",
		      t.sh->prod - t.sh->cons);
	}
	CHECK(crossed, "consumer index never wrapped");
	CHECK(!memcmp(in, out, sizeof(in)), "data differ");
	CHECK(t.rx.idx == (u32)(start + sizeof(in)), "cons %#x", t.rx.idx);
	CHECK(tring_guards_ok(&t), "guard bytes overwritten");
	tring_free(&t);
}

/* Every start offset and length in a 16-byte ring, at two bases. */
static void t_two_piece(void)
{
	static const u32 bases[] = { 0, 0xFFFFFFF0u, 0x7FFFFFF8u };
	const u32 size = 16;

	for (unsigned b = 0; b < 3; b++)
	for (u32 off = 0; off < size; off++)
	for (size_t len = 1; len <= size; len++) {
		struct tring t;
		struct cbuf c;
		u8 in[16], out[16];
		u32 ro = (bases[b] + off) & (size - 1);	/* ring offset */
		size_t first = size - ro < len ? size - ro : len;
		int npieces = first < len ? 2 : 1;
		long n;

		tring_init(&t, size);
		tring_start_at(&t, bases[b] + off);
		pattern(in, len, off * 100 + len);
		cbuf_init(&c, &t, in);
		n = afx_ring_write(&t.tx, copy_in, &c, len);
		CHECK(n == (long)len, "base %#x off %u len %zu: wrote %ld",
		      bases[b], off, len, n);
		CHECK(c.calls == npieces && !c.oob,
		      "off %u len %zu: write in %d pieces", off, len, c.calls);
		CHECK(c.pieces[0].off == ro && c.pieces[0].len == first,
		      "off %u len %zu: first piece %zu+%zu", off, len,
		      c.pieces[0].off, c.pieces[0].len);
		CHECK(npieces == 1 || (c.pieces[1].off == 0 &&
				       c.pieces[1].len == len - first),
		      "off %u len %zu: second piece %zu+%zu", off, len,
		      c.pieces[1].off, c.pieces[1].len);
		for (size_t k = 0; k < len; k++)
			CHECK(t.data[(ro + k) % size] == in[k],
			      "off %u len %zu: byte %zu misplaced", off, len, k);
		cbuf_init(&c, &t, out);
		n = afx_ring_read(&t.rx, copy_out, &c, size, false);
		CHECK(n == (long)len, "off %u len %zu: read %ld", off, len, n);
		CHECK(c.calls == npieces && !c.oob &&
		      c.pieces[0].off == ro && c.pieces[0].len == first,
		      "off %u len %zu: read pieces", off, len);
		CHECK(!memcmp(in, out, len), "off %u len %zu: data", off, len);
		CHECK(tring_guards_ok(&t), "guard bytes overwritten");
		tring_free(&t);
	}
}

static void t_peek(void)
{
	struct tring t;
	u8 in[300], out[300], out2[300];
	long n;

	tring_init(&t, 256);
	tring_start_at(&t, 200);	/* data crosses the end */
	pattern(in, sizeof(in), 3);
	CHECK(twrite(&t, in, 100) == 100, "write");
	n = tread(&t, out, 50, true);
	CHECK(n == 50 && !memcmp(in, out, 50), "peek 50: %ld", n);
	CHECK(t.rx.idx == 200 && t.sh->cons == 200, "peek consumed");
	CHECK(afx_ring_rx_avail(&t.rx) == 100, "avail after peek");
	CHECK(afx_ring_tx_space(&t.tx) == 156, "space after peek");
	n = tread(&t, out, 300, true);
	CHECK(n == 100 && !memcmp(in, out, 100), "peek all: %ld", n);
	n = tread(&t, out2, 300, false);
	CHECK(n == 100 && !memcmp(in, out2, 100), "read after peek: %ld", n);
	CHECK(t.rx.idx == 300 && t.sh->cons == 300, "read did not consume");
	CHECK(tread(&t, out, 10, true) == 0, "peek of empty ring");
	tring_free(&t);
}

/* ----- faults in the copy callback ----- */

static void t_copy_fault(void)
{
	/* 16-byte ring starting at offset 12: a 10-byte op is 4 + 6. */
	static const size_t limits[] = { 0, 1, 3, 4, 5, 9, 10 };

	for (unsigned i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) {
		struct tring t;
		struct cbuf c;
		u8 in[10], out[16];
		size_t lim = limits[i];
		long n;

		tring_init(&t, 16);
		tring_start_at(&t, 12);
		pattern(in, sizeof(in), 9);
		cbuf_init(&c, &t, in);
		c.limit = lim;
		n = afx_ring_write(&t.tx, copy_in, &c, 10);
		if (!lim) {
			CHECK(n == -EFAULT, "zero copy write: %ld", n);
		} else {
			CHECK(n == (long)lim, "write limit %zu: %ld", lim, n);
		}
		CHECK(t.tx.idx == 12 + lim && t.sh->prod == 12 + lim,
		      "write limit %zu: published %u", lim, t.sh->prod - 12);
		CHECK(lim >= 4 || c.calls == 1,
		      "write limit %zu: copied on after a fault", lim);
		CHECK(!c.oob, "out of bounds");

		/* Now fill it honestly and read with the same fault. */
		t.tx.idx = t.sh->prod = 12 + 10;
		memcpy(t.data + 12, in, 4);
		memcpy(t.data, in + 4, 6);
		cbuf_init(&c, &t, out);
		c.limit = lim;
		n = afx_ring_read(&t.rx, copy_out, &c, 16, true);
		CHECK(n == (lim ? (long)lim : -EFAULT), "peek limit %zu: %ld",
		      lim, n);
		CHECK(t.rx.idx == 12 && t.sh->cons == 12, "peek consumed");
		cbuf_init(&c, &t, out);
		c.limit = lim;
		n = afx_ring_read(&t.rx, copy_out, &c, 16, false);
		CHECK(n == (lim ? (long)lim : -EFAULT), "read limit %zu: %ld",
		      lim, n);
		CHECK(t.rx.idx == 12 + lim && t.sh->cons == 12 + lim,
		      "read limit %zu: published %u", lim, t.sh->cons - 12);
		CHECK(!memcmp(in, out, lim), "read limit %zu: data", lim);
		CHECK(afx_ring_rx_avail(&t.rx) == (int)(10 - lim),
		      "read limit %zu: rest", lim);
		CHECK(afx_ring_tx_space(&t.tx) == (int)(6 + lim),
		      "read limit %zu: space", lim);
		CHECK(!c.oob && tring_guards_ok(&t), "out of bounds");
		tring_free(&t);
	}
}

/* ----- EOF, CLOSED, RESET ----- */

static void t_eof_after_drain(void)
{
	struct tring t;
	u8 in[100], out[100];

	tring_init(&t, 64);
	tring_start_at(&t, 0xFFFFFFF0u);
	pattern(in, sizeof(in), 5);
	CHECK(twrite(&t, in, 50) == 50, "write");
	afx_ring_tx_set_state(&t.tx, AFX_RING_EOF);
	CHECK(t.sh->pstate == AFX_RING_EOF, "pstate %#x", t.sh->pstate);
	CHECK(afx_ring_rx_avail(&t.rx) == 50, "avail with EOF");
	CHECK(afx_ring_peer_eof(&t.rx), "EOF not seen");
	/* A reader reports EOF only when avail is 0 and EOF was seen. */
	CHECK(tread(&t, out, 30, false) == 30, "read 30");
	CHECK(afx_ring_rx_avail(&t.rx) == 20, "avail 20");
	CHECK(tread(&t, out + 30, 100, false) == 20, "read 20");
	CHECK(!memcmp(in, out, 50), "data");
	CHECK(afx_ring_rx_avail(&t.rx) == 0 && afx_ring_peer_eof(&t.rx),
	      "no EOF after drain");
	CHECK(tread(&t, out, 10, false) == 0, "read after EOF");
	CHECK(afx_ring_rx_prepare_wait(&t.rx) == 0, "prepare_wait at EOF");
	CHECK(!afx_ring_peer_reset(&t.rx) && !afx_ring_peer_closed(&t.rx),
	      "other bits");
	/* RESET on top of EOF is an addition, not a disappearance. */
	afx_ring_tx_set_state(&t.tx, AFX_RING_RESET);
	CHECK(afx_ring_rx_avail(&t.rx) == 0 && afx_ring_peer_reset(&t.rx) &&
	      afx_ring_peer_eof(&t.rx), "RESET after EOF");
	/* Consumer side: CLOSED and RESET reach the producer. */
	CHECK(!afx_ring_peer_closed(&t.tx), "closed too early");
	afx_ring_rx_set_state(&t.rx, AFX_RING_CLOSED);
	CHECK(afx_ring_tx_space(&t.tx) == 64 && afx_ring_peer_closed(&t.tx),
	      "CLOSED not seen");
	afx_ring_rx_set_state(&t.rx, AFX_RING_RESET);
	CHECK(afx_ring_tx_space(&t.tx) == 64 && afx_ring_peer_reset(&t.tx),
	      "RESET not seen");
	CHECK(t.sh->cstate == (AFX_RING_CLOSED | AFX_RING_RESET), "cstate");
	/* Bits outside a side's mask are not published. */
	afx_ring_rx_set_state(&t.rx, AFX_RING_EOF);
	CHECK(t.sh->cstate == (AFX_RING_CLOSED | AFX_RING_RESET),
	      "consumer published EOF");
	tring_free(&t);
}

static void t_eof_empty(void)
{
	struct tring t;

	tring_init(&t, 64);
	afx_ring_tx_set_state(&t.tx, AFX_RING_EOF);
	CHECK(afx_ring_rx_avail(&t.rx) == 0 && afx_ring_peer_eof(&t.rx),
	      "EOF on an empty ring");
	tring_free(&t);
}

/* ----- protocol violations ----- */

/*
 * After a violation, with the bad value still in place, everything the
 * caller might still call on that side (side 0: consumer, 1: producer)
 * reports -EPROTO again, stays in bounds and moves neither our index nor
 * the shared one we own.
 */
static void after_violation(struct tring *t, int side)
{
	struct afx_ring *r = side ? &t->tx : &t->rx;
	u32 idx = r->idx, peer_idx = r->peer_idx, state = r->peer_state;
	u32 shared = side ? t->sh->prod : t->sh->cons;
	u8 buf[4 * 4096];
	struct cbuf c;
	long n;

	memset(buf, 0x11, sizeof(buf));
	for (int i = 0; i < 3; i++) {
		cbuf_init(&c, t, buf);
		if (side)
			n = afx_ring_write(r, copy_in, &c, sizeof(buf));
		else
			n = afx_ring_read(r, copy_out, &c, sizeof(buf), i & 1);
		CHECK(n == -EPROTO, "%s after violation: %ld",
		      side ? "write" : "read", n);
		CHECK(!c.oob && !c.calls, "copied after violation");
		n = side ? afx_ring_tx_space(r) : afx_ring_rx_avail(r);
		CHECK(n == -EPROTO, "space/avail after violation: %ld", n);
		n = side ? afx_ring_tx_prepare_wait(r) :
			   afx_ring_rx_prepare_wait(r);
		CHECK(n == -EPROTO, "prepare_wait after violation: %ld", n);
		if (side)
			afx_ring_tx_kick(r);
		else
			afx_ring_rx_kick(r);
		CHECK(r->idx == idx && r->peer_idx == peer_idx &&
		      r->peer_state == state, "private state changed");
		CHECK((side ? t->sh->prod : t->sh->cons) == shared,
		      "own shared index changed");
	}
	CHECK(tring_guards_ok(t), "guard bytes overwritten");
}

/* Reference: is prod x acceptable for a consumer at c that last saw p? */
static int ref_prod_ok(u32 c, u32 p, u32 x, u32 size)
{
	for (u32 k = p - c; k <= size; k++)
		if ((u32)(c + k) == x)
			return 1;
	return 0;
}

/* Reference: is cons x acceptable for a producer at i that last saw q? */
static int ref_cons_ok(u32 i, u32 q, u32 x)
{
	for (u32 k = 0; k <= i - q; k++)
		if ((u32)(q + k) == x)
			return 1;
	return 0;
}

static u64 rng_state = 0x9E3779B97F4A7C15ull;

static u64 rng(void)
{
	u64 z = (rng_state += 0x9E3779B97F4A7C15ull);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static u32 candidate(u32 base, int j, u32 size)
{
	if (j < 4 * (int)size + 1)
		return base - 2 * size + j;
	switch (j - 4 * size - 1) {
	case 0: return base + 0x80000000u;
	case 1: return base + 0x7FFFFFFFu;
	case 2: return ~base;
	case 3: return 0;
	case 4: return UINT32_MAX;
	case 5: return base + 2 * size;
	case 6: return base - size - 1;
	}
	return (u32)rng();
}

#define NCAND(size) ((int)(4 * (size) + 1 + 7 + 2000))

/* prod beyond ring, behind cons, backwards: all against a reference. */
static void t_bad_prod(void)
{
	static const u32 bases[] = { 0, 5, 0xFFFFFFF8u, 0x7FFFFFFCu,
				     0xFFFFFFFFu, 0x80000000u };
	static const u32 fills[] = { 0, 1, 8, 15, 16 };
	const u32 size = 16;
	int rejected = 0, accepted = 0;

	for (unsigned b = 0; b < 6; b++)
	for (unsigned f = 0; f < 5; f++)
	for (int j = 0; j < NCAND(size); j++) {
		u32 c = bases[b], p = c + fills[f];
		u32 x = candidate(c, j, size);
		int ok = ref_prod_ok(c, p, x, size);
		struct tring t;
		int n;

		tring_init(&t, size);
		tring_start_at(&t, c);
		t.rx.peer_idx = p;	/* as if it had seen prod == p */
		t.tx.idx = p;
		t.sh->prod = x;
		n = afx_ring_rx_avail(&t.rx);
		if (ok) {
			accepted++;
			CHECK(n == (int)(x - c), "c %#x p %#x prod %#x: got %d",
			      c, p, x, n);
			CHECK(t.rx.peer_idx == x, "peer_idx not updated");
		} else {
			rejected++;
			CHECK(n == -EPROTO,
			      "c %#x p %#x prod %#x: got %d, want -EPROTO",
			      c, p, x, n);
			CHECK(t.rx.idx == c && t.rx.peer_idx == p &&
			      t.rx.peer_state == 0,
			      "private state changed on violation");
			CALL(after_violation(&t, 0));
		}
		tring_free(&t);
	}
	CHECK(rejected > 1000 && accepted > 100, "too few cases: %d/%d",
	      rejected, accepted);
}

/* cons ahead of prod, cons backwards, cons more than a ring behind. */
static void t_bad_cons(void)
{
	static const u32 bases[] = { 0, 5, 0xFFFFFFF8u, 0x7FFFFFFCu,
				     0xFFFFFFFFu, 0x80000000u };
	static const u32 fills[] = { 0, 1, 8, 15, 16 };
	const u32 size = 16;
	int rejected = 0, accepted = 0;

	for (unsigned b = 0; b < 6; b++)
	for (unsigned f = 0; f < 5; f++)
	for (int j = 0; j < NCAND(size); j++) {
		u32 q = bases[b], i = q + fills[f];
		u32 x = candidate(q, j, size);
		int ok = ref_cons_ok(i, q, x);
		struct tring t;
		int n;

		tring_init(&t, size);
		tring_start_at(&t, q);
		t.tx.idx = i;		/* written fills[f] bytes */
		t.sh->prod = i;
		t.sh->cons = x;
		n = afx_ring_tx_space(&t.tx);
		if (ok) {
			accepted++;
			CHECK(n == (int)(size - (i - x)),
			      "prod %#x cons was %#x now %#x: got %d", i, q, x,
			      n);
		} else {
			rejected++;
			CHECK(n == -EPROTO,
			      "prod %#x cons was %#x now %#x: got %d", i, q, x,
			      n);
			CHECK(t.tx.idx == i && t.tx.peer_idx == q,
			      "private state changed on violation");
			CALL(after_violation(&t, 1));
		}
		tring_free(&t);
	}
	CHECK(rejected > 1000 && accepted > 50, "too few cases: %d/%d",
	      rejected, accepted);
}

static const u32 bad_bits[] = { 0x8, 0x10, 0x100, 0x10000, 0x80000000u,
				0xFFFFFFFFu };

/* Unknown bits, bits of the other side, bits that disappear. */
static void t_bad_state(void)
{
	for (int side = 0; side < 2; side++) {
		u32 mask = side ? AFX_RING_CSTATE_MASK : AFX_RING_PSTATE_MASK;

		for (u32 prev = 0; prev < 8; prev++) {
			if (prev & ~mask)
				continue;
			for (int j = 0; j < 8 + 6; j++) {
				u32 x = j < 8 ? (u32)j : bad_bits[j - 8] | prev;
				int ok = !(x & ~mask) && !(prev & ~x);
				struct tring t;
				u32 *word;
				int n;

				tring_init(&t, 64);
				tring_start_at(&t, 0xFFFFFFF0u);
				word = side ? &t.sh->cstate : &t.sh->pstate;
				*word = prev;
				n = side ? afx_ring_tx_space(&t.tx) :
					   afx_ring_rx_avail(&t.rx);
				CHECK(n >= 0, "side %d state %#x rejected",
				      side, prev);
				*word = x;
				n = side ? afx_ring_tx_space(&t.tx) :
					   afx_ring_rx_avail(&t.rx);
				if (ok) {
					CHECK(n >= 0, "side %d %#x -> %#x: %d",
					      side, prev, x, n);
					CHECK((side ? t.tx : t.rx).peer_state
					      == x, "state not recorded");
				} else {
					CHECK(n == -EPROTO,
					      "side %d %#x -> %#x: got %d",
					      side, prev, x, n);
					CHECK((side ? t.tx : t.rx).peer_state
					      == prev, "state changed");
					CALL(after_violation(&t, side));
				}
				tring_free(&t);
			}
		}
	}
}

/* prod must not move once EOF was seen, in either direction. */
static void t_write_after_eof(void)
{
	static const int deltas[] = { 1, 2, 8, -1, -8, 16, 17 };

	for (unsigned d = 0; d < 7; d++) {
		struct tring t;
		u8 in[8], out[16];
		int n;

		tring_init(&t, 16);
		tring_start_at(&t, 0xFFFFFFFCu);
		pattern(in, 8, 1);
		CHECK(twrite(&t, in, 8) == 8, "write");
		afx_ring_tx_set_state(&t.tx, AFX_RING_EOF);
		CHECK(afx_ring_rx_avail(&t.rx) == 8, "avail");
		/* Honest: nothing moves, reading drains. */
		CHECK(tread(&t, out, 3, false) == 3, "read 3");
		t.sh->prod += deltas[d];
		n = afx_ring_rx_avail(&t.rx);
		CHECK(n == -EPROTO, "prod moved by %d after EOF: got %d",
		      deltas[d], n);
		CHECK(tread(&t, out, 16, false) == -EPROTO, "read still works");
		CALL(after_violation(&t, 0));
		CHECK(t.rx.idx == 0xFFFFFFFFu, "cons moved");
		/* Put it back: the ring itself holds no grudge. */
		t.sh->prod -= deltas[d];
		CHECK(afx_ring_rx_avail(&t.rx) == 5, "restored");
		tring_free(&t);
	}
	/* EOF first seen together with more data is fine. */
	{
		struct tring t;
		u8 in[8];

		tring_init(&t, 16);
		pattern(in, 8, 1);
		CHECK(twrite(&t, in, 4) == 4, "write");
		CHECK(afx_ring_rx_avail(&t.rx) == 4, "avail 4");
		CHECK(twrite(&t, in, 4) == 4, "write");
		afx_ring_tx_set_state(&t.tx, AFX_RING_EOF);
		CHECK(afx_ring_rx_avail(&t.rx) == 8, "avail 8 with EOF");
		CHECK(afx_ring_rx_avail(&t.rx) == 8, "avail 8 again");
		tring_free(&t);
	}
}

/* ----- notification protocol ----- */

static void t_tx_kick_once(void)
{
	struct tring t;
	u8 in[64], out[64];

	tring_init(&t, 64);
	pattern(in, 64, 2);
	CHECK(!afx_ring_tx_kick(&t.tx), "kick without a waiter");
	CHECK(twrite(&t, in, 10) == 10, "write");
	CHECK(!afx_ring_tx_kick(&t.tx), "kick without a waiter after write");
	CHECK(tread(&t, out, 64, false) == 10, "read");
	CHECK(afx_ring_rx_prepare_wait(&t.rx) == 0, "prepare_wait on empty");
	CHECK(t.sh->want_data == 1, "want_data not set");
	CHECK(twrite(&t, in, 5) == 5, "write");
	CHECK(afx_ring_tx_kick(&t.tx), "no kick for a waiter");
	CHECK(t.sh->want_data == 0, "want_data not cleared");
	CHECK(!afx_ring_tx_kick(&t.tx), "second kick");
	CHECK(twrite(&t, in, 5) == 5, "write");
	CHECK(!afx_ring_tx_kick(&t.tx), "kick after the waiter was served");
	/* prepare_wait with data pending reports it: do not sleep. */
	CHECK(afx_ring_rx_prepare_wait(&t.rx) == 10, "prepare_wait with data");
	/* The flag stays; the next write sends one (spurious) event. */
	CHECK(afx_ring_tx_kick(&t.tx), "flag set by prepare_wait lost");
	CHECK(!afx_ring_tx_kick(&t.tx), "second kick");
	/* A peer may write any non-zero value; still exactly one kick. */
	t.sh->want_data = 0xdeadbeef;
	CHECK(afx_ring_tx_kick(&t.tx) && !afx_ring_tx_kick(&t.tx),
	      "garbage want_data");
	tring_free(&t);
}

static void t_rx_kick_hysteresis(void)
{
	const u32 size = 64;
	struct tring t;
	u8 in[64], out[64];
	u32 got = 0;

	tring_init(&t, size);
	tring_start_at(&t, 0xFFFFFFE0u);
	pattern(in, 64, 4);
	CHECK(t.rx.wake_space == size / 2, "wake_space %u", t.rx.wake_space);
	CHECK(twrite(&t, in, 64) == 64, "fill");
	CHECK(tread(&t, out, 40, false) == 40, "read 40");
	CHECK(!afx_ring_rx_kick(&t.rx), "kick without a waiter");
	CHECK(twrite(&t, in, 64) == 40, "refill");
	CHECK(afx_ring_tx_prepare_wait(&t.tx) == 0, "prepare_wait on full");
	CHECK(t.sh->want_space == 1, "want_space not set");
	/* Reading a byte at a time: kick exactly when free >= size / 2. */
	for (u32 i = 1; i <= size; i++) {
		bool kick;

		CHECK(tread(&t, out, 1, false) == 1, "read 1");
		kick = afx_ring_rx_kick(&t.rx);
		if (i < size / 2) {
			CHECK(!kick, "kick with %u free", i);
		} else if (i == size / 2) {
			CHECK(kick, "no kick with %u free", i);
			got++;
		} else {
			CHECK(!kick, "second kick at %u free", i);
		}
	}
	CHECK(got == 1 && t.sh->want_space == 0, "want_space not cleared");
	/* A waiter that asks when much is free already gets a kick. */
	CHECK(afx_ring_tx_prepare_wait(&t.tx) == (int)size,
	      "prepare_wait on empty ring");
	CHECK(twrite(&t, in, 1) == 1 && tread(&t, out, 1, false) == 1, "1");
	CHECK(afx_ring_rx_kick(&t.rx), "no kick on an empty ring");
	/* A peek never kicks (nothing was freed), a read afterwards does. */
	CHECK(twrite(&t, in, 64) == 64, "fill");
	CHECK(afx_ring_tx_prepare_wait(&t.tx) == 0, "prepare_wait");
	CHECK(tread(&t, out, 64, true) == 64, "peek");
	CHECK(!afx_ring_rx_kick(&t.rx), "kick after a peek");
	CHECK(tread(&t, out, 64, false) == 64, "read");
	CHECK(afx_ring_rx_kick(&t.rx) && !afx_ring_rx_kick(&t.rx), "kick once");
	tring_free(&t);
}

/*
 * No lost wake-up: the sleeper's steps (set flag, barrier, look again)
 * and the waker's (publish, barrier, test flag) in every order.  The
 * waker either sees the flag or the sleeper sees the new index.
 */
static void t_no_lost_wakeup(void)
{
	for (int order = 0; order < 2; order++) {
		struct tring t;
		u8 b[32];
		int seen;
		bool kick;

		/* Consumer sleeping for data. */
		tring_init(&t, 32);
		pattern(b, 32, 1);
		CHECK(afx_ring_rx_avail(&t.rx) == 0, "empty");
		if (order == 0) {
			seen = afx_ring_rx_prepare_wait(&t.rx);
			twrite(&t, b, 3);
			kick = afx_ring_tx_kick(&t.tx);
		} else {
			twrite(&t, b, 3);
			kick = afx_ring_tx_kick(&t.tx);
			seen = afx_ring_rx_prepare_wait(&t.rx);
		}
		CHECK(seen > 0 || kick, "data: lost wake-up in order %d",
		      order);
		CHECK(!(seen == 0 && !kick), "order %d", order);
		tring_free(&t);

		/* Producer sleeping for space. */
		tring_init(&t, 32);
		CHECK(twrite(&t, b, 32) == 32, "fill");
		if (order == 0) {
			seen = afx_ring_tx_prepare_wait(&t.tx);
			tread(&t, b, 32, false);
			kick = afx_ring_rx_kick(&t.rx);
		} else {
			tread(&t, b, 32, false);
			kick = afx_ring_rx_kick(&t.rx);
			seen = afx_ring_tx_prepare_wait(&t.tx);
		}
		CHECK(seen > 0 || kick, "space: lost wake-up in order %d",
		      order);
		tring_free(&t);
	}
	/*
	 * Step by step with the shared words, as two CPUs would interleave
	 * them: sleeper S = {flag, recheck}, waker W = {publish, test}.
	 * Every interleaving that keeps each side's program order.
	 */
	static const char *orders[] = { "SSWW", "SWSW", "SWWS", "WSSW",
					"WSWS", "WWSS" };
	for (int o = 0; o < 6; o++) {
		struct afx_ring_shared sh;
		u32 prod = 0, seen_prod = 0, seen_flag = 0;
		int s = 0, w = 0;

		memset(&sh, 0, sizeof(sh));
		for (const char *p = orders[o]; *p; p++) {
			if (*p == 'S') {
				if (s++ == 0)
					WRITE_ONCE(sh.want_data, 1);
				else
					seen_prod = READ_ONCE(sh.prod);
			} else {
				if (w++ == 0)
					WRITE_ONCE(sh.prod, ++prod);
				else
					seen_flag = READ_ONCE(sh.want_data);
			}
		}
		CHECK(seen_prod || seen_flag, "lost wake-up in order %s",
		      orders[o]);
	}
}

/* ----- two-thread stress ----- */

static u64 splitmix(u64 x)
{
	x += 0x9E3779B97F4A7C15ull;
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
	x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
	return x ^ (x >> 31);
}

static u64 stream_seed;

static inline u64 stream_word(u64 w)
{
	return splitmix(w ^ stream_seed);
}

static inline u8 stream_byte(u64 pos)
{
	return (u8)(stream_word(pos >> 3) >> (8 * (pos & 7)));
}

/* The payload: byte at stream position pos, a PRNG of pos. */
static void stream_fill(u8 *dst, u64 pos, size_t len)
{
	while (len && (pos & 7)) {
		*dst++ = stream_byte(pos++);
		len--;
	}
	while (len >= 8) {
		u64 v = stream_word(pos >> 3);

		memcpy(dst, &v, 8);
		dst += 8;
		pos += 8;
		len -= 8;
	}
	while (len--)
		*dst++ = stream_byte(pos++);
}

/* Returns the offset of the first wrong byte, or len. */
static size_t stream_check(const u8 *src, u64 pos, size_t len)
{
	size_t i = 0;

	while (i < len && (pos & 7)) {
		if (src[i] != stream_byte(pos))
			return i;
		i++;
		pos++;
	}
	while (len - i >= 8) {
		u64 v = stream_word(pos >> 3), got;

		memcpy(&got, src + i, 8);
		if (got != v)
			break;
		i += 8;
		pos += 8;
	}
	while (i < len) {
		if (src[i] != stream_byte(pos))
			return i;
		i++;
		pos++;
	}
	return len;
}

/* An event channel: a pending bit and a futex. */
struct evt {
	u32 pending;
	u64 sent;
};

static long futex(u32 *uaddr, int op, u32 val, const struct timespec *ts)
{
	return syscall(SYS_futex, uaddr, op, val, ts, NULL, 0);
}

static void evt_notify(struct evt *e)
{
	__atomic_add_fetch(&e->sent, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&e->pending, 1, __ATOMIC_SEQ_CST);
	futex(&e->pending, FUTEX_WAKE_PRIVATE, 1, NULL);
}

struct stress {
	struct tring t;
	u64 total;
	struct evt to_tx, to_rx;	/* events for producer, consumer */
	u64 tx_ops, rx_ops;		/* loop iterations: progress */
	u64 tx_waits, rx_waits, tx_kicks, rx_kicks, lost;
	u64 rx_pos, tx_pos, peeks;
	int failed;
	char why[256];
};

static void stress_fail(struct stress *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void stress_fail(struct stress *s, const char *fmt, ...)
{
	va_list ap;

	if (__atomic_exchange_n(&s->failed, 1, __ATOMIC_SEQ_CST))
		return;
	va_start(ap, fmt);
	vsnprintf(s->why, sizeof(s->why), fmt, ap);
	va_end(ap);
	/* Wake both so that they see the failure and stop. */
	evt_notify(&s->to_tx);
	evt_notify(&s->to_rx);
}

/*
 * Sleep until the event is pending.  With a 2 s timeout, so that a lost
 * wake-up shows up: the other side made no progress (it is asleep too)
 * while our own condition is already true.  That, or 10 s without any
 * progress of the other side, fails the test instead of hanging.
 */
static void evt_wait(struct stress *s, struct evt *e, const u64 *other_ops,
		     int (*ready)(struct stress *), const char *who)
{
	struct timespec ts = { 2, 0 };
	int idle = 0;

	for (;;) {
		u64 ops = __atomic_load_n(other_ops, __ATOMIC_RELAXED);

		if (__atomic_exchange_n(&e->pending, 0, __ATOMIC_SEQ_CST))
			return;
		if (__atomic_load_n(&s->failed, __ATOMIC_RELAXED))
			return;
		if (futex(&e->pending, FUTEX_WAIT_PRIVATE, 0, &ts) == 0)
			continue;
		if (__atomic_load_n(&e->pending, __ATOMIC_SEQ_CST))
			continue;
		if (ops != __atomic_load_n(other_ops, __ATOMIC_RELAXED)) {
			idle = 0;
			continue;
		}
		if (ready(s)) {
			__atomic_add_fetch(&s->lost, 1, __ATOMIC_RELAXED);
			stress_fail(s, "lost wake-up: %s asleep with work "
				    "ready, its peer asleep too", who);
			return;
		}
		if (++idle == 5) {
			stress_fail(s, "hang: %s waited 10 s, its peer made "
				    "no progress", who);
			return;
		}
	}
}

static int tx_ready(struct stress *s)
{
	return afx_ring_tx_space(&s->t.tx) > 0;
}

static int rx_ready(struct stress *s)
{
	return afx_ring_rx_avail(&s->t.rx) > 0;
}

struct sctx {
	struct stress *s;
	u64 pos;
	int bad;
};

static size_t stress_copy_in(void *ctx, void *ring_ptr, size_t len)
{
	struct sctx *c = ctx;

	stream_fill(ring_ptr, c->pos, len);
	c->pos += len;
	return len;
}

static size_t stress_copy_out(void *ctx, void *ring_ptr, size_t len)
{
	struct sctx *c = ctx;
	size_t at = stream_check(ring_ptr, c->pos, len);

	if (at != len && !c->bad) {
		c->bad = 1;
		stress_fail(c->s, "payload differs at stream byte %" PRIu64,
			    c->pos + at);
	}
	c->pos += len;
	return len;
}

static size_t chunk_len(u64 *st)
{
	u64 r = splitmix((*st)++);

	switch (r & 7) {
	case 0: case 1: case 2: case 3:
		return 1 + (r >> 8) % 256;
	case 4: case 5: case 6:
		return 1 + (r >> 8) % 16384;
	default:
		return 1 + (r >> 8) % (256 * 1024);
	}
}

static void *stress_tx(void *arg)
{
	struct stress *s = arg;
	u64 st = 1000;
	long n;

	while (s->tx_pos < s->total && !__atomic_load_n(&s->failed,
							__ATOMIC_RELAXED)) {
		size_t len = chunk_len(&st);
		struct sctx c = { s, s->tx_pos, 0 };

		__atomic_add_fetch(&s->tx_ops, 1, __ATOMIC_RELAXED);
		if (len > s->total - s->tx_pos)
			len = s->total - s->tx_pos;
		n = afx_ring_write(&s->t.tx, stress_copy_in, &c, len);
		if (n < 0 || (size_t)n > len) {
			stress_fail(s, "write returned %ld", n);
			break;
		}
		if (n > 0) {
			s->tx_pos += n;
			if (afx_ring_tx_kick(&s->t.tx)) {
				s->tx_kicks++;
				evt_notify(&s->to_rx);
			}
			continue;
		}
		n = afx_ring_tx_prepare_wait(&s->t.tx);
		if (n < 0) {
			stress_fail(s, "tx_prepare_wait returned %ld", n);
			break;
		}
		if (n > 0)
			continue;
		s->tx_waits++;
		evt_wait(s, &s->to_tx, &s->rx_ops, tx_ready, "producer");
	}
	/* Final prod, then EOF, then an event: the peer may be asleep. */
	afx_ring_tx_set_state(&s->t.tx, AFX_RING_EOF);
	evt_notify(&s->to_rx);
	return NULL;
}

static void *stress_rx(void *arg)
{
	struct stress *s = arg;
	u64 st = 2000;
	long n;

	while (!__atomic_load_n(&s->failed, __ATOMIC_RELAXED)) {
		size_t len = chunk_len(&st);
		struct sctx c = { s, s->rx_pos, 0 };
		bool peek = (st & 15) == 0;

		__atomic_add_fetch(&s->rx_ops, 1, __ATOMIC_RELAXED);
		n = afx_ring_read(&s->t.rx, stress_copy_out, &c, len, peek);
		if (n < 0 || (size_t)n > len) {
			stress_fail(s, "read returned %ld", n);
			break;
		}
		if (n > 0) {
			if (peek) {
				s->peeks++;
				continue;
			}
			s->rx_pos += n;
			if (afx_ring_rx_kick(&s->t.rx)) {
				s->rx_kicks++;
				evt_notify(&s->to_tx);
			}
			continue;
		}
		if (afx_ring_peer_eof(&s->t.rx))
			break;
		n = afx_ring_rx_prepare_wait(&s->t.rx);
		if (n < 0) {
			stress_fail(s, "rx_prepare_wait returned %ld", n);
			break;
		}
		if (n > 0)
			continue;
		if (afx_ring_peer_eof(&s->t.rx))
			break;
		s->rx_waits++;
		evt_wait(s, &s->to_rx, &s->tx_ops, rx_ready, "consumer");
	}
	return NULL;
}

static u64 env_bytes(const char *name, u64 dflt)
{
	const char *v = getenv(name);
	char *end;
	u64 n;

	if (!v || !*v)
		return dflt;
	n = strtoull(v, &end, 0);
	switch (*end) {
	case 'G': case 'g': n <<= 10; /* fall through */
	case 'M': case 'm': n <<= 10; /* fall through */
	case 'K': case 'k': n <<= 10;
	}
	return n;
}

static void t_stress(void)
{
	struct stress *s = calloc(1, sizeof(*s));
	struct timespec t0, t1;
	pthread_t ptx, prx;
	double secs, mb;

	stream_seed = env_bytes("RING_STRESS_SEED", 1);
	s->total = env_bytes("RING_STRESS_BYTES", 1ull << 30);
	tring_init(&s->t, 128 * 1024);
	/* Start close to the wrap of the indices. */
	tring_start_at(&s->t, 0xFFFFFFFFu - 3 * 128 * 1024 - 17);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pthread_create(&prx, NULL, stress_rx, s);
	pthread_create(&ptx, NULL, stress_tx, s);
	pthread_join(ptx, NULL);
	pthread_join(prx, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	mb = s->rx_pos / 1e6;
	printf("# %sstress: %" PRIu64 " of %" PRIu64 " bytes through a "
	       "128 KiB ring in %.2f s: %.0f MB/s\n", t_tag, s->rx_pos,
	       s->total, secs, secs > 0 ? mb / secs : 0);
	printf("# %sstress: notifications per MB: %.3f (producer %" PRIu64
	       ", consumer %" PRIu64 "); waits per MB: %.3f (producer %"
	       PRIu64 ", consumer %" PRIu64 "); %" PRIu64 " peeks\n",
	       t_tag, mb > 0 ? (s->tx_kicks + s->rx_kicks) / mb : 0,
	       s->tx_kicks, s->rx_kicks,
	       mb > 0 ? (s->tx_waits + s->rx_waits) / mb : 0,
	       s->tx_waits, s->rx_waits, s->peeks);
	fflush(stdout);
	CHECK(!s->failed, "%s", s->why);
	CHECK(s->rx_pos == s->total, "received %" PRIu64 " of %" PRIu64,
	      s->rx_pos, s->total);
	CHECK(!s->lost, "%" PRIu64 " lost wake-ups (both sides asleep)",
	      s->lost);
	CHECK(tring_guards_ok(&s->t), "guard bytes overwritten");
	tring_free(&s->t);
	free(s);
}

/* ----- main ----- */

static const struct {
	const char *name;
	void (*fn)(void);
} tests[] = {
	{ "empty and full", t_empty_full },
	{ "exact fill", t_exact_fill },
	{ "u32 index wraparound", t_wrap_u32 },
	{ "two-piece copy at every offset", t_two_piece },
	{ "peek does not consume", t_peek },
	{ "partial and zero copy fault", t_copy_fault },
	{ "EOF after drain", t_eof_after_drain },
	{ "EOF on empty ring", t_eof_empty },
	{ "bad prod rejected (beyond, behind, backwards)", t_bad_prod },
	{ "bad cons rejected (ahead, backwards)", t_bad_cons },
	{ "bad state bits rejected (unknown, vanishing)", t_bad_state },
	{ "prod moving after EOF rejected", t_write_after_eof },
	{ "tx_kick once after rx_prepare_wait", t_tx_kick_once },
	{ "rx_kick hysteresis", t_rx_kick_hysteresis },
	{ "no lost wake-up in prepare/recheck", t_no_lost_wakeup },
	{ "stress", t_stress },
};

#define N_TESTS (sizeof(tests) / sizeof(tests[0]))

static const char *test_name(unsigned int i)
{
	return tests[i].name;
}

static void test_run(unsigned int i)
{
	tests[i].fn();
}

int main(int argc, char **argv)
{
	return unit_main(argc, argv, "ring", N_TESTS, test_name, test_run);
}
