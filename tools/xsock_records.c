// SPDX-License-Identifier: GPL-2.0
/*
 * xsock --seqpacket: the relay for SOCK_SEQPACKET connections.  Each line
 * of stdin (without its newline) is sent as one record, the last one even
 * without a newline; each record received is written to stdout followed
 * by a newline, an empty record as an empty line.
 *
 * Sending is nonblocking with one record pending, so that two relays
 * sending to each other at once keep reading while they wait for room.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <linux/af_xen.h>

#include "xsock.h"

struct lines {
	char *buf;
	size_t len, cap;	/* cap: the largest record, plus a newline */
	int eof;		/* stdin is done */
	int shut;		/* and so is our sending side */
};

/* The next record in the buffer: its length, or -1 if none is whole. */
static ssize_t next_line(const struct lines *l)
{
	char *nl = memchr(l->buf, '\n', l->len);

	if (nl)
		return nl - l->buf;
	if ((l->eof && l->len) || l->len == l->cap)
		return (ssize_t)l->len;	/* unterminated last line, or too long */
	return -1;
}

static int read_stdin(struct lines *l)
{
	ssize_t n = read(0, l->buf + l->len, l->cap - l->len);

	if (n < 0)
		return errno == EINTR || errno == EAGAIN ? 0 : xsock_fail("read from stdin");
	if (n == 0)
		l->eof = 1;
	l->len += (size_t)n;
	return 0;
}

/* Send whole records while they fit; a line too long is an error. */
static int send_lines(int sock, struct lines *l)
{
	ssize_t n, r;

	while ((n = next_line(l)) >= 0) {
		if ((size_t)n == l->cap)
			return xsock_bad("a line of stdin is longer than the largest record (%zu bytes)",
					 l->cap - 1);
		r = send(sock, l->buf, (size_t)n, MSG_DONTWAIT);
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		if (r < 0)
			return xsock_fail("send a record on the connection");
		if ((size_t)n < l->len)
			n++;	/* and its newline */
		memmove(l->buf, l->buf + n, l->len - (size_t)n);
		l->len -= (size_t)n;
	}
	if (l->eof && !l->len && !l->shut) {
		if (shutdown(sock, SHUT_WR) && errno != ENOTCONN)
			return xsock_fail("shut down the connection");
		l->shut = 1;
	}
	return 0;
}

/* One record to stdout as a line; 1 at EOF. */
static int recv_line(int sock, char *buf, size_t cap)
{
	struct iovec iov = { .iov_base = buf, .iov_len = cap };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n = recvmsg(sock, &m, MSG_DONTWAIT);

	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 :
		       xsock_fail("receive a record from the connection");
	if (n == 0 && !(m.msg_flags & MSG_EOR))
		return 1;
	buf[n] = '\n';
	return xsock_write_all(1, buf, (size_t)n + 1) ? xsock_fail("write to stdout") : 0;
}

static int relay_loop(int sock, struct lines *l, char *rbuf, size_t rcap)
{
	int down_eof = 0, rc = 0;
	struct pollfd p[2];

	while (!rc && !(l->shut && down_eof)) {
		p[0].fd = !l->eof && next_line(l) < 0 ? 0 : -1;
		p[0].events = POLLIN;
		p[1].fd = sock;
		p[1].events = (down_eof ? 0 : POLLIN) |
			      (next_line(l) >= 0 ? POLLOUT : 0);
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return xsock_fail("poll");
		}
		if (p[0].revents)
			rc = read_stdin(l);
		if (!rc && !down_eof && (p[1].revents & ~POLLOUT))
			rc = recv_line(sock, rbuf, rcap);
		if (rc == 1) {
			down_eof = 1;
			rc = 0;
		}
		if (!rc)
			rc = send_lines(sock, l);
	}
	return rc;
}

int xsock_relay_records(int sock)
{
	int max = 0, rc;
	socklen_t len = sizeof(max);
	struct lines l = { 0 };
	char *rbuf;

	if (getsockopt(sock, xsock_family, XEN_SO_RECORD_MAX, &max, &len) ||
	    max <= 0)
		return xsock_fail("read XEN_SO_RECORD_MAX");
	l.cap = (size_t)max + 1;
	l.buf = malloc(l.cap);
	rbuf = malloc((size_t)max + 1);
	l.eof = fcntl(0, F_GETFD) < 0;	/* stdin closed: nothing to send */
	rc = l.buf && rbuf ? relay_loop(sock, &l, rbuf, (size_t)max) :
			     xsock_fail("malloc");
	free(l.buf);
	free(rbuf);
	return rc;
}
