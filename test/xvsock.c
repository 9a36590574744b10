// SPDX-License-Identifier: GPL-2.0
/*
 * xvsock: vsock between Xen guests through af_xen_vsock, written the way
 * any vsock program is, with nothing but <linux/vm_sockets.h>.
 *
 *   xvsock serve PORT         stream echo on PORT, seqpacket echo (records
 *                             and their MSG_EOR kept) on PORT + 1
 *   xvsock check CID PORT     the checks below against "serve" in CID
 *   xvsock leak CID PORT N    N connect/echo/close cycles; /proc/net/
 *                             af_xen_stat back to where it was
 *
 * One TAP line per check, "ok - vsock: ..." or "not ok - vsock: ... # why".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <linux/vm_sockets.h>

static int failures;

static void tap(int ok, const char *name, const char *why)
{
	if (ok) {
		printf("ok - vsock: %s\n", name);
		return;
	}
	failures++;
	printf("not ok - vsock: %s # %s\n", name, why);
}

static int vconnect(int type, unsigned int cid, unsigned int port,
		    unsigned long long bufsz)
{
	struct sockaddr_vm sa = { .svm_family = AF_VSOCK, .svm_cid = cid,
				  .svm_port = port };
	int fd = socket(AF_VSOCK, type, 0);

	if (fd < 0)
		return -errno;
	if (bufsz && (setsockopt(fd, AF_VSOCK, SO_VM_SOCKETS_BUFFER_MAX_SIZE,
				 &bufsz, sizeof(bufsz)) ||
		      setsockopt(fd, AF_VSOCK, SO_VM_SOCKETS_BUFFER_SIZE,
				 &bufsz, sizeof(bufsz)))) {
		close(fd);
		return -errno;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int e = errno;

		close(fd);
		return -e;
	}
	return fd;
}

/* ----- serve ----- */

static void echo(int fd, int type)
{
	static char buf[1 << 20];
	struct iovec iov = { .iov_base = buf };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	for (;;) {
		iov.iov_len = sizeof(buf);
		m.msg_flags = 0;
		n = recvmsg(fd, &m, 0);
		/* 0 is the end, unless it is an empty record with MSG_EOR */
		if (n < 0 || (n == 0 && (type == SOCK_STREAM ||
					 !(m.msg_flags & MSG_EOR))))
			break;
		iov.iov_len = n;
		if (sendmsg(fd, &m, MSG_NOSIGNAL |
			    (m.msg_flags & MSG_EOR)) != n)
			break;
	}
	close(fd);
	_exit(0);
}

static int vlisten(int type, unsigned int port)
{
	struct sockaddr_vm sa = { .svm_family = AF_VSOCK,
				  .svm_cid = VMADDR_CID_ANY, .svm_port = port };
	int fd = socket(AF_VSOCK, type, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    listen(fd, 64)) {
		perror("xvsock: listen");
		exit(1);
	}
	return fd;
}

static __attribute__((noreturn)) int serve(unsigned int port)
{
	int lfd[2] = { vlisten(SOCK_STREAM, port),
		       vlisten(SOCK_SEQPACKET, port + 1) };

	signal(SIGCHLD, SIG_IGN);
	if (fork() == 0)
		lfd[0] = lfd[1];	/* the child serves records */
	for (;;) {
		int fd = accept(lfd[0], NULL, NULL);

		if (fd < 0)
			continue;
		if (!fork())
			echo(fd, lfd[0] == lfd[1] ? SOCK_SEQPACKET : SOCK_STREAM);
		close(fd);
	}
}

/* ----- check ----- */

/* /dev/vsock, made from sysfs if the guest has no udev. */
static int local_cid(unsigned int *cid)
{
	unsigned int maj, min;
	FILE *f;
	int fd = open("/dev/vsock", O_RDONLY);

	if (fd < 0 && (f = fopen("/sys/class/misc/vsock/dev", "r"))) {
		if (fscanf(f, "%u:%u", &maj, &min) == 2)
			mknod("/dev/vsock", S_IFCHR | 0666, makedev(maj, min));
		fclose(f);
		fd = open("/dev/vsock", O_RDONLY);
	}
	if (fd < 0)
		return -errno;
	if (ioctl(fd, IOCTL_VM_SOCKETS_GET_LOCAL_CID, cid)) {
		close(fd);
		return -errno;
	}
	close(fd);
	return 0;
}

static unsigned char pat(size_t i)
{
	return (unsigned char)(i * 131 + (i >> 10));
}

/*
 * Send and read back @total bytes through the stream echo, in pieces of
 * at most @chunk: no more than a ring holds, or both ends would block in
 * send with both rings full, as with TCP.
 */
static int stream_echo(int fd, size_t total, size_t chunk)
{
	static unsigned char out[65536], in[65536];
	size_t off, n, i;

	if (chunk > sizeof(out))
		chunk = sizeof(out);
	for (off = 0; off < total; off += n) {
		n = total - off < chunk ? total - off : chunk;
		for (i = 0; i < n; i++)
			out[i] = pat(off + i);
		if (send(fd, out, n, 0) != (ssize_t)n ||
		    recv(fd, in, n, MSG_WAITALL) != (ssize_t)n ||
		    memcmp(in, out, n))
			return -1;
	}
	return 0;
}

static void check_streams(unsigned int cid, unsigned int port)
{
	static const unsigned long long sizes[] = { 4096, 1 << 20 };
	char name[128], why[128];

	for (int i = 0; i < 2; i++) {
		int fd = vconnect(SOCK_STREAM, cid, port, sizes[i]), bad;

		bad = fd < 0 || stream_echo(fd, 4 << 20, sizes[i] / 2);
		snprintf(name, sizeof(name),
			 "stream with SO_VM_SOCKETS_BUFFER_SIZE %llu: 4 MiB echoed, every byte checked",
			 sizes[i]);
		snprintf(why, sizeof(why), "%s", fd < 0 ? strerror(-fd) :
			 "echo differs");
		tap(!bad, name, why);
		if (fd >= 0)
			close(fd);
	}
}

/* One record out and back: its length, bytes and MSG_EOR kept. */
static int record_echo(int fd, size_t len, int eor)
{
	static unsigned char out[8192], in[8192];
	struct iovec iov = { .iov_base = out, .iov_len = len };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	for (size_t i = 0; i < len; i++)
		out[i] = pat(len * 7 + i);
	if (sendmsg(fd, &m, eor ? MSG_EOR : 0) != (ssize_t)len)
		return -1;
	iov.iov_base = in;
	iov.iov_len = sizeof(in);
	m.msg_flags = 0;
	n = recvmsg(fd, &m, 0);
	if (n != (ssize_t)len || memcmp(in, out, len) ||
	    !!(m.msg_flags & MSG_EOR) != !!eor || (m.msg_flags & MSG_TRUNC))
		return -1;
	return 0;
}

static void check_records(unsigned int cid, unsigned int port)
{
	char big[3000], small[100];
	int fd = vconnect(SOCK_SEQPACKET, cid, port + 1, 0), i, bad = 0;
	ssize_t n;

	if (fd < 0) {
		tap(0, "seqpacket connect", strerror(-fd));
		return;
	}
	for (i = 0; i < 1000 && !bad; i++)
		bad = record_echo(fd, 1 + (i * 7919) % 4000, i & 1);
	tap(!bad, "seqpacket: 1000 records of 1 to 4000 bytes echoed, each boundary, byte and MSG_EOR checked",
	    "a record came back different");
	memset(big, 'b', sizeof(big));
	n = send(fd, big, sizeof(big), 0);
	n = n == sizeof(big) ? recv(fd, small, sizeof(small), MSG_TRUNC) : -1;
	tap(n == sizeof(big), "seqpacket: recv(MSG_TRUNC) of a 3000-byte record into 100 bytes returns 3000",
	    "wrong length");
	close(fd);
}

static void check_addressing(unsigned int cid)
{
	unsigned int mine = 0;
	char why[128];
	int e = local_cid(&mine), fd;
	const char *me = getenv("MY_DOMID");

	snprintf(why, sizeof(why), "%s, CID %u, MY_DOMID %s",
		 e ? strerror(-e) : "no error", mine, me ? me : "?");
	tap(!e && me && mine == (unsigned int)atoi(me) + 2,
	    "IOCTL_VM_SOCKETS_GET_LOCAL_CID gives this domain's id + 2", why);
	fd = vconnect(SOCK_STREAM, 0x7ff0 + 2 + 5, 5000, 0);
	snprintf(why, sizeof(why), "%s", fd >= 0 ? "connected" : strerror(-fd));
	tap(fd == -ENETUNREACH || fd == -ENODEV,
	    "a CID that is no domain is refused (ENETUNREACH; ENODEV on 7.x)",
	    why);
	if (fd >= 0)
		close(fd);
	(void)cid;
}

static int check(unsigned int cid, unsigned int port)
{
	check_addressing(cid);
	check_streams(cid, port);
	check_records(cid, port);
	return failures != 0;
}

/* ----- leak ----- */

static void stat_line(char *buf, size_t n)
{
	FILE *f = fopen("/proc/net/af_xen_stat", "r");
	size_t got = f ? fread(buf, 1, n - 1, f) : 0;

	buf[got] = 0;
	for (size_t i = 0; i < got; i++)
		if (buf[i] == '\n')
			buf[i] = ' ';
	if (f)
		fclose(f);
}

/*
 * No count of @after above its value in @before: grants given back by an
 * earlier phase may still be on their way down, never up.
 */
static int no_more(const char *before, const char *after)
{
	char kb[32], ka[32];
	long vb, va;
	int nb, na;

	while (sscanf(before, "%31s %ld%n", kb, &vb, &nb) == 2 &&
	       sscanf(after, "%31s %ld%n", ka, &va, &na) == 2) {
		if (strcmp(kb, ka) || va > vb)
			return 0;
		before += nb;
		after += na;
	}
	return 1;
}

static int leak(unsigned int cid, unsigned int port, int cycles)
{
	char before[256], after[256], name[160];
	int bad = 0, i;

	stat_line(before, sizeof(before));
	for (i = 0; i < cycles; i++) {
		int fd = vconnect(i & 1 ? SOCK_SEQPACKET : SOCK_STREAM, cid,
				  port + (i & 1), 0);

		if (fd < 0 || (i & 1 ? record_echo(fd, i % 3000, 1) :
			       stream_echo(fd, 4096, 4096)))
			bad++;
		if (fd >= 0)
			close(fd);
	}
	snprintf(name, sizeof(name),
		 "%d connect/echo/close cycles (half stream, half seqpacket) all succeed",
		 cycles);
	tap(!bad, name, "some cycles failed");
	for (i = 0; i < 50; i++) {
		stat_line(after, sizeof(after));
		if (no_more(before, after))
			break;
		usleep(200000);
	}
	printf("# af_xen_stat before: %s\n# af_xen_stat after:  %s\n", before,
	       after);
	snprintf(name, sizeof(name),
		 "after %d cycles no count in /proc/net/af_xen_stat is above its starting value",
		 cycles);
	tap(no_more(before, after), name, "not back");
	return failures != 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 3 && !strcmp(argv[1], "serve"))
		return serve(atoi(argv[2]));
	if (argc == 4 && !strcmp(argv[1], "check"))
		return check(atoi(argv[2]), atoi(argv[3]));
	if (argc == 5 && !strcmp(argv[1], "leak"))
		return leak(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]));
	fprintf(stderr, "usage: see the comment at the top of test/xvsock.c\n");
	return 2;
}
