/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The tiny framework of the userspace unit tests (ring_test.c,
 * parse_test.c): a test is a void function; CHECK records the first
 * failure with its line and returns from the test.
 */
#ifndef AFX_UNIT_CHECK_H
#define AFX_UNIT_CHECK_H

#include <stdint.h>
#include <stdio.h>

typedef uint8_t u8;
typedef uint32_t u32;
typedef uint64_t u64;

static int t_failed;
static char t_why[512];
static const char *t_tag __attribute__((unused)) = "";

#define CHECK(cond, ...) do {						\
	if (!(cond)) {							\
		if (!t_failed) {					\
			int _o = snprintf(t_why, sizeof(t_why),		\
					  "line %d: ", __LINE__);	\
			snprintf(t_why + _o, sizeof(t_why) - _o,	\
				 __VA_ARGS__);				\
		}							\
		t_failed = 1;						\
		return;							\
	}								\
} while (0)

#endif
