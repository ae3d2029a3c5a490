"""tendd under valgrind: one scenario that drives most of tendd (instances,
restarts, a forking program, an adopted orphan, log files and rotation,
every read-only command, start/stop/restart, a refused and an applied
reload, SIGTERM) must end with no definite leak and no memory error.
Skipped without valgrind, and for an ASan build, which valgrind cannot
run."""
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from harness import (TENDCTL, TENDD, Failure, Skip, Tend, check,  # noqa
                     eq, main, need_tracking, prog, progs, read_pid,
                     tracking, wait_for)

# tendd runs ~20 times slower under valgrind (its programs do not: they
# exec outside it). These bound waits; a passing test does not wait them.
SLOW = 60

# A definite leak is an error, so it shows in the error count and the exit
# status. Under valgrind tendd's spawn is a plain fork: each child writes
# its own report (%p) until it execs, untraced; it must hold no error.
VALGRIND = ["valgrind", "--leak-check=full",
            "--errors-for-leak-kinds=definite", "--error-exitcode=99",
            "--track-fds=no", "--num-callers=30"]

S = ["sleep", "600"]
# Numbered lines on stdout, one in four on stderr too; long enough that
# the shared file rotates within a second.
TICKER = ('i=0; while :; do i=$((i+1)); echo "tick $TEND_INSTANCE $i %s"; '
          '[ $((i %% 4)) = 0 ] && echo "warn $i" >&2; sleep 0.05; done'
          % ("x" * 60))


def read(path):
    with open(path) as f:
        return f.read()


def need_valgrind():
    if shutil.which("valgrind") is None:
        raise Skip("valgrind not installed")
    path = shutil.which(TENDD) or TENDD
    with open(path, "rb") as f:
        # The ASan runtime's entry point, linked in or imported.
        if b"__asan_init" in f.read():
            raise Skip("ASan build: valgrind cannot run it")


def programs(t, last):
    """The scenario's programs; last differs between the two configs."""
    pidfile = t.path("forky.pid")
    p = [prog("ticker", TICKER, instances=3, start_secs=0,
              log_max_size="4K", log_keep=2),
         prog("crashy", "echo up; echo down >&2; sleep 0.3; exit 3",
              start_secs="100ms", restart_delay="100ms",
              log_file="log/{name}-{instance}.log", log_timestamps=True),
         prog("forky", ["/bin/sh", "-c",
                        'sleep 600 </dev/null >/dev/null 2>&1 & '
                        'echo $! > "%s"' % pidfile],
              type="forking", pidfile=pidfile, start_secs="100ms"),
         prog("orphaner", "(sleep 600 &); exec sleep 600", start_secs=0),
         prog("manual", S, autostart=False, start_secs=0,
              environment={"WHO": "{name}:{instance}"},
              environment_file="-" + t.path("missing.env")),
         prog("oneshot", "echo once", restart="never", start_secs=0),
         prog("broken", "exit 1", start_limit=1, restart_delay="50ms",
              stderr="stdout"),
         last]
    return progs(*p)


def valgrind_problems(vgdir, pid):
    """What the reports in vgdir say is wrong: tendd's (pid) must end with
    no error and no definite leak; a spawn child's must stop at its
    header (it execs without a word)."""
    bad = []
    for name in sorted(os.listdir(vgdir)):
        with open(os.path.join(vgdir, name)) as f:
            report = f.read()
        if name == "%d.log" % pid:
            if "ERROR SUMMARY: 0 errors" not in report or not (
                    "definitely lost: 0 bytes" in report or
                    "All heap blocks were freed" in report):
                bad.append(report)
            continue
        body = report.partition("Parent PID:")[2].splitlines()[1:]
        if any(re.sub(r"^==\d+== ?", "", line).strip() for line in body):
            bad.append(report)
    if not any(n == "%d.log" % pid for n in os.listdir(vgdir)):
        bad.append("no report from tendd (pid %d)" % pid)
    return bad


def scenario(mode):
    need_valgrind()
    with Tend("") as t:
        t.write_config(programs(t, prog("gone", S, start_secs=0)),
                       tracking(mode))
        vgdir = t.path("valgrind")
        os.mkdir(vgdir)
        t.start(wait=False, wrapper=VALGRIND + [
            "--log-file=" + os.path.join(vgdir, "%p.log")])
        pid = t.proc.pid
        wait_for(t.connectable, SLOW, "tendd under valgrind to listen")
        for n in ("ticker:0", "ticker:1", "ticker:2", "forky", "orphaner",
                  "gone"):
            t.wait_state(n, "running", timeout=SLOW)
        need_tracking(t, "ticker:0", mode)
        t.wait_state("oneshot", "exited", timeout=SLOW)
        t.wait_state("broken", "failed", timeout=SLOW)
        wait_for(lambda: t.status()["crashy"]["restarts"] >= 2, SLOW,
                 "crashy to be restarted twice")
        eq(t.status()["forky"]["pid"], read_pid(t.path("forky.pid")))

        # Log files, with a rotation of ticker's.
        wait_for(lambda: os.path.exists(t.path("log", "ticker.log.1")),
                 SLOW, "ticker.log to rotate")
        check("up\n" in read(t.path("log", "crashy-0.log")),
              "crashy's log file")

        # The read-only commands, in both formats.
        r = t.ctl("status", check=3)
        check("ticker:2" in r.stdout and "failed" in r.stdout, r.stdout)
        check(t.ps(), "ps --json listed nothing")
        r = t.ctl("ps", check=0)
        check("orphaner" in r.stdout, r.stdout)
        r = t.ctl("logs", "-n", "5", "ticker", check=0)
        check(re.search(r"^ticker:\d \| tick ", r.stdout, re.M), r.stdout)
        t.ctl("--json", "logs", "--stderr", "crashy", check=0)
        t.ctl("version", check=0)
        eq(t.request("nope")["ok"], False)
        eq(t.request(None, raw="not json\n")["ok"], False)

        # A follower that goes away while following.
        with open(t.path("follow.out"), "w") as out:
            follow = subprocess.Popen([TENDCTL, "-s", t.sock, "logs", "-f",
                                       "-n", "0", "ticker"],
                                      stdout=out, stderr=subprocess.STDOUT)
        try:
            wait_for(lambda: "tick" in read(t.path("follow.out")), SLOW,
                     "a followed line")
        finally:
            follow.terminate()
            follow.wait()

        # The operator's commands.
        t.ctl("start", "manual", check=0)
        t.ctl("restart", "manual", check=0)
        t.ctl("signal", "CONT", "ticker", check=0)
        t.ctl("stop", "manual", check=0)
        t.ctl("wait", "oneshot", check=0)
        t.ctl("reset", "broken", check=0)
        t.ctl("logrotate", check=0)

        # A refused reload, then one that removes and adds a program.
        good = read(t.config)
        with open(t.config, "w") as f:
            f.write(good.replace('"gone";', '"gone"; restat = 1;'))
        t.ctl("reload", check=1)
        t.write_config(programs(t, prog("added", S, instances=2,
                                        start_secs=0, stderr="null")),
                       tracking(mode))
        r = t.ctl("reload", check=0)
        check("gone: removed" in r.stdout and "added: added" in r.stdout,
              r.stdout)
        t.wait_state("added:1", "running", timeout=SLOW)
        wait_for(lambda: "gone" not in t.status(), SLOW, "gone to go")

        # SIGTERM: tendd stops everything and exits, then valgrind reports.
        code = t.stop(check_exit=False)
        bad = valgrind_problems(vgdir, pid)
        if code != 0 or bad:
            raise Failure("tendd under valgrind exited %d (99: errors); "
                          "reports:\n%s" % (code, "\n".join(bad)))


def test_valgrind_cgroup():
    scenario("cgroup")


def test_valgrind_tree():
    scenario("tree")


if __name__ == "__main__":
    main(globals())
