// SPDX-License-Identifier: GPL-2.0
/*
 * xbench: what setting up connections costs (issue #14, "measure
 * first"): how long a connect takes, how many a second, how many can be
 * open at once, and one stream's throughput beside many idle ones.
 *
 * The server (`xbench serve`; `xbench serve-local` for TCP only) listens
 * on AF_XEN port 7003 and TCP port 7004 and serves those connections in
 * its main loop, without a fork. The connector sends one mode byte:
 *   'H'  hold: the server answers 'H' and keeps the connection until the
 *        connector closes it;
 *   'N'  report: the server answers 'N', "held N peak P" and its
 *        /proc/net/af_xen_stat, and closes;
 *   any other byte is echoed, then the server closes.
 *
 *   xbench connect T ADDR COUNT [RING]
 *	COUNT cycles (after one not counted): socket, connect, a byte each
 *	way, the server's close, close.  P50/P99 time the blocking
 *	connect() alone, call to return; CYCLE socket() to close().
 *	BENCH,connect,T,1,RING,1,P50_US,P99_US,CYCLE_P50_US
 *   xbench cps T ADDR SECS [PROCS [RING]]
 *	PROCS processes (default 1) doing such cycles back to back.
 *	BENCH,cps,T,1,RING,PROCS,CONNECTS_PER_S,FAILED,CONNECTS
 *   xbench maxconn T ADDR RING CAP [LIMIT [AT MSG SECS]]
 *	Opens held connections with RING-byte rings (0: the default) until
 *	one fails, CAP are open, or LIMIT seconds have passed (0: no limit;
 *	never before AT are open); prints both guests' af_xen_stat at the
 *	peak as "# " lines; closes them all and waits up to 10 s for the
 *	server to hold none.
 *	BENCH,maxconn,T,CAP,RING,1,MAX_OPEN,ERRNO,SERVER_LEFT
 *	ERRNO: the failure's errno, 0 if CAP was reached, -1 if LIMIT.
 *	SERVER_LEFT: connections the server still held after the wait (-1:
 *	it did not answer).  With AT > 0, one MSG-byte stream of SECS
 *	seconds (T's stream port, default ring) runs before the first is
 *	opened and again when AT are open:
 *	BENCH,openload,T,MSG,0,1,MB/s,OPEN,RING	(OPEN: 0, then AT)
 *
 * T is xen or tcp (xenlo, tcplo), ADDR as for the other commands.
 */
#define _GNU_SOURCE		/* accept4 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/af_xen.h>
#include "xbench.h"

#define STAT_PATH	"/proc/net/af_xen_stat"
#define NOFILE_WANT	65536
#define ANSWER_SECS	5	/* a held connection's 'H' must come by then */
#define SETTLE_SECS	10

/* Both processes hold thousands: lift RLIMIT_NOFILE (busybox: 1024). */
void raise_nofile(void)
{
	struct rlimit r, want = { NOFILE_WANT, NOFILE_WANT };

	if (getrlimit(RLIMIT_NOFILE, &r) || r.rlim_cur >= NOFILE_WANT)
		return;
	if (r.rlim_max < NOFILE_WANT && !setrlimit(RLIMIT_NOFILE, &want))
		return;				/* root may raise the hard limit */
	r.rlim_cur = r.rlim_max < NOFILE_WANT ? r.rlim_max : NOFILE_WANT;
	setrlimit(RLIMIT_NOFILE, &r);
}

/* ----- server ----- */

enum { ST_FREE, ST_LISTEN, ST_NEW, ST_HELD };

static unsigned char *cstate;	/* by descriptor */
static int cmax, held, peak;

static void watch(int ep, int kind, int fd)
{
	struct epoll_event ev = {
		.events = EPOLLIN | EPOLLRDHUP,
		.data.u64 = (uint64_t)kind << 32 | (uint32_t)fd,
	};

	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev))
		die("epoll_ctl");
}

void conn_listen(int ep, int local)
{
	struct rlimit r;
	int fd[2], n = 0, i;

	cmax = getrlimit(RLIMIT_NOFILE, &r) || r.rlim_cur > (1 << 20) ?
	       1 << 20 : (int)r.rlim_cur;
	cstate = calloc(cmax, 1);
	if (!cstate)
		die("calloc");
	if (!local)
		fd[n++] = xlisten(AF_XEN, XEN_CPORT);
	fd[n++] = xlisten(AF_INET, TCP_CPORT);
	for (i = 0; i < n; i++) {
		if (fcntl(fd[i], F_SETFL, O_NONBLOCK))
			die("O_NONBLOCK");
		cstate[fd[i]] = ST_LISTEN;
		watch(ep, EV_CLISTEN, fd[i]);
	}
}

void conn_close_all(void)
{
	int fd;

	for (fd = 0; fd < cmax; fd++)
		if (cstate[fd] != ST_FREE)
			close(fd);
}

static void drop(int ep, int fd)
{
	epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
	close(fd);
	if (cstate[fd] == ST_HELD && !--held) {
		printf("xbench: all held connections closed (peak %d)\n", peak);
		peak = 0;
	}
	cstate[fd] = ST_FREE;
}

/* 'N': "Nheld H peak P\n" and this guest's af_xen_stat. */
static void report(int fd)
{
	char buf[1024];
	int n = snprintf(buf, sizeof(buf), "Nheld %d peak %d\n", held, peak);
	int s = open(STAT_PATH, O_RDONLY);
	ssize_t k;

	if (s >= 0) {
		k = read(s, buf + n, sizeof(buf) - 1 - n);
		n += k > 0 ? k : 0;
		close(s);
	}
	send(fd, buf, n, MSG_NOSIGNAL);
}

static void accept_some(int ep, int fd)
{
	static int last_err;
	int i, c, one = 1;

	for (i = 0; i < 64; i++) {
		c = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (c < 0) {
			if (errno == EAGAIN || errno == EINTR ||
			    errno == ECONNABORTED)
				return;
			/* EMFILE and the like: say so once, do not spin. */
			if (errno != last_err)
				printf("xbench: accept: %s (errno %d), %d held\n",
				       strerror(errno), errno, held);
			last_err = errno;
			usleep(10000);
			return;
		}
		if (c >= cmax) {
			close(c);
			continue;
		}
		setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		cstate[c] = ST_NEW;
		watch(ep, EV_CONN, c);
	}
}

void conn_event(int ep, int kind, int fd)
{
	char b[256];
	ssize_t n;

	if (kind == EV_CLISTEN) {
		accept_some(ep, fd);
		return;
	}
	n = read(fd, b, cstate[fd] == ST_NEW ? 1 : sizeof(b));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		drop(ep, fd);		/* end of file or reset */
		return;
	}
	if (cstate[fd] == ST_HELD)
		return;			/* stray bytes on a held one: ignored */
	if (b[0] == 'H') {
		cstate[fd] = ST_HELD;
		if (++held > peak)
			peak = held;
		if (send(fd, b, 1, MSG_NOSIGNAL) != 1)
			drop(ep, fd);
		return;
	}
	if (b[0] == 'N')
		report(fd);
	else
		send(fd, b, 1, MSG_NOSIGNAL);	/* an echo, then the close */
	drop(ep, fd);
}

/* ----- client ----- */

struct target {
	struct sockaddr_storage ss;
	socklen_t len;
	int ring;
};

static int target(const char *t, const char *addr, int ring,
		  struct target *tg)
{
	if (strncmp(t, "xen", 3) && strncmp(t, "tcp", 3)) {
		fprintf(stderr, "xbench: connection benchmarks: xen or tcp\n");
		return -1;
	}
	tg->len = xaddr(t, addr, 1, &tg->ss);
	tg->ring = ring;
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

/*
 * One connection to the connection port, MODE sent and its answer read.
 * Returns the descriptor, or -1 with errno set and *stage naming the step
 * that failed; *us is how long connect() took.
 */
static int conn_open(const struct target *tg, char mode, double *us,
		     const char **stage)
{
	struct timeval tv = { ANSWER_SECS, 0 };
	int fd, one = 1, err;
	double t0;
	char b = mode;

	*stage = "socket";
	fd = socket(tg->ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	*stage = "XEN_SO_RING_SIZE";
	if (tg->ring && tg->ss.ss_family == AF_XEN &&
	    setsockopt(fd, SOL_XEN, XEN_SO_RING_SIZE, &tg->ring,
		       sizeof(tg->ring)))
		goto fail;
	if (tg->ss.ss_family == AF_INET)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	*stage = "connect";
	t0 = now();
	if (connect(fd, (const struct sockaddr *)&tg->ss, tg->len))
		goto fail;
	*us = (now() - t0) * 1e6;
	*stage = "send";
	if (send(fd, &b, 1, MSG_NOSIGNAL) != 1)
		goto fail;
	*stage = "answer";
	switch (read(fd, &b, 1)) {
	case 1:
		if (b == mode)
			return fd;
		errno = EPROTO;
		break;
	case 0:
		errno = ECONNRESET;	/* closed without an answer */
		break;
	}
fail:
	err = errno;
	close(fd);
	errno = err;
	return -1;
}

/* A whole cycle: connect, a byte each way, the server's close, ours. */
static int conn_cycle(const struct target *tg, double *us,
		      const char **stage)
{
	int fd = conn_open(tg, 'e', us, stage), err;
	ssize_t n;
	char b;

	if (fd < 0)
		return -1;
	*stage = "end of file";
	n = read(fd, &b, 1);
	err = n > 0 ? EPROTO : errno;
	close(fd);
	errno = err;
	return n ? -1 : 0;
}

int conn_latency(const char *t, const char *addr, int count, int ring)
{
	const char *stage, *fstage = "";
	struct target tg;
	double *v, *cyc, us, t0;
	int i, ok = 0, failed = 0, first = 0;

	if (count < 1 || target(t, addr, ring, &tg))
		return 2;
	v = calloc(count, sizeof(*v));
	cyc = calloc(count, sizeof(*cyc));
	if (!v || !cyc)
		die("calloc");
	conn_cycle(&tg, &us, &stage);	/* not counted: a warm-up */
	for (i = 0; i < count; i++) {
		t0 = now();
		if (conn_cycle(&tg, &us, &stage)) {
			if (!failed++)
				first = errno, fstage = stage;
			usleep(1000);
			continue;
		}
		cyc[ok] = (now() - t0) * 1e6;
		v[ok++] = us;
	}
	if (failed)
		printf("# connect %s: %d of %d failed, the first at %s: %s (errno %d)\n",
		       t, failed, count, fstage, strerror(first), first);
	if (!ok)
		return 1;
	qsort(v, ok, sizeof(*v), cmp_double);
	qsort(cyc, ok, sizeof(*cyc), cmp_double);
	printf("BENCH,connect,%s,1,%d,1,%.1f,%.1f,%.1f\n", t, ring, v[ok / 2],
	       v[ok * 99 / 100], cyc[ok / 2]);
	free(v);
	free(cyc);
	return 0;
}

struct rate {
	int ok, failed, first;
	double secs;
};

static void rate_one(const struct target *tg, double secs, struct rate *r)
{
	const char *stage;
	double t0 = now(), us;

	memset(r, 0, sizeof(*r));
	while (now() - t0 < secs) {
		if (!conn_cycle(tg, &us, &stage)) {
			r->ok++;
			continue;
		}
		if (!r->failed++)
			r->first = errno;
		usleep(1000);
	}
	r->secs = now() - t0;
}

int conn_rate(const char *t, const char *addr, double secs, int procs,
	      int ring)
{
	struct target tg;
	struct rate r;
	double rate = 0;
	int pfd[2], i, ok = 0, failed = 0, first = 0;
	pid_t pid;

	if (procs < 1 || secs <= 0 || target(t, addr, ring, &tg))
		return 2;
	if (pipe(pfd))
		die("pipe");
	for (i = 0; i < procs; i++) {
		pid = fork();
		if (pid < 0)
			die("fork");
		if (!pid) {
			close(pfd[0]);
			rate_one(&tg, secs, &r);
			exit(write(pfd[1], &r, sizeof(r)) != sizeof(r));
		}
	}
	close(pfd[1]);
	for (i = 0; i < procs; i++) {
		if (full(pfd[0], &r, sizeof(r), 0))
			die("a connector failed");
		ok += r.ok;
		failed += r.failed;
		rate += r.ok / r.secs;
		if (!first)
			first = r.first;
	}
	while (wait(NULL) > 0)
		;
	if (failed)
		printf("# cps %s x%d: %d connects failed, one with %s (errno %d)\n",
		       t, procs, failed, strerror(first), first);
	printf("BENCH,cps,%s,1,%d,%d,%.1f,%d,%d\n", t, ring, procs, rate, failed,
	       ok);
	return 0;
}

/* /proc/net/af_xen_stat on one line: "sockets 3 grants 9 ...". */
static int read_stat(char *buf, size_t len)
{
	FILE *f = fopen(STAT_PATH, "r");
	size_t n = 0;
	int c;

	if (!f) {
		snprintf(buf, len, "(no %s)", STAT_PATH);
		return -1;
	}
	while (n + 1 < len && (c = getc(f)) != EOF)
		buf[n++] = c == '\n' ? ' ' : c;
	while (n && buf[n - 1] == ' ')
		n--;
	buf[n] = 0;
	fclose(f);
	return 0;
}

static long stat_field(const char *line, const char *name)
{
	size_t k = strlen(name);
	const char *p;

	for (p = line; (p = strstr(p, name)); p += k)
		if ((p == line || p[-1] == ' ') && p[k] == ' ')
			return strtol(p + k, NULL, 10);
	return -1;
}

/*
 * Wait up to SETTLE_SECS for this guest's AF_XEN sockets and grants to
 * come down to those in REF (none without REF): a closed connection's
 * grants come back only once the peer has unmapped them.  Leaves the
 * last reading in BUF; returns the seconds waited.
 */
static double settle(const char *ref, char *buf, size_t len)
{
	long s0 = ref ? stat_field(ref, "sockets") : 0;
	long g0 = ref ? stat_field(ref, "grants") : 0;
	double t0 = now();

	while (!read_stat(buf, len) && now() - t0 < SETTLE_SECS &&
	       (stat_field(buf, "sockets") > s0 ||
		stat_field(buf, "grants") > g0))
		usleep(100000);
	return now() - t0;
}

/* The server's 'N' report on one line; returns how many it holds, or -1. */
static int server_report(const struct target *tg, char *buf, size_t len)
{
	struct target q = *tg;
	const char *stage;
	double us;
	size_t n = 0, i;
	ssize_t k;
	int fd, h;

	q.ring = XEN_RING_SIZE_MIN;	/* the fewest grants, near the limit */
	fd = conn_open(&q, 'N', &us, &stage);
	if (fd < 0) {
		snprintf(buf, len, "(no report: %s: %s)", stage, strerror(errno));
		return -1;
	}
	while (n + 1 < len && (k = read(fd, buf + n, len - 1 - n)) > 0)
		n += k;
	close(fd);
	while (n && buf[n - 1] == '\n')
		n--;
	buf[n] = 0;
	for (i = 0; i < n; i++)
		if (buf[i] == '\n')
			buf[i] = ' ';
	return sscanf(buf, "held %d", &h) == 1 ? h : -1;
}

static void stream_beside(const char *t, const char *addr, uint32_t msg,
			  double secs, int nopen, int ring)
{
	struct result r;

	one_stream(t, addr, msg, secs, 0, &r);
	printf("BENCH,openload,%s,%u,0,1,%.2f,%d,%d\n", t, msg,
	       r.bytes / r.secs / 1e6, nopen, ring);
}

int conn_max(const char *t, const char *addr, int ring, int cap,
	     double limit, int at, uint32_t msg, double secs)
{
	const char *stage = "", *why = "the cap";
	char before[256], line[1024];
	struct target tg;
	double us, t0, t1, waited;
	int *fds, n = 0, nopen, err = 0, left, i;

	if (cap < 1 || target(t, addr, ring, &tg) ||
	    (at > 0 && (!msg || msg > MAXMSG || secs <= 0)))
		return 2;
	fds = calloc(cap, sizeof(*fds));
	if (!fds)
		die("calloc");
	waited = settle(NULL, before, sizeof(before));
	printf("# maxconn %s ring %d: af_xen_stat before (after %.1f s): %s\n",
	       t, ring, waited, before);
	if (at > 0)
		stream_beside(t, addr, msg, secs, 0, ring);
	t0 = now();
	while (n < cap) {
		if (limit > 0 && n >= at && now() - t0 > limit) {
			err = -1, why = "the time limit";
			break;
		}
		fds[n] = conn_open(&tg, 'H', &us, &stage);
		if (fds[n] < 0) {
			err = errno;
			break;
		}
		if (++n == at)
			stream_beside(t, addr, msg, secs, n, ring);
	}
	t1 = now();
	if (err > 0)
		printf("# maxconn %s ring %d: %d open in %.1f s, then %s failed: %s (errno %d)\n",
		       t, ring, n, t1 - t0, stage, strerror(err), err);
	else
		printf("# maxconn %s ring %d: %d open in %.1f s, stopped by %s\n",
		       t, ring, n, t1 - t0, why);
	read_stat(line, sizeof(line));
	printf("# af_xen_stat client at the peak (%d open): %s\n", n, line);
	/* At the limit the report's own connection may not fit: make room. */
	nopen = n;
	if (server_report(&tg, line, sizeof(line)) < 0 && nopen > 0) {
		close(fds[--nopen]);
		server_report(&tg, line, sizeof(line));
	}
	printf("# af_xen_stat server at the peak (%d open, + the report's): %s\n",
	       nopen, line);
	t0 = now();
	for (i = 0; i < nopen; i++)
		close(fds[i]);
	t1 = now();
	/* The server must let go of every one of them. */
	while ((left = server_report(&tg, line, sizeof(line))) != 0 &&
	       now() - t1 < SETTLE_SECS)
		usleep(100000);
	printf("# maxconn %s ring %d: closed %d in %.2f s; the server after %.1f s: %s\n",
	       t, ring, nopen, t1 - t0, now() - t1, line);
	waited = settle(before, line, sizeof(line));
	printf("# af_xen_stat client after (%.1f s): %s\n", waited, line);
	printf("BENCH,maxconn,%s,%d,%d,1,%d,%d,%d\n", t, cap, ring, n, err,
	       left);
	free(fds);
	return 0;
}
