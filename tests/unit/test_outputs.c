/* Unit tests of the alert pipeline: the queue (alertq.c), the
 * dispatcher (dispatch.c) with a fake sink, the file sink
 * (sink_stream.c) and the HTTP sink (sink_http.c) against a small HTTP
 * server on a loopback socket in this process. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "alertq.h"
#include "dispatch.h"
#include "metrics.h"
#include "rules.h"
#include "sink.h"
#include "util.h"

static struct vg_alert *mk(const char *rule, int prio, const char *json)
{
	return vg_alert_new(rule, prio, 1, vg_xstrdup(json), NULL);
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* ---- alertq ---------------------------------------------------------------- */

static void test_alertq(void **state)
{
	(void)state;
	struct vg_alertq *q = vg_alertq_new(3);
	struct vg_alert *a[4];
	for (int i = 0; i < 4; i++) {
		char j[16];
		snprintf(j, sizeof(j), "{\"n\":%d}", i);
		a[i] = mk("r", VG_PRIO_NOTICE, j);
	}
	assert_int_equal(vg_alertq_push(q, a[0]), VG_ALERTQ_OK);
	assert_int_equal(vg_alertq_push(q, a[1]), VG_ALERTQ_OK);
	assert_int_equal(vg_alertq_push(q, a[2]), VG_ALERTQ_OK);
	assert_int_equal(vg_alertq_push(q, a[3]), VG_ALERTQ_FULL);
	assert_int_equal(vg_alertq_len(q), 3);
	struct vg_alert *got = NULL;
	assert_int_equal(vg_alertq_pop(q, &got, 0), VG_ALERTQ_OK);
	assert_ptr_equal(got, a[0]); /* first in, first out */
	vg_alert_unref(got);
	assert_int_equal(vg_alertq_push(q, a[3]), VG_ALERTQ_OK); /* room again, wraps */
	vg_alertq_close(q);
	assert_int_equal(vg_alertq_push(q, a[0]), VG_ALERTQ_CLOSED);
	for (int i = 1; i < 4; i++) {
		assert_int_equal(vg_alertq_pop(q, &got, -1), VG_ALERTQ_OK);
		assert_ptr_equal(got, a[i]);
		vg_alert_unref(got);
	}
	assert_int_equal(vg_alertq_pop(q, &got, -1), VG_ALERTQ_CLOSED);
	for (int i = 0; i < 4; i++)
		vg_alert_unref(a[i]); /* the last references: ASan sees no leak */
	vg_alertq_free(q);

	/* a timed pop times out; a queue freed with alerts in it drops them */
	q = vg_alertq_new(2);
	uint64_t t0 = vg_now_mono_ns();
	assert_int_equal(vg_alertq_pop(q, &got, 50), VG_ALERTQ_TIMEOUT);
	assert_true(vg_now_mono_ns() - t0 >= 45000000ull);
	struct vg_alert *x = mk("r", 1, "{}");
	assert_int_equal(vg_alertq_push(q, x), VG_ALERTQ_OK);
	vg_alert_unref(x);
	vg_alertq_free(q);
}

/* ---- dispatch with a fake sink ---------------------------------------------- */

struct fake {
	atomic_int delivered, flushed, reopened, closed;
	atomic_bool in_deliver, release, block_until_give_up;
	char last[64];
};

static int fake_deliver(struct vg_sink *s, const struct vg_alert *a, char *err, size_t errlen)
{
	struct fake *f = s->impl;
	atomic_store(&f->in_deliver, true);
	while (!atomic_load(&f->release))
		sleep_ms(1);
	if (atomic_load(&f->block_until_give_up)) {
		while (!vg_sink_giving_up(s))
			sleep_ms(1);
		snprintf(err, errlen, "gave up");
		return -1;
	}
	snprintf(f->last, sizeof(f->last), "%s", a->json);
	atomic_fetch_add(&f->delivered, 1);
	return 0;
}

static int fake_flush(struct vg_sink *s, char *err, size_t errlen)
{
	(void)err, (void)errlen;
	atomic_fetch_add(&((struct fake *)s->impl)->flushed, 1);
	return 0;
}

static int fake_reopen(struct vg_sink *s, char *err, size_t errlen)
{
	(void)err, (void)errlen;
	atomic_fetch_add(&((struct fake *)s->impl)->reopened, 1);
	return 0;
}

static void fake_close(struct vg_sink *s)
{
	atomic_fetch_add(&((struct fake *)s->impl)->closed, 1);
	free(s);
}

static const struct vg_sink_ops fake_ops = {fake_deliver, fake_flush, fake_reopen, fake_close};

static struct vg_sink *fake_sink(struct fake *f, const char *name, int min_prio)
{
	struct vg_sink *s = vg_xcalloc(1, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->min_priority = min_prio;
	s->ops = &fake_ops;
	s->impl = f;
	return s;
}

struct reg {
	struct vg_metrics *m;
	struct vg_vigil_metrics v;
};

static void reg_init(struct reg *r)
{
	char err[128];
	r->m = vg_metrics_new();
	assert_int_equal(vg_metrics_register_vigil(r->m, &r->v, err, sizeof(err)), 0);
}

static uint64_t counter(struct vg_metric_family *f, const char *label)
{
	return vg_metric_counter_get(vg_metric_labels(f, label));
}

static void test_dispatch_queue_full(void **state)
{
	(void)state;
	struct reg r;
	reg_init(&r);
	struct vg_dispatch_opts o = {.queue_len = 4,
				     .sent = r.v.alerts_sent,
				     .failed = r.v.alerts_failed,
				     .failures = r.v.alert_failures,
				     .throttled = r.v.alerts_throttled,
				     .events_dropped = r.v.events_dropped};
	struct vg_dispatch *d = vg_dispatch_new(&o);
	struct fake f = {0};
	vg_dispatch_add(d, fake_sink(&f, "fake", VG_PRIO_DEBUG));
	char err[128];
	assert_int_equal(vg_dispatch_start(d, err, sizeof(err)), 0);
	vg_dispatch_emit(d, mk("r", VG_PRIO_NOTICE, "{\"n\":0}"));
	while (!atomic_load(&f.in_deliver)) /* the sink holds the first one */
		sleep_ms(1);
	for (int i = 1; i <= 10; i++) {
		char j[16];
		snprintf(j, sizeof(j), "{\"n\":%d}", i);
		vg_dispatch_emit(d, mk("r", VG_PRIO_NOTICE, j)); /* never blocks */
	}
	assert_int_equal(vg_dispatch_take_dropped(d), 6);
	assert_int_equal(vg_dispatch_take_dropped(d), 0);
	atomic_store(&f.release, true);
	uint64_t lost = vg_dispatch_stop(d, vg_now_mono_ns() + 5000000000ull);
	assert_int_equal(lost, 0);
	struct vg_dispatch_stats st;
	vg_dispatch_get_stats(d, 0, &st);
	assert_int_equal(st.sent, 5);
	assert_int_equal(st.dropped, 6);
	assert_int_equal(st.failed, 6);
	assert_int_equal(atomic_load(&f.delivered), 5);
	assert_string_equal(f.last, "{\"n\":4}"); /* in order; the newest were dropped */
	assert_true(atomic_load(&f.flushed) >= 1);
	assert_int_equal(atomic_load(&f.closed), 1);
	assert_int_equal(counter(r.v.alerts_sent, "fake"), 5);
	assert_int_equal(counter(r.v.alerts_failed, "fake"), 6);
	assert_int_equal(counter(r.v.events_dropped, "alert_queue"), 6);
	assert_int_equal(vg_metric_counter_get(vg_metric_labels(r.v.alert_failures, "fake",
								VG_SINK_R_QUEUE_FULL, "")),
			 6);
	vg_dispatch_free(d);
	vg_metrics_free(r.m);
}

static struct vg_alert *mk_tenant(const char *ns)
{
	struct vg_alert *a = mk("flood", VG_PRIO_NOTICE, "{}");
	vg_alert_set_origin(a, "Rule", ns, "flood", 1);
	return a;
}

/* A team's Rules flood a sink whose queue does not drain: the team gets an
 * eighth of half the queue, another team its own part, and the cluster's
 * rules the rest; the team's losses are counted as tenant_share under its
 * namespace. */
static void test_dispatch_tenant_shares(void **state)
{
	(void)state;
	struct reg r;
	reg_init(&r);
	struct vg_dispatch_opts o = {.queue_len = 32,
				     .sent = r.v.alerts_sent,
				     .failed = r.v.alerts_failed,
				     .failures = r.v.alert_failures,
				     .events_dropped = r.v.events_dropped};
	struct vg_dispatch *d = vg_dispatch_new(&o);
	struct fake f = {0};
	vg_dispatch_add(d, fake_sink(&f, "fake", VG_PRIO_DEBUG));
	char err[128];
	assert_int_equal(vg_dispatch_start(d, err, sizeof(err)), 0);
	vg_dispatch_emit(d, mk("cluster", VG_PRIO_NOTICE, "{}"));
	while (!atomic_load(&f.in_deliver)) /* the sink holds the first one */
		sleep_ms(1);
	for (int i = 0; i < 20; i++)
		vg_dispatch_emit(d, mk_tenant("team-a"));
	for (int i = 0; i < 3; i++)
		vg_dispatch_emit(d, mk_tenant("team-b"));
	for (int i = 0; i < 30; i++)
		vg_dispatch_emit(d, mk("cluster", VG_PRIO_NOTICE, "{}"));
	/* 2 of team-a, 2 of team-b, 28 of the cluster's fill the 32 places */
	assert_int_equal(vg_dispatch_take_dropped(d), 18 + 1 + 2);
	atomic_store(&f.release, true);
	assert_int_equal(vg_dispatch_stop(d, vg_now_mono_ns() + 5000000000ull), 0);
	assert_int_equal(atomic_load(&f.delivered), 1 + 2 + 2 + 28);
	struct vg_metric_family *fl = r.v.alert_failures;
	assert_int_equal(vg_metric_counter_get(
				 vg_metric_labels(fl, "fake", VG_SINK_R_TENANT_SHARE, "team-a")),
			 18);
	assert_int_equal(vg_metric_counter_get(
				 vg_metric_labels(fl, "fake", VG_SINK_R_TENANT_SHARE, "team-b")),
			 1);
	assert_int_equal(
		vg_metric_counter_get(vg_metric_labels(fl, "fake", VG_SINK_R_QUEUE_FULL, "")), 2);
	vg_dispatch_free(d);
	vg_metrics_free(r.m);
}

static void test_dispatch_priority_throttle_reopen(void **state)
{
	(void)state;
	struct reg r;
	reg_init(&r);
	struct vg_dispatch_opts o = {.queue_len = 100,
				     .rule_rate = 1,
				     .rule_burst = 2,
				     .sent = r.v.alerts_sent,
				     .throttled = r.v.alerts_throttled};
	struct vg_dispatch *d = vg_dispatch_new(&o);
	struct fake all = {0}, warn = {0};
	atomic_store(&all.release, true);
	atomic_store(&warn.release, true);
	vg_dispatch_add(d, fake_sink(&all, "all", VG_PRIO_DEBUG));
	vg_dispatch_add(d, fake_sink(&warn, "warn", VG_PRIO_WARNING));
	assert_int_equal(vg_dispatch_max_priority(d), VG_PRIO_DEBUG);
	assert_false(vg_dispatch_wants_text(d));
	char err[128];
	assert_int_equal(vg_dispatch_start(d, err, sizeof(err)), 0);
	uint64_t t = vg_now_mono_ns();
	int passed = 0;
	for (int i = 0; i < 5; i++)
		if (!vg_dispatch_throttled(d, "noisy", VG_PRIO_NOTICE, t)) {
			passed++;
			vg_dispatch_emit(d, mk("noisy", VG_PRIO_NOTICE, "{}"));
		}
	assert_int_equal(passed, 2); /* the burst */
	/* another rule has its own bucket */
	assert_false(vg_dispatch_throttled(d, "other", VG_PRIO_CRITICAL, t));
	vg_dispatch_emit(d, mk("other", VG_PRIO_CRITICAL, "{}"));
	vg_dispatch_reopen(d);
	for (int i = 0; i < 1000 && atomic_load(&all.reopened) == 0; i++)
		sleep_ms(1);
	assert_int_equal(atomic_load(&all.reopened), 1);
	assert_int_equal(vg_dispatch_stop(d, vg_now_mono_ns() + 5000000000ull), 0);
	struct vg_dispatch_stats sa, sw;
	vg_dispatch_get_stats(d, 0, &sa);
	vg_dispatch_get_stats(d, 1, &sw);
	assert_int_equal(sa.sent, 3);
	assert_int_equal(sw.sent, 1); /* only the Critical one */
	assert_int_equal(sa.throttled, 3);
	assert_int_equal(sw.throttled, 0); /* Notice: warn would not have taken them */
	assert_int_equal(counter(r.v.alerts_throttled, "all"), 3);
	assert_int_equal(counter(r.v.alerts_sent, "warn"), 1);
	vg_dispatch_free(d);
	vg_metrics_free(r.m);
}

static void test_dispatch_deadline(void **state)
{
	(void)state;
	struct vg_dispatch_opts o = {.queue_len = 10};
	struct vg_dispatch *d = vg_dispatch_new(&o);
	struct fake f = {0};
	atomic_store(&f.release, true);
	atomic_store(&f.block_until_give_up, true); /* a receiver that never answers */
	vg_dispatch_add(d, fake_sink(&f, "stuck", VG_PRIO_DEBUG));
	char err[128];
	assert_int_equal(vg_dispatch_start(d, err, sizeof(err)), 0);
	for (int i = 0; i < 5; i++)
		vg_dispatch_emit(d, mk("r", VG_PRIO_NOTICE, "{}"));
	uint64_t t0 = vg_now_mono_ns();
	uint64_t lost = vg_dispatch_stop(d, t0 + 300000000ull);
	uint64_t took = vg_now_mono_ns() - t0;
	assert_int_equal(lost, 5);
	assert_true(took >= 280000000ull && took < 2000000000ull);
	struct vg_dispatch_stats st;
	vg_dispatch_get_stats(d, 0, &st);
	assert_int_equal(st.failed, 5);
	assert_int_equal(st.sent, 0);
	vg_dispatch_free(d);
}

/* stdout is a pipe nobody reads: the sink's thread must not sit in
 * write(2) past the drain deadline (before, vg_dispatch_stop never
 * returned), and every alert it could not write is counted as lost to the
 * shutdown; the alerts counted as sent are exactly the whole lines in the
 * pipe. */
static void test_stdout_pipe_deadline(void **state)
{
	(void)state;
	int p[2];
	assert_int_equal(pipe(p), 0);
	fflush(stdout);
	int saved = dup(STDOUT_FILENO);
	assert_true(saved >= 0);
	assert_int_equal(dup2(p[1], STDOUT_FILENO), STDOUT_FILENO);
	struct reg r;
	reg_init(&r);
	struct vg_dispatch_opts o = {.queue_len = 1000,
				     .sent = r.v.alerts_sent,
				     .failed = r.v.alerts_failed,
				     .failures = r.v.alert_failures};
	struct vg_dispatch *d = vg_dispatch_new(&o);
	vg_dispatch_add(d, vg_sink_stdout_new(false, VG_PRIO_DEBUG));
	char err[128];
	assert_int_equal(vg_dispatch_start(d, err, sizeof(err)), 0);
	/* 1000 alerts of 1022 bytes a line: far more than the pipe's 64 KiB */
	char *big = vg_xmalloc(1024);
	memset(big, 'x', 1021);
	big[0] = '"', big[1020] = '"', big[1021] = 0;
	for (int i = 0; i < 1000; i++)
		vg_dispatch_emit(d, mk("r", VG_PRIO_NOTICE, big));
	free(big);
	sleep_ms(100); /* the sink is now stuck on the full pipe */
	uint64_t t0 = vg_now_mono_ns();
	uint64_t lost = vg_dispatch_stop(d, t0 + 300000000ull);
	uint64_t took = vg_now_mono_ns() - t0;
	assert_int_equal(dup2(saved, STDOUT_FILENO), STDOUT_FILENO);
	close(saved);
	assert_true(took >= 280000000ull);
	assert_true(took < 1000000000ull); /* the deadline and a poll tick or so */
	struct vg_dispatch_stats st;
	vg_dispatch_get_stats(d, 0, &st);
	assert_true(lost > 0);
	assert_int_equal(st.sent + st.failed, 1000);
	assert_int_equal(st.failed, lost);
	assert_int_equal(vg_metric_counter_get(vg_metric_labels(r.v.alert_failures, "stdout",
								VG_SINK_R_SHUTDOWN, "")),
			 lost);
	assert_int_equal(counter(r.v.alerts_failed, "stdout"), lost);
	assert_int_equal(counter(r.v.alerts_sent, "stdout"), st.sent);
	char buf[4096];
	size_t got = 0;
	ssize_t n;
	close(p[1]);
	while ((n = read(p[0], buf, sizeof(buf))) > 0)
		got += (size_t)n;
	close(p[0]);
	assert_true(st.sent > 0);
	assert_true(got >= st.sent * 1022 && got < (st.sent + 1) * 1022);
	vg_dispatch_free(d);
	vg_metrics_free(r.m);
}

/* ---- file sink -------------------------------------------------------------- */

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *buf = vg_xcalloc(1, 65536);
	size_t n = fread(buf, 1, 65535, f);
	buf[n] = 0;
	fclose(f);
	return buf;
}

static void test_file_sink(void **state)
{
	(void)state;
	char dir[] = "/tmp/vigil-sink-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[128], rotated[128], err[256];
	snprintf(path, sizeof(path), "%s/alerts.json", dir);
	snprintf(rotated, sizeof(rotated), "%s/alerts.json.1", dir);
	struct vg_sink *s = vg_sink_file_new(path, false, VG_PRIO_DEBUG, err, sizeof(err));
	assert_non_null(s);
	struct vg_alert *a = mk("r", VG_PRIO_NOTICE, "{\"a\":1}");
	struct vg_alert *b = mk("r", VG_PRIO_NOTICE, "{\"b\":2}");
	assert_int_equal(s->ops->deliver(s, a, err, sizeof(err)), VG_SINK_HELD);
	assert_int_equal(s->ops->deliver(s, b, err, sizeof(err)), VG_SINK_HELD);
	assert_int_equal(s->ops->flush(s, err, sizeof(err)), 0);
	char *text = slurp(path);
	assert_string_equal(text, "{\"a\":1}\n{\"b\":2}\n");
	free(text);
	assert_int_equal(rename(path, rotated), 0); /* logrotate */
	assert_int_equal(s->ops->reopen(s, err, sizeof(err)), 0);
	assert_int_equal(s->ops->deliver(s, a, err, sizeof(err)), VG_SINK_HELD);
	s->ops->close(s); /* flushes */
	text = slurp(path);
	assert_string_equal(text, "{\"a\":1}\n");
	free(text);
	text = slurp(rotated);
	assert_string_equal(text, "{\"a\":1}\n{\"b\":2}\n");
	free(text);

	/* the text form when the sink wants text */
	s = vg_sink_file_new(path, true, VG_PRIO_DEBUG, err, sizeof(err));
	assert_true(s->wants_text);
	struct vg_alert *t =
		vg_alert_new("r", VG_PRIO_NOTICE, 1, vg_xstrdup("{}"), vg_xstrdup("T: Notice x"));
	assert_int_equal(s->ops->deliver(s, t, err, sizeof(err)), VG_SINK_HELD);
	s->ops->close(s);
	text = slurp(path);
	assert_string_equal(text, "{\"a\":1}\nT: Notice x\n");
	free(text);
	vg_alert_unref(a);
	vg_alert_unref(b);
	vg_alert_unref(t);

	/* an unwritable path is an error at creation */
	char bad[160];
	snprintf(bad, sizeof(bad), "%s/no/such/dir/alerts.json", dir);
	assert_null(vg_sink_file_new(bad, false, VG_PRIO_DEBUG, err, sizeof(err)));
	assert_non_null(strstr(err, "no/such/dir/alerts.json: No such file or directory"));
	unlink(path);
	unlink(rotated);
	rmdir(dir);
}

/* ---- the file sink on a full disk ------------------------------------------------- */

struct tally {
	uint64_t sent, failed;
	uint64_t failed_team; /* of those, under namespace team-a */
	int other_reasons;
};

static void tally_settle(void *ctx, uint64_t sent, uint64_t failed, const char *reason,
			 const char *ns)
{
	struct tally *t = ctx;
	t->sent += sent;
	t->failed += failed;
	if (ns && !strcmp(ns, "team-a"))
		t->failed_team += failed;
	else if (ns && *ns)
		t->other_reasons++; /* no other namespace was sent */
	if (failed && strcmp(reason, VG_SINK_R_NO_SPACE))
		t->other_reasons++;
}

/* Every line of text is one whole alert of the form {"n":N,"pad":"..."}
 * and no N twice; returns the number of lines (-1 when one is not). */
static int check_lines(const char *text, bool *seen, int total)
{
	int lines = 0;
	for (const char *p = text; *p;) {
		const char *nl = strchr(p, '\n');
		if (!nl)
			return -1; /* a cut line at the end */
		int n = -1, len = 0;
		if (sscanf(p, "{\"n\":%d,\"pad\":\"%*[x]\"}%n", &n, &len) != 1 || p + len != nl ||
		    n < 0 || n >= total || seen[n])
			return -1;
		seen[n] = true;
		lines++;
		p = nl + 1;
	}
	return lines;
}

/* The disk fills up (RLIMIT_FSIZE stands for it: a write past it is cut
 * short, then fails with EFBIG, as ENOSPC does) and frees again: an alert
 * is sent only once its line is in the file, every other one is failed
 * (reason no_space), no line is cut or glued to another, and the sink
 * goes on by itself.  tests/live/test_outputs.py does the same on a full
 * tmpfs. */
static void test_file_sink_disk_full(void **state)
{
	(void)state;
	char dir[] = "/tmp/vigil-full-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[128], err[256];
	snprintf(path, sizeof(path), "%s/alerts.json", dir);
	struct vg_sink *s = vg_sink_file_new(path, false, VG_PRIO_DEBUG, err, sizeof(err));
	assert_non_null(s);
	struct tally t = {0};
	s->settle = tally_settle;
	s->settle_ctx = &t;
	struct rlimit old;
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	void (*oldsig)(int) = signal(SIGXFSZ, SIG_IGN);
	enum { TOTAL = 300 };
	int n = 0;
	for (int phase = 0; phase < 3; phase++) {
		/* 0: room for a while, then full; 1: still full; 2: room again */
		struct rlimit lim = old;
		lim.rlim_cur = phase < 2 ? 2000 : old.rlim_cur;
		assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
		for (int i = 0; i < TOTAL / 3; i++, n++) {
			char j[96];
			snprintf(j, sizeof(j), "{\"n\":%d,\"pad\":\"%.*s\"}", n, 11 + n % 17,
				 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
			struct vg_alert *a = mk("r", VG_PRIO_NOTICE, j);
			if (n % 3 == 0) /* a team's Rule raised it */
				vg_alert_set_origin(a, "Rule", "team-a", "r", 1);
			assert_int_equal(s->ops->deliver(s, a, err, sizeof(err)), VG_SINK_HELD);
			vg_alert_unref(a);
			if (i % 7 == 6) /* the dispatcher flushes when its queue runs empty */
				s->ops->flush(s, err, sizeof(err));
		}
		s->ops->flush(s, err, sizeof(err));
	}
	s->ops->close(s);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, oldsig);

	char *text = slurp(path);
	bool seen[TOTAL] = {0};
	int lines = check_lines(text, seen, TOTAL);
	if (lines < 0)
		fail_msg("a line is not one whole alert:\n%s", text);
	assert_int_equal(t.sent + t.failed, TOTAL);
	assert_int_equal(t.sent, (uint64_t)lines);
	assert_true(t.failed > 0);
	assert_int_equal(t.other_reasons, 0);
	/* after space returned every alert of the last phase is there */
	for (int i = 2 * TOTAL / 3; i < TOTAL; i++)
		assert_true(seen[i]);
	/* the team's lost alerts are counted under its namespace, exactly */
	uint64_t team_lost = 0;
	for (int i = 0; i < TOTAL; i += 3)
		team_lost += !seen[i];
	assert_true(team_lost > 0);
	assert_int_equal(t.failed_team, team_lost);
	free(text);
	unlink(path);
	rmdir(dir);
}

/* ---- HTTP sink against a loopback server -------------------------------------- */

struct server {
	int fd, port;
	pthread_t thread;
	int statuses[8]; /* the answers, in order; the last repeats */
	int nstatuses;
	atomic_int requests;
	char last_req[8192];
	atomic_bool stop;
};

static void *serve(void *arg)
{
	struct server *sv = arg;
	while (!atomic_load(&sv->stop)) {
		int c = accept(sv->fd, NULL, NULL);
		if (c < 0)
			continue;
		char buf[8192];
		size_t len = 0;
		/* read headers, then Content-Length bytes of body */
		long want = -1;
		while (len < sizeof(buf) - 1) {
			ssize_t n = read(c, buf + len, sizeof(buf) - 1 - len);
			if (n <= 0)
				break;
			len += (size_t)n;
			buf[len] = 0;
			char *eoh = strstr(buf, "\r\n\r\n");
			if (eoh && want < 0) {
				char *cl = strcasestr(buf, "content-length:");
				want = (long)(eoh + 4 - buf) + (cl ? atol(cl + 15) : 0);
			}
			if (want >= 0 && (long)len >= want)
				break;
		}
		buf[len] = 0;
		int i = atomic_fetch_add(&sv->requests, 1);
		memcpy(sv->last_req, buf, len + 1);
		int status = sv->statuses[i < sv->nstatuses ? i : sv->nstatuses - 1];
		char resp[256];
		int n = snprintf(resp, sizeof(resp),
				 "HTTP/1.1 %d X\r\n%sContent-Length: 2\r\nConnection: "
				 "close\r\n\r\nok",
				 status, status / 100 == 3 ? "Location: /elsewhere/\r\n" : "");
		if (write(c, resp, (size_t)n) < 0)
			break;
		close(c);
	}
	return NULL;
}

static void server_start(struct server *sv)
{
	sv->fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	assert_int_equal(bind(sv->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	socklen_t sl = sizeof(sa);
	getsockname(sv->fd, (struct sockaddr *)&sa, &sl);
	sv->port = ntohs(sa.sin_port);
	assert_int_equal(listen(sv->fd, 16), 0);
	struct timeval tv = {0, 100000}; /* accept wakes up to see stop */
	setsockopt(sv->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	pthread_create(&sv->thread, NULL, serve, sv);
}

static void server_stop(struct server *sv)
{
	atomic_store(&sv->stop, true);
	pthread_join(sv->thread, NULL);
	close(sv->fd);
}

static void test_http_sink(void **state)
{
	(void)state;
	struct server sv = {.statuses = {500, 503, 200}, .nstatuses = 3};
	server_start(&sv);
	char url[128], err[512];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/falco/alerts", sv.port);
	const char *hdrs[] = {"X-Token: secret 1", "Authorization: Bearer t"};
	struct vg_sink_http_opts o = {.url = url,
				      .headers = hdrs,
				      .nheaders = 2,
				      .timeout_ms = 2000,
				      .retries = 3,
				      .backoff_ms = 10,
				      .backoff_max_ms = 20,
				      .min_priority = VG_PRIO_DEBUG};
	struct vg_sink *s = vg_sink_http_new(&o, err, sizeof(err));
	assert_non_null(s);
	const char *body = "{\"rule\":\"r\",\"output\":\"x\"}";
	struct vg_alert *a = mk("r", VG_PRIO_NOTICE, body);
	/* two failures, then success: delivered on the third attempt */
	assert_int_equal(s->ops->deliver(s, a, err, sizeof(err)), 0);
	assert_int_equal(atomic_load(&sv.requests), 3);
	assert_non_null(strstr(sv.last_req, "POST /falco/alerts HTTP/1.1\r\n"));
	assert_non_null(strcasestr(sv.last_req, "\r\ncontent-type: application/json\r\n"));
	assert_non_null(strcasestr(sv.last_req, "\r\nx-token: secret 1\r\n"));
	assert_non_null(strcasestr(sv.last_req, "\r\nauthorization: Bearer t\r\n"));
	assert_non_null(strstr(sv.last_req, "\r\n\r\n{\"rule\":\"r\",\"output\":\"x\"}"));
	s->ops->close(s);

	/* always 500: retries exhausted, the alert fails */
	sv.statuses[0] = 500;
	sv.nstatuses = 1;
	atomic_store(&sv.requests, 0);
	o.retries = 2;
	s = vg_sink_http_new(&o, err, sizeof(err));
	assert_int_equal(s->ops->deliver(s, a, err, sizeof(err)), -1);
	assert_int_equal(atomic_load(&sv.requests), 3);
	assert_non_null(strstr(err, "HTTP status 500"));
	s->ops->close(s);
	server_stop(&sv);

	/* nobody listening: connection errors, then failure */
	s = vg_sink_http_new(&o, err, sizeof(err));
	assert_int_equal(s->ops->deliver(s, a, err, sizeof(err)), -1);
	/* giving up ends the retries at once */
	o.retries = 1000;
	o.backoff_ms = 1000;
	struct vg_sink *s2 = vg_sink_http_new(&o, err, sizeof(err));
	atomic_store(&s2->give_up, true);
	uint64_t t0 = vg_now_mono_ns();
	assert_int_equal(s2->ops->deliver(s2, a, err, sizeof(err)), -1);
	assert_true(vg_now_mono_ns() - t0 < 1000000000ull);
	s->ops->close(s);
	s2->ops->close(s2);
	vg_alert_unref(a);

	/* bad configuration is an error at creation */
	o.url = "ftp://x/";
	assert_null(vg_sink_http_new(&o, err, sizeof(err)));
	assert_non_null(strstr(err, "scheme must be http or https"));
	o.url = url;
	const char *bad[] = {"NoColon"};
	o.headers = bad;
	o.nheaders = 1;
	assert_null(vg_sink_http_new(&o, err, sizeof(err)));
	assert_non_null(strstr(err, "header 'NoColon'"));
	const char *crlf[] = {"X-A: a\r\nX-Evil: 1"};
	o.headers = crlf;
	assert_null(vg_sink_http_new(&o, err, sizeof(err)));
	assert_non_null(strstr(err, "header 'X-A': control character 0x0d in the value"));
	o.nheaders = 0;
	o.ca_file = "/nonexistent/ca.pem";
	snprintf(url, sizeof(url), "https://127.0.0.1:1/");
	assert_null(vg_sink_http_new(&o, err, sizeof(err)));
	assert_non_null(strstr(err, "cannot read /nonexistent/ca.pem"));
}

/* The URL Falcosidekick users write names the root: the request goes to
 * "/", never "//" (which Go's ServeMux answers with a redirect). */
static void test_http_sink_root_path(void **state)
{
	(void)state;
	struct server sv = {.statuses = {200}, .nstatuses = 1};
	server_start(&sv);
	char url[128], err[512];
	struct vg_alert *a = mk("r", VG_PRIO_NOTICE, "{}");
	const char *forms[] = {"http://127.0.0.1:%d/", "http://127.0.0.1:%d",
			       "http://127.0.0.1:%d/a/b?x=1"};
	const char *want[] = {"POST / HTTP/1.1\r\n", "POST / HTTP/1.1\r\n",
			      "POST /a/b?x=1 HTTP/1.1\r\n"};
	for (int i = 0; i < 3; i++) {
		snprintf(url, sizeof(url), forms[i], sv.port);
		struct vg_sink_http_opts o = {
			.url = url, .timeout_ms = 2000, .min_priority = VG_PRIO_DEBUG};
		struct vg_sink *s = vg_sink_http_new(&o, err, sizeof(err));
		assert_non_null(s);
		assert_int_equal(s->ops->deliver(s, a, err, sizeof(err)), 0);
		if (strncmp(sv.last_req, want[i], strlen(want[i])))
			fail_msg("%s: sent %.40s", url, sv.last_req);
		s->ops->close(s);
	}
	/* a redirect is a failure of its own, at once (never followed, no
	 * retry: it would answer the same) */
	sv.statuses[0] = 301;
	atomic_store(&sv.requests, 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/old", sv.port);
	struct vg_sink_http_opts o = {.url = url,
				      .timeout_ms = 2000,
				      .retries = 3,
				      .backoff_ms = 1,
				      .min_priority = VG_PRIO_DEBUG};
	struct vg_sink *s = vg_sink_http_new(&o, err, sizeof(err));
	assert_int_equal(s->ops->deliver(s, a, err, sizeof(err)), -1);
	assert_int_equal(atomic_load(&sv.requests), 1);
	assert_string_equal(s->reason, VG_SINK_R_HTTP_REDIRECT);
	if (!strstr(err, "HTTP status 301, redirect to '/elsewhere/' not followed"))
		fail_msg("%s", err);
	s->ops->close(s);
	vg_alert_unref(a);
	server_stop(&sv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alertq),
		cmocka_unit_test(test_dispatch_queue_full),
		cmocka_unit_test(test_dispatch_tenant_shares),
		cmocka_unit_test(test_dispatch_priority_throttle_reopen),
		cmocka_unit_test(test_dispatch_deadline),
		cmocka_unit_test(test_stdout_pipe_deadline),
		cmocka_unit_test(test_file_sink),
		cmocka_unit_test(test_file_sink_disk_full),
		cmocka_unit_test(test_http_sink),
		cmocka_unit_test(test_http_sink_root_path),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
