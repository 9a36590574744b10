// SPDX-License-Identifier: GPL-2.0
/*
 * afx_test: readiness that depends on more than "is the ring empty":
 * SO_RCVLOWAT for poll and epoll (level- and edge-triggered), POLLRDHUP
 * with unread data, POLLOUT once a full ring drains, edge-triggered epoll
 * for a reader that never sees EAGAIN, and a reader that comes late to a
 * closed connection.
 *
 * The writer (client) sends in two steps a second apart and keeps the
 * connection open until the reader says DONE, so a poller that is not
 * woken at the mark times out instead of being rescued by the close.
 */
#include "afx_test.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#define LOWAT		1000
#define FIRST		10
#define STEP_MS		1000

static const char *const by_names[] = { "poll", "epoll", "epoll (EPOLLET)" };

/* Wait up to @ms for @events by @how; returns the events seen (0: none). */
static unsigned int wait_ready(int fd, int how, unsigned int events, int ms)
{
	struct epoll_event ev = { .events = events }, got;
	struct pollfd p = { .fd = fd, .events = events };
	int ep, n;

	if (how == AFX_BY_POLL) {
		n = poll(&p, 1, ms);
		if (n < 0)
			fail("poll: %s", errname(errno));
		return n ? p.revents : 0;
	}
	if (how == AFX_BY_EPOLL_ET)
		ev.events |= EPOLLET;
	ep = epoll_create1(0);
	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev))
		fail("epoll set-up: %s", errname(errno));
	n = epoll_wait(ep, &got, 1, ms);
	if (n < 0)
		fail("epoll_wait: %s", errname(errno));
	close(ep);
	return n ? got.events : 0;
}

void afx_s_rcvlowat(const struct ctx *c)
{
	int lfd = afx_listen(XEN_DOMID_ANY, c->port, 4), fd, how = c->tc->arg;
	int lowat = LOWAT;
	unsigned char buf[LOWAT];
	unsigned int ev;
	double t0, secs;

	ctl_writeln("LISTENING");
	fd = afx_accept(lfd, NULL);
	if (setsockopt(fd, SOL_SOCKET, SO_RCVLOWAT, &lowat, sizeof(lowat)))
		fail("SO_RCVLOWAT %d: %s", lowat, errname(errno));
	step("%s for POLLIN with SO_RCVLOWAT %d, data in two steps",
	     by_names[how], lowat);
	ctl_writeln("GO");
	t0 = now_s();
	ev = wait_ready(fd, how, EPOLLIN, 3 * STEP_MS + 2000);
	secs = now_s() - t0;
	note("%s: woke after %.2f s with events %#x", by_names[how], secs, ev);
	if (!(ev & EPOLLIN))
		fail("%s not woken when the low-water mark was reached (%.2f s)",
		     by_names[how], secs);
	if (secs < STEP_MS / 1000.0 * 0.8)
		fail("%s reported POLLIN after %.2f s, before the mark was reached",
		     by_names[how], secs);
	recv_all(fd, buf, sizeof(buf), "the 1000 bytes");
	ctl_writeln("DONE");
	close(fd);
	close(lfd);
}

void afx_c_rcvlowat(const struct ctx *c)
{
	static unsigned char buf[LOWAT];
	int fd;

	ctl_expectln("LISTENING");
	fd = afx_connect(g_peer_domid, c->port);
	ctl_expectln("GO");
	send_all(fd, buf, FIRST, "the first 10 bytes");
	msleep(STEP_MS);
	send_all(fd, buf + FIRST, LOWAT - FIRST, "the other 990 bytes");
	ctl_expectln("DONE");
	close(fd);
}

/* The peer shut its side down with data still unread: POLLRDHUP now. */
void afx_s_rdhup_unread(const struct ctx *c)
{
	int lfd = afx_listen(XEN_DOMID_ANY, c->port, 4), fd;
	unsigned char buf[100];
	unsigned int ev;

	ctl_writeln("LISTENING");
	fd = afx_accept(lfd, NULL);
	ctl_expectln("SHUT");
	step("poll for POLLRDHUP with 100 bytes unread after the peer's SHUT_WR");
	ev = wait_ready(fd, AFX_BY_POLL, EPOLLIN | EPOLLRDHUP, 3000);
	if ((ev & (EPOLLIN | EPOLLRDHUP)) != (EPOLLIN | EPOLLRDHUP))
		fail("events %#x: expected POLLIN|POLLRDHUP with data unread", ev);
	recv_all(fd, buf, sizeof(buf), "the unread 100 bytes");
	expect_eof(fd, "after the unread data");
	ctl_writeln("DONE");
	close(fd);
	close(lfd);
}

void afx_c_rdhup_unread(const struct ctx *c)
{
	unsigned char buf[100] = { 0 };
	int fd;

	ctl_expectln("LISTENING");
	fd = afx_connect(g_peer_domid, c->port);
	send_all(fd, buf, sizeof(buf), "100 bytes");
	if (shutdown(fd, SHUT_WR))
		fail("shutdown(SHUT_WR): %s", errname(errno));
	ctl_writeln("SHUT");
	ctl_expectln("DONE");
	close(fd);
}

/* A full ring that the peer drains a second later: POLLOUT then. */
void afx_s_pollout_drain(const struct ctx *c)
{
	static unsigned char buf[65536];
	int lfd = afx_listen(XEN_DOMID_ANY, c->port, 4), fd;
	unsigned long long filled = 0;
	unsigned int ev;
	double t0, secs;
	ssize_t r;

	ctl_writeln("LISTENING");
	fd = afx_accept(lfd, NULL);
	set_nonblock(fd, true);
	while ((r = send(fd, buf, sizeof(buf), MSG_NOSIGNAL)) > 0)
		filled += r;
	if (errno != EAGAIN)
		fail("filling the ring: %s", errname(errno));
	set_nonblock(fd, false);
	ctl_writeln("FULL %llu", filled);
	step("poll for POLLOUT on a full ring (%llu bytes) drained 1 s later",
	     filled);
	t0 = now_s();
	ev = wait_ready(fd, AFX_BY_POLL, EPOLLOUT, 5000);
	secs = now_s() - t0;
	note("poll: POLLOUT after %.2f s (events %#x)", secs, ev);
	if (!(ev & EPOLLOUT))
		fail("not woken for POLLOUT after the ring drained (%.2f s)", secs);
	ctl_writeln("DONE");
	close(fd);
	close(lfd);
}

void afx_c_pollout_drain(const struct ctx *c)
{
	static unsigned char buf[65536];
	unsigned long long filled, got = 0;
	int fd;
	ssize_t r;

	ctl_expectln("LISTENING");
	fd = afx_connect(g_peer_domid, c->port);
	filled = ctl_expect_num("FULL");
	msleep(STEP_MS);
	while (got < filled) {
		r = recv(fd, buf, sizeof(buf), 0);
		if (r <= 0)
			fail("draining: recv returned %zd (%s)", r,
			     r < 0 ? errname(errno) : "EOF");
		got += r;
	}
	ctl_expectln("DONE");
	close(fd);
}

/*
 * Edge-triggered epoll with a reader that takes exactly what it expects
 * and never goes on to EAGAIN: the next data must still bring an edge.
 */
void afx_s_et_no_eagain(const struct ctx *c)
{
	int lfd = afx_listen(XEN_DOMID_ANY, c->port, 4), fd, ep;
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET };
	unsigned char buf[300];

	ctl_writeln("LISTENING");
	fd = afx_accept(lfd, NULL);
	ep = epoll_create1(0);
	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev))
		fail("epoll set-up: %s", errname(errno));
	for (int round = 0; round < 3; round++) {
		step("round %d: EPOLLET edge for 300 bytes, read without EAGAIN",
		     round);
		ctl_writeln("SEND");
		if (epoll_wait(ep, &ev, 1, 5000) != 1 || !(ev.events & EPOLLIN))
			fail("round %d: no edge within 5 s for new data (the reader emptied the ring last time, but never saw EAGAIN)",
			     round);
		recv_all(fd, buf, sizeof(buf), "the 300 bytes");
	}
	ctl_writeln("DONE");
	close(ep);
	close(fd);
	close(lfd);
}

void afx_c_et_no_eagain(const struct ctx *c)
{
	static unsigned char buf[300];
	int fd;

	ctl_expectln("LISTENING");
	fd = afx_connect(g_peer_domid, c->port);
	for (int round = 0; round < 3; round++) {
		ctl_expectln("SEND");
		msleep(300);	/* the reader is in epoll_wait by now */
		send_all(fd, buf, sizeof(buf), "300 bytes");
	}
	ctl_expectln("DONE");
	close(fd);
}

/*
 * The peer writes and closes at once; this side reads 2.5 s later, after
 * the liveness probe has found the peer's event channel gone more than
 * once: every byte, then EOF, not a reset.
 */
void afx_s_late_reader(const struct ctx *c)
{
	int lfd = afx_listen(XEN_DOMID_ANY, c->port, 4), fd;
	uint64_t h = HASH_INIT;

	ctl_writeln("LISTENING");
	fd = afx_accept(lfd, NULL);
	ctl_expectln("CLOSED");
	msleep(2500);
	step("reading 64 KiB 2.5 s after the peer closed");
	recv_stream(fd, 0x1a7e, 65536, &h);
	expect_eof(fd, "after the late read");
	close(fd);
	close(lfd);
}

void afx_c_late_reader(const struct ctx *c)
{
	uint64_t h = HASH_INIT;
	int fd;

	ctl_expectln("LISTENING");
	fd = afx_connect(g_peer_domid, c->port);
	send_stream(fd, 0x1a7e, 65536, &h);
	close(fd);
	ctl_writeln("CLOSED");
}
