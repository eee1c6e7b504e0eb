#!/usr/bin/env python3
"""The kernel-side prefilter (capture.prefilter: on) on the real kernel:
what it must never drop, and the memory of the opens it dropped
(docs/prefilter.md).

The predicate tests the path string the caller passed; fd.name is the file
the kernel opened.  A symlink or /proc/self/root makes them differ: an
attacker reading /etc/shadow through one must still be seen.

A rule set that reads sockets' fd table entries and no file's: opens are
dropped in the kernel, and so must be the closes of their fds, whichever
thread of the process closes them.  And the memory must never make the
kernel drop a close the state needs: an fd closed where vigil does not look
(close_range) and reused by a socket must have its close sent, or the
socket's entry stays in the state and a later file on that fd passes for a
socket (the adversary: a process hiding a file behind a stale entry, or
making one rule fire on the wrong object).
"""
import collections
import os
import re
import subprocess
import tempfile
import time
import urllib.request
import uuid

from livelib import VIGIL, Container, Vigil, check, helper, main, skip

SRC = os.environ.get("VIGIL_SRC", os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))

RULES = """
- rule: Socket mode changed
  desc: fchmod on what the fd table says is an IPv4 socket
  condition: evt.type = fchmod and fd.type = ipv4 and proc.name = vgattack
  output: socket mode changed (fd=%fd.num type=%fd.type name=%fd.name)
  priority: WARNING
"""


def setup():
    d = tempfile.mkdtemp(prefix="vigil-pffds-")
    helper = os.path.join(d, "vgattack")
    subprocess.run(["gcc", "-O1", "-o", helper, os.path.join(SRC, "tests", "live", "vgattack.c")],
                   check=True)
    target = os.path.join(d, "target")
    with open(target, "w") as f:
        f.write("x")
    rules = os.path.join(d, "rules.yaml")
    with open(rules, "w") as f:
        f.write(RULES)
    cfg = os.path.join(d, "vigil.yaml")
    with open(cfg, "w") as f:
        f.write("metrics:\n  listen: 127.0.0.1:0\ncapture:\n  prefilter: on\n")
    return helper, target, rules, cfg


def filtered(port, syscall):
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=5) as r:
        text = r.read().decode()
    m = re.search(r'^vigil_events_filtered_total\{syscall="%s"\} (\S+)$' % syscall, text, re.M)
    return float(m.group(1)) if m else 0.0


def events_sent(port):
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=5) as r:
        text = r.read().decode()
    return sum(float(m) for m in re.findall(r'^vigil_events_total\{syscall="[^"]*"\} (\S+)$',
                                             text, re.M))


def alerts(v, rule):
    return [a for a in v.lines() if a.get("rule") == rule]


def run_helper(helper, *args):
    r = subprocess.run([helper] + list(args), capture_output=True, text=True, timeout=60)
    check(r.returncode == 0, "vgattack %s: rc %d %s" % (" ".join(args), r.returncode, r.stderr))


def only_the_controls_alert(v):
    """The stopped agent v raised "Socket mode changed" once: for the
    control's fchmod on a real socket, not for a file an fd table entry
    left behind calls a socket."""
    got = alerts(v, "Socket mode changed")
    check(len(got) == 1, "want exactly the control's alert, got %d: %s" % (
        len(got), [a.get("output") for a in got][:3]))
    check("type=ipv4" in got[0].get("output", ""), "control alert: %s" % got[0].get("output"))


def test_dropped_opens_closes_are_dropped():
    """2000 opens and closes in one thread, then 2000 opened in one thread
    and closed in another: every one of those closes is filtered in the
    kernel (the counter grows by at least 4000; before the kernel
    remembered dropped opens, closes were all sent)."""
    helper, target, rules, cfg = setup()
    v = Vigil(["run", "-c", cfg, "-r", rules])
    try:
        port = v.metrics_port()
        c0, o0 = filtered(port, "close"), filtered(port, "openat")
        run_helper(helper, "fd-churn", target, "2000")
        run_helper(helper, "fd-threads", target, "2000")
        time.sleep(0.5)
        c1, o1 = filtered(port, "close"), filtered(port, "openat")
        check(o1 - o0 >= 4000, "opens filtered: %d (want >= 4000)" % (o1 - o0))
        check(c1 - c0 >= 4000, "closes filtered: %d of the 4000 whose open was dropped"
              % (c1 - c0))
    finally:
        v.close()


def test_thread_ids_are_not_fds():
    """A thread's creation returns its id, which the kernel's memory of
    fds must not take for an fd the state may know: in a new pid namespace
    (as after the pid counter wraps) 300 threads get ids 2 to 301, and the
    opens of a file no rule names then get fds 3 to 302: their 300 closes
    are all filtered.  Fails, with the closes sent, when any return of 0
    or more is taken for an fd (the cause of a flaky run of the test
    above on a machine whose pid counter had wrapped)."""
    helper, target, rules, cfg = setup()
    v = Vigil(["run", "-c", cfg, "-r", rules])
    try:
        port = v.metrics_port()
        c0 = filtered(port, "close")
        r = subprocess.run(["unshare", "--pid", "--fork", helper, "tid-fds", target, "300"],
                           capture_output=True, text=True, timeout=60)
        check(r.returncode == 0, "vgattack tid-fds: rc %d %s" % (r.returncode, r.stderr))
        time.sleep(0.5)
        c1 = filtered(port, "close")
        check(c1 - c0 >= 300, "closes filtered: %d of the 300 whose open was dropped"
              % (c1 - c0))
    finally:
        v.close()


def test_fd_closed_unseen_then_reused_by_a_socket():
    """open (dropped) -> close_range (not captured) -> socket() on the same
    number (sent) -> close (must be sent) -> open of a file on the same
    number (dropped) -> fchmod: the state must not call that file a
    socket.  The control: fchmod on a real socket raises the rule."""
    helper, target, rules, cfg = setup()
    v = Vigil(["run", "-c", cfg, "-r", rules])
    try:
        run_helper(helper, "sock-fchmod")
        for _ in range(20):
            run_helper(helper, "stale-fd", target)
        time.sleep(1)
    finally:
        v.stop()
    only_the_controls_alert(v)
    v.close()


def test_fds_the_state_knows_keep_their_closes():
    """The kernel drops a close when the state does not know its fd: the
    number's last close was sent, or the process (or image) never had it
    open.  Every way such a number becomes a socket the state knows must
    make its close be sent again: socket() on it, dup2() onto it, a socket
    a fork's child or an exec'd image inherits.  Otherwise the socket's
    entry stays in the state, and the file opened next on that number
    passes for a socket (fchmod on it raises the rule).  20 rounds of each,
    and the control (fchmod on a real socket): exactly one alert.  And the
    memory pays: the 20 rounds drop closes in the kernel."""
    helper, target, rules, cfg = setup()
    v = Vigil(["run", "-c", cfg, "-r", rules])
    try:
        port = v.metrics_port()
        c0 = filtered(port, "close")
        run_helper(helper, "sock-fchmod")
        for _ in range(20):
            run_helper(helper, "known-fds", target)
        time.sleep(1)
        c1 = filtered(port, "close")
    finally:
        v.stop()
    only_the_controls_alert(v)
    check(c1 - c0 >= 20, "closes filtered: %d (want >= 20)" % (c1 - c0))
    v.close()


ALIAS_RULES = """
- rule: Shadow read
  desc: test
  condition: evt.type in (open, openat) and evt.is_open_read = true and fd.name = /etc/shadow
  output: shadow read (file=%fd.name raw=%fd.nameraw)
  priority: WARNING
- rule: Credentials read
  desc: test
  condition: >
    evt.type in (open, openat) and evt.is_open_read = true and
    fd.filename in (credentials, token) and fd.directory endswith /keys
  output: credentials read (file=%fd.name raw=%fd.nameraw)
  priority: WARNING
"""


def aliases(prefilter):
    """Prefix and name tests on the caller's string: an open of
    /etc/shadow through a symlink (/tmp/.../innocent) or /proc/self/root,
    and of .../keys/credentials through a symlink named otherwise, still
    alert, with fd.name the real file; with the prefilter on, an open of an
    unrelated file is dropped in the kernel (before: the two aliases of
    /etc/shadow passed unseen).  Symlinks that keep the file's own name
    (/tmp/.../shadow -> /etc/shadow), or that are a directory on the way
    (/tmp/.../etc -> /etc, then .../etc/shadow), differ from the file's
    path only above its last component: before, the capture took such a
    string for fd.name and both opens passed unseen, prefilter on or off."""
    d = tempfile.mkdtemp(prefix="vigil-pfalias-")
    rules, cfg = os.path.join(d, "rules.yaml"), os.path.join(d, "vigil.yaml")
    with open(rules, "w") as f:
        f.write(ALIAS_RULES)
    with open(cfg, "w") as f:
        f.write("metrics:\n  listen: 127.0.0.1:0\ncapture:\n  prefilter: %s\n" % prefilter)
    os.makedirs(os.path.join(d, "keys"))
    cred = os.path.join(d, "keys", "credentials")
    with open(cred, "w") as f:
        f.write("secret")
    other = os.path.join(d, "other")
    with open(other, "w") as f:
        f.write("x")
    os.symlink("/etc/shadow", os.path.join(d, "innocent"))
    # a name as long as the file's: only the bytes of the names differ
    os.symlink("/etc/shadow", os.path.join(d, "shadoz"))
    os.symlink(cred, os.path.join(d, "notes"))
    # the file's own name, in another directory; a directory on the way
    os.makedirs(os.path.join(d, "same"))
    os.symlink("/etc/shadow", os.path.join(d, "same", "shadow"))
    os.symlink("/etc", os.path.join(d, "etc"))
    os.symlink(os.path.join(d, "keys"), os.path.join(d, "k2"))
    # under two mounts (tmpfs /dev/shm on devtmpfs /dev): the compare
    # crosses them; a same-name symlink there, and a plain file whose
    # opens must still be dropped (its string is its path)
    shm = tempfile.mkdtemp(prefix="vigil-pfalias-", dir="/dev/shm")
    os.symlink("/etc/shadow", os.path.join(shm, "shadow"))
    other2 = os.path.join(shm, "other")
    with open(other2, "w") as f:
        f.write("x")
    same = (os.path.join(d, "same", "shadow"), os.path.join(d, "etc", "shadow"),
            os.path.join(shm, "shadow"))
    samecred = os.path.join(d, "k2", "credentials")
    v = Vigil(["run", "-c", cfg, "-r", rules])
    try:
        port = v.metrics_port()
        o0 = filtered(port, "openat")
        for p in ("/etc/shadow", os.path.join(d, "innocent"), os.path.join(d, "shadoz"),
                  "/proc/self/root/etc/shadow", cred, os.path.join(d, "notes")) + same + (samecred,):
            r = subprocess.run(["cat", p], capture_output=True, timeout=10)
            check(r.returncode == 0, "cat %s: %s" % (p, r.stderr))
        for _ in range(100):
            for p in (other, other2):
                with open(p) as f:
                    f.read()
        time.sleep(1)
        o1 = filtered(port, "openat")
    finally:
        v.stop()
        subprocess.run(["rm", "-rf", shm])
    shadow = [a["output"] for a in alerts(v, "Shadow read")]
    creds = [a["output"] for a in alerts(v, "Credentials read")]
    v.close()
    for raw in ("/etc/shadow", os.path.join(d, "innocent"), os.path.join(d, "shadoz"),
                "/proc/self/root/etc/shadow") + same:
        check(any("file=/etc/shadow raw=%s)" % raw in o for o in shadow),
              "no alert for /etc/shadow opened as %s: %s" % (raw, shadow))
    for raw in (cred, os.path.join(d, "notes"), samecred):
        check(any("file=%s raw=%s)" % (cred, raw) in o for o in creds),
              "no alert for %s opened as %s: %s" % (cred, raw, creds))
    if prefilter == "on":
        check(o1 - o0 >= 200, "opens of unrelated files filtered: %d (want >= 200)" % (o1 - o0))
    else:
        check(o1 == o0, "opens filtered with the prefilter off: %d" % (o1 - o0))


def test_aliases_are_not_dropped():
    aliases("on")


def test_aliases_name_the_file_prefilter_off():
    aliases("off")


def run_pinned(d, rules_text, script, *args):
    """Runs the Python script (with args) on one CPU (the kernel's caches are
    per CPU) under `vigil run` with rules_text and the prefilter on (files
    in d).  Returns the stopped agent (the caller closes it) and the
    openat events filtered in the kernel meanwhile."""
    rules, cfg = os.path.join(d, "rules.yaml"), os.path.join(d, "vigil.yaml")
    with open(rules, "w") as f:
        f.write(rules_text)
    with open(cfg, "w") as f:
        f.write("metrics:\n  listen: 127.0.0.1:0\ncapture:\n  prefilter: on\n")
    v = Vigil(["run", "-c", cfg, "-r", rules])
    try:
        port = v.metrics_port()
        o0 = filtered(port, "openat")
        r = subprocess.run(["python3", "-c", script] + list(args), capture_output=True,
                           text=True, timeout=60,
                           preexec_fn=lambda: os.sched_setaffinity(0, {os.cpu_count() - 1}))
        check(r.returncode == 0, "script: %s" % r.stderr)
        time.sleep(1)
        o1 = filtered(port, "openat")
    finally:
        v.stop()
    return v, o1 - o0


RENAME_RULES = """
- rule: Secret read
  desc: a read of a file under a secret directory
  condition: >
    evt.type in (open, openat) and evt.is_open_read = true and
    fd.name startswith /var/tmp/vigil-secret-
  output: secret read (file=%fd.name raw=%fd.nameraw)
  priority: WARNING
"""

RENAME_SCRIPT = r"""
import os, sys
plain, secret = sys.argv[1], sys.argv[2]
for _ in range(300):
    with open(os.path.join(plain, "f")) as f:
        f.read()
os.rename(plain, secret)
for p in (os.path.join(secret, "f"),):
    with open(p) as f:
        f.read()
os.symlink(secret, plain)
with open(os.path.join(plain, "f")) as f:
    f.read()
os.chdir(secret)
with open("f") as f:
    f.read()
"""


def test_file_cache_follows_renames():
    """The kernel's cache of verdicts per file (vg_sys_exit_cast): a file
    opened 300 times under a plain directory is dropped from the cache;
    then its directory is renamed into the secret one (same dentries: only
    a parent's name changed).  Its next opens, by the new name, through a
    symlink left at the old name and by a relative name, must alert with
    fd.name the secret path: the cache finds the file's path no longer the
    one it cached.  Fails when a hit skips that compare."""
    d = tempfile.mkdtemp(prefix="vigil-pfren-")
    tag = os.path.basename(d)
    plain, secret = "/var/tmp/vigil-plain-" + tag, "/var/tmp/vigil-secret-" + tag
    os.makedirs(plain)
    with open(os.path.join(plain, "f"), "w") as f:
        f.write("x")
    try:
        v, nfilt = run_pinned(d, RENAME_RULES, RENAME_SCRIPT, plain, secret)
    finally:
        for p in (plain, secret):
            if os.path.islink(p):
                os.unlink(p)
        subprocess.run(["rm", "-rf", secret, plain])
    got = [a["output"] for a in alerts(v, "Secret read")]
    v.close()
    want = secret + "/f"
    for raw in (want, plain + "/f", "f"):
        check(any("file=%s raw=%s)" % (want, raw) in o for o in got),
              "no alert for %s opened as %s: %s" % (want, raw, got))
    check(nfilt >= 250, "opens of the plain file filtered: %d (want >= 250)" % nfilt)


MOVE_SCRIPT = r"""
import ctypes, os, subprocess, sys
stage = sys.argv[1]
def rd(p):
    with open(p) as f:
        f.read()
libc = ctypes.CDLL(None, use_errno=True)
# two directories of names of the same length swapped in one step
plain, secret = os.path.join(stage, "plainx"), os.path.join(stage, "secret")
for _ in range(300):
    rd(os.path.join(plain, "f"))
if libc.renameat2(-100, plain.encode(), -100, secret.encode(), 2) != 0:  # RENAME_EXCHANGE
    sys.exit("renameat2: errno %d" % ctypes.get_errno())
rd(os.path.join(secret, "f"))
# a mount moved under the secret directory
mnt = os.path.join(stage, "mnt")
for _ in range(300):
    rd(os.path.join(mnt, "f"))
subprocess.run(["mount", "--move", mnt, os.path.join(secret, "m")], check=True)
rd(os.path.join(secret, "m", "f"))
"""


def test_file_cache_follows_exchanges_and_moved_mounts():
    """The cache per file checks the walk's steps, not the names' bytes
    (bpf/vigil.bpf.c pf_chain): two directories exchanged in one step
    (renameat2 RENAME_EXCHANGE, names of the same length) and a mount moved
    under a secret directory must both make the next open of a cached file
    a miss, and alert with its new name.  Fails when a step's d_seq, name or
    mountpoint is not compared."""
    stage = tempfile.mkdtemp(prefix="vigil-pfmv-", dir="/var/tmp")
    subprocess.run(["mount", "-t", "tmpfs", "none", stage], check=True)
    subprocess.run(["mount", "--make-private", stage], check=True)
    d = tempfile.mkdtemp(prefix="vigil-pfmvc-")
    try:
        for sub in ("plainx", "plainx/m", "secret", "mnt"):  # m: secret/m after the exchange
            os.makedirs(os.path.join(stage, sub))
        subprocess.run(["mount", "-t", "tmpfs", "none", os.path.join(stage, "mnt")], check=True)
        for sub in ("plainx/f", "secret/f", "mnt/f"):
            with open(os.path.join(stage, sub), "w") as f:
                f.write("x")
        rules = RENAME_RULES.replace("/var/tmp/vigil-secret-", stage + "/secret/")
        v, nfilt = run_pinned(d, rules, MOVE_SCRIPT, stage)
    finally:
        subprocess.run(["umount", "-R", stage])
        subprocess.run(["rm", "-rf", stage, d])
    got = [a["output"] for a in alerts(v, "Secret read")]
    v.close()
    for name in ("secret/f", "secret/m/f"):
        want = os.path.join(stage, name)
        check(any("file=%s raw=%s)" % (want, want) in o for o in got),
              "no alert for %s: %s" % (want, got))
    check(nfilt >= 550, "opens filtered: %d (want >= 550)" % nfilt)


GROWN_SCRIPT = r"""
import os, sys
plain, secret = sys.argv[1], sys.argv[2]
# a fork of a process with few fds open starts in the files_struct's own
# table (this one may have inherited a grown table from its parent)
pid = os.fork()
if pid:
    sys.exit(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
for _ in range(300):
    with open(plain) as f:
        f.read()
# the plain file open on a low fd while the fd table grows past the
# files_struct's own 64 slots: the grown table is a copy, and the old
# slot keeps its pointer to the plain file once the fd is closed (the
# file itself held open on another fd, so that no new file takes its
# memory)
low = os.open(plain, os.O_RDONLY)
held = [os.open("/dev/null", os.O_RDONLY) for _ in range(100)]
keep = os.dup(low)
os.close(low)
for fd in held:
    os.close(fd)
fd = os.open(secret, os.O_RDONLY)
if fd != low:
    print("the secret file took fd %d, not %d" % (fd, low), file=sys.stderr)
    os._exit(1)
os.read(fd, 1)
os.close(fd)
os.close(keep)
os._exit(0)
"""


def test_file_cache_past_a_grown_fd_table():
    """The cache's key is the file at the open's fd.  A process's first
    fds live in its files_struct's own table until the table grows; after
    that the old table's slots are stale (an fd closed in the new table
    keeps its old file there).  A secret file opened on the number a
    cached plain file held before the table grew must alert: fails when
    the key reads the files_struct's own table without checking that it
    is still the one in use (the plain file's cached verdict drops it)."""
    d = tempfile.mkdtemp(prefix="vigil-pfgrow-")
    tag = os.path.basename(d)
    plain, secret = "/var/tmp/vigil-plain-" + tag, "/var/tmp/vigil-secret-" + tag
    for p in (plain, secret):
        with open(p, "w") as f:
            f.write("x")
    try:
        v, nfilt = run_pinned(d, RENAME_RULES, GROWN_SCRIPT, plain, secret)
    finally:
        subprocess.run(["rm", "-rf", secret, plain, d])
    got = [a["output"] for a in alerts(v, "Secret read")]
    v.close()
    check(any("file=%s raw=%s)" % (secret, secret) in o for o in got),
          "no alert for %s: %s" % (secret, got))
    check(nfilt >= 250, "opens of the plain file filtered: %d (want >= 250)" % nfilt)


NCG_SCRIPT = r"""
import os, subprocess, sys
v2, cpu = sys.argv[1], sys.argv[2]
with open(os.path.join(v2, "cgroup.procs"), "w") as f:
    f.write(str(os.getpid()))
subprocess.run(["true"])  # an exec on the host, in a v2 cgroup of its own
print(os.stat(v2).st_ino, flush=True)
sys.stdin.readline()
with open(os.path.join(cpu, "cgroup.procs"), "w") as f:
    f.write(str(os.getpid()))
subprocess.run(["true"])  # a container's by its v1 cpu path, in the same v2 cgroup
print("moved", flush=True)
sys.stdin.readline()
"""


def listed(cg):
    """Whether the kernel's list of placed cgroups (vg_pf_ncg) has cgroup
    id cg."""
    key = [str(b) for b in cg.to_bytes(8, "little")]
    r = subprocess.run(["bpftool", "map", "lookup", "name", "vg_pf_ncg", "key"] + key,
                       capture_output=True, text=True)
    return r.returncode == 0


def test_cgroup_of_two_containers_leaves_the_list():
    """The agent places host cgroups for the predicates without namespaced
    Rules (agent/run/pfnarrow.c) by the records' v2 cgroup id, while the
    container comes from the v1 cpu path where the host has one.  A runtime
    that leaves a container's tasks in a v2 cgroup the host shares would
    have the container's events filtered without its namespace's Rules: an
    exec there naming a container must take the cgroup off the list for
    good.  Fails when the agent lists by the first exec alone."""
    if not os.path.isdir("/sys/fs/cgroup/unified") or not os.path.isdir("/sys/fs/cgroup/cpu"):
        skip("needs a host with cgroup v1 cpu and a v2 hierarchy beside it")
    tag = uuid.uuid4().hex
    v2 = "/sys/fs/cgroup/unified/vigil-ncg-" + tag[:12]
    cpu = "/sys/fs/cgroup/cpu/kubepods/besteffort/pod%s/%s" % (uuid.uuid4(), tag + tag)
    os.makedirs(v2)
    os.makedirs(cpu)
    d = tempfile.mkdtemp(prefix="vigil-pfncg-")
    cfg = os.path.join(d, "vigil.yaml")
    with open(cfg, "w") as f:
        f.write("metrics:\n  listen: 127.0.0.1:0\ncapture:\n  prefilter: on\n")
    v = Vigil(["run", "-c", cfg])
    p = None
    try:
        v.metrics_port()
        p = subprocess.Popen(["python3", "-c", NCG_SCRIPT, v2, cpu], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
        cg = int(p.stdout.readline())
        deadline = time.time() + 5
        while not listed(cg) and time.time() < deadline:
            time.sleep(0.1)
        check(listed(cg), "the host's v2 cgroup %d was not listed" % cg)
        p.stdin.write("\n")
        p.stdin.flush()
        check(p.stdout.readline().strip() == "moved", "the helper did not move")
        deadline = time.time() + 5
        while listed(cg) and time.time() < deadline:
            time.sleep(0.1)
        check(not listed(cg), "cgroup %d still listed after a container's exec in it" % cg)
        # and it stays off: more host execs there do not list it again
        subprocess.run(["sh", "-c", "echo $$ > %s/cgroup.procs; true; /bin/true" % v2])
        time.sleep(1.0)
        check(not listed(cg), "cgroup %d listed again" % cg)
    finally:
        if p:
            p.stdin.close()
            p.wait(10)
        v.stop()
        v.close()
        for c in (cpu, v2):
            subprocess.run(["rmdir", c], capture_output=True)
        subprocess.run(["rmdir", os.path.dirname(cpu)], capture_output=True)
        subprocess.run(["rm", "-rf", d])


SUB_RULES = """
- rule: Key read
  desc: a read of a file whose path holds a marker
  condition: >
    evt.type in (open, openat) and evt.is_open_read = true and fd.name contains "-vkey-"
  output: key read (file=%fd.name raw=%fd.nameraw)
  priority: WARNING
"""

SUB_SCRIPT = r"""
import os, sys
d = sys.argv[1]
def rd(p):
    with open(p) as f:
        f.read()
for _ in range(300):
    rd(os.path.join(d, "plain"))
    rd(os.path.join(d, "dir", "f"))
rd(os.path.join(d, "a-vkey-b"))                        # simple, contains
rd(os.path.join(d, "link"))                            # symlink to it
rd(os.path.join(d, "dir", "..", "a-vkey-b"))           # not simple
os.rename(os.path.join(d, "plain"), os.path.join(d, "p-vkey-"))
rd(os.path.join(d, "p-vkey-"))                         # a renamed cached file
os.rename(os.path.join(d, "dir"), os.path.join(d, "dir-vkey-"))
os.chdir(os.path.join(d, "dir-vkey-"))
rd("f")                                                # its renamed directory, relative
"""


def test_kernel_predicates_per_namespace():
    """The kernel's predicates per namespace, on this kernel (pfnsdrv: the
    real engine and BPF maps, cgroups placed as the agent places them).  A
    pod of team-a has its own Rule's opens and the cluster's sent, team-b's
    dropped; the host and a namespace without Rules only the cluster's; a
    cgroup not placed every rule's; again after the table is written twice
    more (the pools alternate), after team-a's Rules go, with a widened
    table, and with more namespaces than predicates (its pods then get the
    whole predicate, the host the cluster's).  The kernel matrix runs the
    same on 5.10, 6.1 and 6.12."""
    root = "/sys/fs/cgroup/unified"
    if not os.path.exists(os.path.join(root, "cgroup.procs")):
        root = "/sys/fs/cgroup"
    d = tempfile.mkdtemp(prefix="vigil-pfns-")
    try:
        r = subprocess.run([helper("pfnsdrv"), root, d], capture_output=True, text=True,
                           timeout=120)
        fails = [ln for ln in r.stdout.splitlines() if "FAIL" in ln]
        check(r.returncode == 0 and r.stdout.rstrip().endswith("pfnsdrv: ok"),
              "pfnsdrv: rc %d %s %s" % (r.returncode, fails, r.stderr.strip()))
    finally:
        subprocess.run(["rm", "-rf", d])


def test_substring_tests_in_the_kernel():
    """A rule that tests `fd.name contains`: the kernel tests the string
    (bpf/prefilter.h vg_pf_sub_in), so that the 600 opens of paths without
    it are dropped (nothing was before: `contains` stood for anything), and
    its cache per file caches them.  Every open of a path that holds it
    must still alert: by its simple name, through a symlink whose name does
    not hold it, by a path with "..", after a cached file was renamed to a
    name that holds it, and by a relative name after a cached file's
    directory was."""
    d = tempfile.mkdtemp(prefix="vigil-pfsub-", dir="/var/tmp")
    for name in ("plain", "a-vkey-b"):
        with open(os.path.join(d, name), "w") as f:
            f.write("x")
    os.makedirs(os.path.join(d, "dir"))
    with open(os.path.join(d, "dir", "f"), "w") as f:
        f.write("x")
    os.symlink(os.path.join(d, "a-vkey-b"), os.path.join(d, "link"))
    try:
        v, nfilt = run_pinned(d, SUB_RULES, SUB_SCRIPT, d)
    finally:
        subprocess.run(["rm", "-rf", d])
    got = [a["output"] for a in alerts(v, "Key read")]
    v.close()
    key = os.path.join(d, "a-vkey-b")
    want = [(key, key), (key, os.path.join(d, "link")),
            (key, os.path.join(d, "dir", "..", "a-vkey-b")),
            (os.path.join(d, "p-vkey-"), os.path.join(d, "p-vkey-")),
            (os.path.join(d, "dir-vkey-", "f"), "f")]
    for name, raw in want:
        check(any("file=%s raw=%s)" % (name, raw) in o for o in got),
              "no alert for %s opened as %s: %s" % (name, raw, got))
    check(len(got) == len(want), "alerts: %s" % got)
    check(nfilt >= 550, "opens filtered: %d (want >= 550)" % nfilt)


def test_fchmod_names_its_file_with_opens_dropped():
    """The default rules, the prefilter on: the open of a file is dropped
    in the kernel, and an fchmod that sets its setuid bit still names it
    (fchmod carries its file's path from the kernel, VG_SC_FDFILE; before,
    the rule printed fd.name from the fd table and kept every open)."""
    d = tempfile.mkdtemp(prefix="vigil-pffchmod-")
    target = os.path.join(d, "planted")
    with open(target, "w") as f:
        f.write("#!/bin/sh\n")
    cfg = os.path.join(d, "vigil.yaml")
    with open(cfg, "w") as f:
        f.write("metrics:\n  listen: 127.0.0.1:0\nrules_dirs: []\ncapture:\n  prefilter: on\n")
    v = Vigil(["run", "-c", cfg])
    try:
        port = v.metrics_port()
        o0 = filtered(port, "openat")
        r = subprocess.run(["python3", "-c", "import os,sys\nfd=os.open(sys.argv[1], os.O_RDONLY)\n"
                            "os.fchmod(fd, 0o4755)\nos.close(fd)", target],
                           capture_output=True, text=True, timeout=30)
        check(r.returncode == 0, "fchmod: %s" % r.stderr)
        time.sleep(1)
        o1 = filtered(port, "openat")
    finally:
        v.stop()
    got = [a["output"] for a in alerts(v, "Setuid or setgid bit set")]
    v.close()
    check(any("with fchmod (file=%s " % target in o for o in got),
          "no fchmod alert naming %s: %s" % (target, got))
    check(o1 > o0, "no open filtered in the kernel (%d -> %d)" % (o0, o1))


def busy_workload(d):
    """A few seconds of what a node does, with attacks among it: builds,
    package queries, a tree walk, pipelines, a shell in a container, and
    sensitive reads (direct, through a symlink, through /proc/self/root),
    a file written below /etc, a setuid bit set with fchmod."""
    def sh(cmd):
        subprocess.run(["sh", "-c", cmd], capture_output=True, timeout=120)
    for i in range(20):
        sh("gcc -O1 -c -o %s/o%d.o %s/tests/live/vgattack.c" % (d, i, SRC))
    sh("dpkg -l > /dev/null; dpkg -S /bin/ls > /dev/null; apt-cache policy dpkg > /dev/null")
    sh("find /usr/include -name '*.h' | xargs cat > /dev/null")
    sh("find /usr/lib -name '*.so*' | head -5000 | xargs stat > /dev/null 2>&1")
    sh("python3 -c 'import json, email, http.client, asyncio, unittest'")
    sh("ls -lR /etc > /dev/null 2>&1; cat /etc/hostname | wc -c; ps aux > /dev/null")
    c = Container()
    try:
        c.run(["sh", "-c", "cat /etc/passwd > /dev/null; ls -l / > /dev/null; id; "
                           "cat /etc/shadow 2>/dev/null; touch /tmp/x; rm /tmp/x"])
    finally:
        c.close()
    os.symlink("/etc/shadow", os.path.join(d, "innocent"))
    for p in ("/etc/shadow", os.path.join(d, "innocent"), "/proc/self/root/etc/shadow"):
        sh("cat %s > /dev/null" % p)
    planted = "/etc/vigil-busy-%d" % os.getpid()
    sh("echo x > %s; rm -f %s" % (planted, planted))
    target = os.path.join(d, "planted")
    with open(target, "w") as f:
        f.write("#!/bin/sh\n")
    sh("python3 -c \"import os; fd=os.open('%s', os.O_RDONLY); os.fchmod(fd, 0o4755); "
       "os.close(fd)\"" % target)


def test_busy_workload_same_alerts():
    """Four agents at once on one busy workload: the default rules and the
    official falco_rules.yaml, each with the prefilter off and on.  Each
    pair raises exactly the same alerts (the same events, the same
    outputs) on the workload, while the prefilter drops a good share of
    the events in the kernel; and the attacks are among the alerts."""
    falco = os.environ.get("VIGIL_FALCO_RULES", os.path.join(SRC, "..", "shared", "falco-rules"))
    d = tempfile.mkdtemp(prefix="vigil-pfbusy-")
    agents = {}
    try:
        for rules in ("default", "falco"):
            for pf in ("off", "on"):
                cfg = os.path.join(d, "%s-%s.yaml" % (rules, pf))
                with open(cfg, "w") as f:
                    f.write("metrics:\n  listen: 127.0.0.1:0\nrules_dirs: []\ncapture:\n"
                            "  prefilter: %s\n  ringbuf_bytes: 67108864\n" % pf)
                args = ["run", "-c", cfg]
                if rules == "falco":
                    args += ["-r", os.path.join(falco, "falco_rules.yaml")]
                agents[(rules, pf)] = Vigil(args)
        time.sleep(1)
        ports = {k: v.metrics_port() for k, v in agents.items()}
        s0 = {k: events_sent(p) for k, p in ports.items()}
        t0 = time.time()
        busy_workload(d)
        took = time.time() - t0
        time.sleep(2)
        sent = {k: events_sent(p) - s0[k] for k, p in ports.items()}
        filt = {k: sum(filtered(p, sc) for sc in ("openat", "open", "close"))
                for k, p in ports.items()}
    finally:
        for v in agents.values():
            v.stop()

    def workload_alerts(v):
        out = collections.Counter()
        for a in v.lines():
            o = a.get("output", "")
            # the other agents' own activity is not the workload's
            if VIGIL in o or "vigil run" in o or a.get("rule", "").startswith("vigil internal"):
                continue
            if a.get("time", "") < time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t0 - 1)):
                continue
            # each agent stamps the event with its own program's clock
            out[(a["rule"], re.sub(r"^\d\d:\d\d:\d\d\.\d+: ", "", o))] += 1
        return out
    got = {k: workload_alerts(v) for k, v in agents.items()}
    for v in agents.values():
        v.close()
    for rules in ("default", "falco"):
        print("    busy workload (%.1f s), %s rules: %d alerts; events sent %d with the "
              "prefilter off, %d on (%d filtered in the kernel)"
              % (took, rules, len(got[(rules, "on")]), sent[(rules, "off")],
                 sent[(rules, "on")], filt[(rules, "on")]))
    for rules in ("default", "falco"):
        off, on = got[(rules, "off")], got[(rules, "on")]
        check(off == on, "%s rules: alerts differ with the prefilter on: only off %s; only on %s"
              % (rules, sorted((off - on).items())[:3], sorted((on - off).items())[:3]))
        check(filt[(rules, "on")] > 1000, "%s rules: only %d events filtered in the kernel"
              % (rules, filt[(rules, "on")]))
    names = {r for r, _ in got[("default", "on")]}
    for want in ("Sensitive file read by an untrusted program", "Setuid or setgid bit set",
                 "File opened for writing below /etc"):
        check(want in names, "default rules: no '%s' in %s" % (want, sorted(names)))
    shadow = [o for r, o in got[("default", "on")]
              if r == "Sensitive file read by an untrusted program" and "/etc/shadow" in o]
    check(len(shadow) >= 3, "the three reads of /etc/shadow: %s" % shadow)


if __name__ == "__main__":
    main([test_dropped_opens_closes_are_dropped, test_thread_ids_are_not_fds,
          test_fd_closed_unseen_then_reused_by_a_socket,
          test_fds_the_state_knows_keep_their_closes,
          test_aliases_are_not_dropped, test_aliases_name_the_file_prefilter_off,
          test_fchmod_names_its_file_with_opens_dropped, test_file_cache_follows_renames,
          test_file_cache_follows_exchanges_and_moved_mounts, test_file_cache_past_a_grown_fd_table,
          test_cgroup_of_two_containers_leaves_the_list, test_kernel_predicates_per_namespace,
          test_substring_tests_in_the_kernel, test_busy_workload_same_alerts])
