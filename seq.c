// SPDX-License-Identifier: GPL-2.0
/*
 * af_xen: the data path of a SOCK_SEQPACKET socket.  Records travel in
 * the same rings as streams, framed by ring.c (a length word, then the
 * payload; prod only ever covers whole records), so connection set-up,
 * liveness, reset and teardown are the stream code's.
 *
 * A record is all or nothing: a send waits (or fails with EAGAIN) until
 * the whole record fits, and a receive takes one record, discarding what
 * does not fit in the caller's buffer (MSG_TRUNC).
 *
 * Locking: as in data.c, every entry point holds the socket lock except
 * while it sleeps (afx_sleep); the rings are used only under it.
 */
#include "afx_sock.h"
#include <linux/af_xen.h>

#include <linux/net.h>
#include <linux/poll.h>
#include <linux/uio.h>
#include <linux/sched/signal.h>
#include <net/sock.h>

static_assert(XEN_RECORD_HDR == AFX_REC_HDR);

/* Ring space a record of @len takes, for waiting and for POLLOUT. */
static u32 afx_seq_need(const struct afx_sock *xs, size_t len)
{
	return min_t(size_t, len, afx_ring_rec_max(&xs->link.conn.tx)) +
	       AFX_REC_HDR;
}

/* Under the socket lock: send one record, waiting for room if allowed. */
static long afx_seq_send_locked(struct afx_sock *xs, struct msghdr *msg,
				size_t len, struct wait_queue_entry *wait)
{
	struct sock *sk = &xs->sk;
	long timeo = sock_sndtimeo(sk, msg->msg_flags & MSG_DONTWAIT);
	long n;

	for (;;) {
		n = afx_link_tx_ready(&xs->link, true);
		if (n >= 0 && len > afx_ring_rec_max(&xs->link.conn.tx))
			return -EMSGSIZE;
		if (n >= 0)
			n = afx_link_write_rec(&xs->link, msg, len, 0);
		if (n != -EAGAIN)
			return n;
		/* Sleep only while the whole record still does not fit. */
		n = afx_conn_tx_wait(&xs->link.conn);
		if (n < 0 || n >= afx_seq_need(xs, len))
			continue;
		xs->link.stats.waits_space++;
		n = afx_sleep(sk, wait, &timeo);
		if (n)
			return n;
	}
}

int afx_seq_sendmsg(struct socket *sock, struct msghdr *msg, size_t len)
{
	DEFINE_WAIT_FUNC(wait, woken_wake_function);
	struct sock *sk = sock->sk;
	struct afx_sock *xs = afx_sk(sk);
	long n;

	if (msg->msg_flags & MSG_OOB)
		return -EOPNOTSUPP;
	if (READ_ONCE(xs->mcast))
		return afx_mcast_sendmsg(xs, msg, len, true);
	lock_sock(sk);
	add_wait_queue(sk_sleep(sk), &wait);
	n = afx_seq_send_locked(xs, msg, len, &wait);
	remove_wait_queue(sk_sleep(sk), &wait);
	/* POLLOUT waits for room for a record like this one (afx_seq_poll). */
	if (n != -EMSGSIZE)
		xs->seq_last = min_t(size_t, len, U32_MAX);
	release_sock(sk);
	if (n == -EPIPE && !(msg->msg_flags & MSG_NOSIGNAL))
		send_sig(SIGPIPE, current, 0);
	return n < 0 ? n : len;
}

/*
 * Take (or, with MSG_PEEK, look at) the next record.  Returns what
 * recv() returns: the bytes copied, or the record's length with
 * MSG_TRUNC in @flags; -EAGAIN if no record is there yet.
 */
static long afx_seq_take(struct afx_sock *xs, struct msghdr *msg,
			 size_t len, int flags)
{
	bool peek = flags & MSG_PEEK;
	u32 reclen;
	long n;

	n = afx_link_read_rec(&xs->link, msg, len, peek, &reclen);
	if (n < 0)
		return n;
	msg->msg_flags |= MSG_EOR;
	if (reclen > len)
		msg->msg_flags |= MSG_TRUNC;
	return flags & MSG_TRUNC ? reclen : n;
}

static long afx_seq_recv_locked(struct afx_sock *xs, struct msghdr *msg,
				size_t len, int flags,
				struct wait_queue_entry *wait)
{
	struct sock *sk = &xs->sk;
	long timeo = sock_rcvtimeo(sk, flags & MSG_DONTWAIT);
	bool eof;
	long n;

	for (;;) {
		n = afx_link_rx_ready(&xs->link, &eof, true);
		if (n > 0)
			n = afx_seq_take(xs, msg, len, flags);
		else if (n == 0)
			n = eof ? 0 : -EAGAIN;
		if (n != -EAGAIN)
			return n;
		if (afx_conn_rx_wait(&xs->link.conn) != 0)
			continue;
		xs->link.stats.waits_data++;
		n = afx_sleep(sk, wait, &timeo);
		if (n)
			return n;
	}
}

int afx_seq_recvmsg(struct socket *sock, struct msghdr *msg, size_t len,
		    int flags)
{
	DEFINE_WAIT_FUNC(wait, woken_wake_function);
	struct sock *sk = sock->sk;
	long n;

	if (flags & MSG_OOB)
		return -EOPNOTSUPP;
	lock_sock(sk);
	if (sk->sk_state == TCP_LISTEN) {
		n = -ENOTCONN;
	} else {
		add_wait_queue(sk_sleep(sk), &wait);
		n = afx_seq_recv_locked(afx_sk(sk), msg, len, flags, &wait);
		remove_wait_queue(sk_sleep(sk), &wait);
		if (n >= 0 && !(flags & MSG_PEEK))
			afx_link_rx_rearm(&afx_sk(sk)->link);
	}
	release_sock(sk);
	return n;
}

/*
 * Free space that makes a seqpacket socket writable (data.c's poll): room
 * for a record as long as the last one this socket sent or tried, so
 * that a writer of large records is not woken only to fail with EAGAIN
 * again and again.  Before the first send: room for an empty record.
 */
u32 afx_seq_poll_need(const struct afx_sock *xs)
{
	return afx_seq_need(xs, xs->seq_last);
}
