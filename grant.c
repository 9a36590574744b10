// SPDX-License-Identifier: GPL-2.0
/*
 * af_xen: everything that talks to the hypervisor for one connection:
 * granting our pages or mapping the peer's, the event channel, notifying.
 * No socket logic here.
 *
 * Locking: set-up and teardown of a struct afx_conn run under the owning
 * socket's lock; the interrupt handler touches only the fields documented
 * in af_xen.h as its own.  Loopback in auto-translated guests, which
 * shares pages instead of mapping them, is selfmap.c's.
 *
 * Layout: the connecting side ("granter") allocates one control page and
 * 2 << order data pages (c2s then s2c), grants them to the listener, and
 * allocates an unbound event-channel port for it.  The listener
 * ("mapper") maps the control page, checks it, maps the data pages in one
 * batch into a virtually contiguous area per direction (the c2s pages
 * read-only), and binds the port.  Pages given back after close: reclaim.c.
 */
#include "af_xen.h"

#include <linux/export.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <linux/interrupt.h>
#include <linux/ratelimit.h>
#include <linux/sort.h>
#include <xen/xen.h>
#include <xen/events.h>
#include <xen/page.h>
#include <xen/features.h>
#include <xen/interface/event_channel.h>
#include <asm/xen/hypercall.h>

/*
 * Resources held right now, for /proc/net/af_xen_stat: leak tests compare
 * them before and after thousands of connections.
 */
atomic_t afx_nr_grants = ATOMIC_INIT(0);
atomic_t afx_nr_mapped = ATOMIC_INIT(0);
atomic_t afx_nr_evtchns = ATOMIC_INIT(0);
atomic_t afx_nr_leaked = ATOMIC_INIT(0);	/* pages Xen would not unmap */

/*
 * Event accounting since load, for /proc/net/af_xen_events: how close
 * legitimate traffic comes to the storm limit (the false-positive margin).
 */
atomic_long_t afx_nr_events = ATOMIC_LONG_INIT(0);
atomic_long_t afx_nr_spurious = ATOMIC_LONG_INIT(0);
atomic_t afx_streak_max = ATOMIC_INIT(0);
atomic_t afx_nr_storms = ATOMIC_INIT(0);

/*
 * This many events in a row that we had not asked for: a flood.  The
 * event core delays a port 1, 2, 4, ... jiffies after each spurious
 * event, so at HZ=250 the eighth arrives about half a second in.
 */

/*
 * State bits the peer has newly set.  They only ever accumulate, so each
 * can justify one event, and a peer flipping bits buys nothing.
 */
static bool afx_conn_new_states(struct afx_conn *c)
{
	u32 st = (READ_ONCE(c->rx.sh->pstate) & AFX_RING_PSTATE_MASK) |
		 (READ_ONCE(c->tx.sh->cstate) & AFX_RING_CSTATE_MASK) << 8;

	if (!(st & ~c->seen_states))
		return false;
	c->seen_states |= st;
	return true;
}

/*
 * One arming (want_data or want_space set, see afx_conn_rx_wait) earns at
 * most one event, and only once the peer's index has moved forward past
 * where it stood when we armed: the peer must have seen the request and
 * acted on it.  @armed and @base are the socket's side of the bargain.
 * How far forward is not judged here: the base may lag the index by more
 * than a ring (the reader kept consuming while its arming was pending),
 * and a bogus index is refused by the woken reader's validation anyway.
 */
static bool afx_conn_earned(unsigned int armed, unsigned int *seen,
			    u32 base, u32 now)
{
	if (armed == *seen || (s32)(now - base) <= 0)
		return false;
	*seen = armed;
	return true;
}

/*
 * An event is solicited only if it brings news we asked for: the index
 * an armed waiter waits on moved, or a state bit appeared.  Anything else
 * is spurious, however often we re-arm: the event core is told (lateeoi
 * then throttles this port, XSA-332), and a streak of them is a protocol
 * violation of its own, so that the socket resets the connection.
 */
static irqreturn_t afx_conn_interrupt(int irq, void *arg)
{
	struct afx_conn *c = arg;
	unsigned int eoi = 0;
	bool news;

	c->ntf_rx++;
	WRITE_ONCE(c->event_at, ktime_get());
	atomic_long_inc(&afx_nr_events);
	news = afx_conn_new_states(c);
	news |= afx_conn_earned(READ_ONCE(c->armed_rx), &c->seen_armed_rx,
				READ_ONCE(c->base_rx), READ_ONCE(c->rx.sh->prod));
	news |= afx_conn_earned(READ_ONCE(c->armed_tx), &c->seen_armed_tx,
				READ_ONCE(c->base_tx), READ_ONCE(c->tx.sh->cons));
	if (news) {
		c->streak = 0;
	} else {
		eoi = XEN_EOI_FLAG_SPURIOUS;
		c->ntf_spurious++;
		atomic_long_inc(&afx_nr_spurious);
		if (++c->streak > atomic_read(&afx_streak_max))
			atomic_set(&afx_streak_max, c->streak);
		if (c->streak >= AFX_STORM_STREAK && !c->storm) {
			WRITE_ONCE(c->storm, true);
			atomic_inc(&afx_nr_storms);
			pr_warn_ratelimited("event storm from domain %u\n",
					    c->peer);
		}
	}
	c->event(c->arg);
	xen_irq_lateeoi(irq, eoi);
	return IRQ_HANDLED;
}

static int afx_conn_bind_irq(struct afx_conn *c)
{
	int irq;

	irq = bind_evtchn_to_irqhandler_lateeoi(c->port, afx_conn_interrupt,
						0, "af_xen", c);
	if (irq < 0)
		return irq;
	c->irq = irq;
	atomic_inc(&afx_nr_evtchns);
	return 0;
}

static void afx_evtchn_close(evtchn_port_t port)
{
	struct evtchn_close close = { .port = port };

	HYPERVISOR_event_channel_op(EVTCHNOP_close, &close);
}

/*
 * Ask the peer for an event when data (or space) arrives.  The arming is
 * recorded with the peer index it starts from, so that the interrupt
 * handler can tell the one event it earns from a flood.  While an earlier
 * arming is unanswered its base stays: a reader that consumed the data
 * and re-armed before the event arrived must not make that event look
 * unasked-for (a run of those would have the event core throttle a busy
 * port).  The base is published before the count that makes it count.
 */
int afx_conn_rx_wait(struct afx_conn *c)
{
	if (READ_ONCE(c->seen_armed_rx) == c->armed_rx)
		WRITE_ONCE(c->base_rx, c->rx.peer_idx);
	smp_wmb();	/* base before the arming it belongs to */
	WRITE_ONCE(c->armed_rx, c->armed_rx + 1);
	return afx_ring_rx_prepare_wait(&c->rx);
}
EXPORT_SYMBOL_GPL(afx_conn_rx_wait);

int afx_conn_tx_wait(struct afx_conn *c)
{
	if (READ_ONCE(c->seen_armed_tx) == c->armed_tx)
		WRITE_ONCE(c->base_tx, c->tx.peer_idx);
	smp_wmb();	/* base before the arming it belongs to */
	WRITE_ONCE(c->armed_tx, c->armed_tx + 1);
	return afx_ring_tx_prepare_wait(&c->tx);
}
EXPORT_SYMBOL_GPL(afx_conn_tx_wait);

#if AFX_DEBUG
/*
 * Test-only (XEN_DEBUG_VANISH): let go of our end of the event channel
 * without a word, as a peer process that exits does, so that a test can
 * watch the other side notice.
 */
void afx_conn_vanish(struct afx_conn *c)
{
	if (c->irq <= 0)
		return;
	unbind_from_irqhandler(c->irq, c);	/* closes the port too */
	c->irq = 0;
	atomic_dec(&afx_nr_evtchns);
}
#endif

/*
 * Does the peer still hold its end of our event channel?  A domain that
 * closes its end (its process exited, or its kernel let go) turns ours
 * unbound; EVTCHNOP_status shows that from this side.  One hypercall,
 * made only by the once-a-second probe of an idle connection.
 */
bool afx_conn_peer_gone(struct afx_conn *c)
{
	struct evtchn_status st = { .dom = DOMID_SELF, .port = c->port };

	if (c->irq <= 0 || HYPERVISOR_event_channel_op(EVTCHNOP_status, &st))
		return false;
	return st.status != EVTCHNSTAT_interdomain ||
	       st.u.interdomain.dom != c->peer;
}

void afx_conn_notify(struct afx_conn *c)
{
	if (c->irq > 0) {
		notify_remote_via_irq(c->irq);
		c->ntf_tx++;
	}
}

static int afx_conn_alloc_arrays(struct afx_conn *c)
{
	unsigned int n = 2 * c->npages + 1;	/* + the control page */

	c->pages = kcalloc(n, sizeof(*c->pages), GFP_KERNEL);
	if (c->granter)
		c->grefs = kcalloc(n, sizeof(*c->grefs), GFP_KERNEL);
	else
		c->handles = kcalloc(n, sizeof(*c->handles), GFP_KERNEL);
	if (!c->pages || (!c->grefs && !c->handles))
		return -ENOMEM;
	return 0;
}

void afx_conn_free_arrays(struct afx_conn *c)
{
	kfree(c->pages);
	kfree(c->grefs);
	kfree(c->handles);
	c->pages = NULL;
	c->grefs = NULL;
	c->handles = NULL;
}

/* Wire both rings to the shared indices, from this side's point of view. */
static void afx_conn_init_rings(struct afx_conn *c)
{
	u32 size = c->npages << PAGE_SHIFT;

	if (c->granter) {
		afx_ring_init(&c->tx, &c->ctrl->c2s, c->va[0], size);
		afx_ring_init(&c->rx, &c->ctrl->s2c, c->va[1], size);
	} else {
		afx_ring_init(&c->tx, &c->ctrl->s2c, c->va[1], size);
		afx_ring_init(&c->rx, &c->ctrl->c2s, c->va[0], size);
	}
	/* Nothing earned yet: an event before any arming is spurious. */
	c->seen_states = 0;
	c->armed_rx = 0;
	c->armed_tx = 0;
	c->seen_armed_rx = 0;
	c->seen_armed_tx = 0;
}

/* Shared memory in place and our port open: wire up rings and the irq. */
static int afx_conn_start(struct afx_conn *c, evtchn_port_t port)
{
	int err;

	c->port = port;
	afx_conn_init_rings(c);
	err = afx_conn_bind_irq(c);
	if (err)
		afx_evtchn_close(port);
	return err;
}

/* ----- Mapping side ----- */

/*
 * Where Xen puts a mapped grant.  A PV guest names a kernel virtual
 * address whose PTE Xen writes: the vmap made before mapping, since a PV
 * guest cannot vmap a foreign frame afterwards.  An auto-translated guest
 * (PVH, HVM, Arm) maps into its physical address space instead:
 * gnttab_set_map_op() applies __pa(), so it must get each page's own
 * direct-map address, and the vmap comes after the mapping (as in
 * xenbus_map_ring_hvm and gntdev).
 */
static unsigned long afx_map_addr(struct page **pages, void *va,
				  unsigned int i)
{
	if (xen_feature(XENFEAT_auto_translated_physmap))
		return (unsigned long)pfn_to_kaddr(page_to_xen_pfn(pages[i]));
	return (unsigned long)va + i * PAGE_SIZE;
}

void *afx_vmap(struct page **pages, unsigned int n, bool ro)
{
	return vmap(pages, n, VM_MAP, ro ? PAGE_KERNEL_RO : PAGE_KERNEL);
}

/* Map @n grants at @pages in one batch; *@vap gets the contiguous view. */
int afx_map_refs(domid_t peer, const grant_ref_t *refs, unsigned int n,
		 bool ro, struct page **pages, grant_handle_t *handles,
		 void **vap)
{
	bool translated = xen_feature(XENFEAT_auto_translated_physmap);
	u32 flags = GNTMAP_host_map | (ro ? GNTMAP_readonly : 0);
	struct gnttab_map_grant_ref *ops;
	void *va = NULL;
	unsigned int i;
	int err;

	for (i = 0; i < n; i++)
		handles[i] = INVALID_GRANT_HANDLE;
	ops = kcalloc(n, sizeof(*ops), GFP_KERNEL);
	if (!ops)
		return -ENOMEM;
	err = gnttab_alloc_pages(n, pages);
	if (err) {
		memset(pages, 0, n * sizeof(*pages));
		goto out;
	}
	if (!translated) {
		va = afx_vmap(pages, n, ro);
		if (!va) {
			gnttab_free_pages(n, pages);
			memset(pages, 0, n * sizeof(*pages));
			err = -ENOMEM;
			goto out;
		}
	}
	for (i = 0; i < n; i++)
		gnttab_set_map_op(&ops[i], afx_map_addr(pages, va, i), flags,
				  refs[i], peer);
	err = gnttab_map_refs(ops, NULL, pages, n);
	for (i = 0; i < n; i++) {
		if (ops[i].status != GNTST_okay) {
			/* Our own map table full is ours, not the peer's lie. */
			err = err ?: ops[i].status == GNTST_no_device_space ?
				-ENOBUFS : -EPROTO;
			continue;
		}
		handles[i] = ops[i].handle;
		atomic_inc(&afx_nr_mapped);
	}
	if (!err && translated) {
		va = afx_vmap(pages, n, ro);
		err = va ? 0 : -ENOMEM;
	}
	if (err)
		pr_warn_ratelimited("domain %u: cannot map its grants (%d)\n",
				    peer, err);
out:
	*vap = va;
	kfree(ops);
	return err;
}

#if AFX_DEBUG
/*
 * Test-only (AFX_DEBUG builds): make Xen refuse the unmaps of the next
 * connection torn down here, by naming a handle that cannot exist, so
 * that the leak path runs for real.
 */
static bool afx_debug_unmap_refused;
module_param_named(debug_unmap_refused, afx_debug_unmap_refused, bool, 0644);
MODULE_PARM_DESC(debug_unmap_refused, "test only: next teardown's unmaps are refused");

static grant_handle_t afx_debug_handle(grant_handle_t h, unsigned int i,
				       unsigned int n)
{
	if (!READ_ONCE(afx_debug_unmap_refused))
		return h;
	if (i == n - 1)
		WRITE_ONCE(afx_debug_unmap_refused, false);
	return INVALID_GRANT_HANDLE - 1;
}
#else
static grant_handle_t afx_debug_handle(grant_handle_t h, unsigned int i,
				       unsigned int n)
{
	return h;
}
#endif

/* Unmap what afx_map() mapped; true if every unmap succeeded. */
static bool afx_unmap_grants(unsigned int n, struct page **pages,
			     grant_handle_t *handles, void *va)
{
	struct gnttab_unmap_grant_ref *ops;
	struct page **mapped;
	unsigned int i, m = 0;
	bool ok = true;

	ops = kcalloc(n, sizeof(*ops), GFP_KERNEL | __GFP_NOFAIL);
	mapped = kcalloc(n, sizeof(*mapped), GFP_KERNEL | __GFP_NOFAIL);
	for (i = 0; i < n; i++) {
		if (handles[i] == INVALID_GRANT_HANDLE)
			continue;
		gnttab_set_unmap_op(&ops[m], afx_map_addr(pages, va, i),
				    GNTMAP_host_map,
				    afx_debug_handle(handles[i], i, n));
		handles[i] = INVALID_GRANT_HANDLE;
		mapped[m++] = pages[i];
		atomic_dec(&afx_nr_mapped);
	}
	if (m && gnttab_unmap_refs(ops, NULL, mapped, m))
		ok = false;
	for (i = 0; i < m; i++)
		if (ops[i].status != GNTST_okay)
			ok = false;
	kfree(mapped);
	kfree(ops);
	return ok;
}

/*
 * Undo afx_map().  Grants are unmapped before the vmap goes: on PV the
 * vmap's PTEs are the mapping.  If Xen refuses an unmap, the pages and
 * the vmap are leaked, never reused (as xenbus does): on PV a vunmap over
 * a live grant PTE faults, on PVH/HVM a page still backed by the peer's
 * frame would be handed to somebody else.
 */
void afx_unmap(unsigned int n, struct page **pages,
	       grant_handle_t *handles, void **vap)
{
	if (!pages[0])
		return;
	if (!afx_unmap_grants(n, pages, handles, *vap)) {
		atomic_add(n, &afx_nr_leaked);
		pr_err_ratelimited("grant unmap refused: leaking %u page(s)\n",
				   n);
	} else {
		if (*vap)
			vunmap(*vap);
		gnttab_free_pages(n, pages);
	}
	*vap = NULL;
	memset(pages, 0, n * sizeof(*pages));
}

static int afx_ref_cmp(const void *a, const void *b)
{
	grant_ref_t x = *(const grant_ref_t *)a, y = *(const grant_ref_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * Each page granted once, and the control page not among the data pages:
 * an aliased list would let the peer's writes to one ring land in the
 * other, or in the control page (XEN-IN-QEMU: one guest can do this from
 * userspace with gntalloc).  Checked on a sorted copy.
 */
static int afx_check_aliases(const struct afx_conn *c, const grant_ref_t *refs,
			     unsigned int nr, grant_ref_t ctrl_ref)
{
	grant_ref_t *s;
	unsigned int i;
	int err = 0;

	s = kmemdup(refs, nr * sizeof(*refs), GFP_KERNEL);
	if (!s)
		return -ENOMEM;
	sort(s, nr, sizeof(*s), afx_ref_cmp, NULL);
	for (i = 0; i < nr && !err; i++)
		if (s[i] == ctrl_ref || (i && s[i] == s[i - 1]))
			err = -EPROTO;
	if (err)
		pr_warn_ratelimited("domain %u: grant list names grant %u twice\n",
				    c->peer, s[i - 1]);
	kfree(s);
	return err;
}

int afx_conn_check_ctrl(struct afx_conn *c, grant_ref_t *refs,
			grant_ref_t ctrl_ref)
{
	struct afx_ctrl *ctrl = c->ctrl;
	u32 magic = READ_ONCE(ctrl->magic);
	u32 version = READ_ONCE(ctrl->version);
	u32 order = READ_ONCE(ctrl->order);
	u32 nr = READ_ONCE(ctrl->nr_grefs);
	unsigned int i;

	if (magic != AFX_CTRL_MAGIC || version != AFX_PROTO_VERSION ||
	    order != c->order || nr != 2 * c->npages) {
		pr_warn_ratelimited("domain %u: bad control page (magic %#x version %u order %u grants %u)\n",
				    c->peer, magic, version, order, nr);
		return -EPROTO;
	}
	for (i = 0; i < nr; i++)
		refs[i] = READ_ONCE(ctrl->grefs[i]);
	return afx_check_aliases(c, refs, nr, ctrl_ref);
}

static int afx_conn_map_data(struct afx_conn *c, grant_ref_t ctrl_ref)
{
	grant_ref_t *refs;
	unsigned int i, n = c->npages;
	int err;

	refs = kcalloc(2 * n, sizeof(*refs), GFP_KERNEL);
	if (!refs)
		return -ENOMEM;
	err = afx_conn_check_ctrl(c, refs, ctrl_ref);
	for (i = 0; i < 2 && !err; i++)
		err = afx_map_refs(c->peer, refs + i * n, n, i == 0,
				   c->pages + i * n, c->handles + i * n,
				   &c->va[i]);
	kfree(refs);
	return err;
}

/* The control page, checked, then both rings, through Xen. */
static int afx_conn_map(struct afx_conn *c, grant_ref_t ctrl_ref)
{
	void *ctrl = NULL;
	int err;

	err = afx_map_refs(c->peer, &ctrl_ref, 1, false, &c->ctrl_page,
			   &c->ctrl_handle, &ctrl);
	c->ctrl = ctrl;
	return err ?: afx_conn_map_data(c, ctrl_ref);
}

static void afx_conn_unmap(struct afx_conn *c)
{
	unsigned int i;
	void *ctrl = c->ctrl;

	if (c->self_shared) {
		afx_self_unmap(c);
		return;
	}

	for (i = 0; i < 2 && c->pages; i++)
		afx_unmap(c->npages, c->pages + i * c->npages,
			  c->handles + i * c->npages, &c->va[i]);
	afx_unmap(1, &c->ctrl_page, &c->ctrl_handle, &ctrl);
	c->ctrl_page = NULL;
	c->ctrl = NULL;
	afx_conn_free_arrays(c);
}

/*
 * Read the peer-written header once into locals, check it against what
 * the rendezvous promised, and copy the grant list out of shared memory
 * before anything is mapped with it.
 */
/* ----- Granting side ----- */

static void afx_conn_ungrant(struct afx_conn *c)
{
	unsigned int i;

	atomic_sub(c->ring_pages, &afx_ring_pages);
	c->ring_pages = 0;
	for (i = 0; i < 2; i++) {
		if (c->va[i])
			vunmap(c->va[i]);
		c->va[i] = NULL;
	}
	/* The control page rides in the last slot of the arrays. */
	if (c->pages) {
		c->pages[2 * c->npages] = c->ctrl_page;
		c->grefs[2 * c->npages] = c->ctrl_gref;
		afx_bury(c, 2 * c->npages + 1);
	} else if (c->ctrl_page) {
		__free_page(c->ctrl_page);	/* never granted */
	}
	c->ctrl_page = NULL;
	c->ctrl = NULL;
	afx_conn_free_arrays(c);
}

/*
 * A connect that finds a resource of this guest used up fails with
 * ENOBUFS (grant references, event channels) or ENOMEM, and one line
 * says which; connections already up are not touched.
 */
static int afx_short(domid_t peer, int err, const char *what,
		     const atomic_t *held)
{
	if (err == -ENOSPC)
		err = -ENOBUFS;
	pr_warn_ratelimited("domain %u: out of %s for a connection (af_xen holds %d): %d\n",
			    peer, what, atomic_read(held), err);
	return err;
}

/*
 * Ring pages this guest's connections hold, and how many they may: a
 * connect that would pass the cap fails with ENOMEM before it allocates
 * a page, instead of driving the guest into the OOM killer (0: a quarter
 * of the guest's memory).
 */
atomic_t afx_ring_pages = ATOMIC_INIT(0);
static unsigned int afx_ring_mem_max_mb;
module_param_named(ring_memory_max_mb, afx_ring_mem_max_mb, uint, 0644);
MODULE_PARM_DESC(ring_memory_max_mb, "cap on the memory of all rings this guest offers, MiB (0: a quarter of RAM)");

int afx_ring_pages_get(domid_t peer, unsigned int n)
{
	unsigned long max = READ_ONCE(afx_ring_mem_max_mb);

	max = max ? max << (20 - PAGE_SHIFT) : totalram_pages() / 4;
	if (atomic_add_return(n, &afx_ring_pages) > max) {
		atomic_sub(n, &afx_ring_pages);
		return afx_short(peer, -ENOMEM, "ring memory (pages)",
				 &afx_ring_pages);
	}
	return 0;
}

void afx_ring_pages_put(unsigned int n)
{
	atomic_sub(n, &afx_ring_pages);
}

static int afx_grant(domid_t peer, struct page *page, bool ro,
		     grant_ref_t *ref)
{
	int r = gnttab_grant_foreign_access(peer, xen_page_to_gfn(page), ro);

	if (r < 0)
		return afx_short(peer, r, "grant references", &afx_nr_grants);
	/* 0 is a valid reference but never handed out to a guest driver. */
	*ref = r;
	atomic_inc(&afx_nr_grants);
	return 0;
}

static int afx_conn_grant_pages(struct afx_conn *c)
{
	unsigned int i, n = 2 * c->npages;
	ktime_t t = ktime_get();
	int err;

	for (i = 0; i < n; i++) {
		c->pages[i] = alloc_page(GFP_KERNEL | __GFP_ZERO |
					 __GFP_NORETRY | __GFP_NOWARN);
		if (!c->pages[i])
			return afx_short(c->peer, -ENOMEM, "memory for ring pages",
					 &afx_nr_grants);
		/* The listener only reads c2s: grant it read-only. */
		err = afx_grant(c->peer, c->pages[i], i < c->npages,
				&c->grefs[i]);
		if (err)
			return err;
		c->ctrl->grefs[i] = c->grefs[i];
	}
	afx_tm_add(AFX_TM_OFFER_PAGES, t);
	t = ktime_get();
	for (i = 0; i < 2; i++) {
		c->va[i] = vmap(c->pages + i * c->npages, c->npages, VM_MAP,
				PAGE_KERNEL);
		if (!c->va[i])
			return -ENOMEM;
	}
	afx_tm_add(AFX_TM_OFFER_VMAP, t);
	return 0;
}

int afx_conn_offer(struct afx_conn *c, domid_t peer, unsigned int order)
{
	struct evtchn_alloc_unbound alloc = {
		.dom = DOMID_SELF,
		.remote_dom = peer,
	};
	ktime_t t;
	int err;

	/* One grant per page: 64 KiB-page Arm kernels are not supported. */
	BUILD_BUG_ON(PAGE_SIZE != XEN_PAGE_SIZE);
	c->peer = peer;
	c->granter = true;
	c->order = order;
	c->npages = 1U << order;
	err = afx_conn_alloc_arrays(c);
	if (!err)
		err = afx_ring_pages_get(peer, 2 * c->npages + 1);
	if (err)
		goto fail;
	c->ring_pages = 2 * c->npages + 1;
	c->ctrl_page = alloc_page(GFP_KERNEL | __GFP_ZERO | __GFP_NORETRY |
				  __GFP_NOWARN);
	if (!c->ctrl_page) {
		err = -ENOMEM;
		goto fail;
	}
	c->ctrl = page_address(c->ctrl_page);
	c->ctrl->magic = AFX_CTRL_MAGIC;
	c->ctrl->version = AFX_PROTO_VERSION;
	c->ctrl->order = order;
	c->ctrl->nr_grefs = 2 * c->npages;
	err = afx_conn_grant_pages(c);
	if (err)
		goto fail;
	err = afx_grant(peer, c->ctrl_page, false, &c->ctrl_gref);
	if (err)
		goto fail;
	t = ktime_get();
	err = HYPERVISOR_event_channel_op(EVTCHNOP_alloc_unbound, &alloc);
	if (err) {
		err = afx_short(peer, err, "event channels", &afx_nr_evtchns);
		goto fail;
	}
	err = afx_conn_start(c, alloc.port);
	if (err)
		goto fail;
	afx_tm_add(AFX_TM_OFFER_EVTCHN, t);
	if (afx_self_shared(peer))
		afx_self_offer(c);
	return 0;
fail:
	afx_conn_ungrant(c);
	return err;
}

/* ----- Both ----- */

int afx_conn_accept(struct afx_conn *c, domid_t peer, grant_ref_t ctrl_ref,
		    evtchn_port_t remote_port, unsigned int order)
{
	struct evtchn_bind_interdomain bind = {
		.remote_dom = peer,
		.remote_port = remote_port,
	};
	ktime_t t;
	int err;

	if (order > AFX_MAX_ORDER) {
		pr_warn_ratelimited("domain %u: ring order %u too large\n",
				    peer, order);
		return -EPROTO;
	}
	c->peer = peer;
	c->granter = false;
	c->order = order;
	c->npages = 1U << order;
	c->ctrl_handle = INVALID_GRANT_HANDLE;
	err = afx_conn_alloc_arrays(c);
	if (err)
		goto fail;
	t = ktime_get();
	if (afx_self_shared(peer))
		err = afx_self_map(c, ctrl_ref);
	else
		err = afx_conn_map(c, ctrl_ref);
	if (err)
		goto fail;
	afx_tm_add(AFX_TM_MAP, t);
	t = ktime_get();
	err = HYPERVISOR_event_channel_op(EVTCHNOP_bind_interdomain, &bind);
	if (err == -ENOSPC) {
		err = afx_short(peer, err, "event channels", &afx_nr_evtchns);
		goto fail;
	}
	if (err) {
		pr_warn_ratelimited("domain %u: cannot bind event channel %u (%d)\n",
				    peer, remote_port, err);
		goto fail;
	}
	afx_tm_add(AFX_TM_BIND, t);
	err = afx_conn_start(c, bind.local_port);
	if (err)
		goto fail;
	return 0;
fail:
	afx_conn_unmap(c);
	return err;
}

void afx_conn_release(struct afx_conn *c)
{
	/* Closes the port too; the handler is not running after this. */
	if (c->irq > 0) {
		unbind_from_irqhandler(c->irq, c);
		atomic_dec(&afx_nr_evtchns);
	}
	c->irq = 0;
	afx_mcast_detach(c);
	afx_self_withdraw(c);
	if (c->granter)
		afx_conn_ungrant(c);
	else
		afx_conn_unmap(c);
}
