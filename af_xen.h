/* SPDX-License-Identifier: GPL-2.0 */
/*
 * af_xen internals shared by the socket layer (afx_sock.h), grant.c
 * (hypervisor calls), reclaim.c (pages given back) and xs.c (xenstore
 * rendezvous).
 */
#ifndef AFX_H
#define AFX_H

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/types.h>
#include <linux/bits.h>
#include <linux/workqueue.h>
#include <linux/atomic.h>
#include <linux/ktime.h>
#include <xen/grant_table.h>
#include <xen/xenbus.h>
#include "ring.h"
#include "compat.h"

/* ----- Shared control page (granted by the connecting side) ----- */

#define AFX_CTRL_MAGIC		0x4e584641	/* "AFXN" little-endian */
#define AFX_PROTO_VERSION	1
#define AFX_MIN_ORDER		0	/* 4 KiB per direction */
#define AFX_MAX_ORDER		8	/* 1 MiB per direction */
#define AFX_MAX_PAGES		BIT(AFX_MAX_ORDER)

/*
 * One 4 KiB page.  The connector (C) fills the header and the grant list
 * before it publishes the page's grant reference; afterwards either side
 * may write anything here, so the listener (S) reads each header field
 * once and checks it before mapping a single data page.
 */
struct afx_ctrl {
	__u32 magic;
	__u32 version;
	__u32 order;		/* data pages per direction = 1 << order */
	__u32 nr_grefs;		/* must equal 2 << order */
	__u8 pad[48];
	struct afx_ring_shared c2s;	/* connector -> listener */
	struct afx_ring_shared s2c;	/* listener -> connector */
	__u32 grefs[];		/* c2s pages, then s2c pages */
};

/*
 * Multicast (mcast.c; docs/protocol.md, "Multicast"): a publisher writes
 * this into each subscriber's control page, past its grant list, before
 * it answers the subscriber's connect.  The subscriber reads each field
 * once and maps the publisher's pages read-only as its receive ring,
 * whose indices stay in its own control page (s2c): prod written by the
 * publisher, cons by the subscriber alone.
 */
#define AFX_MCAST_MAGIC		0x4d584641	/* "AFXM" little-endian */
#define AFX_MCAST_DESC_OFF	0xa00

struct afx_mcast_desc {
	__u32 magic;
	__u32 order;		/* the publisher's pages: 1 << order */
	__u32 start;		/* the index the subscriber joins at */
	__u32 nr_grefs;		/* must equal 1 << order */
	__u32 grefs[AFX_MAX_PAGES];
};

/* ----- One connection's shared memory and event channel (grant.c) ----- */

/*
 * Set up once (afx_conn_offer or afx_conn_accept) and torn down once
 * (afx_conn_release), both under the owning socket's lock.  The rings
 * are used under that same lock.  The interrupt handler only reads the
 * shared page and calls @event; @seen_*, @streak, @storm, @ntf_rx and
 * @ntf_spurious are written by it alone.  @armed_* and @base_* are
 * written under the socket lock each time this side asks the peer for an
 * event (afx_conn_rx_wait), and read by the interrupt handler.
 */
struct afx_conn {
	domid_t peer;
	bool granter;		/* we own the pages (connecting side) */
	unsigned int order;
	unsigned int npages;	/* per direction */
	struct afx_ctrl *ctrl;
	struct page *ctrl_page;
	unsigned int ring_pages;	/* granter: counted in afx_ring_pages */
	grant_ref_t ctrl_gref;	/* granter: our grant of ctrl_page */
	grant_handle_t ctrl_handle;	/* mapper */
	struct page **pages;	/* 2 * npages: c2s then s2c */
	grant_ref_t *grefs;	/* granter */
	grant_handle_t *handles;	/* mapper */
	void *va[2];		/* vmap of each direction: c2s, s2c */
	struct afx_ring tx, rx;
	evtchn_port_t port;	/* our end of the event channel */
	int irq;		/* >0 when bound */
	void (*event)(void *arg);
	void *arg;
	u64 ntf_tx;
	u64 ntf_rx;
	ktime_t event_at;	/* when the last event came (the handler) */
	u64 ntf_spurious;	/* events that brought nothing asked for */
	unsigned int armed_rx, armed_tx;	/* armings so far */
	u32 base_rx, base_tx;	/* peer index at the last arming */
	unsigned int seen_armed_rx, seen_armed_tx;	/* armings answered */
	u32 seen_states;	/* peer state bits seen so far */
	unsigned int streak;
	bool storm;		/* peer flooded us with events */
	/* Multicast subscriber: the publisher's pages, mapped read-only. */
	unsigned int mc_n;
	struct page **mc_pages;
	grant_handle_t *mc_handles;
	void *mc_va;
	/* Loopback in an auto-translated guest (grant.c): no self-mapping. */
	struct list_head self_node;	/* granter: afx_self_lock */
	bool self_offered;	/* granter: on the list of own offers */
	bool self_shared;	/* mapper: pages shared, not grant-mapped */
};

int afx_conn_rx_wait(struct afx_conn *c);
int afx_conn_tx_wait(struct afx_conn *c);
bool afx_conn_peer_gone(struct afx_conn *c);
void afx_conn_vanish(struct afx_conn *c);
int afx_conn_offer(struct afx_conn *c, domid_t peer, unsigned int order);
int afx_conn_accept(struct afx_conn *c, domid_t peer, grant_ref_t ctrl_ref,
		    evtchn_port_t remote_port, unsigned int order);
void afx_conn_release(struct afx_conn *c);
void afx_conn_notify(struct afx_conn *c);
void afx_bury(struct afx_conn *c, unsigned int n);
void afx_reclaim_exit(void);

/*
 * Where a connect's time goes (/proc/net/af_xen_timing, docs/
 * connections.md): each step's count and total, in both roles.  The
 * connector's wait runs from its request's write to the answer read
 * back, so it holds the listener's steps and both watch deliveries.
 */
enum afx_tm {
	AFX_TM_PRESENT,		/* connector: reading the peer's module node */
	AFX_TM_OFFER,		/* connector: grants and event channel */
	AFX_TM_OFFER_PAGES,	/* of which: allocating and granting pages */
	AFX_TM_OFFER_VMAP,	/* of which: mapping them in a row (vmap) */
	AFX_TM_OFFER_EVTCHN,	/* of which: the event channel and its irq */
	AFX_TM_WATCH,		/* connector: the watch on the answer node */
	AFX_TM_WRITE,		/* connector: writing the request */
	AFX_TM_WAIT,		/* connector: request written to answer read */
	AFX_TM_FINISH,		/* connector: answer read to established */
	AFX_TM_READ,		/* listener: reading the request */
	AFX_TM_MAP,		/* listener: mapping the control and data pages */
	AFX_TM_BIND,		/* listener: binding the event channel */
	AFX_TM_ANSWER,		/* listener: writing the answer */
	/* Stream data (data.c, link.c): where a send or a receive goes. */
	AFX_TM_SEND,		/* sendmsg(), whole */
	AFX_TM_SEND_COPY,	/* copying into the ring */
	AFX_TM_SEND_NOTIFY,	/* the event to a waiting reader (hypercall) */
	AFX_TM_SEND_WAIT,	/* asleep, waiting for room */
	AFX_TM_RECV,		/* recvmsg(), whole */
	AFX_TM_RECV_COPY,	/* copying out of the ring */
	AFX_TM_RECV_NOTIFY,	/* the event to a waiting writer */
	AFX_TM_RECV_WAIT,	/* asleep, waiting for data (after asking) */
	AFX_TM_RECV_WAKE,	/* the event's arrival to the reader running */
	AFX_TM_RECV_LINGER,	/* the short wait without asking (rx_linger_us) */
	AFX_TM_NR
};

void afx_tm_add(enum afx_tm step, ktime_t since);
extern atomic64_t afx_tm_ns[AFX_TM_NR];
extern atomic_t afx_tm_count[AFX_TM_NR];

/* grant.c's mapping, for mcast.c too. */
int afx_map_refs(domid_t peer, const grant_ref_t *refs, unsigned int n,
		 bool ro, struct page **pages, grant_handle_t *handles,
		 void **vap);
void afx_unmap(unsigned int n, struct page **pages, grant_handle_t *handles,
	       void **vap);
/* The cap on ring memory (ring_memory_max_mb), publishers' pages too. */
int afx_ring_pages_get(domid_t peer, unsigned int n);
void afx_ring_pages_put(unsigned int n);

/* Between grant.c and selfmap.c (loopback in auto-translated guests). */
int afx_conn_check_ctrl(struct afx_conn *c, grant_ref_t *refs,
			grant_ref_t ctrl_ref);
void *afx_vmap(struct page **pages, unsigned int n, bool ro);
void afx_conn_free_arrays(struct afx_conn *c);
bool afx_self_shared(domid_t peer);
void afx_self_offer(struct afx_conn *c);
void afx_self_withdraw(struct afx_conn *c);
int afx_self_map(struct afx_conn *c, grant_ref_t ctrl_ref);
void afx_self_unmap(struct afx_conn *c);

extern atomic_t afx_nr_grants, afx_nr_mapped, afx_nr_evtchns, afx_nr_leaked;
extern atomic_t afx_ring_pages;
extern atomic_long_t afx_nr_events, afx_nr_spurious;
extern atomic_t afx_streak_max, afx_nr_storms;

/*
 * This many events in a row that we had not asked for: a flood.  The
 * event core delays a port 1, 2, 4, ... jiffies after each spurious
 * event, so at HZ=250 the eighth arrives about a quarter second in.
 */
#define AFX_STORM_STREAK	8

/* ----- Rendezvous through xenstore (xs.c) ----- */

#define AFX_XS_PATH_MAX		96

/*
 * What a module node says: 1, the xenstore rendezvous only; 2, control
 * channels as well (chan.c); 3, multicast subscriptions too (mcast.c).
 */
#define AFX_MODULE_VERSION	3
#define AFX_MODULE_CHAN		2
#define AFX_MODULE_MCAST	3

struct afx_chan;

/*
 * A connect request in flight, owned by the connecting socket (its lock),
 * asked through xenstore or over a control channel (@via_chan).
 */
struct afx_xs_req {
	domid_t peer;
	u32 sport;
	u32 cport;
	u64 nonce;
	u32 type;		/* AFX_REQ_STREAM or AFX_REQ_SEQPACKET */
	int result;		/* 1 while unanswered, else 0 or -errno */
	bool active;		/* request node written, watch registered */
	void (*answered)(struct afx_xs_req *req);
	ktime_t sent;		/* when the request was written */
	ktime_t got;		/* when its answer was read */
	struct xenbus_watch watch;	/* on the listener's answer node */
	char req_path[AFX_XS_PATH_MAX];
	char ans_path[AFX_XS_PATH_MAX];
	bool via_chan;
	struct afx_chan *chan;		/* afx_chan_plock: while unanswered */
	struct list_head chan_node;	/* afx_chan_plock: on chan's pending */
};

/* What a listener is asked for; filled in by xs.c from the request. */
struct afx_xs_incoming {
	domid_t peer;
	u32 sport;
	u32 cport;
	u64 nonce;
	grant_ref_t gref;
	evtchn_port_t port;
	unsigned int order;
	u32 type;		/* socket type asked for, not yet checked */
};

int afx_xs_init(void);
void afx_xs_exit(void);
domid_t afx_xs_self(void);
int afx_xs_prepare(void);
int afx_xs_peer_present(domid_t peer);
int afx_xs_request(struct afx_xs_req *req, const struct afx_conn *c);
void afx_xs_request_done(struct afx_xs_req *req);
int afx_xs_answer(const struct afx_xs_incoming *in, int err);
int afx_xs_peer_get(domid_t peer, bool chan);
void afx_xs_peer_put(domid_t peer, bool chan);
int afx_xs_nr_watches(bool chan);

/*
 * ----- Control channels (chan.c; docs/protocol.md) -----
 *
 * Records on a channel's rings, native byte order.  A channel is asked
 * for through xenstore as a connection of type AFX_REQ_CHAN from port
 * AFX_CHAN_CPORT to port AFX_CHAN_SPORT, with one page per direction.
 * A connector has at most AFX_CHAN_INFLIGHT requests unanswered, so
 * neither direction's ring is ever full between correct peers.
 */
#define AFX_CHAN_SPORT		0
#define AFX_CHAN_CPORT		0xffffffffu
#define AFX_CHAN_INFLIGHT	64
#define AFX_CHAN_CONNECT	1
#define AFX_CHAN_ANSWER		2

/* Connector to listener: what a request node holds, and its ports. */
struct afx_chan_connect {
	__u32 op;		/* AFX_CHAN_CONNECT */
	__u32 sport;
	__u32 cport;
	__u32 type;		/* AFX_REQ_*, never AFX_REQ_CHAN */
	__u32 gref;
	__u32 evtchn;
	__u32 order;
	__u32 pad;		/* zero */
	__u64 nonce;
};

/* Listener to connector: what an answer node holds, and its ports. */
struct afx_chan_answer {
	__u32 op;		/* AFX_CHAN_ANSWER */
	__u32 err;		/* positive errno; 0 accepted */
	__u32 sport;
	__u32 cport;
	__u64 nonce;
};

int afx_chan_init(void);
void afx_chan_exit(void);
bool afx_chan_up(domid_t peer);
void afx_chan_want(domid_t peer);
int afx_chan_request(struct afx_xs_req *req, const struct afx_conn *c);
void afx_chan_withdraw(struct afx_xs_req *req);
void afx_chan_peer_gone(domid_t peer);
struct seq_file;
void afx_chan_show(struct seq_file *seq);
extern atomic_t afx_nr_chans, afx_chan_grants, afx_chan_mapped;
extern atomic_t afx_chan_evtchns;
extern atomic_long_t afx_chan_connects, afx_xs_connects;

/* link.c, called by xs.c in process context from afx_wq. */
int afx_link_incoming(const struct afx_xs_incoming *in);
void afx_link_peer_gone(domid_t peer);

extern struct workqueue_struct *afx_wq;

/* mcast.c: the subscriber's side, under its socket lock (link.c). */
int afx_mcast_attach(struct afx_conn *c);
void afx_mcast_detach(struct afx_conn *c);
void afx_mcast_peer_gone(domid_t peer);

#endif /* AFX_H */
