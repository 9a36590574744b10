// SPDX-License-Identifier: GPL-2.0
/*
 * xattack attacker: the hostile peer, with no af_xen in its guest.
 *
 * It is a command server: the victim sends one line, the attacker does
 * what it says through the raw Xen devices and answers with one line.
 * Keeping every decision in the victim makes the attacker a toolbox of
 * protocol primitives, each of which a real hostile guest could run.
 *
 * The attacker holds at most one connection at a time (struct hconn),
 * either as connector C (its pages, granted to the victim) or as
 * listener S (the victim's pages, mapped here).
 */
#include "xattack.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ANSWER_WAIT_MS	3000
#define FLOOD_WAIT_MS	30000
#define FLOOD_MAX	1000

struct hconn {
	int active;
	struct xa_grant g;	/* as C: ctrl page, then the data pages */
	struct xa_map m;	/* as S: the victim's control page */
	uint8_t *ctrl;
	int efd;
	unsigned int port;	/* our end of the event channel */
	uint64_t written;	/* as C: bytes put into c2s */
	uint32_t read;		/* as C: bytes taken from s2c */
	char ans_path[128];	/* as S: our answer node, removed at drop */
};

static struct xs_conn xs;
static const struct xa_opts *opt;
static struct hconn cur = { .efd = -1 };

static void hconn_drop(struct hconn *h)
{
	if (h->efd >= 0)
		close(h->efd);
	if (h->g.va)
		xa_grant_free(&h->g);
	if (h->m.va)
		xa_unmap(&h->m);
	if (h->ans_path[0])
		xs_rm(&xs, h->ans_path);
	memset(h, 0, sizeof(*h));
	h->efd = -1;
}

/*
 * A connect request: AF_XEN streams' four fields, or five with a type:
 * vsock's, or @type (a control channel's, say) when not 0.
 */
static int req_value(char *buf, size_t n, unsigned int gref, int port,
		     unsigned int order, uint64_t nonce, unsigned int type)
{
	if (opt->vsock && !type)
		type = XA_TYPE_VSOCK_STREAM;
	if (type)
		return snprintf(buf, n, "%u %d %u %u %llx", gref, port, order,
				type, (unsigned long long)nonce);
	return snprintf(buf, n, "%u %d %u %llx", gref, port, order,
			(unsigned long long)nonce);
}

static void req_path(char *buf, size_t n, unsigned int sport,
		     unsigned int cport)
{
	snprintf(buf, n, "/local/domain/%u/data/af_xen/c/%u-%u-%u", opt->self,
		 opt->peer, sport, cport);
}

static void ans_path(char *buf, size_t n, unsigned int sport,
		     unsigned int cport)
{
	snprintf(buf, n, "/local/domain/%u/data/af_xen/a/%u-%u-%u", opt->peer,
		 opt->self, cport, sport);
}

/*
 * Wait for the victim's answer node.  With @prefix, only an answer that
 * starts with it (our nonce) counts: an older one may still be there.
 */
static int wait_answer(const char *path, const char *prefix, char *out,
		       size_t size, size_t *len)
{
	double end = now_s() + ANSWER_WAIT_MS / 1000.0;

	do {
		if (!xs_read(&xs, path, out, size - 1, len)) {
			out[*len] = 0;
			if (!prefix || !strncmp(out, prefix, strlen(prefix)))
				return 0;
		}
		msleep(5);
	} while (now_s() < end);
	return -ETIMEDOUT;
}

/* Write a request value, wait for the answer, withdraw the request. */
static void do_request(int cfd, unsigned int sport, unsigned int cport,
		       const void *val, size_t len, const char *prefix)
{
	char rp[128], ap[128], ans[256], hex[520];
	size_t alen;
	int err;

	req_path(rp, sizeof(rp), sport, cport);
	ans_path(ap, sizeof(ap), sport, cport);
	err = xs_write(&xs, rp, val, len);
	if (err) {
		ctl_send(cfd, "ERR xs_write %s: %d", rp, err);
		return;
	}
	err = wait_answer(ap, prefix, ans, sizeof(ans), &alen);
	xs_rm(&xs, rp);
	if (err) {
		ctl_send(cfd, "ANS -");
		return;
	}
	hex_encode(hex, ans, alen);
	ctl_send(cfd, "ANS %s", hex);
}

static void cmd_req(int cfd, const char *args)
{
	unsigned int sport, cport;
	char hex[XA_LINE], val[XA_LINE];
	ssize_t len;

	if (sscanf(args, "%u %u %511s", &sport, &cport, hex) != 3 ||
	    (len = hex_decode(val, sizeof(val), hex)) < 0) {
		ctl_send(cfd, "ERR bad REQ");
		return;
	}
	do_request(cfd, sport, cport, val, len, NULL);
}

/* The ways a control page can lie (case 2 and 3). */
static int fill_ctrl(struct hconn *h, unsigned int order, const char *how,
		     unsigned int *req_order)
{
	unsigned int i, n = 2u << order;
	uint8_t *c = h->ctrl;

	*req_order = order;
	*xa_u32(c, XA_OFF_MAGIC) = XA_MAGIC;
	*xa_u32(c, XA_OFF_VERSION) = XA_VERSION;
	*xa_u32(c, XA_OFF_ORDER) = order;
	*xa_u32(c, XA_OFF_NGREFS) = n;
	for (i = 0; i < n; i++)
		*xa_u32(c, XA_OFF_GREFS + 4 * i) = h->g.refs[1 + i];
	if (!strcmp(how, "magic"))
		*xa_u32(c, XA_OFF_MAGIC) = 0x4e584642;
	else if (!strcmp(how, "version"))
		*xa_u32(c, XA_OFF_VERSION) = 2;
	else if (!strcmp(how, "bigorder"))
		*req_order = *xa_u32(c, XA_OFF_ORDER) = 9;
	else if (!strcmp(how, "orderdiff"))
		*xa_u32(c, XA_OFF_ORDER) = order + 1;
	else if (!strcmp(how, "ngrefs"))
		*xa_u32(c, XA_OFF_NGREFS) = n - 1;
	else if (!strcmp(how, "dup"))
		*xa_u32(c, XA_OFF_GREFS + 4) = h->g.refs[1];
	else if (!strcmp(how, "ctrlgref"))
		*xa_u32(c, XA_OFF_GREFS) = h->g.refs[0];
	else if (strcmp(how, "ok"))
		return -EINVAL;
	return 0;
}

/* As C: grant a control page and 2 << order data pages, and an unbound port. */
static int hconn_offer(struct hconn *h, unsigned int order)
{
	int err;

	hconn_drop(h);
	err = xa_grant_alloc(&h->g, opt->peer, 1 + (2u << order));
	if (err)
		return err;
	h->ctrl = h->g.va;
	h->efd = xa_evtchn_open();
	if (h->efd < 0)
		return h->efd;
	err = xa_evtchn_unbound(h->efd, opt->peer);
	if (err < 0)
		return err;
	h->port = err;
	h->active = 1;
	return 0;
}

static void cmd_conn(int cfd, const char *args)
{
	unsigned int sport, cport, order, req_order, type = 0;
	char how[32], val[128], prefix[24];
	uint64_t nonce = rnd64();
	int err, n;

	if (sscanf(args, "%u %u %u %31s %u", &sport, &cport, &order, how,
		   &type) < 4 || order > 8) {
		ctl_send(cfd, "ERR bad CONN");
		return;
	}
	err = hconn_offer(&cur, order);
	if (!err)
		err = fill_ctrl(&cur, order, how, &req_order);
	if (err) {
		ctl_send(cfd, "ERR offer: %d", err);
		return;
	}
	n = req_value(val, sizeof(val), cur.g.refs[0], cur.port, req_order,
		      nonce, type);
	snprintf(prefix, sizeof(prefix), "%llx ", (unsigned long long)nonce);
	do_request(cfd, sport, cport, val, n, prefix);
}

/* Notify in a tight loop, shared memory untouched (cases 4 and 10). */
static void cmd_storm(int cfd, const char *args)
{
	int delay = 500, ms = 2000;
	unsigned long n = 0, errs = 0;
	double end;

	sscanf(args, "%d %d", &delay, &ms);
	msleep(delay);
	end = now_s() + ms / 1000.0;
	while (now_s() < end) {
		int i;

		for (i = 0; i < 64; i++, n++)
			if (xa_evtchn_notify(cur.efd, cur.port))
				errs++;
	}
	ctl_send(cfd, "DONE %lu %lu", n, errs);
}

/* Let go of everything without a word, as a dying process does. */
static void cmd_vanish(int cfd, const char *args)
{
	int delay = 500;

	sscanf(args, "%d", &delay);
	msleep(delay);
	if (cur.efd >= 0)
		close(cur.efd);
	cur.efd = -1;
	if (cur.g.va)
		xa_grant_free(&cur.g);
	if (cur.m.va)
		xa_unmap(&cur.m);
	cur.ctrl = NULL;
	ctl_send(cfd, "DONE");
}

static void cmd_set(int cfd, const char *args, int notify)
{
	unsigned int off, v;

	if (!cur.ctrl || sscanf(args, "%i %i", &off, &v) != 2 ||
	    off > XA_PAGE - 4) {
		ctl_send(cfd, "ERR bad SET");
		return;
	}
	*xa_u32(cur.ctrl, off) = v;
	__sync_synchronize();
	if (notify && cur.efd >= 0)
		xa_evtchn_notify(cur.efd, cur.port);
	ctl_send(cfd, "DONE");
}

static void cmd_get(int cfd, const char *args)
{
	unsigned int off;

	if (!cur.ctrl || sscanf(args, "%i", &off) != 1 || off > XA_PAGE - 4) {
		ctl_send(cfd, "ERR bad GET");
		return;
	}
	ctl_send(cfd, "VAL %u", *xa_u32(cur.ctrl, off));
}

/* As C: put @n pattern bytes into the c2s ring and publish them. */
static void cmd_write(int cfd, const char *args)
{
	uint32_t size = XA_PAGE, prod;
	uint8_t *ring;
	unsigned int n, i;

	if (!cur.g.va || sscanf(args, "%u", &n) != 1 || n > size) {
		ctl_send(cfd, "ERR bad WRITE");
		return;
	}
	/* order 0 only: one page per direction, c2s first */
	ring = cur.g.va + XA_PAGE;
	prod = (uint32_t)cur.written;
	for (i = 0; i < n; i++)
		ring[(prod + i) & (size - 1)] = xa_pat(cur.written + i);
	__sync_synchronize();
	cur.written += n;
	*xa_u32(cur.ctrl, XA_OFF_C2S + XA_R_PROD) = (uint32_t)cur.written;
	__sync_synchronize();
	xa_evtchn_notify(cur.efd, cur.port);
	ctl_send(cfd, "DONE");
}

/*
 * As C, order 0: @count copies of one record (header, then the payload
 * given in hex) into c2s, each waiting up to 5 s for room; "DONE <n>".
 */
static void cmd_wrec(int cfd, const char *args)
{
	uint8_t rec[XA_LINE], *ring = cur.g.va + XA_PAGE;
	char hex[XA_LINE];
	unsigned int count, i, j;
	ssize_t len;

	if (!cur.g.va || sscanf(args, "%u %511s", &count, hex) != 2 ||
	    (len = hex_decode(rec + 4, sizeof(rec) - 4, hex)) < 0) {
		ctl_send(cfd, "ERR bad WREC");
		return;
	}
	*(uint32_t *)rec = len;
	for (i = 0; i < count; i++) {
		double end = now_s() + 5;

		while ((uint32_t)cur.written + len + 4 -
		       *xa_u32(cur.ctrl, XA_OFF_C2S + XA_R_CONS) > XA_PAGE) {
			if (now_s() > end)
				goto out;
			msleep(1);
		}
		for (j = 0; j < len + 4; j++)
			ring[(cur.written + j) & (XA_PAGE - 1)] = rec[j];
		__sync_synchronize();
		cur.written += len + 4;
		*xa_u32(cur.ctrl, XA_OFF_C2S + XA_R_PROD) = cur.written;
		__sync_synchronize();
		xa_evtchn_notify(cur.efd, cur.port);
	}
out:
	ctl_send(cfd, "DONE %u", i);
}

/* As C, order 0: the next record in s2c, "REC <hex>", or "REC -". */
static void cmd_rrec(int cfd)
{
	uint8_t rec[256], *ring = cur.g.va + 2 * XA_PAGE;
	char hex[2 * sizeof(rec) + 1];
	uint32_t prod, len, j;

	if (!cur.g.va) {
		ctl_send(cfd, "ERR bad RREC");
		return;
	}
	prod = *xa_u32(cur.ctrl, XA_OFF_S2C + XA_R_PROD);
	__sync_synchronize();
	for (j = 0; j < 4 && prod - cur.read >= 4; j++)
		rec[j] = ring[(cur.read + j) & (XA_PAGE - 1)];
	len = *(uint32_t *)rec;
	if (j < 4 || len > sizeof(rec) || prod - cur.read < 4 + len) {
		ctl_send(cfd, "REC -");
		return;
	}
	for (j = 0; j < len; j++)
		rec[j] = ring[(cur.read + 4 + j) & (XA_PAGE - 1)];
	cur.read += 4 + len;
	*xa_u32(cur.ctrl, XA_OFF_S2C + XA_R_CONS) = cur.read;
	hex_encode(hex, rec, len);
	ctl_send(cfd, "REC %s", hex);
}

/* Answers to a flood, by errno. */
struct flood_count {
	unsigned int answered, ok, refused, proto, other;
};

static void flood_classify(struct flood_count *fc, const char *ans)
{
	const char *sp = strchr(ans, ' ');
	unsigned long e = sp ? strtoul(sp + 1, NULL, 10) : ~0ul;

	fc->answered++;
	if (e == 0)
		fc->ok++;
	else if (e == ECONNREFUSED)
		fc->refused++;
	else if (e == EPROTO)
		fc->proto++;
	else
		fc->other++;
}

/*
 * Case 7: @n well-formed requests, distinct cports and fresh nonces, all
 * naming one set of valid grants (the victim may map a grant more than
 * once), each with its own unbound port while the domain has ports.
 */
struct flood {
	unsigned int sport, cport0, n;
	struct hconn h;
	unsigned int ro;
	uint64_t nonce[FLOOD_MAX];
	unsigned char state[FLOOD_MAX];	/* 0 unsent, 1 out, 2 answered */
	int last_port, port_err, write_err;
	unsigned int reused, quota_hits, max_out;
};

/* Write request @i; 0, or the xenstore error (our quota: try later). */
static int flood_send(struct flood *f, unsigned int i)
{
	char rp[128], val[128];
	int port = xa_evtchn_unbound(f->h.efd, opt->peer);
	int l;

	/*
	 * A domain has only so many ports: past that, requests share the
	 * last one (only a backlog's worth can be accepted; the rest are
	 * refused before the victim binds a port).
	 */
	if (port < 0) {
		f->port_err = port;
		f->reused++;
		port = f->last_port;
	}
	f->last_port = port;
	f->nonce[i] = rnd64();
	l = req_value(val, sizeof(val), f->h.g.refs[0], port, f->ro,
		      f->nonce[i], 0);
	req_path(rp, sizeof(rp), f->sport, f->cport0 + i);
	return xs_write(&xs, rp, val, l);
}

/* Request @i answered?  Then count it and withdraw it, as C does. */
static int flood_poll(struct flood *f, unsigned int i, struct flood_count *fc)
{
	char ap[128], rp[128], ans[256], pre[24];
	size_t len;

	ans_path(ap, sizeof(ap), f->sport, f->cport0 + i);
	snprintf(pre, sizeof(pre), "%llx ", (unsigned long long)f->nonce[i]);
	if (xs_read(&xs, ap, ans, sizeof(ans) - 1, &len))
		return 0;
	ans[len] = 0;
	if (strncmp(ans, pre, strlen(pre)))
		return 0;
	flood_classify(fc, ans);
	req_path(rp, sizeof(rp), f->sport, f->cport0 + i);
	xs_rm(&xs, rp);
	return 1;
}

/*
 * Keep as many requests outstanding as our own xenstore quota allows
 * (a guest may own only so many nodes: ENOSPC), and refill as answers
 * arrive.  The victim does not accept meanwhile.
 */
static void flood_run(struct flood *f, struct flood_count *fc)
{
	double end = now_s() + FLOOD_WAIT_MS / 1000.0;
	unsigned int i, out = 0, next = 0;

	while (fc->answered < f->n && now_s() < end) {
		int err;

		while (next < f->n && !(err = flood_send(f, next))) {
			f->state[next++] = 1;
			if (++out > f->max_out)
				f->max_out = out;
		}
		if (next < f->n) {
			f->write_err = err;
			f->quota_hits++;
		}
		msleep(20);
		for (i = 0; i < next; i++)
			if (f->state[i] == 1 && flood_poll(f, i, fc)) {
				f->state[i] = 2;
				out--;
			}
	}
	for (i = 0; i < next; i++) {
		char rp[128];

		if (f->state[i] != 1)
			continue;
		req_path(rp, sizeof(rp), f->sport, f->cport0 + i);
		xs_rm(&xs, rp);
	}
}

static void cmd_flood(int cfd, const char *args)
{
	static struct flood f;
	struct flood_count fc = { 0 };

	memset(&f, 0, sizeof(f));
	f.h.efd = -1;
	f.last_port = -1;
	if (sscanf(args, "%u %u %u", &f.sport, &f.cport0, &f.n) != 3 ||
	    f.n > FLOOD_MAX || hconn_offer(&f.h, 0) ||
	    fill_ctrl(&f.h, 0, "ok", &f.ro)) {
		ctl_send(cfd, "ERR bad FLOOD");
		hconn_drop(&f.h);
		return;
	}
	flood_run(&f, &fc);
	hconn_drop(&f.h);
	note("flood: at most %u outstanding; %u times our xenstore quota (%d); %u requests shared a port (%d)",
	     f.max_out, f.quota_hits, f.write_err, f.reused, f.port_err);
	ctl_send(cfd, "FLOOD %u %u %u %u %u max_out %u quota_hits %u reused %u",
		 fc.answered, fc.ok, fc.refused, fc.proto, fc.other, f.max_out,
		 f.quota_hits, f.reused);
}

/* ----- Hostile listener (cases 8 to 10) ----- */

/* The victim's request to us on @sport: its cport and value. */
static int find_request(unsigned int sport, unsigned int *cport, char *val,
			size_t size)
{
	char dir[96], names[4096], rp[160];
	double end = now_s() + 10;
	size_t len, vlen;

	snprintf(dir, sizeof(dir), "/local/domain/%u/data/af_xen/c", opt->peer);
	do {
		size_t o;

		if (xs_directory(&xs, dir, names, sizeof(names) - 1, &len))
			len = 0;
		names[len] = 0;
		for (o = 0; o < len; o += strlen(names + o) + 1) {
			unsigned int d, sp, cp;

			if (sscanf(names + o, "%u-%u-%u", &d, &sp, &cp) != 3 ||
			    d != opt->self || sp != sport)
				continue;
			snprintf(rp, sizeof(rp), "%s/%s", dir, names + o);
			if (xs_read(&xs, rp, val, size - 1, &vlen))
				continue;
			val[vlen] = 0;
			*cport = cp;
			return 0;
		}
		msleep(5);
	} while (now_s() < end);
	return -ETIMEDOUT;
}

/* An answer that deviates from the grammar in one way (case 8). */
static size_t bad_answer(char *out, const char *nhex, const char *how)
{
	size_t n, i;

	if (!strcmp(how, "nuljunk")) {
		n = sprintf(out, "%s 0", nhex);
		out[n++] = 0;
		memcpy(out + n, "junk", 4);
		return n + 4;
	}
	if (!strcmp(how, "upper")) {
		n = sprintf(out, "%s 0", nhex);
		for (i = 0; out[i] != ' '; i++)
			if (out[i] >= 'a' && out[i] <= 'f')
				out[i] -= 'a' - 'A';
		return n;
	}
	if (!strcmp(how, "zero2"))
		return sprintf(out, "%s 00", nhex);
	if (!strcmp(how, "dblspace"))
		return sprintf(out, "%s  0", nhex);
	if (!strcmp(how, "big"))
		return sprintf(out, "%s 4096", nhex);
	if (!strcmp(how, "lead0"))
		return sprintf(out, "0%s 0", nhex);
	return sprintf(out, "%s 0 ", nhex);	/* "trail" */
}

/* As S: map the victim's control page and bind its port, like af_xen. */
static int hconn_accept(struct hconn *h, uint32_t gref, unsigned int rport)
{
	int err;

	hconn_drop(h);
	err = xa_map_grants(&h->m, opt->peer, &gref, 1, 1);
	if (err)
		return err;
	h->ctrl = h->m.va;
	h->efd = xa_evtchn_open();
	if (h->efd < 0)
		return h->efd;
	err = xa_evtchn_interdomain(h->efd, opt->peer, rport);
	if (err < 0)
		return err;
	h->port = err;
	h->active = 1;
	return 0;
}

static int still_there(const char *path)
{
	char v[256];
	size_t l;

	return !xs_read(&xs, path, v, sizeof(v), &l);
}

/* The victim's request: vsock's must name its type, AF_XEN's must not. */
static int parse_request(const char *val, unsigned int *gref,
			 unsigned int *rport, unsigned int *order,
			 unsigned long long *nonce)
{
	unsigned int type;

	if (opt->vsock)
		return sscanf(val, "%u %u %u %u %llx", gref, rport, order,
			      &type, nonce) != 5 ||
			type != XA_TYPE_VSOCK_STREAM;
	return sscanf(val, "%u %u %u %llx", gref, rport, order, nonce) != 4;
}

/*
 * HL <sport> <variant> <mode>: answer the victim's connect on @sport.
 * mode good: a correct answer; badgood: @variant, then 300 ms later the
 * correct one; badonly: @variant and nothing else.  The reply says
 * whether the victim withdrew its request after the bad answer (which it
 * does only when it took the answer).
 */
static void cmd_hl(int cfd, const char *args)
{
	char how[32], mode[16], val[256], nhex[24], ans[64], rp[160];
	unsigned int sport, cport, gref, rport, order;
	unsigned long long nonce;
	int taken = 0, err;
	size_t n;

	if (sscanf(args, "%u %31s %15s", &sport, how, mode) != 3) {
		ctl_send(cfd, "ERR bad HL");
		return;
	}
	hconn_drop(&cur);
	if (find_request(sport, &cport, val, sizeof(val)) ||
	    parse_request(val, &gref, &rport, &order, &nonce)) {
		ctl_send(cfd, "ERR no request on port %u", sport);
		return;
	}
	snprintf(rp, sizeof(rp), "/local/domain/%u/data/af_xen/c/%u-%u-%u",
		 opt->peer, opt->self, sport, cport);
	snprintf(nhex, sizeof(nhex), "%llx", nonce);
	if (strcmp(mode, "badonly")) {
		err = hconn_accept(&cur, gref, rport);
		if (err) {
			ctl_send(cfd, "ERR accept: %d", err);
			return;
		}
	}
	snprintf(cur.ans_path, sizeof(cur.ans_path),
		 "/local/domain/%u/data/af_xen/a/%u-%u-%u", opt->self,
		 opt->peer, cport, sport);
	if (strcmp(mode, "good")) {
		n = bad_answer(ans, nhex, how);
		xs_write(&xs, cur.ans_path, ans, n);
		msleep(300);
		taken = !still_there(rp);
	}
	if (strcmp(mode, "badonly")) {
		n = sprintf(ans, "%s 0", nhex);
		xs_write(&xs, cur.ans_path, ans, n);
	} else {
		/* The victim gives up after connect_timeout_ms. */
		double end = now_s() + 10;

		while (still_there(rp) && now_s() < end)
			msleep(50);
		xs_rm(&xs, cur.ans_path);
		cur.ans_path[0] = 0;
	}
	ctl_send(cfd, "HL %s", taken ? "taken" : "ignored");
}

static void cmd_drop(int cfd)
{
	hconn_drop(&cur);
	ctl_send(cfd, "DONE");
}

static void dispatch(int cfd, char *line)
{
	char *args = strchr(line, ' ');

	args = args ? args + 1 : line + strlen(line);
	if (!strncmp(line, "REQ ", 4))
		cmd_req(cfd, args);
	else if (!strncmp(line, "CONN ", 5))
		cmd_conn(cfd, args);
	else if (!strncmp(line, "STORM", 5))
		cmd_storm(cfd, args);
	else if (!strncmp(line, "VANISH", 6))
		cmd_vanish(cfd, args);
	else if (!strncmp(line, "SETN ", 5))
		cmd_set(cfd, args, 1);
	else if (!strncmp(line, "SET ", 4))
		cmd_set(cfd, args, 0);
	else if (!strncmp(line, "GET ", 4))
		cmd_get(cfd, args);
	else if (!strncmp(line, "WRITE ", 6))
		cmd_write(cfd, args);
	else if (!strncmp(line, "WREC ", 5))
		cmd_wrec(cfd, args);
	else if (!strcmp(line, "RREC"))
		cmd_rrec(cfd);
	else if (!strncmp(line, "FLOOD ", 6))
		cmd_flood(cfd, args);
	else if (!strncmp(line, "HL ", 3))
		cmd_hl(cfd, args);
	else if (!strcmp(line, "DROP"))
		cmd_drop(cfd);
	else
		ctl_send(cfd, "ERR unknown command \"%.40s\"", line);
}

/*
 * Announce a module: the victim's connector refuses a domain without
 * data/af_xen/module, and its listener resets connections of a domain
 * whose module node is gone.
 */
static int publish_module(void)
{
	char path[96];

	snprintf(path, sizeof(path), "/local/domain/%u/data/af_xen/module",
		 opt->self);
	return xs_write(&xs, path, "1", 1);
}

static void unpublish_module(void)
{
	char path[96];

	snprintf(path, sizeof(path), "/local/domain/%u/data/af_xen/module",
		 opt->self);
	xs_rm(&xs, path);
}

int attacker_main(const struct xa_opts *o)
{
	char line[XA_LINE];
	int cfd, err;

	opt = o;
	if (xs_open(&xs))
		die("open /dev/xen/xenbus: %s", strerror(errno));
	err = publish_module();
	if (err)
		die("writing our module node: %d", err);
	cfd = ctl_open(0, o->peer_ip, o->port);
	if (cfd < 0)
		die("control channel to %s:%d: %s", o->peer_ip, o->port,
		    strerror(-cfd));
	note("attacker: domain %u against victim domain %u", o->self, o->peer);
	while (ctl_recv(cfd, line, sizeof(line), -1) > 0 && strcmp(line, "BYE"))
		dispatch(cfd, line);
	hconn_drop(&cur);
	unpublish_module();
	note("attacker: done");
	return 0;
}
