/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Userspace stand-ins for the few kernel primitives ring.c uses, so that
 * the very same ring.c builds into unit tests, stress tests and fuzzers.
 */
#ifndef AFX_RING_USER_H
#define AFX_RING_USER_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <errno.h>
#include <linux/types.h>

/*
 * Acquire/release rather than the kernel's plain volatile accesses: the
 * barriers below are what ring.c relies on, but ThreadSanitizer does not
 * model standalone fences, and this keeps its race reports meaningful.
 */
#define READ_ONCE(x)	 __atomic_load_n(&(x), __ATOMIC_ACQUIRE)
#define WRITE_ONCE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELEASE)

#define virt_mb()	__atomic_thread_fence(__ATOMIC_SEQ_CST)
#define virt_rmb()	__atomic_thread_fence(__ATOMIC_ACQUIRE)
#define virt_wmb()	__atomic_thread_fence(__ATOMIC_RELEASE)
#define xchg(p, v)	__atomic_exchange_n((p), (v), __ATOMIC_SEQ_CST)

#endif
