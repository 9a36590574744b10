/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xattack: an outside attacker against af_xen.  One binary, two roles:
 *
 *   xattack victim   --peer-ip IP --peer-domid D [--control-port P]
 *   xattack attacker --peer-ip IP --peer-domid D [--control-port P]
 *
 * The attacker speaks the wire protocol of docs/protocol.md by hand,
 * through /dev/xen/{xenbus,gntalloc,gntdev,evtchn}, never through af_xen
 * (its guest has the module unloaded).  The victim uses ordinary AF_XEN
 * sockets on the real module, drives the attacker over a TCP control
 * channel (one command line, one reply line), and alone judges and
 * prints the TAP lines.
 */
#ifndef XATTACK_H
#define XATTACK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* ----- Wire protocol constants, as docs/protocol.md states them ----- */

#define XA_MAGIC		0x4e584641	/* "AFXN" */
#define XA_VERSION		1
#define XA_PAGE			4096

/* Offsets in the control page (section 3). */
#define XA_OFF_MAGIC		0x000
#define XA_OFF_VERSION		0x004
#define XA_OFF_ORDER		0x008
#define XA_OFF_NGREFS		0x00c
#define XA_OFF_C2S		0x040
#define XA_OFF_S2C		0x0c0
#define XA_OFF_GREFS		0x140
/* Within one ring's 128 bytes. */
#define XA_R_PROD		0x00
#define XA_R_PSTATE		0x04
#define XA_R_WANT_SPACE		0x08
#define XA_R_CONS		0x40
#define XA_R_CSTATE		0x44
#define XA_R_WANT_DATA		0x48

/* ----- Utilities (xattack.c) ----- */

double now_s(void);
void msleep(int ms);
void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void die(const char *fmt, ...) __attribute__((format(printf, 1, 2),
					      noreturn));
uint64_t rnd64(void);
/* Byte @off of the test pattern: every byte of a stream is checked. */
static inline uint8_t xa_pat(uint64_t off)
{
	return (uint8_t)(off * 7 + (off >> 11) + 3);
}

/* Control channel: lines of at most XA_LINE bytes. */
#define XA_LINE			512
int ctl_open(int server, const char *peer_ip, int port);
void ctl_send(int fd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int ctl_recv(int fd, char *buf, size_t size, int timeout_ms);

/* hex <-> bytes, so that NULs survive a text control channel */
void hex_encode(char *out, const void *in, size_t len);
ssize_t hex_decode(void *out, size_t size, const char *in);

/* ----- Xen devices (xattack_xen.c) ----- */

struct xs_conn {
	int fd;
	uint32_t req_id;
};

int xs_open(struct xs_conn *xs);
int xs_read(struct xs_conn *xs, const char *path, char *buf, size_t size,
	    size_t *len);
int xs_write(struct xs_conn *xs, const char *path, const void *val,
	     size_t len);
int xs_rm(struct xs_conn *xs, const char *path);
int xs_directory(struct xs_conn *xs, const char *path, char *buf,
		 size_t size, size_t *len);

/* Pages we allocate and grant to @domid, mapped here. */
struct xa_grant {
	int fd;
	unsigned int count;
	uint8_t *va;
	uint32_t *refs;
};

int xa_grant_alloc(struct xa_grant *g, uint16_t domid, unsigned int count);
void xa_grant_free(struct xa_grant *g);

/* Foreign pages we map from @domid. */
struct xa_map {
	int fd;
	unsigned int count;
	uint8_t *va;
};

int xa_map_grants(struct xa_map *m, uint16_t domid, const uint32_t *refs,
		  unsigned int count, int writable);
void xa_unmap(struct xa_map *m);

int xa_evtchn_open(void);
int xa_evtchn_unbound(int efd, uint16_t domid);
int xa_evtchn_interdomain(int efd, uint16_t domid, unsigned int port);
int xa_evtchn_notify(int efd, unsigned int port);

static inline volatile uint32_t *xa_u32(void *page, unsigned int off)
{
	return (volatile uint32_t *)((uint8_t *)page + off);
}

/* ----- Roles ----- */

struct xa_opts {
	const char *peer_ip;
	uint16_t peer;
	uint16_t self;
	int port;
	int vsock;	/* --front vsock: the victim's sockets are AF_VSOCK */
};

/*
 * The request's type field (docs/protocol.md): a vsock stream is type
 * 257 and says so; an AF_XEN stream leaves the field out.
 */
#define XA_TYPE_VSOCK_STREAM	257

int attacker_main(const struct xa_opts *o);
int victim_main(const struct xa_opts *o);

#endif /* XATTACK_H */
