// SPDX-License-Identifier: GPL-2.0
/*
 * xfer: one checked stream transfer over TCP, AF_XEN or a UNIX socket,
 * for the harness's TCP baseline and for `make demo`.  The payload is a
 * pseudo-random sequence both sides generate, so the receiver checks
 * every byte; it prints bytes, seconds and MB/s.
 *
 *   xfer recv tcp|xen|unix PORT|PATH BYTES [MSGSIZE]
 *   xfer send tcp IP PORT BYTES [MSGSIZE]
 *   xfer send xen DOMID PORT BYTES [MSGSIZE]
 *   xfer send unix PATH BYTES [MSGSIZE]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>
#include <linux/af_xen.h>

#define MAXMSG (1 << 20)

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

/*
 * The payload: a xorshift64 stream, eight bytes per step so that checking
 * it costs little next to the transfer, but position-exact whatever the
 * chunk sizes on either side.
 */
static void fill(unsigned char *buf, size_t n)
{
	static unsigned char left[8];
	static size_t nleft;

	while (n) {
		size_t k;

		/* whole steps straight into the buffer: the common case */
		for (; !nleft && n >= 8; buf += 8, n -= 8) {
			rng ^= rng << 13;
			rng ^= rng >> 7;
			rng ^= rng << 17;
			memcpy(buf, &rng, 8);
		}
		if (!n)
			break;
		if (!nleft) {
			rng ^= rng << 13;
			rng ^= rng >> 7;
			rng ^= rng << 17;
			memcpy(left, &rng, 8);
			nleft = 8;
		}
		k = n < nleft ? n : nleft;
		memcpy(buf, left + 8 - nleft, k);
		nleft -= k;
		buf += k;
		n -= k;
	}
}

static double now(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return tv.tv_sec + tv.tv_usec / 1e6;
}

static int family(const char *t)
{
	if (!strcmp(t, "tcp"))
		return AF_INET;
	if (!strcmp(t, "unix"))
		return AF_UNIX;
	return AF_XEN;
}

/* Fill in the address for transport t; len gets its size. */
static void address(const char *t, const char *a, const char *b,
		    struct sockaddr_storage *ss, socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	if (!strcmp(t, "tcp")) {
		struct sockaddr_in *in = (void *)ss;

		in->sin_family = AF_INET;
		in->sin_port = htons(atoi(b));
		if (a)
			inet_pton(AF_INET, a, &in->sin_addr);
		*len = sizeof(*in);
	} else if (!strcmp(t, "unix")) {
		struct sockaddr_un *un = (void *)ss;

		un->sun_family = AF_UNIX;
		snprintf(un->sun_path, sizeof(un->sun_path), "%s", b);
		*len = sizeof(*un);
	} else {
		struct sockaddr_xen *x = (void *)ss;

		x->sxen_family = AF_XEN;
		x->sxen_domid = a ? atoi(a) : XEN_DOMID_ANY;
		x->sxen_port = atoi(b);
		*len = sizeof(*x);
	}
}

static int do_recv(const char *t, const char *where, long long total,
		   size_t msg)
{
	static unsigned char buf[MAXMSG], want[MAXMSG];
	struct sockaddr_storage ss;
	socklen_t len;
	int one = 1, l, fd;
	long long got = 0;
	double t0;

	address(t, NULL, where, &ss, &len);
	if (ss.ss_family == AF_UNIX)
		unlink(where);
	l = socket(ss.ss_family, SOCK_STREAM, 0);
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (l < 0 || bind(l, (struct sockaddr *)&ss, len) || listen(l, 1)) {
		printf("xfer: %s listen: %s\n", t, strerror(errno));
		return 1;
	}
	fd = accept(l, NULL, NULL);
	if (fd < 0) {
		printf("xfer: accept: %s\n", strerror(errno));
		return 1;
	}
	t0 = now();
	while (got < total) {
		ssize_t n = read(fd, buf, msg);

		if (n <= 0) {
			printf("xfer: short stream: %lld of %lld bytes (%s)\n",
			       got, total, n ? strerror(errno) : "EOF");
			return 1;
		}
		fill(want, n);
		if (memcmp(buf, want, n)) {
			printf("xfer: data differs near byte %lld\n", got);
			return 1;
		}
		got += n;
	}
	t0 = now() - t0;
	printf("xfer: %s %lld bytes verified in %.2f s: %.1f MB/s\n", t, got,
	       t0, got / t0 / 1e6);
	return 0;
}

static int do_send(const char *t, const char *a, const char *b,
		   long long total, size_t msg)
{
	static unsigned char buf[MAXMSG];
	struct sockaddr_storage ss;
	socklen_t len;
	int fd = -1, i;

	address(t, a, b, &ss, &len);
	for (i = 0; i < 300; i++) {
		fd = socket(family(t), SOCK_STREAM, 0);
		if (!connect(fd, (struct sockaddr *)&ss, len))
			break;
		close(fd);
		fd = -1;
		usleep(100000);
	}
	if (fd < 0) {
		printf("xfer: cannot connect over %s: %s\n", t,
		       strerror(errno));
		return 1;
	}
	while (total > 0) {
		size_t n = total < (long long)msg ? (size_t)total : msg;
		size_t off = 0;

		fill(buf, n);
		while (off < n) {
			ssize_t w = write(fd, buf + off, n - off);

			if (w <= 0) {
				printf("xfer: write: %s\n", strerror(errno));
				return 1;
			}
			off += w;
		}
		total -= n;
	}
	close(fd);
	return 0;
}

static size_t msgsize(int argc, char **argv, int i)
{
	size_t m = argc > i ? strtoul(argv[i], NULL, 0) : 65536;

	return m && m <= MAXMSG ? m : 65536;
}

int main(int argc, char **argv)
{
	if (argc >= 5 && !strcmp(argv[1], "recv"))
		return do_recv(argv[2], argv[3], atoll(argv[4]),
			       msgsize(argc, argv, 5));
	if (argc >= 5 && !strcmp(argv[1], "send") && !strcmp(argv[2], "unix"))
		return do_send("unix", NULL, argv[3], atoll(argv[4]),
			       msgsize(argc, argv, 5));
	if (argc >= 6 && !strcmp(argv[1], "send"))
		return do_send(argv[2], argv[3], argv[4], atoll(argv[5]),
			       msgsize(argc, argv, 6));
	fprintf(stderr, "usage: xfer recv tcp|xen|unix PORT|PATH BYTES [MSGSIZE]\n"
		"       xfer send tcp IP PORT | xen DOMID PORT | unix PATH  BYTES [MSGSIZE]\n");
	return 2;
}
