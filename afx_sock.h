/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The AF_XEN front end's own internals, shared by its files: af_xen.c
 * (the family, addresses, connect, listen, accept; its locking comment
 * covers all of them), data.c (send, receive, poll, shutdown), seq.c (the
 * same for SOCK_SEQPACKET records), opt.c (options, ioctls), proc.c
 * (/proc/net) and debug.c (the test-only hostile peer).  The connection
 * under each socket is a struct afx_link (link.h).
 */
#ifndef AFX_SOCK_H
#define AFX_SOCK_H

#include "link.h"
#include <linux/af_xen.h>
#include <net/sock.h>

struct afx_sock {
	struct sock sk;		/* must be first */
	struct list_head all;		/* afx_table_lock */
	struct hlist_node bind_node;	/* afx_table_lock */
	bool bound;			/* afx_table_lock */
	domid_t allow;		/* listener: XEN_DOMID_ANY or the one domain */
	u32 ring_size;
	bool ring_size_set;	/* XEN_SO_RING_SIZE given (a publisher keeps it) */
	struct list_head accept_q;	/* listener: children to accept */
	struct list_head accept_node;	/* child: in listener's accept_q */
	u32 seq_last;		/* SOCK_SEQPACKET: last record sent or tried */
	bool mcast_want;	/* XEN_SO_MULTICAST set, before listen() */
	u32 mcast_lag_ms;	/* XEN_SO_MULTICAST_LAG_MS */
	struct afx_mcast *mcast;	/* a listening publisher */
	struct work_struct mcast_work;	/* reaps departed subscribers */
	struct afx_link link;	/* the connection; link.port is ours */
};

static inline struct afx_sock *afx_sk(const struct sock *sk)
{
	return container_of(sk, struct afx_sock, sk);
}

extern int afx_family;
extern spinlock_t afx_table_lock;
extern struct list_head afx_sockets;

/* mcast.c: a publisher (XEN_SO_MULTICAST), under its socket lock */
struct afx_mcast;
struct seq_file;
void afx_mcast_init(struct afx_sock *xs);
int afx_mcast_create(struct afx_sock *xs);
void afx_mcast_destroy(struct afx_sock *xs);
int afx_mcast_join(struct afx_sock *xs, const struct afx_xs_incoming *in);
int afx_mcast_sendmsg(struct afx_sock *xs, struct msghdr *msg, size_t len,
		      bool rec);
__poll_t afx_mcast_poll(struct afx_sock *xs, u32 need);
int afx_mcast_subscribers(struct afx_sock *xs);
void afx_mcast_show(struct seq_file *seq);

/* data.c */
int afx_sleep(struct sock *sk, struct wait_queue_entry *wait, long *timeo);
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

/* proc.c */
int afx_proc_init(void);
void afx_proc_exit(void);

/* debug.c (AFX_DEBUG builds; no-ops otherwise) */
int afx_debug_corrupt(struct sock *sk, sockptr_t optval, unsigned int optlen);

#endif /* AFX_SOCK_H */
