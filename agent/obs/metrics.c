/* metrics.c - see metrics.h. */
#include "metrics.h"
#include "util.h"
#include "version.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define MAX_SERIES_LIMIT 65536

/* Families rendered by the registry itself rather than from series. */
enum family_kind { KIND_SERIES, KIND_PROC_RSS, KIND_PROC_CPU, KIND_PROC_START };

struct series {
	struct vg_metric_series pub; /* first: handles point here */
	uint32_t hash;
	bool overflow;
	char *values[VG_METRIC_MAX_LABELS];
};

struct vg_metric_family {
	struct vg_metrics *m;
	struct vg_metric_family *next;
	char *name;
	char *help;
	enum vg_metric_type type;
	enum family_kind kind;
	size_t nlabels;
	char *labels[VG_METRIC_MAX_LABELS];
	size_t max_series;
	/* guarded by m->lock */
	struct series **series; /* max_series slots, n used */
	size_t n;
	struct series **table; /* open addressing, tmask + 1 slots */
	size_t tmask;
	struct series *overflow;
	_Atomic uint64_t overflows;
	size_t capped_label, capped_max, capped_n; /* see vg_metric_desc */
	char *capped_value;
	/* guarded by m->render_lock */
	vg_metric_collect_fn collect;
	void *collect_arg;
};

struct vg_metrics {
	/* render_lock serializes renders, registration and collect changes;
	 * lock guards the family list and each family's series set.  Order:
	 * render_lock before lock. */
	pthread_mutex_t render_lock;
	pthread_mutex_t lock;
	struct vg_metric_family *head, *tail;
};

struct vg_metrics *vg_metrics_new(void)
{
	struct vg_metrics *m = vg_xcalloc(1, sizeof(*m));
	pthread_mutex_init(&m->render_lock, NULL);
	pthread_mutex_init(&m->lock, NULL);
	return m;
}

static void series_free(struct series *s, size_t nlabels)
{
	if (!s)
		return;
	for (size_t i = 0; i < nlabels; i++)
		free(s->values[i]);
	free(s);
}

static void family_free(struct vg_metric_family *f)
{
	for (size_t i = 0; i < f->n; i++)
		series_free(f->series[i], f->nlabels);
	series_free(f->overflow, f->nlabels);
	free(f->capped_value);
	for (size_t i = 0; i < f->nlabels; i++)
		free(f->labels[i]);
	free(f->series);
	free(f->table);
	free(f->name);
	free(f->help);
	free(f);
}

void vg_metrics_free(struct vg_metrics *m)
{
	if (!m)
		return;
	struct vg_metric_family *f = m->head;
	while (f) {
		struct vg_metric_family *next = f->next;
		family_free(f);
		f = next;
	}
	pthread_mutex_destroy(&m->lock);
	pthread_mutex_destroy(&m->render_lock);
	free(m);
}

/* --- registration ---------------------------------------------------------- */

static bool valid_metric_name(const char *s)
{
	if (!s || !*s)
		return false;
	for (const char *p = s; *p; p++) {
		char c = *p;
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
			  c == ':' || (p != s && c >= '0' && c <= '9');
		if (!ok)
			return false;
	}
	return true;
}

static bool valid_label_name(const char *s)
{
	if (!s || !*s || (s[0] == '_' && s[1] == '_'))
		return false;
	for (const char *p = s; *p; p++) {
		char c = *p;
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
			  (p != s && c >= '0' && c <= '9');
		if (!ok)
			return false;
	}
	return true;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);
	return n >= k && !strcmp(s + n - k, suffix);
}

/* Caller holds m->lock. */
static struct vg_metric_family *find_family(struct vg_metrics *m, const char *name)
{
	for (struct vg_metric_family *f = m->head; f; f = f->next)
		if (!strcmp(f->name, name))
			return f;
	return NULL;
}

static struct series *series_new(struct vg_metric_family *f, const char *const *values,
				 uint32_t hash)
{
	struct series *s = vg_xcalloc(1, sizeof(*s));
	atomic_init(&s->pub.value, 0);
	s->pub.type = (uint8_t)f->type;
	s->hash = hash;
	for (size_t i = 0; i < f->nlabels; i++)
		s->values[i] = vg_xstrdup(values && values[i] ? values[i] : "");
	if (f->type == VG_METRIC_GAUGE) {
		double zero = 0;
		uint64_t bits;
		memcpy(&bits, &zero, sizeof(bits));
		atomic_store_explicit(&s->pub.value, bits, memory_order_relaxed);
	}
	return s;
}

static uint32_t hash_values(const struct vg_metric_family *f, const char *const *values)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < f->nlabels; i++) {
		const char *v = values && values[i] ? values[i] : "";
		for (const unsigned char *p = (const unsigned char *)v; *p; p++)
			h = (h ^ *p) * 16777619u;
		h = (h ^ 0xff) * 16777619u; /* separator: ("ab","") != ("a","b") */
	}
	return h;
}

static bool same_values(const struct vg_metric_family *f, const struct series *s,
			const char *const *values)
{
	for (size_t i = 0; i < f->nlabels; i++) {
		const char *v = values && values[i] ? values[i] : "";
		if (strcmp(s->values[i], v))
			return false;
	}
	return true;
}

/* Caller holds m->lock and has checked f->n < f->max_series. */
static struct series *insert_series(struct vg_metric_family *f, const char *const *values,
				    uint32_t hash, size_t slot)
{
	struct series *s = series_new(f, values, hash);
	f->series[f->n++] = s;
	f->table[slot] = s;
	return s;
}

static struct vg_metric_family *family_new(struct vg_metrics *m, const struct vg_metric_desc *d,
					   enum family_kind kind, char *err, size_t errlen)
{
	if (!valid_metric_name(d->name)) {
		vg_set_err(err, errlen, "metric name \"%s\": must match [a-zA-Z_:][a-zA-Z0-9_:]*",
			   d->name ? d->name : "(null)");
		return NULL;
	}
	if (d->type != VG_METRIC_COUNTER && d->type != VG_METRIC_GAUGE) {
		vg_set_err(err, errlen, "metric %s: unknown type %d", d->name, (int)d->type);
		return NULL;
	}
	/* The exposition format names counter samples after the family; the
	 * _total suffix is what Prometheus and promtool expect. */
	if (d->type == VG_METRIC_COUNTER && !ends_with(d->name, "_total")) {
		vg_set_err(err, errlen, "metric %s: a counter's name must end in _total", d->name);
		return NULL;
	}
	size_t nlabels = 0;
	while (nlabels <= VG_METRIC_MAX_LABELS && d->labels[nlabels])
		nlabels++;
	if (nlabels > VG_METRIC_MAX_LABELS) {
		vg_set_err(err, errlen, "metric %s: more than %d labels", d->name,
			   VG_METRIC_MAX_LABELS);
		return NULL;
	}
	for (size_t i = 0; i < nlabels; i++) {
		if (!valid_label_name(d->labels[i])) {
			vg_set_err(
				err, errlen,
				"metric %s: label name \"%s\": must match [a-zA-Z_][a-zA-Z0-9_]* "
				"and not start with __",
				d->name, d->labels[i]);
			return NULL;
		}
		for (size_t j = 0; j < i; j++)
			if (!strcmp(d->labels[i], d->labels[j])) {
				vg_set_err(err, errlen, "metric %s: label \"%s\" listed twice",
					   d->name, d->labels[i]);
				return NULL;
			}
	}
	size_t max = d->max_series ? d->max_series : VG_METRIC_DEFAULT_MAX_SERIES;
	if (max > MAX_SERIES_LIMIT) {
		vg_set_err(err, errlen, "metric %s: max_series %zu above %d", d->name, max,
			   MAX_SERIES_LIMIT);
		return NULL;
	}
	if (nlabels == 0)
		max = 1;

	struct vg_metric_family *f = vg_xcalloc(1, sizeof(*f));
	f->m = m;
	f->name = vg_xstrdup(d->name);
	f->help = vg_xstrdup(d->help ? d->help : "");
	f->type = d->type;
	f->kind = kind;
	f->nlabels = nlabels;
	for (size_t i = 0; i < nlabels; i++)
		f->labels[i] = vg_xstrdup(d->labels[i]);
	f->max_series = max;
	f->series = vg_xcalloc(max, sizeof(*f->series));
	size_t tsize = 4;
	while (tsize < 2 * max)
		tsize *= 2;
	f->table = vg_xcalloc(tsize, sizeof(*f->table));
	f->tmask = tsize - 1;
	atomic_init(&f->overflows, 0);
	if (d->capped_value) {
		f->capped_label = d->capped_label;
		f->capped_value = vg_xstrdup(d->capped_value);
		f->capped_max = d->capped_max;
	}
	f->collect = d->collect;
	f->collect_arg = d->collect_arg;
	return f;
}

static struct vg_metric_family *add_family(struct vg_metrics *m, const struct vg_metric_desc *d,
					   enum family_kind kind, char *err, size_t errlen)
{
	if (!m || !d) {
		vg_set_err(err, errlen, "no registry or description");
		return NULL;
	}
	struct vg_metric_family *f = family_new(m, d, kind, err, errlen);
	if (!f)
		return NULL;
	pthread_mutex_lock(&m->render_lock);
	pthread_mutex_lock(&m->lock);
	if (find_family(m, f->name)) {
		pthread_mutex_unlock(&m->lock);
		pthread_mutex_unlock(&m->render_lock);
		vg_set_err(err, errlen, "metric %s: registered twice", f->name);
		family_free(f);
		return NULL;
	}
	if (f->nlabels == 0 && kind == KIND_SERIES) {
		uint32_t h = hash_values(f, NULL);
		insert_series(f, NULL, h, h & f->tmask);
	}
	if (m->tail)
		m->tail->next = f;
	else
		m->head = f;
	m->tail = f;
	pthread_mutex_unlock(&m->lock);
	pthread_mutex_unlock(&m->render_lock);
	return f;
}

struct vg_metric_family *vg_metrics_add(struct vg_metrics *m, const struct vg_metric_desc *d,
					char *err, size_t errlen)
{
	return add_family(m, d, KIND_SERIES, err, errlen);
}

void vg_metric_family_set_collect(struct vg_metric_family *f, vg_metric_collect_fn fn, void *arg)
{
	if (!f)
		return;
	pthread_mutex_lock(&f->m->render_lock);
	f->collect = fn;
	f->collect_arg = arg;
	pthread_mutex_unlock(&f->m->render_lock);
}

/* --- lookup ---------------------------------------------------------------- */

struct vg_metric_series *vg_metric_series(struct vg_metric_family *f, const char *const *values)
{
	if (!f)
		return NULL;
	uint32_t h = hash_values(f, values);
	struct vg_metrics *m = f->m;
	struct series *s;
	pthread_mutex_lock(&m->lock);
	size_t slot = h & f->tmask;
	while ((s = f->table[slot])) {
		if (s->hash == h && same_values(f, s, values))
			goto out;
		slot = (slot + 1) & f->tmask;
	}
	bool capped =
		f->capped_value && f->capped_label < f->nlabels &&
		!strcmp(values[f->capped_label] ? values[f->capped_label] : "", f->capped_value);
	if (f->n < f->max_series && (!capped || f->capped_n < f->capped_max)) {
		s = insert_series(f, values, h, slot);
		f->capped_n += capped;
		goto out;
	}
	atomic_fetch_add_explicit(&f->overflows, 1, memory_order_relaxed);
	if (!f->overflow) {
		const char *ov[VG_METRIC_MAX_LABELS];
		for (size_t i = 0; i < f->nlabels; i++)
			ov[i] = VG_METRIC_OVERFLOW;
		f->overflow = series_new(f, ov, 0);
		f->overflow->overflow = true;
	}
	s = f->overflow;
out:
	pthread_mutex_unlock(&m->lock);
	return &s->pub;
}

void vg_metric_family_clear(struct vg_metric_family *f)
{
	if (!f)
		return;
	pthread_mutex_lock(&f->m->lock);
	for (size_t i = 0; i < f->n; i++)
		series_free(f->series[i], f->nlabels);
	series_free(f->overflow, f->nlabels);
	f->overflow = NULL;
	f->n = 0;
	f->capped_n = 0;
	memset(f->table, 0, (f->tmask + 1) * sizeof(*f->table));
	pthread_mutex_unlock(&f->m->lock);
}

struct vg_metric_series *vg_metric_series_n(struct vg_metric_family *f, const char *const *values,
					    size_t n)
{
	if (!f)
		return NULL;
	assert(n == f->nlabels);
	if (n != f->nlabels)
		return NULL;
	return vg_metric_series(f, values);
}

uint64_t vg_metric_family_overflows(const struct vg_metric_family *f)
{
	return f ? atomic_load_explicit(&((struct vg_metric_family *)f)->overflows,
					memory_order_relaxed)
		 : 0;
}

size_t vg_metric_family_size(const struct vg_metric_family *f)
{
	if (!f)
		return 0;
	pthread_mutex_lock(&f->m->lock);
	size_t n = f->n + (f->overflow ? 1 : 0);
	pthread_mutex_unlock(&f->m->lock);
	return n;
}

/* --- rendering ------------------------------------------------------------- */

/* HELP escapes \ and newline; label values also escape the double quote. */
static void buf_escaped(struct k8s_buf *b, const char *s, bool quote)
{
	for (const char *p = s; *p; p++) {
		switch (*p) {
		case '\\':
			k8s_buf_add(b, "\\\\", 2);
			break;
		case '\n':
			k8s_buf_add(b, "\\n", 2);
			break;
		case '"':
			if (quote)
				k8s_buf_add(b, "\\\"", 2);
			else
				k8s_buf_add(b, p, 1);
			break;
		default:
			k8s_buf_add(b, p, 1);
		}
	}
}

/* The shortest of %.15g/%.16g/%.17g that reads back as the same double, so
 * 0.1 renders as 0.1 and integers without an exponent up to 1e15. */
static void buf_double(struct k8s_buf *b, double v)
{
	if (isnan(v)) {
		k8s_buf_adds(b, "NaN");
		return;
	}
	if (isinf(v)) {
		k8s_buf_adds(b, v > 0 ? "+Inf" : "-Inf");
		return;
	}
	char tmp[40];
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*g", prec, v);
		if (strtod(tmp, NULL) == v)
			break;
	}
	k8s_buf_adds(b, tmp);
}

static int cmp_series(const void *a, const void *b, void *arg)
{
	const struct series *x = *(const struct series *const *)a;
	const struct series *y = *(const struct series *const *)b;
	size_t nlabels = *(const size_t *)arg;
	for (size_t i = 0; i < nlabels; i++) {
		int c = strcmp(x->values[i], y->values[i]);
		if (c)
			return c;
	}
	return 0;
}

static void render_header(struct k8s_buf *b, const struct vg_metric_family *f)
{
	k8s_buf_adds(b, "# HELP ");
	k8s_buf_adds(b, f->name);
	k8s_buf_adds(b, " ");
	buf_escaped(b, f->help, false);
	k8s_buf_adds(b, "\n# TYPE ");
	k8s_buf_adds(b, f->name);
	k8s_buf_adds(b, f->type == VG_METRIC_COUNTER ? " counter\n" : " gauge\n");
}

static void render_series(struct k8s_buf *b, const struct vg_metric_family *f,
			  const struct series *s)
{
	k8s_buf_adds(b, f->name);
	if (f->nlabels) {
		k8s_buf_adds(b, "{");
		for (size_t i = 0; i < f->nlabels; i++) {
			if (i)
				k8s_buf_adds(b, ",");
			k8s_buf_adds(b, f->labels[i]);
			k8s_buf_adds(b, "=\"");
			buf_escaped(b, s->values[i], true);
			k8s_buf_adds(b, "\"");
		}
		k8s_buf_adds(b, "}");
	}
	k8s_buf_adds(b, " ");
	if (f->type == VG_METRIC_COUNTER)
		k8s_buf_printf(b, "%" PRIu64, vg_metric_counter_get(&s->pub));
	else
		buf_double(b, vg_metric_gauge_get(&s->pub));
	k8s_buf_adds(b, "\n");
}

/* /proc/self/stat fields after the command (which may hold spaces and
 * parentheses, hence the last ')'): field 3 (state) is rest[0]. */
static int read_proc_stat(double *cpu_seconds, double *start_ticks)
{
	char line[1024];
	FILE *fp = fopen("/proc/self/stat", "re");
	if (!fp)
		return -1;
	size_t n = fread(line, 1, sizeof(line) - 1, fp);
	fclose(fp);
	line[n] = '\0';
	char *rest = strrchr(line, ')');
	if (!rest)
		return -1;
	rest += 2; /* ") " */
	/* fields 3..22: state ppid pgrp session tty tpgid flags minflt cminflt
	 * majflt cmajflt utime(14) stime(15) cutime cstime priority nice
	 * num_threads itrealvalue starttime(22) */
	unsigned long long utime, stime, starttime;
	if (sscanf(rest,
		   "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d %*d "
		   "%*d %llu",
		   &utime, &stime, &starttime) != 3)
		return -1;
	long hz = sysconf(_SC_CLK_TCK);
	if (hz <= 0)
		hz = 100;
	*cpu_seconds = (double)(utime + stime) / (double)hz;
	*start_ticks = (double)starttime / (double)hz;
	return 0;
}

static int read_boot_time(double *btime)
{
	FILE *fp = fopen("/proc/stat", "re");
	if (!fp)
		return -1;
	char line[512];
	int rc = -1;
	while (fgets(line, sizeof(line), fp)) {
		unsigned long long v;
		if (sscanf(line, "btime %llu", &v) == 1) {
			*btime = (double)v;
			rc = 0;
			break;
		}
	}
	fclose(fp);
	return rc;
}

static int read_rss(double *bytes)
{
	FILE *fp = fopen("/proc/self/statm", "re");
	if (!fp)
		return -1;
	unsigned long long size, resident;
	int ok = fscanf(fp, "%llu %llu", &size, &resident) == 2;
	fclose(fp);
	if (!ok)
		return -1;
	*bytes = (double)resident * (double)sysconf(_SC_PAGESIZE);
	return 0;
}

/* A process family whose source cannot be read renders no sample: a wrong
 * 0 would be worse than a gap. */
static void render_process(struct k8s_buf *b, const struct vg_metric_family *f)
{
	double v = 0, cpu = 0, start = 0, btime = 0;
	int rc = -1;
	switch (f->kind) {
	case KIND_PROC_RSS:
		rc = read_rss(&v);
		break;
	case KIND_PROC_CPU:
		rc = read_proc_stat(&cpu, &start);
		v = cpu;
		break;
	case KIND_PROC_START:
		rc = read_proc_stat(&cpu, &start);
		if (!rc)
			rc = read_boot_time(&btime);
		v = btime + start;
		break;
	default:
		break;
	}
	if (rc)
		return;
	k8s_buf_adds(b, f->name);
	k8s_buf_adds(b, " ");
	buf_double(b, v);
	k8s_buf_adds(b, "\n");
}

char *vg_metrics_render(struct vg_metrics *m, size_t *len)
{
	struct k8s_buf b = {0};
	k8s_buf_add(&b, "", 0); /* an empty exposition is "", not NULL */
	struct series **snap = NULL;
	size_t snap_cap = 0;

	pthread_mutex_lock(&m->render_lock);
	/* The list only grows under render_lock, which we hold. */
	for (struct vg_metric_family *f = m->head; f; f = f->next) {
		if (f->collect)
			f->collect(f, f->collect_arg);
		render_header(&b, f);
		if (f->kind != KIND_SERIES) {
			render_process(&b, f);
			continue;
		}
		pthread_mutex_lock(&m->lock);
		size_t n = f->n;
		if (n > snap_cap) {
			snap_cap = n;
			snap = vg_xrealloc(snap, snap_cap * sizeof(*snap));
		}
		memcpy(snap, f->series, n * sizeof(*snap));
		struct series *ov = f->overflow;
		pthread_mutex_unlock(&m->lock);
		/* Series are immutable but for their atomic values, so the
		 * snapshot is safe to read without the lock. */
		if (n > 1)
			qsort_r(snap, n, sizeof(*snap), cmp_series, &f->nlabels);
		for (size_t i = 0; i < n; i++)
			render_series(&b, f, snap[i]);
		if (ov)
			render_series(&b, f, ov);
	}
	pthread_mutex_unlock(&m->render_lock);
	free(snap);
	if (len)
		*len = b.len;
	return b.p;
}

/* --- standard families ----------------------------------------------------- */

int vg_metrics_add_process(struct vg_metrics *m, char *err, size_t errlen)
{
	static const struct {
		const char *name, *help;
		enum vg_metric_type type;
		enum family_kind kind;
	} defs[] = {
		{"process_resident_memory_bytes", "Resident memory size in bytes.", VG_METRIC_GAUGE,
		 KIND_PROC_RSS},
		{"process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
		 VG_METRIC_COUNTER, KIND_PROC_CPU},
		{"process_start_time_seconds",
		 "Start time of the process since unix epoch in seconds.", VG_METRIC_GAUGE,
		 KIND_PROC_START},
	};
	for (size_t i = 0; i < sizeof(defs) / sizeof(defs[0]); i++) {
		struct vg_metric_desc d = {
			.name = defs[i].name, .help = defs[i].help, .type = defs[i].type};
		if (!add_family(m, &d, defs[i].kind, err, errlen))
			return -1;
	}
	return 0;
}

int vg_metrics_register_vigil(struct vg_metrics *m, struct vg_vigil_metrics *out, char *err,
			      size_t errlen)
{
	const struct {
		struct vg_metric_family **slot;
		struct vg_metric_desc d;
	} defs[] = {
		{&out->build_info,
		 {.name = "vigil_build_info",
		  .help = "A constant 1 labeled with the version and commit vigil was built from.",
		  .type = VG_METRIC_GAUGE,
		  .labels = {"version", "commit"},
		  .max_series = 1}},
		{&out->events,
		 {.name = "vigil_events_total",
		  .help = "Events captured, by syscall.",
		  .type = VG_METRIC_COUNTER,
		  .labels = {"syscall"},
		  .max_series = 512}},
		{&out->events_dropped,
		 {.name = "vigil_events_dropped_total",
		  .help = "Events lost, by the stage that lost them.",
		  .type = VG_METRIC_COUNTER,
		  .labels = {"stage"},
		  .max_series = 16}},
		{&out->events_filtered,
		 {.name = "vigil_events_filtered_total",
		  .help = "Syscall events the kernel-side prefilter (capture.prefilter) did not "
			  "send because no rule and no state could use them, by syscall; events "
			  "seen in the kernel are these plus vigil_events_total.",
		  .type = VG_METRIC_COUNTER,
		  .labels = {"syscall"},
		  .max_series = 512}},
		{&out->rule_matches,
		 {.name = "vigil_rule_matches_total",
		  .help = "Events that matched a rule, by rule, priority and the rule object "
			  "that raised them (kind, namespace, name; empty for rule files).",
		  .type = VG_METRIC_COUNTER,
		  .labels = {"rule", "priority", "object_kind", "object_namespace", "object_name"},
		  .max_series = 2048,
		  /* the teams' Rules: half, whatever they name their rules */
		  .capped_label = 2,
		  .capped_value = "Rule",
		  .capped_max = 1024}},
		{&out->rule_object_events,
		 {.name = "vigil_rule_object_events_total",
		  .help = "Events a namespaced Rule object's rules were evaluated on, on this "
			  "node.",
		  .type = VG_METRIC_COUNTER,
		  .labels = {"kind", "namespace", "name"},
		  .max_series = 4096}},
		{&out->rule_object_cpu,
		 {.name = "vigil_rule_object_cpu_nanoseconds_total",
		  .help = "CPU time a namespaced Rule object's rules spent evaluating, on this "
			  "node.",
		  .type = VG_METRIC_COUNTER,
		  .labels = {"kind", "namespace", "name"},
		  .max_series = 4096}},
		{&out->rule_object_throttled,
		 {.name = "vigil_rule_object_throttled_total",
		  .help = "Events a namespaced Rule object's rules missed: its namespace was over "
			  "its CPU budget (tenancy.namespace_cpu_ms_per_second).",
		  .type = VG_METRIC_COUNTER,
		  .labels = {"kind", "namespace", "name"},
		  .max_series = 4096}},
		{&out->alerts_sent,
		 {.name = "vigil_alerts_sent_total",
		  .help = "Alerts a sink delivered.",
		  .type = VG_METRIC_COUNTER,
		  .labels = {"sink"},
		  .max_series = 32}},
		{&out->alerts_failed,
		 {.name = "vigil_alerts_failed_total",
		  .help = "Alerts a sink failed to deliver (after retries) or its queue dropped.",
		  .type = VG_METRIC_COUNTER,
		  .labels = {"sink"},
		  .max_series = 32}},
		{&out->alert_failures,
		 {.name = "vigil_alert_failures_total",
		  .help = "Alerts a sink failed to deliver, by reason (they add up to "
			  "vigil_alerts_failed_total).",
		  .type = VG_METRIC_COUNTER,
		  .labels = {"sink", "reason", "namespace"},
		  .max_series = 1024}},
		{&out->alerts_throttled,
		 {.name = "vigil_alerts_throttled_total",
		  .help = "Alerts held back from a sink by a rate limit.",
		  .type = VG_METRIC_COUNTER,
		  .labels = {"sink"},
		  .max_series = 32}},
		{&out->rules_loaded,
		 {.name = "vigil_rules_loaded",
		  .help = "Rules, macros and lists in the running set, by kind and state "
			  "(accepted or rejected).",
		  .type = VG_METRIC_GAUGE,
		  .labels = {"kind", "state"},
		  .max_series = 16}},
		{&out->rules_reloads,
		 {.name = "vigil_rules_reloads_total",
		  .help = "Rule set reloads, by result.",
		  .type = VG_METRIC_COUNTER,
		  .labels = {"result"},
		  .max_series = 8}},
		{&out->rules_last_reload,
		 {.name = "vigil_rules_last_reload_timestamp_seconds",
		  .help = "Unix time of the last successful rule set load.",
		  .type = VG_METRIC_GAUGE}},
		{&out->k8s_watch_restarts,
		 {.name = "vigil_k8s_watch_restarts_total",
		  .help = "Kubernetes watches restarted, by resource.",
		  .type = VG_METRIC_COUNTER,
		  .labels = {"resource"},
		  .max_series = 32}},
		{&out->k8s_requests,
		 {.name = "vigil_k8s_requests_total",
		  .help = "Kubernetes API requests, by verb, resource and HTTP status code.",
		  .type = VG_METRIC_COUNTER,
		  .labels = {"verb", "resource", "code"},
		  .max_series = 256}},
		{&out->k8s_cache_objects,
		 {.name = "vigil_k8s_cache_objects",
		  .help = "Objects in the Kubernetes informer caches, by resource.",
		  .type = VG_METRIC_GAUGE,
		  .labels = {"resource"},
		  .max_series = 32}},
		{&out->processes_tracked,
		 {.name = "vigil_processes_tracked",
		  .help = "Processes in the state table.",
		  .type = VG_METRIC_GAUGE}},
		{&out->process_evictions,
		 {.name = "vigil_process_evictions_total",
		  .help = "Processes evicted from the full state table.",
		  .type = VG_METRIC_COUNTER}},
		{&out->capture_features,
		 {.name = "vigil_capture_features",
		  .help = "Kernel features the capture uses (1), or replaces with a fallback (0).",
		  .type = VG_METRIC_GAUGE,
		  .labels = {"feature"},
		  .max_series = 16}},
		{&out->regex_undecided,
		 {.name = "vigil_regex_undecided_total",
		  .help = "regex comparisons not decided (a value over 8 KiB, a pattern over the "
			  "matcher's state limit) and counted as matches.",
		  .type = VG_METRIC_COUNTER}},
		{&out->log_dropped,
		 {.name = "vigil_log_lines_dropped_total",
		  .help = "Log lines not written: stderr had no room for 100 ms (a pipe nobody "
			  "reads).",
		  .type = VG_METRIC_COUNTER}},
	};
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < sizeof(defs) / sizeof(defs[0]); i++) {
		*defs[i].slot = vg_metrics_add(m, &defs[i].d, err, errlen);
		if (!*defs[i].slot)
			return -1;
	}
	vg_metric_set(vg_metric_labels(out->build_info, VIGIL_VERSION, VIGIL_COMMIT), 1);
	return vg_metrics_add_process(m, err, errlen);
}
