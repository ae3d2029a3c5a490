"""daemon, exit_when_done (and --exit-when-done), essential: when tendd
exits by itself, with which status, and in which order it stops things."""
import os
import signal
import sys

sys.path.insert(0, os.path.dirname(__file__))
from harness import (Tend, check, eq, main, pid_alive, prog, progs,  # noqa
                     read_pid, wait_for)


def marker_loop(name, delay="0"):
    """A program that writes its pid, and on TERM appends NAME to
    'order' after DELAY seconds and exits 0."""
    return ("echo $$ > %s.pid; trap 'sleep %s; echo %s-term >> order; "
            "exit 0' TERM; while true; do sleep 0.05 & wait; done"
            % (name, delay, name))


def order(t):
    try:
        with open(t.path("order")) as f:
            return f.read().split()
    except FileNotFoundError:
        return []


def test_exit_when_done_all_good_stops_daemon_after():
    # The daemon program comes first in the file: order must not be the
    # file's.
    worker = ("while [ ! -e go ]; do sleep 0.05; done; "
              "echo worker-done >> order; exit 0")
    with Tend(progs(prog("helper", marker_loop("helper"), daemon=True,
                         restart="always", start_secs=0),
                    prog("worker", worker, restart="never", start_secs=0)),
              supervisor="exit_when_done = true;") as t:
        t.start()
        t.wait_state("worker", "running")
        t.wait_state("helper", "running")
        eq(t.status()["helper"]["daemon"], True)
        helper = read_pid(t.path("helper.pid"))
        open(t.path("go"), "w").close()
        eq(t.wait_exit(), 0, t.read_log())
        eq(order(t), ["worker-done", "helper-term"])
        check(not pid_alive(helper), "the daemon helper survived")
        t.stop()


def test_exit_when_done_flag_with_failing_worker():
    # --exit-when-done on the command line; the worker exits 3 and is not
    # restarted: tendd exits 3 after stopping the helper.
    with Tend(progs(prog("worker", "echo $$ > w.pid; sleep 0.3; exit 3",
                         restart="never", start_secs=0),
                    prog("helper", marker_loop("helper"), daemon=True,
                         start_secs=0))) as t:
        t.start("--exit-when-done")
        eq(t.wait_exit(), 3, t.read_log())
        eq(order(t), ["helper-term"])
        eq(t.stop(check_exit=False), 3)


def test_exit_when_done_first_failure_and_signals():
    # Two workers: the first to fail sets the status, even if a later one
    # fails differently; a signal death counts as 128+N.
    with Tend(progs(prog("ok", "sleep 0.2; exit 0", restart="never",
                         start_secs=0),
                    prog("killed", "while [ ! -e go ]; do sleep 0.05; "
                         "done; kill -KILL $$", restart="never",
                         start_secs=0),
                    prog("late", "while [ ! -e go2 ]; do sleep 0.05; "
                         "done; exit 4", restart="never", start_secs=0)),
              supervisor="exit_when_done = true;") as t:
        t.start()
        t.wait_state("ok", "exited")
        open(t.path("go"), "w").close()
        st = t.wait_state("killed", "exited", "failed")
        eq(st["last_exit"]["signal"], signal.SIGKILL)
        check(t.proc.poll() is None, "tendd exited with 'late' running")
        open(t.path("go2"), "w").close()
        eq(t.wait_exit(), 128 + signal.SIGKILL, t.read_log())
        t.stop(check_exit=False)


def test_exit_when_done_never_started_is_127():
    with Tend(prog("ghost", ["/nonexistent/ghost"], start_limit=1,
                   restart_delay="50ms"),
              supervisor="exit_when_done = true;") as t:
        # It may be gone before its socket could be tried.
        t.start(wait=False)
        eq(t.wait_exit(), 127, t.read_log())
        t.stop(check_exit=False)


def test_exit_when_done_operator_stop_is_success():
    with Tend(progs(prog("w", ["sleep", "600"], start_secs=0),
                    prog("h", ["sleep", "600"], start_secs=0,
                         daemon=True)),
              supervisor="exit_when_done = true;") as t:
        t.start()
        t.wait_state("w", "running")
        t.wait_state("h", "running")
        # Stopping a daemon program does not end tendd.
        t.ctl("stop", "h", check=0)
        check(t.proc.poll() is None)
        t.ctl("start", "h", check=0)
        # Stopping the last non-daemon one does: status 0.
        t.ctl("stop", "w", check=0)
        eq(t.wait_exit(), 0, t.read_log())
        t.stop()


def test_exit_when_done_waits_for_restarts():
    # A worker that fails twice and then succeeds, with restart =
    # on-failure: tendd waits for it, and the final success counts.
    script = ("n=$(cat n 2>/dev/null || echo 0); echo $((n+1)) > n; "
              "[ $n -ge 2 ] && exit 0; exit 1")
    with Tend(prog("flaky", script, start_secs=0, restart_delay="50ms"),
              supervisor="exit_when_done = true;") as t:
        # It may be gone before its socket could be tried.
        t.start(wait=False)
        eq(t.wait_exit(), 0, t.read_log())
        eq(open(t.path("n")).read().strip(), "3")
        t.stop()


def test_shutdown_stops_non_daemon_before_daemon():
    # On SIGTERM, the non-daemon program (slow to stop) is stopped and
    # gone before the daemon program gets its TERM.
    with Tend(progs(prog("db", marker_loop("db"), daemon=True,
                         start_secs=0),
                    prog("app", marker_loop("app", "0.5"), start_secs=0),
                    prog("app2", marker_loop("app2", "0.2"), start_secs=0,
                         instances=2))) as t:
        t.start()
        for n in ("db", "app", "app2:0", "app2:1"):
            t.wait_state(n, "running")
        t.proc.send_signal(signal.SIGTERM)
        eq(t.wait_exit(), 0)
        o = order(t)
        eq(sorted(o), ["app-term", "app2-term", "app2-term", "db-term"])
        eq(o[-1], "db-term", "the daemon was stopped before the others "
           "were down: %r" % o)
        t.stop()


def test_shutdown_command_stops_daemon_last():
    with Tend(progs(prog("db", marker_loop("db"), daemon=True,
                         start_secs=0),
                    prog("app", marker_loop("app", "0.5"),
                         start_secs=0))) as t:
        t.start()
        t.wait_state("db", "running")
        t.wait_state("app", "running")
        t.ctl("shutdown", check=0)
        eq(t.wait_exit(), 0)
        eq(order(t), ["app-term", "db-term"])
        t.stop()


def test_essential_killed_stops_everything_137():
    with Tend(progs(prog("core", ["sleep", "600"], essential=True,
                         restart="never", start_secs=0),
                    prog("side", marker_loop("side"), start_secs=0),
                    prog("db", marker_loop("db"), daemon=True,
                         start_secs=0))) as t:
        t.start()
        core = t.wait_state("core", "running")["pid"]
        t.wait_state("side", "running")
        t.wait_state("db", "running")
        os.kill(core, signal.SIGKILL)
        eq(t.wait_exit(), 137, t.read_log())
        eq(order(t), ["side-term", "db-term"])
        t.stop(check_exit=False)


def test_essential_exits_with_its_code():
    # An essential program that exits 4 and is not restarted: tendd stops
    # the rest and exits 4; one that exits 0 (on-failure: not restarted):
    # tendd exits 0.
    for script, code in (("sleep 0.3; exit 4", 4), ("sleep 0.3; exit 0", 0)):
        with Tend(progs(prog("core", script, essential=True,
                             restart="on-failure" if code == 0 else "never",
                             start_secs=0),
                        prog("side", marker_loop("side"),
                             start_secs=0))) as t:
            # It may be gone before its socket could be tried.
            t.start(wait=False)
            eq(t.wait_exit(), code, t.read_log())
            eq(order(t), ["side-term"])
            t.stop(check_exit=False)


def test_essential_failed_after_start_limit():
    with Tend(progs(prog("core", "exit 2", essential=True, start_limit=1,
                         restart_delay="50ms", start_secs="1s"),
                    prog("side", ["sleep", "600"], start_secs=0))) as t:
        # It may be gone before its socket could be tried.
        t.start(wait=False)
        eq(t.wait_exit(), 2, t.read_log())
        t.stop(check_exit=False)


def test_essential_never_started_is_127():
    # exec fails: the instance is failed at once (stopped -> failed).
    with Tend(progs(prog("core", ["/nonexistent/core"], essential=True,
                         start_limit=1, restart_delay="50ms"),
                    prog("side", ["sleep", "600"], start_secs=0))) as t:
        # It may be gone before its socket could be tried.
        t.start(wait=False)
        eq(t.wait_exit(), 127, "status %r\n%s" % (
            t.status() if t.proc.poll() is None else None, t.read_log()))
        t.stop(check_exit=False)


def test_essential_stopped_by_operator_keeps_tendd():
    with Tend(progs(prog("core", ["sleep", "600"], essential=True,
                         start_secs=0),
                    prog("side", ["sleep", "600"], start_secs=0))) as t:
        t.start()
        t.wait_state("core", "running")
        t.ctl("stop", "core", check=0)
        check(t.proc.poll() is None, "tendctl stop of an essential "
              "program ended tendd")
        eq(t.status()["side"]["state"], "running")
        t.ctl("restart", "core", check=0)
        check(t.proc.poll() is None)
        eq(t.status()["core"]["state"], "running")
        t.stop()


def test_essential_restarted_is_not_the_end():
    # restart = "on-failure": a crash restarts it; tendd stays.
    with Tend(progs(prog("core", ["sleep", "600"], essential=True,
                         start_secs=0, restart_delay="50ms"))) as t:
        t.start()
        pid = t.wait_state("core", "running")["pid"]
        os.kill(pid, signal.SIGKILL)
        wait_for(lambda: t.status()["core"]["restarts"] == 1 and
                 t.status()["core"]["state"] == "running",
                 what="core restarted")
        check(t.proc.poll() is None, "tendd exited on a restarted crash")
        t.stop()


if __name__ == "__main__":
    main(globals())
