// SPDX-License-Identifier: GPL-2.0
/* floor.bpf.c - the cheapest useful syscall hook: a tp_btf/sys_exit program
 * that only bumps a per-CPU counter.  bench/capture measures vigil against
 * it: this is what any eBPF agent pays before doing anything. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} floor_count SEC(".maps");

SEC("tp_btf/sys_exit")
int BPF_PROG(floor_sys_exit, struct pt_regs *regs, long ret)
{
	__u32 zero = 0;
	__u64 *c = bpf_map_lookup_elem(&floor_count, &zero);
	if (c)
		(*c)++;
	return 0;
}
