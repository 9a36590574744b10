// SPDX-License-Identifier: GPL-2.0
/*
 * af_xen: loopback connections in auto-translated (PVH, HVM) guests,
 * which share the connector's pages with the listener instead of
 * grant-mapping them (grant.c does the rest of a connection's set-up).
 *
 * Locking: afx_self_lock (mutex, process context only) protects the list
 * of offers; each connection's own fields are its socket's, as in
 * grant.c.
 */
#include "af_xen.h"

#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <linux/mutex.h>
#include <linux/ratelimit.h>
#include <xen/xen.h>
#include <xen/features.h>

/*
 * A PVH guest that grant-maps a page it granted itself reads something
 * else than the page and corrupts memory soon after (seen in the
 * emulated host on 6.1: the listener read garbage, then the guest
 * oopsed; cross-guest maps in the same guests are fine, and so is
 * mapping one's own grants on PV).  So a loopback connection there maps
 * nothing: the listener finds the connector's offer in this list by the
 * control page's grant reference, checks the control page and the grant
 * list against the offer, and shares the pages, holding a reference on
 * each so that they outlive the connector's teardown.
 */
static LIST_HEAD(afx_self_offers);	/* afx_self_lock */
static DEFINE_MUTEX(afx_self_lock);

bool afx_self_shared(domid_t peer)
{
	return xen_feature(XENFEAT_auto_translated_physmap) &&
	       peer == afx_xs_self();
}

void afx_self_offer(struct afx_conn *c)
{
	mutex_lock(&afx_self_lock);
	list_add(&c->self_node, &afx_self_offers);
	c->self_offered = true;
	mutex_unlock(&afx_self_lock);
}

void afx_self_withdraw(struct afx_conn *c)
{
	if (!c->self_offered)
		return;
	mutex_lock(&afx_self_lock);
	list_del(&c->self_node);
	c->self_offered = false;
	mutex_unlock(&afx_self_lock);
}

/* Under afx_self_lock: check @o against its own control page, share it. */
static int afx_self_take(struct afx_conn *c, struct afx_conn *o,
			 grant_ref_t *refs)
{
	unsigned int i, n = 2 * c->npages;
	int err;

	c->ctrl = page_address(o->ctrl_page);
	err = afx_conn_check_ctrl(c, refs, o->ctrl_gref);
	for (i = 0; !err && i < n; i++)
		if (refs[i] != o->grefs[i])
			err = -EPROTO;
	if (err) {
		c->ctrl = NULL;
		return err;
	}
	c->ctrl_page = o->ctrl_page;
	get_page(c->ctrl_page);
	for (i = 0; i < n; i++) {
		c->pages[i] = o->pages[i];
		get_page(c->pages[i]);
	}
	c->self_shared = true;
	atomic_add(n + 1, &afx_nr_mapped);
	return 0;
}

int afx_self_map(struct afx_conn *c, grant_ref_t ctrl_ref)
{
	unsigned int i, n = c->npages;
	struct afx_conn *o;
	grant_ref_t *refs;
	int err = -EPROTO;

	refs = kcalloc(2 * n, sizeof(*refs), GFP_KERNEL);
	if (!refs)
		return -ENOMEM;
	mutex_lock(&afx_self_lock);
	list_for_each_entry(o, &afx_self_offers, self_node) {
		if (o->ctrl_gref == ctrl_ref) {
			err = afx_self_take(c, o, refs);
			break;
		}
	}
	mutex_unlock(&afx_self_lock);
	kfree(refs);
	if (err) {
		pr_warn_ratelimited("loopback: no offer of ours matches grant %u\n",
				    ctrl_ref);
		return err;
	}
	for (i = 0; i < 2; i++) {
		c->va[i] = afx_vmap(c->pages + i * n, n, i == 0);
		if (!c->va[i])
			return -ENOMEM;
	}
	return 0;
}

void afx_self_unmap(struct afx_conn *c)
{
	unsigned int i, n = 2 * c->npages;

	for (i = 0; i < 2; i++) {
		if (c->va[i])
			vunmap(c->va[i]);
		c->va[i] = NULL;
	}
	for (i = 0; i < n; i++)
		put_page(c->pages[i]);
	put_page(c->ctrl_page);
	atomic_sub(n + 1, &afx_nr_mapped);
	c->self_shared = false;
	c->ctrl_page = NULL;
	c->ctrl = NULL;
	afx_conn_free_arrays(c);
}
