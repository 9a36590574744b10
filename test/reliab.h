/* SPDX-License-Identifier: GPL-2.0 */
/*
 * reliab's parts (reliab.c, reliab_death.c): TAP, AF_XEN sockets and
 * what the module and xenstore hold.
 */
#ifndef RELIAB_H
#define RELIAB_H

#include <linux/af_xen.h>

#define DYING_PORT	8100
#define ECHO_PORT	8101
#define BACKLOG_PORT	8102
#define LOCAL_PORT	8103
#define KILL_PORT	8104
#define SEQ_ECHO_PORT	8105	/* reliab serve: SOCK_SEQPACKET echo */
#define STORM_PORT	8107	/* reliab serve: accepts and closes */

extern int failures;

double now(void);
void tap(int ok, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

struct sockaddr_xen xaddr(int domid, int port);
int xlisten_type(int port, int backlog, int type);
int xlisten(int port, int backlog);
int xconnect_type(int domid, int port, int type);
int xconnect(int domid, int port);

struct held {
	long sockets, grants, mapped, evtchns, watches, slab, nodes;
};

void held_now(struct held *h);
void held_print(const char *when, const struct held *h);
int held_back(const struct held *base, struct held *h);

/* The test payload: byte i of a stream. */
static inline unsigned char pattern(long i)
{
	return (unsigned char)(i * 131 + (i >> 12));
}

int dying_server(int trials);
int dying_client(int domid);
int killed_server(void);
int killed_client(int domid);
/* reliab_limits.c: exhaust, storm; -1 if ARGV is not one of them. */
int limits_main(int argc, char **argv);

#endif /* RELIAB_H */
