/* fields_evt.c - the evt.* fields: time, type, outcome and parameters of
 * the event; see fields.h.
 */
#include <inttypes.h>
#include <stdint.h>
#include <time.h>

#include "argfmt.h"
#include "fields_int.h"

FN(f_evt_num)
{
	vg_fvals_u64(out, ev->num);
}

static void put_time(struct vg_fvals *out, uint64_t ts, const char *fmt, bool utc, bool ns,
		     const char *suffix)
{
	time_t s = (time_t)(ts / 1000000000u);
	struct tm tm;
	if (!(utc ? gmtime_r(&s, &tm) : localtime_r(&s, &tm)))
		return;
	char b[64];
	size_t n = strftime(b, sizeof(b), fmt, &tm);
	if (ns)
		n += (size_t)snprintf(b + n, sizeof(b) - n, ".%09u", (unsigned)(ts % 1000000000u));
	if (suffix)
		n += (size_t)snprintf(b + n, sizeof(b) - n, "%s", suffix);
	vg_fvals_strcpy(out, b, n < sizeof(b) ? n : sizeof(b) - 1);
}

FN(f_evt_time)
{
	put_time(out, ev->ts, "%H:%M:%S", false, true, NULL);
}

FN(f_evt_time_s)
{
	put_time(out, ev->ts, "%H:%M:%S", false, false, NULL);
}

FN(f_evt_time_iso8601)
{
	put_time(out, ev->ts, "%Y-%m-%dT%H:%M:%S", true, true, "Z");
}

FN(f_evt_datetime)
{
	put_time(out, ev->ts, "%Y-%m-%d %H:%M:%S", false, true, NULL);
}

FN(f_evt_datetime_s)
{
	put_time(out, ev->ts, "%Y-%m-%d %H:%M:%S", false, false, NULL);
}

FN(f_evt_rawtime)
{
	vg_fvals_u64(out, ev->ts);
}

FN(f_evt_rawtime_s)
{
	vg_fvals_u64(out, ev->ts / 1000000000u);
}

FN(f_evt_rawtime_ns)
{
	vg_fvals_u64(out, ev->ts % 1000000000u);
}

FN(f_evt_type)
{
	put_str(out, ev->name);
}

FN(f_evt_dir)
{
	put_str(out, "<"); /* vigil sees syscall exits only */
}

FN(f_evt_via)
{
	uint16_t fl = ev->raw ? ev->raw->h.flags : 0;
	put_str(out, fl & VG_F_URING ? "io_uring" : fl & VG_F_LSM ? "lsm" : "syscall");
}

FN(f_evt_category)
{
	switch (vg_evtype_cat(ev->type)) {
	case VG_CAT_FILE:
		put_str(out, "file");
		break;
	case VG_CAT_NET:
		put_str(out, "net");
		break;
	case VG_CAT_PROC:
		put_str(out, "process");
		break;
	case VG_CAT_OTHER:
		put_str(out, "other");
		break;
	}
}

FN(f_evt_source)
{
	put_str(out, ev->type == VG_T_AUDIT ? "k8s_audit" : "syscall");
}

FN(f_evt_hostname)
{
	if (ev->st)
		put_str(out, vg_state_hostname(ev->st));
}

/* Only syscall and exec events have a return value. */
static bool has_res(const struct vg_event *ev)
{
	return ev->raw->h.kind == VG_K_SYSCALL || ev->raw->h.kind == VG_K_EXEC;
}

FN(f_evt_res)
{
	if (!has_res(ev))
		return;
	int64_t r = ev->raw->h.ret;
	if (r >= 0) {
		put_str(out, "SUCCESS");
		return;
	}
	const char *n = vg_errno_name(r > -4096 ? (int)-r : 0);
	if (n)
		put_str(out, n);
	else
		put_fmt(out, "%" PRId64, r);
}

FN(f_evt_rawres)
{
	if (has_res(ev))
		vg_fvals_s64(out, ev->raw->h.ret);
}

FN(f_evt_failed)
{
	if (has_res(ev))
		put_bool(out, ev->raw->h.ret < 0);
}

FN(f_evt_args)
{
	char b[VG_STR_MAX];
	size_t n = vg_argfmt_all(ev, b, sizeof(b));
	vg_fvals_strcpy(out, b, n);
}

FN(f_evt_arg)
{
	int i = -1;
	if (arg->kind == 1)
		i = arg->index >= 0 && arg->index < 64 ? (int)arg->index : -1;
	else if (arg->kind == 2 && arg->key)
		i = vg_argfmt_find(ev, arg->key, strlen(arg->key));
	if (i < 0)
		return;
	char v[VG_STR_MAX];
	if (vg_argfmt_value(ev, i, v, sizeof(v)))
		vg_fvals_strcpy(out, v, strlen(v));
}

FN(f_evt_is_open_read)
{
	const struct vg_sysreg *row = open_row(ev);
	if (row) {
		uint32_t acc = vg_open_flags(row, ev->raw) & VG_O_ACCMODE;
		put_bool(out, acc == 0 || acc == VG_O_RDWR);
	}
}

FN(f_evt_is_open_write)
{
	const struct vg_sysreg *row = open_row(ev);
	if (row) {
		uint32_t acc = vg_open_flags(row, ev->raw) & VG_O_ACCMODE;
		put_bool(out, acc == VG_O_WRONLY || acc == VG_O_RDWR);
	}
}

FN(f_evt_is_open_exec)
{
	const struct vg_sysreg *row = open_row(ev);
	if (row)
		put_bool(out, (vg_open_flags(row, ev->raw) & VG_O_CREAT) &&
				      (vg_open_mode(row, ev->raw) & 0111));
}

const struct vg_field vg_fields_evt[] = {
	{"evt.num", U, 0, f_evt_num, "sequence number of the event"},
	{"evt.time", S, 0, f_evt_time, "local time of day of the event, with nanoseconds"},
	{"evt.time.s", S, 0, f_evt_time_s, "local time of day of the event, whole seconds"},
	{"evt.time.iso8601", S, 0, f_evt_time_iso8601, "UTC date and time of the event, ISO 8601"},
	{"evt.datetime", S, 0, f_evt_datetime,
	 "local date and time of the event, with nanoseconds"},
	{"evt.datetime.s", S, 0, f_evt_datetime_s,
	 "local date and time of the event, whole seconds"},
	{"evt.rawtime", AT, 0, f_evt_rawtime, "event time in nanoseconds since the epoch"},
	{"evt.rawtime.s", AT, 0, f_evt_rawtime_s, "event time in whole seconds since the epoch"},
	{"evt.rawtime.ns", AT, 0, f_evt_rawtime_ns, "nanosecond part of the event time"},
	{"evt.type", S, 0, f_evt_type, "event type: the syscall name, or procexit"},
	{"evt.dir", S, 0, f_evt_dir, "direction; always < since vigil reports syscall exits"},
	{"evt.via", S, 0, f_evt_via,
	 "how the operation was requested: syscall; io_uring (an open, connect or accept a ring "
	 "performed, reported as openat, connect, accept4; fd.num is 0 and the fd table is left "
	 "alone for a fixed-file slot); lsm (open_by_handle_at, reported as openat)"},
	{"evt.category", S, 0, f_evt_category,
	 "broad class of the event: file, net, process, other"},
	{"evt.source", S, 0, f_evt_source, "event source: syscall, or k8s_audit"},
	{"evt.hostname", S, 0, f_evt_hostname, "name of the node the agent runs on"},
	{"evt.res", S, 0, f_evt_res, "outcome: SUCCESS, or the errno name such as ENOENT"},
	{"evt.rawres", I, 0, f_evt_rawres, "return value of the call as a number"},
	{"evt.failed", B, 0, f_evt_failed, "true when the call returned an error"},
	{"evt.args", S, 0, f_evt_args, "every parameter of the event as name=value text"},
	{"evt.arg", S, IDX | KEY | REQ, f_evt_arg,
	 "one parameter by name (evt.arg.flags) or position (evt.arg[0]), as text"},
	{"evt.is_open_read", B, 0, f_evt_is_open_read, "open-family call asking for read access"},
	{"evt.is_open_write", B, 0, f_evt_is_open_write,
	 "open-family call asking for write access"},
	{"evt.is_open_exec", B, 0, f_evt_is_open_exec,
	 "open-family call creating a file with an execute bit in its mode"},
	{"evt.buffer", S, 0, f_unset, "I/O data of the call; never captured by vigil (unset)"},
};

const size_t vg_fields_evt_count = sizeof(vg_fields_evt) / sizeof(vg_fields_evt[0]);
