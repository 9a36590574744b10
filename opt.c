// SPDX-License-Identifier: GPL-2.0
/*
 * af_xen: socket options (XEN_SO_RING_SIZE, XEN_SO_STATS,
 * XEN_SO_RECORD_MAX, the test-only XEN_SO_DEBUG_CORRUPT) and the
 * SIOCINQ/SIOCOUTQ ioctls.
 *
 * Locking: each takes the socket lock around what it reads or sets.
 */
#include "afx_sock.h"
#include <linux/af_xen.h>

#include <linux/log2.h>
#include <linux/sockios.h>
#include <asm/ioctls.h>
#include <linux/uaccess.h>
#include <net/sock.h>

int afx_opt_int(sockptr_t optval, unsigned int optlen, int *val)
{
	if (optlen < sizeof(*val))
		return -EINVAL;
	if (copy_from_sockptr(val, optval, sizeof(*val)))
		return -EFAULT;
	return 0;
}

int afx_ioctl(struct socket *sock, unsigned int cmd, unsigned long arg)
{
	struct sock *sk = sock->sk;
	struct afx_sock *xs = afx_sk(sk);
	int err = 0, n = 0;

	if (cmd != SIOCINQ && cmd != SIOCOUTQ)
		return -ENOIOCTLCMD;
	lock_sock(sk);
	if (sk->sk_state == TCP_LISTEN)
		err = -EINVAL;
	else if (cmd == SIOCINQ)
		n = afx_link_unread(&xs->link);
	else
		n = afx_link_unsent(&xs->link);
	release_sock(sk);
	if (err)
		return err;
	return put_user(n, (int __user *)arg);
}

static int afx_set_ring_size(struct sock *sk, sockptr_t optval,
			     unsigned int optlen)
{
	struct afx_sock *xs = afx_sk(sk);
	int size, err;

	err = afx_opt_int(optval, optlen, &size);
	if (err)
		return err;
	if (size < XEN_RING_SIZE_MIN || size > XEN_RING_SIZE_MAX ||
	    !is_power_of_2(size))
		return -EINVAL;
	lock_sock(sk);
	if (sk->sk_state == TCP_ESTABLISHED || sk->sk_state == TCP_SYN_SENT)
		err = -EISCONN;
	else if (sk->sk_state == TCP_LISTEN)
		err = -EINVAL;
	else
		xs->ring_size = size;
	xs->ring_size_set = !err;
	release_sock(sk);
	return err;
}

/* XEN_SO_MULTICAST before listen(), XEN_SO_MULTICAST_LAG_MS any time. */
static int afx_set_mcast(struct sock *sk, int optname, sockptr_t optval,
			 unsigned int optlen)
{
	struct afx_sock *xs = afx_sk(sk);
	int v, err;

	err = afx_opt_int(optval, optlen, &v);
	if (err)
		return err;
	if (v < 0 || (optname == XEN_SO_MULTICAST && v > 1))
		return -EINVAL;
	lock_sock(sk);
	if (optname == XEN_SO_MULTICAST_LAG_MS)
		xs->mcast_lag_ms = v;
	else if (sk->sk_state != TCP_CLOSE || xs->link.conn_up)
		err = -EISCONN;
	else
		xs->mcast_want = v;
	release_sock(sk);
	return err;
}

int afx_setsockopt(struct socket *sock, int level, int optname,
		   sockptr_t optval, unsigned int optlen)
{
	if (level != afx_family)
		return -ENOPROTOOPT;
	if (optname == XEN_SO_RING_SIZE)
		return afx_set_ring_size(sock->sk, optval, optlen);
	if (optname == XEN_SO_MULTICAST || optname == XEN_SO_MULTICAST_LAG_MS)
		return afx_set_mcast(sock->sk, optname, optval, optlen);
	if (optname == XEN_SO_DEBUG_CORRUPT)
		return afx_debug_corrupt(sock->sk, optval, optlen);
	return -ENOPROTOOPT;
}

void afx_get_stats(struct afx_sock *xs, struct xen_so_stats *st)
{
	*st = xs->link.stats;
	if (xs->link.conn_up) {
		st->notifies_sent = xs->link.conn.ntf_tx;
		st->notifies_received = READ_ONCE(xs->link.conn.ntf_rx);
	}
}

int afx_getsockopt(struct socket *sock, int level, int optname,
		   char __user *optval, int __user *optlen)
{
	struct afx_sock *xs = afx_sk(sock->sk);
	struct xen_so_stats st;
	int len, size, rec_max, mc[3];
	void *val;

	if (level != afx_family)
		return -ENOPROTOOPT;
	if (get_user(len, optlen))
		return -EFAULT;
	lock_sock(&xs->sk);
	size = xs->ring_size;
	rec_max = size - AFX_REC_HDR;
	afx_get_stats(xs, &st);
	mc[0] = xs->mcast_want;
	mc[1] = xs->mcast_lag_ms;
	mc[2] = afx_mcast_subscribers(xs);
	release_sock(&xs->sk);
	switch (optname) {
	case XEN_SO_RING_SIZE:
		val = &size;
		len = len < sizeof(size) ? -EINVAL : sizeof(size);
		break;
	case XEN_SO_STATS:
		val = &st;
		len = len < sizeof(st) ? -EINVAL : sizeof(st);
		break;
	case XEN_SO_RECORD_MAX:
		if (xs->sk.sk_type != SOCK_SEQPACKET)
			return -ENOPROTOOPT;
		val = &rec_max;
		len = len < sizeof(rec_max) ? -EINVAL : sizeof(rec_max);
		break;
	case XEN_SO_MULTICAST:
	case XEN_SO_MULTICAST_LAG_MS:
	case XEN_SO_SUBSCRIBERS:
		val = &mc[optname - XEN_SO_MULTICAST];
		if (*(int *)val < 0)
			return -EINVAL;		/* not a publisher */
		len = len < sizeof(int) ? -EINVAL : sizeof(int);
		break;
	default:
		return -ENOPROTOOPT;
	}
	if (len < 0)
		return len;
	if (copy_to_user(optval, val, len) || put_user(len, optlen))
		return -EFAULT;
	return 0;
}
