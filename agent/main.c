/* main.c - the vigil command line: parse arguments, wire the modules, run. */
#include "capfile.h"
#include "capture.h"
#include "config.h"
#include "convert.h"
#include "embedded.h"
#include "engine.h"
#include "evjson.h"
#include "fields.h"
#include "log.h"
#include "output.h"
#include "rules.h"
#include "state.h"
#include "util.h"
#include "version.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char usage_text[] =
	"usage: vigil [COMMAND] [OPTIONS]\n"
	"\n"
	"Kubernetes-native runtime security: watches every process on this node\n"
	"through eBPF and raises an alert when behaviour matches a rule (Falco's\n"
	"rule language).\n"
	"\n"
	"Commands:\n"
	"  run [-c FILE] [-r RULES]...  run the agent (the default command); -r adds a\n"
	"                               rules file or directory (repeatable; replaces\n"
	"                               rules_dirs of the configuration when given)\n"
	"  validate FILE...             load and compile rule files in order; errors as\n"
	"                               FILE:LINE:COL: message; exit 1 on error\n"
	"  capture [-s SYSCALLS]        print captured events as JSON lines\n"
	"  record -o FILE [-s SYSCALLS] capture live events to a file (for replay)\n"
	"  replay FILE [-r RULES]...    evaluate the rules over a recorded capture and\n"
	"                               print alerts (--events: print decoded events)\n"
	"  convert FILE...              turn Falco rules files into vigil custom\n"
	"                               resources (YAML stream on stdout)\n"
	"  fields                       list every supported field with its type\n"
	"  version                      print the version\n"
	"\n"
	"Options:\n"
	"  -c, --config FILE     configuration file (default " VG_CONFIG_DEFAULT_PATH ")\n"
	"  -r, --rules PATH      rules file or directory (repeatable)\n"
	"  -s, --syscalls LIST   capture/record: comma-separated syscalls (default: all\n"
	"                        that vigil knows)\n"
	"  -o, --output FILE     record: the capture file to write ('-' for stdout)\n"
	"  -n, --count N         capture/record: stop after N events\n"
	"  -d, --duration SEC    capture/record/run: stop after SEC seconds\n"
	"  -p, --pid PID         capture/record: only events of PID and its descendants\n"
	"      --events          replay: print decoded events instead of alerts\n"
	"  -h, --help            this help\n"
	"\n"
	"Without rules on the command line or in the configuration, vigil uses its\n"
	"default rules, embedded in the binary.\n";

struct opts {
	const char *cmd;
	const char *config;
	const char *rules[64];
	size_t nrules;
	const char *syscalls;
	const char *output;
	uint64_t count;
	double duration;
	long pid;
	int events;
	char **args;
	int nargs;
};

/* SIGINT/SIGTERM only set this flag; the loops poll it. */
static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void install_signals(void)
{
	struct sigaction sa = {0};
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option lopts[] = {
		{"config", required_argument, 0, 'c'},	 {"rules", required_argument, 0, 'r'},
		{"syscalls", required_argument, 0, 's'}, {"output", required_argument, 0, 'o'},
		{"count", required_argument, 0, 'n'},	 {"duration", required_argument, 0, 'd'},
		{"pid", required_argument, 0, 'p'},	 {"events", no_argument, 0, 'E'},
		{"help", no_argument, 0, 'h'},		 {0, 0, 0, 0},
	};
	memset(o, 0, sizeof(*o));
	o->cmd = "run";
	o->pid = -1;
	int first = 1;
	if (argc > 1 && argv[1][0] != '-') {
		o->cmd = argv[1];
		first = 2;
	}
	optind = first;
	int c;
	while ((c = getopt_long(argc, argv, "c:r:s:o:n:d:p:h", lopts, NULL)) != -1) {
		char *end;
		switch (c) {
		case 'c':
			o->config = optarg;
			break;
		case 'r':
			if (o->nrules == sizeof(o->rules) / sizeof(o->rules[0])) {
				fprintf(stderr, "vigil: too many -r options\n");
				return -1;
			}
			o->rules[o->nrules++] = optarg;
			break;
		case 's':
			o->syscalls = optarg;
			break;
		case 'o':
			o->output = optarg;
			break;
		case 'n':
			o->count = strtoull(optarg, &end, 10);
			if (*end || !*optarg) {
				fprintf(stderr, "vigil: --count: not a number: %s\n", optarg);
				return -1;
			}
			break;
		case 'd':
			o->duration = strtod(optarg, &end);
			if (*end || o->duration <= 0) {
				fprintf(stderr, "vigil: --duration: not a positive number: %s\n",
					optarg);
				return -1;
			}
			break;
		case 'p':
			o->pid = strtol(optarg, &end, 10);
			if (*end || o->pid <= 0) {
				fprintf(stderr, "vigil: --pid: not a pid: %s\n", optarg);
				return -1;
			}
			break;
		case 'E':
			o->events = 1;
			break;
		case 'h':
			fputs(usage_text, stdout);
			exit(0);
		default:
			fprintf(stderr, "Try 'vigil --help'.\n");
			return -1;
		}
	}
	o->args = argv + optind;
	o->nargs = argc - optind;
	return 0;
}

static int load_config(const struct opts *o, struct vg_config *cfg)
{
	char err[1024];
	vg_config_defaults(cfg);
	const char *path = o->config ? o->config : VG_CONFIG_DEFAULT_PATH;
	if (vg_config_load(cfg, path, o->config == NULL, err, sizeof(err))) {
		fprintf(stderr, "vigil: %s\n", err);
		return -1;
	}
	vg_config_env(cfg);
	int lvl = vg_log_parse_level(cfg->log_level);
	vg_log_set_level(lvl < 0 ? VG_LOG_INFO : (enum vg_log_level)lvl);
	return 0;
}

static const char *hostname(const struct vg_config *cfg)
{
	static char name[256];
	if (cfg && cfg->node_name && *cfg->node_name)
		return cfg->node_name;
	if (!name[0] && gethostname(name, sizeof(name) - 1))
		strcpy(name, "unknown");
	return name;
}

/* ---- which syscalls to capture ----------------------------------------- */

static int parse_syscalls(const char *list, uint8_t want[VG_NR_MAX])
{
	memset(want, 0, VG_NR_MAX);
	if (!list) {
		for (int nr = 0; nr < VG_NR_MAX; nr++)
			want[nr] = vg_syscall_desc(nr) != NULL;
		return 0;
	}
	char *copy = vg_xstrdup(list), *save = NULL;
	int rc = 0;
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		int nr = vg_evtype_by_name(t);
		if (nr < 0 || nr >= VG_NR_MAX || !vg_syscall_desc(nr)) {
			fprintf(stderr, "vigil: --syscalls: unknown syscall '%s'\n", t);
			rc = -1;
			break;
		}
		want[nr] = 1;
	}
	free(copy);
	return rc;
}

/* ---- the capture loop shared by capture, record and run ----------------- */

struct loop {
	struct vg_state *st;
	struct vg_capture *cap;
	struct vg_evt *ev;
	uint64_t count, limit;
	long pid; /* only this pid and descendants, -1 for all */
	int (*on_event)(struct loop *l, struct vg_evt *ev);
	void *ctx;
	struct vg_ratelimit drop_rl;
	uint64_t drops_reported;
};

static int in_tree(struct loop *l, const struct vg_evt *ev)
{
	if (l->pid < 0)
		return 1;
	const struct vg_proc *p = ev->proc;
	if (p->pid == (uint32_t)l->pid)
		return 1;
	for (int i = 1; i < 64; i++) {
		p = vg_state_ancestor(l->st, p, 1);
		if (!p)
			return 0;
		if (p->pid == (uint32_t)l->pid)
			return 1;
	}
	return 0;
}

static int on_record(void *ctx, const struct vg_event *raw, size_t size)
{
	struct loop *l = ctx;
	if (vg_state_apply(l->st, raw, size, l->ev))
		return 0; /* counted by the state as a bad record */
	if (raw->h.kind == VG_K_PROC || !in_tree(l, l->ev))
		return 0;
	if (l->on_event(l, l->ev))
		return -1;
	if (l->limit && ++l->count >= l->limit)
		stop_requested = 1;
	return 0;
}

static void report_drops(struct loop *l)
{
	struct vg_stats s;
	if (vg_capture_stats(l->cap, &s))
		return;
	uint64_t dropped = 0;
	for (int i = 0; i < VG_CAT_MAX; i++)
		dropped += s.dropped[i];
	if (dropped == l->drops_reported || !vg_ratelimit_ok(&l->drop_rl, vg_now_mono_ns()))
		return;
	vg_log(VG_LOG_WARNING,
	       "kernel ring buffer full: %llu events dropped so far (proc %llu, file %llu, "
	       "net %llu, other %llu); raise capture.ringbuf_bytes",
	       (unsigned long long)dropped,
	       (unsigned long long)s.dropped[VG_CAT_PROC] + s.dropped[0],
	       (unsigned long long)s.dropped[VG_CAT_FILE],
	       (unsigned long long)s.dropped[VG_CAT_NET],
	       (unsigned long long)s.dropped[VG_CAT_OTHER]);
	l->drops_reported = dropped;
}

static int seed(struct loop *l)
{
	int n = vg_procscan("/proc", on_record, l);
	if (n < 0) {
		vg_log(VG_LOG_ERROR, "scanning /proc: %s", strerror(-n));
		return -1;
	}
	vg_log(VG_LOG_DEBUG, "seeded %d processes from /proc", n);
	return 0;
}

static int run_loop(struct loop *l, const struct vg_config *cfg, const uint8_t want[VG_NR_MAX],
		    double duration)
{
	char err[512];
	struct vg_capture_opts co = {0};
	co.ringbuf_bytes = cfg->capture.ringbuf_bytes;
	co.ignore_self = cfg->capture.ignore_self;
	l->cap = vg_capture_open(&co, err, sizeof(err));
	if (!l->cap) {
		vg_log(VG_LOG_ERROR, "cannot start capture: %s", err);
		return -1;
	}
	if (vg_capture_set_interest(l->cap, want, err, sizeof(err))) {
		vg_log(VG_LOG_ERROR, "%s", err);
		vg_capture_close(l->cap);
		return -1;
	}
	/* seed after the probes are attached so no process falls between */
	if (seed(l)) {
		vg_capture_close(l->cap);
		return -1;
	}
	l->drop_rl.interval_ns = 10ull * 1000000000ull;
	vg_log(VG_LOG_INFO, "capture started");
	uint64_t deadline = duration > 0 ? vg_now_mono_ns() + (uint64_t)(duration * 1e9) : 0;
	int rc = 0;
	while (!stop_requested) {
		int n = vg_capture_poll(l->cap, 100, on_record, l);
		if (n < 0 && n != -EINTR) {
			vg_log(VG_LOG_ERROR, "polling the ring buffer: %s", strerror(-n));
			rc = -1;
			break;
		}
		report_drops(l);
		if (deadline && vg_now_mono_ns() >= deadline)
			break;
	}
	/* drain what is already in the ring: nothing captured is lost on exit */
	vg_capture_poll(l->cap, 0, on_record, l);
	l->drop_rl.last_ns = 0; /* the final count is always said */
	report_drops(l);
	struct vg_stats s;
	if (!vg_capture_stats(l->cap, &s)) {
		uint64_t seen = 0, dropped = 0;
		for (int i = 0; i < VG_CAT_MAX; i++)
			seen += s.seen[i], dropped += s.dropped[i];
		struct vg_state_stats ss;
		vg_state_get_stats(l->st, &ss);
		vg_log(VG_LOG_INFO, "capture stopped: %llu events, %llu dropped, %llu malformed",
		       (unsigned long long)seen, (unsigned long long)dropped,
		       (unsigned long long)ss.bad_records);
	}
	vg_capture_close(l->cap);
	l->cap = NULL;
	return rc;
}

static struct vg_state *new_state(const struct vg_config *cfg, int replay)
{
	struct vg_state_opts so = {0};
	so.max_procs = cfg->state.max_procs;
	so.max_fds = cfg->state.max_fds;
	so.max_env = cfg->state.max_env_bytes;
	so.proc_root = "/proc";
	so.etc_root = "/etc";
	so.ts_is_wall = replay;
	return vg_state_new(&so);
}

/* ---- capture and record ------------------------------------------------- */

static int print_event(struct loop *l, struct vg_evt *ev)
{
	(void)l;
	char *s = vg_evjson_render(ev, 1);
	int rc = printf("%s\n", s) < 0 ? -1 : 0;
	free(s);
	fflush(stdout);
	return rc;
}

static int write_event(struct loop *l, struct vg_evt *ev)
{
	return vg_capfile_write(l->ctx, ev);
}

static int cmd_capture(const struct opts *o, int record)
{
	struct vg_config cfg;
	if (load_config(o, &cfg))
		return 2;
	uint8_t want[VG_NR_MAX];
	if (parse_syscalls(o->syscalls, want))
		return 2;
	if (record && !o->output) {
		fprintf(stderr, "vigil: record needs -o FILE\n");
		return 2;
	}
	int rc = 1;
	struct vg_evt *ev = vg_xcalloc(1, sizeof(*ev));
	struct loop l = {0};
	l.st = new_state(&cfg, 0);
	l.ev = ev;
	l.limit = o->count;
	l.pid = o->pid;
	l.on_event = print_event;
	char err[512];
	struct vg_capfile *cf = NULL;
	if (record) {
		cf = vg_capfile_create(o->output, hostname(&cfg), err, sizeof(err));
		if (!cf) {
			fprintf(stderr, "vigil: %s\n", err);
			goto out;
		}
		l.ctx = cf;
		l.on_event = write_event;
	}
	install_signals();
	rc = run_loop(&l, &cfg, want, o->duration) ? 1 : 0;
out:
	if (cf && vg_capfile_close(cf)) {
		fprintf(stderr, "vigil: writing %s: %s\n", o->output, strerror(errno));
		rc = 1;
	}
	vg_state_free(l.st);
	free(ev);
	vg_config_free(&cfg);
	return rc;
}

/* ---- fields, version ---------------------------------------------------- */

static int cmd_fields(void)
{
	for (size_t i = 0; i < vg_field_count(); i++) {
		const struct vg_field *f = vg_field_at(i);
		char name[64];
		const char *arg = (f->flags & VG_FF_ARG_INDEX) ? "[n]"
				  : (f->flags & VG_FF_ARG_KEY) ? "[key]"
							       : "";
		snprintf(name, sizeof(name), "%s%s", f->name, arg);
		printf("%-34s %-8s %s\n", name, vg_ftype_name(f->type), f->desc);
	}
	return 0;
}

static int cmd_version(void)
{
	printf("vigil %s (commit %s)\n", VIGIL_VERSION, VIGIL_COMMIT);
	return 0;
}

/* ---- rules ------------------------------------------------------------- */

static int has_suffix(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);
	return a >= b && !strcmp(s + a - b, suf);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Add a file, or the *.yaml / *.yml files of a directory in name order.
 * Returns 1 if something was found at path, 0 if path does not exist. */
static int add_rules_path(struct vg_ruleset *rs, const char *path, struct vg_diag *d)
{
	struct stat st;
	if (stat(path, &st))
		return 0;
	if (!S_ISDIR(st.st_mode)) {
		vg_ruleset_add_file(rs, path, d);
		return 1;
	}
	DIR *dir = opendir(path);
	if (!dir) {
		vg_diag_add(d, 1, path, 0, 0, "cannot read directory: %s", strerror(errno));
		return 1;
	}
	char **names = NULL;
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(dir))) {
		if (de->d_name[0] == '.' ||
		    !(has_suffix(de->d_name, ".yaml") || has_suffix(de->d_name, ".yml")))
			continue;
		names = vg_xrealloc(names, (n + 1) * sizeof(char *));
		size_t len = strlen(path) + strlen(de->d_name) + 2;
		names[n] = vg_xmalloc(len);
		snprintf(names[n++], len, "%s/%s", path, de->d_name);
	}
	closedir(dir);
	qsort(names, n, sizeof(char *), cmp_str);
	for (size_t i = 0; i < n; i++) {
		vg_ruleset_add_file(rs, names[i], d);
		free(names[i]);
	}
	free(names);
	return 1;
}

/* The rules of -r, else of the configuration's rules_dirs, else the
 * embedded defaults.  Returns the engine (never NULL); *errors counts
 * the diagnostics of severity error. */
static struct vg_engine *load_engine(const struct opts *o, const struct vg_config *cfg,
				     struct vg_diag *d, const char **origin)
{
	struct vg_ruleset *rs = vg_ruleset_new();
	int found = 0;
	if (o->nrules) {
		for (size_t i = 0; i < o->nrules; i++)
			if (!add_rules_path(rs, o->rules[i], d))
				vg_diag_add(d, 1, o->rules[i], 0, 0, "no such file or directory");
		found = 1;
		*origin = "the command line";
	} else {
		for (size_t i = 0; i < cfg->n_rules_dirs; i++)
			found |= add_rules_path(rs, cfg->rules_dirs[i], d);
		*origin = "rules_dirs";
	}
	if (!found) {
		for (const struct vg_embedded *e = vg_embedded_rules; e->name; e++)
			vg_ruleset_add_text(rs, e->name, e->text, strlen(e->text), d);
		*origin = "the embedded default rules";
	}
	struct vg_engine *eng = vg_engine_build(rs, d);
	vg_ruleset_free(rs);
	return eng;
}

static void print_counts(FILE *f, const struct vg_engine *e, const struct vg_diag *d)
{
	struct vg_engine_stats s;
	vg_engine_get_stats(e, &s);
	fprintf(f,
		"%zu rules (%zu enabled, %zu disabled, %zu failed, %zu skipped), %zu macros, %zu "
		"lists; "
		"%zu errors, %zu warnings\n",
		s.rules_total, s.rules_enabled, s.rules_disabled, s.rules_failed, s.rules_skipped,
		s.macros, s.lists, d->errors, d->warnings);
}

static int cmd_convert(const struct opts *o)
{
	if (o->nargs == 0) {
		fprintf(stderr, "vigil: convert needs at least one rules file\n");
		return 2;
	}
	struct vg_diag d = {0};
	int rc = vg_convert((const char *const *)o->args, (size_t)o->nargs, stdout, &d);
	vg_diag_print(&d, stderr);
	vg_diag_free(&d);
	return rc ? 1 : 0;
}

static int cmd_validate(const struct opts *o)
{
	if (o->nargs == 0) {
		fprintf(stderr, "vigil: validate needs at least one rules file\n");
		return 2;
	}
	struct vg_diag d = {0};
	struct vg_ruleset *rs = vg_ruleset_new();
	for (int i = 0; i < o->nargs; i++)
		if (!add_rules_path(rs, o->args[i], &d))
			vg_diag_add(&d, 1, o->args[i], 0, 0, "no such file or directory");
	struct vg_engine *e = vg_engine_build(rs, &d);
	vg_diag_print(&d, stderr);
	print_counts(stdout, e, &d);
	int rc = d.errors ? 1 : 0;
	vg_engine_free(e);
	vg_ruleset_free(rs);
	vg_diag_free(&d);
	return rc;
}

/* ---- alerts ------------------------------------------------------------ */

struct alerter {
	struct vg_alert_ctx *actx;
	int text;
	int min_prio;
	uint64_t alerts;
};

static void on_match(void *ctx, const struct vg_rule *r, const struct vg_evt *ev)
{
	struct alerter *a = ctx;
	if (r->priority > a->min_prio)
		return;
	a->alerts++;
	if (a->text) {
		vg_alert_text(r, ev, a->actx, a->actx->buf, sizeof(a->actx->buf));
		printf("%s\n", a->actx->buf);
	} else {
		char *s = vg_alert_json(r, ev, a->actx);
		printf("%s\n", s);
		free(s);
	}
	fflush(stdout);
}

static int setup_alerter(struct alerter *a, const struct vg_config *cfg)
{
	memset(a, 0, sizeof(*a));
	a->actx = vg_xcalloc(1, sizeof(*a->actx));
	a->actx->hostname = hostname(cfg);
	a->text = !strcasecmp(cfg->outputs.stdout_format, "text");
	a->min_prio = vg_priority_parse(cfg->outputs.min_priority);
	if (a->min_prio < 0)
		a->min_prio = VG_PRIO_DEBUG;
	return 0;
}

struct matcher {
	struct vg_engine *eng;
	struct vg_cond_scratch *scratch;
	struct alerter al;
};

static int match_event(struct loop *l, struct vg_evt *ev)
{
	struct matcher *m = l->ctx;
	vg_engine_match(m->eng, ev, m->scratch, on_match, &m->al);
	return 0;
}

static int cmd_replay(const struct opts *o)
{
	if (o->nargs != 1) {
		fprintf(stderr, "vigil: replay needs one capture file\n");
		return 2;
	}
	struct vg_config cfg;
	if (load_config(o, &cfg))
		return 2;
	struct vg_diag d = {0};
	const char *origin;
	struct vg_engine *eng = load_engine(o, &cfg, &d, &origin);
	vg_diag_print(&d, stderr);
	int rc = 1;
	struct vg_state *st = new_state(&cfg, 1);
	struct vg_evt *ev = vg_xcalloc(1, sizeof(*ev));
	char *buf = vg_xmalloc(VG_EVENT_MAX);
	struct matcher m = {eng, vg_cond_scratch_new(), {0}};
	setup_alerter(&m.al, &cfg);
	char err[1024];
	struct vg_capfile *f = NULL;
	if (d.errors) {
		fprintf(stderr, "vigil: the rules have errors\n");
		goto out;
	}
	f = vg_capfile_open(o->args[0], err, sizeof(err));
	if (!f) {
		fprintf(stderr, "vigil: %s\n", err);
		goto out;
	}
	for (;;) {
		size_t size;
		int r = vg_capfile_next(f, buf, VG_EVENT_MAX, &size, err, sizeof(err));
		if (r < 0) {
			fprintf(stderr, "vigil: %s\n", err);
			goto out;
		}
		if (r == 0)
			break;
		if (vg_state_apply(st, (struct vg_event *)buf, size, ev)) {
			fprintf(stderr, "vigil: %s: a record is inconsistent\n", o->args[0]);
			goto out;
		}
		if (o->events) {
			char *s = vg_evjson_render(ev, 1);
			printf("%s\n", s);
			free(s);
		} else {
			vg_engine_match(eng, ev, m.scratch, on_match, &m.al);
		}
	}
	rc = 0;
out:
	vg_capfile_close(f);
	free(buf);
	free(ev);
	free(m.al.actx);
	vg_cond_scratch_free(m.scratch);
	vg_state_free(st);
	vg_engine_free(eng);
	vg_diag_free(&d);
	vg_config_free(&cfg);
	return rc;
}

static int cmd_run(const struct opts *o)
{
	struct vg_config cfg;
	if (load_config(o, &cfg))
		return 2;
	struct vg_diag d = {0};
	const char *origin;
	struct vg_engine *eng = load_engine(o, &cfg, &d, &origin);
	vg_diag_print(&d, stderr);
	struct vg_engine_stats es;
	vg_engine_get_stats(eng, &es);
	if (d.errors)
		vg_log(VG_LOG_WARNING, "%zu rule errors: running with the %zu rules that compiled",
		       d.errors, es.rules_enabled);
	vg_log(VG_LOG_INFO, "loaded %zu enabled rules from %s", es.rules_enabled, origin);
	uint8_t want[VG_NR_MAX];
	vg_engine_interest(eng, want);
	struct vg_evt *ev = vg_xcalloc(1, sizeof(*ev));
	struct matcher m = {eng, vg_cond_scratch_new(), {0}};
	setup_alerter(&m.al, &cfg);
	struct loop l = {0};
	l.st = new_state(&cfg, 0);
	l.ev = ev;
	l.pid = -1;
	l.on_event = match_event;
	l.ctx = &m;
	install_signals();
	int rc = run_loop(&l, &cfg, want, o->duration) ? 1 : 0;
	vg_log(VG_LOG_INFO, "stopped after %llu alerts", (unsigned long long)m.al.alerts);
	vg_state_free(l.st);
	free(ev);
	free(m.al.actx);
	vg_cond_scratch_free(m.scratch);
	vg_engine_free(eng);
	vg_diag_free(&d);
	vg_config_free(&cfg);
	return rc;
}

int main(int argc, char **argv)
{
	struct opts o;
	if (parse_args(argc, argv, &o))
		return 2;
	if (!strcmp(o.cmd, "version"))
		return cmd_version();
	if (!strcmp(o.cmd, "fields"))
		return cmd_fields();
	if (!strcmp(o.cmd, "capture"))
		return cmd_capture(&o, 0);
	if (!strcmp(o.cmd, "record"))
		return cmd_capture(&o, 1);
	if (!strcmp(o.cmd, "validate"))
		return cmd_validate(&o);
	if (!strcmp(o.cmd, "replay"))
		return cmd_replay(&o);
	if (!strcmp(o.cmd, "convert"))
		return cmd_convert(&o);
	if (!strcmp(o.cmd, "run"))
		return cmd_run(&o);
	if (!strcmp(o.cmd, "help")) {
		fputs(usage_text, stdout);
		return 0;
	}
	fprintf(stderr, "vigil: unknown command '%s'\nTry 'vigil --help'.\n", o.cmd);
	return 2;
}
