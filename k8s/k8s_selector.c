/* k8s_selector.c - see k8s_selector.h. */
#include "k8s_selector.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "k8s_util.h"

enum op { OP_EQ, OP_IN, OP_NOTIN, OP_EXISTS, OP_NOTEXISTS };

struct req {
	enum op op;
	char *key;
	char **values;
	size_t nvalues;
};

struct k8s_selector {
	struct req *reqs;
	size_t n;
};

void k8s_selector_free(struct k8s_selector *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++) {
		free(s->reqs[i].key);
		for (size_t j = 0; j < s->reqs[i].nvalues; j++)
			free(s->reqs[i].values[j]);
		free(s->reqs[i].values);
	}
	free(s->reqs);
	free(s);
}

static struct req *add_req(struct k8s_selector *s, enum op op, const char *key)
{
	s->reqs = k8s_xrealloc(s->reqs, (s->n + 1) * sizeof(*s->reqs));
	struct req *r = &s->reqs[s->n++];
	memset(r, 0, sizeof(*r));
	r->op = op;
	r->key = k8s_xstrdup(key);
	return r;
}

static void add_value(struct req *r, const char *v)
{
	r->values = k8s_xrealloc(r->values, (r->nvalues + 1) * sizeof(*r->values));
	r->values[r->nvalues++] = k8s_xstrdup(v);
}

struct k8s_selector *k8s_selector_compile(const cJSON *sel, char *err, size_t errlen)
{
	struct k8s_selector *s = k8s_xcalloc(1, sizeof(*s));
	if (!sel || cJSON_IsNull(sel))
		return s;
	if (!cJSON_IsObject(sel)) {
		k8s_set_err(err, errlen, "selector: must be an object");
		goto fail;
	}
	const cJSON *ml = cJSON_GetObjectItemCaseSensitive(sel, "matchLabels");
	if (ml && !cJSON_IsNull(ml)) {
		if (!cJSON_IsObject(ml)) {
			k8s_set_err(err, errlen, "matchLabels: must be an object");
			goto fail;
		}
		const cJSON *it;
		cJSON_ArrayForEach(it, ml)
		{
			if (!cJSON_IsString(it)) {
				k8s_set_err(err, errlen, "matchLabels.%s: must be a string",
					    it->string);
				goto fail;
			}
			add_value(add_req(s, OP_EQ, it->string), it->valuestring);
		}
	}
	const cJSON *me = cJSON_GetObjectItemCaseSensitive(sel, "matchExpressions");
	if (me && !cJSON_IsNull(me)) {
		if (!cJSON_IsArray(me)) {
			k8s_set_err(err, errlen, "matchExpressions: must be a list");
			goto fail;
		}
		int i = 0;
		const cJSON *e;
		cJSON_ArrayForEach(e, me)
		{
			const char *key =
				cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "key"));
			const char *op = cJSON_GetStringValue(
				cJSON_GetObjectItemCaseSensitive(e, "operator"));
			const cJSON *vals = cJSON_GetObjectItemCaseSensitive(e, "values");
			if (!key || !key[0]) {
				k8s_set_err(err, errlen, "matchExpressions[%d].key: missing", i);
				goto fail;
			}
			enum op o;
			if (op && !strcmp(op, "In"))
				o = OP_IN;
			else if (op && !strcmp(op, "NotIn"))
				o = OP_NOTIN;
			else if (op && !strcmp(op, "Exists"))
				o = OP_EXISTS;
			else if (op && !strcmp(op, "DoesNotExist"))
				o = OP_NOTEXISTS;
			else {
				k8s_set_err(
					err, errlen,
					"matchExpressions[%d].operator: unknown operator \"%s\" "
					"(In, NotIn, Exists, DoesNotExist)",
					i, op ? op : "");
				goto fail;
			}
			if (vals && !cJSON_IsNull(vals) && !cJSON_IsArray(vals)) {
				k8s_set_err(err, errlen,
					    "matchExpressions[%d].values: must be a list", i);
				goto fail;
			}
			int nv = cJSON_IsArray(vals) ? cJSON_GetArraySize(vals) : 0;
			if ((o == OP_IN || o == OP_NOTIN) && nv == 0) {
				k8s_set_err(err, errlen,
					    "matchExpressions[%d].values: must be non-empty for %s",
					    i, op);
				goto fail;
			}
			if ((o == OP_EXISTS || o == OP_NOTEXISTS) && nv != 0) {
				k8s_set_err(err, errlen,
					    "matchExpressions[%d].values: must be empty for %s", i,
					    op);
				goto fail;
			}
			struct req *r = add_req(s, o, key);
			const cJSON *v;
			cJSON_ArrayForEach(v, vals)
			{
				if (!cJSON_IsString(v)) {
					k8s_set_err(err, errlen,
						    "matchExpressions[%d].values: must be strings",
						    i);
					goto fail;
				}
				add_value(r, v->valuestring);
			}
			i++;
		}
	}
	return s;
fail:
	k8s_selector_free(s);
	return NULL;
}

bool k8s_selector_empty(const struct k8s_selector *s)
{
	return !s || !s->n;
}

static bool in_values(const struct req *r, const char *v)
{
	for (size_t i = 0; i < r->nvalues; i++)
		if (!strcmp(r->values[i], v))
			return true;
	return false;
}

bool k8s_selector_match(const struct k8s_selector *s,
			const char *(*get)(void *ctx, const char *key), void *ctx)
{
	if (!s)
		return true;
	for (size_t i = 0; i < s->n; i++) {
		const struct req *r = &s->reqs[i];
		const char *v = get(ctx, r->key);
		switch (r->op) {
		case OP_EQ:
		case OP_IN:
			if (!v || !in_values(r, v))
				return false;
			break;
		case OP_NOTIN:
			if (v && in_values(r, v))
				return false;
			break;
		case OP_EXISTS:
			if (!v)
				return false;
			break;
		case OP_NOTEXISTS:
			if (v)
				return false;
			break;
		}
	}
	return true;
}

static const char *json_get(void *ctx, const char *key)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ctx, key));
}

bool k8s_selector_match_json(const struct k8s_selector *s, const cJSON *labels)
{
	return k8s_selector_match(s, json_get, (void *)labels);
}
