/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel API drift, kept in one place.  af_xen targets Debian 12's 6.1;
 * newer kernels changed a few signatures that af_xen uses.
 */
#ifndef AFX_COMPAT_H
#define AFX_COMPAT_H

#include <linux/version.h>

#if LINUX_VERSION_CODE < KERNEL_VERSION(5, 17, 0)
#error "af_xen needs Linux 5.17 or newer (two-argument gnttab_end_foreign_access)"
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

#endif /* AFX_COMPAT_H */
