/* convert.c - see convert.h.  Written with libyaml's emitter, which picks
 * a safe scalar style for every string. */
#include "convert.h"
#include "engine.h"
#include "util.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

void vg_convert_dns_name(const char *name, char out[64])
{
	size_t n = 0;
	bool dash = false;
	for (const unsigned char *p = (const unsigned char *)name; *p && n < 63; p++) {
		if (isalnum(*p)) {
			if (dash && n)
				out[n++] = '-';
			dash = false;
			if (n < 63)
				out[n++] = (char)tolower(*p);
		} else {
			dash = true;
		}
	}
	while (n && out[n - 1] == '-')
		n--;
	if (!n) {
		memcpy(out, "rule", 5);
		return;
	}
	out[n] = 0;
}

struct em {
	yaml_emitter_t e;
	bool ok;
};

static void ev(struct em *m, yaml_event_t *e)
{
	if (m->ok && !yaml_emitter_emit(&m->e, e))
		m->ok = false;
}

static void scalar(struct em *m, const char *s)
{
	yaml_event_t e;
	bool multi = strchr(s, '\n') != NULL;
	yaml_scalar_event_initialize(&e, NULL, NULL, (yaml_char_t *)s, (int)strlen(s), 1, 1,
				     multi ? YAML_LITERAL_SCALAR_STYLE : YAML_ANY_SCALAR_STYLE);
	ev(m, &e);
}

/* Read back as something else than a string by YAML 1.1 (kubectl) or 1.2. */
static bool ambiguous(const char *s)
{
	static const char *const words[] = {"y",    "n",     "yes",  "no", "on", "off",
					    "true", "false", "null", "~",  "",	 NULL};
	for (int i = 0; words[i]; i++)
		if (!strcasecmp(s, words[i]))
			return true;
	char *end;
	strtod(s, &end);
	return *end == 0 || strspn(s, "0123456789_:.+-eExXoObB") == strlen(s);
}

/* A string that must stay a string; several lines as a literal block. */
static void qscalar(struct em *m, const char *s)
{
	yaml_event_t e;
	bool multi = strchr(s, '\n') != NULL;
	bool plain = !multi && !ambiguous(s);
	yaml_scalar_event_initialize(&e, NULL, (yaml_char_t *)YAML_STR_TAG, (yaml_char_t *)s,
				     (int)strlen(s), plain, 1,
				     multi ? YAML_LITERAL_SCALAR_STYLE : YAML_ANY_SCALAR_STYLE);
	ev(m, &e);
}

/* A condition without the indentation it had in its file (whitespace
 * means nothing to the condition language), trailing space dropped. */
static char *dedent(const char *s)
{
	size_t min = (size_t)-1;
	for (const char *l = s; *l;) {
		size_t ind = strspn(l, " ");
		const char *nl = strchr(l, '\n');
		if (l[ind] && l[ind] != '\n' && ind < min)
			min = ind;
		if (!nl)
			break;
		l = nl + 1;
	}
	if (min == (size_t)-1)
		min = 0;
	char *out = vg_xmalloc(strlen(s) + 1);
	size_t n = 0;
	for (const char *l = s; *l;) {
		const char *nl = strchr(l, '\n');
		size_t len = nl ? (size_t)(nl - l) : strlen(l);
		size_t skip = len < min ? len : min;
		memcpy(out + n, l + skip, len - skip);
		n += len - skip;
		if (!nl)
			break;
		out[n++] = '\n';
		l = nl + 1;
	}
	while (n && (out[n - 1] == '\n' || out[n - 1] == ' ' || out[n - 1] == '\t'))
		n--;
	size_t lead = strspn(out, " \t\n");
	if (lead > n)
		lead = n;
	memmove(out, out + lead, n - lead);
	out[n - lead] = 0;
	return out;
}

static void map_start(struct em *m)
{
	yaml_event_t e;
	yaml_mapping_start_event_initialize(&e, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE);
	ev(m, &e);
}

static void map_end(struct em *m)
{
	yaml_event_t e;
	yaml_mapping_end_event_initialize(&e);
	ev(m, &e);
}

static void seq_start(struct em *m, bool flow)
{
	yaml_event_t e;
	yaml_sequence_start_event_initialize(
		&e, NULL, NULL, 1, flow ? YAML_FLOW_SEQUENCE_STYLE : YAML_BLOCK_SEQUENCE_STYLE);
	ev(m, &e);
}

static void seq_end(struct em *m)
{
	yaml_event_t e;
	yaml_sequence_end_event_initialize(&e);
	ev(m, &e);
}

static void kv(struct em *m, const char *k, const char *v)
{
	scalar(m, k);
	qscalar(m, v);
}

static void kv_plain(struct em *m, const char *k, const char *v)
{
	scalar(m, k);
	scalar(m, v);
}

static void doc_start(struct em *m, const char *kind, const char *name)
{
	yaml_event_t e;
	yaml_document_start_event_initialize(&e, NULL, NULL, NULL, 0);
	ev(m, &e);
	map_start(m);
	kv_plain(m, "apiVersion", "vigil.dev/v1alpha1");
	kv_plain(m, "kind", kind);
	scalar(m, "metadata");
	map_start(m);
	kv(m, "name", name);
	map_end(m);
	scalar(m, "spec");
	map_start(m);
}

static void doc_end(struct em *m)
{
	map_end(m);
	map_end(m);
	yaml_event_t e;
	yaml_document_end_event_initialize(&e, 0);
	ev(m, &e);
}

static int write_out(void *data, unsigned char *buf, size_t size)
{
	return fwrite(buf, 1, size, data) == size;
}

/* name-taken check over the names given so far */
static bool taken(char (*names)[64], size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(names[i], s))
			return true;
	return false;
}

int vg_convert(const char *const *files, size_t nfiles, FILE *out, struct vg_diag *d)
{
	struct vg_ruleset *rs = vg_ruleset_new();
	for (size_t i = 0; i < nfiles; i++)
		vg_ruleset_add_file(rs, files[i], d);
	struct vg_engine *eng = d->errors ? NULL : vg_engine_build(rs, d);
	vg_engine_free(eng);
	if (d->errors) {
		vg_ruleset_free(rs);
		return -1;
	}

	struct em m = {.ok = true};
	yaml_emitter_initialize(&m.e);
	yaml_emitter_set_output(&m.e, write_out, out);
	yaml_emitter_set_unicode(&m.e, 1);
	yaml_emitter_set_width(&m.e, 100);
	yaml_event_t e;
	yaml_stream_start_event_initialize(&e, YAML_UTF8_ENCODING);
	ev(&m, &e);

	/* the library, named after the first file */
	const char *base = nfiles ? strrchr(files[0], '/') : NULL;
	base = base ? base + 1 : nfiles ? files[0] : "rules";
	char stem[256];
	snprintf(stem, sizeof(stem), "%s", base);
	char *dot = strrchr(stem, '.');
	if (dot && dot != stem)
		*dot = 0;
	char libname[64];
	vg_convert_dns_name(stem, libname);
	size_t nm = vg_ruleset_count_macros(rs), nl = vg_ruleset_count_lists(rs);
	if (nm || nl) {
		doc_start(&m, "RuleLibrary", libname);
		char desc[400];
		snprintf(desc, sizeof(desc), "Macros and lists converted by vigil convert from %s",
			 base);
		kv(&m, "description", desc);
		if (nm) {
			scalar(&m, "macros");
			seq_start(&m, false);
			for (size_t i = 0; i < nm; i++) {
				const struct vg_macro_def *md = vg_ruleset_macro_at(rs, i);
				map_start(&m);
				kv(&m, "name", md->name);
				char *c = dedent(md->cond.text);
				kv(&m, "condition", c);
				free(c);
				map_end(&m);
			}
			seq_end(&m);
		}
		if (nl) {
			scalar(&m, "lists");
			seq_start(&m, false);
			for (size_t i = 0; i < nl; i++) {
				const struct vg_list_def *ld = vg_ruleset_list_at(rs, i);
				map_start(&m);
				kv(&m, "name", ld->name);
				scalar(&m, "items");
				seq_start(&m, true);
				for (size_t k = 0; k < ld->n; k++)
					qscalar(&m, ld->items[k]);
				seq_end(&m);
				map_end(&m);
			}
			seq_end(&m);
		}
		doc_end(&m);
	}

	const struct vg_rule_def *const *defs;
	size_t nr = vg_ruleset_rules(rs, &defs);
	char(*names)[64] = vg_xcalloc(nr + 1, 64);
	size_t nnames = 0;
	for (size_t i = 0; i < nr; i++) {
		const struct vg_rule_def *r = defs[i];
		bool audit = !strcmp(r->source, "k8s_audit");
		if (!audit && strcmp(r->source, "syscall")) {
			vg_diag_add(
				d, 0, r->pos.file, r->pos.line, r->pos.col,
				"rule '%s' of source '%s' is not converted (vigil evaluates the "
				"syscall and k8s_audit sources)",
				r->name, r->source);
			continue;
		}
		char nm64[64], cand[64];
		vg_convert_dns_name(r->name, nm64);
		snprintf(cand, sizeof(cand), "%s", nm64);
		for (int k = 2; taken(names, nnames, cand); k++) {
			char sfx[16];
			int sl = snprintf(sfx, sizeof(sfx), "-%d", k);
			int keep = (int)strlen(nm64);
			if (keep + sl > 63)
				keep = 63 - sl;
			snprintf(cand, sizeof(cand), "%.*s%s", keep, nm64, sfx);
		}
		memcpy(names[nnames++], cand, 64);
		doc_start(&m, "ClusterRule", cand);
		kv(&m, "rule", r->name);
		kv(&m, "description", r->desc);
		char *c = dedent(r->cond.text);
		kv(&m, "condition", c);
		free(c);
		kv(&m, "output", r->output.text);
		kv_plain(&m, "priority", vg_priority_name(r->priority));
		if (r->ntags) {
			scalar(&m, "tags");
			seq_start(&m, true);
			for (size_t t = 0; t < r->ntags; t++)
				qscalar(&m, r->tags[t]);
			seq_end(&m);
		}
		kv_plain(&m, "enabled", r->enabled ? "true" : "false");
		if (audit) /* cluster-wide: no pod or host scope */
			kv_plain(&m, "source", "k8s_audit");
		else
			kv_plain(&m, "hostProcesses", "true");
		doc_end(&m);
	}
	free(names);
	yaml_stream_end_event_initialize(&e);
	ev(&m, &e);
	yaml_emitter_flush(&m.e);
	bool ok = m.ok;
	if (!ok)
		vg_diag_add(d, 1, "<stdout>", 0, 0, "cannot write YAML: %s",
			    m.e.problem ? m.e.problem : "write error");
	yaml_emitter_delete(&m.e);
	vg_ruleset_free(rs);
	return ok ? 0 : -1;
}
