/* fields.c - the filter fields rules and outputs read; see fields.h.
 *
 * Semantics follow Falco's fields of the same name.  Where vigil does not
 * know a value (no DNS names, container metadata before the Kubernetes
 * module fills it, a process seen without its exec) the field is unset
 * and every comparison on it is false.
 *
 * This file holds the value helpers of fields.h and the registry; the
 * fields themselves are in one file per family (fields_evt.c,
 * fields_proc.c, fields_user.c, fields_fd.c, fields_container.c,
 * fields_fs.c, fields_audit.c), each with its table, over fields_int.h.
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "fields_int.h"

/* ------------------------------------------------------------------ */
/* value helpers                                                       */

void vg_fvals_str(struct vg_fvals *out, const char *p, size_t len)
{
	if (out->n >= VG_FVALS_MAX)
		return;
	struct vg_fval *v = &out->v[out->n++];
	v->s.p = p;
	v->s.len = (uint32_t)len;
}

void vg_fvals_strcpy(struct vg_fvals *out, const char *p, size_t len)
{
	if (out->n >= VG_FVALS_MAX || out->used >= VG_FVALS_BUF)
		return;
	size_t room = VG_FVALS_BUF - out->used;
	if (len >= room)
		len = room - 1;
	char *d = out->buf + out->used;
	memcpy(d, p, len);
	d[len] = '\0';
	out->used += len + 1;
	vg_fvals_str(out, d, len);
}

void vg_fvals_u64(struct vg_fvals *out, uint64_t u)
{
	if (out->n < VG_FVALS_MAX)
		out->v[out->n++].u = u;
}

void vg_fvals_s64(struct vg_fvals *out, int64_t i)
{
	if (out->n < VG_FVALS_MAX)
		out->v[out->n++].i = i;
}

const char *vg_ftype_name(int type)
{
	switch (type) {
	case VG_FT_STR:
		return "string";
	case VG_FT_U64:
		return "uint64";
	case VG_FT_S64:
		return "int64";
	case VG_FT_BOOL:
		return "bool";
	case VG_FT_IP:
		return "ipaddr";
	case VG_FT_NET:
		return "ipnet";
	case VG_FT_ABSTIME:
		return "abstime";
	case VG_FT_RELTIME:
		return "reltime";
	}
	return "unknown";
}

size_t vg_fval_format(const struct vg_fvals *vals, uint32_t i, char *out, size_t cap)
{
	if (cap == 0)
		return 0;
	out[0] = '\0';
	if (i >= vals->n)
		return 0;
	const struct vg_fval *v = &vals->v[i];
	int n = 0;
	switch (vals->type) {
	case VG_FT_STR: {
		size_t l = v->s.len < cap - 1 ? v->s.len : cap - 1;
		memcpy(out, v->s.p, l);
		out[l] = '\0';
		return l;
	}
	case VG_FT_U64:
	case VG_FT_ABSTIME:
	case VG_FT_RELTIME:
		n = snprintf(out, cap, "%" PRIu64, v->u);
		break;
	case VG_FT_S64:
		n = snprintf(out, cap, "%" PRId64, v->i);
		break;
	case VG_FT_BOOL:
		n = snprintf(out, cap, "%s", v->u ? "true" : "false");
		break;
	case VG_FT_IP:
	case VG_FT_NET: {
		char ip[INET6_ADDRSTRLEN];
		int af = v->ip.family == 4 ? AF_INET : AF_INET6;
		if (!inet_ntop(af, v->ip.b, ip, sizeof(ip)))
			ip[0] = '\0';
		unsigned full = v->ip.family == 4 ? 32 : 128;
		if (vals->type == VG_FT_NET && v->ip.prefix < full)
			n = snprintf(out, cap, "%s/%u", ip, v->ip.prefix);
		else
			n = snprintf(out, cap, "%s", ip);
		break;
	}
	default:
		return 0;
	}
	if (n < 0)
		return 0;
	return (size_t)n < cap ? (size_t)n : cap - 1;
}

/* ------------------------------------------------------------------ */
/* the registry                                                        */

/* The families in the order `vigil fields` lists them; a field's index
 * (vg_field_at) runs through them in this order. */
static const struct {
	const struct vg_field *f;
	const size_t *n;
} families[] = {
	{vg_fields_evt, &vg_fields_evt_count},
	{vg_fields_proc, &vg_fields_proc_count},
	{vg_fields_user, &vg_fields_user_count},
	{vg_fields_fd, &vg_fields_fd_count},
	{vg_fields_container, &vg_fields_container_count},
	{vg_fields_fs, &vg_fields_fs_count},
	{vg_fields_audit, &vg_fields_audit_count},
};

#define NFAMILIES (sizeof(families) / sizeof(families[0]))

size_t vg_field_count(void)
{
	size_t n = 0;
	for (size_t i = 0; i < NFAMILIES; i++)
		n += *families[i].n;
	return n;
}

const struct vg_field *vg_field_at(size_t i)
{
	for (size_t k = 0; k < NFAMILIES; k++) {
		if (i < *families[k].n)
			return &families[k].f[i];
		i -= *families[k].n;
	}
	return NULL;
}

static const struct vg_field *exact(const char *name, size_t len)
{
	for (size_t k = 0; k < NFAMILIES; k++) {
		const struct vg_field *fields = families[k].f;
		for (size_t i = 0; i < *families[k].n; i++)
			if (strncmp(fields[i].name, name, len) == 0 && fields[i].name[len] == '\0')
				return &fields[i];
	}
	return NULL;
}
/* The evt.* fields that read only the event's time, number and node: an
 * audit event has them too. */
static const char *const evt_any_source[] = {
	"evt.num",	  "evt.time",	    "evt.time.s",  "evt.time.iso8601",
	"evt.datetime",	  "evt.datetime.s", "evt.rawtime", "evt.rawtime.s",
	"evt.rawtime.ns", "evt.hostname",   "evt.source",
};

unsigned vg_field_sources(const struct vg_field *f)
{
	if (f >= vg_fields_audit && f < vg_fields_audit + vg_fields_audit_count)
		return VG_FSRC_K8S_AUDIT;
	if (f >= vg_fields_evt && f < vg_fields_evt + vg_fields_evt_count)
		for (size_t i = 0; i < sizeof(evt_any_source) / sizeof(evt_any_source[0]); i++)
			if (!strcmp(f->name, evt_any_source[i]))
				return VG_FSRC_SYSCALL | VG_FSRC_K8S_AUDIT;
	return VG_FSRC_SYSCALL;
}

unsigned vg_fsrc_by_name(const char *source)
{
	if (!source)
		return 0;
	if (!strcmp(source, "syscall"))
		return VG_FSRC_SYSCALL;
	if (!strcmp(source, "k8s_audit"))
		return VG_FSRC_K8S_AUDIT;
	return 0;
}

/* Fields whose key may also follow a dot: evt.arg.flags, k8s.pod.label.app. */
static const char *const dotted[] = {"evt.arg", "k8s.pod.label", "k8s.ns.label"};

const struct vg_field *vg_field_find(const char *name, size_t len, struct vg_farg *arg,
				     size_t *keylen)
{
	if (arg) {
		arg->kind = 0;
		arg->index = 0;
		arg->key = NULL;
	}
	if (keylen)
		*keylen = 0;
	const struct vg_field *f = exact(name, len);
	if (f)
		return f;
	for (size_t i = 0; i < sizeof(dotted) / sizeof(dotted[0]); i++) {
		size_t pl = strlen(dotted[i]);
		if (len > pl + 1 && strncmp(name, dotted[i], pl) == 0 && name[pl] == '.') {
			if (arg) {
				arg->kind = 2;
				arg->key = name + pl + 1;
			}
			if (keylen)
				*keylen = len - pl - 1;
			return exact(dotted[i], pl);
		}
	}
	return NULL;
}
