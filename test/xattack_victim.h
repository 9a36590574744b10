/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xattack victim internals: shared by the cases (xattack_victim.c) and
 * their support (xattack_vutil.c).
 */
#ifndef XATTACK_VICTIM_H
#define XATTACK_VICTIM_H

#include "xattack.h"

extern int g_ctl;			/* control channel to the attacker */
extern const struct xa_opts *g_opt;

/*
 * TAP: one line "ok - NAME" or "not ok - NAME # WHY".  The arguments of
 * @name's format come first, then those of @why's (so the compiler
 * cannot check them: no format attribute).
 */
void tapf(int ok, const char *name, const char *why, ...);

/* One command to the attacker, one reply line (a static buffer). */
const char *ask(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
const char *ask_timeout(int ms, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
const char *reply(int ms);

/* Kernel log lines naming the attacker's domain, counted between marks. */
struct logmark {
	int n;
};
void log_mark(struct logmark *m);
void log_check(struct logmark *m, const char *attack);

/*
 * The victim's sockets (AF_XEN, or AF_VSOCK with --front vsock); errors
 * are positive errno values or -errno fds.
 */
int af_socket(int ring_size);
int af_listen(unsigned int port, int backlog);
int af_connect(int fd, unsigned int domid, unsigned int port);
void set_timeouts(int fd, int ms);
int sock_err_after(int fd, ssize_t r);
const char *errname(int e);

long answer_errno(const char *reply, char *text, size_t size);
int victim_cases(void);
/* A hostile peer on the control channel (xattack_chan.c). */
int victim_chan_cases(unsigned int lport, int lfd);

#endif /* XATTACK_VICTIM_H */
