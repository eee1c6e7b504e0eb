/* kmx_container.c - run a command the way a container runtime starts a
 * container's shell, for the kernel matrix's guests (tests/kernels/init):
 * in a cgroup given on the command line (shaped like the kubelet's), in a
 * new session with a pseudo-terminal as its controlling terminal (what
 * "kubectl exec -it" gives), from a parent named like runc's init stage
 * (Falco's container_entrypoint macro expects it), in a working directory
 * given too (the path walk is tested through it).  The terminal's output
 * is copied to stdout; the exit status is the command's.
 *
 * usage: kmx_container CGROUP_DIR CWD PROGRAM [ARG...]
 * Built static: the guest has no libc but the one vigil brings.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: kmx_container CGROUP_DIR CWD PROGRAM [ARG...]\n");
		return 2;
	}
	int master = posix_openpt(O_RDWR | O_NOCTTY);
	if (master < 0 || grantpt(master) || unlockpt(master)) {
		perror("kmx_container: pty");
		return 1;
	}
	const char *slave = ptsname(master);
	prctl(PR_SET_NAME, "runc:[1:CHILD]");
	pid_t pid = fork();
	if (pid < 0) {
		perror("kmx_container: fork");
		return 1;
	}
	if (pid == 0) {
		char procs[4096];
		snprintf(procs, sizeof(procs), "%s/cgroup.procs", argv[1]);
		int fd = open(procs, O_WRONLY);
		if (fd < 0 || write(fd, "0\n", 2) != 2) {
			perror(procs);
			_exit(126);
		}
		close(fd);
		if (chdir(argv[2])) {
			perror(argv[2]);
			_exit(126);
		}
		setsid();
		int s = open(slave, O_RDWR);
		if (s < 0 || ioctl(s, TIOCSCTTY, 0)) {
			perror("kmx_container: controlling terminal");
			_exit(126);
		}
		dup2(s, 0);
		dup2(s, 1);
		dup2(s, 2);
		if (s > 2)
			close(s);
		close(master);
		execv(argv[3], argv + 3);
		perror(argv[3]);
		_exit(127);
	}
	char buf[4096];
	ssize_t n;
	/* EIO once the last slave descriptor is closed */
	while ((n = read(master, buf, sizeof(buf))) > 0)
		if (write(1, buf, (size_t)n) < 0)
			break;
	int st = 0;
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
