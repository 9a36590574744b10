// SPDX-License-Identifier: GPL-2.0
/*
 * af_xen: the connection layer shared by the socket front ends.  A link
 * is one connection to a peer domain: connect() grants a control page and
 * two rings and writes a request into xenstore (xs.c); the listener's
 * module maps them (grant.c) and answers; from then on data moves through
 * ring.c alone, and an event is sent only to a side that said it sleeps.
 * A front end (af_xen.c for AF_XEN, vsock.c for AF_VSOCK) embeds a link
 * in its socket's private data and is told when the connect ends and when
 * the link is reset.
 *
 * Locking:
 *   - the front end's socket lock protects its link (struct afx_link);
 *   - afx_link_lock (spinlock) protects afx_links, the links that hold
 *     a reference on their peer's module node watch;
 *   - afx_link_reap_lock (mutex) serialises resets for a dead peer;
 *   - afx_front_lock (mutex) protects the front ends' request handlers,
 *     and is held while one runs, so that a front end that unregisters
 *     waits for it.
 * The event-channel interrupt only calls the front end's wake-up.
 * xenstore watch callbacks take no lock (see xs.c); connect_work and the
 * rendezvous work run in process context and take socket locks.
 */
#include "link.h"
#include "parse.h"

#include <linux/module.h>
#include <linux/ratelimit.h>
#include <linux/uio.h>

static DEFINE_SPINLOCK(afx_link_lock);
static LIST_HEAD(afx_links);		/* afx_link_lock */
static DEFINE_MUTEX(afx_link_reap_lock);

static void afx_link_connect_work(struct work_struct *work);
static void afx_link_done_work(struct work_struct *work);

void afx_link_init(struct afx_link *l, struct sock *sk,
		   const struct afx_link_ops *ops)
{
	l->sk = sk;
	l->ops = ops;
	INIT_LIST_HEAD(&l->all);
	INIT_LIST_HEAD(&l->reap);
	INIT_DELAYED_WORK(&l->connect_work, afx_link_connect_work);
	INIT_WORK(&l->done_work, afx_link_done_work);
	INIT_DELAYED_WORK(&l->live_work, afx_live_work);
}
EXPORT_SYMBOL_GPL(afx_link_init);

/* Interrupt context: wake whoever waits on @sk, readers and writers. */
void afx_sk_wake(struct sock *sk)
{
	struct socket_wq *wq;

	rcu_read_lock();
	wq = rcu_dereference(sk->sk_wq);
	if (skwq_has_sleeper(wq))
		wake_up_interruptible_all(&wq->wait);
	sk_wake_async(sk, SOCK_WAKE_WAITD, POLL_IN);
	sk_wake_async(sk, SOCK_WAKE_SPACE, POLL_OUT);
	rcu_read_unlock();
}

/* Interrupt context: the shared page changed, or the peer wants us. */
static void afx_link_event(void *arg)
{
	struct afx_link *l = arg;

	afx_sk_wake(l->sk);
	if (l->ops->event)
		l->ops->event(l);
}

void afx_link_notify(struct afx_link *l)
{
	afx_conn_notify(&l->conn);
}
EXPORT_SYMBOL_GPL(afx_link_notify);

/* ----- The peer's module node: a reference, and the list of links ----- */

static int afx_link_peer_get(struct afx_link *l)
{
	int err = afx_xs_peer_get(l->peer, false);

	if (err)
		return err;
	l->peer_ref = true;
	spin_lock_bh(&afx_link_lock);
	list_add_tail(&l->all, &afx_links);
	spin_unlock_bh(&afx_link_lock);
	return 0;
}

static void afx_link_peer_put(struct afx_link *l)
{
	if (!l->peer_ref)
		return;
	spin_lock_bh(&afx_link_lock);
	list_del_init(&l->all);
	spin_unlock_bh(&afx_link_lock);
	afx_xs_peer_put(l->peer, false);
	l->peer_ref = false;
}

/*
 * Reset the link: the peer reset it, broke the protocol, flooded us, or
 * died.  The shared memory stays mapped until teardown, so nothing that
 * still looks at it can fault; every later call sees the error once and
 * then behaves as after a TCP reset.
 */
void afx_link_fail(struct afx_link *l, int err, const char *why)
{
	struct sock *sk = l->sk;

	if (l->broken)
		return;
	l->broken = true;
	if (why)
		pr_warn_ratelimited("%u:%u <-> domain %u port %u: %s; connection reset\n",
				    afx_xs_self(), l->port, l->peer,
				    l->peer_port, why);
	if (l->conn_up) {
		afx_ring_tx_set_state(&l->conn.tx, AFX_RING_RESET);
		afx_ring_rx_set_state(&l->conn.rx, AFX_RING_RESET);
		afx_link_notify(l);
	}
	sk->sk_err = err;
	sk->sk_shutdown = SHUTDOWN_MASK;
	sk->sk_state = TCP_CLOSE;
	if (l->ops->reset)
		l->ops->reset(l);
	sk_error_report(sk);
}
EXPORT_SYMBOL_GPL(afx_link_fail);

/* Say goodbye to the peer and give back everything the link held. */
void afx_link_teardown(struct afx_link *l, bool abort)
{
	struct afx_conn *c = &l->conn;

	if (l->conn_up) {
		/* Unread data at close is an abort, as in TCP. */
		if (!abort && !l->broken && afx_ring_rx_avail(&c->rx) != 0)
			abort = true;
		if (abort) {
			afx_ring_tx_set_state(&c->tx, AFX_RING_RESET);
			afx_ring_rx_set_state(&c->rx, AFX_RING_RESET);
		} else {
			afx_ring_tx_set_state(&c->tx, AFX_RING_EOF);
			afx_ring_rx_set_state(&c->rx, AFX_RING_CLOSED);
		}
		afx_link_notify(l);
		l->stats.notifies_sent = c->ntf_tx;
		l->stats.notifies_received = c->ntf_rx;
		afx_conn_release(c);
		l->conn_up = false;
	}
	afx_link_peer_put(l);
}
EXPORT_SYMBOL_GPL(afx_link_teardown);

/*
 * The pending socket error as a negative errno.  A system call reports
 * it once (and clears it); poll only looks.
 */
static int afx_link_sock_err(struct sock *sk, bool consume)
{
	return consume ? sock_error(sk) : -READ_ONCE(sk->sk_err);
}

/* A storm or a reset seen in the shared page; 0 if the link is healthy. */
int afx_link_check(struct afx_link *l, int peer_ok, bool consume)
{
	if (peer_ok < 0)
		afx_link_fail(l, EPROTO, "protocol violation in shared ring");
	else if (READ_ONCE(l->conn.storm))
		afx_link_fail(l, EPROTO, "event storm");
	else if (afx_ring_peer_reset(&l->conn.rx) ||
		 afx_ring_peer_reset(&l->conn.tx))
		afx_link_fail(l, ECONNRESET, NULL);
	else
		return 0;
	return afx_link_sock_err(l->sk, consume);
}
EXPORT_SYMBOL_GPL(afx_link_check);

/*
 * Bytes readable, or a negative error.  *eof is set when nothing more
 * will ever arrive.
 */
int afx_link_rx_ready(struct afx_link *l, bool *eof, bool consume)
{
	struct sock *sk = l->sk;
	int avail, err;

	*eof = false;
	if (sk->sk_err)
		return afx_link_sock_err(sk, consume);
	if (sk->sk_shutdown & RCV_SHUTDOWN) {
		*eof = true;
		return 0;
	}
	if (sk->sk_state != TCP_ESTABLISHED || !l->conn_up)
		return -ENOTCONN;
	avail = afx_ring_rx_avail(&l->conn.rx);
	err = afx_link_check(l, avail, consume);
	if (err)
		return err;
	if (!avail && afx_ring_peer_eof(&l->conn.rx))
		*eof = true;
	return avail;
}
EXPORT_SYMBOL_GPL(afx_link_rx_ready);

/* Free space in the send ring, or a negative error. */
int afx_link_tx_ready(struct afx_link *l, bool consume)
{
	struct sock *sk = l->sk;
	int space, err;

	if (sk->sk_err)
		return afx_link_sock_err(sk, consume);
	if (sk->sk_shutdown & SEND_SHUTDOWN)
		return -EPIPE;
	if (sk->sk_state != TCP_ESTABLISHED || !l->conn_up)
		return -ENOTCONN;
	space = afx_ring_tx_space(&l->conn.tx);
	err = afx_link_check(l, space, consume);
	if (err)
		return err;
	if (afx_ring_peer_closed(&l->conn.tx))
		return -EPIPE;
	return space;
}
EXPORT_SYMBOL_GPL(afx_link_tx_ready);

/*
 * epoll in edge-triggered mode looks at the socket only after a wake-up,
 * so a reader that empties the ring without going on to EAGAIN (which
 * asks for the next event itself) would not be woken by the next data
 * at all: while anybody else waits on this socket, ask the peer for it.
 * The caller has taken its own wait entry off the queue.
 */
void afx_link_rx_rearm(struct afx_link *l)
{
	struct sock *sk = l->sk;
	struct afx_conn *c = &l->conn;
	bool waited;

	if (!l->conn_up || l->broken || sk->sk_state != TCP_ESTABLISHED)
		return;
	rcu_read_lock();
	waited = skwq_has_sleeper(rcu_dereference(sk->sk_wq));
	rcu_read_unlock();
	if (waited && afx_ring_rx_avail(&c->rx) == 0 &&
	    !afx_ring_peer_eof(&c->rx))
		afx_conn_rx_wait(c);
}
EXPORT_SYMBOL_GPL(afx_link_rx_rearm);

/* ----- Data: what both front ends send and receive ----- */

static size_t afx_copy_from_iter(void *ctx, void *ring, size_t len)
{
	return copy_from_iter(ring, len, ctx);
}

static size_t afx_copy_to_iter(void *ctx, void *ring, size_t len)
{
	return copy_to_iter(ring, len, ctx);
}

/* After a ring write of @bytes (or @n < 0): count, wake a sleeping reader. */
static long afx_link_sent(struct afx_link *l, long n, size_t bytes)
{
	if (n == -EPROTO)
		return afx_link_check(l, -EPROTO, true);
	if (n >= 0) {
		l->stats.bytes_sent += bytes;
		if (afx_ring_tx_kick(&l->conn.tx)) {
			ktime_t t = ktime_get();

			afx_link_notify(l);
			afx_tm_add(AFX_TM_SEND_NOTIFY, t);
		}
	}
	return n;
}

/*
 * After a ring read that @freed space (@bytes of payload): count, and
 * wake a writer waiting for room.  An empty record frees its header.
 */
static long afx_link_taken(struct afx_link *l, long n, size_t bytes,
			   bool freed)
{
	if (n == -EPROTO)
		return afx_link_check(l, -EPROTO, true);
	if (freed) {
		l->stats.bytes_received += bytes;
		if (afx_ring_rx_kick(&l->conn.rx)) {
			ktime_t t = ktime_get();

			afx_link_notify(l);
			afx_tm_add(AFX_TM_RECV_NOTIFY, t);
		}
	}
	return n;
}

/*
 * Streams move at most a quarter of the ring between index updates, so
 * that the two sides overlap on a large transfer: the reader starts on
 * the first quarter while the writer copies the second, and the writer
 * is woken to refill half a ring while the reader still has the other
 * half to copy.  Copying a whole ring before publishing it made writes
 * larger than the ring slower than 64 KiB ones (docs/connections.md).
 */
static size_t afx_link_chunk(const struct afx_ring *r, size_t left)
{
	size_t chunk = max_t(size_t, r->size / 4, PAGE_SIZE);

	return min(left, chunk);
}

/* Up to @len bytes of @msg into the ring: the count, 0 if full, -errno. */
long afx_link_write(struct afx_link *l, struct msghdr *msg, size_t len)
{
	size_t done = 0, want;
	ktime_t t;
	long n;

	do {
		want = afx_link_chunk(&l->conn.tx, len - done);
		t = ktime_get();
		n = afx_ring_write(&l->conn.tx, afx_copy_from_iter,
				   &msg->msg_iter, want);
		afx_tm_add(AFX_TM_SEND_COPY, t);
		n = afx_link_sent(l, n, n > 0 ? n : 0);
		if (n <= 0)
			return done ? done : n;
		done += n;
	} while (n == want && done < len);
	return done;
}
EXPORT_SYMBOL_GPL(afx_link_write);

/* Up to @len bytes into @msg (left queued with @peek): the count, -errno. */
long afx_link_read(struct afx_link *l, struct msghdr *msg, size_t len,
		   bool peek)
{
	size_t done = 0, want;
	ktime_t t;
	long n;

	do {
		want = peek ? len : afx_link_chunk(&l->conn.rx, len - done);
		t = ktime_get();
		n = afx_ring_read(&l->conn.rx, afx_copy_to_iter,
				  &msg->msg_iter, want, peek);
		afx_tm_add(AFX_TM_RECV_COPY, t);
		n = afx_link_taken(l, n, n, n > 0 && !peek);
		if (n <= 0)
			return done ? done : n;
		l->rx_burst += n;
		done += n;
	} while (!peek && n == want && done < len);
	return done;
}
EXPORT_SYMBOL_GPL(afx_link_read);

/* One whole record (ring.c's framing): @len, -EAGAIN, -EMSGSIZE, -errno. */
long afx_link_write_rec(struct afx_link *l, struct msghdr *msg, size_t len,
			u32 flags)
{
	long n = afx_ring_write_rec(&l->conn.tx, afx_copy_from_iter,
				    &msg->msg_iter, len, flags);

	return afx_link_sent(l, n, len);
}
EXPORT_SYMBOL_GPL(afx_link_write_rec);

/*
 * The next record into at most @len bytes of @msg, the rest of it
 * discarded (or all of it left queued with @peek): the bytes copied, its
 * length in *reclen and flags in conn.rx.rec_flags; -EAGAIN if none.
 */
long afx_link_read_rec(struct afx_link *l, struct msghdr *msg, size_t len,
		       bool peek, u32 *reclen)
{
	long n = afx_ring_read_rec(&l->conn.rx, afx_copy_to_iter,
				   &msg->msg_iter, len, peek, reclen);

	return afx_link_taken(l, n, n >= 0 ? *reclen : 0, n >= 0 && !peek);
}
EXPORT_SYMBOL_GPL(afx_link_read_rec);

/* Tell the peer that we send (SEND_SHUTDOWN) or read (RCV_SHUTDOWN) no more. */
void afx_link_shutdown(struct afx_link *l, int mode)
{
	if (!l->conn_up || l->broken)
		return;
	if (mode & SEND_SHUTDOWN)
		afx_ring_tx_set_state(&l->conn.tx, AFX_RING_EOF);
	if (mode & RCV_SHUTDOWN)
		afx_ring_rx_set_state(&l->conn.rx, AFX_RING_CLOSED);
	afx_link_notify(l);
}
EXPORT_SYMBOL_GPL(afx_link_shutdown);

/* Bytes we sent that the peer has not read yet (SIOCOUTQ). */
int afx_link_unsent(struct afx_link *l)
{
	if (!l->conn_up || l->broken)
		return 0;
	afx_ring_tx_space(&l->conn.tx);
	return l->conn.tx.idx - l->conn.tx.peer_idx;
}
EXPORT_SYMBOL_GPL(afx_link_unsent);

/* Bytes waiting to be read (SIOCINQ): what is in the ring, headers too. */
int afx_link_unread(struct afx_link *l)
{
	if (!l->conn_up || l->broken)
		return 0;
	return max(afx_ring_rx_avail(&l->conn.rx), 0);
}
EXPORT_SYMBOL_GPL(afx_link_unread);

/*
 * Payload bytes of the records waiting (vsock's SIOCINQ on seqpacket).
 * A header that lies counts as nothing here: the read resets the link.
 */
long afx_link_rec_bytes(struct afx_link *l)
{
	if (!l->conn_up || l->broken)
		return 0;
	return max(afx_ring_rec_bytes(&l->conn.rx), 0L);
}
EXPORT_SYMBOL_GPL(afx_link_rec_bytes);

/*
 * A whole record to read: 1, 0 if none, or -errno.  A record header the
 * peer lied in resets the link here, as a read of it would.
 */
int afx_link_rec_ready(struct afx_link *l, bool consume)
{
	bool eof;
	u32 len;
	int n = afx_link_rx_ready(l, &eof, consume);

	if (n <= 0)
		return n;
	n = afx_ring_rec_avail(&l->conn.rx, &len);
	return n < 0 ? afx_link_check(l, n, consume) : n;
}
EXPORT_SYMBOL_GPL(afx_link_rec_ready);

/* ----- Connecting side ----- */

/* vsock records carry the sender's MSG_EOR; AF_XEN's carry no flags. */
static void afx_link_rec_flags(struct afx_link *l)
{
	l->conn.rx.rec_valid = l->type & AFX_REQ_VSOCK ? AFX_REC_EOR : 0;
}

/*
 * connect_work holds a socket reference while it is queued, so that a
 * front end that cannot wait for it (vsock releases under the socket
 * lock) only has to cancel it.  The answer callback runs while the
 * request's watch is registered, so the socket is alive here.
 */
static void afx_link_queue_connect(struct afx_link *l, unsigned long delay)
{
	sock_hold(l->sk);
	if (mod_delayed_work(afx_wq, &l->connect_work, delay))
		sock_put(l->sk);	/* was queued: it has its reference */
}

static void afx_link_cancel_connect(struct afx_link *l)
{
	if (cancel_delayed_work(&l->connect_work))
		sock_put(l->sk);
}

static void afx_link_answered(struct afx_xs_req *req)
{
	afx_link_queue_connect(container_of(req, struct afx_link, req), 0);
}

/*
 * An accepted request's watch and node are withdrawn after the connect
 * returns: two xenstore round trips that a caller need not wait for.
 */
static void afx_link_done_work(struct work_struct *work)
{
	struct afx_link *l = container_of(work, struct afx_link, done_work);
	struct sock *sk = l->sk;

	lock_sock(sk);
	afx_xs_request_done(&l->req);
	release_sock(sk);
	sock_put(sk);	/* the reference it was queued with */
}

/* Under the socket lock: the connect attempt ends with @res. */
void afx_link_connect_finish(struct afx_link *l, int res)
{
	afx_link_cancel_connect(l);
	/* A publisher's subscriber reads its pages and never sends. */
	if (!res) {
		int mc = afx_mcast_attach(&l->conn);

		if (mc < 0)
			res = mc;
		else if (mc)
			l->sk->sk_shutdown |= SEND_SHUTDOWN;
	}
	if (!res) {
		afx_tm_add(AFX_TM_FINISH, l->req.got);
		if (l->req.via_chan) {
			afx_xs_request_done(&l->req);
		} else {
			sock_hold(l->sk);
			if (!queue_work(system_wq, &l->done_work))
				sock_put(l->sk);
		}
		afx_live_start(l);
		l->ops->connected(l, 0);
		return;
	}
	afx_xs_request_done(&l->req);
	/* Only a listener older than socket types answers EPROTO to ours. */
	if (res == -EPROTO && l->type != AFX_REQ_STREAM) {
		pr_warn_ratelimited("domain %u: its af_xen predates socket type %u; connect refused\n",
				    l->peer, l->type);
		res = -EPROTONOSUPPORT;
	}
	afx_link_teardown(l, true);
	l->ops->connected(l, res);
}
EXPORT_SYMBOL_GPL(afx_link_connect_finish);

static void afx_link_connect_work(struct work_struct *work)
{
	struct afx_link *l = container_of(to_delayed_work(work),
					  struct afx_link, connect_work);
	struct sock *sk = l->sk;
	int res;

	lock_sock(sk);
	if (sk->sk_state == TCP_SYN_SENT && l->req.active) {
		/* Pairs with the release in xs.c's answer callback. */
		res = smp_load_acquire(&l->req.result);
		afx_link_connect_finish(l, res == 1 ? -ETIMEDOUT : res);
	}
	release_sock(sk);
	sock_put(sk);	/* the reference it was queued with */
}

/*
 * Is @peer there to ask?  With a control channel up, its module is, and
 * nothing needs reading; otherwise its module node says, and whether it
 * offers a channel for next time.
 */
static int afx_link_peer_check(domid_t peer)
{
	ktime_t t = ktime_get();
	int err;

	err = afx_xs_prepare();
	if (err || afx_chan_up(peer))
		return err;
	err = afx_xs_peer_present(peer);
	if (err < 0)
		return err;
	afx_tm_add(AFX_TM_PRESENT, t);
	if (err >= AFX_MODULE_CHAN)
		afx_chan_want(peer);
	return 0;
}

/*
 * Under the socket lock, with @l->port and @l->type set: offer a ring of
 * @order to @peer's @peer_port and ask for it over the control channel,
 * or else in xenstore.  0: the answer (or @timeout) ends it through
 * afx_link_connect_finish().
 */
int afx_link_connect(struct afx_link *l, domid_t peer, u32 peer_port,
		     unsigned int order, unsigned long timeout)
{
	struct sock *sk = l->sk;
	ktime_t t;
	int err;

	err = afx_link_peer_check(peer);
	if (err)
		return err;
	t = ktime_get();
	l->peer = peer;
	l->peer_port = peer_port;
	l->broken = false;
	memset(&l->conn, 0, sizeof(l->conn));
	l->conn.event = afx_link_event;
	l->conn.arg = l;
	err = afx_conn_offer(&l->conn, peer, order);
	if (err)
		return err;
	afx_tm_add(AFX_TM_OFFER, t);
	afx_link_rec_flags(l);
	l->conn_up = true;
	afx_debug_connect(l);
	err = afx_link_peer_get(l);
	if (err)
		goto fail;
	l->req.peer = peer;
	l->req.sport = peer_port;
	l->req.cport = l->port;
	l->req.type = l->type;
	l->req.answered = afx_link_answered;
	err = afx_chan_request(&l->req, &l->conn);
	if (err == -EAGAIN)
		err = afx_xs_request(&l->req, &l->conn);
	if (err)
		goto fail;
	sk->sk_state = TCP_SYN_SENT;
	sk->sk_err = 0;
	afx_link_queue_connect(l, timeout);
	return 0;
fail:
	afx_link_teardown(l, true);
	return err;
}
EXPORT_SYMBOL_GPL(afx_link_connect);

/*
 * Under the socket lock, before the socket goes: no answer can queue
 * connect_work again, and neither it nor a probe is left queued.  One
 * that is running already waits for the lock, finds the link done and
 * drops its socket reference; the link's memory must outlive it, which
 * the reference guarantees.
 */
void afx_link_stop(struct afx_link *l)
{
	if (cancel_work(&l->done_work))
		sock_put(l->sk);	/* the withdrawal's reference */
	afx_xs_request_done(&l->req);
	afx_link_cancel_connect(l);
	if (cancel_delayed_work(&l->live_work))
		sock_put(l->sk);	/* the probe's reference */
}
EXPORT_SYMBOL_GPL(afx_link_stop);

/* ----- Listening side ----- */

/*
 * Under the new socket's lock, with @l->port set: map what @in offers
 * and bind its event channel.  On error the caller tears the link down.
 */
int afx_link_accept(struct afx_link *l, const struct afx_xs_incoming *in)
{
	int err;

	l->peer = in->peer;
	l->peer_port = in->cport;
	l->type = in->type;
	l->conn.event = afx_link_event;
	l->conn.arg = l;
	err = afx_conn_accept(&l->conn, in->peer, in->gref, in->port,
			      in->order);
	if (err)
		return err;
	afx_link_rec_flags(l);
	l->conn_up = true;
	err = afx_link_peer_get(l);
	if (err)
		return err;
	afx_live_start(l);
	return 0;
}
EXPORT_SYMBOL_GPL(afx_link_accept);

/* ----- Requests, by type, to their front end ----- */

static DEFINE_MUTEX(afx_front_lock);
static struct {
	u32 type;
	afx_link_incoming_t fn;
} afx_fronts[8];		/* afx_front_lock */

int afx_link_register(u32 type, afx_link_incoming_t fn)
{
	int i, err = -ENOSPC;

	mutex_lock(&afx_front_lock);
	for (i = 0; i < ARRAY_SIZE(afx_fronts); i++)
		if (afx_fronts[i].fn && afx_fronts[i].type == type)
			err = -EBUSY;
	for (i = 0; err == -ENOSPC && i < ARRAY_SIZE(afx_fronts); i++) {
		if (!afx_fronts[i].fn) {
			afx_fronts[i].type = type;
			afx_fronts[i].fn = fn;
			err = 0;
		}
	}
	mutex_unlock(&afx_front_lock);
	return err;
}
EXPORT_SYMBOL_GPL(afx_link_register);

void afx_link_unregister(u32 type)
{
	int i;

	mutex_lock(&afx_front_lock);
	for (i = 0; i < ARRAY_SIZE(afx_fronts); i++)
		if (afx_fronts[i].fn && afx_fronts[i].type == type)
			afx_fronts[i].fn = NULL;
	mutex_unlock(&afx_front_lock);
}
EXPORT_SYMBOL_GPL(afx_link_unregister);

/* Rendezvous work (xs.c): a connect request for one of our ports. */
int afx_link_incoming(const struct afx_xs_incoming *in)
{
	afx_link_incoming_t fn = NULL;
	int i, err;

	mutex_lock(&afx_front_lock);
	for (i = 0; i < ARRAY_SIZE(afx_fronts); i++)
		if (afx_fronts[i].fn && afx_fronts[i].type == in->type)
			fn = afx_fronts[i].fn;
	err = fn ? fn(in) : -EPROTONOSUPPORT;
	mutex_unlock(&afx_front_lock);
	if (!fn)
		pr_warn_ratelimited("domain %u: connect request for socket type %u, which nothing here takes\n",
				    in->peer, in->type);
	return err;
}

/* ----- Peer death ----- */

/* Rendezvous work (xs.c): @peer's domain (or its af_xen) has gone. */
void afx_link_peer_gone(domid_t peer)
{
	struct afx_link *l, *tmp;
	LIST_HEAD(victims);

	mutex_lock(&afx_link_reap_lock);
	spin_lock_bh(&afx_link_lock);
	list_for_each_entry(l, &afx_links, all) {
		if (l->peer == peer) {
			sock_hold(l->sk);
			list_add_tail(&l->reap, &victims);
		}
	}
	spin_unlock_bh(&afx_link_lock);
	list_for_each_entry_safe(l, tmp, &victims, reap) {
		list_del_init(&l->reap);
		lock_sock(l->sk);
		if (l->sk->sk_state == TCP_SYN_SENT && l->req.active)
			afx_link_connect_finish(l, -EHOSTUNREACH);
		else if (l->peer_ref && l->peer == peer)
			afx_link_fail(l, ECONNRESET, "peer domain is gone");
		release_sock(l->sk);
		sock_put(l->sk);
	}
	mutex_unlock(&afx_link_reap_lock);
}
