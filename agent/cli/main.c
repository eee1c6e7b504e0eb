/* main.c - the vigil command line: parse arguments, wire the modules, run. */
#include "agent.h"
#include "kube.h"
#include "reload.h"
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
#include "replay_audit.h"
#include "pfeval.h"
#include "util.h"
#include "version.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
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
	"                               (--prefilter: then print what the kernel sends\n"
	"                               with capture.prefilter: on, per syscall)\n"
	"  capture [-s SYSCALLS]        print captured events as JSON lines\n"
	"  record -o FILE [-s SYSCALLS] capture live events to a file (for replay)\n"
	"  replay FILE [-r RULES]...    evaluate the rules over a recorded capture (or\n"
	"                               audit events, one per line) and\n"
	"                               print alerts (--events: print decoded events)\n"
	"  convert FILE...              turn Falco rules files into vigil custom\n"
	"                               resources (YAML stream on stdout)\n"
	"  fields                       list every supported field with its type\n"
	"  version [--features]         print the version; --features (root): load the\n"
	"                               BPF programs and print the running kernel, the\n"
	"                               capture features it allows (1/0, and what vigil\n"
	"                               does without) and the verifier's figures\n"
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
	"      --prefilter       validate: print the kernel-side prefilter's predicate:\n"
	"                        per syscall, the clauses one of which an event must\n"
	"                        meet to be sent; the syscalls dropped whole; whether\n"
	"                        opens and closes are filtered, and the rules that\n"
	"                        make the state keep every open\n"
	"  -h, --help            this help\n"
	"\n"
	"Without rules on the command line or in the configuration, vigil uses its\n"
	"default rules, embedded in the binary.\n"
	"\n"
	"Signals (run): SIGTERM/SIGINT stop after draining the alert queues;\n"
	"SIGHUP re-reads the rule files (hot reload, no event lost); SIGUSR1\n"
	"reopens the alert file (logrotate).\n"
	"\n"
	"In a cluster (kubernetes.* in the configuration, $KUBECONFIG or the\n"
	"in-cluster service account), vigil also reads pod metadata, runs the\n"
	"ClusterRule, Rule and RuleLibrary objects (hot-reloaded) and sends alerts\n"
	"as Kubernetes Events.\n";

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
	int features;
	int prefilter;
	char **args;
	int nargs;
};

/* The running agent, for the signal handlers: they only set its flags. */
static struct vg_agent *running;

static void on_signal(int sig)
{
	if (!running)
		return;
	if (sig == SIGUSR1)
		vg_agent_reopen(running);
	else if (sig == SIGHUP) {
		if (vg_agent_reload(running)) /* capture and record have no rules */
			vg_reload_request_files(vg_agent_reload(running));
	} else
		vg_agent_stop(running);
}

static void install_signals(struct vg_agent *a)
{
	running = a;
	struct sigaction sa = {0};
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option lopts[] = {
		{"config", required_argument, 0, 'c'},	 {"rules", required_argument, 0, 'r'},
		{"syscalls", required_argument, 0, 's'}, {"output", required_argument, 0, 'o'},
		{"count", required_argument, 0, 'n'},	 {"duration", required_argument, 0, 'd'},
		{"pid", required_argument, 0, 'p'},	 {"events", no_argument, 0, 'E'},
		{"help", no_argument, 0, 'h'},		 {"features", no_argument, 0, 'F'},
		{"prefilter", no_argument, 0, 'P'},	 {0, 0, 0, 0},
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
		case 'F':
			o->features = 1;
			break;
		case 'P':
			o->prefilter = 1;
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

/* ---- capture and record ------------------------------------------------- */

static int print_event(void *ctx, struct vg_event *ev)
{
	(void)ctx;
	char *s = vg_evjson_render(ev, 1);
	int rc = printf("%s\n", s) < 0 ? -1 : 0;
	free(s);
	fflush(stdout);
	return rc;
}

static int write_event(void *ctx, struct vg_event *ev)
{
	return vg_capfile_write(ctx, ev);
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
	char err[512];
	struct vg_capfile *cf = NULL;
	struct vg_agent_opts ao = {0};
	ao.cfg = &cfg;
	ao.want = want;
	ao.on_event = print_event;
	ao.pid = o->pid;
	ao.limit = o->count;
	ao.duration = o->duration;
	struct vg_agent *a = NULL;
	if (record) {
		char host[256];
		vg_agent_hostname(&cfg, host, sizeof(host));
		cf = vg_capfile_create(o->output, host, err, sizeof(err));
		if (!cf) {
			fprintf(stderr, "vigil: %s\n", err);
			goto out;
		}
		ao.on_event = write_event;
		ao.on_event_ctx = cf;
	}
	a = vg_agent_new(&ao, err, sizeof(err));
	if (!a) {
		fprintf(stderr, "vigil: %s\n", err);
		goto out;
	}
	install_signals(a);
	rc = vg_agent_run(a) ? 1 : 0;
out:
	running = NULL;
	vg_agent_free(a);
	if (cf && vg_capfile_close(cf)) {
		fprintf(stderr, "vigil: writing %s: %s\n", o->output, strerror(errno));
		rc = 1;
	}
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

static int cmd_version(const struct opts *o)
{
	printf("vigil %s (commit %s)\n", VIGIL_VERSION, VIGIL_COMMIT);
	if (!o->features)
		return 0;
	/* the features are what the running kernel accepts: only a load
	 * tells (the programs are loaded and attached, then closed) */
	char err[1024];
	struct vg_capture_opts co = {0};
	co.ignore_self = true;
	struct vg_capture *cap = vg_capture_open(&co, err, sizeof(err));
	if (!cap) {
		printf("capture unavailable: %s\n", err);
		return 1;
	}
	printf("kernel %s\n", vg_capture_kernel(cap));
	const struct vg_capture_feature *f;
	size_t n = vg_capture_features(cap, &f);
	for (size_t i = 0; i < n; i++)
		printf("feature %s %d%s%s\n", f[i].name, f[i].on,
		       f[i].on ? "" : "  without: ", f[i].on ? "" : f[i].without);
	const struct vg_capture_prog *p;
	n = vg_capture_programs(cap, &p);
	for (size_t i = 0; i < n; i++)
		printf("program %s verifier_insns %u (%s)\n", p[i].name, p[i].insns, p[i].source);
	vg_capture_close(cap);
	return 0;
}

/* ---- rules ------------------------------------------------------------- */

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
		if (!vg_ruleset_add_path(rs, o->args[i], &d))
			vg_diag_add(&d, 1, o->args[i], 0, 0, "%s", strerror(errno));
	struct vg_engine *e = vg_engine_build(rs, &d);
	vg_diag_print(&d, stderr);
	print_counts(stdout, e, &d);
	int rc = d.errors ? 1 : 0;
	if (!rc && o->prefilter)
		vg_engine_prefilter_print(e, stdout);
	vg_engine_free(e);
	vg_ruleset_free(rs);
	vg_diag_free(&d);
	return rc;
}

/* ---- replay ------------------------------------------------------------ */

/* replay prints alerts synchronously: it is offline, nothing to protect. */
struct printer {
	struct vg_alert_ctx *actx;
	int text;
	int min_prio;
};

static void print_match(void *ctx, const struct vg_rule *r, const struct vg_event *ev)
{
	struct printer *p = ctx;
	if (r->priority > p->min_prio)
		return;
	if (p->text) {
		vg_alert_text(r, ev, p->actx, p->actx->buf, sizeof(p->actx->buf));
		printf("%s\n", p->actx->buf);
	} else {
		char *s = vg_alert_json(r, ev, p->actx);
		printf("%s\n", s);
		free(s);
	}
	fflush(stdout);
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
	struct vg_engine *eng = vg_agent_load_rules(o->rules, o->nrules, &cfg, &d, &origin);
	vg_diag_print(&d, stderr);
	int rc = 1;
	struct vg_state_opts so = {0};
	so.max_procs = cfg.state.max_procs;
	so.max_fds = cfg.state.max_fds;
	so.max_env = cfg.state.max_env_bytes;
	so.proc_root = "/proc";
	so.etc_root = "/etc";
	so.ts_is_wall = 1; /* a capture's times are already wall clock */
	struct vg_state *st = vg_state_new(&so);
	struct vg_event *ev = vg_xcalloc(1, sizeof(*ev));
	char *buf = vg_xmalloc(VG_REC_MAX);
	struct vg_cond_scratch *scratch = vg_cond_scratch_new();
	char host[256];
	vg_agent_hostname(&cfg, host, sizeof(host));
	struct printer p = {vg_xcalloc(1, sizeof(struct vg_alert_ctx)), 0, 0};
	p.actx->hostname = host;
	p.text = !strcasecmp(cfg.outputs.stdout_format, "text");
	p.min_prio = vg_priority_parse(cfg.outputs.min_priority);
	if (p.min_prio < 0)
		p.min_prio = VG_PRIO_DEBUG;
	char err[1024];
	struct vg_capfile *f = NULL;
	/* capture.prefilter: on drops what the kernel would not have sent */
	struct vg_pf_table *pf = NULL;
	struct vg_pf_sim pfsim = {0};
	if (d.errors) {
		fprintf(stderr, "vigil: the rules have errors\n");
		goto out;
	}
	if (!strcmp(cfg.capture.prefilter, "on")) {
		pf = vg_xmalloc(sizeof(*pf));
		vg_engine_prefilter(eng, pf);
	}
	if (!o->events) { /* recorded audit events, one per line */
		int ar = vg_replay_audit(o->args[0], eng, print_match, &p, err, sizeof(err));
		if (ar < 0)
			fprintf(stderr, "vigil: %s\n", err);
		if (ar) {
			rc = ar < 0;
			goto out;
		}
	}
	f = vg_capfile_open(o->args[0], err, sizeof(err));
	if (!f) {
		fprintf(stderr, "vigil: %s\n", err);
		goto out;
	}
	/* A bad line (torn by a crash, edited by hand) is skipped, said and
	 * counted: the rest of the recording still replays. */
	size_t events = 0, skipped = 0;
	for (;;) {
		size_t size;
		int r = vg_capfile_next(f, buf, VG_REC_MAX, &size, err, sizeof(err));
		if (r == VG_CAPFILE_BAD) {
			fprintf(stderr, "vigil: %s (line skipped)\n", err);
			skipped++;
			continue;
		}
		if (r < 0) {
			fprintf(stderr, "vigil: %s\n", err);
			goto out;
		}
		if (r == 0)
			break;
		if (pf && !vg_pf_sim_keep(pf, &pfsim, (const struct vg_rec *)buf))
			continue;
		if (vg_state_apply(st, (struct vg_rec *)buf, size, ev)) {
			fprintf(stderr,
				"vigil: %s:%zu: the record is inconsistent (line skipped)\n",
				o->args[0], vg_capfile_line(f));
			skipped++;
			continue;
		}
		events++;
		if (o->events) {
			char *s = vg_evjson_render(ev, 1);
			printf("%s\n", s);
			free(s);
		} else {
			vg_engine_match(eng, ev, scratch, print_match, &p);
		}
	}
	fprintf(stderr, "vigil: replayed %zu events from %s; %zu bad lines skipped\n", events,
		o->args[0], skipped);
	rc = 0;
out:
	vg_capfile_close(f);
	free(pf);
	vg_pf_sim_free(&pfsim);
	free(buf);
	free(ev);
	free(p.actx);
	vg_cond_scratch_free(scratch);
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
	struct vg_agent_opts ao = {0};
	ao.cfg = &cfg;
	ao.rules = o->rules;
	ao.nrules = o->nrules;
	ao.duration = o->duration;
	char err[1024];
	struct vg_agent *a = vg_agent_new(&ao, err, sizeof(err));
	if (!a) {
		fprintf(stderr, "vigil: %s\n", err);
		vg_config_free(&cfg);
		return 1;
	}
	struct vg_kube *k = vg_kube_start(a, &cfg, err, sizeof(err));
	if (!k && *err) {
		fprintf(stderr, "vigil: %s\n", err);
		if (!strcmp(cfg.kubernetes.enabled, "true")) {
			vg_agent_free(a);
			vg_config_free(&cfg);
			return 1;
		}
		fprintf(stderr, "vigil: running without Kubernetes (kubernetes.enabled: auto)\n");
	}
	install_signals(a);
	int rc = vg_agent_run(a) ? 1 : 0;
	running = NULL;
	vg_kube_stop(k);
	/* one drain deadline for the whole stop: the sinks' drain (the Events
	 * sink waits there for its writer) and then the Events still queued
	 * share outputs.drain_timeout_ms, so a flooded Events writer cannot
	 * make the stop take twice as long */
	uint64_t t0 = vg_now_mono_ns();
	vg_agent_free(a);
	uint64_t spent_ms = (vg_now_mono_ns() - t0) / 1000000ull;
	uint64_t budget_ms = (uint64_t)cfg.outputs.drain_timeout_ms;
	vg_kube_free(k, (unsigned)(spent_ms < budget_ms ? budget_ms - spent_ms : 0));
	vg_config_free(&cfg);
	return rc;
}

int main(int argc, char **argv)
{
	struct opts o;
	if (parse_args(argc, argv, &o))
		return 2;
	if (!strcmp(o.cmd, "version"))
		return cmd_version(&o);
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
