/* recbuild.h - build raw records (struct vg_rec) by hand for unit tests.
 *
 *   struct rb b;
 *   rb_sys(&b, VG_NR_openat, 100, 3);            // syscall openat by pid 100, ret 3
 *   b.r.arg[0] = (uint32_t)-100;                 // AT_FDCWD
 *   rb_str(&b, VG_S_PATH0, "etc/passwd");
 *   rb_str(&b, VG_S_BASE0, "/");
 *   apply(st, &b, &ev);
 *
 * Strings may be set in any order; rb_size() packs them in slot order the
 * way the kernel side does.
 */
#ifndef VIGIL_TEST_RECBUILD_H
#define VIGIL_TEST_RECBUILD_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "event.h"
#include "state.h"

struct rb {
	union {
		struct vg_rec r;
		char buf[VG_REC_MAX];
	};
	char str[VG_NSTR][VG_STR_MAX];
	size_t slen[VG_NSTR]; /* bytes including the final NUL, 0 = absent */
	uint64_t ts;
};

static inline void rb_init(struct rb *b, int kind, int nr, uint32_t pid, uint32_t ppid,
			   const char *comm)
{
	memset(b->buf, 0, sizeof(struct vg_rec));
	memset(b->slen, 0, sizeof(b->slen));
	b->r.h.kind = (uint16_t)kind;
	b->r.h.nr = (uint16_t)nr;
	b->r.h.pid = pid;
	b->r.h.tid = pid;
	b->r.h.ppid = ppid;
	b->r.h.loginuid = (uint32_t)-1;
	b->r.h.ts = ++b->ts * 1000;
	const char *c = comm ? comm : "test";
	size_t cn = strnlen(c, VG_COMM_LEN - 1);
	memcpy(b->r.h.comm, c, cn);
	b->r.h.comm[cn] = '\0';
}

static inline void rb_sys(struct rb *b, int nr, uint32_t pid, int64_t ret)
{
	rb_init(b, VG_K_SYSCALL, nr, pid, 0, "test");
	b->r.h.ret = ret;
}

static inline void rb_str(struct rb *b, int slot, const char *s)
{
	size_t n = strlen(s);
	memcpy(b->str[slot], s, n + 1);
	b->slen[slot] = n + 1;
}

/* A NUL-separated list (argv, env) from NULL-terminated items. */
static inline void rb_list(struct rb *b, int slot, const char *const *items)
{
	size_t n = 0;
	for (; *items; items++) {
		size_t l = strlen(*items) + 1;
		memcpy(b->str[slot] + n, *items, l);
		n += l;
	}
	b->slen[slot] = n;
}

static inline size_t rb_size(struct rb *b)
{
	size_t off = 0;
	for (int i = 0; i < VG_NSTR; i++) {
		b->r.len[i] = (uint16_t)b->slen[i];
		memcpy(b->r.data + off, b->str[i], b->slen[i]);
		off += b->slen[i];
	}
	b->r.h.size = (uint16_t)(sizeof(struct vg_rec) + off);
	return b->r.h.size;
}

static inline void rb_sock4(struct rb *b, int type, int proto, const char *lip, uint16_t lport,
			    const char *rip, uint16_t rport)
{
	struct vg_sock *s = &b->r.sock;
	memset(s, 0, sizeof(*s));
	s->family = 2; /* AF_INET */
	s->type = (uint16_t)type;
	s->proto = (uint16_t)proto;
	s->lport = lport;
	s->rport = rport;
	unsigned a, c, d, e;
	if (sscanf(lip, "%u.%u.%u.%u", &a, &c, &d, &e) == 4) {
		s->laddr[0] = (uint8_t)a, s->laddr[1] = (uint8_t)c;
		s->laddr[2] = (uint8_t)d, s->laddr[3] = (uint8_t)e;
	}
	if (sscanf(rip, "%u.%u.%u.%u", &a, &c, &d, &e) == 4) {
		s->raddr[0] = (uint8_t)a, s->raddr[1] = (uint8_t)c;
		s->raddr[2] = (uint8_t)d, s->raddr[3] = (uint8_t)e;
	}
	b->r.h.flags |= VG_F_SOCK;
}

#endif
