/* kaudit_ref.c - the object an audit event acted upon (kaudit.h), which
 * its alerts' Kubernetes Events regard: the Pod exec'd into, the
 * ClusterRoleBinding created, else the Namespace of the request. */
#include <stdio.h>
#include <string.h>

#include "kaudit.h"

/* resource (plural, lower case) -> kind, for the objects the rules watch
 * and those whose requests carry no object to read the kind from (exec,
 * deletes, reads) */
static const char *const KINDS[][2] = {
	{"pods", "Pod"},
	{"configmaps", "ConfigMap"},
	{"secrets", "Secret"},
	{"services", "Service"},
	{"serviceaccounts", "ServiceAccount"},
	{"namespaces", "Namespace"},
	{"nodes", "Node"},
	{"endpoints", "Endpoints"},
	{"persistentvolumes", "PersistentVolume"},
	{"persistentvolumeclaims", "PersistentVolumeClaim"},
	{"deployments", "Deployment"},
	{"daemonsets", "DaemonSet"},
	{"statefulsets", "StatefulSet"},
	{"replicasets", "ReplicaSet"},
	{"jobs", "Job"},
	{"cronjobs", "CronJob"},
	{"roles", "Role"},
	{"rolebindings", "RoleBinding"},
	{"clusterroles", "ClusterRole"},
	{"clusterrolebindings", "ClusterRoleBinding"},
	{"ingresses", "Ingress"},
	{"networkpolicies", "NetworkPolicy"},
	{"mutatingwebhookconfigurations", "MutatingWebhookConfiguration"},
	{"validatingwebhookconfigurations", "ValidatingWebhookConfiguration"},
};

static const char *str(const cJSON *o, const char *key)
{
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
	return s && *s ? s : NULL;
}

static const char *meta(const cJSON *obj, const char *key)
{
	return str(cJSON_GetObjectItemCaseSensitive(obj, "metadata"), key);
}

static bool set(char *dst, size_t cap, const char *s)
{
	if (!s || strlen(s) >= cap)
		return false;
	memcpy(dst, s, strlen(s) + 1);
	return true;
}

bool vg_kaudit_ref(const struct vg_kaudit_event *ke, struct vg_kaudit_ref *out)
{
	memset(out, 0, sizeof(*out));
	const cJSON *ref = cJSON_GetObjectItemCaseSensitive(ke->obj, "objectRef");
	if (!cJSON_IsObject(ref))
		return false; /* a non-resource request (/version, /healthz) */
	const cJSON *resp = cJSON_GetObjectItemCaseSensitive(ke->obj, "responseObject");
	const cJSON *reqo = cJSON_GetObjectItemCaseSensitive(ke->obj, "requestObject");
	const char *resource = str(ref, "resource"), *ns = str(ref, "namespace");
	const char *kind = NULL;
	for (size_t i = 0; resource && i < sizeof(KINDS) / sizeof(KINDS[0]); i++)
		if (!strcmp(resource, KINDS[i][0]))
			kind = KINDS[i][1];
	bool sub = str(ref, "subresource") != NULL; /* pods/exec: the pod */
	/* a create names its object only in the bodies */
	const char *name = str(ref, "name");
	if (!name && !sub)
		name = meta(resp, "name") ? meta(resp, "name") : meta(reqo, "name");
	const cJSON *body = sub ? NULL : resp && meta(resp, "name") ? resp : reqo;
	if (!kind && body && str(body, "kind") && strcmp(str(body, "kind"), "Status"))
		kind = str(body, "kind");
	if (kind && name) {
		const char *group = str(ref, "apiGroup"), *ver = str(ref, "apiVersion");
		if (group)
			snprintf(out->api_version, sizeof(out->api_version), "%s/%s", group,
				 ver ? ver : "v1");
		else
			snprintf(out->api_version, sizeof(out->api_version), "%s",
				 ver ? ver : "v1");
		if (set(out->kind, sizeof(out->kind), kind) &&
		    set(out->name, sizeof(out->name), name) &&
		    (!ns || set(out->ns, sizeof(out->ns), ns))) {
			const char *uid = str(ref, "uid");
			if (!uid && body == resp && !sub)
				uid = meta(resp, "uid");
			if (uid && !set(out->uid, sizeof(out->uid), uid))
				out->uid[0] = '\0';
			return true;
		}
		memset(out, 0, sizeof(*out));
	}
	if (!ns || !set(out->name, sizeof(out->name), ns))
		return false;
	snprintf(out->kind, sizeof(out->kind), "Namespace"); /* what we know of it */
	snprintf(out->api_version, sizeof(out->api_version), "v1");
	return true;
}
