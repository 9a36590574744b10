// SPDX-License-Identifier: GPL-2.0
/*
 * af_xen rendezvous through xenstore.
 *
 * Each side writes only in its own tree, below data/af_xen, which the
 * af_xen-setup tool made readable to the allowed peers (a guest kernel
 * cannot send XS_SET_PERMS).  The path proves who wrote a node:
 *
 *   C: data/af_xen/c/<S>-<sport>-<cport> = "<gref> <evtchn> <order> <nonce>"
 *      or, for a socket type other than SOCK_STREAM,
 *      "<gref> <evtchn> <order> <type> <nonce>"
 *   S: data/af_xen/a/<C>-<cport>-<sport> = "<nonce> <errno>"
 *   both: data/af_xen/module = "<version>" (present while loaded)
 *
 * Values and paths a peer wrote are parsed strictly (parse.c; grammar in
 * docs/protocol.md): a malformed request is answered EPROTO, a malformed
 * answer is ignored as if it were absent.
 *
 * The listener learns of requests through one watch on /local/domain
 * (events arrive only for nodes it may read); the connector watches the
 * one answer node it expects.  Peers' death is seen through a watch on
 * each connected peer's module node, which vanishes with the domain.
 *
 * Locking: afx_xs_lock (mutex) protects afx_peers and afx_published.
 * Watch callbacks run in the xenwatch thread and never take a socket lock
 * or afx_xs_lock; they only queue work on afx_wq.  This is what allows
 * unregister_xenbus_watch(), which waits for running callbacks, to be
 * called with a socket lock or afx_xs_lock held.
 */
#include "af_xen.h"
#include "parse.h"
#include <linux/af_xen.h>

#include <linux/export.h>
#include <linux/net.h>
#include <linux/slab.h>
#include <linux/random.h>
#include <linux/ratelimit.h>
#include <xen/xen.h>

static_assert(AFX_DOMID_LIMIT == DOMID_FIRST_RESERVED);
static_assert(AFX_REQ_STREAM == SOCK_STREAM);
static_assert(AFX_REQ_SEQPACKET == SOCK_SEQPACKET);

struct afx_peer {
	struct list_head node;
	domid_t domid;
	unsigned int refs;
	unsigned int chan_refs;	/* of @refs, those held by control channels */
	struct xenbus_watch watch;
	char path[AFX_XS_PATH_MAX];
};

struct afx_xs_work {
	struct work_struct work;
	struct afx_xs_incoming in;
};

struct workqueue_struct *afx_wq;
static domid_t afx_self = DOMID_INVALID;
static DEFINE_MUTEX(afx_xs_lock);
static LIST_HEAD(afx_peers);		/* afx_xs_lock */
static bool afx_published;		/* afx_xs_lock */
static atomic_t afx_nr_watches = ATOMIC_INIT(0);

/*
 * Watches we hold on peers' nodes and pending connect answers; with
 * @chan, only those on peers' nodes held for control channels alone,
 * which are not counted without it (af_xen_stat, see chan.c).
 */
int afx_xs_nr_watches(bool chan)
{
	struct afx_peer *p;
	int n = 0;

	mutex_lock(&afx_xs_lock);
	list_for_each_entry(p, &afx_peers, node)
		n += p->refs == p->chan_refs;
	mutex_unlock(&afx_xs_lock);
	return chan ? n : atomic_read(&afx_nr_watches) - n;
}

domid_t afx_xs_self(void)
{
	return afx_self;
}
EXPORT_SYMBOL_GPL(afx_xs_self);

/* ----- Listener: connect requests ----- */

static void afx_ans_path(char *buf, const struct afx_xs_incoming *in)
{
	snprintf(buf, AFX_XS_PATH_MAX, "data/af_xen/a/%u-%u-%u",
		 in->peer, in->cport, in->sport);
}

int afx_xs_answer(const struct afx_xs_incoming *in, int err)
{
	char path[AFX_XS_PATH_MAX];

	afx_ans_path(path, in);
	return xenbus_printf(XBT_NIL, path, "", "%llx %d", in->nonce, -err);
}

/*
 * The request value, parsed strictly (parse.c): any deviation from the
 * format is refused.  The parser is given the length xenstore reports,
 * not strlen(), so a NUL inside the value cannot hide what follows it.
 */
static int afx_request_fields(const char *val, unsigned int len,
			      struct afx_xs_incoming *in)
{
	struct afx_req_fields f;

	if (afx_parse_request(val, len, &f)) {
		if (afx_parse_request_nonce(val, len, &f.nonce))
			f.nonce = 0;
		in->nonce = f.nonce;	/* only to address the refusal */
		return -EPROTO;
	}
	in->gref = f.gref;
	in->port = f.port;
	in->order = f.order;
	in->type = f.type;
	in->nonce = f.nonce;
	return 0;
}

/*
 * An answer to this request (same nonce) exists: the event is a repeat.
 * An answer with another nonce is left over from an earlier connection on
 * the same ports and is simply overwritten.
 */
static bool afx_answered_already(const char *ans, u64 nonce)
{
	struct afx_ans_fields f;
	unsigned int len;
	bool same;
	char *val;

	val = xenbus_read(XBT_NIL, ans, "", &len);
	if (IS_ERR(val))
		return false;
	same = !afx_parse_answer(val, len, &f) && f.nonce == nonce;
	kfree(val);
	return same;
}

static void afx_incoming_work(struct work_struct *work)
{
	struct afx_xs_work *w = container_of(work, struct afx_xs_work, work);
	struct afx_xs_incoming *in = &w->in;
	char req[AFX_XS_PATH_MAX], ans[AFX_XS_PATH_MAX];
	unsigned int len;
	ktime_t t = ktime_get();
	char *val;
	int err;

	snprintf(req, sizeof(req), "/local/domain/%u/data/af_xen/c/%u-%u-%u",
		 in->peer, afx_self, in->sport, in->cport);
	afx_ans_path(ans, in);
	val = xenbus_read(XBT_NIL, req, "", &len);
	if (IS_ERR(val)) {
		/* Request withdrawn: the connector is done with our answer. */
		if (xenbus_exists(XBT_NIL, ans, ""))
			xenbus_rm(XBT_NIL, ans, "");
		goto out;
	}
	err = afx_request_fields(val, len, in);
	kfree(val);
	if (afx_answered_already(ans, in->nonce))
		goto out;	/* a repeat event for this very request */
	afx_tm_add(AFX_TM_READ, t);
	if (err)
		pr_warn_ratelimited("domain %u: malformed connect request\n",
				    in->peer);
	else
		err = afx_link_incoming(in);
	if (err != -EINPROGRESS) {
		t = ktime_get();
		afx_xs_answer(in, err);
		afx_tm_add(AFX_TM_ANSWER, t);
	}
out:
	kfree(w);
}

static void afx_req_event(struct xenbus_watch *watch, const char *path,
			  const char *token)
{
	struct afx_req_path rp;
	struct afx_xs_work *w;

	/* Events for every node we may read: silently skip all others. */
	if (afx_parse_req_path(path, strlen(path), &rp) || rp.self != afx_self)
		return;
	w = kzalloc(sizeof(*w), GFP_KERNEL);
	if (!w)
		return;
	INIT_WORK(&w->work, afx_incoming_work);
	w->in.peer = rp.peer;
	w->in.sport = rp.sport;
	w->in.cport = rp.cport;
	queue_work(afx_wq, &w->work);
}

static struct xenbus_watch afx_req_watch = {
	.node = "/local/domain",
	.callback = afx_req_event,
};

/* ----- Connector: request and answer ----- */

static void afx_ans_event(struct xenbus_watch *watch, const char *path,
			  const char *token)
{
	struct afx_xs_req *req = container_of(watch, struct afx_xs_req, watch);
	struct afx_ans_fields f;
	unsigned int len;
	char *val;
	int err;

	val = xenbus_read(XBT_NIL, req->ans_path, "", &len);
	if (IS_ERR(val))
		return;		/* registration event, or not yet answered */
	err = afx_parse_answer(val, len, &f);
	kfree(val);
	/*
	 * Ignored as if absent: the connect times out, or a correct answer
	 * written later still wins.
	 */
	if (err) {
		pr_warn_ratelimited("domain %u: malformed connect answer ignored\n",
				    req->peer);
		return;
	}
	if (f.nonce != req->nonce)
		return;		/* a stale answer to an earlier attempt */
	if (READ_ONCE(req->result) != 1)
		return;
	req->got = ktime_get();
	afx_tm_add(AFX_TM_WAIT, req->sent);
	/* Pairs with the acquire in af_xen.c's connect_work. */
	smp_store_release(&req->result, -(int)f.err);
	req->answered(req);
}

int afx_xs_request(struct afx_xs_req *req, const struct afx_conn *c)
{
	ktime_t t = ktime_get();
	int err;

	snprintf(req->req_path, sizeof(req->req_path),
		 "data/af_xen/c/%u-%u-%u", req->peer, req->sport, req->cport);
	snprintf(req->ans_path, sizeof(req->ans_path),
		 "/local/domain/%u/data/af_xen/a/%u-%u-%u", req->peer,
		 afx_self, req->cport, req->sport);
	req->nonce = get_random_u64();
	req->result = 1;
	req->via_chan = false;
	req->watch.node = req->ans_path;
	req->watch.callback = afx_ans_event;
	err = register_xenbus_watch(&req->watch);
	if (err)
		return err;
	afx_tm_add(AFX_TM_WATCH, t);
	t = ktime_get();
	/* Streams in the old four fields: older listeners still take them. */
	if (req->type == AFX_REQ_STREAM)
		err = xenbus_printf(XBT_NIL, req->req_path, "", "%u %u %u %llx",
				    c->ctrl_gref, c->port, c->order,
				    req->nonce);
	else
		err = xenbus_printf(XBT_NIL, req->req_path, "",
				    "%u %u %u %u %llx", c->ctrl_gref, c->port,
				    c->order, req->type, req->nonce);
	if (err) {
		unregister_xenbus_watch(&req->watch);
		return err;
	}
	afx_tm_add(AFX_TM_WRITE, t);
	if (req->type != AFX_REQ_CHAN)
		atomic_long_inc(&afx_xs_connects);
	req->sent = ktime_get();
	atomic_inc(&afx_nr_watches);
	req->active = true;
	return 0;
}

void afx_xs_request_done(struct afx_xs_req *req)
{
	if (!req->active)
		return;
	if (req->via_chan) {
		afx_chan_withdraw(req);
		req->active = false;
		return;
	}
	unregister_xenbus_watch(&req->watch);
	atomic_dec(&afx_nr_watches);
	xenbus_rm(XBT_NIL, req->req_path, "");
	req->active = false;
}

/* ----- Set-up state and peers ----- */

/*
 * Listening or connecting needs our directory to be readable by peers,
 * which only af_xen-setup (userspace) can arrange.  Announce ourselves
 * the first time it is there.
 */
int afx_xs_prepare(void)
{
	int err = 0;

	mutex_lock(&afx_xs_lock);
	if (afx_published)
		goto out;
	if (!xenbus_exists(XBT_NIL, "data/af_xen/ready", "")) {
		pr_warn_ratelimited("xenstore directory data/af_xen is not prepared: run af_xen-setup (or load the module with af_xen-load)\n");
		err = -ENONET;
		goto out;
	}
	err = xenbus_printf(XBT_NIL, "data/af_xen/module", "", "%u",
			    AFX_MODULE_VERSION);
	if (!err)
		afx_published = true;
out:
	mutex_unlock(&afx_xs_lock);
	return err;
}

/*
 * The version @peer's module node says (AFX_MODULE_*), or -EHOSTUNREACH
 * if there is none.  One that cannot be read as a version is taken as 1,
 * the one version that everything speaks.
 */
int afx_xs_peer_present(domid_t peer)
{
	char path[AFX_XS_PATH_MAX];
	unsigned int len;
	u32 version;
	char *val;

	snprintf(path, sizeof(path), "/local/domain/%u/data/af_xen/module",
		 peer);
	val = xenbus_read(XBT_NIL, path, "", &len);
	if (IS_ERR(val))
		return -EHOSTUNREACH;
	if (afx_parse_module(val, len, &version) || version > INT_MAX)
		version = 1;
	kfree(val);
	return version;
}

struct afx_gone_work {
	struct work_struct work;
	domid_t peer;
};

static void afx_gone_work(struct work_struct *work)
{
	struct afx_gone_work *w = container_of(work, struct afx_gone_work,
					       work);

	if (afx_xs_peer_present(w->peer) < 0) {
		pr_info_ratelimited("domain %u is gone; resetting its connections\n",
				    w->peer);
		afx_link_peer_gone(w->peer);
		afx_mcast_peer_gone(w->peer);
		afx_chan_peer_gone(w->peer);
	}
	kfree(w);
}

static void afx_peer_event(struct xenbus_watch *watch, const char *path,
			   const char *token)
{
	struct afx_peer *p = container_of(watch, struct afx_peer, watch);
	struct afx_gone_work *w = kzalloc(sizeof(*w), GFP_KERNEL);

	if (!w)
		return;
	INIT_WORK(&w->work, afx_gone_work);
	w->peer = p->domid;
	queue_work(afx_wq, &w->work);
}

int afx_xs_peer_get(domid_t domid, bool chan)
{
	struct afx_peer *p;
	int err = 0;

	mutex_lock(&afx_xs_lock);
	list_for_each_entry(p, &afx_peers, node) {
		if (p->domid == domid) {
			p->refs++;
			p->chan_refs += chan;
			goto out;
		}
	}
	p = kzalloc(sizeof(*p), GFP_KERNEL);
	if (!p) {
		err = -ENOMEM;
		goto out;
	}
	p->domid = domid;
	p->refs = 1;
	p->chan_refs = chan;
	snprintf(p->path, sizeof(p->path),
		 "/local/domain/%u/data/af_xen/module", domid);
	p->watch.node = p->path;
	p->watch.callback = afx_peer_event;
	err = register_xenbus_watch(&p->watch);
	if (err) {
		kfree(p);
	} else {
		list_add(&p->node, &afx_peers);
		atomic_inc(&afx_nr_watches);
	}
out:
	mutex_unlock(&afx_xs_lock);
	return err;
}

void afx_xs_peer_put(domid_t domid, bool chan)
{
	struct afx_peer *p;

	mutex_lock(&afx_xs_lock);
	list_for_each_entry(p, &afx_peers, node) {
		if (p->domid != domid)
			continue;
		p->chan_refs -= chan;
		if (!--p->refs) {
			list_del(&p->node);
			unregister_xenbus_watch(&p->watch);
			atomic_dec(&afx_nr_watches);
			kfree(p);
		}
		break;
	}
	mutex_unlock(&afx_xs_lock);
}

int afx_xs_init(void)
{
	int err;

	if (!xen_domain())
		return -ENODEV;
	afx_self = xenbus_read_unsigned("domid", "", DOMID_INVALID);
	if (afx_self == DOMID_INVALID) {
		pr_err("cannot read own domain id from xenstore\n");
		return -ENODEV;
	}
	/* Ordered: two events for one request are never handled at once. */
	afx_wq = alloc_ordered_workqueue("af_xen", 0);
	if (!afx_wq)
		return -ENOMEM;
	err = afx_chan_init();
	if (!err)
		err = register_xenbus_watch(&afx_req_watch);
	if (err) {
		afx_chan_exit();
		destroy_workqueue(afx_wq);
		return err;
	}
	afx_xs_prepare();
	return 0;
}

void afx_xs_exit(void)
{
	unregister_xenbus_watch(&afx_req_watch);
	flush_workqueue(afx_wq);
	afx_chan_exit();
	if (afx_published) {
		xenbus_rm(XBT_NIL, "data/af_xen", "module");
		xenbus_rm(XBT_NIL, "data/af_xen", "a");
		xenbus_rm(XBT_NIL, "data/af_xen", "c");
	}
	destroy_workqueue(afx_wq);
}
