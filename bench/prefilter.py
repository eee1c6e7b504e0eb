#!/usr/bin/env python3
"""What the kernel-side prefilter (capture.prefilter) saves a syscall-heavy
workload, measured in one run.

Loops (bench_load loop, one thread pinned to CPU 1, on a small file under
/tmp that no rule names, so every open is one no rule matches):
  orc   open + read + close
  oc    open + close
Set-ups, each traced run paired with an untraced run just before it:
  floor          an empty tp_btf/sys_exit program (bench_capture hold-floor)
  default/off    `vigil run` (pinned to CPU 0), the default rules, prefilter off
  default/on     the same, prefilter on
  falco/off      `vigil run -r falco_rules.yaml`, prefilter off
  falco/on       the same, prefilter on
Prints per set-up and loop the median overhead (1 - traced/untraced), its
ratio to the floor's, the events the agent's kernel side saw, sent and
filtered per second of loop, and the alerts (the loops raise none: 0 is
expected with the prefilter on and off).

    bench/prefilter.py [--build DIR] [--secs S] [--pairs N] [--falco-rules FILE]

Root only; holds /tmp/vigil-bench.lock like bench/load.py.
"""
import argparse
import fcntl
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LOCK = "/tmp/vigil-bench.lock"
PORT = 18937


def loop(build, kind, secs, path):
    out = subprocess.run([os.path.join(build, "bench_load"), "loop", kind, str(secs), path, "1"],
                         check=True, capture_output=True, text=True).stdout
    return float(out.strip())


def metrics():
    with urllib.request.urlopen(f"http://127.0.0.1:{PORT}/metrics", timeout=2) as r:
        text = r.read().decode()
    sent = filt = 0.0
    for line in text.splitlines():
        m = re.match(r'vigil_events_(filtered_)?total\{syscall="[^"]*"\} (\S+)', line)
        if m:
            if m.group(1):
                filt += float(m.group(2))
            else:
                sent += float(m.group(2))
    return sent, filt


class Agent:
    def __init__(self, build, tmp, rules, prefilter):
        cfg = os.path.join(tmp, f"vigil-{prefilter}.yaml")
        with open(cfg, "w") as f:
            f.write(f"capture:\n  prefilter: {prefilter}\n"
                    f"kubernetes:\n  enabled: \"false\"\n"
                    f"runtime:\n  enabled: false\n"
                    f"metrics:\n  listen: 127.0.0.1:{PORT}\n")
        self.out = open(os.path.join(tmp, f"alerts-{prefilter}.jsonl"), "w+")
        args = [os.path.join(build, "vigil"), "run", "-c", cfg]
        if rules:
            args += ["-r", rules]
        self.p = subprocess.Popen(args, stdout=self.out, stderr=subprocess.DEVNULL,
                                  preexec_fn=lambda: os.sched_setaffinity(0, {0}))
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{PORT}/readyz", timeout=1) as r:
                    if r.status == 200:
                        break
            except Exception:
                time.sleep(0.2)
        else:
            self.close()
            raise RuntimeError("vigil run did not become ready")

    def alerts(self):
        self.out.flush()
        with open(self.out.name) as f:
            return sum(1 for _ in f)

    def close(self):
        self.p.terminate()
        try:
            self.p.wait(10)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
        self.out.close()


class Floor:
    def __init__(self, build):
        self.p = subprocess.Popen([os.path.join(build, "bench_capture"), "hold-floor"],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        if self.p.stdout.readline().strip() != "ready":
            raise RuntimeError("floor program did not attach")

    def close(self):
        self.p.stdin.close()
        self.p.wait(10)


def measure(build, setup, secs, pairs, path, sample):
    """Median overhead per loop kind, with the traced runs' events."""
    res = {}
    for kind in ("orc", "oc"):
        ovh, rates = [], []
        for _ in range(pairs):
            base = None
            # the untraced run just before the traced one
            setup.pause()
            base = loop(build, kind, secs, path)
            setup.resume()
            s0 = sample()
            c0 = setup.cpu()
            t0 = time.time()
            traced = loop(build, kind, secs, path)
            dt = time.time() - t0
            s1 = sample()
            c1 = setup.cpu()
            ovh.append(1 - traced / base)
            rates.append(((s1[0] - s0[0]) / dt, (s1[1] - s0[1]) / dt, traced, (c1 - c0) / dt))
        rates.sort(key=lambda x: x[2])
        res[kind] = (statistics.median(ovh), rates[len(rates) // 2])
    return res


class Toggle:
    """A set-up that can be detached for the untraced half of a pair."""

    def __init__(self, start):
        self.start = start
        self.obj = start()

    def pause(self):
        if self.obj:
            self.obj.close()
            self.obj = None

    def resume(self):
        if not self.obj:
            self.obj = self.start()

    def close(self):
        self.pause()

    def cpu(self):
        """CPU seconds the agent used so far (0 for the floor)."""
        p = getattr(self.obj, "p", None)
        if not isinstance(self.obj, Agent) or not p:
            return 0.0
        with open(f"/proc/{p.pid}/stat") as f:
            v = f.read().rsplit(")", 1)[1].split()
        return (int(v[11]) + int(v[12])) / os.sysconf("SC_CLK_TCK")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--secs", type=float, default=2.0)
    ap.add_argument("--pairs", type=int, default=3)
    ap.add_argument("--falco-rules", default=os.path.join(
        os.environ.get("VIGIL_FALCO_RULES", os.path.join(ROOT, "..", "shared", "falco-rules")),
        "falco_rules.yaml"))
    a = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench/prefilter.py: root only")
    lock = open(LOCK, "w")
    fcntl.flock(lock, fcntl.LOCK_EX)
    tmp = tempfile.mkdtemp(prefix="vigil-pf-")
    path = os.path.join(tmp, "data")
    with open(path, "w") as f:
        f.write("x" * 64)
    rows = []
    try:
        fl = Toggle(lambda: Floor(a.build))
        r = measure(a.build, fl, a.secs, a.pairs, path, lambda: (0, 0))
        fl.close()
        rows.append(("floor", r, None))
        for rules_name, rules in (("default", None), ("falco", a.falco_rules)):
            for pf in ("off", "on"):
                holder = {}

                def start(rules=rules, pf=pf):
                    ag = Agent(a.build, tmp, rules, pf)
                    holder["agent"] = ag
                    return ag

                ag = Toggle(start)
                alerts = 0

                def sample():
                    return metrics()

                # the agent is restarted for each traced run: count its
                # alerts before each stop
                orig_pause = ag.pause

                def pause():
                    nonlocal alerts
                    if ag.obj:
                        alerts += ag.obj.alerts()
                    orig_pause()

                ag.pause = pause
                r = measure(a.build, ag, a.secs, a.pairs, path, sample)
                ag.pause()
                rows.append((f"{rules_name}/{pf}", r, alerts))
    finally:
        subprocess.run(["rm", "-rf", tmp])
    floor = dict((k, v[0]) for k, v in rows[0][1].items())
    print(f"\nprefilter benchmark: {a.pairs} pairs x {a.secs:.1f} s per loop, "
          f"median overhead (1 - traced/untraced ops/s)")
    print(f"{'set-up':<14} {'loop':<5} {'overhead':>9} {'/floor':>7} {'loop ops/s':>11} "
          f"{'sent/s':>10} {'filtered/s':>11} {'agent CPU':>9} {'alerts':>7}")
    for name, r, alerts in rows:
        for kind in ("orc", "oc"):
            o, (sent, filt, ops, cpu) = r[kind]
            ratio = o / floor[kind] if floor[kind] > 0 else float("nan")
            print(f"{name:<14} {kind:<5} {100 * o:8.1f}% {ratio:7.2f} {ops:11.0f} "
                  f"{sent:10.0f} {filt:11.0f} {100 * cpu:8.1f}% "
                  f"{'' if alerts is None else alerts:>7}")
    print("alerts: lines the agent printed while it ran (the loops raise none; other "
          "processes on a shared machine may)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
