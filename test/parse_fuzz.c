// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target for parse.c: the input plays a hostile peer's
 * xenstore value or path.
 *
 * The input is handed, as it is, to each of the three parsers (libFuzzer
 * keeps it in a heap block of exactly its size, so ASan catches any read
 * past len, and there is no terminating NUL to lean on).  Checked:
 *  - each returns 0 or -EPROTO, and leaves its output alone on -EPROTO;
 *  - soundness: when a parser accepts, printing the fields it returned
 *    with the writer's format gives back exactly the input bytes.  Only
 *    canonical text passes, so no two texts mean one value and nothing
 *    (a sign, a blank, a NUL, a 33rd bit) is silently dropped; and the
 *    range rules hold (domids below 0x7ff0, errno at most MAX_ERRNO);
 *  - completeness: fields taken from the input bytes, printed with the
 *    writer's format, are accepted and give those fields back.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>

#include "parse.h"

typedef uint8_t u8;
typedef uint32_t u32;
typedef uint64_t u64;

#define FAIL(...) do {							\
	fprintf(stderr, "parse_fuzz: line %d: ", __LINE__);		\
	fprintf(stderr, __VA_ARGS__);					\
	fputc('\n', stderr);						\
	abort();							\
} while (0)
#define ASSERT(c, ...) do { if (!(c)) FAIL(__VA_ARGS__); } while (0)

/* The canonical text of fields must be the input, byte for byte. */
static void same_text(const char *what, const char *canon, int n,
		      const u8 *data, size_t size)
{
	ASSERT(n >= 0 && (size_t)n == size && !memcmp(canon, data, size),
	       "%s accepted %zu bytes that print as \"%s\"", what, size,
	       canon);
}

static int untouched(const void *p, size_t n)
{
	const u8 *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i] != 0xa5)
			return 0;
	return 1;
}

#include "parse_print.h"

static void fuzz_text(const u8 *data, size_t size)
{
	const char *in = (const char *)data;
	struct afx_req_fields r;
	struct afx_ans_fields a;
	struct afx_req_path p;
	char b[160];
	int rc;

	memset(&r, 0xa5, sizeof(r));
	rc = afx_parse_request(in, size, &r);
	ASSERT(rc == 0 || rc == -EPROTO, "request: returned %d", rc);
	if (rc)
		ASSERT(untouched(&r, sizeof(r)), "request: output on refusal");
	else
		same_text("request", b, print_req(b, sizeof(b), &r), data,
			  size);

	memset(&a, 0xa5, sizeof(a));
	rc = afx_parse_answer(in, size, &a);
	ASSERT(rc == 0 || rc == -EPROTO, "answer: returned %d", rc);
	if (rc) {
		ASSERT(untouched(&a, sizeof(a)), "answer: output on refusal");
	} else {
		ASSERT(a.err <= MAX_ERRNO, "answer: errno %u", a.err);
		same_text("answer", b, snprintf(b, sizeof(b), "%llx %u",
			  (unsigned long long)a.nonce, a.err), data, size);
	}

	/* A nonce taken for a refusal is exactly the text after the last space. */
	memset(&r, 0xa5, sizeof(r));
	rc = afx_parse_request_nonce(in, size, &r.nonce);
	ASSERT(rc == 0 || rc == -EPROTO, "request nonce: returned %d", rc);
	if (rc) {
		ASSERT(untouched(&r.nonce, sizeof(r.nonce)),
		       "request nonce: output on refusal");
	} else {
		int n = snprintf(b, sizeof(b), "%llx",
				 (unsigned long long)r.nonce);

		ASSERT((size_t)n < size && in[size - n - 1] == ' ' &&
		       !memcmp(in + size - n, b, n),
		       "request nonce: %s is not the last field", b);
	}

	memset(&p, 0xa5, sizeof(p));
	rc = afx_parse_req_path(in, size, &p);
	ASSERT(rc == 0 || rc == -EPROTO, "path: returned %d", rc);
	if (rc) {
		ASSERT(untouched(&p, sizeof(p)), "path: output on refusal");
	} else {
		ASSERT(p.peer < AFX_DOMID_LIMIT && p.self < AFX_DOMID_LIMIT,
		       "path: domids %u, %u", p.peer, p.self);
		same_text("path", b, snprintf(b, sizeof(b),
			  "/local/domain/%u/data/af_xen/c/%u-%u-%u",
			  p.peer, p.self, p.sport, p.cport), data, size);
	}
}

/* Input bytes as numbers: little-endian, missing bytes are zero. */
struct in {
	const u8 *p;
	size_t n;
};

static u64 in_bytes(struct in *in, int bytes)
{
	u64 v = 0;

	for (int i = 0; i < bytes && in->n; i++, in->n--)
		v |= (u64)*in->p++ << (8 * i);
	return v;
}

/* A u64 of 0 to 8 bytes (the first byte says how many): short numbers too. */
static u64 in_num(struct in *in)
{
	return in_bytes(in, in_bytes(in, 1) % 9);
}

static void fuzz_fields(const u8 *data, size_t size)
{
	struct in in = { data, size };
	struct afx_req_fields r, r2;
	struct afx_ans_fields a, a2;
	struct afx_req_path p, p2;
	char b[160];

	r.gref = in_num(&in), r.port = in_num(&in), r.order = in_num(&in);
	r.nonce = in_num(&in), r.type = in_num(&in);
	print_req(b, sizeof(b), &r);
	ASSERT(!afx_parse_request(b, strlen(b), &r2), "request: refused \"%s\"",
	       b);
	ASSERT(r2.gref == r.gref && r2.port == r.port && r2.order == r.order &&
	       r2.nonce == r.nonce && r2.type == r.type,
	       "request: \"%s\" gave other fields", b);

	a.nonce = in_num(&in), a.err = in_num(&in);
	snprintf(b, sizeof(b), "%llx %u", (unsigned long long)a.nonce, a.err);
	ASSERT(!afx_parse_answer(b, strlen(b), &a2) == (a.err <= MAX_ERRNO),
	       "answer: \"%s\" wrongly %s", b,
	       a.err <= MAX_ERRNO ? "refused" : "accepted");
	ASSERT(a.err > MAX_ERRNO || (a2.nonce == a.nonce && a2.err == a.err),
	       "answer: \"%s\" gave other fields", b);

	p.peer = in_num(&in), p.self = in_num(&in);
	p.sport = in_num(&in), p.cport = in_num(&in);
	snprintf(b, sizeof(b), "/local/domain/%u/data/af_xen/c/%u-%u-%u",
		 p.peer, p.self, p.sport, p.cport);
	ASSERT(!afx_parse_req_path(b, strlen(b), &p2) ==
	       (p.peer < AFX_DOMID_LIMIT && p.self < AFX_DOMID_LIMIT),
	       "path: \"%s\" wrongly %s", b,
	       p.peer < AFX_DOMID_LIMIT && p.self < AFX_DOMID_LIMIT ?
	       "refused" : "accepted");
	ASSERT(p.peer >= AFX_DOMID_LIMIT || p.self >= AFX_DOMID_LIMIT ||
	       (p2.peer == p.peer && p2.self == p.self &&
		p2.sport == p.sport && p2.cport == p.cport),
	       "path: \"%s\" gave other fields", b);
}

/*
 * Seed corpus: with PARSE_FUZZ_SEED_DIR set, a few inputs are written
 * there before fuzzing starts (existing files are left alone).
 */
static const struct {
	const char *name;
	const char *data;
	size_t len;
} seeds[] = {
#define SEED(n, s) { n, s, sizeof(s) - 1 }
	SEED("seed_request", "587 11 0 1a2b3c4d5e6f7081"),
	SEED("seed_request_max",
	     "4294967295 4294967295 4294967295 ffffffffffffffff"),
	SEED("seed_request_over", "4294967296 11 0 1a"),
	SEED("seed_request_seqpacket", "587 11 0 5 1a2b3c4d5e6f7081"),
	SEED("seed_answer", "1a2b3c4d5e6f7081 0"),
	SEED("seed_answer_errno", "ffffffffffffffff 4095"),
	SEED("seed_answer_nul", "1a 0\0junk"),
	SEED("seed_path", "/local/domain/3/data/af_xen/c/0-7000-40001"),
	SEED("seed_path_max",
	     "/local/domain/32751/data/af_xen/c/32751-4294967295-4294967295"),
#undef SEED
};

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = getenv("PARSE_FUZZ_SEED_DIR");
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
	fuzz_text(data, size);
	fuzz_fields(data, size);
	return 0;
}
