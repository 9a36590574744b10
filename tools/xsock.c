// SPDX-License-Identifier: GPL-2.0
/*
 * xsock: netcat for AF_XEN stream and seqpacket sockets.
 *
 *   xsock listen [-k] [--seqpacket] [-e CMD] [-r SIZE] PORT
 *   xsock connect [--seqpacket] [-e CMD] [-r SIZE] DOMID PORT
 *   xsock bench send|recv ...
 *   xsock ls
 *
 * listen and connect copy the connection to stdout and stdin to the
 * connection, half-closing on stdin EOF, or hand the connection to a
 * shell command.  bench streams a checkable pattern and times it; ls
 * pretty-prints /proc/net/af_xen.  See xsock(1).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <linux/af_xen.h>

#include "xsock.h"

#define XSOCK_VERSION	"1.0"
#ifndef FAMILY_PATH	/* overridable for tests */
#define FAMILY_PATH	"/sys/module/af_xen/parameters/family"
#endif
#ifndef PROC_PATH
#define PROC_PATH	"/proc/net/af_xen"
#endif
#define RELAY_BUF	65536
#define RECV_BUF	262144
#define PAT_PERIOD	(1UL << 20)	/* the bench pattern repeats every MiB */
#define BENCH_BUF_MAX	(64UL << 20)
#define NCOLS		11
#define HINT_NOMOD	"the af_xen module is not loaded (modprobe af_xen, or insmod af_xen.ko then af_xen-setup)"

enum { EXIT_USAGE = 2 };

int xsock_family = AF_XEN;

/* Relay results: fine, the connection failed, stdin/stdout failed. */
enum { RELAY_OK = 0, RELAY_CONN = -1, RELAY_LOCAL = -2 };

struct opts {
	int family;
	int keep;
	int verbose;
	int ring;			/* 0: the module's default */
	int seqpacket;			/* --seqpacket: records, one per line */
	const char *exec;
	unsigned long long bytes;	/* bench send */
	unsigned long long bufsz;	/* bench send */
};

/* One direction of the relay. */
struct chan {
	int in, out, sock;
	size_t off, len;
	int eof;
	char buf[RELAY_BUF];
};

struct progress {
	struct timespec start, last;
	unsigned long long bytes, last_bytes, total;
	int tty, verbose, shown;
};

static const char synopsis[] =
	"usage: xsock listen [-k] [--seqpacket] [-e CMD] [-r SIZE] PORT\n"
	"       xsock connect [--seqpacket] [-e CMD] [-r SIZE] DOMID PORT\n"
	"       xsock bench send [-v] [-r SIZE] [-s BYTES] [-b BUFSZ] DOMID PORT\n"
	"       xsock bench recv [-k] [-v] PORT\n"
	"       xsock ls\n"
	"       xsock -h | --help | --version\n";

static void usage(void)
{
	fputs(synopsis, stdout);
	fputs("\n"
	      "Copy data over AF_XEN stream sockets between Xen guests, as nc does.\n"
	      "\n"
	      "  listen      accept a connection on PORT from any domain; copy it to\n"
	      "              stdout and stdin to it (half-close on stdin EOF)\n"
	      "  connect     connect to PORT in domain DOMID (a number or \"self\")\n"
	      "  bench send  send BYTES of a test pattern to DOMID PORT and time it\n"
	      "  bench recv  receive, verify and time a test pattern on PORT\n"
	      "  ls          list af_xen sockets (from " PROC_PATH ")\n"
	      "\n"
	      "  -k          keep listening: serve connections one after another;\n"
	      "              with -e, run one CMD per connection concurrently\n"
	      "  -e CMD      run /bin/sh -c CMD with the connection as stdin and stdout\n"
	      "  -r SIZE     ring size per direction, a power of two from 4k to 1m\n"
	      "  --seqpacket a SOCK_SEQPACKET connection: each line of stdin is sent\n"
	      "              as one record, each record received is written as a line\n"
	      "  -s BYTES    bytes to send (default 1g; suffixes k, m, g)\n"
	      "  -b BUFSZ    bytes per write (default 64k)\n"
	      "  -v          progress once a second when stderr is not a terminal\n",
	      stdout);
}

/* "xsock: what: strerror(errno)", errno kept. */
static void verr(const char *fmt, va_list ap)
{
	int e = errno;

	fputs("xsock: ", stderr);
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, ": %s\n", strerror(e));
	errno = e;
}

static void __attribute__((format(printf, 1, 2))) err_msg(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verr(fmt, ap);
	va_end(ap);
}

static void vnote(const char *fmt, va_list ap)
{
	fputs("xsock: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

static void __attribute__((format(printf, 1, 2))) note(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vnote(fmt, ap);
	va_end(ap);
}

/* For xsock_records.c: err_msg, then -1. */
int xsock_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verr(fmt, ap);
	va_end(ap);
	return -1;
}

/* A usage error: say what, then the caller prints usage and exits 2. */
int xsock_bad(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vnote(fmt, ap);
	va_end(ap);
	return -1;
}

static int usage_exit(void)
{
	fputs(synopsis, stderr);
	fputs("Try 'xsock --help' for more.\n", stderr);
	return EXIT_USAGE;
}

static const char *fmt_domid(char *buf, size_t len, unsigned int domid)
{
	if (domid == XEN_DOMID_SELF)
		snprintf(buf, len, "self");
	else if (domid == XEN_DOMID_ANY)
		snprintf(buf, len, "*");
	else
		snprintf(buf, len, "%u", domid);
	return buf;
}

/* The "xsock: hint:" line for an errno, if there is one. */
static void show_hint(int err, unsigned int domid, unsigned int port)
{
	char d[16];

	fmt_domid(d, sizeof(d), domid);
	switch (err) {
	case EAFNOSUPPORT:
		note("hint: " HINT_NOMOD);
		break;
	case ECONNREFUSED:
		note("hint: no listener on domain %s port %u", d, port);
		break;
	case EHOSTUNREACH:
		note("hint: domain %s does not exist or has no af_xen module loaded",
		     d);
		break;
	case ENONET:
		note("hint: this guest's xenstore directory is not prepared: run af_xen-setup");
		break;
	case ETIMEDOUT:
		note("hint: domain %s did not answer (is its af_xen module working?)",
		     d);
		break;
	case EADDRINUSE:
		note("hint: port %u is already bound", port);
		break;
	}
}

static int read_family(void)
{
	char buf[32] = "";
	long v;
	char *end;
	int fd = open(FAMILY_PATH, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return AF_XEN;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return AF_XEN;
	buf[n] = '\0';
	v = strtol(buf, &end, 10);
	if (end == buf || v <= 0 || v > 255)
		return AF_XEN;
	return (int)v;
}

/* ----- Argument parsing ----- */

static int parse_uint(const char *s, unsigned long long max,
		      unsigned long long *out)
{
	char *end;
	unsigned long long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v > max)
		return -1;
	*out = v;
	return 0;
}

/* A byte count with an optional k, m (or, if maxsuf is 'g', g) suffix. */
static int parse_size(const char *s, char maxsuf, unsigned long long *out)
{
	char *end;
	unsigned long long v;
	int shift = 0;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -1;
	switch (*end) {
	case 'k': case 'K':
		shift = 10;
		break;
	case 'm': case 'M':
		shift = 20;
		break;
	case 'g': case 'G':
		shift = maxsuf == 'g' ? 30 : -1;
		break;
	case '\0':
		break;
	default:
		return -1;
	}
	if (shift < 0 || (*end && end[1]) || v > (~0ULL >> shift))
		return -1;
	*out = v << shift;
	return 0;
}

static int parse_ring(const char *s, int *ring)
{
	unsigned long long v;

	if (parse_size(s, 'm', &v) || v < XEN_RING_SIZE_MIN ||
	    v > XEN_RING_SIZE_MAX || (v & (v - 1)))
		return xsock_bad("bad ring size '%s' (a power of two from 4k to 1m)", s);
	*ring = (int)v;
	return 0;
}

static int parse_domid(const char *s, unsigned int *domid)
{
	unsigned long long v;

	if (!strcmp(s, "self")) {
		*domid = XEN_DOMID_SELF;
		return 0;
	}
	if (parse_uint(s, XEN_DOMID_SELF - 1, &v))
		return xsock_bad("bad domain id '%s' (a number below 32752, or self)", s);
	*domid = (unsigned int)v;
	return 0;
}

static int parse_port(const char *s, unsigned int *port)
{
	unsigned long long v;

	if (parse_uint(s, UINT32_MAX, &v))
		return xsock_bad("bad port '%s'", s);
	*port = (unsigned int)v;
	return 0;
}

static const struct option long_opts[] = {
	{ "seqpacket", no_argument, NULL, 'S' },
	{ NULL, 0, NULL, 0 }
};

/* Options of all subcommands; returns the index of the first operand. */
static int parse_opts(int argc, char **argv, const char *optstr,
		      struct opts *o)
{
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, optstr, long_opts, NULL)) != -1) {
		switch (c) {
		case 'S':
			o->seqpacket = 1;
			break;
		case 'k':
			o->keep = 1;
			break;
		case 'v':
			o->verbose = 1;
			break;
		case 'e':
			o->exec = optarg;
			break;
		case 'r':
			if (parse_ring(optarg, &o->ring))
				return -1;
			break;
		case 's':
			if (parse_size(optarg, 'g', &o->bytes))
				return xsock_bad("bad byte count '%s'", optarg);
			break;
		case 'b':
			if (parse_size(optarg, 'm', &o->bufsz) || !o->bufsz ||
			    o->bufsz > BENCH_BUF_MAX)
				return xsock_bad("bad buffer size '%s' (1 to 64m)", optarg);
			break;
		case ':':
			return xsock_bad("option -%c needs an argument", optopt);
		default:
			return xsock_bad("unknown option -%c", optopt);
		}
	}
	return optind;
}

/*
 * The operands after the options, argv[i...]: "DOMID PORT" when domid is
 * wanted, else "PORT".  A usage error is reported and gives -1.
 */
static int parse_target(int argc, char **argv, int i, const char *cmd,
			unsigned int *domid, unsigned int *port)
{
	if (argc - i != (domid ? 2 : 1))
		return xsock_bad("%s takes %s", cmd, domid ? "DOMID and PORT" : "PORT");
	if (domid && parse_domid(argv[i++], domid))
		return -1;
	return parse_port(argv[i], port);
}

/* ----- Sockets ----- */

static int xs_socket(const struct opts *o)
{
	int fd = socket(o->family, (o->seqpacket ? SOCK_SEQPACKET : SOCK_STREAM) |
			SOCK_CLOEXEC, 0);

	if (fd < 0) {
		err_msg("socket");
		show_hint(errno, 0, 0);
		return -1;
	}
	if (o->ring && setsockopt(fd, o->family, XEN_SO_RING_SIZE, &o->ring,
				  sizeof(o->ring))) {
		err_msg("set ring size %d", o->ring);
		close(fd);
		return -1;
	}
	return fd;
}

static void xs_addr(struct sockaddr_xen *sa, int family, unsigned int domid,
		    unsigned int port)
{
	memset(sa, 0, sizeof(*sa));
	sa->sxen_family = (__kernel_sa_family_t)family;
	sa->sxen_domid = (__u16)domid;
	sa->sxen_port = port;
}

static int xs_connect(const struct opts *o, unsigned int domid,
		      unsigned int port)
{
	struct sockaddr_xen sa;
	int fd = xs_socket(o);

	if (fd < 0)
		return -1;
	xs_addr(&sa, o->family, domid, port);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		char d[16];

		err_msg("connect to domain %s port %u",
			fmt_domid(d, sizeof(d), domid), port);
		show_hint(errno, domid, port);
		close(fd);
		return -1;
	}
	return fd;
}

static int xs_listen(const struct opts *o, unsigned int port)
{
	struct sockaddr_xen sa;
	socklen_t len = sizeof(sa);
	int fd = xs_socket(o);

	if (fd < 0)
		return -1;
	xs_addr(&sa, o->family, XEN_DOMID_ANY, port);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		err_msg("bind port %u", port);
		goto fail;
	}
	if (listen(fd, 16)) {
		err_msg("listen on port %u", port);
		goto fail;
	}
	if (!port && !getsockname(fd, (struct sockaddr *)&sa, &len))
		note("listening on port %u", sa.sxen_port);
	return fd;
fail:
	show_hint(errno, XEN_DOMID_ANY, port);
	close(fd);
	return -1;
}

/* ----- Relay: socket to stdout, stdin to socket ----- */

static int chan_fail(const struct chan *c, int fd, const char *op)
{
	const char *name = fd == c->sock ? "connection" :
			   fd == 0 ? "stdin" : "stdout";

	err_msg("%s %s", op, name);
	return fd == c->sock ? RELAY_CONN : RELAY_LOCAL;
}

static int chan_read(struct chan *c)
{
	ssize_t n = read(c->in, c->buf, sizeof(c->buf));

	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return RELAY_OK;
		return chan_fail(c, c->in, "read from");
	}
	c->eof = n == 0;
	c->off = 0;
	c->len = (size_t)n;
	return RELAY_OK;
}

static int chan_write(struct chan *c)
{
	ssize_t n = write(c->out, c->buf + c->off, c->len);

	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return RELAY_OK;
		return chan_fail(c, c->out, "write to");
	}
	c->off += (size_t)n;
	c->len -= (size_t)n;
	return RELAY_OK;
}

/* What to wait for: p[0] stdin, p[1] stdout, p[2] the socket. */
static void relay_events(struct pollfd *p, const struct chan *up,
			 const struct chan *down)
{
	p[0].fd = 0;
	p[0].events = !up->eof && !up->len ? POLLIN : 0;
	p[1].fd = 1;
	p[1].events = down->len ? POLLOUT : 0;
	p[2].fd = up->sock;
	p[2].events = (!down->eof && !down->len ? POLLIN : 0) |
		      (up->len ? POLLOUT : 0);
	for (int i = 0; i < 3; i++) {
		p[i].revents = 0;
		if (!p[i].events)
			p[i].fd = -1;
	}
}

static int relay_step(const struct pollfd *p, struct chan *up,
		      struct chan *down)
{
	const short any = POLLERR | POLLHUP | POLLNVAL;
	int rc = RELAY_OK;

	if (p[0].revents & (POLLIN | any))
		rc = chan_read(up);
	if (!rc && up->len && (p[2].revents & (POLLOUT | any)))
		rc = chan_write(up);
	if (!rc && !down->len && !down->eof && (p[2].revents & (POLLIN | any)))
		rc = chan_read(down);
	if (!rc && down->len && (p[1].revents & (POLLOUT | any)))
		rc = chan_write(down);
	return rc;
}

static int relay_run(struct chan *up, struct chan *down)
{
	struct pollfd p[3];
	int wr_shut = 0, rc = RELAY_OK;

	while (!rc && !(wr_shut && down->eof && !down->len)) {
		relay_events(p, up, down);
		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			err_msg("poll");
			return RELAY_LOCAL;
		}
		rc = relay_step(p, up, down);
		if (!rc && !wr_shut && up->eof && !up->len) {
			/* stdin done: half-close, keep reading */
			if (shutdown(up->sock, SHUT_WR) && errno != ENOTCONN)
				rc = chan_fail(up, up->sock, "shut down");
			wr_shut = 1;
		}
	}
	return rc;
}

static int relay(int sock)
{
	struct chan *c = calloc(2, sizeof(*c));
	int flags = fcntl(sock, F_GETFL), rc;

	if (!c) {
		err_msg("malloc");
		return RELAY_LOCAL;
	}
	if (flags < 0 || fcntl(sock, F_SETFL, flags | O_NONBLOCK) < 0) {
		err_msg("fcntl");
		free(c);
		return RELAY_CONN;
	}
	c[0].in = 0;
	c[0].out = sock;
	c[0].sock = sock;
	c[0].eof = fcntl(0, F_GETFD) < 0;	/* stdin closed: nothing to send */
	c[1].in = sock;
	c[1].out = 1;
	c[1].sock = sock;
	rc = relay_run(&c[0], &c[1]);
	free(c);
	return rc;
}

/* ----- -e CMD ----- */

static pid_t spawn(int sock, const char *cmd)
{
	pid_t pid = fork();

	if (pid < 0) {
		err_msg("fork");
		return -1;
	}
	if (!pid) {
		signal(SIGPIPE, SIG_DFL);
		if (dup2(sock, 0) < 0 || dup2(sock, 1) < 0) {
			err_msg("dup2");
			_exit(127);
		}
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		err_msg("exec /bin/sh");
		_exit(127);
	}
	return pid;
}

static int wait_status(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR) {
			err_msg("waitpid");
			return 1;
		}
	}
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	return WIFSIGNALED(st) ? 128 + WTERMSIG(st) : 1;
}

static void reap(int sig)
{
	int e = errno;

	(void)sig;
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	errno = e;
}

static void reap_children(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = reap;
	sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGCHLD, &sa, NULL);
}

/* One connection, to its end: the exit status. */
static int handle(const struct opts *o, int sock)
{
	pid_t pid;
	int rc;

	if (o->exec) {
		pid = spawn(sock, o->exec);
		close(sock);
		return pid < 0 ? 1 : wait_status(pid);
	}
	rc = o->seqpacket ? xsock_relay_records(sock) : relay(sock);
	close(sock);
	return rc ? 1 : 0;
}

static int xs_accept(int lfd)
{
	for (;;) {
		int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

		if (c >= 0)
			return c;
		if (errno != EINTR && errno != ECONNABORTED) {
			err_msg("accept");
			return -1;
		}
	}
}

static int serve(const struct opts *o, int lfd)
{
	if (o->keep && o->exec)
		reap_children();
	for (;;) {
		int c = xs_accept(lfd), rc;

		if (c < 0)
			return 1;
		if (!o->keep) {
			close(lfd);
			return handle(o, c);
		}
		if (o->exec) {
			pid_t pid = spawn(c, o->exec);

			close(c);
			if (pid < 0)
				sleep(1);	/* out of processes: back off */
			continue;
		}
		rc = o->seqpacket ? xsock_relay_records(c) : relay(c);
		close(c);
		if (rc == RELAY_LOCAL || (o->seqpacket && rc))
			return 1;
	}
}

static int cmd_listen(int argc, char **argv, struct opts *o)
{
	unsigned int port;
	int i = parse_opts(argc, argv, ":ke:r:", o), fd;

	if (i < 0 || parse_target(argc, argv, i, "listen", NULL, &port))
		return usage_exit();
	fd = xs_listen(o, port);
	if (fd < 0)
		return 1;
	return serve(o, fd);
}

static int cmd_connect(int argc, char **argv, struct opts *o)
{
	unsigned int domid, port;
	int i = parse_opts(argc, argv, ":e:r:", o), fd;

	if (i < 0 || parse_target(argc, argv, i, "connect", &domid, &port))
		return usage_exit();
	fd = xs_connect(o, domid, port);
	if (fd < 0)
		return 1;
	return handle(o, fd);
}

/* ----- bench ----- */

static double secs_since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t0->tv_sec) +
	       (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

static void progress_init(struct progress *p, const struct opts *o,
			  unsigned long long total)
{
	memset(p, 0, sizeof(*p));
	clock_gettime(CLOCK_MONOTONIC, &p->start);
	p->last = p->start;
	p->total = total;
	p->tty = isatty(2);
	p->verbose = o->verbose;
}

static void progress_tick(struct progress *p, unsigned long long bytes)
{
	double dt = secs_since(&p->last), rate;

	p->bytes = bytes;
	if ((!p->tty && !p->verbose) || dt < (p->tty ? 0.5 : 1.0))
		return;
	rate = (double)(bytes - p->last_bytes) / 1e6 / dt;
	fprintf(stderr, "%sxsock bench: %.1f MB", p->tty ? "\r" : "",
		(double)bytes / 1e6);
	if (p->total)
		fprintf(stderr, " of %.1f MB (%u%%)", (double)p->total / 1e6,
			(unsigned int)((double)bytes * 100.0 / (double)p->total));
	fprintf(stderr, ", %.1f MB/s%s", rate, p->tty ? "\033[K" : "\n");
	fflush(stderr);
	clock_gettime(CLOCK_MONOTONIC, &p->last);
	p->last_bytes = bytes;
	p->shown = 1;
}

static void progress_done(const struct progress *p, int verified)
{
	double secs = secs_since(&p->start);

	if (p->tty && p->shown)
		fputs("\r\033[K", stderr);
	printf("xsock bench: %llu bytes in %.3f s, %.1f MB/s%s\n", p->bytes,
	       secs, secs > 0 ? (double)p->bytes / 1e6 / secs : 0.0,
	       verified ? ", pattern verified" : "");
	fflush(stdout);
}

/* Byte i of the stream is (unsigned char)(i * 131 + (i >> 12)). */
static unsigned char *make_pattern(size_t len)
{
	unsigned char *pat = malloc(len);
	size_t i;

	if (!pat) {
		err_msg("malloc");
		return NULL;
	}
	for (i = 0; i < len; i++)
		pat[i] = (unsigned char)(i * 131 + (i >> 12));
	return pat;
}

int xsock_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Read exactly len bytes: 0, or -1 on error or early EOF (errno 0). */
static int read_all(int fd, void *buf, size_t len)
{
	char *p = buf;

	while (len) {
		ssize_t n = read(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (!n)
				errno = 0;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* After the last byte: half-close, wait until the receiver has it all. */
static int send_finish(int fd)
{
	char buf[256];
	ssize_t n;

	if (shutdown(fd, SHUT_WR)) {
		err_msg("shutdown");
		return -1;
	}
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno != EINTR) {
			err_msg("read from connection");
			return -1;
		}
	}
	return 0;
}

static int send_stream(const struct opts *o, int fd, const unsigned char *pat)
{
	unsigned long long off = 0, total = o->bytes;
	unsigned char hdr[8];
	struct progress p;
	int i;

	for (i = 0; i < 8; i++)
		hdr[i] = (unsigned char)(total >> (8 * i));
	progress_init(&p, o, total);
	if (xsock_write_all(fd, hdr, sizeof(hdr))) {
		err_msg("write to connection");
		return 1;
	}
	while (off < total) {
		size_t len = total - off < o->bufsz ? total - off : o->bufsz;
		ssize_t n = write(fd, pat + off % PAT_PERIOD, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err_msg("write to connection");
			return 1;
		}
		off += (unsigned long long)n;
		progress_tick(&p, off);
	}
	if (send_finish(fd))
		return 1;
	progress_done(&p, 0);
	return 0;
}

static int bench_send(const struct opts *o, unsigned int domid,
		      unsigned int port)
{
	unsigned char *pat = make_pattern(PAT_PERIOD + o->bufsz);
	int fd, rc;

	if (!pat)
		return 1;
	fd = xs_connect(o, domid, port);
	if (fd < 0) {
		free(pat);
		return 1;
	}
	rc = send_stream(o, fd, pat);
	close(fd);
	free(pat);
	return rc;
}

static int check_chunk(const unsigned char *buf, size_t len,
		       unsigned long long off, const unsigned char *pat)
{
	const unsigned char *want = pat + off % PAT_PERIOD;
	size_t i;

	if (!memcmp(buf, want, len))
		return 0;
	for (i = 0; buf[i] == want[i]; i++)
		;
	note("pattern mismatch at byte %llu: got 0x%02x, expected 0x%02x",
	     off + i, buf[i], want[i]);
	return -1;
}

static int recv_header(int fd, unsigned long long *total)
{
	unsigned char hdr[8];
	int i;

	if (read_all(fd, hdr, sizeof(hdr))) {
		if (errno)
			err_msg("read from connection");
		else
			note("connection closed before the 8-byte header");
		return -1;
	}
	*total = 0;
	for (i = 7; i >= 0; i--)
		*total = *total << 8 | hdr[i];
	return 0;
}

static int recv_stream(const struct opts *o, int fd, const unsigned char *pat,
		       unsigned char *buf)
{
	unsigned long long off = 0, total;
	struct progress p;
	int ok = 1;
	ssize_t n;

	progress_init(&p, o, 0);
	if (recv_header(fd, &total))
		return 1;
	p.total = total;
	while ((n = read(fd, buf, RECV_BUF)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err_msg("read from connection");
			ok = 0;
			break;
		}
		if (ok && check_chunk(buf, (size_t)n, off, pat))
			ok = 0;
		off += (unsigned long long)n;
		progress_tick(&p, off);
	}
	progress_done(&p, ok && off == total);
	if (off != total)
		note("%llu bytes arrived, the sender announced %llu", off, total);
	return ok && off == total ? 0 : 1;
}

static int bench_recv(const struct opts *o, unsigned int port)
{
	unsigned char *pat = make_pattern(PAT_PERIOD + RECV_BUF);
	unsigned char *buf = malloc(RECV_BUF);
	int lfd = -1, fd, rc = 1;

	if (!pat || !buf)
		goto out;
	lfd = xs_listen(o, port);
	if (lfd < 0)
		goto out;
	do {
		fd = xs_accept(lfd);
		if (fd < 0) {
			rc = 1;
			break;
		}
		rc = recv_stream(o, fd, pat, buf);
		close(fd);
	} while (o->keep);
	close(lfd);
out:
	free(buf);
	free(pat);
	return rc;
}

static int cmd_bench(int argc, char **argv, struct opts *o)
{
	unsigned int domid, port;
	int send, i;

	if (argc < 2 || (strcmp(argv[1], "send") && strcmp(argv[1], "recv"))) {
		xsock_bad("bench needs send or recv");
		return usage_exit();
	}
	if (o->seqpacket) {
		xsock_bad("bench measures streams; --seqpacket is for listen and connect");
		return usage_exit();
	}
	send = !strcmp(argv[1], "send");
	i = parse_opts(argc - 1, argv + 1, send ? ":vr:s:b:" : ":kv", o);
	/* i + 1: an index into argv, not argv + 1 */
	if (i < 0 || parse_target(argc, argv, i + 1, send ? "bench send" :
				  "bench recv", send ? &domid : NULL, &port))
		return usage_exit();
	return send ? bench_send(o, domid, port) : bench_recv(o, port);
}

/* ----- ls ----- */

struct ls_row {
	char f[NCOLS][32];
};

static const struct {
	const char *name;
	int left;
} ls_cols[NCOLS] = {
	{ "INODE", 0 }, { "STATE", 1 }, { "LOCAL", 1 }, { "PEER", 1 },
	{ "RING", 0 }, { "TX", 0 }, { "RX", 0 }, { "TXNTF", 0 },
	{ "RXNTF", 0 }, { "TXQ", 0 }, { "RXQ", 0 },
};

/* 512, 4K, 1.5M, 128K, 3.2G */
static void human(char *buf, size_t len, unsigned long long v)
{
	static const char units[] = "KMGTPE";
	double d = (double)v, frac;
	int u = -1;

	if (v < 1024) {
		snprintf(buf, len, "%llu", v);
		return;
	}
	while (d >= 1024 && u < 5) {
		d /= 1024;
		u++;
	}
	frac = d - (double)(unsigned long long)d;
	if (d >= 9.95 || frac < 0.05 || frac >= 0.95)
		snprintf(buf, len, "%.0f%c", d, units[u]);
	else
		snprintf(buf, len, "%.1f%c", d, units[u]);
}

static void fmt_endpoint(char *buf, size_t len, unsigned int domid,
			 unsigned int port)
{
	char d[16];

	snprintf(buf, len, "%s:%u", fmt_domid(d, sizeof(d), domid), port);
}

static int ls_parse(const char *line, struct ls_row *r)
{
	unsigned long ino;
	char state[20];
	unsigned int ld, lp, pd, pp, ring, txq, rxq;
	unsigned long long tx, rx, txn, rxn;

	if (sscanf(line, "%lu %19s %u:%u %u:%u %u %llu %llu %llu %llu %u %u",
		   &ino, state, &ld, &lp, &pd, &pp, &ring, &tx, &rx, &txn,
		   &rxn, &txq, &rxq) != 13)
		return -1;
	snprintf(r->f[0], sizeof(r->f[0]), "%lu", ino);
	snprintf(r->f[1], sizeof(r->f[1]), "%s", state);
	fmt_endpoint(r->f[2], sizeof(r->f[2]), ld, lp);
	fmt_endpoint(r->f[3], sizeof(r->f[3]), pd, pp);
	human(r->f[4], sizeof(r->f[4]), ring);
	human(r->f[5], sizeof(r->f[5]), tx);
	human(r->f[6], sizeof(r->f[6]), rx);
	snprintf(r->f[7], sizeof(r->f[7]), "%llu", txn);
	snprintf(r->f[8], sizeof(r->f[8]), "%llu", rxn);
	human(r->f[9], sizeof(r->f[9]), txq);
	human(r->f[10], sizeof(r->f[10]), rxq);
	return 0;
}

static void ls_print(const struct ls_row *rows, size_t n)
{
	int w[NCOLS], c;
	size_t i;

	for (c = 0; c < NCOLS; c++) {
		w[c] = (int)strlen(ls_cols[c].name);
		for (i = 0; i < n; i++)
			if ((int)strlen(rows[i].f[c]) > w[c])
				w[c] = (int)strlen(rows[i].f[c]);
	}
	for (i = 0; i <= n; i++) {
		for (c = 0; c < NCOLS; c++) {
			const char *s = i ? rows[i - 1].f[c] : ls_cols[c].name;
			int last = c == NCOLS - 1;

			if (ls_cols[c].left && !last)
				printf("%-*s  ", w[c], s);
			else
				printf("%*s%s", w[c], s, last ? "\n" : "  ");
		}
	}
}

/* Read every socket line; the caller frees *rows. */
static int ls_read(FILE *f, struct ls_row **rows, size_t *n)
{
	char line[512];
	size_t cap = 0;
	int first = 1;

	*rows = NULL;
	*n = 0;
	while (fgets(line, sizeof(line), f)) {
		if (first) {	/* the header */
			first = 0;
			continue;
		}
		if (*n == cap) {
			struct ls_row *r;

			cap = cap ? 2 * cap : 64;
			r = realloc(*rows, cap * sizeof(**rows));
			if (!r) {
				err_msg("malloc");
				return -1;
			}
			*rows = r;
		}
		if (!ls_parse(line, &(*rows)[*n]))
			(*n)++;
	}
	return ferror(f) ? -1 : 0;
}

static int cmd_ls(int argc, char **argv)
{
	struct ls_row *rows;
	size_t n;
	FILE *f;
	int rc;

	(void)argv;
	if (argc != 1) {
		xsock_bad("ls takes no arguments");
		return usage_exit();
	}
	f = fopen(PROC_PATH, "re");
	if (!f) {
		err_msg("%s", PROC_PATH);
		if (errno == ENOENT)
			note("hint: " HINT_NOMOD);
		return 1;
	}
	rc = ls_read(f, &rows, &n);
	if (rc && errno)
		err_msg("read %s", PROC_PATH);
	fclose(f);
	if (!rc)
		ls_print(rows, n);
	free(rows);
	return rc ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct opts o = { .bytes = 1ULL << 30, .bufsz = 65536 };
	const char *cmd = argc > 1 ? argv[1] : NULL;

	if (!cmd)
		return usage_exit();
	if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") ||
	    !strcmp(cmd, "help")) {
		usage();
		return 0;
	}
	if (!strcmp(cmd, "--version")) {
		printf("xsock (af_xen) " XSOCK_VERSION "\n");
		return 0;
	}
	signal(SIGPIPE, SIG_IGN);
	o.family = read_family();
	xsock_family = o.family;
	if (!strcmp(cmd, "listen"))
		return cmd_listen(argc - 1, argv + 1, &o);
	if (!strcmp(cmd, "connect"))
		return cmd_connect(argc - 1, argv + 1, &o);
	if (!strcmp(cmd, "bench"))
		return cmd_bench(argc - 1, argv + 1, &o);
	if (!strcmp(cmd, "ls"))
		return cmd_ls(argc - 1, argv + 1);
	xsock_bad("unknown command '%s'", cmd);
	return usage_exit();
}
