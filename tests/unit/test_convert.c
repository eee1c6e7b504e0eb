/* Unit tests of agent/cli/convert.c (`vigil convert`): DNS-1123 names, the
 * effective definitions of override/append/exceptions, errors with their
 * position, and the round trip: the objects converted from the three
 * official Falco files compile through crset to the same 93 rules.
 *
 * Also a helper for the end-to-end test (tests/k8s/test_crds.sh):
 *   test_convert --compile FILE.json   FILE: `kubectl get ... -o json` (a
 *   List of vigil objects); prints "objects=N accepted=A rejected=R
 *   rules=K enabled=E", one line per rejected object, exits 1 if any. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yaml.h>

#include "convert.h"
#include "crset.h"
#include "engine.h"
#include "scene.h"

static cJSON *node_json(yaml_document_t *doc, yaml_node_t *n)
{
	switch (n->type) {
	case YAML_SCALAR_NODE: {
		const char *v = (const char *)n->data.scalar.value;
		if (n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
			if (!strcmp(v, "true") || !strcmp(v, "false"))
				return cJSON_CreateBool(!strcmp(v, "true"));
		}
		return cJSON_CreateString(v);
	}
	case YAML_SEQUENCE_NODE: {
		cJSON *a = cJSON_CreateArray();
		for (yaml_node_item_t *i = n->data.sequence.items.start;
		     i < n->data.sequence.items.top; i++)
			cJSON_AddItemToArray(a, node_json(doc, yaml_document_get_node(doc, *i)));
		return a;
	}
	case YAML_MAPPING_NODE: {
		cJSON *o = cJSON_CreateObject();
		for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
		     p < n->data.mapping.pairs.top; p++) {
			yaml_node_t *k = yaml_document_get_node(doc, p->key);
			cJSON_AddItemToObject(
				o, (const char *)k->data.scalar.value,
				node_json(doc, yaml_document_get_node(doc, p->value)));
		}
		return o;
	}
	default:
		return cJSON_CreateNull();
	}
}

/* A YAML stream into an array of documents as JSON. */
static cJSON *yaml_stream(const char *text, size_t len)
{
	yaml_parser_t p;
	yaml_parser_initialize(&p);
	yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
	cJSON *docs = cJSON_CreateArray();
	for (;;) {
		yaml_document_t doc;
		if (!yaml_parser_load(&p, &doc)) {
			cJSON_Delete(docs);
			docs = NULL;
			break;
		}
		yaml_node_t *root = yaml_document_get_root_node(&doc);
		if (!root) {
			yaml_document_delete(&doc);
			break;
		}
		cJSON_AddItemToArray(docs, node_json(&doc, root));
		yaml_document_delete(&doc);
	}
	yaml_parser_delete(&p);
	return docs;
}

/* Objects of a JSON array (documents or a List's items) for crset. */
static size_t to_objs(const cJSON *arr, struct vg_crset_obj **out)
{
	size_t n = (size_t)cJSON_GetArraySize(arr), k = 0;
	*out = calloc(n + 1, sizeof(**out));
	const cJSON *o;
	cJSON_ArrayForEach(o, arr)
	{
		int kind = vg_crset_kind_parse(
			cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "kind")));
		if (kind >= 0)
			(*out)[k++] = (struct vg_crset_obj){kind, o, NULL};
	}
	return k;
}

static char *convert_to_string(const char *const *files, size_t n, struct vg_diag *d, int *rc)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	*rc = vg_convert(files, n, f, d);
	fclose(f);
	return buf;
}

static void first_hit(void *ctx, const struct vg_rule *r, const struct vg_event *ev)
{
	(void)ev;
	snprintf(ctx, 64, "%s", r->name);
}

static void test_dns_names(void **state)
{
	(void)state;
	char out[64];
	vg_convert_dns_name("Read sensitive file untrusted", out);
	assert_string_equal(out, "read-sensitive-file-untrusted");
	vg_convert_dns_name("  Launch Privileged Container (K8s) --  ", out);
	assert_string_equal(out, "launch-privileged-container-k8s");
	vg_convert_dns_name("!!!", out);
	assert_string_equal(out, "rule");
	vg_convert_dns_name("Ünïcode_and.dots", out);
	assert_string_equal(out, "n-code-and-dots");
	char longname[200];
	memset(longname, 'a', sizeof(longname) - 1);
	longname[150] = ' ';
	longname[sizeof(longname) - 1] = 0;
	vg_convert_dns_name(longname, out);
	assert_int_equal(strlen(out), 63);
}

static const char SRC[] = "- list: shells\n"
			  "  items: [bash]\n"
			  "- list: shells\n"
			  "  items: [sh]\n"
			  "  override:\n"
			  "    items: append\n"
			  "- macro: opened\n"
			  "  condition: evt.type = openat\n"
			  "- rule: Shell opens\n"
			  "  desc: d\n"
			  "  condition: >\n"
			  "    opened and\n"
			  "      proc.pname in (shells)\n"
			  "  output: \"yes %proc.name\"\n"
			  "  priority: WARNING\n"
			  "  tags: [a, 'true']\n"
			  "  exceptions:\n"
			  "    - name: not_sh\n"
			  "      fields: proc.name\n"
			  "      values: [sh]\n"
			  "- rule: Shell opens\n"
			  "  condition: and fd.name = /etc/shadow\n"
			  "  append: true\n"
			  "- rule: Shell  opens!\n"
			  "  desc: same DNS name\n"
			  "  condition: evt.type = connect\n"
			  "  output: c\n"
			  "  priority: info\n"
			  "  enabled: false\n"
			  "- rule: Excepted\n"
			  "  desc: d\n"
			  "  condition: opened\n"
			  "  output: x\n"
			  "  priority: info\n"
			  "  exceptions:\n"
			  "    - name: cats\n"
			  "      fields: [proc.name, fd.name]\n"
			  "      values: [[cat, /etc/shadow]]\n"
			  "- rule: Audit\n"
			  "  desc: other source\n"
			  "  condition: ct.name = create\n"
			  "  output: a\n"
			  "  priority: info\n"
			  "  source: aws_cloudtrail\n";

/* override/append resolved, exceptions folded, names unique, the result
 * compiles to rules that behave like the originals. */
static void test_effective(void **state)
{
	(void)state;
	char path[] = "/tmp/vigil-convert-XXXXXX.yaml";
	int fd = mkstemps(path, 5);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, SRC, strlen(SRC)), (ssize_t)strlen(SRC));
	close(fd);
	const char *files[] = {path};
	struct vg_diag d = {0};
	int rc;
	char *out = convert_to_string(files, 1, &d, &rc);
	assert_int_equal(rc, 0);
	assert_int_equal(d.errors, 0);
	assert_int_equal(d.warnings, 2); /* Audit: not evaluated, not converted */
	cJSON *docs = yaml_stream(out, strlen(out));
	assert_non_null(docs);
	assert_int_equal(cJSON_GetArraySize(docs), 4);
	cJSON *lib = cJSON_GetArrayItem(docs, 0);
	assert_string_equal(cJSON_GetObjectItem(lib, "kind")->valuestring, "RuleLibrary");
	cJSON *lspec = cJSON_GetObjectItem(lib, "spec");
	cJSON *l0 = cJSON_GetArrayItem(cJSON_GetObjectItem(lspec, "lists"), 0);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(l0, "items")), 2);
	cJSON *r1 = cJSON_GetArrayItem(docs, 1), *r2 = cJSON_GetArrayItem(docs, 2);
	assert_string_equal(cJSON_GetObjectItem(r1, "kind")->valuestring, "ClusterRule");
	cJSON *md1 = cJSON_GetObjectItem(r1, "metadata"),
	      *md2 = cJSON_GetObjectItem(r2, "metadata");
	assert_string_equal(cJSON_GetObjectItem(md1, "name")->valuestring, "shell-opens");
	assert_string_equal(cJSON_GetObjectItem(md2, "name")->valuestring, "shell-opens-2");
	cJSON *s1 = cJSON_GetObjectItem(r1, "spec"), *s2 = cJSON_GetObjectItem(r2, "spec");
	assert_string_equal(cJSON_GetObjectItem(s1, "rule")->valuestring, "Shell opens");
	assert_string_equal(cJSON_GetObjectItem(s1, "priority")->valuestring, "Warning");
	assert_string_equal(cJSON_GetObjectItem(s1, "output")->valuestring, "yes %proc.name");
	/* the tag "true" stays a string */
	assert_true(cJSON_IsString(cJSON_GetArrayItem(cJSON_GetObjectItem(s1, "tags"), 1)));
	const char *c1 = cJSON_GetObjectItem(s1, "condition")->valuestring;
	assert_non_null(strstr(c1, "fd.name = /etc/shadow"));
	assert_non_null(strstr(c1, "and not"));
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(s1, "hostProcesses")));
	assert_true(cJSON_IsFalse(cJSON_GetObjectItem(s2, "enabled")));

	/* the objects compile, and behave like the file: cat is not a shell,
	 * bash opening /etc/shadow matches, sh is excepted */
	struct vg_crset_obj *objs;
	size_t n = to_objs(docs, &objs);
	struct vg_crset_input in = {.objs = objs, .nobjs = n};
	struct vg_diag d2 = {0};
	struct vg_crset *cs = vg_crset_build(&in, &d2);
	const struct vg_crset_result *res;
	assert_int_equal(vg_crset_results(cs, &res), 4);
	for (size_t i = 0; i < 4; i++)
		assert_true(res[i].accepted);
	struct vg_engine *e = vg_crset_engine(cs);
	assert_int_equal(vg_engine_rule_count(e), 3);
	/* cat (child of bash) opens /etc/shadow: "Shell opens" matches (the
	 * appended condition holds), "Excepted" does not (its exception) */
	struct scene S;
	assert_int_equal(scene_init(&S), 0);
	struct vg_cond_scratch *scr = vg_cond_scratch_new();
	char hit[64] = "";
	assert_int_equal(vg_engine_match(e, &S.open, scr, first_hit, hit), 1);
	assert_string_equal(hit, "Shell opens");
	vg_cond_scratch_free(scr);
	scene_free(&S);
	vg_crset_free(cs);
	vg_diag_free(&d2);
	free(objs);
	cJSON_Delete(docs);
	free(out);
	vg_diag_free(&d);
	unlink(path);
}

static void test_errors(void **state)
{
	(void)state;
	char path[] = "/tmp/vigil-convert-XXXXXX.yaml";
	int fd = mkstemps(path, 5);
	const char bad[] = "- rule: r\n  desc: d\n  condition: proc.nme = x\n  output: o\n"
			   "  priority: Debug\n";
	assert_int_equal(write(fd, bad, strlen(bad)), (ssize_t)strlen(bad));
	close(fd);
	const char *files[] = {path};
	struct vg_diag d = {0};
	int rc;
	char *out = convert_to_string(files, 1, &d, &rc);
	assert_int_equal(rc, -1);
	assert_string_equal(out, "");
	assert_int_equal(d.errors, 1);
	assert_string_equal(d.v[0].file, path);
	assert_int_equal(d.v[0].line, 3);
	assert_int_equal(d.v[0].col, 14);
	free(out);
	vg_diag_free(&d);
	unlink(path);
}

/* The three official Falco files: 93 rules, as when loaded as files. */
static void test_falco_roundtrip(void **state)
{
	(void)state;
	const char *src = getenv("VIGIL_SRC");
	char f[3][512];
	const char *names[] = {"falco_rules.yaml", "falco-incubating_rules.yaml",
			       "falco-sandbox_rules.yaml"};
	const char *files[3];
	for (int i = 0; i < 3; i++) {
		snprintf(f[i], sizeof(f[i]), "%s/../../shared/falco-rules/%s", src ? src : ".",
			 names[i]);
		if (access(f[i], R_OK))
			snprintf(f[i], sizeof(f[i]), "/work/shared/falco-rules/%s", names[i]);
		files[i] = f[i];
	}
	struct vg_diag d = {0};
	int rc;
	char *out = convert_to_string(files, 3, &d, &rc);
	assert_int_equal(rc, 0);
	assert_int_equal(d.errors, 0);
	cJSON *docs = yaml_stream(out, strlen(out));
	assert_non_null(docs);
	assert_int_equal(cJSON_GetArraySize(docs), 94);
	struct vg_crset_obj *objs;
	size_t n = to_objs(docs, &objs);
	struct vg_crset_input in = {.objs = objs, .nobjs = n};
	struct vg_diag d2 = {0};
	struct vg_crset *cs = vg_crset_build(&in, &d2);
	size_t acc, rej;
	vg_crset_count(cs, VG_CR_CLUSTERRULE, &acc, &rej);
	assert_int_equal(acc, 93);
	assert_int_equal(rej, 0);
	vg_crset_count(cs, VG_CR_RULELIBRARY, &acc, &rej);
	assert_int_equal(acc, 1);
	struct vg_engine_stats st;
	vg_engine_get_stats(vg_crset_engine(cs), &st);
	assert_int_equal(st.rules_enabled + st.rules_disabled, 93);
	assert_int_equal(st.rules_disabled, 12);
	assert_int_equal(st.rules_failed, 0);
	vg_crset_free(cs);
	vg_diag_free(&d2);
	free(objs);
	cJSON_Delete(docs);
	free(out);
	vg_diag_free(&d);
}

static int compile_list(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		perror(path);
		return 2;
	}
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	char chunk[65536];
	size_t k;
	while ((k = fread(chunk, 1, sizeof(chunk), f)) > 0)
		fwrite(chunk, 1, k, m);
	fclose(f);
	fclose(m);
	cJSON *list = cJSON_Parse(buf);
	free(buf);
	if (!list) {
		fprintf(stderr, "%s: not JSON\n", path);
		return 2;
	}
	struct vg_crset_obj *objs;
	size_t n = to_objs(cJSON_GetObjectItemCaseSensitive(list, "items"), &objs);
	struct vg_crset_input in = {.objs = objs, .nobjs = n};
	struct vg_diag d = {0};
	struct vg_crset *cs = vg_crset_build(&in, &d);
	const struct vg_crset_result *res;
	size_t nr = vg_crset_results(cs, &res), bad = 0;
	for (size_t i = 0; i < nr; i++)
		if (!res[i].accepted) {
			printf("rejected: %s\n", res[i].message);
			bad++;
		}
	struct vg_engine_stats st;
	vg_engine_get_stats(vg_crset_engine(cs), &st);
	printf("objects=%zu accepted=%zu rejected=%zu rules=%zu enabled=%zu\n", nr, nr - bad, bad,
	       vg_engine_rule_count(vg_crset_engine(cs)), st.rules_enabled);
	vg_crset_free(cs);
	vg_diag_free(&d);
	free(objs);
	cJSON_Delete(list);
	return bad ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "--compile"))
		return compile_list(argv[2]);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dns_names),
		cmocka_unit_test(test_effective),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_falco_roundtrip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
