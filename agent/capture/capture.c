/* capture.c - see capture.h. */
#include "capture.h"
#include "event.h"
#include "util.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "vigil.skel.h"

struct vg_capture {
	struct vigil_bpf *skel;
	struct ring_buffer *rb;
	int ncpus;
	/* the callback of the poll in progress (libbpf's ring buffer takes one
	 * callback at creation) */
	vg_capture_cb cb;
	void *cb_ctx;
	int stop;
	struct vg_rec *full; /* a syscall record expanded from its wire form */
};

size_t vg_capture_expand(const void *data, size_t size, struct vg_rec *out)
{
	const struct vg_sc_wire *w = data;
	if (size < sizeof(*w) || w->h.size != size)
		return 0;
	size_t room = size - sizeof(*w), strs = 0;
	for (int i = 0; i < VG_NSTR; i++)
		strs += w->len[i];
	if (strs > room)
		return 0;
	size_t full = sizeof(*out) + strs;
	if (full > VG_REC_MAX)
		return 0;
	memset(out, 0, sizeof(*out));
	out->h = w->h;
	memcpy(out->arg, w->arg, sizeof(out->arg));
	memcpy(out->aux, w->aux, sizeof(out->aux));
	memcpy(out->len, w->len, sizeof(out->len));
	memcpy(out->data, w->data, strs);
	if (w->h.flags & VG_F_SOCK) {
		size_t at =
			(strs + VG_SC_WIRE_SOCK_ALIGN - 1) & ~(size_t)(VG_SC_WIRE_SOCK_ALIGN - 1);
		if (at + sizeof(out->sock) > room)
			return 0;
		memcpy(&out->sock, w->data + at, sizeof(out->sock));
	}
	out->h.size = (uint16_t)full;
	return full;
}

static int on_sample(void *ctx, void *data, size_t size)
{
	struct vg_capture *cap = ctx;
	if (cap->stop)
		return 1;
	if (size >= sizeof(struct vg_hdr) && ((const struct vg_hdr *)data)->kind == VG_K_SYSCALL) {
		/* a malformed one goes on as it came, for the state's
		 * validation to reject and count */
		size_t full = vg_capture_expand(data, size, cap->full);
		if (full) {
			data = cap->full;
			size = full;
		}
	}
	if (cap->cb(cap->cb_ctx, data, size)) {
		cap->stop = 1;
		return 1;
	}
	return 0;
}

/* libbpf prints through this; keep warnings, drop debug chatter */
static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

struct vg_capture *vg_capture_open(const struct vg_capture_opts *opts, char *err, size_t errlen)
{
	uint64_t ring = opts->ringbuf_bytes ? opts->ringbuf_bytes : 8u << 20;
	if (ring < 4096 || (ring & (ring - 1))) {
		snprintf(err, errlen, "ring buffer size %llu is not a power of two >= 4096",
			 (unsigned long long)ring);
		return NULL;
	}
	libbpf_set_print(libbpf_print);
	/* BPF memory is charged to the cgroup on kernels >= 5.11; raising
	 * RLIMIT_MEMLOCK is only a courtesy to older kernels and may fail
	 * without CAP_SYS_RESOURCE. */
	struct rlimit rl = {RLIM_INFINITY, RLIM_INFINITY};
	setrlimit(RLIMIT_MEMLOCK, &rl);

	struct vg_capture *cap = vg_xcalloc(1, sizeof(*cap));
	cap->ncpus = libbpf_num_possible_cpus();
	cap->full = vg_xcalloc(1, VG_REC_MAX);
	cap->skel = vigil_bpf__open();
	if (!cap->skel) {
		snprintf(err, errlen, "opening the BPF object: %s", strerror(errno));
		goto fail;
	}
	if (opts->ignore_self)
		cap->skel->rodata->vg_self_tgid =
			opts->self_tgid ? opts->self_tgid : (uint32_t)getpid();
	/* wake the consumer when about 1/8 of the ring is used (each CPU
	 * counts what it wrote); it also polls */
	uint64_t wake = ring / 8 / (uint64_t)(cap->ncpus > 0 ? cap->ncpus : 1);
	cap->skel->rodata->vg_wakeup_bytes = wake < 4096 ? 4096 : wake;
	int rc = bpf_map__set_max_entries(cap->skel->maps.vg_ring, (uint32_t)ring);
	if (rc) {
		snprintf(err, errlen, "sizing the ring buffer: %s", strerror(-rc));
		goto fail;
	}
	rc = bpf_map__set_max_entries(cap->skel->maps.vg_scratch, (uint32_t)cap->ncpus);
	if (rc) {
		snprintf(err, errlen, "sizing the scratch map: %s", strerror(-rc));
		goto fail;
	}
	rc = vigil_bpf__load(cap->skel);
	if (rc) {
		snprintf(err, errlen,
			 "loading the BPF programs failed (%s); vigil needs root (CAP_BPF, "
			 "CAP_PERFMON) and a kernel with BTF (/sys/kernel/btf/vmlinux)",
			 strerror(-rc));
		goto fail;
	}
	rc = vigil_bpf__attach(cap->skel);
	if (rc) {
		snprintf(err, errlen, "attaching the BPF programs: %s", strerror(-rc));
		goto fail;
	}
	cap->rb = ring_buffer__new(bpf_map__fd(cap->skel->maps.vg_ring), on_sample, cap, NULL);
	if (!cap->rb) {
		snprintf(err, errlen, "opening the ring buffer: %s", strerror(errno));
		goto fail;
	}
	return cap;
fail:
	vg_capture_close(cap);
	return NULL;
}

void vg_capture_close(struct vg_capture *cap)
{
	if (!cap)
		return;
	ring_buffer__free(cap->rb);
	vigil_bpf__destroy(cap->skel);
	free(cap->full);
	free(cap);
}

int vg_capture_set_interest(struct vg_capture *cap, const uint8_t want[VG_NR_MAX], char *err,
			    size_t errlen)
{
	int fd = bpf_map__fd(cap->skel->maps.vg_interest);
	for (uint32_t nr = 0; nr < VG_NR_MAX; nr++) {
		struct vg_sc_desc row = {0};
		const struct vg_sc_desc *d = vg_syscall_desc((int)nr);
		if (want[nr] && d)
			row = *d;
		/* a zero row (cat 0) is "not interesting" */
		if (bpf_map_update_elem(fd, &nr, &row, BPF_ANY)) {
			snprintf(err, errlen, "updating the interest map: %s", strerror(errno));
			return -1;
		}
	}
	return 0;
}

int vg_capture_poll(struct vg_capture *cap, int timeout_ms, vg_capture_cb cb, void *ctx)
{
	cap->cb = cb;
	cap->cb_ctx = ctx;
	cap->stop = 0;
	int n = ring_buffer__poll(cap->rb, timeout_ms);
	if (n == -EINTR)
		return -EINTR;
	if (n < 0 && cap->stop)
		return 0; /* the callback asked to stop */
	if (n < 0)
		return n;
	/* the kernel side wakes us only in batches: take what is waiting
	 * without a notification too */
	int m = ring_buffer__consume(cap->rb);
	if (m < 0 && !cap->stop)
		return m;
	return n + (m > 0 ? m : 0);
}

int vg_capture_stats(struct vg_capture *cap, struct vg_stats *out)
{
	memset(out, 0, sizeof(*out));
	struct vg_stats *per = vg_xcalloc((size_t)cap->ncpus, sizeof(*per));
	uint32_t zero = 0;
	int rc = bpf_map_lookup_elem(bpf_map__fd(cap->skel->maps.vg_stats_map), &zero, per);
	if (!rc) {
		for (int c = 0; c < cap->ncpus; c++)
			for (int i = 0; i < VG_CAT_MAX; i++) {
				out->seen[i] += per[c].seen[i];
				out->dropped[i] += per[c].dropped[i];
			}
		for (int c = 0; c < cap->ncpus; c++)
			for (int t = 0; t < VG_NR_MAX + 4; t++)
				out->by_type[t] += per[c].by_type[t];
	}
	free(per);
	return rc ? -errno : 0;
}

int vg_capture_prog_runtime(struct vg_capture *cap, uint64_t *run_ns, uint64_t *runs)
{
	struct bpf_prog_info info;
	uint32_t len = sizeof(info);
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(bpf_program__fd(cap->skel->progs.vg_sys_exit), &info, &len))
		return -errno;
	*run_ns = info.run_time_ns;
	*runs = info.run_cnt;
	return 0;
}

int vg_capture_fd(struct vg_capture *cap)
{
	return ring_buffer__epoll_fd(cap->rb);
}
