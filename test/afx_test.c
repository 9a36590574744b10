// SPDX-License-Identifier: GPL-2.0
/*
 * afx_test: in-guest test suite for AF_XEN sockets -- runner, control
 * channel and reporting.  The cases are in afx_test_cases.c, socket and
 * payload helpers in afx_test_util.c.
 *
 *   afx_test --mode server --peer-ip IP --peer-domid D     (guest 1)
 *   afx_test --mode client --peer-ip IP --peer-domid D     (guest 2)
 *   afx_test --loopback                                    (one guest)
 *
 * The two sides talk over two TCP connections to port 1234 (the server
 * listens on 0.0.0.0, the client retries for up to 30 s):
 *
 *   supervisor channel -- used only by the two runner processes: before a
 *     case "CASE <i> <name> RUN|SKIP", after it "DONE <i> ok|fail|skip
 *     <message>".  A runner whose child is still busy when the peer's
 *     child has failed kills its own child after a short grace period,
 *     so one failure costs at most a few seconds, not a timeout.
 *   control channel -- used by the test children to synchronise steps
 *     ("LISTENING", "SENT", numbers such as ports and checksums).  After
 *     each case both runners write "SYNC <i>" and discard anything else
 *     up to the peer's SYNC, so a child that died mid-conversation cannot
 *     confuse the next case.
 *
 * Each case runs in a forked child (its own process group) with alarm()
 * set to the case's timeout; the child reports its verdict through a
 * pipe.  The client prints one line per case, "ok - <name>" or
 * "not ok - <name> # <why>", covering what both sides found; the server
 * prints its progress to stderr.  Cases marked local run in each guest
 * on its own (loopback connections and API checks need no peer); with
 * --loopback only those run and no control channel is used.
 */
#include "afx_test.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CTL_PORT_DEFAULT	1234
#define CONNECT_RETRY_S		30
#define SERVER_WAIT_S		300
#define GRACE_S			1	/* after the peer's child failed */
#define HARD_EXTRA_S		15	/* beyond the child's own alarm */

int g_family = AF_XEN;
int g_peer_domid = -1;
int g_my_domid = -1;
int g_ctl_fd = -1;
int g_res_fd = -1;
int g_baseline_socks = -1;

static int g_sup_fd = -1;
static double g_timeout_scale = 1.0;
static char g_step[256] = "start";
static unsigned int g_alarm_s;
static const char *g_hang_case;	/* --selftest-hang: simulate a hang */
static const char *g_current_case;	/* for fatal() while a case runs */
static bool g_judge;			/* we print the verdict lines */
static pid_t g_current_pid;		/* the running case's process group */

/* ------------------------------------------------------------------ */
/* errno names                                                         */

#define E(x) { x, #x }
static const struct { int err; const char *name; } errnames[] = {
	E(EPERM), E(ENOENT), E(ESRCH), E(EINTR), E(EIO), E(ENXIO), E(E2BIG),
	E(EBADF), E(ECHILD), E(EAGAIN), E(ENOMEM), E(EACCES), E(EFAULT),
	E(EBUSY), E(EEXIST), E(ENODEV), E(EINVAL), E(ENFILE), E(EMFILE),
	E(ENOTTY), E(ENOSPC), E(EPIPE), E(ERANGE), E(ENOSYS), E(ENODATA),
	E(ETIME), E(EPROTO), E(EBADMSG), E(EOVERFLOW), E(ENOTSOCK),
	E(EDESTADDRREQ), E(EMSGSIZE), E(EPROTOTYPE), E(ENOPROTOOPT),
	E(EPROTONOSUPPORT), E(ESOCKTNOSUPPORT), E(EOPNOTSUPP),
	E(EPFNOSUPPORT), E(EAFNOSUPPORT), E(EADDRINUSE), E(EADDRNOTAVAIL),
	E(ENETDOWN), E(ENETUNREACH), E(ENETRESET), E(ECONNABORTED),
	E(ECONNRESET), E(ENOBUFS), E(EISCONN), E(ENOTCONN), E(ESHUTDOWN),
	E(ETIMEDOUT), E(ECONNREFUSED), E(EHOSTDOWN), E(EHOSTUNREACH),
	E(EALREADY), E(EINPROGRESS), E(ERESTART), E(ENOKEY), E(EKEYREJECTED),
};
#undef E

const char *errname(int err)
{
	static char buf[4][96];
	static int slot;
	const char *name = NULL;
	char *b = buf[slot++ & 3];
	size_t i;

	if (err == 0)
		return "success (no error)";
	for (i = 0; i < sizeof(errnames) / sizeof(errnames[0]); i++)
		if (errnames[i].err == err) {
			name = errnames[i].name;
			break;
		}
	if (name)
		snprintf(b, sizeof(buf[0]), "%s (%s)", name, strerror(err));
	else
		snprintf(b, sizeof(buf[0]), "errno %d (%s)", err, strerror(err));
	return b;
}

/* ------------------------------------------------------------------ */
/* reporting from inside a case                                        */

static void res_write(char kind, const char *fmt, va_list ap)
{
	char msg[1024];
	int n;

	msg[0] = kind;
	n = vsnprintf(msg + 1, sizeof(msg) - 2, fmt, ap);
	if (n < 0)
		n = 0;
	if (n > (int)sizeof(msg) - 3)
		n = sizeof(msg) - 3;
	for (int i = 1; i <= n; i++)
		if (msg[i] == '\n' || msg[i] == '\r')
			msg[i] = ' ';
	msg[n + 1] = '\n';
	if (g_res_fd >= 0) {
		if (write(g_res_fd, msg, n + 2) < 0)
			_exit(3);
	} else {
		fprintf(stderr, "afx_test: %.*s", n + 1, msg + 1);
	}
}

void fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	res_write('F', fmt, ap);
	va_end(ap);
	fflush(stdout);
	_exit(1);
}

void skip(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	res_write('S', fmt, ap);
	va_end(ap);
	fflush(stdout);
	_exit(0);
}

void note(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	res_write('N', fmt, ap);
	va_end(ap);
}

void step(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(g_step, sizeof(g_step), fmt, ap);
	va_end(ap);
}

static void on_alarm(int sig)
{
	char msg[400];
	int n;

	(void)sig;
	n = snprintf(msg, sizeof(msg),
		     "Ftimeout: case still running after %u s, stuck in: %s\n",
		     g_alarm_s, g_step);
	if (n > (int)sizeof(msg) - 1)
		n = sizeof(msg) - 1;
	if (g_res_fd >= 0 && write(g_res_fd, msg, n) < 0)
		_exit(4);
	_exit(2);
}

/* ------------------------------------------------------------------ */
/* line I/O on a TCP socket, one byte at a time so that no process     */
/* ever holds bytes that belong to another one after it exits          */

/* Returns 1 on a line, 0 on EOF, -1 on error or timeout. */
static int fd_readln(int fd, char *buf, size_t size, int timeout_ms)
{
	size_t n = 0;

	for (;;) {
		char ch;
		ssize_t r;

		if (timeout_ms >= 0) {
			struct pollfd p = { .fd = fd, .events = POLLIN };
			int pr = poll(&p, 1, timeout_ms);

			if (pr == 0) {
				errno = ETIMEDOUT;
				return -1;
			}
			if (pr < 0) {
				if (errno == EINTR)
					continue;
				return -1;
			}
		}
		r = read(fd, &ch, 1);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0)
			return 0;
		if (ch == '\n')
			break;
		if (n + 1 < size)
			buf[n++] = ch;
	}
	buf[n] = '\0';
	return 1;
}

static int fd_writeln(int fd, const char *line)
{
	char buf[1100];
	size_t len, off = 0;

	len = snprintf(buf, sizeof(buf) - 1, "%s", line);
	if (len > sizeof(buf) - 2)
		len = sizeof(buf) - 2;
	buf[len++] = '\n';
	while (off < len) {
		ssize_t w = send(fd, buf + off, len - off, MSG_NOSIGNAL);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		off += w;
	}
	return 0;
}

void ctl_writeln(const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (g_ctl_fd < 0)
		fail("control channel used by a local case (bug in afx_test)");
	if (fd_writeln(g_ctl_fd, line))
		fail("control channel: writing \"%s\": %s", line, errname(errno));
}

void ctl_readln(char *buf, size_t size)
{
	int r;

	if (g_ctl_fd < 0)
		fail("control channel used by a local case (bug in afx_test)");
	r = fd_readln(g_ctl_fd, buf, size, -1);
	if (r == 0)
		fail("control channel closed by the peer (while: %s)", g_step);
	if (r < 0)
		fail("control channel read: %s (while: %s)", errname(errno),
		     g_step);
}

void ctl_expectln(const char *token)
{
	char line[1024];
	char saved[sizeof(g_step)];

	memcpy(saved, g_step, sizeof(saved));
	step("waiting for peer's \"%s\" on the control channel (after: %.150s)",
	     token, saved);
	ctl_readln(line, sizeof(line));
	if (strcmp(line, token))
		fail("control channel: expected \"%s\" from the peer, got \"%s\"",
		     token, line);
	memcpy(g_step, saved, sizeof(saved));
}

unsigned long long ctl_expect_num(const char *key)
{
	unsigned long long a, b;

	ctl_expect_2num(key, &a, &b);
	return a;
}

/* Reads "KEY a [b]". */
void ctl_expect_2num(const char *key, unsigned long long *a,
		     unsigned long long *b)
{
	char line[1024];
	char saved[sizeof(g_step)];
	size_t kl = strlen(key);
	char *end;

	memcpy(saved, g_step, sizeof(saved));
	step("waiting for peer's \"%s <n>\" on the control channel (after: %.150s)",
	     key, saved);
	ctl_readln(line, sizeof(line));
	if (strncmp(line, key, kl) || line[kl] != ' ')
		fail("control channel: expected \"%s <number>\", got \"%s\"",
		     key, line);
	*a = strtoull(line + kl + 1, &end, 0);
	*b = 0;
	if (*end == ' ')
		*b = strtoull(end + 1, &end, 0);
	memcpy(g_step, saved, sizeof(saved));
}

/* ------------------------------------------------------------------ */
/* running one case                                                    */

enum { ST_OK, ST_FAIL, ST_SKIP };
static const char *const stnames[] = { "ok", "fail", "skip" };

struct result {
	int status;
	char msg[1024];
	char notes[1024];
};

static unsigned int case_timeout(const struct test_case *tc)
{
	double t = tc->timeout * g_timeout_scale;

	return t < 1 ? 1 : (unsigned int)t;
}

static void child_main(const struct test_case *tc, int idx, enum afx_side side,
		       int resfd)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	struct ctx c = {
		.idx = idx,
		.port = AFX_PORT_BASE + idx * AFX_PORTS_PER_CASE,
		.side = side,
		.tc = tc,
	};
	afx_fn fn;

	setpgid(0, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL);	/* the runner died: so do we */
	g_res_fd = resfd;
	if (g_sup_fd >= 0)
		close(g_sup_fd);
	g_sup_fd = -1;
	sigaction(SIGALRM, &sa, NULL);
	/* EPIPE, not death by SIGPIPE; the SIGPIPE cases install a handler. */
	signal(SIGPIPE, SIG_IGN);
	signal(SIGUSR1, SIG_DFL);
	g_alarm_s = case_timeout(tc);
	step("case start");
	alarm(g_alarm_s);

	if (tc->local)
		fn = tc->run_local;
	else if (side == SIDE_SERVER)
		fn = tc->run_server;
	else
		fn = tc->run_client;
	if (g_hang_case && !strcmp(g_hang_case, tc->name)) {
		step("--selftest-hang: pretending to hang");
		for (;;)
			pause();
	}
	if (fn)
		fn(&c);
	fflush(stdout);
	_exit(0);
}

static void parse_child_output(char *out, struct result *r)
{
	char *line, *save = NULL;

	r->msg[0] = '\0';
	r->notes[0] = '\0';
	for (line = strtok_r(out, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		size_t used;

		switch (line[0]) {
		case 'F':
			if (r->status != ST_FAIL) {
				r->status = ST_FAIL;
				snprintf(r->msg, sizeof(r->msg), "%s", line + 1);
			}
			break;
		case 'S':
			if (r->status == ST_OK) {
				r->status = ST_SKIP;
				snprintf(r->msg, sizeof(r->msg), "%s", line + 1);
			}
			break;
		case 'N':
			used = strlen(r->notes);
			if (used + 3 < sizeof(r->notes))
				snprintf(r->notes + used, sizeof(r->notes) - used,
					 "%s%s", used ? "; " : "", line + 1);
			break;
		}
	}
}

static int parse_done(const char *line, int idx, struct result *r)
{
	char st[16];
	int i, n = 0;

	if (sscanf(line, "DONE %d %15s %n", &i, st, &n) < 2 || i != idx)
		return -1;
	if (!strcmp(st, "ok"))
		r->status = ST_OK;
	else if (!strcmp(st, "skip"))
		r->status = ST_SKIP;
	else
		r->status = ST_FAIL;
	snprintf(r->msg, sizeof(r->msg), "%s", n ? line + n : "");
	return 0;
}

static void fatal(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void fatal(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (g_current_pid > 0)
		kill(-g_current_pid, SIGKILL);
	fprintf(stderr, "afx_test: fatal: %s\n", msg);
	if (g_judge && g_current_case)
		printf("not ok - %s # runner error: %s\n", g_current_case, msg);
	printf("Bail out! afx_test: %s\n", msg);
	fflush(stdout);
	exit(2);
}

/*
 * Runs case idx in a child and fills @mine.  With a peer (@peer != NULL)
 * also collects the peer's DONE line, killing our child early if the
 * peer's child failed.
 */
static void run_child(const struct test_case *tc, int idx, enum afx_side side,
		      struct result *mine, struct result *peer)
{
	char out[8192];
	size_t outlen = 0;
	int p[2], wstatus = 0;
	bool reaped = false, pipe_open = true, peer_done = false;
	bool killed_hard = false, killed_abort = false;
	double deadline, grace_end = 0, drain_end = 0;
	pid_t pid;

	memset(mine, 0, sizeof(*mine));
	if (pipe(p))
		fatal("pipe: %s", errname(errno));
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		fatal("fork: %s", errname(errno));
	if (pid == 0) {
		close(p[0]);
		child_main(tc, idx, side, p[1]);
	}
	setpgid(pid, pid);
	g_current_pid = pid;
	close(p[1]);
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	deadline = now_s() + case_timeout(tc) + HARD_EXTRA_S;

	while (pipe_open || !reaped) {
		struct pollfd pf[2];
		int n = 0, sup_i = -1;
		double t = now_s();

		if (pipe_open) {
			pf[n].fd = p[0];
			pf[n++].events = POLLIN;
		}
		if (peer && !peer_done) {
			sup_i = n;
			pf[n].fd = g_sup_fd;
			pf[n++].events = POLLIN;
		}
		if (poll(pf, n, 100) < 0 && errno != EINTR)
			fatal("poll: %s", errname(errno));

		if (pipe_open) {
			for (;;) {
				ssize_t r = read(p[0], out + outlen,
						 sizeof(out) - 1 - outlen);
				if (r > 0) {
					outlen += r;
					if (outlen >= sizeof(out) - 1)
						outlen = sizeof(out) - 2;
					continue;
				}
				if (r == 0) {
					pipe_open = false;
					close(p[0]);
				}
				break;
			}
		}
		if (sup_i >= 0 && (pf[sup_i].revents & (POLLIN | POLLHUP | POLLERR))) {
			char line[1200];
			int r = fd_readln(g_sup_fd, line, sizeof(line), 30000);

			if (r <= 0)
				fatal("peer runner went away during case %s (%s)",
				      tc->name, r == 0 ? "EOF" : errname(errno));
			if (parse_done(line, idx, peer))
				fatal("supervisor channel: expected DONE %d, got \"%s\"",
				      idx, line);
			peer_done = true;
		}
		if (!reaped) {
			pid_t w = waitpid(pid, &wstatus, WNOHANG);

			if (w == pid) {
				reaped = true;
				kill(-pid, SIGKILL);	/* helpers left behind */
				drain_end = t + 2;
			}
		}
		if (reaped && pipe_open && t > drain_end) {
			/* a helper that cannot be killed holds the pipe */
			close(p[0]);
			pipe_open = false;
		}
		if (!reaped && t > deadline && !killed_hard) {
			killed_hard = true;
			kill(-pid, SIGKILL);
			deadline = t + 10;	/* then give up on it */
		} else if (!reaped && killed_hard && t > deadline) {
			fprintf(stderr, "afx_test: case %s: child %d cannot be killed (stuck in the kernel?)\n",
				tc->name, (int)pid);
			reaped = true;
			wstatus = W_EXITCODE(125, 0);
			if (pipe_open) {
				close(p[0]);
				pipe_open = false;
			}
		}
		/* Local cases run independently on each side: no abort. */
		if (!reaped && peer_done && peer->status == ST_FAIL &&
		    !tc->local && !killed_abort && !killed_hard) {
			if (!grace_end) {
				grace_end = t + GRACE_S;
			} else if (t > grace_end) {
				killed_abort = true;
				kill(-pid, SIGKILL);
			}
		}
	}

	g_current_pid = 0;
	out[outlen] = '\0';
	parse_child_output(out, mine);
	if (mine->status != ST_FAIL) {
		if (killed_abort) {
			mine->status = ST_FAIL;
			snprintf(mine->msg, sizeof(mine->msg),
				 "(aborted after the peer's failure)");
		} else if (killed_hard) {
			mine->status = ST_FAIL;
			snprintf(mine->msg, sizeof(mine->msg),
				 "hard timeout: killed after %u s, alarm did not end it; stuck in the kernel?",
				 case_timeout(tc) + HARD_EXTRA_S);
		} else if (WIFSIGNALED(wstatus)) {
			mine->status = ST_FAIL;
			snprintf(mine->msg, sizeof(mine->msg),
				 "test process killed by signal %d (%s)",
				 WTERMSIG(wstatus), strsignal(WTERMSIG(wstatus)));
		} else if (WEXITSTATUS(wstatus) != 0) {
			mine->status = ST_FAIL;
			snprintf(mine->msg, sizeof(mine->msg),
				 "test process exited with status %d",
				 WEXITSTATUS(wstatus));
		}
	}

	if (!peer)
		return;
	{
		char line[1200];

		snprintf(line, sizeof(line), "DONE %d %s %s", idx,
			 stnames[mine->status], mine->msg);
		if (fd_writeln(g_sup_fd, line))
			fatal("supervisor channel write: %s", errname(errno));
	}
	while (!peer_done) {
		char line[1200];
		int r = fd_readln(g_sup_fd, line, sizeof(line),
				  (case_timeout(tc) + 2 * HARD_EXTRA_S + 30) * 1000);

		if (r <= 0)
			fatal("no result from the peer for case %s (%s)", tc->name,
			      r == 0 ? "EOF" : errname(errno));
		if (parse_done(line, idx, peer))
			fatal("supervisor channel: expected DONE %d, got \"%s\"",
			      idx, line);
		peer_done = true;
	}
}

/* After a case: discard stale control lines up to the peer's SYNC. */
static void ctl_resync(int idx)
{
	char want[32], line[1100];

	snprintf(want, sizeof(want), "SYNC %d", idx);
	if (fd_writeln(g_ctl_fd, want))
		fatal("control channel write: %s", errname(errno));
	for (;;) {
		int r = fd_readln(g_ctl_fd, line, sizeof(line), 60000);

		if (r <= 0)
			fatal("control channel resync after case %d: %s", idx,
			      r == 0 ? "EOF" : errname(errno));
		if (!strcmp(line, want))
			return;
		fprintf(stderr, "afx_test: discarding stale control line \"%s\"\n",
			line);
	}
}

/* ------------------------------------------------------------------ */
/* control connections                                                 */

static void tcp_tune(int fd)
{
	int one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static int tcp_accept_timeout(int lfd, int timeout_s)
{
	struct pollfd p = { .fd = lfd, .events = POLLIN };
	int r, fd;

	do
		r = poll(&p, 1, timeout_s * 1000);
	while (r < 0 && errno == EINTR);
	if (r == 0)
		fatal("no client connected to the control port within %d s",
		      timeout_s);
	if (r < 0)
		fatal("poll: %s", errname(errno));
	fd = accept(lfd, NULL, NULL);
	if (fd < 0)
		fatal("accept on control port: %s", errname(errno));
	tcp_tune(fd);
	return fd;
}

static void server_control(int port)
{
	struct sockaddr_in sin = {
		.sin_family = AF_INET,
		.sin_port = htons(port),
		.sin_addr.s_addr = htonl(INADDR_ANY),
	};
	int lfd, one = 1, i;
	char line[256];

	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0)
		fatal("socket(AF_INET): %s", errname(errno));
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (struct sockaddr *)&sin, sizeof(sin)))
		fatal("bind control port %d: %s", port, errname(errno));
	if (listen(lfd, 4))
		fatal("listen: %s", errname(errno));
	fprintf(stderr, "afx_test: server waiting for the client on TCP port %d\n",
		port);
	/* The client opens the supervisor channel first, then control. */
	for (i = 0; i < 2; i++) {
		int fd = tcp_accept_timeout(lfd, SERVER_WAIT_S);

		if (fd_readln(fd, line, sizeof(line), 10000) <= 0) {
			close(fd);
			i--;
			continue;
		}
		if (!strcmp(line, "HELLO SUP") && g_sup_fd < 0) {
			g_sup_fd = fd;
		} else if (!strcmp(line, "HELLO CTL") && g_ctl_fd < 0) {
			g_ctl_fd = fd;
		} else {
			fprintf(stderr, "afx_test: ignoring control connection saying \"%s\"\n",
				line);
			close(fd);
			i--;
		}
	}
	close(lfd);
}

static int tcp_connect_retry(const char *ip, int port, double until)
{
	struct sockaddr_in sin = {
		.sin_family = AF_INET,
		.sin_port = htons(port),
	};
	int last = 0;

	if (inet_pton(AF_INET, ip, &sin.sin_addr) != 1)
		fatal("bad --peer-ip \"%s\" (IPv4 dotted quad expected)", ip);
	while (now_s() < until) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		socklen_t len = sizeof(last);

		if (fd < 0)
			fatal("socket(AF_INET): %s", errname(errno));
		if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0)
			goto connected;
		last = errno;
		if (errno == EINPROGRESS && poll(&p, 1, 2000) == 1 &&
		    getsockopt(fd, SOL_SOCKET, SO_ERROR, &last, &len) == 0 &&
		    last == 0)
			goto connected;
		close(fd);
		msleep(500);
		continue;
connected:
		set_nonblock(fd, false);
		tcp_tune(fd);
		return fd;
	}
	fatal("cannot connect to %s:%d within %d s: %s", ip, port,
	      CONNECT_RETRY_S, errname(last));
}

static void client_control(const char *ip, int port)
{
	double until = now_s() + CONNECT_RETRY_S;

	g_sup_fd = tcp_connect_retry(ip, port, until);
	if (fd_writeln(g_sup_fd, "HELLO SUP"))
		fatal("control write: %s", errname(errno));
	g_ctl_fd = tcp_connect_retry(ip, port, until + 10);
	if (fd_writeln(g_ctl_fd, "HELLO CTL"))
		fatal("control write: %s", errname(errno));
}

/* Both sides check they run the same case table. */
static void handshake(void)
{
	char mine[128], line[256];
	int n, d;

	snprintf(mine, sizeof(mine), "AFX_TEST 1 cases=%d domid=%d", afx_ncases,
		 g_my_domid);
	if (fd_writeln(g_sup_fd, mine))
		fatal("control write: %s", errname(errno));
	if (fd_readln(g_sup_fd, line, sizeof(line), 60000) <= 0)
		fatal("no handshake from the peer");
	if (sscanf(line, "AFX_TEST 1 cases=%d domid=%d", &n, &d) != 2)
		fatal("peer handshake \"%s\" not understood", line);
	if (n != afx_ncases)
		fatal("peer has %d cases, we have %d: different afx_test builds",
		      n, afx_ncases);
	if (d >= 0 && g_peer_domid >= 0 && d != g_peer_domid)
		fprintf(stderr, "afx_test: warning: peer says its domid is %d, --peer-domid is %d\n",
			d, g_peer_domid);
}

/* ------------------------------------------------------------------ */
/* main                                                                */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: afx_test --mode server|client --peer-ip IP --peer-domid D [options]\n"
		"       afx_test --loopback [options]\n"
		"       afx_test --list\n"
		"options:\n"
		"  --pick NAME        run only the named case(s); repeatable\n"
		"  --skip NAME        skip the named case(s); repeatable\n"
		"  --control-port N   TCP control port (default %d)\n"
		"  --my-domid D       own domid (default: env MY_DOMID)\n"
		"  --timeout-scale F  multiply every case timeout by F\n"
		"  --selftest-hang NAME  this side's NAME case hangs (checks the timeout)\n"
		"In server/client mode the local cases (marked L in --list) run in\n"
		"both guests as well; the client prints the verdict lines.\n",
		CTL_PORT_DEFAULT);
}

static int find_case(const char *name)
{
	for (int i = 0; i < afx_ncases; i++)
		if (!strcmp(afx_cases[i].name, name))
			return i;
	fprintf(stderr, "afx_test: no case named \"%s\" (see --list)\n", name);
	exit(2);
}

static int read_family(void)
{
	FILE *f = fopen("/sys/module/af_xen/parameters/family", "r");
	int fam = AF_XEN;

	if (f) {
		if (fscanf(f, "%d", &fam) != 1 || fam <= 0)
			fam = AF_XEN;
		fclose(f);
	}
	return fam;
}

static void append_msg(char *buf, size_t size, const char *who,
		       const struct result *r)
{
	size_t used = strlen(buf);

	snprintf(buf + used, size - used, "%s%s: %s", used ? "; " : "", who,
		 r->msg[0] ? r->msg : "failed");
}

int main(int argc, char **argv)
{
	enum { O_MODE = 256, O_PEER_IP, O_PEER_DOMID, O_LOOPBACK, O_LIST,
	       O_PICK, O_SKIP, O_PORT, O_MY_DOMID, O_SCALE, O_HANG, O_HELP };
	static const struct option opts[] = {
		{ "mode", required_argument, NULL, O_MODE },
		{ "peer-ip", required_argument, NULL, O_PEER_IP },
		{ "peer-domid", required_argument, NULL, O_PEER_DOMID },
		{ "loopback", no_argument, NULL, O_LOOPBACK },
		{ "list", no_argument, NULL, O_LIST },
		{ "pick", required_argument, NULL, O_PICK },
		{ "skip", required_argument, NULL, O_SKIP },
		{ "control-port", required_argument, NULL, O_PORT },
		{ "my-domid", required_argument, NULL, O_MY_DOMID },
		{ "timeout-scale", required_argument, NULL, O_SCALE },
		{ "selftest-hang", required_argument, NULL, O_HANG },
		{ "help", no_argument, NULL, O_HELP },
		{ NULL, 0, NULL, 0 },
	};
	bool *skipped = calloc(afx_ncases, sizeof(bool));
	bool picked_any = false, loopback = false, list = false;
	const char *mode = NULL, *peer_ip = NULL, *env;
	int ctl_port = CTL_PORT_DEFAULT, opt, nfail = 0, nrun = 0, plan = 0;
	enum afx_side side;

	if (!skipped)
		return 2;
	env = getenv("MY_DOMID");
	if (env && *env)
		g_my_domid = atoi(env);
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		int i;

		switch (opt) {
		case O_MODE:
			mode = optarg;
			break;
		case O_PEER_IP:
			peer_ip = optarg;
			break;
		case O_PEER_DOMID:
			g_peer_domid = atoi(optarg);
			break;
		case O_LOOPBACK:
			loopback = true;
			break;
		case O_LIST:
			list = true;
			break;
		case O_PICK:
			i = find_case(optarg);
			if (!picked_any) {
				for (int j = 0; j < afx_ncases; j++)
					skipped[j] = true;
				picked_any = true;
			}
			skipped[i] = false;
			break;
		case O_SKIP:
			skipped[find_case(optarg)] = true;
			break;
		case O_PORT:
			ctl_port = atoi(optarg);
			break;
		case O_MY_DOMID:
			g_my_domid = atoi(optarg);
			break;
		case O_SCALE:
			g_timeout_scale = atof(optarg);
			if (g_timeout_scale <= 0)
				g_timeout_scale = 1;
			break;
		case O_HANG:
			g_hang_case = afx_cases[find_case(optarg)].name;
			break;
		case O_HELP:
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (list) {
		for (int i = 0; i < afx_ncases; i++)
			printf("%-32s %s %4us\n", afx_cases[i].name,
			       afx_cases[i].local ? "L" : "X", afx_cases[i].timeout);
		return 0;
	}
	if (loopback) {
		side = SIDE_LOCAL;
	} else if (mode && !strcmp(mode, "server")) {
		side = SIDE_SERVER;
	} else if (mode && !strcmp(mode, "client")) {
		side = SIDE_CLIENT;
		if (!peer_ip) {
			fprintf(stderr, "afx_test: --mode client needs --peer-ip\n");
			return 2;
		}
	} else {
		usage(stderr);
		return 2;
	}
	if (side != SIDE_LOCAL && g_peer_domid < 0) {
		fprintf(stderr, "afx_test: --peer-domid is required\n");
		return 2;
	}

	setvbuf(stdout, NULL, _IOLBF, 0);
	g_judge = side != SIDE_SERVER;
	signal(SIGPIPE, SIG_IGN);
	g_family = read_family();
	g_baseline_socks = afx_sock_count();

	if (side == SIDE_SERVER)
		server_control(ctl_port);
	else if (side == SIDE_CLIENT)
		client_control(peer_ip, ctl_port);
	if (side != SIDE_LOCAL)
		handshake();

	for (int i = 0; i < afx_ncases; i++)
		if (!skipped[i] && (side != SIDE_LOCAL || afx_cases[i].local))
			plan++;
	if (side != SIDE_SERVER) {
		printf("# afx_test: mode %s, family %d, my domid %d, peer domid %d\n",
		       side == SIDE_LOCAL ? "loopback" : "client", g_family,
		       g_my_domid, g_peer_domid);
		printf("1..%d\n", plan);
	} else {
		fprintf(stderr, "afx_test: server, family %d, my domid %d, peer domid %d, %d cases\n",
			g_family, g_my_domid, g_peer_domid, plan);
	}

	for (int i = 0; i < afx_ncases; i++) {
		const struct test_case *tc = &afx_cases[i];
		struct result mine, peer, *srv, *cli;
		bool peer_skip = false;
		char msg[2600] = "", notes[2200] = "";
		struct timespec t0, t1;
		long ms;
		int st;

		if (side == SIDE_LOCAL && !tc->local)
			continue;
		if (side != SIDE_LOCAL) {
			char line[300];
			char name[128], what[16];
			int j;

			snprintf(line, sizeof(line), "CASE %d %s %s", i, tc->name,
				 skipped[i] ? "SKIP" : "RUN");
			if (fd_writeln(g_sup_fd, line))
				fatal("supervisor channel write: %s", errname(errno));
			if (fd_readln(g_sup_fd, line, sizeof(line), 600000) <= 0)
				fatal("peer runner gone before case %s", tc->name);
			if (sscanf(line, "CASE %d %127s %15s", &j, name, what) != 3 ||
			    j != i || strcmp(name, tc->name))
				fatal("out of step with the peer: expected CASE %d %s, got \"%s\"",
				      i, tc->name, line);
			peer_skip = !strcmp(what, "SKIP");
		}
		if (skipped[i] || peer_skip)
			continue;

		nrun++;
		g_current_case = tc->name;
		if (side == SIDE_SERVER)
			fprintf(stderr, "afx_test: [%d] %s ...\n", i, tc->name);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		run_child(tc, i, side, &mine, side == SIDE_LOCAL ? NULL : &peer);
		if (side != SIDE_LOCAL)
			ctl_resync(i);
		g_current_case = NULL;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		ms = (t1.tv_sec - t0.tv_sec) * 1000 +
		     (t1.tv_nsec - t0.tv_nsec) / 1000000;
		/* Where a boot's time goes: the slow cases say so. */
		if (side != SIDE_SERVER && ms >= 1000)
			printf("# %s took %ld ms\n", tc->name, ms);

		if (side == SIDE_LOCAL) {
			srv = NULL;
			cli = &mine;
		} else if (side == SIDE_SERVER) {
			srv = &mine;
			cli = &peer;
		} else {
			srv = &peer;
			cli = &mine;
		}

		st = cli->status;
		if (srv && srv->status == ST_FAIL)
			st = ST_FAIL;
		else if (srv && srv->status == ST_SKIP && st == ST_OK)
			st = ST_SKIP;
		if (st == ST_FAIL) {
			nfail++;
			/* An abort caused by the other side is noise. */
			bool sf = srv && srv->status == ST_FAIL;
			bool cf = cli->status == ST_FAIL;
			bool sa = sf && strstr(srv->msg, "(aborted after") == srv->msg;
			bool ca = cf && strstr(cli->msg, "(aborted after") == cli->msg;

			if (!srv)
				snprintf(msg, sizeof(msg), "%s", cli->msg);
			if (sf && !(sa && cf && !ca))
				append_msg(msg, sizeof(msg),
					   tc->local ? "server guest" : "server", srv);
			if (srv && cf && !(ca && sf && !sa))
				append_msg(msg, sizeof(msg),
					   tc->local ? "client guest" : "client", cli);
		} else if (st == ST_SKIP) {
			snprintf(msg, sizeof(msg), "%s",
				 cli->status == ST_SKIP ? cli->msg : srv->msg);
		}
		if (mine.notes[0])
			snprintf(notes, sizeof(notes), "%s", mine.notes);

		if (side == SIDE_SERVER) {
			if (mine.notes[0])
				fprintf(stderr, "# %s: %s\n", tc->name, mine.notes);
			fprintf(stderr, "afx_test: [%d] %s: %s%s%s\n", i, tc->name,
				st == ST_FAIL ? "not ok" : "ok",
				msg[0] ? " # " : "", msg);
			continue;
		}
		if (notes[0])
			printf("# %s: %s\n", tc->name, notes);
		if (st == ST_FAIL)
			printf("not ok - %s # %s\n", tc->name, msg);
		else if (st == ST_SKIP)
			printf("ok - %s # SKIP %s\n", tc->name, msg);
		else
			printf("ok - %s\n", tc->name);
	}

	if (side != SIDE_LOCAL) {
		char line[64];

		fd_writeln(g_sup_fd, "BYE");
		fd_readln(g_sup_fd, line, sizeof(line), 30000);
	}
	if (side != SIDE_SERVER)
		printf("# afx_test: %d of %d cases failed\n", nfail, nrun);
	else
		fprintf(stderr, "afx_test: server done, %d of %d cases failed\n",
			nfail, nrun);
	return nfail ? 1 : 0;
}
