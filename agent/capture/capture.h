/* capture.h - the eBPF capture: load, attach, choose syscalls, read the ring.
 *
 * vg_capture_open() loads bpf/vigil.bpf.c (CO-RE, through its generated
 * skeleton), sizes the ring buffer and attaches the four tracing programs
 * and, where the bpf LSM is active, the LSM programs, in the
 * variants the running kernel supports (any kernel from 5.8 with BTF:
 * helpers are probed first, vg_capture_features() says what was chosen).
 * Nothing is captured but exec/fork/exit until vg_capture_set_interest()
 * names the syscalls; calling it again while running narrows or widens
 * the set at once (one map write per syscall, no reload).
 */
#ifndef VIGIL_CAPTURE_H
#define VIGIL_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vigil.h"

/* capture.lsm: the BPF-LSM programs (bpf/lsm.bpf.h) that see io_uring's
 * and other syscall-less opens, connects and accepts.  AUTO uses them
 * where the kernel's bpf LSM is active and falls back to syscalls alone
 * (feature bpf_lsm = 0) where not; ON makes their absence an error. */
enum vg_capture_lsm {
	VG_CAPTURE_LSM_AUTO = 0,
	VG_CAPTURE_LSM_ON,
	VG_CAPTURE_LSM_OFF,
};

struct vg_capture_opts {
	uint64_t ringbuf_bytes; /* power of two >= 4096; 0 = 8 MiB */
	enum vg_capture_lsm lsm;
	bool ignore_self;   /* drop this process's own syscalls in the kernel */
	uint32_t self_tgid; /* this process in the kernel's pid namespace; 0: getpid() */
};

typedef int (*vg_capture_cb)(void *ctx, const struct vg_rec *ev, size_t size);

struct vg_capture;

/* On failure, err names the program, the relocation or helper the kernel
 * refused, and the kernel release. */
struct vg_capture *vg_capture_open(const struct vg_capture_opts *opts, char *err, size_t errlen);
void vg_capture_close(struct vg_capture *cap);

/* want[nr] != 0: capture syscall nr (only syscalls of VG_SYSCALLS). */
int vg_capture_set_interest(struct vg_capture *cap, const uint8_t want[VG_NR_MAX], char *err,
			    size_t errlen);

/* The kernel-side prefilter (bpf/prefilter.h): t NULL sends every event of
 * the syscalls of the interest set; else t->on[nr] syscalls go through
 * t->sc[nr].  Each syscall's predicate is written to the slot the kernel
 * does not read, then made live by one write of its interest row, so no
 * event sees half a predicate.  Widening before a rule swap and narrowing
 * after it is the caller's (agent/run/reload.c). */
struct vg_pf_table;
/* The cgroups (ids) whose tasks the kernel filters with a predicate
 * without other namespaces' Rules: ns 0 for the host's (the predicates of
 * the cluster's rules, struct vg_pf_table's narrow), a namespace's hash
 * (vg_pf_ns_hash) for its pods' (its own predicates, tp, or narrow where
 * it has no Rules).  The caller's to keep to what it knows.  A full map
 * (an LRU) forgets the least used: a cgroup not in it gets every rule's
 * predicate.  0, or -errno. */
int vg_capture_pf_narrow_add(struct vg_capture *cap, uint64_t cgid, uint64_t ns);
int vg_capture_pf_narrow_del(struct vg_capture *cap, uint64_t cgid);
int vg_capture_pf_narrow_clear(struct vg_capture *cap);
/* Tell the kernel that the state's start-up scan of /proc is done: from
 * now on a close the state gets makes the kernel drop the fd's next closes
 * while no record names the fd again (before, the scan could read the
 * fd's next file, which the kernel would then take for one the state does
 * not know). */
void vg_capture_pf_scanned(struct vg_capture *cap);
int vg_capture_set_prefilter(struct vg_capture *cap, const struct vg_pf_table *t, char *err,
			     size_t errlen);

/* Wait up to timeout_ms for records and hand each to cb.  Returns the
 * number of records handed to cb, or a negative errno (-EINTR on a signal).
 * A callback returning non-zero stops the batch after its record (the next
 * call goes on with the next record).  Without that a ring filled as fast
 * as it is read never ends the call: a caller with other work to do between
 * batches bounds the batch from its callback. */
int vg_capture_poll(struct vg_capture *cap, int timeout_ms, vg_capture_cb cb, void *ctx);

/* Per-CPU counters summed: events emitted and dropped (ring full) by category,
 * emitted by type.  Any thread (one map read). */
int vg_capture_stats(struct vg_capture *cap, struct vg_stats *out);

/* Cumulative run time (ns) and run count of the sys_exit program, which the
 * kernel keeps only while some process holds BPF_STATS_RUN_TIME enabled
 * (bpf_enable_stats()); both stay 0 otherwise.  For benchmarks: unlike
 * throughput, this cost per syscall is not skewed by other load. */
int vg_capture_prog_runtime(struct vg_capture *cap, uint64_t *run_ns, uint64_t *runs);
/* The same for the lsm/file_open program, which runs on every open;
 * -ENOENT when it is not attached (feature bpf_lsm off). */
int vg_capture_lsm_runtime(struct vg_capture *cap, uint64_t *run_ns, uint64_t *runs);

/* Expand a syscall record from its ring form (struct vg_sc_wire, size
 * bytes) into out (VG_REC_MAX bytes).  Returns the size of the struct
 * vg_rec record, or 0 when the wire record is not well formed. */
size_t vg_capture_expand(const void *wire, size_t size, struct vg_rec *out);

/* A kernel feature the capture uses when present; without it the same
 * events and fields come from a fallback, whose cost or limit is `without`. */
struct vg_capture_feature {
	const char *name; /* the label of vigil_capture_features{feature} */
	bool on;
	const char *without;
};
size_t vg_capture_features(const struct vg_capture *cap, const struct vg_capture_feature **out);

/* A loaded program and the instructions the verifier processed for it. */
struct vg_capture_prog {
	const char *name;
	uint32_t insns;
	const char *source; /* "verified_insns" (5.16+), "log" (BPF_LOG_STATS), "unknown" */
};
size_t vg_capture_programs(const struct vg_capture *cap, const struct vg_capture_prog **out);

/* "bpf_loop=1 get_current_task_btf=1 ..." into buf (for logs, /readyz). */
void vg_capture_describe(const struct vg_capture *cap, char *buf, size_t len);

/* The running kernel's release (uname -r). */
const char *vg_capture_kernel(const struct vg_capture *cap);

/* From libbpf's warnings of a failed load: the failing program and the
 * most telling line (an unresolved CO-RE relocation, an unknown helper, a
 * verifier rejection).  For tests. */
void vg_capture_explain(const char *log, char *prog, size_t proglen, char *why, size_t whylen);

/* The ring's epoll fd, for callers that multiplex. */
int vg_capture_fd(struct vg_capture *cap);

#endif
