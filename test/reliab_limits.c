// SPDX-License-Identifier: GPL-2.0
/*
 * reliab: connections at their limits.
 *
 *   reliab exhaust DOMID   loopback connections with 16 KiB rings until
 *                          this guest runs out (event channels, grant
 *                          references or memory), beside a checked
 *                          stream to DOMID's echo server
 *   reliab storm DOMID     8 connectors for 10 s against DOMID's storm
 *                          listener, beside a stream whose throughput is
 *                          compared with its own before the storm
 *
 * The held connections of exhaust are loopback ones, so that both ends'
 * resources and the kernel's log line about the one that ran out are in
 * this guest.  The storm's connectors run at nice 19, so that what the
 * stream loses is the transport's doing more than the scheduler's (the
 * guest has one CPU).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "reliab.h"

#define HOLD_PORT	8108
#define HOLD_MAX	8192
#define EXHAUST_RING	16384
#define STREAM_CHUNK	65536

/* ----- A checked echo stream that runs beside the test ----- */

struct side_stream {
	int fd, err, bad;
	volatile int stop;
	volatile long bytes;	/* echoed and checked so far */
	pthread_t t;
};

/* Send a chunk, read it back whole, check it: until told to stop. */
static void *side_run(void *arg)
{
	static unsigned char out[STREAM_CHUNK], in[STREAM_CHUNK];
	struct side_stream *s = arg;
	long off = 0;
	size_t i;

	while (!s->stop && !s->bad && !s->err) {
		for (i = 0; i < sizeof(out); i++)
			out[i] = pattern(off + i);
		if (send(s->fd, out, sizeof(out), MSG_NOSIGNAL) != sizeof(out) ||
		    recv(s->fd, in, sizeof(in), MSG_WAITALL) != sizeof(in)) {
			s->err = errno ? errno : EIO;
			break;
		}
		s->bad = memcmp(out, in, sizeof(in)) != 0;
		off += sizeof(in);
		s->bytes = off;
	}
	return NULL;
}

static int side_start(struct side_stream *s, int domid)
{
	memset(s, 0, sizeof(*s));
	s->fd = xconnect(domid, ECHO_PORT);
	if (s->fd < 0)
		return -1;
	return pthread_create(&s->t, NULL, side_run, s);
}

static void side_stop(struct side_stream *s)
{
	s->stop = 1;
	pthread_join(s->t, NULL);
	close(s->fd);
}

/* Bytes per second the stream moves over @secs. */
static double side_rate(struct side_stream *s, double secs)
{
	long b0 = s->bytes;
	double t0 = now();

	usleep(secs * 1e6);
	return (s->bytes - b0) / (now() - t0);
}

static void raise_nofile(void)
{
	struct rlimit r = { HOLD_MAX + 64, HOLD_MAX + 64 };

	setrlimit(RLIMIT_NOFILE, &r);
}

/* ----- exhaust ----- */

/* Kernel log lines that name a resource a connection ran out of. */
static int short_lines(void)
{
	FILE *p = popen("dmesg | grep -c 'out of .* for a connection'", "r");
	int n = 0;

	if (p) {
		if (fscanf(p, "%d", &n) != 1)
			n = 0;
		pclose(p);
	}
	return n;
}

/* A child that accepts loopback connections and holds them all. */
static pid_t hold_server(void)
{
	int lfd = xlisten(HOLD_PORT, 4096);
	pid_t pid = fork();

	if (pid) {
		close(lfd);
		return pid;
	}
	for (;;) {
		int fd = accept(lfd, NULL, NULL);

		if (fd < 0 && errno != EINTR && errno != ECONNABORTED)
			usleep(10000);
	}
}

static int ring_socket(int ring)
{
	int fd = socket(AF_XEN, SOCK_STREAM, 0);

	if (fd >= 0)
		setsockopt(fd, SOL_XEN, XEN_SO_RING_SIZE, &ring, sizeof(ring));
	return fd;
}

/* Connect to the hold server; 0 or the errno. */
static int hold_one(int *fdp)
{
	struct sockaddr_xen sa = xaddr(XEN_DOMID_SELF, HOLD_PORT);
	int fd = ring_socket(EXHAUST_RING);

	if (fd < 0)
		return errno;
	if (connect(fd, (void *)&sa, sizeof(sa))) {
		int e = errno;

		close(fd);
		return e;
	}
	*fdp = fd;
	return 0;
}

static int *held_fds;

/*
 * SLUB keeps the partial slabs of a thousand sockets just freed cached
 * per CPU; shrinking the cache gives them back, so that the slab count
 * compared with the baseline shows what is really still allocated.
 */
static void slab_shrink(void)
{
	FILE *f = fopen("/sys/kernel/slab/AF_XEN/shrink", "w");

	if (f) {
		fputs("1\n", f);
		fclose(f);
	}
}

static int exhaust(int domid)
{
	struct side_stream s;
	struct held base, h;
	int n = 0, err = 0, again, logs0, i;
	double t0, dt, rate;
	pid_t srv;

	raise_nofile();
	held_fds = calloc(HOLD_MAX, sizeof(*held_fds));
	held_now(&base);
	if (!held_fds || side_start(&s, domid)) {
		tap(0, "exhaust: a checked stream to the peer's echo server", "could not start");
		return 1;
	}
	srv = hold_server();
	logs0 = short_lines();
	t0 = now();
	while (n < HOLD_MAX && !(err = hold_one(&held_fds[n])))
		n++;
	dt = now() - t0;
	printf("# exhaust: %d loopback connections with %d-byte rings in %.1f s, then %s\n",
	       n, EXHAUST_RING, dt, err ? strerror(err) : "the cap");
	held_now(&h);
	held_print("at the limit", &h);
	tap(n > 100 && (err == ENOBUFS || err == ENOMEM),
	    "exhaust: connecting until this guest runs out ends in ENOBUFS or ENOMEM",
	    "after %d connections: %s", n, err ? strerror(err) : "no failure");
	tap(short_lines() > logs0,
	    "exhaust: the kernel log says which resource ran out",
	    "no 'out of ... for a connection' line");
	t0 = now();
	again = hold_one(&held_fds[n]);
	dt = now() - t0;
	if (!again)
		n++;
	tap(again == err && dt < 5,
	    "exhaust: one more connect at the limit fails the same way at once",
	    "%s after %.2f s", again ? strerror(again) : "it connected", dt);
	rate = side_rate(&s, 2);
	tap(rate > 0 && !s.err && !s.bad,
	    "exhaust: an established stream keeps streaming, every byte checked, at the limit",
	    "%.0f B/s, %s, %s", rate, s.err ? strerror(s.err) : "no error",
	    s.bad ? "data corrupted" : "data intact");
	printf("# exhaust: the stream moved %.1f MB/s at the limit\n", rate / 1e6);
	for (i = 0; i < n; i++)
		close(held_fds[i]);
	side_stop(&s);
	kill(srv, SIGKILL);
	waitpid(srv, NULL, 0);
	slab_shrink();
	tap(held_back(&base, &h),
	    "exhaust: after everything closed, /proc/net/af_xen_stat and xenstore are back to the baseline",
	    "not back");
	held_print("after the exhaustion", &h);
	free(held_fds);
	return failures != 0;
}

/* ----- storm ----- */

#define STORM_PROCS	8
#define STORM_SECS	10

struct storm_count {
	long ok, refused, other, slow;
	int other_err;
};

/* One connector: connect and close as fast as it can, counting. */
static void storm_child(int domid, int fd_out)
{
	struct sockaddr_xen sa = xaddr(domid, STORM_PORT);
	struct storm_count c = { 0 };
	double end = now() + STORM_SECS, t0;

	if (nice(19) < 0)
		c.other_err = errno;
	while (now() < end) {
		int fd = socket(AF_XEN, SOCK_STREAM, 0);

		t0 = now();
		if (fd < 0) {
			c.other++;
			c.other_err = errno;
		} else if (!connect(fd, (void *)&sa, sizeof(sa))) {
			c.ok++;
		} else if (errno == ECONNREFUSED) {
			c.refused++;
		} else {
			c.other++;
			c.other_err = errno;
		}
		if (now() - t0 > 6)	/* past the 5 s connect timeout */
			c.slow++;
		if (fd >= 0)
			close(fd);
	}
	if (write(fd_out, &c, sizeof(c)) != sizeof(c))
		exit(1);
	exit(0);
}

static int storm(int domid)
{
	struct storm_count sum = { 0 }, c;
	struct side_stream s;
	struct held base, h;
	double before, during;
	int pfd[2], i;
	pid_t kids[STORM_PROCS];

	held_now(&base);
	if (pipe(pfd) || side_start(&s, domid)) {
		tap(0, "storm: a checked stream beside the storm", "could not start");
		return 1;
	}
	before = side_rate(&s, 3);
	for (i = 0; i < STORM_PROCS; i++) {
		kids[i] = fork();
		if (!kids[i])
			storm_child(domid, pfd[1]);
	}
	usleep(1000000);
	during = side_rate(&s, STORM_SECS - 2);
	for (i = 0; i < STORM_PROCS; i++) {
		waitpid(kids[i], NULL, 0);
		if (read(pfd[0], &c, sizeof(c)) != sizeof(c))
			continue;
		sum.ok += c.ok, sum.refused += c.refused;
		sum.other += c.other, sum.slow += c.slow;
		if (c.other)
			sum.other_err = c.other_err;
	}
	side_stop(&s);
	printf("# storm: %d connectors, %d s: %ld accepted, %ld refused, %ld other (%s), %ld slower than 6 s; stream %.1f MB/s before, %.1f during\n",
	       STORM_PROCS, STORM_SECS, sum.ok, sum.refused, sum.other,
	       sum.other ? strerror(sum.other_err) : "-", sum.slow,
	       before / 1e6, during / 1e6);
	tap(sum.ok > 0 && !sum.other && !sum.slow,
	    "storm: 8 connectors for 10 s: every connect accepted or refused, none hung",
	    "%ld accepted, %ld refused, %ld other (%s), %ld slow", sum.ok,
	    sum.refused, sum.other, sum.other ? strerror(sum.other_err) : "-",
	    sum.slow);
	/*
	 * The share it keeps is reported, not judged: in the emulated host
	 * Domain-0's xenstored and both guests share two CPUs, so every
	 * rendezvous of the storm takes CPU time from the stream's ends
	 * (docs/connections.md).
	 */
	tap(!s.err && !s.bad && during > 0,
	    "storm: a stream already open keeps streaming through the storm, every byte checked",
	    "%.1f MB/s before, %.1f during, %s", before / 1e6, during / 1e6,
	    s.err ? strerror(s.err) : s.bad ? "data corrupted" : "data intact");
	printf("# storm: the stream kept %.0f%% of its throughput\n",
	       before > 0 ? 100 * during / before : 0);
	tap(held_back(&base, &h), "storm: nothing held after the storm",
	    "not back to the baseline");
	held_print("after the storm", &h);
	return failures != 0;
}

int limits_main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "exhaust"))
		return exhaust(atoi(argv[2]));
	if (argc == 3 && !strcmp(argv[1], "storm"))
		return storm(atoi(argv[2]));
	return -1;
}
