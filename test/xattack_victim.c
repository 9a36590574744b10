// SPDX-License-Identifier: GPL-2.0
/*
 * xattack victim: ordinary AF_XEN sockets on the real module, and the
 * verdicts.  Each case tells the attacker what to do (one command line)
 * and judges what the module made of it.  Times are measured on this
 * side only: the attacker starts a timed attack a fixed delay after the
 * command, so "elapsed - delay" bounds the detection time from above.
 *
 * Hostile connector cases use listeners on LPORT (and FPORT for the
 * flood); hostile listener cases connect to the attacker's HPORT.
 */
#include "xattack.h"
#include "xattack_victim.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define LPORT		7100
#define ATTACK_DELAY_MS	500
#define STORM_MS	2000

static int lfd = -1;		/* our listener for the hostile connector */
static unsigned int next_cport = 31000;

/* ----- Hostile connector: the attacker connects to lfd ----- */

static unsigned int cport(void)
{
	return next_cport++;
}

/* The errno in an "ANS <hex>" reply, -1 if none or not an answer. */
long answer_errno(const char *reply, char *text, size_t size)
{
	char raw[256];
	ssize_t n;
	const char *sp;

	snprintf(text, size, "no answer");
	if (strncmp(reply, "ANS ", 4) || !strcmp(reply + 4, "-"))
		return -1;
	n = hex_decode(raw, sizeof(raw) - 1, reply + 4);
	if (n < 0)
		return -1;
	raw[n] = 0;
	snprintf(text, size, "\"%s\"", raw);
	sp = strchr(raw, ' ');
	return sp && (size_t)(sp - raw) + 1 < (size_t)n ?
		strtol(sp + 1, NULL, 10) : -1;
}

/* Nothing may sit on the accept queue after a refused request. */
static int nothing_accepted(void)
{
	int fd = accept(lfd, NULL, NULL);

	if (fd >= 0) {
		close(fd);
		return 0;
	}
	return 1;
}

/* Send @val as a request and expect "... 71" and no accepted socket. */
static void malformed_request(const char *name, const void *val, size_t len)
{
	char hex[XA_LINE], text[300];
	const char *r;
	struct logmark m;
	long e;

	log_mark(&m);
	hex_encode(hex, val, len);
	r = ask("REQ %u %u %s", LPORT, cport(), hex);
	e = answer_errno(r, text, sizeof(text));
	msleep(100);
	note("malformed request (%s): answer %s", name, text);
	log_check(&m, name);
	tapf(e == EPROTO && nothing_accepted(),
	     "attack: malformed request (%s) answered EPROTO, nothing accepted",
	     "answer %s, %s", name, text,
	     nothing_accepted() ? "nothing accepted" : "a socket was accepted");
}

struct malformed {
	const char *name;
	const char *v;
	size_t len;
};

/* The same lies in vsock's five-field form (type 257 before the nonce). */
static const struct malformed malformed_vsock[] = {
	{ "numbers past 32 bits",
	  "4294967883 4294967307 4294967296 257 1f2e3d", 0 },
	{ "trailing junk", "8 9 0 257 1f2e3d junk", 0 },
	{ "embedded NUL", "8 9 0 257 1f2e3d\0junk", 21 },
	{ "leading zero", "08 9 0 257 1f2e3d", 0 },
	{ "double space", "8 9 0  257 1f2e3d", 0 },
	{ "17-digit nonce", "8 9 0 257 11111111111111111", 0 },
	{ "uppercase nonce", "8 9 0 257 1F2E3D", 0 },
	{ "type past 32 bits", "8 9 0 4294967553 1f2e3d", 0 },
};

static void case_malformed(void)
{
	static const struct malformed req[] = {
		{ "numbers past 32 bits",
		  "4294967883 4294967307 4294967296 1f2e3d", 0 },
		{ "trailing junk", "8 9 0 1f2e3d junk", 0 },
		{ "embedded NUL", "8 9 0 1f2e3d\0junk", 17 },
		{ "leading zero", "08 9 0 1f2e3d", 0 },
		{ "double space", "8  9 0 1f2e3d", 0 },
		{ "17-digit nonce", "8 9 0 11111111111111111", 0 },
		{ "uppercase nonce", "8 9 0 1F2E3D", 0 },
	};
	const struct malformed *m = g_opt->vsock ? malformed_vsock : req;
	size_t i, n = g_opt->vsock ? sizeof(malformed_vsock) / sizeof(*m) :
		      sizeof(req) / sizeof(*m);

	for (i = 0; i < n; i++)
		malformed_request(m[i].name, m[i].v,
				  m[i].len ? m[i].len : strlen(m[i].v));
}

/* A control page that lies in one way @how; expect EPROTO, no socket. */
static void bad_ctrl(const char *how, const char *what)
{
	char text[300];
	struct logmark m;
	long e;

	log_mark(&m);
	e = answer_errno(ask("CONN %u %u 0 %s", LPORT, cport(), how), text,
			 sizeof(text));
	msleep(100);
	log_check(&m, what);
	tapf(e == EPROTO && nothing_accepted(),
	     "attack: %s answered EPROTO, nothing accepted", "answer %s",
	     what, text);
	ask("DROP");
}

static void case_aliased(void)
{
	bad_ctrl("dup", "grant list naming one page twice");
	bad_ctrl("ctrlgref", "grant list naming the control page as data");
}

static void case_bad_ctrl(void)
{
	bad_ctrl("magic", "control page with a wrong magic");
	bad_ctrl("version", "control page with a wrong version");
	bad_ctrl("bigorder", "control page and request with order 9");
	bad_ctrl("orderdiff", "control page order not the request's");
	bad_ctrl("ngrefs", "control page nr_grefs not 2 << order");
}

/*
 * A well-formed connection from the attacker, accepted here; -1 (with
 * *why set) if the module did not take it.
 */
static int hostile_accepted(unsigned int port, int listener,
			    const char **why)
{
	static char text[300];
	struct pollfd p = { .fd = listener, .events = POLLIN };
	long e;
	int fd;

	e = answer_errno(ask("CONN %u %u 0 ok", port, cport()), text,
			 sizeof(text));
	*why = text;
	if (e != 0)
		return -1;
	if (poll(&p, 1, 2000) != 1)
		return -1;
	fd = accept(listener, NULL, NULL);
	if (fd >= 0)
		set_timeouts(fd, 10000);
	return fd;
}

/* What a blocked victim waits in; the attack starts ATTACK_DELAY_MS on. */
enum block { IN_RECV, IN_SEND, IN_POLL };
static const char *const block_name[] = { "recv", "send on a full ring",
					  "poll(POLLIN)" };

static int block_until_error(int fd, enum block how)
{
	static char buf[65536];
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t r;

	switch (how) {
	case IN_RECV:
		r = recv(fd, buf, sizeof(buf), 0);
		return sock_err_after(fd, r);
	case IN_SEND:
		while ((r = send(fd, buf, sizeof(buf), MSG_NOSIGNAL)) > 0)
			;
		return sock_err_after(fd, r);
	case IN_POLL:
		if (poll(&p, 1, 10000) != 1)
			return ETIMEDOUT;
		r = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		return sock_err_after(fd, r);
	}
	return 0;
}

/*
 * Block in @how on @fd while the attacker runs @cmd (which starts after
 * ATTACK_DELAY_MS); expect @want within @limit seconds of the attack.
 */
static void judge_block(int fd, enum block how, const char *cmd, int want,
			double limit, const char *name, struct logmark *m)
{
	double t0 = now_s(), dt;
	const char *r;
	int e;

	ctl_send(g_ctl, "%s", cmd);
	e = block_until_error(fd, how);
	dt = now_s() - t0 - ATTACK_DELAY_MS / 1000.0;
	r = reply(30000);
	note("%s: %s after %.3f s (attacker: %s)", name, e ? strerror(e) : "no error",
	     dt, r);
	log_check(m, name);
	tapf(e == want && dt <= limit,
	     "attack: %s while blocked in %s: %s within %.1f s (%.2f s)",
	     "got %s after %.2f s", name, block_name[how], errname(want), limit,
	     dt, errname(e), dt);
}

static void case_storm_connector(enum block how)
{
	struct logmark m;
	const char *why;
	int fd;

	log_mark(&m);
	fd = hostile_accepted(LPORT, lfd, &why);
	if (fd < 0) {
		tapf(0, "attack: event storm while blocked in %s",
		     "connection not accepted: %s", block_name[how], why);
		ask("DROP");
		return;
	}
	judge_block(fd, how, "STORM 500 2000", EPROTO, 1.5,
		    "event storm from a connector", &m);
	close(fd);
	ask("DROP");
}

static void case_vanish_connector(void)
{
	struct logmark m;
	const char *why;
	int fd;

	log_mark(&m);
	fd = hostile_accepted(LPORT, lfd, &why);
	if (fd < 0) {
		tapf(0, "attack: vanished connector", "not accepted: %s", why);
		ask("DROP");
		return;
	}
	judge_block(fd, IN_RECV, "VANISH 500", ECONNRESET, 2.5,
		    "vanished connector (event channel closed)", &m);
	close(fd);
	ask("DROP");
}

/* ----- Corrupted ring indices after connect (case 6) ----- */

static int recv_errno(int fd)
{
	char buf[4096];
	ssize_t r = recv(fd, buf, sizeof(buf), 0);

	return sock_err_after(fd, r);
}

static int send_errno(int fd, size_t n)
{
	char buf[256] = { 0 };
	ssize_t r = send(fd, buf, n, MSG_NOSIGNAL);

	return r < 0 ? sock_err_after(fd, r) : (size_t)r == n ? 0 : EIO;
}

/* Receive exactly @n pattern bytes the attacker wrote from offset @off. */
static int recv_pattern(int fd, uint64_t off, size_t n)
{
	uint8_t buf[4096];
	size_t got = 0, i;

	while (got < n) {
		ssize_t r = recv(fd, buf, n - got, 0);

		if (r <= 0)
			return 0;
		for (i = 0; i < (size_t)r; i++)
			if (buf[i] != xa_pat(off + got + i))
				return 0;
		got += r;
	}
	return 1;
}

static void corrupt(const char *name)
{
	struct logmark m;
	const char *why = "";
	int fd, e = -1, ok = 1;

	log_mark(&m);
	fd = hostile_accepted(LPORT, lfd, &why);
	if (fd < 0) {
		tapf(0, "attack: %s", "not accepted: %s", name, why);
		ask("DROP");
		return;
	}
	if (!strcmp(name, "prod beyond the ring")) {
		ask("SETN %d %u", XA_OFF_C2S + XA_R_PROD, XA_PAGE + 1);
		e = recv_errno(fd);
	} else if (!strcmp(name, "prod moving backwards")) {
		ask("WRITE 10");
		ok = recv_pattern(fd, 0, 10);
		ask("SETN %d 5", XA_OFF_C2S + XA_R_PROD);
		e = recv_errno(fd);
	} else if (!strcmp(name, "garbage producer state bits")) {
		ask("SETN %d 0x80", XA_OFF_C2S + XA_R_PSTATE);
		e = recv_errno(fd);
	} else {	/* cons moving backwards, we the writer */
		ok = !send_errno(fd, 100);
		ask("SET %d 100", XA_OFF_S2C + XA_R_CONS);
		ok = ok && !send_errno(fd, 100);
		ask("SET %d 50", XA_OFF_S2C + XA_R_CONS);
		e = send_errno(fd, 100);
	}
	log_check(&m, name);
	tapf(ok && e == EPROTO,
	     "attack: %s after connect: EPROTO", "%s, got %s", name,
	     ok ? "legitimate part fine" : "legitimate part failed",
	     errname(e));
	close(fd);
	ask("DROP");
}

static void case_corrupt(void)
{
	corrupt("prod beyond the ring");
	corrupt("prod moving backwards");
	corrupt("garbage producer state bits");
	corrupt("cons moving backwards");
}

/* ----- Flood (case 7) ----- */

#define FPORT		7101
#define FLOOD_N		300
#define FLOOD_BACKLOG	4

static void flood_verdict(const char *r, int after_ok, const char *after)
{
	unsigned int ans = 0, ok = 0, ref = 0, proto = 0, other = 0;

	sscanf(r, "FLOOD %u %u %u %u %u", &ans, &ok, &ref, &proto, &other);
	note("flood: %u answered: %u accepted, %u ECONNREFUSED, %u EPROTO, %u other",
	     ans, ok, ref, proto, other);
	/* sk_acceptq_is_full() lets one past the backlog, as TCP does. */
	tapf(ans == FLOOD_N && ok <= FLOOD_BACKLOG + 1 && !other && after_ok,
	     "attack: flood of %d requests at backlog %d: each answered, then a fresh connection works",
	     "reply \"%s\"; afterwards: %s", FLOOD_N, FLOOD_BACKLOG, r, after);
}

/* Rendezvous nodes in our own xenstore tree (af_xen-setup --count). */
static long xs_nodes(void)
{
	FILE *p = popen("af_xen-setup --count", "r");
	long n = -1;

	if (p) {
		if (fscanf(p, "%ld", &n) != 1)
			n = -1;
		pclose(p);
	}
	return n;
}

/*
 * The flood's 300 withdrawals leave this module as many answer nodes to
 * remove, one xenstore round trip each, queued ahead of any new request:
 * the fresh connection comes once they are gone (30 s at most), so that
 * it tests recovery rather than the emulator's speed.
 */
static void flood_settle(long base)
{
	double t0 = now_s();

	while (xs_nodes() > base && now_s() - t0 < 30)
		msleep(200);
	note("flood: our answer nodes were gone %.1f s after the flood", now_s() - t0);
}

static void case_flood(void)
{
	char reply_copy[XA_LINE];
	const char *why = "", *after = "fresh connection carried 100 bytes";
	long base = xs_nodes();
	int fl, fd, ok = 0;

	fl = af_listen(FPORT, FLOOD_BACKLOG);
	if (fl < 0) {
		tapf(0, "attack: flood", "listen on %d: %s", FPORT,
		     strerror(-fl));
		return;
	}
	snprintf(reply_copy, sizeof(reply_copy), "%s",
		 ask_timeout(90000, "FLOOD %u %u %u", FPORT, 40000, FLOOD_N));
	while ((fd = accept(fl, NULL, NULL)) >= 0)
		close(fd);
	flood_settle(base);
	fd = hostile_accepted(FPORT, fl, &why);
	if (fd >= 0) {
		ask("WRITE 100");
		ok = recv_pattern(fd, 0, 100);
		if (!ok)
			after = "the 100 bytes did not arrive intact";
		close(fd);
	} else {
		after = why;
	}
	ask("DROP");
	close(fl);
	flood_verdict(reply_copy, ok, after);
}

/* ----- Hostile listener: we connect to the attacker (cases 8-10) ----- */

#define HPORT		7200

/* connect() to the attacker's HPORT after telling it how to answer. */
static int hl_connect(const char *how, const char *mode, int *err,
		      double *secs, const char **rep)
{
	int fd = af_socket(XA_PAGE);
	double t0;

	ctl_send(g_ctl, "HL %u %s %s", HPORT, how, mode);
	t0 = now_s();
	*err = af_connect(fd, g_opt->peer, HPORT);
	*secs = now_s() - t0;
	*rep = reply(30000);
	if (*err) {
		close(fd);
		return -1;
	}
	set_timeouts(fd, 10000);
	return fd;
}

static void hl_answer(const char *how, const char *what)
{
	struct logmark m;
	const char *r;
	double dt;
	int fd, e;

	log_mark(&m);
	fd = hl_connect(how, "badgood", &e, &dt, &r);
	log_check(&m, what);
	tapf(fd >= 0 && !strcmp(r, "HL ignored"),
	     "attack: listener answer %s ignored, the correct one 300 ms later wins",
	     "connect: %s after %.2f s; attacker: %s", what,
	     e ? errname(e) : "ok", dt, r);
	if (fd >= 0)
		close(fd);
	ask("DROP");
}

static void case_hl_answers(void)
{
	struct logmark m;
	const char *r;
	double dt;
	int fd, e;

	hl_answer("nuljunk", "\"<nonce> 0\\0junk\"");
	hl_answer("zero2", "\"<nonce> 00\"");
	hl_answer("dblspace", "\"<nonce>  0\"");
	hl_answer("big", "\"<nonce> 4096\"");
	hl_answer("upper", "with an uppercase nonce");
	hl_answer("trail", "with a trailing space");
	hl_answer("lead0", "with a leading zero on the nonce");
	/* A bad answer alone: the connect must time out. */
	log_mark(&m);
	fd = hl_connect("nuljunk", "badonly", &e, &dt, &r);
	log_check(&m, "answer alone");
	tapf(fd < 0 && e == ETIMEDOUT && dt > 4.5 && dt < 7,
	     "attack: listener answer \"<nonce> 0\\0junk\" alone: connect times out (%.1f s)",
	     "connect: %s after %.2f s; attacker: %s", dt,
	     e ? errname(e) : "ok", dt, r);
	if (fd >= 0)
		close(fd);
	ask("DROP");
}

static void case_hl_block(const char *cmd, int want, double limit,
			  const char *name)
{
	struct logmark m;
	const char *r;
	double dt;
	int fd, e;

	log_mark(&m);
	fd = hl_connect("-", "good", &e, &dt, &r);
	if (fd < 0) {
		tapf(0, "attack: %s", "connect: %s; attacker: %s", name,
		     errname(e), r);
		ask("DROP");
		return;
	}
	judge_block(fd, IN_RECV, cmd, want, limit, name, &m);
	close(fd);
	ask("DROP");
}

/* ----- The run ----- */

int victim_cases(void)
{
	lfd = af_listen(LPORT, 16);
	if (lfd < 0) {
		tapf(0, "attack: victim listens on port %d", "%s", LPORT,
		     strerror(-lfd));
		return 1;
	}
	case_storm_connector(IN_RECV);
	case_storm_connector(IN_SEND);
	case_storm_connector(IN_POLL);
	case_vanish_connector();
	case_hl_block("VANISH 500", ECONNRESET, 2.5,
		      "vanished listener (event channel closed)");
	case_aliased();
	case_malformed();
	case_hl_answers();
	case_bad_ctrl();
	case_corrupt();
	case_flood();
	case_hl_block("STORM 500 2000", EPROTO, 1.5,
		      "event storm from a listener");
	if (!g_opt->vsock)
		victim_chan_cases(LPORT, lfd);
	close(lfd);
	return 0;
}
