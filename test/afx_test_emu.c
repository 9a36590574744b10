// SPDX-License-Identifier: GPL-2.0
/*
 * afx_test_emu.so: a crude stand-in for AF_XEN on a host without Xen,
 * used only to check afx_test's own logic (step synchronisation,
 * timeouts, reporting) before running it in guests.  LD_PRELOAD it into
 * a dynamically linked afx_test; AF_XEN stream sockets become abstract
 * AF_UNIX sockets named "afx/<domid>/<port>", the domid taken from env
 * MY_DOMID.  What AF_UNIX cannot mimic (domid filters, ring sizes and
 * ring-size inheritance, XEN_SO_STATS, small buffers) makes the
 * corresponding cases fail here; that is expected.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <linux/af_xen.h>

#define MAXFD 4096

static struct {
	bool xen, bound, connected;
	int ring;
} st[MAXFD];

static unsigned int next_port = 49152;

#define REAL(ret, name, ...) \
	static ret (*real_##name)(__VA_ARGS__); \
	if (!real_##name) \
		real_##name = dlsym(RTLD_NEXT, #name)

static int mydom(void)
{
	const char *e = getenv("MY_DOMID");

	return e ? atoi(e) : 1;
}

static bool isxen(int fd)
{
	return fd >= 0 && fd < MAXFD && st[fd].xen;
}

static socklen_t mkname(struct sockaddr_un *sun, unsigned int dom,
			unsigned int port)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	snprintf(sun->sun_path + 1, sizeof(sun->sun_path) - 1, "afx/%u/%u",
		 dom, port);
	return offsetof(struct sockaddr_un, sun_path) + 1 +
	       strlen(sun->sun_path + 1);
}

static int check(const struct sockaddr *a, socklen_t len,
		 struct sockaddr_xen *out)
{
	static const unsigned char z[8];

	if (len != sizeof(*out)) {
		errno = EINVAL;
		return -1;
	}
	memcpy(out, a, sizeof(*out));
	if (out->sxen_family != AF_XEN) {
		errno = EAFNOSUPPORT;
		return -1;
	}
	if (memcmp(out->sxen_zero, z, 8)) {
		errno = EINVAL;
		return -1;
	}
	if (out->sxen_domid == XEN_DOMID_SELF)
		out->sxen_domid = mydom();
	return 0;
}

int socket(int domain, int type, int proto)
{
	REAL(int, socket, int, int, int);
	int fd;

	if (domain != AF_XEN)
		return real_socket(domain, type, proto);
	if ((type & 0xf) != SOCK_STREAM) {
		errno = ESOCKTNOSUPPORT;
		return -1;
	}
	if (proto && proto != AF_XEN) {
		errno = EPROTONOSUPPORT;
		return -1;
	}
	fd = real_socket(AF_UNIX, type, 0);
	if (fd >= 0 && fd < MAXFD) {
		memset(&st[fd], 0, sizeof(st[fd]));
		st[fd].xen = true;
		st[fd].ring = XEN_RING_SIZE_DEFAULT;
	}
	return fd;
}

static int do_bind(int fd, unsigned int port)
{
	REAL(int, bind, int, const struct sockaddr *, socklen_t);
	struct sockaddr_un sun;
	socklen_t l;

	if (port) {
		l = mkname(&sun, mydom(), port);
		return real_bind(fd, (struct sockaddr *)&sun, l);
	}
	for (int i = 0; i < 10000; i++) {
		port = next_port++ + (getpid() % 64) * 10000;
		l = mkname(&sun, mydom(), port);
		if (real_bind(fd, (struct sockaddr *)&sun, l) == 0)
			return 0;
		if (errno != EADDRINUSE)
			return -1;
	}
	return -1;
}

int bind(int fd, const struct sockaddr *a, socklen_t len)
{
	REAL(int, bind, int, const struct sockaddr *, socklen_t);
	struct sockaddr_xen sa;

	if (!isxen(fd))
		return real_bind(fd, a, len);
	if (check(a, len, &sa))
		return -1;
	if (sa.sxen_port && sa.sxen_port < 1024 && geteuid()) {
		errno = EACCES;
		return -1;
	}
	if (st[fd].bound) {
		errno = EINVAL;
		return -1;
	}
	if (do_bind(fd, sa.sxen_port))
		return -1;
	st[fd].bound = true;
	return 0;
}

int connect(int fd, const struct sockaddr *a, socklen_t len)
{
	REAL(int, connect, int, const struct sockaddr *, socklen_t);
	struct sockaddr_xen sa;
	struct sockaddr_un sun;
	const char *peer = getenv("PEER_DOMID");
	int r;

	if (!isxen(fd))
		return real_connect(fd, a, len);
	if (check(a, len, &sa))
		return -1;
	if (st[fd].connected) {
		errno = EISCONN;
		return -1;
	}
	if (sa.sxen_domid != mydom() && (!peer || sa.sxen_domid != atoi(peer))) {
		errno = EHOSTUNREACH;
		return -1;
	}
	if (!st[fd].bound) {
		if (do_bind(fd, 0))
			return -1;
		st[fd].bound = true;
	}
	r = real_connect(fd, (struct sockaddr *)&sun,
			 mkname(&sun, sa.sxen_domid, sa.sxen_port));
	if (r == 0 || errno == EINPROGRESS)
		st[fd].connected = true;
	if (r && errno == ENOENT)
		errno = ECONNREFUSED;
	return r;
}

static void xlate(const struct sockaddr_un *sun, socklen_t l,
		  struct sockaddr *a, socklen_t *len)
{
	struct sockaddr_xen sa;
	unsigned int d = 0, p = 0;

	memset(&sa, 0, sizeof(sa));
	sa.sxen_family = AF_XEN;
	if (l > offsetof(struct sockaddr_un, sun_path) + 1 &&
	    sscanf(sun->sun_path + 1, "afx/%u/%u", &d, &p) == 2) {
		sa.sxen_domid = d;
		sa.sxen_port = p;
	}
	if (a && len) {
		memcpy(a, &sa, *len < sizeof(sa) ? *len : sizeof(sa));
		*len = sizeof(sa);
	}
}

static int names(int fd, struct sockaddr *a, socklen_t *len, bool peer)
{
	REAL(int, getsockname, int, struct sockaddr *, socklen_t *);
	REAL(int, getpeername, int, struct sockaddr *, socklen_t *);
	struct sockaddr_un sun;
	socklen_t l = sizeof(sun);
	int r;

	r = peer ? real_getpeername(fd, (struct sockaddr *)&sun, &l) :
		   real_getsockname(fd, (struct sockaddr *)&sun, &l);
	if (r)
		return r;
	xlate(&sun, l, a, len);
	if (!peer) {
		struct sockaddr_xen *sa = (struct sockaddr_xen *)a;

		sa->sxen_domid = mydom();
	}
	return 0;
}

int getsockname(int fd, struct sockaddr *a, socklen_t *len)
{
	REAL(int, getsockname, int, struct sockaddr *, socklen_t *);

	if (!isxen(fd))
		return real_getsockname(fd, a, len);
	return names(fd, a, len, false);
}

int getpeername(int fd, struct sockaddr *a, socklen_t *len)
{
	REAL(int, getpeername, int, struct sockaddr *, socklen_t *);

	if (!isxen(fd))
		return real_getpeername(fd, a, len);
	return names(fd, a, len, true);
}

int accept4(int fd, struct sockaddr *a, socklen_t *len, int flags)
{
	REAL(int, accept4, int, struct sockaddr *, socklen_t *, int);
	struct sockaddr_un sun;
	socklen_t l = sizeof(sun);
	int n;

	if (!isxen(fd))
		return real_accept4(fd, a, len, flags);
	n = real_accept4(fd, (struct sockaddr *)&sun, &l, flags);
	if (n < 0)
		return n;
	if (n < MAXFD) {
		memset(&st[n], 0, sizeof(st[n]));
		st[n].xen = st[n].bound = st[n].connected = true;
		st[n].ring = XEN_RING_SIZE_DEFAULT;
	}
	if (a && len) {
		/* AF_UNIX does not name the autobound peer: ask the fd. */
		names(n, a, len, true);
	}
	return n;
}

int accept(int fd, struct sockaddr *a, socklen_t *len)
{
	return accept4(fd, a, len, 0);
}

int close(int fd)
{
	REAL(int, close, int);

	if (fd >= 0 && fd < MAXFD)
		st[fd].xen = false;
	return real_close(fd);
}

int setsockopt(int fd, int level, int name, const void *v, socklen_t len)
{
	REAL(int, setsockopt, int, int, int, const void *, socklen_t);
	int size;

	if (!isxen(fd) || level != AF_XEN)
		return real_setsockopt(fd, level, name, v, len);
	if (name != XEN_SO_RING_SIZE) {
		errno = ENOPROTOOPT;
		return -1;
	}
	if (len < sizeof(int)) {
		errno = EINVAL;
		return -1;
	}
	memcpy(&size, v, sizeof(size));
	if (size < XEN_RING_SIZE_MIN || size > XEN_RING_SIZE_MAX ||
	    (size & (size - 1))) {
		errno = EINVAL;
		return -1;
	}
	if (st[fd].connected) {
		errno = EISCONN;
		return -1;
	}
	st[fd].ring = size;
	return 0;
}

int getsockopt(int fd, int level, int name, void *v, socklen_t *len)
{
	REAL(int, getsockopt, int, int, int, void *, socklen_t *);

	if (!isxen(fd) || level != AF_XEN)
		return real_getsockopt(fd, level, name, v, len);
	if (name != XEN_SO_RING_SIZE) {
		errno = ENOPROTOOPT;
		return -1;
	}
	if (*len < sizeof(int)) {
		errno = EINVAL;
		return -1;
	}
	memcpy(v, &st[fd].ring, sizeof(int));
	*len = sizeof(int);
	return 0;
}
