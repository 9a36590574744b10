// SPDX-License-Identifier: GPL-2.0
/*
 * Userspace unit tests of ring.c's record framing (the SOCK_SEQPACKET
 * groundwork): whole records or nothing, truncation, peek, the largest
 * record, copy faults, and a peer whose record headers lie.
 *
 * Lines "ok - rec: NAME" / "not ok - rec: NAME # why"; --list names them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ring.h"
#include "unit_check.h"

#define SIZE 4096

/* One shared area, seen by a producer and a consumer view. */
struct pair {
	struct afx_ring_shared sh;
	u8 data[SIZE];
	struct afx_ring tx, rx;
};

static void pair_init(struct pair *p, u32 start)
{
	memset(p, 0, sizeof(*p));
	afx_ring_init(&p->tx, &p->sh, p->data, SIZE);
	afx_ring_init(&p->rx, &p->sh, p->data, SIZE);
	p->tx.idx = p->tx.peer_idx = start;
	p->rx.idx = p->rx.peer_idx = start;
	p->sh.prod = p->sh.cons = start;
}

/* A buffer walked by the copy callbacks; limit < len fakes a fault. */
struct cur {
	u8 *buf;
	size_t pos, limit;
};

static size_t from_cur(void *ctx, void *ring, size_t len)
{
	struct cur *c = ctx;
	size_t n = c->limit - c->pos < len ? c->limit - c->pos : len;

	memcpy(ring, c->buf + c->pos, n);
	c->pos += n;
	return n;
}

static size_t to_cur(void *ctx, void *ring, size_t len)
{
	struct cur *c = ctx;
	size_t n = c->limit - c->pos < len ? c->limit - c->pos : len;

	memcpy(c->buf + c->pos, ring, n);
	c->pos += n;
	return n;
}

static long put(struct pair *p, u8 *buf, size_t len)
{
	struct cur c = { buf, 0, len };

	return afx_ring_write_rec(&p->tx, from_cur, &c, len, 0);
}

static long get(struct pair *p, u8 *buf, size_t len, bool peek, u32 *rl)
{
	struct cur c = { buf, 0, len };

	return afx_ring_read_rec(&p->rx, to_cur, &c, len, peek, rl);
}

static void fill(u8 *b, size_t n, u32 seed)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (u8)(seed * 131 + i * 7);
}

static u64 rng = 0x2545f4914f6cdd1dull;

static u32 rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (u32)rng;
}

/* 10,000 records of random sizes 0..max, boundaries and bytes checked. */
static void t_random_records(void)
{
	static u8 w[SIZE], r[SIZE], want[SIZE];
	u32 wlen[64], head = 0, tail = 0, rl, max = SIZE - AFX_REC_HDR;
	struct pair p;
	long n;

	pair_init(&p, 0xfffff000u);	/* the u32 indices wrap too */
	for (u32 sent = 0, got = 0; got < 10000;) {
		if (sent < 10000 && head - tail < 64) {
			u32 len = rnd() % 8 ? rnd() % 300 : rnd() % (max + 1);

			fill(w, len, sent);
			n = put(&p, w, len);
			if (n == (long)len) {
				wlen[head++ % 64] = len;
				sent++;
				continue;
			}
			CHECK(n == -EAGAIN, "write of %u: %ld", len, n);
			CHECK(p.sh.prod == p.tx.idx, "a refused write moved prod");
		}
		n = get(&p, r, sizeof(r), false, &rl);
		CHECK(n >= 0, "read %u: %ld", got, n);
		CHECK(head != tail, "a record nobody wrote");
		CHECK(rl == wlen[tail % 64] && n == (long)rl,
		      "record %u: length %u (read %ld), wrote %u", got, rl, n,
		      wlen[tail % 64]);
		fill(want, rl, got);
		CHECK(!memcmp(r, want, rl), "record %u: bytes differ", got);
		tail++;
		got++;
	}
	CHECK(get(&p, r, sizeof(r), false, &rl) == -EAGAIN, "left-over record");
}

static void t_trunc_peek(void)
{
	u8 w[100], r[100];
	struct pair p;
	u32 rl;

	pair_init(&p, SIZE - 2);	/* the header is split at the end */
	fill(w, 100, 1);
	CHECK(put(&p, w, 100) == 100, "write 100");
	CHECK(put(&p, w, 0) == 0, "write a zero-length record");
	CHECK(get(&p, r, 10, true, &rl) == 10 && rl == 100, "peek 10 of 100");
	CHECK(get(&p, r, 100, true, &rl) == 100 && !memcmp(r, w, 100),
	      "the peeked record is still whole");
	CHECK(get(&p, r, 10, false, &rl) == 10 && rl == 100 &&
	      !memcmp(r, w, 10), "truncated read: 10 bytes, length 100");
	CHECK(get(&p, r, 100, false, &rl) == 0 && rl == 0,
	      "the rest was discarded; the zero-length record follows");
	CHECK(get(&p, r, 100, false, &rl) == -EAGAIN, "nothing more");
}

static void t_sizes(void)
{
	static u8 w[SIZE], r[SIZE];
	u32 max = SIZE - AFX_REC_HDR, rl;
	struct pair p;

	pair_init(&p, 0);
	CHECK(afx_ring_rec_max(&p.tx) == max, "largest record %u",
	      afx_ring_rec_max(&p.tx));
	CHECK(put(&p, w, max + 1) == -EMSGSIZE, "one byte too many: EMSGSIZE");
	CHECK(put(&p, w, max) == (long)max, "the largest record fits");
	CHECK(put(&p, w, 0) == -EAGAIN, "a full ring takes nothing, not even 0");
	CHECK(get(&p, r, SIZE, false, &rl) == (long)max, "largest read back");
	CHECK(p.sh.cons == p.sh.prod, "everything consumed");
}

static void t_faults(void)
{
	u8 w[200], r[200];
	struct pair p;
	struct cur c = { w, 0, 50 };
	u32 rl;

	pair_init(&p, 0);
	fill(w, 200, 3);
	CHECK(afx_ring_write_rec(&p.tx, from_cur, &c, 200, 0) == -EFAULT,
	      "a payload fault is EFAULT");
	CHECK(p.sh.prod == 0 && p.tx.idx == 0, "nothing of it was published");
	CHECK(put(&p, w, 200) == 200, "the retry is written");
	c = (struct cur){ r, 0, 50 };
	CHECK(afx_ring_read_rec(&p.rx, to_cur, &c, 200, false, &rl) == -EFAULT,
	      "a fault while reading is EFAULT");
	CHECK(p.sh.cons == 0, "the record stays queued");
	CHECK(get(&p, r, 200, false, &rl) == 200 && !memcmp(r, w, 200),
	      "and is read whole afterwards");
}

/* The peer writes the header and prod itself, and lies. */
static void lie(u32 hdr, u32 prod, const char *what)
{
	struct pair p;
	u8 r[SIZE];
	u32 rl;

	pair_init(&p, 0);
	memcpy(p.data, &hdr, sizeof(hdr));
	p.sh.prod = prod;
	CHECK(get(&p, r, sizeof(r), false, &rl) == -EPROTO, "%s: not EPROTO",
	      what);
	CHECK(p.sh.cons == 0, "%s: consumed", what);
}

static void t_lying_headers(void)
{
	lie(SIZE - AFX_REC_HDR + 1, SIZE, "a length above the largest record");
	if (t_failed)
		return;
	lie(20, AFX_REC_HDR + 10, "a length beyond the fill level");
	if (t_failed)
		return;
	lie(0, 2, "half a header");
	if (t_failed)
		return;
	lie(0xffffffffu, SIZE, "a length of 2^32 - 1");
	if (t_failed)
		return;
	lie(AFX_REC_EOR | 10, AFX_REC_HDR + 10,
	    "the EOR flag where the reader takes no flags");
}

/* The EOR flag travels when the reader takes it, and only then. */
static void t_eor_flag(void)
{
	u8 buf[64], got[64];
	struct pair p;
	struct cur c = { buf, 0, 10 };
	u32 rl;

	pair_init(&p, SIZE - 2);	/* the header wraps */
	p.rx.rec_valid = AFX_REC_EOR;
	fill(buf, sizeof(buf), 9);
	CHECK(afx_ring_write_rec(&p.tx, from_cur, &c, 10, AFX_REC_EOR) == 10,
	      "write with EOR");
	c.pos = 0, c.limit = 3;
	CHECK(afx_ring_write_rec(&p.tx, from_cur, &c, 3, 0) == 3,
	      "write without EOR");
	CHECK(get(&p, got, sizeof(got), false, &rl) == 10 && rl == 10 &&
	      p.rx.rec_flags == AFX_REC_EOR && !memcmp(got, buf, 10),
	      "first record: 10 bytes with EOR (flags %#x)", p.rx.rec_flags);
	CHECK(get(&p, got, sizeof(got), false, &rl) == 3 && rl == 3 &&
	      p.rx.rec_flags == 0, "second record: 3 bytes, no EOR");
}

/* Payload bytes queued (SIOCINQ), headers left out; a lie is EPROTO. */
static void t_rec_bytes(void)
{
	u8 buf[SIZE] = { 0 };
	struct pair p;
	struct cur c = { buf, 0, SIZE };
	u32 sizes[] = { 0, 64, 1, 1000, 0, 7 }, i, sum = 0, hdr;

	pair_init(&p, SIZE - 6);	/* headers and payload wrap */
	CHECK(afx_ring_rec_bytes(&p.rx) == 0, "empty ring: not 0");
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		c.pos = 0;
		CHECK(afx_ring_write_rec(&p.tx, from_cur, &c, sizes[i], 0) ==
		      (long)sizes[i], "write %u", sizes[i]);
		sum += sizes[i];
		CHECK(afx_ring_rec_bytes(&p.rx) == sum, "after %u records: %ld, want %u",
		      i + 1, afx_ring_rec_bytes(&p.rx), sum);
	}
	CHECK(get(&p, buf, sizeof(buf), false, &i) == 0, "read the empty record");
	CHECK(afx_ring_rec_bytes(&p.rx) == sum, "after one read: %ld, want %u",
	      afx_ring_rec_bytes(&p.rx), sum);
	/* The last header lies: its length runs past prod. */
	pair_init(&p, 0);
	c.pos = 0;
	afx_ring_write_rec(&p.tx, from_cur, &c, 10, 0);
	hdr = 100;
	memcpy(p.data + AFX_REC_HDR + 10, &hdr, sizeof(hdr));
	p.sh.prod += AFX_REC_HDR + 20;
	CHECK(afx_ring_rec_bytes(&p.rx) == -EPROTO, "a lying second header: %ld",
	      afx_ring_rec_bytes(&p.rx));
	CHECK(p.sh.cons == 0, "consumed");
}

static const struct {
	const char *name;
	void (*fn)(void);
} tests[] = {
	{ "10000 random records 0..max, boundaries and bytes checked",
	  t_random_records },
	{ "truncation, peek, zero-length records, a header split at the end",
	  t_trunc_peek },
	{ "largest record, EMSGSIZE above it, a full ring takes nothing",
	  t_sizes },
	{ "copy faults publish nothing and lose nothing", t_faults },
	{ "lying record headers are EPROTO and consume nothing",
	  t_lying_headers },
	{ "the EOR flag travels in the header when the reader takes it",
	  t_eor_flag },
	{ "queued payload bytes leave headers out; a lying header is EPROTO",
	  t_rec_bytes },
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
	return unit_main(argc, argv, "rec", N_TESTS, test_name, test_run);
}
