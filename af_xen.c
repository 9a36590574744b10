// SPDX-License-Identifier: GPL-2.0
/*
 * af_xen: the AF_XEN socket family - stream and seqpacket sockets
 * between Xen guests over grant-shared rings (after XenSocket, ACM
 * Middleware 2007).
 *
 * The connection under each socket (rendezvous, rings, events, liveness,
 * reset) is a struct afx_link, shared with the vsock front end: see
 * link.c.  This file is the AF_XEN front end: the family, its addresses
 * and ports, connect(), listen() and the accept queue.  The data path
 * (data.c, seq.c), options (opt.c), /proc/net (proc.c) and the test-only
 * hostile peer (debug.c) live in files of their own and follow the same
 * rules.
 *
 * Locking, outermost first:
 *   - a listener's socket lock, then (accept, listener release) a child's
 *     socket lock, taken with SINGLE_DEPTH_NESTING;
 *   - the socket lock protects all of struct afx_sock except where a
 *     field says otherwise, and the rings of its connection;
 *   - afx_table_lock (spinlock): afx_sockets, afx_bound, afx_next_port.
 * The event-channel interrupt only wakes waiters.  xenstore watch
 * callbacks take no lock at all (see xs.c); link.c's connect work and
 * the rendezvous work run in process context and take socket locks.
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

static const struct proto_ops afx_stream_ops, afx_seqpacket_ops;
static const struct afx_link_ops afx_sock_link_ops;

/* ----- Tables ----- */

static struct afx_sock *__afx_find_bound(u32 port)
{
	struct afx_sock *xs;

	hash_for_each_possible(afx_bound, xs, bind_node, port)
		if (xs->link.port == port)
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
		xs->link.port = port;
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

/* ----- Socket creation and teardown ----- */

static void afx_sock_init(struct sock *sk)
{
	struct afx_sock *xs = afx_sk(sk);

	INIT_LIST_HEAD(&xs->accept_q);
	INIT_LIST_HEAD(&xs->accept_node);
	afx_link_init(&xs->link, sk, &afx_sock_link_ops);
	afx_mcast_init(xs);
	xs->allow = XEN_DOMID_ANY;
	xs->ring_size = XEN_RING_SIZE_DEFAULT;
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
	afx_link_teardown(&xs->link, abort);
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
	afx_link_stop(&xs->link);
	afx_unbind_port(xs);
	afx_mcast_destroy(xs);
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
			sa->sxen_domid = xs->link.peer;
			sa->sxen_port = xs->link.peer_port;
		}
	} else {
		sa->sxen_domid = afx_xs_self();
		sa->sxen_port = xs->link.port;
	}
	release_sock(sk);
	return err;
}

/* ----- Connecting side ----- */

/* link.c: the connect attempt ended with @res (0 or -errno). */
static void afx_sock_connected(struct afx_link *l, int res)
{
	struct sock *sk = l->sk;

	if (!res) {
		sk->sk_state = TCP_ESTABLISHED;
		if (sk->sk_socket)
			sk->sk_socket->state = SS_CONNECTED;
		sk->sk_state_change(sk);
		return;
	}
	sk->sk_state = TCP_CLOSE;
	if (sk->sk_socket)
		sk->sk_socket->state = SS_UNCONNECTED;
	sk->sk_err = -res;
	sk_error_report(sk);
}

static const struct afx_link_ops afx_sock_link_ops = {
	.connected = afx_sock_connected,
};

static int afx_connect_start(struct afx_sock *xs,
			     const struct sockaddr_xen *sa)
{
	int err;

	if (!xs->bound) {
		err = afx_bind_port(xs, 0);
		if (err)
			return err;
	}
	xs->link.type = xs->sk.sk_type;
	return afx_link_connect(&xs->link, sa->sxen_domid, sa->sxen_port,
				ilog2(xs->ring_size >> PAGE_SHIFT),
				msecs_to_jiffies(afx_connect_timeout_ms));
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
			afx_link_connect_finish(&afx_sk(sk)->link, err);
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
	if (!err && xs->mcast_want && !xs->mcast)
		err = afx_mcast_create(xs);
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

	child->link.port = afx_sk(listener)->link.port;
	child->ring_size = PAGE_SIZE << in->order;
	err = afx_link_accept(&child->link, in);
	if (err)
		return err;
	child->sk.sk_state = TCP_ESTABLISHED;
	return 0;
}

static int afx_incoming_check(struct sock *listener,
			      const struct afx_xs_incoming *in)
{
	struct afx_sock *xs = afx_sk(listener);

	if (listener->sk_state != TCP_LISTEN)
		return -ECONNREFUSED;
	/* A stream listener takes no seqpacket connect, and the reverse. */
	if (listener->sk_type != in->type)
		return -ECONNREFUSED;
	if (xs->allow != XEN_DOMID_ANY && xs->allow != in->peer)
		return -ECONNREFUSED;
	if (!xs->mcast && sk_acceptq_is_full(listener))
		return -ECONNREFUSED;
	return 0;
}

/* Rendezvous work (link.c): a stream or seqpacket connect request. */
static int afx_sock_incoming(const struct afx_xs_incoming *in)
{
	struct sock *listener = afx_get_listener(in->sport);
	struct sock *sk;
	int err;

	if (!listener)
		return -ECONNREFUSED;
	lock_sock(listener);
	err = afx_incoming_check(listener, in);
	if (!err && afx_sk(listener)->mcast) {
		err = afx_mcast_join(afx_sk(listener), in);
		goto out;
	}
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
	if (xs->mcast) {
		err = -EOPNOTSUPP;	/* a publisher's subscribers are not sockets */
		goto out;
	}
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
	/* Before the request watch: no request finds nobody to take it. */
	afx_link_register(AFX_REQ_STREAM, afx_sock_incoming);
	afx_link_register(AFX_REQ_SEQPACKET, afx_sock_incoming);
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
	afx_link_unregister(AFX_REQ_SEQPACKET);
	afx_link_unregister(AFX_REQ_STREAM);
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
	afx_link_unregister(AFX_REQ_SEQPACKET);
	afx_link_unregister(AFX_REQ_STREAM);
	afx_reclaim_exit();
	afx_live_exit();
	proto_unregister(&afx_proto);
}

module_init(afx_init);
module_exit(afx_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("AF_XEN: stream and seqpacket sockets between Xen guests over shared rings");
MODULE_ALIAS_NETPROTO(AF_XEN);
