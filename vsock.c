// SPDX-License-Identifier: GPL-2.0
/*
 * af_xen_vsock: an AF_VSOCK transport (guest to host, VSOCK_TRANSPORT_F_G2H)
 * on af_xen's connections, so that every vsock program talks between Xen
 * guests unchanged.  CID = domain id + 2: Domain-0 is VMADDR_CID_HOST.
 *
 * The vsock core owns the socket layer (addresses, ports, listen, accept,
 * waiting, options); this file only answers its questions with a struct
 * afx_link (link.h), the same connection layer AF_XEN sockets use:
 * rendezvous, rings, events, liveness and the hostile-peer defences are
 * shared, not copied.  Requests carry their own socket types
 * (AFX_REQ_VSOCK_*), so vsock and AF_XEN connections never meet.
 *
 * Locking: the vsock core calls every transport hook with the socket
 * lock held (except init's allocation and the address checks), and that
 * lock protects the link.  The event-channel interrupt only wakes the
 * socket and, when the peer's state words changed, queues state_work,
 * which takes the lock.  Incoming requests run in af_xen's rendezvous
 * work and lock the listener, then the child (SINGLE_DEPTH_NESTING).
 */
#include "link.h"
#include "parse.h"
#include "vsock_compat.h"

#include <linux/module.h>
#include <linux/log2.h>
#include <linux/uio.h>
#include <net/af_vsock.h>
#include <net/vsock_addr.h>

#define AFX_CID_OFFSET		2	/* CID of domain 0 */

struct afx_vsock {
	struct vsock_sock *vsk;
	struct afx_link link;
	struct work_struct state_work;	/* holds a socket reference */
	u32 seq_need;		/* seqpacket: room the record waiting needs */
};

static const struct vsock_transport afx_vsock_transport;
/*
 * Its own queue: exit destroys it, so no state_work that dropped a
 * socket's last reference still runs this module's code afterwards.
 */
static struct workqueue_struct *afx_vsock_wq;

static struct afx_vsock *afx_vs(struct vsock_sock *vsk)
{
	return vsk->trans;
}

static u32 afx_vsock_local_cid(void)
{
	return afx_xs_self() + AFX_CID_OFFSET;
}

/* A CID that can be a domain: 2 (Domain-0) to the last domain id + 2. */
static bool afx_vsock_cid_ok(u32 cid)
{
	return cid >= AFX_CID_OFFSET &&
	       cid - AFX_CID_OFFSET < AFX_DOMID_LIMIT;
}

/* ----- The peer's state, as the vsock core expects to see it ----- */

/*
 * vsock keeps the peer's shutdown in vsk->peer_shutdown; af_xen keeps it
 * in the shared page (EOF, CLOSED).  Under the socket lock, after the
 * link has refreshed its view of the rings.
 */
static void afx_vsock_sync(struct afx_vsock *xv)
{
	struct vsock_sock *vsk = xv->vsk;
	struct afx_conn *c = &xv->link.conn;
	u32 was = vsk->peer_shutdown;

	if (!xv->link.conn_up)
		return;
	if (afx_ring_peer_eof(&c->rx))
		vsk->peer_shutdown |= SEND_SHUTDOWN;
	if (afx_ring_peer_closed(&c->tx))
		vsk->peer_shutdown |= RCV_SHUTDOWN;
	if (vsk->peer_shutdown != was)
		sk_vsock(vsk)->sk_state_change(sk_vsock(vsk));
}

static void afx_vsock_state_work(struct work_struct *work)
{
	struct afx_vsock *xv = container_of(work, struct afx_vsock,
					    state_work);
	struct sock *sk = sk_vsock(xv->vsk);
	bool eof;

	lock_sock(sk);
	if (xv->link.conn_up && sk->sk_state == TCP_ESTABLISHED) {
		afx_link_rx_ready(&xv->link, &eof, false);
		afx_link_tx_ready(&xv->link, false);
		afx_vsock_sync(xv);
	}
	release_sock(sk);
	sock_put(sk);
}

/*
 * Interrupt context, after the waiters were woken: the vsock core reads
 * vsk->peer_shutdown in poll before it asks us anything, so a peer that
 * shut down or reset must be reflected there without waiting for a call.
 */
static void afx_vsock_event(struct afx_link *l)
{
	struct afx_vsock *xv = container_of(l, struct afx_vsock, link);
	struct afx_conn *c = &l->conn;
	u32 p = READ_ONCE(c->rx.sh->pstate), s = READ_ONCE(c->tx.sh->cstate);
	u32 known = c->rx.peer_state | c->tx.peer_state;

	if (!((p | s) & ~known))
		return;
	sock_hold(l->sk);
	if (!queue_work(afx_vsock_wq, &xv->state_work))
		sock_put(l->sk);
}

/* link.c: the connect attempt ended. */
static void afx_vsock_connected(struct afx_link *l, int res)
{
	struct afx_vsock *xv = container_of(l, struct afx_vsock, link);
	struct sock *sk = l->sk;

	/* The core gave up first (timeout, signal): it has said so already. */
	if (sk->sk_state != TCP_SYN_SENT) {
		if (!res)
			afx_link_teardown(l, true);
		return;
	}
	if (!res) {
		sk->sk_state = TCP_ESTABLISHED;
		sk->sk_socket->state = SS_CONNECTED;
		vsock_insert_connected(xv->vsk);
		sk->sk_state_change(sk);
		return;
	}
	/* Nobody listening is a reset on vsock, as virtio and vsock_test have it. */
	sk->sk_state = TCP_CLOSE;
	sk->sk_err = res == -ECONNREFUSED ? ECONNRESET : -res;
	sk_error_report(sk);
}

/* link.c: reset by the peer, a violation, a storm, or the peer's death. */
static void afx_vsock_reset(struct afx_link *l)
{
	struct afx_vsock *xv = container_of(l, struct afx_vsock, link);

	xv->vsk->peer_shutdown = SHUTDOWN_MASK;
	sock_set_flag(l->sk, SOCK_DONE);
}

static const struct afx_link_ops afx_vsock_link_ops = {
	.connected = afx_vsock_connected,
	.reset = afx_vsock_reset,
	.event = afx_vsock_event,
};

/* ----- Socket life ----- */

static int afx_vsock_init(struct vsock_sock *vsk, struct vsock_sock *psk)
{
	struct afx_vsock *xv = kzalloc(sizeof(*xv), GFP_KERNEL);

	if (!xv)
		return -ENOMEM;
	xv->vsk = vsk;
	afx_link_init(&xv->link, sk_vsock(vsk), &afx_vsock_link_ops);
	INIT_WORK(&xv->state_work, afx_vsock_state_work);
	vsk->trans = xv;
	return 0;
}

/* The last reference is gone: no work holds the socket any more. */
static void afx_vsock_destruct(struct vsock_sock *vsk)
{
	kfree(vsk->trans);
	vsk->trans = NULL;
}

static void afx_vsock_release(struct vsock_sock *vsk)
{
	struct afx_vsock *xv = afx_vs(vsk);
	struct sock *sk = sk_vsock(vsk);

	afx_link_stop(&xv->link);
	if (cancel_work(&xv->state_work))
		sock_put(sk);
	/* Only an established stream ends gracefully; anything else aborts. */
	afx_link_teardown(&xv->link, sk->sk_state != TCP_ESTABLISHED);
	sock_set_flag(sk, SOCK_DONE);
	vsock_remove_sock(vsk);
}

/* A ring per direction as large as the buffer size asks, within af_xen's. */
static unsigned int afx_vsock_order(struct vsock_sock *vsk)
{
	u64 size = clamp_t(u64, vsk->buffer_size, XEN_RING_SIZE_MIN,
			   XEN_RING_SIZE_MAX);

	return ilog2(roundup_pow_of_two(size) >> PAGE_SHIFT);
}

static int afx_vsock_connect(struct vsock_sock *vsk)
{
	struct afx_vsock *xv = afx_vs(vsk);
	struct afx_link *l = &xv->link;
	struct sock *sk = sk_vsock(vsk);
	u32 cid = vsk->remote_addr.svm_cid;
	int err;

	if (!afx_vsock_cid_ok(cid))
		return -ENETUNREACH;
	/* A socket may connect again after a timeout: start afresh. */
	afx_link_stop(l);
	afx_link_teardown(l, true);
	vsk->peer_shutdown = 0;
	xv->seq_need = 0;
	l->port = vsk->local_addr.svm_port;
	l->type = AFX_REQ_VSOCK | sk->sk_type;
	/* The core times out by itself; ours only backs it up. */
	err = afx_link_connect(l, cid - AFX_CID_OFFSET,
			       vsk->remote_addr.svm_port,
			       afx_vsock_order(vsk),
			       vsk->connect_timeout + HZ);
	if (err)
		sk->sk_state = TCP_CLOSE;
	return err;
}

/* The core gave up on a connect (timeout or signal): withdraw it. */
static int afx_vsock_cancel_pkt(struct vsock_sock *vsk)
{
	struct afx_link *l = &afx_vs(vsk)->link;

	if (l->req.active)
		afx_link_connect_finish(l, -ETIMEDOUT);
	return 0;
}

static int afx_vsock_shutdown(struct vsock_sock *vsk, int mode)
{
	afx_link_shutdown(&afx_vs(vsk)->link, mode);
	return 0;
}

/* ----- Streams ----- */

static s64 afx_vsock_has_data(struct vsock_sock *vsk)
{
	struct afx_vsock *xv = afx_vs(vsk);
	bool eof;
	int n = afx_link_rx_ready(&xv->link, &eof, false);

	afx_vsock_sync(xv);
	return max(n, 0);	/* errors reach the core through sk_err */
}

/* The core's stream_has_data: SIOCINQ too, so records count payload only. */
static s64 afx_vsock_stream_has_data(struct vsock_sock *vsk)
{
	if (sk_vsock(vsk)->sk_type == SOCK_SEQPACKET)
		return afx_link_rec_bytes(&afx_vs(vsk)->link);
	return afx_vsock_has_data(vsk);
}

/*
 * What a stream may still send: the buffer size bounds the bytes the
 * peer has not read, as vsock's credit does, even when it is lowered
 * after connect() below the ring that was sized then.
 */
static s64 afx_vsock_window(struct vsock_sock *vsk)
{
	struct afx_link *l = &afx_vs(vsk)->link;

	if (sk_vsock(vsk)->sk_type != SOCK_STREAM)
		return S64_MAX;
	return max_t(s64, (s64)vsk->buffer_size - afx_link_unsent(l), 0);
}

/* Free space; for seqpacket, none until the record waiting fits whole. */
static s64 afx_vsock_has_space(struct vsock_sock *vsk)
{
	struct afx_vsock *xv = afx_vs(vsk);
	int n = afx_link_tx_ready(&xv->link, false);

	afx_vsock_sync(xv);
	if (n <= 0 || n < xv->seq_need)
		return 0;
	return min_t(s64, n, afx_vsock_window(vsk));
}

static ssize_t afx_vsock_enqueue(struct vsock_sock *vsk, struct msghdr *msg,
				 size_t len)
{
	len = min_t(s64, len, afx_vsock_window(vsk));
	return len ? afx_link_write(&afx_vs(vsk)->link, msg, len) : 0;
}

static ssize_t afx_vsock_dequeue(struct vsock_sock *vsk, struct msghdr *msg,
				 size_t len, int flags)
{
	return afx_link_read(&afx_vs(vsk)->link, msg, len, flags & MSG_PEEK);
}

/* A ring holds at most its size: a low-water mark above it never fills. */
static u64 afx_vsock_rcvhiwat(struct vsock_sock *vsk)
{
	struct afx_link *l = &afx_vs(vsk)->link;

	return (l->conn_up ? l->conn.rx.size : vsk->buffer_size) + 1;
}

static bool afx_vsock_is_active(struct vsock_sock *vsk)
{
	return afx_vs(vsk)->link.conn_up;
}

/* ----- Records ----- */

static int afx_vsock_seq_enqueue(struct vsock_sock *vsk, struct msghdr *msg,
				 size_t len)
{
	struct afx_vsock *xv = afx_vs(vsk);
	long n;

	if (len > afx_ring_rec_max(&xv->link.conn.tx))
		return -EMSGSIZE;
	n = afx_link_write_rec(&xv->link, msg, len,
			       msg->msg_flags & MSG_EOR ? AFX_REC_EOR : 0);
	/* Not yet: has_space says 0 until it fits, and the core waits. */
	if (n == -EAGAIN) {
		xv->seq_need = len + AFX_REC_HDR;
		return 0;
	}
	xv->seq_need = 0;
	return n;
}

/* The record's real length; the core sets MSG_TRUNC from it. */
static ssize_t afx_vsock_seq_dequeue(struct vsock_sock *vsk,
				     struct msghdr *msg, int flags)
{
	struct afx_link *l = &afx_vs(vsk)->link;
	u32 reclen;
	long n;

	n = afx_link_read_rec(l, msg, msg_data_left(msg), flags & MSG_PEEK,
			      &reclen);
	if (n == -EAGAIN)
		return 0;
	/* As virtio does: a record that could not be delivered is dropped. */
	if (n == -EFAULT && !(flags & MSG_PEEK))
		afx_link_read_rec(l, msg, 0, false, &reclen);
	if (n < 0)
		return n;
	if (l->conn.rx.rec_flags & AFX_REC_EOR)
		msg->msg_flags |= MSG_EOR;
	return reclen;
}

/*
 * The core's seqpacket wait calls no notify hook before it sleeps, so a
 * reader finding no record asks for the event here, then looks again.
 */
static u32 afx_vsock_seq_has_data(struct vsock_sock *vsk)
{
	struct afx_vsock *xv = afx_vs(vsk);
	int n = afx_link_rec_ready(&xv->link, false);

	if (n == 0 && xv->link.conn_up && !xv->link.broken) {
		afx_conn_rx_wait(&xv->link.conn);
		n = afx_link_rec_ready(&xv->link, false);
	}
	afx_vsock_sync(xv);
	return n > 0;
}

/* ----- Readiness and the waits of the vsock core ----- */

static int afx_vsock_poll_in(struct vsock_sock *vsk, size_t target,
			     bool *ready)
{
	struct afx_vsock *xv = afx_vs(vsk);
	s64 n = afx_vsock_has_data(vsk);

	if (n < target && xv->link.conn_up && !xv->link.broken) {
		afx_conn_rx_wait(&xv->link.conn);
		n = afx_vsock_has_data(vsk);
	}
	*ready = n >= target || (vsk->peer_shutdown & SEND_SHUTDOWN);
	return 0;
}

static int afx_vsock_poll_out(struct vsock_sock *vsk, size_t target,
			      bool *ready)
{
	struct afx_vsock *xv = afx_vs(vsk);
	s64 n = afx_vsock_has_space(vsk);

	if (!n && xv->link.conn_up && !xv->link.broken) {
		afx_conn_tx_wait(&xv->link.conn);
		n = afx_vsock_has_space(vsk);
	}
	*ready = n > 0;
	return 0;
}

/*
 * About to sleep for data: ask for the event; if data slipped in before
 * the request was visible, wake ourselves so the sleep ends at once.
 */
static int afx_vsock_recv_pre_block(struct vsock_sock *vsk, size_t target,
				    struct vsock_transport_recv_notify_data *d)
{
	struct afx_link *l = &afx_vs(vsk)->link;

	if (l->conn_up && !l->broken && afx_conn_rx_wait(&l->conn) != 0)
		sk_vsock(vsk)->sk_data_ready(sk_vsock(vsk));
	return 0;
}

static int afx_vsock_send_pre_block(struct vsock_sock *vsk,
				    struct vsock_transport_send_notify_data *d)
{
	struct afx_vsock *xv = afx_vs(vsk);
	struct afx_link *l = &xv->link;
	int n;

	if (!l->conn_up || l->broken)
		return 0;
	n = afx_conn_tx_wait(&l->conn);
	if (n != 0 && n >= xv->seq_need)
		sk_vsock(vsk)->sk_write_space(sk_vsock(vsk));
	return 0;
}

static int afx_vsock_recv_nop(struct vsock_sock *vsk, size_t target,
			      struct vsock_transport_recv_notify_data *d)
{
	return 0;
}

static int afx_vsock_recv_post(struct vsock_sock *vsk, size_t target,
			       ssize_t copied, bool data_read,
			       struct vsock_transport_recv_notify_data *d)
{
	return 0;
}

static int afx_vsock_send_nop(struct vsock_sock *vsk,
			      struct vsock_transport_send_notify_data *d)
{
	return 0;
}

static int afx_vsock_send_post(struct vsock_sock *vsk, ssize_t written,
			       struct vsock_transport_send_notify_data *d)
{
	return 0;
}

/* ----- Addresses, and what the transport serves ----- */

static u32 afx_vsock_get_local_cid(void)
{
	return afx_vsock_local_cid();
}

static bool afx_vsock_allow(AFX_VSOCK_ALLOW_ARGS(u32 cid, u32 port))
{
	return afx_vsock_cid_ok(cid);
}

static bool afx_vsock_seq_allow(AFX_VSOCK_ALLOW_ARGS(u32 cid))
{
	return afx_vsock_cid_ok(cid);
}

#ifdef AFX_VSOCK_HAS_REMOTE_CID
static bool afx_vsock_has_remote_cid(struct vsock_sock *vsk, u32 cid)
{
	return afx_vsock_cid_ok(cid) && cid > VMADDR_CID_HOST;
}
#endif

#ifdef AFX_VSOCK_HAS_UNSENT_BYTES
/*
 * SIOCOUTQ and SO_LINGER: vsock counts bytes not yet handed to the peer
 * (virtio's queued packets).  A send here writes straight into the ring
 * the peer maps, so nothing ever waits in this guest.
 */
static ssize_t afx_vsock_unsent_bytes(struct vsock_sock *vsk)
{
	return 0;
}
#endif

/* No datagrams (docs/design.md): the core never routes them to us. */
static int afx_vsock_dgram_bind(struct vsock_sock *vsk,
				struct sockaddr_vm *addr)
{
	return -EOPNOTSUPP;
}

static int afx_vsock_dgram_dequeue(struct vsock_sock *vsk,
				   struct msghdr *msg, size_t len, int flags)
{
	return -EOPNOTSUPP;
}

static int afx_vsock_dgram_enqueue(struct vsock_sock *vsk,
				   struct sockaddr_vm *remote,
				   struct msghdr *msg, size_t len)
{
	return -EOPNOTSUPP;
}

static bool afx_vsock_dgram_allow(AFX_VSOCK_ALLOW_ARGS(u32 cid, u32 port))
{
	return false;
}

/* ----- Incoming connections (af_xen's rendezvous work) ----- */

/* Under the listener's lock: a connected child on its accept queue. */
static int afx_vsock_child(struct sock *listener,
			   const struct afx_xs_incoming *in)
{
	struct vsock_sock *vchild;
	struct afx_vsock *xv;
	struct sock *child;
	int err;

	child = vsock_create_connected(listener);
	if (!child)
		return -ENOMEM;
	lock_sock_nested(child, SINGLE_DEPTH_NESTING);
	vchild = vsock_sk(child);
	vsock_addr_init(&vchild->local_addr, afx_vsock_local_cid(),
			in->sport);
	vsock_addr_init(&vchild->remote_addr, in->peer + AFX_CID_OFFSET,
			in->cport);
	err = vsock_assign_transport(vchild, vsock_sk(listener));
	if (!err && vchild->transport != &afx_vsock_transport)
		err = -ECONNREFUSED;	/* routed elsewhere (loopback) */
	if (err)
		goto fail;
	xv = afx_vs(vchild);
	xv->link.port = in->sport;
	err = afx_link_accept(&xv->link, in);
	if (err) {
		afx_link_stop(&xv->link);
		afx_link_teardown(&xv->link, true);
		goto fail;
	}
	child->sk_state = TCP_ESTABLISHED;
	AFX_VSOCK_ACCEPTQ_ADDED(listener);
	vsock_insert_connected(vchild);
	vsock_enqueue_accept(listener, child);
	release_sock(child);
	listener->sk_data_ready(listener);
	return 0;
fail:
	release_sock(child);
	sock_put(child);
	return err;
}

static int afx_vsock_incoming(const struct afx_xs_incoming *in)
{
	struct sockaddr_vm addr;
	struct sock *listener;
	int err = -ECONNREFUSED;

	vsock_addr_init(&addr, afx_vsock_local_cid(), in->sport);
	listener = vsock_find_bound_socket(&addr);
	if (!listener)
		return -ECONNREFUSED;
	lock_sock(listener);
	if (listener->sk_state == TCP_LISTEN &&
	    (AFX_REQ_VSOCK | listener->sk_type) == in->type &&
	    !sk_acceptq_is_full(listener) &&
	    listener->sk_shutdown != SHUTDOWN_MASK)
		err = afx_vsock_child(listener, in);
	release_sock(listener);
	sock_put(listener);
	return err;
}

static const struct vsock_transport afx_vsock_transport = {
	.module = THIS_MODULE,
	.init = afx_vsock_init,
	.destruct = afx_vsock_destruct,
	.release = afx_vsock_release,
	.cancel_pkt = afx_vsock_cancel_pkt,
	.connect = afx_vsock_connect,
	.dgram_bind = afx_vsock_dgram_bind,
	.dgram_dequeue = afx_vsock_dgram_dequeue,
	.dgram_enqueue = afx_vsock_dgram_enqueue,
	.dgram_allow = afx_vsock_dgram_allow,
	.stream_dequeue = afx_vsock_dequeue,
	.stream_enqueue = afx_vsock_enqueue,
	.stream_has_data = afx_vsock_stream_has_data,
	.stream_has_space = afx_vsock_has_space,
	.stream_rcvhiwat = afx_vsock_rcvhiwat,
	.stream_is_active = afx_vsock_is_active,
	.stream_allow = afx_vsock_allow,
	.seqpacket_dequeue = afx_vsock_seq_dequeue,
	.seqpacket_enqueue = afx_vsock_seq_enqueue,
	.seqpacket_allow = afx_vsock_seq_allow,
	.seqpacket_has_data = afx_vsock_seq_has_data,
	.notify_poll_in = afx_vsock_poll_in,
	.notify_poll_out = afx_vsock_poll_out,
	.notify_recv_init = afx_vsock_recv_nop,
	.notify_recv_pre_block = afx_vsock_recv_pre_block,
	.notify_recv_pre_dequeue = afx_vsock_recv_nop,
	.notify_recv_post_dequeue = afx_vsock_recv_post,
	.notify_send_init = afx_vsock_send_nop,
	.notify_send_pre_block = afx_vsock_send_pre_block,
	.notify_send_pre_enqueue = afx_vsock_send_nop,
	.notify_send_post_enqueue = afx_vsock_send_post,
	.shutdown = afx_vsock_shutdown,
	.get_local_cid = afx_vsock_get_local_cid,
#ifdef AFX_VSOCK_HAS_UNSENT_BYTES
	.unsent_bytes = afx_vsock_unsent_bytes,
#endif
#ifdef AFX_VSOCK_HAS_REMOTE_CID
	.has_remote_cid = afx_vsock_has_remote_cid,
#endif
};

static int __init afx_vsock_module_init(void)
{
	int err;

	afx_vsock_wq = alloc_workqueue("af_xen_vsock", WQ_UNBOUND, 0);
	if (!afx_vsock_wq)
		return -ENOMEM;
	err = afx_link_register(AFX_REQ_VSOCK_STREAM, afx_vsock_incoming);
	if (!err)
		err = afx_link_register(AFX_REQ_VSOCK_SEQPACKET,
					afx_vsock_incoming);
	if (err)
		goto out;
	err = vsock_core_register(&afx_vsock_transport,
				  VSOCK_TRANSPORT_F_G2H);
	if (err == -EBUSY)
		pr_err("another guest-to-host vsock transport is loaded (vmw_vsock_virtio_transport, vmw_vsock_vmci_transport or hv_sock?): unload it first\n");
	if (err)
		goto out;
	pr_info("vsock transport ready: CID %u (domain %u)\n",
		afx_vsock_local_cid(), afx_xs_self());
	return 0;
out:
	afx_link_unregister(AFX_REQ_VSOCK_SEQPACKET);
	afx_link_unregister(AFX_REQ_VSOCK_STREAM);
	destroy_workqueue(afx_vsock_wq);
	return err;
}

static void __exit afx_vsock_module_exit(void)
{
	vsock_core_unregister(&afx_vsock_transport);
	afx_link_unregister(AFX_REQ_VSOCK_SEQPACKET);
	afx_link_unregister(AFX_REQ_VSOCK_STREAM);
	destroy_workqueue(afx_vsock_wq);
}

module_init(afx_vsock_module_init);
module_exit(afx_vsock_module_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("AF_VSOCK transport between Xen guests over af_xen's connections");
