// SPDX-License-Identifier: GPL-2.0
/*
 * af_xen: the test-only hostile peer (XEN_SO_DEBUG_CORRUPT), present only
 * in modules built with AFX_DEBUG=1; the shipped module has no-ops.
 *
 * Locking: afx_debug_corrupt takes the socket lock; afx_debug_connect
 * runs under it (connect).
 */
#include "afx_sock.h"
#include <linux/af_xen.h>

#include <linux/delay.h>
#include <xen/events.h>
#include <net/sock.h>

#if AFX_DEBUG
/*
 * Test-only hostile peer (XEN_SO_DEBUG_CORRUPT): break the protocol from
 * this end so that a test can watch the other end survive it.
 */
void afx_debug_connect(struct afx_link *l)
{
	struct afx_ctrl *ctrl = l->conn.ctrl;

	switch (l->debug_connect) {
	case XEN_DEBUG_CONNECT_ORDER:
		l->conn.order = AFX_MAX_ORDER + 12;
		break;
	case XEN_DEBUG_CONNECT_NGREFS:
		WRITE_ONCE(ctrl->nr_grefs, 0x40000000);
		break;
	case XEN_DEBUG_CONNECT_BAD_GREF:
		WRITE_ONCE(ctrl->grefs[0], 0x0fffffff);
		break;
	case XEN_DEBUG_CONNECT_DUP_GREF:
		WRITE_ONCE(ctrl->grefs[1], ctrl->grefs[0]);
		break;
	case XEN_DEBUG_CONNECT_CTRL_GREF:
		WRITE_ONCE(ctrl->grefs[l->conn.npages], l->conn.ctrl_gref);
		break;
	}
	l->debug_connect = 0;
}

static void afx_debug_storm(struct afx_sock *xs)
{
	unsigned long end = jiffies + 2 * HZ;

	while (time_before(jiffies, end)) {
		notify_remote_via_irq(xs->link.conn.irq);
		cond_resched();
	}
}

/*
 * Publish a record header that lies: it claims more than was published,
 * more than the largest record, or prod covers only half of it.
 */
static void afx_debug_record(struct afx_ring *tx, int what)
{
	u32 hdr = what == XEN_DEBUG_REC_BEYOND_MAX ? tx->size : 100;
	u32 off = tx->idx & (tx->size - 1);
	u32 pub = what == XEN_DEBUG_REC_PARTIAL ? 2 : AFX_REC_HDR + 10;
	u8 *h = (u8 *)&hdr;
	u32 i;

	for (i = 0; i < AFX_REC_HDR; i++)
		tx->data[(off + i) & (tx->size - 1)] = h[i];
	virt_wmb();	/* the lie before the prod that covers it */
	WRITE_ONCE(tx->sh->prod, tx->idx + pub);
}

static void afx_debug_ring(struct afx_sock *xs, int what)
{
	struct afx_ring *tx = &xs->link.conn.tx, *rx = &xs->link.conn.rx;

	switch (what) {
	case XEN_DEBUG_PROD_BEYOND:
		WRITE_ONCE(tx->sh->prod, tx->idx + tx->size + 1);
		break;
	case XEN_DEBUG_PROD_BACK:
		WRITE_ONCE(tx->sh->prod, tx->idx - 1);
		break;
	case XEN_DEBUG_CONS_BACK:
		WRITE_ONCE(rx->sh->cons, rx->idx - XEN_RING_SIZE_MIN);
		break;
	case XEN_DEBUG_GARBAGE_FLAGS:
		WRITE_ONCE(tx->sh->pstate, 0xdeadbeef);
		break;
	case XEN_DEBUG_WRITE_AFTER_EOF:
		/* Let the peer see EOF first, then move prod past it. */
		afx_ring_tx_set_state(tx, AFX_RING_EOF);
		afx_link_notify(&xs->link);
		msleep(200);
		WRITE_ONCE(tx->sh->prod, tx->idx + 1);
		break;
	case XEN_DEBUG_EVENT_STORM:
		afx_debug_storm(xs);
		return;
	case XEN_DEBUG_VANISH:
		afx_conn_vanish(&xs->link.conn);
		return;
	case XEN_DEBUG_REC_BEYOND_FILL:
	case XEN_DEBUG_REC_BEYOND_MAX:
	case XEN_DEBUG_REC_PARTIAL:
		afx_debug_record(tx, what);
		break;
	}
	afx_link_notify(&xs->link);
}

int afx_debug_corrupt(struct sock *sk, sockptr_t optval, unsigned int optlen)
{
	struct afx_sock *xs = afx_sk(sk);
	int what, err;

	err = afx_opt_int(optval, optlen, &what);
	if (err)
		return err;
	lock_sock(sk);
	if (what >= XEN_DEBUG_CONNECT_ORDER &&
	    what <= XEN_DEBUG_CONNECT_CTRL_GREF)
		xs->link.debug_connect = what;
	else if (what < XEN_DEBUG_PROD_BEYOND ||
		 what > XEN_DEBUG_REC_PARTIAL)
		err = -EINVAL;
	else if (!xs->link.conn_up || sk->sk_state != TCP_ESTABLISHED)
		err = -ENOTCONN;
	else
		afx_debug_ring(xs, what);
	release_sock(sk);
	if (!err)
		pr_warn("debug: socket port %u plays hostile peer (%d)\n",
			xs->link.port, what);
	return err;
}
#else
void afx_debug_connect(struct afx_link *l)
{
}

int afx_debug_corrupt(struct sock *sk, sockptr_t optval, unsigned int optlen)
{
	return -ENOPROTOOPT;
}
#endif
