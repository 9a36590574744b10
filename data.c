// SPDX-License-Identifier: GPL-2.0
/*
 * af_xen: the data path of a connected stream socket: send, receive,
 * poll and shutdown, over the rings of ring.c.  seq.c has the record
 * versions of send, receive and readiness for SOCK_SEQPACKET.
 *
 * Locking: every entry point takes the socket lock and holds it except
 * while it sleeps (afx_sleep); the rings are used only under it.  The
 * event-channel interrupt only wakes waiters (af_xen.c, afx_event).
 */
#include "afx_sock.h"
#include <linux/af_xen.h>

#include <linux/hrtimer.h>
#include <linux/module.h>
#include <linux/net.h>
#include <linux/poll.h>
#include <linux/uio.h>
#include <linux/sched/signal.h>
#include <net/sock.h>

/* Sleep until woken or @timeo runs out; the caller re-checks. */
int afx_sleep(struct sock *sk, struct wait_queue_entry *wait, long *timeo)
{
	if (!*timeo)
		return -EAGAIN;
	if (signal_pending(current))
		return sock_intr_errno(*timeo);
	release_sock(sk);
	*timeo = wait_woken(wait, TASK_INTERRUPTIBLE, *timeo);
	lock_sock(sk);
	return 0;
}

/*
 * A reader that has just taken a burst of this many bytes or more and
 * finds the ring empty waits up to rx_linger_us for more before it asks
 * the writer for an event: while a stream flows, the next write lands in
 * that time and no event (a hypercall on the writer, an interrupt here)
 * is sent at all.  A reader of small messages (a ping-pong) asks at
 * once, so that its round trip does not grow.  docs/connections.md,
 * "Where a 16 KiB write goes", has the numbers.
 */
#define AFX_LINGER_BURST	16384
static unsigned int afx_rx_linger_us = 200;
module_param_named(rx_linger_us, afx_rx_linger_us, uint, 0644);
MODULE_PARM_DESC(rx_linger_us, "a streaming reader waits this long for more data before asking for an event (0: never)");

/*
 * Under the socket lock, with the ring empty: 1 if we waited a little
 * (the caller looks again), 0 if the reader should ask for an event.
 */
static int afx_rx_linger(struct afx_sock *xs, long timeo)
{
	struct sock *sk = &xs->sk;
	unsigned int us = READ_ONCE(afx_rx_linger_us);
	u32 burst = xs->link.rx_burst;
	ktime_t t, wait;

	xs->link.rx_burst = 0;
	if (!us || burst < AFX_LINGER_BURST || !timeo || signal_pending(current))
		return 0;
	t = ktime_get();
	wait = ns_to_ktime(min(us, 10000U) * NSEC_PER_USEC);
	release_sock(sk);
	set_current_state(TASK_INTERRUPTIBLE);
	schedule_hrtimeout_range(&wait, wait / 4, HRTIMER_MODE_REL);
	lock_sock(sk);
	afx_tm_add(AFX_TM_RECV_LINGER, t);
	return 1;
}

/*
 * A call that moved some bytes before the connection failed returns the
 * count; the error is kept for the next call, as TCP does, instead of
 * being lost to the reader of the count.
 */
static void afx_keep_err(struct afx_sock *xs, size_t done, int err)
{
	if (done && xs->link.broken && (err == -EPROTO || err == -ECONNRESET))
		WRITE_ONCE(xs->sk.sk_err, -err);
}

int afx_sendmsg(struct socket *sock, struct msghdr *msg, size_t len)
{
	DEFINE_WAIT_FUNC(wait, woken_wake_function);
	struct sock *sk = sock->sk;
	struct afx_sock *xs = afx_sk(sk);
	ktime_t t0 = ktime_get(), t;
	size_t sent = 0;
	long timeo, n;
	int err = 0;

	if (msg->msg_flags & MSG_OOB)
		return -EOPNOTSUPP;
	if (READ_ONCE(xs->mcast))
		return afx_mcast_sendmsg(xs, msg, len, false);
	lock_sock(sk);
	timeo = sock_sndtimeo(sk, msg->msg_flags & MSG_DONTWAIT);
	add_wait_queue(sk_sleep(sk), &wait);
	while (sent < len) {
		n = afx_link_tx_ready(&xs->link, true);
		if (n == 0) {
			n = afx_conn_tx_wait(&xs->link.conn);
			if (n == 0) {
				xs->link.stats.waits_space++;
				t = ktime_get();
				err = afx_sleep(sk, &wait, &timeo);
				afx_tm_add(AFX_TM_SEND_WAIT, t);
				if (err)
					break;
			}
			continue;
		}
		if (n > 0)
			n = afx_link_write(&xs->link, msg, len - sent);
		if (n < 0) {
			err = n;
			break;
		}
		sent += n;
	}
	remove_wait_queue(sk_sleep(sk), &wait);
	afx_keep_err(xs, sent, err);
	release_sock(sk);
	afx_tm_add(AFX_TM_SEND, t0);
	if (sent)
		return sent;
	if (err == -EPIPE && !(msg->msg_flags & MSG_NOSIGNAL))
		send_sig(SIGPIPE, current, 0);
	return err;
}

/* Asleep for data, having asked for an event: timed, with the wake-up. */
static int afx_rx_sleep(struct afx_sock *xs, struct wait_queue_entry *wait,
			long *timeo)
{
	ktime_t t = ktime_get(), ev;
	int err;

	xs->link.stats.waits_data++;
	err = afx_sleep(&xs->sk, wait, timeo);
	afx_tm_add(AFX_TM_RECV_WAIT, t);
	ev = READ_ONCE(xs->link.conn.event_at);
	if (ktime_after(ev, t))
		afx_tm_add(AFX_TM_RECV_WAKE, ev);
	return err;
}

int afx_recvmsg(struct socket *sock, struct msghdr *msg, size_t len,
		int flags)
{
	DEFINE_WAIT_FUNC(wait, woken_wake_function);
	struct sock *sk = sock->sk;
	struct afx_sock *xs = afx_sk(sk);
	bool peek = flags & MSG_PEEK, eof;
	ktime_t t0 = ktime_get();
	size_t copied = 0;
	long timeo, n;
	int target, err = 0;

	if (flags & MSG_OOB)
		return -EOPNOTSUPP;
	lock_sock(sk);
	if (sk->sk_state == TCP_LISTEN) {
		err = -ENOTCONN;
		goto out;
	}
	target = sock_rcvlowat(sk, flags & MSG_WAITALL, len);
	timeo = sock_rcvtimeo(sk, flags & MSG_DONTWAIT);
	add_wait_queue(sk_sleep(sk), &wait);
	while (copied < len) {
		n = afx_link_rx_ready(&xs->link, &eof, true);
		if (n > 0)
			n = afx_link_read(&xs->link, msg, len - copied, peek);
		if (n < 0) {
			err = n;
			break;
		}
		copied += n;
		if (n && (peek || copied >= target))
			break;
		if (n)
			continue;
		if (eof || copied >= target)
			break;
		if (!peek && afx_rx_linger(xs, timeo))
			continue;
		if (afx_conn_rx_wait(&xs->link.conn) != 0)
			continue;
		err = afx_rx_sleep(xs, &wait, &timeo);
		if (err)
			break;
	}
	remove_wait_queue(sk_sleep(sk), &wait);
	if (copied && !peek)
		afx_link_rx_rearm(&xs->link);
	afx_keep_err(xs, copied, err);
out:
	release_sock(sk);
	afx_tm_add(AFX_TM_RECV, t0);
	return copied ? copied : err;
}

/*
 * Readable at the low-water mark; a seqpacket socket at one byte, as the
 * peer publishes whole records only (a header that lies shows up as
 * EPROTO from the recv this wakes).  Writable with @need bytes free: one
 * for a stream, a whole record for seqpacket (seq.c).
 */
static __poll_t afx_poll_conn(struct afx_sock *xs)
{
	struct sock *sk = &xs->sk;
	struct afx_conn *c = &xs->link.conn;
	bool seq = sk->sk_type == SOCK_SEQPACKET;
	int lowat = seq ? 1 : READ_ONCE(sk->sk_rcvlowat);
	int need = seq ? afx_seq_poll_need(xs) : 1;
	__poll_t mask = 0;
	bool eof, rd_hup, wr_hup;
	int n;

	/*
	 * Below the low-water mark, readable is not yet true: ask for an
	 * event on the next data, not only on an empty ring, or a poller
	 * waiting for SO_RCVLOWAT bytes would sleep until the peer closes.
	 */
	n = afx_link_rx_ready(&xs->link, &eof, false);
	if (n >= 0 && n < lowat && !eof && sk->sk_state == TCP_ESTABLISHED)
		n = afx_conn_rx_wait(c);
	if (n < 0 || eof || n >= lowat)
		mask |= EPOLLIN | EPOLLRDNORM;
	/* The peer's EOF is news even with data still unread, as in TCP. */
	rd_hup = eof || (sk->sk_shutdown & RCV_SHUTDOWN) ||
		 (n >= 0 && afx_ring_peer_eof(&c->rx));
	if (rd_hup)
		mask |= EPOLLRDHUP;

	/* Errors make it writable too: the writer must learn them. */
	n = afx_link_tx_ready(&xs->link, false);
	if (n >= 0 && n < need)
		n = afx_conn_tx_wait(c);
	if (n < 0 || n >= need)
		mask |= EPOLLOUT | EPOLLWRNORM;
	wr_hup = (sk->sk_shutdown & SEND_SHUTDOWN) ||
		 afx_ring_peer_closed(&c->tx);
	if (rd_hup && wr_hup)
		mask |= EPOLLHUP;
	return mask;
}

__poll_t afx_poll(struct file *file, struct socket *sock, poll_table *wait)
{
	struct sock *sk = sock->sk;
	struct afx_sock *xs = afx_sk(sk);
	__poll_t mask = 0;

	sock_poll_wait(file, sock, wait);
	lock_sock(sk);
	if (sk->sk_state == TCP_LISTEN && xs->mcast) {
		mask |= afx_mcast_poll(xs, sk->sk_type == SOCK_SEQPACKET ?
				       AFX_REC_HDR + 1 : 1);
	} else if (sk->sk_state == TCP_LISTEN) {
		if (!list_empty(&xs->accept_q))
			mask |= EPOLLIN | EPOLLRDNORM;
	} else if (xs->link.conn_up && sk->sk_state == TCP_ESTABLISHED) {
		mask |= afx_poll_conn(xs);
	} else if (sk->sk_state == TCP_CLOSE) {
		mask |= EPOLLHUP;
		if (sock->state == SS_CONNECTED)
			mask |= EPOLLIN | EPOLLRDNORM | EPOLLRDHUP |
				EPOLLOUT | EPOLLWRNORM;
	}
	if (sk->sk_err)
		mask |= EPOLLERR | EPOLLOUT | EPOLLWRNORM;
	release_sock(sk);
	return mask;
}

int afx_shutdown(struct socket *sock, int how)
{
	struct sock *sk = sock->sk;
	struct afx_sock *xs = afx_sk(sk);
	int mode = how + 1, err = 0;

	if (how < SHUT_RD || how > SHUT_RDWR)
		return -EINVAL;
	lock_sock(sk);
	if (sock->state != SS_CONNECTED) {
		err = -ENOTCONN;
		goto out;
	}
	sk->sk_shutdown |= mode;
	afx_link_shutdown(&xs->link, mode);
	sk->sk_state_change(sk);
out:
	release_sock(sk);
	return err;
}
