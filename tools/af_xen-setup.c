// SPDX-License-Identifier: GPL-2.0
/*
 * af_xen-setup: make this guest's xenstore directory data/af_xen readable
 * by the domains allowed to talk to it, then mark it ready.
 *
 * A guest kernel cannot change xenstore permissions (Linux exports no
 * XS_SET_PERMS), so this one step per boot happens in userspace.  It
 * speaks the xenstore wire protocol directly over /dev/xen/xenbus, so the
 * guest needs no Xen userland.  Run by af_xen-load and the modprobe hook.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { XS_DIRECTORY = 1, XS_READ = 2, XS_WRITE = 11, XS_MKDIR = 12, XS_SET_PERMS = 14,
       XS_ERROR = 16 };

struct xs_msg {
	uint32_t type, req_id, tx_id, len;
};

#define XS_PAYLOAD_MAX 4096

static const struct { const char *name; int err; } xs_errors[] = {
	{ "EINVAL", EINVAL }, { "EACCES", EACCES }, { "EEXIST", EEXIST },
	{ "EISDIR", EISDIR }, { "ENOENT", ENOENT }, { "ENOMEM", ENOMEM },
	{ "ENOSPC", ENOSPC }, { "EIO", EIO }, { "ENOTEMPTY", ENOTEMPTY },
	{ "ENOSYS", ENOSYS }, { "EROFS", EROFS }, { "EBUSY", EBUSY },
	{ "EAGAIN", EAGAIN }, { "EISCONN", EISCONN }, { "E2BIG", E2BIG },
	{ "EPERM", EPERM },
};

static int xs_fd = -1;
static int quiet;

static int xs_errno(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(xs_errors) / sizeof(xs_errors[0]); i++)
		if (!strcmp(name, xs_errors[i].name))
			return xs_errors[i].err;
	return EIO;
}

static int read_full(void *buf, size_t len)
{
	char *p = buf;

	while (len) {
		ssize_t n = read(xs_fd, p, len);

		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		p += n;
		len -= n;
	}
	return 0;
}

static uint32_t reply_len;

/* One request, one reply; the reply payload (NUL-terminated) in out. */
static int xs_request(uint32_t type, const char *payload, size_t len,
		      char *out, size_t outlen)
{
	static uint32_t req_id;
	char buf[sizeof(struct xs_msg) + XS_PAYLOAD_MAX];
	struct xs_msg m = { type, ++req_id, 0, (uint32_t)len };
	char reply[XS_PAYLOAD_MAX + 1];
	int err;

	if (len > XS_PAYLOAD_MAX)
		return -E2BIG;
	memcpy(buf, &m, sizeof(m));
	memcpy(buf + sizeof(m), payload, len);
	if (write(xs_fd, buf, sizeof(m) + len) != (ssize_t)(sizeof(m) + len))
		return -errno;
	err = read_full(&m, sizeof(m));
	if (!err && m.len > XS_PAYLOAD_MAX)
		err = -EIO;
	if (!err)
		err = read_full(reply, m.len);
	if (err)
		return err;
	reply[m.len] = '\0';
	reply_len = m.len;
	if (m.type == XS_ERROR)
		return -xs_errno(reply);
	if (out) {
		if (m.len >= outlen)
			return -E2BIG;
		memcpy(out, reply, m.len + 1);
	}
	return 0;
}

/* payload = the strings of args, each with its NUL, concatenated */
static int xs_strings(uint32_t type, const char **args, int n, int last_nul)
{
	char buf[XS_PAYLOAD_MAX];
	size_t len = 0;
	int i;

	for (i = 0; i < n; i++) {
		size_t l = strlen(args[i]) + (i < n - 1 || last_nul);

		if (len + l > sizeof(buf))
			return -E2BIG;
		memcpy(buf + len, args[i], l);
		len += l;
	}
	return xs_request(type, buf, len, NULL, 0);
}

static int set_perms(const char *path, const char *self, const char *allow)
{
	char perm[64][16];
	const char *args[66];
	int n = 0;

	args[n++] = path;
	if (!strcmp(allow, "all")) {
		/* Owner self; everybody else may read. */
		snprintf(perm[0], sizeof(perm[0]), "r%s", self);
		args[n++] = perm[0];
	} else {
		char list[512], *tok, *save;

		snprintf(perm[0], sizeof(perm[0]), "n%s", self);
		args[n++] = perm[0];
		snprintf(list, sizeof(list), "%s", allow);
		for (tok = strtok_r(list, ",", &save); tok && n < 65;
		     tok = strtok_r(NULL, ",", &save)) {
			char *end;
			long d = strtol(tok, &end, 10);

			if (*end || d < 0 || d >= 0x7FF0) {
				fprintf(stderr, "af_xen-setup: bad domain id '%s'\n",
					tok);
				return -EINVAL;
			}
			snprintf(perm[n - 1], sizeof(perm[0]), "r%ld", d);
			args[n] = perm[n - 1];
			n++;
		}
	}
	return xs_strings(XS_SET_PERMS, args, n, 1);
}

/*
 * --count: rendezvous nodes (requests and answers) this guest holds now;
 * leak tests compare it before and after many connections.
 */
static int count_nodes(const char *dir)
{
	static const char *const sub[] = { "a", "c" };
	char path[128], out[XS_PAYLOAD_MAX + 1];
	long n = 0;
	uint32_t i;
	int k, err;

	for (k = 0; k < 2; k++) {
		snprintf(path, sizeof(path), "%s/%s", dir, sub[k]);
		err = xs_request(XS_DIRECTORY, path, strlen(path) + 1, out,
				 sizeof(out));
		if (err == -ENOENT)
			continue;
		if (err) {
			fprintf(stderr, "af_xen-setup: %s: %s\n", path,
				strerror(-err));
			return 1;
		}
		for (i = 0; i < reply_len; i++)
			n += out[i] == '\0';
	}
	printf("%ld\n", n);
	return 0;
}

static int fail(const char *what, int err)
{
	fprintf(stderr, "af_xen-setup: %s: %s\n", what, strerror(-err));
	if (err == -EACCES)
		fprintf(stderr, "af_xen-setup: hint: run as root\n");
	return 1;
}

int main(int argc, char **argv)
{
	const char *allow = "all";
	int count = 0;
	char self[16], dir[96], path[128];
	const char *args[2];
	int i, err;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--allow") && i + 1 < argc) {
			allow = argv[++i];
		} else if (!strcmp(argv[i], "--quiet")) {
			quiet = 1;
		} else if (!strcmp(argv[i], "--count")) {
			count = 1;
		} else {
			fprintf(stderr, "usage: af_xen-setup [--allow all|D1,D2,...] [--quiet] | --count\n");
			return 2;
		}
	}
	xs_fd = open("/dev/xen/xenbus", O_RDWR);
	if (xs_fd < 0)
		xs_fd = open("/proc/xen/xenbus", O_RDWR);
	if (xs_fd < 0) {
		fprintf(stderr, "af_xen-setup: cannot open /dev/xen/xenbus: %s (not a Xen guest?)\n",
			strerror(errno));
		return 1;
	}
	err = xs_request(XS_READ, "domid", sizeof("domid"), self, sizeof(self));
	if (err)
		return fail("read domid", err);
	snprintf(dir, sizeof(dir), "/local/domain/%s/data/af_xen", self);
	if (count)
		return count_nodes(dir);
	err = xs_request(XS_MKDIR, dir, strlen(dir) + 1, NULL, 0);
	if (err)
		return fail(dir, err);
	err = set_perms(dir, self, allow);
	if (err)
		return fail("set permissions", err);
	/* Nodes made before keep their old list: bring them in line. */
	snprintf(path, sizeof(path), "%s/module", dir);
	err = set_perms(path, self, allow);
	if (err && err != -ENOENT)
		return fail(path, err);
	snprintf(path, sizeof(path), "%s/ready", dir);
	args[0] = path;
	args[1] = "1";
	err = xs_strings(XS_WRITE, args, 2, 0);
	if (!err)
		err = set_perms(path, self, allow);
	if (err)
		return fail(path, err);
	if (!quiet)
		printf("af_xen-setup: %s readable by %s\n", dir,
		       strcmp(allow, "all") ? allow : "all domains");
	return 0;
}
