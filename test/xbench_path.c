// SPDX-License-Identifier: GPL-2.0
/*
 * xbench: where a stream's time goes (docs/connections.md, "Where a
 * 16 KiB write goes").
 *
 *   xbench linger xen DOMID US           the server's rx_linger_us := US
 *   xbench breakdown xen DOMID MSG SECS  one stream of MSG-byte writes;
 *        both guests zero their /proc/net/af_xen_timing first, and the
 *        server sends its own back at the end.  Prints
 *        BENCH,path,linger<US>,MSG,0,1,<MB/s>,<events sent/MB>,<received/MB>
 *        and for each step of each side that ran,
 *        BENCH,pathstep,<side>.<step>.linger<US>,MSG,0,<count>,
 *                       <us per write>,<mean us>,0
 *        where "per write" divides the step's total by the writes made.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "xbench.h"

#define TIMING_PATH	"/proc/net/af_xen_timing"
#define LINGER_PATH	"/sys/module/af_xen/parameters/rx_linger_us"
#define TIMING_MAX	4096

static int write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY), ok;

	if (fd < 0)
		return -1;
	ok = write(fd, val, strlen(val)) == (ssize_t)strlen(val);
	close(fd);
	return ok ? 0 : -1;
}

/* af_xen_timing, NUL-terminated, in at most 3 KiB; its length. */
static size_t read_timing(char *buf)
{
	int fd = open(TIMING_PATH, O_RDONLY);
	ssize_t n = 0, r;

	if (fd < 0)
		die("open " TIMING_PATH);
	while ((r = read(fd, buf + n, 3072 - 1 - n)) > 0)
		n += r;
	close(fd);
	buf[n] = 0;
	return n;
}

static int linger_now(void)
{
	char buf[32] = "";
	int fd = open(LINGER_PATH, O_RDONLY);

	if (fd >= 0) {
		if (read(fd, buf, sizeof(buf) - 1) < 0)
			buf[0] = 0;
		close(fd);
	}
	return atoi(buf);
}

/* The server's side of modes 'L' and 'T'; the exit status. */
int path_serve(int fd, uint32_t mode, uint32_t msg)
{
	static char buf[MAXMSG], timing[TIMING_MAX];
	uint32_t len;
	char b;

	if (mode == MODE_LINGER) {
		snprintf(timing, sizeof(timing), "%u", msg);
		b = write_file(LINGER_PATH, timing) ? 1 : 0;
		return write(fd, &b, 1) == 1 ? 0 : 1;
	}
	if (msg == 0 || msg > MAXMSG)
		msg = 65536;
	write_file(TIMING_PATH, "0");
	while (read(fd, buf, msg) > 0)
		;
	len = snprintf(timing, sizeof(timing), "rx_linger_us %d\n",
		       linger_now());
	len += read_timing(timing + len);
	if (full(fd, &len, sizeof(len), 1) || full(fd, timing, len, 1))
		return 1;
	return 0;
}

int path_linger(const char *t, const char *addr, int us)
{
	struct hdr h = { MODE_LINGER, us };
	int fd = xconnect(t, addr, 0);
	char b = 1;

	if (full(fd, &h, sizeof(h), 1) || full(fd, &b, 1, 0) || b)
		die("setting the server's rx_linger_us");
	close(fd);
	printf("# rx_linger_us: %d on the server\n", us);
	return 0;
}

/* "<step> <count> <mean us> <total us>" lines, as BENCH,pathstep rows. */
static void print_steps(const char *side, char *text, int linger,
			uint32_t msg, double writes)
{
	char *line, *save = NULL;

	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char step[48];
		long long count, mean, total;

		if (sscanf(line, "%47s %lld %lld %lld", step, &count, &mean,
			   &total) != 4 || !count)
			continue;
		printf("BENCH,pathstep,%s.%s.linger%d,%u,0,%lld,%.2f,%lld,0\n",
		       side, step, linger, msg, count, total / writes, mean);
	}
}

int path_breakdown(const char *t, const char *addr, uint32_t msg,
		   double secs)
{
	static char theirs[TIMING_MAX], ours[TIMING_MAX];
	int linger = -1, fd;
	struct result r;
	uint32_t len;
	double mb;

	if (write_file(TIMING_PATH, "0"))
		die("zeroing " TIMING_PATH);
	fd = stream_start(t, addr, MODE_TIMED, msg, secs, 0, &r);
	if (full(fd, &len, sizeof(len), 0) || len >= TIMING_MAX ||
	    full(fd, theirs, len, 0))
		die("the server's timing");
	theirs[len] = 0;
	stream_end(fd, t, &r);
	read_timing(ours);
	sscanf(theirs, "rx_linger_us %d", &linger);
	mb = r.bytes / 1048576;
	printf("BENCH,path,linger%d,%u,0,1,%.2f,%.2f,%.2f\n", linger, msg,
	       r.bytes / r.secs / 1e6, r.ntf_tx / mb, r.ntf_rx / mb);
	print_steps("writer", ours, linger, msg, r.bytes / msg);
	print_steps("reader", theirs, linger, msg, r.bytes / msg);
	return 0;
}
