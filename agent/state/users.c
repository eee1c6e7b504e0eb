/* users.c - passwd/group tables, sorted by id for binary search.
 *
 * Each file is parsed into one arena holding all of its strings plus an
 * array of entries pointing into it; a reload swaps both wholesale.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "users.h"
#include "util.h"

#define CHECK_INTERVAL_NS 1000000000ull

struct ent {
	uint32_t id;
	uint32_t seq; /* line order: the first line for an id wins, like getpwuid */
	const char *name, *home, *shell;
};

struct table {
	const char *path;
	int nfields; /* 7 for passwd, 4 for group */
	struct ent *ents;
	size_t n;
	char *arena;
	/* identity of the file last read; all zero when it was missing */
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
};

struct vg_users {
	struct table pw, gr;
	uint64_t last_check_ns;
	char *pw_path, *gr_path;
};

static uint64_t coarse_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int ent_cmp(const void *a, const void *b)
{
	const struct ent *x = a, *y = b;
	if (x->id != y->id)
		return x->id < y->id ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int parse_id(const char *s, uint32_t *out)
{
	char *end;
	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || *end || v > UINT32_MAX)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

/* Parse the whole file text (NUL-terminated, modified in place) into t.
 * Lines that are comments, NIS markers (+/-) or malformed are skipped. */
static void parse(struct table *t, char *text)
{
	size_t cap = 64, n = 0;
	struct ent *ents = vg_xmalloc(cap * sizeof(*ents));
	char *line = text;

	while (line && *line) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		char *f[7] = {0};
		int nf = 0;
		char *p = line;
		if (*line != '#' && *line != '+' && *line != '-') {
			while (nf < t->nfields) {
				f[nf++] = p;
				p = strchr(p, ':');
				if (!p)
					break;
				*p++ = '\0';
			}
		}
		struct ent e = {0};
		if (nf == t->nfields && f[0][0] && parse_id(f[2], &e.id) == 0) {
			e.seq = (uint32_t)n;
			e.name = f[0];
			e.home = t->nfields == 7 ? f[5] : "";
			e.shell = t->nfields == 7 ? f[6] : "";
			if (n == cap) {
				cap *= 2;
				ents = vg_xrealloc(ents, cap * sizeof(*ents));
			}
			ents[n++] = e;
		}
		line = nl ? nl + 1 : NULL;
	}
	qsort(ents, n, sizeof(*ents), ent_cmp);
	/* keep only the first entry of each id */
	size_t w = 0;
	for (size_t i = 0; i < n; i++)
		if (w == 0 || ents[w - 1].id != ents[i].id)
			ents[w++] = ents[i];
	free(t->ents);
	free(t->arena);
	t->ents = ents;
	t->n = w;
	t->arena = text;
}

static void clear(struct table *t)
{
	free(t->ents);
	free(t->arena);
	t->ents = NULL;
	t->arena = NULL;
	t->n = 0;
}

/* Reload t if its file changed since last read.  Returns 1 if reloaded. */
static int check(struct table *t)
{
	struct stat st;
	if (stat(t->path, &st) != 0)
		memset(&st, 0, sizeof(st));
	if (st.st_dev == t->dev && st.st_ino == t->ino && st.st_size == t->size &&
	    st.st_mtim.tv_sec == t->mtime.tv_sec && st.st_mtim.tv_nsec == t->mtime.tv_nsec)
		return 0;

	FILE *f = st.st_ino ? fopen(t->path, "re") : NULL;
	if (!f) {
		int had = t->n > 0;
		clear(t);
		t->dev = st.st_dev;
		t->ino = st.st_ino;
		t->size = st.st_size;
		t->mtime = st.st_mtim;
		return had;
	}
	size_t cap = (size_t)st.st_size + 1, len = 0;
	char *text = vg_xmalloc(cap);
	size_t r;
	/* the file may grow between stat and read: read to EOF */
	while ((r = fread(text + len, 1, cap - len - 1, f)) > 0) {
		len += r;
		if (len + 1 == cap) {
			cap *= 2;
			text = vg_xrealloc(text, cap);
		}
	}
	text[len] = '\0';
	fclose(f);
	parse(t, text);
	t->dev = st.st_dev;
	t->ino = st.st_ino;
	t->size = st.st_size;
	t->mtime = st.st_mtim;
	return 1;
}

static char *join(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *s = vg_xmalloc(n);
	snprintf(s, n, "%s/%s", dir, name);
	return s;
}

struct vg_users *vg_users_new(const char *etc_root)
{
	struct vg_users *u = vg_xcalloc(1, sizeof(*u));
	if (!etc_root)
		etc_root = "/etc";
	u->pw_path = join(etc_root, "passwd");
	u->gr_path = join(etc_root, "group");
	u->pw.path = u->pw_path;
	u->pw.nfields = 7;
	u->gr.path = u->gr_path;
	u->gr.nfields = 4;
	vg_users_refresh(u);
	return u;
}

void vg_users_free(struct vg_users *u)
{
	if (!u)
		return;
	clear(&u->pw);
	clear(&u->gr);
	free(u->pw_path);
	free(u->gr_path);
	free(u);
}

int vg_users_refresh(struct vg_users *u)
{
	u->last_check_ns = coarse_now_ns();
	int a = check(&u->pw);
	int b = check(&u->gr);
	return a || b;
}

static const struct ent *find(struct vg_users *u, struct table *t, uint32_t id)
{
	if (coarse_now_ns() - u->last_check_ns >= CHECK_INTERVAL_NS)
		vg_users_refresh(u);
	size_t lo = 0, hi = t->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (t->ents[mid].id == id)
			return &t->ents[mid];
		if (t->ents[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const char *vg_users_user(struct vg_users *u, uint32_t uid)
{
	const struct ent *e = find(u, &u->pw, uid);
	return e ? e->name : "";
}

const char *vg_users_group(struct vg_users *u, uint32_t gid)
{
	const struct ent *e = find(u, &u->gr, gid);
	return e ? e->name : "";
}

const char *vg_users_home(struct vg_users *u, uint32_t uid)
{
	const struct ent *e = find(u, &u->pw, uid);
	return e ? e->home : "";
}

const char *vg_users_shell(struct vg_users *u, uint32_t uid)
{
	const struct ent *e = find(u, &u->pw, uid);
	return e ? e->shell : "";
}
