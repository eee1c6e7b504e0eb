/* k8smetrics.c - see k8smetrics.h. */
#include "k8smetrics.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

struct vg_k8smetrics {
	struct vg_vigil_metrics *vm;
	pthread_mutex_t mu;
	struct k8s_informer **infs;
	size_t n;
};

/* Informer stats are per informer; two informers of one resource add up. */
static void collect(struct vg_k8smetrics *km, bool restarts)
{
	struct vg_metric_family *f =
		restarts ? km->vm->k8s_watch_restarts : km->vm->k8s_cache_objects;
	pthread_mutex_lock(&km->mu);
	for (size_t i = 0; i < km->n; i++) {
		const char *res = k8s_informer_resource(km->infs[i]);
		uint64_t restarts_sum = 0;
		double objects = 0;
		bool first = true;
		for (size_t j = 0; j < km->n; j++) {
			if (strcmp(k8s_informer_resource(km->infs[j]), res))
				continue;
			if (j < i) {
				first = false;
				break;
			}
			struct k8s_informer_stats st;
			k8s_informer_stats(km->infs[j], &st);
			restarts_sum += st.restarts;
			objects += (double)st.objects;
		}
		if (!first)
			continue;
		struct vg_metric_series *s = vg_metric_labels(f, res);
		if (restarts)
			vg_metric_counter_set(s, restarts_sum);
		else
			vg_metric_set(s, objects);
	}
	pthread_mutex_unlock(&km->mu);
}

static void collect_restarts(struct vg_metric_family *f, void *arg)
{
	(void)f;
	collect(arg, true);
}

static void collect_objects(struct vg_metric_family *f, void *arg)
{
	(void)f;
	collect(arg, false);
}

struct vg_k8smetrics *vg_k8smetrics_new(struct vg_vigil_metrics *vm)
{
	struct vg_k8smetrics *km = vg_xcalloc(1, sizeof(*km));
	km->vm = vm;
	pthread_mutex_init(&km->mu, NULL);
	vg_metric_family_set_collect(vm->k8s_watch_restarts, collect_restarts, km);
	vg_metric_family_set_collect(vm->k8s_cache_objects, collect_objects, km);
	return km;
}

void vg_k8smetrics_free(struct vg_k8smetrics *km)
{
	if (!km)
		return;
	vg_metric_family_set_collect(km->vm->k8s_watch_restarts, NULL, NULL);
	vg_metric_family_set_collect(km->vm->k8s_cache_objects, NULL, NULL);
	pthread_mutex_destroy(&km->mu);
	free(km->infs);
	free(km);
}

void vg_k8smetrics_request_hook(void *ctx, const char *verb, const char *resource, int code)
{
	struct vg_k8smetrics *km = ctx;
	char c[16];
	snprintf(c, sizeof(c), "%d", code);
	vg_metric_inc(vg_metric_labels(km->vm->k8s_requests, verb, resource, c));
}

void vg_k8smetrics_add_informer(struct vg_k8smetrics *km, struct k8s_informer *inf)
{
	pthread_mutex_lock(&km->mu);
	km->infs = vg_xrealloc(km->infs, (km->n + 1) * sizeof(*km->infs));
	km->infs[km->n++] = inf;
	pthread_mutex_unlock(&km->mu);
}

void vg_k8smetrics_remove_informer(struct vg_k8smetrics *km, struct k8s_informer *inf)
{
	pthread_mutex_lock(&km->mu);
	for (size_t i = 0; i < km->n; i++) {
		if (km->infs[i] == inf) {
			km->infs[i] = km->infs[--km->n];
			break;
		}
	}
	pthread_mutex_unlock(&km->mu);
}
