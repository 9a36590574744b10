// SPDX-License-Identifier: GPL-2.0
/*
 * af_xen: everything that talks to the hypervisor for one connection:
 * granting our pages or mapping the peer's, the event channel, notifying.
 * No socket logic here.
 *
 * Locking: none of its own.  Set-up and teardown of a struct afx_conn run
 * under the owning socket's lock; the interrupt handler touches only the
 * fields documented in af_xen.h as its own.
 *
 * Layout: the connecting side ("granter") allocates one control page and
 * 2 << order data pages (c2s then s2c), grants them to the listener, and
 * allocates an unbound event-channel port for it.  The listener
 * ("mapper") maps the control page, checks it, maps the data pages in one
 * batch into a virtually contiguous area per direction (the c2s pages
 * read-only), and binds the port.
 */
#include "af_xen.h"

#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <linux/interrupt.h>
#include <linux/ratelimit.h>
#include <xen/xen.h>
#include <xen/events.h>
#include <xen/page.h>
#include <xen/interface/event_channel.h>
#include <asm/xen/hypercall.h>

/*
 * Resources held right now, for /proc/net/af_xen_stat: leak tests compare
 * them before and after thousands of connections.
 */
atomic_t afx_nr_grants = ATOMIC_INIT(0);
atomic_t afx_nr_mapped = ATOMIC_INIT(0);
atomic_t afx_nr_evtchns = ATOMIC_INIT(0);

/*
 * This many events in a row that we had not asked for: a flood.  The
 * event core delays a port 1, 2, 4, ... jiffies after each spurious
 * event, so at HZ=250 the eighth arrives about half a second in.
 */
#define AFX_STORM_STREAK	8

static u32 afx_conn_states(const struct afx_conn *c)
{
	const struct afx_ring_shared *a = &c->ctrl->c2s, *b = &c->ctrl->s2c;

	return READ_ONCE(a->pstate) ^ READ_ONCE(a->cstate) << 8 ^
	       READ_ONCE(b->pstate) << 16 ^ READ_ONCE(b->cstate) << 24;
}

/*
 * The peer may send an event only after it cleared a want_* flag that we
 * set (each time we set one we bump c->armed) or after it changed a state
 * word.  Anything else is spurious: tell the event core (lateeoi then
 * throttles this port, XSA-332) and treat a streak of them as a protocol
 * violation of its own, so that the socket resets the connection.
 */
static irqreturn_t afx_conn_interrupt(int irq, void *arg)
{
	struct afx_conn *c = arg;
	unsigned int armed = READ_ONCE(c->armed), eoi = 0;
	u32 states = afx_conn_states(c);

	c->ntf_rx++;
	if (armed == c->seen_armed && states == c->seen_states) {
		eoi = XEN_EOI_FLAG_SPURIOUS;
		if (++c->streak >= AFX_STORM_STREAK && !c->storm) {
			WRITE_ONCE(c->storm, true);
			pr_warn_ratelimited("event storm from domain %u\n",
					    c->peer);
		}
	} else {
		c->streak = 0;
	}
	c->seen_armed = armed;
	c->seen_states = states;
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
 * Ask the peer for an event when data (or space) arrives.  Counted, so
 * that the interrupt handler can tell an event we asked for from a flood.
 */
int afx_conn_rx_wait(struct afx_conn *c)
{
	WRITE_ONCE(c->armed, c->armed + 1);
	return afx_ring_rx_prepare_wait(&c->rx);
}

int afx_conn_tx_wait(struct afx_conn *c)
{
	WRITE_ONCE(c->armed, c->armed + 1);
	return afx_ring_tx_prepare_wait(&c->tx);
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

static void afx_conn_free_arrays(struct afx_conn *c)
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
	c->seen_states = afx_conn_states(c);
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

/* ----- Granting side ----- */

/*
 * Pages the peer may still map when we close.  Linux's own deferral
 * (gnttab_end_foreign_access) retries about ten grants a second, far
 * slower than connections come and go: a busy connector ran out of grant
 * references.  We retry our own every 20 ms and hand whatever is left
 * after a minute to Linux.  XSA-396: a page the peer may still map is
 * never reused before its grant is really gone.
 */
struct afx_zombie {
	struct list_head node;
	unsigned long deadline;
	unsigned int n;
	grant_ref_t *refs;
	struct page **pages;
};

static LIST_HEAD(afx_zombies);		/* afx_zombie_lock */
static DEFINE_SPINLOCK(afx_zombie_lock);
static void afx_reap(struct work_struct *work);
static DECLARE_DELAYED_WORK(afx_reap_work, afx_reap);

/* Give back the pairs no longer mapped; keep the rest at the front. */
static unsigned int afx_give_back(grant_ref_t *refs, struct page **pages,
				  unsigned int n)
{
	unsigned int i, left = 0;

	for (i = 0; i < n; i++) {
		if (!pages[i])
			continue;
		if (refs[i] && !gnttab_try_end_foreign_access(refs[i])) {
			refs[left] = refs[i];
			pages[left++] = pages[i];
			continue;
		}
		if (refs[i])
			atomic_dec(&afx_nr_grants);
		__free_page(pages[i]);
	}
	return left;
}

/* Out of patience (or unloading): Linux frees them when it can. */
static void afx_zombie_free(struct afx_zombie *z)
{
	unsigned int i;

	for (i = 0; i < z->n; i++) {
		gnttab_end_foreign_access(z->refs[i], z->pages[i]);
		atomic_dec(&afx_nr_grants);
	}
	kfree(z->refs);
	kfree(z->pages);
	kfree(z);
}

static void afx_reap(struct work_struct *work)
{
	struct afx_zombie *z, *tmp;
	LIST_HEAD(todo);

	spin_lock_bh(&afx_zombie_lock);
	list_splice_init(&afx_zombies, &todo);
	spin_unlock_bh(&afx_zombie_lock);
	list_for_each_entry_safe(z, tmp, &todo, node) {
		z->n = afx_give_back(z->refs, z->pages, z->n);
		if (z->n && time_before(jiffies, z->deadline))
			continue;
		list_del(&z->node);
		afx_zombie_free(z);
	}
	spin_lock_bh(&afx_zombie_lock);
	list_splice(&todo, &afx_zombies);
	if (!list_empty(&afx_zombies))
		schedule_delayed_work(&afx_reap_work, HZ / 50);
	spin_unlock_bh(&afx_zombie_lock);
}

/* Take over the connection's arrays if some pages are still mapped. */
static void afx_bury(struct afx_conn *c, unsigned int n)
{
	struct afx_zombie *z;

	n = afx_give_back(c->grefs, c->pages, n);
	if (!n)
		return;
	z = kzalloc(sizeof(*z), GFP_KERNEL | __GFP_NOFAIL);
	z->deadline = jiffies + 60 * HZ;
	z->n = n;
	z->refs = c->grefs;
	z->pages = c->pages;
	c->grefs = NULL;
	c->pages = NULL;
	spin_lock_bh(&afx_zombie_lock);
	list_add_tail(&z->node, &afx_zombies);
	schedule_delayed_work(&afx_reap_work, HZ / 50);
	spin_unlock_bh(&afx_zombie_lock);
}

void afx_grant_exit(void)
{
	struct afx_zombie *z, *tmp;

	cancel_delayed_work_sync(&afx_reap_work);
	list_for_each_entry_safe(z, tmp, &afx_zombies, node) {
		list_del(&z->node);
		afx_zombie_free(z);
	}
}

static void afx_conn_ungrant(struct afx_conn *c)
{
	unsigned int i;

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

static int afx_grant(domid_t peer, struct page *page, bool ro,
		     grant_ref_t *ref)
{
	int r = gnttab_grant_foreign_access(peer, xen_page_to_gfn(page), ro);

	if (r < 0)
		return r;
	/* 0 is a valid reference but never handed out to a guest driver. */
	*ref = r;
	atomic_inc(&afx_nr_grants);
	return 0;
}

static int afx_conn_grant_pages(struct afx_conn *c)
{
	unsigned int i, n = 2 * c->npages;
	int err;

	for (i = 0; i < n; i++) {
		c->pages[i] = alloc_page(GFP_KERNEL | __GFP_ZERO);
		if (!c->pages[i])
			return -ENOMEM;
		/* The listener only reads c2s: grant it read-only. */
		err = afx_grant(c->peer, c->pages[i], i < c->npages,
				&c->grefs[i]);
		if (err)
			return err;
		c->ctrl->grefs[i] = c->grefs[i];
	}
	for (i = 0; i < 2; i++) {
		c->va[i] = vmap(c->pages + i * c->npages, c->npages, VM_MAP,
				PAGE_KERNEL);
		if (!c->va[i])
			return -ENOMEM;
	}
	return 0;
}

int afx_conn_offer(struct afx_conn *c, domid_t peer, unsigned int order)
{
	struct evtchn_alloc_unbound alloc = {
		.dom = DOMID_SELF,
		.remote_dom = peer,
	};
	int err;

	c->peer = peer;
	c->granter = true;
	c->order = order;
	c->npages = 1U << order;
	err = afx_conn_alloc_arrays(c);
	if (err)
		goto fail;
	c->ctrl_page = alloc_page(GFP_KERNEL | __GFP_ZERO);
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
	err = HYPERVISOR_event_channel_op(EVTCHNOP_alloc_unbound, &alloc);
	if (err)
		goto fail;
	err = afx_conn_start(c, alloc.port);
	if (err)
		goto fail;
	return 0;
fail:
	afx_conn_ungrant(c);
	return err;
}

/* ----- Mapping side ----- */

static int afx_map(struct afx_conn *c, const grant_ref_t *refs,
		   unsigned int n, bool ro, struct page **pages,
		   grant_handle_t *handles, void **vap)
{
	struct gnttab_map_grant_ref *ops;
	u32 flags = GNTMAP_host_map | (ro ? GNTMAP_readonly : 0);
	unsigned long va;
	unsigned int i;
	int err;

	ops = kcalloc(n, sizeof(*ops), GFP_KERNEL);
	if (!ops)
		return -ENOMEM;
	err = gnttab_alloc_pages(n, pages);
	if (err)
		goto out;
	/*
	 * vmap the still-empty pages first and let the hypervisor fill in
	 * those PTEs: a PV guest cannot vmap a foreign frame afterwards.
	 */
	*vap = vmap(pages, n, VM_MAP, ro ? PAGE_KERNEL_RO : PAGE_KERNEL);
	if (!*vap) {
		gnttab_free_pages(n, pages);
		err = -ENOMEM;
		goto out;
	}
	va = (unsigned long)*vap;
	for (i = 0; i < n; i++) {
		gnttab_set_map_op(&ops[i], va + i * PAGE_SIZE, flags, refs[i],
				  c->peer);
		handles[i] = INVALID_GRANT_HANDLE;
	}
	err = gnttab_map_refs(ops, NULL, pages, n);
	for (i = 0; i < n; i++) {
		if (ops[i].status != GNTST_okay) {
			err = err ?: -EPROTO;
			continue;
		}
		handles[i] = ops[i].handle;
		atomic_inc(&afx_nr_mapped);
	}
	if (err)
		pr_warn_ratelimited("domain %u: cannot map its grants (%d)\n",
				    c->peer, err);
out:
	kfree(ops);
	return err;
}

/* Undo afx_map(): unmap what was mapped, then give the pages back. */
static void afx_unmap(unsigned int n, struct page **pages,
		      grant_handle_t *handles, void **vap)
{
	struct gnttab_unmap_grant_ref *ops;
	struct page **mapped;
	unsigned long va = (unsigned long)*vap;
	unsigned int i, m = 0;

	if (!*vap)
		return;
	ops = kcalloc(n, sizeof(*ops), GFP_KERNEL | __GFP_NOFAIL);
	mapped = kcalloc(n, sizeof(*mapped), GFP_KERNEL | __GFP_NOFAIL);
	for (i = 0; i < n; i++) {
		if (handles[i] == INVALID_GRANT_HANDLE)
			continue;
		gnttab_set_unmap_op(&ops[m], va + i * PAGE_SIZE,
				    GNTMAP_host_map, handles[i]);
		handles[i] = INVALID_GRANT_HANDLE;
		mapped[m++] = pages[i];
		atomic_dec(&afx_nr_mapped);
	}
	if (m && gnttab_unmap_refs(ops, NULL, mapped, m))
		pr_warn_ratelimited("grant unmap failed\n");
	kfree(mapped);
	kfree(ops);
	vunmap(*vap);
	*vap = NULL;
	gnttab_free_pages(n, pages);
}

static void afx_conn_unmap(struct afx_conn *c)
{
	unsigned int i;
	void *ctrl = c->ctrl;

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
static int afx_conn_check_ctrl(struct afx_conn *c, grant_ref_t *refs)
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
	return 0;
}

static int afx_conn_map_data(struct afx_conn *c)
{
	grant_ref_t *refs;
	unsigned int i, n = c->npages;
	int err;

	refs = kcalloc(2 * n, sizeof(*refs), GFP_KERNEL);
	if (!refs)
		return -ENOMEM;
	err = afx_conn_check_ctrl(c, refs);
	for (i = 0; i < 2 && !err; i++)
		err = afx_map(c, refs + i * n, n, i == 0, c->pages + i * n,
			      c->handles + i * n, &c->va[i]);
	kfree(refs);
	return err;
}

int afx_conn_accept(struct afx_conn *c, domid_t peer, grant_ref_t ctrl_ref,
		    evtchn_port_t remote_port, unsigned int order)
{
	struct evtchn_bind_interdomain bind = {
		.remote_dom = peer,
		.remote_port = remote_port,
	};
	void *ctrl = NULL;
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
	err = afx_map(c, &ctrl_ref, 1, false, &c->ctrl_page, &c->ctrl_handle,
		      &ctrl);
	c->ctrl = ctrl;
	if (err)
		goto fail;
	err = afx_conn_map_data(c);
	if (err)
		goto fail;
	err = HYPERVISOR_event_channel_op(EVTCHNOP_bind_interdomain, &bind);
	if (err) {
		pr_warn_ratelimited("domain %u: cannot bind event channel %u (%d)\n",
				    peer, remote_port, err);
		goto fail;
	}
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
	if (c->granter)
		afx_conn_ungrant(c);
	else
		afx_conn_unmap(c);
}
