/* Unit tests of the ring's compact syscall form (agent/capture/capture.c
 * vg_capture_expand): wire records built by hand, expanded records checked
 * field by field; malformed ones refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "capture.h"

/* a wire record: header, args, strings "/etc/passwd" and "abc", and (sock)
 * a tuple at the next 8-byte boundary after the strings */
static size_t build(unsigned char *buf, int sock)
{
	memset(buf, 0xee, 1024);
	struct vg_sc_wire *w = (struct vg_sc_wire *)buf;
	memset(w, 0, sizeof(*w));
	w->h.kind = VG_K_SYSCALL;
	w->h.nr = 42;
	w->h.pid = 100;
	w->h.tid = 101;
	w->h.ret = -2;
	w->h.ts = 123456789;
	memcpy(w->h.comm, "curl", 5);
	for (int i = 0; i < 6; i++)
		w->arg[i] = 1000 + (uint64_t)i;
	w->aux[0] = 7;
	w->aux[1] = 8;
	w->len[VG_S_PATH0] = 12;
	w->len[VG_S_XSTR] = 4;
	memcpy(w->data, "/etc/passwd\0abc\0", 16);
	size_t size = sizeof(*w) + 16;
	if (sock) {
		w->h.flags |= VG_F_SOCK;
		struct vg_sock s = {
			.family = 2, .type = 1, .proto = 6, .lport = 5555, .rport = 443};
		s.raddr[0] = 10;
		s.raddr[3] = 9;
		memcpy(w->data + 16, &s, sizeof(s)); /* 16 is 8-aligned */
		size += sizeof(s);
	}
	w->h.size = (uint16_t)size;
	return size;
}

static void test_expand_strings_and_sock(void **state)
{
	(void)state;
	unsigned char buf[1024];
	struct vg_rec *out = malloc(VG_REC_MAX);
	size_t n = vg_capture_expand(buf, build(buf, 1), out);
	assert_int_equal(n, sizeof(struct vg_rec) + 16);
	assert_int_equal(out->h.size, n);
	assert_int_equal(out->h.kind, VG_K_SYSCALL);
	assert_int_equal(out->h.nr, 42);
	assert_int_equal(out->h.pid, 100);
	assert_int_equal(out->h.tid, 101);
	assert_int_equal(out->h.ret, -2);
	assert_int_equal(out->h.ts, 123456789);
	assert_string_equal(out->h.comm, "curl");
	for (int i = 0; i < 6; i++)
		assert_int_equal(out->arg[i], 1000 + i);
	assert_int_equal(out->aux[0], 7);
	assert_int_equal(out->aux[1], 8);
	assert_int_equal(out->len[VG_S_PATH0], 12);
	assert_int_equal(out->len[VG_S_XSTR], 4);
	assert_int_equal(out->len[VG_S_PATH1], 0);
	assert_memory_equal(out->data, "/etc/passwd\0abc\0", 16);
	assert_true(out->h.flags & VG_F_SOCK);
	assert_int_equal(out->sock.family, 2);
	assert_int_equal(out->sock.proto, 6);
	assert_int_equal(out->sock.lport, 5555);
	assert_int_equal(out->sock.rport, 443);
	assert_int_equal(out->sock.raddr[0], 10);
	assert_int_equal(out->sock.raddr[3], 9);
	free(out);
}

static void test_expand_without_sock_zeroes_the_rest(void **state)
{
	(void)state;
	unsigned char buf[1024];
	struct vg_rec *out = malloc(VG_REC_MAX);
	memset(out, 0x55, VG_REC_MAX);
	size_t n = vg_capture_expand(buf, build(buf, 0), out);
	assert_int_equal(n, sizeof(struct vg_rec) + 16);
	assert_false(out->h.flags & VG_F_SOCK);
	struct vg_sock zero = {0};
	assert_memory_equal(&out->sock, &zero, sizeof(zero));
	assert_int_equal(out->pad, 0);
	free(out);
}

static void test_expand_refuses_malformed(void **state)
{
	(void)state;
	unsigned char buf[1024];
	struct vg_rec *out = malloc(VG_REC_MAX);
	struct vg_sc_wire *w = (struct vg_sc_wire *)buf;
	size_t size = build(buf, 1);
	/* shorter than its header says */
	assert_int_equal(vg_capture_expand(buf, size - 1, out), 0);
	/* shorter than the fixed part */
	assert_int_equal(vg_capture_expand(buf, sizeof(*w) - 8, out), 0);
	/* strings longer than the record */
	w->len[VG_S_PATH1] = 200;
	assert_int_equal(vg_capture_expand(buf, size, out), 0);
	/* a socket tuple announced but cut off */
	size = build(buf, 0);
	w->h.flags |= VG_F_SOCK;
	assert_int_equal(vg_capture_expand(buf, size, out), 0);
	free(out);
}

/* What a failed load says (vg_capture_explain): the program and the
 * telling line, from libbpf's warnings as the three kernels of issue 18
 * printed them. */
static void explain(const char *log, const char *prog, const char *why)
{
	char p[64], w[256];
	vg_capture_explain(log, p, sizeof(p), w, sizeof(w));
	assert_string_equal(p, prog);
	assert_string_equal(w, why);
}

static void test_explain_load_failures(void **state)
{
	(void)state;
	/* 6.1: a relocation only 6.3's kernel_cap_t has (libbpf's rewrite of
	 * the poisoned instruction) */
	explain("libbpf: prog 'vg_exec': BPF program load failed: Invalid argument\n"
		"libbpf: prog 'vg_exec': -- BEGIN PROG LOAD LOG --\n"
		"123: <invalid CO-RE relocation>\n"
		"failed to resolve CO-RE relocation <byte_off> [77] struct cred.cap_effective.val "
		"(0:33:0 @ offset 72)\nprocessed 900 insns (limit 1000000)\n"
		"-- END PROG LOAD LOG --\n",
		"vg_exec",
		"failed to resolve CO-RE relocation <byte_off> [77] struct cred.cap_effective.val "
		"(0:33:0 @ offset 72)");
	/* 5.10: a helper it does not have */
	explain("libbpf: prog 'vg_sys_exit': BPF program load failed: Invalid argument\n"
		"libbpf: prog 'vg_sys_exit': -- BEGIN PROG LOAD LOG --\n"
		"R1 type=ctx expected=fp\nunknown func bpf_loop#181\n"
		"processed 40 insns\n-- END PROG LOAD LOG --\n",
		"vg_sys_exit", "unknown func bpf_loop#181");
	/* 6.12: a tracepoint argument it does not pass */
	explain("libbpf: prog 'vg_exit': BPF program load failed: Permission denied\n"
		"libbpf: prog 'vg_exit': -- BEGIN PROG LOAD LOG --\n"
		"0: R1=ctx() R10=fp0\n; 0: (79) r2 = *(u64 *)(r1 +8)\n"
		"func 'sched_process_exit' doesn't have 2-th argument\n"
		"invalid bpf_context access off=8 size=8\n"
		"processed 1 insns\n-- END PROG LOAD LOG --\n",
		"vg_exit", "invalid bpf_context access off=8 size=8");
	/* no verifier log: the verifier's last words, else libbpf's */
	explain("libbpf: prog 'vg_fork': BPF program load failed: Bad address\n"
		"libbpf: prog 'vg_fork': -- BEGIN PROG LOAD LOG --\nsomething odd\n"
		"processed 3 insns\n-- END PROG LOAD LOG --\n",
		"vg_fork", "something odd");
	explain("libbpf: failed to load BPF skeleton 'vigil_bpf': -22\n", "?",
		"failed to load BPF skeleton 'vigil_bpf': -22");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_expand_strings_and_sock),
		cmocka_unit_test(test_expand_without_sock_zeroes_the_rest),
		cmocka_unit_test(test_expand_refuses_malformed),
		cmocka_unit_test(test_explain_load_failures),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
