"""Stopping: SIGKILL escalation, process groups, orphans and zombies,
graceful shutdown."""
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import (Tend, check, eq, main, pid_alive, proc_stat, prog,  # noqa
                     progs, procs_with_env, wait_for, zombies_of)


def test_stop_escalates_to_sigkill():
    script = "trap '' TERM; echo ready > ready; while true; do sleep 0.1; done"
    with Tend(prog("stubborn", script, stop_timeout="1s", start_secs=0)) as t:
        t.start()
        pid = t.wait_state("stubborn", "running")["pid"]
        wait_for(lambda: os.path.exists(os.path.join(t.dir, "ready")),
                 what="the trap to be set")
        t0 = time.monotonic()
        t.ctl("stop", "stubborn", check=0)
        took = time.monotonic() - t0
        check(took >= 0.9, "stopped too early (%.2fs)" % took)
        st = t.status()["stubborn"]
        eq(st["state"], "stopped")
        eq(st["last_exit"]["signal"], signal.SIGKILL)
        check(not pid_alive(pid))
        t.stop()


def test_stop_signal_config():
    script = ("trap 'echo int > got; exit 0' INT; trap '' TERM; "
              "while true; do sleep 0.05; done")
    with Tend(prog("intme", script, stop_signal="INT", stop_timeout="20s",
                   start_secs="200ms")) as t:
        t.start()
        t.wait_state("intme", "running")
        t0 = time.monotonic()
        t.ctl("stop", "intme", check=0)
        check(time.monotonic() - t0 < 10, "SIGINT was not used")
        check(os.path.exists(os.path.join(t.dir, "got")))
        eq(t.status()["intme"]["last_exit"]["code"], 0)
        t.stop()


def tree_script(tag):
    # A parent with two children and a grandchild, all in one process group.
    return ("sleep 600 & (sleep 600 & sleep 600) & "
            "echo $$ > %s; wait" % tag)


def test_kill_group_stops_whole_tree():
    with Tend("") as t:
        t.write_config(prog("tree", tree_script("pidfile"), start_secs=0))
        t.start()
        pid = t.wait_state("tree", "running")["pid"]
        wait_for(lambda: len(t.procs()) >= 4,
                 what="the tree to start")
        members = t.procs()
        for m in members:
            eq(proc_stat(m)["pgrp"], pid, "not in the instance's group")
            eq(proc_stat(m)["session"], pid, "not in the instance's session")
        t.ctl("stop", "tree", check=0)
        wait_for(lambda: not any(pid_alive(m) for m in members),
                 what="every process of the tree to die")
        t.stop()


def test_without_kill_group_only_main_is_signalled():
    # kill_group = false: the stop signal goes to the main process alone;
    # what outlives it is then killed (SIGKILL, no TERM first), so a stop
    # still leaves nothing behind.
    script = ("trap 'exit 0' TERM; "
              "sh -c 'trap \"touch termed; exit 0\" TERM; "
              "while true; do sleep 0.05; done' & echo $! > child; "
              "while true; do sleep 0.05; done")
    with Tend(prog("nogroup", script, kill_group=False, start_secs=0)) as t:
        t.start()
        t.wait_state("nogroup", "running")
        childfile = os.path.join(t.dir, "child")
        wait_for(lambda: os.path.getsize(childfile) > 0, what="child pid")
        child = int(open(childfile).read())
        t.ctl("stop", "nogroup", check=0)
        wait_for(lambda: not pid_alive(child), what="child killed")
        check(not os.path.exists(os.path.join(t.dir, "termed")),
              "kill_group=false sent the stop signal to the group")
        t.stop()


def test_orphaned_grandchild_is_reaped():
    # The instance forks a grandchild that outlives its parent: the
    # grandchild is re-parented to tendd (subreaper) and must be reaped
    # when it exits, leaving no zombie.
    script = ("(sleep 0.5; exit 3) & echo $! > orphan; exit 0")
    with Tend(prog("parent", script, restart="never", start_secs=0)) as t:
        t.start()
        t.wait_state("parent", "exited")
        orphan = int(open(os.path.join(t.dir, "orphan")).read())
        # While alive, the orphan's parent is tendd.
        try:
            ppid = proc_stat(orphan)["ppid"]
            eq(ppid, t.proc.pid, "orphan not adopted by tendd")
        except FileNotFoundError:
            pass  # already gone and reaped: also fine
        wait_for(lambda: not os.path.exists("/proc/%d" % orphan),
                 what="the orphan to be reaped (no zombie)")
        eq(zombies_of(t.proc.pid), [])
        t.stop()


def test_many_orphans_no_zombies():
    script = ("for i in 1 2 3 4 5 6 7 8 9 10; do (sleep 0.2 &) ; done; "
              "sleep 0.1; exit 0")
    with Tend(prog("spray", script, restart="always", start_secs=0,
                   restart_delay="100ms")) as t:
        t.start()
        wait_for(lambda: t.status()["spray"]["restarts"] >= 3,
                 what="a few rounds of orphans")
        t.ctl("stop", "spray", check=0)
        wait_for(lambda: not zombies_of(t.proc.pid),
                 what="no zombie children of tendd")
        t.stop()


def test_graceful_shutdown_on_sigterm():
    with Tend(progs(prog("a", tree_script("a.pid"), start_secs=0),
                    prog("b", "sleep 600", instances=3, start_secs=0),
                    prog("c", "trap '' TERM; while true; do sleep 0.1; done",
                         stop_timeout="1s", start_secs=0))) as t:
        t.start()
        for n in ("a", "b:0", "b:1", "b:2", "c"):
            t.wait_state(n, "running")
        wait_for(lambda: len(t.procs()) >= 8,
                 what="all processes up")
        members = t.procs()
        t.proc.send_signal(signal.SIGTERM)
        eq(t.proc.wait(timeout=30), 0)
        for m in members:
            check(not pid_alive(m), "pid %d survived shutdown" % m)
        t.stop()


def test_shutdown_timeout_kills_the_rest():
    with Tend(prog("c", "trap '' TERM; while true; do sleep 0.1; done",
                   stop_timeout="60s", start_secs=0),
              supervisor='shutdown_timeout = "1s";') as t:
        t.start()
        pid = t.wait_state("c", "running")["pid"]
        t0 = time.monotonic()
        t.proc.send_signal(signal.SIGTERM)
        eq(t.proc.wait(timeout=30), 0)
        check(time.monotonic() - t0 < 20)
        check(not pid_alive(pid))
        t.stop()


def test_second_sigint_kills_at_once():
    with Tend(prog("c", "trap '' TERM INT; while true; do sleep 0.1; done",
                   stop_timeout="60s", start_secs=0)) as t:
        t.start()
        pid = t.wait_state("c", "running")["pid"]
        t.proc.send_signal(signal.SIGINT)
        t.wait_state("c", "stopping")
        t0 = time.monotonic()
        t.proc.send_signal(signal.SIGINT)
        eq(t.proc.wait(timeout=30), 0)
        check(time.monotonic() - t0 < 20, "the second SIGINT did not kill")
        check(not pid_alive(pid))
        t.stop()


if __name__ == "__main__":
    main(globals())
