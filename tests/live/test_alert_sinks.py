#!/usr/bin/env python3
"""Live tests of the network and program sinks under `vigil run`: real rules
firing on real opens, delivered to

  - tests/peers/httpmux (Go's net/http, strict ServeMux), which numbers the
    connections and requests: keep-alive (N alerts on ONE connection),
    "Connection: close" answers, chunked answers, JSON-array and NDJSON
    batches, the single-alert body Falcosidekick takes;
  - a real rsyslogd started here with its own configuration
    (tests/sinks/test_sinks.py's Rsyslog: TLS and its own unix socket);
  - a real program recording the lines it reads.

Each test writes its marker rule on opens of files in its own directory,
so the number of alerts is exact."""
import json
import os
import sys
import tempfile

from livelib import check, main
from test_outputs import RULE, GoMux, Setup, check_shape, metric, wait_for

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "sinks"))
from test_sinks import Rsyslog  # noqa: E402


def touch_paced(s, n, name="mark", step=500):
    """n marker opens in steps, so the kernel ring never overflows."""
    import time
    for i in range(0, n, step):
        for j in range(i, min(n, i + step)):
            with open(os.path.join(s.dir, "%s-%d" % (name, j)), "w"):
                pass
        time.sleep(0.02)


def http_setup(mux, extra=""):
    return Setup("outputs:\n  queue_length: 20000\n  stdout:\n    enabled: false\n"
                 "  http:\n    enabled: true\n    url: http://127.0.0.1:%d/\n"
                 "    retries: 3\n    backoff_ms: 10\n    timeout_ms: 5000\n%s"
                 % (mux.port, extra))


def settle(port, sink, n):
    wait_for("%d alerts sent by the %s sink" % (n, sink),
             lambda: metric(port, "vigil_alerts_sent_total", {"sink": sink}) +
             metric(port, "vigil_alerts_failed_total", {"sink": sink}) >= n, timeout=60)


def rule_records(mux):
    recs = mux.records()
    bad = [r for r in recs if "invalid" in r]
    check(not bad, "bodies the receiver refused: %s" % bad[:3])
    return [r for r in recs if r["alert"]["rule"] == RULE]


def exactly_once(recs, n):
    names = [os.path.basename(r["alert"]["output_fields"]["fd.name"]) for r in recs]
    check(len(names) == n, "the receiver got %d alerts, expected %d" % (len(names), n))
    check(len(set(names)) == n, "duplicates: %d distinct of %d" % (len(set(names)), n))


def test_http_keepalive_one_connection():
    """10,000 alerts, one request each (the body Falcosidekick takes: one
    JSON object, application/json), all on one TCP connection."""
    mux = GoMux()
    s = http_setup(mux)
    v = s.start()
    try:
        port = v.metrics_port()
        n = 10000
        touch_paced(s, n)
        settle(port, "http", n)
        check(metric(port, "vigil_alerts_failed_total", {"sink": "http"}) == 0, "failures")
        matched = metric(port, "vigil_rule_matches_total", {"rule": RULE, "priority": "Notice"})
        check(matched == n, "the rule matched %d, expected %d" % (matched, n))
        rc = v.stop()
        check(rc == 0, "exit %s" % rc)
        recs = rule_records(mux)
        exactly_once(recs, n)
        check(all(r["kind"] == "object" for r in recs), "a body was not one JSON object")
        check(len({r["req"] for r in recs}) == n, "not one request per alert")
        for r in recs[:20]:
            check_shape(r["alert"])
        conns = {r["conn"] for r in mux.records()}
        check(conns == {1}, "connections used: %d (%s...)" % (len(conns), sorted(conns)[:5]))
    finally:
        v.close()
        s.close()
        mux.close()


def test_http_connection_close_and_chunked():
    """The receiver answers with chunked bodies; every 7th answer says
    "Connection: close": the sink reads each answer whole, reconnects after
    each close and loses or repeats nothing.  Chunked alone: one connection
    (a misread chunked answer would break the next request)."""
    for flags, n, want_conns in ((["-chunked"], 300, 1),
                                 (["-chunked", "-close-every", "7"], 100, 15)):
        mux = GoMux(flags=flags)
        s = http_setup(mux)
        v = s.start()
        try:
            port = v.metrics_port()
            touch_paced(s, n, step=50)
            settle(port, "http", n)
            check(metric(port, "vigil_alerts_failed_total", {"sink": "http"}) == 0,
                  "%s: failures" % flags)
            rc = v.stop()
            check(rc == 0, "exit %s" % rc)
            recs = rule_records(mux)
            exactly_once(recs, n)
            per_conn = {}
            for r in mux.records():
                per_conn.setdefault(r["conn"], set()).add(r["req"])
            check(len(per_conn) == want_conns,
                  "%s: %d connections, expected %d" % (flags, len(per_conn), want_conns))
            if "-close-every" in flags:
                check(all(len(q) <= 7 for q in per_conn.values()),
                      "a request went on a connection the server had closed: %s" % per_conn)
        finally:
            v.close()
            s.close()
            mux.close()


def test_http_batches():
    """batch.mode json_array and ndjson: several alerts per request, at most
    batch.max_alerts, every alert exactly once, one connection."""
    for mode, kind in (("json_array", "array"), ("ndjson", "ndjson")):
        mux = GoMux(flags=["-batch"])
        s = http_setup(mux, "    batch:\n      mode: %s\n      max_alerts: 50\n" % mode)
        v = s.start()
        try:
            port = v.metrics_port()
            n = 2000
            touch_paced(s, n)
            settle(port, "http", n)
            check(metric(port, "vigil_alerts_failed_total", {"sink": "http"}) == 0,
                  "%s: failures" % mode)
            check(metric(port, "vigil_alerts_sent_total", {"sink": "http"}) == n,
                  "%s: sent" % mode)
            rc = v.stop()
            check(rc == 0, "exit %s" % rc)
            recs = rule_records(mux)
            exactly_once(recs, n)
            check(all(r["kind"] == kind for r in recs), "%s: bodies %s" %
                  (mode, {r["kind"] for r in recs}))
            per_req = {}
            for r in recs:
                per_req[r["req"]] = per_req.get(r["req"], 0) + 1
            check(max(per_req.values()) <= 50, "%s: a batch of %d" % (mode,
                                                                      max(per_req.values())))
            check(len(per_req) < n / 5, "%s: %d requests for %d alerts: no batching" %
                  (mode, len(per_req), n))
            check({r["conn"] for r in mux.records()} == {1}, "%s: more than one connection"
                  % mode)
        finally:
            v.close()
            s.close()
            mux.close()


SYSLOG_RULE = 'Test syslog "marker" ]\\'


def test_syslog_sink_under_vigil_run():
    """outputs.syslog to a real rsyslogd, over TLS (certificate checked
    against the test CA) and over a unix socket: every alert once, PRI =
    facility * 8 + severity (Notice 5), the structured data escaped, the
    message the alert's JSON (or its text)."""
    r = Rsyslog()
    try:
        r.start()
        for transport, address, fmt in (("tls", "127.0.0.1:%d" % r.tls, "json"),
                                        ("unix", r.sock, "text")):
            open(r.out, "w").close()
            s = Setup("outputs:\n  stdout:\n    enabled: false\n  syslog:\n"
                      "    enabled: true\n    transport: %s\n    address: %s\n"
                      "    ca_file: %s/ca.pem\n    facility: local5\n    app_name: vigil-live\n"
                      "    format: %s\n" % (transport, address, r.dir, fmt))
            with open(s.rules, "w") as f:
                f.write("""
- rule: '%s'
  desc: a marker file in the test's directory is opened
  condition: evt.type in (open, openat, openat2) and fd.name startswith %s/mark
  output: marker opened (file=%%fd.name proc=%%proc.name)
  priority: NOTICE
""" % (SYSLOG_RULE.replace("'", "''"), s.dir))
            v = s.start()
            try:
                port = v.metrics_port()
                n = 200
                touch_paced(s, n, step=50)
                settle(port, "syslog", n)
                check(metric(port, "vigil_alerts_failed_total", {"sink": "syslog"}) == 0,
                      "%s: failures" % transport)
                rc = v.stop()
                check(rc == 0, "exit %s" % rc)
                lines = r.lines(n)
                check(len(lines) == n, "%s: rsyslog got %d of %d" % (transport, len(lines), n))
                names = set()
                for f in lines:
                    check(len(f) == 7, "fields %r" % f)
                    pri, ts, host, app, msgid, sd, msg = f
                    check(pri == str(21 * 8 + 5), "%s: PRI %s, local5.notice is 173" %
                          (transport, pri))
                    check(app == "vigil-live" and msgid == "alert" and host, repr(f))
                    check(sd == '[vigil@32473 rule="Test syslog \\"marker\\" \\]\\\\" '
                          'priority="Notice" source="syscall"]', "%s: SD %s" % (transport, sd))
                    if fmt == "json":
                        a = json.loads(msg)
                        check_shape(a)
                        check(a["rule"] == SYSLOG_RULE and a["priority"] == "Notice", msg)
                        names.add(os.path.basename(a["output_fields"]["fd.name"]))
                    else:
                        check(msg.split(" ", 1)[1].startswith("Notice marker opened (file="),
                              "text %s" % msg)
                        names.add(msg.split("file=")[1].split(" ")[0])
                check(len(names) == n, "%s: %d distinct alerts" % (transport, len(names)))
            finally:
                v.close()
                s.close()
    finally:
        r.close()


RECORDER = r"""
import sys
with open(sys.argv[1], "a") as out:
    for line in sys.stdin:
        out.write(line)
        out.flush()
"""


def test_program_sink_under_vigil_run():
    """outputs.program: a real program (argv list, no shell) reads one JSON
    alert per line; every alert once, whole, valid JSON."""
    d = tempfile.mkdtemp(prefix="vigil-prog-")
    rec = os.path.join(d, "rec.py")
    with open(rec, "w") as f:
        f.write(RECORDER)
    out = os.path.join(d, "got lines")  # a space: one argv entry, no shell
    s = Setup("outputs:\n  stdout:\n    enabled: false\n  program:\n    enabled: true\n"
              "    command: [%s, %s, '%s']\n" % (sys.executable, rec, out))
    v = s.start()
    try:
        port = v.metrics_port()
        n = 500
        touch_paced(s, n, step=100)
        settle(port, "program", n)
        check(metric(port, "vigil_alerts_failed_total", {"sink": "program"}) == 0, "failures")
        rc = v.stop()
        check(rc == 0, "exit %s" % rc)
        with open(out) as f:
            alerts = [json.loads(x) for x in f.read().splitlines()]
        mine = [a for a in alerts if a["rule"] == RULE]
        for a in mine:
            check_shape(a)
        names = {os.path.basename(a["output_fields"]["fd.name"]) for a in mine}
        check(len(mine) == n and len(names) == n, "the program read %d (%d distinct) of %d" %
              (len(mine), len(names), n))
    finally:
        v.close()
        s.close()
        import shutil
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    tests = [test_http_keepalive_one_connection, test_http_connection_close_and_chunked,
             test_http_batches, test_syslog_sink_under_vigil_run,
             test_program_sink_under_vigil_run]
    only = [t for t in tests if t.__name__ in sys.argv[1:]]
    main(only or tests)
