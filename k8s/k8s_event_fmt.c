/* k8s_event_fmt.c - the pure parts of k8s_events.h: reasons, UTF-8 cuts,
 * MicroTime, Event names and bodies (tested on their own, no state). */
#include "k8s_events.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "k8s_util.h"

#define NS_PER_S 1000000000ull

/* --- pure helpers -------------------------------------------------------------- */

void k8s_event_reason(const char *rule, char *out, size_t outlen)
{
	size_t max = outlen - 1 < K8S_EVENT_FIELD_MAX ? outlen - 1 : K8S_EVENT_FIELD_MAX;
	size_t n = 0;
	bool word_start = true;
	for (const unsigned char *p = (const unsigned char *)(rule ? rule : ""); *p && n < max;
	     p++) {
		unsigned char ch = *p;
		bool alnum = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			     (ch >= '0' && ch <= '9');
		if (!alnum) {
			word_start = true;
			continue;
		}
		if (word_start && ch >= 'a' && ch <= 'z')
			ch = (unsigned char)(ch - 'a' + 'A');
		out[n++] = (char)ch;
		word_start = false;
	}
	out[n] = '\0';
	if (!n)
		snprintf(out, outlen, "VigilAlert");
}

size_t k8s_utf8_cut(const char *s, size_t max)
{
	size_t n = strlen(s);
	if (n <= max)
		return n;
	/* step back over continuation bytes to the start of the sequence
	 * that does not fit */
	size_t cut = max;
	while (cut > 0 && ((unsigned char)s[cut] & 0xC0) == 0x80)
		cut--;
	return cut;
}

void k8s_micro_time(uint64_t wall_ns, char out[32])
{
	time_t t = (time_t)(wall_ns / NS_PER_S);
	struct tm tm;
	gmtime_r(&t, &tm);
	char base[24];
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, 32, "%s.%06uZ", base, (unsigned)(wall_ns % NS_PER_S / 1000));
}

static void event_name(const char *object, const char *suffix, char *out, size_t outlen)
{
	size_t room = 253 - strlen(suffix);
	size_t ol = strlen(object);
	if (ol > room)
		ol = room;
	/* a name must not end in '.' or '-' before the suffix */
	while (ol && (object[ol - 1] == '.' || object[ol - 1] == '-'))
		ol--;
	snprintf(out, outlen, "%.*s%s", (int)ol, object, suffix);
}

void k8s_event_name(const char *object, uint64_t wall_ns, char *out, size_t outlen)
{
	char suffix[24];
	snprintf(suffix, sizeof(suffix), ".%llx", (unsigned long long)wall_ns);
	event_name(object, suffix, out, outlen);
}

void k8s_event_name_tagged(const char *object, uint64_t wall_ns, uint32_t tag, char *out,
			   size_t outlen)
{
	char suffix[40];
	snprintf(suffix, sizeof(suffix), ".%llx.%08x", (unsigned long long)wall_ns, tag);
	event_name(object, suffix, out, outlen);
}

char *k8s_event_body(const struct k8s_event_in *in, const char *controller, const char *node,
		     const char *name, const char *ns, uint64_t first_ns, uint64_t count,
		     uint64_t last_ns)
{
	char reason[K8S_EVENT_FIELD_MAX + 1], t[32];
	k8s_event_reason(in->rule, reason, sizeof(reason));
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "apiVersion", "events.k8s.io/v1");
	cJSON_AddStringToObject(o, "kind", "Event");
	cJSON *md = cJSON_AddObjectToObject(o, "metadata");
	cJSON_AddStringToObject(md, "name", name);
	cJSON_AddStringToObject(md, "namespace", ns);
	k8s_micro_time(first_ns, t);
	cJSON_AddStringToObject(o, "eventTime", t);
	if (count >= 2) {
		cJSON *series = cJSON_AddObjectToObject(o, "series");
		cJSON_AddNumberToObject(series, "count", (double)count);
		k8s_micro_time(last_ns, t);
		cJSON_AddStringToObject(series, "lastObservedTime", t);
	}
	cJSON_AddStringToObject(o, "reportingController", controller);
	char inst[K8S_EVENT_FIELD_MAX + 1];
	snprintf(inst, sizeof(inst), "%.*s", (int)k8s_utf8_cut(node, K8S_EVENT_FIELD_MAX), node);
	cJSON_AddStringToObject(o, "reportingInstance", inst);
	cJSON_AddStringToObject(o, "action", "Detected");
	cJSON_AddStringToObject(o, "reason", reason);
	cJSON *reg = cJSON_AddObjectToObject(o, "regarding");
	cJSON_AddStringToObject(reg, "apiVersion", in->api_version ? in->api_version : "v1");
	cJSON_AddStringToObject(reg, "kind", in->kind ? in->kind : "Pod");
	if (in->namespace && in->namespace[0])
		cJSON_AddStringToObject(reg, "namespace", in->namespace);
	cJSON_AddStringToObject(reg, "name", in->name ? in->name : "");
	if (in->uid && in->uid[0])
		cJSON_AddStringToObject(reg, "uid", in->uid);
	if (in->origin_kind && in->origin_kind[0]) {
		/* who raised it, in fields the rule's author cannot write */
		cJSON *rel = cJSON_AddObjectToObject(o, "related");
		cJSON_AddStringToObject(rel, "apiVersion", "vigil.dev/v1alpha1");
		cJSON_AddStringToObject(rel, "kind", in->origin_kind);
		if (in->origin_ns && in->origin_ns[0])
			cJSON_AddStringToObject(rel, "namespace", in->origin_ns);
		cJSON_AddStringToObject(rel, "name", in->origin_name ? in->origin_name : "");
		cJSON *lab = cJSON_AddObjectToObject(md, "labels");
		cJSON_AddStringToObject(lab, "vigil.dev/rule-kind", in->origin_kind);
		if (in->origin_ns && in->origin_ns[0])
			cJSON_AddStringToObject(lab, "vigil.dev/rule-namespace", in->origin_ns);
		cJSON *ann = cJSON_AddObjectToObject(md, "annotations");
		struct k8s_buf b = {0};
		k8s_buf_printf(&b, "%s/%s%s%s", in->origin_kind, in->origin_ns ? in->origin_ns : "",
			       in->origin_ns && in->origin_ns[0] ? "/" : "",
			       in->origin_name ? in->origin_name : "");
		cJSON_AddStringToObject(ann, "vigil.dev/rule-object", b.p);
		k8s_buf_free(&b);
		char g[24];
		snprintf(g, sizeof(g), "%lld", (long long)in->origin_gen);
		cJSON_AddStringToObject(ann, "vigil.dev/rule-generation", g);
	}
	const char *note = in->note ? in->note : "";
	char *cut = k8s_xstrndup(note, k8s_utf8_cut(note, K8S_EVENT_NOTE_MAX));
	cJSON_AddStringToObject(o, "note", cut);
	free(cut);
	cJSON_AddStringToObject(o, "type", "Warning");
	char *s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return s;
}
