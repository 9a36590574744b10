/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Userspace stand-ins for the few kernel definitions parse.c uses, so
 * that the very same parse.c builds into unit tests and a fuzzer.
 */
#ifndef AFX_PARSE_USER_H
#define AFX_PARSE_USER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <linux/types.h>

#define MAX_ERRNO	4095	/* <linux/err.h> */
#define U32_MAX		UINT32_MAX

#endif
