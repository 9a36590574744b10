/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xbench: what xbench.c (streams, round trips, the server) and
 * xbench_conn.c (connection setup: latency, rate, how many at once)
 * share.
 */
#ifndef XBENCH_H
#define XBENCH_H

#include <stdint.h>
#include <sys/socket.h>

#define XEN_PORT	7000
#define TCP_PORT	7001
#define VSOCK_PORT	7002
/* The connection benchmarks' ports: one mode byte per connection. */
#define XEN_CPORT	7003
#define TCP_CPORT	7004
#define UNIX_PATH	"/tmp/xbench.sock"
#define MAXMSG		(16 << 20)

/*
 * A connection's first 8 bytes: what the server does with it.  A sink
 * reads @msg-byte reads to EOF and answers one byte; 'T' (xbench_path.c)
 * answers its af_xen_timing instead; 'L' sets its rx_linger_us to @msg.
 */
enum { MODE_SINK = 'S', MODE_ECHO = 'P', MODE_QUIT = 'Q', MODE_TIMED = 'T',
	MODE_LINGER = 'L' };

struct hdr {
	uint32_t mode;
	uint32_t msg;
};

/* What an epoll event of the server belongs to (high half of data.u64). */
enum { EV_FORK = 1, EV_CLISTEN, EV_CONN };

struct result {
	double bytes, secs, ntf_tx, ntf_rx;
};

double now(void);
void die(const char *what);
int full(int fd, void *buf, size_t len, int wr);
int cmp_double(const void *a, const void *b);
/* T's address family and socket address; CONN picks the *_CPORT ports. */
socklen_t xaddr(const char *t, const char *addr, int conn,
		struct sockaddr_storage *ss);
int xconnect(const char *t, const char *addr, int ring);
int xlisten(int family, int port);
void one_stream(const char *t, const char *addr, uint32_t msg,
		double secs, int ring, struct result *r);
int stream_start(const char *t, const char *addr, uint32_t mode,
		 uint32_t msg, double secs, int ring, struct result *r);
void stream_end(int fd, const char *t, struct result *r);

/* xbench_path.c: where a stream's time goes, on both sides. */
int path_serve(int fd, uint32_t mode, uint32_t msg);
int path_linger(const char *t, const char *addr, int us);
int path_breakdown(const char *t, const char *addr, uint32_t msg,
		   double secs);

/* xbench_conn.c: the server's side of the connection ports... */
void conn_listen(int ep, int local);
void conn_event(int ep, int kind, int fd);
void conn_close_all(void);	/* in a forked child: drop inherited ones */
/* ...and the client's commands; each prints BENCH lines. */
int conn_latency(const char *t, const char *addr, int count, int ring);
int conn_rate(const char *t, const char *addr, double secs, int procs,
	      int ring);
int conn_max(const char *t, const char *addr, int ring, int cap,
	     double limit, int at, uint32_t msg, double secs);
void raise_nofile(void);

#endif
