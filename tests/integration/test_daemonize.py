"""tendd --daemonize with --pidfile."""
import os
import signal
import socket
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from harness import (TENDD, Tend, check, eq, main, pid_alive, prog,  # noqa
                     progs, wait_for)


def test_daemonize_with_pidfile():
    with Tend(prog("a", ["sleep", "600"], start_secs=0)) as t:
        pidfile = os.path.join(t.dir, "tendd.pid")
        r = subprocess.run([TENDD, "-c", t.config, "-d", "--pidfile",
                            pidfile], capture_output=True, text=True,
                           timeout=60, env=t.env())
        eq(r.returncode, 0, r.stderr)
        # The parent returned only once the socket listens.
        s = socket.socket(socket.AF_UNIX)
        s.connect(t.sock)
        s.close()
        pid = int(open(pidfile).read().strip())
        check(pid_alive(pid))
        with open("/proc/%d/stat" % pid) as f:
            st = f.read()
        fields = st[st.rindex(")") + 2:].split()
        eq(int(fields[3]) == pid, False, "the daemon is a session leader "
           "(it must have double-forked)")
        eq(os.readlink("/proc/%d/cwd" % pid), "/")
        eq(os.readlink("/proc/%d/fd/0" % pid), "/dev/null")
        eq(os.readlink("/proc/%d/fd/1" % pid), "/dev/null")
        t.wait_state("a", "running")
        os.kill(pid, signal.SIGTERM)
        wait_for(lambda: not pid_alive(pid), what="the daemon to exit")
        check(not os.path.exists(pidfile), "pidfile left behind")
        check(not os.path.exists(t.sock), "socket left behind")
        leftovers = [f for f in os.listdir(t.dir) if ".tmp" in f]
        eq(leftovers, [])


def test_daemonize_failure_is_reported():
    with Tend(prog("a", ["sleep", "600"], start_secs=0)) as t:
        t.start()
        r = subprocess.run([TENDD, "-c", t.config, "-d"],
                           capture_output=True, text=True, timeout=60,
                           env=t.env())
        eq(r.returncode, 1)
        # Refused by the state_dir lock, the reason printed by the
        # launcher (the daemon's stderr is /dev/null by then).
        check("in use by another tendd (pid %d)" % t.proc.pid in r.stderr,
              r.stderr)
        t.stop()


def test_daemonize_relative_paths_and_quiet():
    # -d goes to /: config, pidfile and socket given relative to where
    # tendd was started must still name the same files, at start and at
    # every reload. And once the command has returned, the terminal hears
    # nothing more (here: nothing at all, even at --log-level debug).
    with Tend(prog("a", ["sleep", "600"], start_secs=0)) as t:
        pidname = t.tag + ".pid"
        sockname = t.tag + ".sock"
        pid = None
        try:
            r = subprocess.run([TENDD, "-c", os.path.basename(t.config),
                                "-d", "--pidfile", pidname, "-s", sockname,
                                "--log-level", "debug"],
                               capture_output=True, text=True, timeout=60,
                               env=t.env(), cwd=t.dir)
            eq(r.returncode, 0, r.stderr)
            eq((r.stdout, r.stderr), ("", ""), "tendd -d printed")
            pidfile = t.path(pidname)
            check(os.path.exists(pidfile), "no pidfile in the working "
                  "directory: %r" % os.listdir(t.dir))
            pid = int(open(pidfile).read().strip())
            eq(os.readlink("/proc/%d/cwd" % pid), "/")
            t.sock = t.path(sockname)
            t.wait_state("a", "running")
            t.write_config(progs(prog("a", ["sleep", "600"], start_secs=0),
                                 prog("b", ["sleep", "600"], start_secs=0)))
            r = t.ctl("reload", check=0)
            t.wait_state("b", "running")
            os.kill(pid, signal.SIGTERM)
            wait_for(lambda: not pid_alive(pid), what="the daemon to exit")
            check(not os.path.exists(pidfile), "pidfile left behind")
            check(not os.path.exists(t.sock), "socket left behind")
        finally:
            if pid is not None and pid_alive(pid):
                os.kill(pid, signal.SIGKILL)
            for name in (pidname, sockname):
                if os.path.exists("/" + name):
                    os.unlink("/" + name)


def test_daemonize_error_names_the_absolute_path():
    # An error before the daemon is ready is still printed by the
    # command, and a relative path in it is the one tendd used.
    with Tend(prog("a", ["sleep", "600"], start_secs=0)) as t:
        r = subprocess.run([TENDD, "-c", os.path.basename(t.config), "-d",
                            "--pidfile", "nodir/x.pid"],
                           capture_output=True, text=True, timeout=60,
                           env=t.env(), cwd=t.dir)
        eq(r.returncode, 1, r.stderr)
        check("cannot write pidfile %s" % t.path("nodir", "x.pid") in
              r.stderr, r.stderr)
        check(not t.connectable(), "the daemon is still running")


if __name__ == "__main__":
    main(globals())
