/* audit_decode.c - the webhook body: an audit.k8s.io/v1 EventList. */
#include <string.h>

#include "audit.h"

cJSON *vg_audit_decode(const char *body, size_t len, size_t max_events, const cJSON **events,
		       size_t *n, const char **why)
{
	*events = NULL;
	*n = 0;
	cJSON *doc = cJSON_ParseWithLength(body, len);
	if (!doc) {
		*why = "not JSON";
		return NULL;
	}
	const char *api = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc, "apiVersion"));
	const char *kind = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc, "kind"));
	if (!cJSON_IsObject(doc) || !api || strcmp(api, "audit.k8s.io/v1")) {
		*why = "not an audit.k8s.io/v1 object";
		goto bad;
	}
	if (kind && !strcmp(kind, "Event")) {
		*n = 1;
		return doc;
	}
	if (!kind || strcmp(kind, "EventList")) {
		*why = "not an EventList";
		goto bad;
	}
	const cJSON *items = cJSON_GetObjectItemCaseSensitive(doc, "items");
	if (!cJSON_IsArray(items)) {
		*why = "EventList without items";
		goto bad;
	}
	size_t k = 0;
	for (const cJSON *it = items->child; it; it = it->next, k++) {
		if (k >= max_events) {
			*why = "too many events";
			goto bad;
		}
		if (!cJSON_IsObject(it)) {
			*why = "an item is not an object";
			goto bad;
		}
	}
	*events = items;
	*n = k;
	return doc;
bad:
	cJSON_Delete(doc);
	return NULL;
}
