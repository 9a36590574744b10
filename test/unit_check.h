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
#include <string.h>

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

/*
 * The runner of every unit test binary: test i is named name(i) and run
 * by run(i); each prints "ok - AREA: NAME" or "not ok - AREA: NAME # why".
 * Options: --only SUBSTR, --tag PREFIX (before each name), --list.
 */
static int __attribute__((unused))
unit_main(int argc, char **argv, const char *area, unsigned int n,
	  const char *(*name)(unsigned int i), void (*run)(unsigned int i))
{
	const char *only = NULL;
	int nfail = 0, list = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--only") && i + 1 < argc) {
			only = argv[++i];
		} else if (!strcmp(argv[i], "--tag") && i + 1 < argc) {
			t_tag = argv[++i];
		} else if (!strcmp(argv[i], "--list")) {
			list = 1;
		} else {
			fprintf(stderr, "usage: %s [--only SUBSTR] [--tag PREFIX] [--list]\n",
				argv[0]);
			return 2;
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (unsigned int i = 0; i < n; i++) {
		if (only && !strstr(name(i), only))
			continue;
		if (list) {
			printf("%s\n", name(i));
			continue;
		}
		t_failed = 0;
		t_why[0] = 0;
		run(i);
		if (t_failed) {
			nfail++;
			printf("not ok - %s: %s%s # %s\n", area, t_tag, name(i),
			       t_why);
		} else {
			printf("ok - %s: %s%s\n", area, t_tag, name(i));
		}
	}
	return nfail ? 1 : 0;
}

#endif
