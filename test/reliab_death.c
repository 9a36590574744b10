// SPDX-License-Identifier: GPL-2.0
/*
 * reliab: peers that die.  A guest destroyed by Domain-0 under a blocked
 * call (dying-server/dying-client), through AF_XEN and through vsock,
 * and a peer process killed mid-transfer (killed-server/killed-client).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/vm_sockets.h>

#include "reliab.h"

/* ----- dying peer ----- */

/*
 * Trial t (client domain t + 1) blocks in dying_ops[(t - 1) % 5]; the
 * first five trials go through AF_XEN, the next five through vsock
 * (af_xen_vsock, CID = domid + 2), and so on.
 */
static const char dying_ops[] = "rwpas";
static const char *const dying_names[] = {
	"read", "write on a full ring", "poll", "accept after the peer died",
	"read after a clean shutdown",
};

static int dying_vsock(int trial)
{
	return (trial - 1) / 5 % 2;
}

static int vsock_listen(int port, int backlog)
{
	struct sockaddr_vm sa = { .svm_family = AF_VSOCK,
				  .svm_cid = VMADDR_CID_ANY, .svm_port = port };
	int fd = socket(AF_VSOCK, SOCK_STREAM, 0);

	if (fd < 0 || bind(fd, (void *)&sa, sizeof(sa)) || listen(fd, backlog)) {
		printf("# vsock listen on port %d: %s\n", port, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static int vsock_connect(int domid, int port)
{
	struct sockaddr_vm sa = { .svm_family = AF_VSOCK,
				  .svm_cid = domid + 2, .svm_port = port };
	int fd, i;

	for (i = 0; i < 300; i++) {
		fd = socket(AF_VSOCK, SOCK_STREAM, 0);
		if (fd >= 0 && !connect(fd, (void *)&sa, sizeof(sa)))
			return fd;
		if (fd >= 0)
			close(fd);
		usleep(100000);
	}
	return -1;
}

static int blocked_call(int fd, char op, int *err)
{
	static char buf[65536];
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t r = 0;

	switch (op) {
	case 'w':
		do
			r = send(fd, buf, sizeof(buf), MSG_NOSIGNAL);
		while (r > 0);
		break;
	case 'p':
		if (poll(&p, 1, 60000) <= 0)
			return -2;
		r = recv(fd, buf, 1, 0);	/* learn what happened */
		break;
	default:
		r = recv(fd, buf, 1, 0);
	}
	*err = errno;
	return r;
}

/*
 * Did the call see the reset?  vsock's core passes the reset's errno to
 * a caller blocked at the time; one that comes later gets EOF (or EPIPE
 * when sending), with ECONNRESET left in SO_ERROR.
 */
static int saw_reset(int fd, int vsock, int r, int err)
{
	socklen_t len = sizeof(err);

	if (r < 0 && err == ECONNRESET)
		return 1;
	if (!vsock || !(r == 0 || (r < 0 && err == EPIPE)))
		return 0;
	err = 0;
	getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
	return err == ECONNRESET;
}

/* One trial on the listener of its front end; 1 if it passed. */
static int dying_trial(int t, int lfd)
{
	char op = dying_ops[(t - 1) % 5];
	int vsock = dying_vsock(t), fd, r, err = 0, ok;
	double t0, dt;

	if (op == 'a')
		sleep(8);	/* let the client connect and die first */
	fd = lfd < 0 ? -1 : accept(lfd, NULL, NULL);
	if (fd < 0) {
		printf("# trial %d: accept: %s\n", t, strerror(errno));
		return 0;
	}
	t0 = now();
	r = blocked_call(fd, op, &err);
	dt = now() - t0;
	ok = op == 's' ? r == 0 : saw_reset(fd, vsock, r, err);
	close(fd);
	printf("# trial %d (%s, %s): returned %d (%s) after %.2f s\n", t,
	       vsock ? "vsock" : "AF_XEN", dying_names[(t - 1) % 5], r,
	       r < 0 ? strerror(err) : "EOF", dt);
	/* destroyed 3 s after the client started; 5 s to notice */
	if (ok && dt > 3 + 5 + 1) {
		printf("# trial %d: too slow\n", t);
		ok = 0;
	}
	return ok;
}

int dying_server(int trials)
{
	int lfd[2] = { xlisten(DYING_PORT, 4), -1 }, t, ok[2] = { 0 };
	int n[2] = { 0 };
	struct held base, h;

	if (trials > 5)
		lfd[1] = vsock_listen(DYING_PORT, 4);
	held_now(&base);
	for (t = 1; t <= trials; t++) {
		n[dying_vsock(t)]++;
		ok[dying_vsock(t)] += dying_trial(t, lfd[dying_vsock(t)]);
	}
	tap(ok[0] == n[0], "dying peer: blocked read/write/poll/accept return ECONNRESET (or EOF after shutdown) within 5 s",
	    "%d of %d trials", ok[0], n[0]);
	if (n[1])
		tap(ok[1] == n[1], "dying peer through vsock: blocked read/write/poll/accept see ECONNRESET (or EOF after shutdown) within 5 s",
		    "%d of %d trials", ok[1], n[1]);
	printf("# dying peer: %d of %d AF_XEN trials, %d of %d vsock trials\n",
	       ok[0], n[0], ok[1], n[1]);
	tap(held_back(&base, &h), "dying peer: resources freed after the trials",
	    "still held");
	held_print("after the dying-peer trials", &h);
	close(lfd[0]);
	if (lfd[1] >= 0)
		close(lfd[1]);
	return failures != 0;
}

int dying_client(int domid)
{
	int me = atoi(getenv("MY_DOMID") ? getenv("MY_DOMID") : "2");
	char op = dying_ops[(me - 2) % 5];
	int vsock = dying_vsock(me - 1);
	int fd = vsock ? vsock_connect(domid, DYING_PORT) :
		 xconnect(domid, DYING_PORT);

	if (fd < 0)
		return 1;
	if (op == 's')
		shutdown(fd, SHUT_WR);
	printf("# client in domain %d connected for '%c' through %s; waiting to be destroyed\n",
	       me, op, vsock ? "vsock" : "AF_XEN");
	fflush(stdout);
	pause();
	return 0;
}

/* ----- a peer process killed mid-transfer ----- */

struct kill_writer {
	int fd, err;
	long sent;
	double dt;
};

/* Write until the killed reader's end makes the write fail. */
static void *kill_write(void *arg)
{
	struct kill_writer *w = arg;
	static char buf[65536];
	double t0 = now();
	ssize_t n;

	memset(buf, 0x5a, sizeof(buf));
	while ((n = send(w->fd, buf, sizeof(buf), MSG_NOSIGNAL)) > 0)
		w->sent += n;
	w->err = errno;
	w->dt = now() - t0;
	return NULL;
}

/* Read the killed writer's stream, checking every byte, up to its end. */
static long kill_read(int fd, int *bad, int *err)
{
	static unsigned char buf[65536];
	long got = 0;
	ssize_t n, i;

	while ((n = recv(fd, buf, sizeof(buf), 0)) > 0) {
		for (i = 0; i < n; i++)
			if (buf[i] != pattern(got + i))
				(*bad)++;
		got += n;
	}
	*err = n < 0 ? errno : 0;
	return got;
}

int killed_server(void)
{
	struct kill_writer w = { 0 };
	struct held base, h;
	int lfd, a, b, bad = 0, err;
	pthread_t th;
	double t0, dt;
	long got;

	held_now(&base);
	lfd = xlisten(KILL_PORT, 4);
	a = accept(lfd, NULL, NULL);	/* the client writes on this one */
	b = accept(lfd, NULL, NULL);	/* and never reads this one */
	t0 = now();
	w.fd = b;
	pthread_create(&th, NULL, kill_write, &w);
	got = kill_read(a, &bad, &err);
	dt = now() - t0;
	pthread_join(th, NULL);
	printf("# killed peer: read %ld bytes, then %s after %.2f s; writer sent %ld bytes, then %s after %.2f s\n",
	       got, err ? strerror(err) : "EOF", dt, w.sent, strerror(w.err), w.dt);
	tap(got > 0 && !bad && (!err || err == ECONNRESET) && dt < 6,
	    "killed peer: a reader sees every byte the SIGKILLed writer sent, then EOF, within 5 s of the kill",
	    "%ld bytes, %d wrong, %s after %.2f s", got, bad,
	    err ? strerror(err) : "EOF", dt);
	tap((w.err == EPIPE || w.err == ECONNRESET) && w.dt < 6,
	    "killed peer: a writer blocked on the full ring of a SIGKILLed reader gets EPIPE or ECONNRESET within 5 s",
	    "%s after %.2f s", strerror(w.err), w.dt);
	close(a);
	close(b);
	close(lfd);
	tap(held_back(&base, &h), "killed peer: server-side resources freed",
	    "not back to the baseline");
	held_print("after the killed peer", &h);
	return 0;
}

/* The victim: streams on one connection, never reads the other. */
static void kill_victim(int domid, int ready)
{
	int a = xconnect(domid, KILL_PORT), b = xconnect(domid, KILL_PORT);
	static unsigned char buf[65536];
	long off = 0;
	size_t i;

	if (a < 0 || b < 0)
		exit(1);
	if (write(ready, "x", 1) != 1)
		exit(1);
	for (;;) {
		for (i = 0; i < sizeof(buf); i++)
			buf[i] = pattern(off + i);
		if (send(a, buf, sizeof(buf), 0) != sizeof(buf))
			exit(1);
		off += sizeof(buf);
	}
}

int killed_client(int domid)
{
	struct held base, h;
	int p[2], st;
	pid_t pid;
	char c;

	held_now(&base);
	if (pipe(p))
		return 1;
	pid = fork();
	if (!pid)
		kill_victim(domid, p[1]);
	if (read(p[0], &c, 1) != 1) {
		tap(0, "killed peer: victim connected", "it did not");
		return 1;
	}
	sleep(1);	/* mid-transfer: the stream is flowing */
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	tap(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL,
	    "killed peer: the transferring process died of SIGKILL",
	    "status %#x", st);
	tap(held_back(&base, &h), "killed peer: the killed process's sockets are freed in its own guest",
	    "not back to the baseline");
	held_print("after SIGKILL", &h);
	return 0;
}

