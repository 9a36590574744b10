/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel API drift, kept in one place.  The oldest supported kernel is
 * Linux 6.1 (Debian 12); built and checked (W=1, sparse where kbuild runs
 * it) against 6.1, 6.12 and 7.3.  Each change that needs a test has one
 * name here.  One needs none: sock_i_ino() returns unsigned long before
 * 7.1 and u64 from 7.1, so af_xen.c prints it through a u64 cast.
 */
#ifndef AFX_COMPAT_H
#define AFX_COMPAT_H

#include <linux/version.h>

#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 1, 0)
#error "af_xen needs Linux 6.1 or newer"
#endif

/* 6.10 folded accept()'s flags and kern into struct proto_accept_arg. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 10, 0)
#define AFX_ACCEPT_ARGS		struct proto_accept_arg *arg
#define AFX_ACCEPT_FLAGS	(arg->flags)
#define AFX_ACCEPT_KERN		(arg->kern)
#else
#define AFX_ACCEPT_ARGS		int flags, bool kern
#define AFX_ACCEPT_FLAGS	(flags)
#define AFX_ACCEPT_KERN		(kern)
#endif

/*
 * 6.19: proto_ops.bind and .connect take struct sockaddr_unsized (a
 * family and a flexible array) instead of struct sockaddr.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 19, 0)
#define AFX_SOCKADDR		struct sockaddr_unsized
#else
#define AFX_SOCKADDR		struct sockaddr
#endif

#endif /* AFX_COMPAT_H */
