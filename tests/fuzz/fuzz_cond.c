/* libFuzzer target: the condition compiler on arbitrary text.
 *
 * The text is compiled with an environment that has a few macros (one of
 * them recursive) and lists, and the real field registry; when it
 * compiles, it is evaluated on three real events (exec, openat, connect),
 * its event types and fields are queried, it is evaluated in a group with
 * other conditions and its negation (vg_cond_group), and it is freed. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cond.h"
/* recbuild.h embeds records with a flexible array member in a union */
#pragma clang diagnostic ignored "-Wgnu-variable-sized-type-not-at-end"
#include "../unit/scene.h"

static struct scene *S;
static struct vg_cond_scratch *SCR;

static const char *const MACROS[][2] = {
	{"is_shell", "proc.name in (shell_binaries)"},
	{"open_read", "evt.type in (open, openat) and evt.is_open_read=true"},
	{"both", "open_read and is_shell"},
	{"loop", "proc.pid = 1 or loop"},
	{"broken", "proc.name = (x"},
};

static const char *const SHELLS[] = {"bash", "sh", "zsh"};
static const char *const NETS[] = {"\"10.0.0.0/8\"", "'192.168.0.0/16'", "::1"};
static const char *const PORTS[] = {"80", "443", "x"};

static const char *env_macro(void *ctx, const char *name, struct vg_pos *pos)
{
	(void)ctx;
	for (size_t i = 0; i < sizeof(MACROS) / sizeof(MACROS[0]); i++)
		if (!strcmp(MACROS[i][0], name)) {
			pos->file = "macros";
			pos->line = (int)i + 1;
			pos->col = 14;
			return MACROS[i][1];
		}
	return NULL;
}

static int env_list(void *ctx, const char *name, const char *const **items)
{
	(void)ctx;
	if (!strcmp(name, "shell_binaries"))
		return *items = SHELLS, 3;
	if (!strcmp(name, "nets"))
		return *items = NETS, 3;
	if (!strcmp(name, "ports"))
		return *items = PORTS, 3;
	if (!strcmp(name, "empty"))
		return *items = SHELLS, 0;
	return -1;
}

static void on_warn(void *ctx, const struct vg_pos *pos, const char *msg)
{
	(void)ctx;
	if (!pos || !msg[0])
		abort();
}

static void on_field(void *ctx, const struct vg_field *f)
{
	(void)f;
	++*(int *)ctx;
}

/* The condition in a group with others of its field set (sharing macros,
 * and its negation): the members the group returns on each event are
 * exactly the true ones. */
static void check_group(struct vg_cond *c, const char *text, struct vg_cond_env *env)
{
	static const char *const others[] = {"open_read and proc.name = cat", "not is_shell",
					     "is_shell and proc.pname = sshd"};
	struct vg_cond *m[5];
	size_t n = 0;
	struct vg_pos at = {"fuzz", 1, 1};
	struct vg_cond_err err;
	m[n++] = vg_cond_compile(others[0], &at, env, &err);
	m[n++] = c;
	m[n++] = vg_cond_compile(others[1], &at, env, &err);
	size_t len = strlen(text);
	char *neg = malloc(len + 8);
	memcpy(neg, "not (", 5);
	memcpy(neg + 5, text, len);
	memcpy(neg + 5 + len, ")", 2);
	struct vg_cond *cn = vg_cond_compile(neg, &at, env, &err);
	free(neg);
	if (cn)
		m[n++] = cn;
	m[n++] = vg_cond_compile(others[2], &at, env, &err);
	for (size_t i = 0; i < n; i++)
		if (!m[i])
			abort();
	const struct vg_event *evs[] = {&S->exec, &S->open, &S->conn};
	for (int e = 0; e < 3; e++) {
		struct vg_cond_group *g =
			vg_cond_group_new((const struct vg_cond *const *)m, n, evs[e]->type);
		struct vg_cond_group_it it;
		vg_cond_group_start(g, &it);
		vg_cond_begin(m[0], evs[e], SCR);
		uint64_t got = 0;
		int i;
		while ((i = vg_cond_group_next(g, evs[e], SCR, &it)) >= 0)
			got |= 1ull << i;
		vg_cond_group_free(g);
		for (size_t k = 0; k < n; k++)
			if (vg_cond_eval_tree(m[k], evs[e], SCR) != ((got >> k & 1) != 0))
				abort();
	}
	for (size_t i = 0; i < n; i++)
		if (m[i] != c)
			vg_cond_free(m[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!S) {
		S = calloc(1, sizeof(*S));
		if (scene_init(S))
			abort();
		SCR = vg_cond_scratch_new();
	}
	char *text = malloc(size + 1);
	memcpy(text, data, size);
	text[size] = 0;
	/* a field set per input: the value cache and shared results are used */
	struct vg_cond_env env = {NULL,	  env_macro, env_list, NULL, NULL, vg_cond_fieldset_new(),
				  on_warn};
	struct vg_pos at = {"fuzz", 1, 1};
	struct vg_cond_err err;
	struct vg_cond *c = vg_cond_compile(text, &at, &env, &err);
	if (c) {
		uint8_t types[VG_T_MAX];
		vg_cond_evttypes(c, types);
		const struct vg_event *evs[] = {&S->exec, &S->open, &S->conn};
		for (int i = 0; i < 3; i++) {
			bool r = vg_cond_eval(c, evs[i], SCR);
			/* the event-type set must never exclude a matching event */
			if (r && !types[evs[i]->type])
				abort();
			/* the compiled program agrees with the tree, cached or not */
			if (vg_cond_eval_tree(c, evs[i], SCR) != r ||
			    vg_cond_eval(c, evs[i], SCR) != r)
				abort();
		}
		check_group(c, text, &env);
		int n = 0;
		vg_cond_fields(c, on_field, &n);
		vg_cond_free(c);
	} else if (!err.msg[0] || err.pos.line < 1 || err.pos.col < 1) {
		abort(); /* every failure says what and where */
	}
	vg_cond_fieldset_free(env.fieldset);
	free(text);
	return 0;
}
