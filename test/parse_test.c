// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of parse.c in userspace: the strict parsers of the xenstore
 * values and paths of the rendezvous (docs/protocol.md, section 2).
 *
 *   parse_test [--only SUBSTR] [--tag PREFIX] [--list]
 *
 * Prints one line per test: "ok - parse: NAME" or "not ok - parse: NAME #
 * why".  Exit status is 1 if any test failed.
 *
 * Most tests are one row of a table: which parser, the input bytes (with
 * an explicit length, so that NULs inside count), accepted or not, and
 * the fields it must give.  Every row also checks that a refusal leaves
 * the output alone and that an accepted text is exactly what the writer
 * prints for the fields returned.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <inttypes.h>

#include "parse.h"
#include "unit_check.h"

/* ----- the writers' canonical forms (xs.c's xenbus_printf formats) ----- */

#include "parse_print.h"

static int print_ans(char *b, size_t n, const struct afx_ans_fields *f)
{
	return snprintf(b, n, "%llx %u", (unsigned long long)f->nonce, f->err);
}

static int print_path(char *b, size_t n, const struct afx_req_path *f)
{
	return snprintf(b, n, "/local/domain/%u/data/af_xen/c/%u-%u-%u",
			f->peer, f->self, f->sport, f->cport);
}

/* ----- the table ----- */

enum kind { REQ, ANS, PATH };

struct pcase {
	const char *name;
	enum kind kind;
	const char *in;
	size_t len;
	int ok;
	u64 v[5];	/* REQ: gref port order nonce type (0: stream);
			 * ANS: nonce err; PATH: peer self sport cport */
};

/* A literal and its length, NULs inside included. */
#define S(s)		s, sizeof(s) - 1
#define OK(...)		1, { __VA_ARGS__ }
#define NO		0, { 0 }
#define P		"/local/domain/"
#define M		"/data/af_xen/c/"
#define TYPE0		(1ull << 32)	/* a request row's type 0 */

static const struct pcase cases[] = {
	/* request: "<gref> <port> <order> <nonce>" */
	{ "request: valid", REQ, S("587 11 0 1a2b3c"), OK(587, 11, 0, 0x1a2b3c) },
	{ "request: all zero", REQ, S("0 0 0 0"), OK(0, 0, 0, 0) },
	{ "request: max values", REQ,
	  S("4294967295 4294967295 4294967295 ffffffffffffffff"),
	  OK(4294967295u, 4294967295u, 4294967295u, UINT64_MAX) },
	{ "request: gref 2^32 refused", REQ, S("4294967296 11 0 1a"), NO },
	{ "request: port 2^32 refused", REQ, S("587 4294967296 0 1a"), NO },
	{ "request: order 2^32 refused", REQ, S("587 11 4294967296 1a"), NO },
	{ "request: issue 11 truncation example refused", REQ,
	  S("4294967883 4294967307 4294967296 1a2b"), NO },
	{ "request: 20-digit gref refused", REQ,
	  S("99999999999999999999 11 0 1a"), NO },
	{ "request: 17 hex digit nonce refused", REQ,
	  S("587 11 0 10000000000000000"), NO },
	{ "request: 17 hex digits with a leading zero refused", REQ,
	  S("587 11 0 0ffffffffffffffff"), NO },
	{ "request: leading zero in gref refused", REQ, S("0587 11 0 1a"), NO },
	{ "request: leading zero in order refused", REQ, S("587 11 00 1a"), NO },
	{ "request: leading zero in nonce refused", REQ, S("587 11 0 01a"), NO },
	{ "request: '+' refused", REQ, S("+587 11 0 1a"), NO },
	{ "request: '-' refused", REQ, S("587 -11 0 1a"), NO },
	{ "request: '-0' refused", REQ, S("587 11 -0 1a"), NO },
	{ "request: uppercase hex nonce refused", REQ, S("587 11 0 1A"), NO },
	{ "request: 0x nonce refused", REQ, S("587 11 0 0x1a"), NO },
	{ "request: hex digit in gref refused", REQ, S("58a 11 0 1a"), NO },
	{ "request: double space refused", REQ, S("587  11 0 1a"), NO },
	{ "request: tab refused", REQ, S("587\t11 0 1a"), NO },
	{ "request: leading space refused", REQ, S(" 587 11 0 1a"), NO },
	{ "request: trailing space refused", REQ, S("587 11 0 1a "), NO },
	{ "request: trailing newline refused", REQ, S("587 11 0 1a\n"), NO },
	{ "request: missing field refused", REQ, S("587 11 0"), NO },
	{ "request: missing field, trailing space refused", REQ,
	  S("587 11 0 "), NO },
	{ "request: extra field refused", REQ, S("587 11 0 1a 5"), NO },
	{ "request: trailing junk refused", REQ, S("587 11 0 1ag"), NO },
	{ "request: non-ASCII byte refused", REQ, S("587 11 0 1a\xff"), NO },
	{ "request: NUL first refused", REQ, S("\0" "587 11 0 1a"), NO },
	{ "request: NUL inside refused", REQ, S("587 11\0 0 1a"), NO },
	{ "request: NUL in a number refused", REQ, S("58\0" "7 11 0 1a"), NO },
	{ "request: NUL last refused", REQ, S("587 11 0 1a\0"), NO },
	{ "request: NUL then junk refused", REQ, S("587 11 0 1a\0junk"), NO },
	{ "request: empty refused", REQ, S(""), NO },
	{ "request: one space refused", REQ, S(" "), NO },
	{ "request: seqpacket type before the nonce", REQ,
	  S("587 11 0 5 1a2b3c"), OK(587, 11, 0, 0x1a2b3c, 5) },
	{ "request: unknown type left to the caller", REQ, S("587 11 0 7 1a"),
	  OK(587, 11, 0, 0x1a, 7) },
	{ "request: max type", REQ, S("587 11 0 4294967295 1a"),
	  OK(587, 11, 0, 0x1a, 4294967295u) },
	{ "request: stream type written out refused", REQ,
	  S("587 11 0 1 1a"), NO },
	{ "request: type 0 accepted for the caller to refuse", REQ,
	  S("587 11 0 0 1a"), OK(587, 11, 0, 0x1a, TYPE0) },
	{ "request: leading zero in type refused", REQ, S("587 11 0 05 1a"),
	  NO },
	{ "request: type 2^32 refused", REQ, S("587 11 0 4294967296 1a"), NO },
	{ "request: hex type refused", REQ, S("587 11 0 a 1a"), NO },
	{ "request: six fields refused", REQ, S("587 11 0 5 5 1a"), NO },
	{ "request: type without nonce refused", REQ, S("587 11 0 5 "), NO },
	{ "request: NUL after type refused", REQ, S("587 11 0 5\0 1a"), NO },
	{ "request: ends at len, bytes past it unread", REQ,
	  "587 11 0 1a2b", 11, OK(587, 11, 0, 0x1a) },
	{ "request: len cutting a field refused", REQ, "587 11 0 1a", 8, NO },

	/* answer: "<nonce> <errno>" */
	{ "answer: valid, accepted", ANS, S("1a2b3c 0"), OK(0x1a2b3c, 0) },
	{ "answer: valid, refused (ECONNREFUSED)", ANS, S("1a2b3c 111"),
	  OK(0x1a2b3c, 111) },
	{ "answer: all zero", ANS, S("0 0"), OK(0, 0) },
	{ "answer: max nonce", ANS, S("ffffffffffffffff 0"), OK(UINT64_MAX, 0) },
	{ "answer: errno 4095 accepted", ANS, S("1a 4095"), OK(0x1a, 4095) },
	{ "answer: errno 4096 ignored", ANS, S("1a 4096"), NO },
	{ "answer: errno 4294967295 ignored", ANS, S("1a 4294967295"), NO },
	{ "answer: errno 2^32 ignored", ANS, S("1a 4294967296"), NO },
	{ "answer: negative errno ignored", ANS, S("1a -111"), NO },
	{ "answer: '+' ignored", ANS, S("1a +0"), NO },
	{ "answer: leading zero in errno ignored", ANS, S("1a 0111"), NO },
	{ "answer: errno 00 ignored", ANS, S("1a 00"), NO },
	{ "answer: leading zero in nonce ignored", ANS, S("01a 0"), NO },
	{ "answer: 17 hex digit nonce ignored", ANS,
	  S("10000000000000000 0"), NO },
	{ "answer: uppercase hex ignored", ANS, S("1A 0"), NO },
	{ "answer: 0x prefix ignored", ANS, S("0x1a 0"), NO },
	{ "answer: double space ignored", ANS, S("1a  0"), NO },
	{ "answer: tab ignored", ANS, S("1a\t0"), NO },
	{ "answer: leading space ignored", ANS, S(" 1a 0"), NO },
	{ "answer: trailing space ignored", ANS, S("1a 0 "), NO },
	{ "answer: missing errno ignored", ANS, S("1a"), NO },
	{ "answer: missing errno, trailing space ignored", ANS, S("1a "), NO },
	{ "answer: extra field ignored", ANS, S("1a 0 0"), NO },
	{ "answer: trailing junk ignored", ANS, S("1a 0x"), NO },
	{ "answer: issue 11 NUL then junk ignored", ANS, S("1a 0\0junk"), NO },
	{ "answer: NUL last ignored", ANS, S("1a 0\0"), NO },
	{ "answer: NUL first ignored", ANS, S("\0" "1a 0"), NO },
	{ "answer: NUL inside ignored", ANS, S("1a\0" "0"), NO },
	{ "answer: empty ignored", ANS, S(""), NO },

	/* path: "/local/domain/<C>/data/af_xen/c/<S>-<sport>-<cport>" */
	{ "path: valid", PATH, S(P "3" M "0-7000-40001"), OK(3, 0, 7000, 40001) },
	{ "path: max ports", PATH, S(P "1" M "2-4294967295-4294967295"),
	  OK(1, 2, 4294967295u, 4294967295u) },
	{ "path: domids 32751 accepted", PATH, S(P "32751" M "32751-1-2"),
	  OK(32751, 32751, 1, 2) },
	{ "path: connector domid 0x7ff0 refused", PATH, S(P "32752" M "0-1-2"),
	  NO },
	{ "path: listener domid 0x7ff0 refused", PATH, S(P "1" M "32752-1-2"),
	  NO },
	{ "path: DOMID_SELF refused", PATH, S(P "32753" M "0-1-2"), NO },
	{ "path: domid 2^32 + 1 refused", PATH, S(P "4294967297" M "0-1-2"),
	  NO },
	{ "path: port 2^32 refused", PATH, S(P "1" M "0-4294967296-2"), NO },
	{ "path: wrong prefix refused", PATH,
	  S("/local/domains/1" M "0-1-2"), NO },
	{ "path: relative refused", PATH, S("local/domain/1" M "0-1-2"), NO },
	{ "path: answer directory refused", PATH,
	  S(P "1/data/af_xen/a/0-1-2"), NO },
	{ "path: extra slash before domid refused", PATH,
	  S("/local/domain//1" M "0-1-2"), NO },
	{ "path: extra slash after domid refused", PATH,
	  S(P "1/" M "0-1-2"), NO },
	{ "path: missing domid refused", PATH, S(P M "0-1-2"), NO },
	{ "path: missing dash refused", PATH, S(P "1" M "0-12"), NO },
	{ "path: missing field refused", PATH, S(P "1" M "0-1-"), NO },
	{ "path: extra field refused", PATH, S(P "1" M "0-1-2-3"), NO },
	{ "path: trailing junk refused", PATH, S(P "1" M "0-1-2x"), NO },
	{ "path: trailing slash refused", PATH, S(P "1" M "0-1-2/"), NO },
	{ "path: child node refused", PATH, S(P "1" M "0-1-2/x"), NO },
	{ "path: the directory itself refused", PATH,
	  S(P "1/data/af_xen/c"), NO },
	{ "path: leading zero in domid refused", PATH, S(P "01" M "0-1-2"), NO },
	{ "path: leading zero in port refused", PATH, S(P "1" M "0-01-2"), NO },
	{ "path: '+' refused", PATH, S(P "1" M "0-+1-2"), NO },
	{ "path: '-' refused", PATH, S(P "1" M "0--1-2"), NO },
	{ "path: space refused", PATH, S(P "1" M "0-1- 2"), NO },
	{ "path: NUL inside refused", PATH, S(P "1" M "0-1\0-2"), NO },
	{ "path: NUL last refused", PATH, S(P "1" M "0-1-2\0"), NO },
	{ "path: empty refused", PATH, S(""), NO },
};

/* Parse c->in with its parser; *out and the canonical form of it. */
static int parse_case(const struct pcase *c, u64 v[5], char *canon,
		      size_t n, unsigned char *out, size_t outsz)
{
	struct afx_req_fields r;
	struct afx_ans_fields a;
	struct afx_req_path p;
	int rc = -1;

	memset(&r, 0xa5, sizeof(r));
	memset(&a, 0xa5, sizeof(a));
	memset(&p, 0xa5, sizeof(p));
	switch (c->kind) {
	case REQ:
		rc = afx_parse_request(c->in, c->len, &r);
		v[0] = r.gref, v[1] = r.port, v[2] = r.order, v[3] = r.nonce;
		v[4] = r.type;
		print_req(canon, n, &r);
		memcpy(out, &r, sizeof(r) < outsz ? sizeof(r) : outsz);
		break;
	case ANS:
		rc = afx_parse_answer(c->in, c->len, &a);
		v[0] = a.nonce, v[1] = a.err, v[2] = v[3] = v[4] = 0;
		print_ans(canon, n, &a);
		memcpy(out, &a, sizeof(a) < outsz ? sizeof(a) : outsz);
		break;
	case PATH:
		rc = afx_parse_req_path(c->in, c->len, &p);
		v[0] = p.peer, v[1] = p.self, v[2] = p.sport, v[3] = p.cport;
		v[4] = 0;
		print_path(canon, n, &p);
		memcpy(out, &p, sizeof(p) < outsz ? sizeof(p) : outsz);
		break;
	}
	return rc;
}

static void run_case(const struct pcase *c)
{
	unsigned char out[64], fill[64];
	char canon[128];
	u64 v[5], want;
	int rc;

	rc = parse_case(c, v, canon, sizeof(canon), out, sizeof(out));
	if (!c->ok) {
		CHECK(rc == -EPROTO, "accepted (%d), want -EPROTO", rc);
		memset(fill, 0xa5, sizeof(fill));
		CHECK(!memcmp(out, fill, c->kind == REQ ?
			      sizeof(struct afx_req_fields) : c->kind == ANS ?
			      sizeof(struct afx_ans_fields) :
			      sizeof(struct afx_req_path)),
		      "output written on refusal");
		return;
	}
	CHECK(rc == 0, "refused (%d)", rc);
	for (int i = 0; i < 5; i++) {
		want = c->v[i];
		/* A request row without a type is a stream request. */
		if (i == 4 && c->kind == REQ)
			want = !want ? AFX_REQ_STREAM : want == TYPE0 ? 0 : want;
		CHECK(v[i] == want, "field %d: got %" PRIu64 ", want %"
		      PRIu64, i, v[i], want);
	}
	CHECK(strlen(canon) == c->len && !memcmp(canon, c->in, c->len),
	      "accepted text is not canonical: \"%s\"", canon);
}

/* ----- every canonical text is accepted ----- */

static u64 rng_state = 0x9e3779b97f4a7c15ull;

/* splitmix64, with a bias towards short numbers and edge values */
static u64 rnd(void)
{
	u64 z = (rng_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	z ^= z >> 31;
	switch (z & 7) {
	case 0:
		return 0;
	case 1:
		return UINT64_MAX >> (z >> 8 & 63);
	case 2:
		return (z >> 8) & 0xff;
	default:
		return z >> (z >> 3 & 63);
	}
}

#define ROUNDS 100000

static void t_canon_request(void)
{
	struct afx_req_fields f, g;
	char b[128];

	for (int i = 0; i < ROUNDS; i++) {
		f.gref = rnd(), f.port = rnd(), f.order = rnd(), f.nonce = rnd();
		f.type = i % 2 ? AFX_REQ_STREAM : rnd();
		print_req(b, sizeof(b), &f);
		CHECK(!afx_parse_request(b, strlen(b), &g), "refused \"%s\"", b);
		CHECK(g.gref == f.gref && g.port == f.port &&
		      g.order == f.order && g.nonce == f.nonce &&
		      g.type == f.type,
		      "\"%s\" parsed to other fields", b);
	}
}

static void t_canon_answer(void)
{
	struct afx_ans_fields f, g;
	char b[128];

	for (int i = 0; i < ROUNDS; i++) {
		f.nonce = rnd(), f.err = rnd() % (MAX_ERRNO + 1);
		print_ans(b, sizeof(b), &f);
		CHECK(!afx_parse_answer(b, strlen(b), &g), "refused \"%s\"", b);
		CHECK(g.nonce == f.nonce && g.err == f.err,
		      "\"%s\" parsed to other fields", b);
	}
}

static void t_canon_path(void)
{
	struct afx_req_path f, g;
	char b[128];

	for (int i = 0; i < ROUNDS; i++) {
		f.peer = rnd() % AFX_DOMID_LIMIT;
		f.self = rnd() % AFX_DOMID_LIMIT;
		f.sport = rnd(), f.cport = rnd();
		print_path(b, sizeof(b), &f);
		CHECK(!afx_parse_req_path(b, strlen(b), &g), "refused \"%s\"", b);
		CHECK(g.peer == f.peer && g.self == f.self &&
		      g.sport == f.sport && g.cport == f.cport,
		      "\"%s\" parsed to other fields", b);
	}
}

/* The nonce of a malformed request, to address its refusal. */
static void t_request_nonce(void)
{
	static const struct {
		const char *text;
		int ok;
		u64 nonce;
	} t[] = {
		{ "4294967883 4294967307 4294967296 1f2e", 1, 0x1f2e },
		{ "1 2 3 junk 00ab", 0, 0 },	/* leading zero */
		{ "1 2 3 ABCD", 0, 0 },		/* upper case */
		{ "1 2 3 abcd ", 0, 0 },	/* nothing after the space */
		{ "abcd", 0, 0 },		/* no field before it */
		{ "", 0, 0 },
		{ "1 2 3 12345678901234567", 0, 0 },	/* 17 digits */
		{ "x y ffffffffffffffff", 1, ~0ull },
	};
	__u64 v;

	for (unsigned int i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		v = 42;
		int r = afx_parse_request_nonce(t[i].text, strlen(t[i].text), &v);

		CHECK((r == 0) == t[i].ok, "\"%s\": %s", t[i].text,
		      r ? "refused" : "accepted");
		CHECK(r ? v == 42 : v == t[i].nonce,
		      "\"%s\": nonce %llx", t[i].text, (unsigned long long)v);
	}
	/* A NUL before the last field does not matter; one inside it does. */
	CHECK(!afx_parse_request_nonce("1\0 2 ab", 7, &v) && v == 0xab,
	      "NUL before the nonce");
	CHECK(afx_parse_request_nonce("1 2 a\0b", 7, &v), "NUL in the nonce");
}

/* The module node's version: a canonical u32 of at least 1. */
static void t_module(void)
{
	static const struct {
		const char *text;
		size_t len;
		__u32 v;	/* 0: refused */
	} t[] = {
		{ "1", 1, 1 }, { "2", 1, 2 }, { "4294967295", 10, ~0u },
		{ "0", 1, 0 }, { "02", 2, 0 }, { "", 0, 0 }, { "2 ", 2, 0 },
		{ " 2", 2, 0 }, { "+2", 2, 0 }, { "2\0", 2, 0 },
		{ "4294967296", 10, 0 }, { "x", 1, 0 },
	};
	__u32 v;

	for (unsigned int i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int r;

		v = 42;
		r = afx_parse_module(t[i].text, t[i].len, &v);
		CHECK((r == 0) == (t[i].v != 0), "\"%s\": %s", t[i].text,
		      r ? "refused" : "accepted");
		CHECK(r ? v == 42 : v == t[i].v, "\"%s\": version %u",
		      t[i].text, v);
	}
}

/* ----- main ----- */

static const struct {
	const char *name;
	void (*fn)(void);
} tests[] = {
	{ "request: canonical text of random fields accepted", t_canon_request },
	{ "answer: canonical text of random fields accepted", t_canon_answer },
	{ "path: canonical text of random fields accepted", t_canon_path },
	{ "request nonce: taken from a malformed request's canonical last field",
	  t_request_nonce },
	{ "module node: a canonical version of at least 1, nothing else",
	  t_module },
};

#define N_CASES (sizeof(cases) / sizeof(cases[0]))
#define N_TABLE (sizeof(tests) / sizeof(tests[0]))
#define N_TESTS (N_CASES + N_TABLE)

static const char *test_name(unsigned int i)
{
	return i < N_CASES ? cases[i].name : tests[i - N_CASES].name;
}

static void test_run(unsigned int i)
{
	if (i < N_CASES)
		run_case(&cases[i]);
	else
		tests[i - N_CASES].fn();
}

int main(int argc, char **argv)
{
	return unit_main(argc, argv, "parse", N_TESTS, test_name, test_run);
}
