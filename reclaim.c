// SPDX-License-Identifier: GPL-2.0
/*
 * af_xen: getting back the pages a closed connection granted to its
 * peer.  A page is freed only once its grant has really ended (XSA-396).
 *
 * Locking: afx_zombie_lock (spinlock, bh) protects afx_zombies; the reap
 * work takes the whole list out under it and works on it unlocked.
 */
#include "af_xen.h"

#include <linux/slab.h>
#include <linux/list.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>
#include <xen/grant_table.h>

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

/*
 * Give back the granted pages of a closed connection (@n of them in its
 * arrays); take the arrays over if some are still mapped by the peer.
 */
void afx_bury(struct afx_conn *c, unsigned int n)
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

void afx_reclaim_exit(void)
{
	struct afx_zombie *z, *tmp;

	cancel_delayed_work_sync(&afx_reap_work);
	list_for_each_entry_safe(z, tmp, &afx_zombies, node) {
		list_del(&z->node);
		afx_zombie_free(z);
	}
}
