/* alertq.c - see alertq.h.  A mutex-protected ring of pointers: pushes
 * come from one thread at a few thousand per second at most, so a lock is
 * simpler than a lock-free ring and never the bottleneck. */
#include "alertq.h"
#include "util.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct vg_alert *vg_alert_new(const char *rule, int priority, uint64_t ts, char *json, char *text)
{
	struct vg_alert *a = vg_xcalloc(1, sizeof(*a));
	atomic_init(&a->refs, 1);
	a->rule = vg_xstrdup(rule);
	a->priority = priority;
	a->ts = ts;
	a->json = json;
	a->json_len = json ? strlen(json) : 0;
	a->text = text;
	a->text_len = text ? strlen(text) : 0;
	return a;
}

static char *dup_or_null(const char *s)
{
	return s ? vg_xstrdup(s) : NULL;
}

void vg_alert_set_subject(struct vg_alert *a, const char *message, const char *k8s_ns,
			  const char *k8s_pod, const char *k8s_uid)
{
	free(a->message);
	free(a->k8s_ns);
	free(a->k8s_pod);
	free(a->k8s_uid);
	a->message = dup_or_null(message);
	a->k8s_ns = dup_or_null(k8s_ns);
	a->k8s_pod = dup_or_null(k8s_pod);
	a->k8s_uid = dup_or_null(k8s_uid);
}

static void free_object(struct vg_alert *a)
{
	free(a->obj_kind);
	free(a->obj_api_version);
	free(a->obj_ns);
	free(a->obj_name);
	free(a->obj_uid);
}

void vg_alert_set_object(struct vg_alert *a, const char *kind, const char *api_version,
			 const char *ns, const char *name, const char *uid)
{
	free_object(a);
	a->obj_kind = dup_or_null(kind);
	a->obj_api_version = dup_or_null(api_version);
	a->obj_ns = dup_or_null(ns);
	a->obj_name = dup_or_null(name);
	a->obj_uid = dup_or_null(uid);
}

void vg_alert_ref(struct vg_alert *a)
{
	atomic_fetch_add_explicit(&a->refs, 1, memory_order_relaxed);
}

void vg_alert_unref(struct vg_alert *a)
{
	if (!a || atomic_fetch_sub_explicit(&a->refs, 1, memory_order_acq_rel) != 1)
		return;
	free(a->rule);
	free(a->json);
	free(a->text);
	free(a->message);
	free(a->k8s_ns);
	free(a->k8s_pod);
	free(a->k8s_uid);
	free_object(a);
	free(a);
}

struct vg_alertq {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct vg_alert **ring;
	size_t cap, head, len;
	bool closed, kicked;
};

struct vg_alertq *vg_alertq_new(size_t capacity)
{
	struct vg_alertq *q = vg_xcalloc(1, sizeof(*q));
	q->cap = capacity ? capacity : 1;
	q->ring = vg_xcalloc(q->cap, sizeof(*q->ring));
	pthread_mutex_init(&q->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&q->cv, &ca);
	pthread_condattr_destroy(&ca);
	return q;
}

void vg_alertq_free(struct vg_alertq *q)
{
	if (!q)
		return;
	for (size_t i = 0; i < q->len; i++)
		vg_alert_unref(q->ring[(q->head + i) % q->cap]);
	pthread_mutex_destroy(&q->mu);
	pthread_cond_destroy(&q->cv);
	free(q->ring);
	free(q);
}

int vg_alertq_push(struct vg_alertq *q, struct vg_alert *a)
{
	pthread_mutex_lock(&q->mu);
	int rc = VG_ALERTQ_OK;
	if (q->closed)
		rc = VG_ALERTQ_CLOSED;
	else if (q->len == q->cap)
		rc = VG_ALERTQ_FULL;
	else {
		vg_alert_ref(a);
		q->ring[(q->head + q->len) % q->cap] = a;
		q->len++;
		pthread_cond_signal(&q->cv);
	}
	pthread_mutex_unlock(&q->mu);
	return rc;
}

int vg_alertq_pop(struct vg_alertq *q, struct vg_alert **out, int timeout_ms)
{
	struct timespec until;
	clock_gettime(CLOCK_MONOTONIC, &until);
	if (timeout_ms > 0) {
		until.tv_sec += timeout_ms / 1000;
		until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
	}
	pthread_mutex_lock(&q->mu);
	int rc = VG_ALERTQ_OK;
	while (!q->len && !q->closed && !q->kicked) {
		if (timeout_ms == 0) {
			rc = VG_ALERTQ_TIMEOUT;
			break;
		}
		if (timeout_ms < 0)
			pthread_cond_wait(&q->cv, &q->mu);
		else if (pthread_cond_timedwait(&q->cv, &q->mu, &until) == ETIMEDOUT) {
			rc = VG_ALERTQ_TIMEOUT;
			break;
		}
	}
	if (q->len) {
		*out = q->ring[q->head];
		q->head = (q->head + 1) % q->cap;
		q->len--;
		rc = VG_ALERTQ_OK;
	} else if (q->closed) {
		rc = VG_ALERTQ_CLOSED;
	} else if (q->kicked) {
		rc = VG_ALERTQ_TIMEOUT;
	}
	q->kicked = false;
	pthread_mutex_unlock(&q->mu);
	return rc;
}

void vg_alertq_close(struct vg_alertq *q)
{
	pthread_mutex_lock(&q->mu);
	q->closed = true;
	pthread_cond_broadcast(&q->cv);
	pthread_mutex_unlock(&q->mu);
}

void vg_alertq_kick(struct vg_alertq *q)
{
	pthread_mutex_lock(&q->mu);
	q->kicked = true;
	pthread_cond_broadcast(&q->cv);
	pthread_mutex_unlock(&q->mu);
}

size_t vg_alertq_len(struct vg_alertq *q)
{
	pthread_mutex_lock(&q->mu);
	size_t n = q->len;
	pthread_mutex_unlock(&q->mu);
	return n;
}

size_t vg_alertq_capacity(const struct vg_alertq *q)
{
	return q->cap;
}
