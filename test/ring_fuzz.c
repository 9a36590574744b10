// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target for ring.c: the input plays a hostile peer.
 *
 * One shared index block and one data area of exactly size bytes (heap,
 * so ASan's redzones guard both ends).  Two private views of it: tx, our
 * producer, and rx, our consumer.  Seen from rx, its peer is tx plus the
 * fuzzer, which may write anything to prod, pstate, want_space and the
 * data; seen from tx, its peer is rx plus the fuzzer, which may write
 * cons, cstate and want_data.  The input interleaves legitimate local
 * reads and writes (with copy faults) with those peer writes.
 *
 * Checked on every step:
 *  - the copy callback is only ever handed memory inside the data area,
 *    never more in total than was asked for (ASan checks the rest);
 *  - counts never exceed the requested length or the ring size;
 *  - our own index moves by exactly the count returned (not on peek), and
 *    the shared index we own is exactly our index;
 *  - -EPROTO is sticky from the caller's side: after it, that view is
 *    never used again (as af_xen.c resets the connection);
 *  - every byte read that tx wrote at the same free-running index and
 *    nobody overwrote since is the byte tx wrote; while the fuzzer has
 *    not touched prod, cons, a state word or the data, all bytes read
 *    are such bytes, nothing fails with -EPROTO, and avail/space are
 *    exactly what the two local views imply;
 *  - kicks: true exactly when the flag was set (and, for rx_kick, enough
 *    space is free), and then the flag is cleared.
 *
 * Input: byte 0 ring order (16 B .. 4 KiB), byte 1 where the indices
 * start (0, just below 2^32, 2^31, or four more bytes), then operations.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>

#include "ring.h"

typedef uint8_t u8;
typedef uint32_t u32;
typedef uint64_t u64;

#define FAIL(...) do {							\
	fprintf(stderr, "ring_fuzz: line %d: ", __LINE__);		\
	fprintf(stderr, __VA_ARGS__);					\
	fputc('\n', stderr);						\
	abort();							\
} while (0)
#define ASSERT(c, ...) do { if (!(c)) FAIL(__VA_ARGS__); } while (0)

/*
 * Operations: one byte, taken modulo OP_COUNT; then its arguments.
 * A read opcode byte >= 0x80 is a peek (OP_PEEK).
 */
enum {
	OP_WRITE = 0,		/* 3 codes; len, fault limit */
	OP_READ = 3,		/* 3 codes; len, fault limit */
	OP_AVAIL = 6,
	OP_SPACE,
	OP_PROD,		/* u32 */
	OP_PROD_NUDGE,		/* s8 */
	OP_CONS,		/* u32 */
	OP_CONS_NUDGE,		/* s8 */
	OP_PSTATE,		/* u8, u32 if bit 7 */
	OP_CSTATE,		/* u8, u32 if bit 7 */
	OP_WANT_DATA,		/* u8, u32 if bit 0 */
	OP_WANT_SPACE,		/* u8, u32 if bit 0 */
	OP_POKE,		/* u16 offset, u8 value */
	OP_TX_STATE,		/* u8 bits */
	OP_RX_STATE,		/* u8 bits */
	OP_TX_KICK,
	OP_RX_KICK,
	OP_RX_WAIT,
	OP_TX_WAIT,
	OP_DRAIN,		/* and every code above */
	OP_COUNT = 24,
	OP_PEEK = OP_READ + 6 * OP_COUNT,
};

struct in {
	const u8 *p;
	size_t n;
};

static u8 in_u8(struct in *in)
{
	if (!in->n)
		return 0;
	in->n--;
	return *in->p++;
}

static u32 in_u16(struct in *in)
{
	return in_u8(in) | (u32)in_u8(in) << 8;
}

static u32 in_u32(struct in *in)
{
	return in_u16(in) | in_u16(in) << 16;
}

/* The byte tx writes at free-running index i. */
static u8 gen(u32 i)
{
	u32 x = i * 0x9E3779B1u;

	return (u8)(x ^ x >> 15 ^ x >> 24);
}

struct fz {
	struct afx_ring_shared *sh;
	u8 *data;
	u32 size;
	struct afx_ring tx, rx;
	bool tx_dead, rx_dead, tx_eof;
	bool honest;		/* fuzzer has not touched indices/state/data */
	/*
	 * What each side may accept, modelled independently of ring.c in
	 * unwrapped 64-bit indices: a new prod is the last accepted one plus
	 * its forward distance, and must not pass our cons plus size (nor
	 * move at all after EOF); a new cons likewise must not pass our
	 * prod.  State bits must be known and never disappear.
	 */
	u64 m_cons, m_prod_seen, m_eof_prod;
	u32 m_pstate_seen;
	bool m_eof;
	u64 m_prod, m_cons_seen;
	u32 m_cstate_seen;
	/* Shadow of the data area: which index tx last wrote there. */
	u32 *tag;
	u8 *tagged;
};

/* A copy in progress. */
struct cp {
	struct fz *f;
	u32 idx;		/* free-running index of the next byte */
	size_t asked;		/* length passed to read/write */
	size_t moved;		/* bytes moved so far */
	size_t limit;		/* fault after this many */
	int calls;
	bool fault;		/* copy was cut short */
};

static size_t cp_check(struct cp *c, void *ring_ptr, size_t len)
{
	struct fz *f = c->f;
	u8 *p = ring_ptr;
	size_t n;

	ASSERT(p >= f->data && p < f->data + f->size,
	       "ring_ptr %p outside [%p, +%u)", (void *)p, (void *)f->data,
	       f->size);
	ASSERT(len && len <= (size_t)(f->data + f->size - p),
	       "copy of %zu at offset %td runs past the end", len,
	       p - f->data);
	ASSERT(!c->fault, "copy called again after a short copy");
	ASSERT(++c->calls <= 2, "more than two pieces");
	ASSERT(c->moved + len <= c->asked, "copy beyond requested length");
	ASSERT((u32)(p - f->data) == (c->idx & (f->size - 1)),
	       "piece at offset %td for index %#x", p - f->data, c->idx);
	n = c->limit - c->moved < len ? c->limit - c->moved : len;
	if (n < len)
		c->fault = true;
	return n;
}

static size_t copy_in(void *ctx, void *ring_ptr, size_t len)
{
	struct cp *c = ctx;
	struct fz *f = c->f;
	size_t n = cp_check(c, ring_ptr, len);
	u8 *p = ring_ptr;

	for (size_t i = 0; i < n; i++, c->idx++) {
		u32 off = p + i - f->data;

		p[i] = gen(c->idx);
		f->tag[off] = c->idx;
		f->tagged[off] = 1;
	}
	c->moved += n;
	return n;
}

static size_t copy_out(void *ctx, void *ring_ptr, size_t len)
{
	struct cp *c = ctx;
	struct fz *f = c->f;
	size_t n = cp_check(c, ring_ptr, len);
	u8 *p = ring_ptr;

	for (size_t i = 0; i < n; i++, c->idx++) {
		u32 off = p + i - f->data;
		bool ours = f->tagged[off] && f->tag[off] == c->idx;

		ASSERT(ours || !f->honest,
		       "honest ring: byte at index %#x not written there",
		       c->idx);
		if (ours)
			ASSERT(p[i] == gen(c->idx),
			       "byte at index %#x: %#x, wrote %#x", c->idx,
			       p[i], gen(c->idx));
	}
	c->moved += n;
	return n;
}

static void check_view(struct fz *f, struct afx_ring *r, bool prod)
{
	ASSERT(r->size == f->size && r->sh == f->sh && r->data == f->data,
	       "trusted fields changed");
	if (prod) {
		ASSERT(r->idx - r->peer_idx <= r->size,
		       "tx: idx %#x, cons %#x", r->idx, r->peer_idx);
		ASSERT(f->sh->prod == r->idx || !f->honest,
		       "tx: shared prod %#x, idx %#x", f->sh->prod, r->idx);
	} else {
		ASSERT(r->peer_idx - r->idx <= r->size,
		       "rx: idx %#x, prod %#x", r->idx, r->peer_idx);
		ASSERT(f->sh->cons == r->idx || !f->honest,
		       "rx: shared cons %#x, idx %#x", f->sh->cons, r->idx);
	}
}

struct expect {
	bool ok;
	u64 idx64;
	u32 state;
};

static struct expect rx_expect(struct fz *f)
{
	u32 x = f->sh->prod, st = f->sh->pstate;
	struct expect e;

	e.idx64 = f->m_prod_seen + (u32)(x - (u32)f->m_prod_seen);
	e.state = st;
	e.ok = !(st & ~(u32)AFX_RING_PSTATE_MASK) &&
	       !(f->m_pstate_seen & ~st) &&
	       e.idx64 <= f->m_cons + f->size &&
	       (!f->m_eof || e.idx64 == f->m_eof_prod);
	return e;
}

/* ret: what the validating call returned (-EPROTO or not). */
static void rx_expect_check(struct fz *f, struct expect e, long ret)
{
	if (!e.ok) {
		ASSERT(ret == -EPROTO,
		       "rx accepted prod %#x state %#x (cons %#x, last prod "
		       "%#x, eof %d): %ld", (u32)e.idx64, e.state,
		       (u32)f->m_cons, (u32)f->m_prod_seen, f->m_eof, ret);
		return;
	}
	ASSERT(ret != -EPROTO, "rx rejected valid prod %#x state %#x",
	       (u32)e.idx64, e.state);
	if ((e.state & AFX_RING_EOF) && !f->m_eof) {
		f->m_eof = true;
		f->m_eof_prod = e.idx64;
	}
	f->m_prod_seen = e.idx64;
	f->m_pstate_seen = e.state;
	ASSERT(afx_ring_peer_eof(&f->rx) == f->m_eof, "peer_eof");
	ASSERT(afx_ring_peer_reset(&f->rx) ==
	       !!(e.state & AFX_RING_RESET), "peer_reset");
}

static struct expect tx_expect(struct fz *f)
{
	u32 x = f->sh->cons, st = f->sh->cstate;
	struct expect e;

	e.idx64 = f->m_cons_seen + (u32)(x - (u32)f->m_cons_seen);
	e.state = st;
	e.ok = !(st & ~(u32)AFX_RING_CSTATE_MASK) &&
	       !(f->m_cstate_seen & ~st) && e.idx64 <= f->m_prod;
	return e;
}

static void tx_expect_check(struct fz *f, struct expect e, long ret)
{
	if (!e.ok) {
		ASSERT(ret == -EPROTO,
		       "tx accepted cons %#x state %#x (prod %#x, last cons "
		       "%#x): %ld", (u32)e.idx64, e.state, (u32)f->m_prod,
		       (u32)f->m_cons_seen, ret);
		return;
	}
	ASSERT(ret != -EPROTO, "tx rejected valid cons %#x state %#x",
	       (u32)e.idx64, e.state);
	f->m_cons_seen = e.idx64;
	f->m_cstate_seen = e.state;
	ASSERT(afx_ring_peer_closed(&f->tx) ==
	       !!(e.state & AFX_RING_CLOSED), "peer_closed");
}

static int do_avail(struct fz *f)
{
	struct expect e = rx_expect(f);
	int n = afx_ring_rx_avail(&f->rx);

	rx_expect_check(f, e, n);

	if (n == -EPROTO) {
		ASSERT(!f->honest, "honest ring: rx_avail -EPROTO");
		f->rx_dead = true;
		return n;
	}
	ASSERT(n >= 0 && (u32)n <= f->size, "rx_avail %d", n);
	ASSERT((u32)n == f->rx.peer_idx - f->rx.idx, "rx_avail %d", n);
	if (f->honest)
		ASSERT((u32)n == f->tx.idx - f->rx.idx,
		       "honest ring: rx_avail %d, fill %u", n,
		       f->tx.idx - f->rx.idx);
	return n;
}

static int do_space(struct fz *f)
{
	struct expect e = tx_expect(f);
	int n = afx_ring_tx_space(&f->tx);

	tx_expect_check(f, e, n);

	if (n == -EPROTO) {
		ASSERT(!f->honest, "honest ring: tx_space -EPROTO");
		f->tx_dead = true;
		return n;
	}
	ASSERT(n >= 0 && (u32)n <= f->size, "tx_space %d", n);
	ASSERT((u32)n == f->size - (f->tx.idx - f->tx.peer_idx),
	       "tx_space %d", n);
	if (f->honest)
		ASSERT((u32)n == f->size - (f->tx.idx - f->rx.idx),
		       "honest ring: tx_space %d, fill %u", n,
		       f->tx.idx - f->rx.idx);
	return n;
}

static void do_write(struct fz *f, size_t len, size_t limit)
{
	struct cp c = { f, f->tx.idx, len, 0, limit, 0, false };
	u32 before = f->tx.idx, fill = f->tx.idx - f->rx.idx;
	struct expect e = tx_expect(f);
	long n = afx_ring_write(&f->tx, copy_in, &c, len);

	tx_expect_check(f, e, n);
	if (n > 0)
		f->m_prod += n;
	ASSERT(f->tx.idx == (u32)f->m_prod, "tx idx %#x, model %#x",
	       f->tx.idx, (u32)f->m_prod);

	if (n == -EPROTO) {
		ASSERT(!f->honest, "honest ring: write -EPROTO");
		ASSERT(f->tx.idx == before && !c.calls,
		       "write moved or copied on -EPROTO");
		f->tx_dead = true;
		return;
	}
	if (n == -EFAULT) {
		ASSERT(c.moved == 0 && c.calls == 1 && limit == 0,
		       "-EFAULT after %zu bytes", c.moved);
		ASSERT(f->tx.idx == before, "write moved on -EFAULT");
		return;
	}
	ASSERT(n >= 0 && (size_t)n <= len && (u32)n <= f->size,
	       "write of %zu returned %ld", len, n);
	ASSERT((size_t)n == c.moved, "wrote %ld, copied %zu", n, c.moved);
	ASSERT(n || !c.calls, "copied, but returned 0");
	ASSERT(f->tx.idx == before + (u32)n, "idx moved by %u, returned %ld",
	       f->tx.idx - before, n);
	ASSERT(n == 0 || f->sh->prod == f->tx.idx, "prod not published");
	if (f->honest) {
		size_t want = f->size - fill < len ? f->size - fill : len;

		want = want < limit ? want : limit;
		ASSERT((size_t)n == want, "honest ring: wrote %ld, want %zu",
		       n, want);
	}
	check_view(f, &f->tx, true);
}

static void do_read(struct fz *f, size_t len, size_t limit, bool peek)
{
	struct cp c = { f, f->rx.idx, len, 0, limit, 0, false };
	u32 before = f->rx.idx, fill = f->tx.idx - f->rx.idx;
	u32 cons = f->sh->cons;
	struct expect e = rx_expect(f);
	long n = afx_ring_read(&f->rx, copy_out, &c, len, peek);

	rx_expect_check(f, e, n);
	if (n > 0 && !peek)
		f->m_cons += n;
	ASSERT(f->rx.idx == (u32)f->m_cons, "rx idx %#x, model %#x",
	       f->rx.idx, (u32)f->m_cons);

	if (n == -EPROTO) {
		ASSERT(!f->honest, "honest ring: read -EPROTO");
		ASSERT(f->rx.idx == before && !c.calls,
		       "read moved or copied on -EPROTO");
		f->rx_dead = true;
		return;
	}
	if (n == -EFAULT) {
		ASSERT(c.moved == 0 && c.calls == 1 && limit == 0,
		       "-EFAULT after %zu bytes", c.moved);
		ASSERT(f->rx.idx == before && f->sh->cons == cons,
		       "read moved on -EFAULT");
		return;
	}
	ASSERT(n >= 0 && (size_t)n <= len && (u32)n <= f->size,
	       "read of %zu returned %ld", len, n);
	ASSERT((size_t)n == c.moved, "read %ld, copied %zu", n, c.moved);
	ASSERT(n || !c.calls, "copied, but returned 0");
	if (peek) {
		ASSERT(f->rx.idx == before && f->sh->cons == cons,
		       "peek consumed");
	} else {
		ASSERT(f->rx.idx == before + (u32)n,
		       "idx moved by %u, returned %ld", f->rx.idx - before, n);
		ASSERT(n == 0 || f->sh->cons == f->rx.idx,
		       "cons not published");
	}
	if (f->honest) {
		size_t want = fill < len ? fill : len;

		want = want < limit ? want : limit;
		ASSERT((size_t)n == want, "honest ring: read %ld, want %zu",
		       n, want);
	}
	check_view(f, &f->rx, false);
}

static void do_tx_kick(struct fz *f)
{
	u32 flag = f->sh->want_data;
	bool k = afx_ring_tx_kick(&f->tx);

	ASSERT(k == (flag != 0), "tx_kick %d with want_data %#x", k, flag);
	ASSERT(f->sh->want_data == 0 || !flag, "want_data not cleared");
}

static void do_rx_kick(struct fz *f)
{
	u32 flag = f->sh->want_space;
	u32 free_ = f->size - (f->rx.peer_idx - f->rx.idx);
	bool want = flag && free_ >= f->rx.wake_space;
	bool k = afx_ring_rx_kick(&f->rx);

	ASSERT(k == want, "rx_kick %d with want_space %#x, %u free", k, flag,
	       free_);
	ASSERT(f->sh->want_space == (k ? 0 : flag), "want_space %#x",
	       f->sh->want_space);
}

/* Fuzzer-chosen length: small ones often, up to twice the ring. */
static size_t in_len(struct in *in, u32 size)
{
	u8 b = in_u8(in);

	if (b < 0xc0)
		return b % (size + 1);
	return in_u16(in) % (2 * size + 1);
}

static size_t in_limit(struct in *in)
{
	u8 b = in_u8(in);

	return b & 0x80 ? (size_t)(b & 0x7f) : SIZE_MAX;
}

/*
 * Seed corpus: with RING_FUZZ_SEED_DIR set, a few inputs are written there
 * before fuzzing starts (existing files are left alone).
 */
#define W(len)		OP_WRITE, len, 0
#define WF(len, lim)	OP_WRITE, len, 0x80 | (lim)
#define R(len)		OP_READ, len, 0
#define RF(len, lim)	OP_READ, len, 0x80 | (lim)
#define PK(len)		OP_PEEK, len, 0

static const u8 seed_honest_small[] = {
	0, 1, 0xf0,	/* 16 bytes, just below 2^32 */
	W(7), R(5), WF(13, 3), PK(16), R(16), W(16), W(1), OP_SPACE,
	OP_AVAIL, R(9), W(12), R(3), R(16), W(15), PK(4), RF(15, 6),
	OP_DRAIN, W(9), OP_TX_STATE, 1, OP_AVAIL, R(4), R(16), OP_AVAIL,
};

static const u8 seed_honest_big[] = {
	8, 2, 0x30,	/* 4 KiB around 2^31 */
	OP_WRITE, 0xc0, 0x00, 0x10, 0, R(100), OP_WRITE, 0xc0, 0x30, 0x0f, 0,
	OP_READ, 0xc0, 0x00, 0x20, 0, OP_SPACE, OP_DRAIN,
	OP_WRITE, 0xc0, 0xff, 0x0f, 0, OP_READ, 0xc0, 0x01, 0x10, 0x85,
	OP_DRAIN,
};

static const u8 seed_notify[] = {
	2, 1, 0x00,	/* 64 bytes */
	OP_RX_WAIT, OP_TX_KICK, W(10), OP_TX_KICK, OP_TX_KICK, R(64),
	OP_RX_WAIT, W(64), OP_TX_WAIT, OP_RX_KICK, R(1), OP_RX_KICK, R(31),
	OP_RX_KICK, OP_RX_KICK, OP_WANT_SPACE, 1, 7, 0, 0, 0, OP_RX_KICK,
	OP_WANT_DATA, 1, 0, 0, 0, 0x80, OP_TX_KICK,
};

static const u8 seed_hostile_prod[] = {
	1, 0,		/* 32 bytes at 0 */
	W(20), R(5), OP_PROD_NUDGE, 0xff, R(3), OP_PROD_NUDGE, 20,
	OP_AVAIL, OP_PROD, 0xff, 0xff, 0xff, 0xff, R(1),
};

static const u8 seed_hostile_cons[] = {
	1, 1, 0xe0,
	W(20), R(5), OP_CONS_NUDGE, 0xfe, W(1), OP_CONS_NUDGE, 30,
	OP_SPACE, OP_CONS, 0, 0, 0, 0x80, W(1),
};

static const u8 seed_eof_state[] = {
	3, 1, 0x80,
	W(50), OP_TX_STATE, 1, R(10), OP_PROD_NUDGE, 1, OP_AVAIL,
	OP_RX_STATE, 2, OP_SPACE, OP_CSTATE, 0, OP_SPACE,
	OP_PSTATE, 0x80, 8, 0, 0, 0, OP_AVAIL,
};

static const u8 seed_poke[] = {
	0, 0,
	W(16), OP_POKE, 3, 0, 0x55, R(2), PK(16), R(16), OP_RX_STATE, 4,
	OP_TX_STATE, 4, OP_AVAIL, OP_SPACE,
};

static const struct {
	const char *name;
	const u8 *data;
	size_t len;
} seeds[] = {
#define SEED(x) { #x, x, sizeof(x) }
	SEED(seed_honest_small), SEED(seed_honest_big), SEED(seed_notify),
	SEED(seed_hostile_prod), SEED(seed_hostile_cons),
	SEED(seed_eof_state), SEED(seed_poke),
#undef SEED
};

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = getenv("RING_FUZZ_SEED_DIR");
	char path[4096];

	(void)argc;
	(void)argv;
	if (!dir || !*dir)
		return 0;
	for (size_t i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
		FILE *fp;

		snprintf(path, sizeof(path), "%s/%s", dir, seeds[i].name);
		fp = fopen(path, "wx");
		if (!fp)
			continue;
		fwrite(seeds[i].data, 1, seeds[i].len, fp);
		fclose(fp);
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size);

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct in in = { data, size };
	struct fz f;
	u32 start;
	int steps = 0;

	memset(&f, 0, sizeof(f));
	f.size = 16u << (in_u8(&in) % 9);
	switch (in_u8(&in) & 3) {
	case 0:
		start = 0;
		break;
	case 1:
		start = 0u - 2 * f.size + in_u8(&in);
		break;
	case 2:
		start = 0x80000000u - f.size + in_u8(&in);
		break;
	default:
		start = in_u32(&in);
	}
	f.sh = malloc(sizeof(*f.sh));
	memset(f.sh, 0, sizeof(*f.sh));
	f.data = malloc(f.size);	/* exactly size: ASan guards the ends */
	memset(f.data, 0, f.size);
	f.tag = calloc(f.size, sizeof(*f.tag));
	f.tagged = calloc(f.size, 1);
	afx_ring_init(&f.tx, f.sh, f.data, f.size);
	afx_ring_init(&f.rx, f.sh, f.data, f.size);
	f.tx.idx = f.tx.peer_idx = f.rx.idx = f.rx.peer_idx = start;
	f.sh->prod = f.sh->cons = start;
	f.honest = true;
	f.m_cons = f.m_prod_seen = f.m_prod = f.m_cons_seen =
		(1ull << 32) + start;

	while (in.n && steps++ < 4096 && !(f.tx_dead && f.rx_dead)) {
		u8 op = in_u8(&in);
		u32 v;

		switch (op % OP_COUNT) {
		case OP_WRITE: case OP_WRITE + 1: case OP_WRITE + 2: {	/* local write */
			size_t len = in_len(&in, f.size);
			size_t lim = in_limit(&in);

			if (!f.tx_dead && !f.tx_eof)
				do_write(&f, len, lim);
			break;
		}
		case OP_READ: case OP_READ + 1: case OP_READ + 2: {	/* local read or peek */
			size_t len = in_len(&in, f.size);
			size_t lim = in_limit(&in);

			if (!f.rx_dead)
				do_read(&f, len, lim, op >= 0x80);
			break;
		}
		case OP_AVAIL:
			if (!f.rx_dead)
				do_avail(&f);
			break;
		case OP_SPACE:
			if (!f.tx_dead)
				do_space(&f);
			break;
		case OP_PROD:		/* peer: any prod */
			f.sh->prod = in_u32(&in);
			f.honest = false;
			break;
		case OP_PROD_NUDGE:		/* peer: prod nudged */
			f.sh->prod += (int8_t)in_u8(&in);
			f.honest = false;
			break;
		case OP_CONS:	/* peer: any cons */
			f.sh->cons = in_u32(&in);
			f.honest = false;
			break;
		case OP_CONS_NUDGE:	/* peer: cons nudged */
			f.sh->cons += (int8_t)in_u8(&in);
			f.honest = false;
			break;
		case OP_PSTATE:	/* peer: pstate */
			v = in_u8(&in);
			f.sh->pstate = v & 0x80 ? in_u32(&in) : v & 7;
			f.honest = false;
			break;
		case OP_CSTATE:	/* peer: cstate */
			v = in_u8(&in);
			f.sh->cstate = v & 0x80 ? in_u32(&in) : v & 7;
			f.honest = false;
			break;
		case OP_WANT_DATA:	/* peer: want flags, any value */
			f.sh->want_data = in_u8(&in) & 1 ? in_u32(&in) : 0;
			break;
		case OP_WANT_SPACE:
			f.sh->want_space = in_u8(&in) & 1 ? in_u32(&in) : 0;
			break;
		case OP_POKE: {	/* peer: scribble on the data */
			u32 off = in_u16(&in) & (f.size - 1);

			f.data[off] = in_u8(&in);
			f.tagged[off] = 0;
			f.honest = false;
			break;
		}
		case OP_TX_STATE:	/* local: EOF or RESET on our producer */
			v = in_u8(&in) & AFX_RING_PSTATE_MASK;
			if (!f.tx_dead) {
				afx_ring_tx_set_state(&f.tx, v);
				f.tx_eof |= v & AFX_RING_EOF;
				ASSERT(f.sh->pstate == f.tx.state &&
				       !(f.tx.state & ~AFX_RING_PSTATE_MASK),
				       "pstate %#x", f.sh->pstate);
			}
			break;
		case OP_RX_STATE:	/* local: CLOSED or RESET on our consumer */
			v = in_u8(&in) & AFX_RING_CSTATE_MASK;
			if (!f.rx_dead) {
				afx_ring_rx_set_state(&f.rx, v);
				ASSERT(f.sh->cstate == f.rx.state &&
				       !(f.rx.state & ~AFX_RING_CSTATE_MASK),
				       "cstate %#x", f.sh->cstate);
			}
			break;
		case OP_TX_KICK:
			if (!f.tx_dead)
				do_tx_kick(&f);
			break;
		case OP_RX_KICK:
			if (!f.rx_dead)
				do_rx_kick(&f);
			break;
		case OP_RX_WAIT:
			if (!f.rx_dead) {
				struct expect e = rx_expect(&f);
				int n = afx_ring_rx_prepare_wait(&f.rx);

				rx_expect_check(&f, e, n);

				ASSERT(f.sh->want_data == 1,
				       "want_data not set");
				if (n == -EPROTO) {
					ASSERT(!f.honest, "honest -EPROTO");
					f.rx_dead = true;
				} else {
					ASSERT(n >= 0 && (u32)n <= f.size &&
					       (u32)n == f.rx.peer_idx -
					       f.rx.idx, "prepare_wait %d", n);
					ASSERT(!f.honest ||
					       f.rx.peer_idx == f.tx.idx,
					       "stale prod");
				}
			}
			break;
		case OP_TX_WAIT:
			if (!f.tx_dead) {
				struct expect e = tx_expect(&f);
				int n = afx_ring_tx_prepare_wait(&f.tx);

				tx_expect_check(&f, e, n);

				ASSERT(f.sh->want_space == 1,
				       "want_space not set");
				if (n == -EPROTO) {
					ASSERT(!f.honest, "honest -EPROTO");
					f.tx_dead = true;
				} else {
					ASSERT(n >= 0 && (u32)n <= f.size &&
					       (u32)n == f.size - (f.tx.idx -
					       f.tx.peer_idx),
					       "prepare_wait %d", n);
					ASSERT(!f.honest ||
					       f.tx.peer_idx == f.rx.idx,
					       "stale cons");
				}
			}
			break;
		default:	/* drain honestly: read everything */
			if (!f.rx_dead)
				do_read(&f, 2 * f.size, SIZE_MAX, false);
			break;
		}
		if (f.honest) {
			ASSERT(!f.tx_dead && !f.rx_dead, "honest ring died");
			ASSERT(f.tx.idx - f.rx.idx <= f.size, "fill %u",
			       f.tx.idx - f.rx.idx);
		}
	}
	if (f.honest && !f.rx_dead) {
		/* Whatever was written can still be read, with EOF after. */
		u32 fill = f.tx.idx - f.rx.idx;

		ASSERT(do_avail(&f) == (int)fill, "final avail");
		do_read(&f, f.size, SIZE_MAX, false);
		ASSERT(do_avail(&f) == 0, "not drained");
		ASSERT(!f.tx_eof || afx_ring_peer_eof(&f.rx), "EOF lost");
	}
	free(f.tag);
	free(f.tagged);
	free(f.data);
	free(f.sh);
	return 0;
}
