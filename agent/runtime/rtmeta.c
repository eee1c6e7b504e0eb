/* rtmeta.c - see rtmeta.h.
 *
 * Worker: owns the entries (one per container id, immutable once made and
 * reference-counted) and the retry list; after a batch of changes it
 * publishes a snapshot, an open-addressing index id -> entry holding a
 * reference to each, so a snapshot stays intact however long the capture
 * thread keeps it.  Capture thread: adopts the newest snapshot in
 * vg_rtmeta_sync(), looks ids up in it, and on a miss pushes the id on a
 * bounded request queue (at most once a second per id).
 */
#include "rtmeta.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

#define QUEUE_CAP 1024
#define PENDING_CAP 1024
#define ASKED_SLOTS 512
#define ASK_AGAIN_NS 1000000000ull
#define ABSENT_TTL_NS (60ull * 1000000000ull)
#define SWEEP_NS (30ull * 1000000000ull)
#define MS 1000000ull

static const uint64_t retry_ns[] = {5 * MS, 20 * MS, 100 * MS, 400 * MS, 1500 * MS};
#define NRETRY (sizeof(retry_ns) / sizeof(retry_ns[0]))

struct ent {
	_Atomic long ref;
	char id[VG_CONTAINER_ID_LEN];
	enum vg_rt_status status;
	uint64_t made_ns;
	struct vg_rtinfo ri;
	char *full_id, *path;
	struct vg_container_meta meta;
};

static void ent_unref(struct ent *e)
{
	if (!e || atomic_fetch_sub(&e->ref, 1) != 1)
		return;
	vg_rtinfo_free(&e->ri);
	free(e->full_id);
	free(e->path);
	free(e);
}

struct snap {
	_Atomic long ref;
	uint64_t gen;
	struct ent **ents;
	size_t n;
	uint32_t *idx; /* slot -> entry index + 1; 0 empty */
	size_t nidx;   /* power of two */
};

static void snap_unref(struct snap *s)
{
	if (!s || atomic_fetch_sub(&s->ref, 1) != 1)
		return;
	for (size_t i = 0; i < s->n; i++)
		ent_unref(s->ents[i]);
	free(s->ents);
	free(s->idx);
	free(s);
}

static uint32_t id_hash(const char *id)
{
	return vg_hash_bytes(id, strlen(id));
}

static const struct ent *snap_find(const struct snap *s, const char *id)
{
	if (!s || !s->nidx)
		return NULL;
	size_t mask = s->nidx - 1;
	for (size_t i = id_hash(id) & mask;; i = (i + 1) & mask) {
		uint32_t v = s->idx[i];
		if (!v)
			return NULL;
		if (!strcmp(s->ents[v - 1]->id, id))
			return s->ents[v - 1];
	}
}

struct pending {
	char id[VG_CONTAINER_ID_LEN];
	unsigned tries;
	uint64_t due_ns;
};

struct vg_rtmeta {
	struct vg_rtmeta_opts o;
	char **roots; /* copies of every root string */
	size_t nroots;

	pthread_t thr;
	bool started;
	pthread_mutex_t mu; /* queue, stop, published snapshot, last error */
	pthread_cond_t cv;
	bool stop;
	char queue[QUEUE_CAP][VG_CONTAINER_ID_LEN];
	size_t qhead, qlen;
	struct snap *pub;
	_Atomic uint64_t pub_gen;
	char last_err[512];

	/* worker */
	struct ent **ents;
	size_t nents;
	struct pending pend[PENDING_CAP];
	size_t npend;
	uint64_t next_sweep;
	uint64_t gen;

	/* capture thread */
	struct snap *cur;
	uint64_t cur_gen;
	struct {
		char id[VG_CONTAINER_ID_LEN];
		uint64_t t;
	} asked[ASKED_SLOTS];

	/* stats */
	_Atomic uint64_t n_found, n_absent, n_errors, n_evictions, n_qdrops, n_mdrops;
	_Atomic uint64_t n_ents;
};

/* --- lifecycle --------------------------------------------------------------------- */

static const char *const *copy_roots(struct vg_rtmeta *m, const char *const *r, size_t n)
{
	const char **out = (const char **)(m->roots + m->nroots);
	for (size_t i = 0; i < n; i++)
		m->roots[m->nroots++] = vg_xstrdup(r[i]);
	return out;
}

struct vg_rtmeta *vg_rtmeta_new(const struct vg_rtmeta_opts *o)
{
	struct vg_rtmeta *m = vg_xcalloc(1, sizeof(*m));
	m->o = *o;
	if (!m->o.max_containers)
		m->o.max_containers = 4096;
	if (!m->o.max_file_bytes)
		m->o.max_file_bytes = 512 * 1024;
	m->roots = vg_xcalloc(o->ncontainerd + o->ncrio + o->nrunc + 1, sizeof(char *));
	m->o.containerd_roots = copy_roots(m, o->containerd_roots, o->ncontainerd);
	m->o.crio_roots = copy_roots(m, o->crio_roots, o->ncrio);
	m->o.runc_roots = copy_roots(m, o->runc_roots, o->nrunc);
	m->ents = vg_xcalloc(m->o.max_containers, sizeof(*m->ents));
	pthread_mutex_init(&m->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&m->cv, &ca);
	pthread_condattr_destroy(&ca);
	return m;
}

static void *worker(void *arg);

int vg_rtmeta_start(struct vg_rtmeta *m)
{
	int r = pthread_create(&m->thr, NULL, worker, m);
	if (r)
		return -r;
	m->started = true;
	return 0;
}

void vg_rtmeta_free(struct vg_rtmeta *m)
{
	if (!m)
		return;
	if (m->started) {
		pthread_mutex_lock(&m->mu);
		m->stop = true;
		pthread_cond_signal(&m->cv);
		pthread_mutex_unlock(&m->mu);
		pthread_join(m->thr, NULL);
	}
	for (size_t i = 0; i < m->nents; i++)
		ent_unref(m->ents[i]);
	free(m->ents);
	snap_unref(m->pub);
	snap_unref(m->cur);
	for (size_t i = 0; i < m->nroots; i++)
		free(m->roots[i]);
	free(m->roots);
	pthread_mutex_destroy(&m->mu);
	pthread_cond_destroy(&m->cv);
	free(m);
}

/* --- worker ------------------------------------------------------------------------ */

static struct ent *find_ent(struct vg_rtmeta *m, const char *id, size_t *at)
{
	for (size_t i = 0; i < m->nents; i++)
		if (!strcmp(m->ents[i]->id, id)) {
			if (at)
				*at = i;
			return m->ents[i];
		}
	return NULL;
}

static void drop_ent(struct vg_rtmeta *m, size_t i)
{
	ent_unref(m->ents[i]);
	memmove(&m->ents[i], &m->ents[i + 1], (m->nents - i - 1) * sizeof(*m->ents));
	m->nents--;
}

static void add_ent(struct vg_rtmeta *m, struct ent *e)
{
	if (m->nents == m->o.max_containers) {
		drop_ent(m, 0); /* the oldest */
		atomic_fetch_add(&m->n_evictions, 1);
	}
	m->ents[m->nents++] = e;
}

static void fill_meta(struct ent *e)
{
	struct vg_container_meta *cm = &e->meta;
	struct vg_rtinfo *ri = &e->ri;
	cm->name = ri->name;
	cm->image = ri->image;
	cm->image_repo = ri->image_repo;
	cm->image_tag = ri->image_tag;
	cm->privileged = ri->privileged;
	cm->mounts = ri->mounts_known ? ri->mounts : NULL;
	cm->nmounts = ri->mounts_known ? ri->nmounts : 0;
	if (ri->mounts_known && !cm->mounts) {
		static const struct vg_mount none[1];
		cm->mounts = none; /* known and empty */
	}
	cm->pod_name = ri->pod_name;
	cm->pod_uid = ri->pod_uid;
	cm->ns_name = ri->pod_ns;
	cm->full_id = e->full_id;
	cm->type = ri->type;
	cm->user = ri->user;
}

/* Try id once: an entry when found (or definitely unusable on the last
 * try), NULL to retry. */
static struct ent *try_resolve(struct vg_rtmeta *m, const char *id, bool last)
{
	struct ent *e = vg_xcalloc(1, sizeof(*e));
	atomic_init(&e->ref, 1);
	snprintf(e->id, sizeof(e->id), "%s", id);
	e->made_ns = vg_now_mono_ns();
	char err[512];
	int r = vg_rtmeta_resolve(&m->o, id, &e->ri, &e->full_id, &e->path, err, sizeof(err));
	if (r == 1) {
		e->status = VG_RT_FOUND;
		fill_meta(e);
		atomic_fetch_add(&m->n_found, 1);
		atomic_fetch_add(&m->n_mdrops, e->ri.nmounts_dropped);
		if (e->ri.warn[0]) { /* used, but a member is unknown */
			atomic_fetch_add(&m->n_errors, 1);
			pthread_mutex_lock(&m->mu);
			snprintf(m->last_err, sizeof(m->last_err), "%s: %s", e->path, e->ri.warn);
			pthread_mutex_unlock(&m->mu);
		}
		return e;
	}
	if (!last) {
		ent_unref(e);
		return NULL;
	}
	e->status = VG_RT_ABSENT;
	e->meta.privileged = -1;
	atomic_fetch_add(&m->n_absent, 1);
	if (r < 0) {
		atomic_fetch_add(&m->n_errors, 1);
		pthread_mutex_lock(&m->mu);
		snprintf(m->last_err, sizeof(m->last_err), "%s", err);
		pthread_mutex_unlock(&m->mu);
	}
	return e;
}

static void publish(struct vg_rtmeta *m)
{
	struct snap *s = vg_xcalloc(1, sizeof(*s));
	atomic_init(&s->ref, 1);
	s->gen = ++m->gen;
	s->ents = vg_xcalloc(m->nents ? m->nents : 1, sizeof(*s->ents));
	s->nidx = 16;
	while (s->nidx < m->nents * 2)
		s->nidx *= 2;
	s->idx = vg_xcalloc(s->nidx, sizeof(*s->idx));
	size_t mask = s->nidx - 1;
	for (size_t i = 0; i < m->nents; i++) {
		struct ent *e = m->ents[i];
		atomic_fetch_add(&e->ref, 1);
		s->ents[s->n] = e;
		size_t j = id_hash(e->id) & mask;
		while (s->idx[j])
			j = (j + 1) & mask;
		s->idx[j] = (uint32_t)(++s->n);
	}
	atomic_store(&m->n_ents, m->nents);
	pthread_mutex_lock(&m->mu);
	struct snap *old = m->pub;
	m->pub = s;
	atomic_store_explicit(&m->pub_gen, s->gen, memory_order_release);
	pthread_mutex_unlock(&m->mu);
	snap_unref(old);
}

static bool is_pending(struct vg_rtmeta *m, const char *id)
{
	for (size_t i = 0; i < m->npend; i++)
		if (!strcmp(m->pend[i].id, id))
			return true;
	return false;
}

static bool handle_new(struct vg_rtmeta *m, const char *id, uint64_t now)
{
	if (find_ent(m, id, NULL) || is_pending(m, id))
		return false;
	struct ent *e = try_resolve(m, id, false);
	if (e) {
		add_ent(m, e);
		return true;
	}
	if (m->npend == PENDING_CAP)
		return false; /* asked again in a second */
	struct pending *p = &m->pend[m->npend++];
	memcpy(p->id, id, VG_CONTAINER_ID_LEN);
	p->tries = 0;
	p->due_ns = now + retry_ns[0];
	return false;
}

static bool handle_due(struct vg_rtmeta *m, uint64_t now)
{
	bool changed = false;
	for (size_t i = 0; i < m->npend;) {
		struct pending *p = &m->pend[i];
		if (p->due_ns > now) {
			i++;
			continue;
		}
		bool last = p->tries + 1 >= NRETRY;
		struct ent *e = try_resolve(m, p->id, last);
		if (!e) {
			p->tries++;
			p->due_ns = now + retry_ns[p->tries];
			i++;
			continue;
		}
		add_ent(m, e);
		changed = true;
		m->pend[i] = m->pend[--m->npend];
	}
	return changed;
}

/* Forget absent answers after a while (a container may yet appear under
 * a root mounted late) and containers whose files are gone. */
static bool sweep(struct vg_rtmeta *m, uint64_t now)
{
	bool changed = false;
	for (size_t i = 0; i < m->nents;) {
		struct ent *e = m->ents[i];
		bool gone = e->status == VG_RT_ABSENT ? now - e->made_ns > ABSENT_TTL_NS
						      : access(e->path, F_OK) != 0;
		if (gone) {
			drop_ent(m, i);
			changed = true;
		} else {
			i++;
		}
	}
	return changed;
}

static void *worker(void *arg)
{
	struct vg_rtmeta *m = arg;
	char batch[QUEUE_CAP][VG_CONTAINER_ID_LEN];
	m->next_sweep = vg_now_mono_ns() + SWEEP_NS;
	pthread_mutex_lock(&m->mu);
	while (!m->stop) {
		uint64_t now = vg_now_mono_ns(), wake = m->next_sweep;
		for (size_t i = 0; i < m->npend; i++)
			if (m->pend[i].due_ns < wake)
				wake = m->pend[i].due_ns;
		if (!m->qlen && wake > now) {
			struct timespec ts = {(time_t)(wake / 1000000000ull),
					      (long)(wake % 1000000000ull)};
			pthread_cond_timedwait(&m->cv, &m->mu, &ts);
			continue;
		}
		size_t n = m->qlen;
		for (size_t i = 0; i < n; i++)
			memcpy(batch[i], m->queue[(m->qhead + i) % QUEUE_CAP], VG_CONTAINER_ID_LEN);
		m->qhead = (m->qhead + n) % QUEUE_CAP;
		m->qlen = 0;
		pthread_mutex_unlock(&m->mu);

		bool changed = false;
		now = vg_now_mono_ns();
		for (size_t i = 0; i < n; i++)
			changed |= handle_new(m, batch[i], now);
		changed |= handle_due(m, vg_now_mono_ns());
		if (now >= m->next_sweep) {
			changed |= sweep(m, now);
			m->next_sweep = now + SWEEP_NS;
		}
		if (changed)
			publish(m);
		pthread_mutex_lock(&m->mu);
	}
	pthread_mutex_unlock(&m->mu);
	return NULL;
}

/* --- capture thread ------------------------------------------------------------------ */

void vg_rtmeta_sync(struct vg_rtmeta *m)
{
	if (atomic_load_explicit(&m->pub_gen, memory_order_acquire) == m->cur_gen)
		return;
	pthread_mutex_lock(&m->mu);
	struct snap *s = m->pub;
	if (s)
		atomic_fetch_add(&s->ref, 1);
	m->cur_gen = s ? s->gen : 0;
	pthread_mutex_unlock(&m->mu);
	snap_unref(m->cur);
	m->cur = s;
}

static void request(struct vg_rtmeta *m, const char *id)
{
	uint64_t now = vg_now_mono_ns();
	size_t slot = id_hash(id) & (ASKED_SLOTS - 1);
	if (!strcmp(m->asked[slot].id, id) && now - m->asked[slot].t < ASK_AGAIN_NS)
		return;
	snprintf(m->asked[slot].id, sizeof(m->asked[slot].id), "%s", id);
	m->asked[slot].t = now;
	pthread_mutex_lock(&m->mu);
	if (m->qlen == QUEUE_CAP) {
		atomic_fetch_add(&m->n_qdrops, 1);
	} else {
		memcpy(m->queue[(m->qhead + m->qlen) % QUEUE_CAP], id, VG_CONTAINER_ID_LEN);
		m->qlen++;
		pthread_cond_signal(&m->cv);
	}
	pthread_mutex_unlock(&m->mu);
}

const struct vg_container_meta *vg_rtmeta_lookup(struct vg_rtmeta *m, const char *id,
						 enum vg_rt_status *status)
{
	enum vg_rt_status st = VG_RT_PENDING;
	const struct vg_container_meta *cm = NULL;
	if (id && strlen(id) == VG_CONTAINER_ID_LEN - 1) {
		const struct ent *e = snap_find(m->cur, id);
		if (e) {
			st = e->status;
			cm = st == VG_RT_FOUND ? &e->meta : NULL;
		} else {
			request(m, id);
		}
	} else {
		st = VG_RT_ABSENT;
	}
	if (status)
		*status = st;
	return cm;
}

uint64_t vg_rtmeta_generation(struct vg_rtmeta *m)
{
	return atomic_load(&m->pub_gen);
}

void vg_rtmeta_get_stats(struct vg_rtmeta *m, struct vg_rtmeta_stats *out)
{
	out->containers = atomic_load(&m->n_ents);
	out->found = atomic_load(&m->n_found);
	out->absent = atomic_load(&m->n_absent);
	out->errors = atomic_load(&m->n_errors);
	out->evictions = atomic_load(&m->n_evictions);
	out->requests_dropped = atomic_load(&m->n_qdrops);
	out->mounts_dropped = atomic_load(&m->n_mdrops);
}

void vg_rtmeta_last_error(struct vg_rtmeta *m, char *out, size_t cap)
{
	pthread_mutex_lock(&m->mu);
	snprintf(out, cap, "%s", m->last_err);
	pthread_mutex_unlock(&m->mu);
}
