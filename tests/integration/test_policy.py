"""Restart policies, backoff timing, start_limit, reset, failed_retry."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import Tend, check, eq, main, prog, progs, wait_for  # noqa


def spawn_times(path):
    with open(path) as f:
        return [float(x) for x in f.read().split()]


def test_backoff_doubles():
    # Each start appends a monotonic-ish timestamp, then fails at once.
    with Tend("") as t:
        stamp = os.path.join(t.dir, "starts")
        t.write_config(prog(
            "crash", ["/bin/sh", "-c",
                      'date +%%s.%%N >> %s; exit 1' % stamp],
            restart_delay="200ms", restart_delay_max="10s", start_limit=4,
            start_secs="1s"))
        t.start()
        st = t.wait_state("crash", "failed")
        times = spawn_times(stamp)
        eq(len(times), 5, "1 start + start_limit(4) retries")
        gaps = [b - a for a, b in zip(times, times[1:])]
        # Expected delays 0.2, 0.4, 0.8, 1.6: each at least the delay, and
        # each roughly double the one before.
        for gap, want in zip(gaps, (0.2, 0.4, 0.8, 1.6)):
            check(gap >= want * 0.9, "gap %.3f < %.3f (%r)" % (gap, want,
                                                                gaps))
        check(gaps[3] > gaps[0] * 4, "no exponential growth: %r" % gaps)
        eq(st["restarts"], 4)
        check("failed starts" in st["error"], st["error"])
        eq(st["last_exit"]["code"], 1)
        t.stop()


def test_start_limit_failed_then_reset_and_start():
    with Tend("") as t:
        flag = os.path.join(t.dir, "ok")
        t.write_config(prog(
            "gate", ["/bin/sh", "-c",
                     'test -e %s || exit 2; exec sleep 600' % flag],
            restart_delay="50ms", start_limit=1, start_secs="200ms"))
        t.start()
        t.wait_state("gate", "failed")
        r = t.ctl("status", "gate")
        eq(r.returncode, 3)
        check("failed" in r.stdout, r.stdout)
        # It stays failed: no more restarts.
        n = t.status()["gate"]["restarts"]
        open(flag, "w").close()
        time.sleep(0.5)  # a window in which a restart loop would show
        eq(t.status()["gate"]["restarts"], n)
        eq(t.status()["gate"]["state"], "failed")
        t.ctl("reset", "gate", check=0)
        t.wait_state("gate", "running")
        eq(t.status()["gate"]["error"], None)
        # And `start` also brings a failed instance back.
        os.unlink(flag)
        t.ctl("stop", "gate", check=0)
        t.ctl("start", "gate")
        t.wait_state("gate", "failed")
        open(flag, "w").close()
        t.ctl("start", "gate", check=0)
        eq(t.status()["gate"]["state"], "running")
        t.stop()


def test_on_failure_never_always():
    with Tend(progs(
            prog("ok0", "sleep 0.3; exit 0", restart="on-failure",
                 start_secs="100ms"),
            prog("bad1", "sleep 0.3; exit 1", restart="never",
                 start_secs="100ms"),
            prog("again", "sleep 0.3; exit 0", restart="always",
                 start_secs="100ms", restart_delay="50ms"),
            prog("codes", "sleep 0.3; exit 7", restart="on-failure",
                 success_exit_codes=[0, 7], start_secs="100ms"))) as t:
        t.start()
        st = t.wait_state("ok0", "exited")
        eq(st["last_exit"], {"code": 0, "at": st["last_exit"]["at"]})
        st = t.wait_state("bad1", "exited")
        eq(st["last_exit"]["code"], 1)
        st = t.wait_state("codes", "exited")
        eq(st["last_exit"]["code"], 7)
        wait_for(lambda: t.status()["again"]["restarts"] >= 2,
                 what="restart=always to restart a clean exit")
        eq(t.status()["ok0"]["restarts"], 0)
        t.stop()


def test_restart_on_crash_keeps_running():
    with Tend(prog("crashy", "sleep 0.4; kill -SEGV $$",
                   start_secs="100ms", restart_delay="50ms")) as t:
        t.start()
        wait_for(lambda: t.status()["crashy"]["restarts"] >= 3,
                 what="three restarts")
        st = t.status()["crashy"]
        check(st["state"] in ("starting", "running", "backoff"), st["state"])
        eq(st["last_exit"]["signal"], 11)
        t.stop()


def test_failed_retry():
    with Tend("") as t:
        flag = os.path.join(t.dir, "ok")
        t.write_config(prog(
            "retry", ["/bin/sh", "-c",
                      'test -e %s || exit 2; exec sleep 600' % flag],
            restart_delay="50ms", start_limit=1, start_secs="100ms",
            failed_retry="1s"))
        t.start()
        t.wait_state("retry", "failed")
        open(flag, "w").close()
        t.wait_state("retry", "running")
        t.stop()


def test_warn_level_logs_what_an_operator_must_see():
    """At --log-level warn: an instance that goes failed, and a reload
    refused, whoever asked for it."""
    with Tend(progs(prog("crashy", ["sh", "-c", "exit 3"],
                         restart_delay="10ms", start_limit=1),
                    prog("nope", ["/nonexistent/x"]))) as t:
        t.start("--log-level", "warn")
        t.wait_state("crashy", "failed")
        t.wait_state("nope", "failed")
        log = t.read_log()
        check(" info: " not in log, log)
        check("crashy: starting -> failed (2 failed starts in a row)" in
              log, log)
        check("nope: stopped -> failed (exec /nonexistent/x: No such file "
              "or directory)" in log, log)
        with open(t.config, "a") as f:
            f.write("oops = ;\n")
        eq(t.ctl("reload").returncode, 1)
        check("warn: reload refused: " in t.read_log(), t.read_log())
        t.stop()


if __name__ == "__main__":
    main(globals())
