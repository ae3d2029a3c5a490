"""type = "forking": a launcher that daemonizes, with and without pidfile;
failed starts (launcher exit code, no pidfile, launcher that hangs)."""
import os
import signal
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from harness import (Tend, check, eq, main, need_tracking, pid_alive,  # noqa
                     prog, read_pid, tracking, wait_for,
                     zombies_of)

# The daemon: writes its pid to PIDFILE after DELAY (so possibly after the
# launcher has exited), then runs until a file exit-PID appears, and exits
# with code 7.
DAEMON = r"""
sleep %(delay)s
echo $$ > "%(pidfile)s.tmp"
mv "%(pidfile)s.tmp" "%(pidfile)s"
echo $$ >> "%(dir)s/daemons"
while [ ! -e "%(dir)s/exit-$$" ]; do sleep 0.05; done
exit 7
"""

# The launcher: starts the daemon in the background and exits with CODE.
LAUNCHER = r"""
echo $$ >> "%(dir)s/launchers"
sh "%(dir)s/daemon.sh" > /dev/null 2>&1 < /dev/null &
exit %(code)s
"""


def write_scripts(t, pidfile="main.pid", delay="0", code=0):
    v = {"dir": t.dir, "pidfile": t.path(pidfile), "delay": delay,
         "code": code}
    with open(t.path("daemon.sh"), "w") as f:
        f.write(DAEMON % v)
    with open(t.path("launcher.sh"), "w") as f:
        f.write(LAUNCHER % v)
    return ["/bin/sh", t.path("launcher.sh")]


def pids_in(t, name):
    try:
        with open(t.path(name)) as f:
            return [int(x) for x in f.read().split()]
    except FileNotFoundError:
        return []


def forking_supervised(mode, delay, with_pidfile=True):
    with Tend("") as t:
        cmd = write_scripts(t, delay=delay)
        keys = dict(type="forking", start_secs="300ms",
                    restart_delay="100ms")
        if with_pidfile:
            keys["pidfile"] = "main.pid"
        t.write_config(prog("fk", cmd, **keys), tracking(mode))
        t.start()
        st = t.wait_state("fk", "running")
        need_tracking(t, "fk", mode)
        daemons = pids_in(t, "daemons")
        eq(len(daemons), 1, "daemons started: %r" % daemons)
        d1 = daemons[0]
        eq(st["pid"], d1, "status pid is not the daemon's")
        eq(st["ppid"], t.proc.pid, "the daemon is not re-parented to tendd")
        check(not pid_alive(pids_in(t, "launchers")[0]), "launcher alive")
        eq(zombies_of(t.proc.pid), [])
        ps = t.ps("fk")
        eq([p["pid"] for p in ps if p["main"]], [d1], repr(ps))

        # The real exit status of the daemon drives restart.
        open(t.path("exit-%d" % d1), "w").close()
        wait_for(lambda: len(pids_in(t, "daemons")) == 2,
                 what="a second daemon after the first exited 7")
        d2 = pids_in(t, "daemons")[1]
        st = wait_for(lambda: (lambda s: s if s["state"] == "running" and
                               s["pid"] == d2 else None)(t.status()["fk"]),
                      what="fk running with pid %d" % d2)
        eq(st["last_exit"]["code"], 7, repr(st["last_exit"]))
        eq(st["restarts"], 1)

        # Killed: signal 9, restarted again, with the new pid.
        os.kill(d2, signal.SIGKILL)
        wait_for(lambda: len(pids_in(t, "daemons")) == 3,
                 what="a third daemon after SIGKILL")
        d3 = pids_in(t, "daemons")[2]
        st = wait_for(lambda: (lambda s: s if s["state"] == "running" and
                               s["pid"] == d3 else None)(t.status()["fk"]),
                      what="fk running with pid %d" % d3)
        eq(st["last_exit"]["signal"], signal.SIGKILL, repr(st["last_exit"]))
        eq(st["restarts"], 2)
        check(not pid_alive(d1) and not pid_alive(d2))

        t.ctl("stop", "fk", check=0)
        st = t.status()["fk"]
        eq(st["state"], "stopped")
        check(not pid_alive(d3), "stop left the daemon")
        eq(st["last_exit"]["signal"], signal.SIGTERM)
        wait_for(lambda: not zombies_of(t.proc.pid), what="no zombies")
        t.stop()


def test_forking_pidfile_written_by_launcher_cgroup():
    forking_supervised("cgroup", "0")


def test_forking_pidfile_written_by_launcher_tree():
    forking_supervised("tree", "0")


def test_forking_pidfile_written_after_launcher_exits_cgroup():
    # The pidfile appears (and, at restarts, changes from a stale pid)
    # after the launcher has exited: tendd must re-read it.
    forking_supervised("cgroup", "0.5")


def test_forking_pidfile_written_after_launcher_exits_tree():
    forking_supervised("tree", "0.5")


def test_forking_without_pidfile_cgroup():
    forking_supervised("cgroup", "0", with_pidfile=False)


def test_forking_without_pidfile_tree():
    forking_supervised("tree", "0", with_pidfile=False)


def failed_start(t, error_part):
    st = t.wait_state("fk", "failed")
    check(st["error"] and error_part in st["error"],
          "error %r lacks %r" % (st["error"], error_part))
    eq(st["pid"], None)
    r = t.ctl("status", "fk", check=3)
    check(error_part in r.stdout, r.stdout)
    return st


def test_forking_launcher_exit_code_is_a_failed_start():
    with Tend("") as t:
        cmd = write_scripts(t, code=1)
        t.write_config(prog("fk", cmd, type="forking", pidfile="main.pid",
                            start_limit=1, restart_delay="100ms",
                            start_timeout="5s"))
        t.start()
        failed_start(t, "the launcher exited with code 1")
        # start_limit = 1: two attempts, then failed.
        eq(len(pids_in(t, "launchers")), 2, repr(pids_in(t, "launchers")))
        t.ctl("stop", "fk")
        wait_for(lambda: not t.procs(), what="no process left after stop")
        t.stop()


def test_forking_no_pidfile_is_a_failed_start():
    # The daemon never writes its pidfile (it writes another file).
    with Tend("") as t:
        cmd = write_scripts(t, pidfile="elsewhere.pid")
        t.write_config(prog("fk", cmd, type="forking", pidfile="main.pid",
                           start_limit=1, restart_delay="100ms",
                           start_timeout="1s"))
        t.start()
        failed_start(t, "no valid pidfile within start_timeout")
        daemons = pids_in(t, "daemons")
        eq(len(daemons), 2, repr(daemons))
        # The second attempt first killed what the first one left.
        check(not pid_alive(daemons[0]), "the first attempt's daemon "
              "survived the retry")
        t.ctl("stop", "fk")
        wait_for(lambda: not t.procs(), what="no process left after stop")
        t.stop()


def foreign_pid_refused(mode):
    # The pidfile names a live process that is not the instance's: tendd
    # must not take it (nor signal it).
    env = {k: v for k, v in os.environ.items() if not k.startswith("TEND")}
    foreign = subprocess.Popen(["sleep", "600"], start_new_session=True,
                               env=env)
    try:
        with Tend("", supervisor=tracking(mode)) as t:
            with open(t.path("launcher.sh"), "w") as f:
                f.write("sleep 600 &\necho %d > %s\nexit 0\n" % (
                    foreign.pid, t.path("main.pid")))
            t.write_config(prog("fk", ["/bin/sh", t.path("launcher.sh")],
                                type="forking", pidfile="main.pid",
                                start_limit=1, restart_delay="100ms",
                                start_timeout="1s"), tracking(mode))
            t.start()
            need_tracking(t, "fk", mode)

            def done():
                st = t.status()["fk"]
                check(st["pid"] != foreign.pid,
                      "tendd took a foreign pid from the pidfile: %r" % st)
                return st["state"] == "failed"
            wait_for(done, what="fk failed")
            st = failed_start(t, "no valid pidfile within start_timeout")
            t.ctl("stop", "fk")
            check(foreign.poll() is None and pid_alive(foreign.pid),
                  "the foreign process was killed")
            t.stop()
            check(foreign.poll() is None, "the foreign process was killed")
    finally:
        foreign.kill()
        foreign.wait()


def test_forking_pidfile_with_a_foreign_pid_is_refused_cgroup():
    foreign_pid_refused("cgroup")


def test_forking_pidfile_with_a_foreign_pid_is_refused_tree():
    foreign_pid_refused("tree")


def test_forking_launcher_that_never_exits_is_killed():
    with Tend("") as t:
        with open(t.path("launcher.sh"), "w") as f:
            f.write("echo $$ >> %s\nexec sleep 600\n" % t.path("launchers"))
        t.write_config(prog("fk", ["/bin/sh", t.path("launcher.sh")],
                            type="forking", pidfile="main.pid",
                            start_limit=1, restart_delay="100ms",
                            start_timeout="1s"))
        t.start()
        st = t.wait_state("fk", "failed")
        check(st["error"], "no error for a launcher that hangs: %r" % st)
        launchers = pids_in(t, "launchers")
        eq(len(launchers), 2, repr(launchers))
        for p in launchers:
            check(not pid_alive(p), "launcher %d was not killed" % p)
        wait_for(lambda: not zombies_of(t.proc.pid), what="no zombies")
        t.stop()


def test_forking_launcher_shown_in_ps_as_launcher():
    # The reaper holds a launcher as an owner of its own kind, and ps says
    # so; the main process, once known, is "main".
    with Tend("") as t:
        with open(t.path("launcher.sh"), "w") as f:
            f.write("echo $$ >> %s\nexec sleep 600\n" % t.path("launchers"))
        t.write_config(prog("fk", ["/bin/sh", t.path("launcher.sh")],
                            type="forking", start_timeout="60s"))
        t.start()
        t.wait_state("fk", "starting")
        wait_for(lambda: pids_in(t, "launchers"), what="the launcher")
        pid = pids_in(t, "launchers")[0]

        def launcher_row():
            return [p for p in t.ps("fk") if p["pid"] == pid]
        wait_for(launcher_row, what="the launcher in ps")
        row = launcher_row()[0]
        eq(row["role"], "launcher", repr(row))
        # The instance's process for now, as "main" says; "role" tells.
        eq(row["main"], True, repr(row))
        t.stop()


def test_forking_pidfile_needs_type_forking():
    with Tend(prog("x", ["sleep", "1"], pidfile="x.pid")) as t:
        r = subprocess.run([os.environ.get("TENDD", "tendd"), "-c",
                            t.config, "--check"], capture_output=True,
                           text=True)
        eq(r.returncode, 1, r.stdout + r.stderr)
        check('pidfile needs type = "forking"' in r.stdout + r.stderr,
              r.stdout + r.stderr)


# A daemon that upgrades itself in place (as nginx does on SIGUSR2): on
# "upgrade-PID" it starts a new copy, which writes the pidfile, and the
# old one exits 0 once the pidfile names the new copy.
UPGRADING = r"""
echo $$ > "%(pidfile)s.tmp"
mv "%(pidfile)s.tmp" "%(pidfile)s"
echo $$ >> "%(dir)s/daemons"
while [ ! -e "%(dir)s/upgrade-$$" ]; do sleep 0.05; done
sh "%(dir)s/daemon.sh" > /dev/null 2>&1 < /dev/null &
while [ "$(cat "%(pidfile)s")" = $$ ]; do sleep 0.05; done
exit 0
"""


def test_forking_follows_pidfile_change():
    with Tend("") as t:
        cmd = write_scripts(t)
        with open(t.path("daemon.sh"), "w") as f:
            f.write(UPGRADING % {"dir": t.dir, "pidfile": t.path("main.pid")})
        t.write_config(prog("fk", cmd, type="forking", pidfile="main.pid",
                            start_secs="300ms", restart="on-failure"))
        t.start()
        st = t.wait_state("fk", "running")
        d1 = pids_in(t, "daemons")[0]
        eq(st["pid"], d1)
        open(t.path("upgrade-%d" % d1), "w").close()
        wait_for(lambda: len(pids_in(t, "daemons")) == 2,
                 what="the upgraded daemon")
        d2 = pids_in(t, "daemons")[1]
        wait_for(lambda: not pid_alive(d1), what="the old daemon to exit")
        st = wait_for(lambda: (lambda s: s if s["pid"] == d2 else None)(
            t.status()["fk"]), what="status pid to follow the pidfile "
            "to %d (%r)" % (d2, t.status()["fk"]))
        eq(st["state"], "running")
        eq(len(pids_in(t, "launchers")), 1, "the launcher ran again")
        t.ctl("stop", "fk", check=0)
        check(not pid_alive(d2))
        t.stop()


def test_forking_stop_while_the_launcher_runs():
    with Tend("") as t:
        with open(t.path("launcher.sh"), "w") as f:
            f.write("echo $$ >> %s\nsleep 600 &\nsleep 600\n" %
                    t.path("launchers"))
        t.write_config(prog("fk", ["/bin/sh", t.path("launcher.sh")],
                            type="forking", pidfile="main.pid",
                            start_timeout="60s"))
        t.start()
        launcher = read_pid(t.path("launchers"))
        t.wait_state("fk", "starting")
        wait_for(lambda: len(t.procs()) == 3, what="launcher and sleeps")
        t.ctl("stop", "fk", check=0)
        eq(t.status()["fk"]["state"], "stopped")
        check(not pid_alive(launcher))
        eq(t.procs(), [], "stop during the start left processes")
        t.stop()



def test_forking_without_pidfile_needs_exactly_one_process():
    for launcher, why in (("exit 0", "left no process"),
                          ("sleep 600 & sleep 600 & exit 0", "left 2")):
        with Tend(prog("fk", launcher, type="forking", start_secs="300ms",
                       start_limit=1, restart_delay="50ms",
                       start_timeout="5s")) as t:
            t.start()
            failed_start(t, why)
            t.ctl("stop", "fk", check=0)
            eq(t.procs(), [])
            t.stop()


# An nginx-like daemon: the launcher forks it into a session of its own
# with an empty environment (nginx rewrites its own), writes its pidfile
# and exits. By process tree nothing but the pidfile says whose it is.
NGINX_LIKE = r"""
setsid env -i TEND_TEST_TAG="$TEND_TEST_TAG" /bin/sh -c 'echo $$ > "%(pidfile)s.tmp"; mv "%(pidfile)s.tmp" "%(pidfile)s"; exec sleep 600' < /dev/null > /dev/null 2>&1 &
while [ ! -s "%(pidfile)s" ]; do sleep 0.01; done
exit 0
"""


def test_forking_tree_takes_a_detached_daemon_from_its_pidfile():
    with Tend("") as t:
        with open(t.path("launcher.sh"), "w") as f:
            f.write(NGINX_LIKE % {"pidfile": t.path("main.pid")})
        t.write_config(prog("web", ["/bin/sh", t.path("launcher.sh")],
                            type="forking", pidfile="main.pid",
                            start_secs=0, start_timeout="10s"),
                       tracking("tree"))
        t.start()
        need_tracking(t, "web", "tree")
        for i in range(4):
            st = t.wait_state("web", "running", "failed")
            eq(st["state"], "running", "start %d: %r" % (i, st))
            pid = read_pid(t.path("main.pid"))
            eq(st["pid"], pid)
            eq(t.procs(), [pid], "start %d" % i)
            os.unlink(t.path("main.pid"))
            # stop reaches it (it is the instance's main process).
            t.ctl("restart", "web", check=0)
            check(not pid_alive(pid), "restart left pid %d" % pid)
        t.stop()


def test_shutdown_kills_an_unclaimed_orphan_with_its_children():
    # The orphan leaves the session and its TEND_* variables before its
    # parent exits: nobody's; its child with it.
    cmd = ("setsid env -i TEND_TEST_TAG=\"$TEND_TEST_TAG\" /bin/sh -c "
           "'sleep 600 & echo $! > %s; exec sleep 601' < /dev/null "
           "> /dev/null 2>&1 & while [ ! -s %s ]; do sleep 0.01; done")
    with Tend("", supervisor=tracking("tree")) as t:
        t.write_config(prog("p", cmd % (t.path("child.pid"),
                                        t.path("child.pid")),
                            restart="never", start_secs=0),
                       tracking("tree"))
        t.start()
        child = read_pid(t.path("child.pid"))
        wait_for(lambda: len(t.procs()) == 2, what="the orphan and its "
                 "child")
        ps = t.ps()
        strays = [p for p in ps if p["name"] is None]
        check(len(strays) == 2, "not unclaimed: %r" % ps)
        t.stop()       # fails if anything of the test is left
        check(not pid_alive(child))


def test_forking_multi_line_pidfile():
    # PostgreSQL's postmaster.pid: the PID on the first line, then more.
    launcher = ("sh -c 'printf \"%%s\\n/var/lib/pg\\n1700000000\\n5432\\n\" "
                "$$ > %s; exec sleep 600' < /dev/null > /dev/null 2>&1 &\n"
                "exit 0\n")
    with Tend("") as t:
        with open(t.path("launcher.sh"), "w") as f:
            f.write(launcher % t.path("postmaster.pid"))
        t.write_config(prog("pg", ["/bin/sh", t.path("launcher.sh")],
                            type="forking", pidfile="postmaster.pid",
                            start_secs=0, start_timeout="10s"))
        t.start()
        st = t.wait_state("pg", "running", "failed", "backoff")
        eq(st["state"], "running", repr(st))
        with open(t.path("postmaster.pid")) as f:
            eq(st["pid"], int(f.readline()))
        t.stop()


def test_forking_pidfile_problem_shows_in_status():
    launcher = "echo not-a-pid > %s\nsleep 600 < /dev/null > /dev/null 2>&1 &\nexit 0\n"
    with Tend("") as t:
        with open(t.path("launcher.sh"), "w") as f:
            f.write(launcher % t.path("bad.pid"))
        t.write_config(prog("bad", ["/bin/sh", t.path("launcher.sh")],
                            type="forking", pidfile="bad.pid",
                            start_secs=0, start_timeout="1s",
                            restart="never"))
        t.start()
        st = wait_for(lambda: (lambda s: s if s["error"] else None)(
            t.status()["bad"]), what="a reason in status")
        eq(st["state"], "starting")
        check("bad.pid does not hold a PID" in st["error"], repr(st))
        check("bad.pid does not hold a PID" in t.ctl("status").stdout,
              t.ctl("status").stdout)
        st = t.wait_state("bad", "failed")
        eq(st["error"], "no valid pidfile within start_timeout: %s does "
           "not hold a PID on its first line" % t.path("bad.pid"))
        t.stop()


def test_reload_restarts_a_forking_program_waiting_for_its_pidfile():
    # The launcher exits 0 but the pidfile never comes: starting for
    # start_timeout (60 s). A changed command restarts it now.
    with Tend("") as t:
        def conf(n):
            t.write_config(prog(
                "fk", ["/bin/sh", "-c", "echo %d >> %s; exit 0" % (
                    n, t.path("runs"))],
                type="forking", pidfile="never.pid", start_secs=0,
                start_timeout="60s"))
        conf(1)
        t.start()
        wait_for(lambda: os.path.exists(t.path("runs")), what="a run")
        eq(t.status()["fk"]["state"], "starting")
        conf(2)
        r = t.ctl("reload", check=0)
        check("fk: restarted" in r.stdout, r.stdout)
        wait_for(lambda: "2" in open(t.path("runs")).read().split(),
                 timeout=10, what="the new command to run")
        eq(t.status()["fk"]["state"], "starting")
        t.stop()


if __name__ == "__main__":
    main(globals())
