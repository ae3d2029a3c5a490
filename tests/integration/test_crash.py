"""state_dir: after tendd is SIGKILLed, a new tendd adopts what still runs
(no second copy), stops it, restarts it when it dies; forged or stale
state files are not trusted; one tendd per state_dir; operator decisions
survive restarts until the program's configuration changes."""
import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import (TENDD, Skip, Tend, check, eq, main,  # noqa
                     need_root, need_tracking, pid_alive, proc_stat, prog,
                     progs, read_pid, tracking, wait_for)


def crash(t):
    """SIGKILL tendd, as a crash would."""
    t.proc.kill()
    t.proc.wait()
    t.proc = None


def restart_clean(t):
    t.proc.send_signal(signal.SIGTERM)
    eq(t.wait_exit(), 0, t.read_log())
    t.proc = None


def human_state(t, name):
    out = t.ctl("status", name).stdout
    for line in out.splitlines()[1:]:
        if line.split()[:1] == [name]:
            return line
    raise AssertionError("%s not in %r" % (name, out))


def starttime(pid):
    with open("/proc/%d/stat" % pid) as f:
        st = f.read()
    return int(st[st.rindex(")") + 2:].split()[19])


def boot_id():
    with open("/proc/sys/kernel/random/boot_id") as f:
        return f.read().strip()


# The main process and a child of it (found again by following parent
# links, in either mode).
WITH_CHILD = "sleep 600 & echo $! > child-{instance}; wait"


def adoption(mode):
    with Tend(prog("p", WITH_CHILD, start_secs=0, instances=2),
              supervisor=tracking(mode)) as t:
        t.start()
        need_tracking(t, "p:0", mode)
        mains = [t.wait_state(n, "running")["pid"] for n in ("p:0", "p:1")]
        children = [read_pid(t.path("child-%d" % i)) for i in (0, 1)]
        before = sorted(t.procs())
        eq(before, sorted(mains + children))
        crash(t)
        for p in before:
            check(pid_alive(p), "%d died with tendd" % p)

        t.start()
        for i, n in enumerate(("p:0", "p:1")):
            st = t.wait_state(n, "running")
            eq(st["pid"], mains[i], "%s: not the same process" % n)
            eq(st["adopted"], True, repr(st))
            eq(st["descendants"], 1, repr(st))
            check("running (adopted)" in human_state(t, n),
                  human_state(t, n))
        eq(sorted(t.procs()), before, "a second copy was started")
        ps = t.ps("p:0")
        eq([(r["pid"], r["main"], r["adopted"]) for r in ps],
           [(mains[0], True, True), (children[0], False, False)], repr(ps))

        # stop reaches a process tendd did not start, and its child.
        t.ctl("stop", "p:0", check=0)
        st = t.status()["p:0"]
        eq(st["state"], "stopped")
        check(not pid_alive(mains[0]) and not pid_alive(children[0]),
              "stop left the adopted instance's processes")
        eq(sorted(t.procs()), sorted([mains[1], children[1]]))
        # Still no second copy of p:1, and still adopted.
        eq(t.status()["p:1"]["pid"], mains[1])
        t.stop()
        check(not pid_alive(mains[1]), "shutdown left an adopted process")


def test_adopt_after_crash_cgroup():
    adoption("cgroup")


def test_adopt_after_crash_tree():
    adoption("tree")


def adopted_dies(mode):
    with Tend(prog("p", ["sleep", "600"], start_secs=0,
                   restart_delay="50ms"),
              supervisor=tracking(mode)) as t:
        t.start()
        need_tracking(t, "p", mode)
        pid = t.wait_state("p", "running")["pid"]
        crash(t)
        t.start()
        st = t.wait_state("p", "running")
        eq((st["pid"], st["adopted"]), (pid, True))
        os.kill(pid, signal.SIGKILL)
        st = wait_for(lambda: (lambda s: s if s["state"] == "running" and
                               s["pid"] not in (None, pid) else None)(
            t.status()["p"]), what="p restarted after its adopted "
            "process died")
        eq(st["adopted"], False)
        eq(st["last_exit"].get("unknown"), True, repr(st["last_exit"]))
        check(isinstance(st["last_exit"].get("at"), (int, float)),
              repr(st["last_exit"]))
        check("code" not in st["last_exit"] and
              "signal" not in st["last_exit"], repr(st["last_exit"]))
        eq(st["restarts"], 1)
        line = human_state(t, "p")
        check("unknown" in line, line)
        eq(t.procs(), [st["pid"]])
        t.stop()


def test_adopted_process_dies_is_restarted_cgroup():
    adopted_dies("cgroup")


def test_adopted_process_dies_is_restarted_tree():
    adopted_dies("tree")


def test_adopted_unknown_exit_with_restart_never_stays_down():
    # restart = "never": the adopted process dies, its status is unknown,
    # and it is not restarted.
    with Tend(prog("p", ["sleep", "600"], start_secs=0,
                   restart="never")) as t:
        t.start()
        pid = t.wait_state("p", "running")["pid"]
        crash(t)
        t.start()
        eq(t.wait_state("p", "running")["pid"], pid)
        os.kill(pid, signal.SIGKILL)
        st = t.wait_state("p", "exited", "failed")
        eq(st["last_exit"].get("unknown"), True, repr(st))
        eq(t.procs(), [])
        t.stop()


def test_adopted_orphan_found_again_in_cgroup():
    # The instance's sleeper was re-parented to tendd; when tendd dies it
    # is re-parented again, but it is still in the instance's cgroup (the
    # same one, the path depends on state_dir), so the new tendd finds it.
    script = ("(sleep 600 & echo $! > sleeper.tmp; mv sleeper.tmp sleeper)"
              " & wait; while true; do sleep 0.1 & wait; done")
    with Tend(prog("df", script, start_secs=0)) as t:
        t.start()
        need_tracking(t, "df", "cgroup")
        cg = t.status()["df"]["cgroup"]
        main_pid = t.wait_state("df", "running")["pid"]
        sleeper = read_pid(t.path("sleeper"))
        wait_for(lambda: proc_stat(sleeper)["ppid"] == t.proc.pid,
                 what="the sleeper re-parented to tendd")
        crash(t)
        t.start()
        st = t.wait_state("df", "running")
        eq((st["pid"], st["adopted"], st["cgroup"]), (main_pid, True, cg))
        rows = [r for r in t.ps("df") if r["pid"] == sleeper]
        check(rows, "the sleeper is not listed under df after the crash: "
              "%r" % t.ps())
        eq((rows[0]["program"], rows[0]["name"]), ("df", "df"))
        check(st["descendants"] >= 1, repr(st))
        t.ctl("stop", "df", check=0)
        check(not pid_alive(sleeper), "stop left the sleeper")
        check(not pid_alive(main_pid))
        t.stop()
        # docs/protocol.md: adopted is true for a process tendd "took
        # over from a crashed tendd" (checked last: the rest matters more).
        eq(rows[0]["adopted"], True, "the sleeper taken over from the "
           "crashed tendd is not marked adopted: %r" % rows[0])


def test_adopt_forking_daemon_after_crash():
    with Tend("") as t:
        with open(t.path("launcher.sh"), "w") as f:
            f.write("sh -c 'echo $$ > %s; exec sleep 600' &\nexit 0\n" %
                    t.path("main.pid"))
        t.write_config(prog("fk", ["/bin/sh", t.path("launcher.sh")],
                            type="forking", pidfile="main.pid",
                            start_secs="200ms"))
        t.start()
        pid = t.wait_state("fk", "running")["pid"]
        eq(pid, read_pid(t.path("main.pid")))
        crash(t)
        t.start()
        st = t.wait_state("fk", "running")
        eq((st["pid"], st["adopted"]), (pid, True))
        eq(t.procs(), [pid], "the launcher ran again")
        t.ctl("stop", "fk", check=0)
        check(not pid_alive(pid))
        t.stop()


def write_state(t, entries):
    os.makedirs(t.path("state"), mode=0o700, exist_ok=True)
    with open(t.path("state", "state.json"), "w") as f:
        json.dump({"version": 1, "boot_id": boot_id(), "tendd_pid": 1,
                   "instances": entries}, f)


def foreign_process():
    """A sleep with no tag and no TEND_* variables, in its own session."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("TEND")}
    return subprocess.Popen(["sleep", "600"], env=env,
                            start_new_session=True)


def forged_state(mode, right_starttime):
    foreign = foreign_process()
    try:
        wait_for(lambda: open("/proc/%d/cmdline" % foreign.pid).read()
                 .startswith("sleep"), what="the foreign sleep to exec")
        st0 = starttime(foreign.pid)
        with Tend(prog("p", ["sleep", "600"], start_secs=0),
                  supervisor=tracking(mode)) as t:
            write_state(t, [{"program": "p", "index": 0, "pid": foreign.pid,
                             "starttime": st0 if right_starttime
                             else st0 + 12345,
                             "want": None,
                             "conf_hash": "0000000000000000"}])
            t.start()
            need_tracking(t, "p", mode)
            st = t.wait_state("p", "running")
            check(st["pid"] != foreign.pid, "tendd adopted a process it "
                  "did not start: %r" % st)
            eq(st["adopted"], False)
            eq(len(t.procs()), 1, "tendd did not start its own copy")
            check(all(r["pid"] != foreign.pid for r in t.ps()),
                  "the foreign process is listed by ps")
            t.ctl("stop", "p", check=0)
            t.stop()
            check(foreign.poll() is None and pid_alive(foreign.pid),
                  "tendd killed a process it did not start")
            eq(proc_stat(foreign.pid)["state"] in "SR", True)
    finally:
        foreign.kill()
        foreign.wait()


def test_state_with_wrong_starttime_is_ignored_cgroup():
    forged_state("cgroup", False)


def test_state_with_wrong_starttime_is_ignored_tree():
    forged_state("tree", False)


def test_state_naming_an_unrelated_process_is_ignored_cgroup():
    forged_state("cgroup", True)


def test_state_naming_an_unrelated_process_is_ignored_tree():
    forged_state("tree", True)


def test_corrupt_state_file_is_ignored():
    with Tend(prog("p", ["sleep", "600"], start_secs=0)) as t:
        os.makedirs(t.path("state"), mode=0o700)
        with open(t.path("state", "state.json"), "w") as f:
            f.write('{"version": 1, "instances": [{"program": ')
        t.start()
        t.wait_state("p", "running")
        eq(len(t.procs()), 1)
        t.stop()


def test_second_tendd_on_the_same_state_dir_refuses():
    with Tend(prog("p", ["sleep", "600"], start_secs=0)) as t:
        t.start()
        pid = t.wait_state("p", "running")["pid"]
        r = subprocess.run([TENDD, "-c", t.config, "-s",
                            t.path("other.sock")], capture_output=True,
                           text=True, timeout=30, env=t.env(), cwd=t.dir)
        eq(r.returncode, 1, r.stdout + r.stderr)
        check("is in use by another tendd" in r.stdout + r.stderr,
              r.stdout + r.stderr)
        check(not os.path.exists(t.path("other.sock")),
              "the refused tendd left its socket")
        eq(t.procs(), [pid], "the refused tendd started programs")
        eq(t.status()["p"]["pid"], pid)
        t.stop()


def saved(t, name):
    with open(t.path("state", "state.json")) as f:
        for r in json.load(f)["instances"]:
            if r["program"] == name:
                return r
    return None


def test_state_file_follows_start_and_stop():
    # A new process is in the file with its start time (known from the
    # clock at the spawn, or read from /proc); the operator's stop is
    # there when the command returns; the ended PID leaves soon after.
    with Tend(prog("p", ["sleep", "600"], start_secs=0,
                   instances=20)) as t:
        t.start()
        pids = {}
        for i in range(20):
            pids[i] = t.wait_state("p:%d" % i, "running")["pid"]

        def all_saved():
            with open(t.path("state", "state.json")) as f:
                rs = {r["index"]: r for r in json.load(f)["instances"]}
            return all(i in rs and rs[i]["pid"] == pids[i]
                       for i in pids) and rs
        rs = wait_for(all_saved, what="every PID in state.json")
        for i, pid in pids.items():
            eq(rs[i]["starttime"], starttime(pid), "p:%d" % i)
        t.ctl("stop", "p", check=0)
        with open(t.path("state", "state.json")) as f:
            rs = {r["index"]: r for r in json.load(f)["instances"]}
        eq(sorted(r["want"] for r in rs.values()), ["down"] * 20)

        def all_gone():
            with open(t.path("state", "state.json")) as f:
                return all(r["pid"] is None
                           for r in json.load(f)["instances"])
        wait_for(all_gone, what="the ended PIDs to leave state.json")
        t.stop()


# Operator decisions.

def test_operator_stop_survives_crash_and_clean_restart():
    with Tend(prog("p", ["sleep", "600"], start_secs=0)) as t:
        t.start()
        t.wait_state("p", "running")
        eq(t.status()["p"]["operator"], False)
        t.ctl("stop", "p", check=0)
        eq(t.status()["p"]["operator"], True)
        check("(operator)" in human_state(t, "p"), human_state(t, "p"))
        for how in (crash, restart_clean):
            how(t)
            t.start()
            st = t.status()["p"]
            eq((st["state"], st["want"], st["operator"]),
               ("stopped", "down", True), "after %s" % how.__name__)
            check("stopped (operator)" in human_state(t, "p"),
                  human_state(t, "p"))
            eq(t.procs(), [], "p was started again after %s" %
               how.__name__)
        # Starting it again matches autostart: no longer the operator's.
        t.ctl("start", "p", check=0)
        eq(t.status()["p"]["operator"], False)
        restart_clean(t)
        t.start()
        t.wait_state("p", "running")
        t.stop()


def test_operator_start_of_autostart_false_survives():
    with Tend(progs(prog("q", ["sleep", "600"], start_secs=0,
                         autostart=False))) as t:
        t.start()
        eq(t.status()["q"]["state"], "stopped")
        eq(t.status()["q"]["operator"], False)
        t.ctl("start", "q", check=0)
        eq(t.status()["q"]["operator"], True)
        restart_clean(t)
        t.start()
        st = t.wait_state("q", "running")
        eq((st["operator"], st["adopted"]), (True, False))
        check("running (operator)" in human_state(t, "q"),
              human_state(t, "q"))
        pid = st["pid"]
        crash(t)
        t.start()
        st = t.wait_state("q", "running")
        eq((st["pid"], st["operator"], st["adopted"]), (pid, True, True))
        check("running (adopted, operator)" in human_state(t, "q"),
              human_state(t, "q"))
        eq(t.procs(), [pid])
        t.stop()


def test_config_change_drops_operator_decision():
    def conf(env):
        return progs(prog("p", ["sleep", "600"], start_secs=0,
                          environment={"V": env}),
                     prog("q", ["sleep", "600"], start_secs=0,
                          autostart=False, environment={"V": env}),
                     prog("r", ["sleep", "600"], start_secs=0,
                          environment={"V": "same"}))
    with Tend(conf("1")) as t:
        t.start()
        t.wait_state("p", "running")
        t.ctl("stop", "p", "r", check=0)
        t.ctl("start", "q", check=0)
        restart_clean(t)
        t.write_config(conf("2"))
        t.start()
        # p and q changed: their decisions are gone. r did not: still
        # stopped by the operator.
        st = t.wait_state("p", "running")
        eq(st["operator"], False)
        st = t.status()["q"]
        eq((st["state"], st["operator"]), ("stopped", False))
        st = t.status()["r"]
        eq((st["state"], st["operator"]), ("stopped", True))
        t.stop()


def test_reload_change_drops_operator_decision():
    with Tend(prog("p", ["sleep", "600"], start_secs=0)) as t:
        t.start()
        t.wait_state("p", "running")
        t.ctl("stop", "p", check=0)
        t.write_config(prog("p", ["sleep", "601"], start_secs=0))
        t.ctl("reload", check=0)
        # Back to what its config says: autostart, so it runs.
        st = t.wait_state("p", "running")
        eq(st["operator"], False)
        # Also for a change that restarts nothing.
        t.ctl("stop", "p", check=0)
        t.write_config(prog("p", ["sleep", "601"], start_secs=0,
                            stop_timeout="5s"))
        check("p: updated" in t.ctl("reload", check=0).stdout)
        st = t.wait_state("p", "running")
        eq(st["operator"], False)
        crash(t)
        t.start()
        st = t.wait_state("p", "running")
        eq(st["operator"], False)
        t.stop()



def test_adopted_process_ignoring_term_is_killed_after_stop_timeout():
    script = "trap '' TERM; while true; do sleep 0.1; done"
    with Tend(prog("ig", script, start_secs=0, stop_timeout="1s")) as t:
        t.start()
        pid = t.wait_state("ig", "running")["pid"]
        crash(t)
        t.start()
        eq(t.wait_state("ig", "running")["pid"], pid)
        t.ctl("stop", "ig", check=0)
        st = t.status()["ig"]
        eq(st["state"], "stopped")
        check(not pid_alive(pid), "the adopted process survived stop")
        eq(st["last_exit"].get("unknown"), True, repr(st["last_exit"]))
        eq(t.procs(), [])
        t.stop()


def test_state_from_another_boot_is_ignored():
    foreign = foreign_process()
    try:
        wait_for(lambda: open("/proc/%d/cmdline" % foreign.pid).read()
                 .startswith("sleep"), what="the foreign sleep to exec")
        with Tend(prog("p", ["sleep", "600"], start_secs=0)) as t:
            os.makedirs(t.path("state"), mode=0o700)
            with open(t.path("state", "state.json"), "w") as f:
                json.dump({"version": 1, "boot_id":
                           "00000000-0000-0000-0000-000000000000",
                           "tendd_pid": 1, "instances": [
                               {"program": "p", "index": 0,
                                "pid": foreign.pid,
                                "starttime": starttime(foreign.pid),
                                "want": None,
                                "conf_hash": "0000000000000000"}]}, f)
            t.start()
            st = t.wait_state("p", "running")
            check(st["pid"] != foreign.pid and not st["adopted"], repr(st))
            t.stop()
            check(foreign.poll() is None, "the foreign process was killed")
    finally:
        foreign.kill()
        foreign.wait()



# No second copy after a crash at any moment of a restart or of a forking
# program's start. Each round SIGKILLs tendd a little after an operation
# began, starts a new one and waits until exactly one generation of the
# program runs: a duplicate never converges, and the wait fails.

def one_generation(t, name, what):
    """Wait until name runs and its process is the only one of the test's
    (a forking program's launcher gone too); return the PID."""
    def ok():
        st = t.status()[name]
        return (st["pid"] if st["state"] == "running" and
                t.procs() == [st["pid"]] else None)
    return wait_for(ok, what="one generation of %s after %s (processes: "
                    "%r)" % (name, what, t.procs()))


def crash_rounds(t, name, rounds, latest, seed):
    """Restart name, SIGKILL tendd at a random moment up to latest
    seconds into it (not a wait: the moment of the crash is the test's
    variable), start a new tendd, and check one generation runs."""
    import random
    rnd = random.Random(seed)
    one_generation(t, name, "the first start")
    for i in range(rounds):
        t.ctl("restart", "--no-wait", name, check=0)
        time.sleep(rnd.uniform(0, latest))
        crash(t)
        t.start()
        one_generation(t, name, "a crash in round %d" % i)


def crash_during_restart(mode):
    with Tend(prog("p", ["sleep", "600"], start_secs=0),
              supervisor=tracking(mode)) as t:
        t.start()
        need_tracking(t, "p", mode)
        # Before the spawn record, 5 to 8 rounds in 40 ended with two
        # copies in the release build.
        crash_rounds(t, "p", 30, 0.03, 1515)
        t.stop()


def test_no_duplicate_after_crash_during_restart_cgroup():
    crash_during_restart("cgroup")


def test_no_duplicate_after_crash_during_restart_tree():
    crash_during_restart("tree")


# The launcher takes a while, forks the daemon into a session of its own
# and writes its pidfile; the crash comes at any point of that.
SLOW_LAUNCHER = """sleep 0.$(( $$ % 3 ))
setsid sleep 600 < /dev/null > /dev/null 2>&1 &
echo $! > {dir}/main.pid
sleep 0.$(( $$ % 2 ))
exit 0
"""


def crash_during_launcher(mode):
    with Tend("", supervisor=tracking(mode)) as t:
        with open(t.path("launcher.sh"), "w") as f:
            f.write(SLOW_LAUNCHER.format(dir=t.dir))
        t.write_config(prog("fk", ["/bin/sh", t.path("launcher.sh")],
                            type="forking", pidfile="main.pid",
                            start_secs=0), supervisor=tracking(mode))
        t.start()
        need_tracking(t, "fk", mode)
        crash_rounds(t, "fk", 20, 1.2, 1516)
        t.stop()


def test_no_duplicate_after_crash_during_launcher_cgroup():
    crash_during_launcher("cgroup")


def test_no_duplicate_after_crash_during_launcher_tree():
    crash_during_launcher("tree")


def proc_age(pid):
    """Seconds since pid started, from /proc."""
    hz = os.sysconf("SC_CLK_TCK")
    with open("/proc/uptime") as f:
        up = float(f.read().split()[0])
    return up - starttime(pid) / hz


def test_adopted_uptime_is_the_process_age():
    with Tend(prog("p", ["sleep", "600"], start_secs=0)) as t:
        t.start()
        pid = t.wait_state("p", "running")["pid"]
        wait_for(lambda: proc_age(pid) > 1.5, what="p to be 1.5 s old")
        crash(t)
        t.start()
        st = t.wait_state("p", "running")
        age = proc_age(pid)
        eq((st["pid"], st["adopted"]), (pid, True))
        # Not the time since the adoption (a few tenths of a second).
        check(age - 0.5 <= st["uptime"] <= age + 0.5,
              "uptime %r, process age %r" % (st["uptime"], age))
        t.stop()


def steal_fd(pid, fd):
    """A copy of another process's descriptor (pidfd_getfd), as a child
    sharing tendd's descriptor table holds them until it execs."""
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    pidfd = os.pidfd_open(pid)
    try:
        n = libc.syscall(438, pidfd, fd, 0)
    finally:
        os.close(pidfd)
    if n < 0:
        e = ctypes.get_errno()
        raise OSError(e, "pidfd_getfd: " + os.strerror(e))
    return n


def fd_of(pid, want):
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            if os.readlink("/proc/%d/fd/%s" % (pid, fd)) == want:
                return int(fd)
        except OSError:
            pass
    raise AssertionError("no fd of %d is %s" % (pid, want))


def listening_inode(path):
    with open("/proc/net/unix") as f:
        for line in f.readlines()[1:]:
            a = line.split()
            # Bound under a temporary name, then renamed into place.
            if len(a) >= 8 and (a[7] == path or a[7].startswith(
                    path + ".")) and int(a[3], 16) & 0x10000:
                return a[6]
    raise AssertionError("nothing listens on " + path)


def test_restart_while_a_dead_tendds_descriptors_linger():
    """A SIGKILLed tendd's socket still takes connections, and its lock is
    still held, while a child it was cloning shares its descriptors: the
    next tendd waits for the lock and knows the socket for stale."""
    import threading
    need_root()
    with Tend(prog("p", ["sleep", "600"], start_secs=0)) as t:
        t.start()
        t.wait_state("p", "running")
        pid = t.proc.pid
        sock = steal_fd(pid, fd_of(pid, "socket:[%s]" %
                                   listening_inode(t.sock)))
        lock = steal_fd(pid, fd_of(pid, t.path("state", "tendd.lock")))
        crash(t)
        # The dead tendd's socket answers still.
        import socket as so
        c = so.socket(so.AF_UNIX, so.SOCK_STREAM)
        c.connect(t.sock)
        c.close()
        # The copies go away as a child's would at its exec.
        timer = threading.Timer(0.5, lambda: (os.close(lock),
                                              os.close(sock)))
        timer.start()
        try:
            t.start(wait=False)
            wait_for(lambda: "started (pid %d," % t.proc.pid in
                     t.read_log(), what="the new tendd to start")
        finally:
            timer.join()
        eq(t.wait_state("p", "running")["adopted"], True)
        t.stop()
        check("another tendd" not in t.read_log(), t.read_log())


def cgroup_dir(path):
    with open("/proc/self/mountinfo") as f:
        for a in (line.split() for line in f):
            if "-" in a and a[a.index("-") + 1] == "cgroup2" and \
                    a[3] == "/":
                return a[4] + path
    raise AssertionError("no cgroup2 mount")


def test_empty_cgroups_of_a_dead_tendd_are_removed():
    import re
    with Tend(progs(prog("a", ["sleep", "600"], start_secs=0),
                    prog("old", ["sleep", "600"], start_secs=0))) as t:
        t.start()
        need_tracking(t, "a", "cgroup")
        sub = cgroup_dir(re.search(r"cgroups under (/tend-[0-9a-f]+)\n",
                                   t.read_log()).group(1))
        pids = [t.wait_state(n, "running")["pid"] for n in ("a", "old")]
        crash(t)
        for p in pids:
            os.kill(p, signal.SIGKILL)
        wait_for(lambda: not any(pid_alive(p) for p in pids),
                 what="the programs to die")
        eq(sorted(os.listdir(sub)) and os.path.isdir(sub + "/old@0"), True)
        t.write_config(prog("a", ["sleep", "600"], start_secs=0))
        t.start()
        t.wait_state("a", "running")
        check(not os.path.exists(sub + "/old@0"),
              "the leaf of a program no longer configured is left")
        t.stop()
        check(not os.path.exists(sub), "the subtree is left after a stop")


def test_empty_cgroups_of_a_dead_run_tendd_are_removed():
    import re
    with Tend("") as t:
        log = open(t.path("run1.log"), "w")
        p = subprocess.Popen([TENDD, "--run", "--log-level", "info", "-s",
                              t.path("run.sock"), "--", "sleep", "600"],
                             stdout=log, stderr=log, env=t.env())
        def subtree():
            m = re.search(r"cgroups under (/tend-run-[0-9]+-[0-9]+)\n",
                          open(t.path("run1.log")).read())
            if m is None and "by process tree" in open(
                    t.path("run1.log")).read():
                raise Skip("cgroups unusable here")
            return m and m.group(1)
        path = cgroup_dir(wait_for(subtree, what="tendd --run's cgroup"))
        wait_for(lambda: t.procs(), what="the command to run")
        p.kill()
        p.wait()
        for c in t.procs():
            os.kill(c, signal.SIGKILL)
        wait_for(lambda: not t.procs(), what="the command to die")
        check(os.path.isdir(path), "no cgroup left to remove: " + path)
        r = subprocess.run([TENDD, "--run", "-s", t.path("run2.sock"),
                            "--", "true"], capture_output=True,
                           env=t.env(), timeout=60)
        eq(r.returncode, 0, r.stderr)
        check(not os.path.exists(path), "%s is still there" % path)
        log.close()


def test_operator_decision_that_cannot_be_saved_says_so():
    """state_dir full: a stop is carried out, but the reply says it was
    not saved (exit 1), status shows it, and a later save (once there is
    room) makes it survive a crash."""
    need_root()
    with Tend(prog("a", ["sleep", "600"], start_secs=0)) as t:
        d = t.path("state")
        os.makedirs(d, mode=0o700)
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k",
                            "tmpfs", d], capture_output=True, text=True)
        if r.returncode != 0:
            raise Skip("cannot mount a tmpfs: %s" % r.stderr.strip())
        try:
            t.start()
            t.wait_state("a", "running")
            fd = os.open(os.path.join(d, "fill"), os.O_WRONLY | os.O_CREAT)
            try:
                while os.write(fd, b"x" * 512) > 0:
                    pass
            except OSError:
                pass
            os.close(fd)
            r = t.ctl("stop", "a")
            eq(r.returncode, 1, r.stdout + r.stderr)
            check("a: stopped" in r.stdout, r.stdout)
            check("not saved" in r.stderr and "No space" in r.stderr,
                  r.stderr)
            st = t.status()["a"]
            eq((st["state"], st["operator"], st["unsaved"]),
               ("stopped", True, True))
            check("stopped (operator, unsaved)" in t.ctl("status").stdout,
                  t.ctl("status").stdout)
            r = t.ctl("--json", "start", "a")
            eq(r.returncode, 1)
            e = json.loads(r.stdout)["error"]
            eq(e["code"], "not_saved")
            eq([x["name"] for x in e["results"]], ["a"])
            check("cannot save state" in t.read_log(), t.read_log())
            t.ctl("stop", "a")
            os.unlink(os.path.join(d, "fill"))
            wait_for(lambda: not t.status()["a"]["unsaved"],
                     what="the decision saved once there is room")
            check("state saved again" in t.read_log())
            crash(t)
            t.start()
            st = t.status()["a"]
            eq((st["state"], st["operator"], st["unsaved"]),
               ("stopped", True, False))
            t.stop()
        finally:
            if t.proc is not None and t.proc.poll() is None:
                t.proc.kill()
                t.proc.wait()
            if subprocess.run(["umount", d]).returncode != 0:
                subprocess.run(["umount", "-l", d])


def test_no_record_at_all_kills_what_the_cgroup_holds():
    """In cgroup mode the cgroup is the truth: with state_dir emptied
    (a record lost, a tendd from before the spawn record), what the
    instance's cgroup holds is killed before it starts: one copy."""
    with Tend(prog("p", ["sleep", "600"], start_secs=0)) as t:
        t.start()
        need_tracking(t, "p", "cgroup")
        old = t.wait_state("p", "running")["pid"]
        crash(t)
        for f in ("state.json", "pids"):
            os.unlink(t.path("state", f))
        t.start()
        new = one_generation(t, "p", "a restart without records")
        check(new != old and not pid_alive(old),
              "the old copy was left running")
        check("killed 1 process left by its main process" in
              t.read_log(), t.read_log())
        t.stop()

if __name__ == "__main__":
    main(globals())
