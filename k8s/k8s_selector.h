/* k8s_selector.h - Kubernetes label selectors (metav1.LabelSelector).
 *
 * matchLabels (key = value) and matchExpressions with the operators In,
 * NotIn, Exists and DoesNotExist, all ANDed; an empty or absent selector
 * matches everything.  Compiled once (with the API server's validation
 * rules and messages naming the field), matched many times, e.g. a rule's
 * namespaceSelector/podSelector against the labels of each event's pod.
 */
#ifndef VIGIL_K8S_SELECTOR_H
#define VIGIL_K8S_SELECTOR_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

struct k8s_selector;

/* sel: the LabelSelector object (NULL = match everything).  NULL with err
 * ("matchExpressions[1].operator: unknown operator \"Foo\"") when invalid. */
struct k8s_selector *k8s_selector_compile(const cJSON *sel, char *err, size_t errlen);
void k8s_selector_free(struct k8s_selector *s);
bool k8s_selector_empty(const struct k8s_selector *s);

/* Match against labels given by a look-up (NULL = no such label). */
bool k8s_selector_match(const struct k8s_selector *s,
			const char *(*get)(void *ctx, const char *key), void *ctx);
/* Match against a labels object ({"app":"web"}; NULL = no labels). */
bool k8s_selector_match_json(const struct k8s_selector *s, const cJSON *labels);

#endif
