/* procscan.c - seed the process table from /proc.
 *
 * Two passes: the first lists the pids and their parents, so that records can
 * be ordered parents first (by depth in the tree, not by pid: pids wrap and
 * orphans are re-parented); the second reads each process and emits one
 * VG_K_PROC record laid out like VG_K_EXEC, built in one reused buffer.
 *
 * A process is read through a directory fd, status first and stat last: if
 * either is gone the process exited during the scan and is skipped.  Other
 * files may be unreadable (kernel threads have no exe, another user's environ
 * needs ptrace access); their fields are left empty.
 *
 * The cgroup v2 id is the inode of the cgroup's directory, looked up in the
 * cgroup2 mount of the same root as proc_root: "/proc" uses /sys/fs/cgroup,
 * "/host/proc" (a DaemonSet mounting the host's root) uses /host/sys/fs/cgroup.
 *
 * Record conventions beyond the EXEC layout: h.nr is 0; VG_X_FILENAME repeats
 * the exe path (the kernel does not keep the name given to execve); exec.tty
 * is stat's tty_nr, i.e. the kernel's new_encode_dev() of the tty (what glibc's
 * makedev() gives); VG_EXE_UPPER is never set (overlayfs layers are not
 * visible from /proc).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "state.h"
#include "util.h"
#include "vigil.h"

#define ENV_MAX 2048 /* bytes of environment kept, like the BPF side */
#define STATUS_MAX 8192
#define DELETED " (deleted)"

struct pent {
	uint32_t pid, ppid, depth;
};

/* scratch space of one scan */
struct scan {
	int rootfd;
	char *cgroot; /* "<root>/sys/fs/cgroup" */
	long hz;
	struct vg_rec *ev;   /* VG_REC_MAX bytes */
	char *str[VG_NSTR];  /* VG_STR_MAX bytes each */
	size_t len[VG_NSTR]; /* NUL included, 0 = absent */
	char status[STATUS_MAX];
};

static ssize_t read_at(int dfd, const char *name, char *buf, size_t cap)
{
	int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	size_t n = 0;
	while (n < cap) {
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			close(fd);
			return r;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	return (ssize_t)n;
}

/* readlink into buf as a C string, " (deleted)" dropped.  Returns the length
 * with the NUL, or 0 when unreadable.  *trunc is set on truncation. */
static size_t link_at(int dfd, const char *name, char *buf, size_t cap, int *trunc)
{
	ssize_t n = readlinkat(dfd, name, buf, cap);
	if (n <= 0)
		return 0;
	if ((size_t)n == cap) {
		*trunc = 1;
		n = (ssize_t)cap - 1;
	}
	buf[n] = '\0';
	size_t dl = strlen(DELETED);
	if ((size_t)n > dl && strcmp(buf + n - dl, DELETED) == 0) {
		n -= (ssize_t)dl;
		buf[n] = '\0';
	}
	return (size_t)n + 1;
}

/* The value of "Key:" in a status text, or NULL. */
static const char *status_field(const char *status, const char *key)
{
	size_t kl = strlen(key);
	const char *p = status;
	while (p && *p) {
		if (strncmp(p, key, kl) == 0 && p[kl] == ':')
			return p + kl + 1;
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return NULL;
}

static uint64_t status_num(const char *status, const char *key, int base, int nth, uint64_t dflt)
{
	const char *v = status_field(status, key);
	if (!v)
		return dflt;
	char *end;
	uint64_t x = dflt;
	for (int i = 0; i <= nth; i++) {
		errno = 0;
		x = strtoull(v, &end, base);
		if (end == v || errno)
			return dflt;
		v = end;
	}
	return x;
}

/* The last number of a "NSpid:\t12\t1" line: the value in the innermost namespace. */
static uint32_t status_last(const char *status, const char *key, uint32_t dflt)
{
	const char *v = status_field(status, key);
	if (!v)
		return dflt;
	uint32_t x = dflt;
	for (;;) {
		char *end;
		unsigned long n = strtoul(v, &end, 10);
		if (end == v)
			break;
		x = (uint32_t)n;
		v = end;
		if (*v == '\n' || *v == '\0')
			break;
	}
	return x;
}

static ssize_t read_status(int pdir, char *buf)
{
	ssize_t n = read_at(pdir, "status", buf, STATUS_MAX - 1);
	if (n < 0)
		return n;
	buf[n] = '\0';
	return n;
}

/* pass 1: every numeric entry of proc_root with its parent */
static int list_pids(struct scan *s, struct pent **out, size_t *count)
{
	int dfd = dup(s->rootfd);
	if (dfd < 0)
		return -errno;
	DIR *d = fdopendir(dfd);
	if (!d) {
		int e = -errno;
		close(dfd);
		return e;
	}
	size_t cap = 256, n = 0;
	struct pent *v = vg_xmalloc(cap * sizeof(*v));
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		char *end;
		unsigned long pid = strtoul(de->d_name, &end, 10);
		if (de->d_name[0] < '1' || de->d_name[0] > '9' || *end || pid > UINT32_MAX)
			continue;
		int pdir = openat(s->rootfd, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (pdir < 0)
			continue;
		ssize_t r = read_status(pdir, s->status);
		close(pdir);
		if (r < 0)
			continue;
		if (n == cap) {
			cap *= 2;
			v = vg_xrealloc(v, cap * sizeof(*v));
		}
		v[n].pid = (uint32_t)pid;
		v[n].ppid = (uint32_t)status_num(s->status, "PPid", 10, 0, 0);
		v[n].depth = 0;
		n++;
	}
	closedir(d);
	*out = v;
	*count = n;
	return 0;
}

static int by_pid(const void *a, const void *b)
{
	const struct pent *x = a, *y = b;
	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

static int by_depth(const void *a, const void *b)
{
	const struct pent *x = a, *y = b;
	if (x->depth != y->depth)
		return x->depth < y->depth ? -1 : 1;
	return by_pid(a, b);
}

static void order_tree(struct pent *v, size_t n)
{
	qsort(v, n, sizeof(*v), by_pid);
	for (size_t i = 0; i < n; i++) {
		uint32_t depth = 0, ppid = v[i].ppid;
		/* the bound stops a cycle that a racing re-parent could show */
		while (ppid && depth <= n) {
			struct pent key = {.pid = ppid};
			struct pent *p = bsearch(&key, v, n, sizeof(*v), by_pid);
			if (!p)
				break;
			depth++;
			ppid = p->ppid;
		}
		v[i].depth = depth;
	}
	qsort(v, n, sizeof(*v), by_depth);
}

/* Fields of /proc/<pid>/stat after the comm: 0 is state (field 3). */
static int parse_stat(const char *buf, struct vg_exec_info *x, char *comm)
{
	const char *open = strchr(buf, '(');
	const char *close = strrchr(buf, ')');
	if (!open || !close || close < open || close[1] != ' ')
		return -EINVAL;
	if (!comm[0]) {
		size_t cl = (size_t)(close - open - 1);
		if (cl > VG_COMM_LEN - 1)
			cl = VG_COMM_LEN - 1;
		memcpy(comm, open + 1, cl);
		comm[cl] = '\0';
	}
	const char *p = close + 2;
	unsigned long long f[20];
	int i = 0;
	if (*p)
		p++; /* state character */
	for (i = 1; i < 20; i++) {
		char *end;
		f[i] = strtoull(p, &end, 10);
		if (end == p)
			return -EINVAL;
		p = end;
	}
	x->pgid = (uint32_t)f[2];
	x->sid = (uint32_t)f[3];
	x->tty = (uint32_t)f[4];
	x->start_ns = f[19];
	return 0;
}

static uint64_t ts_ns(const struct timespec *t)
{
	return (uint64_t)t->tv_sec * 1000000000ull + (uint64_t)t->tv_nsec;
}

/* Read a NUL-separated list (cmdline, environ) bounded to max bytes with its
 * final NUL.  Environment is cut at the last whole entry; argv just at max. */
static size_t read_list(int pdir, const char *name, char *buf, size_t max, int whole, int *trunc)
{
	ssize_t n = read_at(pdir, name, buf, max);
	if (n <= 0)
		return 0;
	size_t len = (size_t)n;
	if (len == max) {
		/* maybe more: see whether the file goes on */
		char c;
		int fd = openat(pdir, name, O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			if (pread(fd, &c, 1, (off_t)max) == 1)
				*trunc = 1;
			close(fd);
		}
	}
	if (buf[len - 1] == '\0')
		return len;
	/* the list does not end in NUL: truncated, or a rewritten argv */
	if (whole) {
		char *last = memrchr(buf, '\0', len);
		*trunc = 1;
		return last ? (size_t)(last - buf) + 1 : 0;
	}
	if (len == max) {
		len--;
		*trunc = 1;
	}
	buf[len] = '\0';
	return len + 1;
}

/* Choose the cgroup line: the v1 cpu (else pids) hierarchy, else the v2 "0::". */
static size_t pick_cgroup(const char *text, char *out, size_t cap, int *v2only)
{
	const char *best = NULL, *v2 = NULL;
	size_t bestlen = 0, v2len = 0;
	int rank = 0, v1 = 0;
	const char *line = text;

	while (*line) {
		const char *nl = strchrnul(line, '\n');
		const char *c1 = memchr(line, ':', (size_t)(nl - line));
		const char *c2 = c1 ? memchr(c1 + 1, ':', (size_t)(nl - c1 - 1)) : NULL;
		if (c2) {
			const char *path = c2 + 1;
			size_t plen = (size_t)(nl - path);
			if (c2 == c1 + 1) {
				v2 = path;
				v2len = plen;
			} else {
				v1 = 1;
				/* the controller list is comma separated: "cpu,cpuacct" */
				const char *t = c1 + 1;
				while (t < c2) {
					const char *te = memchr(t, ',', (size_t)(c2 - t));
					if (!te)
						te = c2;
					size_t tl = (size_t)(te - t);
					int r = (tl == 3 && !memcmp(t, "cpu", 3))    ? 2
						: (tl == 4 && !memcmp(t, "pids", 4)) ? 1
										     : 0;
					if (r > rank) {
						rank = r;
						best = path;
						bestlen = plen;
					}
					t = te + 1;
				}
			}
		}
		line = *nl ? nl + 1 : nl;
	}
	*v2only = !v1;
	if (!best) {
		best = v2;
		bestlen = v2len;
	}
	if (!best)
		return 0;
	if (bestlen >= cap)
		bestlen = cap - 1;
	memcpy(out, best, bestlen);
	out[bestlen] = '\0';
	return bestlen + 1;
}

/* inode of the v2 cgroup directory: what bpf_get_current_cgroup_id() reports */
static uint64_t cgroup_id(struct scan *s, const char *cgtext, int v2only)
{
	const char *l = cgtext;
	while (*l) {
		if (!strncmp(l, "0::", 3))
			break;
		l = strchrnul(l, '\n');
		if (*l)
			l++;
	}
	if (!*l)
		return 0;
	const char *path = l + 3;
	size_t plen = (size_t)(strchrnul(path, '\n') - path);
	char buf[PATH_MAX];
	snprintf(buf, sizeof(buf), "%s%s%.*s", s->cgroot, v2only ? "" : "/unified", (int)plen,
		 path);
	struct stat st;
	if (stat(buf, &st) != 0 || !S_ISDIR(st.st_mode))
		return 0;
	return st.st_ino;
}

/* Build the record of one process in s->ev.  Returns its size, or 0 when the
 * process is gone. */
static size_t build(struct scan *s, uint32_t pid)
{
	char name[16];
	snprintf(name, sizeof(name), "%" PRIu32, pid);
	int pdir = openat(s->rootfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (pdir < 0)
		return 0;

	struct vg_rec *ev = s->ev;
	struct vg_hdr *h = &ev->h;
	struct vg_exec_info *x = &ev->exec;
	memset(ev, 0, sizeof(*ev));
	memset(s->len, 0, sizeof(s->len));
	int trunc = 0;

	if (read_status(pdir, s->status) < 0) {
		close(pdir);
		return 0;
	}
	const char *st = s->status;
	h->kind = VG_K_PROC;
	h->tid = h->pid = (uint32_t)status_num(st, "Tgid", 10, 0, pid);
	h->ppid = (uint32_t)status_num(st, "PPid", 10, 0, 0);
	x->ruid = (uint32_t)status_num(st, "Uid", 10, 0, 0);
	h->uid = (uint32_t)status_num(st, "Uid", 10, 1, 0);
	x->rgid = (uint32_t)status_num(st, "Gid", 10, 0, 0);
	h->gid = (uint32_t)status_num(st, "Gid", 10, 1, 0);
	x->cap_inh = status_num(st, "CapInh", 16, 0, 0);
	x->cap_perm = status_num(st, "CapPrm", 16, 0, 0);
	x->cap_eff = status_num(st, "CapEff", 16, 0, 0);
	x->vpid = status_last(st, "NSpid", h->pid);
	/* kernels before 4.1 have no NSpgid: the pgid from stat is the best guess */
	int has_nspgid = status_field(st, "NSpgid") != NULL;
	x->vpgid = status_last(st, "NSpgid", 0);

	char buf[64];
	ssize_t n = read_at(pdir, "loginuid", buf, sizeof(buf) - 1);
	h->loginuid = (uint32_t)-1;
	if (n > 0) {
		buf[n] = '\0';
		h->loginuid = (uint32_t)strtoul(buf, NULL, 10);
	}

	n = read_at(pdir, "comm", buf, sizeof(buf) - 1);
	if (n > 0) {
		buf[n] = '\0';
		buf[strcspn(buf, "\n")] = '\0';
		memcpy(h->comm, buf, strnlen(buf, VG_COMM_LEN - 1));
	}

	s->len[VG_X_ARGS] = read_list(pdir, "cmdline", s->str[VG_X_ARGS], VG_STR_MAX, 0, &trunc);
	s->len[VG_X_ENV] = read_list(pdir, "environ", s->str[VG_X_ENV], ENV_MAX, 1, &trunc);
	s->len[VG_X_EXEPATH] = link_at(pdir, "exe", s->str[VG_X_EXEPATH], VG_STR_MAX, &trunc);
	s->len[VG_X_CWD] = link_at(pdir, "cwd", s->str[VG_X_CWD], VG_STR_MAX, &trunc);
	/* the name given to execve is not kept by the kernel: the exe path is the
	 * closest thing */
	if (s->len[VG_X_EXEPATH]) {
		memcpy(s->str[VG_X_FILENAME], s->str[VG_X_EXEPATH], s->len[VG_X_EXEPATH]);
		s->len[VG_X_FILENAME] = s->len[VG_X_EXEPATH];
		const char *exe = s->str[VG_X_EXEPATH];
		if (!strncmp(exe, "/memfd:", 7) || !strncmp(exe, "memfd:", 6))
			x->exe_flags |= VG_EXE_MEMFD;
	}

	struct stat sb;
	if (fstatat(pdir, "exe", &sb, 0) == 0) {
		x->exe_ino = sb.st_ino;
		x->exe_ctime_ns = ts_ns(&sb.st_ctim);
		x->exe_mtime_ns = ts_ns(&sb.st_mtim);
		if (sb.st_mode & S_ISUID)
			x->exe_flags |= VG_EXE_SETUID;
	}

	n = readlinkat(pdir, "ns/pid", buf, sizeof(buf) - 1);
	if (n > 0) {
		buf[n] = '\0';
		unsigned long ino;
		if (sscanf(buf, "pid:[%lu]", &ino) == 1)
			x->pidns_ino = (uint32_t)ino;
	}

	/* cgroup text goes through the status buffer: status is parsed already */
	n = read_at(pdir, "cgroup", s->status, STATUS_MAX - 1);
	if (n > 0) {
		int v2only;
		s->status[n] = '\0';
		s->len[VG_X_CGROUP] =
			pick_cgroup(s->status, s->str[VG_X_CGROUP], VG_STR_MAX, &v2only);
		h->cgroup_id = cgroup_id(s, s->status, v2only);
	}

	/* stat last: if it is gone, so is the process, and the record is void */
	n = read_at(pdir, "stat", s->status, STATUS_MAX - 1);
	close(pdir);
	if (n <= 0)
		return 0;
	s->status[n] = '\0';
	if (parse_stat(s->status, x, h->comm) < 0)
		return 0;
	uint64_t ticks = x->start_ns, hz = (uint64_t)s->hz;
	x->start_ns = ticks / hz * 1000000000ull + ticks % hz * 1000000000ull / hz;
	if (!has_nspgid)
		x->vpgid = x->pgid;

	struct timespec now;
	clock_gettime(CLOCK_BOOTTIME, &now);
	h->ts = ts_ns(&now);
	if (trunc)
		h->flags |= VG_F_TRUNC;

	size_t off = 0;
	for (int i = 0; i < VG_NSTR; i++) {
		memcpy(ev->data + off, s->str[i], s->len[i]);
		ev->len[i] = (uint16_t)s->len[i];
		off += s->len[i];
	}
	h->size = (uint16_t)(sizeof(*ev) + off);
	return h->size;
}

static char *cgroup_root(const char *proc_root)
{
	size_t n = strlen(proc_root);
	while (n > 1 && proc_root[n - 1] == '/')
		n--;
	const char *slash = memrchr(proc_root, '/', n);
	size_t rl = slash ? (size_t)(slash - proc_root) : 0;
	size_t cap = rl + sizeof("/sys/fs/cgroup");
	char *s = vg_xmalloc(cap);
	snprintf(s, cap, "%.*s/sys/fs/cgroup", (int)rl, proc_root);
	if (!slash)
		memmove(s, s + 1, cap - 1); /* "proc": relative root "." */
	return s;
}

bool vg_procscan_has_cgroup2(const char *proc_root)
{
	char *root = cgroup_root(proc_root);
	size_t cap = strlen(root) + sizeof("/unified");
	char *unified = vg_xmalloc(cap);
	snprintf(unified, cap, "%s/unified", root);
	struct statfs sf;
	bool v2 = (!statfs(root, &sf) && sf.f_type == CGROUP2_SUPER_MAGIC) ||
		  (!statfs(unified, &sf) && sf.f_type == CGROUP2_SUPER_MAGIC);
	free(root);
	free(unified);
	return v2;
}

int vg_procscan(const char *proc_root, vg_record_cb emit, void *ctx)
{
	struct scan *s = vg_xcalloc(1, sizeof(*s));
	int ret = 0;

	s->rootfd = open(proc_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->rootfd < 0) {
		ret = -errno;
		free(s);
		return ret;
	}
	s->hz = sysconf(_SC_CLK_TCK);
	if (s->hz <= 0)
		s->hz = 100;
	s->cgroot = cgroup_root(proc_root);
	s->ev = vg_xmalloc(VG_REC_MAX);
	for (int i = 0; i < VG_NSTR; i++)
		s->str[i] = vg_xmalloc(VG_STR_MAX);

	struct pent *v = NULL;
	size_t n = 0;
	ret = list_pids(s, &v, &n);
	if (ret == 0) {
		order_tree(v, n);
		for (size_t i = 0; i < n; i++) {
			size_t size = build(s, v[i].pid);
			if (!size)
				continue;
			int r = emit(ctx, s->ev, size);
			if (r != 0) {
				ret = r < 0 ? r : -ECANCELED;
				break;
			}
			ret++;
		}
	}

	free(v);
	for (int i = 0; i < VG_NSTR; i++)
		free(s->str[i]);
	free(s->ev);
	free(s->cgroot);
	close(s->rootfd);
	free(s);
	return ret;
}

uint32_t vg_procscan_self(const char *proc_root)
{
	/* procfs resolves "self" in the pid namespace it was mounted for */
	char path[PATH_MAX], buf[32];
	snprintf(path, sizeof(path), "%s/self", proc_root);
	ssize_t n = readlink(path, buf, sizeof(buf) - 1);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	char *end;
	unsigned long v = strtoul(buf, &end, 10);
	return (*end || v == 0 || v > UINT32_MAX) ? 0 : (uint32_t)v;
}
