// SPDX-License-Identifier: GPL-2.0
/*
 * af_xen_preload: run unmodified TCP programs (iperf3, redis, sshd...)
 * over AF_XEN stream sockets.
 *
 *   AF_XEN_MAP='10.0.0.2:5201=2:5201' LD_PRELOAD=libaf_xen_preload.so iperf3 -c 10.0.0.2
 *   AF_XEN_MAP='*:5201=any:5201' LD_PRELOAD=libaf_xen_preload.so iperf3 -s -4
 *
 * AF_XEN_MAP holds comma-separated entries IP:PORT=DOMID:XPORT.  A TCP
 * connect() to IP:PORT becomes an AF_XEN connect to (DOMID, XPORT); a
 * TCP bind() to PORT on IP (or on INADDR_ANY) becomes an AF_XEN bind to
 * (XEN_DOMID_ANY, XPORT).  IP "*" or "0.0.0.0" matches any address; the
 * first matching entry wins.  DOMID may be "self", or "any" (or "*") in
 * entries meant only for bind, which ignores DOMID.  The fd number stays
 * the same: a fresh AF_XEN socket is dup3()ed over the TCP one.
 *
 * For redirected fds, getsockname/getpeername report the IPv4 addresses
 * the program expects (an accepted peer in domain D shows up as
 * 10.254.D/256.D%256), and TCP/IP-level socket options are accepted and
 * ignored, or read back as plausible values.  Everything else, and
 * everything when AF_XEN_MAP is unset, passes straight through.
 * AF_XEN_DEBUG=1 logs each redirection on stderr.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <linux/af_xen.h>

/*
 * With _GNU_SOURCE, glibc declares the sockaddr arguments as transparent
 * unions; our definitions must use the same types.
 */
#ifdef __SOCKADDR_ALLTYPES
typedef __SOCKADDR_ARG sa_arg_t;
typedef __CONST_SOCKADDR_ARG csa_arg_t;
#define SA(a)	((a).__sockaddr__)
#else
typedef struct sockaddr *sa_arg_t;
typedef const struct sockaddr *csa_arg_t;
#define SA(a)	(a)
#endif

#ifndef FAMILY_PATH	/* overridable for tests */
#define FAMILY_PATH	"/sys/module/af_xen/parameters/family"
#endif
#define MAP_MAX		64
#define FD_MAX		65536
#define PRE		"af_xen_preload: "

struct map_ent {
	struct in_addr ip;
	int any;		/* IP was * or 0.0.0.0 */
	uint16_t port;		/* host order */
	uint16_t domid;
	uint32_t xport;
};

enum { SHIM_NONE, SHIM_BOUND, SHIM_OUT, SHIM_ACCEPTED };

/* What a redirected fd pretends to be. */
struct shim {
	unsigned char kind;
	struct sockaddr_in local, peer;
};

static struct {
	int (*connect)(int, const struct sockaddr *, socklen_t);
	int (*bind)(int, const struct sockaddr *, socklen_t);
	int (*accept)(int, struct sockaddr *, socklen_t *);
	int (*accept4)(int, struct sockaddr *, socklen_t *, int);
	int (*getsockname)(int, struct sockaddr *, socklen_t *);
	int (*getpeername)(int, struct sockaddr *, socklen_t *);
	int (*setsockopt)(int, int, int, const void *, socklen_t);
	int (*getsockopt)(int, int, int, void *, socklen_t *);
	int (*close)(int);
} real;

/* Set once under pthread_once, read-only afterwards. */
static struct map_ent map[MAP_MAX];
static int nmap;
static int xen_family = AF_XEN;
static int debug;
static pthread_once_t once = PTHREAD_ONCE_INIT;

/* The fd table, under shim_lock. */
static pthread_mutex_t shim_lock = PTHREAD_MUTEX_INITIALIZER;
static struct shim shims[FD_MAX];

static void __attribute__((format(printf, 1, 2))) dbg(const char *fmt, ...)
{
	int e = errno;
	va_list ap;

	if (!debug)
		return;
	fputs(PRE, stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	errno = e;
}

/* ----- Set-up ----- */

static void resolve(void)
{
	real.connect = dlsym(RTLD_NEXT, "connect");
	real.bind = dlsym(RTLD_NEXT, "bind");
	real.accept = dlsym(RTLD_NEXT, "accept");
	real.accept4 = dlsym(RTLD_NEXT, "accept4");
	real.getsockname = dlsym(RTLD_NEXT, "getsockname");
	real.getpeername = dlsym(RTLD_NEXT, "getpeername");
	real.setsockopt = dlsym(RTLD_NEXT, "setsockopt");
	real.getsockopt = dlsym(RTLD_NEXT, "getsockopt");
	real.close = dlsym(RTLD_NEXT, "close");
}

static int read_family(void)
{
	char buf[32];
	char *end;
	long v;
	ssize_t n;
	int fd = open(FAMILY_PATH, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return AF_XEN;
	n = read(fd, buf, sizeof(buf) - 1);
	real.close(fd);
	if (n <= 0)
		return AF_XEN;
	buf[n] = '\0';
	v = strtol(buf, &end, 10);
	return end == buf || v <= 0 || v > 255 ? AF_XEN : (int)v;
}

static int parse_num(const char *s, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > max)
		return -1;
	*out = v;
	return 0;
}

/* "IP:PORT=DOMID:XPORT"; s is modified. */
static int parse_ent(char *s, struct map_ent *e)
{
	char *eq = strchr(s, '='), *c1, *c2;
	unsigned long port, domid, xport;

	if (!eq)
		return -1;
	*eq = '\0';
	c1 = strrchr(s, ':');
	c2 = strchr(eq + 1, ':');
	if (!c1 || !c2)
		return -1;
	*c1 = '\0';
	*c2 = '\0';
	memset(e, 0, sizeof(*e));
	if (!strcmp(s, "*") || !strcmp(s, "0.0.0.0"))
		e->any = 1;
	else if (inet_pton(AF_INET, s, &e->ip) != 1)
		return -1;
	if (!strcmp(eq + 1, "self"))
		domid = XEN_DOMID_SELF;
	else if (!strcmp(eq + 1, "any") || !strcmp(eq + 1, "*"))
		domid = XEN_DOMID_ANY;	/* only meaningful for bind */
	else if (parse_num(eq + 1, XEN_DOMID_SELF - 1, &domid))
		return -1;
	if (parse_num(c1 + 1, 65535, &port) || !port ||
	    parse_num(c2 + 1, UINT32_MAX, &xport) || !xport)
		return -1;
	e->port = (uint16_t)port;
	e->domid = (uint16_t)domid;
	e->xport = (uint32_t)xport;
	return 0;
}

static char *trim(char *s)
{
	char *end = s + strlen(s);

	while (*s == ' ' || *s == '\t')
		s++;
	while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
		*--end = '\0';
	return s;
}

static void parse_map(const char *env)
{
	char *copy = strdup(env), *tok, *save = NULL;

	if (!copy)
		return;
	for (tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		char ent[256];

		tok = trim(tok);
		if (!*tok)
			continue;
		snprintf(ent, sizeof(ent), "%s", tok);
		if (nmap == MAP_MAX || strlen(tok) >= sizeof(ent) ||
		    parse_ent(ent, &map[nmap]))
			fprintf(stderr, PRE "bad AF_XEN_MAP entry '%s'\n", tok);
		else
			nmap++;
	}
	free(copy);
}

/* Keep the table consistent across fork(). */
static void fork_prepare(void)
{
	pthread_mutex_lock(&shim_lock);
}

static void fork_done(void)
{
	pthread_mutex_unlock(&shim_lock);
}

static void init_once(void)
{
	const char *env = getenv("AF_XEN_MAP");
	const char *dbgenv = getenv("AF_XEN_DEBUG");
	int e = errno;

	resolve();
	debug = dbgenv && !strcmp(dbgenv, "1");
	if (env && *env)
		parse_map(env);
	if (nmap) {
		xen_family = read_family();
		pthread_atfork(fork_prepare, fork_done, fork_done);
		dbg("%d mapping(s), family %d", nmap, xen_family);
	}
	errno = e;
}

static void init(void)
{
	pthread_once(&once, init_once);
}

/* ----- The fd table ----- */

static void shim_set(int fd, int kind, const struct sockaddr_in *local,
		     const struct sockaddr_in *peer)
{
	if (fd < 0 || fd >= FD_MAX)
		return;
	pthread_mutex_lock(&shim_lock);
	shims[fd].kind = (unsigned char)kind;
	shims[fd].local = *local;
	shims[fd].peer = *peer;
	pthread_mutex_unlock(&shim_lock);
}

static void shim_clear(int fd)
{
	if (fd < 0 || fd >= FD_MAX)
		return;
	pthread_mutex_lock(&shim_lock);
	shims[fd].kind = SHIM_NONE;
	pthread_mutex_unlock(&shim_lock);
}

/*
 * The entry for fd, if fd is still an AF_XEN socket: an fd closed behind
 * our back (fclose, close_range) may have been reused since.
 */
static int shim_get(int fd, struct shim *out)
{
	int e = errno, v = 0;
	socklen_t l = sizeof(v);

	if (!nmap || fd < 0 || fd >= FD_MAX)
		return SHIM_NONE;
	pthread_mutex_lock(&shim_lock);
	*out = shims[fd];
	pthread_mutex_unlock(&shim_lock);
	if (out->kind == SHIM_NONE)
		return SHIM_NONE;
	if (real.getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &v, &l) ||
	    v != xen_family) {
		shim_clear(fd);
		out->kind = SHIM_NONE;
	}
	errno = e;
	return out->kind;
}

/* ----- Redirection ----- */

static const struct map_ent *lookup(const struct sockaddr *sa, socklen_t len,
				    int for_bind, struct sockaddr_in *sin)
{
	int i;

	if (!nmap || !sa || len < sizeof(*sin) || sa->sa_family != AF_INET)
		return NULL;
	memcpy(sin, sa, sizeof(*sin));
	for (i = 0; i < nmap; i++) {
		const struct map_ent *e = &map[i];

		if (e->port != ntohs(sin->sin_port) ||
		    (!for_bind && e->domid == XEN_DOMID_ANY))
			continue;
		if (e->any || e->ip.s_addr == sin->sin_addr.s_addr ||
		    (for_bind && sin->sin_addr.s_addr == htonl(INADDR_ANY)))
			return e;
	}
	return NULL;
}

static int is_inet_tcp(int fd)
{
	int e = errno, dom = 0, type = 0, proto = 0, ok;
	socklen_t l1 = sizeof(int), l2 = sizeof(int), l3 = sizeof(int);

	ok = !real.getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &dom, &l1) &&
	     !real.getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &l2) &&
	     !real.getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &l3) &&
	     dom == AF_INET && type == SOCK_STREAM &&
	     (proto == IPPROTO_TCP || proto == 0);
	errno = e;
	return ok;
}

/* Blocking behaviour set before the swap should survive it. */
static void copy_timeouts(int from, int to)
{
	static const int opts[] = { SO_RCVTIMEO, SO_SNDTIMEO };
	struct timeval tv;
	socklen_t l;
	size_t i;

	for (i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		l = sizeof(tv);
		if (!real.getsockopt(from, SOL_SOCKET, opts[i], &tv, &l) &&
		    (tv.tv_sec || tv.tv_usec))
			real.setsockopt(to, SOL_SOCKET, opts[i], &tv, l);
	}
}

/* Put a new AF_XEN socket in fd's place, with fd's flags.  errno kept. */
static int replace_fd(int fd)
{
	int fl = fcntl(fd, F_GETFL), fdfl = fcntl(fd, F_GETFD), nfd;

	if (fl < 0 || fdfl < 0)
		return -1;
	nfd = socket(xen_family, SOCK_STREAM | SOCK_CLOEXEC |
		     ((fl & O_NONBLOCK) ? SOCK_NONBLOCK : 0), 0);
	if (nfd < 0)
		return -1;
	copy_timeouts(fd, nfd);
	if (fcntl(nfd, F_SETFL, fl) < 0 ||
	    dup3(nfd, fd, (fdfl & FD_CLOEXEC) ? O_CLOEXEC : 0) < 0) {
		int e = errno;

		real.close(nfd);
		errno = e;
		return -1;
	}
	real.close(nfd);
	return 0;
}

static void xen_addr(struct sockaddr_xen *sx, unsigned int domid,
		     unsigned int port)
{
	memset(sx, 0, sizeof(*sx));
	sx->sxen_family = (__kernel_sa_family_t)xen_family;
	sx->sxen_domid = (__u16)domid;
	sx->sxen_port = port;
}

static void inet_addr4(struct sockaddr_in *sin, uint32_t ip, unsigned int port)
{
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(ip);
	sin->sin_port = htons((uint16_t)port);
}

/* Copy sin out as the kernel would: truncated to *len, *len = full size. */
static void put_addr(struct sockaddr *addr, socklen_t *len,
		     const struct sockaddr_in *sin)
{
	socklen_t n;

	if (!addr || !len)
		return;
	n = *len < sizeof(*sin) ? *len : sizeof(*sin);
	memcpy(addr, sin, n);
	*len = sizeof(*sin);
}

static const char *ip_str(const struct sockaddr_in *sin, char *buf)
{
	return inet_ntop(AF_INET, &sin->sin_addr, buf, INET_ADDRSTRLEN);
}

/* ----- Interposed calls ----- */

/*
 * The map entry for a TCP connect (for_bind 0) or bind to sa, with fd
 * already swapped for an AF_XEN socket.  NULL: not ours, pass the call
 * through (*failed 0), or the swap failed (*failed 1, errno set).
 */
static const struct map_ent *redirect(int fd, const struct sockaddr *sa,
				      socklen_t len, int for_bind,
				      struct sockaddr_in *sin, int *failed)
{
	const struct map_ent *m;

	init();
	*failed = 0;
	m = lookup(sa, len, for_bind, sin);
	if (!m || !is_inet_tcp(fd))
		return NULL;
	if (replace_fd(fd)) {
		dbg("%s fd %d: cannot make an AF_XEN socket: %s",
		    for_bind ? "bind" : "connect", fd, strerror(errno));
		*failed = 1;
		return NULL;
	}
	return m;
}

int connect(int fd, csa_arg_t addr, socklen_t len)
{
	const struct sockaddr *sa = SA(addr);
	const struct map_ent *m;
	struct sockaddr_in sin, lo;
	struct sockaddr_xen sx;
	char ip[INET_ADDRSTRLEN];
	int failed;

	m = redirect(fd, sa, len, 0, &sin, &failed);
	if (!m)
		return failed ? -1 : real.connect(fd, sa, len);
	inet_addr4(&lo, INADDR_LOOPBACK, 0);
	shim_set(fd, SHIM_OUT, &lo, &sin);
	if (m->domid == XEN_DOMID_SELF)
		dbg("connect fd %d to %s:%u -> domain self port %u", fd,
		    ip_str(&sin, ip), m->port, m->xport);
	else
		dbg("connect fd %d to %s:%u -> domain %u port %u", fd,
		    ip_str(&sin, ip), m->port, m->domid, m->xport);
	xen_addr(&sx, m->domid, m->xport);
	return real.connect(fd, (struct sockaddr *)&sx, sizeof(sx));
}

int bind(int fd, csa_arg_t addr, socklen_t len)
{
	const struct sockaddr *sa = SA(addr);
	const struct map_ent *m;
	struct sockaddr_in sin;
	struct sockaddr_xen sx;
	char ip[INET_ADDRSTRLEN];
	int failed;

	m = redirect(fd, sa, len, 1, &sin, &failed);
	if (!m)
		return failed ? -1 : real.bind(fd, sa, len);
	shim_set(fd, SHIM_BOUND, &sin, &sin);
	dbg("bind fd %d to %s:%u -> AF_XEN port %u", fd, ip_str(&sin, ip),
	    m->port, m->xport);
	xen_addr(&sx, XEN_DOMID_ANY, m->xport);
	return real.bind(fd, (struct sockaddr *)&sx, sizeof(sx));
}

/* Accept on a redirected listener; the peer shows as 10.254.D/256.D%256. */
static int shim_accept(int fd, struct sockaddr *addr, socklen_t *len,
		       int flags, const struct shim *ls)
{
	struct sockaddr_xen sx;
	socklen_t sl = sizeof(sx);
	struct sockaddr_in local = ls->local, peer;
	int nfd;

	memset(&sx, 0, sizeof(sx));
	nfd = real.accept4(fd, (struct sockaddr *)&sx, &sl, flags);
	if (nfd < 0)
		return -1;
	if (local.sin_addr.s_addr == htonl(INADDR_ANY))
		local.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	inet_addr4(&peer, 0x0AFE0000u | sx.sxen_domid, sx.sxen_port & 0xFFFF);
	shim_set(nfd, SHIM_ACCEPTED, &local, &peer);
	put_addr(addr, len, &peer);
	dbg("accept fd %d: fd %d from domain %u port %u", fd, nfd,
	    sx.sxen_domid, sx.sxen_port);
	return nfd;
}

int accept(int fd, sa_arg_t addr, socklen_t *len)
{
	struct shim s;

	init();
	if (shim_get(fd, &s) != SHIM_BOUND)
		return real.accept(fd, SA(addr), len);
	return shim_accept(fd, SA(addr), len, 0, &s);
}

int accept4(int fd, sa_arg_t addr, socklen_t *len, int flags)
{
	struct shim s;

	init();
	if (shim_get(fd, &s) != SHIM_BOUND)
		return real.accept4(fd, SA(addr), len, flags);
	return shim_accept(fd, SA(addr), len, flags, &s);
}

int getsockname(int fd, sa_arg_t addr, socklen_t *len)
{
	struct shim s;

	init();
	if (!shim_get(fd, &s))
		return real.getsockname(fd, SA(addr), len);
	if (!SA(addr) || !len) {
		errno = EFAULT;
		return -1;
	}
	put_addr(SA(addr), len, &s.local);
	return 0;
}

int getpeername(int fd, sa_arg_t addr, socklen_t *len)
{
	struct sockaddr_xen sx;
	socklen_t sl = sizeof(sx);
	struct shim s;

	init();
	if (!shim_get(fd, &s))
		return real.getpeername(fd, SA(addr), len);
	/* ENOTCONN and the like come from the real socket */
	if (real.getpeername(fd, (struct sockaddr *)&sx, &sl))
		return -1;
	if (!SA(addr) || !len) {
		errno = EFAULT;
		return -1;
	}
	put_addr(SA(addr), len, &s.peer);
	return 0;
}

static int is_ip_level(int level)
{
	return level == IPPROTO_TCP || level == IPPROTO_IP ||
	       level == IPPROTO_IPV6;
}

int setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	struct shim s;
	int e;

	init();
	if ((level != SOL_SOCKET && !is_ip_level(level)) || !shim_get(fd, &s))
		return real.setsockopt(fd, level, name, val, len);
	e = errno;
	if (level == SOL_SOCKET && !real.setsockopt(fd, level, name, val, len))
		return 0;
	dbg("fd %d: ignoring setsockopt(level %d, option %d)", fd, level, name);
	errno = e;
	return 0;
}

/* TCP/IP options read back from a redirected socket. */
static int fake_getsockopt(int level, int name, void *val, socklen_t *len)
{
	static const char cc[16] = "af_xen";	/* TCP_CA_NAME_MAX bytes */
	int v = 0;
	socklen_t n;

	if (!val || !len) {
		errno = EFAULT;
		return -1;
	}
	if (level == IPPROTO_TCP && name == TCP_CONGESTION) {
		n = *len < sizeof(cc) ? *len : sizeof(cc);
		memcpy(val, cc, n);
		*len = n;
		return 0;
	}
	if (level == IPPROTO_TCP && name == TCP_INFO) {
		memset(val, 0, *len);	/* all counters zero */
		return 0;
	}
	if (level == IPPROTO_TCP && name == TCP_MAXSEG)
		v = 1448;
	n = *len < sizeof(v) ? *len : sizeof(v);
	memcpy(val, &v, n);
	*len = n;
	return 0;
}

int getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
	struct shim s;

	init();
	if (!is_ip_level(level) || !shim_get(fd, &s))
		return real.getsockopt(fd, level, name, val, len);
	return fake_getsockopt(level, name, val, len);
}

int close(int fd)
{
	init();
	if (nmap)
		shim_clear(fd);
	return real.close(fd);
}
