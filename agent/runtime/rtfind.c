/* rtfind.c - finding a container's files under the runtime roots and
 * reading them (vg_rtmeta_resolve, vg_rtmeta_read_file; see rtmeta.h).
 * Runs on the worker thread only.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rtmeta.h"
#include "util.h"

#define MAX_NAMESPACES 256 /* namespace directories per root */
#define MAX_STATE_SCAN 512 /* state.json files read to match a cgroup path */
#define ID_SHORT 12

int vg_rtmeta_read_file(const char *path, size_t max, char **buf, size_t *len)
{
	*buf = NULL;
	*len = 0;
	/* O_NONBLOCK: a FIFO planted under a root must not hang the worker
	 * (and fstat refuses it below) */
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct stat st;
	if (fstat(fd, &st) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	if ((uint64_t)st.st_size > max) {
		close(fd);
		return -E2BIG;
	}
	size_t cap = (size_t)st.st_size + 1, n = 0;
	char *b = vg_xmalloc(cap + 1);
	for (;;) {
		ssize_t r = read(fd, b + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;
			free(b);
			close(fd);
			return -e;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n == cap) { /* grew since fstat: never past max */
			if (cap > max) {
				free(b);
				close(fd);
				return -E2BIG;
			}
			cap = cap * 2 > max + 1 ? max + 1 : cap * 2;
			b = vg_xrealloc(b, cap + 1);
		}
	}
	close(fd);
	b[n] = '\0';
	*buf = b;
	*len = n;
	return 0;
}

static bool starts_with_id(const char *name, const char *id)
{
	return strncmp(name, id, ID_SHORT) == 0;
}

static bool is_dot(const char *n)
{
	return n[0] == '.' && (!n[1] || (n[1] == '.' && !n[2]));
}

struct found {
	const struct vg_rtmeta_opts *o;
	const char *id;
	struct vg_rtinfo *ri;
	char **full_id, **path;
	char *err;
	size_t errlen;
};

static void set_err(struct found *f, const char *path, int e)
{
	if (e == -E2BIG)
		snprintf(f->err, f->errlen, "%s: larger than %zu bytes", path,
			 f->o->max_file_bytes);
	else
		snprintf(f->err, f->errlen, "%s: %s", path, strerror(-e));
}

/* Read and parse the config.json at path: 1, 0 (absent), -1 (bad). */
static int take_config(struct found *f, const char *path, const char *name, const char *type)
{
	char *buf;
	size_t len;
	int r = vg_rtmeta_read_file(path, f->o->max_file_bytes, &buf, &len);
	if (r == -ENOENT || r == -ENOTDIR)
		return 0;
	if (r) {
		set_err(f, path, r);
		return -1;
	}
	char why[200];
	r = vg_rtspec_parse_config(buf, len, f->ri, why, sizeof(why));
	free(buf);
	if (r) {
		snprintf(f->err, f->errlen, "%s:%s", path, why);
		return -1;
	}
	f->ri->type = type;
	*f->full_id = vg_xstrdup(name);
	*f->path = vg_xstrdup(path);
	return 1;
}

/* <dir>/<id...>/<tail>: the first entry of dir whose name starts with the
 * id, as a config.json (tail) to take.  1, 0, -1 as take_config. */
static int scan_dir(struct found *f, const char *dir, const char *tail, const char *type)
{
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	struct dirent *e;
	int r = 0;
	while (!r && (e = readdir(d)) != NULL) {
		if (is_dot(e->d_name) || !starts_with_id(e->d_name, f->id))
			continue;
		char path[4096];
		if ((size_t)snprintf(path, sizeof(path), "%s/%s/%s", dir, e->d_name, tail) >=
		    sizeof(path))
			continue;
		r = take_config(f, path, e->d_name, type);
	}
	closedir(d);
	return r;
}

static int containerd(struct found *f, const char *root)
{
	DIR *d = opendir(root);
	if (!d)
		return 0;
	struct dirent *e;
	int r = 0, n = 0;
	while (!r && n < MAX_NAMESPACES && (e = readdir(d)) != NULL) {
		if (is_dot(e->d_name))
			continue;
		n++;
		char ns[4096];
		if ((size_t)snprintf(ns, sizeof(ns), "%s/%s", root, e->d_name) >= sizeof(ns))
			continue;
		r = scan_dir(f, ns, "config.json", "containerd");
	}
	closedir(d);
	return r;
}

/* The 64-hex id starting with id in a cgroup path, or NULL. */
static char *full_id_in(const char *cg, const char *id)
{
	for (const char *p = cg ? strstr(cg, id) : NULL; p; p = strstr(p + 1, id)) {
		size_t n = strspn(p, "0123456789abcdef");
		if (n == 64 && (p == cg || !strchr("0123456789abcdef", p[-1])))
			return vg_xstrndup(p, 64);
	}
	return NULL;
}

/* runc: a state.json names the bundle, whose config.json is the spec. */
static int runc_state(struct found *f, const char *state_path, const char *name, bool by_cgroup)
{
	char *buf;
	size_t len;
	int r = vg_rtmeta_read_file(state_path, f->o->max_file_bytes, &buf, &len);
	if (r == -ENOENT || r == -ENOTDIR)
		return 0;
	if (r) {
		if (by_cgroup)
			return 0; /* another container's file: not ours to report */
		set_err(f, state_path, r);
		return -1;
	}
	char *bundle, *cg, why[200];
	r = vg_rtspec_parse_state(buf, len, &bundle, &cg, why, sizeof(why));
	free(buf);
	if (r) {
		if (by_cgroup)
			return 0;
		snprintf(f->err, f->errlen, "%s:%s", state_path, why);
		return -1;
	}
	if (by_cgroup) {
		char cid[VG_CONTAINER_ID_LEN];
		vg_container_id(cg, cid);
		if (strcmp(cid, f->id)) {
			free(bundle);
			free(cg);
			return 0;
		}
	}
	/* a runc name that is not the id: the id is in the cgroup path */
	char *full = full_id_in(cg, f->id);
	free(cg);
	char path[4096];
	bool fits = (size_t)snprintf(path, sizeof(path), "%s/config.json", bundle) < sizeof(path);
	free(bundle);
	if (!fits) {
		free(full);
		return 0;
	}
	r = take_config(f, path, full ? full : name, "runc");
	free(full);
	if (r == 0) {
		snprintf(f->err, f->errlen, "%s: the bundle's config.json is not readable here",
			 path);
		return -1;
	}
	return r;
}

/* A runc root: <root>/<id>/state.json, one namespace level below
 * (containerd's /run/containerd/runc/<ns>/<id>), and, for containers whose
 * runc name is not their id, any state.json whose cgroup path names it. */
static int runc(struct found *f, const char *root, int depth, int *budget)
{
	DIR *d = opendir(root);
	if (!d)
		return 0;
	struct dirent *e;
	int r = 0;
	while (!r && (e = readdir(d)) != NULL) {
		if (is_dot(e->d_name))
			continue;
		char sub[4096], state[4200];
		if ((size_t)snprintf(sub, sizeof(sub), "%s/%s", root, e->d_name) >= sizeof(sub))
			continue;
		snprintf(state, sizeof(state), "%s/state.json", sub);
		if (starts_with_id(e->d_name, f->id)) {
			r = runc_state(f, state, e->d_name, false);
			if (r)
				break;
		}
		struct stat st;
		if (stat(state, &st) == 0) {
			if (!starts_with_id(e->d_name, f->id) && *budget > 0) {
				(*budget)--;
				r = runc_state(f, state, e->d_name, true);
			}
		} else if (depth == 0) {
			r = runc(f, sub, 1, budget);
		}
	}
	closedir(d);
	return r;
}

int vg_rtmeta_resolve(const struct vg_rtmeta_opts *o, const char *id, struct vg_rtinfo *ri,
		      char **full_id, char **path, char *err, size_t errlen)
{
	memset(ri, 0, sizeof(*ri));
	ri->privileged = -1;
	*full_id = *path = NULL;
	err[0] = '\0';
	if (!id || strlen(id) != ID_SHORT)
		return 0;
	struct found f = {o, id, ri, full_id, path, err, errlen};
	int r = 0;
	for (size_t i = 0; !r && i < o->ncontainerd; i++)
		r = containerd(&f, o->containerd_roots[i]);
	for (size_t i = 0; !r && i < o->ncrio; i++)
		r = scan_dir(&f, o->crio_roots[i], "userdata/config.json", "cri-o");
	int budget = MAX_STATE_SCAN;
	for (size_t i = 0; !r && i < o->nrunc; i++)
		r = runc(&f, o->runc_roots[i], 0, &budget);
	if (r < 0)
		vg_rtinfo_free(ri);
	return r;
}
