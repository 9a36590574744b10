// SPDX-License-Identifier: GPL-2.0
/*
 * Userspace unit tests of ring.c's record framing (the SOCK_SEQPACKET
 * groundwork): whole records or nothing, truncation, peek, the largest
 * record, copy faults, and a peer whose record headers lie; and the
 * one-writer, many-readers fill and publish of multicast (mcast.c).
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

/* ----- multicast: one data area, three readers, each its own indices ----- */

#define NSUB 3

struct mc {
	u8 data[SIZE];
	struct afx_ring_shared w_sh, sh[NSUB];
	struct afx_ring w, tx[NSUB], rx[NSUB];
};

static void mc_init(struct mc *m, u32 start)
{
	memset(m, 0, sizeof(*m));
	afx_ring_init(&m->w, &m->w_sh, m->data, SIZE);
	m->w.idx = start;
	for (int i = 0; i < NSUB; i++) {
		afx_ring_init(&m->tx[i], &m->sh[i], m->data, SIZE);
		afx_ring_init(&m->rx[i], &m->sh[i], m->data, SIZE);
		m->tx[i].idx = m->tx[i].peer_idx = start;
		m->rx[i].idx = m->rx[i].peer_idx = start;
		m->sh[i].prod = m->sh[i].cons = start;
	}
}

/* The writer's room: the least of its readers'. */
static int mc_room(struct mc *m)
{
	int room = SIZE;

	for (int i = 0; i < NSUB; i++) {
		int n = afx_ring_tx_space(&m->tx[i]);

		if (n < room)
			room = n;
	}
	return room;
}

static void mc_publish(struct mc *m, u32 n)
{
	m->w.idx += n;
	for (int i = 0; i < NSUB; i++)
		afx_ring_publish(&m->tx[i], m->w.idx);
}

/*
 * Readers of different speeds: reader i takes up to 1 << (4 + 3 i) bytes
 * per turn.  Every reader sees every byte; the writer never overwrites
 * what the slowest has not read.
 */
static void t_mc_stream(void)
{
	static u8 in[1 << 20], out[NSUB][1 << 20];
	size_t w = 0, r[NSUB] = { 0 };
	struct mc m;

	mc_init(&m, 0xfffff000u);	/* the indices wrap on the way */
	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (u8)(i * 7 + (i >> 9));
	while (r[0] < sizeof(in) || r[1] < sizeof(in) || r[2] < sizeof(in)) {
		int room = mc_room(&m);
		size_t n = sizeof(in) - w < (size_t)room ? sizeof(in) - w : room;
		struct cur c = { in + w, 0, n };

		CHECK(room >= 0, "writer's room %d", room);
		if (n) {
			CHECK(afx_ring_fill(&m.w, from_cur, &c, n) == (long)n,
			      "fill of %zu", n);
			mc_publish(&m, n);
			w += n;
		}
		for (int i = 0; i < NSUB; i++) {
			size_t want = (size_t)1 << (4 + 3 * i);
			struct cur o = { out[i] + r[i], 0, want };
			long got = afx_ring_read(&m.rx[i], to_cur, &o, want,
						 false);

			CHECK(got >= 0, "reader %d: %ld", i, got);
			r[i] += got;
		}
	}
	for (int i = 0; i < NSUB; i++)
		CHECK(!memcmp(in, out[i], sizeof(in)), "reader %d's bytes", i);
}

/* Records: each reader gets each one whole, header written once. */
static int mc_take(struct mc *m, int i, u32 *next)
{
	static u8 got[SIZE];
	struct cur o = { got, 0, SIZE };
	u32 len, want = (*next * 131) % 600;
	long r = afx_ring_read_rec(&m->rx[i], to_cur, &o, SIZE, false, &len);

	if (r == -EAGAIN)
		return 0;
	if (r < 0 || len != want || (u32)r != want)
		return -1;
	for (u32 j = 0; j < want; j++)
		if (got[j] != (u8)(*next + j))
			return -1;
	(*next)++;
	return 1;
}

static void t_mc_records(void)
{
	static u8 buf[SIZE];
	u32 next[NSUB] = { 0 };
	struct mc m;
	int r;

	mc_init(&m, 0);
	for (u32 rec = 0; rec < 2000; rec++) {
		u32 n = (rec * 131) % 600;
		struct cur c = { buf, 0, n };

		for (u32 j = 0; j < n; j++)
			buf[j] = (u8)(rec + j);
		/* Reader i reads only every (i + 1)th turn: speeds differ. */
		for (int t = 1; mc_room(&m) < (int)(AFX_REC_HDR + n); t++)
			for (int i = 0; i < NSUB; i++) {
				if (t % (i + 1))
					continue;
				r = mc_take(&m, i, &next[i]);
				CHECK(r >= 0, "reader %d, record %u wrong", i,
				      next[i]);
			}
		CHECK(afx_ring_fill_rec(&m.w, from_cur, &c, n, 0) ==
		      (long)(AFX_REC_HDR + n), "fill of record %u", rec);
		mc_publish(&m, AFX_REC_HDR + n);
	}
	for (int i = 0; i < NSUB; i++) {
		while ((r = mc_take(&m, i, &next[i])) > 0)
			;
		CHECK(r == 0 && next[i] == 2000, "reader %d: %u records, %d",
		      i, next[i], r);
	}
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
	{ "multicast: one fill, three readers of different speeds, every byte at each",
	  t_mc_stream },
	{ "multicast: records filled once are whole at every reader",
	  t_mc_records },
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
