/* uring_ops - file and socket operations through io_uring only, for the
 * live tests (tests/live/test_iouring.py) and the kernel matrix's guests
 * (tests/kernels/init, built static there): no open, openat or connect
 * syscall is made for them, only io_uring_setup and io_uring_enter.
 *
 *   uring_ops setup              set a ring up and tear it down
 *   uring_ops open PATH          IORING_OP_OPENAT (read-only) + IORING_OP_READ
 *   uring_ops connect PORT       IORING_OP_CONNECT to 127.0.0.1:PORT
 *   uring_ops handle PATH        the other side door, no ring: name_to_handle_at
 *                                + open_by_handle_at (read-only) + read
 *                                (CAP_DAC_READ_SEARCH)
 *
 * Prints what it got ("fd=N read=M", "connect=R") and exits 0 when the
 * operation succeeded.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <fcntl.h>
#include <liburing.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* submit one prepared entry and wait for its completion */
static int one(struct io_uring *ring)
{
	struct io_uring_cqe *cqe;
	if (io_uring_submit(ring) != 1 || io_uring_wait_cqe(ring, &cqe))
		return -1000;
	int res = cqe->res;
	io_uring_cqe_seen(ring, cqe);
	return res;
}

/* open PATH from a file handle: the kernel resolves no path for the open
 * itself (only name_to_handle_at, which opens nothing, walks it) */
static int by_handle(const char *path)
{
	union {
		struct file_handle h;
		char space[sizeof(struct file_handle) + MAX_HANDLE_SZ];
	} u;
	u.h.handle_bytes = MAX_HANDLE_SZ;
	int mount_id;
	if (name_to_handle_at(AT_FDCWD, path, &u.h, &mount_id, 0)) {
		perror("name_to_handle_at");
		return 1;
	}
	/* AT_FDCWD: the handle's file system is the working directory's */
	int fd = open_by_handle_at(AT_FDCWD, &u.h, O_RDONLY);
	char buf[64];
	int n = fd >= 0 ? (int)read(fd, buf, sizeof(buf)) : -1;
	if (fd < 0)
		perror("open_by_handle_at");
	printf("fd=%d read=%d\n", fd, n);
	return fd >= 0 && n >= 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr,
			"usage: uring_ops setup | open PATH | connect PORT | handle PATH\n");
		return 2;
	}
	if (!strcmp(argv[1], "handle") && argc > 2)
		return by_handle(argv[2]);
	struct io_uring ring;
	int rc = io_uring_queue_init(8, &ring, 0);
	if (rc) {
		fprintf(stderr, "io_uring_queue_init: %s\n", strerror(-rc));
		return 1;
	}
	int ok = 0;
	if (!strcmp(argv[1], "setup")) {
		ok = 1;
	} else if (!strcmp(argv[1], "open") && argc > 2) {
		io_uring_prep_openat(io_uring_get_sqe(&ring), AT_FDCWD, argv[2], O_RDONLY, 0);
		int fd = one(&ring);
		char buf[64];
		int n = -1;
		if (fd >= 0) {
			io_uring_prep_read(io_uring_get_sqe(&ring), fd, buf, sizeof(buf), 0);
			n = one(&ring);
		}
		printf("fd=%d read=%d\n", fd, n);
		ok = fd >= 0 && n >= 0;
	} else if (!strcmp(argv[1], "connect") && argc > 2) {
		int s = socket(AF_INET, SOCK_STREAM, 0);
		struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[2]))};
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		io_uring_prep_connect(io_uring_get_sqe(&ring), s, (struct sockaddr *)&a, sizeof(a));
		int r = one(&ring);
		printf("connect=%d\n", r);
		ok = r == 0;
	}
	io_uring_queue_exit(&ring);
	return ok ? 0 : 1;
}
