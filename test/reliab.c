// SPDX-License-Identifier: GPL-2.0
/*
 * reliab: reliability tests that need their own set-up (issue "hostile
 * peers, dying peers, load and leaks"):
 *
 *   reliab dying-server TRIALS   server guest; the client guest runs
 *   reliab dying-client DOMID    and is destroyed by Domain-0 each trial
 *   reliab serve                 echo server for leak and load tests
 *   reliab leak CYCLES DOMID [seqpacket]
 *                                connect/transfer/close cycles; every
 *                                resource back to where it was
 *   reliab load CONNS DOMID      CONNS concurrent checked echo streams
 *   reliab backlog DOMID         connects beyond a backlog
 *   reliab badinput              bad pointers, sizes, signals, shutdown
 *   reliab absent DOMID WHAT     connect to a domain without the module
 *   reliab unanswered DOMID      connect to a module that never answers:
 *                                a signal, then the connect timeout
 *   reliab killed-server         server guest; the client guest runs
 *   reliab killed-client DOMID   and SIGKILLs its own process mid-transfer
 *   reliab once DOMID            one silent 1 MiB echo round trip (for
 *                                the module reload cycles)
 *   reliab exhaust DOMID         connections until this guest runs out
 *   reliab storm DOMID           8 connectors for 10 s beside a stream
 *                                (both in reliab_limits.c)
 *
 * Each test prints one TAP line, "ok - reliab: ..." or "not ok - ... #
 * why", and notes starting with "# ".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/af_xen.h>

#include "reliab.h"


int failures;

double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

void tap(int ok, const char *name, const char *fmt, ...)
{
	va_list ap;

	if (ok) {
		printf("ok - reliab: %s\n", name);
		return;
	}
	failures++;
	printf("not ok - reliab: %s # ", name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

struct sockaddr_xen xaddr(int domid, int port)
{
	struct sockaddr_xen sa = { .sxen_family = AF_XEN };

	sa.sxen_domid = domid;
	sa.sxen_port = port;
	return sa;
}

int xlisten_type(int port, int backlog, int type)
{
	struct sockaddr_xen sa = xaddr(XEN_DOMID_ANY, port);
	int fd = socket(AF_XEN, type, 0);

	if (fd < 0 || bind(fd, (void *)&sa, sizeof(sa)) || listen(fd, backlog)) {
		printf("# listen on port %d: %s\n", port, strerror(errno));
		exit(1);
	}
	return fd;
}

int xlisten(int port, int backlog)
{
	return xlisten_type(port, backlog, SOCK_STREAM);
}

int xconnect_type(int domid, int port, int type)
{
	struct sockaddr_xen sa = xaddr(domid, port);
	int fd, i;

	for (i = 0; i < 300; i++) {
		fd = socket(AF_XEN, type, 0);
		if (fd >= 0 && !connect(fd, (void *)&sa, sizeof(sa)))
			return fd;
		close(fd);
		usleep(100000);
	}
	return -1;
}

int xconnect(int domid, int port)
{
	return xconnect_type(domid, port, SOCK_STREAM);
}

/* ----- what the module and xenstore hold ----- */

static long slab_per_page = 1;

/*
 * Objects of the AF_XEN sock cache in use.  SLUB counts every object of
 * a per-CPU slab as in use, and keeps recently emptied slabs per CPU, so
 * the cache is shrunk first (which flushes them): what is left is what
 * is really allocated.
 */
static long slab_objects(void)
{
	FILE *s = fopen("/sys/kernel/slab/AF_XEN/shrink", "w");
	FILE *f;
	char line[512];
	long n = -1, total, size;

	if (s) {
		fputs("1", s);
		fclose(s);
	}
	f = fopen("/proc/slabinfo", "r");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "AF_XEN ", 7))
			sscanf(line + 7, "%ld %ld %ld %ld", &n, &total, &size,
			       &slab_per_page);
	if (f)
		fclose(f);
	return n;
}

static long xs_nodes(void)
{
	FILE *p = popen("af_xen-setup --count", "r");
	long n = -1;

	if (p) {
		if (fscanf(p, "%ld", &n) != 1)
			n = -1;
		pclose(p);
	}
	return n;
}

void held_now(struct held *h)
{
	FILE *f = fopen("/proc/net/af_xen_stat", "r");
	char key[32];
	long v;

	memset(h, 0, sizeof(*h));
	while (f && fscanf(f, "%31s %ld", key, &v) == 2) {
		if (!strcmp(key, "sockets"))
			h->sockets = v;
		else if (!strcmp(key, "grants"))
			h->grants = v;
		else if (!strcmp(key, "mapped"))
			h->mapped = v;
		else if (!strcmp(key, "evtchns"))
			h->evtchns = v;
		else if (!strcmp(key, "xs_watches"))
			h->watches = v;
	}
	if (f)
		fclose(f);
	h->slab = slab_objects();
	h->nodes = xs_nodes();
}

void held_print(const char *when, const struct held *h)
{
	printf("# %s: sockets %ld grants %ld mapped %ld evtchns %ld watches %ld slab %ld xenstore-nodes %ld\n",
	       when, h->sockets, h->grants, h->mapped, h->evtchns, h->watches,
	       h->slab, h->nodes);
}

/*
 * Back to the baseline?  Grants lag while the peer unmaps: look again for
 * a few seconds.  The slab count may stay up by one slab's worth of
 * objects cached per CPU, but must not grow with the number of cycles.
 */
int held_back(const struct held *base, struct held *h)
{
	int i;

	for (i = 0; i < 50; i++) {
		held_now(h);
		if (h->sockets == base->sockets && h->grants == base->grants &&
		    h->mapped == base->mapped && h->evtchns == base->evtchns &&
		    h->watches == base->watches && h->nodes == base->nodes &&
		    h->slab <= base->slab + slab_per_page)
			return 1;
		usleep(200000);
	}
	return 0;
}

/* ----- echo server for leak and load tests ----- */

/* Streams come back in pieces of random size, records one by one. */
static void echo(int fd, int type)
{
	static char buf[1 << 20];
	struct iovec iov = { .iov_base = buf };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	for (;;) {
		iov.iov_len = type == SOCK_STREAM ? 1 + rand() % 65536u :
			      sizeof(buf);
		n = recvmsg(fd, &m, 0);
		/* 0 is EOF, unless it is an empty record (MSG_EOR). */
		if (n < 0 || (n == 0 && !(m.msg_flags & MSG_EOR)))
			break;
		if (send(fd, buf, n, MSG_NOSIGNAL) != n)
			break;
	}
	close(fd);
	exit(0);
}

/* Echo streams on ECHO_PORT and records on SEQ_ECHO_PORT. */
static __attribute__((noreturn)) int serve(void)
{
	struct pollfd p[3] = {
		{ .fd = xlisten(ECHO_PORT, 128), .events = POLLIN },
		{ .fd = xlisten_type(SEQ_ECHO_PORT, 128, SOCK_SEQPACKET),
		  .events = POLLIN },
		{ .fd = xlisten(STORM_PORT, 8), .events = POLLIN },
	};

	signal(SIGCHLD, SIG_IGN);
	for (;;) {
		if (poll(p, 3, -1) < 0)
			continue;
		for (int i = 0; i < 3; i++) {
			int fd = p[i].revents ? accept(p[i].fd, NULL, NULL) : -1;

			if (fd < 0)
				continue;
			if (i == 2) {	/* a storm's connect: accepted, closed */
				close(fd);
				continue;
			}
			if (!fork()) {
				close(p[0].fd);
				close(p[1].fd);
				close(p[2].fd);
				srand(getpid());
				echo(fd, i ? SOCK_SEQPACKET : SOCK_STREAM);
			}
			close(fd);
		}
	}
}

/* ----- leaks ----- */

/*
 * Connect, send BYTES through the echo server and check what comes back,
 * in chunks smaller than the ring (a whole MiB sent before reading would
 * fill both rings and leave both ends blocked in send, as with TCP), then
 * close; with UNREAD, one more byte is echoed that is never read.
 */
static int one_cycle(int domid, int type, int unread, size_t bytes)
{
	static unsigned char buf[1 << 20], back[65536];
	int port = type == SOCK_STREAM ? ECHO_PORT : SEQ_ECHO_PORT;
	int fd = xconnect_type(domid, port, type), bad = 0;
	int seq = type == SOCK_SEQPACKET;
	size_t i, n;

	if (fd < 0)
		return -1;
	if (bytes > sizeof(buf))
		bytes = sizeof(buf);
	for (i = 0; i < bytes; i++)
		buf[i] = pattern(i);
	/* Records of assorted sizes must come back one by one, whole. */
	for (i = 0; !bad && i < bytes; i += n) {
		n = seq ? 1 + i * 7919 % 2000 : sizeof(back);
		n = bytes - i < n ? bytes - i : n;
		bad = send(fd, buf + i, n, 0) != (ssize_t)n ||
		      recv(fd, back, seq ? sizeof(back) : n,
			   seq ? 0 : MSG_WAITALL) != (ssize_t)n ||
		      memcmp(buf + i, back, n);
	}
	if (!bad && unread && send(fd, buf, 1, 0) == 1)
		usleep(1000);
	close(fd);
	return bad ? -1 : 0;
}

/* For loopback tests: an echo server in this domain (its pid), else 0. */
static pid_t local_server(int domid)
{
	pid_t srv;

	if (domid != XEN_DOMID_SELF)
		return 0;
	srv = fork();
	if (!srv)
		serve();
	return srv;
}

static void stop_server(pid_t srv)
{
	if (srv) {
		kill(srv, SIGKILL);
		waitpid(srv, NULL, 0);
	}
}

static int leak(int cycles, int domid, int type)
{
	struct held base, h;
	const char *where = domid == XEN_DOMID_SELF ?
		(type == SOCK_STREAM ? "loopback" : "loopback seqpacket") :
		(type == SOCK_STREAM ? "cross-guest" : "cross-guest seqpacket");
	int i, bad = 0;
	pid_t srv;
	char name[160];

	held_now(&base);
	held_print("before", &base);
	srv = local_server(domid);
	for (i = 0; i < cycles; i++)
		if (one_cycle(domid, type, i & 1, 4096))
			bad++;
	snprintf(name, sizeof(name),
		 "leaks: %d %s connect/transfer/close cycles (half with unread data) all succeed",
		 cycles, where);
	tap(!bad, name, "%d cycles failed", bad);
	stop_server(srv);
	usleep(300000);
	snprintf(name, sizeof(name),
		 "leaks: after %d %s cycles sockets, grants, mappings, event channels, watches, slab and xenstore nodes are back",
		 cycles, where);
	tap(held_back(&base, &h), name, "not back to the baseline");
	held_print("after", &h);
	return 0;
}

/* ----- load: concurrent checked echo streams ----- */

static uint64_t next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* One connection: send BYTES of a PRNG stream, check what comes back. */
static int stream(int domid, int id, long bytes)
{
	uint64_t ws = 0x1234567 + id, rs = ws, r8 = 0;
	int fd = xconnect(domid, ECHO_PORT), mode = id % 3, ep = -1;
	long sent = 0, got = 0;
	unsigned char buf[65536];
	size_t rb = 0;	/* bytes left of r8 */

	if (fd < 0)
		return -1;
	if (mode)	/* poll or edge-triggered epoll, nonblocking */
		fcntl(fd, F_SETFL, O_NONBLOCK);
	if (mode == 2) {
		struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT | EPOLLET };

		ep = epoll_create1(0);
		epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
	}
	while (got < bytes) {
		if (sent < bytes) {
			size_t n = 1 + next(&ws) % sizeof(buf), i;
			ssize_t w;
			uint64_t save = ws;

			if ((long)n > bytes - sent)
				n = bytes - sent;
			/* payload byte k of the stream is (k * 131) & 0xff */
			for (i = 0; i < n; i++)
				buf[i] = (unsigned char)((sent + i) * 131);
			w = send(fd, buf, n, MSG_DONTWAIT | MSG_NOSIGNAL);
			if (w > 0)
				sent += w;
			else if (errno != EAGAIN)
				return -1;
			ws = save;
		}
		{
			ssize_t n = recv(fd, buf, 1 + next(&rs) % sizeof(buf),
					 mode ? MSG_DONTWAIT : MSG_DONTWAIT);
			ssize_t i;

			if (n == 0)
				return -1;
			if (n < 0) {
				if (errno != EAGAIN)
					return -1;
				if (mode == 2) {
					struct epoll_event ev;

					epoll_wait(ep, &ev, 1, 10);
				} else {
					struct pollfd p = { fd, POLLIN |
						(sent < bytes ? POLLOUT : 0), 0 };

					poll(&p, 1, 10);
				}
				continue;
			}
			for (i = 0; i < n; i++)
				if (buf[i] != (unsigned char)((got + i) * 131))
					return -2;
			got += n;
		}
	}
	(void)r8;
	(void)rb;
	close(fd);
	return 0;
}

static int load(int conns, int domid)
{
	long bytes = 2 << 20;
	int i, st, bad = 0, corrupt = 0;
	double t0 = now();
	char name[160];

	for (i = 0; i < conns; i++)
		if (!fork())
			exit(-stream(domid, i, bytes));
	for (i = 0; i < conns; i++) {
		wait(&st);
		if (!WIFEXITED(st) || WEXITSTATUS(st))
			bad++;
		if (WIFEXITED(st) && WEXITSTATUS(st) == 2)
			corrupt++;
	}
	snprintf(name, sizeof(name),
		 "load: %d concurrent connections, %ld MiB each way each, random sizes, blocking/poll/epoll: no byte lost, duplicated or reordered",
		 conns, bytes >> 20);
	tap(!bad, name, "%d streams failed (%d with wrong data)", bad, corrupt);
	printf("# load: %.1f MiB verified in %.1f s\n",
	       2.0 * conns * bytes / 1048576, now() - t0);
	return 0;
}

/* ----- backlog ----- */

static int backlog(int domid)
{
	int lfd = xlisten(BACKLOG_PORT, 4), fds[300], i, ok = 0, refused = 0,
	    other = 0, fd;

	(void)domid;
	for (i = 0; i < 256 + 5; i++) {
		struct sockaddr_xen sa = xaddr(XEN_DOMID_SELF, BACKLOG_PORT);

		fds[i] = socket(AF_XEN, SOCK_STREAM, 0);
		if (!connect(fds[i], (void *)&sa, sizeof(sa)))
			ok++;
		else if (errno == ECONNREFUSED)
			refused++;
		else
			other++;
	}
	printf("# backlog 4: %d connects accepted, %d refused, %d other\n", ok,
	       refused, other);
	tap(ok <= 5 && refused >= 256 && !other,
	    "backlog: 261 connects to a listener with backlog 4: the rest refused with ECONNREFUSED",
	    "%d accepted, %d refused, %d other errors", ok, refused, other);
	for (i = 0; i < 256 + 5; i++)
		close(fds[i]);
	/* drain, then a fresh connect works */
	fcntl(lfd, F_SETFL, O_NONBLOCK);
	while ((fd = accept(lfd, NULL, NULL)) >= 0)
		close(fd);
	fd = xconnect(XEN_DOMID_SELF, BACKLOG_PORT);
	tap(fd >= 0, "backlog: the listener accepts again afterwards",
	    "connect: %s", strerror(errno));
	close(fd);
	close(lfd);
	return 0;
}

/* ----- bad input ----- */

static void on_alarm(int sig)
{
	(void)sig;
}

static void *shut_later(void *arg)
{
	usleep(300000);
	shutdown(*(int *)arg, SHUT_RDWR);
	return NULL;
}

struct blocked_recv {
	int fd;
	ssize_t r;
	double t;
};

static void *recv_blocked(void *arg)
{
	struct blocked_recv *b = arg;
	char c;

	b->r = recv(b->fd, &c, 1, 0);
	b->t = now();
	return NULL;
}

/*
 * close() in one thread while another is blocked in recv on the socket:
 * as with TCP the blocked call keeps the file open and goes on waiting;
 * the peer's close must still end it, and nothing may crash or leak.
 */
static void close_under_recv(int lfd)
{
	struct blocked_recv b = { .r = -2 };
	int c = xconnect(XEN_DOMID_SELF, LOCAL_PORT);
	double t0;
	pthread_t th;

	b.fd = accept(lfd, NULL, NULL);
	pthread_create(&th, NULL, recv_blocked, &b);
	usleep(300000);
	close(b.fd);
	usleep(300000);
	t0 = now();
	close(c);
	if (pthread_timedjoin_np(th, NULL, &(struct timespec){
		time(NULL) + 5, 0 }))
		b.t = t0 + 99;	/* still blocked: report, do not hang */
	tap(b.r == 0 && b.t - t0 < 2,
	    "badinput: close() under a blocked recv in another thread: the recv ends with EOF when the peer closes",
	    "returned %zd after %.2f s", b.r, b.t - t0);
}

static int badinput(void)
{
	int lfd = xlisten(LOCAL_PORT, 4), c, s, one = 1, r;
	struct sigaction sa = { .sa_handler = on_alarm };
	char *bad = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct iovec iov[2048];
	char buf[8192];
	socklen_t len;
	pthread_t th;

	sigaction(SIGALRM, &sa, NULL);	/* no SA_RESTART: calls see EINTR */
	c = xconnect(XEN_DOMID_SELF, LOCAL_PORT);
	s = accept(lfd, NULL, NULL);

	r = send(c, bad, 100, 0);
	tap(r < 0 && errno == EFAULT, "badinput: send from an unmapped buffer gives EFAULT",
	    "returned %d (%s)", r, strerror(errno));
	r = recv(s, buf, sizeof(buf), MSG_DONTWAIT);
	tap(r < 0 && errno == EAGAIN, "badinput: nothing half-written reaches the peer after EFAULT",
	    "peer read %d bytes", r);

	send(c, "abcd", 4, 0);
	r = recv(s, bad, 4, 0);
	tap(r < 0 && errno == EFAULT, "badinput: recv into an unmapped buffer gives EFAULT",
	    "returned %d (%s)", r, strerror(errno));
	r = recv(s, buf, 4, MSG_WAITALL);
	tap(r == 4 && !memcmp(buf, "abcd", 4),
	    "badinput: the data survives a failed recv", "got %d", r);

	for (r = 0; r < 2048; r++) {
		iov[r].iov_base = buf;
		iov[r].iov_len = 1;
	}
	r = writev(c, iov, 2048);
	tap(r < 0 && errno == EINVAL, "badinput: writev with 2048 iovecs fails with EINVAL (over UIO_MAXIOV)",
	    "returned %d (%s)", r, strerror(errno));

	r = setsockopt(c, SOL_XEN, XEN_SO_RING_SIZE, &one, 2);
	tap(r < 0 && errno == EINVAL, "badinput: setsockopt with a short option gives EINVAL",
	    "returned %d (%s)", r, strerror(errno));
	len = 3;
	r = getsockopt(c, SOL_XEN, XEN_SO_STATS, buf, &len);
	tap(r < 0 && errno == EINVAL, "badinput: getsockopt XEN_SO_STATS into a short buffer gives EINVAL",
	    "returned %d (%s)", r, strerror(errno));
	len = sizeof(int);
	r = getsockopt(c, SOL_XEN, XEN_SO_RING_SIZE, bad, &len);
	tap(r < 0 && errno == EFAULT, "badinput: getsockopt to unmapped memory gives EFAULT",
	    "returned %d (%s)", r, strerror(errno));

	/* A writer blocked on a full ring is interrupted by a signal. */
	memset(buf, 1, sizeof(buf));
	fcntl(c, F_SETFL, O_NONBLOCK);
	while (send(c, buf, sizeof(buf), 0) > 0)
		;
	fcntl(c, F_SETFL, 0);
	alarm(1);
	r = send(c, buf, sizeof(buf), 0);
	tap(r < 0 && errno == EINTR, "badinput: a signal interrupts send blocked on a full ring",
	    "returned %d (%s)", r, strerror(errno));
	alarm(1);
	r = poll(&(struct pollfd){ .fd = c, .events = POLLOUT }, 1, 5000);
	tap(r < 0 && errno == EINTR, "badinput: a signal interrupts poll waiting for space",
	    "returned %d (%s)", r, strerror(errno));

	/* One thread shuts the socket down under another blocked in recv. */
	pthread_create(&th, NULL, shut_later, &s);
	while (recv(s, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
	r = recv(s, buf, sizeof(buf), 0);
	pthread_join(th, NULL);
	tap(r == 0, "badinput: shutdown from another thread ends a blocked recv (EOF)",
	    "returned %d (%s)", r, strerror(errno));
	close(c);
	close(s);
	close_under_recv(lfd);
	close(lfd);
	return 0;
}

/* ----- peers without a working module ----- */

static int connect_timed(int domid, double *dt, int *err)
{
	struct sockaddr_xen sa = xaddr(domid, ECHO_PORT);
	int fd = socket(AF_XEN, SOCK_STREAM, 0), r;
	double t0 = now();

	r = connect(fd, (void *)&sa, sizeof(sa));
	*err = errno;
	*dt = now() - t0;
	close(fd);
	return r;
}

/* The peer's module node is absent: refused at once, not after a timeout. */
static int absent(int domid, const char *what)
{
	double dt;
	int err, r = connect_timed(domid, &dt, &err);
	char name[200];

	snprintf(name, sizeof(name),
		 "absent peer: connect to domain %d (%s) fails with EHOSTUNREACH within 1 s",
		 domid, what);
	tap(r < 0 && err == EHOSTUNREACH && dt < 1, name,
	    "returned %d (%s) after %.2f s", r, r < 0 ? strerror(err) : "-", dt);
	return 0;
}

/*
 * The peer's module node exists but nothing answers (a hung peer kernel;
 * the test fakes it with a node written by hand): a signal interrupts the
 * blocked connect, and without one it gives up after connect_timeout_ms.
 */
static int unanswered(int domid)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	struct held base, h;
	double dt;
	int r, err;

	held_now(&base);
	sigaction(SIGALRM, &sa, NULL);
	alarm(1);
	r = connect_timed(domid, &dt, &err);
	tap(r < 0 && err == EINTR && dt < 2,
	    "signal during connect: a connect waiting for an answer returns EINTR at the signal",
	    "returned %d (%s) after %.2f s", r, strerror(err), dt);
	r = connect_timed(domid, &dt, &err);
	tap(r < 0 && err == ETIMEDOUT && dt > 4 && dt < 8,
	    "unanswered connect: fails with ETIMEDOUT after connect_timeout_ms (5 s)",
	    "returned %d (%s) after %.2f s", r, strerror(err), dt);
	tap(held_back(&base, &h),
	    "unanswered connect: the interrupted and timed-out connects leave no grant, watch or node behind",
	    "not back to the baseline");
	held_print("after the unanswered connects", &h);
	return 0;
}

/* ----- module reload cycles ----- */

/* 1 MiB through the echo server and back, checked; silent. */
static int once(int domid)
{
	pid_t srv = local_server(domid);
	int rc = one_cycle(domid, SOCK_STREAM, 0, 1 << 20);

	if (rc)
		printf("# once: round trip to domain %d failed: %s\n", domid,
		       strerror(errno));
	stop_server(srv);
	return rc != 0;
}

int main(int argc, char **argv)
{
	int r;

	setvbuf(stdout, NULL, _IOLBF, 0);
	r = limits_main(argc, argv);
	if (r >= 0)
		return r;
	if (argc == 3 && !strcmp(argv[1], "dying-server"))
		return dying_server(atoi(argv[2]));
	if (argc == 3 && !strcmp(argv[1], "dying-client"))
		return dying_client(atoi(argv[2]));
	if (argc == 2 && !strcmp(argv[1], "serve"))
		return serve();
	if (argc == 4 && !strcmp(argv[1], "leak"))
		leak(atoi(argv[2]), atoi(argv[3]), SOCK_STREAM);
	else if (argc == 5 && !strcmp(argv[1], "leak") &&
		 !strcmp(argv[4], "seqpacket"))
		leak(atoi(argv[2]), atoi(argv[3]), SOCK_SEQPACKET);
	else if (argc == 4 && !strcmp(argv[1], "load"))
		load(atoi(argv[2]), atoi(argv[3]));
	else if (argc == 3 && !strcmp(argv[1], "backlog"))
		backlog(atoi(argv[2]));
	else if (argc == 2 && !strcmp(argv[1], "badinput"))
		badinput();
	else if (argc == 4 && !strcmp(argv[1], "absent"))
		absent(atoi(argv[2]), argv[3]);
	else if (argc == 3 && !strcmp(argv[1], "unanswered"))
		unanswered(atoi(argv[2]));
	else if (argc == 2 && !strcmp(argv[1], "killed-server"))
		killed_server();
	else if (argc == 3 && !strcmp(argv[1], "killed-client"))
		killed_client(atoi(argv[2]));
	else if (argc == 3 && !strcmp(argv[1], "once"))
		return once(atoi(argv[2]));
	else {
		fprintf(stderr, "usage: see the comment at the top of test/reliab.c\n");
		return 2;
	}
	return failures != 0;
}

