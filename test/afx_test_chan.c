// SPDX-License-Identifier: GPL-2.0
/*
 * afx_test: the per-peer control channel (chan.c).  Each guest in turn
 * makes a run of short connections to the other and checks, in its own
 * /proc/net/af_xen_chan, that they went over a channel when both modules
 * offer one, and that none was set up when the peer's module is the
 * previous one (phase compat runs this case against it, both ways).
 */
#include "afx_test.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHAN_PATH	"/proc/net/af_xen_chan"
#define CHAN_CONNS	30
/* Connects made through xenstore while the channel is being set up. */
#define CHAN_SETUP_SLACK	5

static bool chan_known(void)
{
	return access(CHAN_PATH, R_OK) == 0;
}

/* connects_chan, and whether our channel to the peer is up. */
static long chan_connects(bool *up)
{
	char line[128], want[64];
	long n = -1;
	FILE *f;

	*up = false;
	f = fopen(CHAN_PATH, "r");
	if (!f)
		fail("open %s: %s", CHAN_PATH, errname(errno));
	snprintf(want, sizeof(want), "peer %d out up ", g_peer_domid);
	while (fgets(line, sizeof(line), f)) {
		sscanf(line, "connects_chan %ld", &n);
		if (!strncmp(line, want, strlen(want)))
			*up = true;
	}
	fclose(f);
	if (n < 0)
		fail("%s has no connects_chan line", CHAN_PATH);
	return n;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* CHAN_CONNS connections, one byte each way; connect() times in ms. */
static void chan_connect_many(unsigned int port, double *ms)
{
	int i;

	for (i = 0; i < CHAN_CONNS; i++) {
		int fd = afx_socket(0), e;
		double t0 = now_s();

		step("connect %d of %d", i + 1, CHAN_CONNS);
		e = afx_try_connect(fd, g_peer_domid, port);
		if (e)
			fail("connect %d of %d: %s", i + 1, CHAN_CONNS,
			     errname(e));
		ms[i] = (now_s() - t0) * 1e3;
		send_byte(fd, i, "the connector's byte");
		recv_byte(fd, i ^ 0xff, "the listener's byte");
		close(fd);
	}
}

static void chan_accept_many(int lfd)
{
	int i;

	for (i = 0; i < CHAN_CONNS; i++) {
		int fd = afx_accept(lfd, NULL);

		recv_byte(fd, i, "the connector's byte");
		send_byte(fd, i ^ 0xff, "the listener's byte");
		close(fd);
	}
}

/* Our run of connects, then what our af_xen_chan says of it. */
static void chan_connector(unsigned int port, bool knows, bool peer_knows)
{
	double ms[CHAN_CONNS];
	long before = 0, after = 0;
	bool up = false;

	if (knows)
		before = chan_connects(&up);
	chan_connect_many(port, ms);
	if (knows)
		after = chan_connects(&up);
	qsort(ms + 1, CHAN_CONNS - 1, sizeof(ms[0]), cmp_double);
	note("connect(): the first %.1f ms, the median of the other %d %.1f ms; %ld of %d over a control channel",
	     ms[0], CHAN_CONNS - 1, ms[CHAN_CONNS / 2], after - before,
	     CHAN_CONNS);
	if (!knows)
		return;
	if (peer_knows && !up)
		fail("after %d connects no control channel to domain %d is up",
		     CHAN_CONNS, g_peer_domid);
	if (peer_knows && after - before < CHAN_CONNS - CHAN_SETUP_SLACK)
		fail("only %ld of %d connects went over the control channel",
		     after - before, CHAN_CONNS);
	if (!peer_knows && (up || after != before))
		fail("a control channel to a module that offers none (%ld connects over it)",
		     after - before);
}

void afx_s_chan(const struct ctx *c)
{
	bool knows = chan_known();
	char peer[16] = "";
	int lfd;

	ctl_writeln(knows ? "CHAN" : "NOCHAN");
	ctl_readln(peer, sizeof(peer));
	if (!knows && strcmp(peer, "CHAN"))
		skip("neither module has control channels");
	lfd = afx_listen(XEN_DOMID_ANY, c->port, 8);
	ctl_writeln("READY");
	chan_accept_many(lfd);
	close(lfd);
	ctl_expectln("READY");
	chan_connector(c->port + 1, knows, !strcmp(peer, "CHAN"));
	ctl_writeln("DONE");
}

void afx_c_chan(const struct ctx *c)
{
	bool knows = chan_known();
	char peer[16] = "";
	int lfd;

	ctl_readln(peer, sizeof(peer));
	ctl_writeln(knows ? "CHAN" : "NOCHAN");
	if (!knows && strcmp(peer, "CHAN"))
		skip("neither module has control channels");
	ctl_expectln("READY");
	chan_connector(c->port, knows, !strcmp(peer, "CHAN"));
	lfd = afx_listen(XEN_DOMID_ANY, c->port + 1, 8);
	ctl_writeln("READY");
	chan_accept_many(lfd);
	close(lfd);
	ctl_expectln("DONE");
}
