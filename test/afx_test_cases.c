// SPDX-License-Identifier: GPL-2.0
/*
 * afx_test: the test cases.
 *
 * Cross-guest cases (X) have run_server (guest 1) and run_client
 * (guest 2); the client connects to (g_peer_domid, port).  Local cases
 * (L) need one guest: API checks and loopback connections, to
 * XEN_DOMID_SELF and to the guest's own domid.
 *
 * Expected errors follow the uapi header and the usual stream-socket
 * semantics of AF_UNIX / AF_VSOCK; where the kernel's families differ
 * among themselves the case accepts each of their answers and says so.
 */
#include "afx_test.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/sockios.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#define SEED(c, k)	(0xaf0000ULL + (uint64_t)(c)->idx * 1009 + (k))
#define KiB		1024ULL
#define MiB		(1024ULL * 1024)
#define NO_SUCH_DOMID	777	/* a domain that does not exist */

static volatile sig_atomic_t g_sigpipes;
static volatile sig_atomic_t g_sigusr1;

static void on_sigpipe(int sig)
{
	(void)sig;
	g_sigpipes++;
}

static void on_sigusr1(int sig)
{
	(void)sig;
	g_sigusr1++;
}

/* A handler without SA_RESTART: blocking calls return EINTR. */
static void catch_signal(int sig, void (*fn)(int))
{
	struct sigaction sa = { .sa_handler = fn, .sa_flags = 0 };

	sigemptyset(&sa.sa_mask);
	if (sigaction(sig, &sa, NULL))
		fail("sigaction: %s", errname(errno));
}

/* ---- common setups ---------------------------------------------- */

static int srv_accept(const struct ctx *c, struct sockaddr_xen *peer)
{
	int lfd = afx_listen(XEN_DOMID_ANY, c->port, 8), fd;

	ctl_writeln("LISTENING");
	fd = afx_accept(lfd, peer);
	close(lfd);
	return fd;
}

static int cli_connect(const struct ctx *c, int ring)
{
	ctl_expectln("LISTENING");
	return afx_connect_ring(g_peer_domid, c->port, ring);
}

/* A loopback connection inside this guest: *cfd connected, *sfd accepted. */
static void lo_pair(unsigned int domid, unsigned int port, int ring, int *cfd,
		    int *sfd)
{
	int lfd = afx_listen(XEN_DOMID_ANY, port, 4);

	*cfd = afx_connect_ring(domid, port, ring);
	*sfd = afx_accept(lfd, NULL);
	close(lfd);
}

static int inq(int fd)
{
	int v = -1;

	if (ioctl(fd, SIOCINQ, &v))
		fail("ioctl(SIOCINQ): %s", errname(errno));
	return v;
}

static int outq(int fd)
{
	int v = -1;

	if (ioctl(fd, SIOCOUTQ, &v))
		fail("ioctl(SIOCOUTQ): %s", errname(errno));
	return v;
}

static struct xen_so_stats get_stats(int fd)
{
	struct xen_so_stats st;
	socklen_t len = sizeof(st);

	memset(&st, 0xff, sizeof(st));
	if (getsockopt(fd, g_family, XEN_SO_STATS, &st, &len))
		fail("getsockopt(SOL_XEN, XEN_SO_STATS): %s", errname(errno));
	if (len != sizeof(st))
		fail("getsockopt(XEN_SO_STATS) length %u, expected %zu",
		     (unsigned int)len, sizeof(st));
	return st;
}

static void xshutdown(int fd, int how)
{
	static const char *const n[] = { "SHUT_RD", "SHUT_WR", "SHUT_RDWR" };

	step("shutdown(%s)", n[how]);
	if (shutdown(fd, how))
		fail("shutdown(%s): %s", n[how], errname(errno));
}

static void check_bytes(uint64_t seed, uint64_t off, const unsigned char *got,
			size_t n, const char *what)
{
	unsigned char *want = malloc(n ? n : 1);

	if (!want)
		fail("malloc: out of memory");
	gen_bytes(seed, off, want, n);
	for (size_t i = 0; i < n; i++)
		if (want[i] != got[i])
			fail("%s: byte %llu is 0x%02x, expected 0x%02x", what,
			     (unsigned long long)(off + i), got[i], want[i]);
	free(want);
}

/* ================================================================== */
/* Local cases: socket(), bind(), options                              */

static void t_socket_create(const struct ctx *c)
{
	int fd, fl, r;

	(void)c;
	note("family %d (header AF_XEN %d)", g_family, AF_XEN);
	fd = afx_socket(0);
	close(fd);

	fd = afx_socket(SOCK_NONBLOCK | SOCK_CLOEXEC);
	fl = fcntl(fd, F_GETFL);
	if (!(fl & O_NONBLOCK))
		fail("socket(SOCK_NONBLOCK): O_NONBLOCK not set");
	if (!(fcntl(fd, F_GETFD) & FD_CLOEXEC))
		fail("socket(SOCK_CLOEXEC): FD_CLOEXEC not set");
	close(fd);

	/* Only SOCK_STREAM exists; the kernel's families answer with one of these. */
	step("socket(SOCK_DGRAM)");
	r = socket(g_family, SOCK_DGRAM, 0);
	if (r >= 0)
		fail("socket(family %d, SOCK_DGRAM) succeeded, expected an error",
		     g_family);
	if (errno != ESOCKTNOSUPPORT && errno != EPROTONOSUPPORT &&
	    errno != EINVAL && errno != EOPNOTSUPP && errno != EPROTOTYPE)
		fail("socket(SOCK_DGRAM): expected ESOCKTNOSUPPORT/EPROTONOSUPPORT/EINVAL, got %s",
		     errname(errno));
	step("socket(SOCK_STREAM, protocol 99)");
	r = socket(g_family, SOCK_STREAM, 99);
	if (r >= 0)
		fail("socket(SOCK_STREAM, protocol 99) succeeded, expected EPROTONOSUPPORT");
	if (errno != EPROTONOSUPPORT && errno != EINVAL)
		fail("socket(SOCK_STREAM, protocol 99): expected EPROTONOSUPPORT, got %s",
		     errname(errno));
}

static void t_bind_bad_len(const struct ctx *c)
{
	struct sockaddr_xen sa = afx_addr(XEN_DOMID_ANY, c->port);
	static const socklen_t lens[] = { 0, sizeof(sa.sxen_family), 8,
					  sizeof(sa) - 1 };
	int fd = afx_socket(0);

	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		char what[64];

		snprintf(what, sizeof(what), "bind with addrlen %u",
			 (unsigned int)lens[i]);
		step("%s", what);
		expect_err(bind(fd, (struct sockaddr *)&sa, lens[i]), EINVAL, what);
	}
	/* The socket is still unbound and usable. */
	afx_bind(fd, XEN_DOMID_ANY, c->port);
	close(fd);
}

static void t_bind_bad_family(const struct ctx *c)
{
	struct sockaddr_xen sa = afx_addr(XEN_DOMID_ANY, c->port);
	int fd = afx_socket(0);

	/*
	 * EINVAL as AF_UNIX answers, or EAFNOSUPPORT as AF_VSOCK and
	 * AF_INET answer (and af_xen does): both are normal semantics.
	 */
	sa.sxen_family = AF_INET;
	step("bind with sxen_family AF_INET");
	expect_err2(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), EINVAL,
		    EAFNOSUPPORT, "bind with sxen_family AF_INET");
	sa.sxen_family = g_family + 1;
	expect_err2(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), EINVAL,
		    EAFNOSUPPORT, "bind with sxen_family AF_XEN+1");
	sa.sxen_family = g_family;
	afx_bind(fd, XEN_DOMID_ANY, c->port);
	close(fd);
	/* same for connect */
	fd = afx_socket(0);
	sa.sxen_family = AF_INET;
	step("connect with sxen_family AF_INET");
	expect_err2(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), EINVAL,
		    EAFNOSUPPORT, "connect with sxen_family AF_INET");
	afx_bind(fd, XEN_DOMID_ANY, c->port);
	close(fd);
}

static void t_bind_nonzero_pad(const struct ctx *c)
{
	struct sockaddr_xen sa = afx_addr(XEN_DOMID_ANY, c->port);
	int fd = afx_socket(0);

	sa.sxen_zero[0] = 1;
	step("bind with sxen_zero[0] = 1");
	expect_err(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), EINVAL,
		   "bind with sxen_zero[0] = 1");
	sa.sxen_zero[0] = 0;
	sa.sxen_zero[7] = 0x80;
	expect_err(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), EINVAL,
		   "bind with sxen_zero[7] = 0x80");
	afx_bind(fd, XEN_DOMID_ANY, c->port);
	close(fd);
}

static void t_bind_addrinuse(const struct ctx *c)
{
	int a = afx_socket(0), b = afx_socket(0), d;

	afx_bind(a, XEN_DOMID_ANY, c->port);
	step("second bind to the same port");
	expect_err(afx_bind_raw(b, XEN_DOMID_ANY, c->port), EADDRINUSE,
		   "bind of a second socket to a bound port");
	if (listen(a, 1))
		fail("listen: %s", errname(errno));
	expect_err(afx_bind_raw(b, XEN_DOMID_ANY, c->port), EADDRINUSE,
		   "bind of a second socket to a listening port");
	/* The failed binds left b unbound. */
	afx_bind(b, XEN_DOMID_ANY, c->port + 1);
	close(a);
	d = afx_socket(0);
	step("bind after the owner closed");
	if (afx_bind_raw(d, XEN_DOMID_ANY, c->port))
		fail("bind to a port whose socket was closed: %s", errname(errno));
	close(b);
	close(d);
}

static void t_bind_twice(const struct ctx *c)
{
	int fd = afx_socket(0);

	afx_bind(fd, XEN_DOMID_ANY, c->port);
	step("bind an already bound socket");
	expect_err(afx_bind_raw(fd, XEN_DOMID_ANY, c->port + 1), EINVAL,
		   "second bind() on a bound socket");
	close(fd);
}

static void t_bind_privileged(const struct ctx *c)
{
	unsigned int low = 512 + c->idx;	/* below XEN_PORT_RESERVED */
	pid_t pid;

	pid = fork();
	if (pid < 0)
		fail("fork: %s", errname(errno));
	if (pid == 0) {
		int fd;

		if (geteuid() == 0 &&
		    (setgroups(0, NULL) || setgid(65534) || setuid(65534)))
			fail("cannot become nobody: %s", errname(errno));
		fd = afx_socket(0);
		step("bind port %u as uid %d", low, (int)getuid());
		expect_err(afx_bind_raw(fd, XEN_DOMID_ANY, low), EACCES,
			   "bind to a port below 1024 as nobody");
		expect_err(afx_bind_raw(fd, XEN_DOMID_ANY, XEN_PORT_RESERVED - 1),
			   EACCES, "bind to port 1023 as nobody");
		afx_bind(fd, XEN_DOMID_ANY, c->port);	/* >= 1024 is fine */
		_exit(0);
	}
	wait_child(pid, "unprivileged bind");
	if (geteuid() == 0) {
		int fd = afx_socket(0);

		step("bind port %u as root", low);
		if (afx_bind_raw(fd, XEN_DOMID_ANY, low))
			fail("bind to port %u as root (CAP_NET_BIND_SERVICE): %s",
			     low, errname(errno));
		close(fd);
	} else {
		note("not root: only the unprivileged half was checked");
	}
}

static void t_bind_port_any(const struct ctx *c)
{
	struct sockaddr_xen a, b;
	int fa = afx_socket(0), fb = afx_socket(0), cfd, sfd;

	(void)c;
	afx_bind(fa, XEN_DOMID_ANY, XEN_PORT_ANY);
	afx_bind(fb, XEN_DOMID_ANY, XEN_PORT_ANY);
	afx_name(fa, false, &a, "first socket bound to XEN_PORT_ANY");
	afx_name(fb, false, &b, "second socket bound to XEN_PORT_ANY");
	if (a.sxen_port == XEN_PORT_ANY || b.sxen_port == XEN_PORT_ANY)
		fail("getsockname after bind(XEN_PORT_ANY) shows port %u and %u, expected a real port",
		     a.sxen_port, b.sxen_port);
	if (a.sxen_port < XEN_PORT_RESERVED || b.sxen_port < XEN_PORT_RESERVED)
		fail("XEN_PORT_ANY picked privileged port %u / %u", a.sxen_port,
		     b.sxen_port);
	if (a.sxen_port == b.sxen_port)
		fail("two sockets bound to XEN_PORT_ANY both got port %u",
		     a.sxen_port);
	/* The picked port is reachable. */
	step("listen on the picked port %u", a.sxen_port);
	if (listen(fa, 1))
		fail("listen: %s", errname(errno));
	cfd = afx_connect(XEN_DOMID_SELF, a.sxen_port);
	sfd = afx_accept(fa, NULL);
	close(cfd);
	close(sfd);
	close(fa);
	close(fb);
}

static void t_unconnected_ops(const struct ctx *c)
{
	struct sockaddr_xen sa;
	socklen_t len = sizeof(sa);
	char b = 'x';
	int fd = afx_socket(0), lfd;

	step("send on an unconnected socket");
	expect_err(send(fd, &b, 1, MSG_NOSIGNAL), ENOTCONN,
		   "send on an unconnected socket");
	step("recv on an unconnected socket");
	expect_err(recv(fd, &b, 1, MSG_DONTWAIT), ENOTCONN,
		   "recv on an unconnected socket");
	expect_err(getpeername(fd, (struct sockaddr *)&sa, &len), ENOTCONN,
		   "getpeername on an unconnected socket");
	expect_err(shutdown(fd, SHUT_RDWR), ENOTCONN,
		   "shutdown on an unconnected socket");
	step("accept on a socket that is not listening");
	afx_bind(fd, XEN_DOMID_ANY, c->port);
	expect_err(accept(fd, NULL, NULL), EINVAL,
		   "accept on a bound, not listening socket");
	lfd = afx_listen(XEN_DOMID_ANY, c->port + 1, 1);
	expect_err(send(lfd, &b, 1, MSG_NOSIGNAL), ENOTCONN,
		   "send on a listening socket");
	close(lfd);
	close(fd);
}

static void t_accept_nonblock(const struct ctx *c)
{
	int lfd = afx_socket(SOCK_NONBLOCK);
	short ev;

	afx_bind(lfd, XEN_DOMID_ANY, c->port);
	if (listen(lfd, 4))
		fail("listen: %s", errname(errno));
	step("accept on an empty nonblocking listener");
	expect_err(accept(lfd, NULL, NULL), EAGAIN,
		   "accept on an empty nonblocking listener");
	ev = poll_one(lfd, POLLIN | POLLOUT, 200);
	if (ev & POLLIN)
		fail("poll on an empty listener reports %s", pollstr(ev));
	close(lfd);
}

static void t_accept_eintr(const struct ctx *c)
{
	int lfd = afx_listen(XEN_DOMID_ANY, c->port, 4);
	double t0;
	pid_t pid;
	int r;

	catch_signal(SIGUSR1, on_sigusr1);
	pid = spawn_signaller(SIGUSR1, 300);
	step("blocking accept, SIGUSR1 due in 300 ms");
	t0 = now_s();
	r = accept(lfd, NULL, NULL);
	expect_err(r, EINTR, "blocking accept interrupted by a signal");
	if (!g_sigusr1)
		fail("accept returned EINTR but the handler did not run");
	if (now_s() - t0 > 5)
		fail("accept returned EINTR only after %.1f s", now_s() - t0);
	wait_child(pid, "signaller");
	close(lfd);
}

static void t_ring_size_opts(const struct ctx *c)
{
	static const int bad[] = { 1000, 2048, 12288, 2 * 1024 * 1024,
				   3 * 1024 * 1024, 0, -1, 4097 };
	int fd = afx_socket(0), v;
	socklen_t len;

	(void)c;
	v = get_ring(fd);
	if (v != XEN_RING_SIZE_DEFAULT)
		fail("default XEN_SO_RING_SIZE is %d, expected %d", v,
		     XEN_RING_SIZE_DEFAULT);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char what[80];

		snprintf(what, sizeof(what), "setsockopt(XEN_SO_RING_SIZE, %d)",
			 bad[i]);
		step("%s", what);
		expect_err(setsockopt(fd, g_family, XEN_SO_RING_SIZE, &bad[i],
				      sizeof(bad[i])), EINVAL, what);
	}
	v = get_ring(fd);
	if (v != XEN_RING_SIZE_DEFAULT)
		fail("rejected values changed XEN_SO_RING_SIZE to %d", v);
	v = 8192;
	step("setsockopt with a short optlen");
	expect_err(setsockopt(fd, g_family, XEN_SO_RING_SIZE, &v, 2), EINVAL,
		   "setsockopt(XEN_SO_RING_SIZE) with optlen 2");
	set_ring(fd, XEN_RING_SIZE_MIN);
	if ((v = get_ring(fd)) != XEN_RING_SIZE_MIN)
		fail("XEN_SO_RING_SIZE set to 4096 reads back %d", v);
	set_ring(fd, XEN_RING_SIZE_MAX);
	if ((v = get_ring(fd)) != XEN_RING_SIZE_MAX)
		fail("XEN_SO_RING_SIZE set to 1 MiB reads back %d", v);
	set_ring(fd, 65536);
	if ((v = get_ring(fd)) != 65536)
		fail("XEN_SO_RING_SIZE set to 65536 reads back %d", v);
	step("setsockopt unknown SOL_XEN option");
	expect_err(setsockopt(fd, g_family, 99, &v, sizeof(v)), ENOPROTOOPT,
		   "setsockopt(SOL_XEN, 99)");
	step("setsockopt(XEN_SO_STATS)");
	{
		struct xen_so_stats st;

		memset(&st, 0, sizeof(st));
		if (setsockopt(fd, g_family, XEN_SO_STATS, &st, sizeof(st)) == 0)
			fail("setsockopt(XEN_SO_STATS) succeeded on a read-only option");
	}
	len = sizeof(v);
	step("getsockopt unknown SOL_XEN option");
	expect_err(getsockopt(fd, g_family, 99, &v, &len), ENOPROTOOPT,
		   "getsockopt(SOL_XEN, 99)");
	close(fd);
}

/* ================================================================== */
/* Local cases: connection errors and loopback connections             */

static void t_connect_refused_local(const struct ctx *c)
{
	int fd = afx_socket(0), bfd, err, me = need_my_domid();
	double t0 = now_s();

	err = afx_try_connect(fd, XEN_DOMID_SELF, c->port);
	if (err != ECONNREFUSED)
		fail("connect(SELF, port %u) with no listener: expected %s, got %s",
		     c->port, errname(ECONNREFUSED), errname(err));
	close(fd);
	fd = afx_socket(0);
	err = afx_try_connect(fd, me, c->port);
	if (err != ECONNREFUSED)
		fail("connect(own domid %d, port %u) with no listener: expected %s, got %s",
		     me, c->port, errname(ECONNREFUSED), errname(err));
	close(fd);
	/* bound but not listening */
	bfd = afx_socket(0);
	afx_bind(bfd, XEN_DOMID_ANY, c->port + 1);
	fd = afx_socket(0);
	err = afx_try_connect(fd, XEN_DOMID_SELF, c->port + 1);
	if (err != ECONNREFUSED)
		fail("connect to a bound, not listening port: expected %s, got %s",
		     errname(ECONNREFUSED), errname(err));
	if (now_s() - t0 > 10)
		fail("refusals took %.1f s in total", now_s() - t0);
	close(fd);
	close(bfd);
}

static void t_connect_unreachable(const struct ctx *c)
{
	int fd = afx_socket(0), err;
	double t0 = now_s(), dt;

	/*
	 * The module documents EHOSTUNREACH for a domain that does not
	 * exist or has no af_xen; ETIMEDOUT would mean it waited for an
	 * answer that can never come.
	 */
	err = afx_try_connect(fd, NO_SUCH_DOMID, c->port);
	dt = now_s() - t0;
	if (err != EHOSTUNREACH)
		fail("connect(domid %d, which does not exist): expected %s, got %s after %.2f s",
		     NO_SUCH_DOMID, errname(EHOSTUNREACH), errname(err), dt);
	if (dt > 15)
		fail("EHOSTUNREACH only after %.1f s", dt);
	close(fd);
	fd = afx_socket(SOCK_NONBLOCK);
	err = afx_try_connect(fd, NO_SUCH_DOMID, c->port);
	if (err == EINPROGRESS) {
		socklen_t len = sizeof(err);
		short ev = poll_one(fd, POLLOUT, 15000);

		if (!ev)
			fail("nonblocking connect to domid %d: no poll event in 15 s",
			     NO_SUCH_DOMID);
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len))
			fail("getsockopt(SO_ERROR): %s", errname(errno));
	}
	if (err != EHOSTUNREACH)
		fail("nonblocking connect(domid %d): expected %s, got %s",
		     NO_SUCH_DOMID, errname(EHOSTUNREACH), errname(err));
	close(fd);
}

static void check_lo_names(int cfd, int sfd, unsigned int domid,
			   unsigned int port)
{
	struct sockaddr_xen cn, cp, sn, sp;

	afx_name(cfd, false, &cn, "connected socket");
	afx_name(cfd, true, &cp, "connected socket");
	afx_name(sfd, false, &sn, "accepted socket");
	afx_name(sfd, true, &sp, "accepted socket");
	if (cn.sxen_port == XEN_PORT_ANY)
		fail("connected socket was not auto-bound: getsockname port 0");
	if (cp.sxen_port != port)
		fail("getpeername of the connected socket: port %u, expected %u",
		     cp.sxen_port, port);
	if (cp.sxen_domid != domid &&
	    !(domid == XEN_DOMID_SELF && (int)cp.sxen_domid == g_my_domid))
		fail("getpeername of the connected socket: domid %u, expected %u",
		     cp.sxen_domid, domid);
	if (sn.sxen_port != port)
		fail("getsockname of the accepted socket: port %u, expected %u",
		     sn.sxen_port, port);
	if (sp.sxen_port != cn.sxen_port)
		fail("getpeername of the accepted socket: port %u, but the connector's getsockname says %u",
		     sp.sxen_port, cn.sxen_port);
	if (g_my_domid >= 0 && sp.sxen_domid != g_my_domid)
		fail("getpeername of the accepted socket: domid %u, expected own domid %d",
		     sp.sxen_domid, g_my_domid);
	if (g_my_domid >= 0 && cn.sxen_domid != g_my_domid)
		fail("getsockname of the connected socket: domid %u, expected own domid %d",
		     cn.sxen_domid, g_my_domid);
}

static void lo_basic(const struct ctx *c, unsigned int domid)
{
	unsigned char buf[1000], got[1000];
	int cfd, sfd;

	lo_pair(domid, c->port, 0, &cfd, &sfd);
	check_lo_names(cfd, sfd, domid, c->port);
	gen_bytes(SEED(c, 0), 0, buf, sizeof(buf));
	send_all(cfd, buf, sizeof(buf), "connector to acceptor");
	recv_all(sfd, got, sizeof(got), "connector to acceptor");
	if (memcmp(buf, got, sizeof(buf)))
		fail("loopback data differs (connector to acceptor)");
	gen_bytes(SEED(c, 1), 0, buf, sizeof(buf));
	send_all(sfd, buf, sizeof(buf), "acceptor to connector");
	recv_all(cfd, got, sizeof(got), "acceptor to connector");
	if (memcmp(buf, got, sizeof(buf)))
		fail("loopback data differs (acceptor to connector)");
	close(cfd);
	expect_eof(sfd, "acceptor after the connector closed");
	close(sfd);
}

static void t_loopback_self(const struct ctx *c)
{
	lo_basic(c, XEN_DOMID_SELF);
}

static void t_loopback_own_domid(const struct ctx *c)
{
	lo_basic(c, need_my_domid());
}

/* One-way transfer inside this guest: a child writes, we read. */
static void t_loopback_data(const struct ctx *c)
{
	unsigned int domid = c->tc->arg ? (unsigned int)need_my_domid() :
					   XEN_DOMID_SELF;
	uint64_t h1, h2;
	int cfd, sfd, v;
	double t0;
	pid_t pid;

	lo_pair(domid, c->port, c->tc->ring, &cfd, &sfd);
	if (c->tc->ring && (v = get_ring(sfd)) != c->tc->ring)
		fail("accepted socket has ring size %d, the connector set %d", v,
		     c->tc->ring);
	t0 = now_s();
	pid = fork();
	if (pid < 0)
		fail("fork: %s", errname(errno));
	if (pid == 0) {
		close(sfd);
		send_stream(cfd, SEED(c, 0), c->tc->size, &h1);
		xshutdown(cfd, SHUT_WR);
		_exit(0);
	}
	close(cfd);
	recv_stream(sfd, SEED(c, 0), c->tc->size, &h2);
	expect_eof(sfd, "after the payload");
	wait_child(pid, "loopback writer");
	note("%llu bytes in %.2f s", (unsigned long long)c->tc->size,
	     now_s() - t0);
	close(sfd);
}

static void t_loopback_bidir(const struct ctx *c)
{
	uint64_t th, rh;
	int cfd, sfd;
	pid_t pid;

	lo_pair(XEN_DOMID_SELF, c->port, c->tc->ring, &cfd, &sfd);
	pid = fork();
	if (pid < 0)
		fail("fork: %s", errname(errno));
	if (pid == 0) {
		close(sfd);
		bidir_stream(cfd, SEED(c, 1), c->tc->size, SEED(c, 2),
			     c->tc->size, &th, &rh);
		_exit(0);
	}
	close(cfd);
	bidir_stream(sfd, SEED(c, 2), c->tc->size, SEED(c, 1), c->tc->size,
		     &th, &rh);
	wait_child(pid, "loopback peer");
	close(sfd);
}

static void t_loopback_domid_filter(const struct ctx *c)
{
	int me = need_my_domid();
	int other = g_peer_domid >= 0 ? g_peer_domid : NO_SUCH_DOMID;
	int l1, l2, fd, sfd, err;

	/* A listener for another domain only refuses us. */
	l1 = afx_listen(other, c->port, 4);
	fd = afx_socket(0);
	err = afx_try_connect(fd, XEN_DOMID_SELF, c->port);
	if (err != ECONNREFUSED)
		fail("connect(SELF) to a listener bound to domid %d: expected %s, got %s",
		     other, errname(ECONNREFUSED), errname(err));
	close(fd);
	fd = afx_socket(0);
	err = afx_try_connect(fd, me, c->port);
	if (err != ECONNREFUSED)
		fail("connect(own domid) to a listener bound to domid %d: expected %s, got %s",
		     other, errname(ECONNREFUSED), errname(err));
	close(fd);
	if (poll_one(l1, POLLIN, 0) & POLLIN)
		fail("the refusing listener reports a pending connection");
	close(l1);
	/* A listener bound to our own domid takes us. */
	l2 = afx_listen(me, c->port + 1, 4);
	fd = afx_connect(me, c->port + 1);
	sfd = afx_accept(l2, NULL);
	close(fd);
	close(sfd);
	close(l2);
}

static void t_loopback_eintr_recv(const struct ctx *c)
{
	int cfd, sfd;
	char b;
	pid_t pid;

	lo_pair(XEN_DOMID_SELF, c->port, 0, &cfd, &sfd);
	catch_signal(SIGUSR1, on_sigusr1);
	pid = spawn_signaller(SIGUSR1, 300);
	step("blocking recv on an empty socket, SIGUSR1 due in 300 ms");
	expect_err(recv(sfd, &b, 1, 0), EINTR,
		   "blocking recv interrupted by a signal");
	wait_child(pid, "signaller");
	/* The connection survives the interruption. */
	send_byte(cfd, 0x42, "after EINTR");
	recv_byte(sfd, 0x42, "after EINTR");
	close(cfd);
	close(sfd);
}

static void t_loopback_many(const struct ctx *c)
{
	enum { N = 16 };
	int cfd[N], sfd[N], lfd = afx_listen(XEN_DOMID_ANY, c->port, N);

	for (int i = 0; i < N; i++)
		cfd[i] = afx_connect(XEN_DOMID_SELF, c->port);
	for (int i = 0; i < N; i++)
		sfd[i] = afx_accept(lfd, NULL);
	for (int i = 0; i < N; i++)
		send_byte(cfd[i], i, "one byte per connection");
	/* Accept order is connect order, but do not insist: match by byte. */
	for (int i = 0; i < N; i++) {
		unsigned char b;

		recv_all(sfd[i], &b, 1, "one byte per connection");
		send_byte(sfd[i], b + 100, "echo");
	}
	for (int i = 0; i < N; i++)
		recv_byte(cfd[i], i + 100, "echo on the right connection");
	for (int i = 0; i < N; i++) {
		close(cfd[i]);
		expect_eof(sfd[i], "after the connector closed");
		close(sfd[i]);
	}
	close(lfd);
}

static int wait_count_le(int limit, int secs)
{
	double end = now_s() + secs;
	int n;

	while ((n = afx_sock_count()) > limit && now_s() < end)
		msleep(200);
	return n;
}

static void t_leak_check(const struct ctx *c)
{
	enum { N = 8 };
	int base, open_n, n, cfd[N], sfd[N], lfd;

	base = afx_sock_count();
	if (base < 0)
		skip("/proc/net/af_xen does not exist");
	/* Everything from the earlier cases should be gone by now. */
	if (g_baseline_socks >= 0) {
		n = wait_count_le(g_baseline_socks, 10);
		if (n > g_baseline_socks)
			fail("/proc/net/af_xen has %d lines after all cases, %d when afx_test started: sockets leaked by earlier cases",
			     n, g_baseline_socks);
		base = n;
	}
	lfd = afx_listen(XEN_DOMID_ANY, c->port, N);
	for (int i = 0; i < N; i++) {
		cfd[i] = afx_connect(XEN_DOMID_SELF, c->port);
		sfd[i] = afx_accept(lfd, NULL);
	}
	open_n = afx_sock_count();
	for (int i = 0; i < N; i++) {
		close(cfd[i]);
		close(sfd[i]);
	}
	close(lfd);
	n = wait_count_le(base, 10);
	if (n > base)
		fail("/proc/net/af_xen: %d lines before, %d with %d sockets open, still %d 10 s after closing them",
		     base, open_n, 2 * N + 1, n);
	if (open_n <= base)
		note("/proc/net/af_xen did not grow with %d open sockets (%d lines)",
		     2 * N + 1, open_n);
}

/* ================================================================== */
/* Cross-guest cases: connection setup                                 */

static void s_connect_refused(const struct ctx *c)
{
	int bfd = afx_socket(0);

	afx_bind(bfd, XEN_DOMID_ANY, c->port + 1);	/* bound, not listening */
	ctl_writeln("READY");
	ctl_expectln("DONE");
	close(bfd);
}

static void c_connect_refused(const struct ctx *c)
{
	int fd, err;
	double t0;

	ctl_expectln("READY");
	fd = afx_socket(0);
	t0 = now_s();
	err = afx_try_connect(fd, g_peer_domid, c->port);
	if (err != ECONNREFUSED)
		fail("connect to the peer's port %u with no listener: expected %s, got %s after %.2f s",
		     c->port, errname(ECONNREFUSED), errname(err), now_s() - t0);
	close(fd);
	fd = afx_socket(0);
	err = afx_try_connect(fd, g_peer_domid, c->port + 1);
	if (err != ECONNREFUSED)
		fail("connect to the peer's bound, not listening port: expected %s, got %s",
		     errname(ECONNREFUSED), errname(err));
	if (now_s() - t0 > 10)
		fail("refusals took %.1f s", now_s() - t0);
	close(fd);
	ctl_writeln("DONE");
}

static void s_connect_domid_filter(const struct ctx *c)
{
	struct sockaddr_xen peer;
	int l1 = afx_listen(NO_SUCH_DOMID, c->port, 4);
	int l2 = afx_listen(g_peer_domid, c->port + 1, 4);
	int fd;

	ctl_writeln("LISTENING");
	fd = afx_accept(l2, &peer);
	if (peer.sxen_domid != g_peer_domid)
		fail("listener bound to domid %d accepted a connection from domid %u",
		     g_peer_domid, peer.sxen_domid);
	recv_byte(fd, 7, "over the filtered listener");
	if (poll_one(l1, POLLIN, 0) & POLLIN)
		fail("the listener bound to domid %d has a pending connection",
		     NO_SUCH_DOMID);
	ctl_expectln("DONE");
	close(fd);
	close(l1);
	close(l2);
}

static void c_connect_domid_filter(const struct ctx *c)
{
	int fd, err;

	ctl_expectln("LISTENING");
	fd = afx_socket(0);
	err = afx_try_connect(fd, g_peer_domid, c->port);
	if (err != ECONNREFUSED)
		fail("connect to a listener bound to domid %d: expected %s, got %s",
		     NO_SUCH_DOMID, errname(ECONNREFUSED), errname(err));
	close(fd);
	fd = afx_connect(g_peer_domid, c->port + 1);
	send_byte(fd, 7, "over the filtered listener");
	ctl_writeln("DONE");
	close(fd);
}

static void s_accept_blocking(const struct ctx *c)
{
	struct sockaddr_xen peer, sn, sp;
	int lfd = afx_listen(XEN_DOMID_ANY, c->port, 4), fd;
	double t0;

	ctl_writeln("LISTENING");
	t0 = now_s();
	fd = afx_accept(lfd, &peer);
	if (now_s() - t0 < 0.2)
		fail("accept returned after %.3f s, before the client (which waits 300 ms) connected",
		     now_s() - t0);
	afx_name(fd, false, &sn, "accepted socket");
	afx_name(fd, true, &sp, "accepted socket");
	if (peer.sxen_domid != g_peer_domid || sp.sxen_domid != g_peer_domid)
		fail("peer domid: accept says %u, getpeername says %u, expected %d",
		     peer.sxen_domid, sp.sxen_domid, g_peer_domid);
	if (peer.sxen_port != sp.sxen_port)
		fail("peer port: accept says %u, getpeername says %u",
		     peer.sxen_port, sp.sxen_port);
	if (sn.sxen_port != c->port)
		fail("getsockname of the accepted socket: port %u, expected %u",
		     sn.sxen_port, c->port);
	if (g_my_domid >= 0 && sn.sxen_domid != g_my_domid)
		fail("getsockname of the accepted socket: domid %u, expected %d",
		     sn.sxen_domid, g_my_domid);
	{
		unsigned long long cport = ctl_expect_num("PORT");

		if (cport != sp.sxen_port)
			fail("the client's getsockname port is %llu, our getpeername says %u",
			     cport, sp.sxen_port);
	}
	recv_byte(fd, 1, "client to server");
	send_byte(fd, 2, "server to client");
	expect_eof(fd, "after the client closed");
	close(fd);
	close(lfd);
}

static void c_accept_blocking(const struct ctx *c)
{
	struct sockaddr_xen sn, sp;
	int fd;

	ctl_expectln("LISTENING");
	msleep(300);
	fd = afx_connect(g_peer_domid, c->port);
	afx_name(fd, false, &sn, "connected socket");
	afx_name(fd, true, &sp, "connected socket");
	if (sp.sxen_domid != g_peer_domid || sp.sxen_port != c->port)
		fail("getpeername: domid %u port %u, expected domid %d port %u",
		     sp.sxen_domid, sp.sxen_port, g_peer_domid, c->port);
	if (sn.sxen_port == XEN_PORT_ANY)
		fail("getsockname after connect: port 0, socket not auto-bound");
	if (g_my_domid >= 0 && sn.sxen_domid != g_my_domid)
		fail("getsockname after connect: domid %u, expected own domid %d",
		     sn.sxen_domid, g_my_domid);
	ctl_writeln("PORT %u", sn.sxen_port);
	send_byte(fd, 1, "client to server");
	recv_byte(fd, 2, "server to client");
	close(fd);
}

static void s_connect_autobind(const struct ctx *c)
{
	struct sockaddr_xen p1, p2;
	int lfd = afx_listen(XEN_DOMID_ANY, c->port, 4), a, b;
	unsigned long long x, y;

	ctl_writeln("LISTENING");
	a = afx_accept(lfd, &p1);
	b = afx_accept(lfd, &p2);
	ctl_expect_2num("PORTS", &x, &y);
	if (p1.sxen_port != x || p2.sxen_port != y)
		fail("accepted peers have ports %u and %u, the client's sockets say %llu and %llu",
		     p1.sxen_port, p2.sxen_port, x, y);
	ctl_expectln("DONE");
	close(a);
	close(b);
	close(lfd);
}

static void c_connect_autobind(const struct ctx *c)
{
	struct sockaddr_xen n1, n2;
	int f1, f2, err;

	ctl_expectln("LISTENING");
	f1 = afx_connect(g_peer_domid, c->port);
	step("connect an already connected socket");
	err = afx_try_connect(f1, g_peer_domid, c->port);
	if (err != EISCONN)
		fail("second connect on a connected socket: expected %s, got %s",
		     errname(EISCONN), errname(err));
	f2 = afx_connect(g_peer_domid, c->port);
	afx_name(f1, false, &n1, "first auto-bound socket");
	afx_name(f2, false, &n2, "second auto-bound socket");
	if (!n1.sxen_port || !n2.sxen_port || n1.sxen_port == n2.sxen_port)
		fail("auto-bound ports %u and %u: expected two distinct non-zero ports",
		     n1.sxen_port, n2.sxen_port);
	ctl_writeln("PORTS %u %u", n1.sxen_port, n2.sxen_port);
	ctl_writeln("DONE");
	close(f1);
	close(f2);
}

static void s_connect_bound(const struct ctx *c)
{
	struct sockaddr_xen peer;
	int fd = srv_accept(c, &peer);

	if (peer.sxen_port != c->port + 5)
		fail("peer port %u, the client bound %u before connecting",
		     peer.sxen_port, c->port + 5);
	recv_byte(fd, 9, "from the bound client");
	close(fd);
}

static void c_connect_bound(const struct ctx *c)
{
	struct sockaddr_xen sn;
	int fd = afx_socket(0), err;

	afx_bind(fd, XEN_DOMID_ANY, c->port + 5);
	ctl_expectln("LISTENING");
	err = afx_try_connect(fd, g_peer_domid, c->port);
	if (err)
		fail("connect from a socket bound to port %u: %s", c->port + 5,
		     errname(err));
	afx_name(fd, false, &sn, "bound and connected socket");
	if (sn.sxen_port != c->port + 5)
		fail("getsockname after connect: port %u, bound %u", sn.sxen_port,
		     c->port + 5);
	send_byte(fd, 9, "from the bound client");
	close(fd);
}

static void s_echo_one(const struct ctx *c)
{
	int fd = srv_accept(c, NULL);
	unsigned char b;

	recv_all(fd, &b, 1, "request");
	send_byte(fd, b ^ 0xff, "reply");
	close(fd);
}

static void c_connect_nonblock(const struct ctx *c)
{
	int fd = afx_socket(SOCK_NONBLOCK), err, soerr = -1;
	socklen_t len = sizeof(soerr);
	short ev;

	ctl_expectln("LISTENING");
	err = afx_try_connect(fd, g_peer_domid, c->port);
	if (err == 0) {
		note("nonblocking connect completed at once");
	} else if (err != EINPROGRESS) {
		fail("nonblocking connect: expected %s, got %s",
		     errname(EINPROGRESS), errname(err));
	}
	step("poll for POLLOUT after a nonblocking connect");
	ev = poll_one(fd, POLLOUT, 15000);
	if (!(ev & POLLOUT) || (ev & (POLLERR | POLLHUP)))
		fail("poll after nonblocking connect: got %s, expected POLLOUT",
		     pollstr(ev));
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len))
		fail("getsockopt(SO_ERROR): %s", errname(errno));
	if (soerr)
		fail("SO_ERROR after nonblocking connect: %s", errname(soerr));
	err = afx_try_connect(fd, g_peer_domid, c->port);
	if (err != EISCONN)
		fail("connect again after completion: expected %s, got %s",
		     errname(EISCONN), errname(err));
	set_nonblock(fd, false);
	send_byte(fd, 0x3c, "request");
	recv_byte(fd, 0x3c ^ 0xff, "reply");
	close(fd);
}

static void s_ready_wait_done(const struct ctx *c)
{
	(void)c;
	ctl_writeln("READY");
	ctl_expectln("DONE");
}

static void c_connect_nonblock_refused(const struct ctx *c)
{
	int fd = afx_socket(SOCK_NONBLOCK), err;
	socklen_t len = sizeof(err);

	ctl_expectln("READY");
	err = afx_try_connect(fd, g_peer_domid, c->port);
	if (err == EINPROGRESS) {
		short ev = poll_one(fd, POLLOUT | POLLIN, 15000);

		if (!ev)
			fail("nonblocking connect to a closed port: no poll event within 15 s");
		if (!(ev & (POLLERR | POLLHUP)))
			fail("nonblocking connect to a closed port: poll says %s, expected POLLERR or POLLHUP",
			     pollstr(ev));
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len))
			fail("getsockopt(SO_ERROR): %s", errname(errno));
		if (err != ECONNREFUSED)
			fail("SO_ERROR after a refused nonblocking connect: expected %s, got %s",
			     errname(ECONNREFUSED), errname(err));
	} else if (err != ECONNREFUSED) {
		fail("nonblocking connect to a closed port: expected %s or %s, got %s",
		     errname(EINPROGRESS), errname(ECONNREFUSED), errname(err));
	}
	close(fd);
	ctl_writeln("DONE");
}

static void s_accept4_flags(const struct ctx *c)
{
	int lfd = afx_socket(SOCK_NONBLOCK), fd;
	short ev;
	char b;

	afx_bind(lfd, XEN_DOMID_ANY, c->port);
	if (listen(lfd, 4))
		fail("listen: %s", errname(errno));
	expect_err(accept(lfd, NULL, NULL), EAGAIN,
		   "accept on an empty nonblocking listener");
	ctl_writeln("LISTENING");
	step("poll the listener for the client's connection");
	ev = poll_one(lfd, POLLIN, 15000);
	if (!(ev & POLLIN))
		fail("poll on the listener: %s, expected POLLIN for a pending connection",
		     pollstr(ev));
	expect_err(accept4(lfd, NULL, NULL, 0x1), EINVAL,
		   "accept4 with an invalid flag");
	step("accept4(SOCK_NONBLOCK | SOCK_CLOEXEC)");
	fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		fail("accept4(SOCK_NONBLOCK|SOCK_CLOEXEC): %s", errname(errno));
	if (!(fcntl(fd, F_GETFL) & O_NONBLOCK))
		fail("accept4(SOCK_NONBLOCK): accepted socket is blocking");
	if (!(fcntl(fd, F_GETFD) & FD_CLOEXEC))
		fail("accept4(SOCK_CLOEXEC): FD_CLOEXEC not set");
	expect_err(recv(fd, &b, 1, 0), EAGAIN,
		   "recv on the accepted nonblocking socket with no data");
	expect_err(accept(lfd, NULL, NULL), EAGAIN,
		   "accept on the drained nonblocking listener");
	ctl_writeln("ACCEPTED");
	ev = poll_one(fd, POLLIN, 15000);
	if (!(ev & POLLIN))
		fail("poll for the client's byte: %s", pollstr(ev));
	recv_byte(fd, 0x55, "after accept4");
	close(fd);
	close(lfd);
}

static void c_accept4_flags(const struct ctx *c)
{
	int fd = cli_connect(c, 0);

	ctl_expectln("ACCEPTED");
	send_byte(fd, 0x55, "after accept4");
	close(fd);
}

/* ================================================================== */
/* Cross-guest cases: data integrity                                   */

static void xfer_send(const struct ctx *c, int fd)
{
	uint64_t h;
	double t0 = now_s(), dt;

	send_stream(fd, SEED(c, 0), c->tc->size, &h);
	xshutdown(fd, SHUT_WR);
	dt = now_s() - t0;
	ctl_writeln("SUM %llu %llu", (unsigned long long)c->tc->size,
		    (unsigned long long)h);
	ctl_expectln("VERIFIED");
	if (c->tc->size >= MiB)
		note("sent %llu bytes in %.2f s (%.1f MB/s)",
		     (unsigned long long)c->tc->size, dt,
		     c->tc->size / 1e6 / (dt > 0 ? dt : 1e-9));
	close(fd);
}

static void xfer_recv(const struct ctx *c, int fd)
{
	unsigned long long n, sh;
	uint64_t h;

	recv_stream(fd, SEED(c, 0), c->tc->size, &h);
	expect_eof(fd, "after the payload");
	ctl_expect_2num("SUM", &n, &sh);
	if (n != c->tc->size || sh != h)
		fail("checksum: sender sent %llu bytes with FNV-1a %016llx, we received %llu with %016llx",
		     n, sh, (unsigned long long)c->tc->size,
		     (unsigned long long)h);
	ctl_writeln("VERIFIED");
	close(fd);
}

/* tc->arg: 0 client to server, 1 server to client */
static void s_data(const struct ctx *c)
{
	int fd = srv_accept(c, NULL), v;

	if (c->tc->ring && (v = get_ring(fd)) != c->tc->ring)
		fail("accepted socket has ring size %d, the connector set %d", v,
		     c->tc->ring);
	if (c->tc->arg)
		xfer_send(c, fd);
	else
		xfer_recv(c, fd);
}

static void c_data(const struct ctx *c)
{
	int fd = cli_connect(c, c->tc->ring);

	if (c->tc->arg)
		xfer_recv(c, fd);
	else
		xfer_send(c, fd);
}

static void bidir(const struct ctx *c, int fd, uint64_t tx, uint64_t rx)
{
	unsigned long long n, sh;
	uint64_t th, rh;
	double t0 = now_s();

	bidir_stream(fd, tx, c->tc->size, rx, c->tc->size, &th, &rh);
	note("%llu bytes each way in %.2f s", (unsigned long long)c->tc->size,
	     now_s() - t0);
	ctl_writeln("SUM %llu %llu", (unsigned long long)c->tc->size,
		    (unsigned long long)th);
	ctl_expect_2num("SUM", &n, &sh);
	if (n != c->tc->size || sh != rh)
		fail("checksum: peer sent %llu bytes with FNV-1a %016llx, we received %llu with %016llx",
		     n, sh, (unsigned long long)c->tc->size,
		     (unsigned long long)rh);
	close(fd);
}

static void s_bidir(const struct ctx *c)
{
	bidir(c, srv_accept(c, NULL), SEED(c, 1), SEED(c, 2));
}

static void c_bidir(const struct ctx *c)
{
	bidir(c, cli_connect(c, c->tc->ring), SEED(c, 2), SEED(c, 1));
}

/* ---- scatter/gather ---- */

static const size_t wlens[] = { 1, 0, 100, 4096, 7, 20000, 3, 4097 };
static const size_t rlens[] = { 3, 5000, 1, 19200, 2, 4092, 6 };
#define IOV_TOTAL 28304

static struct iovec *make_iov(const size_t *lens, int n, unsigned char *base)
{
	struct iovec *iov = calloc(n, sizeof(*iov));
	size_t off = 0;

	if (!iov)
		fail("malloc: out of memory");
	for (int i = 0; i < n; i++) {
		iov[i].iov_base = base + off;
		iov[i].iov_len = lens[i];
		off += lens[i];
	}
	if (off != IOV_TOTAL)
		fail("afx_test bug: iovec total %zu", off);
	return iov;
}

static void iov_advance(struct iovec **iov, int *n, size_t done)
{
	while (*n && done >= (*iov)->iov_len) {
		done -= (*iov)->iov_len;
		(*iov)++;
		(*n)--;
	}
	if (*n) {
		(*iov)->iov_base = (char *)(*iov)->iov_base + done;
		(*iov)->iov_len -= done;
	}
}

static void s_iov(const struct ctx *c)
{
	int n = sizeof(rlens) / sizeof(rlens[0]), fd = srv_accept(c, NULL);
	unsigned char *buf = calloc(1, IOV_TOTAL);
	struct iovec *iov0, *iov;
	size_t total = 0;

	if (!buf)
		fail("malloc: out of memory");
	iov = iov0 = make_iov(rlens, n, buf);
	while (total < IOV_TOTAL) {
		ssize_t r;

		if (c->tc->arg) {
			struct msghdr m = { .msg_iov = iov, .msg_iovlen = n };

			step("recvmsg with %d iovecs, %zu of %d bytes in", n, total,
			     IOV_TOTAL);
			r = recvmsg(fd, &m, 0);
			if (r > 0 && (m.msg_flags & (MSG_TRUNC | MSG_CTRUNC)))
				fail("recvmsg set msg_flags 0x%x on a stream",
				     m.msg_flags);
		} else {
			step("readv with %d iovecs, %zu of %d bytes in", n, total,
			     IOV_TOTAL);
			r = readv(fd, iov, n);
		}
		if (r < 0)
			fail("%s after %zu bytes: %s", c->tc->arg ? "recvmsg" : "readv",
			     total, errname(errno));
		if (r == 0)
			fail("EOF after %zu of %d bytes", total, IOV_TOTAL);
		total += r;
		iov_advance(&iov, &n, r);
	}
	check_bytes(SEED(c, 0), 0, buf, IOV_TOTAL, "scatter/gather payload");
	expect_eof(fd, "after the payload");
	free(iov0);
	free(buf);
	close(fd);
}

static void c_iov(const struct ctx *c)
{
	int n = sizeof(wlens) / sizeof(wlens[0]), fd = cli_connect(c, 0);
	unsigned char *buf = malloc(IOV_TOTAL);
	struct iovec *iov0, *iov;
	size_t total = 0;

	if (!buf)
		fail("malloc: out of memory");
	gen_bytes(SEED(c, 0), 0, buf, IOV_TOTAL);
	iov = iov0 = make_iov(wlens, n, buf);
	while (total < IOV_TOTAL) {
		ssize_t w;

		if (c->tc->arg) {
			struct msghdr m = { .msg_iov = iov, .msg_iovlen = n };

			step("sendmsg with %d iovecs", n);
			w = sendmsg(fd, &m, MSG_NOSIGNAL);
		} else {
			step("writev with %d iovecs", n);
			w = writev(fd, iov, n);
		}
		if (w <= 0)
			fail("%s after %zu bytes: %s", c->tc->arg ? "sendmsg" : "writev",
			     total, w ? errname(errno) : "returned 0");
		total += w;
		iov_advance(&iov, &n, w);
	}
	xshutdown(fd, SHUT_WR);
	free(iov0);
	free(buf);
	close(fd);
}

/* ================================================================== */
/* Cross-guest cases: recv flags and socket options                    */

static void s_msg_peek(const struct ctx *c)
{
	unsigned char want[64], got[64];
	int fd = srv_accept(c, NULL);
	ssize_t r;

	gen_bytes(SEED(c, 0), 0, want, sizeof(want));
	expect_err(recv(fd, got, sizeof(got), MSG_PEEK | MSG_DONTWAIT), EAGAIN,
		   "recv(MSG_PEEK|MSG_DONTWAIT) on an empty socket");
	ctl_writeln("EMPTY_CHECKED");
	ctl_expectln("SENT");
	step("recv(MSG_PEEK, 32)");
	r = recv(fd, got, 32, MSG_PEEK);
	if (r != 32)
		fail("recv(MSG_PEEK, 32): returned %zd (%s)", r,
		     r < 0 ? errname(errno) : "short");
	if (memcmp(got, want, 32))
		fail("recv(MSG_PEEK, 32): wrong bytes");
	step("recv(MSG_PEEK, 64)");
	r = recv(fd, got, 64, MSG_PEEK);
	if (r != 64)
		fail("recv(MSG_PEEK, 64) with 64 bytes queued: returned %zd (%s)", r,
		     r < 0 ? errname(errno) : "short");
	if (memcmp(got, want, 64))
		fail("recv(MSG_PEEK, 64): wrong bytes");
	memset(got, 0, sizeof(got));
	recv_all(fd, got, 64, "after peeking");
	if (memcmp(got, want, 64))
		fail("data read after MSG_PEEK differs from what was peeked");
	expect_err(recv(fd, got, 1, MSG_DONTWAIT), EAGAIN,
		   "recv after reading all peeked data (peek must not duplicate)");
	close(fd);
}

static void c_msg_peek(const struct ctx *c)
{
	unsigned char buf[64];
	int fd = cli_connect(c, 0);

	gen_bytes(SEED(c, 0), 0, buf, sizeof(buf));
	ctl_expectln("EMPTY_CHECKED");
	send_all(fd, buf, sizeof(buf), "peek payload");
	ctl_writeln("SENT");
	expect_eof(fd, "server closes");
	close(fd);
}

static void s_msg_waitall(const struct ctx *c)
{
	unsigned char got[3000];
	int fd = srv_accept(c, NULL);
	double t0 = now_s();
	ssize_t r;

	step("recv(3000, MSG_WAITALL) while the client sends 3 x 1000 bytes, 300 ms apart");
	r = recv(fd, got, sizeof(got), MSG_WAITALL);
	if (r != (ssize_t)sizeof(got))
		fail("recv(MSG_WAITALL, 3000) returned %zd%s%s", r,
		     r < 0 ? ": " : " (short read)", r < 0 ? errname(errno) : "");
	if (now_s() - t0 < 0.4)
		fail("recv(MSG_WAITALL) returned after %.2f s, before the last chunk was sent",
		     now_s() - t0);
	check_bytes(SEED(c, 0), 0, got, sizeof(got), "MSG_WAITALL payload");
	close(fd);
}

static void c_msg_waitall(const struct ctx *c)
{
	unsigned char buf[3000];
	int fd = cli_connect(c, 0);

	gen_bytes(SEED(c, 0), 0, buf, sizeof(buf));
	for (int i = 0; i < 3; i++) {
		msleep(300);
		send_all(fd, buf + i * 1000, 1000, "one third");
	}
	expect_eof(fd, "server closes");
	close(fd);
}

/* Fill a 4 KiB ring with nonblocking sends; returns bytes accepted. */
static size_t fill_ring(int fd, int flags)
{
	unsigned char buf[8192];
	size_t total = 0;

	memset(buf, 0xa5, sizeof(buf));
	for (int i = 0; i < 64; i++) {
		ssize_t w = send(fd, buf, sizeof(buf), flags | MSG_NOSIGNAL);

		if (w < 0 && errno == EAGAIN)
			return total;
		if (w <= 0)
			fail("send while filling the ring (after %zu bytes): %s",
			     total, w ? errname(errno) : "returned 0");
		total += w;
	}
	fail("sent %zu bytes to a 4 KiB ring without EAGAIN", total);
}

static void drain(int fd, size_t n, const char *what)
{
	unsigned char *b = malloc(n ? n : 1);

	if (!b)
		fail("malloc: out of memory");
	recv_all(fd, b, n, what);
	for (size_t i = 0; i < n; i++)
		if (b[i] != 0xa5)
			fail("%s: byte %zu is 0x%02x, expected 0xa5", what, i, b[i]);
	free(b);
}

static void s_msg_dontwait(const struct ctx *c)
{
	int fd = srv_accept(c, NULL);
	char b;

	expect_err(recv(fd, &b, 1, MSG_DONTWAIT), EAGAIN,
		   "recv(MSG_DONTWAIT) on an empty socket");
	ctl_writeln("CHECKED");
	drain(fd, ctl_expect_num("FULL"), "ring contents");
	ctl_writeln("DRAINED");
	drain(fd, 1, "byte after the drain");
	close(fd);
}

static void c_msg_dontwait(const struct ctx *c)
{
	int fd = cli_connect(c, XEN_RING_SIZE_MIN);
	size_t n;
	short ev;

	ctl_expectln("CHECKED");
	step("fill the 4 KiB ring with send(MSG_DONTWAIT)");
	n = fill_ring(fd, MSG_DONTWAIT);
	if (n == 0)
		fail("send(MSG_DONTWAIT) on an empty 4 KiB ring returned EAGAIN at once");
	if (n != XEN_RING_SIZE_MIN)
		note("a 4 KiB ring took %zu bytes before EAGAIN", n);
	ev = poll_one(fd, POLLOUT, 300);
	if (ev & POLLOUT)
		fail("poll reports POLLOUT on a full ring (after %zu bytes)", n);
	ctl_writeln("FULL %zu", n);
	ctl_expectln("DRAINED");
	step("poll for POLLOUT after the reader drained the ring");
	ev = poll_one(fd, POLLOUT, 10000);
	if (!(ev & POLLOUT))
		fail("no POLLOUT within 10 s after the peer drained the ring (poll: %s)",
		     pollstr(ev));
	{
		unsigned char b = 0xa5;

		if (send(fd, &b, 1, MSG_DONTWAIT) != 1)
			fail("send(MSG_DONTWAIT) after the drain: %s", errname(errno));
	}
	expect_eof(fd, "server closes");
	close(fd);
}

static void s_so_rcvtimeo(const struct ctx *c)
{
	int fd = srv_accept(c, NULL);
	struct timeval tv;
	socklen_t len = sizeof(tv);
	double t0, dt;
	char b;

	set_timeo(fd, SO_RCVTIMEO, 400);
	if (getsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, &len) ||
	    tv.tv_sec != 0 || tv.tv_usec < 390000 || tv.tv_usec > 410000)
		fail("getsockopt(SO_RCVTIMEO) does not read back 400 ms");
	step("recv with SO_RCVTIMEO 400 ms and no data");
	t0 = now_s();
	expect_err(recv(fd, &b, 1, 0), EAGAIN, "recv with SO_RCVTIMEO, no data");
	dt = now_s() - t0;
	if (dt < 0.35 || dt > 3)
		fail("recv with SO_RCVTIMEO 400 ms returned EAGAIN after %.3f s",
		     dt);
	set_timeo(fd, SO_RCVTIMEO, 20000);
	ctl_writeln("TIMED_OUT");
	recv_byte(fd, 0x11, "after the timeout");
	close(fd);
}

static void c_so_rcvtimeo(const struct ctx *c)
{
	int fd = cli_connect(c, 0);

	ctl_expectln("TIMED_OUT");
	send_byte(fd, 0x11, "after the timeout");
	expect_eof(fd, "server closes");
	close(fd);
}

static void s_so_sndtimeo(const struct ctx *c)
{
	int fd = srv_accept(c, NULL);

	drain(fd, ctl_expect_num("FULL"), "ring contents");
	ctl_writeln("DRAINED");
	close(fd);
}

static void c_so_sndtimeo(const struct ctx *c)
{
	int fd = cli_connect(c, XEN_RING_SIZE_MIN);
	unsigned char buf[8192];
	size_t total = 0;
	double dt = 0;
	ssize_t w;

	memset(buf, 0xa5, sizeof(buf));
	set_timeo(fd, SO_SNDTIMEO, 400);
	for (int i = 0; i < 16; i++) {
		double t0 = now_s();

		step("blocking send with SO_SNDTIMEO 400 ms into a 4 KiB ring, %zu bytes in",
		     total);
		w = send(fd, buf, sizeof(buf), MSG_NOSIGNAL);
		dt = now_s() - t0;
		if (w < 0)
			break;
		if (w == 0)
			fail("send returned 0");
		total += w;
	}
	if (w >= 0)
		fail("blocking sends with SO_SNDTIMEO into a 4 KiB ring never failed (%zu bytes sent)",
		     total);
	expect_err(w, EAGAIN, "send with SO_SNDTIMEO on a full ring");
	if (dt < 0.35 || dt > 3)
		fail("send with SO_SNDTIMEO 400 ms returned EAGAIN after %.3f s", dt);
	if (total == 0 || total > XEN_RING_SIZE_MIN)
		fail("%zu bytes fitted into a 4 KiB ring", total);
	ctl_writeln("FULL %zu", total);
	ctl_expectln("DRAINED");
	close(fd);
}

static void s_so_rcvlowat(const struct ctx *c)
{
	unsigned char buf[128];
	int fd = srv_accept(c, NULL), lowat = 128;
	short ev;
	ssize_t r;

	if (setsockopt(fd, SOL_SOCKET, SO_RCVLOWAT, &lowat, sizeof(lowat)))
		fail("setsockopt(SO_RCVLOWAT, 128): %s", errname(errno));
	ctl_writeln("READY");
	ctl_expectln("SENT1");
	msleep(500);	/* the first 64 bytes are surely here */
	step("poll with SO_RCVLOWAT 128 and 64 bytes queued");
	ev = poll_one(fd, POLLIN, 500);
	if (ev & POLLIN)
		fail("poll reports POLLIN with 64 bytes queued and SO_RCVLOWAT 128");
	ctl_writeln("CHECKED");
	ctl_expectln("SENT2");
	step("poll with SO_RCVLOWAT 128 and 128 bytes queued");
	ev = poll_one(fd, POLLIN, 10000);
	if (!(ev & POLLIN))
		fail("no POLLIN within 10 s with 128 bytes queued and SO_RCVLOWAT 128 (poll: %s)",
		     pollstr(ev));
	r = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
	if (r != (ssize_t)sizeof(buf))
		fail("recv after POLLIN returned %zd (%s), expected 128", r,
		     r < 0 ? errname(errno) : "short");
	check_bytes(SEED(c, 0), 0, buf, sizeof(buf), "SO_RCVLOWAT payload");
	close(fd);
}

static void c_so_rcvlowat(const struct ctx *c)
{
	unsigned char buf[128];
	int fd = cli_connect(c, 0);

	gen_bytes(SEED(c, 0), 0, buf, sizeof(buf));
	ctl_expectln("READY");
	send_all(fd, buf, 64, "first half");
	ctl_writeln("SENT1");
	ctl_expectln("CHECKED");
	send_all(fd, buf + 64, 64, "second half");
	ctl_writeln("SENT2");
	expect_eof(fd, "server closes");
	close(fd);
}

static void s_sioc(const struct ctx *c)
{
	unsigned char buf[1000];
	int fd = srv_accept(c, NULL), v = 0;
	double end;

	if ((v = inq(fd)) != 0)
		fail("SIOCINQ on a fresh connection: %d, expected 0", v);
	ctl_writeln("ACCEPTED");
	ctl_expectln("SENT");
	end = now_s() + 5;
	while ((v = inq(fd)) < 1000 && now_s() < end)
		msleep(20);
	if (v != 1000)
		fail("SIOCINQ with 1000 unread bytes: %d", v);
	recv_all(fd, buf, 400, "first 400");
	if ((v = inq(fd)) != 600)
		fail("SIOCINQ after reading 400 of 1000 bytes: %d, expected 600", v);
	recv_all(fd, buf + 400, 600, "last 600");
	if ((v = inq(fd)) != 0)
		fail("SIOCINQ after reading everything: %d, expected 0", v);
	check_bytes(SEED(c, 0), 0, buf, sizeof(buf), "SIOCINQ payload");
	ctl_writeln("READ");
	ctl_expectln("DONE");
	close(fd);
}

static void c_sioc(const struct ctx *c)
{
	unsigned char buf[1000];
	int fd = cli_connect(c, 0), v;
	double end;

	gen_bytes(SEED(c, 0), 0, buf, sizeof(buf));
	ctl_expectln("ACCEPTED");
	if ((v = outq(fd)) != 0)
		fail("SIOCOUTQ on a fresh connection: %d, expected 0", v);
	send_all(fd, buf, sizeof(buf), "1000 bytes");
	if ((v = outq(fd)) != 1000)
		fail("SIOCOUTQ with 1000 bytes sent and unread by the peer: %d", v);
	ctl_writeln("SENT");
	ctl_expectln("READ");
	end = now_s() + 5;
	while ((v = outq(fd)) != 0 && now_s() < end)
		msleep(20);
	if (v != 0)
		fail("SIOCOUTQ after the peer read everything: %d, expected 0", v);
	ctl_writeln("DONE");
	close(fd);
}

/* ================================================================== */
/* Cross-guest cases: poll, epoll, shutdown, close                     */

static void s_poll_events(const struct ctx *c)
{
	int fd = srv_accept(c, NULL);
	const short all = POLLIN | POLLOUT | POLLRDHUP;
	short ev;

	ev = poll_one(fd, all, 0);
	if (!(ev & POLLOUT) || (ev & (POLLIN | POLLRDHUP | POLLHUP | POLLERR)))
		fail("fresh connection polls %s, expected POLLOUT only", pollstr(ev));
	ctl_writeln("IDLE_CHECKED");
	step("poll for POLLIN after the client's byte");
	ev = poll_one(fd, POLLIN, 10000);
	if (!(ev & POLLIN))
		fail("no POLLIN within 10 s after the peer sent a byte (poll: %s)",
		     pollstr(ev));
	recv_byte(fd, 0x77, "poll trigger");
	ev = poll_one(fd, all, 0);
	if (ev & (POLLIN | POLLRDHUP))
		fail("after reading the only byte, poll says %s", pollstr(ev));
	ctl_writeln("READ");
	ctl_expectln("SHUT_WR");
	step("poll for POLLRDHUP after the client's shutdown(SHUT_WR)");
	ev = poll_one(fd, POLLIN | POLLRDHUP, 10000);
	if ((ev & (POLLIN | POLLRDHUP)) != (POLLIN | POLLRDHUP))
		fail("after the peer's shutdown(SHUT_WR) poll says %s, expected POLLIN|POLLRDHUP",
		     pollstr(ev));
	ev = poll_one(fd, all, 0);
	if (ev & POLLHUP)
		fail("POLLHUP while our own direction is still open (poll: %s)",
		     pollstr(ev));
	if (!(ev & POLLOUT))
		fail("after the peer's SHUT_WR our direction is open, but poll says %s",
		     pollstr(ev));
	xshutdown(fd, SHUT_WR);
	ev = poll_one(fd, all, 1000);
	if (!(ev & POLLHUP))
		fail("both directions shut down, poll says %s, expected POLLHUP",
		     pollstr(ev));
	ctl_writeln("BOTH_SHUT");
	ctl_expectln("DONE");
	close(fd);
}

static void c_poll_events(const struct ctx *c)
{
	int fd = cli_connect(c, 0);
	short ev;

	ctl_expectln("IDLE_CHECKED");
	send_byte(fd, 0x77, "poll trigger");
	ctl_expectln("READ");
	xshutdown(fd, SHUT_WR);
	ctl_writeln("SHUT_WR");
	ctl_expectln("BOTH_SHUT");
	step("poll after both sides' SHUT_WR");
	ev = poll_one(fd, POLLIN | POLLRDHUP, 10000);
	if ((ev & (POLLIN | POLLRDHUP | POLLHUP)) != (POLLIN | POLLRDHUP | POLLHUP))
		fail("we and the peer shut down writing; poll says %s, expected POLLIN|POLLRDHUP|POLLHUP",
		     pollstr(ev));
	expect_eof(fd, "after the peer's SHUT_WR");
	ctl_writeln("DONE");
	close(fd);
}

static void s_epoll_et(const struct ctx *c)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP | EPOLLET };
	unsigned char *buf = malloc(4000);
	int fd = srv_accept(c, NULL), ep;
	uint64_t off = 0;

	if (!buf)
		fail("malloc: out of memory");
	set_nonblock(fd, true);
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		fail("epoll_create1: %s", errname(errno));
	ev.data.fd = fd;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev))
		fail("epoll_ctl(ADD): %s", errname(errno));
	for (int round = 0; round < 3; round++) {
		size_t got = 0;

		ctl_writeln("SEND");
		while (got < 3000) {
			struct epoll_event out;
			int n;

			step("epoll_wait for burst %d (%zu of 3000 bytes read)",
			     round, got);
			n = epoll_wait(ep, &out, 1, 10000);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				fail("epoll_wait: %s", errname(errno));
			if (n == 0)
				fail("burst %d: no edge within 10 s with %zu of 3000 bytes read",
				     round, got);
			/* Edge-triggered: read until EAGAIN. */
			for (;;) {
				ssize_t r = recv(fd, buf + got, 4000 - got, 0);

				if (r < 0 && errno == EAGAIN)
					break;
				if (r < 0)
					fail("recv: %s", errname(errno));
				if (r == 0)
					fail("EOF in burst %d", round);
				got += r;
			}
			if (got > 3000)
				fail("burst %d: read %zu bytes, 3000 were sent", round,
				     got);
		}
		check_bytes(SEED(c, 0), off, buf, 3000, "epoll payload");
		off += 3000;
		/* The edge was consumed: no new event without new data. */
		{
			struct epoll_event out;
			int n = epoll_wait(ep, &out, 1, 300);

			if (n > 0)
				fail("burst %d: edge-triggered epoll fired again with no new data (events 0x%x)",
				     round, out.events);
		}
	}
	ctl_writeln("CLOSE");
	{
		struct epoll_event out;
		int n;

		step("epoll_wait for the peer's close");
		do
			n = epoll_wait(ep, &out, 1, 10000);
		while (n < 0 && errno == EINTR);
		if (n != 1 || !(out.events & EPOLLRDHUP))
			fail("after the peer closed: epoll_wait returned %d, events 0x%x, expected EPOLLRDHUP",
			     n, n == 1 ? out.events : 0);
	}
	set_nonblock(fd, false);
	expect_eof(fd, "after the peer closed");
	close(ep);
	close(fd);
	free(buf);
}

static void c_epoll_et(const struct ctx *c)
{
	unsigned char buf[3000];
	int fd = cli_connect(c, 0);

	for (int round = 0; round < 3; round++) {
		ctl_expectln("SEND");
		gen_bytes(SEED(c, 0), round * 3000, buf, sizeof(buf));
		send_all(fd, buf, 1000, "burst part 1");
		send_all(fd, buf + 1000, 2000, "burst part 2");
	}
	ctl_expectln("CLOSE");
	close(fd);
}

static void s_shutdown_wr(const struct ctx *c)
{
	unsigned char buf[5000], reply[100];
	int fd = srv_accept(c, NULL);
	short ev;

	recv_all(fd, buf, sizeof(buf), "data before SHUT_WR");
	check_bytes(SEED(c, 0), 0, buf, sizeof(buf), "data before SHUT_WR");
	expect_eof(fd, "after the peer's SHUT_WR");
	ev = poll_one(fd, POLLIN | POLLRDHUP, 0);
	if ((ev & (POLLIN | POLLRDHUP)) != (POLLIN | POLLRDHUP))
		fail("after EOF poll says %s, expected POLLIN|POLLRDHUP", pollstr(ev));
	expect_eof(fd, "EOF again");
	/* Half-close: our direction still works. */
	gen_bytes(SEED(c, 1), 0, reply, sizeof(reply));
	send_all(fd, reply, sizeof(reply), "reply after the peer's SHUT_WR");
	close(fd);
}

static void c_shutdown_wr(const struct ctx *c)
{
	unsigned char buf[5000], reply[100];
	int fd = cli_connect(c, 0);
	char b = 0;

	gen_bytes(SEED(c, 0), 0, buf, sizeof(buf));
	send_all(fd, buf, sizeof(buf), "data before SHUT_WR");
	xshutdown(fd, SHUT_WR);
	step("send after SHUT_WR");
	expect_err(send(fd, &b, 1, MSG_NOSIGNAL), EPIPE,
		   "send after our own shutdown(SHUT_WR)");
	recv_all(fd, reply, sizeof(reply), "reply after our SHUT_WR");
	check_bytes(SEED(c, 1), 0, reply, sizeof(reply), "reply");
	expect_eof(fd, "after the server closed");
	close(fd);
}

static void s_shutdown_rd(const struct ctx *c)
{
	unsigned char buf[100];
	int fd = srv_accept(c, NULL);
	double t0;
	short ev;

	xshutdown(fd, SHUT_RD);
	t0 = now_s();
	expect_eof(fd, "blocking recv after our own SHUT_RD");
	if (now_s() - t0 > 1)
		fail("recv after SHUT_RD took %.2f s instead of returning 0 at once",
		     now_s() - t0);
	ev = poll_one(fd, POLLIN | POLLRDHUP | POLLOUT, 0);
	if ((ev & (POLLIN | POLLRDHUP)) != (POLLIN | POLLRDHUP) || !(ev & POLLOUT))
		fail("after SHUT_RD poll says %s, expected POLLIN|POLLRDHUP|POLLOUT",
		     pollstr(ev));
	/* Our sending direction is unaffected. */
	gen_bytes(SEED(c, 0), 0, buf, sizeof(buf));
	send_all(fd, buf, sizeof(buf), "send after our own SHUT_RD");
	ctl_expectln("DONE");
	close(fd);
}

static void c_shutdown_rd(const struct ctx *c)
{
	unsigned char buf[100];
	int fd = cli_connect(c, 0);

	recv_all(fd, buf, sizeof(buf), "data sent after the peer's SHUT_RD");
	check_bytes(SEED(c, 0), 0, buf, sizeof(buf), "data after SHUT_RD");
	ctl_writeln("DONE");
	close(fd);
}

static void s_shutdown_rdwr(const struct ctx *c)
{
	int fd = srv_accept(c, NULL);
	short ev;

	recv_byte(fd, 0x21, "before the peer's SHUT_RDWR");
	expect_eof(fd, "after the peer's SHUT_RDWR");
	ev = poll_one(fd, POLLIN | POLLRDHUP, 0);
	if ((ev & (POLLIN | POLLRDHUP)) != (POLLIN | POLLRDHUP))
		fail("after the peer's SHUT_RDWR poll says %s, expected POLLIN|POLLRDHUP",
		     pollstr(ev));
	ctl_writeln("SEEN");
	ctl_expectln("DONE");
	close(fd);
}

static void c_shutdown_rdwr(const struct ctx *c)
{
	int fd = cli_connect(c, 0);
	short ev;
	char b = 0;

	send_byte(fd, 0x21, "before SHUT_RDWR");
	xshutdown(fd, SHUT_RDWR);
	expect_eof(fd, "recv after our own SHUT_RDWR");
	expect_err(send(fd, &b, 1, MSG_NOSIGNAL), EPIPE,
		   "send after our own SHUT_RDWR");
	ev = poll_one(fd, POLLIN | POLLOUT | POLLRDHUP, 0);
	if (!(ev & POLLHUP))
		fail("after SHUT_RDWR poll says %s, expected POLLHUP", pollstr(ev));
	ctl_expectln("SEEN");
	ctl_writeln("DONE");
	close(fd);
}

/* tc->arg: 0 = plain send (SIGPIPE expected), 1 = MSG_NOSIGNAL */
static void check_epipe(int fd, bool nosignal)
{
	char b = 'x';
	ssize_t r;

	g_sigpipes = 0;
	catch_signal(SIGPIPE, on_sigpipe);
	step("send to a closed peer%s", nosignal ? " with MSG_NOSIGNAL" : "");
	r = send(fd, &b, 1, nosignal ? MSG_NOSIGNAL : 0);
	expect_err(r, EPIPE, nosignal ? "send(MSG_NOSIGNAL) after the peer closed" :
					"send after the peer closed");
	if (!nosignal && g_sigpipes != 1)
		fail("send after the peer closed failed with EPIPE but raised %d SIGPIPE (expected 1)",
		     (int)g_sigpipes);
	if (nosignal && g_sigpipes)
		fail("send(MSG_NOSIGNAL) after the peer closed raised SIGPIPE");
	r = write(fd, &b, 1);
	expect_err(r, EPIPE, "write after the peer closed");
	if (!nosignal && g_sigpipes != 2)
		fail("write after the peer closed raised %d SIGPIPE in total (expected 2)",
		     (int)g_sigpipes);
}

/* Server closes, client sees EOF then EPIPE + SIGPIPE. */
static void s_peer_close_sigpipe(const struct ctx *c)
{
	unsigned char buf[10];
	int fd = srv_accept(c, NULL);

	gen_bytes(SEED(c, 0), 0, buf, sizeof(buf));
	send_all(fd, buf, sizeof(buf), "last words");
	close(fd);
}

static void c_peer_close_sigpipe(const struct ctx *c)
{
	unsigned char buf[10];
	int fd = cli_connect(c, 0);

	recv_all(fd, buf, sizeof(buf), "data sent before the peer closed");
	check_bytes(SEED(c, 0), 0, buf, sizeof(buf), "data before close");
	expect_eof(fd, "after the peer closed");
	check_epipe(fd, false);
	close(fd);
}

/* Client closes, server sees EOF then EPIPE without a signal. */
static void s_peer_close_nosignal(const struct ctx *c)
{
	unsigned char buf[10];
	int fd = srv_accept(c, NULL);

	recv_all(fd, buf, sizeof(buf), "data sent before the peer closed");
	check_bytes(SEED(c, 0), 0, buf, sizeof(buf), "data before close");
	expect_eof(fd, "after the peer closed");
	check_epipe(fd, true);
	close(fd);
}

static void c_peer_close_nosignal(const struct ctx *c)
{
	unsigned char buf[10];
	int fd = cli_connect(c, 0);

	gen_bytes(SEED(c, 0), 0, buf, sizeof(buf));
	send_all(fd, buf, sizeof(buf), "last words");
	close(fd);
}

static void s_close_unread(const struct ctx *c)
{
	unsigned char buf[1000];
	int lfd = afx_listen(XEN_DOMID_ANY, c->port, 4), fd;
	ssize_t r;
	char b = 0;

	ctl_writeln("LISTENING");
	fd = afx_accept(lfd, NULL);
	memset(buf, 0x5a, sizeof(buf));
	send_all(fd, buf, sizeof(buf), "data the peer will not read");
	ctl_writeln("SENT");
	ctl_expectln("CLOSED");
	/*
	 * The peer closed with our data unread.  Stream families differ
	 * here (TCP resets, AF_UNIX and AF_VSOCK report EOF), so accept
	 * EOF or ECONNRESET, then EPIPE or ECONNRESET on send.
	 */
	step("recv after the peer closed with unread data");
	r = recv(fd, &b, 1, 0);
	if (r > 0)
		fail("recv after the peer closed returned data");
	if (r < 0 && errno != ECONNRESET)
		fail("recv after the peer closed with unread data: expected EOF or %s, got %s",
		     errname(ECONNRESET), errname(errno));
	expect_err2(send(fd, &b, 1, MSG_NOSIGNAL), EPIPE, ECONNRESET,
		    "send after the peer closed with unread data");
	close(fd);
	/* The listener still works. */
	fd = afx_accept(lfd, NULL);
	recv_byte(fd, 0x66, "second connection");
	send_byte(fd, 0x67, "second connection");
	close(fd);
	close(lfd);
}

static void c_close_unread(const struct ctx *c)
{
	int fd = cli_connect(c, 0);
	double t0;
	short ev;

	ctl_expectln("SENT");
	ev = poll_one(fd, POLLIN, 10000);
	if (!(ev & POLLIN))
		fail("the server's data did not arrive within 10 s (poll: %s)",
		     pollstr(ev));
	t0 = now_s();
	step("close with unread data");
	close(fd);
	if (now_s() - t0 > 2)
		fail("close with unread data took %.2f s", now_s() - t0);
	ctl_writeln("CLOSED");
	fd = afx_connect(g_peer_domid, c->port);
	send_byte(fd, 0x66, "second connection");
	recv_byte(fd, 0x67, "second connection");
	close(fd);
}

/* ================================================================== */
/* Cross-guest cases: ring size, statistics, several connections       */

static void s_ring_inherit(const struct ctx *c)
{
	int lfd = afx_socket(0), a, b, v, r = 8192;
	unsigned char *buf = malloc(65536);

	if (!buf)
		fail("malloc: out of memory");
	set_ring(lfd, XEN_RING_SIZE_MAX);	/* listener's own choice: ignored */
	afx_bind(lfd, XEN_DOMID_ANY, c->port);
	if (listen(lfd, 4))
		fail("listen: %s", errname(errno));
	step("setsockopt(XEN_SO_RING_SIZE) on a listening socket");
	expect_err2(setsockopt(lfd, g_family, XEN_SO_RING_SIZE, &r, sizeof(r)),
		    EISCONN, EINVAL, "setsockopt(XEN_SO_RING_SIZE) after listen");
	ctl_writeln("LISTENING");
	a = afx_accept(lfd, NULL);
	if ((v = get_ring(a)) != XEN_RING_SIZE_MIN)
		fail("accepted socket reports ring size %d; the connector chose 4096",
		     v);
	step("setsockopt(XEN_SO_RING_SIZE) on an accepted socket");
	expect_err(setsockopt(a, g_family, XEN_SO_RING_SIZE, &r, sizeof(r)),
		   EISCONN, "setsockopt(XEN_SO_RING_SIZE) on an accepted socket");
	recv_all(a, buf, 65536, "64 KiB through a 4 KiB ring");
	check_bytes(SEED(c, 0), 0, buf, 65536, "64 KiB through a 4 KiB ring");
	b = afx_accept(lfd, NULL);
	if ((v = get_ring(b)) != XEN_RING_SIZE_DEFAULT)
		fail("accepted socket reports ring size %d; the connector used the default %d",
		     v, XEN_RING_SIZE_DEFAULT);
	ctl_writeln("CHECKED");
	close(a);
	close(b);
	close(lfd);
	free(buf);
}

static void c_ring_inherit(const struct ctx *c)
{
	int a, b, v, r = 8192;
	unsigned char *buf = malloc(65536);

	if (!buf)
		fail("malloc: out of memory");
	ctl_expectln("LISTENING");
	a = afx_connect_ring(g_peer_domid, c->port, XEN_RING_SIZE_MIN);
	if ((v = get_ring(a)) != XEN_RING_SIZE_MIN)
		fail("connected socket reports ring size %d, we set 4096", v);
	step("setsockopt(XEN_SO_RING_SIZE) after connect");
	expect_err(setsockopt(a, g_family, XEN_SO_RING_SIZE, &r, sizeof(r)),
		   EISCONN, "setsockopt(XEN_SO_RING_SIZE) after connect");
	gen_bytes(SEED(c, 0), 0, buf, 65536);
	send_all(a, buf, 65536, "64 KiB through a 4 KiB ring");
	b = afx_connect(g_peer_domid, c->port);
	if ((v = get_ring(b)) != XEN_RING_SIZE_DEFAULT)
		fail("connected socket with the default ring reports %d", v);
	ctl_expectln("CHECKED");
	close(a);
	close(b);
	free(buf);
}

static void s_stats(const struct ctx *c)
{
	int fd = srv_accept(c, NULL);
	struct xen_so_stats st;
	unsigned char back[1000];
	uint64_t h;

	st = get_stats(fd);
	if (st.bytes_sent || st.bytes_received)
		fail("fresh connection: bytes_sent %llu, bytes_received %llu, expected 0",
		     (unsigned long long)st.bytes_sent,
		     (unsigned long long)st.bytes_received);
	ctl_writeln("ACCEPTED");
	/* The client waits 500 ms, so our first read sleeps on an empty ring. */
	recv_stream(fd, SEED(c, 0), c->tc->size, &h);
	st = get_stats(fd);
	note("receiver: bytes_received %llu, notifies_received %llu, notifies_sent %llu, waits_data %llu",
	     (unsigned long long)st.bytes_received,
	     (unsigned long long)st.notifies_received,
	     (unsigned long long)st.notifies_sent,
	     (unsigned long long)st.waits_data);
	if (st.bytes_received != c->tc->size)
		fail("receiver: bytes_received %llu after reading %llu bytes",
		     (unsigned long long)st.bytes_received,
		     (unsigned long long)c->tc->size);
	if (st.bytes_sent)
		fail("receiver: bytes_sent %llu, but it sent nothing",
		     (unsigned long long)st.bytes_sent);
	if (!st.waits_data)
		fail("receiver: waits_data 0, but the first read had to sleep");
	if (!st.notifies_received)
		fail("receiver: notifies_received 0, but it slept and was woken");
	gen_bytes(SEED(c, 1), 0, back, sizeof(back));
	send_all(fd, back, sizeof(back), "1000 bytes back");
	st = get_stats(fd);
	if (st.bytes_sent != sizeof(back))
		fail("bytes_sent %llu after sending %zu bytes",
		     (unsigned long long)st.bytes_sent, sizeof(back));
	ctl_expectln("DONE");
	close(fd);
}

static void c_stats(const struct ctx *c)
{
	int fd = cli_connect(c, 0);
	struct xen_so_stats st;
	unsigned char back[1000];
	uint64_t h;

	ctl_expectln("ACCEPTED");
	msleep(500);
	send_stream(fd, SEED(c, 0), c->tc->size, &h);
	st = get_stats(fd);
	note("sender: bytes_sent %llu, notifies_sent %llu, notifies_received %llu, waits_space %llu",
	     (unsigned long long)st.bytes_sent,
	     (unsigned long long)st.notifies_sent,
	     (unsigned long long)st.notifies_received,
	     (unsigned long long)st.waits_space);
	if (st.bytes_sent != c->tc->size)
		fail("sender: bytes_sent %llu after writing %llu bytes",
		     (unsigned long long)st.bytes_sent,
		     (unsigned long long)c->tc->size);
	if (!st.notifies_sent)
		fail("sender: notifies_sent 0, but the reader was asleep when the data came");
	recv_all(fd, back, sizeof(back), "1000 bytes back");
	check_bytes(SEED(c, 1), 0, back, sizeof(back), "bytes back");
	st = get_stats(fd);
	if (st.bytes_received != sizeof(back))
		fail("sender: bytes_received %llu after reading %zu bytes",
		     (unsigned long long)st.bytes_received, sizeof(back));
	ctl_writeln("DONE");
	close(fd);
}

#define MULTI_N 5

static void s_multi_conn(const struct ctx *c)
{
	int lfd = afx_listen(XEN_DOMID_ANY, c->port, 8), fd[MULTI_N];
	struct sockaddr_xen p[MULTI_N];

	ctl_writeln("LISTENING");
	for (int i = 0; i < MULTI_N; i++) {
		fd[i] = afx_accept(lfd, &p[i]);
		for (int j = 0; j < i; j++)
			if (p[j].sxen_port == p[i].sxen_port)
				fail("accepted connections %d and %d share peer port %u",
				     j, i, p[i].sxen_port);
	}
	for (int i = 0; i < MULTI_N; i++) {
		unsigned char b;

		recv_all(fd[i], &b, 1, "connection id");
		send_byte(fd[i], b + 100, "echo");
	}
	for (int i = 0; i < MULTI_N; i++) {
		expect_eof(fd[i], "client closed");
		close(fd[i]);
	}
	close(lfd);
}

static void c_multi_conn(const struct ctx *c)
{
	int fd[MULTI_N];

	ctl_expectln("LISTENING");
	for (int i = 0; i < MULTI_N; i++)
		fd[i] = afx_connect(g_peer_domid, c->port);
	for (int i = 0; i < MULTI_N; i++)
		send_byte(fd[i], i, "connection id");
	for (int i = 0; i < MULTI_N; i++)
		recv_byte(fd[i], i + 100, "echo on the same connection");
	for (int i = 0; i < MULTI_N; i++)
		close(fd[i]);
}

#define BACKLOG_TRIES 5

static void s_backlog_full(const struct ctx *c)
{
	int lfd = afx_listen(XEN_DOMID_ANY, c->port, 1), n, got = 0;

	ctl_writeln("LISTENING");
	n = ctl_expect_num("CONNECTED");
	set_nonblock(lfd, true);
	for (;;) {
		int fd = accept(lfd, NULL, NULL);

		if (fd < 0 && errno == EAGAIN)
			break;
		if (fd < 0)
			fail("accept of queued connection %d: %s", got,
			     errname(errno));
		send_byte(fd, 0x44, "queued connection works");
		close(fd);
		got++;
	}
	if (got != n)
		fail("accepted %d queued connections, the client completed %d",
		     got, n);
	ctl_writeln("ACCEPTED");
	close(lfd);
}

static void c_backlog_full(const struct ctx *c)
{
	int fds[BACKLOG_TRIES], errs[BACKLOG_TRIES], n = 0, refused = 0;
	char list[160] = "";

	ctl_expectln("LISTENING");
	for (int i = 0; i < BACKLOG_TRIES; i++) {
		fds[i] = afx_socket(0);
		errs[i] = afx_try_connect(fds[i], g_peer_domid, c->port);
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
			 i ? ", " : "", errs[i] ? errname(errs[i]) : "ok");
		if (!errs[i])
			n++;
		else if (errs[i] == ECONNREFUSED)
			refused++;
	}
	note("listen(backlog 1), %d connects: %s", BACKLOG_TRIES, list);
	if (errs[0])
		fail("first connect to a listener with backlog 1 failed: %s",
		     errname(errs[0]));
	for (int i = 0; i < BACKLOG_TRIES; i++)
		if (errs[i] && errs[i] != ECONNREFUSED)
			fail("connect %d to a full backlog: expected %s, got %s (all: %s)",
			     i, errname(ECONNREFUSED), errname(errs[i]), list);
	if (!refused)
		fail("%d connections to a listener with backlog 1 were all accepted into the queue",
		     BACKLOG_TRIES);
	ctl_writeln("CONNECTED %d", n);
	ctl_expectln("ACCEPTED");
	for (int i = 0; i < BACKLOG_TRIES; i++) {
		if (!errs[i])
			recv_byte(fds[i], 0x44, "queued connection works");
		close(fds[i]);
	}
}

static void s_eintr_recv(const struct ctx *c)
{
	int fd = srv_accept(c, NULL);
	double t0;
	pid_t pid;
	char b;

	catch_signal(SIGUSR1, on_sigusr1);
	pid = spawn_signaller(SIGUSR1, 400);
	step("blocking recv, SIGUSR1 due in 400 ms");
	t0 = now_s();
	expect_err(recv(fd, &b, 1, 0), EINTR,
		   "blocking recv interrupted by a signal");
	if (now_s() - t0 > 5)
		fail("recv returned EINTR only after %.1f s", now_s() - t0);
	wait_child(pid, "signaller");
	ctl_writeln("INTERRUPTED");
	recv_byte(fd, 0x99, "after EINTR");
	close(fd);
}

static void c_eintr_recv(const struct ctx *c)
{
	int fd = cli_connect(c, 0);

	ctl_expectln("INTERRUPTED");
	send_byte(fd, 0x99, "after EINTR");
	expect_eof(fd, "server closes");
	close(fd);
}

static void s_seq_connect(const struct ctx *c)
{
	int lfd = afx_listen(XEN_DOMID_ANY, c->port, 16);

	ctl_writeln("LISTENING");
	for (int i = 0; i < c->tc->arg; i++) {
		uint32_t v;
		int fd;

		step("cycle %d of %d: accept", i, c->tc->arg);
		fd = afx_accept(lfd, NULL);
		recv_all(fd, &v, sizeof(v), "cycle request");
		if (v != (uint32_t)i)
			fail("cycle %d: request carries %u", i, v);
		v ^= 0x5a5a5a5a;
		send_all(fd, &v, sizeof(v), "cycle reply");
		expect_eof(fd, "client closed");
		close(fd);
	}
	close(lfd);
}

static void c_seq_connect(const struct ctx *c)
{
	double t0;

	ctl_expectln("LISTENING");
	t0 = now_s();
	for (int i = 0; i < c->tc->arg; i++) {
		uint32_t v = i;
		int fd = afx_socket(0), err;

		err = afx_try_connect(fd, g_peer_domid, c->port);
		if (err)
			fail("cycle %d of %d: connect: %s", i, c->tc->arg,
			     errname(err));
		send_all(fd, &v, sizeof(v), "cycle request");
		recv_all(fd, &v, sizeof(v), "cycle reply");
		if (v != ((uint32_t)i ^ 0x5a5a5a5a))
			fail("cycle %d: reply %08x", i, v);
		close(fd);
	}
	note("%d connect/close cycles in %.2f s", c->tc->arg, now_s() - t0);
}


/* ================================================================== */
/* Cross-guest cases: a hostile peer (modules built with AFX_DEBUG=1)  */

#ifdef XEN_SO_DEBUG_CORRUPT
static const char *const corrupt_names[] = {
	"", "prod beyond the ring", "prod moving backwards",
	"cons moving backwards", "garbage state flags",
	"data after EOF", "event storm", "oversized ring order",
	"grant count not matching the order", "a grant reference not ours",
	"a data page granted twice", "the control page listed as data",
};

/* The client turns hostile; the server must fail cleanly and live on. */
static void s_hostile(const struct ctx *c)
{
	int lfd = afx_listen(XEN_DOMID_ANY, c->port, 4), fd, what = c->tc->arg;
	char line[64], b = 0;
	ssize_t r;
	int e;

	ctl_writeln("LISTENING");
	fd = afx_accept(lfd, NULL);
	set_timeo(fd, SO_RCVTIMEO, 10000);
	/*
	 * Data after EOF is a violation only for a reader that saw the EOF
	 * first (otherwise it is just data, then EOF): see it before the
	 * peer moves prod past it (the module waits 200 ms in between).
	 */
	if (what == XEN_DEBUG_WRITE_AFTER_EOF) {
		r = recv(fd, &b, 1, 0);
		if (r > 0)
			fail("data after EOF: first recv returned data, expected EOF");
	}
	ctl_readln(line, sizeof(line));
	if (!strcmp(line, "SKIP"))
		skip("module built without AFX_DEBUG (no XEN_SO_DEBUG_CORRUPT)");
	if (strcmp(line, "CORRUPTED"))
		fail("control: expected CORRUPTED, got \"%s\"", line);
	step("recv on a connection whose peer played \"%s\"",
	     corrupt_names[what]);
	if (what == XEN_DEBUG_CONS_BACK)
		r = send(fd, &b, 1, MSG_NOSIGNAL);	/* we are its writer */
	else
		r = recv(fd, &b, 1, 0);
	e = errno;
	switch (what) {
	case XEN_DEBUG_PROD_BEYOND:
	case XEN_DEBUG_PROD_BACK:
	case XEN_DEBUG_GARBAGE_FLAGS:
		errno = e;
		expect_err(r, EPROTO, corrupt_names[what]);
		break;
	case XEN_DEBUG_WRITE_AFTER_EOF:
		errno = e;
		expect_err(r, EPROTO, corrupt_names[what]);
		break;
	default:
		if (r < 0 && e != EPROTO && e != ECONNRESET &&
		    !(what == XEN_DEBUG_EVENT_STORM && e == EAGAIN))
			fail("%s: expected EPROTO, ECONNRESET or a normal result, got %s",
			     corrupt_names[what], errname(e));
		note("%s: victim's %s returned %zd%s%s", corrupt_names[what],
		     what == XEN_DEBUG_CONS_BACK ? "send" : "recv", r,
		     r < 0 ? " " : "", r < 0 ? errname(e) : "");
	}
	if (r < 0 && e == EPROTO) {
		/* After the reset: EOF and EPIPE, like a TCP socket after RST. */
		expect_eof(fd, "after the protocol violation");
		expect_err(send(fd, &b, 1, MSG_NOSIGNAL), EPIPE,
			   "send after the protocol violation");
	}
	close(fd);
	ctl_writeln("CHECKED");
	/* The victim still serves a well-behaved peer. */
	fd = afx_accept(lfd, NULL);
	recv_byte(fd, 0x5e, "fresh connection after the hostile one");
	close(fd);
	close(lfd);
}

static void c_hostile(const struct ctx *c)
{
	int fd = cli_connect(c, 0), what = c->tc->arg;

	step("setsockopt(XEN_SO_DEBUG_CORRUPT, %d)", what);
	if (setsockopt(fd, g_family, XEN_SO_DEBUG_CORRUPT, &what, sizeof(what))) {
		int e = errno;

		ctl_writeln("SKIP");
		if (e == ENOPROTOOPT)
			skip("module built without AFX_DEBUG (no XEN_SO_DEBUG_CORRUPT)");
		fail("setsockopt(XEN_SO_DEBUG_CORRUPT, %d): %s", what, errname(e));
	}
	ctl_writeln("CORRUPTED");
	ctl_expectln("CHECKED");
	close(fd);
	fd = afx_connect(g_peer_domid, c->port);
	send_byte(fd, 0x5e, "fresh connection after the hostile one");
	close(fd);
}

/* A connector lying in its connect request must be refused, harmlessly. */
static void s_hostile_connect(const struct ctx *c)
{
	int lfd = afx_listen(XEN_DOMID_ANY, c->port, 4), fd;
	char line[64];

	ctl_writeln("LISTENING");
	ctl_readln(line, sizeof(line));
	if (!strcmp(line, "SKIP"))
		skip("module built without AFX_DEBUG (no XEN_SO_DEBUG_CORRUPT)");
	if (strcmp(line, "TRIED"))
		fail("control: expected TRIED, got \"%s\"", line);
	fd = afx_accept(lfd, NULL);
	recv_byte(fd, 0x5f, "the well-behaved connection");
	if (poll_one(lfd, POLLIN, 0) & POLLIN)
		fail("the hostile connection is queued on the listener");
	close(fd);
	close(lfd);
}

static void c_hostile_connect(const struct ctx *c)
{
	int fd = afx_socket(0), what = c->tc->arg, err;
	double t0;

	ctl_expectln("LISTENING");
	step("setsockopt(XEN_SO_DEBUG_CORRUPT, %d)", what);
	if (setsockopt(fd, g_family, XEN_SO_DEBUG_CORRUPT, &what, sizeof(what))) {
		int e = errno;

		ctl_writeln("SKIP");
		if (e == ENOPROTOOPT)
			skip("module built without AFX_DEBUG (no XEN_SO_DEBUG_CORRUPT)");
		fail("setsockopt(XEN_SO_DEBUG_CORRUPT, %d): %s", what, errname(e));
	}
	t0 = now_s();
	err = afx_try_connect(fd, g_peer_domid, c->port);
	if (!err)
		fail("connect with %s succeeded; the listener must refuse it",
		     corrupt_names[what]);
	note("connect with %s: %s after %.2f s", corrupt_names[what],
	     errname(err), now_s() - t0);
	close(fd);
	ctl_writeln("TRIED");
	fd = afx_connect(g_peer_domid, c->port);
	send_byte(fd, 0x5f, "the well-behaved connection");
	expect_eof(fd, "server closes");
	close(fd);
}

#define HOSTILE(n, what) \
	X(n, 60, s_hostile, c_hostile, .arg = what)
#define HOSTILE_CONNECT(n, what) \
	X(n, 90, s_hostile_connect, c_hostile_connect, .arg = what)
#endif /* XEN_SO_DEBUG_CORRUPT */

/* ================================================================== */

#define L(n, t, fn, ...) \
	{ .name = n, .local = true, .timeout = t, .run_local = fn, __VA_ARGS__ }
#define X(n, t, s, cl, ...) \
	{ .name = n, .timeout = t, .run_server = s, .run_client = cl, __VA_ARGS__ }

const struct test_case afx_cases[] = {
	/* sockets, bind, options (each guest on its own) */
	L("socket_create", 20, t_socket_create),
	L("bind_bad_len", 20, t_bind_bad_len),
	L("bind_bad_family", 20, t_bind_bad_family),
	L("bind_nonzero_pad", 20, t_bind_nonzero_pad),
	L("bind_addrinuse", 20, t_bind_addrinuse),
	L("bind_twice", 20, t_bind_twice),
	L("bind_privileged_port", 20, t_bind_privileged),
	L("bind_port_any", 30, t_bind_port_any),
	L("unconnected_ops", 20, t_unconnected_ops),
	L("accept_nonblock_eagain", 20, t_accept_nonblock),
	L("accept_eintr", 20, t_accept_eintr),
	L("ring_size_opts", 20, t_ring_size_opts),
	/* connection errors and loopback */
	L("connect_refused_loopback", 30, t_connect_refused_local),
	L("connect_no_such_domain", 40, t_connect_unreachable),
	L("loopback_self", 30, t_loopback_self),
	L("loopback_own_domid", 30, t_loopback_own_domid),
	L("loopback_data_16M_self", 180, t_loopback_data, .size = 16 * MiB),
	L("loopback_data_16M_own_domid", 180, t_loopback_data, .size = 16 * MiB,
	  .arg = 1),
	L("loopback_data_1M3_ring4K", 120, t_loopback_data, .size = MiB + 3,
	  .ring = XEN_RING_SIZE_MIN, .arg = 1),
	L("loopback_bidir_4M", 180, t_loopback_bidir, .size = 4 * MiB),
	L("loopback_domid_filter", 30, t_loopback_domid_filter),
	L("loopback_eintr_recv", 20, t_loopback_eintr_recv),
	L("loopback_16_conns", 60, t_loopback_many),
	/* SOCK_SEQPACKET, each guest on its own */
	L("seqpacket_sizes", 60, afx_t_seq_sizes),
	L("seqpacket_nonblock_pollout", 30, afx_t_seq_nonblock),
	L("seqpacket_loopback_10000_bidir", 300, afx_t_seq_bidir_lo),
	/* cross-guest: connection setup */
	X("connect_refused", 30, s_connect_refused, c_connect_refused),
	X("connect_domid_filter", 30, s_connect_domid_filter,
	  c_connect_domid_filter),
	X("accept_blocking_names", 30, s_accept_blocking, c_accept_blocking),
	X("connect_autobind", 30, s_connect_autobind, c_connect_autobind),
	X("connect_bound_port", 30, s_connect_bound, c_connect_bound),
	X("connect_nonblock", 30, s_echo_one, c_connect_nonblock),
	X("connect_nonblock_refused", 30, s_ready_wait_done,
	  c_connect_nonblock_refused),
	X("accept4_flags", 30, s_accept4_flags, c_accept4_flags),
	/* cross-guest: data integrity */
	X("data_1B", 30, s_data, c_data, .size = 1),
	X("data_4095", 30, s_data, c_data, .size = 4095),
	X("data_4097", 30, s_data, c_data, .size = 4097),
	X("data_65537", 30, s_data, c_data, .size = 65537),
	X("data_1M3", 60, s_data, c_data, .size = MiB + 3),
	X("data_1M3_to_client", 60, s_data, c_data, .size = MiB + 3, .arg = 1),
	X("data_16M", 180, s_data, c_data, .size = 16 * MiB),
	X("data_64M", 400, s_data, c_data, .size = 64 * MiB),
	X("data_1M3_ring4K", 120, s_data, c_data, .size = MiB + 3,
	  .ring = XEN_RING_SIZE_MIN),
	X("data_16M_ring1M", 180, s_data, c_data, .size = 16 * MiB,
	  .ring = XEN_RING_SIZE_MAX),
	X("bidir_64M", 600, s_bidir, c_bidir, .size = 64 * MiB),
	X("writev_readv", 30, s_iov, c_iov),
	X("sendmsg_recvmsg", 30, s_iov, c_iov, .arg = 1),
	/* cross-guest: flags and options */
	X("msg_peek", 30, s_msg_peek, c_msg_peek),
	X("msg_waitall", 30, s_msg_waitall, c_msg_waitall),
	X("msg_dontwait", 30, s_msg_dontwait, c_msg_dontwait),
	X("so_rcvtimeo", 30, s_so_rcvtimeo, c_so_rcvtimeo),
	X("so_sndtimeo", 30, s_so_sndtimeo, c_so_sndtimeo),
	X("so_rcvlowat_poll", 30, s_so_rcvlowat, c_so_rcvlowat),
	X("siocinq_siocoutq", 30, s_sioc, c_sioc),
	X("ring_size_inherit", 60, s_ring_inherit, c_ring_inherit),
	X("stats_counters", 60, s_stats, c_stats, .size = MiB),
	/* cross-guest: poll, shutdown, close */
	X("poll_events", 30, s_poll_events, c_poll_events),
	X("epoll_edge_triggered", 40, s_epoll_et, c_epoll_et),
	X("rcvlowat_poll", 30, afx_s_rcvlowat, afx_c_rcvlowat,
	  .arg = AFX_BY_POLL),
	X("rcvlowat_epoll", 30, afx_s_rcvlowat, afx_c_rcvlowat,
	  .arg = AFX_BY_EPOLL_LT),
	X("rcvlowat_epoll_et", 30, afx_s_rcvlowat, afx_c_rcvlowat,
	  .arg = AFX_BY_EPOLL_ET),
	X("rdhup_unread", 30, afx_s_rdhup_unread, afx_c_rdhup_unread),
	X("pollout_after_drain", 30, afx_s_pollout_drain, afx_c_pollout_drain),
	X("epoll_et_without_eagain", 30, afx_s_et_no_eagain, afx_c_et_no_eagain),
	X("close_then_read_late", 30, afx_s_late_reader, afx_c_late_reader),
	X("shutdown_wr", 30, s_shutdown_wr, c_shutdown_wr),
	X("shutdown_rd", 30, s_shutdown_rd, c_shutdown_rd),
	X("shutdown_rdwr", 30, s_shutdown_rdwr, c_shutdown_rdwr),
	X("peer_close_sigpipe", 30, s_peer_close_sigpipe, c_peer_close_sigpipe),
	X("peer_close_nosignal", 30, s_peer_close_nosignal,
	  c_peer_close_nosignal),
	X("close_unread", 30, s_close_unread, c_close_unread),
	X("eintr_recv", 30, s_eintr_recv, c_eintr_recv),
	/* cross-guest: SOCK_SEQPACKET */
	X("seqpacket_10000_bidir", 300, afx_s_seq_bidir, afx_c_seq_bidir),
	X("seqpacket_trunc", 30, afx_s_seq_trunc, afx_c_seq_trunc),
	X("seqpacket_peek", 30, afx_s_seq_peek, afx_c_seq_peek),
	X("seqpacket_zero_length", 30, afx_s_seq_zero, afx_c_seq_zero),
	X("seqpacket_epoll", 30, afx_s_seq_poll, afx_c_seq_poll,
	  .arg = AFX_BY_EPOLL_LT),
	X("seqpacket_epoll_et", 30, afx_s_seq_poll, afx_c_seq_poll,
	  .arg = AFX_BY_EPOLL_ET),
	X("seqpacket_shutdown_eof", 30, afx_s_seq_shutdown, afx_c_seq_shutdown),
	X("seqpacket_type_mismatch", 30, afx_s_seq_mismatch, afx_c_seq_mismatch),
	X("seqpacket_largest_ring1M", 60, afx_s_seq_max, afx_c_seq_max),
	X("seqpacket_module_ages", 30, afx_s_seq_compat, afx_c_seq_compat),
	X("control_channel", 90, afx_s_chan, afx_c_chan),
	/* cross-guest: several connections */
	X("multi_conn", 40, s_multi_conn, c_multi_conn),
	X("backlog_full", 60, s_backlog_full, c_backlog_full),
	X("seq_connect_200", 300, s_seq_connect, c_seq_connect, .arg = 200),
#ifdef XEN_SO_DEBUG_CORRUPT
	/* hostile peer: run only against modules built with AFX_DEBUG=1 */
	HOSTILE("hostile_prod_beyond", XEN_DEBUG_PROD_BEYOND),
	HOSTILE("hostile_prod_back", XEN_DEBUG_PROD_BACK),
	HOSTILE("hostile_cons_back", XEN_DEBUG_CONS_BACK),
	HOSTILE("hostile_garbage_flags", XEN_DEBUG_GARBAGE_FLAGS),
	HOSTILE("hostile_write_after_eof", XEN_DEBUG_WRITE_AFTER_EOF),
	HOSTILE("hostile_event_storm", XEN_DEBUG_EVENT_STORM),
	X("hostile_storm_blocked_recv", 60, afx_s_storm_blocked,
	  afx_c_storm_blocked, .arg = 0),
	X("hostile_storm_blocked_send", 60, afx_s_storm_blocked,
	  afx_c_storm_blocked, .arg = 1),
	X("hostile_storm_blocked_poll", 60, afx_s_storm_blocked,
	  afx_c_storm_blocked, .arg = 2),
	X("hostile_vanish_connector", 60, afx_s_vanish, afx_c_vanish,
	  .arg = 0),
	X("hostile_vanish_listener", 60, afx_s_vanish, afx_c_vanish,
	  .arg = 1),
	X("hostile_seqpacket_rec_beyond_fill", 60, afx_s_seq_hostile,
	  afx_c_seq_hostile, .arg = XEN_DEBUG_REC_BEYOND_FILL),
	X("hostile_seqpacket_rec_beyond_max", 60, afx_s_seq_hostile,
	  afx_c_seq_hostile, .arg = XEN_DEBUG_REC_BEYOND_MAX),
	X("hostile_seqpacket_rec_partial", 60, afx_s_seq_hostile,
	  afx_c_seq_hostile, .arg = XEN_DEBUG_REC_PARTIAL),
	HOSTILE_CONNECT("hostile_connect_order", XEN_DEBUG_CONNECT_ORDER),
	HOSTILE_CONNECT("hostile_connect_ngrefs", XEN_DEBUG_CONNECT_NGREFS),
	HOSTILE_CONNECT("hostile_connect_bad_gref", XEN_DEBUG_CONNECT_BAD_GREF),
	HOSTILE_CONNECT("hostile_connect_dup_gref", XEN_DEBUG_CONNECT_DUP_GREF),
	HOSTILE_CONNECT("hostile_connect_ctrl_gref",
			XEN_DEBUG_CONNECT_CTRL_GREF),
#endif
	/* last: nothing leaked by all of the above */
	L("no_socket_leak", 60, t_leak_check),
};

const int afx_ncases = sizeof(afx_cases) / sizeof(afx_cases[0]);
