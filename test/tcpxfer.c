// SPDX-License-Identifier: GPL-2.0
/*
 * tcpxfer: the harness's own baseline, a TCP transfer between the two
 * guests with a checksum.  The payload is a pseudo-random sequence both
 * sides can generate, so the receiver checks every byte.
 *
 *   tcpxfer recv PORT BYTES        tcpxfer send IP PORT BYTES
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
#include <unistd.h>

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static void fill(unsigned char *buf, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		rng ^= rng << 13;
		rng ^= rng >> 7;
		rng ^= rng << 17;
		buf[i] = (unsigned char)rng;
	}
}

static double now(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return tv.tv_sec + tv.tv_usec / 1e6;
}

static int do_recv(int port, long long total)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons(port) };
	unsigned char buf[65536], want[65536];
	int one = 1, l, fd;
	long long got = 0;
	double t0;

	l = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(l, (struct sockaddr *)&sa, sizeof(sa)) || listen(l, 1)) {
		printf("tcpxfer: bind/listen: %s\n", strerror(errno));
		return 1;
	}
	fd = accept(l, NULL, NULL);
	if (fd < 0) {
		printf("tcpxfer: accept: %s\n", strerror(errno));
		return 1;
	}
	t0 = now();
	while (got < total) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n <= 0) {
			printf("tcpxfer: short stream: %lld of %lld bytes\n",
			       got, total);
			return 1;
		}
		fill(want, n);
		if (memcmp(buf, want, n)) {
			printf("tcpxfer: data differs near byte %lld\n", got);
			return 1;
		}
		got += n;
	}
	printf("tcpxfer: %lld bytes verified in %.2f s (%.1f MB/s)\n", got,
	       now() - t0, got / (now() - t0) / 1e6);
	return 0;
}

static int do_send(const char *ip, int port, long long total)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons(port) };
	unsigned char buf[65536];
	int fd = -1, i;

	inet_pton(AF_INET, ip, &sa.sin_addr);
	for (i = 0; i < 300; i++) {
		fd = socket(AF_INET, SOCK_STREAM, 0);
		if (!connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
			break;
		close(fd);
		fd = -1;
		usleep(100000);
	}
	if (fd < 0) {
		printf("tcpxfer: cannot connect to %s:%d\n", ip, port);
		return 1;
	}
	while (total > 0) {
		size_t n = total < (long long)sizeof(buf) ? (size_t)total :
			   sizeof(buf);
		size_t off = 0;

		fill(buf, n);
		while (off < n) {
			ssize_t w = write(fd, buf + off, n - off);

			if (w <= 0) {
				printf("tcpxfer: write: %s\n", strerror(errno));
				return 1;
			}
			off += w;
		}
		total -= n;
	}
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "recv"))
		return do_recv(atoi(argv[2]), atoll(argv[3]));
	if (argc == 5 && !strcmp(argv[1], "send"))
		return do_send(argv[2], atoi(argv[3]), atoll(argv[4]));
	fprintf(stderr, "usage: tcpxfer recv PORT BYTES | send IP PORT BYTES\n");
	return 2;
}
