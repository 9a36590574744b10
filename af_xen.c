// SPDX-License-Identifier: GPL-2.0
/*
 * af_xen: the AF_XEN socket family - stream and seqpacket sockets
 * between Xen guests over grant-shared rings (after XenSocket, ACM
 * Middleware 2007).
 *
 * Implementation notes
 *
 * Life of a connection.  connect() grants a control page and two rings to
 * the listener's domain and writes a request into its own xenstore tree
 * (xs.c).  The listener's module sees it through a watch, maps the pages
 * (grant.c), queues a new child socket on the listener's accept queue and
 * answers in its own tree; the connector's answer watch kicks
 * connect_work, which completes (or fails, or times out) the connect.
 * From then on the data path is ring.c only: an event is sent only to a
 * side that said it sleeps.
 *
 * The data path (data.c), options (opt.c), the liveness probe (live.c),
 * /proc/net (proc.c) and the test-only hostile peer (debug.c) live in
 * files of their own and follow the same rules.
 *
 * Locking, outermost first:
 *   - a listener's socket lock, then (accept, listener release) a child's
 *     socket lock, taken with SINGLE_DEPTH_NESTING;
 *   - the socket lock protects all of struct afx_sock except where a
 *     field says otherwise, and the rings of its connection;
 *   - afx_table_lock (spinlock): afx_sockets, afx_bound, afx_next_port.
 * The event-channel interrupt only wakes waiters.  xenstore watch
 * callbacks take no lock at all (see xs.c); connect_work and the
 * rendezvous work run in process context and take socket locks.
 *
 * References: a socket's own reference is dropped by release() (or, for
 * a child never accepted, by its listener's release()).  A child on an
 * accept queue is owned by that queue until accept() grafts it.
 * Anybody looking a socket up in the tables takes a reference under
 * afx_table_lock; a socket leaves the tables before its last put.
 */
#include "afx_sock.h"
#include "parse.h"
#include <linux/af_xen.h>

#include <linux/module.h>
#include <linux/net.h>
#include <linux/poll.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <linux/sched/signal.h>
#include <linux/hashtable.h>
#include <linux/ratelimit.h>
#include <linux/log2.h>
#include <linux/delay.h>
#include <xen/events.h>
#include <linux/sockios.h>
#include <asm/ioctls.h>
#include <net/sock.h>
#include <net/net_namespace.h>
#include <xen/xen.h>

int afx_family = AF_XEN;
module_param_named(family, afx_family, int, 0444);
MODULE_PARM_DESC(family, "address family number to register (default 25)");

static unsigned int afx_connect_timeout_ms = 5000;
module_param_named(connect_timeout_ms, afx_connect_timeout_ms, uint, 0644);
MODULE_PARM_DESC(connect_timeout_ms, "give up on an unanswered connect after this long");

#define AFX_EPHEMERAL_LOW	49152U
#define AFX_EPHEMERAL_HIGH	BIT(20)

DEFINE_SPINLOCK(afx_table_lock);
LIST_HEAD(afx_sockets);
static DEFINE_HASHTABLE(afx_bound, 8);
static u32 afx_next_port = AFX_EPHEMERAL_LOW;
static DEFINE_MUTEX(afx_reap_lock);

static const struct proto_ops afx_stream_ops, afx_seqpacket_ops;
static void afx_connect_work(struct work_struct *work);

/* Interrupt context: the shared page changed, or the peer wants us. */
static void afx_event(void *arg)
{
	struct sock *sk = arg;
	struct socket_wq *wq;

	rcu_read_lock();
	wq = rcu_dereference(sk->sk_wq);
	if (skwq_has_sleeper(wq))
		wake_up_interruptible_all(&wq->wait);
	sk_wake_async(sk, SOCK_WAKE_WAITD, POLL_IN);
	sk_wake_async(sk, SOCK_WAKE_SPACE, POLL_OUT);
	rcu_read_unlock();
}

/* ----- Tables ----- */

static struct afx_sock *__afx_find_bound(u32 port)
{
	struct afx_sock *xs;

	hash_for_each_possible(afx_bound, xs, bind_node, port)
		if (xs->port == port)
			return xs;
	return NULL;
}

static int __afx_pick_port(u32 *port)
{
	u32 span = AFX_EPHEMERAL_HIGH - AFX_EPHEMERAL_LOW, i;

	for (i = 0; i < span; i++) {
		u32 p = afx_next_port++;

		if (afx_next_port >= AFX_EPHEMERAL_HIGH)
			afx_next_port = AFX_EPHEMERAL_LOW;
		if (!__afx_find_bound(p)) {
			*port = p;
			return 0;
		}
	}
	return -EADDRNOTAVAIL;
}

/* Caller holds the socket lock. */
static int afx_bind_port(struct afx_sock *xs, u32 port)
{
	int err = 0;

	spin_lock_bh(&afx_table_lock);
	if (xs->bound)
		err = -EINVAL;
	else if (!port)
		err = __afx_pick_port(&port);
	else if (__afx_find_bound(port))
		err = -EADDRINUSE;
	if (!err) {
		xs->port = port;
		xs->bound = true;
		hash_add(afx_bound, &xs->bind_node, port);
	}
	spin_unlock_bh(&afx_table_lock);
	return err;
}

static void afx_unbind_port(struct afx_sock *xs)
{
	spin_lock_bh(&afx_table_lock);
	if (xs->bound)
		hash_del(&xs->bind_node);
	xs->bound = false;
	spin_unlock_bh(&afx_table_lock);
}

/* A listener on @port, with a reference, or NULL. */
static struct sock *afx_get_listener(u32 port)
{
	struct afx_sock *xs;
	struct sock *sk = NULL;

	spin_lock_bh(&afx_table_lock);
	xs = __afx_find_bound(port);
	if (xs && xs->sk.sk_state == TCP_LISTEN) {
		sk = &xs->sk;
		sock_hold(sk);
	}
	spin_unlock_bh(&afx_table_lock);
	return sk;
}

/* ----- Connection state ----- */

void afx_notify(struct afx_sock *xs)
{
	afx_conn_notify(&xs->conn);
}

/*
 * Reset the connection: the peer reset it, broke the protocol, flooded
 * us, or died.  The shared memory stays mapped until close, so nothing
 * that still looks at it can fault; every later call sees the error once
 * and then behaves as after a TCP reset.
 */
void afx_conn_fail(struct afx_sock *xs, int err, const char *why)
{
	struct sock *sk = &xs->sk;

	if (xs->broken)
		return;
	xs->broken = true;
	if (why)
		pr_warn_ratelimited("%u:%u <-> domain %u port %u: %s; connection reset\n",
				    afx_xs_self(), xs->port, xs->peer,
				    xs->peer_port, why);
	if (xs->conn_up) {
		afx_ring_tx_set_state(&xs->conn.tx, AFX_RING_RESET);
		afx_ring_rx_set_state(&xs->conn.rx, AFX_RING_RESET);
		afx_notify(xs);
	}
	sk->sk_err = err;
	sk->sk_shutdown = SHUTDOWN_MASK;
	sk->sk_state = TCP_CLOSE;
	sk_error_report(sk);
}

/* Say goodbye to the peer and give back everything the connection held. */
static void afx_conn_teardown(struct afx_sock *xs, bool abort)
{
	struct afx_conn *c = &xs->conn;

	if (xs->conn_up) {
		/* Unread data at close is an abort, as in TCP. */
		if (!abort && !xs->broken && afx_ring_rx_avail(&c->rx) != 0)
			abort = true;
		if (abort) {
			afx_ring_tx_set_state(&c->tx, AFX_RING_RESET);
			afx_ring_rx_set_state(&c->rx, AFX_RING_RESET);
		} else {
			afx_ring_tx_set_state(&c->tx, AFX_RING_EOF);
			afx_ring_rx_set_state(&c->rx, AFX_RING_CLOSED);
		}
		afx_notify(xs);
		xs->stats.notifies_sent = c->ntf_tx;
		xs->stats.notifies_received = c->ntf_rx;
		afx_conn_release(c);
		xs->conn_up = false;
	}
	if (xs->peer_ref) {
		afx_xs_peer_put(xs->peer);
		xs->peer_ref = false;
	}
}

/*
 * The pending socket error as a negative errno.  A system call reports
 * it once (and clears it); poll only looks.
 */
static int afx_sock_err(struct sock *sk, bool consume)
{
	return consume ? sock_error(sk) : -READ_ONCE(sk->sk_err);
}

/* A storm or a reset seen in the shared page; 0 if the link is healthy. */
int afx_conn_check(struct afx_sock *xs, int peer_ok, bool consume)
{
	if (peer_ok < 0)
		afx_conn_fail(xs, EPROTO, "protocol violation in shared ring");
	else if (READ_ONCE(xs->conn.storm))
		afx_conn_fail(xs, EPROTO, "event storm");
	else if (afx_ring_peer_reset(&xs->conn.rx) ||
		 afx_ring_peer_reset(&xs->conn.tx))
		afx_conn_fail(xs, ECONNRESET, NULL);
	else
		return 0;
	return afx_sock_err(&xs->sk, consume);
}

/*
 * Bytes readable, or a negative error.  *eof is set when nothing more
 * will ever arrive.
 */
int afx_rx_ready(struct afx_sock *xs, bool *eof, bool consume)
{
	struct sock *sk = &xs->sk;
	int avail, err;

	*eof = false;
	if (sk->sk_err)
		return afx_sock_err(sk, consume);
	if (sk->sk_shutdown & RCV_SHUTDOWN) {
		*eof = true;
		return 0;
	}
	if (sk->sk_state != TCP_ESTABLISHED)
		return -ENOTCONN;
	avail = afx_ring_rx_avail(&xs->conn.rx);
	err = afx_conn_check(xs, avail, consume);
	if (err)
		return err;
	if (!avail && afx_ring_peer_eof(&xs->conn.rx))
		*eof = true;
	return avail;
}

/* Free space in the send ring, or a negative error. */
int afx_tx_ready(struct afx_sock *xs, bool consume)
{
	struct sock *sk = &xs->sk;
	int space, err;

	if (sk->sk_err)
		return afx_sock_err(sk, consume);
	if (sk->sk_shutdown & SEND_SHUTDOWN)
		return -EPIPE;
	if (sk->sk_state != TCP_ESTABLISHED)
		return -ENOTCONN;
	space = afx_ring_tx_space(&xs->conn.tx);
	err = afx_conn_check(xs, space, consume);
	if (err)
		return err;
	if (afx_ring_peer_closed(&xs->conn.tx))
		return -EPIPE;
	return space;
}

/* ----- Socket creation and teardown ----- */

static void afx_sock_init(struct sock *sk)
{
	struct afx_sock *xs = afx_sk(sk);

	INIT_LIST_HEAD(&xs->accept_q);
	INIT_LIST_HEAD(&xs->accept_node);
	INIT_LIST_HEAD(&xs->reap);
	INIT_DELAYED_WORK(&xs->connect_work, afx_connect_work);
	INIT_DELAYED_WORK(&xs->live_work, afx_live_work);
	xs->allow = XEN_DOMID_ANY;
	xs->ring_size = XEN_RING_SIZE_DEFAULT;
	xs->conn.event = afx_event;
	xs->conn.arg = sk;
	spin_lock_bh(&afx_table_lock);
	list_add_tail(&xs->all, &afx_sockets);
	spin_unlock_bh(&afx_table_lock);
}

static struct proto afx_proto = {
	.name = "AF_XEN",
	.owner = THIS_MODULE,
	.obj_size = sizeof(struct afx_sock),
};

static struct sock *afx_sk_alloc(struct net *net, struct socket *sock,
				 int kern, unsigned short type)
{
	struct sock *sk = sk_alloc(net, afx_family, GFP_KERNEL, &afx_proto,
				   kern);

	if (!sk)
		return NULL;
	sock_init_data(sock, sk);
	sk->sk_type = type;
	afx_sock_init(sk);
	return sk;
}

/*
 * Final teardown of a socket's state, under its lock; the caller drops
 * the socket's reference afterwards.
 */
static void afx_sock_destroy(struct afx_sock *xs, bool abort)
{
	struct sock *sk = &xs->sk;

	afx_unbind_port(xs);
	afx_conn_teardown(xs, abort);
	sk->sk_state = TCP_CLOSE;
	sk->sk_shutdown = SHUTDOWN_MASK;
	spin_lock_bh(&afx_table_lock);
	list_del_init(&xs->all);
	spin_unlock_bh(&afx_table_lock);
}

/* Children nobody accepted go down with their listener. */
static void afx_drain_accept_q(struct afx_sock *listener)
{
	struct afx_sock *child, *tmp;

	list_for_each_entry_safe(child, tmp, &listener->accept_q,
				 accept_node) {
		list_del_init(&child->accept_node);
		sk_acceptq_removed(&listener->sk);
		lock_sock_nested(&child->sk, SINGLE_DEPTH_NESTING);
		afx_sock_destroy(child, true);
		release_sock(&child->sk);
		sock_put(&child->sk);
	}
}

static int afx_release(struct socket *sock)
{
	struct sock *sk = sock->sk;
	struct afx_sock *xs;

	if (!sk)
		return 0;
	xs = afx_sk(sk);
	lock_sock(sk);
	/* After this no answer can queue connect_work again. */
	afx_xs_request_done(&xs->req);
	release_sock(sk);
	cancel_delayed_work_sync(&xs->connect_work);
	if (cancel_delayed_work_sync(&xs->live_work))
		sock_put(sk);	/* the probe's reference */

	lock_sock(sk);
	afx_unbind_port(xs);
	if (sk->sk_state == TCP_LISTEN)
		afx_drain_accept_q(xs);
	/* Only an established stream ends gracefully; anything else aborts. */
	afx_sock_destroy(xs, sk->sk_state != TCP_ESTABLISHED);
	sock_orphan(sk);
	release_sock(sk);
	sock_put(sk);
	sock->sk = NULL;
	return 0;
}

static int afx_create(struct net *net, struct socket *sock, int protocol,
		      int kern)
{
	if (protocol && protocol != afx_family)
		return -EPROTONOSUPPORT;
	if (sock->type == SOCK_STREAM)
		sock->ops = &afx_stream_ops;
	else if (sock->type == SOCK_SEQPACKET)
		sock->ops = &afx_seqpacket_ops;
	else
		return -ESOCKTNOSUPPORT;
	sock->state = SS_UNCONNECTED;
	if (!afx_sk_alloc(net, sock, kern, sock->type))
		return -ENOMEM;
	return 0;
}

/* ----- Addresses ----- */

/* Check a user address; XEN_DOMID_SELF becomes our real domain id. */
static int afx_check_addr(const AFX_SOCKADDR *addr, int len,
			  bool any_ok, struct sockaddr_xen *out)
{
	static const u8 zero[sizeof(out->sxen_zero)];

	if (len != sizeof(*out))
		return -EINVAL;
	memcpy(out, addr, sizeof(*out));
	if (out->sxen_family != afx_family)
		return -EAFNOSUPPORT;
	if (memcmp(out->sxen_zero, zero, sizeof(zero)))
		return -EINVAL;
	if (out->sxen_domid == XEN_DOMID_SELF)
		out->sxen_domid = afx_xs_self();
	else if (out->sxen_domid == XEN_DOMID_ANY && !any_ok)
		return -EINVAL;
	else if (out->sxen_domid >= DOMID_FIRST_RESERVED &&
		 out->sxen_domid != XEN_DOMID_ANY)
		return -EINVAL;
	return 0;
}

static int afx_bind(struct socket *sock, AFX_SOCKADDR *addr, int len)
{
	struct sock *sk = sock->sk;
	struct afx_sock *xs = afx_sk(sk);
	struct sockaddr_xen sa;
	int err;

	err = afx_check_addr(addr, len, true, &sa);
	if (err)
		return err;
	if (sa.sxen_port && sa.sxen_port < XEN_PORT_RESERVED &&
	    !ns_capable(sock_net(sk)->user_ns, CAP_NET_BIND_SERVICE))
		return -EACCES;
	lock_sock(sk);
	if (sk->sk_state != TCP_CLOSE || sock->state != SS_UNCONNECTED)
		err = -EINVAL;
	else
		err = afx_bind_port(xs, sa.sxen_port);
	if (!err)
		xs->allow = sa.sxen_domid;
	release_sock(sk);
	return err;
}

static int afx_getname(struct socket *sock, struct sockaddr *addr, int peer)
{
	struct sock *sk = sock->sk;
	struct afx_sock *xs = afx_sk(sk);
	struct sockaddr_xen *sa = (struct sockaddr_xen *)addr;
	int err = sizeof(*sa);

	memset(sa, 0, sizeof(*sa));
	sa->sxen_family = afx_family;
	lock_sock(sk);
	if (peer) {
		if (sock->state != SS_CONNECTED) {
			err = -ENOTCONN;
		} else {
			sa->sxen_domid = xs->peer;
			sa->sxen_port = xs->peer_port;
		}
	} else {
		sa->sxen_domid = afx_xs_self();
		sa->sxen_port = xs->port;
	}
	release_sock(sk);
	return err;
}

/* ----- Connecting side ----- */

static void afx_answered(struct afx_xs_req *req)
{
	struct afx_sock *xs = container_of(req, struct afx_sock, req);

	mod_delayed_work(afx_wq, &xs->connect_work, 0);
}

/* Under the socket lock: the connect attempt ends with @res. */
static void afx_connect_finish(struct afx_sock *xs, int res)
{
	struct sock *sk = &xs->sk;

	afx_xs_request_done(&xs->req);
	cancel_delayed_work(&xs->connect_work);
	if (!res) {
		sk->sk_state = TCP_ESTABLISHED;
		if (sk->sk_socket)
			sk->sk_socket->state = SS_CONNECTED;
		afx_live_start(xs);
		sk->sk_state_change(sk);
		return;
	}
	/* Only a listener older than socket types answers EPROTO to ours. */
	if (res == -EPROTO && sk->sk_type != SOCK_STREAM) {
		pr_warn_ratelimited("domain %u: its af_xen predates SOCK_SEQPACKET; connect refused\n",
				    xs->peer);
		res = -EPROTONOSUPPORT;
	}
	afx_conn_teardown(xs, true);
	sk->sk_state = TCP_CLOSE;
	if (sk->sk_socket)
		sk->sk_socket->state = SS_UNCONNECTED;
	sk->sk_err = -res;
	sk_error_report(sk);
}

static void afx_connect_work(struct work_struct *work)
{
	struct afx_sock *xs = container_of(to_delayed_work(work),
					   struct afx_sock, connect_work);
	struct sock *sk = &xs->sk;
	int res;

	lock_sock(sk);
	if (sk->sk_state == TCP_SYN_SENT) {
		/* Pairs with the release in xs.c's answer callback. */
		res = smp_load_acquire(&xs->req.result);
		afx_connect_finish(xs, res == 1 ? -ETIMEDOUT : res);
	}
	release_sock(sk);
}

static int afx_connect_start(struct afx_sock *xs,
			     const struct sockaddr_xen *sa)
{
	struct sock *sk = &xs->sk;
	int err;

	err = afx_xs_prepare();
	if (err)
		return err;
	err = afx_xs_peer_present(sa->sxen_domid);
	if (err)
		return err;
	if (!xs->bound) {
		err = afx_bind_port(xs, 0);
		if (err)
			return err;
	}
	xs->peer = sa->sxen_domid;
	xs->peer_port = sa->sxen_port;
	xs->broken = false;
	memset(&xs->conn, 0, sizeof(xs->conn));
	xs->conn.event = afx_event;
	xs->conn.arg = sk;
	err = afx_conn_offer(&xs->conn, xs->peer, ilog2(xs->ring_size >>
							PAGE_SHIFT));
	if (err)
		return err;
	xs->conn_up = true;
	afx_debug_connect(xs);
	err = afx_xs_peer_get(xs->peer);
	if (err)
		goto fail;
	xs->peer_ref = true;
	xs->req.peer = xs->peer;
	xs->req.sport = xs->peer_port;
	xs->req.cport = xs->port;
	xs->req.answered = afx_answered;
	xs->req.type = sk->sk_type;
	err = afx_xs_request(&xs->req, &xs->conn);
	if (err)
		goto fail;
	sk->sk_state = TCP_SYN_SENT;
	sk->sk_err = 0;
	queue_delayed_work(afx_wq, &xs->connect_work,
			   msecs_to_jiffies(afx_connect_timeout_ms));
	return 0;
fail:
	afx_conn_teardown(xs, true);
	return err;
}

static int afx_connect_wait(struct sock *sk, long timeo)
{
	DEFINE_WAIT_FUNC(wait, woken_wake_function);
	int err = 0;

	add_wait_queue(sk_sleep(sk), &wait);
	while (sk->sk_state == TCP_SYN_SENT) {
		if (!timeo) {
			err = -EINPROGRESS;
			break;
		}
		if (signal_pending(current)) {
			err = sock_intr_errno(timeo);
			afx_connect_finish(afx_sk(sk), err);
			sk->sk_err = 0;
			break;
		}
		release_sock(sk);
		timeo = wait_woken(&wait, TASK_INTERRUPTIBLE, timeo);
		lock_sock(sk);
	}
	remove_wait_queue(sk_sleep(sk), &wait);
	if (!err && sk->sk_state != TCP_ESTABLISHED)
		err = sk->sk_err ? sock_error(sk) : -ECONNREFUSED;
	return err;
}

static int afx_connect(struct socket *sock, AFX_SOCKADDR *addr, int len,
		       int flags)
{
	struct sock *sk = sock->sk;
	struct afx_sock *xs = afx_sk(sk);
	struct sockaddr_xen sa;
	int err;

	err = afx_check_addr(addr, len, false, &sa);
	if (err)
		return err;
	if (!sa.sxen_port)
		return -EINVAL;
	lock_sock(sk);
	switch (sock->state) {
	case SS_CONNECTED:
		err = -EISCONN;
		goto out;
	case SS_CONNECTING:
		err = -EALREADY;
		if (flags & O_NONBLOCK)
			goto out;
		break;
	default:
		if (sk->sk_state != TCP_CLOSE) {
			err = -EINVAL;
			goto out;
		}
		err = afx_connect_start(xs, &sa);
		if (err)
			goto out;
		sock->state = SS_CONNECTING;
		err = -EINPROGRESS;
		if (flags & O_NONBLOCK)
			goto out;
	}
	err = afx_connect_wait(sk, sock_sndtimeo(sk, flags & O_NONBLOCK));
out:
	release_sock(sk);
	return err;
}

/* ----- Listening side ----- */

static int afx_listen(struct socket *sock, int backlog)
{
	struct sock *sk = sock->sk;
	struct afx_sock *xs = afx_sk(sk);
	int err;

	lock_sock(sk);
	if (sock->state != SS_UNCONNECTED ||
	    (sk->sk_state != TCP_CLOSE && sk->sk_state != TCP_LISTEN)) {
		err = -EINVAL;
		goto out;
	}
	err = afx_xs_prepare();
	if (!err && !xs->bound)
		err = afx_bind_port(xs, 0);
	if (err)
		goto out;
	sk->sk_max_ack_backlog = backlog;
	sk->sk_state = TCP_LISTEN;
out:
	release_sock(sk);
	return err;
}

static int afx_child_setup(struct sock *listener, struct afx_sock *child,
			   const struct afx_xs_incoming *in)
{
	int err;

	child->port = afx_sk(listener)->port;
	child->peer = in->peer;
	child->peer_port = in->cport;
	child->ring_size = PAGE_SIZE << in->order;
	err = afx_conn_accept(&child->conn, in->peer, in->gref, in->port,
			      in->order);
	if (err)
		return err;
	child->conn_up = true;
	err = afx_xs_peer_get(in->peer);
	if (err)
		return err;
	child->peer_ref = true;
	child->sk.sk_state = TCP_ESTABLISHED;
	afx_live_start(child);
	return 0;
}

static int afx_incoming_check(struct sock *listener,
			      const struct afx_xs_incoming *in)
{
	struct afx_sock *xs = afx_sk(listener);

	if (in->type != AFX_REQ_STREAM && in->type != AFX_REQ_SEQPACKET) {
		pr_warn_ratelimited("domain %u: connect request for unknown socket type %u\n",
				    in->peer, in->type);
		return -EPROTONOSUPPORT;
	}
	if (listener->sk_state != TCP_LISTEN)
		return -ECONNREFUSED;
	/* A stream listener takes no seqpacket connect, and the reverse. */
	if (listener->sk_type != in->type)
		return -ECONNREFUSED;
	if (xs->allow != XEN_DOMID_ANY && xs->allow != in->peer)
		return -ECONNREFUSED;
	if (sk_acceptq_is_full(listener))
		return -ECONNREFUSED;
	return 0;
}

/* Rendezvous work: a connect request for one of our ports. */
int afx_sock_incoming(const struct afx_xs_incoming *in)
{
	struct sock *listener = afx_get_listener(in->sport);
	struct sock *sk;
	int err;

	if (!listener)
		return -ECONNREFUSED;
	lock_sock(listener);
	err = afx_incoming_check(listener, in);
	if (err)
		goto out;
	sk = afx_sk_alloc(sock_net(listener), NULL, 0, listener->sk_type);
	if (!sk) {
		err = -ENOMEM;
		goto out;
	}
	lock_sock_nested(sk, SINGLE_DEPTH_NESTING);
	err = afx_child_setup(listener, afx_sk(sk), in);
	if (err) {
		afx_sock_destroy(afx_sk(sk), true);
		release_sock(sk);
		sock_put(sk);
		goto out;
	}
	release_sock(sk);
	list_add_tail(&afx_sk(sk)->accept_node, &afx_sk(listener)->accept_q);
	sk_acceptq_added(listener);
	listener->sk_data_ready(listener);
out:
	release_sock(listener);
	sock_put(listener);
	return err;
}

static int afx_accept(struct socket *sock, struct socket *newsock,
		      AFX_ACCEPT_ARGS)
{
	DEFINE_WAIT_FUNC(wait, woken_wake_function);
	struct sock *sk = sock->sk;
	struct afx_sock *xs = afx_sk(sk), *child;
	long timeo;
	int err = 0;

	lock_sock(sk);
	timeo = sock_rcvtimeo(sk, AFX_ACCEPT_FLAGS & O_NONBLOCK);
	add_wait_queue(sk_sleep(sk), &wait);
	while (sk->sk_state == TCP_LISTEN && list_empty(&xs->accept_q)) {
		if (!timeo) {
			err = -EAGAIN;
			break;
		}
		if (signal_pending(current)) {
			err = sock_intr_errno(timeo);
			break;
		}
		release_sock(sk);
		timeo = wait_woken(&wait, TASK_INTERRUPTIBLE, timeo);
		lock_sock(sk);
	}
	remove_wait_queue(sk_sleep(sk), &wait);
	if (!err && sk->sk_state != TCP_LISTEN)
		err = -EINVAL;
	if (err)
		goto out;
	child = list_first_entry(&xs->accept_q, struct afx_sock, accept_node);
	list_del_init(&child->accept_node);
	sk_acceptq_removed(sk);
	lock_sock_nested(&child->sk, SINGLE_DEPTH_NESTING);
	sock_graft(&child->sk, newsock);
	newsock->state = SS_CONNECTED;
	release_sock(&child->sk);
out:
	release_sock(sk);
	return err;
}

/* ----- Peer death ----- */

/* Rendezvous work: @peer's domain (or its af_xen) has disappeared. */
void afx_sock_peer_gone(domid_t peer)
{
	struct afx_sock *xs, *tmp;
	LIST_HEAD(victims);

	mutex_lock(&afx_reap_lock);
	spin_lock_bh(&afx_table_lock);
	list_for_each_entry(xs, &afx_sockets, all) {
		if (xs->peer_ref && xs->peer == peer) {
			sock_hold(&xs->sk);
			list_add_tail(&xs->reap, &victims);
		}
	}
	spin_unlock_bh(&afx_table_lock);
	list_for_each_entry_safe(xs, tmp, &victims, reap) {
		list_del_init(&xs->reap);
		lock_sock(&xs->sk);
		if (xs->sk.sk_state == TCP_SYN_SENT)
			afx_connect_finish(xs, -EHOSTUNREACH);
		else if (xs->peer_ref && xs->peer == peer)
			afx_conn_fail(xs, ECONNRESET, "peer domain is gone");
		release_sock(&xs->sk);
		sock_put(&xs->sk);
	}
	mutex_unlock(&afx_reap_lock);
}

/* Everything but the data path is shared by both socket types. */
#define AFX_COMMON_OPS					\
	.family = PF_XEN,				\
	.owner = THIS_MODULE,				\
	.release = afx_release,				\
	.bind = afx_bind,				\
	.connect = afx_connect,				\
	.socketpair = sock_no_socketpair,		\
	.accept = afx_accept,				\
	.getname = afx_getname,				\
	.poll = afx_poll,				\
	.ioctl = afx_ioctl,				\
	.listen = afx_listen,				\
	.shutdown = afx_shutdown,			\
	.setsockopt = afx_setsockopt,			\
	.getsockopt = afx_getsockopt,			\
	.mmap = sock_no_mmap

static const struct proto_ops afx_stream_ops = {
	AFX_COMMON_OPS,
	.sendmsg = afx_sendmsg,
	.recvmsg = afx_recvmsg,
};

static const struct proto_ops afx_seqpacket_ops = {
	AFX_COMMON_OPS,
	.sendmsg = afx_seq_sendmsg,
	.recvmsg = afx_seq_recvmsg,
};

static struct net_proto_family afx_family_ops = {
	.create = afx_create,
	.owner = THIS_MODULE,
};

static int __init afx_init(void)
{
	int err;

	if (!xen_domain()) {
		pr_err("not running under Xen\n");
		return -ENODEV;
	}
	if (afx_family <= 0 || afx_family >= NPROTO) {
		pr_err("family=%d is out of range 1..%d\n", afx_family,
		       NPROTO - 1);
		return -EINVAL;
	}
	err = afx_live_init();
	if (err)
		return err;
	err = proto_register(&afx_proto, 1);
	if (err)
		goto out_wq;
	err = afx_xs_init();
	if (err)
		goto out_proto;
	afx_family_ops.family = afx_family;
	err = sock_register(&afx_family_ops);
	if (err) {
		pr_err("address family %d is taken (%d); load with family=<free number>\n",
		       afx_family, err);
		goto out_xs;
	}
	err = afx_proc_init();
	if (err)
		goto out_proc;
	pr_info("AF_XEN family %d ready in domain %u\n", afx_family,
		afx_xs_self());
	return 0;
out_proc:
	sock_unregister(afx_family);
out_xs:
	afx_xs_exit();
out_proto:
	proto_unregister(&afx_proto);
out_wq:
	afx_live_exit();
	return err;
}

static void __exit afx_exit(void)
{
	afx_proc_exit();
	sock_unregister(afx_family);
	afx_xs_exit();
	afx_reclaim_exit();
	afx_live_exit();
	proto_unregister(&afx_proto);
}

module_init(afx_init);
module_exit(afx_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("AF_XEN: stream and seqpacket sockets between Xen guests over shared rings");
MODULE_ALIAS_NETPROTO(AF_XEN);
