/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Strict parsers for the xenstore values and paths of the af_xen
 * rendezvous (docs/protocol.md, section 2).
 *
 * This file and parse.c know nothing of Xen or sockets: the same code is
 * built into the module and, with test/parse_user.h, into userspace unit
 * tests and a fuzzer.
 *
 * The peer writes these strings, so they are untrusted.  A correct peer
 * prints them with "%u" and "%llx", so only that canonical text is
 * accepted: every field present, each number in its type's range without
 * sign, blanks or leading zeros, single spaces between fields, nothing
 * after the last one.  Input is bytes with a length, not a C string: a
 * NUL anywhere in it is refused, and nothing past the length is read.
 */
#ifndef AFX_PARSE_H
#define AFX_PARSE_H

#ifdef __KERNEL__
#include <linux/types.h>
#include <linux/errno.h>
#include <linux/err.h>
#include <linux/limits.h>
#else
#include "parse_user.h"
#endif

/* Xen's DOMID_FIRST_RESERVED: every real domain id is below it. */
#define AFX_DOMID_LIMIT		0x7ff0

/*
 * Request: C's data/af_xen/c/<S>-<sport>-<cport>, "%u %u %u %llx" for a
 * stream, "%u %u %u %u %llx" with the socket type before the nonce for
 * anything else.  A stream request has four fields, as before there were
 * types, so that older modules keep accepting it; they refuse five with
 * EPROTO, addressed by the nonce, which stays the last field.
 */
#define AFX_REQ_STREAM		1	/* Linux's SOCK_STREAM */
#define AFX_REQ_SEQPACKET	5	/* Linux's SOCK_SEQPACKET */
#define AFX_REQ_VSOCK		0x100	/* plus the type: AF_VSOCK's own */
#define AFX_REQ_VSOCK_STREAM	(AFX_REQ_VSOCK | AFX_REQ_STREAM)
#define AFX_REQ_VSOCK_SEQPACKET	(AFX_REQ_VSOCK | AFX_REQ_SEQPACKET)
#define AFX_REQ_CHAN		0x200	/* a control channel (chan.c) */

struct afx_req_fields {
	__u32 gref;		/* control page grant */
	__u32 port;		/* unbound event-channel port for S */
	__u32 order;		/* not range-checked here: the caller does */
	__u32 type;		/* if absent: AFX_REQ_STREAM; the caller checks */
	__u64 nonce;
};

/* Answer: S's data/af_xen/a/<C>-<cport>-<sport>, "%llx %u". */
struct afx_ans_fields {
	__u64 nonce;
	__u32 err;		/* positive errno, 0 to MAX_ERRNO; 0 accepted */
};

/*
 * A request's path as the listener's watch reports it:
 * /local/domain/<C>/data/af_xen/c/<S>-<sport>-<cport>
 */
struct afx_req_path {
	__u32 peer;		/* C, below AFX_DOMID_LIMIT */
	__u32 self;		/* S, below AFX_DOMID_LIMIT */
	__u32 sport;
	__u32 cport;
};

/* Each: 0, or -EPROTO and *out untouched. */
int afx_parse_request(const char *buf, size_t len, struct afx_req_fields *out);
int afx_parse_request_nonce(const char *buf, size_t len, __u64 *nonce);
int afx_parse_answer(const char *buf, size_t len, struct afx_ans_fields *out);
int afx_parse_module(const char *buf, size_t len, __u32 *version);
int afx_parse_req_path(const char *buf, size_t len, struct afx_req_path *out);

#endif /* AFX_PARSE_H */
