/* fields_fd.c - the fd.* fields: the file descriptor the event works on;
 * see fields.h.
 *
 * fd.ip, fd.port and fd.net yield two values (client, server): `=` on them
 * matches either end and `!=` neither, as in Falco.  The ipnet fields
 * (fd.net, fd.cnet...) yield addresses typed VG_FT_NET: the operators
 * read the operand as a network and test membership.
 */
#include <netinet/in.h>

#include "fields_int.h"

#define F (ev->fdi)

static const char *fdtype_name(uint8_t t)
{
	switch (t) {
	case VG_FD_FILE:
		return "file";
	case VG_FD_DIR:
		return "directory";
	case VG_FD_IPV4:
		return "ipv4";
	case VG_FD_IPV6:
		return "ipv6";
	case VG_FD_UNIX:
		return "unix";
	case VG_FD_PIPE:
		return "pipe";
	case VG_FD_EVENT:
		return "event";
	case VG_FD_SIGNAL:
		return "signalfd";
	case VG_FD_NETLINK:
		return "netlink";
	case VG_FD_MEMFD:
		return "memfd";
	default:
		return "unknown";
	}
}

static bool is_ip(const struct vg_fd *f)
{
	return f && (f->type == VG_FD_IPV4 || f->type == VG_FD_IPV6);
}

static bool is_sock(const struct vg_fd *f)
{
	return is_ip(f) || (f && f->type == VG_FD_UNIX);
}

static bool is_path(const struct vg_fd *f)
{
	return f && (f->type == VG_FD_FILE || f->type == VG_FD_DIR || f->type == VG_FD_MEMFD);
}

FN(f_fd_num)
{
	if (F)
		vg_fvals_s64(out, F->fd);
	else if (ev->fd >= 0)
		vg_fvals_s64(out, ev->fd);
}

FN(f_fd_type)
{
	if (F)
		put_str(out, fdtype_name(F->type));
}

FN(f_fd_typechar)
{
	if (F)
		vg_fvals_str(out, &F->typechar, 1);
}

FN(f_fd_name)
{
	if (F)
		put_str(out, F->name);
}

FN(f_fd_nameraw)
{
	if (!F)
		return;
	/* the path as the open call passed it; other fds have no raw form */
	if (open_row(ev) && ev->str[VG_S_PATH0] && F->fd == ev->fd)
		put_str(out, ev->str[VG_S_PATH0]);
	else
		put_str(out, F->name);
}

FN(f_fd_directory)
{
	if (!is_path(F) || !F->name)
		return;
	if (F->type == VG_FD_DIR) {
		put_str(out, F->name);
		return;
	}
	const char *slash = strrchr(F->name, '/');
	if (!slash)
		return;
	vg_fvals_str(out, F->name, slash == F->name ? 1 : (size_t)(slash - F->name));
}

FN(f_fd_filename)
{
	if (!is_path(F) || F->type == VG_FD_DIR || !F->name)
		return;
	const char *slash = strrchr(F->name, '/');
	put_str(out, slash ? slash + 1 : F->name);
}

struct types_ctx {
	struct vg_fvals *out;
	uint32_t seen; /* bit per fd type already listed */
};

static int types_one(void *ctx, const struct vg_fd *f)
{
	struct types_ctx *c = ctx;
	if (f->type < 32 && !(c->seen & (1u << f->type))) {
		c->seen |= 1u << f->type;
		put_str(c->out, fdtype_name(f->type));
	}
	return 0;
}

FN(f_fd_types)
{
	if (!ev->st)
		return;
	if (arg->kind == 1) {
		const struct vg_fd *f = vg_state_fd(ev->st, ev->proc, arg->index);
		if (f)
			put_str(out, fdtype_name(f->type));
		return;
	}
	struct types_ctx c = {out, 0};
	vg_state_fds(ev->st, ev->proc, types_one, &c);
}

FN(f_fd_l4proto)
{
	if (!is_ip(F))
		return;
	switch (F->sock.proto) {
	case IPPROTO_TCP:
		put_str(out, "tcp");
		break;
	case IPPROTO_UDP:
		put_str(out, "udp");
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		put_str(out, "icmp");
		break;
	default:
		put_str(out, "raw");
		break;
	}
}

FN(f_fd_sockfamily)
{
	if (is_ip(F))
		put_str(out, "ip");
	else if (F && F->type == VG_FD_UNIX)
		put_str(out, "unix");
}

FN(f_fd_connected)
{
	if (is_sock(F))
		put_bool(out, F->connected);
}

FN(f_fd_name_truncated)
{
	if (F)
		put_bool(out, F->name_cut);
}

FN(f_fd_name_changed)
{
	if (F)
		put_bool(out, F->name_num == ev->num);
}

FN(f_fd_is_server)
{
	if (is_sock(F))
		put_bool(out, F->is_server);
}

/* Ends of an IP socket: local/remote as captured, client/server by role. */
enum end { END_L, END_R, END_C, END_S };

static bool end_is_local(const struct vg_fd *f, enum end e)
{
	switch (e) {
	case END_L:
		return true;
	case END_R:
		return false;
	case END_C:
		return !f->is_server;
	default:
		return f->is_server;
	}
}

static void put_end_ip(const struct vg_fd *f, enum end e, struct vg_fvals *out)
{
	put_ip(out, f->sock.family, end_is_local(f, e) ? f->sock.laddr : f->sock.raddr);
}

static void put_end_port(const struct vg_fd *f, enum end e, struct vg_fvals *out)
{
	vg_fvals_u64(out, end_is_local(f, e) ? f->sock.lport : f->sock.rport);
}

#define IPFN(fname, end)                                                                           \
	FN(fname)                                                                                  \
	{                                                                                          \
		if (is_ip(F))                                                                      \
			put_end_ip(F, end, out);                                                   \
	}
#define PORTFN(fname, end)                                                                         \
	FN(fname)                                                                                  \
	{                                                                                          \
		if (is_ip(F))                                                                      \
			put_end_port(F, end, out);                                                 \
	}

IPFN(f_fd_cip, END_C)
IPFN(f_fd_sip, END_S)
IPFN(f_fd_lip, END_L)
IPFN(f_fd_rip, END_R)
PORTFN(f_fd_cport, END_C)
PORTFN(f_fd_sport, END_S)
PORTFN(f_fd_lport, END_L)
PORTFN(f_fd_rport, END_R)

FN(f_fd_ip)
{
	if (!is_ip(F))
		return;
	put_end_ip(F, END_C, out);
	put_end_ip(F, END_S, out);
}

FN(f_fd_port)
{
	if (!is_ip(F))
		return;
	put_end_port(F, END_C, out);
	put_end_port(F, END_S, out);
}

const struct vg_field vg_fields_fd[] = {
	{"fd.num", I, 0, f_fd_num, "file descriptor number (-1 for a failed open)"},
	{"fd.type", S, 0, f_fd_type,
	 "kind of fd: file, directory, ipv4, ipv6, unix, pipe, netlink, memfd, unknown"},
	{"fd.typechar", S, 0, f_fd_typechar, "kind of fd as one character (f d 4 6 u p n m o)"},
	{"fd.name", S, 0, f_fd_name, "absolute path of a file, or the connection of a socket"},
	{"fd.nameraw", S, 0, f_fd_nameraw, "the path exactly as the open call passed it"},
	{"fd.directory", S, 0, f_fd_directory, "directory holding the file"},
	{"fd.filename", S, 0, f_fd_filename, "file name without its directory"},
	{"fd.types", S, IDX | LIST, f_fd_types,
	 "kinds of all fds the process holds, or of fd n with [n]"},
	{"fd.l4proto", S, 0, f_fd_l4proto,
	 "transport protocol of an IP socket: tcp, udp, icmp, raw"},
	{"fd.sockfamily", S, 0, f_fd_sockfamily, "socket family: ip or unix"},
	{"fd.connected", B, 0, f_fd_connected, "the socket is connected"},
	{"fd.name_truncated", B, 0, f_fd_name_truncated,
	 "fd.name was a path longer than 4095 bytes: it keeps its root side (what startswith "
	 "tests) and \"" VG_PATH_CUT_MARK "\" stands where it was cut"},
	{"fd.name_changed", B, 0, f_fd_name_changed,
	 "this event changed the fd's name (e.g. a new peer on a UDP socket)"},
	{"fd.is_server", B, 0, f_fd_is_server, "the local end of the socket is the server"},
	{"fd.ip", IP, LIST, f_fd_ip, "either address of the connection (client or server)"},
	{"fd.cip", IP, 0, f_fd_cip, "address of the client end"},
	{"fd.sip", IP, 0, f_fd_sip, "address of the server end"},
	{"fd.lip", IP, 0, f_fd_lip, "address of the local end"},
	{"fd.rip", IP, 0, f_fd_rip, "address of the remote end"},
	{"fd.port", U, LIST, f_fd_port, "either port of the connection (client or server)"},
	{"fd.cport", U, 0, f_fd_cport, "port of the client end"},
	{"fd.sport", U, 0, f_fd_sport, "port of the server end"},
	{"fd.lport", U, 0, f_fd_lport, "port of the local end"},
	{"fd.rport", U, 0, f_fd_rport, "port of the remote end"},
	{"fd.net", NET, LIST, f_fd_ip,
	 "either address of the connection, matched against networks"},
	{"fd.cnet", NET, 0, f_fd_cip, "client address, matched against networks"},
	{"fd.snet", NET, 0, f_fd_sip, "server address, matched against networks"},
	{"fd.lnet", NET, 0, f_fd_lip, "local address, matched against networks"},
	{"fd.rnet", NET, 0, f_fd_rip, "remote address, matched against networks"},
	{"fd.cip.name", S, 0, f_unset, "DNS name of the client address (unset: no DNS in vigil)"},
	{"fd.sip.name", S, 0, f_unset, "DNS name of the server address (unset: no DNS in vigil)"},
	{"fd.lip.name", S, 0, f_unset, "DNS name of the local address (unset: no DNS in vigil)"},
	{"fd.rip.name", S, 0, f_unset, "DNS name of the remote address (unset: no DNS in vigil)"},
};

const size_t vg_fields_fd_count = sizeof(vg_fields_fd) / sizeof(vg_fields_fd[0]);
