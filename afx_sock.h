/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The socket layer's own internals, shared by its files: af_xen.c (the
 * family, addresses, connect, listen, accept; its locking comment covers
 * all of them), data.c (send, receive, poll, shutdown), seq.c (the same
 * for SOCK_SEQPACKET records), opt.c (options,
 * ioctls), live.c (peer liveness), proc.c (/proc/net) and debug.c (the
 * test-only hostile peer).
 */
#ifndef AFX_SOCK_H
#define AFX_SOCK_H

#include "af_xen.h"
#include <linux/af_xen.h>
#include <net/sock.h>

struct afx_sock {
	struct sock sk;		/* must be first */
	struct list_head all;		/* afx_table_lock */
	struct hlist_node bind_node;	/* afx_table_lock */
	struct list_head reap;		/* afx_reap_lock */
	bool bound;			/* afx_table_lock */
	u32 port;
	domid_t allow;		/* listener: XEN_DOMID_ANY or the one domain */
	domid_t peer;
	u32 peer_port;
	u32 ring_size;
	struct list_head accept_q;	/* listener: children to accept */
	struct list_head accept_node;	/* child: in listener's accept_q */
	struct afx_conn conn;
	bool conn_up;		/* conn set up and not yet released */
	bool peer_ref;		/* holds afx_xs_peer_get(peer) */
	bool broken;		/* reset: by the peer, a violation or death */
	struct afx_xs_req req;
	struct delayed_work connect_work;
	struct delayed_work live_work;	/* holds a socket reference */
	u64 live_ntf;		/* conn.ntf_rx at the last liveness probe */
	u32 seq_last;		/* SOCK_SEQPACKET: last record sent or tried */
	struct xen_so_stats stats;
	int debug_connect;	/* AFX_DEBUG: corruption for next connect */
};

static inline struct afx_sock *afx_sk(const struct sock *sk)
{
	return container_of(sk, struct afx_sock, sk);
}

extern int afx_family;
extern spinlock_t afx_table_lock;
extern struct list_head afx_sockets;

/* af_xen.c: connection state */
void afx_notify(struct afx_sock *xs);
void afx_conn_fail(struct afx_sock *xs, int err, const char *why);
int afx_conn_check(struct afx_sock *xs, int peer_ok, bool consume);
int afx_rx_ready(struct afx_sock *xs, bool *eof, bool consume);
int afx_tx_ready(struct afx_sock *xs, bool consume);

/* data.c */
size_t afx_copy_from_iter(void *ctx, void *ring, size_t len);
size_t afx_copy_to_iter(void *ctx, void *ring, size_t len);
int afx_sleep(struct sock *sk, struct wait_queue_entry *wait, long *timeo);
void afx_rx_rearm(struct afx_sock *xs);
int afx_sendmsg(struct socket *sock, struct msghdr *msg, size_t len);
int afx_recvmsg(struct socket *sock, struct msghdr *msg, size_t len,
		int flags);
__poll_t afx_poll(struct file *file, struct socket *sock, poll_table *wait);
int afx_shutdown(struct socket *sock, int how);

/* seq.c: SOCK_SEQPACKET */
int afx_seq_sendmsg(struct socket *sock, struct msghdr *msg, size_t len);
int afx_seq_recvmsg(struct socket *sock, struct msghdr *msg, size_t len,
		    int flags);
u32 afx_seq_poll_need(const struct afx_sock *xs);

/* opt.c */
int afx_opt_int(sockptr_t optval, unsigned int optlen, int *val);
void afx_get_stats(struct afx_sock *xs, struct xen_so_stats *st);
int afx_ioctl(struct socket *sock, unsigned int cmd, unsigned long arg);
int afx_setsockopt(struct socket *sock, int level, int optname,
		   sockptr_t optval, unsigned int optlen);
int afx_getsockopt(struct socket *sock, int level, int optname,
		   char __user *optval, int __user *optlen);

/* live.c */
int afx_live_init(void);
void afx_live_exit(void);
void afx_live_start(struct afx_sock *xs);
void afx_live_work(struct work_struct *work);

/* proc.c */
int afx_proc_init(void);
void afx_proc_exit(void);

/* debug.c (AFX_DEBUG builds; no-ops otherwise) */
void afx_debug_connect(struct afx_sock *xs);
int afx_debug_corrupt(struct sock *sk, sockptr_t optval, unsigned int optlen);

#endif /* AFX_SOCK_H */
