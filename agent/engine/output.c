/* output.c - see output.h. */
#include "output.h"
#include "engine.h"
#include "rules.h"
#include "utf8.h"
#include "util.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct piece {
	char *lit; /* literal text, or NULL for a field */
	size_t litlen;
	const struct vg_field *f;
	struct vg_farg arg;
	char *key;   /* owned [key] */
	char *label; /* the field as written, for output_fields */
};

struct vg_output {
	struct piece *p;
	size_t n;
};

static int field_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '.';
}

static void add_piece(struct vg_output *o, struct piece pc)
{
	o->p = vg_xrealloc(o->p, (o->n + 1) * sizeof(*o->p));
	o->p[o->n++] = pc;
}

/* The text between two fields (none when empty). */
static void add_literal(struct vg_output *o, const char *lit, const char *end)
{
	if (end > lit)
		add_piece(o, (struct piece){vg_xstrndup(lit, (size_t)(end - lit)),
					    (size_t)(end - lit),
					    NULL,
					    {0},
					    NULL,
					    NULL});
}

struct vg_output *vg_output_compile(const char *fmt, const struct vg_pos *where,
				    struct vg_cond_err *err)
{
	return vg_output_compile_in(fmt, where, false, err);
}

struct vg_output *vg_output_compile_in(const char *fmt, const struct vg_pos *where, bool confined,
				       struct vg_cond_err *err)
{
	struct vg_output *o = vg_xcalloc(1, sizeof(*o));
	struct vg_pos pos = where ? *where : (struct vg_pos){NULL, 1, 1};
	const char *lit = fmt;
	const char *c = fmt;
	while (*c) {
		if (*c != '%' || !field_char(c[1])) {
			if (*c == '\n')
				pos.line++, pos.col = 1;
			else
				pos.col++;
			c++;
			continue;
		}
		add_literal(o, lit, c);
		const char *name = c + 1;
		size_t n = 0;
		while (field_char(name[n]))
			n++;
		while (n && name[n - 1] == '.')
			n--; /* "%proc.name." ends a sentence */
		size_t total = n;
		struct piece pc = {0};
		size_t keylen = 0;
		pc.f = (confined ? vg_field_find_confined : vg_field_find)(name, n, &pc.arg,
									   &keylen);
		if (!pc.f) {
			err->pos = pos;
			err->kind = VG_CERR_UNKNOWN_FIELD;
			snprintf(err->msg, sizeof(err->msg), "unknown field '%%%.*s' in output",
				 (int)n, name);
			vg_output_free(o);
			return NULL;
		}
		if (pc.arg.kind == 2)
			pc.key = vg_xstrndup(pc.arg.key, keylen);
		if (name[n] == '[' && (pc.f->flags & (VG_FF_ARG_INDEX | VG_FF_ARG_KEY))) {
			const char *close = strchr(name + n, ']');
			if (close) {
				const char *a = name + n + 1;
				size_t alen = (size_t)(close - a);
				char *end;
				long long idx = strtoll(a, &end, 10);
				free(pc.key);
				pc.key = NULL;
				if ((pc.f->flags & VG_FF_ARG_INDEX) && alen && end == close) {
					pc.arg.kind = 1;
					pc.arg.index = idx;
				} else {
					pc.key = vg_xstrndup(a, alen);
					pc.arg.kind = 2;
				}
				total = (size_t)(close + 1 - name);
			}
		}
		pc.arg.key = pc.key;
		pc.label = vg_xstrndup(name, total);
		add_piece(o, pc);
		pos.col += (int)total + 1;
		c = name + total;
		lit = c;
	}
	add_literal(o, lit, c);
	return o;
}

const char *vg_output_foreign(const struct vg_output *o, unsigned mask)
{
	for (size_t i = 0; i < o->n; i++)
		if (o->p[i].f && !(vg_field_sources(o->p[i].f) & mask))
			return o->p[i].label;
	return NULL;
}

void vg_output_fields(const struct vg_output *o,
		      void (*fn)(void *ctx, const struct vg_field *f, const struct vg_farg *arg),
		      void *ctx)
{
	for (size_t i = 0; i < o->n; i++)
		if (o->p[i].f)
			fn(ctx, o->p[i].f, &o->p[i].arg);
}

void vg_output_free(struct vg_output *o)
{
	if (!o)
		return;
	for (size_t i = 0; i < o->n; i++) {
		free(o->p[i].lit);
		free(o->p[i].key);
		free(o->p[i].label);
	}
	free(o->p);
	free(o);
}

static size_t put(char *buf, size_t cap, size_t len, const char *s, size_t n)
{
	if (len + 1 >= cap)
		return len;
	if (n > cap - 1 - len)
		n = cap - 1 - len;
	memcpy(buf + len, s, n);
	len += n;
	buf[len] = 0;
	return len;
}

/* the values of one field as text: "<NA>", "v", or "(a,b)" */
static size_t render_vals(const struct vg_fvals *v, char *buf, size_t cap, size_t len)
{
	char tmp[4096];
	if (v->n == 0)
		return put(buf, cap, len, "<NA>", 4);
	if (v->n > 1)
		len = put(buf, cap, len, "(", 1);
	for (uint32_t i = 0; i < v->n; i++) {
		if (i)
			len = put(buf, cap, len, ",", 1);
		size_t n = vg_fval_format(v, i, tmp, sizeof(tmp));
		len = put(buf, cap, len, tmp, n);
	}
	if (v->n > 1)
		len = put(buf, cap, len, ")", 1);
	return len;
}

size_t vg_output_render(const struct vg_output *o, const struct vg_event *ev,
			struct vg_fvals *scratch, char *buf, size_t cap)
{
	size_t len = 0;
	if (cap)
		buf[0] = 0;
	for (size_t i = 0; i < o->n; i++) {
		const struct piece *pc = &o->p[i];
		if (pc->lit) {
			len = put(buf, cap, len, pc->lit, pc->litlen);
			continue;
		}
		vg_field_extract(pc->f, ev, &pc->arg, scratch);
		len = render_vals(scratch, buf, cap, len);
	}
	return len;
}

static void time_prefix(uint64_t ns, char *out, size_t cap)
{
	time_t sec = (time_t)(ns / 1000000000ull);
	struct tm tm;
	gmtime_r(&sec, &tm);
	snprintf(out, cap, "%02d:%02d:%02d.%09llu", tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (unsigned long long)(ns % 1000000000ull));
}

size_t vg_alert_text(const struct vg_rule *r, const struct vg_event *ev, struct vg_alert_ctx *ctx,
		     char *buf, size_t cap)
{
	char t[40];
	time_prefix(ev->ts, t, sizeof(t));
	int n = snprintf(buf, cap, "%s: %s ", t, vg_priority_name(r->priority));
	if (n < 0 || (size_t)n >= cap)
		return cap ? cap - 1 : 0;
	if (buf == ctx->buf)
		ctx->msg_off = (size_t)n;
	size_t len = vg_output_render(r->out, ev, &ctx->scratch, ctx->raw, sizeof(ctx->raw));
	return (size_t)n + vg_utf8_text_escape(ctx->raw, len, buf + n, cap - (size_t)n);
}

static cJSON *json_value(const struct vg_fvals *v)
{
	if (v->n == 0)
		return cJSON_CreateNull();
	char tmp[4096];
	if (v->n == 1) {
		switch (v->type) {
		case VG_FT_U64:
		case VG_FT_ABSTIME:
		case VG_FT_RELTIME:
			return cJSON_CreateNumber((double)v->v[0].u);
		case VG_FT_S64:
			return cJSON_CreateNumber((double)v->v[0].i);
		case VG_FT_BOOL:
			return cJSON_CreateBool(v->v[0].u != 0);
		default:
			vg_fval_format(v, 0, tmp, sizeof(tmp));
			return cJSON_CreateString(tmp);
		}
	}
	char buf[8192];
	render_vals(v, buf, sizeof(buf), 0);
	return cJSON_CreateString(buf);
}

static const char *k8s_value(const char *field, const struct vg_event *ev, struct vg_fvals *s,
			     char *out, size_t cap)
{
	struct vg_farg arg = {0};
	size_t keylen;
	const struct vg_field *f = vg_field_find(field, strlen(field), &arg, &keylen);
	if (!f)
		return NULL;
	vg_field_extract(f, ev, &arg, s);
	if (s->n == 0)
		return NULL;
	vg_fval_format(s, 0, out, cap);
	return out;
}

char *vg_alert_envelope(const struct vg_alert_head *h, cJSON *fields)
{
	cJSON *o = cJSON_CreateObject();
	char t[40];
	vg_rfc3339(h->ts, t);
	cJSON_AddStringToObject(o, "time", t);
	cJSON_AddStringToObject(o, "rule", h->rule);
	cJSON_AddStringToObject(o, "priority", vg_priority_name(h->priority));
	cJSON_AddStringToObject(o, "source", h->source ? h->source : "syscall");
	cJSON_AddStringToObject(o, "hostname", h->hostname ? h->hostname : "");
	cJSON_AddStringToObject(o, "output", h->output ? h->output : "");
	cJSON_AddItemToObject(o, "output_fields", fields ? fields : cJSON_CreateObject());
	cJSON *tags = cJSON_AddArrayToObject(o, "tags");
	for (size_t i = 0; i < h->ntags; i++)
		cJSON_AddItemToArray(tags, cJSON_CreateString(h->tags[i]));
	if (h->k8s_ns && h->k8s_pod) {
		cJSON *k = cJSON_AddObjectToObject(o, "k8s");
		cJSON_AddStringToObject(k, "namespace", h->k8s_ns);
		cJSON_AddStringToObject(k, "pod", h->k8s_pod);
		if (h->k8s_uid)
			cJSON_AddStringToObject(k, "uid", h->k8s_uid);
	}
	if (h->origin) {
		cJSON *ro = cJSON_AddObjectToObject(o, "rule_object");
		cJSON_AddStringToObject(ro, "kind", h->origin->kind);
		if (h->origin->ns)
			cJSON_AddStringToObject(ro, "namespace", h->origin->ns);
		cJSON_AddStringToObject(ro, "name", h->origin->name);
		cJSON_AddNumberToObject(ro, "generation", (double)h->origin->generation);
	}
	char *s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (!s)
		abort();       /* cJSON fails only on out-of-memory */
	return vg_utf8_fix(s); /* cJSON passes bytes >= 0x80 through as they are */
}

char *vg_alert_json(const struct vg_rule *r, const struct vg_event *ev, struct vg_alert_ctx *ctx)
{
	vg_alert_text(r, ev, ctx, ctx->buf, sizeof(ctx->buf));
	cJSON *fields = cJSON_CreateObject();
	const struct vg_output *out = r->out;
	for (size_t i = 0; i < out->n; i++) {
		const struct piece *pc = &out->p[i];
		if (pc->lit || cJSON_GetObjectItemCaseSensitive(fields, pc->label))
			continue;
		vg_field_extract(pc->f, ev, &pc->arg, &ctx->scratch);
		cJSON_AddItemToObject(fields, pc->label, json_value(&ctx->scratch));
	}
	/* an audit event is about the cluster, not a process in a pod */
	ctx->has_k8s = ev->type != VG_T_AUDIT &&
		       k8s_value("k8s.ns.name", ev, &ctx->scratch, ctx->ns, sizeof(ctx->ns)) &&
		       k8s_value("k8s.pod.name", ev, &ctx->scratch, ctx->pod, sizeof(ctx->pod));
	bool has_uid = ctx->has_k8s &&
		       k8s_value("k8s.pod.uid", ev, &ctx->scratch, ctx->uid, sizeof(ctx->uid));
	if (!has_uid)
		ctx->uid[0] = 0;
	if (!ctx->has_k8s)
		ctx->ns[0] = ctx->pod[0] = 0;
	struct vg_alert_head h = {
		.ts = ev->ts,
		.rule = r->name,
		.priority = r->priority,
		.source = r->source,
		.hostname = ctx->hostname,
		.output = ctx->buf,
		.tags = r->tags,
		.ntags = r->ntags,
		.k8s_ns = ctx->has_k8s ? ctx->ns : NULL,
		.k8s_pod = ctx->has_k8s ? ctx->pod : NULL,
		.k8s_uid = has_uid ? ctx->uid : NULL,
		.origin = r->origin,
	};
	return vg_alert_envelope(&h, fields);
}
