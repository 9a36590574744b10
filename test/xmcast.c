// SPDX-License-Identifier: GPL-2.0
/*
 * xmcast: af_xen multicast (XEN_SO_MULTICAST) from userspace, for
 * guest-tests phase mcast and make bench.
 *
 *   xmcast pub PORT SUBS BYTES [-s] [-l LAG_MS] [-w WRITE] [-P PAUSE_MS]
 *	publish BYTES on PORT (stream, or records with -s) once SUBS
 *	subscribers are there (60 s at most), in writes of WRITE bytes
 *	(default 65536), pausing PAUSE_MS half way, then close; prints
 *	MB/s.
 *   xmcast sub DOMID PORT BYTES [-s] [-L LEAVE] [-S STALL_S] [-r] [-C WHAT]
 *	subscribe (retrying while nobody publishes, 60 s), read to end of
 *	file and check every byte; BYTES 0: any amount.  -L: leave (close)
 *	after LEAVE bytes.  -S: stop reading for STALL_S seconds after the
 *	first MiB.  -r: expect the publisher to drop us (ECONNRESET).
 *	-C: after the first MiB, turn hostile (XEN_SO_DEBUG_CORRUPT WHAT,
 *	an AFX_DEBUG module only).
 *
 *   xmcast subd DOMID PORT... subscribe to each PORT of DOMID in turn,
 *	reading to end of file without checking, over and over (make
 *	bench's subscribers; killed when done)
 *   xmcast sinkd PORT           accept streams on PORT, read each to EOF
 *   xmcast bench BYTES DOMID... (make bench) BYTES to 1, 2, ... of the
 *	subscribers: by multicast on ports 9201, 9202, ... (subd), then as
 *	that many separate streams to the DOMIDs' sinkd on port 9200, one
 *	after the other.  Prints BENCH,multicast and BENCH,unicast rows:
 *	delivered MB/s (bytes times receivers over the time).
 *
 * XMCAST_RING=BYTES in the environment sets a publisher's
 * XEN_SO_RING_SIZE (the module's default for publishers otherwise).
 *
 * The stream is a run of little-endian 64-bit words, word k holding k,
 * so that a subscriber that joins mid-stream (at any byte) finds where
 * it is from the data itself.  Record i is 8 + (i * 7919) % (WRITE - 8)
 * bytes: its number, then bytes i + j; records are sent until BYTES are
 * reached, whole, so both sides know how many there are.
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <linux/af_xen.h>

static int g_type = SOCK_STREAM;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *fmt, const char *arg)
{
	fprintf(stderr, "xmcast: ");
	fprintf(stderr, fmt, arg, strerror(errno));
	fputc('\n', stderr);
	exit(1);
}

/* Byte @off of the stream. */
static uint8_t pat(uint64_t off)
{
	return (uint8_t)((off / 8) >> (8 * (off % 8)));
}

/* Word at a time where aligned: byte by byte, checking costs 8 times more. */
static void fill(uint8_t *buf, uint64_t off, size_t n)
{
	size_t i = 0;

	for (; i < n && (off + i) % 8; i++)
		buf[i] = pat(off + i);
	for (; i + 8 <= n; i += 8) {
		uint64_t w = (off + i) / 8;

		memcpy(buf + i, &w, 8);
	}
	for (; i < n; i++)
		buf[i] = pat(off + i);
}

/* The first wrong offset in @n bytes that should start at @off, or -1. */
static int64_t check(const uint8_t *buf, uint64_t off, size_t n)
{
	size_t i = 0;

	for (; i < n && (off + i) % 8; i++)
		if (buf[i] != pat(off + i))
			return off + i;
	for (; i + 8 <= n; i += 8) {
		uint64_t w;

		memcpy(&w, buf + i, 8);
		if (w != (off + i) / 8)
			break;
	}
	for (; i < n; i++)
		if (buf[i] != pat(off + i))
			return off + i;
	return -1;
}

static size_t rec_size(uint64_t i, size_t max)
{
	return 8 + (i * 7919) % (max - 8);
}

static void rec_fill(uint8_t *b, uint64_t i, size_t len)
{
	memcpy(b, &i, 8);
	for (size_t j = 8; j < len; j++)
		b[j] = (uint8_t)(i + j);
}

/* Records, and their bytes, that make up a publication of @bytes. */
static uint64_t rec_count(uint64_t bytes, size_t max, uint64_t *total)
{
	uint64_t i = 0;

	for (*total = 0; *total < bytes; i++)
		*total += rec_size(i, max);
	return i;
}

static struct sockaddr_xen addr(int domid, int port)
{
	struct sockaddr_xen a = { .sxen_family = AF_XEN };

	a.sxen_domid = domid;
	a.sxen_port = port;
	return a;
}

static int subscribers(int fd)
{
	socklen_t l = sizeof(int);
	int n = -1;

	if (getsockopt(fd, SOL_XEN, XEN_SO_SUBSCRIBERS, &n, &l))
		die("getsockopt(XEN_SO_SUBSCRIBERS)%s: %s", "");
	return n;
}

static int g_pause_ms;
static int g_nofill;	/* make bench: the unicast streams send as they are */
static double g_pub_s;	/* the last publish(): seconds from all joined to done */

static int publish(int port, int subs, uint64_t bytes, int lag, size_t wsize)
{
	static uint8_t buf[1 << 20];
	struct sockaddr_xen a = addr(XEN_DOMID_ANY, port);
	int fd = socket(AF_XEN, g_type, 0), one = 1, n = 0;
	uint64_t off = 0, rec = 0;
	double t0, end = now() + 60;
	const char *ring = getenv("XMCAST_RING");	/* else the default */
	int rs = ring ? atoi(ring) : 0;

	if (fd >= 0 && rs &&
	    setsockopt(fd, SOL_XEN, XEN_SO_RING_SIZE, &rs, sizeof(rs)))
		die("XEN_SO_RING_SIZE%s: %s", "");
	if (fd < 0 || setsockopt(fd, SOL_XEN, XEN_SO_MULTICAST, &one, sizeof(one)) ||
	    (lag && setsockopt(fd, SOL_XEN, XEN_SO_MULTICAST_LAG_MS, &lag,
			       sizeof(lag))) ||
	    bind(fd, (void *)&a, sizeof(a)) || listen(fd, 8))
		die("publisher on port %s: %s", "");
	while ((n = subscribers(fd)) < subs && now() < end)
		usleep(20000);
	if (n < subs) {
		fprintf(stderr, "xmcast: only %d of %d subscribers came\n", n, subs);
		return 1;
	}
	printf("# xmcast pub: publishing to %d subscriber(s)\n", n);
	t0 = now();
	while (off < bytes) {
		size_t len = wsize;
		ssize_t r;

		if (g_pause_ms && off >= bytes / 2) {
			usleep(g_pause_ms * 1000);
			g_pause_ms = 0;
		}
		if (g_type == SOCK_SEQPACKET) {
			len = rec_size(rec, wsize);
			rec_fill(buf, rec, len);
		} else {
			if (len > bytes - off)
				len = bytes - off;
			if (!g_nofill)
				fill(buf, off, len);
		}
		r = send(fd, buf, len, 0);
		if (r != (ssize_t)len)
			die("send%s: %s", "");
		off += len;
		rec++;
	}
	g_pub_s = now() - t0;
	printf("# xmcast pub: %llu bytes (%llu writes) to %d subscriber(s), now %d, %.1f MB/s\n",
	       (unsigned long long)bytes, (unsigned long long)rec, n,
	       subscribers(fd), bytes / g_pub_s / 1e6);
	close(fd);
	return 0;
}

/*
 * Connect, trying again while nobody publishes yet, for @wait_s seconds.
 * Each refused try costs the publisher's guest a connect's set-up, so a
 * patient subscriber (make bench's, waiting out the other rows) asks
 * only twice a second.
 */
static int sub_connect(int domid, int port, double wait_s)
{
	struct sockaddr_xen a = addr(domid, port);
	double end = now() + wait_s;

	for (;;) {
		int fd = socket(AF_XEN, g_type, 0);

		if (fd < 0)
			die("socket%s: %s", "");
		if (!connect(fd, (void *)&a, sizeof(a)))
			return fd;
		close(fd);
		if ((errno != ECONNREFUSED && errno != ETIMEDOUT &&
		     errno != EHOSTUNREACH) || now() > end)
			die("subscribing%s: %s", "");
		usleep(wait_s > 60 ? 500000 : 50000);
	}
}

/* Where a stream joined at is in its first bytes: word k holds k. */
static int64_t locate(const uint8_t *b, size_t n)
{
	for (size_t a = 0; a < 8 && a + 16 <= n; a++) {
		uint64_t w0, w1;

		memcpy(&w0, b + a, 8);
		memcpy(&w1, b + a + 8, 8);
		if (w1 == w0 + 1)
			return (int64_t)(w0 * 8) - (int64_t)a;
	}
	return -1;
}

struct sub_opts {
	uint64_t bytes, leave;
	int stall, want_reset, corrupt;
	size_t wsize;
};

/* Record @n bytes at @b: the next one (or the first seen, @first). */
static int sub_check_rec(const uint8_t *b, size_t n, uint64_t *next,
			 int first, size_t max)
{
	uint64_t i;

	if (n < 8)
		return -1;
	memcpy(&i, b, 8);
	if (!first && i != *next)
		return -1;
	if (n != rec_size(i, max))
		return -1;
	for (size_t j = 8; j < n; j++)
		if (b[j] != (uint8_t)(i + j))
			return -1;
	*next = i + 1;
	return 0;
}

static int subscribe(int domid, int port, const struct sub_opts *o)
{
	static uint8_t buf[1 << 20];
	uint64_t got = 0, rec = 0, recs = 0, first_rec = 0;
	int64_t start = -1;
	int fd = sub_connect(domid, port, 60), stalled = 0;
	ssize_t r;

	for (;;) {
		size_t want = sizeof(buf);

		if (o->leave && o->leave - got < want)
			want = o->leave - got;
		if (o->leave && !want)
			break;
		r = recv(fd, buf, want, 0);
		if (r <= 0)
			break;
		if (g_type == SOCK_SEQPACKET) {
			if (sub_check_rec(buf, r, &rec, !recs, o->wsize)) {
				fprintf(stderr, "xmcast sub: record after %llu wrong (%zd bytes)\n",
					(unsigned long long)rec, r);
				return 1;
			}
			if (!recs++)
				first_rec = rec - 1;
			got += r;
		} else {
			if (start < 0 && (start = locate(buf, r)) < 0) {
				fprintf(stderr, "xmcast sub: cannot tell where the stream joined\n");
				return 1;
			}
			int64_t bad = check(buf, start + got, r);

			if (bad >= 0) {
				fprintf(stderr, "xmcast sub: byte %lld of the stream wrong\n",
					(long long)bad);
				return 1;
			}
			got += r;
		}
		/*
		 * A hostile subscriber holds still around its lie: first so
		 * that the publisher, blocked on our full ring, has seen our
		 * true cons, then so that no read of ours overwrites the lie
		 * before the publisher (woken by it) looks.
		 */
		if ((o->stall || o->corrupt) && !stalled && got >= (1 << 20)) {
			stalled = 1;
			if (o->corrupt) {
				usleep(500000);
				if (setsockopt(fd, SOL_XEN, XEN_SO_DEBUG_CORRUPT,
					       &o->corrupt, sizeof(o->corrupt)))
					die("XEN_SO_DEBUG_CORRUPT%s: %s", "");
			}
			sleep(o->corrupt && o->stall < 2 ? 2 : o->stall);
		}
	}
	if (o->want_reset) {
		int ok = r < 0 && errno == ECONNRESET;

		printf("# xmcast sub: %llu bytes, then %s\n",
		       (unsigned long long)got, r < 0 ? strerror(errno) : "end of file");
		return ok ? 0 : 1;
	}
	if (r < 0) {
		fprintf(stderr, "xmcast sub: recv after %llu bytes: %s\n",
			(unsigned long long)got, strerror(errno));
		return 1;
	}
	printf("# xmcast sub: %llu bytes from %s %lld, every byte checked, %s\n",
	       (unsigned long long)got, recs ? "record" : "offset",
	       (long long)(recs ? (int64_t)first_rec : start < 0 ? 0 : start),
	       o->leave ? "left" : "end of file");
	close(fd);
	if (recs && o->bytes) {
		uint64_t total, n = rec_count(o->bytes, o->wsize, &total);

		if (first_rec || recs != n || got != total) {
			fprintf(stderr, "xmcast sub: records %llu to %llu, want 0 to %llu\n",
				(unsigned long long)first_rec,
				(unsigned long long)(rec - 1),
				(unsigned long long)(n - 1));
			return 1;
		}
		return 0;
	}
	if (o->bytes && got != o->bytes) {
		fprintf(stderr, "xmcast sub: %llu bytes, want %llu\n",
			(unsigned long long)got, (unsigned long long)o->bytes);
		return 1;
	}
	return 0;
}

/* make bench's side of things: no checking, just moving bytes. */
static void drain(int fd)
{
	static uint8_t buf[1 << 20];

	while (recv(fd, buf, sizeof(buf), 0) > 0)
		;
	close(fd);
}

static int subd(int domid, char **ports, int n)
{
	for (;;)
		for (int i = 0; i < n; i++)
			drain(sub_connect(domid, atoi(ports[i]), 1e9));
	return 0;
}

static int sinkd(int port)
{
	struct sockaddr_xen a = addr(XEN_DOMID_ANY, port);
	int fd = socket(AF_XEN, SOCK_STREAM, 0), c;

	if (fd < 0 || bind(fd, (void *)&a, sizeof(a)) || listen(fd, 8))
		die("sink on port %s: %s", "");
	while ((c = accept(fd, NULL, NULL)) >= 0)
		drain(c);
	return 1;
}

static double unicast(int domid, uint64_t bytes)
{
	static uint8_t buf[65536];
	struct sockaddr_xen a = addr(domid, 9200);
	int fd = socket(AF_XEN, SOCK_STREAM, 0);
	double t0 = now();
	uint64_t off = 0;

	if (fd < 0 || connect(fd, (void *)&a, sizeof(a)))
		die("unicast stream%s: %s", "");
	for (; off < bytes; off += sizeof(buf))
		if (send(fd, buf, sizeof(buf), 0) != sizeof(buf))
			die("unicast send%s: %s", "");
	shutdown(fd, SHUT_WR);
	drain(fd);	/* the sink's close: everything was read */
	return now() - t0;
}

/* This process's CPU time so far, seconds. */
static double cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/*
 * The multicast row's v3 is the publisher's CPU seconds per GB written
 * (once, whatever the number of subscribers).  Its time runs from the
 * moment all subscribers are there (they come in their own time, from
 * other guests) to the last byte; a unicast's includes its connect.
 */
static int bench(uint64_t bytes, char **domids, int n)
{
	g_nofill = 1;
	for (int k = 1; k <= n; k++) {
		double c0 = cpu_s(), t;
		char port[16];

		snprintf(port, sizeof(port), "%d", 9200 + k);
		if (publish(atoi(port), k, bytes, 0, 65536))
			return 1;
		t = g_pub_s;
		printf("BENCH,multicast,xen,%llu,0,%d,%.2f,%.3f,%.3f\n",
		       (unsigned long long)bytes, k, k * bytes / t / 1e6, t,
		       (cpu_s() - c0) / (bytes / 1e9));
		t = 0;
		for (int i = 0; i < k; i++)
			t += unicast(strtol(domids[i], NULL, 0), bytes);
		printf("BENCH,unicast,xen,%llu,0,%d,%.2f,%.3f,0\n",
		       (unsigned long long)bytes, k, k * bytes / t / 1e6, t);
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct sub_opts o = { 0 };
	int lag = 0, c;
	size_t wsize = 65536;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 4 && !strcmp(argv[1], "subd"))
		return subd(strtol(argv[2], NULL, 0), argv + 3, argc - 3);
	if (argc == 3 && !strcmp(argv[1], "sinkd"))
		return sinkd(atoi(argv[2]));
	if (argc >= 4 && !strcmp(argv[1], "bench"))
		return bench(strtoull(argv[2], NULL, 0), argv + 3, argc - 3);
	if (argc < 4)
		goto usage;
	optind = 5;	/* the options follow the positional arguments */
	while ((c = getopt(argc, argv, "sl:w:L:S:rP:C:")) != -1) {
		switch (c) {
		case 'C': o.corrupt = atoi(optarg); break;
		case 'P': g_pause_ms = atoi(optarg); break;
		case 's': g_type = SOCK_SEQPACKET; break;
		case 'l': lag = atoi(optarg); break;
		case 'w': wsize = strtoul(optarg, NULL, 0); break;
		case 'L': o.leave = strtoull(optarg, NULL, 0); break;
		case 'S': o.stall = atoi(optarg); break;
		case 'r': o.want_reset = 1; break;
		default: goto usage;
		}
	}
	if (wsize < 16 || wsize > (1 << 20))
		goto usage;
	o.wsize = wsize;
	if (!strcmp(argv[1], "pub") && argc >= 5)
		return publish(atoi(argv[2]), atoi(argv[3]),
			       strtoull(argv[4], NULL, 0), lag, wsize);
	if (!strcmp(argv[1], "sub") && argc >= 5) {
		o.bytes = strtoull(argv[4], NULL, 0);
		return subscribe(strtol(argv[2], NULL, 0), atoi(argv[3]), &o);
	}
usage:
	fprintf(stderr, "usage: see the top of test/xmcast.c\n");
	return 2;
}
