// SPDX-License-Identifier: GPL-2.0
/*
 * xbench: the measurements behind `make bench`.
 *
 *   xbench serve                      in one guest: sink/echo server on
 *                                     AF_XEN port 7000 and TCP port 7001,
 *                                     connection server on 7003 and 7004
 *   xbench tput T ADDR MSG SECS [STREAMS [RING]]
 *   xbench rtt T ADDR COUNT
 *   xbench memcpy SIZE SECS
 *   xbench quit T ADDR                stop a server
 *   xbench connect T ADDR COUNT [RING]
 *   xbench cps T ADDR SECS [PROCS [RING]]
 *   xbench maxconn T ADDR RING CAP [LIMIT [AT MSG SECS]]
 *
 * T is xen (ADDR = domid), vsock (ADDR = CID: domid + 2, through
 * af_xen_vsock; the server listens on vsock port 7002 when AF_VSOCK is
 * there), tcp (ADDR = IPv4), unix (ADDR = path), or
 * tcplo / xenlo: the same as tcp / xen, labelled as loopback inside one
 * guest (its server: `xbench serve-local`, which also serves unix).
 * Results are printed as CSV lines starting with "BENCH," that
 * scripts/bench collects:
 *   BENCH,tput,T,MSG,RING,STREAMS,MB/s,NTF_TX_PER_MB,NTF_RX_PER_MB
 *   BENCH,rtt,T,1,0,1,MEDIAN_US,P99_US,0
 *   BENCH,memcpy,-,SIZE,0,1,MB/s,0,0
 * and, from the connection benchmarks (xbench_conn.c, which see):
 *   BENCH,connect,T,1,RING,1,P50_US,P99_US,CYCLE_P50_US
 *   BENCH,cps,T,1,RING,PROCS,CONNECTS_PER_S,FAILED,CONNECTS
 *   BENCH,maxconn,T,CAP,RING,1,MAX_OPEN,ERRNO,SERVER_LEFT
 *   BENCH,openload,T,MSG,0,1,MB/s,OPEN,HOLD_RING
 * Throughput is taken at the sender from the first byte to the
 * receiver's acknowledgement of end-of-file, so no byte still sitting in
 * a socket buffer is counted as moved.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/af_xen.h>
#include <linux/vm_sockets.h>
#include "xbench.h"


double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

void die(const char *what)
{
	fprintf(stderr, "xbench: %s: %s\n", what, strerror(errno));
	exit(1);
}

int full(int fd, void *buf, size_t len, int wr)
{
	char *p = buf;

	while (len) {
		ssize_t n = wr ? write(fd, p, len) : read(fd, p, len);

		if (n <= 0)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

socklen_t xaddr(const char *t, const char *addr, int conn,
		struct sockaddr_storage *ss)
{
	struct sockaddr_un *un;

	memset(ss, 0, sizeof(*ss));
	if (!strncmp(t, "xen", 3)) {
		struct sockaddr_xen *x = (void *)ss;

		x->sxen_family = AF_XEN;
		x->sxen_domid = atoi(addr);
		x->sxen_port = conn ? XEN_CPORT : XEN_PORT;
		return sizeof(*x);
	}
	if (!strncmp(t, "tcp", 3)) {
		struct sockaddr_in *in = (void *)ss;

		in->sin_family = AF_INET;
		in->sin_port = htons(conn ? TCP_CPORT : TCP_PORT);
		inet_pton(AF_INET, addr, &in->sin_addr);
		return sizeof(*in);
	}
	if (!strcmp(t, "vsock")) {
		struct sockaddr_vm *vm = (void *)ss;

		vm->svm_family = AF_VSOCK;
		vm->svm_cid = atoi(addr);
		vm->svm_port = VSOCK_PORT;
		return sizeof(*vm);
	}
	un = (void *)ss;
	un->sun_family = AF_UNIX;
	snprintf(un->sun_path, sizeof(un->sun_path), "%s", addr);
	return sizeof(*un);
}

int xconnect(const char *t, const char *addr, int ring)
{
	struct sockaddr_storage ss;
	socklen_t len = xaddr(t, addr, 0, &ss);
	int fd, one = 1, i;

	for (i = 0; i < 100; i++) {
		fd = socket(ss.ss_family, SOCK_STREAM, 0);
		if (fd < 0)
			die("socket");
		if (ring && ss.ss_family == AF_XEN &&
		    setsockopt(fd, SOL_XEN, XEN_SO_RING_SIZE, &ring,
			       sizeof(ring)))
			die("XEN_SO_RING_SIZE");
		if (ss.ss_family == AF_INET)
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
				   sizeof(one));
		if (!connect(fd, (struct sockaddr *)&ss, len))
			return fd;
		close(fd);
		usleep(100000);
	}
	die("connect");
	return -1;
}

/* ----- server ----- */

static void serve_conn(int fd)
{
	static char buf[MAXMSG];
	struct hdr h;
	char b = 0;
	int one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (full(fd, &h, sizeof(h), 0))
		exit(0);
	if (h.mode == MODE_QUIT)
		exit(42);
	if (h.mode == MODE_LINGER || h.mode == MODE_TIMED)
		exit(path_serve(fd, h.mode, h.msg));
	if (h.mode == MODE_ECHO) {
		while (read(fd, &b, 1) == 1)
			if (write(fd, &b, 1) != 1)
				break;
		exit(0);
	}
	if (h.msg == 0 || h.msg > MAXMSG)
		h.msg = 65536;
	while (read(fd, buf, h.msg) > 0)
		;
	/* End of file seen: everything sent has been received. */
	if (write(fd, &b, 1) != 1)
		exit(1);
	exit(0);
}

int xlisten(int family, int port)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t len;
	int fd, one = 1;

	if (family == AF_XEN) {
		struct sockaddr_xen *x = (void *)&ss;

		x->sxen_family = AF_XEN;
		x->sxen_domid = XEN_DOMID_ANY;
		x->sxen_port = port;
		len = sizeof(*x);
	} else if (family == AF_INET) {
		struct sockaddr_in *in = (void *)&ss;

		in->sin_family = AF_INET;
		in->sin_port = htons(port);
		len = sizeof(*in);
	} else if (family == AF_VSOCK) {
		struct sockaddr_vm *vm = (void *)&ss;

		vm->svm_family = AF_VSOCK;
		vm->svm_cid = VMADDR_CID_ANY;
		vm->svm_port = port;
		len = sizeof(*vm);
	} else {
		struct sockaddr_un *un = (void *)&ss;

		un->sun_family = AF_UNIX;
		strcpy(un->sun_path, UNIX_PATH);
		unlink(UNIX_PATH);
		len = sizeof(*un);
	}
	fd = socket(family, SOCK_STREAM, 0);
	if (fd < 0 && family == AF_VSOCK)
		return -1;	/* no vsock in this guest: not served */
	if (fd < 0)
		die("socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) || listen(fd, 64))
		die("listen");
	return fd;
}

static void add_listener(int ep, int fd)
{
	struct epoll_event ev = {
		.events = EPOLLIN,
		.data.u64 = (uint64_t)EV_FORK << 32 | (uint32_t)fd,
	};

	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev))
		die("epoll_ctl");
}

/*
 * Accept on every listener; a child per connection on the stream
 * ports; the connection ports (xbench_conn.c) are served here, without
 * a fork; stop on MODE_QUIT.
 */
static int serve(int local)
{
	struct epoll_event ev[64];
	int ep = epoll_create1(EPOLL_CLOEXEC), p[4], n = 0, i, k, st;

	if (ep < 0)
		die("epoll_create1");
	signal(SIGPIPE, SIG_IGN);
	/* A guest-to-guest server; or a loopback one (AF_XEN on port 7000
	 * would collide with a guest-to-guest server in the same guest).
	 */
	if (!local)
		p[n++] = xlisten(AF_XEN, XEN_PORT);
	if (!local)
		p[n] = xlisten(AF_VSOCK, VSOCK_PORT), n += p[n] >= 0;
	p[n++] = xlisten(AF_INET, TCP_PORT);
	if (local)
		p[n++] = xlisten(AF_UNIX, 0);
	for (i = 0; i < n; i++)
		add_listener(ep, p[i]);
	conn_listen(ep, local);
	printf("xbench: serving\n");
	fflush(stdout);
	for (;;) {
		pid_t pid;

		while ((pid = waitpid(-1, &st, WNOHANG)) > 0)
			if (WIFEXITED(st) && WEXITSTATUS(st) == 42)
				return 0;
		k = epoll_wait(ep, ev, 64, 200);
		for (i = 0; i < k; i++) {
			int kind = ev[i].data.u64 >> 32;
			int fd = (int)(uint32_t)ev[i].data.u64, c;

			if (kind != EV_FORK) {
				conn_event(ep, kind, fd);
				continue;
			}
			c = accept(fd, NULL, NULL);
			if (c < 0)
				continue;
			if (!fork()) {
				for (int j = 0; j < n; j++)
					close(p[j]);
				close(ep);
				conn_close_all();
				serve_conn(c);
			}
			close(c);
		}
	}
}

/* ----- client ----- */

/*
 * @msg-byte writes for @secs to a sink of @mode, then shutdown(SHUT_WR):
 * the caller reads the sink's reply and ends it with stream_end().
 */
int stream_start(const char *t, const char *addr, uint32_t mode,
		 uint32_t msg, double secs, int ring, struct result *r)
{
	static char buf[MAXMSG];
	struct hdr h = { mode, msg };
	double end;
	int fd = xconnect(t, addr, ring);

	memset(buf, 0x5a, msg);
	if (full(fd, &h, sizeof(h), 1))
		die("header");
	r->bytes = 0;
	r->secs = now();
	end = r->secs + secs;
	while (now() < end) {
		if (full(fd, buf, msg, 1))
			die("write");
		r->bytes += msg;
	}
	shutdown(fd, SHUT_WR);
	return fd;
}

/* The sink has replied: the time and the notifications, and close. */
void stream_end(int fd, const char *t, struct result *r)
{
	struct xen_so_stats st;
	socklen_t sl = sizeof(st);

	r->secs = now() - r->secs;
	r->ntf_tx = r->ntf_rx = 0;
	if (!strncmp(t, "xen", 3) &&
	    !getsockopt(fd, SOL_XEN, XEN_SO_STATS, &st, &sl)) {
		r->ntf_tx = st.notifies_sent;
		r->ntf_rx = st.notifies_received;
	}
	close(fd);
}

void one_stream(const char *t, const char *addr, uint32_t msg,
		double secs, int ring, struct result *r)
{
	int fd = stream_start(t, addr, MODE_SINK, msg, secs, ring, r);
	char b;

	if (read(fd, &b, 1) != 1)
		die("acknowledgement");
	stream_end(fd, t, r);
}

static int tput(const char *t, const char *addr, uint32_t msg, double secs,
		int streams, int ring)
{
	struct result sum = { 0 }, r;
	int pfd[2], i;

	if (msg == 0 || msg > MAXMSG)
		return 2;
	if (pipe(pfd))
		die("pipe");
	for (i = 0; i < streams; i++) {
		if (!fork()) {
			one_stream(t, addr, msg, secs, ring, &r);
			if (write(pfd[1], &r, sizeof(r)) != sizeof(r))
				exit(1);
			exit(0);
		}
	}
	close(pfd[1]);
	for (i = 0; i < streams; i++) {
		if (full(pfd[0], &r, sizeof(r), 0))
			die("a stream failed");
		sum.bytes += r.bytes;
		sum.ntf_tx += r.ntf_tx;
		sum.ntf_rx += r.ntf_rx;
		if (r.secs > sum.secs)
			sum.secs = r.secs;
	}
	while (wait(NULL) > 0)
		;
	printf("BENCH,tput,%s,%u,%d,%d,%.2f,%.2f,%.2f\n", t, msg, ring,
	       streams, sum.bytes / sum.secs / 1e6,
	       sum.ntf_tx / (sum.bytes / 1048576),
	       sum.ntf_rx / (sum.bytes / 1048576));
	return 0;
}

int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int rtt(const char *t, const char *addr, int count)
{
	struct hdr h = { MODE_ECHO, 1 };
	double *v = calloc(count, sizeof(*v));
	int fd = xconnect(t, addr, 0), i;
	char b = 1;

	if (!v || full(fd, &h, sizeof(h), 1))
		die("rtt setup");
	for (i = 0; i < count; i++) {
		double t0 = now();

		if (write(fd, &b, 1) != 1 || read(fd, &b, 1) != 1)
			die("ping-pong");
		v[i] = (now() - t0) * 1e6;
	}
	close(fd);
	qsort(v, count, sizeof(*v), cmp_double);
	printf("BENCH,rtt,%s,1,0,1,%.1f,%.1f,0\n", t, v[count / 2],
	       v[count * 99 / 100]);
	return 0;
}

static int memcpy_bw(size_t size, double secs)
{
	char *a = malloc(size), *b = malloc(size);
	double t0, bytes = 0;

	if (!a || !b)
		die("malloc");
	memset(a, 1, size);
	memset(b, 2, size);
	t0 = now();
	while (now() - t0 < secs) {
		/* Read the clock once per 4 MiB: it is not free in a guest. */
		size_t i, n = size >= (4 << 20) ? 1 : (4 << 20) / size;

		for (i = 0; i < n; i++) {
			memcpy(b, a, size);
			a[i & 1] ^= b[size - 1];	/* keep the copy alive */
		}
		bytes += (double)n * size;
	}
	printf("BENCH,memcpy,-,%zu,0,1,%.2f,0,0\n", size,
	       bytes / (now() - t0) / 1e6);
	return 0;
}

static int quit(const char *t, const char *addr)
{
	struct hdr h = { MODE_QUIT, 0 };
	int fd = xconnect(t, addr, 0);

	full(fd, &h, sizeof(h), 1);
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	raise_nofile();
	if (argc == 2 && !strcmp(argv[1], "serve"))
		return serve(0);
	if (argc == 2 && !strcmp(argv[1], "serve-local"))
		return serve(1);
	if (argc >= 6 && !strcmp(argv[1], "tput"))
		return tput(argv[2], argv[3], strtoul(argv[4], NULL, 0),
			    atof(argv[5]), argc > 6 ? atoi(argv[6]) : 1,
			    argc > 7 ? atoi(argv[7]) : 0);
	if (argc == 5 && !strcmp(argv[1], "rtt"))
		return rtt(argv[2], argv[3], atoi(argv[4]));
	if (argc == 4 && !strcmp(argv[1], "memcpy"))
		return memcpy_bw(strtoul(argv[2], NULL, 0), atof(argv[3]));
	if (argc == 4 && !strcmp(argv[1], "quit"))
		return quit(argv[2], argv[3]);
	if ((argc == 5 || argc == 6) && !strcmp(argv[1], "connect"))
		return conn_latency(argv[2], argv[3], atoi(argv[4]),
				    argc > 5 ? atoi(argv[5]) : 0);
	if (argc >= 5 && argc <= 7 && !strcmp(argv[1], "cps"))
		return conn_rate(argv[2], argv[3], atof(argv[4]),
				 argc > 5 ? atoi(argv[5]) : 1,
				 argc > 6 ? atoi(argv[6]) : 0);
	if (argc == 5 && !strcmp(argv[1], "linger"))
		return path_linger(argv[2], argv[3], atoi(argv[4]));
	if (argc == 6 && !strcmp(argv[1], "breakdown"))
		return path_breakdown(argv[2], argv[3],
				      strtoul(argv[4], NULL, 0), atof(argv[5]));
	if ((argc == 6 || argc == 7 || argc == 10) &&
	    !strcmp(argv[1], "maxconn"))
		return conn_max(argv[2], argv[3], atoi(argv[4]), atoi(argv[5]),
				argc > 6 ? atof(argv[6]) : 0,
				argc > 7 ? atoi(argv[7]) : 0,
				argc > 7 ? strtoul(argv[8], NULL, 0) : 0,
				argc > 7 ? atof(argv[9]) : 0);
	fprintf(stderr, "usage: see the comments at the top of test/xbench.c and test/xbench_conn.c\n");
	return 2;
}
