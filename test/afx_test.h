/* SPDX-License-Identifier: GPL-2.0 */
/*
 * afx_test: in-guest test suite for AF_XEN sockets.
 *
 * One binary, two roles (server in guest 1, client in guest 2) plus a
 * loopback-only mode.  A TCP control channel keeps the two sides on the
 * same step; every test case runs in its own child process with an
 * alarm, so a crash or a hang becomes a "not ok" line with the case's
 * name and the step it was stuck in.
 */
#ifndef AFX_TEST_H
#define AFX_TEST_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <linux/af_xen.h>

/* Ports of case number i: AFX_PORT_BASE + i * AFX_PORTS_PER_CASE + 0..N-1 */
#define AFX_PORT_BASE		20000
#define AFX_PORTS_PER_CASE	16

enum afx_side { SIDE_SERVER, SIDE_CLIENT, SIDE_LOCAL };

struct test_case;

struct ctx {
	int idx;			/* index in the case table */
	unsigned int port;		/* first port reserved for this case */
	enum afx_side side;
	const struct test_case *tc;
};

typedef void (*afx_fn)(const struct ctx *c);

struct test_case {
	const char *name;
	/*
	 * local: the case needs one guest only (API checks, loopback
	 * connections).  In server/client mode both guests run it, each on
	 * its own; --loopback runs only these.
	 */
	bool local;
	unsigned int timeout;		/* seconds, before --timeout-scale */
	afx_fn run_server;		/* cross-guest cases */
	afx_fn run_client;
	afx_fn run_local;		/* local cases */
	uint64_t size;			/* per-case parameters */
	int ring;
	int arg;
};

extern const struct test_case afx_cases[];

/* Attacks on a waiting victim (afx_test_attack.c; AFX_DEBUG peers). */
void afx_s_storm_blocked(const struct ctx *c);
void afx_c_storm_blocked(const struct ctx *c);
void afx_s_vanish(const struct ctx *c);
void afx_c_vanish(const struct ctx *c);

/* Readiness beyond "ring empty" (afx_test_poll.c). */
enum { AFX_BY_POLL, AFX_BY_EPOLL_LT, AFX_BY_EPOLL_ET };
void afx_s_rcvlowat(const struct ctx *c);
void afx_c_rcvlowat(const struct ctx *c);
void afx_s_rdhup_unread(const struct ctx *c);
void afx_c_rdhup_unread(const struct ctx *c);
void afx_s_pollout_drain(const struct ctx *c);
void afx_c_pollout_drain(const struct ctx *c);
void afx_s_et_no_eagain(const struct ctx *c);
void afx_c_et_no_eagain(const struct ctx *c);
void afx_s_late_reader(const struct ctx *c);
void afx_c_late_reader(const struct ctx *c);

/* SOCK_SEQPACKET (afx_test_seq.c). */
void afx_s_seq_bidir(const struct ctx *c);
void afx_c_seq_bidir(const struct ctx *c);
void afx_t_seq_bidir_lo(const struct ctx *c);
void afx_s_seq_trunc(const struct ctx *c);
void afx_c_seq_trunc(const struct ctx *c);
void afx_s_seq_peek(const struct ctx *c);
void afx_c_seq_peek(const struct ctx *c);
void afx_s_seq_zero(const struct ctx *c);
void afx_c_seq_zero(const struct ctx *c);
void afx_t_seq_sizes(const struct ctx *c);
void afx_t_seq_nonblock(const struct ctx *c);
void afx_s_seq_poll(const struct ctx *c);
void afx_c_seq_poll(const struct ctx *c);
void afx_s_seq_shutdown(const struct ctx *c);
void afx_c_seq_shutdown(const struct ctx *c);
void afx_s_seq_mismatch(const struct ctx *c);
void afx_c_seq_mismatch(const struct ctx *c);
void afx_s_seq_max(const struct ctx *c);
void afx_c_seq_max(const struct ctx *c);
void afx_s_seq_hostile(const struct ctx *c);
void afx_c_seq_hostile(const struct ctx *c);
void afx_s_seq_compat(const struct ctx *c);
void afx_c_seq_compat(const struct ctx *c);

/* The per-peer control channel (afx_test_chan.c). */
void afx_s_chan(const struct ctx *c);
void afx_c_chan(const struct ctx *c);
extern const int afx_ncases;

/* ---- globals set by main() ---- */
extern int g_family;			/* AF_XEN, or the module parameter */
extern int g_peer_domid;		/* -1: unknown */
extern int g_my_domid;			/* -1: unknown (env MY_DOMID) */
extern int g_ctl_fd;			/* control channel for the children */
extern int g_res_fd;			/* result pipe to the runner */
extern int g_baseline_socks;		/* /proc/net/af_xen lines at start */

/* ---- reporting (afx_test.c) ---- */
void fail(const char *fmt, ...)
	__attribute__((noreturn, format(printf, 1, 2)));
void skip(const char *fmt, ...)
	__attribute__((noreturn, format(printf, 1, 2)));
void step(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
const char *errname(int err);		/* "ECONNREFUSED (Connection refused)" */

/* ---- control channel, used by the children (afx_test.c) ---- */
void ctl_writeln(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void ctl_readln(char *buf, size_t size);
void ctl_expectln(const char *token);
unsigned long long ctl_expect_num(const char *key);
void ctl_expect_2num(const char *key, unsigned long long *a,
		     unsigned long long *b);

/* ---- socket helpers (afx_test_util.c) ---- */
struct sockaddr_xen afx_addr(unsigned int domid, unsigned int port);
int afx_socket(int flags);
int afx_socket_t(int type, int flags);
int afx_listen_t(int type, unsigned int domid, unsigned int port, int backlog);
int afx_connect_t(int type, unsigned int domid, unsigned int port, int ring);
int afx_bind_raw(int fd, unsigned int domid, unsigned int port);
void afx_bind(int fd, unsigned int domid, unsigned int port);
int afx_listen(unsigned int domid, unsigned int port, int backlog);
int afx_try_connect(int fd, unsigned int domid, unsigned int port);
int afx_connect(unsigned int domid, unsigned int port);
int afx_connect_ring(unsigned int domid, unsigned int port, int ring);
int afx_accept(int lfd, struct sockaddr_xen *peer);
void afx_name(int fd, bool peer, struct sockaddr_xen *sa, const char *what);
void set_ring(int fd, int size);
int get_ring(int fd);
void set_timeo(int fd, int opt, int ms);
void set_nonblock(int fd, bool on);
void expect_err(long ret, int err, const char *what);
void expect_err2(long ret, int err1, int err2, const char *what);
void send_all(int fd, const void *buf, size_t len, const char *what);
void recv_all(int fd, void *buf, size_t len, const char *what);
void expect_eof(int fd, const char *what);
void send_byte(int fd, unsigned char b, const char *what);
void recv_byte(int fd, unsigned char want, const char *what);
short poll_one(int fd, short events, int timeout_ms);
const char *pollstr(short revents);
double now_s(void);
void msleep(int ms);
int afx_sock_count(void);		/* /proc/net/af_xen lines, -1 if absent */
pid_t spawn_signaller(int sig, int delay_ms);
void wait_child(pid_t pid, const char *what);
int need_my_domid(void);

/* ---- payloads ---- */
void gen_bytes(uint64_t seed, uint64_t off, unsigned char *buf, size_t len);
uint64_t hash_update(uint64_t h, const unsigned char *p, size_t len);
#define HASH_INIT	0xcbf29ce484222325ULL
void send_stream(int fd, uint64_t seed, uint64_t total, uint64_t *hash);
void recv_stream(int fd, uint64_t seed, uint64_t total, uint64_t *hash);
void bidir_stream(int fd, uint64_t tx_seed, uint64_t tx_total,
		  uint64_t rx_seed, uint64_t rx_total,
		  uint64_t *tx_hash, uint64_t *rx_hash);

#endif /* AFX_TEST_H */
