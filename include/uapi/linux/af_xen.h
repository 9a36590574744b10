/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * af_xen: stream and seqpacket sockets between Xen guests over
 * grant-shared rings.
 *
 * Applications include this header.  The address family number is not
 * allocated by mainline Linux; af_xen borrows 25, the slot of AF_WANPIPE,
 * which no mainline kernel ever implemented.  The module parameter
 * "family" overrides it; the value in use is readable from
 * /sys/module/af_xen/parameters/family.
 */
#ifndef _UAPI_LINUX_AF_XEN_H
#define _UAPI_LINUX_AF_XEN_H

#include <linux/types.h>
#include <linux/socket.h>

#define AF_XEN			25
#define PF_XEN			AF_XEN
/* Socket option level, as AF_VSOCK does: the family number. */
#define SOL_XEN			AF_XEN

/* Special domain ids for sxen_domid. */
#define XEN_DOMID_SELF		0x7FF0	/* this domain (loopback) */
#define XEN_DOMID_ANY		0xFFFF	/* bind: accept from any domain */
#define XEN_PORT_ANY		0	/* bind: pick a free port */

/* Ports below this need CAP_NET_BIND_SERVICE. */
#define XEN_PORT_RESERVED	1024

struct sockaddr_xen {
	__kernel_sa_family_t	sxen_family;	/* AF_XEN */
	__u16			sxen_domid;	/* domain id */
	__u32			sxen_port;	/* port */
	__u8			sxen_zero[8];	/* must be zero */
};

/*
 * Socket options at level SOL_XEN.
 *
 * XEN_SO_RING_SIZE (int): bytes of ring per direction, a power of two from
 *	XEN_RING_SIZE_MIN to XEN_RING_SIZE_MAX.  Settable only before
 *	connect() or listen(); an accepted socket takes the size its
 *	connector chose.
 * XEN_SO_STATS (struct xen_so_stats, read-only): counters of the
 *	connection behind the socket.
 * XEN_SO_RECORD_MAX (int, read-only, SOCK_SEQPACKET only): the largest
 *	record this socket can send or receive, XEN_SO_RING_SIZE minus
 *	XEN_RECORD_HDR; a longer send fails with EMSGSIZE.
 */
#define XEN_SO_RING_SIZE	1
#define XEN_SO_STATS		2
#define XEN_SO_RECORD_MAX	3

/*
 * Multicast: one writer, many reader domains, one shared ring.
 *
 * XEN_SO_MULTICAST (int, 0 or 1): set before listen() to make the
 *	listening socket a publisher.  A connect() to its port subscribes:
 *	the subscriber reads, from the position the publisher had reached
 *	when it joined, everything the publisher writes with send() or
 *	write() on the listening socket itself, and leaves with close().
 *	The publisher's data is written once into its ring
 *	(XEN_SO_RING_SIZE; XEN_RING_SIZE_MAX unless set, as one ring serves
 *	every subscriber), which every subscriber maps read-only; the
 *	slowest subscriber sets its free space.  accept() is refused
 *	(EOPNOTSUPP); a subscriber's send() fails with EPIPE.  Without
 *	subscribers, what is sent is dropped.
 * XEN_SO_MULTICAST_LAG_MS (int, publisher): a subscriber that keeps the
 *	writer waiting this long for room is dropped (it gets ECONNRESET,
 *	the kernel logs one line); 0, the default, waits for it forever.
 * XEN_SO_SUBSCRIBERS (int, read-only, publisher): subscribers now.
 */
#define XEN_SO_MULTICAST	4
#define XEN_SO_MULTICAST_LAG_MS	5
#define XEN_SO_SUBSCRIBERS	6

/* Bytes of ring a SOCK_SEQPACKET record takes besides its payload. */
#define XEN_RECORD_HDR		4

/*
 * Test-only: present only in modules built with AFX_DEBUG=1, never in the
 * default build.  Makes this end of a connection misbehave as a hostile
 * peer would, so that tests can check how the other end copes.  The
 * value is one of XEN_DEBUG_*; the CONNECT_ ones apply to the next
 * connect() on this socket.
 */
#define XEN_SO_DEBUG_CORRUPT	100

#define XEN_DEBUG_PROD_BEYOND		1	/* prod more than a ring ahead */
#define XEN_DEBUG_PROD_BACK		2	/* prod moves backwards */
#define XEN_DEBUG_CONS_BACK		3	/* cons moves backwards */
#define XEN_DEBUG_GARBAGE_FLAGS		4	/* unknown state bits */
#define XEN_DEBUG_WRITE_AFTER_EOF	5	/* data after shutdown(SHUT_WR) */
#define XEN_DEBUG_EVENT_STORM		6	/* notify in a tight loop */
#define XEN_DEBUG_CONNECT_ORDER		7	/* oversized ring order */
#define XEN_DEBUG_CONNECT_NGREFS	8	/* grant count != ring order */
#define XEN_DEBUG_CONNECT_BAD_GREF	9	/* a grant reference not ours */
#define XEN_DEBUG_CONNECT_DUP_GREF	10	/* one data page granted twice */
#define XEN_DEBUG_CONNECT_CTRL_GREF	11	/* the control page as data */
#define XEN_DEBUG_VANISH		12	/* close our event channel, silently */
#define XEN_DEBUG_REC_BEYOND_FILL	13	/* record header > bytes published */
#define XEN_DEBUG_REC_BEYOND_MAX	14	/* record header > largest record */
#define XEN_DEBUG_REC_PARTIAL		15	/* prod covers half a header */

#define XEN_RING_SIZE_MIN	4096
#define XEN_RING_SIZE_DEFAULT	131072
#define XEN_RING_SIZE_MAX	1048576

struct xen_so_stats {
	__u64	bytes_sent;		/* bytes written into the send ring */
	__u64	bytes_received;		/* bytes read out of the receive ring */
	__u64	notifies_sent;		/* event-channel signals to the peer */
	__u64	notifies_received;	/* event-channel signals from the peer */
	__u64	waits_data;		/* times a reader slept on an empty ring */
	__u64	waits_space;		/* times a writer slept on a full ring */
};

#endif /* _UAPI_LINUX_AF_XEN_H */
