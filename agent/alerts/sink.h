/* sink.h - where alerts go: the interface every output implements.
 *
 * A sink is driven by one dispatcher thread of its own (dispatch.h), so its
 * operations are never called concurrently and may block (a slow disk, an
 * HTTP server retrying) without holding up capture.  Operations return 0
 * or -1 with err set; the dispatcher counts and logs.
 *
 *   deliver  hand one alert over: 0 delivered, -1 lost (the sink retried
 *            as much as its configuration allows; counted as failed with
 *            the reason in s->reason), or VG_SINK_HELD: buffered, and
 *            counted when the sink settles it (vg_sink_settle) once it is
 *            written or lost.
 *   flush    push buffered output out (called when the queue runs empty
 *            and before close); NULL if nothing is buffered.  1: the sink
 *            holds alerts back on purpose (a batch younger than its age
 *            limit): the dispatcher calls flush again within 200 ms; with
 *            s->flush_all set (the last flush) it must push everything.
 *   reopen   reopen files (logrotate, SIGUSR1); NULL if not applicable.
 *   close    release everything, free the sink's state (settling what it
 *            still holds).
 *
 * give_up: a sink that waits (retry backoff, network timeouts) stops
 * waiting and fails the current alert once vg_sink_giving_up() is true,
 * which the dispatcher sets when the shutdown deadline has passed.
 *
 * Reasons: a short fixed word for vigil_alert_failures_total{sink,reason}
 * (bounded: only the VG_SINK_R_* below).
 */
#ifndef VIGIL_SINK_H
#define VIGIL_SINK_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "alertq.h"

struct vg_sink;

#define VG_SINK_HELD 1

#define VG_SINK_R_QUEUE_FULL "queue_full"	   /* the sink's queue was full */
#define VG_SINK_R_TENANT_SHARE "tenant_share"	   /* the Rule's namespace had its share of it */
#define VG_SINK_R_SHUTDOWN "shutdown"		   /* still queued at the shutdown deadline */
#define VG_SINK_R_HTTP_REDIRECT "http_redirect"	   /* a 3xx answer (never followed) */
#define VG_SINK_R_HTTP_STATUS "http_status"	   /* any other non-2xx answer */
#define VG_SINK_R_CONNECT "connect"		   /* no connection, or closed before the answer */
#define VG_SINK_R_TIMEOUT "timeout"		   /* no answer in time */
#define VG_SINK_R_NO_SPACE "no_space"		   /* ENOSPC / EDQUOT */
#define VG_SINK_R_WRITE "write_error"		   /* any other failed write */
#define VG_SINK_R_EVENTS_QUEUE "events_queue_full" /* the Kubernetes Events queue */
#define VG_SINK_R_EVENTS_SERIES "events_series_limit" /* a Rule holds too many Event series */
#define VG_SINK_R_API "api_error"		      /* the API server refused an Event write */
#define VG_SINK_R_TLS "tls"		      /* TLS handshake or certificate check failed */
#define VG_SINK_R_PROGRAM_EXIT "program_exit" /* the program ended before reading it */
#define VG_SINK_R_ERROR "error"		      /* a sink that gave no reason */

struct vg_sink_ops {
	int (*deliver)(struct vg_sink *s, const struct vg_alert *a, char *err, size_t errlen);
	int (*flush)(struct vg_sink *s, char *err, size_t errlen);
	int (*reopen)(struct vg_sink *s, char *err, size_t errlen);
	void (*close)(struct vg_sink *s);
};

struct vg_sink {
	char name[32];	  /* the metrics' sink label: stdout, file, http, ... */
	int min_priority; /* deliver alerts of this priority or more severe */
	bool wants_text;  /* deliver reads a->text (else only a->json) */
	const struct vg_sink_ops *ops;
	void *impl; /* the implementation's state */
	atomic_bool give_up;
	/* set by the dispatcher before its last flush: push out everything,
	 * including what a batching sink would still hold for its age limit */
	bool flush_all;
	const char *reason; /* VG_SINK_R_* of the last -1 (NULL: VG_SINK_R_ERROR) */
	/* Where held alerts are counted (set by the dispatcher; NULL: nowhere). */
	void (*settle)(void *ctx, uint64_t sent, uint64_t failed, const char *reason,
		       const char *ns);
	void *settle_ctx;
};

/* Count alerts a sink held (VG_SINK_HELD) as written, or as lost for reason;
 * ns: the namespace of the Rule objects that raised them (NULL or "": a
 * ClusterRule's, the files', the agent's own).  Any thread. */
static inline void vg_sink_settle_ns(struct vg_sink *s, uint64_t sent, uint64_t failed,
				     const char *reason, const char *ns)
{
	if (s->settle && (sent || failed))
		s->settle(s->settle_ctx, sent, failed, reason, ns);
}

static inline void vg_sink_settle(struct vg_sink *s, uint64_t sent, uint64_t failed,
				  const char *reason)
{
	vg_sink_settle_ns(s, sent, failed, reason, NULL);
}

/* The namespace label of an alert's failures: its Rule object's namespace,
 * "" for the others. */
static inline const char *vg_alert_tenant(const struct vg_alert *a)
{
	return a->rule_kind && a->rule_ns && !strcmp(a->rule_kind, "Rule") ? a->rule_ns : "";
}

/* Whether reason r (NULL for none) is the word w. */
static inline bool vg_sink_is(const char *r, const char *w)
{
	return r && !strcmp(r, w);
}

static inline bool vg_sink_giving_up(const struct vg_sink *s)
{
	return atomic_load_explicit(&((struct vg_sink *)s)->give_up, memory_order_relaxed);
}

/* Sleep until the monotonic clock reaches until_ns, in short steps,
 * returning early once the sink gives up (a backoff or a restart wait
 * never holds the shutdown). */
void vg_sink_sleep_until(const struct vg_sink *s, uint64_t until_ns);

/* --- the built-in sinks ---------------------------------------------------- */

/* Lines on a file descriptor the sink does not own (stdout): text or JSON. */
struct vg_sink *vg_sink_stdout_new(bool text, int min_priority);

/* Lines appended to a file (created 0640 with its directory missing is an
 * error); reopen closes and reopens the path, so after logrotate renames
 * it new alerts go to a new file.  NULL with err set if it cannot open. */
struct vg_sink *vg_sink_file_new(const char *path, bool text, int min_priority, char *err,
				 size_t errlen);

/* HTTP(S) POST of each alert's JSON (Content-Type: application/json), the
 * body Falcosidekick accepts.  A 2xx answer is success; a connection
 * error, a timeout or any other status is retried retries times with
 * exponential backoff (backoff_ms doubling up to backoff_max_ms). */
struct vg_sink_http_opts {
	const char *url;	 /* http://host[:port]/path or https://... */
	const char *ca_file;	 /* PEM bundle to verify the server; NULL: system */
	const char *client_cert; /* PEM, with client_key, for mutual TLS */
	const char *client_key;
	const char *const *headers; /* "Name: value" strings */
	size_t nheaders;
	unsigned timeout_ms; /* per attempt */
	unsigned retries;
	unsigned backoff_ms, backoff_max_ms;
	int min_priority;
	bool keepalive; /* reuse one connection (else one per request, libwebsockets) */
	int batch;	/* VG_HTTP_BATCH_*: several alerts per request */
	size_t batch_max_alerts, batch_max_bytes; /* 0: 100, 1 MiB */
	unsigned batch_max_age_ms;		  /* 0: 1000 */
};
enum { VG_HTTP_BATCH_NONE, VG_HTTP_BATCH_ARRAY, VG_HTTP_BATCH_NDJSON };
/* The connections the sink opened in keep-alive mode (tests, bench). */
uint64_t vg_sink_http_connects(const struct vg_sink *s);
struct vg_sink *vg_sink_http_new(const struct vg_sink_http_opts *o, char *err, size_t errlen);

/* RFC 5424 syslog (sink_syslog.c): transport "unix" (address: the socket's
 * path, default /dev/log; a datagram socket unless unix_stream), "udp",
 * "tcp" or "tls" (address HOST:PORT; octet-counted framing on TCP).
 * Failed sends reconnect and retry with backoff like the HTTP sink. */
struct vg_sink_syslog_opts {
	const char *transport; /* unix | udp | tcp | tls */
	const char *address;
	bool unix_stream;
	const char *ca_file, *client_cert, *client_key; /* tls; NULL: system CAs */
	const char *server_name; /* name checked in the certificate; NULL: the host */
	const char *facility;	 /* kern..local7; NULL: local0 */
	const char *app_name;	 /* NULL: vigil */
	const char *sd_id;	 /* NULL: vigil@32473 */
	const char *hostname;	 /* NULL or "": gethostname() */
	bool text;		 /* MSG is the text form (else the JSON line) */
	bool bom;		 /* MSG starts with a UTF-8 BOM */
	size_t max_bytes;	 /* a longer message is cut (on a UTF-8 boundary); 0: no limit */
	unsigned timeout_ms, retries, backoff_ms, backoff_max_ms;
	int min_priority;
};
struct vg_sink *vg_sink_syslog_new(const struct vg_sink_syslog_opts *o, char *err, size_t errlen);

/* The formatter alone (unit tests): one RFC 5424 message into *out
 * (realloc'd, *cap its size), NUL-terminated; returns its length. */
struct vg_syslog_fmt {
	int facility; /* 0..23 */
	const char *hostname, *app_name, *msgid, *sd_id;
	int procid;
	bool text, bom;
	size_t max_bytes;
};
size_t vg_syslog_format(const struct vg_syslog_fmt *f, const struct vg_alert *a, char **out,
			size_t *cap);
int vg_syslog_facility(const char *name); /* -1: unknown */

/* A long-running program fed one alert per line on its stdin
 * (sink_program.c): argv[0] is run (found on PATH when it has no '/')
 * with argv, no shell; restarted with backoff when it exits.  An alert
 * counts as sent once the program has read its whole line; lines it had
 * not read when it ended are failed (program_exit).  A write that cannot
 * go on for timeout_ms fails the alert (timeout). */
struct vg_sink_program_opts {
	const char *const *argv; /* NULL-terminated */
	bool text;
	unsigned timeout_ms, backoff_ms, backoff_max_ms;
	unsigned retries;  /* restarts tried for one alert */
	size_t pipe_bytes; /* the pipe's size (F_SETPIPE_SZ); 0: the kernel's */
	int min_priority;
};
struct vg_sink *vg_sink_program_new(const struct vg_sink_program_opts *o, char *err, size_t errlen);

/* Each alert as a Kubernetes Event (events.k8s.io/v1) through the writer
 * ev, which belongs to the caller and must outlive the sink: about its pod
 * when the alert names one, else about the node; the note is the alert's
 * message, the rule object that raised it goes along.  Never blocks: an
 * alert is held (VG_SINK_HELD) and settled when the writer wrote it or
 * lost it (queue share full, series limit, API error); close waits up to
 * drain_ms for what is held, then settles the rest as shutdown.  ev's
 * The sink reports through k8s_events_set_settle (one sink per writer). */
struct k8s_events;
struct vg_sink *vg_sink_k8s_events_new(struct k8s_events *ev, const char *node, int min_priority,
				       unsigned drain_ms);

#endif
