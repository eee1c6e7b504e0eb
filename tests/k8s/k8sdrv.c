/* k8sdrv.c - the driver the Kubernetes end-to-end tests run: the k8s/
 * library against a real kube-apiserver, printing what it sees as JSON
 * lines on stdout.
 *
 * -H prints every finished request as {"ev":"request","verb":V,"resource":R,"code":N}
 * (the hook the agent feeds vigil_k8s_requests_total with).
 *
 *   k8sdrv [-k KUBECONFIG] get PATH
 *       one GET; prints {"status":N,"message":..,"body":...}
 *   k8sdrv [-k KUBECONFIG] watch [options]
 *       runs an informer; prints one line per callback:
 *       {"ev":"add"|"update"|"delete","key":K,"rv":RV,"labels":{..}}
 *       {"ev":"synced","objects":N,...stats}  {"ev":"error","code":N,"reason":R,"message":M}
 *       and with -E every raw watch event {"ev":"raw","type":T,"rv":RV}.
 *       Reads commands on stdin: "dump" prints {"ev":"dump","keys":[sorted],...stats};
 *       "quit" (or EOF) stops.
 *       options: -p PATH -r RESOURCE -l LABELSEL -f FIELDSEL -m (metadata only)
 *                -t WATCH_TIMEOUT_S -i IDLE_TIMEOUT_S -R INITIAL_RV -n PAGE_SIZE -E
 *                -K (cache keys only; dump adds "cached_extra": cached objects with
 *                more than the key members; update lines add "old_has_spec")
 *   k8sdrv [-k KUBECONFIG] meta -N NODE [-t WATCH_TIMEOUT_S]
 *       runs vg_k8smeta; prints {"ev":"publish","gen":N,"containers":N,"synced":B}
 *       per snapshot; stdin "lookup ID" prints {"ev":"lookup","id":ID,"found":B,...meta};
 *       "hammer SECONDS ID" reads ID's metadata in a loop as the capture thread would
 *       (sync + lookup + touch every string) and prints {"ev":"hammer","loops","found","gens"}
 *   k8sdrv [-k KUBECONFIG] events -N NODE [-o OBJ_RATE] [-b OBJ_BURST] [-O NODE_RATE]
 *                                  [-B NODE_BURST] [-q QUEUE_MAX] [-a MAX_ATTEMPTS]
 *                                  [-S SERIES_PER_RULE]
 *       runs k8s_events; stdin: a JSON line {"rule","note","kind","ns","name","uid","n"}
 *       plus the rule object {"okind","ons","oname"} when it has one
 *       emits n (default 1) occurrences; "stats" prints {"ev":"stats",...,"last_error"}
 *   k8sdrv [-k KUBECONFIG] lease -n NS -l NAME -I IDENTITY [-d DURATION_S] [-r RETRY_S]
 *       runs k8s_lease; prints {"ev":"leader","leader":B} on every change and
 *       {"ev":"error",...}; stdin "quit" (or EOF) releases and stops.
 *   k8sdrv [-k KUBECONFIG] status OBJECT_PATH RESOURCE STATUS_JSON
 *       merge-patches OBJECT_PATH/status; prints {"status":N,"message":M}
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "k8s_client.h"
#include "k8s_config.h"
#include "k8s_events.h"
#include "k8s_informer.h"
#include "k8s_lease.h"
#include "k8smeta.h"

static struct k8s_config *cfg;
static struct k8s_client *cli;

static void out_json(cJSON *o)
{
	char *s = cJSON_PrintUnformatted(o);
	printf("%s\n", s);
	fflush(stdout);
	free(s);
	cJSON_Delete(o);
}

static int cmd_get(int argc, char **argv)
{
	if (argc < 1) {
		fprintf(stderr, "usage: k8sdrv get PATH\n");
		return 2;
	}
	struct k8s_request r = {.path = argv[0], .resource = "test"};
	cJSON *body = NULL;
	char msg[512];
	int st = k8s_client_do(cli, &r, &body, msg, sizeof(msg));
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "status", st);
	cJSON_AddStringToObject(o, "message", msg);
	if (body)
		cJSON_AddItemToObject(o, "body", body);
	out_json(o);
	return st >= 200 && st < 300 ? 0 : 1;
}

/* --- watch ---------------------------------------------------------------- */

static pthread_mutex_t out_mu = PTHREAD_MUTEX_INITIALIZER;
static struct k8s_informer *inf;

static void add_stats(cJSON *o)
{
	struct k8s_informer_stats st;
	k8s_informer_stats(inf, &st);
	cJSON_AddNumberToObject(o, "objects", (double)st.objects);
	cJSON_AddNumberToObject(o, "lists", (double)st.lists);
	cJSON_AddNumberToObject(o, "relists", (double)st.relists);
	cJSON_AddNumberToObject(o, "watches", (double)st.watches);
	cJSON_AddNumberToObject(o, "restarts", (double)st.restarts);
	cJSON_AddNumberToObject(o, "errors", (double)st.errors);
	cJSON_AddBoolToObject(o, "synced", st.synced);
}

static void emit(cJSON *o)
{
	pthread_mutex_lock(&out_mu);
	out_json(o);
	pthread_mutex_unlock(&out_mu);
}

static void obj_event_old(const char *ev, const cJSON *obj, int old_has_spec)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "ev", ev);
	char *key = k8s_object_key(obj);
	cJSON_AddStringToObject(o, "key", key ? key : "");
	free(key);
	const char *rv = k8s_meta_str(obj, "resourceVersion");
	cJSON_AddStringToObject(o, "rv", rv ? rv : "");
	const cJSON *md = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
	const cJSON *labels = cJSON_GetObjectItemCaseSensitive(md, "labels");
	cJSON_AddItemToObject(o, "labels",
			      labels ? cJSON_Duplicate(labels, 1) : cJSON_CreateObject());
	const cJSON *kind = cJSON_GetObjectItemCaseSensitive(obj, "kind");
	if (cJSON_IsString(kind))
		cJSON_AddStringToObject(o, "kind", kind->valuestring);
	cJSON_AddBoolToObject(o, "has_spec", cJSON_HasObjectItem(obj, "spec"));
	if (old_has_spec >= 0)
		cJSON_AddBoolToObject(o, "old_has_spec", old_has_spec);
	emit(o);
}

static void obj_event(const char *ev, const cJSON *obj)
{
	obj_event_old(ev, obj, -1);
}

static void w_add(void *ctx, const cJSON *obj)
{
	(void)ctx;
	obj_event("add", obj);
}

static void w_update(void *ctx, const cJSON *old, const cJSON *obj)
{
	(void)ctx;
	obj_event_old("update", obj, cJSON_HasObjectItem(old, "spec"));
}

static void w_delete(void *ctx, const cJSON *obj)
{
	(void)ctx;
	obj_event("delete", obj);
}

static void w_synced(void *ctx)
{
	(void)ctx;
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "ev", "synced");
	add_stats(o);
	emit(o);
}

static void w_error(void *ctx, int code, const char *reason, const char *message)
{
	(void)ctx;
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "ev", "error");
	cJSON_AddNumberToObject(o, "code", code);
	cJSON_AddStringToObject(o, "reason", reason);
	cJSON_AddStringToObject(o, "message", message);
	emit(o);
}

static void w_raw(void *ctx, const char *type, const cJSON *obj)
{
	(void)ctx;
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "ev", "raw");
	cJSON_AddStringToObject(o, "type", type);
	const char *rv = k8s_meta_str(obj, "resourceVersion");
	cJSON_AddStringToObject(o, "rv", rv ? rv : "");
	if (!strcmp(type, "ERROR"))
		cJSON_AddItemToObject(o, "status", cJSON_Duplicate(obj, 1));
	emit(o);
}

static void collect_key(void *ctx, const cJSON *obj)
{
	char *key = k8s_object_key(obj);
	if (key)
		cJSON_AddItemToArray(ctx, cJSON_CreateString(key));
	free(key);
}

/* a cached object with members beyond metadata.name/namespace/resourceVersion */
static void count_extra(void *ctx, const cJSON *obj)
{
	int extra = 0;
	const cJSON *it;
	cJSON_ArrayForEach(it, obj)
	{
		if (strcmp(it->string, "metadata") != 0) {
			extra = 1;
			continue;
		}
		const cJSON *m;
		cJSON_ArrayForEach(m, it)
		{
			if (strcmp(m->string, "name") && strcmp(m->string, "namespace") &&
			    strcmp(m->string, "resourceVersion"))
				extra = 1;
		}
	}
	*(int *)ctx += extra;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void dump(void)
{
	cJSON *keys = cJSON_CreateArray();
	k8s_informer_foreach(inf, collect_key, keys);
	int n = cJSON_GetArraySize(keys);
	char **v = calloc((size_t)n + 1, sizeof(*v));
	for (int i = 0; i < n; i++)
		v[i] = strdup(cJSON_GetArrayItem(keys, i)->valuestring);
	qsort(v, (size_t)n, sizeof(*v), cmp_str);
	cJSON_Delete(keys);
	keys = cJSON_CreateArray();
	for (int i = 0; i < n; i++) {
		cJSON_AddItemToArray(keys, cJSON_CreateString(v[i]));
		free(v[i]);
	}
	free(v);
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "ev", "dump");
	cJSON_AddItemToObject(o, "keys", keys);
	int extra = 0;
	k8s_informer_foreach(inf, count_extra, &extra);
	cJSON_AddNumberToObject(o, "cached_extra", extra);
	add_stats(o);
	emit(o);
}

static int cmd_watch(int argc, char **argv)
{
	struct k8s_informer_opts o = {
		.path = "/api/v1/pods",
		.on_add = w_add,
		.on_update = w_update,
		.on_delete = w_delete,
		.on_synced = w_synced,
		.on_error = w_error,
	};
	int opt;
	optind = 1;
	while ((opt = getopt(argc, argv, "p:r:l:f:mt:i:R:n:EK")) != -1) {
		switch (opt) {
		case 'p':
			o.path = optarg;
			break;
		case 'r':
			o.resource = optarg;
			break;
		case 'l':
			o.label_selector = optarg;
			break;
		case 'f':
			o.field_selector = optarg;
			break;
		case 'm':
			o.metadata_only = true;
			break;
		case 't':
			o.watch_timeout_min_s = o.watch_timeout_max_s = (unsigned)atoi(optarg);
			break;
		case 'i':
			o.idle_timeout_s = (unsigned)atoi(optarg);
			break;
		case 'R':
			o.initial_resource_version = optarg;
			break;
		case 'n':
			o.page_size = (unsigned)atoi(optarg);
			break;
		case 'E':
			o.on_event = w_raw;
			break;
		case 'K':
			o.cache_keys_only = true;
			break;
		default:
			return 2;
		}
	}
	char err[512];
	inf = k8s_informer_new(cli, &o, err, sizeof(err));
	if (!inf) {
		fprintf(stderr, "k8sdrv: %s\n", err);
		return 1;
	}
	k8s_informer_start(inf);
	char line[256];
	while (fgets(line, sizeof(line), stdin)) {
		if (!strncmp(line, "dump", 4))
			dump();
		else if (!strncmp(line, "quit", 4))
			break;
	}
	k8s_informer_free(inf);
	return 0;
}

/* --- meta ------------------------------------------------------------------ */

static struct vg_k8smeta *meta;

static void m_publish(void *ctx, uint64_t gen)
{
	(void)ctx;
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "ev", "publish");
	cJSON_AddNumberToObject(o, "gen", (double)gen);
	cJSON_AddNumberToObject(o, "containers", (double)vg_k8smeta_containers(meta));
	cJSON_AddBoolToObject(o, "synced", vg_k8smeta_synced(meta));
	emit(o);
}

static cJSON *labels_json(const struct vg_label *l, size_t n)
{
	cJSON *o = cJSON_CreateObject();
	for (size_t i = 0; i < n; i++)
		cJSON_AddStringToObject(o, l[i].key, l[i].value);
	return o;
}

static void lookup(const char *id)
{
	vg_k8smeta_reader_sync(meta);
	const struct vg_container_meta *cm = vg_k8smeta_lookup(meta, id);
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "ev", "lookup");
	cJSON_AddStringToObject(o, "id", id);
	cJSON_AddBoolToObject(o, "found", cm != NULL);
	if (cm) {
		cJSON_AddStringToObject(o, "pod", cm->pod_name);
		cJSON_AddStringToObject(o, "uid", cm->pod_uid);
		cJSON_AddStringToObject(o, "ns", cm->ns_name);
		cJSON_AddStringToObject(o, "container", cm->name);
		cJSON_AddStringToObject(o, "image", cm->image);
		cJSON_AddStringToObject(o, "repo", cm->image_repo);
		cJSON_AddStringToObject(o, "tag", cm->image_tag);
		cJSON_AddNumberToObject(o, "privileged", cm->privileged);
		cJSON_AddNumberToObject(o, "start_ts", (double)cm->start_ts);
		cJSON_AddItemToObject(o, "pod_labels",
				      labels_json(cm->pod_labels, cm->npod_labels));
		cJSON_AddItemToObject(o, "ns_labels", labels_json(cm->ns_labels, cm->nns_labels));
	}
	emit(o);
}

static size_t touch(const struct vg_container_meta *cm)
{
	size_t n = strlen(cm->pod_name) + strlen(cm->pod_uid) + strlen(cm->ns_name) +
		   strlen(cm->name) + strlen(cm->image) + strlen(cm->image_repo) +
		   strlen(cm->image_tag);
	for (size_t i = 0; i < cm->npod_labels; i++)
		n += strlen(cm->pod_labels[i].key) + strlen(cm->pod_labels[i].value);
	for (size_t i = 0; i < cm->nns_labels; i++)
		n += strlen(cm->ns_labels[i].key) + strlen(cm->ns_labels[i].value);
	return n;
}

static void hammer(const char *arg)
{
	double secs = atof(arg);
	const char *id = strchr(arg, ' ');
	id = id ? id + 1 : "";
	struct timespec t0, t;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	unsigned long loops = 0, found = 0, gens = 0;
	uint64_t last_gen = 0;
	size_t sum = 0;
	for (;;) {
		vg_k8smeta_reader_sync(meta);
		const struct vg_container_meta *cm = vg_k8smeta_lookup(meta, id);
		if (cm) {
			found++;
			sum += touch(cm);
		}
		uint64_t g = vg_k8smeta_generation(meta);
		if (g != last_gen) {
			gens++;
			last_gen = g;
		}
		loops++;
		clock_gettime(CLOCK_MONOTONIC, &t);
		if ((double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) / 1e9 >= secs)
			break;
	}
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "ev", "hammer");
	cJSON_AddNumberToObject(o, "loops", (double)loops);
	cJSON_AddNumberToObject(o, "found", (double)found);
	cJSON_AddNumberToObject(o, "gens", (double)gens);
	cJSON_AddNumberToObject(o, "bytes", (double)sum);
	emit(o);
}

static int cmd_meta(int argc, char **argv)
{
	struct vg_k8smeta_opts o = {.on_publish = m_publish};
	int opt;
	optind = 1;
	while ((opt = getopt(argc, argv, "N:t:")) != -1) {
		switch (opt) {
		case 'N':
			o.node_name = optarg;
			break;
		case 't':
			o.watch_timeout_s = (unsigned)atoi(optarg);
			break;
		default:
			return 2;
		}
	}
	char err[512];
	meta = vg_k8smeta_new(cli, &o, err, sizeof(err));
	if (!meta) {
		fprintf(stderr, "k8sdrv: %s\n", err);
		return 1;
	}
	vg_k8smeta_start(meta);
	char line[256];
	while (fgets(line, sizeof(line), stdin)) {
		line[strcspn(line, "\r\n")] = '\0';
		if (!strncmp(line, "lookup ", 7))
			lookup(line + 7);
		else if (!strncmp(line, "hammer ", 7))
			hammer(line + 7);
		else if (!strncmp(line, "quit", 4))
			break;
	}
	vg_k8smeta_free(meta);
	return 0;
}

/* --- events ---------------------------------------------------------------- */

static int cmd_events(int argc, char **argv)
{
	struct k8s_events_opts o = {0};
	int opt;
	optind = 1;
	while ((opt = getopt(argc, argv, "N:o:b:O:B:q:a:S:")) != -1) {
		switch (opt) {
		case 'S':
			o.series_max_per_rule = (size_t)atoi(optarg);
			break;
		case 'N':
			o.node_name = optarg;
			break;
		case 'o':
			o.object_rate = atof(optarg);
			break;
		case 'b':
			o.object_burst = atof(optarg);
			break;
		case 'O':
			o.node_rate = atof(optarg);
			break;
		case 'B':
			o.node_burst = atof(optarg);
			break;
		case 'q':
			o.queue_max = (size_t)atoi(optarg);
			break;
		case 'a':
			o.max_attempts = (unsigned)atoi(optarg);
			break;
		default:
			return 2;
		}
	}
	char err[512];
	struct k8s_events *ev = k8s_events_new(cli, &o, err, sizeof(err));
	if (!ev) {
		fprintf(stderr, "k8sdrv: %s\n", err);
		return 1;
	}
	static char line[1 << 16];
	while (fgets(line, sizeof(line), stdin)) {
		line[strcspn(line, "\r\n")] = '\0';
		if (!strncmp(line, "quit", 4))
			break;
		if (!strncmp(line, "stats", 5)) {
			struct k8s_events_stats st;
			k8s_events_stats(ev, &st);
			cJSON *o2 = cJSON_CreateObject();
			cJSON_AddStringToObject(o2, "ev", "stats");
			cJSON_AddNumberToObject(o2, "emitted", (double)st.emitted);
			cJSON_AddNumberToObject(o2, "created", (double)st.created);
			cJSON_AddNumberToObject(o2, "patched", (double)st.patched);
			cJSON_AddNumberToObject(o2, "throttled", (double)st.throttled);
			cJSON_AddNumberToObject(o2, "dropped", (double)st.dropped);
			cJSON_AddNumberToObject(o2, "failed", (double)st.failed);
			cJSON_AddNumberToObject(o2, "retries", (double)st.retries);
			cJSON_AddNumberToObject(o2, "pending", (double)st.pending);
			char le[512];
			k8s_events_last_error(ev, le, sizeof(le));
			cJSON_AddStringToObject(o2, "last_error", le);
			emit(o2);
			continue;
		}
		cJSON *j = cJSON_Parse(line);
		if (!j) {
			fprintf(stderr, "k8sdrv: not JSON: %s\n", line);
			continue;
		}
		const cJSON *n = cJSON_GetObjectItemCaseSensitive(j, "n");
		struct k8s_event_in in = {
			.rule = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "rule")),
			.note = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "note")),
			.kind = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "kind")),
			.namespace =
				cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "ns")),
			.name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "name")),
			.uid = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "uid")),
			/* the rule object: "okind" ClusterRule or Rule, "ons", "oname" */
			.origin_kind =
				cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "okind")),
			.origin_ns =
				cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "ons")),
			.origin_name =
				cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "oname")),
		};
		int count = cJSON_IsNumber(n) ? n->valueint : 1;
		for (int i = 0; i < count; i++)
			k8s_events_emit(ev, &in);
		cJSON_Delete(j);
	}
	k8s_events_free(ev);
	return 0;
}

/* --- lease ------------------------------------------------------------------ */

static void l_change(void *ctx, bool leader)
{
	(void)ctx;
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "ev", "leader");
	cJSON_AddBoolToObject(o, "leader", leader);
	emit(o);
}

static void l_error(void *ctx, int code, const char *message)
{
	w_error(ctx, code, "", message);
}

static int cmd_lease(int argc, char **argv)
{
	struct k8s_lease_opts o = {.on_change = l_change, .on_error = l_error};
	int opt;
	optind = 1;
	while ((opt = getopt(argc, argv, "n:l:I:d:r:")) != -1) {
		switch (opt) {
		case 'n':
			o.namespace = optarg;
			break;
		case 'l':
			o.name = optarg;
			break;
		case 'I':
			o.identity = optarg;
			break;
		case 'd':
			o.lease_duration_s = (unsigned)atoi(optarg);
			o.renew_deadline_s = o.lease_duration_s * 2 / 3;
			break;
		case 'r':
			o.retry_period_s = (unsigned)atoi(optarg);
			break;
		default:
			return 2;
		}
	}
	char err[512];
	struct k8s_lease *l = k8s_lease_new(cli, &o, err, sizeof(err));
	if (!l) {
		fprintf(stderr, "k8sdrv: %s\n", err);
		return 1;
	}
	k8s_lease_start(l);
	char line[256];
	while (fgets(line, sizeof(line), stdin))
		if (!strncmp(line, "quit", 4))
			break;
	k8s_lease_free(l);
	return 0;
}

struct status_wait {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int status;
	char msg[512];
	bool done;
};

static void status_done(void *ctx, const struct k8s_response *r)
{
	struct status_wait *d = ctx;
	pthread_mutex_lock(&d->mu);
	d->status = r->status;
	snprintf(d->msg, sizeof(d->msg), "%s", r->message);
	d->done = true;
	pthread_cond_signal(&d->cv);
	pthread_mutex_unlock(&d->mu);
}

static int cmd_status(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: k8sdrv status OBJECT_PATH RESOURCE STATUS_JSON\n");
		return 2;
	}
	struct status_wait d = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
	k8s_patch_status(cli, argv[0], argv[1], argv[2], status_done, &d);
	pthread_mutex_lock(&d.mu);
	while (!d.done)
		pthread_cond_wait(&d.cv, &d.mu);
	pthread_mutex_unlock(&d.mu);
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "status", d.status);
	cJSON_AddStringToObject(o, "message", d.msg);
	out_json(o);
	return d.status == 200 ? 0 : 1;
}

static void emit(cJSON *o);

static void req_hook(void *ctx, const char *verb, const char *resource, int code)
{
	(void)ctx;
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "ev", "request");
	cJSON_AddStringToObject(o, "verb", verb);
	cJSON_AddStringToObject(o, "resource", resource);
	cJSON_AddNumberToObject(o, "code", code);
	emit(o);
}

int main(int argc, char **argv)
{
	const char *kc = NULL;
	struct k8s_client_opts copts = {0};
	int opt;
	while ((opt = getopt(argc, argv, "+k:H")) != -1) {
		switch (opt) {
		case 'k':
			kc = optarg;
			break;
		case 'H':
			copts.hook = req_hook;
			break;
		default:
			return 2;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "usage: k8sdrv [-k KUBECONFIG] get|watch|event|lease ...\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	char err[1024];
	cfg = k8s_config_auto(kc, err, sizeof(err));
	if (!cfg) {
		fprintf(stderr, "k8sdrv: %s\n", err);
		return 1;
	}
	cli = k8s_client_new(cfg, &copts, err, sizeof(err));
	if (!cli) {
		fprintf(stderr, "k8sdrv: %s\n", err);
		k8s_config_free(cfg);
		return 1;
	}
	const char *cmd = argv[optind];
	int rc = 2;
	if (!strcmp(cmd, "get"))
		rc = cmd_get(argc - optind - 1, argv + optind + 1);
	else if (!strcmp(cmd, "watch"))
		rc = cmd_watch(argc - optind, argv + optind);
	else if (!strcmp(cmd, "events"))
		rc = cmd_events(argc - optind, argv + optind);
	else if (!strcmp(cmd, "lease"))
		rc = cmd_lease(argc - optind, argv + optind);
	else if (!strcmp(cmd, "status"))
		rc = cmd_status(argc - optind - 1, argv + optind + 1);
	else if (!strcmp(cmd, "meta"))
		rc = cmd_meta(argc - optind, argv + optind);
	else
		fprintf(stderr, "k8sdrv: unknown command %s\n", cmd);
	k8s_client_free(cli);
	k8s_config_free(cfg);
	return rc;
}
