"""tendd --run (a container's init): literal argv, --name, exit status,
signal forwarding (every signal tini forwards, to the command or its
process group), stdio, the terminal, control socket; as PID 1 of a PID
namespace: reaping, forwarding, exit status. Also config-mode signals:
SIGUSR2 is forwarded, SIGQUIT shuts down.

What dumb-init's and tini's own tests check, tend's way: signals forwarded
and tendd surviving them, stop signals stopping the command and not the
init, the exit status passed through, zombies reaped (as PID 1 and as a
subreaper), the terminal handed over (a reader, a job-control shell),
process-group forwarding. Where tend differs on purpose (the command gets
default dispositions and an empty mask, not the init's parent's), the
README says so."""
import os
import pty
import re
import select
import shutil
import signal
import subprocess
import sys
import termios
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import (DEADLINE, TENDD, Failure, Skip, Tend,  # noqa
                     check, eq, main, need_root, pid_alive, proc_stat,
                     procs_with_env, prog, progs, read_pid, wait_for)


class Run:
    """tendd --run in a test directory (a Tend, for its dir, tag and
    cleanup; its config is unused)."""

    def __init__(self, t, command, name=None, socket=None, ns=False,
                 extra=(), stdin=subprocess.DEVNULL):
        self.t = t
        self.sock = socket or t.sock
        args = [TENDD, "--run", "-s", self.sock] + list(extra)
        if name:
            args += ["--name", name]
        args += ["--"] + command
        if ns:
            args = ["unshare", "--pid", "--fork", "--mount-proc"] + args
        self.out = open(t.path("run.out"), "wb")
        self.err = open(t.path("run.err"), "wb")
        self.proc = subprocess.Popen(args, stdout=self.out, stderr=self.err,
                                     stdin=stdin, env=t.env(), cwd=t.dir)
        self.ns = ns

    def tendd_pid(self):
        """tendd's pid as seen from here (the child of unshare in a
        namespace)."""
        if not self.ns:
            return self.proc.pid

        def child():
            for d in os.listdir("/proc"):
                if d.isdigit():
                    try:
                        with open("/proc/%s/stat" % d) as f:
                            st = f.read()
                    except OSError:
                        continue
                    if int(st[st.rindex(")") + 2:].split()[1]) == \
                            self.proc.pid:
                        return int(d)
            return None
        return wait_for(child, what="tendd under unshare")

    def read_pid(self, path):
        """harness.read_pid, failing at once if tendd exits."""
        def ok():
            if self.proc.poll() is not None:
                raise Failure("tendd exited with %d:\n%s" % (
                    self.proc.returncode, self.stderr()))
            with open(path) as f:
                text = f.read()
            return int(text) if text.endswith("\n") and \
                text.strip().isdigit() else None
        return wait_for(ok, what="a pid in " + path)

    def wait(self, timeout=DEADLINE):
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise Failure("tendd --run did not exit:\n%s\n%s" % (
                self.stdout(), self.stderr()))
        self.out.close()
        self.err.close()
        return code

    def stdout(self):
        with open(self.t.path("run.out"), errors="replace") as f:
            return f.read()

    def stderr(self):
        with open(self.t.path("run.err"), errors="replace") as f:
            return f.read()

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def no_leftovers(t):
    wait_for(lambda: not procs_with_env("TEND_TEST_TAG", t.tag),
             what="no process of the test left (%r)" %
             procs_with_env("TEND_TEST_TAG", t.tag))
    check(not os.path.exists(t.sock), "socket left behind")


def wait_file(path):
    return wait_for(lambda: os.path.exists(path), what=path)


def test_run_literal_argv_name_status_and_exit_code():
    with Tend("") as t:
        script = ('echo "$0 $1 $TEND_PROGRAM" > argv; echo to-stdout; '
                  'echo to-stderr >&2; '
                  'while [ ! -e go ]; do sleep 0.05; done; exit 42')
        r = Run(t, ["sh", "-c", script, "{name}", "{instance}"],
                name="job")
        try:
            wait_file(t.path("argv"))
            eq(open(t.path("argv")).read(), "{name} {instance} job\n",
               "argv was not taken literally")
            wait_for(t.connectable, what="the control socket")
            t.ctl("status", check=0)
            st = t.status()
            eq(list(st), ["job"])
            eq(st["job"]["state"], "running")
            eq(st["job"]["ppid"], r.proc.pid)
            # --run has no configuration: reload is refused, tendd runs on.
            t.ctl("reload", check=1)
            open(t.path("go"), "w").close()
            eq(r.wait(), 42, r.stderr())
            check("to-stdout" in r.stdout(), r.stdout())
            check("to-stderr" in r.stderr(), r.stderr())
            # Log level warn by default: tendd says nothing on a good run.
            check(" info:" not in r.stdout() + r.stderr(),
                  "tendd --run logged at info by default:\n" + r.stderr())
            no_leftovers(t)
        finally:
            r.kill()


def test_run_exit_status_passthrough():
    for cmd, code in ((["true"], 0), (["sh", "-c", "exit 3"], 3),
                      (["sh", "-c", "kill -KILL $$"], 137),
                      (["sh", "-c", "kill -TERM $$"], 128 + 15)):
        with Tend("") as t:
            r = Run(t, cmd)
            try:
                eq(r.wait(), code, "%r: %s" % (cmd, r.stderr()))
                no_leftovers(t)
            finally:
                r.kill()


def test_run_exec_failure_is_127():
    # A command that cannot be started: 127, as a shell would say.
    with Tend("") as t:
        r = Run(t, ["/nonexistent/cmd"])
        try:
            eq(r.wait(), 127, r.stderr())
            check("/nonexistent/cmd" in r.stderr(), r.stderr())
            no_leftovers(t)
        finally:
            r.kill()


def test_run_usage_errors():
    for args in (["--run"], ["--run", "--"], ["--run", "-c", "x", "--",
                                               "true"],
                 ["--run", "--exit-when-done", "--", "true"],
                 ["--name", "x"]):
        r = subprocess.run([TENDD] + args, capture_output=True, text=True,
                           timeout=30)
        eq(r.returncode, 2, "%r: %s" % (args, r.stderr))
    for args in (["--run", "--kill-mode", "process", "--", "true"],
                 ["--kill-mode", "group"]):
        r = subprocess.run([TENDD] + args, capture_output=True, text=True,
                           timeout=30)
        eq(r.returncode, 2, "%r: %s" % (args, r.stderr))
    r = subprocess.run([TENDD, "--run", "--name", "bad name", "--", "true"],
                       capture_output=True, text=True, timeout=30)
    eq(r.returncode, 1, r.stderr)
    check("invalid name" in r.stderr, r.stderr)


SIGS = ("HUP", "INT", "QUIT", "USR1", "USR2", "WINCH")
# Records each signal it gets; TERM: exits 5.
TRAPS = "".join("trap 'echo %s >> got' %s; " % (s, s) for s in SIGS) + \
    "trap 'echo TERM >> got; exit 5' TERM; echo $$ > ready; " \
    "while true; do sleep 0.05 & wait; done"


def got(t):
    try:
        with open(t.path("got")) as f:
            return f.read().split()
    except FileNotFoundError:
        return []


def forwarding(ns):
    with Tend("") as t:
        r = Run(t, ["sh", "-c", TRAPS], ns=ns)
        try:
            read_pid(t.path("ready"))
            tendd = r.tendd_pid()
            for i, s in enumerate(SIGS):
                os.kill(tendd, getattr(signal, "SIG" + s))
                wait_for(lambda: len(got(t)) == i + 1,
                         what="SIG%s forwarded (got %r)" % (s, got(t)))
                eq(got(t)[-1], s)
                check(r.proc.poll() is None, "tendd exited on SIG" + s)
            os.kill(tendd, signal.SIGTERM)
            eq(r.wait(), 5, r.stderr())
            eq(got(t), list(SIGS) + ["TERM"])
            no_leftovers(t)
        finally:
            r.kill()


def test_run_forwards_signals():
    forwarding(False)


# Every signal tendd --run forwards: all but SIGKILL and SIGSTOP (which
# cannot be caught), SIGCHLD, and the faults that mean a bug in tendd.
# (32 and 33 are glibc's own.)
NOT_FORWARDED = {signal.SIGKILL, signal.SIGSTOP, signal.SIGCHLD,
                 signal.SIGSEGV, signal.SIGBUS, signal.SIGFPE,
                 signal.SIGILL, signal.SIGABRT}


def forwardable():
    return sorted(int(s) for s in signal.valid_signals()
                  if s not in NOT_FORWARDED and
                  not 31 < s < signal.SIGRTMIN)


# Records each signal it is given (numbers, one a line, in "got"); exits
# 7 once the file "go" exists.
CATCHER = r"""
import os, signal, sys, time
fd = os.open("got", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
def caught(n, frame):
    os.write(fd, b"%d\n" % n)
for n in sys.argv[1:]:
    signal.signal(int(n), caught)
with open("ready.tmp", "w") as f:
    f.write("%d\n" % os.getpid())
os.rename("ready.tmp", "ready")
while not os.path.exists("go"):
    time.sleep(0.02)
sys.exit(7)
"""


def got_numbers(t):
    return [int(x) for x in got(t)]


def forwarding_all(ns):
    sigs = forwardable()
    check(len(sigs) > 50, "too few signals: %r" % sigs)
    with Tend("") as t:
        with open(t.path("catch.py"), "w") as f:
            f.write(CATCHER)
        r = Run(t, [sys.executable, t.path("catch.py")] +
                [str(s) for s in sigs], ns=ns)
        try:
            read_pid(t.path("ready"))
            tendd = r.tendd_pid()

            def caught(n):
                if r.proc.poll() is not None:
                    raise Failure("tendd ended on signal %d: %d\n%s" % (
                        sig, r.proc.returncode, r.stderr()))
                return len(got(t)) == n
            for i, sig in enumerate(sigs):
                os.kill(tendd, sig)
                wait_for(lambda: caught(i + 1), what="signal %d forwarded "
                         "(got %r)" % (sig, got(t)))
                eq(got_numbers(t)[-1], sig)
                check(proc_stat(tendd)["state"] != "T",
                      "tendd stopped on signal %d" % sig)
            open(t.path("go"), "w").close()
            eq(r.wait(), 7, r.stderr())
            no_leftovers(t)
        finally:
            r.kill()


def test_run_forwards_every_signal():
    # SIGALRM, SIGPWR, SIGIO, SIGXCPU, SIGXFSZ, SIGVTALRM, SIGPROF,
    # SIGSTKFLT, SIGSYS, SIGTRAP, SIGTSTP, SIGTTIN, SIGTTOU, SIGRTMIN...
    # each killed or stopped tendd, and the command ran on without an init.
    forwarding_all(False)


def test_run_stop_signals_stop_the_command_not_tendd():
    # dumb-init and tini pass SIGTSTP on; tendd passes on SIGTTIN and
    # SIGTTOU too, and stays running itself: SIGCONT resumes the command.
    with Tend("") as t:
        r = Run(t, ["sh", "-c", "echo $$ > ready; "
                    "while [ ! -e go ]; do sleep 0.05; done; exit 4"])
        try:
            cmd = r.read_pid(t.path("ready"))

            def stopped():
                check(proc_stat(r.proc.pid)["state"] != "T",
                      "tendd stopped on %s" % sig.name)
                return proc_stat(cmd)["state"] == "T"
            for sig in (signal.SIGTSTP, signal.SIGTTIN, signal.SIGTTOU):
                os.kill(r.proc.pid, sig)
                wait_for(stopped, what="the command stopped by %s" %
                         sig.name)
                os.kill(r.proc.pid, signal.SIGCONT)
                wait_for(lambda: proc_stat(cmd)["state"] != "T",
                         what="the command resumed by SIGCONT")
            open(t.path("go"), "w").close()
            eq(r.wait(), 4, r.stderr())
            no_leftovers(t)
        finally:
            r.kill()


# Ignores SIGUSR1, records SIGUSR2 in "got", and runs a child (sleep) with
# SIGUSR1 at its default; exits 3 once that child has ended.
PGROUP = r"""
import os, signal, subprocess
signal.signal(signal.SIGUSR1, signal.SIG_IGN)
signal.signal(signal.SIGUSR2, lambda n, f: open("got", "a").write("USR2\n"))
p = subprocess.Popen(["sleep", "600"], preexec_fn=lambda:
                     signal.signal(signal.SIGUSR1, signal.SIG_DFL))
with open("child.tmp", "w") as f:
    f.write("%d\n" % p.pid)
os.rename("child.tmp", "child")
p.wait()
raise SystemExit(3)
"""


def kill_mode(mode):
    with Tend("") as t:
        with open(t.path("pgroup.py"), "w") as f:
            f.write(PGROUP)
        extra = ["--kill-mode", mode] if mode else []
        r = Run(t, [sys.executable, t.path("pgroup.py")], extra=extra)
        try:
            child = r.read_pid(t.path("child"))
            os.kill(r.proc.pid, signal.SIGUSR1)
            if mode == "group":
                # The child got it too, and died of it.
                eq(r.wait(), 3, r.stderr())
                check(not pid_alive(child))
            else:
                os.kill(r.proc.pid, signal.SIGUSR2)
                wait_for(lambda: got(t) == ["USR2"],
                         what="SIGUSR2 to the command")
                check(pid_alive(child), "the command's child got SIGUSR1")
                os.kill(child, signal.SIGTERM)
                eq(r.wait(), 3, r.stderr())
            no_leftovers(t)
        finally:
            r.kill()


def test_run_kill_mode_group_signals_the_process_group():
    kill_mode("group")


def test_run_kill_mode_main_signals_the_command_alone():
    kill_mode(None)
    kill_mode("main")


def test_run_command_gets_default_signals():
    # tini gives the command the mask and ignored signals tini itself was
    # started with; tend (as for every program) gives default dispositions
    # and an empty mask, whatever tendd inherited or set for itself.
    def odd_parent():
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTTOU, signal.SIG_IGN)
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM,
                                                  signal.SIGTTIN})
    with Tend("") as t:
        args = [TENDD, "--run", "-s", t.sock, "--", "sh", "-c",
                "echo $$ > ready; exec sleep 600"]
        p = subprocess.Popen(args, env=t.env(), cwd=t.dir,
                             preexec_fn=odd_parent,
                             stdin=subprocess.DEVNULL)
        try:
            pid = read_pid(t.path("ready"))
            wait_for(lambda: open("/proc/%d/comm" % pid).read() ==
                     "sleep\n", what="the exec of sleep")
            fields = {}
            with open("/proc/%d/status" % pid) as f:
                for line in f:
                    k, _, v = line.partition(":")
                    if k in ("SigBlk", "SigIgn", "SigCgt"):
                        fields[k] = int(v, 16)
            eq(fields, {"SigBlk": 0, "SigIgn": 0, "SigCgt": 0},
               "the command's signal mask or dispositions")
            os.kill(p.pid, signal.SIGKILL)
        finally:
            if p.poll() is None:
                p.kill()
            p.wait()


def test_run_exit_status_every_kind():
    # As dumb-init checks: any exit code, and 128+N for a death by signal
    # N (SIGQUIT dumps core: still 131).
    cases = [(["sh", "-c", "exit %d" % c], c)
             for c in (1, 2, 32, 64, 126, 127, 254, 255)]
    cases += [([sys.executable, "-c", "import os; os.kill(os.getpid(), "
                "%d)" % s], 128 + s)
              for s in (signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1,
                        signal.SIGALRM)]
    for cmd, code in cases:
        with Tend("") as t:
            r = Run(t, cmd)
            try:
                eq(r.wait(), code, "%r: %s" % (cmd, r.stderr()))
                no_leftovers(t)
            finally:
                r.kill()


def test_run_busy_or_bad_socket_is_only_a_warning():
    with Tend(prog("x", ["sleep", "600"], start_secs=0)) as t:
        t.start()
        for sock in (t.sock, t.path("no", "such", "dir", "s.sock")):
            r = Run(t, ["sh", "-c", "exit 6"], socket=sock)
            try:
                eq(r.wait(), 6, r.stderr())
                check("warn" in r.stderr(), "no warning: %r" % r.stderr())
            finally:
                r.kill()
        # The other tendd keeps its socket.
        t.ctl("status", check=0)
        t.stop()


def test_run_stdin_is_inherited():
    with Tend("") as t:
        rd, wr = os.pipe()
        os.write(wr, b"hello\n")
        os.close(wr)
        r = Run(t, ["sh", "-c", 'read x; echo "stdin:$x" > out'], stdin=rd)
        os.close(rd)
        try:
            eq(r.wait(), 0, r.stderr())
            eq(open(t.path("out")).read(), "stdin:hello\n",
               "the command did not get tendd's stdin")
        finally:
            r.kill()


def run_on_terminal(t):
    """tendd --run on a pseudo-terminal; the command writes which of its
    fds 0, 1, 2 are terminals to the file ttys. Returns that list."""
    pid, fd = pty.fork()
    if pid == 0:
        os.chdir(t.dir)
        try:
            os.execve(TENDD, [TENDD, "--run", "-s", t.sock, "--", "sh",
                              "-c", "for f in 0 1 2; do [ -t $f ] && "
                              "echo tty$f >> ttys; done; true"], t.env())
        finally:
            os._exit(127)
    out = b""
    end = time.monotonic() + DEADLINE
    while time.monotonic() < end:
        rl, _, _ = select.select([fd], [], [], 0.1)
        if rl:
            try:
                d = os.read(fd, 4096)
            except OSError:
                break
            if not d:
                break
            out += d
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    eq(os.waitstatus_to_exitcode(status), 0, out)
    try:
        return open(t.path("ttys")).read().split()
    except FileNotFoundError:
        return []


def test_run_terminal_is_stdin():
    # On a terminal (docker run -it), the command reads the terminal.
    with Tend("") as t:
        check("tty0" in run_on_terminal(t),
              "the command's stdin is not the terminal tendd runs on")


def test_run_terminal_is_stdout_and_stderr():
    # ... and writes to it: "stdio inherited", as without tendd (isatty(1)
    # decides line buffering, colours, pagers).
    with Tend("") as t:
        eq(run_on_terminal(t), ["tty0", "tty1", "tty2"],
           "the command does not see the terminal tendd runs on")


class PtyRun:
    """tendd --run on a new pseudo-terminal: its controlling terminal and
    stdin, stdout, stderr, with tendd's session in the foreground, as
    `docker run -it` or a shell does. lflag_on/off: terminal local modes
    set before tendd starts; output post-processing is off."""

    def __init__(self, t, command, extra=(), lflag_on=0,
                 lflag_off=termios.ECHO):
        def modes(fd):
            a = termios.tcgetattr(fd)
            a[1] &= ~termios.OPOST
            a[3] = (a[3] | lflag_on) & ~lflag_off
            termios.tcsetattr(fd, termios.TCSANOW, a)
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            try:
                os.chdir(t.dir)
                # Before tendd starts (TOSTOP)...
                modes(0)
                os.execve(TENDD, [TENDD, "--run", "-s", t.sock] +
                          list(extra) + ["--"] + command, t.env())
            finally:
                os._exit(127)
        # ... and before anything is written here (ECHO).
        modes(self.fd)
        self.out = b""
        self.eof = False
        self.code = None

    def pump(self, timeout=0.02):
        """Read what the terminal shows; True once it is closed."""
        if self.eof:
            return True
        rl, _, _ = select.select([self.fd], [], [], timeout)
        if rl:
            try:
                d = os.read(self.fd, 65536)
            except OSError:
                d = b""
            if not d:
                self.eof = True
            self.out += d
        return self.eof

    def write(self, data):
        os.write(self.fd, data)

    def stopped(self):
        """Processes under tendd stopped by job control, with tendd."""
        out = []
        for p in [self.pid] + procs_under(self.pid):
            try:
                if proc_stat(p)["state"] == "T":
                    out.append(p)
            except OSError:
                pass
        return out

    def wait(self, timeout=DEADLINE):
        """Wait for tendd to exit; fail at once if something stopped."""
        end = time.monotonic() + timeout
        while not self.pump(0.05):
            if self.stopped():
                raise Failure("stopped for ever: %r (terminal: %r)" % (
                    self.stopped(), self.out))
            if time.monotonic() > end:
                raise Failure("tendd --run did not end; terminal: %r" %
                              self.out)
        _, status = os.waitpid(self.pid, 0)
        self.pid = None
        os.close(self.fd)
        self.code = os.waitstatus_to_exitcode(status)
        return self.code

    def kill(self):
        if self.pid is not None:
            for p in procs_under(self.pid) + [self.pid]:
                try:
                    os.kill(p, signal.SIGKILL)
                except OSError:
                    pass
            os.waitpid(self.pid, 0)
            os.close(self.fd)
            self.pid = None


def procs_under(pid):
    """Every descendant of pid."""
    procs = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                procs[int(d)] = proc_stat(int(d))["ppid"]
            except (OSError, ValueError, IndexError):
                pass
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        kids = [c for c, pp in procs.items() if pp == p]
        out += kids
        todo += kids
    return out


def test_run_terminal_reader_is_never_stopped():
    # A command that reads the terminal at once (dumb-init's test: tac)
    # was stopped by SIGTTIN for ever when it read before tendd had made
    # its group the foreground (11 runs in 40 on a loaded machine).
    with Tend("") as t:
        for i in range(40):
            r = PtyRun(t, ["tac"])
            try:
                r.write(b"1\n2\n3\n\x04")
                eq(r.wait(), 0, "run %d: %r" % (i, r.out))
                eq(r.out, b"3\n2\n1\n", "run %d" % i)
            finally:
                r.kill()
        no_leftovers(t)


def test_run_terminal_job_control_shell():
    # dumb-init's test: an interactive shell under the init has job
    # control (it found its group in the foreground of its terminal).
    if shutil.which("bash") is None:
        raise Skip("bash is not installed")
    with Tend("") as t:
        r = PtyRun(t, ["bash", "--norc", "--noprofile", "--noediting",
                       "-i"])
        try:
            r.write(b'echo "flags are: [[$-]]"\nexit 0\n')
            eq(r.wait(), 0, repr(r.out))
            check(b"no job control" not in r.out, repr(r.out))
            m = re.search(rb"flags are: \[\[([a-zA-Z]+)\]\]", r.out)
            check(m is not None and b"m" in m.group(1),
                  "no job control: %r" % r.out)
        finally:
            r.kill()


def test_run_terminal_tostop_tendd_still_logs():
    # Once the command's group has the terminal, tendd writes its log to
    # a terminal it is in the background of. With TOSTOP set that raises
    # SIGTTOU in tendd: it must neither stop on it nor spin restarting
    # the write.
    with Tend("") as t:
        r = PtyRun(t, ["sh", "-c", "trap 'echo USR1 >> got' USR1; "
                       "echo $$ > ready; "
                       "while [ ! -e go ]; do sleep 0.05; done"],
                   extra=["--log-level", "info"], lflag_on=termios.TOSTOP)
        try:
            wait_for(lambda: r.pump() or os.path.exists(t.path("ready")),
                     what="the command")
            read_pid(t.path("ready"))
            os.kill(r.pid, signal.SIGUSR1)
            wait_for(lambda: got(t) == ["USR1"], what="SIGUSR1 forwarded")
            wait_for(lambda: r.pump() or b"received SIGUSR1" in r.out or
                     r.stopped(), what="tendd's log line on the terminal "
                     "(%r)" % r.out)
            check(not r.stopped(), "stopped: %r" % r.stopped())
            check(b"received SIGUSR1" in r.out, repr(r.out))
            open(t.path("go"), "w").close()
            eq(r.wait(), 0, repr(r.out))
        finally:
            r.kill()


# In a PID namespace, tendd --run is PID 1.

def need_pidns():
    need_root()
    if shutil.which("unshare") is None:
        raise Skip("unshare(1) is not installed")
    r = subprocess.run(["unshare", "--pid", "--fork", "--mount-proc",
                        "true"], capture_output=True, text=True, timeout=30)
    if r.returncode != 0:
        raise Skip("cannot make a PID namespace: %s" % r.stderr.strip())


def test_run_pidns_forwards_signals():
    need_pidns()
    forwarding(True)


def test_run_pidns_forwards_every_signal():
    need_pidns()
    forwarding_all(True)


def test_run_pidns_exit_status():
    need_pidns()
    for cmd, code in ((["sh", "-c", "[ $PPID = 1 ] && exit 42; exit 1"],
                       42),
                      (["sh", "-c", "kill -KILL $$"], 137)):
        with Tend("") as t:
            r = Run(t, cmd, ns=True)
            try:
                eq(r.wait(), code, "%r: %s" % (cmd, r.stderr()))
                no_leftovers(t)
            finally:
                r.kill()


# Leaves 100 orphans (re-parented to tendd: PID 1, or its subreaper) that
# block on a pipe; once all are counted, closing the pipe makes them exit
# together. Then waits until none is left and checks for zombies: exit 0
# when there are none, 1 if zombies stay, 2 if tendd is not PID 1 here
# (with PID1 true) or the orphans are not its.
ORPHANS = r"""
import os, sys, time
INIT = os.getppid()
if PID1 and INIT != 1:
    print("tendd is not PID 1: ppid %d" % INIT); sys.exit(2)
rd, wr = os.pipe()
for i in range(100):
    pid = os.fork()
    if pid == 0:
        if os.fork() == 0:
            os.close(wr)
            os.read(rd, 1)
            os._exit(0)
        os._exit(0)
    os.waitpid(pid, 0)
os.close(rd)

def scan():
    live = zombies = 0
    for d in os.listdir("/proc"):
        if not d.isdigit() or int(d) == os.getpid():
            continue
        try:
            st = open("/proc/%s/stat" % d).read()
        except OSError:
            continue
        rest = st[st.rindex(")") + 2:].split()
        if rest[1] == str(INIT):
            if rest[0] == "Z":
                zombies += 1
            else:
                live += 1
    return live, zombies

live, zombies = scan()
print("after forking: %d live orphans, %d zombies" % (live, zombies))
if live != 100:
    print("the orphans are not tendd's"); sys.exit(2)
os.close(wr)
end = time.monotonic() + DEADLINE
while True:
    live, zombies = scan()
    if live == 0 and zombies == 0:
        print("no orphan and no zombie left"); sys.exit(0)
    if time.monotonic() > end:
        print("%d live, %d zombies left" % (live, zombies)); sys.exit(1)
    time.sleep(0.05)
"""


def reaps_orphans(ns):
    with Tend("") as t:
        with open(t.path("orphans.py"), "w") as f:
            f.write(ORPHANS.replace("DEADLINE", str(DEADLINE / 2))
                    .replace("PID1", str(ns)))
        r = Run(t, [sys.executable, t.path("orphans.py")], ns=ns)
        try:
            code = r.wait()
            eq(code, 0, "\n" + r.stdout() + r.stderr())
            check("no orphan and no zombie left" in r.stdout(), r.stdout())
            no_leftovers(t)
        finally:
            r.kill()


def test_run_pidns_reaps_100_orphans():
    need_pidns()
    reaps_orphans(True)


def test_run_reaps_100_orphans_as_subreaper():
    # tini's reaping test, outside a PID namespace: tendd --run is its
    # command's subreaper.
    reaps_orphans(False)


def test_run_pidns_two_at_once_are_independent():
    # Two containers: tendd --run is PID 1 in each, both in the same
    # cgroup. The first one exits and leaves an orphan behind, which it
    # kills: that must not touch the other container's command.
    need_pidns()
    with Tend("") as t1, Tend("") as t2:
        r2 = Run(t2, ["sh", "-c", "echo $$ > ready; "
                      "while [ ! -e go ]; do sleep 0.05; done; exit 0"],
                 ns=True)
        try:
            read_pid(t2.path("ready"))
            r1 = Run(t1, ["sh", "-c", "sleep 600 & echo $$ > ready; "
                          "exit 0"], ns=True)
            try:
                eq(r1.wait(), 0, r1.stderr())
                no_leftovers(t1)
            finally:
                r1.kill()
            check(r2.proc.poll() is None, "the other container's tendd "
                  "ended (%r): its command was killed" % r2.proc.poll())
            open(t2.path("go"), "w").close()
            eq(r2.wait(), 0, "the other container's command was killed")
            no_leftovers(t2)
        finally:
            r2.kill()


def test_run_pidns_status_over_the_socket():
    need_pidns()
    with Tend("") as t:
        r = Run(t, ["sh", "-c", "echo $$ > ready; "
                    "while [ ! -e go ]; do sleep 0.05; done"],
                name="box", ns=True)
        try:
            read_pid(t.path("ready"))
            wait_for(t.connectable, what="the control socket")
            st = t.status()["box"]
            eq(st["state"], "running")
            eq(st["ppid"], 1, "not PID 1's child in the namespace")
            open(t.path("go"), "w").close()
            eq(r.wait(), 0, r.stderr())
            no_leftovers(t)
        finally:
            r.kill()


# Config mode.

def test_config_sigusr2_is_forwarded_to_main_processes():
    # Every instance's main process gets it (daemon ones too); a child
    # of a main process does not, and tendd keeps running.
    main_loop = ("sh -c 'trap \"echo child >> usr2\" USR2; "
                 "while true; do sleep 0.05 & wait; done' & "
                 "trap 'echo {name}-{instance} >> usr2' USR2; "
                 "while true; do sleep 0.05 & wait; done")
    with Tend(progs(prog("a", main_loop, instances=2, start_secs=0),
                    prog("d", main_loop, daemon=True, start_secs=0))) as t:
        t.start()
        pids = {n: t.wait_state(n, "running")["pid"]
                for n in ("a:0", "a:1", "d")}
        wait_for(lambda: all(s["descendants"] >= 1
                             for s in t.status().values()),
                 what="the children to start")

        def lines():
            try:
                with open(t.path("usr2")) as f:
                    return sorted(f.read().split())
            except FileNotFoundError:
                return []
        t.proc.send_signal(signal.SIGUSR2)
        wait_for(lambda: len(lines()) >= 3, what="three USR2 traps (%r)" %
                 lines())
        # A wrong extra line (a child's) would come about as fast.
        wait_for(lambda: t.ctl("status", check=0))
        eq(lines(), ["a-0", "a-1", "d-0"])
        check(t.proc.poll() is None, "tendd exited on SIGUSR2")
        eq({n: t.status()[n]["pid"] for n in pids}, pids)
        t.stop()


def test_config_sigquit_shuts_down():
    script = ("trap 'echo termed >> quit; exit 0' TERM; "
              "while true; do sleep 0.05 & wait; done")
    with Tend(prog("p", script, start_secs=0, instances=2)) as t:
        t.start()
        t.wait_state("p:0", "running")
        t.wait_state("p:1", "running")
        t.proc.send_signal(signal.SIGQUIT)
        eq(t.wait_exit(), 0, t.read_log())
        eq(open(t.path("quit")).read().split(), ["termed", "termed"])
        t.stop()


def test_config_sighup_reloads_and_sigusr1_keeps_running():
    with Tend(prog("p", ["sleep", "600"], start_secs=0)) as t:
        t.start()
        pid = t.wait_state("p", "running")["pid"]
        t.proc.send_signal(signal.SIGUSR1)
        t.write_config(progs(prog("p", ["sleep", "600"], start_secs=0),
                             prog("q", ["sleep", "600"], start_secs=0)))
        t.proc.send_signal(signal.SIGHUP)
        t.wait_state("q", "running")
        eq(t.status()["p"]["pid"], pid)
        t.stop()


if __name__ == "__main__":
    main(globals())
