/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The request as xs.c's xenbus_printf writes it, for parse_test.c and
 * parse_fuzz.c: a stream request in four fields, any other type in five.
 */
#ifndef AFX_PARSE_PRINT_H
#define AFX_PARSE_PRINT_H

#include <stdio.h>
#include "parse.h"

static inline int print_req(char *b, size_t n, const struct afx_req_fields *f)
{
	if (f->type != AFX_REQ_STREAM)
		return snprintf(b, n, "%u %u %u %u %llx", f->gref, f->port,
				f->order, f->type, (unsigned long long)f->nonce);
	return snprintf(b, n, "%u %u %u %llx", f->gref, f->port, f->order,
			(unsigned long long)f->nonce);
}

#endif
