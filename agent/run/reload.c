/* reload.c - see reload.h.
 *
 * Threads: informers and signal handlers only queue work and write the
 * eventfd; the worker builds, widens the map and publishes a `struct
 * pending` through an atomic pointer; the capture thread takes it with an
 * atomic exchange (the worker may take a stale one back the same way, so
 * exactly one side owns it), keeps the running set, and hands the old
 * one back through the retired list for the worker to narrow and free.
 *
 * Shutdown must not wait for a compile (a big rule file takes seconds):
 * vg_reload_quiesce() turns the callbacks off under cb_mu (the worker
 * holds it whenever it calls one, and checks `quiet` first), so nothing
 * reaches the agent or the kernel map any more; vg_reload_free() then
 * waits VG_RELOAD_FREE_WAIT_MS for the worker and, if it is still
 * compiling, leaves it everything to free when it finishes (`abandoned`).
 */
#include "log.h"
#include "pfeval.h"
#include "reload.h"
#include "util.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

struct entry {
	int kind;
	char *ns, *name, *uid;
	int64_t generation;
	cJSON *obj;
	cJSON *last_good; /* the last version accepted, run when a later one is rejected */
	int64_t last_good_gen;
};

struct pending {
	struct vg_crset *cs;
	uint64_t armed_ts;
	uint8_t want[VG_NR_MAX];
	struct vg_pf_table *pf; /* its prefilter; NULL without one */
};

/* A swap the capture thread made: the set it let go, and the pending it
 * took (its want; only the worker frees pendings, so that reap() may read
 * the one waiting while the capture thread takes it). */
struct retired {
	struct vg_crset *old;
	struct pending *p;
	struct retired *next;
};

struct vg_reload {
	struct vg_reload_opts o;
	char **paths;

	pthread_mutex_t mu; /* entries, dirty, retired, stats */
	struct entry *e;
	size_t n, cap;
	bool dirty;
	struct retired *retired;
	struct vg_reload_stats stats;

	atomic_int files_requested;
	size_t file_errors; /* of the rule files in the set in force (worker) */
	atomic_int stop;
	int efd;
	pthread_t worker;
	bool started;

	/* the first set, built by the worker while vg_reload_start waits (it
	 * may stop waiting: a SIGTERM during a long first compile) */
	pthread_cond_t first_cv; /* with mu */
	struct vg_crset *first;	 /* built, not yet taken (under mu) */
	bool first_done;	 /* under mu */
	bool first_taken;	 /* under mu: the caller wrote the map */

	pthread_mutex_t cb_mu; /* held while a callback runs; guards quiet */
	bool quiet;	       /* callbacks off (shutting down) */
	bool worker_done;      /* under mu */
	bool abandoned;	       /* under mu: the worker frees everything */

	_Atomic(struct pending *) pending;
	struct vg_crset *current; /* capture thread */
	/* worker: the set the capture thread swapped in last (alive until the
	 * worker reaps it), and the costs table read from it */
	struct vg_crset *live;
	struct vg_reload_cost *costs; /* under mu */
	size_t ncosts;
	uint8_t map[VG_NR_MAX];	   /* what the kernel map holds (worker) */
	struct vg_pf_table *pfmap; /* what the kernel's prefilter holds (worker) */
};

static uint64_t boottime(void *ctx)
{
	(void)ctx;
	struct timespec ts;
	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void wake(struct vg_reload *r)
{
	uint64_t one = 1;
	ssize_t w = write(r->efd, &one, sizeof(one));
	(void)w; /* a full counter still wakes the worker */
}

struct vg_reload *vg_reload_new(const struct vg_reload_opts *o)
{
	struct vg_reload *r = vg_xcalloc(1, sizeof(*r));
	r->o = *o;
	if (!r->o.now)
		r->o.now = boottime;
	if (!r->o.debounce_ms)
		r->o.debounce_ms = 200;
	r->paths = vg_xcalloc(o->npaths + 1, sizeof(char *));
	for (size_t i = 0; i < o->npaths; i++)
		r->paths[i] = vg_xstrdup(o->paths[i]);
	r->o.paths = (const char *const *)r->paths;
	pthread_mutex_init(&r->mu, NULL);
	pthread_mutex_init(&r->cb_mu, NULL);
	pthread_cond_init(&r->first_cv, NULL);
	r->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (r->efd < 0)
		abort(); /* only fails without memory or fds at start-up */
	atomic_init(&r->pending, NULL);
	return r;
}

static void entry_free(struct entry *e)
{
	free(e->ns);
	free(e->name);
	free(e->uid);
	cJSON_Delete(e->obj);
	cJSON_Delete(e->last_good);
}

static const char *md_str(const cJSON *obj, const char *key)
{
	const cJSON *md = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(md, key));
}

static struct entry *find(struct vg_reload *r, int kind, const char *ns, const char *name)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->e[i].kind == kind && !strcmp(r->e[i].name, name) &&
		    !strcmp(r->e[i].ns ? r->e[i].ns : "", ns ? ns : ""))
			return &r->e[i];
	return NULL;
}

bool vg_reload_upsert(struct vg_reload *r, int kind, const cJSON *obj)
{
	const char *name = md_str(obj, "name");
	const char *ns = kind == VG_CR_RULE ? md_str(obj, "namespace") : NULL;
	const char *uid = md_str(obj, "uid");
	const cJSON *g = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(obj, "metadata"), "generation");
	int64_t gen = cJSON_IsNumber(g) ? (int64_t)g->valuedouble : 0;
	if (!name)
		return false;
	pthread_mutex_lock(&r->mu);
	struct entry *e = find(r, kind, ns, name);
	if (e && e->generation == gen && !strcmp(e->uid ? e->uid : "", uid ? uid : "")) {
		r->stats.unchanged++;
		pthread_mutex_unlock(&r->mu);
		return false;
	}
	if (!e) {
		if (r->n == r->cap)
			r->e = vg_xrealloc(r->e, (r->cap = r->cap * 2 + 16) * sizeof(*r->e));
		e = &r->e[r->n++];
		memset(e, 0, sizeof(*e));
		e->kind = kind;
		e->ns = ns ? vg_xstrdup(ns) : NULL;
		e->name = vg_xstrdup(name);
	} else {
		if (e->uid && (!uid || strcmp(e->uid, uid))) {
			/* another object of the same name: its past is not ours */
			cJSON_Delete(e->last_good);
			e->last_good = NULL;
		}
		free(e->uid);
		cJSON_Delete(e->obj);
	}
	e->uid = uid ? vg_xstrdup(uid) : NULL;
	e->generation = gen;
	e->obj = cJSON_Duplicate(obj, 1);
	r->dirty = true;
	pthread_mutex_unlock(&r->mu);
	wake(r);
	return true;
}

bool vg_reload_delete(struct vg_reload *r, int kind, const char *ns, const char *name)
{
	pthread_mutex_lock(&r->mu);
	struct entry *e = find(r, kind, kind == VG_CR_RULE ? ns : NULL, name);
	if (e) {
		entry_free(e);
		*e = r->e[--r->n];
		r->dirty = true;
	}
	pthread_mutex_unlock(&r->mu);
	if (e)
		wake(r);
	return e != NULL;
}

void vg_reload_request_files(struct vg_reload *r)
{
	atomic_store(&r->files_requested, 1);
	wake(r);
}

static void update_metrics(struct vg_reload *r, const struct vg_crset *cs, bool reload)
{
	struct vg_vigil_metrics *m = r->o.metrics;
	if (!m)
		return;
	size_t acc, rej, bad = 0;
	for (int k = 0; k < VG_CR_NKINDS; k++) {
		vg_crset_count(cs, k, &acc, &rej);
		vg_metric_set(vg_metric_labels(m->rules_loaded, vg_crset_kind_name(k), "accepted"),
			      (double)acc);
		vg_metric_set(vg_metric_labels(m->rules_loaded, vg_crset_kind_name(k), "rejected"),
			      (double)rej);
		bad += rej;
	}
	vg_crset_file_rules(cs, &acc, &rej);
	vg_metric_set(vg_metric_labels(m->rules_loaded, "file", "accepted"), (double)acc);
	vg_metric_set(vg_metric_labels(m->rules_loaded, "file", "rejected"), (double)rej);
	bad += rej;
	if (reload)
		vg_metric_inc(vg_metric_labels(m->rules_reloads, bad ? "partial" : "success"));
	vg_metric_set(vg_metric_series(m->rules_last_reload, NULL), (double)vg_now_wall_ns() / 1e9);
}

/* Build from the files and a copy of the objects (the lock is not held
 * while compiling). */
static struct vg_crset *build(struct vg_reload *r)
{
	pthread_mutex_lock(&r->mu);
	size_t n = r->n;
	struct vg_crset_obj *objs = vg_xcalloc(n + 1, sizeof(*objs));
	for (size_t i = 0; i < n; i++) {
		struct entry *e = &r->e[i];
		objs[i] = (struct vg_crset_obj){e->kind, cJSON_Duplicate(e->obj, 1), NULL};
		if (e->last_good && e->last_good_gen != e->generation)
			objs[i].fallback = cJSON_Duplicate(e->last_good, 1);
	}
	r->dirty = false;
	bool reload = r->stats.builds++ > 0;
	pthread_mutex_unlock(&r->mu);

	struct vg_crset_input in = {
		r->o.paths, r->o.npaths, r->o.load_more,	r->o.load_ctx,
		objs,	    n,		 r->o.max_rules_per_ns, r->o.ns_budget_ns};
	struct vg_diag d = {0};
	struct vg_crset *cs = vg_crset_build(&in, &d);
	pthread_mutex_lock(&r->cb_mu);
	if (r->quiet) { /* shutting down: nobody wants it any more */
		pthread_mutex_unlock(&r->cb_mu);
		vg_diag_free(&d);
		vg_crset_free(cs);
		for (size_t i = 0; i < n; i++) {
			cJSON_Delete((cJSON *)objs[i].obj);
			cJSON_Delete((cJSON *)objs[i].fallback);
		}
		free(objs);
		return NULL;
	}
	if (reload && d.errors > r->file_errors) {
		/* A broken edit of a rule file loses nothing that runs: the set
		 * in force stays until the files are fixed (and, with them, the
		 * object changes that came meanwhile). */
		vg_diag_print(&d, stderr);
		vg_log(VG_LOG_ERROR,
		       "the rule files have %zu errors: keeping the rules in force; fix them and "
		       "send SIGHUP again",
		       d.errors);
		if (r->o.metrics)
			vg_metric_inc(vg_metric_labels(r->o.metrics->rules_reloads, "failure"));
		pthread_mutex_unlock(&r->cb_mu);
		vg_diag_free(&d);
		vg_crset_free(cs);
		for (size_t i = 0; i < n; i++) {
			cJSON_Delete((cJSON *)objs[i].obj);
			cJSON_Delete((cJSON *)objs[i].fallback);
		}
		free(objs);
		pthread_mutex_lock(&r->mu);
		r->stats.rejected_files++;
		pthread_mutex_unlock(&r->mu);
		return NULL;
	}
	r->file_errors = d.errors;
	if (r->o.on_build)
		r->o.on_build(r->o.build_ctx, cs, &d);
	update_metrics(r, cs, reload);
	pthread_mutex_unlock(&r->cb_mu);
	vg_diag_free(&d);
	/* remember what was accepted, for when a later generation is not */
	const struct vg_crset_result *res;
	vg_crset_results(cs, &res);
	pthread_mutex_lock(&r->mu);
	for (size_t i = 0; i < n; i++) {
		if (!res[i].accepted)
			continue;
		struct entry *e = find(r, res[i].kind, res[i].ns, res[i].name);
		if (!e || e->generation != res[i].generation)
			continue;
		cJSON_Delete(e->last_good);
		e->last_good = cJSON_Duplicate(objs[i].obj, 1);
		e->last_good_gen = res[i].generation;
	}
	pthread_mutex_unlock(&r->mu);
	for (size_t i = 0; i < n; i++) {
		cJSON_Delete((cJSON *)objs[i].obj);
		cJSON_Delete((cJSON *)objs[i].fallback);
	}
	free(objs);
	return cs;
}

static void write_map(struct vg_reload *r, const uint8_t want[VG_NR_MAX])
{
	if (!memcmp(want, r->map, VG_NR_MAX))
		return;
	memcpy(r->map, want, VG_NR_MAX);
	if (!r->o.set_interest)
		return;
	char err[256];
	int rc = r->o.set_interest(r->o.interest_ctx, want, err, sizeof(err));
	pthread_mutex_lock(&r->mu);
	r->stats.map_writes++;
	r->stats.map_errors += rc != 0;
	pthread_mutex_unlock(&r->mu);
}

void vg_reload_costs_free(struct vg_reload_cost *c, size_t n)
{
	for (size_t i = 0; c && i < n; i++) {
		free(c[i].ns);
		free(c[i].name);
	}
	free(c);
}

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000ull + (uint64_t)ts.tv_nsec / 1000000ull;
}

/* Worker: the costs of the Rule objects of the set in force. */
static void refresh_costs(struct vg_reload *r)
{
	if (!r->live)
		return;
	const struct vg_crset_result *res;
	size_t n = vg_crset_results(r->live, &res), k = 0;
	struct vg_reload_cost *c = vg_xcalloc(n + 1, sizeof(*c));
	uint64_t now = mono_ms();
	pthread_mutex_lock(&r->mu);
	for (size_t i = 0; i < n; i++) {
		if (res[i].kind != VG_CR_RULE || !res[i].in_force)
			continue;
		struct vg_reload_cost *x = &c[k++];
		x->ns = vg_xstrdup(res[i].ns ? res[i].ns : "");
		x->name = vg_xstrdup(res[i].name);
		vg_crset_cost(r->live, i, &x->c);
		for (size_t j = 0; j < r->ncosts; j++) {
			const struct vg_reload_cost *o = &r->costs[j];
			if (strcmp(o->ns, x->ns) || strcmp(o->name, x->name))
				continue;
			x->throttled_ms = x->c.throttled > o->c.throttled ? now : o->throttled_ms;
			break;
		}
	}
	struct vg_reload_cost *old = r->costs;
	size_t nold = r->ncosts;
	r->costs = c;
	r->ncosts = k;
	pthread_mutex_unlock(&r->mu);
	vg_reload_costs_free(old, nold);
}

size_t vg_reload_costs(struct vg_reload *r, struct vg_reload_cost **out)
{
	pthread_mutex_lock(&r->mu);
	size_t n = r->ncosts;
	struct vg_reload_cost *c = vg_xcalloc(n + 1, sizeof(*c));
	for (size_t i = 0; i < n; i++) {
		c[i] = r->costs[i];
		c[i].ns = vg_xstrdup(r->costs[i].ns);
		c[i].name = vg_xstrdup(r->costs[i].name);
	}
	pthread_mutex_unlock(&r->mu);
	*out = c;
	return n;
}

/* The prefilter of a set (NULL when there is none). */
static struct vg_pf_table *prefilter_of(struct vg_reload *r, const struct vg_crset *cs)
{
	if (!r->o.set_prefilter)
		return NULL;
	struct vg_pf_table *t = vg_xmalloc(sizeof(*t));
	vg_engine_prefilter(vg_crset_engine(cs), t);
	return t;
}

static void write_pf(struct vg_reload *r, const struct vg_pf_table *t)
{
	if (!r->o.set_prefilter || !t || (r->pfmap && !memcmp(t, r->pfmap, sizeof(*t))))
		return;
	if (!r->pfmap)
		r->pfmap = vg_xmalloc(sizeof(*r->pfmap));
	memcpy(r->pfmap, t, sizeof(*t));
	char err[256];
	int rc = r->o.set_prefilter(r->o.interest_ctx, t, err, sizeof(err));
	pthread_mutex_lock(&r->mu);
	r->stats.pf_writes++;
	r->stats.pf_errors += rc != 0;
	pthread_mutex_unlock(&r->mu);
}

static void free_pending(struct pending *p)
{
	if (p) {
		free(p->pf);
		free(p);
	}
}

/* The sets the capture thread let go: narrow the map to the set in force
 * (and whatever a set still waiting needs), then free them. */
static void reap(struct vg_reload *r)
{
	pthread_mutex_lock(&r->mu);
	struct retired *list = r->retired;
	r->retired = NULL;
	pthread_mutex_unlock(&r->mu);
	if (!list)
		return;
	uint8_t want[VG_NR_MAX];
	memcpy(want, list->p->want, VG_NR_MAX); /* the newest swap is first */
	struct pending *p = atomic_load(&r->pending);
	if (p)
		for (int i = 0; i < VG_NR_MAX; i++)
			want[i] |= p->want[i];
	pthread_mutex_lock(&r->cb_mu);
	if (!r->quiet) {
		write_map(r, want);
		if (list->p->pf) {
			struct vg_pf_table *t = vg_xmalloc(sizeof(*t));
			memcpy(t, list->p->pf, sizeof(*t));
			if (p && p->pf)
				vg_pf_table_widen(t, p->pf);
			write_pf(r, t);
			free(t);
		}
	}
	pthread_mutex_unlock(&r->cb_mu);
	/* the capture thread no longer counts into these: carry each set's
	 * counts into its successor, oldest first (a chain of swaps) */
	r->live = list->p->cs;
	struct retired *rev = NULL;
	while (list) {
		struct retired *next = list->next;
		list->next = rev;
		rev = list;
		list = next;
	}
	for (struct retired *t = rev; t; t = t->next)
		vg_crset_inherit_costs(t->p->cs, t->old);
	refresh_costs(r);
	list = rev;
	while (list) {
		struct retired *next = list->next;
		vg_crset_free(list->old);
		free_pending(list->p);
		free(list);
		list = next;
	}
}

static void publish(struct vg_reload *r, struct vg_crset *cs)
{
	pthread_mutex_lock(&r->cb_mu);
	if (r->quiet) {
		pthread_mutex_unlock(&r->cb_mu);
		vg_crset_free(cs);
		return;
	}
	struct pending *p = vg_xcalloc(1, sizeof(*p));
	p->cs = cs;
	vg_crset_interest(cs, p->want);
	p->pf = prefilter_of(r, cs);
	/* a set still waiting is replaced: take it back first */
	struct pending *stale = atomic_exchange(&r->pending, NULL);
	if (stale) {
		vg_crset_free(stale->cs);
		free_pending(stale);
		pthread_mutex_lock(&r->mu);
		r->stats.discarded++;
		pthread_mutex_unlock(&r->mu);
	}
	uint8_t wide[VG_NR_MAX];
	for (int i = 0; i < VG_NR_MAX; i++)
		wide[i] = r->map[i] | p->want[i];
	write_map(r, wide);
	if (p->pf && r->pfmap) {
		/* what the kernel holds (the set in force, or more) and the new set's */
		struct vg_pf_table *t = vg_xmalloc(sizeof(*t));
		memcpy(t, r->pfmap, sizeof(*t));
		vg_pf_table_widen(t, p->pf);
		write_pf(r, t);
		free(t);
	}
	p->armed_ts = r->o.now(r->o.now_ctx);
	atomic_store(&r->pending, p);
	pthread_mutex_unlock(&r->cb_mu);
	pthread_mutex_lock(&r->mu);
	r->stats.published++;
	pthread_mutex_unlock(&r->mu);
}

static void free_all(struct vg_reload *r);

static void *worker(void *arg)
{
	struct vg_reload *r = arg;
	struct vg_crset *first = build(r); /* NULL if quiesced meanwhile */
	pthread_mutex_lock(&r->mu);
	r->first = first;
	r->first_done = true;
	pthread_cond_broadcast(&r->first_cv);
	/* the map is the caller's to write first */
	while (!r->first_taken && !atomic_load(&r->stop))
		pthread_cond_wait(&r->first_cv, &r->mu);
	pthread_mutex_unlock(&r->mu);
	struct pollfd pfd = {r->efd, POLLIN, 0};
	refresh_costs(r);
	while (!atomic_load(&r->stop)) {
		int rc = poll(&pfd, 1, VG_RELOAD_COST_MS);
		if (rc < 0 && errno != EINTR)
			break;
		if (rc == 0) { /* a second without work: the costs moved on */
			refresh_costs(r);
			continue;
		}
		uint64_t v;
		ssize_t rd = read(r->efd, &v, sizeof(v));
		(void)rd;
		if (atomic_load(&r->stop))
			break;
		reap(r);
		pthread_mutex_lock(&r->mu);
		bool dirty = r->dirty;
		pthread_mutex_unlock(&r->mu);
		bool files = atomic_exchange(&r->files_requested, 0);
		if (!dirty && !files)
			continue;
		/* coalesce a burst (an informer's initial list, kubectl apply
		 * of many objects) into one build */
		struct timespec ts = {r->o.debounce_ms / 1000,
				      (long)(r->o.debounce_ms % 1000) * 1000000L};
		while (nanosleep(&ts, &ts) && errno == EINTR)
			;
		if (atomic_load(&r->stop))
			break;
		atomic_store(&r->files_requested, 0);
		struct vg_crset *cs = build(r);
		if (cs)
			publish(r, cs);
		reap(r);
	}
	pthread_mutex_lock(&r->mu);
	r->worker_done = true;
	bool mine = r->abandoned;
	pthread_mutex_unlock(&r->mu);
	if (mine)
		free_all(r);
	return NULL;
}

struct vg_engine *vg_reload_start(struct vg_reload *r, char *err, size_t errlen)
{
	if (errlen)
		err[0] = 0;
	if (pthread_create(&r->worker, NULL, worker, r)) {
		snprintf(err, errlen, "cannot start the rule reload thread");
		return NULL;
	}
	r->started = true;
	pthread_mutex_lock(&r->mu);
	while (!r->first_done && !(r->o.should_stop && r->o.should_stop(r->o.stop_ctx))) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts); /* the condition variable's clock */
		ts.tv_nsec += 50 * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&r->first_cv, &r->mu, &ts);
	}
	struct vg_crset *cs = r->first;
	r->first = NULL;
	pthread_mutex_unlock(&r->mu);
	if (!cs) { /* asked to stop: the compile is left to end unseen */
		vg_reload_quiesce(r);
		snprintf(err, errlen, "stopped while compiling the first rule set");
		return NULL;
	}
	r->current = cs;
	uint8_t want[VG_NR_MAX];
	vg_crset_interest(r->current, want);
	memcpy(r->map, want, VG_NR_MAX);
	if (r->o.set_interest) {
		int rc = r->o.set_interest(r->o.interest_ctx, want, err, errlen);
		r->stats.map_writes++;
		r->stats.map_errors += rc != 0;
	}
	struct vg_pf_table *pf = prefilter_of(r, r->current);
	write_pf(r, pf);
	free(pf);
	pthread_mutex_lock(&r->mu);
	r->live = cs; /* the worker reads it once first_taken is set */
	r->first_taken = true;
	pthread_cond_broadcast(&r->first_cv);
	pthread_mutex_unlock(&r->mu);
	return vg_crset_engine(r->current);
}

bool vg_reload_poll(struct vg_reload *r, uint64_t ts, struct vg_engine **engine)
{
	struct pending *p = atomic_load_explicit(&r->pending, memory_order_acquire);
	if (!p || ts < p->armed_ts)
		return false;
	p = atomic_exchange(&r->pending, NULL);
	if (!p)
		return false; /* taken back for a newer one */
	struct retired *old = vg_xmalloc(sizeof(*old));
	old->old = r->current;
	old->p = p;
	r->current = p->cs;
	*engine = vg_crset_engine(p->cs);
	pthread_mutex_lock(&r->mu);
	old->next = r->retired;
	r->retired = old;
	r->stats.swaps++;
	pthread_mutex_unlock(&r->mu);
	wake(r);
	return true;
}

size_t vg_reload_file_errors(struct vg_reload *r)
{
	pthread_mutex_lock(&r->cb_mu);
	size_t n = r->file_errors;
	pthread_mutex_unlock(&r->cb_mu);
	return n;
}

bool vg_reload_pending(struct vg_reload *r)
{
	return atomic_load(&r->pending) != NULL;
}

void vg_reload_get_stats(struct vg_reload *r, struct vg_reload_stats *out)
{
	pthread_mutex_lock(&r->mu);
	*out = r->stats;
	pthread_mutex_unlock(&r->mu);
}

void vg_reload_quiesce(struct vg_reload *r)
{
	pthread_mutex_lock(&r->cb_mu); /* waits for a callback running now */
	r->quiet = true;
	atomic_store(&r->stop, 1);
	pthread_mutex_unlock(&r->cb_mu);
	pthread_mutex_lock(&r->mu);
	pthread_cond_broadcast(&r->first_cv); /* a worker waiting for the first map */
	pthread_mutex_unlock(&r->mu);
	wake(r);
}

void vg_reload_free(struct vg_reload *r)
{
	if (!r)
		return;
	vg_reload_quiesce(r);
	if (r->started) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts); /* pthread_timedjoin_np's clock */
		uint64_t t = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec +
			     VG_RELOAD_FREE_WAIT_MS * 1000000ull;
		ts.tv_sec = (time_t)(t / 1000000000ull);
		ts.tv_nsec = (long)(t % 1000000000ull);
		if (pthread_timedjoin_np(r->worker, NULL, &ts)) {
			pthread_mutex_lock(&r->mu);
			bool done = r->worker_done;
			r->abandoned = !done;
			pthread_mutex_unlock(&r->mu);
			if (!done) {
				/* still compiling: it frees all this when it ends */
				vg_log(VG_LOG_INFO, "shutting down during a rule compile: "
						    "not waiting for it");
				pthread_detach(r->worker);
				return;
			}
			pthread_join(r->worker, NULL);
		}
	}
	free_all(r);
}

static void free_all(struct vg_reload *r)
{
	struct pending *p = atomic_exchange(&r->pending, NULL);
	if (p) {
		vg_crset_free(p->cs);
		free_pending(p);
	}
	for (struct retired *t = r->retired, *next; t; t = next) {
		next = t->next;
		vg_crset_free(t->old);
		free_pending(t->p);
		free(t);
	}
	vg_crset_free(r->current);
	vg_crset_free(r->first);
	vg_reload_costs_free(r->costs, r->ncosts);
	for (size_t i = 0; i < r->n; i++)
		entry_free(&r->e[i]);
	free(r->e);
	for (size_t i = 0; i < r->o.npaths; i++)
		free(r->paths[i]);
	free(r->paths);
	free(r->pfmap);
	close(r->efd);
	pthread_mutex_destroy(&r->mu);
	pthread_mutex_destroy(&r->cb_mu);
	pthread_cond_destroy(&r->first_cv);
	free(r);
}
