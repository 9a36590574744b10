// SPDX-License-Identifier: GPL-2.0
/*
 * af_xen: peer liveness, the once-a-second probe of idle connections.
 *
 * Locking: the probe runs on its own workqueue and takes the socket lock;
 * it holds a socket reference while queued (dropped by the probe that
 * does not requeue, or by release() when it cancels a pending one).
 */
#include "link.h"

#include <net/sock.h>

static struct workqueue_struct *afx_live_wq;

/*
 * A peer can vanish without a word while its domain lives on: its process
 * exits, or its kernel closes the port.  Nothing in the shared page says
 * so, so once a second each established connection that received no event
 * in that second asks Xen whether the peer still holds its end of the
 * event channel (docs/protocol.md, "Liveness").  Events that flow prove
 * the peer alive, so a busy connection costs nothing.  The work holds a
 * socket reference while it is queued.
 */
void afx_live_start(struct afx_link *l)
{
	l->live_ntf = l->conn.ntf_rx;
	sock_hold(l->sk);
	if (!queue_delayed_work(afx_live_wq, &l->live_work, HZ))
		sock_put(l->sk);
}

/*
 * A peer that closed gracefully (EOF on what it sends, CLOSED on what it
 * reads) has let go of its port as it should: our reader may still have
 * data to take, which a reset would throw away.  Nothing left to probe.
 */
static bool afx_live_peer_done(struct afx_link *l)
{
	struct afx_conn *c = &l->conn;

	if (afx_ring_rx_avail(&c->rx) < 0 || afx_ring_tx_space(&c->tx) < 0)
		return false;	/* the data path reports the violation */
	return afx_ring_peer_eof(&c->rx) && afx_ring_peer_closed(&c->tx);
}

void afx_live_work(struct work_struct *work)
{
	struct afx_link *l = container_of(to_delayed_work(work),
					  struct afx_link, live_work);
	struct sock *sk = l->sk;
	bool again = false;
	u64 ntf;

	lock_sock(sk);
	if (l->conn_up && !l->broken && sk->sk_state == TCP_ESTABLISHED &&
	    !afx_live_peer_done(l)) {
		ntf = READ_ONCE(l->conn.ntf_rx);
		if (ntf == l->live_ntf && afx_conn_peer_gone(&l->conn))
			afx_link_fail(l, ECONNRESET,
				      "peer closed its event channel");
		else
			again = true;
		l->live_ntf = ntf;
	}
	if (again)
		again = queue_delayed_work(afx_live_wq, &l->live_work, HZ);
	release_sock(sk);
	if (!again)
		sock_put(sk);
}

/* WQ_UNBOUND: the probe has no CPU to stay on (and 7.x warns otherwise). */
int afx_live_init(void)
{
	afx_live_wq = alloc_workqueue("af_xen_live", WQ_UNBOUND, 0);
	return afx_live_wq ? 0 : -ENOMEM;
}

/* Drains probes that are still returning after their last put. */
void afx_live_exit(void)
{
	destroy_workqueue(afx_live_wq);
}
