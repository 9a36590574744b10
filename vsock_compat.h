/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vsock's transport structure changed within the kernels af_xen supports,
 * within the 6.1 stable series too, so Kbuild probes include/net/af_vsock.h
 * for each difference (AFX_VSOCK_* below) instead of trusting a version
 * number.
 */
#ifndef AFX_VSOCK_COMPAT_H
#define AFX_VSOCK_COMPAT_H

#include <net/sock.h>

/* 7.x: the *_allow hooks take the socket first. */
#ifdef AFX_VSOCK_ALLOW_VSK
#define AFX_VSOCK_ALLOW_ARGS(...)	struct vsock_sock *vsk, __VA_ARGS__
#else
#define AFX_VSOCK_ALLOW_ARGS(...)	__VA_ARGS__
#endif

/* 7.x counts the accept backlog in vsock_enqueue_accept() itself. */
#ifdef AFX_VSOCK_ENQUEUE_COUNTS
#define AFX_VSOCK_ACCEPTQ_ADDED(listener)	do { } while (0)
#else
#define AFX_VSOCK_ACCEPTQ_ADDED(listener)	sk_acceptq_added(listener)
#endif

#endif /* AFX_VSOCK_COMPAT_H */
