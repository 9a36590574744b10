/* SPDX-License-Identifier: GPL-2.0 */
/* xsock: what xsock.c shares with xsock_records.c (--seqpacket). */
#ifndef XSOCK_H
#define XSOCK_H

#include <stddef.h>

extern int xsock_family;	/* the AF_XEN family number in use */

int xsock_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int xsock_bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int xsock_write_all(int fd, const void *buf, size_t len);
int xsock_relay_records(int sock);

#endif
