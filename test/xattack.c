// SPDX-License-Identifier: GPL-2.0
/*
 * xattack: an outside attacker against af_xen (issue 11 item 5).
 *
 * The suite's own hostile cases (afx_test_attack.c) make one af_xen
 * misbehave on purpose.  That only tests what the module's own code can
 * be made to do; a real attacker writes whatever bytes it likes.  Here
 * the attacker is a plain program on the raw Xen devices and the victim
 * is the unmodified module in the other guest.
 *
 * This file: options, small utilities and the TCP control channel.
 * xattack_xen.c: the devices.  xattack_attacker.c: the hostile peer.
 * xattack_victim.c: the cases and their verdicts.
 */
#include "xattack.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_CONTROL_PORT	1237
#define CONNECT_TRIES		300	/* 60 s: the victim may start late */
#define ACCEPT_WAIT_MS		120000

void note(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

void die(const char *fmt, ...)
{
	va_list ap;

	printf("# xattack: fatal: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	exit(1);
}

/* Nonces only need to differ; the attacker has no reason to be subtle. */
uint64_t rnd64(void)
{
	static int fd = -2;
	uint64_t v = 0;

	if (fd == -2)
		fd = open("/dev/urandom", O_RDONLY);
	if (fd < 0 || read(fd, &v, sizeof(v)) != sizeof(v))
		v = ((uint64_t)rand() << 32) ^ rand() ^ (uint64_t)(now_s() * 1e9);
	return v ? v : 1;
}

void hex_encode(char *out, const void *in, size_t len)
{
	const uint8_t *p = in;
	size_t i;

	for (i = 0; i < len; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
	out[2 * len] = 0;
}

ssize_t hex_decode(void *out, size_t size, const char *in)
{
	size_t n = strlen(in) / 2, i;
	uint8_t *p = out;

	if (strlen(in) % 2 || n > size)
		return -1;
	for (i = 0; i < n; i++) {
		unsigned int b;

		if (sscanf(in + 2 * i, "%2x", &b) != 1)
			return -1;
		p[i] = b;
	}
	return n;
}

/* ----- Control channel: the victim listens, the attacker connects ----- */

static int ctl_listen(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons(port) };
	int one = 1, l, fd;

	l = socket(AF_INET, SOCK_STREAM, 0);
	if (l < 0)
		return -errno;
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(l, (struct sockaddr *)&a, sizeof(a)) || listen(l, 1)) {
		close(l);
		return -errno;
	}
	/* The attacker's guest may never come: give up after a while. */
	struct pollfd p = { .fd = l, .events = POLLIN };

	if (poll(&p, 1, ACCEPT_WAIT_MS) != 1) {
		close(l);
		return -ETIMEDOUT;
	}
	fd = accept(l, NULL, NULL);
	close(l);
	return fd < 0 ? -errno : fd;
}

static int ctl_connect(const char *ip, int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons(port) };
	int i, fd;

	if (inet_pton(AF_INET, ip, &a.sin_addr) != 1)
		return -EINVAL;
	for (i = 0; i < CONNECT_TRIES; i++) {
		fd = socket(AF_INET, SOCK_STREAM, 0);
		if (fd < 0)
			return -errno;
		if (!connect(fd, (struct sockaddr *)&a, sizeof(a)))
			return fd;
		close(fd);
		msleep(200);
	}
	return -ETIMEDOUT;
}

int ctl_open(int server, const char *peer_ip, int port)
{
	int fd = server ? ctl_listen(port) : ctl_connect(peer_ip, port);
	int one = 1;

	if (fd >= 0)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

void ctl_send(int fd, const char *fmt, ...)
{
	char line[XA_LINE + 1];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, XA_LINE, fmt, ap);
	va_end(ap);
	if (n >= XA_LINE)
		n = XA_LINE - 1;
	line[n++] = '\n';
	if (write(fd, line, n) != n)
		die("control channel: write: %s", strerror(errno));
}

/*
 * One line, byte by byte (lines are short and rare).  Returns its length,
 * 0 at end of file, -ETIMEDOUT after @timeout_ms (-1: forever).
 */
int ctl_recv(int fd, char *buf, size_t size, int timeout_ms)
{
	double end = now_s() + timeout_ms / 1000.0;
	size_t n = 0;

	while (n + 1 < size) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int left = timeout_ms < 0 ? -1 : (int)((end - now_s()) * 1000);
		char c;

		if (timeout_ms >= 0 && left <= 0)
			return -ETIMEDOUT;
		if (poll(&p, 1, left) == 0)
			return -ETIMEDOUT;
		if (read(fd, &c, 1) != 1)
			return 0;
		if (c == '\n')
			break;
		buf[n++] = c;
	}
	buf[n] = 0;
	return n ? (int)n : 1;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: xattack victim|attacker --peer-ip IP --peer-domid D\n"
		"               [--my-domid D] [--control-port P]\n"
		"               [--front af_xen|vsock]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct xa_opts o = { .port = DEFAULT_CONTROL_PORT };
	const char *env = getenv("MY_DOMID");
	int i, peer = -1, self = env ? atoi(env) : -1;

	if (argc < 2)
		usage();
	for (i = 2; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--peer-ip"))
			o.peer_ip = argv[i + 1];
		else if (!strcmp(argv[i], "--peer-domid"))
			peer = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--my-domid"))
			self = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--control-port"))
			o.port = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--front"))
			o.vsock = !strcmp(argv[i + 1], "vsock");
		else
			usage();
	}
	if (i != argc || !o.peer_ip || peer < 0 || self < 0)
		usage();
	o.peer = peer;
	o.self = self;
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(argv[1], "victim"))
		return victim_main(&o);
	if (!strcmp(argv[1], "attacker"))
		return attacker_main(&o);
	usage();
	return 2;
}
