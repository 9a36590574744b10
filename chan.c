// SPDX-License-Identifier: GPL-2.0
/*
 * af_xen per-peer control channel: one small ring pair and event channel
 * between two domains, set up once through xenstore, that then carries
 * the connect request and its answer for every later connection between
 * them.  Such a connect makes no xenstore round trip at all, where the
 * xenstore rendezvous makes nine (docs/connections.md); the record format
 * is in docs/protocol.md, "Control channel".
 *
 * Each module sets up at most one channel *to* each peer ("out": it sends
 * CONNECT records and reads ANSWER records) and accepts at most one *from*
 * each peer ("in"), so two domains never race to create the same one.
 * A peer whose module node does not offer channels, or that refuses one,
 * is asked through xenstore, as it always was; so is every peer while its
 * channel is being set up, or when it has too many connects in flight.
 *
 * Locking:
 *   - afx_chan_lock (mutex) protects afx_chans and each channel's @state,
 *     @conn_up and @peer_ref.  A connect takes it under its socket lock;
 *     nothing here takes a socket lock under it.
 *   - afx_chan_plock (spinlock, bh) protects every channel's tx ring,
 *     @pending and @inflight, and each request's @chan and @chan_node.
 *     It nests inside afx_chan_lock.
 *   - A channel's rx ring is read only by its rx_work.  rx_work, the
 *     peer-gone work and every destruction (module exit's too) run on the
 *     ordered afx_wq, so no two of them ever run at once.
 */
#include "link.h"
#include "parse.h"

#include <linux/random.h>
#include <linux/ratelimit.h>
#include <linux/seq_file.h>
#include <linux/slab.h>

enum afx_chan_state {
	AFX_CHAN_NEW,		/* out: set-up work queued */
	AFX_CHAN_SETUP,		/* out: request written, awaiting the answer */
	AFX_CHAN_UP,
	AFX_CHAN_FAILED,	/* out: refused or unanswered; retried later */
	AFX_CHAN_DEAD,		/* unlinked, being destroyed */
};

struct afx_chan {
	struct list_head node;		/* afx_chan_lock: afx_chans */
	domid_t peer;
	bool out;
	enum afx_chan_state state;	/* afx_chan_lock */
	bool conn_up;			/* afx_chan_lock */
	bool peer_ref;			/* afx_chan_lock */
	unsigned long retry;		/* afx_chan_lock: FAILED until then */
	struct afx_conn conn;
	struct afx_xs_req req;		/* out: the set-up request */
	struct list_head pending;	/* afx_chan_plock: requests sent */
	unsigned int inflight;		/* afx_chan_plock: sent, unanswered */
	struct work_struct rx_work;	/* afx_wq */
	struct delayed_work setup_work;	/* system_wq: out only */
};

static_assert(AFX_CHAN_INFLIGHT * (AFX_REC_HDR +
				   sizeof(struct afx_chan_connect)) <= PAGE_SIZE);

static DEFINE_MUTEX(afx_chan_lock);
static LIST_HEAD(afx_chans);		/* afx_chan_lock */
static DEFINE_SPINLOCK(afx_chan_plock);

atomic_t afx_nr_chans = ATOMIC_INIT(0);
atomic_t afx_chan_grants = ATOMIC_INIT(0);
atomic_t afx_chan_mapped = ATOMIC_INIT(0);
atomic_t afx_chan_evtchns = ATOMIC_INIT(0);
atomic_long_t afx_chan_connects = ATOMIC_LONG_INIT(0);
atomic_long_t afx_xs_connects = ATOMIC_LONG_INIT(0);

/* A refused or unanswered set-up is tried again after this long. */
#define AFX_CHAN_RETRY		(30 * HZ)
#define AFX_CHAN_TIMEOUT	(5 * HZ)

static void afx_chan_destroy(struct afx_chan *ch);

/* ----- Records ----- */

static size_t afx_chan_put(void *ctx, void *ring, size_t len)
{
	u8 **p = ctx;

	memcpy(ring, *p, len);
	*p += len;
	return len;
}

static size_t afx_chan_get(void *ctx, void *ring, size_t len)
{
	u8 **p = ctx;

	memcpy(*p, ring, len);
	*p += len;
	return len;
}

/*
 * Under afx_chan_plock.  The caller's own bound on what is in flight
 * keeps a correct peer's ring from ever being full, so a full one is
 * the peer's doing (-EAGAIN, or -EPROTO from its indices).
 */
static int afx_chan_send(struct afx_chan *ch, const void *msg, size_t len,
			 bool *kick)
{
	u8 *p = (u8 *)msg;
	long n;

	n = afx_ring_write_rec(&ch->conn.tx, afx_chan_put, &p, len, 0);
	if (n < 0)
		return n;
	*kick = afx_ring_tx_kick(&ch->conn.tx);
	return 0;
}

/*
 * The peer's view of the channel went bad (reset, a lie in the ring, a
 * storm): it is destroyed, and connects to the peer go through xenstore
 * until a new one is up.  Called from rx_work, on afx_wq.
 */
static void afx_chan_broken(struct afx_chan *ch, const char *why)
{
	if (why)
		pr_warn_ratelimited("domain %u: control channel: %s; closed\n",
				    ch->peer, why);
	afx_chan_destroy(ch);
}

/* ----- Connecting side: requests out, answers in ----- */

static bool afx_chan_match(const struct afx_xs_req *req,
			   const struct afx_chan_answer *a)
{
	return req->nonce == a->nonce && req->sport == a->sport &&
	       req->cport == a->cport;
}

/* Under afx_chan_plock. */
static int afx_chan_answered(struct afx_chan *ch,
			     const struct afx_chan_answer *a)
{
	struct afx_xs_req *req;

	if (a->op != AFX_CHAN_ANSWER || a->err > MAX_ERRNO || !ch->inflight)
		return -EPROTO;
	ch->inflight--;
	list_for_each_entry(req, &ch->pending, chan_node) {
		if (!afx_chan_match(req, a))
			continue;
		list_del_init(&req->chan_node);
		req->chan = NULL;
		req->got = ktime_get();
		afx_tm_add(AFX_TM_WAIT, req->sent);
		/* Pairs with the acquire in link.c's connect_work. */
		smp_store_release(&req->result, -(int)a->err);
		req->answered(req);
		break;
	}
	return 0;	/* an answer to a withdrawn request is dropped */
}

/*
 * Under the connecting socket's lock: ask @req's peer for the connection
 * @c offers over the channel.  -EAGAIN: no channel to use now (none up,
 * or too many requests in flight); the caller asks through xenstore.
 */
int afx_chan_request(struct afx_xs_req *req, const struct afx_conn *c)
{
	struct afx_chan_connect m = {
		.op = AFX_CHAN_CONNECT,
		.sport = req->sport,
		.cport = req->cport,
		.type = req->type,
		.gref = c->ctrl_gref,
		.evtchn = c->port,
		.order = c->order,
	};
	struct afx_chan *ch;
	bool kick = false;
	int err = -EAGAIN;

	mutex_lock(&afx_chan_lock);
	list_for_each_entry(ch, &afx_chans, node)
		if (ch->out && ch->peer == req->peer &&
		    ch->state == AFX_CHAN_UP)
			goto found;
	goto out;
found:
	req->nonce = get_random_u64();
	req->result = 1;
	m.nonce = req->nonce;
	spin_lock_bh(&afx_chan_plock);
	if (ch->inflight < AFX_CHAN_INFLIGHT)
		err = afx_chan_send(ch, &m, sizeof(m), &kick);
	if (!err) {
		ch->inflight++;
		list_add_tail(&req->chan_node, &ch->pending);
		req->chan = ch;
		req->via_chan = true;
		req->active = true;
		req->sent = ktime_get();
	}
	spin_unlock_bh(&afx_chan_plock);
	if (kick)
		afx_conn_notify(&ch->conn);
	if (err && err != -EAGAIN) {
		pr_warn_ratelimited("domain %u: control channel refuses requests (%d)\n",
				    req->peer, err);
		err = -EAGAIN;
	}
	if (!err)
		atomic_long_inc(&afx_chan_connects);
out:
	mutex_unlock(&afx_chan_lock);
	return err;
}

/* Under the socket lock: the request is done with, answered or not. */
void afx_chan_withdraw(struct afx_xs_req *req)
{
	spin_lock_bh(&afx_chan_plock);
	if (req->chan) {
		list_del_init(&req->chan_node);
		req->chan = NULL;
	}
	spin_unlock_bh(&afx_chan_plock);
}

/* ----- Listening side: requests in, answers out ----- */

static const char *afx_chan_incoming(struct afx_chan *ch,
				     const struct afx_chan_connect *m)
{
	struct afx_chan_answer a = {
		.op = AFX_CHAN_ANSWER,
		.nonce = m->nonce,
		.sport = m->sport,
		.cport = m->cport,
	};
	struct afx_xs_incoming in = {
		.peer = ch->peer,
		.sport = m->sport,
		.cport = m->cport,
		.nonce = m->nonce,
		.gref = m->gref,
		.port = m->evtchn,
		.order = m->order,
		.type = m->type,
	};
	bool kick = false;
	int err;

	if (m->op != AFX_CHAN_CONNECT || m->pad)
		return "malformed request";
	/* A channel is set up through xenstore only. */
	err = m->type == AFX_REQ_CHAN ? -EPROTO : afx_link_incoming(&in);
	a.err = -err;
	spin_lock_bh(&afx_chan_plock);
	err = afx_chan_send(ch, &a, sizeof(a), &kick);
	spin_unlock_bh(&afx_chan_plock);
	if (kick)
		afx_conn_notify(&ch->conn);
	/* No room: more in flight than allowed, or answers left unread. */
	return err ? "no room for an answer" : NULL;
}

/* ----- Both: the event and the reader ----- */

static void afx_chan_event(void *arg)
{
	struct afx_chan *ch = arg;

	if (READ_ONCE(ch->state) == AFX_CHAN_UP)
		queue_work(afx_wq, &ch->rx_work);
}

/* One record, or the reason the channel must close. */
static const char *afx_chan_one(struct afx_chan *ch, u32 len)
{
	union {
		struct afx_chan_connect c;
		struct afx_chan_answer a;
	} m;
	size_t want = ch->out ? sizeof(m.a) : sizeof(m.c);
	u8 *p = (u8 *)&m;
	u32 reclen;
	int err;

	if (len != want)
		return "record of the wrong size";
	if (afx_ring_read_rec(&ch->conn.rx, afx_chan_get, &p, want, false,
			      &reclen) != want)
		return "record unreadable";
	if (ch->out) {
		spin_lock_bh(&afx_chan_plock);
		err = afx_chan_answered(ch, &m.a);
		spin_unlock_bh(&afx_chan_plock);
		return err ? "malformed or unrequested answer" : NULL;
	}
	return afx_chan_incoming(ch, &m.c);
}

static void afx_chan_rx_work(struct work_struct *work)
{
	struct afx_chan *ch = container_of(work, struct afx_chan, rx_work);
	struct afx_conn *c = &ch->conn;
	const char *why;
	u32 len;
	int n;

	if (ch->state != AFX_CHAN_UP)
		return;
	for (;;) {
		n = afx_ring_rec_avail(&c->rx, &len);
		if (n < 0 || READ_ONCE(c->storm)) {
			afx_chan_broken(ch, n < 0 ? "protocol violation" :
					"event storm");
			return;
		}
		if (afx_ring_peer_reset(&c->rx) || afx_ring_peer_reset(&c->tx)) {
			afx_chan_broken(ch, NULL);
			return;
		}
		if (n == 0) {
			if (afx_conn_rx_wait(c) == 0)
				return;
			continue;
		}
		why = afx_chan_one(ch, len);
		if (why) {
			afx_chan_broken(ch, why);
			return;
		}
	}
}

/* ----- Life and death ----- */

/*
 * A channel's grants, maps and event channel are the peer's, not any
 * connection's: af_xen_stat counts them apart, so that a leak test's
 * baseline does not depend on whether a channel was set up meanwhile.
 */
static void afx_chan_count(struct afx_chan *ch, int sign)
{
	int n = sign * (1 + 2 * (int)ch->conn.npages);

	if (ch->out) {
		atomic_sub(n, &afx_nr_grants);
		atomic_add(n, &afx_chan_grants);
	} else {
		atomic_sub(n, &afx_nr_mapped);
		atomic_add(n, &afx_chan_mapped);
	}
	atomic_sub(sign, &afx_nr_evtchns);
	atomic_add(sign, &afx_chan_evtchns);
}

static void afx_chan_conn_up(struct afx_chan *ch)
{
	ch->conn_up = true;
	afx_chan_count(ch, 1);
}

/* The peer is told (reset), then everything the pages held goes back. */
static void afx_chan_conn_down(struct afx_chan *ch)
{
	if (!ch->conn_up)
		return;
	afx_ring_tx_set_state(&ch->conn.tx, AFX_RING_RESET);
	afx_ring_rx_set_state(&ch->conn.rx, AFX_RING_RESET);
	afx_conn_notify(&ch->conn);
	afx_chan_count(ch, -1);
	afx_conn_release(&ch->conn);
	ch->conn_up = false;
}

static void afx_chan_peer_put(struct afx_chan *ch)
{
	if (ch->peer_ref)
		afx_xs_peer_put(ch->peer, true);
	ch->peer_ref = false;
}

/* Every request still waiting on @ch fails now. */
static void afx_chan_fail_pending(struct afx_chan *ch)
{
	struct afx_xs_req *req, *tmp;

	spin_lock_bh(&afx_chan_plock);
	list_for_each_entry_safe(req, tmp, &ch->pending, chan_node) {
		list_del_init(&req->chan_node);
		req->chan = NULL;
		/* Pairs with the acquire in link.c's connect_work. */
		smp_store_release(&req->result, -ECONNRESET);
		req->answered(req);
	}
	ch->inflight = 0;
	spin_unlock_bh(&afx_chan_plock);
}

/* On afx_wq. */
static void afx_chan_destroy(struct afx_chan *ch)
{
	mutex_lock(&afx_chan_lock);
	list_del(&ch->node);
	ch->state = AFX_CHAN_DEAD;
	mutex_unlock(&afx_chan_lock);
	if (ch->out) {
		/* It sees DEAD and stops; the watch can requeue it no more. */
		afx_xs_request_done(&ch->req);
		cancel_delayed_work_sync(&ch->setup_work);
	}
	afx_chan_fail_pending(ch);
	afx_chan_conn_down(ch);
	/* Not running (afx_wq is ordered) and, unbound, never queued again. */
	cancel_work(&ch->rx_work);
	afx_chan_peer_put(ch);
	atomic_dec(&afx_nr_chans);
	kfree(ch);
}

static struct afx_chan *afx_chan_alloc(domid_t peer, bool out)
{
	struct afx_chan *ch = kzalloc(sizeof(*ch), GFP_KERNEL);

	if (!ch)
		return NULL;
	ch->peer = peer;
	ch->out = out;
	INIT_LIST_HEAD(&ch->pending);
	INIT_WORK(&ch->rx_work, afx_chan_rx_work);
	atomic_inc(&afx_nr_chans);
	return ch;
}

static void afx_chan_conn_init(struct afx_chan *ch)
{
	memset(&ch->conn, 0, sizeof(ch->conn));
	ch->conn.event = afx_chan_event;
	ch->conn.arg = ch;
}

/* Under afx_chan_lock: up, and listening for records. */
static void afx_chan_start(struct afx_chan *ch)
{
	WRITE_ONCE(ch->state, AFX_CHAN_UP);
	if (afx_conn_rx_wait(&ch->conn) != 0)
		queue_work(afx_wq, &ch->rx_work);
}

/* ----- Out: set-up through xenstore ----- */

static void afx_chan_answer_cb(struct afx_xs_req *req)
{
	struct afx_chan *ch = container_of(req, struct afx_chan, req);

	mod_delayed_work(system_wq, &ch->setup_work, 0);
}

/* NEW: offer the pages and ask the peer through xenstore. */
static int afx_chan_ask(struct afx_chan *ch)
{
	int err;

	afx_chan_conn_init(ch);
	err = afx_conn_offer(&ch->conn, ch->peer, 0);
	if (err)
		return err;
	afx_chan_conn_up(ch);
	err = afx_xs_peer_get(ch->peer, true);
	if (err)
		return err;
	ch->peer_ref = true;
	ch->req.peer = ch->peer;
	ch->req.sport = AFX_CHAN_SPORT;
	ch->req.cport = AFX_CHAN_CPORT;
	ch->req.type = AFX_REQ_CHAN;
	ch->req.answered = afx_chan_answer_cb;
	return afx_xs_request(&ch->req, &ch->conn);
}

static void afx_chan_failed(struct afx_chan *ch, int err)
{
	pr_info_ratelimited("domain %u: no control channel (%d); connects go through xenstore\n",
			    ch->peer, err);
	ch->state = AFX_CHAN_FAILED;
	ch->retry = jiffies + AFX_CHAN_RETRY;
	afx_xs_request_done(&ch->req);
	afx_chan_conn_down(ch);
	afx_chan_peer_put(ch);
}

static void afx_chan_setup_work(struct work_struct *work)
{
	struct afx_chan *ch = container_of(to_delayed_work(work),
					   struct afx_chan, setup_work);
	int err;

	mutex_lock(&afx_chan_lock);
	if (ch->state == AFX_CHAN_NEW) {
		err = afx_chan_ask(ch);
		if (err) {
			afx_chan_failed(ch, err);
		} else {
			ch->state = AFX_CHAN_SETUP;
			queue_delayed_work(system_wq, &ch->setup_work,
					   AFX_CHAN_TIMEOUT);
		}
	} else if (ch->state == AFX_CHAN_SETUP) {
		/* Pairs with the release in xs.c's answer callback. */
		err = smp_load_acquire(&ch->req.result);
		if (err) {
			afx_chan_failed(ch, err == 1 ? -ETIMEDOUT : err);
		} else {
			afx_xs_request_done(&ch->req);
			afx_chan_start(ch);
		}
	}
	mutex_unlock(&afx_chan_lock);
}

/*
 * A connect to @peer, whose module node offers channels, found none up:
 * start setting one up, in the background.  This connect and any until
 * the channel is up go through xenstore.
 */
void afx_chan_want(domid_t peer)
{
	struct afx_chan *ch;

	mutex_lock(&afx_chan_lock);
	list_for_each_entry(ch, &afx_chans, node) {
		if (!ch->out || ch->peer != peer)
			continue;
		if (ch->state == AFX_CHAN_FAILED &&
		    time_after(jiffies, ch->retry)) {
			ch->state = AFX_CHAN_NEW;
			queue_delayed_work(system_wq, &ch->setup_work, 0);
		}
		goto out;
	}
	ch = afx_chan_alloc(peer, true);
	if (!ch)
		goto out;
	INIT_DELAYED_WORK(&ch->setup_work, afx_chan_setup_work);
	ch->state = AFX_CHAN_NEW;
	list_add(&ch->node, &afx_chans);
	queue_delayed_work(system_wq, &ch->setup_work, 0);
out:
	mutex_unlock(&afx_chan_lock);
}

/* Is a channel to @peer up?  Then the peer's module is there too. */
bool afx_chan_up(domid_t peer)
{
	struct afx_chan *ch;
	bool up = false;

	mutex_lock(&afx_chan_lock);
	list_for_each_entry(ch, &afx_chans, node)
		if (ch->out && ch->peer == peer && ch->state == AFX_CHAN_UP)
			up = true;
	mutex_unlock(&afx_chan_lock);
	return up;
}

static const char *const afx_chan_names[] = {
	[AFX_CHAN_NEW] = "new",
	[AFX_CHAN_SETUP] = "setup",
	[AFX_CHAN_UP] = "up",
	[AFX_CHAN_FAILED] = "failed",
	[AFX_CHAN_DEAD] = "dead",
};

/* /proc/net/af_xen_chan: "peer <domid> <out|in> <state> inflight <n>". */
void afx_chan_show(struct seq_file *seq)
{
	struct afx_chan *ch;
	unsigned int n;

	mutex_lock(&afx_chan_lock);
	list_for_each_entry(ch, &afx_chans, node) {
		spin_lock_bh(&afx_chan_plock);
		n = ch->inflight;
		spin_unlock_bh(&afx_chan_plock);
		seq_printf(seq, "peer %u %s %s inflight %u\n", ch->peer,
			   ch->out ? "out" : "in", afx_chan_names[ch->state], n);
	}
	mutex_unlock(&afx_chan_lock);
}

/* ----- In: a peer's set-up request (xs.c's work, on afx_wq) ----- */

static struct afx_chan *afx_chan_find_in(domid_t peer)
{
	struct afx_chan *ch, *found = NULL;

	mutex_lock(&afx_chan_lock);
	list_for_each_entry(ch, &afx_chans, node)
		if (!ch->out && ch->peer == peer)
			found = ch;
	mutex_unlock(&afx_chan_lock);
	return found;
}

static int afx_chan_accept(const struct afx_xs_incoming *in)
{
	struct afx_chan *ch;
	int err;

	if (in->order || in->sport != AFX_CHAN_SPORT ||
	    in->cport != AFX_CHAN_CPORT)
		return -EPROTO;
	/* The peer's module was reloaded: its old channel is dead to it. */
	ch = afx_chan_find_in(in->peer);
	if (ch)
		afx_chan_destroy(ch);
	ch = afx_chan_alloc(in->peer, false);
	if (!ch)
		return -ENOMEM;
	afx_chan_conn_init(ch);
	err = afx_conn_accept(&ch->conn, in->peer, in->gref, in->port, 0);
	if (err)
		goto fail;
	afx_chan_conn_up(ch);
	err = afx_xs_peer_get(in->peer, true);
	if (err)
		goto fail;
	ch->peer_ref = true;
	mutex_lock(&afx_chan_lock);
	list_add(&ch->node, &afx_chans);
	afx_chan_start(ch);
	mutex_unlock(&afx_chan_lock);
	return 0;
fail:
	afx_chan_conn_down(ch);
	afx_chan_peer_put(ch);
	atomic_dec(&afx_nr_chans);
	kfree(ch);
	return err;
}

/* ----- The peer's death, and module exit ----- */

/* On afx_wq: @peer's module or domain is gone; so are its channels. */
void afx_chan_peer_gone(domid_t peer)
{
	struct afx_chan *ch;

	for (;;) {
		struct afx_chan *found = NULL;

		mutex_lock(&afx_chan_lock);
		list_for_each_entry(ch, &afx_chans, node)
			if (ch->peer == peer)
				found = ch;
		mutex_unlock(&afx_chan_lock);
		if (!found)
			return;
		afx_chan_destroy(found);
	}
}

int afx_chan_init(void)
{
	return afx_link_register(AFX_REQ_CHAN, afx_chan_accept);
}

static void afx_chan_exit_work(struct work_struct *work)
{
	struct afx_chan *ch;

	for (;;) {
		mutex_lock(&afx_chan_lock);
		ch = list_first_entry_or_null(&afx_chans, struct afx_chan,
					      node);
		mutex_unlock(&afx_chan_lock);
		if (!ch)
			return;
		afx_chan_destroy(ch);
	}
}

/*
 * After the request watch is gone, before afx_wq is: the channels are
 * destroyed on afx_wq, like every other destruction, so that no rx_work
 * can run beside one.
 */
void afx_chan_exit(void)
{
	struct work_struct w;

	afx_link_unregister(AFX_REQ_CHAN);
	INIT_WORK_ONSTACK(&w, afx_chan_exit_work);
	queue_work(afx_wq, &w);
	flush_work(&w);
	destroy_work_on_stack(&w);
}
