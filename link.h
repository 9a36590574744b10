/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The connection layer under both socket front ends (AF_XEN in af_xen.c,
 * vsock in vsock.c): one connection to a peer domain - its rendezvous,
 * rings, event channel, liveness, statistics and reset - whatever socket
 * sits on top.  link.c and live.c implement it; locking is described in
 * link.c.
 */
#ifndef AFX_LINK_H
#define AFX_LINK_H

#include "af_xen.h"
#include <linux/af_xen.h>
#include <net/sock.h>

struct afx_link;

/* What a front end is told; all but @event under the socket lock. */
struct afx_link_ops {
	/* The connect attempt ended: 0 (established) or a negative errno. */
	void (*connected)(struct afx_link *l, int res);
	/* The link was reset; sk_err, sk_state and sk_shutdown are set. */
	void (*reset)(struct afx_link *l);
	/* Optional, interrupt context: an event came, waiters are woken. */
	void (*event)(struct afx_link *l);
};

/*
 * Every field is protected by the lock of @sk, the front end's socket,
 * except @all (afx_link_lock) and where a field says otherwise.
 */
struct afx_link {
	struct sock *sk;
	const struct afx_link_ops *ops;
	struct list_head all;		/* afx_link_lock: links to a peer */
	struct list_head reap;		/* afx_link_reap_lock */
	domid_t peer;
	u32 port;			/* ours */
	u32 peer_port;
	u32 type;			/* AFX_REQ_*, as the request says */
	struct afx_conn conn;
	bool conn_up;		/* conn set up and not yet released */
	bool peer_ref;		/* holds afx_xs_peer_get(peer), on afx_links */
	bool broken;		/* reset: by the peer, a violation or death */
	struct afx_xs_req req;
	struct delayed_work connect_work;
	struct work_struct done_work;	/* holds a socket reference */
	struct delayed_work live_work;	/* holds a socket reference */
	u64 live_ntf;		/* conn.ntf_rx at the last liveness probe */
	u32 rx_burst;		/* bytes read since the ring was last empty */
	struct xen_so_stats stats;
	int debug_connect;	/* AFX_DEBUG: corruption for next connect */
};

void afx_link_init(struct afx_link *l, struct sock *sk,
		   const struct afx_link_ops *ops);
void afx_sk_wake(struct sock *sk);
void afx_link_notify(struct afx_link *l);
void afx_link_fail(struct afx_link *l, int err, const char *why);
void afx_link_teardown(struct afx_link *l, bool abort);
int afx_link_check(struct afx_link *l, int peer_ok, bool consume);
int afx_link_rx_ready(struct afx_link *l, bool *eof, bool consume);
int afx_link_tx_ready(struct afx_link *l, bool consume);
void afx_link_rx_rearm(struct afx_link *l);
void afx_link_shutdown(struct afx_link *l, int mode);
int afx_link_unsent(struct afx_link *l);
int afx_link_unread(struct afx_link *l);
long afx_link_rec_bytes(struct afx_link *l);
int afx_link_rec_ready(struct afx_link *l, bool consume);
long afx_link_write(struct afx_link *l, struct msghdr *msg, size_t len);
long afx_link_read(struct afx_link *l, struct msghdr *msg, size_t len,
		   bool peek);
long afx_link_write_rec(struct afx_link *l, struct msghdr *msg, size_t len,
			u32 flags);
long afx_link_read_rec(struct afx_link *l, struct msghdr *msg, size_t len,
		       bool peek, u32 *reclen);

int afx_link_connect(struct afx_link *l, domid_t peer, u32 peer_port,
		     unsigned int order, unsigned long timeout);
void afx_link_connect_finish(struct afx_link *l, int res);
void afx_link_stop(struct afx_link *l);
int afx_link_accept(struct afx_link *l, const struct afx_xs_incoming *in);

/* A front end's handler of connect requests of its types (xs.c's work). */
typedef int (*afx_link_incoming_t)(const struct afx_xs_incoming *in);
int afx_link_register(u32 type, afx_link_incoming_t fn);
void afx_link_unregister(u32 type);

/* live.c */
int afx_live_init(void);
void afx_live_exit(void);
void afx_live_start(struct afx_link *l);
void afx_live_work(struct work_struct *work);

/* debug.c (AFX_DEBUG builds; a no-op otherwise) */
void afx_debug_connect(struct afx_link *l);

#endif /* AFX_LINK_H */
