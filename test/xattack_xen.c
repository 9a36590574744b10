// SPDX-License-Identifier: GPL-2.0
/*
 * xattack: the Xen user-space devices, used raw.
 *
 * /dev/xen/xenbus speaks xenstore's wire protocol (xs_wire.h): a header
 * { type, req_id, tx_id, len } and len bytes of payload, one message per
 * write; the reply carries the same req_id, or type XS_ERROR and an errno
 * name.  Watches are not used: the attacker polls, which keeps replies
 * strictly in order on one descriptor.
 */
#include "xattack.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

/* The uapi headers use these and define neither. */
typedef uint16_t domid_t;
typedef uint32_t grant_ref_t;
#include <xen/evtchn.h>
#include <xen/gntalloc.h>
#include <xen/gntdev.h>

/* xs_wire.h, enum xsd_sockmsg_type */
enum {
	XS_DIRECTORY = 1,
	XS_READ = 2,
	XS_WRITE = 11,
	XS_RM = 13,
	XS_ERROR = 16,
};

struct xsd_sockmsg {
	uint32_t type;
	uint32_t req_id;
	uint32_t tx_id;
	uint32_t len;
};

#define XS_PAYLOAD_MAX	4096

int xs_open(struct xs_conn *xs)
{
	xs->fd = open("/dev/xen/xenbus", O_RDWR);
	xs->req_id = 1;
	return xs->fd < 0 ? -errno : 0;
}

static int read_full(int fd, void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t r = read(fd, p, len);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? -errno : -EIO;
		p += r;
		len -= r;
	}
	return 0;
}

/* Map xenstored's errno names back to numbers, for the few that matter. */
static int xs_errno(const char *name)
{
	static const struct { const char *n; int e; } tab[] = {
		{ "ENOENT", ENOENT }, { "EACCES", EACCES }, { "EEXIST", EEXIST },
		{ "EINVAL", EINVAL }, { "ENOSPC", ENOSPC }, { "EQUOTA", EDQUOT },
		{ "E2BIG", E2BIG }, { "EAGAIN", EAGAIN },
	};
	size_t i;

	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (!strcmp(name, tab[i].n))
			return -tab[i].e;
	return -EIO;
}

/*
 * One request, one reply.  @a and @b are concatenated as the payload (a
 * path with its NUL, then a value of exact length), so that a value may
 * hold NULs of its own.
 */
static int xs_call(struct xs_conn *xs, uint32_t type, const void *a,
		   size_t alen, const void *b, size_t blen, char *out,
		   size_t size, size_t *outlen)
{
	uint8_t msg[sizeof(struct xsd_sockmsg) + XS_PAYLOAD_MAX];
	char reply[XS_PAYLOAD_MAX + 1];
	struct xsd_sockmsg h = { .type = type, .req_id = xs->req_id++ };
	int err;

	if (alen + blen > XS_PAYLOAD_MAX)
		return -E2BIG;
	h.len = alen + blen;
	memcpy(msg, &h, sizeof(h));
	memcpy(msg + sizeof(h), a, alen);
	if (blen)
		memcpy(msg + sizeof(h) + alen, b, blen);
	if (write(xs->fd, msg, sizeof(h) + h.len) != (ssize_t)(sizeof(h) + h.len))
		return -errno ? -errno : -EIO;
	err = read_full(xs->fd, &h, sizeof(h));
	if (!err && h.len > XS_PAYLOAD_MAX)
		err = -EIO;
	if (!err)
		err = read_full(xs->fd, reply, h.len);
	if (err)
		return err;
	reply[h.len] = 0;
	if (h.type == XS_ERROR)
		return xs_errno(reply);
	if (out) {
		if (h.len > size)
			return -E2BIG;
		memcpy(out, reply, h.len);
	}
	if (outlen)
		*outlen = h.len;
	return 0;
}

int xs_read(struct xs_conn *xs, const char *path, char *buf, size_t size,
	    size_t *len)
{
	return xs_call(xs, XS_READ, path, strlen(path) + 1, NULL, 0, buf, size,
		       len);
}

int xs_write(struct xs_conn *xs, const char *path, const void *val,
	     size_t len)
{
	return xs_call(xs, XS_WRITE, path, strlen(path) + 1, val, len, NULL, 0,
		       NULL);
}

int xs_rm(struct xs_conn *xs, const char *path)
{
	return xs_call(xs, XS_RM, path, strlen(path) + 1, NULL, 0, NULL, 0,
		       NULL);
}

int xs_directory(struct xs_conn *xs, const char *path, char *buf,
		 size_t size, size_t *len)
{
	return xs_call(xs, XS_DIRECTORY, path, strlen(path) + 1, NULL, 0, buf,
		       size, len);
}

/* ----- gntalloc: our pages, granted to the victim ----- */

int xa_grant_alloc(struct xa_grant *g, uint16_t domid, unsigned int count)
{
	struct ioctl_gntalloc_alloc_gref *a;
	size_t asz = sizeof(*a) + count * sizeof(uint32_t);
	void *va;

	memset(g, 0, sizeof(*g));
	g->fd = open("/dev/xen/gntalloc", O_RDWR);
	if (g->fd < 0)
		return -errno;
	a = calloc(1, asz);
	g->refs = calloc(count, sizeof(uint32_t));
	if (!a || !g->refs)
		goto fail;
	a->domid = domid;
	a->flags = GNTALLOC_FLAG_WRITABLE;
	a->count = count;
	if (ioctl(g->fd, IOCTL_GNTALLOC_ALLOC_GREF, a))
		goto fail;
	va = mmap(NULL, (size_t)count * XA_PAGE, PROT_READ | PROT_WRITE,
		  MAP_SHARED, g->fd, a->index);
	if (va == MAP_FAILED)
		goto fail;
	memcpy(g->refs, a->gref_ids, count * sizeof(uint32_t));
	g->va = va;
	g->count = count;
	free(a);
	return 0;
fail:
	free(a);
	xa_grant_free(g);
	return -EIO;
}

/*
 * Unmapping and closing drops the grants as far as gntalloc can: a page
 * the victim still maps stays allocated until it lets go (as XSA-396
 * wants), so this is also what a dying attacker process does.
 */
void xa_grant_free(struct xa_grant *g)
{
	if (g->va)
		munmap(g->va, (size_t)g->count * XA_PAGE);
	if (g->fd >= 0)
		close(g->fd);
	free(g->refs);
	memset(g, 0, sizeof(*g));
	g->fd = -1;
}

/* ----- gntdev: the victim's pages, mapped here ----- */

int xa_map_grants(struct xa_map *m, uint16_t domid, const uint32_t *refs,
		  unsigned int count, int writable)
{
	struct ioctl_gntdev_map_grant_ref *r;
	unsigned int i;
	void *va;

	memset(m, 0, sizeof(*m));
	m->fd = open("/dev/xen/gntdev", O_RDWR);
	if (m->fd < 0)
		return -errno;
	r = calloc(1, sizeof(*r) + count * sizeof(r->refs[0]));
	if (!r)
		goto fail;
	r->count = count;
	for (i = 0; i < count; i++) {
		r->refs[i].domid = domid;
		r->refs[i].ref = refs[i];
	}
	if (ioctl(m->fd, IOCTL_GNTDEV_MAP_GRANT_REF, r))
		goto fail;
	va = mmap(NULL, (size_t)count * XA_PAGE,
		  PROT_READ | (writable ? PROT_WRITE : 0), MAP_SHARED, m->fd,
		  r->index);
	if (va == MAP_FAILED)
		goto fail;
	m->va = va;
	m->count = count;
	free(r);
	return 0;
fail:
	free(r);
	close(m->fd);
	m->fd = -1;
	return -EIO;
}

void xa_unmap(struct xa_map *m)
{
	if (m->va)
		munmap(m->va, (size_t)m->count * XA_PAGE);
	if (m->fd >= 0)
		close(m->fd);
	memset(m, 0, sizeof(*m));
	m->fd = -1;
}

/* ----- evtchn ----- */

int xa_evtchn_open(void)
{
	int fd = open("/dev/xen/evtchn", O_RDWR);

	return fd < 0 ? -errno : fd;
}

/* Returns our new port, or -errno. */
int xa_evtchn_unbound(int efd, uint16_t domid)
{
	struct ioctl_evtchn_bind_unbound_port u = { .remote_domain = domid };
	int port = ioctl(efd, IOCTL_EVTCHN_BIND_UNBOUND_PORT, &u);

	return port < 0 ? -errno : port;
}

int xa_evtchn_interdomain(int efd, uint16_t domid, unsigned int port)
{
	struct ioctl_evtchn_bind_interdomain b = {
		.remote_domain = domid, .remote_port = port,
	};
	int p = ioctl(efd, IOCTL_EVTCHN_BIND_INTERDOMAIN, &b);

	return p < 0 ? -errno : p;
}

int xa_evtchn_notify(int efd, unsigned int port)
{
	struct ioctl_evtchn_notify n = { .port = port };

	return ioctl(efd, IOCTL_EVTCHN_NOTIFY, &n) ? -errno : 0;
}
