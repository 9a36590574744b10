// SPDX-License-Identifier: GPL-2.0
/*
 * xattack victim: support for the cases, the legitimate loopback stream
 * that runs beside every attack (AF_XEN, whichever front end the victim's
 * sockets use), and the checks after them (resources back where they
 * were, kernel log lines naming the attacker).
 */
#include "xattack_victim.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <linux/af_xen.h>
#include <linux/vm_sockets.h>

int g_ctl = -1;
const struct xa_opts *g_opt;
static int g_family = AF_XEN;
static int g_failed;

/* ----- TAP ----- */

void tapf(int ok, const char *name, const char *why, ...)
{
	char fmt[1024], out[2048], *sep;
	va_list ap;

	/* One format for both, so that one va_list feeds both. */
	snprintf(fmt, sizeof(fmt), "%s\x01%s", name, why);
	va_start(ap, why);
	vsnprintf(out, sizeof(out), fmt, ap);
	va_end(ap);
	sep = strchr(out, '\x01');
	if (sep)
		*sep++ = 0;
	if (ok)
		printf("ok - %s\n", out);
	else
		printf("not ok - %s # %s\n", out, sep ? sep : "");
	g_failed |= !ok;
	fflush(stdout);
}

/* ----- The attacker, over the control channel ----- */

const char *reply(int ms)
{
	static char line[XA_LINE];
	int n = ctl_recv(g_ctl, line, sizeof(line), ms);

	if (n == -ETIMEDOUT)
		return "TIMEOUT";
	if (n <= 0)
		die("control channel closed by the attacker");
	return line;
}

static const char *vask(int ms, const char *fmt, va_list ap)
{
	char line[XA_LINE];

	vsnprintf(line, sizeof(line), fmt, ap);
	ctl_send(g_ctl, "%s", line);
	return reply(ms);
}

const char *ask(const char *fmt, ...)
{
	const char *r;
	va_list ap;

	va_start(ap, fmt);
	r = vask(30000, fmt, ap);
	va_end(ap);
	return r;
}

const char *ask_timeout(int ms, const char *fmt, ...)
{
	const char *r;
	va_list ap;

	va_start(ap, fmt);
	r = vask(ms, fmt, ap);
	va_end(ap);
	return r;
}

/* ----- Kernel log ----- */

/* Lines with "domain <attacker>" (not a longer number) in dmesg. */
static int log_count(void)
{
	char line[1024], key[32];
	FILE *f = popen("dmesg", "r");
	int n = 0;

	if (!f)
		return -1;
	snprintf(key, sizeof(key), "domain %u", g_opt->peer);
	while (fgets(line, sizeof(line), f)) {
		char *p = strstr(line, key);

		if (p && (p[strlen(key)] < '0' || p[strlen(key)] > '9'))
			n++;
	}
	pclose(f);
	return n;
}

void log_mark(struct logmark *m)
{
	m->n = log_count();
}

static char log_missing[2048];
static int log_cases;

/*
 * Every attack should leave at least one (rate-limited) line naming the
 * attacker.  A missing line is collected and reported once at the end
 * rather than failing the case: the rate limit may have eaten it.
 */
void log_check(struct logmark *m, const char *attack)
{
	int i, n = 0;

	log_cases++;
	for (i = 0; i < 15; i++) {
		n = log_count() - m->n;
		if (n > 0)
			break;
		msleep(100);
	}
	note("%s: %d new kernel log line(s) naming domain %u", attack, n,
	     g_opt->peer);
	if (n <= 0 && strlen(log_missing) + strlen(attack) + 4 <
	    sizeof(log_missing)) {
		strcat(log_missing, log_missing[0] ? "; " : "");
		strcat(log_missing, attack);
	}
}

/* ----- The victim's sockets: AF_XEN, or AF_VSOCK with --front vsock ----- */

/* vsock's default connect timeout is 2 s; the cases expect AF_XEN's 5 s. */
#define VSOCK_CONNECT_TIMEOUT_S	5

static int sock_new(int vsock, int ring_size)
{
	int fd = socket(vsock ? AF_VSOCK : g_family, SOCK_STREAM, 0);
	struct timeval tv = { .tv_sec = VSOCK_CONNECT_TIMEOUT_S };
	unsigned long long size = ring_size;

	if (fd < 0 || !vsock) {
		if (fd >= 0 && ring_size > 0)
			setsockopt(fd, g_family, XEN_SO_RING_SIZE, &ring_size,
				   sizeof(ring_size));
		return fd;
	}
	setsockopt(fd, AF_VSOCK, SO_VM_SOCKETS_CONNECT_TIMEOUT_OLD, &tv,
		   sizeof(tv));
	if (ring_size > 0)
		setsockopt(fd, AF_VSOCK, SO_VM_SOCKETS_BUFFER_SIZE, &size,
			   sizeof(size));
	return fd;
}

/* sockaddr_xen or sockaddr_vm for (@domid, @port); vsock's CID is domid + 2. */
static socklen_t sock_addr(int vsock, struct sockaddr_storage *ss,
			   unsigned int domid, unsigned int port)
{
	struct sockaddr_xen *x = (struct sockaddr_xen *)ss;
	struct sockaddr_vm *v = (struct sockaddr_vm *)ss;

	memset(ss, 0, sizeof(*ss));
	if (!vsock) {
		x->sxen_family = g_family;
		x->sxen_domid = domid;
		x->sxen_port = port;
		return sizeof(*x);
	}
	v->svm_family = AF_VSOCK;
	v->svm_cid = domid == XEN_DOMID_ANY ? VMADDR_CID_ANY : domid + 2;
	v->svm_port = port;
	return sizeof(*v);
}

static int sock_listen(int vsock, unsigned int port, int backlog)
{
	struct sockaddr_storage a;
	socklen_t len = sock_addr(vsock, &a, XEN_DOMID_ANY, port);
	int fd = sock_new(vsock, 0), e;

	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&a, len) || listen(fd, backlog)) {
		e = errno;
		close(fd);
		return -e;
	}
	fcntl(fd, F_SETFL, O_NONBLOCK);
	return fd;
}

static int sock_connect(int vsock, int fd, unsigned int domid,
			unsigned int port)
{
	struct sockaddr_storage a;
	socklen_t len = sock_addr(vsock, &a, domid, port);

	if (fd < 0)
		return EBADF;
	return connect(fd, (struct sockaddr *)&a, len) ? errno : 0;
}

int af_socket(int ring_size)
{
	return sock_new(g_opt->vsock, ring_size);
}

/* A non-blocking listener on @port for any domain. */
int af_listen(unsigned int port, int backlog)
{
	return sock_listen(g_opt->vsock, port, backlog);
}

int af_connect(int fd, unsigned int domid, unsigned int port)
{
	return sock_connect(g_opt->vsock, fd, domid, port);
}

/*
 * The errno a reset left: vsock's core reports it to a caller blocked at
 * the time, and to a later one only as EOF (EPIPE when sending), with
 * the reason in SO_ERROR.
 */
int sock_err_after(int fd, ssize_t r)
{
	int e = r < 0 ? errno : 0, so = 0;
	socklen_t len = sizeof(so);

	if (!g_opt->vsock || (r != 0 && e != EPIPE))
		return e;
	getsockopt(fd, SOL_SOCKET, SO_ERROR, &so, &len);
	return so ? so : e;
}

void set_timeouts(int fd, int ms)
{
	struct timeval tv = { .tv_sec = ms / 1000,
			      .tv_usec = (ms % 1000) * 1000 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

const char *errname(int e)
{
	static const struct { int e; const char *n; } tab[] = {
		{ 0, "no error" }, { EPROTO, "EPROTO" },
		{ ECONNRESET, "ECONNRESET" }, { ETIMEDOUT, "ETIMEDOUT" },
		{ ECONNREFUSED, "ECONNREFUSED" }, { EAGAIN, "EAGAIN" },
		{ EPIPE, "EPIPE" }, { EHOSTUNREACH, "EHOSTUNREACH" },
		{ ENONET, "ENONET" }, { EINVAL, "EINVAL" }, { EIO, "EIO" },
	};
	size_t i;

	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (tab[i].e == e)
			return tab[i].n;
	return strerror(e);
}

/* ----- The legitimate stream beside the attacks (loopback) ----- */

#define LOOP_PORT	7300
#define LOOP_CHUNK	16384

struct loop {
	int wfd, rfd;
	volatile int stop;
	uint64_t sent, got, bad_at;
	int werr, rerr, bad;
	pthread_t wt, rt;
};

static void *loop_writer(void *arg)
{
	struct loop *l = arg;
	uint8_t buf[LOOP_CHUNK];
	size_t i;

	while (!l->stop) {
		ssize_t r;

		for (i = 0; i < sizeof(buf); i++)
			buf[i] = xa_pat(l->sent + i);
		r = send(l->wfd, buf, sizeof(buf), 0);
		if (r < 0) {
			l->werr = errno;
			break;
		}
		/* A short send: the next chunk starts at the true offset. */
		l->sent += r;
	}
	shutdown(l->wfd, SHUT_WR);
	return NULL;
}

static void *loop_reader(void *arg)
{
	struct loop *l = arg;
	uint8_t buf[LOOP_CHUNK];
	ssize_t r, i;

	while ((r = recv(l->rfd, buf, sizeof(buf), 0)) > 0) {
		for (i = 0; i < r && !l->bad; i++)
			if (buf[i] != xa_pat(l->got + i)) {
				l->bad = 1;
				l->bad_at = l->got + i;
			}
		l->got += r;
	}
	if (r < 0)
		l->rerr = errno;
	return NULL;
}

static struct loop loop;

static int loop_start(void)
{
	int lfd = sock_listen(0, LOOP_PORT, 1), e;

	if (lfd < 0)
		return -lfd;
	loop.wfd = sock_new(0, 0);
	e = sock_connect(0, loop.wfd, XEN_DOMID_SELF, LOOP_PORT);
	if (!e) {
		fcntl(lfd, F_SETFL, 0);
		loop.rfd = accept(lfd, NULL, NULL);
		e = loop.rfd < 0 ? errno : 0;
	}
	close(lfd);
	if (e)
		return e;
	set_timeouts(loop.rfd, 20000);
	set_timeouts(loop.wfd, 20000);
	pthread_create(&loop.rt, NULL, loop_reader, &loop);
	pthread_create(&loop.wt, NULL, loop_writer, &loop);
	return 0;
}

static void loop_stop(int started)
{
	if (!started)
		return;
	loop.stop = 1;
	pthread_join(loop.wt, NULL);
	pthread_join(loop.rt, NULL);
	close(loop.wfd);
	close(loop.rfd);
	tapf(!loop.werr && !loop.rerr && !loop.bad && loop.got == loop.sent &&
	     loop.got > 0,
	     "attack: a loopback stream beside all the attacks carried %llu MiB, every byte checked",
	     "sent %llu, received %llu, send: %s, recv: %s, %s",
	     (unsigned long long)(loop.got >> 20),
	     (unsigned long long)loop.sent, (unsigned long long)loop.got,
	     errname(loop.werr), errname(loop.rerr),
	     loop.bad ? "pattern broken" : "pattern intact");
}

/* ----- /proc/net/af_xen_stat before and after ----- */

static void read_stat(char *buf, size_t size)
{
	FILE *f = fopen("/proc/net/af_xen_stat", "r");
	size_t n = 0;

	buf[0] = 0;
	if (!f)
		return;
	n = fread(buf, 1, size - 1, f);
	buf[n] = 0;
	fclose(f);
}

/* Teardown is partly deferred (grants the peer still maps): wait. */
static void stat_check(const char *before)
{
	char after[1024];
	int i;

	for (i = 0; i < 100; i++) {
		read_stat(after, sizeof(after));
		if (!strcmp(before, after))
			break;
		msleep(200);
	}
	int same = before[0] && !strcmp(before, after);
	char b[1024];

	snprintf(b, sizeof(b), "%s", before);
	for (char *p = after; (p = strchr(p, '\n')); )
		*p = ' ';
	for (char *p = b; (p = strchr(p, '\n')); )
		*p = ' ';
	note("af_xen_stat after the attacks: %s", after);
	tapf(same, "attack: /proc/net/af_xen_stat back to its starting values",
	     "before: %s; now: %s", b, after);
}

int victim_main(const struct xa_opts *o)
{
	char before[1024], fam[16];
	FILE *f;
	int e, looping;

	g_opt = o;
	f = fopen("/sys/module/af_xen/parameters/family", "r");
	if (f && fgets(fam, sizeof(fam), f))
		g_family = atoi(fam);
	if (f)
		fclose(f);
	read_stat(before, sizeof(before));
	g_ctl = ctl_open(1, o->peer_ip, o->port);
	if (g_ctl < 0)
		die("control channel on port %d: %s", o->port, strerror(-g_ctl));
	e = loop_start();
	looping = !e;
	if (e)
		tapf(0, "attack: loopback stream beside the attacks",
		     "could not start: %s", errname(e));
	victim_cases();
	loop_stop(looping);
	ctl_send(g_ctl, "BYE");
	close(g_ctl);
	tapf(!log_missing[0],
	     "attack: each of %d attacks left a kernel log line naming domain %u",
	     "none for: %s", log_cases, o->peer, log_missing);
	stat_check(before);
	return g_failed;
}
