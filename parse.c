// SPDX-License-Identifier: GPL-2.0
/*
 * Strict parsers for what af_xen reads from xenstore; the grammar is in
 * docs/protocol.md, section 2.
 *
 * sscanf() would truncate numbers past 32 bits, skip blanks, take a sign
 * and stop at a NUL, so two different strings could mean one request.
 * Here a string is accepted only if it is exactly what the writer's
 * "%u"/"%llx" would print for the fields returned: one meaning per text.
 * A cursor walks [buf, buf + len) and never looks past it.
 */
#include "parse.h"

struct afx_cur {
	const char *p;
	const char *end;
};

/* The literal s, byte for byte. */
static bool afx_lit(struct afx_cur *c, const char *s)
{
	for (; *s; s++, c->p++)
		if (c->p == c->end || *c->p != *s)
			return false;
	return true;
}

/* Digits were taken from start: some, and no leading zero but "0". */
static bool afx_canonical(const struct afx_cur *c, const char *start)
{
	return c->p != start && (*start != '0' || c->p - start == 1);
}

/* A decimal u32 as "%u" prints it. */
static bool afx_dec(struct afx_cur *c, __u32 *v)
{
	const char *start = c->p;
	__u64 n = 0;

	while (c->p != c->end && *c->p >= '0' && *c->p <= '9') {
		n = n * 10 + (*c->p++ - '0');
		if (n > U32_MAX)
			return false;	/* not truncated: refused */
	}
	*v = n;
	return afx_canonical(c, start);
}

static int afx_xdigit(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	return -1;	/* upper case too: "%llx" never prints it */
}

/* A u64 as "%llx" prints it: 1 to 16 lowercase digits, no "0x". */
static bool afx_hex(struct afx_cur *c, __u64 *v)
{
	const char *start = c->p;
	__u64 n = 0;

	while (c->p != c->end && afx_xdigit(*c->p) >= 0) {
		if (c->p - start == 16)
			return false;	/* a 17th digit would overflow */
		n = n << 4 | afx_xdigit(*c->p++);
	}
	*v = n;
	return afx_canonical(c, start);
}

/*
 * The request's tail after "<order> ": "<nonce>" (a stream), or
 * "<type> <nonce>" with a type other than the stream's, which is always
 * written in the short form so that each request has one text.
 */
static bool afx_req_tail(struct afx_cur *c, struct afx_req_fields *f)
{
	struct afx_cur at = *c;

	f->type = AFX_REQ_STREAM;
	if (afx_hex(c, &f->nonce) && c->p == c->end)
		return true;
	*c = at;
	return afx_dec(c, &f->type) && f->type != AFX_REQ_STREAM &&
	       afx_lit(c, " ") && afx_hex(c, &f->nonce) && c->p == c->end;
}

/* "<gref> <port> <order> [<type> ]<nonce>": decimal but the hex nonce */
int afx_parse_request(const char *buf, size_t len, struct afx_req_fields *out)
{
	struct afx_cur c = { buf, buf + len };
	struct afx_req_fields f;

	if (!afx_dec(&c, &f.gref) || !afx_lit(&c, " ") ||
	    !afx_dec(&c, &f.port) || !afx_lit(&c, " ") ||
	    !afx_dec(&c, &f.order) || !afx_lit(&c, " ") ||
	    !afx_req_tail(&c, &f))
		return -EPROTO;
	*out = f;
	return 0;
}

/*
 * The nonce of a request that did not parse: its last field, if that
 * much is canonical, so that the EPROTO answer reaches the connector
 * that sent it (answers carrying another nonce are ignored) instead of
 * leaving it to time out.  Nothing else of such a request is trusted.
 */
int afx_parse_request_nonce(const char *buf, size_t len, __u64 *nonce)
{
	struct afx_cur c = { buf + len, buf + len };
	__u64 v;

	while (c.p != buf && c.p[-1] != ' ')
		c.p--;
	if (c.p == buf || !afx_hex(&c, &v) || c.p != c.end)
		return -EPROTO;
	*nonce = v;
	return 0;
}

/* "<nonce> <errno>": hex, then decimal 0 to MAX_ERRNO */
int afx_parse_answer(const char *buf, size_t len, struct afx_ans_fields *out)
{
	struct afx_cur c = { buf, buf + len };
	struct afx_ans_fields f;

	if (!afx_hex(&c, &f.nonce) || !afx_lit(&c, " ") ||
	    !afx_dec(&c, &f.err) || c.p != c.end || f.err > MAX_ERRNO)
		return -EPROTO;
	*out = f;
	return 0;
}

/*
 * The module node: its protocol version, "%u", at least 1.  Version 1
 * modules wrote "1" and read no one's; 2 adds control channels.
 */
int afx_parse_module(const char *buf, size_t len, __u32 *version)
{
	struct afx_cur c = { buf, buf + len };
	__u32 v;

	if (!afx_dec(&c, &v) || c.p != c.end || !v)
		return -EPROTO;
	*version = v;
	return 0;
}

/* "/local/domain/<C>/data/af_xen/c/<S>-<sport>-<cport>", all decimal */
int afx_parse_req_path(const char *buf, size_t len, struct afx_req_path *out)
{
	struct afx_cur c = { buf, buf + len };
	struct afx_req_path f;

	if (!afx_lit(&c, "/local/domain/") || !afx_dec(&c, &f.peer) ||
	    !afx_lit(&c, "/data/af_xen/c/") || !afx_dec(&c, &f.self) ||
	    !afx_lit(&c, "-") || !afx_dec(&c, &f.sport) ||
	    !afx_lit(&c, "-") || !afx_dec(&c, &f.cport) || c.p != c.end ||
	    f.peer >= AFX_DOMID_LIMIT || f.self >= AFX_DOMID_LIMIT)
		return -EPROTO;
	*out = f;
	return 0;
}
