// SPDX-License-Identifier: GPL-2.0
/*
 * af_xen multicast: one publisher, many subscriber domains, one ring.
 *
 * A publisher is a listening socket with XEN_SO_MULTICAST set.  Its data
 * pages are written once per byte, whatever the number of subscribers,
 * and granted read-only to each subscriber's domain.  A subscriber
 * connects as to any listener; the publisher maps the subscriber's
 * control page as usual, writes into it where its own pages are (struct
 * afx_mcast_desc), and answers.  Each subscriber's indices live in its
 * own control page (the s2c ring): prod written by the publisher, cons
 * by that subscriber alone.  So a subscriber can change nobody's view
 * but its own: the worst it can do is stop reading, which blocks the
 * writer (as in the paper, on the first unread page) until the lag limit
 * drops it, or lie in its cons, which drops it at once.
 *
 * Locking: the publisher's socket lock protects its struct afx_mcast and
 * every subscriber on it.  afx_mcast_lock (spinlock) protects
 * afx_publishers and, besides the socket lock, each publisher's list of
 * subscribers: both are held to change it, either to walk it (the
 * peer-death work and /proc/net/af_xen_mcast walk it under the spinlock
 * alone).  It is taken under socket locks and takes none.  The
 * event-channel interrupt of a subscriber only wakes the publisher and
 * queues its reap work.
 */
#include "afx_sock.h"
#include <linux/af_xen.h>

#include <linux/ratelimit.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/uio.h>
#include <linux/vmalloc.h>
#include <linux/sched/signal.h>
#include <net/sock.h>
#include <xen/xen.h>
#include <xen/page.h>

static_assert(offsetof(struct afx_ctrl, grefs) + 8 * AFX_MAX_PAGES <=
	      AFX_MCAST_DESC_OFF);
static_assert(AFX_MCAST_DESC_OFF + sizeof(struct afx_mcast_desc) <=
	      PAGE_SIZE);

/* At most this many subscribers per publisher. */
#define AFX_MCAST_MAX_SUBS	64

/*
 * A publisher's ring unless XEN_SO_RING_SIZE says otherwise: the largest.
 * It is one ring for all subscribers, and the writer waits whenever the
 * slowest is a ring behind, so a deep one absorbs every subscriber's
 * scheduling jitter.  Measured with 3 subscribers: 1 MiB carried 2.5 to
 * 4.2 times what 3 unicast streams did, 128 KiB 0.7 to 1.2 times
 * (docs/design.md, "Where a publisher's time goes").
 */
#define AFX_MCAST_RING		XEN_RING_SIZE_MAX

struct afx_msub {
	struct list_head node;		/* the publisher's subs */
	struct afx_mcast *pub;
	struct afx_conn conn;		/* conn.tx: its view of our pages */
	grant_ref_t *grefs;		/* our pages, granted to its domain */
	struct page **gpages;		/* each holding a page reference */
	bool peer_ref;
	ktime_t blocked;		/* since when it kept us waiting; 0 */
};

struct afx_mcast {
	struct afx_sock *xs;
	struct list_head all;		/* afx_mcast_lock: afx_publishers */
	unsigned int npages;
	struct page **pages;
	void *va;
	struct afx_ring w;		/* private: where the next byte goes */
	struct afx_ring_shared w_sh;	/* never shared */
	struct list_head subs;		/* socket lock + afx_mcast_lock */
	unsigned int nsubs;		/* socket lock + afx_mcast_lock */
};

static DEFINE_SPINLOCK(afx_mcast_lock);
static LIST_HEAD(afx_publishers);	/* afx_mcast_lock */

/* ----- Subscribers, publisher side ----- */

/* Interrupt context: a subscriber read, left or misbehaved. */
static void afx_msub_event(void *arg)
{
	struct afx_msub *sub = arg;
	struct sock *sk = &sub->pub->xs->sk;

	afx_sk_wake(sk);
	sock_hold(sk);
	if (!schedule_work(&sub->pub->xs->mcast_work))
		sock_put(sk);
}

/* Our pages' grants to @sub go back once its domain has let them go. */
static void afx_msub_ungrant(struct afx_msub *sub)
{
	struct afx_conn tmp = { .grefs = sub->grefs, .pages = sub->gpages };
	unsigned int i, n = 0;

	if (!sub->grefs)
		return;
	for (i = 0; i < sub->pub->npages && sub->gpages[i]; i++)
		n++;
	afx_bury(&tmp, n);
	kfree(tmp.grefs);
	kfree(tmp.pages);
	sub->grefs = NULL;
	sub->gpages = NULL;
}

/*
 * Under the publisher's lock: @sub goes.  @why (logged) for a drop; NULL
 * for a subscriber that closed, or a publisher that closes (@eof: the
 * subscriber reads what is queued, then end of file).
 */
static void afx_msub_drop(struct afx_msub *sub, const char *why, bool eof)
{
	struct afx_mcast *pub = sub->pub;

	if (why)
		pr_warn_ratelimited("%u:%u multicast subscriber domain %u: %s; dropped\n",
				    afx_xs_self(), pub->xs->link.port,
				    sub->conn.peer, why);
	/*
	 * EOF and CLOSED both ways, as a peer that closes gracefully says:
	 * the subscriber's liveness probe then leaves it to read the rest.
	 */
	afx_ring_tx_set_state(&sub->conn.tx, eof ? AFX_RING_EOF :
			      AFX_RING_RESET);
	afx_ring_rx_set_state(&sub->conn.rx, eof ? AFX_RING_CLOSED :
			      AFX_RING_RESET);
	afx_conn_notify(&sub->conn);
	spin_lock_bh(&afx_mcast_lock);
	list_del(&sub->node);
	pub->nsubs--;
	spin_unlock_bh(&afx_mcast_lock);
	afx_conn_release(&sub->conn);
	afx_msub_ungrant(sub);
	if (sub->peer_ref)
		afx_xs_peer_put(sub->conn.peer, false);
	kfree(sub);
}

/* Grant our pages to @sub's domain, read-only, and tell it where. */
static int afx_msub_grant(struct afx_msub *sub)
{
	struct afx_mcast *pub = sub->pub;
	struct afx_mcast_desc *d = (void *)sub->conn.ctrl + AFX_MCAST_DESC_OFF;
	unsigned int i;
	int r;

	sub->grefs = kcalloc(pub->npages, sizeof(*sub->grefs), GFP_KERNEL);
	sub->gpages = kcalloc(pub->npages, sizeof(*sub->gpages), GFP_KERNEL);
	if (!sub->grefs || !sub->gpages)
		return -ENOMEM;
	for (i = 0; i < pub->npages; i++) {
		r = gnttab_grant_foreign_access(sub->conn.peer,
						xen_page_to_gfn(pub->pages[i]),
						1);
		if (r < 0) {
			pr_warn_ratelimited("domain %u: out of grant references for a multicast subscriber\n",
					    sub->conn.peer);
			return -ENOBUFS;
		}
		sub->grefs[i] = r;
		get_page(pub->pages[i]);
		sub->gpages[i] = pub->pages[i];
		atomic_inc(&afx_nr_grants);
		WRITE_ONCE(d->grefs[i], r);
	}
	WRITE_ONCE(d->order, ilog2(pub->npages));
	WRITE_ONCE(d->nr_grefs, pub->npages);
	WRITE_ONCE(d->start, pub->w.idx);
	smp_wmb();	/* the descriptor before its magic */
	WRITE_ONCE(d->magic, AFX_MCAST_MAGIC);
	return 0;
}

/* Our view of @sub's ring: our pages, its indices, joined at w.idx. */
static void afx_msub_ring(struct afx_msub *sub)
{
	struct afx_mcast *pub = sub->pub;
	struct afx_ring *r = &sub->conn.tx;

	afx_ring_init(r, &sub->conn.ctrl->s2c, pub->va,
		      pub->npages << PAGE_SHIFT);
	r->idx = pub->w.idx;
	r->peer_idx = pub->w.idx;
	WRITE_ONCE(r->sh->cons, pub->w.idx);
	WRITE_ONCE(r->sh->prod, pub->w.idx);
}

/* Rendezvous work, under the publisher's lock: a subscriber joins. */
int afx_mcast_join(struct afx_sock *xs, const struct afx_xs_incoming *in)
{
	struct afx_mcast *pub = xs->mcast;
	struct afx_msub *sub;
	int err;

	if (pub->nsubs >= AFX_MCAST_MAX_SUBS)
		return -ECONNREFUSED;
	/*
	 * An older module would take its own empty ring for the stream and
	 * read nothing, ever: it is refused instead, in words.
	 */
	err = afx_xs_peer_present(in->peer);
	if (err >= 0 && err < AFX_MODULE_MCAST) {
		pr_warn_ratelimited("%u:%u domain %u: its af_xen (version %d) cannot subscribe to a multicast publisher; refused\n",
				    afx_xs_self(), xs->link.port, in->peer, err);
		return -EPROTONOSUPPORT;
	}
	/* Loopback without self-mapping shares pages, not grants: later. */
	if (afx_self_shared(in->peer))
		return -EOPNOTSUPP;
	sub = kzalloc(sizeof(*sub), GFP_KERNEL);
	if (!sub)
		return -ENOMEM;
	sub->pub = pub;
	sub->conn.event = afx_msub_event;
	sub->conn.arg = sub;
	err = afx_conn_accept(&sub->conn, in->peer, in->gref, in->port,
			      in->order);
	if (!err)
		err = afx_msub_grant(sub);
	if (!err)
		err = afx_xs_peer_get(in->peer, false);
	if (err) {
		afx_conn_release(&sub->conn);
		afx_msub_ungrant(sub);
		kfree(sub);
		return err;
	}
	sub->peer_ref = true;
	afx_msub_ring(sub);
	spin_lock_bh(&afx_mcast_lock);
	list_add_tail(&sub->node, &pub->subs);
	pub->nsubs++;
	spin_unlock_bh(&afx_mcast_lock);
	return 0;
}

/* ----- The publisher ----- */

/*
 * Under the lock: the room every healthy subscriber has, dropping those
 * that lied, stormed or left on the way; the whole ring if none is left
 * (what is written then reaches nobody).
 */
static int afx_mcast_room(struct afx_mcast *pub)
{
	struct afx_msub *sub, *tmp;
	int room = pub->w.size, n;

	list_for_each_entry_safe(sub, tmp, &pub->subs, node) {
		n = afx_ring_tx_space(&sub->conn.tx);
		if (n < 0)
			afx_msub_drop(sub, "protocol violation in its indices",
				      false);
		else if (READ_ONCE(sub->conn.storm))
			afx_msub_drop(sub, "event storm", false);
		else if (afx_ring_peer_closed(&sub->conn.tx) ||
			 afx_ring_peer_reset(&sub->conn.tx))
			afx_msub_drop(sub, NULL, false);
		else if (n < room)
			room = n;
	}
	return room;
}

/* Publish what was filled up to @idx to every subscriber. */
static void afx_mcast_publish(struct afx_mcast *pub, u32 idx)
{
	struct afx_msub *sub;
	ktime_t t;

	pub->w.idx = idx;
	list_for_each_entry(sub, &pub->subs, node) {
		afx_ring_publish(&sub->conn.tx, idx);
		sub->blocked = 0;
		if (afx_ring_tx_kick(&sub->conn.tx)) {
			t = ktime_get();
			afx_conn_notify(&sub->conn);
			afx_tm_add(AFX_TM_SEND_NOTIFY, t);
		}
	}
}

/*
 * Under the lock, with less than @need bytes of room: ask the subscribers
 * short of it for an event, drop those past the lag limit.  0 when the
 * caller should sleep: some subscriber is still short after asking, so
 * its event will come.  1 when nobody is short any more (one may have
 * read since the room was counted, and then nobody was asked at all: a
 * sleep then would never end).
 */
static int afx_mcast_wait_room(struct afx_sock *xs, u32 need)
{
	struct afx_mcast *pub = xs->mcast;
	u32 lag = READ_ONCE(xs->mcast_lag_ms);
	struct afx_msub *sub, *tmp;
	ktime_t now = ktime_get();
	int asked = 0, n;

	list_for_each_entry_safe(sub, tmp, &pub->subs, node) {
		if (afx_ring_tx_space(&sub->conn.tx) >= (int)need)
			continue;
		if (!sub->blocked)
			sub->blocked = now;
		if (lag && ktime_ms_delta(now, sub->blocked) >= lag) {
			afx_msub_drop(sub, "lagged past the publisher's limit",
				      false);
			continue;
		}
		n = afx_conn_tx_wait(&sub->conn);
		if (n >= 0 && n < (int)need)
			asked++;
	}
	return !asked;
}

static size_t afx_mcast_copy_in(void *ctx, void *ring, size_t len)
{
	return copy_from_iter(ring, len, ctx);
}

/* Under the lock: fill and publish up to @len bytes (one record if @rec). */
static long afx_mcast_put(struct afx_mcast *pub, struct msghdr *msg,
			  size_t len, bool rec, int room)
{
	ktime_t t;
	long n;

	if (!pub->nsubs) {
		iov_iter_advance(&msg->msg_iter, len);
		return len;
	}
	if (rec) {
		n = afx_ring_fill_rec(&pub->w, afx_mcast_copy_in,
				      &msg->msg_iter, len, 0);
		if (n < 0)
			return n;
		afx_mcast_publish(pub, pub->w.idx + n);
		return len;
	}
	/* A quarter ring at a time, as a stream does (link.c's chunks). */
	n = min_t(size_t, min_t(size_t, len, room),
		  max_t(u32, pub->w.size / 4, PAGE_SIZE));
	t = ktime_get();
	n = afx_ring_fill(&pub->w, afx_mcast_copy_in, &msg->msg_iter, n);
	afx_tm_add(AFX_TM_SEND_COPY, t);
	if (!n)
		return -EFAULT;
	afx_mcast_publish(pub, pub->w.idx + n);
	return n;
}

static long afx_mcast_timeo(struct afx_sock *xs, long timeo)
{
	u32 lag = READ_ONCE(xs->mcast_lag_ms);

	if (!lag)
		return timeo;
	return min_t(long, timeo, max(1UL, msecs_to_jiffies(lag) / 4));
}

/*
 * Under the lock, short of room: ask for events, then sleep unless room
 * came meanwhile.  0 to look again, or -errno (a signal, the timeout).
 */
static int afx_mcast_sleep(struct afx_sock *xs, struct wait_queue_entry *wait,
			   u32 need, long *timeo)
{
	long t;
	ktime_t t0;
	int err;

	if (afx_mcast_wait_room(xs, need))
		return 0;
	t = afx_mcast_timeo(xs, *timeo);
	t0 = ktime_get();
	err = afx_sleep(&xs->sk, wait, &t);
	afx_tm_add(AFX_TM_SEND_WAIT, t0);
	if (!err && *timeo != MAX_SCHEDULE_TIMEOUT)
		*timeo = t;
	return err;
}

/* send() on a publisher: to every subscriber, or (none) to nobody. */
int afx_mcast_sendmsg(struct afx_sock *xs, struct msghdr *msg, size_t len,
		      bool rec)
{
	DEFINE_WAIT_FUNC(wait, woken_wake_function);
	struct sock *sk = &xs->sk;
	ktime_t t0 = ktime_get();
	size_t sent = 0;
	long timeo, n;
	int err = 0, room;

	if (rec && len > xs->mcast->w.size - AFX_REC_HDR)
		return -EMSGSIZE;
	lock_sock(sk);
	timeo = sock_sndtimeo(sk, msg->msg_flags & MSG_DONTWAIT);
	add_wait_queue(sk_sleep(sk), &wait);
	while (sent < len && xs->mcast) {
		u32 need = rec ? AFX_REC_HDR + len : 1;

		room = afx_mcast_room(xs->mcast);
		if (room < (int)need) {
			err = afx_mcast_sleep(xs, &wait, need, &timeo);
			if (err)
				break;
			continue;
		}
		n = afx_mcast_put(xs->mcast, msg, len - sent, rec, room);
		if (n < 0) {
			err = n;
			break;
		}
		sent += n;
	}
	remove_wait_queue(sk_sleep(sk), &wait);
	if (!xs->mcast && !sent)
		err = -EPIPE;
	release_sock(sk);
	afx_tm_add(AFX_TM_SEND, t0);
	return sent ? sent : err;
}

/* Under the lock: writable when every subscriber has room for @need. */
__poll_t afx_mcast_poll(struct afx_sock *xs, u32 need)
{
	if (afx_mcast_room(xs->mcast) >= (int)need)
		return EPOLLOUT | EPOLLWRNORM;
	afx_mcast_wait_room(xs, need);
	return afx_mcast_room(xs->mcast) >= (int)need ?
	       EPOLLOUT | EPOLLWRNORM : 0;
}

int afx_mcast_subscribers(struct afx_sock *xs)
{
	return xs->mcast ? xs->mcast->nsubs : -EINVAL;
}

/* Work: subscribers that left while nobody wrote are let go. */
static void afx_mcast_reap(struct work_struct *work)
{
	struct afx_sock *xs = container_of(work, struct afx_sock, mcast_work);

	lock_sock(&xs->sk);
	if (xs->mcast)
		afx_mcast_room(xs->mcast);
	release_sock(&xs->sk);
	sock_put(&xs->sk);	/* the reference it was queued with */
}

void afx_mcast_init(struct afx_sock *xs)
{
	INIT_WORK(&xs->mcast_work, afx_mcast_reap);
}

static void afx_mcast_free_pages(struct afx_mcast *pub)
{
	unsigned int i;

	if (pub->va)
		vunmap(pub->va);
	for (i = 0; i < pub->npages && pub->pages; i++)
		if (pub->pages[i])
			__free_page(pub->pages[i]);
	kfree(pub->pages);
	afx_ring_pages_put(pub->npages);
}

/* listen() on a socket with XEN_SO_MULTICAST: its pages. */
int afx_mcast_create(struct afx_sock *xs)
{
	struct afx_mcast *pub = kzalloc(sizeof(*pub), GFP_KERNEL);
	unsigned int i;

	if (!pub)
		return -ENOMEM;
	if (!xs->ring_size_set)
		xs->ring_size = AFX_MCAST_RING;
	pub->xs = xs;
	INIT_LIST_HEAD(&pub->subs);
	pub->npages = xs->ring_size >> PAGE_SHIFT;
	if (afx_ring_pages_get(afx_xs_self(), pub->npages)) {
		kfree(pub);
		return -ENOMEM;
	}
	pub->pages = kcalloc(pub->npages, sizeof(*pub->pages), GFP_KERNEL);
	for (i = 0; pub->pages && i < pub->npages; i++) {
		pub->pages[i] = alloc_page(GFP_KERNEL | __GFP_ZERO |
					   __GFP_NORETRY | __GFP_NOWARN);
		if (!pub->pages[i])
			break;
	}
	if (pub->pages && i == pub->npages)
		pub->va = vmap(pub->pages, pub->npages, VM_MAP, PAGE_KERNEL);
	if (!pub->va) {
		afx_mcast_free_pages(pub);
		kfree(pub);
		return -ENOMEM;
	}
	afx_ring_init(&pub->w, &pub->w_sh, pub->va, xs->ring_size);
	xs->mcast = pub;
	spin_lock_bh(&afx_mcast_lock);
	list_add(&pub->all, &afx_publishers);
	spin_unlock_bh(&afx_mcast_lock);
	return 0;
}

/*
 * Under the lock, at close: every subscriber reads what is queued, then
 * end of file.  The pages are freed when the last subscriber's domain has
 * let go of them (afx_bury holds a reference per grant).
 */
void afx_mcast_destroy(struct afx_sock *xs)
{
	struct afx_mcast *pub = xs->mcast;
	struct afx_msub *sub, *tmp;

	if (!pub)
		return;
	spin_lock_bh(&afx_mcast_lock);
	list_del(&pub->all);
	spin_unlock_bh(&afx_mcast_lock);
	list_for_each_entry_safe(sub, tmp, &pub->subs, node)
		afx_msub_drop(sub, NULL, true);
	if (cancel_work(&xs->mcast_work))
		sock_put(&xs->sk);
	xs->mcast = NULL;
	afx_mcast_free_pages(pub);
	kfree(pub);
}

/* Rendezvous work: @peer's domain is gone; so are its subscriptions. */
void afx_mcast_peer_gone(domid_t peer)
{
	struct afx_mcast *pub;
	struct afx_msub *sub, *tmp;
	struct afx_sock *found;

	for (;;) {
		found = NULL;
		spin_lock_bh(&afx_mcast_lock);
		list_for_each_entry(pub, &afx_publishers, all) {
			list_for_each_entry(sub, &pub->subs, node)
				if (sub->conn.peer == peer)
					found = pub->xs;
			if (found)
				break;
		}
		if (found)
			sock_hold(&found->sk);
		spin_unlock_bh(&afx_mcast_lock);
		if (!found)
			return;
		lock_sock(&found->sk);
		pub = found->mcast;
		if (pub)
			list_for_each_entry_safe(sub, tmp, &pub->subs, node)
				if (sub->conn.peer == peer)
					afx_msub_drop(sub, "its domain is gone",
						      false);
		release_sock(&found->sk);
		sock_put(&found->sk);
	}
}

/*
 * /proc/net/af_xen_mcast: each publisher, then each of its subscribers
 * with what it has not read yet and the requests standing in its page.
 * A snapshot, taken without the publishers' socket locks.
 */
void afx_mcast_show(struct seq_file *seq)
{
	struct afx_mcast *pub;
	struct afx_msub *sub;
	struct afx_ring *r;

	spin_lock_bh(&afx_mcast_lock);
	list_for_each_entry(pub, &afx_publishers, all) {
		seq_printf(seq, "publisher %u:%u ring %u subscribers %u written %u\n",
			   afx_xs_self(), pub->xs->link.port, pub->w.size,
			   pub->nsubs, READ_ONCE(pub->w.idx));
		list_for_each_entry(sub, &pub->subs, node) {
			r = &sub->conn.tx;
			seq_printf(seq, "subscriber %u unread %u want_space %u want_data %u events_sent %llu events_received %llu\n",
				   sub->conn.peer,
				   READ_ONCE(r->idx) - READ_ONCE(r->sh->cons),
				   READ_ONCE(r->sh->want_space),
				   READ_ONCE(r->sh->want_data),
				   sub->conn.ntf_tx, sub->conn.ntf_rx);
		}
	}
	spin_unlock_bh(&afx_mcast_lock);
}

/* ----- The subscriber's side ----- */

/*
 * Under the socket lock, when a connect is answered 0: if the listener
 * was a publisher, map its pages read-only as our receive ring.  1 when
 * this is a subscription, 0 when not, or -EPROTO for a descriptor that
 * lies (each field read once, then checked).
 */
int afx_mcast_attach(struct afx_conn *c)
{
	struct afx_mcast_desc *d = (void *)c->ctrl + AFX_MCAST_DESC_OFF;
	u32 order, n, start, i;
	grant_ref_t *refs;
	int err;

	if (READ_ONCE(d->magic) != AFX_MCAST_MAGIC)
		return 0;
	smp_rmb();	/* the magic before what it covers */
	order = READ_ONCE(d->order);
	n = READ_ONCE(d->nr_grefs);
	start = READ_ONCE(d->start);
	if (order > AFX_MAX_ORDER || n != 1U << order) {
		pr_warn_ratelimited("domain %u: malformed multicast descriptor\n",
				    c->peer);
		return -EPROTO;
	}
	refs = kcalloc(n, sizeof(*refs), GFP_KERNEL);
	c->mc_pages = kcalloc(n, sizeof(*c->mc_pages), GFP_KERNEL);
	c->mc_handles = kcalloc(n, sizeof(*c->mc_handles), GFP_KERNEL);
	if (!refs || !c->mc_pages || !c->mc_handles) {
		kfree(refs);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++)
		refs[i] = READ_ONCE(d->grefs[i]);
	c->mc_n = n;
	err = afx_map_refs(c->peer, refs, n, true, c->mc_pages, c->mc_handles,
			   &c->mc_va);
	kfree(refs);
	if (err)
		return err;
	afx_ring_init(&c->rx, &c->ctrl->s2c, c->mc_va, n << PAGE_SHIFT);
	c->rx.idx = start;
	c->rx.peer_idx = start;
	return 1;
}

/* afx_conn_release: the publisher's pages go back. */
void afx_mcast_detach(struct afx_conn *c)
{
	if (c->mc_n && c->mc_pages && c->mc_pages[0])
		afx_unmap(c->mc_n, c->mc_pages, c->mc_handles, &c->mc_va);
	kfree(c->mc_pages);
	kfree(c->mc_handles);
	c->mc_pages = NULL;
	c->mc_handles = NULL;
	c->mc_n = 0;
}
