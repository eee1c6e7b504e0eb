/* state_fd.c - fd table entries: types, sockets and their rendered names. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "state_int.h"
#include "sysreg.h"
#include "util.h"

/* ------------------------------------------------------------------ */
/* fds                                                                 */

struct vg_rstr *vg_st_rs_str(const char *s)
{
	return vg_rstr_new(s, strlen(s));
}

uint8_t vg_st_fdtype_of_family(unsigned family)
{
	switch (family) {
	case AF_INET:
		return VG_FD_IPV4;
	case AF_INET6:
		return VG_FD_IPV6;
	case AF_UNIX:
		return VG_FD_UNIX;
	case AF_NETLINK:
		return VG_FD_NETLINK;
	default:
		return VG_FD_OTHER;
	}
}

static bool v4mapped_or_zero(const uint8_t *a)
{
	static const uint8_t pfx[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	static const uint8_t zero[16];
	return memcmp(a, pfx, 12) == 0 || memcmp(a, zero, 16) == 0;
}

/* IPv4 peers of an IPv6 socket are IPv4 connections. */
void vg_st_sock_normalize(struct vg_sock *s)
{
	if (s->family == AF_INET6 && v4mapped_or_zero(s->laddr) && v4mapped_or_zero(s->raddr) &&
	    (s->laddr[10] == 0xff || s->raddr[10] == 0xff)) {
		s->family = AF_INET;
		memmove(s->laddr, s->laddr + 12, 4);
		memset(s->laddr + 4, 0, 12);
		memmove(s->raddr, s->raddr + 12, 4);
		memset(s->raddr + 4, 0, 12);
	}
	if ((s->family == AF_INET || s->family == AF_INET6) && s->proto == 0) {
		if (s->type == SOCK_STREAM)
			s->proto = IPPROTO_TCP;
		else if (s->type == SOCK_DGRAM)
			s->proto = IPPROTO_UDP;
	}
}

static bool ip_zero(const uint8_t *a, unsigned family)
{
	static const uint8_t zero[16];
	return memcmp(a, zero, family == AF_INET ? 4 : 16) == 0;
}

/* Falco's rendering: client end first, "->" between the two ends; only
 * the local end while there is no peer. */
/* "a.b.c.d:port" without printf: sockets are renamed on every connect and
 * accept, and snprintf+inet_ntop cost several thousand instructions. */
static size_t put_endpoint(char *out, int family, const uint8_t *a, unsigned port)
{
	size_t n = 0;
	if (family == AF_INET) {
		for (int i = 0; i < 4; i++) {
			unsigned v = a[i];
			if (v >= 100)
				out[n++] = (char)('0' + v / 100);
			if (v >= 10)
				out[n++] = (char)('0' + v / 10 % 10);
			out[n++] = (char)('0' + v % 10);
			out[n++] = i < 3 ? '.' : ':';
		}
	} else {
		if (!inet_ntop(AF_INET6, a, out, INET6_ADDRSTRLEN))
			out[0] = '\0';
		n = strlen(out);
		out[n++] = ':';
	}
	char digits[6];
	int d = 0;
	do
		digits[d++] = (char)('0' + port % 10);
	while ((port /= 10) && d < 5);
	while (d)
		out[n++] = digits[--d];
	out[n] = '\0';
	return n;
}

/* Falco's rendering: client end first, "->" between the two ends; only
 * the local end while there is no peer. */
static void render_tuple(const struct vg_sock *s, bool server, char *out, size_t cap)
{
	char buf[2 * (INET6_ADDRSTRLEN + 8) + 4];
	int af = s->family == AF_INET ? AF_INET : AF_INET6;
	size_t n;
	if (s->rport == 0 && ip_zero(s->raddr, s->family)) {
		n = put_endpoint(buf, af, s->laddr, s->lport);
	} else {
		const uint8_t *a1 = server ? s->raddr : s->laddr,
			      *a2 = server ? s->laddr : s->raddr;
		unsigned p1 = server ? s->rport : s->lport, p2 = server ? s->lport : s->rport;
		n = put_endpoint(buf, af, a1, p1);
		buf[n++] = '-';
		buf[n++] = '>';
		n += put_endpoint(buf + n, af, a2, p2);
	}
	if (n >= cap)
		n = cap - 1;
	memcpy(out, buf, n);
	out[n] = '\0';
}

static bool same_ends(const struct vg_sock *a, const struct vg_sock *b)
{
	return a->family == b->family && a->lport == b->lport && a->rport == b->rport &&
	       memcmp(a->laddr, b->laddr, 16) == 0 && memcmp(a->raddr, b->raddr, 16) == 0;
}

/* Take the record's socket tuple into f; rename f when its ends changed. */
void vg_st_take_sock(struct vg_fd *f, const struct vg_rec *r, const struct vg_event *ev)
{
	if (!(r->h.flags & VG_F_SOCK))
		return;
	struct vg_sock s = r->sock;
	vg_st_sock_normalize(&s);
	if (s.family == AF_INET || s.family == AF_INET6) {
		vg_st_set_type(f, vg_st_fdtype_of_family(s.family));
		bool changed = !same_ends(&f->sock, &s) || f->name[0] == '\0';
		f->sock = s;
		if (changed) {
			char name[2 * INET6_ADDRSTRLEN + 16];
			render_tuple(&s, f->is_server, name, sizeof(name));
			if (strcmp(name, f->name) != 0) {
				vg_fdtab_set_name(f, vg_st_rs_str(name));
				f->name_num = ev->num;
			}
		}
	} else if (s.family == AF_UNIX) {
		vg_st_set_type(f, VG_FD_UNIX);
		f->sock.family = s.family;
		f->sock.type = s.type;
		const char *path = ev->str[VG_S_CWD];
		if (path && strcmp(path, f->name) != 0) {
			vg_fdtab_set_name(f, vg_st_rs_str(path));
			f->name_num = ev->num;
		}
	} else if (s.family) {
		vg_st_set_type(f, vg_st_fdtype_of_family(s.family));
		f->sock = s;
	}
}

/* A socket seen with no fd number (an io_uring fixed file): described in
 * st->tmp_fd, in no fd table, its name kept in ev->buf[1] (network calls
 * have no second path). */
void vg_st_tmp_sock(struct vg_state *st, const struct vg_rec *r, bool server, struct vg_event *ev)
{
	struct vg_fd *f = &st->tmp_fd;
	memset(f, 0, sizeof(*f));
	f->fd = -1;
	f->name = "";
	f->is_server = server;
	f->connected = true;
	ev->fdi = f;
	if (!(r->h.flags & VG_F_SOCK))
		return;
	struct vg_sock s = r->sock;
	vg_st_sock_normalize(&s);
	f->sock = s;
	vg_st_set_type(f, vg_st_fdtype_of_family(s.family));
	if (s.family == AF_INET || s.family == AF_INET6) {
		render_tuple(&s, server, ev->buf[1], sizeof(ev->buf[1]));
		f->name = ev->buf[1];
	} else if (s.family == AF_UNIX && ev->str[VG_S_CWD]) {
		f->name = ev->str[VG_S_CWD];
	}
}

/* The socket fd of a network call, created from the record's tuple when we
 * never saw it opened. */
struct vg_fd *vg_st_sock_fd(struct vg_state *st, struct proc_ent *e, int64_t fd,
			    const struct vg_rec *r, bool server)
{
	struct vg_fd *f = vg_fdtab_get(e->fds, fd);
	/* an fd the table does not know is taken for a socket only when the
	 * call shows it is one: a failure such as ENOTSOCK says the opposite */
	if (!f && (r->h.flags & VG_F_SOCK) && fd >= 0 &&
	    (r->h.ret >= 0 || vg_sock_errno(r->h.ret))) {
		f = vg_st_fd_new(st, e, fd);
		if (f)
			f->is_server = server;
	}
	return f;
}
