// SPDX-License-Identifier: GPL-2.0
/*
 * afx_test: SOCK_SEQPACKET.  Record boundaries and contents both ways at
 * once, truncation (MSG_TRUNC in and out), MSG_PEEK, MSG_EOR, empty
 * records, EMSGSIZE and the largest record, nonblocking sends and the
 * POLLOUT rule, poll and epoll, shutdown and EOF, type mismatches, and
 * peers whose record headers lie.
 */
#include "afx_test.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <unistd.h>

#define NRECS		10000
#define BIDIR_RING	16384

/* ---- records ---- */

static void seq_send(int fd, const void *buf, size_t len, const char *what)
{
	ssize_t r = send(fd, buf, len, MSG_NOSIGNAL);

	if (r < 0)
		fail("send of a %zu-byte record (%s): %s", len, what,
		     errname(errno));
	if ((size_t)r != len)
		fail("send of a %zu-byte record (%s) returned %zd", len, what, r);
}

/* recvmsg into @cap bytes; the result, and msg_flags in *flags. */
static ssize_t seq_recv(int fd, void *buf, size_t cap, int in_flags,
			int *flags)
{
	struct iovec iov = { .iov_base = buf, .iov_len = cap };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t r = recvmsg(fd, &m, in_flags);

	*flags = r < 0 ? 0 : m.msg_flags;
	return r;
}

/* Receive one record that must be exactly @len bytes of @want. */
static void seq_expect(int fd, const void *want, size_t len, const char *what)
{
	static unsigned char got[XEN_RING_SIZE_MAX + 1];
	int fl;
	ssize_t r = seq_recv(fd, got, sizeof(got), 0, &fl);

	if (r < 0)
		fail("recv of %s: %s", what, errname(errno));
	if ((size_t)r != len)
		fail("recv of %s: %zd bytes, the record had %zu", what, r, len);
	if (!(fl & MSG_EOR) || (fl & MSG_TRUNC))
		fail("recv of %s: msg_flags %#x, want MSG_EOR and no MSG_TRUNC",
		     what, fl);
	if (memcmp(got, want, len))
		fail("recv of %s: contents differ", what);
}

static void seq_expect_eof(int fd, const char *what)
{
	char b;
	int fl;
	ssize_t r = seq_recv(fd, &b, 1, 0, &fl);

	if (r < 0)
		fail("recv at EOF (%s): %s", what, errname(errno));
	if (r > 0 || (fl & MSG_EOR))
		fail("recv at EOF (%s): %zd bytes, msg_flags %#x; want 0 and no MSG_EOR",
		     what, r, fl);
}

static int record_max(int fd)
{
	socklen_t len = sizeof(int);
	int v;

	if (getsockopt(fd, g_family, XEN_SO_RECORD_MAX, &v, &len))
		fail("getsockopt(XEN_SO_RECORD_MAX): %s", errname(errno));
	return v;
}

static int seq_listen(const struct ctx *c, int off)
{
	int lfd = afx_listen_t(SOCK_SEQPACKET, XEN_DOMID_ANY, c->port + off, 4);

	ctl_writeln("LISTENING");
	return lfd;
}

static int seq_connect(const struct ctx *c, int off, int ring)
{
	ctl_expectln("LISTENING");
	return afx_connect_t(SOCK_SEQPACKET, g_peer_domid, c->port + off, ring);
}

/* ---- 10,000 records each way at once ---- */

/*
 * Record i's length: the extremes often (empty, one byte, the largest,
 * one below it), small ones often, any length up to the largest else.
 */
static size_t rec_len(uint64_t *s, size_t max)
{
	uint64_t x;

	*s ^= *s << 13, *s ^= *s >> 7, *s ^= *s << 17;
	x = *s >> 8;
	switch (x % 8) {
	case 0:
		return (x >> 3) % 4 == 0 ? 0 : (x >> 3) % 4 == 1 ? 1 :
		       (x >> 3) % 4 == 2 ? max : max - 1;
	case 1:
	case 2:
		return (x >> 3) % 64;
	default:
		return (x >> 3) % (max + 1);
	}
}

static void send_records(int fd, uint64_t seed, size_t max)
{
	static unsigned char buf[XEN_RING_SIZE_MAX];
	uint64_t s = seed, off = 0;

	for (int i = 0; i < NRECS; i++) {
		size_t len = rec_len(&s, max);

		gen_bytes(seed, off, buf, len);
		step("sending record %d of %d (%zu bytes)", i, NRECS, len);
		seq_send(fd, buf, len, "random record");
		off += len;
	}
}

static void recv_records(int fd, uint64_t seed, size_t max)
{
	static unsigned char want[XEN_RING_SIZE_MAX];
	uint64_t s = seed, off = 0;
	char what[64];

	for (int i = 0; i < NRECS; i++) {
		size_t len = rec_len(&s, max);

		gen_bytes(seed, off, want, len);
		snprintf(what, sizeof(what), "record %d of %d", i, NRECS);
		step("receiving %s (%zu bytes)", what, len);
		seq_expect(fd, want, len, what);
		off += len;
	}
}

/* A child sends while this process receives and checks. */
static void records_both_ways(int fd, uint64_t tx_seed, uint64_t rx_seed)
{
	size_t max = record_max(fd);
	double t0 = now_s();
	pid_t pid;

	if (max != BIDIR_RING - XEN_RECORD_HDR)
		fail("XEN_SO_RECORD_MAX %zu with a %d-byte ring, want %d", max,
		     BIDIR_RING, BIDIR_RING - XEN_RECORD_HDR);
	pid = fork();
	if (pid < 0)
		fail("fork: %s", errname(errno));
	if (!pid) {
		send_records(fd, tx_seed, max);
		_exit(0);
	}
	recv_records(fd, rx_seed, max);
	wait_child(pid, "record sender");
	note("%d records each way, 0 to %zu bytes, in %.2f s", NRECS, max,
	     now_s() - t0);
}

void afx_s_seq_bidir(const struct ctx *c)
{
	int lfd = seq_listen(c, 0), fd = afx_accept(lfd, NULL);

	records_both_ways(fd, 0x5e9a, 0xc11e);
	ctl_writeln("DONE");
	ctl_expectln("DONE");
	close(fd);
	close(lfd);
}

void afx_c_seq_bidir(const struct ctx *c)
{
	int fd = seq_connect(c, 0, BIDIR_RING);

	records_both_ways(fd, 0xc11e, 0x5e9a);
	ctl_expectln("DONE");
	ctl_writeln("DONE");
	close(fd);
}

void afx_t_seq_bidir_lo(const struct ctx *c)
{
	int lfd = afx_listen_t(SOCK_SEQPACKET, XEN_DOMID_ANY, c->port, 4);
	int cfd = afx_connect_t(SOCK_SEQPACKET, XEN_DOMID_SELF, c->port,
				BIDIR_RING);
	int sfd = afx_accept(lfd, NULL);
	pid_t pid = fork();

	if (pid < 0)
		fail("fork: %s", errname(errno));
	if (!pid) {
		close(cfd);
		records_both_ways(sfd, 0x5e9a, 0xc11e);
		_exit(0);
	}
	records_both_ways(cfd, 0xc11e, 0x5e9a);
	wait_child(pid, "the accepted end");
	close(cfd);
	close(sfd);
	close(lfd);
}

/* ---- truncation, MSG_TRUNC, MSG_PEEK, empty records ---- */

static unsigned char pat[XEN_RING_SIZE_MAX];

static void fill_pat(void)
{
	gen_bytes(0x7a7, 0, pat, sizeof(pat));
}

/* One recvmsg: @r bytes and exactly @flags (of MSG_EOR, MSG_TRUNC). */
static void expect_rec(int fd, size_t cap, int in_flags, ssize_t want_r,
		       int want_fl, size_t cmp, const char *what)
{
	static unsigned char got[8192];
	int fl;
	ssize_t r = seq_recv(fd, got, cap, in_flags, &fl);

	step("%s", what);
	if (r < 0)
		fail("%s: %s", what, errname(errno));
	if (r != want_r || (fl & (MSG_EOR | MSG_TRUNC)) != want_fl)
		fail("%s: returned %zd with msg_flags %#x, want %zd with %#x",
		     what, r, fl, want_r, want_fl);
	if (memcmp(got, pat, cmp))
		fail("%s: the bytes delivered are not the record's first %zu",
		     what, cmp);
}

void afx_s_seq_trunc(const struct ctx *c)
{
	int lfd = seq_listen(c, 0), fd = afx_accept(lfd, NULL);

	fill_pat();
	ctl_expectln("SENT");
	expect_rec(fd, 100, 0, 100, MSG_EOR | MSG_TRUNC, 100,
		   "a 1000-byte record into 100 bytes: truncated");
	expect_rec(fd, 100, 0, 10, MSG_EOR, 10,
		   "the next record whole: the rest of the long one was dropped");
	expect_rec(fd, 100, MSG_TRUNC, 3000, MSG_EOR | MSG_TRUNC, 100,
		   "MSG_TRUNC passed in: the real length, 3000");
	expect_rec(fd, 8192, 0, 5, MSG_EOR, 5, "a 5-byte record after it");
	expect_rec(fd, 0, 0, 0, MSG_EOR | MSG_TRUNC, 0,
		   "a 7-byte record into no buffer at all");
	expect_rec(fd, 8192, MSG_TRUNC, 8, MSG_EOR, 8,
		   "MSG_TRUNC passed in, record fits: its length");
	ctl_writeln("DONE");
	close(fd);
	close(lfd);
}

void afx_c_seq_trunc(const struct ctx *c)
{
	int fd = seq_connect(c, 0, 0);

	fill_pat();
	seq_send(fd, pat, 1000, "1000 bytes");
	seq_send(fd, pat, 10, "10 bytes");
	seq_send(fd, pat, 3000, "3000 bytes");
	seq_send(fd, pat, 5, "5 bytes");
	seq_send(fd, pat, 7, "7 bytes");
	seq_send(fd, pat, 8, "8 bytes");
	ctl_writeln("SENT");
	ctl_expectln("DONE");
	close(fd);
}

void afx_s_seq_peek(const struct ctx *c)
{
	int lfd = seq_listen(c, 0), fd = afx_accept(lfd, NULL);

	fill_pat();
	ctl_expectln("SENT");
	expect_rec(fd, 8192, MSG_PEEK, 500, MSG_EOR, 500,
		   "MSG_PEEK: the whole first record");
	expect_rec(fd, 10, MSG_PEEK, 10, MSG_EOR | MSG_TRUNC, 10,
		   "MSG_PEEK into 10 bytes: truncated, still queued");
	expect_rec(fd, 10, MSG_PEEK | MSG_TRUNC, 500, MSG_EOR | MSG_TRUNC, 10,
		   "MSG_PEEK | MSG_TRUNC: its real length");
	expect_rec(fd, 8192, 0, 500, MSG_EOR, 500,
		   "recv: the record peeked at, whole");
	expect_rec(fd, 8192, 0, 7, MSG_EOR, 7, "recv: the second record");
	ctl_writeln("DONE");
	close(fd);
	close(lfd);
}

void afx_c_seq_peek(const struct ctx *c)
{
	int fd = seq_connect(c, 0, 0);

	fill_pat();
	seq_send(fd, pat, 500, "500 bytes");
	seq_send(fd, pat, 7, "7 bytes");
	ctl_writeln("SENT");
	ctl_expectln("DONE");
	close(fd);
}

void afx_s_seq_zero(const struct ctx *c)
{
	int lfd = seq_listen(c, 0), fd = afx_accept(lfd, NULL);

	fill_pat();
	ctl_expectln("SENT");
	expect_rec(fd, 8192, 0, 0, MSG_EOR, 0, "an empty record");
	expect_rec(fd, 8192, 0, 5, MSG_EOR, 5, "a 5-byte record between");
	expect_rec(fd, 8192, 0, 0, MSG_EOR, 0, "a second empty record");
	expect_rec(fd, 8192, 0, 0, MSG_EOR, 0, "a third, just before EOF");
	seq_expect_eof(fd, "the peer's SHUT_WR after its records");
	seq_expect_eof(fd, "EOF again");
	ctl_writeln("DONE");
	close(fd);
	close(lfd);
}

void afx_c_seq_zero(const struct ctx *c)
{
	int fd = seq_connect(c, 0, 0);

	fill_pat();
	seq_send(fd, "", 0, "empty");
	seq_send(fd, pat, 5, "5 bytes");
	seq_send(fd, NULL, 0, "empty, NULL buffer");
	seq_send(fd, "", 0, "empty");
	if (shutdown(fd, SHUT_WR))
		fail("shutdown(SHUT_WR): %s", errname(errno));
	ctl_writeln("SENT");
	ctl_expectln("DONE");
	close(fd);
}

/* ---- sizes: XEN_SO_RECORD_MAX, EMSGSIZE, the option's errors ---- */

static void sizes_for_ring(int port, int ring)
{
	int lfd = afx_listen_t(SOCK_SEQPACKET, XEN_DOMID_ANY, port, 4);
	int cfd = afx_connect_t(SOCK_SEQPACKET, XEN_DOMID_SELF, port, ring);
	int sfd = afx_accept(lfd, NULL), max = ring - XEN_RECORD_HDR;
	static unsigned char buf[XEN_RING_SIZE_MAX + 1];
	pid_t pid;

	step("XEN_SO_RECORD_MAX with a %d-byte ring", ring);
	if (record_max(cfd) != max || record_max(sfd) != max)
		fail("XEN_SO_RECORD_MAX: connector %d, acceptor %d, want %d",
		     record_max(cfd), record_max(sfd), max);
	errno = 0;
	expect_err(send(cfd, buf, max + 1, 0), EMSGSIZE,
		   "send of the largest record plus one");
	expect_err(send(cfd, buf, max + 1, MSG_DONTWAIT), EMSGSIZE,
		   "nonblocking send of the largest record plus one");
	expect_err(send(cfd, buf, 64 << 20, MSG_DONTWAIT), EMSGSIZE,
		   "send of 64 MiB");
	gen_bytes(ring, 0, buf, max);
	pid = fork();
	if (!pid) {
		seq_send(cfd, buf, max, "the largest record");
		seq_send(cfd, buf, max, "the largest record again");
		_exit(0);
	}
	seq_expect(sfd, buf, max, "the largest record");
	seq_expect(sfd, buf, max, "the largest record again");
	wait_child(pid, "largest-record sender");
	close(cfd);
	close(sfd);
	close(lfd);
}

void afx_t_seq_sizes(const struct ctx *c)
{
	int fd = afx_socket_t(SOCK_SEQPACKET, 0), v = 8192;
	socklen_t len = sizeof(v);

	step("XEN_SO_RECORD_MAX follows XEN_SO_RING_SIZE before connect");
	if (record_max(fd) != XEN_RING_SIZE_DEFAULT - XEN_RECORD_HDR)
		fail("XEN_SO_RECORD_MAX %d on a new socket, want %d",
		     record_max(fd), XEN_RING_SIZE_DEFAULT - XEN_RECORD_HDR);
	set_ring(fd, v);
	if (record_max(fd) != v - XEN_RECORD_HDR)
		fail("XEN_SO_RECORD_MAX %d after XEN_SO_RING_SIZE %d",
		     record_max(fd), v);
	len = 2;
	expect_err(getsockopt(fd, g_family, XEN_SO_RECORD_MAX, &v, &len),
		   EINVAL, "XEN_SO_RECORD_MAX into 2 bytes");
	expect_err(setsockopt(fd, g_family, XEN_SO_RECORD_MAX, &v, sizeof(v)),
		   ENOPROTOOPT, "setting the read-only XEN_SO_RECORD_MAX");
	close(fd);
	fd = afx_socket(0);
	len = sizeof(v);
	expect_err(getsockopt(fd, g_family, XEN_SO_RECORD_MAX, &v, &len),
		   ENOPROTOOPT, "XEN_SO_RECORD_MAX on a stream socket");
	close(fd);
	fd = afx_socket_t(SOCK_SEQPACKET, SOCK_NONBLOCK | SOCK_CLOEXEC);
	close(fd);
	sizes_for_ring(c->port, XEN_RING_SIZE_MIN);
	sizes_for_ring(c->port + 1, XEN_RING_SIZE_MAX);
}

/* ---- nonblocking sends, the POLLOUT rule, SO_SNDTIMEO ---- */

void afx_t_seq_nonblock(const struct ctx *c)
{
	int lfd = afx_listen_t(SOCK_SEQPACKET, XEN_DOMID_ANY, c->port, 4);
	int cfd = afx_connect_t(SOCK_SEQPACKET, XEN_DOMID_SELF, c->port,
				XEN_RING_SIZE_MIN);
	int sfd = afx_accept(lfd, NULL), i;
	double t0;
	pid_t pid;
	short ev;

	fill_pat();
	step("nonblocking 1000-byte records into a 4 KiB ring");
	for (i = 0; i < 4; i++)
		if (send(cfd, pat, 1000, MSG_DONTWAIT) != 1000)
			fail("record %d of 4 that fit: %s", i, errname(errno));
	expect_err(send(cfd, pat, 1000, MSG_DONTWAIT), EAGAIN,
		   "a fifth 1000-byte record (80 bytes free)");
	ev = poll_one(cfd, POLLOUT, 0);
	if (ev & POLLOUT)
		fail("POLLOUT with 80 bytes free after a 1000-byte record failed: a poller would spin");
	if (send(cfd, pat, 70, MSG_DONTWAIT) != 70)
		fail("a 70-byte record into the 80 free bytes: %s",
		     errname(errno));
	ev = poll_one(cfd, POLLOUT, 0);
	if (ev & POLLOUT)
		fail("POLLOUT with 6 bytes free after a 70-byte record");
	ev = poll_one(sfd, POLLIN, 0);
	if (!(ev & POLLIN))
		fail("receiver: no POLLIN with five records queued (%s)",
		     pollstr(ev));
	expect_rec(sfd, 8192, 0, 1000, MSG_EOR, 1000, "take one record");
	ev = poll_one(cfd, POLLOUT, 2000);
	if (!(ev & POLLOUT))
		fail("no POLLOUT once a 70-byte record fits again (%s)",
		     pollstr(ev));
	set_timeo(cfd, SO_SNDTIMEO, 300);
	step("a 2000-byte record, blocking with SO_SNDTIMEO 300 ms");
	t0 = now_s();
	expect_err(send(cfd, pat, 2000, 0), EAGAIN,
		   "blocking send that times out");
	if (now_s() - t0 < 0.25)
		fail("SO_SNDTIMEO 300 ms: gave up after %.2f s", now_s() - t0);
	ev = poll_one(cfd, POLLOUT, 0);
	if (ev & POLLOUT)
		fail("POLLOUT although the 2000-byte record tried last does not fit");
	set_timeo(cfd, SO_SNDTIMEO, 0);
	pid = fork();
	if (pid < 0)
		fail("fork: %s", errname(errno));
	if (!pid) {
		msleep(300);
		for (i = 0; i < 4; i++)
			expect_rec(sfd, 8192, 0, i < 3 ? 1000 : 70, MSG_EOR,
				   i < 3 ? 1000 : 70, "drain");
		_exit(0);
	}
	step("blocking send of 2000 bytes waits for room, then completes");
	t0 = now_s();
	seq_send(cfd, pat, 2000, "2000 bytes once the reader drains");
	wait_child(pid, "the reader that drains");
	expect_rec(sfd, 8192, 0, 2000, MSG_EOR, 2000, "the 2000-byte record");
	note("blocked send completed after %.2f s", now_s() - t0);
	close(cfd);
	close(sfd);
	close(lfd);
}

/* ---- poll and epoll, level and edge ---- */

static unsigned int epoll_wait_one(int ep, int ms)
{
	struct epoll_event got;
	int n = epoll_wait(ep, &got, 1, ms);

	if (n < 0)
		fail("epoll_wait: %s", errname(errno));
	return n ? got.events : 0;
}

void afx_s_seq_poll(const struct ctx *c)
{
	int lfd = seq_listen(c, 0), fd = afx_accept(lfd, NULL), how = c->tc->arg;
	struct epoll_event ev = { .events = EPOLLIN };
	unsigned int got;
	double t0;
	int ep;

	fill_pat();
	if (how == AFX_BY_EPOLL_ET)
		ev.events |= EPOLLET;
	ep = epoll_create1(0);
	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev))
		fail("epoll set-up: %s", errname(errno));
	step("nothing queued: no EPOLLIN");
	if (epoll_wait_one(ep, 200) & EPOLLIN)
		fail("EPOLLIN on an empty connection");
	ctl_writeln("GO");
	t0 = now_s();
	got = epoll_wait_one(ep, 5000);
	if (!(got & EPOLLIN))
		fail("not woken by a record sent 0.5 s later (events %#x)", got);
	note("woken %.2f s after GO", now_s() - t0);
	expect_rec(fd, 8192, 0, 300, MSG_EOR, 300, "the record that woke us");
	if (epoll_wait_one(ep, 200) & EPOLLIN)
		fail("EPOLLIN again with the only record taken");
	ctl_writeln("AGAIN");
	got = epoll_wait_one(ep, 5000);
	if (!(got & EPOLLIN))
		fail("not woken by the second pair of records (events %#x)", got);
	expect_rec(fd, 8192, 0, 1, MSG_EOR, 1, "record 2");
	msleep(100);	/* both sent by now */
	if (how != AFX_BY_EPOLL_ET && !(epoll_wait_one(ep, 0) & EPOLLIN))
		fail("level-triggered: no EPOLLIN with record 3 still queued");
	expect_rec(fd, 8192, 0, 2, MSG_EOR, 2, "record 3");
	ctl_writeln("DONE");
	close(ep);
	close(fd);
	close(lfd);
}

void afx_c_seq_poll(const struct ctx *c)
{
	int fd = seq_connect(c, 0, 0);

	fill_pat();
	ctl_expectln("GO");
	msleep(500);
	seq_send(fd, pat, 300, "the wake-up record");
	ctl_expectln("AGAIN");
	seq_send(fd, pat, 1, "record 2");
	seq_send(fd, pat, 2, "record 3");
	ctl_expectln("DONE");
	close(fd);
}

/* ---- shutdown, EOF, EPIPE, SIGPIPE ---- */

void afx_s_seq_shutdown(const struct ctx *c)
{
	int lfd = seq_listen(c, 0), fd = afx_accept(lfd, NULL), i;
	short ev;

	fill_pat();
	for (i = 0; i < 3; i++)
		expect_rec(fd, 8192, 0, 100 + i, MSG_EOR, 100 + i,
			   "a record sent before SHUT_WR");
	seq_expect_eof(fd, "after the peer's SHUT_WR");
	ev = poll_one(fd, POLLIN | POLLRDHUP, 1000);
	if ((ev & (POLLIN | POLLRDHUP)) != (POLLIN | POLLRDHUP))
		fail("after the peer's SHUT_WR: %s, want POLLIN|POLLRDHUP",
		     pollstr(ev));
	step("our records still reach the half-closed peer");
	seq_send(fd, pat, 42, "a record to the half-closed peer");
	ctl_expectln("CLOSED");
	step("send after the peer closed: EPIPE, and SIGPIPE without MSG_NOSIGNAL");
	expect_err(send(fd, pat, 1, MSG_NOSIGNAL), EPIPE,
		   "send after the peer closed");
	signal(SIGPIPE, SIG_IGN);
	expect_err(send(fd, pat, 1, 0), EPIPE, "send with SIGPIPE ignored");
	close(fd);
	close(lfd);
}

void afx_c_seq_shutdown(const struct ctx *c)
{
	int fd = seq_connect(c, 0, 0), i;

	fill_pat();
	for (i = 0; i < 3; i++)
		seq_send(fd, pat, 100 + i, "record before SHUT_WR");
	if (shutdown(fd, SHUT_WR))
		fail("shutdown(SHUT_WR): %s", errname(errno));
	expect_err(send(fd, pat, 1, MSG_NOSIGNAL), EPIPE,
		   "send after our own SHUT_WR");
	expect_rec(fd, 8192, 0, 42, MSG_EOR, 42,
		   "the peer's record after our SHUT_WR");
	close(fd);
	ctl_writeln("CLOSED");
}

/* ---- a stream listener refuses a seqpacket connect and the reverse ---- */

void afx_s_seq_mismatch(const struct ctx *c)
{
	int sl = afx_listen_t(SOCK_STREAM, XEN_DOMID_ANY, c->port, 4);
	int ql = afx_listen_t(SOCK_SEQPACKET, XEN_DOMID_ANY, c->port + 1, 4);
	int fd;

	ctl_writeln("LISTENING");
	step("accept the two connects of matching type");
	fd = afx_accept(sl, NULL);
	recv_byte(fd, 's', "the stream connection");
	close(fd);
	fd = afx_accept(ql, NULL);
	expect_rec(fd, 8192, 0, 0, MSG_EOR, 0, "the seqpacket connection");
	close(fd);
	ctl_expectln("DONE");
	set_nonblock(sl, true);
	set_nonblock(ql, true);
	expect_err(accept(sl, NULL, NULL), EAGAIN,
		   "stream listener: nothing else queued");
	expect_err(accept(ql, NULL, NULL), EAGAIN,
		   "seqpacket listener: nothing else queued");
	close(sl);
	close(ql);
}

void afx_c_seq_mismatch(const struct ctx *c)
{
	int fd;

	ctl_expectln("LISTENING");
	fd = afx_socket_t(SOCK_SEQPACKET, 0);
	if (afx_try_connect(fd, g_peer_domid, c->port) != ECONNREFUSED)
		fail("seqpacket connect to a stream listener: want ECONNREFUSED");
	close(fd);
	fd = afx_socket_t(SOCK_STREAM, 0);
	if (afx_try_connect(fd, g_peer_domid, c->port + 1) != ECONNREFUSED)
		fail("stream connect to a seqpacket listener: want ECONNREFUSED");
	close(fd);
	fd = afx_connect_t(SOCK_STREAM, g_peer_domid, c->port, 0);
	send_byte(fd, 's', "stream to stream");
	close(fd);
	fd = afx_connect_t(SOCK_SEQPACKET, g_peer_domid, c->port + 1, 0);
	seq_send(fd, "", 0, "seqpacket to seqpacket");
	close(fd);
	ctl_writeln("DONE");
}

/* ---- the largest record across guests, 1 MiB ring ---- */

void afx_s_seq_max(const struct ctx *c)
{
	static unsigned char want[XEN_RING_SIZE_MAX];
	int lfd = seq_listen(c, 0), fd = afx_accept(lfd, NULL);
	int max = record_max(fd);

	if (max != XEN_RING_SIZE_MAX - XEN_RECORD_HDR)
		fail("acceptor's XEN_SO_RECORD_MAX %d, want the connector's %d",
		     max, XEN_RING_SIZE_MAX - XEN_RECORD_HDR);
	for (int i = 0; i < 8; i++) {
		gen_bytes(i, 0, want, max - i);
		seq_expect(fd, want, max - i, "a largest record");
	}
	ctl_writeln("DONE");
	close(fd);
	close(lfd);
}

void afx_c_seq_max(const struct ctx *c)
{
	static unsigned char buf[XEN_RING_SIZE_MAX];
	int fd = seq_connect(c, 0, XEN_RING_SIZE_MAX), max = record_max(fd);

	for (int i = 0; i < 8; i++) {
		gen_bytes(i, 0, buf, max - i);
		seq_send(fd, buf, max - i, "a largest record");
	}
	ctl_expectln("DONE");
	close(fd);
}

/* ---- a peer whose record headers lie (AFX_DEBUG modules) ---- */

void afx_s_seq_hostile(const struct ctx *c)
{
	int lfd = seq_listen(c, 0), fd = afx_accept(lfd, NULL);
	char line[32], b;
	int fl;
	ssize_t r;

	fill_pat();
	expect_rec(fd, 8192, 0, 64, MSG_EOR, 64, "an honest record first");
	ctl_readln(line, sizeof(line));
	if (!strcmp(line, "SKIP"))
		skip("module built without AFX_DEBUG (no XEN_SO_DEBUG_CORRUPT)");
	if (strcmp(line, "CORRUPTED"))
		fail("control: expected CORRUPTED, got \"%s\"", line);
	set_timeo(fd, SO_RCVTIMEO, 10000);
	step("recv after a record header that lies");
	r = seq_recv(fd, &b, 1, 0, &fl);
	expect_err(r, EPROTO, "recv of the lying record");
	seq_expect_eof(fd, "after the reset");
	expect_err(send(fd, &b, 1, MSG_NOSIGNAL), EPIPE, "send after the reset");
	close(fd);
	ctl_writeln("CHECKED");
	fd = afx_accept(lfd, NULL);
	expect_rec(fd, 8192, 0, 3, MSG_EOR, 3, "a fresh connection after it");
	close(fd);
	close(lfd);
}

void afx_c_seq_hostile(const struct ctx *c)
{
	int fd = seq_connect(c, 0, 0), what = c->tc->arg;

	fill_pat();
	seq_send(fd, pat, 64, "an honest record");
	msleep(200);	/* taken, so that the lie starts a record */
	step("setsockopt(XEN_SO_DEBUG_CORRUPT, %d)", what);
	if (setsockopt(fd, g_family, XEN_SO_DEBUG_CORRUPT, &what,
		       sizeof(what))) {
		int e = errno;

		ctl_writeln("SKIP");
		skip("XEN_SO_DEBUG_CORRUPT: %s (module built without AFX_DEBUG)",
		     errname(e));
	}
	ctl_writeln("CORRUPTED");
	ctl_expectln("CHECKED");
	close(fd);
	fd = afx_connect_t(SOCK_SEQPACKET, g_peer_domid, c->port, 0);
	seq_send(fd, pat, 3, "a record on a fresh connection");
	close(fd);
}

/* ---- against the previous module (guest-tests phase compat) ---- */

/* The previous module knew no SOCK_SEQPACKET: that is how to tell it. */
static bool module_knows_seqpacket(void)
{
	int fd = socket(g_family, SOCK_SEQPACKET, 0);

	if (fd >= 0) {
		close(fd);
		return true;
	}
	if (errno != ESOCKTNOSUPPORT)
		fail("socket(SOCK_SEQPACKET): %s, want success or ESOCKTNOSUPPORT",
		     errname(errno));
	return false;
}

/*
 * Whichever side runs which module: a new listener takes seqpacket
 * connects from a new connector and refuses an old stream connector
 * (ECONNREFUSED); an old listener makes a new seqpacket connect fail at
 * once with EPROTONOSUPPORT instead of timing out.
 */
void afx_s_seq_compat(const struct ctx *c)
{
	bool knows = module_knows_seqpacket();
	int lfd = afx_listen_t(knows ? SOCK_SEQPACKET : SOCK_STREAM,
			       XEN_DOMID_ANY, c->port, 4);
	char peer[16] = "";

	ctl_writeln(knows ? "NEW" : "OLD");
	if (knows)
		ctl_readln(peer, sizeof(peer));
	if (!strcmp(peer, "NEW")) {
		int fd = afx_accept(lfd, NULL);

		expect_rec(fd, 8192, 0, 0, MSG_EOR, 0, "new to new");
		close(fd);
	}
	ctl_expectln("DONE");
	close(lfd);
}

void afx_c_seq_compat(const struct ctx *c)
{
	bool knows = module_knows_seqpacket();
	char peer[16];
	double t0;
	int fd, e;

	ctl_readln(peer, sizeof(peer));
	if (!strcmp(peer, "NEW"))
		ctl_writeln(knows ? "NEW" : "OLD");
	if (!knows && !strcmp(peer, "OLD"))
		skip("both guests run the previous module");
	fd = afx_socket_t(knows ? SOCK_SEQPACKET : SOCK_STREAM, 0);
	t0 = now_s();
	e = afx_try_connect(fd, g_peer_domid, c->port);
	if (knows && !strcmp(peer, "NEW")) {
		if (e)
			fail("seqpacket connect, both modules new: %s",
			     errname(e));
		seq_send(fd, "", 0, "new to new");
	} else if (knows) {
		if (e != EPROTONOSUPPORT)
			fail("seqpacket connect to the previous module: %s, want EPROTONOSUPPORT",
			     e ? errname(e) : "success");
		note("refused by the previous module in %.2f s", now_s() - t0);
		if (now_s() - t0 > 2)
			fail("the refusal took %.2f s: the old listener must answer, not let it time out",
			     now_s() - t0);
	} else if (e != ECONNREFUSED) {
		fail("previous module's stream connect to a seqpacket listener: %s, want ECONNREFUSED",
		     e ? errname(e) : "success");
	}
	close(fd);
	ctl_writeln("DONE");
}
