"""Descendant tracking: orphans a program leaves behind are adopted by
tendd, listed by `ps` under their program, counted in `descendants` and
killed by `stop`, with cgroups and with process-tree tracking."""
import os
import signal
import sys

sys.path.insert(0, os.path.dirname(__file__))
from harness import (Tend, check, eq, main, need_tracking, pid_alive,  # noqa
                     proc_stat, prog, progs, read_pid, tracking, wait_for,
                     zombies_of)


def no_zombies(t):
    """Zero zombie children of tendd (reaping is asynchronous: wait)."""
    wait_for(lambda: not zombies_of(t.proc.pid),
             what="no zombie children of tendd (%r)" % zombies_of(
                 t.proc.pid))


def cgroup_procs(path):
    """The pids in a cgroup v2 path, or None if no mount of it is found."""
    with open("/proc/self/mountinfo") as f:
        for line in f:
            a = line.split()
            if a[a.index("-") + 1] == "cgroup2" and a[3] == "/":
                try:
                    with open(a[4] + path + "/cgroup.procs") as p:
                        return sorted(int(x) for x in p.read().split())
                except FileNotFoundError:
                    return None
    return None


def row(ps, pid):
    for r in ps:
        if r["pid"] == pid:
            return r
    return None


# The main process double-forks a sleeper, writes its pid and exits 0:
# the sleeper outlives it, re-parented to tendd.
DOUBLE_FORK = ("(sleep 600 & echo $! > sleeper.tmp; "
               "mv sleeper.tmp sleeper) & wait; exit 0")


def double_fork_exits(mode):
    with Tend(prog("df", DOUBLE_FORK, start_secs=0),
              supervisor=tracking(mode)) as t:
        t.start()
        need_tracking(t, "df", mode)
        sleeper = read_pid(t.path("sleeper"))
        st = t.wait_state("df", "exited")
        if mode == "cgroup":
            check(st["cgroup"].startswith("/") and
                  st["cgroup"].endswith("/df@0"), repr(st["cgroup"]))
            check(cgroup_procs(st["cgroup"]) in (None, [sleeper]),
                  "cgroup.procs: %r" % cgroup_procs(st["cgroup"]))
        else:
            eq(st["cgroup"], None)
        eq(st["last_exit"]["code"], 0)
        eq(st["pid"], None)
        check(pid_alive(sleeper), "the sleeper died with its parent")
        eq(proc_stat(sleeper)["ppid"], t.proc.pid,
           "the sleeper was not re-parented to tendd")
        no_zombies(t)

        # Counted, and listed under its program, with a pattern or not.
        wait_for(lambda: t.status()["df"]["descendants"] == 1,
                 what="descendants = 1 (%r)" % t.status()["df"])
        for ps in (t.ps(), t.ps("df")):
            r = row(ps, sleeper)
            check(r is not None, "sleeper %d not in ps: %r" % (sleeper, ps))
            eq(r["program"], "df", repr(r))
            eq(r["instance"], 0, repr(r))
            eq(r["name"], "df", repr(r))
            eq(r["adopted"], True, repr(r))
            eq(r["main"], False, repr(r))
            eq(r["ppid"], t.proc.pid, repr(r))
            eq(r["depth"], 0, repr(r))
            check(r["command"].startswith("sleep 600"), repr(r))
        human = t.ctl("ps", "df", check=0).stdout
        check(str(sleeper) in human and "yes" in human, human)
        no_zombies(t)

        # stop kills what the exited program left behind.
        t.ctl("stop", "df", check=0)
        check(not pid_alive(sleeper), "stop left the sleeper running")
        st = t.status()["df"]
        eq(st["descendants"], 0)
        check(row(t.ps(), sleeper) is None, "a dead sleeper is still listed")
        no_zombies(t)
        eq(t.procs(), [])
        t.stop()


def test_double_fork_sleeper_adopted_and_stopped_cgroup():
    double_fork_exits("cgroup")


def test_double_fork_sleeper_adopted_and_stopped_tree():
    double_fork_exits("tree")


# The main process stays; its child double-forks a sleeper.
DOUBLE_FORK_RUNNING = ("sh -c '(sleep 600 & echo $! > sleeper.tmp; "
                       "mv sleeper.tmp sleeper) & wait'; "
                       "while true; do sleep 0.1; done")


def double_fork_running(mode):
    with Tend(prog("dfr", DOUBLE_FORK_RUNNING, start_secs=0),
              supervisor=tracking(mode)) as t:
        t.start()
        need_tracking(t, "dfr", mode)
        main_pid = t.wait_state("dfr", "running")["pid"]
        sleeper = read_pid(t.path("sleeper"))
        wait_for(lambda: proc_stat(sleeper)["ppid"] == t.proc.pid,
                 what="the sleeper re-parented to tendd")
        no_zombies(t)
        ps = t.ps("dfr")
        r = row(ps, sleeper)
        check(r is not None, "sleeper not listed: %r" % ps)
        eq((r["name"], r["adopted"], r["main"]), ("dfr", True, False))
        m = row(ps, main_pid)
        check(m is not None and m["main"] and m["depth"] == 0, repr(ps))
        eq(ps[0]["pid"], main_pid, "the main process comes first")
        # The main process's own children (the loop's sleep) hang under it.
        for p in ps:
            if p["ppid"] == main_pid:
                eq(p["depth"], 1, repr(p))
        check(t.status()["dfr"]["descendants"] >= 1)
        t.ctl("stop", "dfr", check=0)
        check(not pid_alive(sleeper), "stop left the adopted sleeper")
        check(not pid_alive(main_pid))
        no_zombies(t)
        eq(t.procs(), [])
        t.stop()


def test_double_fork_while_running_cgroup():
    double_fork_running("cgroup")


def test_double_fork_while_running_tree():
    double_fork_running("tree")


# A grandchild that calls setsid (leaving the instance's session and
# process group) while its parent exits at once.
SETSID = ("sh -c 'setsid sleep 600 & echo $! > gc.tmp; mv gc.tmp gc; "
          "exit 0'; while true; do sleep 0.1; done")


def setsid_grandchild(mode):
    with Tend(prog("ss", SETSID, start_secs=0),
              supervisor=tracking(mode)) as t:
        t.start()
        need_tracking(t, "ss", mode)
        main_pid = t.wait_state("ss", "running")["pid"]
        gc = read_pid(t.path("gc"))
        wait_for(lambda: proc_stat(gc)["session"] == gc,
                 what="the grandchild to call setsid")
        wait_for(lambda: proc_stat(gc)["ppid"] == t.proc.pid,
                 what="the grandchild re-parented to tendd")
        check(proc_stat(gc)["pgrp"] != main_pid)
        r = wait_for(lambda: row(t.ps("ss"), gc),
                     what="the setsid grandchild listed under ss")
        eq((r["program"], r["adopted"]), ("ss", True))
        t.ctl("stop", "ss", check=0)
        check(not pid_alive(gc), "stop left the setsid grandchild")
        check(not pid_alive(main_pid))
        no_zombies(t)
        eq(t.procs(), [])
        t.stop()


def test_setsid_grandchild_killed_by_stop_cgroup():
    setsid_grandchild("cgroup")


def test_setsid_grandchild_killed_by_stop_tree():
    setsid_grandchild("tree")


def kill_group_signal(mode, kill_group):
    # kill_group = true: stop_signal goes to every process of the instance,
    # the setsid grandchild included. kill_group = false: only the main
    # process gets it; once it has exited, the grandchild it left is
    # SIGKILLed (not TERMed). The main process takes 0.5 s to exit on
    # TERM, time for the grandchild's trap to run if it gets a TERM.
    script = ("sh -c 'setsid sh -c \"trap \\\"touch termed\\\" TERM; "
              "while true; do sleep 0.1 & wait; done\" & echo $! > gc.tmp; "
              "mv gc.tmp gc'; trap 'sleep 0.5; exit 0' TERM; "
              "while true; do sleep 0.1 & wait; done")
    with Tend(prog("kg", script, start_secs=0, kill_group=kill_group),
              supervisor=tracking(mode)) as t:
        t.start()
        need_tracking(t, "kg", mode)
        t.wait_state("kg", "running")
        gc = read_pid(t.path("gc"))
        wait_for(lambda: row(t.ps("kg"), gc), what="grandchild listed")
        t.ctl("stop", "kg", check=0)
        check(not pid_alive(gc), "stop left the grandchild")
        if kill_group:
            check(os.path.exists(t.path("termed")),
                  "kill_group = true did not send stop_signal to a "
                  "descendant outside the main process's group")
        else:
            check(not os.path.exists(t.path("termed")),
                  "kill_group = false sent stop_signal to a descendant")
        eq(t.status()["kg"]["last_exit"]["code"], 0)
        no_zombies(t)
        t.stop()


def test_kill_group_true_signals_every_process_cgroup():
    kill_group_signal("cgroup", True)


def test_kill_group_true_signals_every_process_tree():
    kill_group_signal("tree", True)


def test_kill_group_false_kills_leftovers_cgroup():
    kill_group_signal("cgroup", False)


def test_kill_group_false_kills_leftovers_tree():
    kill_group_signal("tree", False)


def restart_kills_leftovers(mode):
    # Each run leaves a sleeper and fails: the next run first SIGKILLs
    # what the previous one left, so there is never more than one.
    script = ("(sleep 600 & echo $! >> sleepers) & wait; "
              "echo $$ >> mains; exit 1")
    with Tend(prog("rk", script, start_secs=0, restart="on-failure",
                   restart_delay="200ms", start_limit=100),
              supervisor=tracking(mode)) as t:
        t.start()
        need_tracking(t, "rk", mode)

        def sleepers():
            try:
                with open(t.path("sleepers")) as f:
                    return [int(x) for x in f.read().split()]
            except FileNotFoundError:
                return []
        wait_for(lambda: len(sleepers()) >= 3, what="three runs")
        # A sleeper written means its run started, so every earlier
        # run's sleeper must be dead by now.
        seen = sleepers()
        for s in seen[:-1]:
            check(not pid_alive(s), "a previous run's sleeper survived "
                  "the restart: %d of %r" % (s, seen))
        t.ctl("stop", "rk", check=0)
        check(not any(pid_alive(s) for s in sleepers()))
        no_zombies(t)
        t.stop()


def test_restart_kills_previous_leftovers_cgroup():
    restart_kills_leftovers("cgroup")


def test_restart_kills_previous_leftovers_tree():
    restart_kills_leftovers("tree")


def unclaimed_orphan(mode):
    # A grandchild that leaves the session and drops the TEND_PROGRAM and
    # TEND_INSTANCE variables, whose parent exits at once. With cgroups it
    # is still the program's; in process-tree mode tendd may not be able
    # to credit it to anyone. Either way it is listed, only under its
    # program if it has one, and nothing of it survives tendd's shutdown.
    script = ("sh -c 'env -u TEND_PROGRAM -u TEND_INSTANCE setsid "
              "sleep 600 & echo $! > gc.tmp; mv gc.tmp gc'; "
              "while true; do sleep 0.1; done")
    with Tend(prog("uc", script, start_secs=0),
              supervisor=tracking(mode)) as t:
        t.start()
        need_tracking(t, "uc", mode)
        t.wait_state("uc", "running")
        gc = read_pid(t.path("gc"))
        wait_for(lambda: proc_stat(gc)["ppid"] == t.proc.pid,
                 what="the grandchild re-parented to tendd")
        r = wait_for(lambda: row(t.ps(), gc), what="orphan listed in ps")
        eq(r["adopted"], True, repr(r))
        if mode == "cgroup":
            eq(r["program"], "uc", "a process of the instance's cgroup "
               "not credited to it: %r" % r)
        if r["program"] is None:
            eq((r["instance"], r["name"]), (None, None), repr(r))
            check(row(t.ps("uc"), gc) is None,
                  "an unclaimed orphan listed with a pattern")
            human = t.ctl("ps", check=0).stdout
            line = [x for x in human.splitlines()
                    if x.split()[:1] == [str(gc)]]
            check(line and line[0].split()[2] == "-", human)
        else:
            eq(r["program"], "uc", repr(r))
        t.proc.send_signal(signal.SIGTERM)
        eq(t.wait_exit(), 0)
        check(not pid_alive(gc), "the orphan survived tendd's shutdown")
        t.stop()


def test_unclaimed_orphan_killed_at_shutdown_cgroup():
    unclaimed_orphan("cgroup")


def test_unclaimed_orphan_killed_at_shutdown_tree():
    unclaimed_orphan("tree")


def test_ps_patterns_and_json_shape():
    with Tend(progs(prog("a", "sleep 600 & wait", start_secs=0),
                    prog("b", ["sleep", "600"], start_secs=0,
                         instances=2))) as t:
        t.start()
        for n in ("a", "b:0", "b:1"):
            t.wait_state(n, "running")
        wait_for(lambda: t.status()["a"]["descendants"] == 1,
                 what="a's sleep")
        ps = t.ps()
        for p in ps:
            eq(sorted(p), sorted(["pid", "ppid", "program", "instance",
                                  "name", "state", "command", "adopted",
                                  "main", "depth", "role"]), repr(p))
            # What the reaper holds it as: these main processes are.
            eq(p["role"], "main" if p["main"] else None, repr(p))
        eq(sorted(p["name"] for p in t.ps("b")), ["b:0", "b:1"])
        eq([p["name"] for p in t.ps("b:1")], ["b:1"])
        eq(sorted(p["name"] for p in t.ps("a")), ["a", "a"])
        r = t.ctl("ps", "nosuch", check=4)
        check("nosuch" in r.stderr, r.stderr)
        b1 = t.status()["b:1"]
        eq(b1["descendants"], 0)
        eq([p["pid"] for p in t.ps("b:1")], [b1["pid"]])
        t.stop()



def test_ps_command_not_utf8():
    # argv is bytes: a process whose command line is not UTF-8 is listed
    # all the same, the bytes that are not written as \xNN.
    exe = "import os; os.execv('/bin/sleep', [b'sleep\\xff\\xc3', b'600'])"
    with Tend(prog("odd", [sys.executable, "-c", exe], start_secs=0)) as t:
        t.start()
        t.wait_state("odd", "running")
        wait_for(lambda: [p["command"] for p in t.ps("odd")] ==
                 ["sleep\\xff\\xc3 600"], what="the command in ps")
        r = t.ctl("ps", "odd", check=0)
        check("sleep\\xff\\xc3 600" in r.stdout, r.stdout)
        t.stop()


def command_kills_leftovers(mode, cmd):
    # The program exited and left a sleeper; `tendctl restart` (or start)
    # runs it again, and first SIGKILLs what the previous run left.
    script = "(sleep 600 & echo $! >> sleepers) & wait; exit 0"
    with Tend(prog("df", script, start_secs=0),
              supervisor=tracking(mode)) as t:
        t.start()
        need_tracking(t, "df", mode)
        t.wait_state("df", "exited")
        first = read_pid(t.path("sleepers"))
        wait_for(lambda: t.status()["df"]["descendants"] == 1,
                 what="the sleeper counted")
        t.ctl(cmd, "df", check=0)
        wait_for(lambda: len(open(t.path("sleepers")).read().split()) == 2,
                 what="the second run's sleeper")
        check(not pid_alive(first), "%s left the previous run's sleeper"
              % cmd)
        t.ctl("stop", "df", check=0)
        eq(t.procs(), [])
        t.stop()


def test_restart_command_kills_previous_leftovers_cgroup():
    command_kills_leftovers("cgroup", "restart")


def test_restart_command_kills_previous_leftovers_tree():
    command_kills_leftovers("tree", "restart")


def test_start_command_kills_previous_leftovers_cgroup():
    command_kills_leftovers("cgroup", "start")


def test_start_command_kills_previous_leftovers_tree():
    command_kills_leftovers("tree", "start")


def test_tree_earlier_sighting_keeps_attribution():
    # Process-tree mode: a grandchild drops TEND_PROGRAM/TEND_INSTANCE and
    # calls setsid; tendd sees it in the tree while its parent lives (ps),
    # then the parent exits: it is still credited to the program.
    script = ("sh -c 'env -u TEND_PROGRAM -u TEND_INSTANCE setsid "
              "sleep 600 & echo $! > gc.tmp; mv gc.tmp gc; "
              "while [ ! -e go ]; do sleep 0.05; done'; "
              "while true; do sleep 0.1 & wait; done")
    with Tend(prog("es", script, start_secs=0),
              supervisor=tracking("tree")) as t:
        t.start()
        need_tracking(t, "es", "tree")
        t.wait_state("es", "running")
        gc = read_pid(t.path("gc"))
        r = wait_for(lambda: row(t.ps("es"), gc),
                     what="the grandchild seen in es's tree")
        eq((r["adopted"], r["depth"] > 0), (False, True), repr(r))
        open(t.path("go"), "w").close()
        wait_for(lambda: proc_stat(gc)["ppid"] == t.proc.pid,
                 what="the grandchild re-parented to tendd")
        r = row(t.ps("es"), gc)
        check(r is not None, "the grandchild is no longer credited to es: "
              "%r" % row(t.ps(), gc))
        eq((r["program"], r["adopted"]), ("es", True))
        t.ctl("stop", "es", check=0)
        check(not pid_alive(gc), "stop left the grandchild")
        t.stop()


# sshd-like: the main process starts a session that leaves its process
# group (setsid) and records itself; with kill_mode = "process" restarts,
# crashes and stops of the main process leave the sessions alone.
SSHD_LIKE = ("setsid sh -c 'echo $$ >> sessions; exec sleep 600' "
             "< /dev/null > /dev/null 2>&1 & "
             "trap 'exit 0' TERM; while true; do sleep 0.1 & wait; done")


def sessions(t):
    try:
        with open(t.path("sessions")) as f:
            return [int(x) for x in f.read().split()]
    except FileNotFoundError:
        return []


def kill_mode_process(mode):
    with Tend(prog("sshd", SSHD_LIKE, start_secs=0, kill_mode="process",
                   restart="always", restart_delay="50ms"),
              supervisor=tracking(mode)) as t:
        t.start()
        need_tracking(t, "sshd", mode)
        main1 = t.wait_state("sshd", "running")["pid"]
        wait_for(lambda: len(sessions(t)) == 1, what="a session")
        # The operator restarts it: the session stays.
        t.ctl("restart", "sshd", check=0)
        main2 = t.status()["sshd"]["pid"]
        check(main2 != main1)
        wait_for(lambda: len(sessions(t)) == 2, what="a second session")
        check(all(pid_alive(p) for p in sessions(t)),
              "a restart killed a session")
        # It crashes: restarted, the sessions stay.
        os.kill(main2, signal.SIGKILL)
        wait_for(lambda: t.status()["sshd"]["pid"] not in (None, main2) and
                 t.status()["sshd"]["state"] == "running",
                 what="sshd restarted after a crash")
        wait_for(lambda: len(sessions(t)) == 3, what="a third session")
        check(all(pid_alive(p) for p in sessions(t)),
              "a crash of the main process killed a session")
        # Stopped: the main process only; the sessions are left.
        t.ctl("stop", "sshd", check=0)
        eq(t.status()["sshd"]["state"], "stopped")
        check(all(pid_alive(p) for p in sessions(t)),
              "a stop killed a session")
        # tendd's own shutdown leaves nothing (checked by stop()).
        t.stop()
        check(not any(pid_alive(p) for p in sessions(t)))


def test_kill_mode_process_leaves_sessions_cgroup():
    kill_mode_process("cgroup")


def test_kill_mode_process_leaves_sessions_tree():
    kill_mode_process("tree")


# tendctl signal: the same path as a stop. With kill_mode "group" every
# process of the instance gets it, one that left the process group too;
# with "main" the main process alone.
SIGNALLED = ("trap 'touch main-hup' HUP; "
             "setsid sh -c 'trap \"touch gc-hup\" HUP; echo $$ > gc.tmp; "
             "mv gc.tmp gc; while true; do sleep 0.1 & wait; done' & "
             "while true; do sleep 0.1 & wait; done")


def signal_path(mode, kill_mode):
    with Tend(prog("sg", SIGNALLED, start_secs=0, kill_mode=kill_mode),
              supervisor=tracking(mode)) as t:
        t.start()
        need_tracking(t, "sg", mode)
        t.wait_state("sg", "running")
        read_pid(t.path("gc"))
        wait_for(lambda: len(t.ps("sg")) >= 2, what="the grandchild listed")
        r = t.ctl("signal", "HUP", "sg")
        eq(r.returncode, 0, r.stderr)
        wait_for(lambda: os.path.exists(t.path("main-hup")),
                 what="the main process to get HUP")
        if kill_mode == "group":
            wait_for(lambda: os.path.exists(t.path("gc-hup")),
                     what="the descendant outside the group to get HUP")
        else:
            # It would have by the time the main process did.
            check(not os.path.exists(t.path("gc-hup")),
                  "kill_mode main signalled a descendant")
        t.stop()


def test_signal_reaches_every_process_cgroup():
    signal_path("cgroup", "group")


def test_signal_reaches_every_process_tree():
    signal_path("tree", "group")


def test_signal_main_only_with_kill_mode_main():
    signal_path("cgroup", "main")


if __name__ == "__main__":
    main(globals())
