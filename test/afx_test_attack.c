// SPDX-License-Identifier: GPL-2.0
/*
 * afx_test: attacks on a victim that is waiting, played by the other
 * guest's AFX_DEBUG module (XEN_SO_DEBUG_CORRUPT).
 *
 * - an event storm while the victim is blocked in recv, in send on a full
 *   ring, or in poll: the victim must get EPROTO within a second of the
 *   storm's start, however often it re-arms;
 * - a peer that lets go of its event channel without a word (as a dying
 *   process does) while the victim is blocked in recv, either side
 *   vanishing: the victim must get ECONNRESET within two seconds.
 *
 * The hostile side starts 500 ms after the victim says it is about to
 * block, so the victim measures from its own clock: elapsed - 0.5 s is
 * an upper bound on the detection time.
 */
#include "afx_test.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef XEN_SO_DEBUG_CORRUPT

#define ATTACK_DELAY_MS	500

enum { WAIT_RECV, WAIT_SEND, WAIT_POLL };
static const char *const wait_names[] = { "recv", "send", "poll" };

/* Is the module here an AFX_DEBUG build?  Tell the victim either way. */
static void hostile_ready(int fd)
{
	int what = 0;

	if (setsockopt(fd, g_family, XEN_SO_DEBUG_CORRUPT, &what,
		       sizeof(what)) && errno == ENOPROTOOPT) {
		ctl_writeln("SKIP");
		skip("module built without AFX_DEBUG (no XEN_SO_DEBUG_CORRUPT)");
	}
	ctl_writeln("READY");
}

static void victim_ready(void)
{
	char line[64];

	ctl_readln(line, sizeof(line));
	if (!strcmp(line, "SKIP"))
		skip("peer's module built without AFX_DEBUG");
	if (strcmp(line, "READY"))
		fail("control: expected READY, got \"%s\"", line);
}

static void hostile_act(int fd, int what)
{
	ctl_expectln("BLOCKING");
	msleep(ATTACK_DELAY_MS);
	if (setsockopt(fd, g_family, XEN_SO_DEBUG_CORRUPT, &what, sizeof(what)))
		fail("setsockopt(XEN_SO_DEBUG_CORRUPT, %d): %s", what,
		     errname(errno));
}

/*
 * Block as @how says until the connection fails; returns the errno the
 * victim finally got and stores the seconds it waited in *secs.
 */
static int victim_block(int fd, int how, double *secs)
{
	static char buf[1 << 22];
	struct pollfd p = { .fd = fd, .events = POLLIN };
	double t0;
	ssize_t r;
	int e = 0;

	set_timeo(fd, SO_RCVTIMEO, 10000);
	set_timeo(fd, SO_SNDTIMEO, 10000);
	ctl_writeln("BLOCKING");
	t0 = now_s();
	switch (how) {
	case WAIT_RECV:
		r = recv(fd, buf, 1, 0);
		e = r < 0 ? errno : 0;
		break;
	case WAIT_SEND:
		/* Fills the ring, then waits for space that never comes. */
		r = send(fd, buf, sizeof(buf), MSG_NOSIGNAL);
		e = r < 0 ? errno : 0;
		break;
	default:
		r = poll(&p, 1, 10000);
		if (r != 1)
			fail("poll returned %zd (revents %#x): not woken", r,
			     p.revents);
		break;
	}
	*secs = now_s() - t0;
	if (r == (ssize_t)sizeof(buf))
		fail("send of %zu bytes completed: the peer never reads", r);
	/* A partial send or a poll wake-up: the next call says why. */
	if (!e && how == WAIT_SEND) {
		r = send(fd, buf, 1, MSG_NOSIGNAL | MSG_DONTWAIT);
		e = r < 0 ? errno : 0;
	} else if (!e && how == WAIT_POLL) {
		r = recv(fd, buf, 1, MSG_DONTWAIT);
		e = r < 0 ? errno : 0;
	}
	return e;
}

static void victim_judge(int e, int want, double secs, double limit,
			 const char *what)
{
	double late = secs - ATTACK_DELAY_MS / 1000.0;

	note("%s: the victim got %s after %.2f s (at most %.2f s after the attack began)",
	     what, e ? errname(e) : "no error", secs, late);
	if (e != want)
		fail("%s: expected %s, got %s", what, errname(want),
		     e ? errname(e) : "no error");
	if (late > limit)
		fail("%s: detected %.2f s after the attack began; the limit is %.1f s",
		     what, late, limit);
}

/* Storm while blocked: the client floods, the server waits as arg says. */
void afx_s_storm_blocked(const struct ctx *c)
{
	int lfd = afx_listen(XEN_DOMID_ANY, c->port, 4), fd, how = c->tc->arg;
	char what[64];
	double secs;
	int e;

	ctl_writeln("LISTENING");
	fd = afx_accept(lfd, NULL);
	victim_ready();
	snprintf(what, sizeof(what), "storm while blocked in %s",
		 wait_names[how]);
	step("%s", what);
	e = victim_block(fd, how, &secs);
	victim_judge(e, EPROTO, secs, 1.0, what);
	expect_eof(fd, "after the storm");
	close(fd);
	ctl_writeln("CHECKED");
	fd = afx_accept(lfd, NULL);
	recv_byte(fd, 0x5e, "fresh connection after the storm");
	close(fd);
	close(lfd);
}

void afx_c_storm_blocked(const struct ctx *c)
{
	int fd;

	ctl_expectln("LISTENING");
	fd = afx_connect(g_peer_domid, c->port);
	hostile_ready(fd);
	hostile_act(fd, XEN_DEBUG_EVENT_STORM);
	ctl_expectln("CHECKED");
	close(fd);
	fd = afx_connect(g_peer_domid, c->port);
	send_byte(fd, 0x5e, "fresh connection after the storm");
	close(fd);
}

/* Vanished peer: arg 0, the connector vanishes; 1, the listener. */
void afx_s_vanish(const struct ctx *c)
{
	int lfd = afx_listen(XEN_DOMID_ANY, c->port, 4), fd;
	double secs;
	int e;

	ctl_writeln("LISTENING");
	fd = afx_accept(lfd, NULL);
	if (c->tc->arg) {
		hostile_ready(fd);
		hostile_act(fd, XEN_DEBUG_VANISH);
		ctl_expectln("CHECKED");
	} else {
		victim_ready();
		step("recv while the connector lets go of its event channel");
		e = victim_block(fd, WAIT_RECV, &secs);
		victim_judge(e, ECONNRESET, secs, 2.0, "vanished connector");
		expect_eof(fd, "after the reset");
		ctl_writeln("CHECKED");
	}
	close(fd);
	fd = afx_accept(lfd, NULL);
	recv_byte(fd, 0x5e, "fresh connection after the vanished one");
	close(fd);
	close(lfd);
}

void afx_c_vanish(const struct ctx *c)
{
	double secs;
	int fd, e;

	ctl_expectln("LISTENING");
	fd = afx_connect(g_peer_domid, c->port);
	if (!c->tc->arg) {
		hostile_ready(fd);
		hostile_act(fd, XEN_DEBUG_VANISH);
		ctl_expectln("CHECKED");
	} else {
		victim_ready();
		step("recv while the listener lets go of its event channel");
		e = victim_block(fd, WAIT_RECV, &secs);
		victim_judge(e, ECONNRESET, secs, 2.0, "vanished listener");
		expect_eof(fd, "after the reset");
		ctl_writeln("CHECKED");
	}
	close(fd);
	fd = afx_connect(g_peer_domid, c->port);
	send_byte(fd, 0x5e, "fresh connection after the vanished one");
	close(fd);
}

#endif /* XEN_SO_DEBUG_CORRUPT */
