/* evjson.c - see evjson.h. */
#include "evjson.h"
#include "state.h"
#include "utf8.h"
#include "util.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static const char *const kind_names[] = {
	[VG_K_SYSCALL] = "syscall", [VG_K_EXEC] = "exec", [VG_K_FORK] = "fork",
	[VG_K_EXIT] = "exit",	    [VG_K_PROC] = "proc",
};
#define NKINDS (sizeof(kind_names) / sizeof(kind_names[0]))

/* JSON names of the string slots, per record layout */
static const char *const sys_slots[VG_NSTR] = {"path", "path2", "base", "base2", "xstr", "cwd"};
static const char *const exec_slots[VG_NSTR] = {"filename", "argv", "env",
						"exepath",  "cwd",  "cgroup"};

static int is_exec_layout(int kind)
{
	return kind == VG_K_EXEC || kind == VG_K_PROC;
}

/* argv and env are NUL-separated lists: arrays in JSON */
static int is_list_slot(int kind, int slot)
{
	return is_exec_layout(kind) && (slot == VG_X_ARGS || slot == VG_X_ENV);
}

/* A 64-bit value as JSON: a number when a double holds it exactly (read as
 * signed, so -100 stays -100), else a hex string, which the parser takes
 * back (pointers in raw syscall arguments are the usual case). */
static cJSON *num64(uint64_t v)
{
	int64_t s = (int64_t)v;
	if (s >= -(1ll << 53) && s <= (1ll << 53))
		return cJSON_CreateNumber((double)s);
	char hex[24];
	snprintf(hex, sizeof(hex), "0x%llx", (unsigned long long)v);
	return cJSON_CreateString(hex);
}

static void add_u64(cJSON *o, const char *k, uint64_t v)
{
	cJSON_AddItemToObject(o, k, num64(v));
}

/* Timestamps in ns since the epoch need 61 bits: a decimal string keeps
 * them exact and readable. */
static void add_ts(cJSON *o, const char *k, uint64_t v)
{
	char dec[24];
	snprintf(dec, sizeof(dec), "%llu", (unsigned long long)v);
	cJSON_AddStringToObject(o, k, dec);
}

static cJSON *str_list(const char *p, size_t len)
{
	cJSON *a = cJSON_CreateArray();
	size_t i = 0;
	while (i < len) {
		size_t n = strnlen(p + i, len - i);
		char *s = vg_xstrndup(p + i, n);
		cJSON_AddItemToArray(a, cJSON_CreateString(s));
		free(s);
		i += n + 1;
	}
	return a;
}

static void render_ip(char *out, size_t cap, int family, const uint8_t *a)
{
	if (!inet_ntop(family == AF_INET6 ? AF_INET6 : AF_INET, a, out, cap))
		snprintf(out, cap, "?");
}

static cJSON *render_sock(const struct vg_sock *s)
{
	cJSON *o = cJSON_CreateObject();
	char ip[64];
	add_u64(o, "family", s->family);
	add_u64(o, "type", s->type);
	add_u64(o, "proto", s->proto);
	if (s->family == AF_INET || s->family == AF_INET6) {
		render_ip(ip, sizeof(ip), s->family, s->laddr);
		cJSON_AddStringToObject(o, "laddr", ip);
		add_u64(o, "lport", s->lport);
		render_ip(ip, sizeof(ip), s->family, s->raddr);
		cJSON_AddStringToObject(o, "raddr", ip);
		add_u64(o, "rport", s->rport);
	}
	return o;
}

static cJSON *render_decoded(const struct vg_event *ev)
{
	cJSON *d = cJSON_CreateObject();
	if (ev->path)
		cJSON_AddStringToObject(d, "path", ev->path);
	if (ev->path2)
		cJSON_AddStringToObject(d, "path2", ev->path2);
	if (ev->fd >= 0)
		cJSON_AddNumberToObject(d, "fd", (double)ev->fd);
	if (ev->fdi) {
		cJSON_AddStringToObject(d, "fd_name", ev->fdi->name ? ev->fdi->name : "");
		char tc[2] = {ev->fdi->typechar ? ev->fdi->typechar : '?', 0};
		cJSON_AddStringToObject(d, "fd_type", tc);
	}
	const struct vg_proc *p = ev->proc;
	if (p) {
		cJSON_AddStringToObject(d, "container_id", p->container_id);
		cJSON *po = cJSON_AddObjectToObject(d, "proc");
		cJSON_AddStringToObject(po, "name", p->comm);
		cJSON_AddStringToObject(po, "exe", p->exe ? p->exe : "");
		cJSON_AddStringToObject(po, "exepath", p->exepath ? p->exepath : "");
		cJSON_AddStringToObject(po, "cmdline", p->cmdline ? p->cmdline : "");
		cJSON_AddStringToObject(po, "cwd", p->cwd ? p->cwd : "");
		cJSON_AddStringToObject(po, "user", p->user ? p->user : "");
		add_u64(po, "uid", p->uid);
		add_u64(po, "loginuid", p->loginuid);
		add_u64(po, "tty", p->tty);
		cJSON *anc = cJSON_AddArrayToObject(po, "ancestors");
		for (int i = 1; i <= 16 && ev->st; i++) {
			struct vg_proc *a = vg_state_ancestor(ev->st, p, i);
			if (!a)
				break;
			cJSON *ao = cJSON_CreateObject();
			add_u64(ao, "pid", a->pid);
			cJSON_AddStringToObject(ao, "name", a->comm);
			cJSON_AddStringToObject(ao, "exepath", a->exepath ? a->exepath : "");
			cJSON_AddItemToArray(anc, ao);
		}
	}
	return d;
}

char *vg_evjson_render(const struct vg_event *ev, int with_decoded)
{
	const struct vg_rec *r = ev->raw;
	int kind = r->h.kind;
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "kind",
				kind > 0 && (size_t)kind < NKINDS ? kind_names[kind] : "unknown");
	cJSON_AddStringToObject(o, "type", ev->name ? ev->name : "");
	add_u64(o, "nr", r->h.nr);
	add_ts(o, "ts", ev->ts);
	char t[40];
	vg_rfc3339(ev->ts, t);
	cJSON_AddStringToObject(o, "time", t);
	add_u64(o, "tid", r->h.tid);
	add_u64(o, "pid", r->h.pid);
	add_u64(o, "ppid", r->h.ppid);
	add_u64(o, "uid", r->h.uid);
	add_u64(o, "gid", r->h.gid);
	add_u64(o, "loginuid", r->h.loginuid);
	char comm[VG_COMM_LEN + 1];
	memcpy(comm, r->h.comm, VG_COMM_LEN);
	comm[VG_COMM_LEN] = 0;
	cJSON_AddStringToObject(o, "comm", comm);
	add_u64(o, "cgroup_id", r->h.cgroup_id);
	add_u64(o, "ret", (uint64_t)r->h.ret);
	if (r->h.flags)
		add_u64(o, "flags", r->h.flags);

	if (kind == VG_K_SYSCALL) {
		cJSON *a = cJSON_AddArrayToObject(o, "args");
		for (int i = 0; i < 6; i++)
			cJSON_AddItemToArray(a, num64(r->arg[i]));
	} else if (is_exec_layout(kind)) {
		const struct vg_exec_info *x = &r->exec;
		cJSON *e = cJSON_AddObjectToObject(o, "exec");
		add_u64(e, "cap_eff", x->cap_eff);
		add_u64(e, "cap_perm", x->cap_perm);
		add_u64(e, "cap_inh", x->cap_inh);
		add_u64(e, "start_ns", x->start_ns);
		add_u64(e, "exe_ino", x->exe_ino);
		add_u64(e, "exe_ctime_ns", x->exe_ctime_ns);
		add_u64(e, "exe_mtime_ns", x->exe_mtime_ns);
		add_u64(e, "ruid", x->ruid);
		add_u64(e, "rgid", x->rgid);
		add_u64(e, "tty", x->tty);
		add_u64(e, "sid", x->sid);
		add_u64(e, "pgid", x->pgid);
		add_u64(e, "vpid", x->vpid);
		add_u64(e, "vpgid", x->vpgid);
		add_u64(e, "exe_flags", x->exe_flags);
		add_u64(e, "pidns_ino", x->pidns_ino);
	} else if (kind == VG_K_FORK) {
		cJSON *f = cJSON_AddObjectToObject(o, "fork");
		add_u64(f, "child_pid", r->fork.child_pid);
		add_u64(f, "child_tid", r->fork.child_tid);
		add_u64(f, "child_vpid", r->fork.child_vpid);
		add_u64(f, "start_ns", r->fork.start_ns);
	}
	const char *const *slots = is_exec_layout(kind) ? exec_slots : sys_slots;
	for (int i = 0; i < VG_NSTR; i++) {
		if (!ev->str[i])
			continue;
		if (is_list_slot(kind, i))
			cJSON_AddItemToObject(o, slots[i], str_list(ev->str[i], r->len[i]));
		else
			cJSON_AddStringToObject(o, slots[i], ev->str[i]);
	}
	if (r->h.flags & VG_F_SOCK)
		cJSON_AddItemToObject(o, "sock", render_sock(&r->sock));
	if (r->h.flags & (VG_F_FDPAIR | VG_F_OPENHOW)) {
		cJSON *a = cJSON_AddArrayToObject(o, "aux");
		cJSON_AddItemToArray(a, num64((uint64_t)r->aux[0]));
		cJSON_AddItemToArray(a, num64((uint64_t)r->aux[1]));
	}
	if (with_decoded)
		cJSON_AddItemToObject(o, "decoded", render_decoded(ev));
	char *s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (!s)
		abort();       /* cJSON only fails on out-of-memory */
	return vg_utf8_fix(s); /* valid UTF-8 whatever the names hold (utf8.h) */
}

/* ---- parsing ----------------------------------------------------------- */

struct parse {
	struct vg_rec *r;
	size_t cap, used; /* bytes of r->data in use */
	char *err;
	size_t errlen;
};

static int perr(struct parse *p, const char *key, const char *what)
{
	snprintf(p->err, p->errlen, "key '%s': %s", key, what);
	return -1;
}

/* A JSON number, or a numeric string (decimal, 0x hex, negative). */
static int num_value(const cJSON *v, __u64 *out)
{
	if (cJSON_IsNumber(v)) {
		*out = v->valuedouble < 0 ? (__u64)(int64_t)v->valuedouble : (__u64)v->valuedouble;
		return 0;
	}
	if (cJSON_IsString(v) && *v->valuestring) {
		char *end;
		*out = strtoull(v->valuestring, &end, 0);
		if (!*end)
			return 0;
	}
	return -1;
}

/* A number (or absent: keeps *out). */
static int get_u64(struct parse *p, const cJSON *o, const char *key, __u64 *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	if (!v || !num_value(v, out))
		return 0;
	return perr(p, key, "expected a number");
}

static int get_u32(struct parse *p, const cJSON *o, const char *key, uint32_t *out)
{
	__u64 v = *out;
	if (get_u64(p, o, key, &v))
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static int add_str(struct parse *p, int slot, const char *s, size_t n)
{
	if (n + 1 > VG_STR_MAX || p->used + n + 1 > p->cap)
		return perr(p, "strings", "too long");
	memcpy(p->r->data + p->used, s, n);
	p->r->data[p->used + n] = 0;
	p->used += n + 1;
	p->r->len[slot] = (uint16_t)(n + 1);
	return 0;
}

static int get_slot(struct parse *p, const cJSON *o, const char *key, int slot, int list)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	if (!v)
		return 0;
	if (cJSON_IsString(v)) {
		if (!list)
			return add_str(p, slot, v->valuestring, strlen(v->valuestring));
		/* a list given as one string: split on spaces */
		char buf[VG_STR_MAX];
		size_t n = 0;
		for (const char *c = v->valuestring; *c && n + 1 < sizeof(buf); c++)
			buf[n++] = *c == ' ' ? '\0' : *c;
		return add_str(p, slot, buf, n);
	}
	if (!list || !cJSON_IsArray(v))
		return perr(p, key, list ? "expected a list of strings" : "expected a string");
	char buf[VG_STR_MAX];
	size_t n = 0;
	const cJSON *e;
	cJSON_ArrayForEach(e, v)
	{
		if (!cJSON_IsString(e))
			return perr(p, key, "expected a list of strings");
		size_t l = strlen(e->valuestring);
		if (n + l + 1 >= sizeof(buf))
			return perr(p, key, "too long");
		memcpy(buf + n, e->valuestring, l + 1);
		n += l + 1;
	}
	if (n == 0)
		return 0;
	/* the record stores the list NUL-separated with a final NUL: len
	 * counts that final NUL once */
	return add_str(p, slot, buf, n - 1);
}

static int parse_family(struct parse *p, const cJSON *v, uint16_t *out)
{
	if (cJSON_IsNumber(v)) {
		*out = (uint16_t)v->valueint;
		return 0;
	}
	if (cJSON_IsString(v)) {
		const char *s = v->valuestring;
		if (!strcasecmp(s, "inet") || !strcasecmp(s, "AF_INET") || !strcmp(s, "ipv4"))
			return *out = AF_INET, 0;
		if (!strcasecmp(s, "inet6") || !strcasecmp(s, "AF_INET6") || !strcmp(s, "ipv6"))
			return *out = AF_INET6, 0;
		if (!strcasecmp(s, "unix") || !strcasecmp(s, "AF_UNIX"))
			return *out = AF_UNIX, 0;
		if (!strcasecmp(s, "packet") || !strcasecmp(s, "AF_PACKET"))
			return *out = AF_PACKET, 0;
	}
	return perr(p, "sock.family", "expected a number or inet/inet6/unix/packet");
}

static int parse_ip(struct parse *p, const cJSON *o, const char *key, uint16_t *family,
		    uint8_t out[16])
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	if (!v)
		return 0;
	if (!cJSON_IsString(v))
		return perr(p, key, "expected an IP address string");
	if (inet_pton(AF_INET, v->valuestring, out) == 1) {
		if (!*family)
			*family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, v->valuestring, out) == 1) {
		if (!*family)
			*family = AF_INET6;
		return 0;
	}
	return perr(p, key, "not an IP address");
}

static int parse_sock(struct parse *p, const cJSON *s)
{
	struct vg_sock *k = &p->r->sock;
	if (!cJSON_IsObject(s))
		return perr(p, "sock", "expected an object");
	const cJSON *fam = cJSON_GetObjectItemCaseSensitive(s, "family");
	if (fam && parse_family(p, fam, &k->family))
		return -1;
	__u64 v;
	v = k->type;
	if (get_u64(p, s, "type", &v))
		return -1;
	k->type = (uint16_t)v;
	v = k->proto;
	if (get_u64(p, s, "proto", &v))
		return -1;
	k->proto = (uint16_t)v;
	v = 0;
	if (get_u64(p, s, "lport", &v))
		return -1;
	k->lport = (uint16_t)v;
	v = 0;
	if (get_u64(p, s, "rport", &v))
		return -1;
	k->rport = (uint16_t)v;
	if (parse_ip(p, s, "laddr", &k->family, k->laddr) ||
	    parse_ip(p, s, "raddr", &k->family, k->raddr))
		return -1;
	if (!k->type)
		k->type = k->proto == 17 ? 2 /* SOCK_DGRAM */ : 1 /* SOCK_STREAM */;
	if (!k->proto && (k->family == AF_INET || k->family == AF_INET6))
		k->proto = k->type == 2 ? 17 : 6;
	p->r->h.flags |= VG_F_SOCK;
	return 0;
}

static int parse_kind(struct parse *p, const cJSON *o)
{
	const cJSON *k = cJSON_GetObjectItemCaseSensitive(o, "kind");
	if (!k) {
		p->r->h.kind = VG_K_SYSCALL;
		return 0;
	}
	if (!cJSON_IsString(k))
		return perr(p, "kind", "expected a string");
	for (size_t i = 1; i < NKINDS; i++)
		if (kind_names[i] && !strcmp(k->valuestring, kind_names[i])) {
			p->r->h.kind = (uint16_t)i;
			return 0;
		}
	return perr(p, "kind", "expected syscall, exec, fork, exit or proc");
}

static int parse_type(struct parse *p, const cJSON *o)
{
	struct vg_hdr *h = &p->r->h;
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "type");
	__u64 nr = 0;
	int have_nr = cJSON_GetObjectItemCaseSensitive(o, "nr") != NULL;
	if (get_u64(p, o, "nr", &nr))
		return -1;
	if (t && !cJSON_IsString(t))
		return perr(p, "type", "expected a string");
	if (t && *t->valuestring) {
		int ty = vg_evtype_by_name(t->valuestring);
		if (ty >= 0 && ty < VG_NR_MAX) {
			if (!have_nr)
				nr = (uint64_t)ty;
		} else if (h->kind == VG_K_SYSCALL) {
			return perr(p, "type", "unknown syscall");
		}
	}
	if (h->kind == VG_K_SYSCALL) {
		if (nr >= VG_NR_MAX || !vg_syscall_desc((int)nr))
			return perr(p, have_nr ? "nr" : "type",
				    "a syscall vigil knows is required");
	} else if (h->kind == VG_K_EXEC && !have_nr && !(t && *t->valuestring)) {
		nr = 59; /* execve */
	}
	h->nr = (uint16_t)nr;
	return 0;
}

static int parse_obj(struct parse *p, const cJSON *o)
{
	struct vg_rec *r = p->r;
	struct vg_hdr *h = &r->h;
	if (!cJSON_IsObject(o))
		return perr(p, "(event)", "expected a JSON object");
	if (parse_kind(p, o) || parse_type(p, o))
		return -1;
	if (!cJSON_GetObjectItemCaseSensitive(o, "pid"))
		return perr(p, "pid", "required");
	__u64 v;
	h->loginuid = (uint32_t)-1;
	if (get_u64(p, o, "ts", &h->ts) || get_u32(p, o, "pid", &h->pid))
		return -1;
	h->tid = h->pid;
	if (get_u32(p, o, "tid", &h->tid) || get_u32(p, o, "ppid", &h->ppid) ||
	    get_u32(p, o, "uid", &h->uid) || get_u32(p, o, "gid", &h->gid) ||
	    get_u32(p, o, "loginuid", &h->loginuid) || get_u64(p, o, "cgroup_id", &h->cgroup_id))
		return -1;
	v = 0;
	if (get_u64(p, o, "ret", &v))
		return -1;
	h->ret = (int64_t)v;
	v = 0;
	if (get_u64(p, o, "flags", &v))
		return -1;
	h->flags = (uint16_t)v & (VG_F_TRUNC | VG_F_FDPAIR | VG_F_OPENHOW | VG_F_URING | VG_F_LSM |
				  VG_F_NOFD | VG_F_PATHCUT);
	const cJSON *comm = cJSON_GetObjectItemCaseSensitive(o, "comm");
	if (comm && !cJSON_IsString(comm))
		return perr(p, "comm", "expected a string");
	if (comm)
		strncpy(h->comm, comm->valuestring, VG_COMM_LEN - 1);

	int kind = h->kind;
	if (kind == VG_K_SYSCALL) {
		const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, "args");
		if (a) {
			if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) > 6)
				return perr(p, "args", "expected a list of at most 6 numbers");
			int i = 0;
			const cJSON *e;
			cJSON_ArrayForEach(e, a)
			{
				if (num_value(e, &r->arg[i++]))
					return perr(p, "args", "expected numbers");
			}
		}
	} else if (is_exec_layout(kind)) {
		const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, "exec");
		struct vg_exec_info *e = &r->exec;
		if (x) {
			if (!cJSON_IsObject(x))
				return perr(p, "exec", "expected an object");
			if (get_u64(p, x, "cap_eff", &e->cap_eff) ||
			    get_u64(p, x, "cap_perm", &e->cap_perm) ||
			    get_u64(p, x, "cap_inh", &e->cap_inh) ||
			    get_u64(p, x, "start_ns", &e->start_ns) ||
			    get_u64(p, x, "exe_ino", &e->exe_ino) ||
			    get_u64(p, x, "exe_ctime_ns", &e->exe_ctime_ns) ||
			    get_u64(p, x, "exe_mtime_ns", &e->exe_mtime_ns) ||
			    get_u32(p, x, "ruid", &e->ruid) || get_u32(p, x, "rgid", &e->rgid) ||
			    get_u32(p, x, "tty", &e->tty) || get_u32(p, x, "sid", &e->sid) ||
			    get_u32(p, x, "pgid", &e->pgid) || get_u32(p, x, "vpid", &e->vpid) ||
			    get_u32(p, x, "vpgid", &e->vpgid) ||
			    get_u32(p, x, "exe_flags", &e->exe_flags) ||
			    get_u32(p, x, "pidns_ino", &e->pidns_ino))
				return -1;
		}
		/* shorthands for hand-written fixtures */
		if (get_u32(p, o, "tty", &e->tty))
			return -1;
		const cJSON *b;
		if ((b = cJSON_GetObjectItemCaseSensitive(o, "exe_upper")) && cJSON_IsTrue(b))
			e->exe_flags |= VG_EXE_UPPER;
		if ((b = cJSON_GetObjectItemCaseSensitive(o, "exe_memfd")) && cJSON_IsTrue(b))
			e->exe_flags |= VG_EXE_MEMFD;
		if (!x || !cJSON_GetObjectItemCaseSensitive(x, "ruid"))
			e->ruid = h->uid;
		if (!x || !cJSON_GetObjectItemCaseSensitive(x, "rgid"))
			e->rgid = h->gid;
	} else if (kind == VG_K_FORK) {
		const cJSON *f = cJSON_GetObjectItemCaseSensitive(o, "fork");
		if (!f || !cJSON_IsObject(f))
			return perr(p, "fork", "required object with child_pid");
		if (get_u32(p, f, "child_pid", &r->fork.child_pid))
			return -1;
		r->fork.child_tid = r->fork.child_pid;
		if (get_u32(p, f, "child_tid", &r->fork.child_tid) ||
		    get_u32(p, f, "child_vpid", &r->fork.child_vpid) ||
		    get_u64(p, f, "start_ns", &r->fork.start_ns))
			return -1;
	}
	const char *const *slots = is_exec_layout(kind) ? exec_slots : sys_slots;
	for (int i = 0; i < VG_NSTR; i++)
		if (get_slot(p, o, slots[i], i, is_list_slot(kind, i)))
			return -1;
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(o, "sock");
	if (s && parse_sock(p, s))
		return -1;
	const cJSON *aux = cJSON_GetObjectItemCaseSensitive(o, "aux");
	if (aux) {
		if (!cJSON_IsArray(aux) || cJSON_GetArraySize(aux) != 2)
			return perr(p, "aux", "expected two numbers");
		__u64 a0, a1;
		if (num_value(cJSON_GetArrayItem(aux, 0), &a0) ||
		    num_value(cJSON_GetArrayItem(aux, 1), &a1))
			return perr(p, "aux", "expected two numbers");
		r->aux[0] = (int64_t)a0;
		r->aux[1] = (int64_t)a1;
		if (!(h->flags & (VG_F_FDPAIR | VG_F_OPENHOW)))
			h->flags |= VG_F_FDPAIR;
	}
	h->size = (uint16_t)(sizeof(*r) + p->used);
	return 0;
}

int vg_evjson_parse(const char *text, void *buf, size_t cap, char *err, size_t errlen)
{
	if (cap < VG_REC_MAX) {
		snprintf(err, errlen, "buffer too small");
		return -1;
	}
	memset(buf, 0, sizeof(struct vg_rec));
	struct parse p = {buf, cap - sizeof(struct vg_rec), 0, err, errlen};
	const char *end = NULL;
	cJSON *o = cJSON_ParseWithOpts(text, &end, 0);
	if (!o) {
		snprintf(err, errlen, "invalid JSON near offset %ld",
			 (long)((end ? end : cJSON_GetErrorPtr()) - text));
		return -1;
	}
	int rc = parse_obj(&p, o);
	cJSON_Delete(o);
	return rc ? -1 : (int)p.r->h.size;
}
