// SPDX-License-Identifier: GPL-2.0
/*
 * afx_test: socket and payload helpers.  Every helper that can fail
 * calls fail() with what it expected and what it got, so the case
 * functions read as a list of steps.
 */
#include "afx_test.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *domstr(unsigned int domid)
{
	static char buf[4][32];
	static int slot;
	char *b = buf[slot++ & 3];

	if (domid == XEN_DOMID_SELF)
		return "SELF";
	if (domid == XEN_DOMID_ANY)
		return "ANY";
	snprintf(b, sizeof(buf[0]), "%u", domid);
	return b;
}

struct sockaddr_xen afx_addr(unsigned int domid, unsigned int port)
{
	struct sockaddr_xen sa;

	memset(&sa, 0, sizeof(sa));
	sa.sxen_family = g_family;
	sa.sxen_domid = domid;
	sa.sxen_port = port;
	return sa;
}

static const char *typestr(int type)
{
	return type == SOCK_SEQPACKET ? "SOCK_SEQPACKET" : "SOCK_STREAM";
}

int afx_socket_t(int type, int flags)
{
	int fd;

	step("socket(%d, %s)", g_family, typestr(type));
	fd = socket(g_family, type | flags, 0);
	if (fd < 0)
		fail("socket(family %d, %s): %s%s", g_family, typestr(type),
		     errname(errno),
		     errno == EAFNOSUPPORT ? " -- af_xen module not loaded?" : "");
	return fd;
}

int afx_socket(int flags)
{
	return afx_socket_t(SOCK_STREAM, flags);
}

int afx_bind_raw(int fd, unsigned int domid, unsigned int port)
{
	struct sockaddr_xen sa = afx_addr(domid, port);

	return bind(fd, (struct sockaddr *)&sa, sizeof(sa));
}

void afx_bind(int fd, unsigned int domid, unsigned int port)
{
	step("bind(domid %s, port %u)", domstr(domid), port);
	if (afx_bind_raw(fd, domid, port))
		fail("bind(domid %s, port %u): %s", domstr(domid), port,
		     errname(errno));
}

int afx_listen_t(int type, unsigned int domid, unsigned int port, int backlog)
{
	int fd = afx_socket_t(type, 0);

	afx_bind(fd, domid, port);
	step("listen(port %u, backlog %d)", port, backlog);
	if (listen(fd, backlog))
		fail("listen(port %u, backlog %d): %s", port, backlog,
		     errname(errno));
	return fd;
}

/* Returns 0 or the errno of connect(). */
int afx_try_connect(int fd, unsigned int domid, unsigned int port)
{
	struct sockaddr_xen sa = afx_addr(domid, port);

	step("connect(domid %s, port %u)", domstr(domid), port);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
		return 0;
	return errno;
}

int afx_listen(unsigned int domid, unsigned int port, int backlog)
{
	return afx_listen_t(SOCK_STREAM, domid, port, backlog);
}

int afx_connect_t(int type, unsigned int domid, unsigned int port, int ring)
{
	int fd = afx_socket_t(type, 0), err;
	double t0 = now_s();

	if (ring)
		set_ring(fd, ring);
	err = afx_try_connect(fd, domid, port);
	if (err)
		fail("connect(domid %s, port %u): %s after %.2f s", domstr(domid),
		     port, errname(err), now_s() - t0);
	return fd;
}

int afx_connect_ring(unsigned int domid, unsigned int port, int ring)
{
	return afx_connect_t(SOCK_STREAM, domid, port, ring);
}

int afx_connect(unsigned int domid, unsigned int port)
{
	return afx_connect_ring(domid, port, 0);
}

int afx_accept(int lfd, struct sockaddr_xen *peer)
{
	struct sockaddr_xen sa;
	socklen_t len = sizeof(sa);
	int fd;

	step("accept()");
	memset(&sa, 0xff, sizeof(sa));
	fd = accept(lfd, (struct sockaddr *)&sa, &len);
	if (fd < 0)
		fail("accept: %s", errname(errno));
	if (len != sizeof(sa))
		fail("accept returned address length %u, expected %zu",
		     (unsigned int)len, sizeof(sa));
	if (sa.sxen_family != g_family)
		fail("accept returned address family %u, expected %d",
		     sa.sxen_family, g_family);
	if (peer)
		*peer = sa;
	return fd;
}

void afx_name(int fd, bool peer, struct sockaddr_xen *sa, const char *what)
{
	socklen_t len = sizeof(*sa);
	int r;

	memset(sa, 0xff, sizeof(*sa));
	r = peer ? getpeername(fd, (struct sockaddr *)sa, &len) :
		   getsockname(fd, (struct sockaddr *)sa, &len);
	if (r)
		fail("%s: %s: %s", what, peer ? "getpeername" : "getsockname",
		     errname(errno));
	if (len != sizeof(*sa))
		fail("%s: %s length %u, expected %zu", what,
		     peer ? "getpeername" : "getsockname", (unsigned int)len,
		     sizeof(*sa));
	if (sa->sxen_family != g_family)
		fail("%s: %s family %u, expected %d", what,
		     peer ? "getpeername" : "getsockname", sa->sxen_family,
		     g_family);
}

void set_ring(int fd, int size)
{
	step("setsockopt(XEN_SO_RING_SIZE, %d)", size);
	if (setsockopt(fd, g_family, XEN_SO_RING_SIZE, &size, sizeof(size)))
		fail("setsockopt(SOL_XEN, XEN_SO_RING_SIZE, %d): %s", size,
		     errname(errno));
}

int get_ring(int fd)
{
	int v = -1;
	socklen_t len = sizeof(v);

	if (getsockopt(fd, g_family, XEN_SO_RING_SIZE, &v, &len))
		fail("getsockopt(SOL_XEN, XEN_SO_RING_SIZE): %s", errname(errno));
	if (len != sizeof(v))
		fail("getsockopt(XEN_SO_RING_SIZE) length %u, expected %zu",
		     (unsigned int)len, sizeof(v));
	return v;
}

void set_timeo(int fd, int opt, int ms)
{
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };

	if (setsockopt(fd, SOL_SOCKET, opt, &tv, sizeof(tv)))
		fail("setsockopt(%s, %d ms): %s",
		     opt == SO_RCVTIMEO ? "SO_RCVTIMEO" : "SO_SNDTIMEO", ms,
		     errname(errno));
}

void set_nonblock(int fd, bool on)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK))
		fail("fcntl(O_NONBLOCK): %s", errname(errno));
}

void expect_err(long ret, int err, const char *what)
{
	int e = errno;

	if (ret != -1)
		fail("%s: expected -1 with %s, got %ld", what, errname(err), ret);
	if (e != err)
		fail("%s: expected %s, got %s", what, errname(err), errname(e));
}

void expect_err2(long ret, int err1, int err2, const char *what)
{
	int e = errno;

	if (ret != -1)
		fail("%s: expected -1 with %s or %s, got %ld", what,
		     errname(err1), errname(err2), ret);
	if (e != err1 && e != err2)
		fail("%s: expected %s or %s, got %s", what, errname(err1),
		     errname(err2), errname(e));
}

void send_all(int fd, const void *buf, size_t len, const char *what)
{
	size_t off = 0;

	step("send %zu bytes (%s)", len, what);
	while (off < len) {
		ssize_t w = send(fd, (const char *)buf + off, len - off,
				 MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			fail("%s: send after %zu of %zu bytes: %s", what, off, len,
			     errname(errno));
		if (w == 0)
			fail("%s: send returned 0 after %zu of %zu bytes", what,
			     off, len);
		off += w;
	}
}

void recv_all(int fd, void *buf, size_t len, const char *what)
{
	size_t off = 0;

	step("recv %zu bytes (%s)", len, what);
	while (off < len) {
		ssize_t r = recv(fd, (char *)buf + off, len - off, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			fail("%s: recv after %zu of %zu bytes: %s", what, off, len,
			     errname(errno));
		if (r == 0)
			fail("%s: unexpected EOF after %zu of %zu bytes", what,
			     off, len);
		off += r;
	}
}

void send_byte(int fd, unsigned char b, const char *what)
{
	send_all(fd, &b, 1, what);
}

void recv_byte(int fd, unsigned char want, const char *what)
{
	unsigned char b;

	recv_all(fd, &b, 1, what);
	if (b != want)
		fail("%s: received byte 0x%02x, expected 0x%02x", what, b, want);
}

void expect_eof(int fd, const char *what)
{
	char b;
	ssize_t r;

	step("expect EOF (%s)", what);
	do
		r = recv(fd, &b, 1, 0);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		fail("%s: expected EOF (recv 0), got %s", what, errname(errno));
	if (r > 0)
		fail("%s: expected EOF (recv 0), got a data byte 0x%02x", what,
		     (unsigned char)b);
}

short poll_one(int fd, short events, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = events };
	double end = now_s() + timeout_ms / 1000.0;
	int r;

	for (;;) {
		int left = timeout_ms < 0 ? -1 : (int)((end - now_s()) * 1000);

		if (timeout_ms >= 0 && left < 0)
			left = 0;
		r = poll(&p, 1, left);
		if (r >= 0)
			break;
		if (errno != EINTR)
			fail("poll: %s", errname(errno));
	}
	return r ? p.revents : 0;
}

const char *pollstr(short ev)
{
	static char buf[4][96];
	static int slot;
	char *b = buf[slot++ & 3];

	snprintf(b, sizeof(buf[0]), "%s%s%s%s%s%s%s",
		 ev & POLLIN ? "POLLIN|" : "", ev & POLLOUT ? "POLLOUT|" : "",
		 ev & POLLRDHUP ? "POLLRDHUP|" : "", ev & POLLHUP ? "POLLHUP|" : "",
		 ev & POLLERR ? "POLLERR|" : "", ev & POLLNVAL ? "POLLNVAL|" : "",
		 ev & POLLPRI ? "POLLPRI|" : "");
	if (b[0])
		b[strlen(b) - 1] = '\0';
	else
		snprintf(b, sizeof(buf[0]), "none");
	return b;
}

/* Lines of /proc/net/af_xen, or -1 if the module offers no such file. */
int afx_sock_count(void)
{
	FILE *f = fopen("/proc/net/af_xen", "r");
	int n = 0, ch;

	if (!f)
		return -1;
	while ((ch = getc(f)) != EOF)
		if (ch == '\n')
			n++;
	fclose(f);
	return n;
}

/* A helper process that sends @sig to us after @delay_ms. */
pid_t spawn_signaller(int sig, int delay_ms)
{
	pid_t parent = getpid();
	pid_t pid = fork();

	if (pid < 0)
		fail("fork: %s", errname(errno));
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(g_res_fd);
		msleep(delay_ms);
		kill(parent, sig);
		_exit(0);
	}
	return pid;
}

void wait_child(pid_t pid, const char *what)
{
	int st;

	step("waiting for child process (%s)", what);
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			fail("waitpid (%s): %s", what, errname(errno));
	if (WIFSIGNALED(st))
		fail("%s: child process killed by signal %d (%s)", what,
		     WTERMSIG(st), strsignal(WTERMSIG(st)));
	if (WEXITSTATUS(st))
		fail("%s: child process failed (exit status %d)", what,
		     WEXITSTATUS(st));
}

int need_my_domid(void)
{
	if (g_my_domid < 0)
		skip("own domid unknown (set MY_DOMID or --my-domid)");
	return g_my_domid;
}

/* ------------------------------------------------------------------ */
/* payloads: a byte stream that is a pure function of (seed, offset),  */
/* so any chunking on either side regenerates the same bytes           */

static inline uint64_t mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

void gen_bytes(uint64_t seed, uint64_t off, unsigned char *buf, size_t len)
{
	uint64_t blk = off / 8;
	unsigned int skip_b = off % 8;

	while (len) {
		uint64_t w = mix64(seed ^ (blk * 0xd6e8feb86659fd93ULL));
		unsigned char b[8];
		size_t n;

		memcpy(b, &w, 8);
		n = 8 - skip_b;
		if (n > len)
			n = len;
		memcpy(buf, b + skip_b, n);
		buf += n;
		len -= n;
		skip_b = 0;
		blk++;
	}
}

/* FNV-1a, 64 bit: the checksum both ends compute over what they moved. */
uint64_t hash_update(uint64_t h, const unsigned char *p, size_t len)
{
	while (len--) {
		h ^= *p++;
		h *= 0x100000001b3ULL;
	}
	return h;
}

static uint64_t xs_next(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x;
}

/* Chunk sizes from 1 byte to 96 KiB, many odd. */
static size_t chunk_size(uint64_t *s, size_t max)
{
	uint64_t r = xs_next(s);
	size_t n;

	switch (r & 3) {
	case 0:
		n = 1 + (r >> 8) % 64;
		break;
	case 1:
		n = 1 + (r >> 8) % 4099;
		break;
	default:
		n = 1 + (r >> 8) % (96 * 1024);
		break;
	}
	return n > max ? max : n;
}

#define STREAM_BUF	(96 * 1024)

void send_stream(int fd, uint64_t seed, uint64_t total, uint64_t *hash)
{
	unsigned char *buf = malloc(STREAM_BUF);
	uint64_t off = 0, rs = seed | 1, h = HASH_INIT;

	if (!buf)
		fail("malloc: out of memory");
	while (off < total) {
		size_t n = chunk_size(&rs, total - off < STREAM_BUF ?
				      total - off : STREAM_BUF);
		size_t done = 0;

		gen_bytes(seed, off, buf, n);
		h = hash_update(h, buf, n);
		step("sending: %llu of %llu bytes sent",
		     (unsigned long long)off, (unsigned long long)total);
		while (done < n) {
			ssize_t w = write(fd, buf + done, n - done);

			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				fail("write after %llu of %llu bytes: %s",
				     (unsigned long long)(off + done),
				     (unsigned long long)total,
				     w ? errname(errno) : "returned 0");
			done += w;
		}
		off += n;
	}
	free(buf);
	*hash = h;
}

static void check_chunk(uint64_t seed, uint64_t off, const unsigned char *got,
			size_t n, unsigned char *tmp)
{
	gen_bytes(seed, off, tmp, n);
	if (memcmp(tmp, got, n)) {
		size_t i = 0;

		while (tmp[i] == got[i])
			i++;
		fail("data corrupted at byte offset %llu: expected 0x%02x, got 0x%02x",
		     (unsigned long long)(off + i), tmp[i], got[i]);
	}
}

void recv_stream(int fd, uint64_t seed, uint64_t total, uint64_t *hash)
{
	unsigned char *buf = malloc(STREAM_BUF), *tmp = malloc(STREAM_BUF);
	uint64_t off = 0, rs = (seed * 3) | 1, h = HASH_INIT;

	if (!buf || !tmp)
		fail("malloc: out of memory");
	while (off < total) {
		size_t n = chunk_size(&rs, total - off < STREAM_BUF ?
				      total - off : STREAM_BUF);
		ssize_t r;

		step("receiving: %llu of %llu bytes received",
		     (unsigned long long)off, (unsigned long long)total);
		r = read(fd, buf, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			fail("read after %llu of %llu bytes: %s",
			     (unsigned long long)off, (unsigned long long)total,
			     errname(errno));
		if (r == 0)
			fail("unexpected EOF after %llu of %llu bytes",
			     (unsigned long long)off, (unsigned long long)total);
		check_chunk(seed, off, buf, r, tmp);
		h = hash_update(h, buf, r);
		off += r;
	}
	free(buf);
	free(tmp);
	*hash = h;
}

/*
 * Both directions at once on one socket: nonblocking, driven by poll.
 * Sends tx_total bytes then shuts down writing; reads rx_total bytes
 * then expects EOF.
 */
void bidir_stream(int fd, uint64_t tx_seed, uint64_t tx_total,
		  uint64_t rx_seed, uint64_t rx_total,
		  uint64_t *tx_hash, uint64_t *rx_hash)
{
	unsigned char *tb = malloc(STREAM_BUF), *rb = malloc(STREAM_BUF);
	unsigned char *tmp = malloc(STREAM_BUF);
	uint64_t txo = 0, rxo = 0, th = HASH_INIT, rh = HASH_INIT;
	uint64_t ts = tx_seed | 1, rs = (rx_seed * 3) | 1;
	size_t tlen = 0, tdone = 0;
	bool eof = false, shut = false;

	if (!tb || !rb || !tmp)
		fail("malloc: out of memory");
	set_nonblock(fd, true);
	while (!eof || !shut) {
		struct pollfd p = { .fd = fd };
		int r;

		if (!shut)
			p.events |= POLLOUT;
		if (!eof)
			p.events |= POLLIN;
		step("bidirectional: sent %llu of %llu, received %llu of %llu",
		     (unsigned long long)txo, (unsigned long long)tx_total,
		     (unsigned long long)rxo, (unsigned long long)rx_total);
		r = poll(&p, 1, 30000);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			fail("poll: %s", errname(errno));
		if (r == 0)
			fail("bidirectional: no progress for 30 s (poll asked %s): sent %llu of %llu, received %llu of %llu",
			     pollstr(p.events), (unsigned long long)txo,
			     (unsigned long long)tx_total,
			     (unsigned long long)rxo,
			     (unsigned long long)rx_total);
		if ((p.revents & POLLERR))
			fail("bidirectional: POLLERR (revents %s)", pollstr(p.revents));

		if (!shut && (p.revents & POLLOUT)) {
			for (;;) {
				ssize_t w;

				if (tdone == tlen) {
					if (txo == tx_total) {
						if (shutdown(fd, SHUT_WR))
							fail("shutdown(SHUT_WR): %s",
							     errname(errno));
						shut = true;
						break;
					}
					tlen = chunk_size(&ts, tx_total - txo < STREAM_BUF ?
							  tx_total - txo : STREAM_BUF);
					gen_bytes(tx_seed, txo, tb, tlen);
					th = hash_update(th, tb, tlen);
					tdone = 0;
				}
				w = send(fd, tb + tdone, tlen - tdone,
					 MSG_NOSIGNAL | MSG_DONTWAIT);
				if (w < 0 && (errno == EAGAIN || errno == EINTR))
					break;
				if (w <= 0)
					fail("send after %llu bytes: %s",
					     (unsigned long long)txo,
					     w ? errname(errno) : "returned 0");
				tdone += w;
				txo += w;
			}
		}
		if (!eof && (p.revents & (POLLIN | POLLHUP | POLLRDHUP))) {
			for (;;) {
				size_t n = chunk_size(&rs, STREAM_BUF);
				ssize_t got = recv(fd, rb, n, MSG_DONTWAIT);

				if (got < 0 && (errno == EAGAIN || errno == EINTR))
					break;
				if (got < 0)
					fail("recv after %llu bytes: %s",
					     (unsigned long long)rxo, errname(errno));
				if (got == 0) {
					if (rxo != rx_total)
						fail("unexpected EOF after %llu of %llu bytes",
						     (unsigned long long)rxo,
						     (unsigned long long)rx_total);
					eof = true;
					break;
				}
				if (rxo + got > rx_total)
					fail("received more than the %llu bytes sent (extra data at offset %llu)",
					     (unsigned long long)rx_total,
					     (unsigned long long)rx_total);
				check_chunk(rx_seed, rxo, rb, got, tmp);
				rh = hash_update(rh, rb, got);
				rxo += got;
			}
		}
	}
	set_nonblock(fd, false);
	free(tb);
	free(rb);
	free(tmp);
	*tx_hash = th;
	*rx_hash = rh;
}
