"""Config mode: tendd outlives every signal whose default would end or stop
it (and its programs stay supervised), gives its programs default
dispositions and an empty mask, and takes RLIMIT_FSIZE as a write error
of the sink, not as a signal."""
import os
import shutil
import signal
import sys

sys.path.insert(0, os.path.dirname(__file__))
from harness import (Failure, Skip, Tend, check, eq, main, pid_alive,  # noqa
                     proc_stat, prog, progs, wait_for)

# Left at their default: SIGKILL and SIGSTOP cannot be caught, the faults
# mean a bug in tendd (it dumps core), SIGCHLD is the reaper's.
KEPT = {signal.SIGKILL, signal.SIGSTOP, signal.SIGSEGV, signal.SIGBUS,
        signal.SIGFPE, signal.SIGILL, signal.SIGABRT, signal.SIGCHLD}
# Acted on in config mode, or harmless by default.
OWN = {signal.SIGTERM, signal.SIGINT, signal.SIGQUIT, signal.SIGHUP,
       signal.SIGUSR1, signal.SIGUSR2, signal.SIGPIPE, signal.SIGCONT,
       signal.SIGURG, signal.SIGWINCH}


def stray_signals():
    """Every signal whose default ends, dumps or stops a process and that
    tendd does not act on: SIGALRM, SIGTSTP, SIGSYS, ..., SIGRTMIN..MAX.
    (32 and 33 are glibc's.)"""
    return sorted(int(s) for s in signal.valid_signals()
                  if s not in KEPT and s not in OWN and
                  not 31 < s < signal.SIGRTMIN)


def sig_fields(pid):
    """SigBlk, SigIgn, SigCgt of pid, as integers."""
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("SigBlk", "SigIgn", "SigCgt"):
                out[k] = int(v, 16)
    return out


def test_config_stray_signals_are_ignored():
    with Tend(progs(prog("a", ["sleep", "600"], start_secs=0, instances=2),
                    prog("d", ["sleep", "600"], start_secs=0,
                         daemon=True))) as t:
        t.start()
        pids = {n: t.wait_state(n, "running")["pid"]
                for n in ("a:0", "a:1", "d")}
        sigs = stray_signals()
        check(len(sigs) > 40, "too few signals: %r" % sigs)

        def ignored(n):
            if t.proc.poll() is not None:
                raise Failure("tendd ended on signal %d: %d" % (
                    sig, t.proc.returncode))
            return t.read_log().count(": ignored\n") == n
        for i, sig in enumerate(sigs):
            t.proc.send_signal(sig)
            wait_for(lambda: ignored(i + 1),
                     what="tendd to log signal %d as ignored" % sig)
            check(proc_stat(t.proc.pid)["state"] != "T",
                  "tendd stopped on signal %d" % sig)
        eq({n: t.status()[n]["pid"] for n in pids}, pids)
        # Still supervising: a killed instance comes back.
        os.kill(pids["a:0"], signal.SIGKILL)
        wait_for(lambda: t.status()["a:0"]["pid"] not in (None,
                                                          pids["a:0"]) and
                 t.status()["a:0"]["state"] == "running",
                 what="a:0 restarted")
        t.stop()


def test_config_programs_get_default_signals():
    # tendd blocks the signals it takes and ignores SIGPIPE: none of that
    # may reach a program.
    with Tend(prog("a", ["sleep", "600"], start_secs=0)) as t:
        t.start()
        pid = t.wait_state("a", "running")["pid"]
        check(sig_fields(t.proc.pid)["SigBlk"] != 0,
              "tendd blocks no signal: the test tests nothing")
        eq(sig_fields(pid), {"SigBlk": 0, "SigIgn": 0, "SigCgt": 0},
           "the program's signal mask or dispositions")
        t.stop()


def need_prlimit():
    if shutil.which("prlimit") is None:
        raise Skip("prlimit(1) is not installed")


# Writes 2000 lines of about 60 bytes (past a 64 KiB limit), then waits.
WRITER = ('i=0; while [ $i -lt 2000 ]; do echo "line $i of the writer, '
          'long enough to fill the file"; i=$((i + 1)); done; '
          'exec sleep 600')
LIMIT = 64 * 1024


def test_config_file_size_limit_on_a_log_file():
    # With RLIMIT_FSIZE, a write past it raises SIGXFSZ in the writer,
    # tendd: it must be the log file's error (as ENOSPC is), and not be
    # taken for a signal sent to tendd. Written line by line (two streams
    # into one file), and by splice (one stream into its own file).
    need_prlimit()
    for stderr in ("file", "stdout"):
        file_size_limit(stderr)


def file_size_limit(stderr):
    with Tend(prog("w", ["sh", "-c", WRITER], start_secs=0,
                   log_max_size=0, stderr=stderr)) as t:
        t.start(wrapper=("prlimit", "--fsize=%d" % LIMIT, "--"))
        pid = t.wait_state("w", "running")["pid"]
        st = wait_for(lambda: t.status()["w"]["log_error"] and
                      t.status()["w"], what="log_error")
        check("File too large" in st["log_error"], st["log_error"])
        check("w.log" in st["log_error"], st["log_error"])
        eq(st["pid"], pid)
        eq(st["state"], "running")
        check(os.path.getsize(t.path("log", "w.log")) <= LIMIT)
        check(t.proc.poll() is None, "tendd ended")
        check("SIGXFSZ" not in t.read_log() and "XFSZ" not in
              t.read_log(), "tendd took its own SIGXFSZ for a signal:\n" +
              t.read_log())
        os.kill(pid, signal.SIGKILL)
        wait_for(lambda: t.status()["w"]["pid"] not in (None, pid) and
                 t.status()["w"]["state"] == "running",
                 what="w restarted")
        t.stop()


def test_config_file_size_limit_on_its_own_log():
    # tendd's own log (stderr, a file here) is already at the limit: each
    # line it writes fails, and it goes on supervising.
    need_prlimit()
    with Tend(prog("a", ["sleep", "600"], start_secs=0)) as t:
        with open(t.log_path, "wb") as f:
            f.write(b"x" * LIMIT)
        t.start(wrapper=("prlimit", "--fsize=%d" % LIMIT, "--"))
        pid = t.wait_state("a", "running")["pid"]
        t.ctl("status", check=0)
        os.kill(pid, signal.SIGKILL)
        wait_for(lambda: t.status()["a"]["pid"] not in (None, pid) and
                 t.status()["a"]["state"] == "running",
                 what="a restarted")
        check(pid_alive(t.proc.pid), "tendd ended")
        eq(os.path.getsize(t.log_path), LIMIT)
        eq(t.stop(), 0)


def test_config_tiny_file_size_limit_programs_still_start():
    # Below the size of the spawn record (state_dir/pids): a child that
    # wrote its record there would raise SIGXFSZ on itself and die before
    # its exec. It writes no record instead, and the program runs.
    need_prlimit()
    with Tend(prog("a", ["sleep", "600"], start_secs=0)) as t:
        # A first run makes the record file, with a's slot in it.
        t.start()
        t.wait_state("a", "running")
        t.stop()
        t.start(wrapper=("prlimit", "--fsize=200", "--"))
        pid = t.wait_state("a", "running")["pid"]
        wait_for(lambda: open("/proc/%d/comm" % pid).read().strip() ==
                 "sleep", what="the program to run")
        eq(t.status()["a"]["restarts"], 0)
        t.stop()


if __name__ == "__main__":
    main(globals())
