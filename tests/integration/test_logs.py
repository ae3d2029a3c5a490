"""Log capture, black-box: every sink, prefixes, timestamps, file modes and
owners, rotation (size, timer, SIGUSR1, `tendctl logrotate`), `tendctl
logs` (-n, -f, --json, stream filters), partial, huge and binary lines, slow
followers, a full disk, and no line lost across restarts."""
import datetime
import errno
import hashlib
import json
import os
import pty
import re
import signal
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import (DEADLINE, TENDCTL, TENDD, Failure, Skip, Tend,  # noqa
                     check, eq, main, need_root, pid_alive, prog, progs,
                     wait_for)

SLEEP = "exec sleep 600"
# "2026-11-23T02:10:00.123Z ", before each line with log_timestamps.
TS_LEN = 25

# Numbered lines "n 1", "n 2", ... every PERIOD seconds, flushed one by one,
# forever; PAD adds " xxx..." so lines can be made longer.
TICKER = r"""
import os, time
period = float(os.environ.get("PERIOD", "0.02"))
pad = int(os.environ.get("PAD", "0"))
tail = (" " + "x" * pad) if pad else ""
i = 0
while True:
    i += 1
    os.write(1, ("n %d%s\n" % (i, tail)).encode())
    time.sleep(period)
"""

# N numbered lines of fixed width WIDTH (newline included), written through
# an 8 KiB buffer, then exit 0 (THEN=exit) or sleep (THEN=sleep).
LINES = r"""
import os, sys, time
n = int(os.environ["N"])
width = int(os.environ.get("WIDTH", "0"))
out = open(1, "w", buffering=8192, closefd=False)
for i in range(1, n + 1):
    s = "n %d" % i
    if width:
        s = (s + " ").ljust(width - 1, "x")
    out.write(s + "\n")
out.flush()
if os.environ.get("THEN", "exit") == "sleep":
    time.sleep(600)
"""

# "start", then a line of SIZE times each letter of LETTERS. Each line is
# written once tendd has read all before it (and has had time to stop
# batching), so that it starts a read (or splice) of its own; its newline
# too, so that tendd has seen the line's last byte before it.
LONG_LINES = r"""
import array, fcntl, os, termios, time
def empty():
    n = array.array("i", [0])
    while True:
        fcntl.ioctl(1, termios.FIONREAD, n, True)
        if n[0] == 0:
            return
        time.sleep(0.01)
def out(b):
    view = memoryview(b)
    while len(view):
        view = view[os.write(1, view):]
out(b"start\n")
for c in os.environ["LETTERS"]:
    empty()
    time.sleep(0.05)
    out(c.encode() * int(os.environ["SIZE"]))
    empty()
    out(b"\n")
"""

# N numbered lines of WIDTH, written through an 8 KiB buffer; then, once the
# file $GO exists, MORE lines more, and exit.
FLOOD_THEN = r"""
import os, time
n, more = int(os.environ["N"]), int(os.environ["MORE"])
width = int(os.environ["WIDTH"])
out = open(1, "w", buffering=8192, closefd=False)
def line(i):
    return ("n %d " % i).ljust(width - 1, "x") + "\n"
for i in range(1, n + 1):
    out.write(line(i))
out.flush()
while not os.path.exists(os.environ["GO"]):
    time.sleep(0.01)
out.write("".join(line(i) for i in range(n + 1, n + more + 1)))
out.flush()
"""

# Waits for the file $D/go, then writes TOTAL bytes of a letter pattern
# without any newline, 1 MiB per write, touches $D/written and sleeps.
HUGE = r"""
import os, time
d = os.environ["D"]
total = int(os.environ["TOTAL"])
while not os.path.exists(os.path.join(d, "go")):
    time.sleep(0.01)
chunk = (bytes(range(ord("a"), ord("z") + 1)) * 40330)[:1 << 20]
left = total
while left:
    view = memoryview(chunk)[:min(left, len(chunk))]
    while len(view):
        n = os.write(1, view)
        view = view[n:]
        left -= n
open(os.path.join(d, "written"), "w").close()
time.sleep(600)
"""

BINARY_LINES = [
    bytes(b for b in range(256) if b != 0x0a),   # NUL, controls, 0x80-0xff
    "h\u00e9llo \u20ac \U0001F600".encode(),     # valid UTF-8
    b"bad \xff\xfe end",
    b"trunc \xe2\x82",
    b"\xc3A lone \x80 cont",
]

BINARY = r"""
import os, sys, time
lines = %r
os.write(1, b"".join(l + b"\n" for l in lines))
time.sleep(600)
""" % (BINARY_LINES,)

# Alternates stdout and stderr lines, each flushed: "o 0", "e 1", "o 2"...
ALTERNATE = r"""
import os, time
for i in range(int(os.environ.get("N", "200"))):
    os.write(1 if i % 2 == 0 else 2, ("%s %d\n" % ("oe"[i % 2], i)).encode())
time.sleep(600)
"""

# Partial lines: "abc" then "def\n" 0.1 s later (one line), then a prompt
# that never gets its newline.
PARTIAL = r"""
import os, time
os.write(1, b"abc")
time.sleep(0.1)
os.write(1, b"def\n")
os.write(1, b"prompt> ")
time.sleep(600)
"""


# ---------------------------------------------------------------- helpers

def script(t, name, text):
    """Write a Python program into the test directory; its command."""
    path = os.path.join(t.dir, name + ".py")
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o644)
    return [sys.executable, path]


def logdir(t, create=True):
    d = os.path.join(t.dir, "log")
    if create:
        os.makedirs(d, exist_ok=True)
    return d


def logfile(t, name):
    return os.path.join(t.dir, "log", name)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def lines_of(path):
    """Complete lines of a file as text (errors replaced)."""
    try:
        data = read(path)
    except FileNotFoundError:
        return []
    return data.decode("utf-8", "replace").split("\n")[:-1]


def has_lines(path, *want):
    got = lines_of(path)
    return all(w in got for w in want)


NUM = re.compile(r"^n (\d+)( x*)?$")


def numbers(lines, allow_first_fragment=False):
    """The numbers of "n N" lines; any other line is an error."""
    out = []
    for i, line in enumerate(lines):
        m = NUM.match(line)
        if m is None:
            if i == 0 and allow_first_fragment:
                continue
            raise Failure("unexpected line %d: %r" % (i, line[:200]))
        out.append(int(m.group(1)))
    return out


def check_consecutive(nums, what):
    check(nums, "%s: no numbered lines" % what)
    for a, b in zip(nums, nums[1:]):
        if b != a + 1:
            raise Failure("%s: line n %d followed by n %d (lost, repeated "
                          "or out of order)" % (what, a, b))


def logs(t, *args, check_rc=0):
    """`tendctl logs ARGS`: its output lines."""
    r = t.ctl("logs", *args, check=check_rc)
    return r.stdout.split("\n")[:-1]


def logs_json(t, *args):
    """`tendctl --json logs ARGS`: a list of objects (JSON Lines)."""
    r = t.ctl("--json", "logs", *args, check=0)
    out = []
    for line in r.stdout.splitlines():
        if line.strip():
            try:
                out.append(json.loads(line))
            except ValueError:
                raise Failure("logs --json printed a line that is not JSON:"
                              " %r\nwhole output:\n%s" % (line,
                                                          r.stdout[:2000]))
    return out


def texts(objs):
    return [o["text"] for o in objs]


def vm(pid, key):
    """A /proc/PID/status value in KiB (VmRSS, VmHWM)."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise Failure("no %s for pid %d" % (key, pid))


def wchar(pid):
    """Bytes the process has written (from /proc/PID/io)."""
    with open("/proc/%d/io" % pid) as f:
        for line in f:
            if line.startswith("wchar:"):
                return int(line.split()[1])
    return 0


def start_small_quarantine(t):
    """Start tendd; under ASan with a small quarantine, so that freed memory
    is reused and RSS measures what tendd keeps, not ASan's 256 MiB of
    freed blocks."""
    old = os.environ.get("ASAN_OPTIONS")
    os.environ["ASAN_OPTIONS"] = ((old + ":") if old else "") + \
        "quarantine_size_mb=4:thread_local_quarantine_size_kb=64"
    try:
        t.start()
    finally:
        if old is None:
            del os.environ["ASAN_OPTIONS"]
        else:
            os.environ["ASAN_OPTIONS"] = old


def start_with(t, stdout, stderr):
    """Start tendd with the given stdout and stderr (Popen arguments)."""
    t.proc = subprocess.Popen(
        [TENDD, "-c", t.config, "--log-level", "debug"],
        stdout=stdout, stderr=stderr, env=t.env(), cwd=t.dir)
    wait_for(t.connectable, what="tendd to listen on " + t.sock)
    return t.proc


class Reader:
    """Collects what a file descriptor yields, in a thread, so tests can wait
    for output with a deadline."""

    def __init__(self, fd, start=True):
        self.fd = fd
        self.data = bytearray()
        self.eof = False
        self.cond = threading.Condition()
        self.thread = None
        if start:
            self.start()

    def start(self):
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while True:
            try:
                d = os.read(self.fd, 1 << 16)
            except OSError:     # EIO from a pty master once the slave closed
                d = b""
            with self.cond:
                if not d:
                    self.eof = True
                    self.cond.notify_all()
                    return
                self.data += d
                self.cond.notify_all()

    def text(self):
        with self.cond:
            return bytes(self.data).decode("utf-8", "replace")

    def lines(self):
        return [l.rstrip("\r") for l in self.text().split("\n")[:-1]]

    def wait(self, pred, timeout=DEADLINE, what="output"):
        """Wait until pred(complete lines) is true; return the lines."""
        end = time.monotonic() + timeout
        with self.cond:
            while True:
                lines = [l.rstrip("\r") for l in bytes(self.data).decode(
                    "utf-8", "replace").split("\n")[:-1]]
                if pred(lines):
                    return lines
                if self.eof:
                    raise Failure("end of output before %s; got:\n%s" % (
                        what, "\n".join(lines[-30:])))
                left = end - time.monotonic()
                if left <= 0:
                    raise Failure("timed out after %.1fs waiting for %s; "
                                  "last lines:\n%s" % (timeout, what,
                                                       "\n".join(lines[-30:])))
                self.cond.wait(left)

    def wait_eof(self, timeout=DEADLINE):
        with self.cond:
            self.cond.wait_for(lambda: self.eof, timeout)
            return self.eof


class Follower:
    """`tendctl ARGS` (logs -f) running, with stdout and stderr collected."""

    def __init__(self, t, *args, read=True):
        self.args = args
        self.p = subprocess.Popen([TENDCTL, "-s", t.sock] + list(args),
                                  stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, env=t.env())
        self.out = Reader(self.p.stdout.fileno(), start=read)
        self.err = Reader(self.p.stderr.fileno())

    def interrupt(self):
        """SIGINT; the exit status."""
        self.p.send_signal(signal.SIGINT)
        try:
            return self.p.wait(timeout=DEADLINE)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
            raise Failure("tendctl %s did not exit on SIGINT" % " ".join(
                self.args))

    def close(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()
        self.p.stdout.close()
        self.p.stderr.close()


def journald_usable():
    if not os.path.exists("/run/systemd/journal/socket"):
        return False, "no /run/systemd/journal/socket"
    try:
        r = subprocess.run(["journalctl", "-n", "0", "-q"],
                           capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as e:
        return False, "journalctl: %s" % e
    if r.returncode != 0:
        return False, "journalctl failed: %s" % r.stderr.decode().strip()
    return True, ""


# ------------------------------------------------------------ file sinks

def test_file_sink_default():
    text = b"alpha\nbeta  gamma\n\ttab\r\n"
    with Tend("") as t:
        # log_dir is left to tendd to create.
        cmd = ("printf 'alpha\\nbeta  gamma\\n\\ttab\\r\\n'; "
               "printf 'to-stderr\\n' >&2; " + SLEEP)
        t.write_config(prog("app", cmd, start_secs=0))
        t.start()
        path = logfile(t, "app.log")
        wait_for(lambda: b"to-stderr\n" in read(path) and
                 text in read(path), what="both streams in " + path)
        data = read(path)
        # Raw bytes, no prefix for a single instance; stderr in the same
        # file (its order relative to stdout is not defined: two pipes).
        eq(data.replace(b"to-stderr\n", b""), text)
        eq(len(data), len(text) + len(b"to-stderr\n"))
        eq(os.stat(path).st_mode & 0o7777, 0o640, "default log_mode")
        st = t.status()["app"]
        eq(st.get("log_dropped"), 0, "log_dropped in status --json")
        check("log_error" in st, "status --json lacks log_error")
        eq(st["log_error"], None)
        t.stop()


def test_shared_file_prefixes_instances():
    with Tend("") as t:
        d = t.dir
        # p:0 writes "aaa", p:1 then writes a whole line, p:0 ends its line:
        # lines must not be mixed in the shared file.
        coord = ('case $TEND_INSTANCE in '
                 '0) printf aaa; touch "$D/a"; '
                 'while [ ! -e "$D/b" ]; do sleep 0.01; done; '
                 'printf "ccc\\n";; '
                 '1) while [ ! -e "$D/a" ]; do sleep 0.01; done; '
                 'echo bbb; touch "$D/b";; esac; ' + SLEEP)
        t.write_config(progs(
            prog("w", 'echo "hello $TEND_INSTANCE"; '
                 'echo "err $TEND_INSTANCE" >&2; ' + SLEEP,
                 instances=2, start_secs=0),
            prog("p", coord, instances=2, start_secs=0,
                 environment={"D": d})))
        t.start()
        want = ["w:0 | hello 0", "w:1 | hello 1", "w:0 | err 0",
                "w:1 | err 1"]
        path = logfile(t, "w.log")
        wait_for(lambda: has_lines(path, *want), what="4 prefixed lines")
        got = lines_of(path)
        eq(sorted(got), sorted(want), "lines of the shared w.log")
        ppath = logfile(t, "p.log")
        wait_for(lambda: "p:1 | bbb" in lines_of(ppath) and
                 ("p:0 | aaaccc" in lines_of(ppath) or
                  "p:0 | ccc" in lines_of(ppath)),
                 what="p's lines in p.log")
        got = lines_of(ppath)
        check(sorted(got) in (sorted(["p:0 | aaaccc", "p:1 | bbb"]),
                              sorted(["p:0 | aaa", "p:0 | ccc",
                                      "p:1 | bbb"])),
              "partial line of p:0 mixed with p:1's line: %r" % got)
        for n in ("w:0.log", "w:1.log", "p:0.log", "p:1.log"):
            check(not os.path.exists(logfile(t, n)), "%s exists" % n)
        t.stop()


def test_instance_files():
    with Tend("") as t:
        os.makedirs(os.path.join(t.dir, "out"))
        t.write_config(prog(
            "w", 'echo "hello $TEND_INSTANCE"; echo "e$TEND_INSTANCE" >&2; '
            + SLEEP, instances=2, start_secs=0,
            log_file="out/w-{instance}.log"))
        t.start()
        for i in (0, 1):
            path = os.path.join(t.dir, "out", "w-%d.log" % i)
            wait_for(lambda: has_lines(path, "hello %d" % i, "e%d" % i),
                     what=path)
            # One writer per file: raw lines, no prefix.
            eq(sorted(lines_of(path)), sorted(["hello %d" % i, "e%d" % i]))
        check(not os.path.exists(logfile(t, "w.log")),
              "w.log written despite log_file")
        t.stop()


def test_timestamps():
    ts = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3})Z (.*)$")
    with Tend("") as t:
        logdir(t)
        t.write_config(progs(
            prog("s", "echo hello; " + SLEEP, start_secs=0,
                 log_timestamps=True),
            prog("m", 'echo "hi $TEND_INSTANCE"; ' + SLEEP, instances=2,
                 start_secs=0, log_timestamps=True)))
        before = datetime.datetime.now(datetime.timezone.utc)
        t.start()
        spath, mpath = logfile(t, "s.log"), logfile(t, "m.log")
        wait_for(lambda: len(lines_of(spath)) >= 1, what=spath)
        wait_for(lambda: len(lines_of(mpath)) >= 2, what=mpath)
        after = datetime.datetime.now(datetime.timezone.utc)
        seen = []
        for path in (spath, mpath):
            for line in lines_of(path):
                m = ts.match(line)
                check(m, "%s: no RFC 3339 UTC time with milliseconds "
                      "at the start of %r" % (os.path.basename(path), line))
                when = datetime.datetime.strptime(
                    m.group(1), "%Y-%m-%dT%H:%M:%S.%f").replace(
                        tzinfo=datetime.timezone.utc)
                slack = datetime.timedelta(seconds=5)
                check(before - slack <= when <= after + slack,
                      "time %s not between %s and %s" % (m.group(1), before,
                                                        after))
                seen.append(m.group(2))
        eq(sorted(seen), ["hello", "m:0 | hi 0", "m:1 | hi 1"],
           "(the time comes before the instance prefix)")
        t.stop()


def test_log_mode():
    with Tend("") as t:
        logdir(t)
        t.write_config(progs(
            prog("dflt", "echo x; " + SLEEP, start_secs=0, umask="077"),
            prog("tight", script(t, "lines", LINES), start_secs=0,
                 log_mode="0600", log_max_size=4096,
                 environment={"N": "1000", "THEN": "sleep"})))
        t.start()
        d = logfile(t, "dflt.log")
        wait_for(lambda: has_lines(d, "x"), what=d)
        eq(oct(os.stat(d).st_mode & 0o7777), oct(0o640),
           "default log_mode, whatever the program's umask")
        p = logfile(t, "tight.log")
        wait_for(lambda: has_lines(p, "n 1000"), what="n 1000 in " + p)
        for f in (p, p + ".1"):
            eq(oct(os.stat(f).st_mode & 0o7777), oct(0o600),
               "log_mode 0600 for " + os.path.basename(f))
        t.stop()


def test_log_owner_is_program_user():
    need_root()
    import pwd
    nobody = pwd.getpwnam("nobody")
    with Tend("") as t:
        logdir(t)
        t.write_config(prog("nob", "seq 1 2000; " + SLEEP, start_secs=0,
                            user="nobody", log_max_size=4096))
        t.start()
        p = logfile(t, "nob.log")
        wait_for(lambda: has_lines(p, "2000"), what="2000 in " + p)
        for f in (p, p + ".1"):
            st = os.stat(f)
            eq(st.st_uid, nobody.pw_uid, "owner of %s (gid %d)" % (
                os.path.basename(f), st.st_gid))
            eq(oct(st.st_mode & 0o7777), oct(0o640), os.path.basename(f))
        t.stop()


# --------------------------------------------------------------- rotation

def test_rotation_at_size_with_keep():
    width, n, limit, keep = 41, 3000, 4096, 3
    with Tend("") as t:
        logdir(t)
        t.write_config(prog("app", script(t, "lines", LINES), start_secs=0,
                            log_max_size="4K", log_keep=keep,
                            environment={"N": str(n), "WIDTH": str(width),
                                         "THEN": "sleep"}))
        t.start()
        pid = t.wait_state("app", "running")["pid"]
        path = logfile(t, "app.log")
        last = "n %d " % n
        wait_for(lambda: any(l.startswith(last) for l in lines_of(path)),
                 what="the last line in app.log")
        names = sorted(f for f in os.listdir(logdir(t)))
        want = ["app.log"] + ["app.log.%d" % i for i in range(1, keep + 1)]
        eq(names, sorted(want), "files after rotation with log_keep=%d"
           % keep)
        for f in want:
            size = os.path.getsize(logfile(t, f))
            check(size <= limit, "%s: %d bytes > log_max_size %d" % (
                f, size, limit))
            if f != "app.log":
                check(size > limit - width, "%s: %d bytes, not near the "
                      "limit %d (lines are %d bytes)" % (f, size, limit,
                                                          width))
        allb = b"".join(read(logfile(t, f)) for f in
                        ["app.log.%d" % i for i in range(keep, 0, -1)] +
                        ["app.log"])
        nums = numbers(allb.decode().split("\n")[:-1],
                       allow_first_fragment=True)
        check_consecutive(nums, "rotated files, oldest first")
        eq(nums[-1], n)
        check(len(nums) >= keep * (limit // width - 1),
              "only %d lines kept" % len(nums))
        st = t.status()["app"]
        eq(st["pid"], pid, "the program was restarted by rotation")
        eq(st["state"], "running")
        eq(st["log_dropped"], 0)
        t.stop()


def test_rotate_every():
    with Tend("") as t:
        logdir(t)
        t.write_config(prog("tick", script(t, "ticker", TICKER),
                            start_secs=0, log_rotate_every="1s",
                            environment={"PERIOD": "0.05"}))
        t.start()
        path = logfile(t, "tick.log")
        t0 = time.monotonic()
        wait_for(lambda: os.path.exists(path + ".1"), what="tick.log.1")
        wait_for(lambda: os.path.exists(path + ".2"), what="tick.log.2")
        took = time.monotonic() - t0
        check(took >= 0.9, "two rotations in %.2fs with "
              "log_rotate_every=1s" % took)
        t.ctl("stop", "tick", check=0)
        files = sorted((f for f in os.listdir(logdir(t))
                        if f.startswith("tick.log.")),
                       key=lambda f: -int(f.rsplit(".", 1)[1]))
        check(len(files) <= 5, "more than log_keep=5 files: %r" % files)
        allb = b"".join(read(logfile(t, f)) for f in files + ["tick.log"])
        for f in files:
            check(os.path.getsize(logfile(t, f)) > 0, f + " is empty")
        nums = numbers(allb.decode().split("\n")[:-1])
        check_consecutive(nums, "tick.log.N ... tick.log")
        t.stop()


def reopen_test(reopen):
    with Tend("") as t:
        logdir(t)
        t.write_config(prog("tick", script(t, "ticker", TICKER),
                            start_secs=0))
        t.start()
        path = logfile(t, "tick.log")
        wait_for(lambda: len(lines_of(path)) >= 5, what="5 lines")
        os.rename(path, path + ".old")
        # Until the reopen the renamed file still gets the lines.
        n = len(lines_of(path + ".old"))
        wait_for(lambda: len(lines_of(path + ".old")) > n + 2,
                 what="lines in the renamed file")
        reopen(t)
        wait_for(lambda: len(lines_of(path)) >= 5, what="5 lines in a "
                 "new tick.log after the reopen")
        eq(oct(os.stat(path).st_mode & 0o7777), oct(0o640))
        t.ctl("stop", "tick", check=0)
        old, new = lines_of(path + ".old"), lines_of(path)
        check_consecutive(numbers(old + new), "tick.log.old + tick.log")
        check(pid_alive(t.proc.pid), "tendd died")
        t.stop()


def test_reopen_on_sigusr1():
    reopen_test(lambda t: t.proc.send_signal(signal.SIGUSR1))


def test_reopen_with_logrotate_command():
    def rot(t):
        r = t.ctl("--json", "logrotate", check=0)
        res = json.loads(r.stdout)
        check(isinstance(res.get("reopened"), int) and res["reopened"] >= 1,
              "logrotate --json: %r" % res)
    reopen_test(rot)
    with Tend(prog("a", "echo x; " + SLEEP, start_secs=0)) as t:
        t.start()
        t.ctl("logrotate", check=0)
        t.stop()


# ------------------------------------------------------- other sinks

def test_inherit_pipe_with_and_without_prefix():
    io = ('echo "out $TEND_PROGRAM$TEND_INSTANCE"; '
          'echo "err $TEND_PROGRAM$TEND_INSTANCE" >&2; ' + SLEEP)
    with Tend("") as t:
        t.write_config(progs(
            prog("pre", io, start_secs=0, stdout="inherit",
                 stderr="inherit"),
            prog("raw", io, start_secs=0, stdout="inherit",
                 stderr="inherit", log_prefix=False),
            prog("two", io, start_secs=0, stdout="inherit",
                 stderr="inherit", instances=2)))
        p = start_with(t, subprocess.PIPE, subprocess.PIPE)
        out, err = Reader(p.stdout.fileno()), Reader(p.stderr.fileno())
        try:
            want_out = ["pre | out pre0", "out raw0", "two:0 | out two0",
                        "two:1 | out two1"]
            want_err = [w.replace("out", "err") for w in want_out]
            out.wait(lambda ls: all(w in ls for w in want_out),
                     what="%r on tendd's stdout" % want_out)
            err.wait(lambda ls: all(w in ls for w in want_err),
                     what="%r on tendd's stderr" % want_err)
            for l in out.lines():
                check("err " not in l, "stderr line on stdout: %r" % l)
            for l in err.lines():
                check(not re.search(r"\bout (pre|raw|two)", l),
                      "stdout line on stderr: %r" % l)
            check("raw | out raw0" not in out.lines(),
                  "prefix despite log_prefix = false")
            check(not os.path.exists(logfile(t, "pre.log")),
                  "inherit also wrote pre.log")
            t.stop()
            out.wait_eof()
            err.wait_eof()
        finally:
            p.stdout.close()
            p.stderr.close()


def test_inherit_devnull():
    with Tend("") as t:
        t.write_config(prog("app", script(t, "lines", LINES), start_secs=0,
                            restart="never", stdout="inherit",
                            stderr="inherit", environment={"N": "20000"}))
        with open(t.log_path, "ab") as log:
            start_with(t, subprocess.DEVNULL, log)
        r = t.ctl("wait", "app", check=0)
        eq(logs(t, "-n", "1", "app"), ["n 20000"], r.stdout)
        st = t.status()["app"]
        eq(st["last_exit"]["code"], 0)
        eq(st["log_dropped"], 0)
        check("seek" not in t.read_log().lower(), t.read_log()[-2000:])
        t.stop()


def test_inherit_tty_and_plain_file():
    with Tend("") as t:
        t.write_config(progs(
            prog("tty", 'echo "tty line"; ' + SLEEP, start_secs=0,
                 stdout="inherit", autostart=False),
            prog("file", 'echo "file line"; ' + SLEEP, start_secs=0,
                 stdout="inherit", autostart=False)))
        # tendd's stdout a terminal.
        master, slave = pty.openpty()
        try:
            with open(t.log_path, "ab") as log:
                start_with(t, slave, log)
            os.close(slave)
            slave = None
            out = Reader(master)
            t.ctl("start", "tty", check=0)
            out.wait(lambda ls: "tty | tty line" in ls, what="tty line")
            t.stop()
        finally:
            if slave is not None:
                os.close(slave)
            os.close(master)
        # tendd's stdout a plain file, not opened for appending, with data
        # already in it.
        path = os.path.join(t.dir, "stdout.txt")
        with open(path, "wb") as f:
            f.write(b"header\n")
            f.flush()
            with open(t.log_path, "ab") as log:
                start_with(t, f, log)
        t.ctl("start", "file", check=0)
        wait_for(lambda: "file | file line" in lines_of(path),
                 what="file line in tendd's stdout file")
        check(read(path).startswith(b"header\n"), read(path)[:200])
        t.stop()


def test_null_sink_keeps_ring():
    with Tend("") as t:
        logdir(t)
        t.write_config(prog("quiet", 'echo one; echo two >&2; echo three; '
                            + SLEEP, start_secs=0, stdout="null",
                            stderr="null"))
        t.start()
        wait_for(lambda: sorted(logs(t, "quiet")) ==
                 ["one", "three", "two"], what="the lines in the ring")
        check(not os.path.exists(logfile(t, "quiet.log")),
              "quiet.log exists with stdout and stderr null")
        t.stop()


def test_journal_or_fallback():
    with Tend("") as t:
        # Unique, to find its entries in the journal.
        name = "tendlog%x%x" % (os.getpid(), int(time.time() * 1000))
        t.write_config(prog(name, 'echo "out line"; echo "err line" >&2; '
                            'echo "<4>warn line"; ' + SLEEP, start_secs=0,
                            stdout="journal", stderr="journal"))
        ok, why = journald_usable()
        t.start()
        wait_for(lambda: len(logs(t, name)) == 3, what="3 lines in the ring")
        if ok:
            def entries():
                r = subprocess.run(["journalctl", "-o", "json", "--no-pager",
                                    "TEND_PROGRAM=" + name],
                                   capture_output=True, text=True, timeout=30)
                return [json.loads(l) for l in r.stdout.splitlines()
                        if l.strip()]
            es = wait_for(lambda: len(entries()) >= 3 and entries(),
                          what="3 journal entries")
            by = {e["MESSAGE"]: e for e in es}
            eq(sorted(by), ["err line", "out line", "warn line"])
            for msg, prio in (("out line", "6"), ("err line", "3"),
                              ("warn line", "4")):
                e = by[msg]
                eq(e["PRIORITY"], prio, msg)
                eq(e["SYSLOG_IDENTIFIER"], name)
                eq(e["TEND_PROGRAM"], name)
                # As in the program's environment: the index.
                eq(e["TEND_INSTANCE"], "0")
            check(not os.path.exists(logfile(t, name + ".log")),
                  "journal lines also went to the file")
        else:
            print("journalctl part skipped: %s; checking the fallback" % why)
            path = logfile(t, name + ".log")
            wait_for(lambda: "out line" in lines_of(path) and
                     "err line" in lines_of(path) and
                     any("warn line" in l for l in lines_of(path)),
                     what="fallback to " + path)
            said = [l for l in t.read_log().splitlines() if "journald" in l]
            eq(len(said), 1, "lines of tendd's log about journald:\n%s" %
               "\n".join(said))
        t.stop()


def test_stderr_merged_into_stdout():
    with Tend("") as t:
        logdir(t)
        t.write_config(prog("mix", script(t, "alt", ALTERNATE), start_secs=0,
                            stderr="stdout"))
        t.start()
        path = logfile(t, "mix.log")
        want = ["%s %d" % ("oe"[i % 2], i) for i in range(200)]
        wait_for(lambda: len(lines_of(path)) >= 200, what="200 lines")
        eq(lines_of(path), want, "one pipe: the order is kept")
        objs = logs_json(t, "-n", "1000", "mix")
        eq(texts(objs), want)
        eq(set(o["stream"] for o in objs), {"stdout"})
        eq(logs(t, "--stderr", "mix"), [])
        t.stop()


def test_stderr_to_its_own_sink():
    io = ('echo "out-$TEND_PROGRAM"; echo "err-$TEND_PROGRAM" >&2; ' + SLEEP)
    with Tend("") as t:
        logdir(t)
        t.write_config(progs(
            prog("a", io, start_secs=0, stderr="inherit"),
            prog("b", io, start_secs=0, stdout="null", stderr="file"),
            prog("c", io, start_secs=0, stderr="null")))
        t.start()
        wait_for(lambda: "a | err-a" in t.read_log().splitlines(),
                 what="a's stderr in tendd's own stderr")
        for name, want in (("a", "out-a"), ("b", "err-b"), ("c", "out-c")):
            path = logfile(t, name + ".log")
            wait_for(lambda: has_lines(path, want), what=want)
            eq(lines_of(path), [want], name + ".log")
        check("out-a" not in t.read_log(), "a's stdout on tendd's stderr")
        for name in "abc":
            wait_for(lambda: len(logs(t, name)) == 2, what=name + " ring")
            eq(logs(t, "--stdout", name), ["out-" + name])
            eq(logs(t, "--stderr", name), ["err-" + name])
        t.stop()


# ---------------------------------------------------------- tendctl logs

def test_logs_n_instances_and_streams():
    with Tend("") as t:
        logdir(t)
        t.write_config(progs(
            prog("one", script(t, "lines", LINES), start_secs=0,
                 restart="never", environment={"N": "100"}),
            prog("multi", 'for i in 1 2 3 4 5; do '
                 'echo "m$TEND_INSTANCE-$i"; done; ' + SLEEP,
                 instances=2, start_secs=0),
            prog("st", 'echo out1; echo err1 >&2; sleep 0.2; echo out2; '
                 + SLEEP, start_secs=0)))
        t.start()
        t.ctl("wait", "one", check=0)
        eq(logs(t, "-n", "10", "one"), ["n %d" % i for i in range(91, 101)])
        eq(logs(t, "one"), ["n %d" % i for i in range(51, 101)],
           "default -n 50")
        got = wait_for(lambda: len(logs(t, "-n", "100", "multi")) == 10 and
                       logs(t, "-n", "100", "multi"), what="10 lines")
        for i in (0, 1):
            mine = [l for l in got if l.startswith("multi:%d | " % i)]
            eq(mine, ["multi:%d | m%d-%d" % (i, i, j) for j in range(1, 6)])
        eq(logs(t, "multi:1"), ["m1-%d" % j for j in range(1, 6)],
           "(one instance selected: no prefix)")
        eq(logs(t, "-n", "3", "multi:1"), ["m1-3", "m1-4", "m1-5"])
        both = logs(t, "-n", "200", "one", "multi:0")
        eq(len(both), 105)
        check(all(re.match(r"^(one|multi:0) \| ", l) for l in both),
              "several instances: NAME | text: %r" % both[:3])
        wait_for(lambda: len(logs(t, "st")) == 3, what="st's lines")
        eq(logs(t, "--stdout", "st"), ["out1", "out2"])
        eq(logs(t, "--stderr", "st"), ["err1"])
        r = t.ctl("logs", "nosuch", check=4)
        check("nosuch" in r.stderr, r.stderr)
        t.stop()


def test_logs_json_shape():
    with Tend("") as t:
        logdir(t)
        t.write_config(progs(
            prog("js", "echo hello; sleep 0.1; echo oops >&2; " + SLEEP,
                 start_secs=0),
            prog("jm", 'echo "hi $TEND_INSTANCE"; ' + SLEEP, instances=2,
                 start_secs=0)))
        t0 = time.time()
        t.start()
        objs = wait_for(lambda: len(logs_json(t, "js")) == 2 and
                        logs_json(t, "js"), what="js's 2 lines")
        for o in objs:
            for k in ("time", "instance", "program", "stream", "text"):
                check(k in o, "logs --json line lacks %r: %r" % (k, o))
            check(isinstance(o["time"], (int, float)) and
                  t0 - 5 <= o["time"] <= time.time() + 5,
                  "time %r" % o["time"])
            eq(o["instance"], "js")
            eq(o["program"], "js")
            check(not o.get("partial"), "partial: %r" % o)
        eq([(o["stream"], o["text"]) for o in objs],
           [("stdout", "hello"), ("stderr", "oops")])
        check(objs[0]["time"] <= objs[1]["time"], "not oldest first")
        objs = wait_for(lambda: len(logs_json(t, "jm")) == 2 and
                        logs_json(t, "jm"), what="jm's 2 lines")
        eq(sorted((o["instance"], o["program"], o["text"]) for o in objs),
           [("jm:0", "jm", "hi 0"), ("jm:1", "jm", "hi 1")])
        # --json is accepted after the command too.
        r = t.ctl("logs", "--json", "jm:0", check=0)
        eq([json.loads(l)["text"] for l in r.stdout.splitlines()], ["hi 0"])
        t.stop()


def test_follow_across_restart():
    tick = ('i=0; while :; do i=$((i+1)); echo "tick $$ $i"; '
            'sleep 0.05; done')
    with Tend("") as t:
        logdir(t)
        t.write_config(prog("tick", tick, start_secs=0, restart="always"))
        t.start()
        pid1 = t.wait_state("tick", "running")["pid"]
        human = Follower(t, "logs", "-f", "-n", "3", "tick")
        js = Follower(t, "--json", "logs", "-f", "-n", "3", "tick")
        try:
            human.out.wait(lambda ls: any(l.startswith("tick %d " % pid1)
                                          for l in ls[3:]),
                           what="new lines of pid %d" % pid1)
            t.ctl("restart", "tick", check=0)
            pid2 = t.status()["tick"]["pid"]
            check(pid2 != pid1)
            mine = re.compile(r"^tick %d (\d+)$" % pid2)
            ls = human.out.wait(
                lambda ls: len([l for l in ls if mine.match(l)]) >= 5,
                what="5 lines of the restarted pid %d" % pid2)
            eq([int(mine.match(l).group(1)) for l in ls if mine.match(l)][:5],
               [1, 2, 3, 4, 5], "the new process's first lines")
            # Killed and restarted by its policy: still followed.
            t.ctl("signal", "KILL", "tick", check=0)
            pid3 = wait_for(lambda: t.status()["tick"]["pid"] not in
                            (pid1, pid2, None) and t.status()["tick"]["pid"],
                            what="an automatic restart")
            human.out.wait(lambda ls: any(l.startswith("tick %d " % pid3)
                                          for l in ls),
                           what="lines of pid %d" % pid3)
            jl = js.out.wait(lambda ls: any(
                ('"tick %d ' % pid3) in l for l in ls),
                what="JSON lines of pid %d" % pid3)
            for l in jl:
                o = json.loads(l)
                eq(o["instance"], "tick")
                check(o["text"].startswith("tick "), repr(o))
            eq(human.interrupt(), 0, human.err.text())
            eq(js.interrupt(), 0, js.err.text())
            eq(human.err.text(), "", "tendctl logs -f stderr")
        finally:
            human.close()
            js.close()
        t.stop()


def test_wait_sees_all_output():
    with Tend("") as t:
        logdir(t)
        t.write_config(progs(
            prog("burst", script(t, "lines", LINES), start_secs=0,
                 restart="never", environment={"N": "50000"}),
            prog("both", "seq 1 20000; seq 20001 40000 >&2", start_secs=0,
                 restart="never"),
            prog("bg", "sleep 600 & echo parent-done", start_secs=0,
                 restart="never")))
        t.start()
        t.ctl("wait", "burst", "both", check=0)
        # No polling: the exit is reported once the pipes are drained.
        got = lines_of(logfile(t, "burst.log"))
        eq(len(got), 50000)
        check_consecutive(numbers(got), "burst.log")
        eq(logs(t, "-n", "1", "burst"), ["n 50000"])
        got = lines_of(logfile(t, "both.log"))
        eq(sorted(int(x) for x in got), list(range(1, 40001)))
        # A child still holds the pipe: the exit is reported anyway.
        r = t.ctl("wait", "--timeout", "10", "bg")
        check(r.returncode == 0, "wait: exit %d while a child kept the pipe "
              "open: %s%s" % (r.returncode, r.stdout, r.stderr))
        wait_for(lambda: "parent-done" in lines_of(logfile(t, "bg.log")),
                 what="parent-done")
        for p in t.procs():
            os.kill(p, signal.SIGKILL)
        t.stop()


def test_partial_lines():
    with Tend("") as t:
        logdir(t)
        t.write_config(progs(
            prog("pp", script(t, "partial", PARTIAL), start_secs=0),
            prog("ex", "printf 'last words'", start_secs=0,
                 restart="never")))
        t.start()
        objs = wait_for(lambda: [o for o in logs_json(t, "pp")
                                 if o["text"] == "prompt> "] and
                        logs_json(t, "pp"),
                        what="the unterminated prompt, after 1 s of quiet")
        eq([(o["text"], bool(o.get("partial"))) for o in objs],
           [("abcdef", False), ("prompt> ", True)])
        path = logfile(t, "pp.log")
        wait_for(lambda: b"prompt> " in read(path), what="prompt in pp.log")
        check(read(path).startswith(b"abcdef\nprompt> "), read(path))
        t.ctl("wait", "ex", check=0)
        objs = logs_json(t, "ex")
        eq([(o["text"], bool(o.get("partial"))) for o in objs],
           [("last words", True)])
        check(read(logfile(t, "ex.log")).startswith(b"last words"),
              read(logfile(t, "ex.log")))
        t.stop()


def test_huge_line_without_newline():
    total = 128 << 20           # far beyond log_line_max and the ring
    with Tend("") as t:
        logdir(t)
        t.write_config(progs(
            prog("big", script(t, "huge", HUGE), start_secs=0,
                 log_max_size=0,
                 environment={"D": t.dir, "TOTAL": str(total)}),
            prog("cut", "head -c 1000 /dev/zero | tr '\\0' y; echo; "
                 + SLEEP, start_secs=0, log_line_max=256)))
        start_small_quarantine(t)
        t.wait_state("big", "running")
        # Baseline once tendd has settled: a few status round trips.
        for _ in range(3):
            t.status()
        base = vm(t.proc.pid, "VmRSS")
        open(os.path.join(t.dir, "go"), "w").close()
        path = logfile(t, "big.log")
        wait_for(lambda: os.path.exists(os.path.join(t.dir, "written")),
                 timeout=DEADLINE * 6, what="the program to write %d MiB"
                 % (total >> 20))
        wait_for(lambda: os.path.getsize(path) >= total,
                 what="%d bytes in big.log" % total)

        def payload():
            h, n = hashlib.sha256(), 0
            with open(path, "rb") as f:
                while True:
                    b = f.read(1 << 22)
                    if not b:
                        break
                    b = b.replace(b"\n", b"")
                    h.update(b)
                    n += len(b)
            return n, h.hexdigest()
        last = [None]

        def complete():
            last[0] = payload()
            return last[0][0] == total
        try:
            wait_for(complete, what="every byte in big.log")
        except Failure as e:
            raise Failure("%s: %r bytes without newlines, want %d" % (
                e, last[0] and last[0][0], total))
        n, got = last[0]
        chunk = (bytes(range(ord("a"), ord("z") + 1)) * 40330)[:1 << 20]
        h = hashlib.sha256()
        for _ in range(total // len(chunk)):
            h.update(chunk)
        eq(got, h.hexdigest(), "big.log (newlines removed) differs from "
           "what the program wrote")
        peak = vm(t.proc.pid, "VmHWM")
        check(peak - base < 64 * 1024, "tendd's peak RSS %d KiB, %d KiB "
              "over its baseline, for one long line" % (peak, peak - base))
        objs = logs_json(t, "-n", "100000", "big")
        check(objs, "no line of big in the ring")
        for o in objs:
            check(0 < len(o["text"]) <= 65536, "piece of %d bytes > "
                  "log_line_max" % len(o["text"]))
            check(o.get("partial") is True, "a cut piece not partial")
        check(pid_alive(t.status()["big"]["pid"]))
        # log_line_max = 256: 1000 bytes in pieces of at most 256.
        wait_for(lambda: "".join(texts(logs_json(t, "cut"))) == "y" * 1000,
                 what="cut's 1000 bytes in the ring")
        objs = logs_json(t, "cut")
        check(all(len(o["text"]) <= 256 for o in objs),
              [len(o["text"]) for o in objs])
        check(all(o.get("partial") for o in objs[:-1]),
              "pieces before the last are not partial")
        eq(read(logfile(t, "cut.log")).replace(b"\n", b""), b"y" * 1000)
        t.stop()


def test_binary_bytes():
    with Tend("") as t:
        logdir(t)
        t.write_config(prog("bin", script(t, "binary", BINARY),
                            start_secs=0))
        t.start()
        path = logfile(t, "bin.log")
        want = b"".join(l + b"\n" for l in BINARY_LINES)
        wait_for(lambda: len(read(path)) >= len(want), what="bin.log")
        eq(read(path), want, "bytes in bin.log")

        def norm(s):
            return re.sub(r"\\x([0-9a-fA-F]{2})",
                          lambda m: "\\x" + m.group(1).lower(), s)
        objs = wait_for(lambda: len(logs_json(t, "bin")) == len(BINARY_LINES)
                        and logs_json(t, "bin"), what="the ring")
        for line, o in zip(BINARY_LINES, objs):
            eq(norm(o["text"]), line.decode("utf-8", "backslashreplace"),
               "JSON text of %r" % line)
        t.stop()


# ------------------------------------------------------ trouble handling

def test_slow_follower():
    flood = 96 << 20
    with Tend("") as t:
        logdir(t)
        t.write_config(prog("flood", ["yes", "flood " + "x" * 94],
                            start_secs=0, autostart=False,
                            log_max_size="4M", log_keep=1))
        start_small_quarantine(t)
        for _ in range(3):
            t.status()
        base = vm(t.proc.pid, "VmRSS")
        human = Follower(t, "logs", "-f", "-n", "0", "flood", read=False)
        js = Follower(t, "--json", "logs", "-f", "-n", "0", "flood",
                      read=False)
        try:
            t.ctl("start", "flood", check=0)
            pid = t.status()["flood"]["pid"]
            worst = 0.0
            end = time.monotonic() + DEADLINE * 3
            while True:
                check(time.monotonic() < end, "the program is held up: it "
                      "wrote %d of %d bytes in %.0fs" % (
                          wchar(pid), flood, DEADLINE * 3))
                t0 = time.monotonic()
                t.status()
                worst = max(worst, time.monotonic() - t0)
                if wchar(pid) >= flood:
                    break
                check(pid_alive(pid), "flood died")
                check(human.p.poll() is None and js.p.poll() is None,
                      "a follower exited")
                time.sleep(0.1)
            check(worst < 3, "status took %.1fs while a follower was stuck"
                  % worst)
            peak = vm(t.proc.pid, "VmHWM")
            check(peak - base < 64 * 1024, "tendd's peak RSS %d KiB, %d KiB"
                  " over its baseline, with stuck followers" % (
                      peak, peak - base))
            t0 = time.monotonic()
            t.ctl("stop", "flood", check=0)
            check(time.monotonic() - t0 < 10, "stop took %.1fs" % (
                time.monotonic() - t0))
            human.out.start()
            js.out.start()
            missed = re.compile(r"^tendctl: (\d+) lines missed \(not "
                                r"reading fast enough\)$")
            ls = human.err.wait(lambda ls: any(missed.match(l) for l in ls),
                                what="the 'lines missed' report")
            n = int(next(missed.match(l) for l in ls if missed.match(l))
                    .group(1))
            check(n > 0, "missed %d" % n)

            def jmissed(ls):
                for l in ls:
                    if l.startswith('{"missed"') or '"missed"' in l[:20]:
                        o = json.loads(l)
                        if set(o) == {"missed"}:
                            return o["missed"]
                return None
            ls = js.out.wait(lambda ls: jmissed(ls) is not None,
                             what='{"missed": N} on stdout')
            check(jmissed(ls) > 0, "missed %r" % jmissed(ls))
            # Every line whole; life-cycle lines are set apart.
            lc = re.compile(r"^-- flood (started \(pid \d+\)|killed by "
                            r"signal [A-Z]+; stopped|exited with code "
                            r"\d+; stopped) --$")
            for l in human.out.lines():
                check(l == "flood " + "x" * 94 or lc.match(l),
                      "garbled line %r" % l[:200])
            eq(human.interrupt(), 0)
            eq(js.interrupt(), 0)
        finally:
            human.close()
            js.close()
        t.stop()


def follow_socket(t, name):
    """A follower of name that never reads unless asked: a bare socket
    with the logs request sent."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(t.sock)
    s.sendall((json.dumps({"v": 1, "id": 1, "cmd": "logs", "args": {
        "targets": [name], "lines": 0, "follow": True}}) + "\n").encode())
    return s


def is_asan(path):
    with open(path, "rb") as f:
        return b"__asan_init" in f.read()


def test_stuck_followers_cost_about_their_cap():
    # 20 followers that never read while a program floods. Each may have
    # 1 MiB queued in tendd (LOGS_FOLLOW_CAP) plus one line past it; with
    # libevent's chains that costs about that much heap in a release
    # build (it cost 5.8 MiB when each queued line had a chain of its own,
    # 1 KiB for 230 bytes). ASan's size classes, redzones and shadow make
    # it about twice that, and its quarantine (4 MiB here) holds freed
    # blocks. A follower that reads again gets what was queued, bounded,
    # then the count of what it missed; once they go, tendd gives the
    # memory back (not measurable under ASan, whose allocator keeps it).
    n, cap, mib = 20, 1 << 20, 1 << 20
    asan = is_asan(TENDD)
    per = cap * (2.5 if asan else 1.25)
    slack = (8 if asan else 4) * mib
    with open("/proc/sys/net/core/wmem_default") as f:
        sndbuf = int(f.read())
    with Tend("") as t:
        logdir(t)
        t.write_config(prog("flood", ["yes", "flood " + "x" * 94],
                            start_secs=0, autostart=False,
                            log_max_size="4M", log_keep=1))
        start_small_quarantine(t)
        t.ctl("start", "flood")
        pid = t.status()["flood"]["pid"]

        def flooded(mbytes):
            w = wchar(pid)
            wait_for(lambda: wchar(pid) >= w + mbytes * mib,
                     timeout=DEADLINE * 3,
                     what="the program to write %d MiB more" % mbytes)
        # Baseline: tendd with the flood going and nobody following.
        flooded(16)
        for _ in range(3):
            t.status()
        base = vm(t.proc.pid, "VmRSS") * 1024
        socks = [follow_socket(t, "flood") for _ in range(n)]
        try:
            # Every line goes to every follower: 32 MiB of lines fill
            # each queue many times over.
            peak = 0
            w = wchar(pid)
            end = time.monotonic() + DEADLINE * 3
            while wchar(pid) < w + 32 * mib:
                check(time.monotonic() < end, "the flood is held up")
                peak = max(peak, vm(t.proc.pid, "VmRSS") * 1024)
                time.sleep(0.05)
            peak = max(peak, vm(t.proc.pid, "VmRSS") * 1024)
            bound = base + n * per + slack
            check(peak < bound, "tendd's RSS %.1f MiB with %d stuck "
                  "followers: %.1f MiB over its %.1f MiB without, more "
                  "than %.1f MiB each" % (peak / mib, n, (peak - base) / mib,
                                          base / mib, (bound - base) / mib
                                          / n))
            # One reads again: what was queued for it (at most the cap,
            # a line and what the socket holds), then "missed".
            s = socks[0]
            s.settimeout(DEADLINE)
            data = b""
            while True:
                got = s.recv(1 << 16)
                check(got, "end of the stream before 'missed'")
                data += got
                i = data.find(b'"type":"missed"')
                if i != -1 and b"\n" in data[i:]:
                    break
                check(len(data) < cap + 2 * sndbuf + 65536,
                      "%d bytes and no 'missed' yet" % len(data))
            before, line = data[:i].rsplit(b"\n", 1)
            line += data[i:].split(b"\n", 1)[0]
            count = json.loads(line)["event"]["count"]
            check(count > 0, "missed %r" % count)
            check(len(before) < cap + 2 * sndbuf + 65536,
                  "%d bytes before 'missed'" % len(before))
        finally:
            for s in socks:
                s.close()
        if not asan:
            wait_for(lambda: vm(t.proc.pid, "VmRSS") * 1024 < base + 4 * mib,
                     what="tendd's RSS back near %.1f MiB (now %.1f)" % (
                         base / mib, vm(t.proc.pid, "VmRSS") / 1024))
        t.stop()


def test_follow_history_fits_the_queue_cap():
    # `logs -f -n N` queues its history at once: like what follows, it is
    # bounded by the follower's queue cap (1 MiB), the newest lines that
    # fit, not all of a 4 MiB ring.
    n, width, cap = 40000, 100, 1 << 20
    with Tend("") as t:
        logdir(t)
        t.write_config(prog("big", script(t, "lines", LINES), start_secs=0,
                            restart="never", log_ring_size="4M",
                            environment={"N": str(n), "WIDTH": str(width)}))
        t.start()
        t.ctl("wait", "big", check=0)
        eq(numbers(logs(t, "-n", "1", "big")), [n])
        f = Follower(t, "--json", "logs", "-f", "-n", "100000", "big")
        try:
            ls = f.out.wait(lambda ls: any(NUM.match(json.loads(l)["text"])
                                           and json.loads(l)["text"]
                                           .startswith("n %d " % n)
                                           for l in ls[-3:]),
                            what="the history up to line %d" % n)
            nums = numbers([json.loads(l)["text"] for l in ls])
            check_consecutive(nums, "history")
            eq(nums[-1], n)
            # Each event is its line object and about 50 bytes around it.
            size = sum(len(l) + 50 for l in ls)
            check(size <= cap, "%d lines, about %d bytes of events: more "
                  "than the %d a follower may have queued" % (len(ls),
                                                             size, cap))
            check(size > cap // 2, "%d lines, about %d bytes: not as "
                  "many as fit" % (len(ls), size))
            eq(f.interrupt(), 0)
        finally:
            f.close()
        t.stop()


def test_disk_full():
    disk_full(stderr="file")


def test_disk_full_splice_path():
    # One stream into its own file: the bytes go by splice, and a failing
    # write must fall back to reading (and dropping) what was staged.
    disk_full(stderr="stdout")


def test_disk_full_flood():
    # A flood into a full disk: direct writes fail part way (tmpfs takes
    # O_DIRECT), the page cache then reports the error.
    disk_full(stderr="file", period="0")


def disk_full(stderr, period="0.002"):
    need_root()
    with Tend("") as t:
        d = logdir(t)
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k",
                            "tmpfs", d], capture_output=True, text=True)
        if r.returncode != 0:
            raise Skip("cannot mount a tmpfs: %s" % r.stderr.strip())
        try:
            t.write_config(prog("fill", script(t, "ticker", TICKER),
                                start_secs=0, log_max_size=0, stderr=stderr,
                                environment={"PERIOD": period,
                                             "PAD": "200"}))
            t.start()
            pid = t.wait_state("fill", "running")["pid"]
            st = wait_for(lambda: t.status()["fill"]["log_dropped"] > 0 and
                          t.status()["fill"], what="log_dropped > 0")
            st = wait_for(lambda: t.status()["fill"]["log_error"] and
                          t.status()["fill"], what="log_error")
            check("No space" in st["log_error"], st["log_error"])
            check("fill.log" in st["log_error"],
                  "log_error does not name the file: %r" % st["log_error"])
            eq(st["pid"], pid)
            eq(st["state"], "running")

            def last():
                ls = logs(t, "-n", "1", "fill")
                return numbers(ls)[-1] if ls else 0
            n1 = last()
            wait_for(lambda: last() > n1 + 20, what="new lines in the ring "
                     "while the disk is full")
            check(pid_alive(pid))
            # Free the space.
            path = os.path.join(d, "fill.log")
            n2 = last()
            os.truncate(path, 0)
            # Without O_APPEND the file may start with a hole (NULs).
            wait_for(lambda: any(n > n2 for n in numbers(
                [l.lstrip("\0") for l in lines_of(path) if l.strip("\0")],
                allow_first_fragment=True)),
                what="new lines in fill.log after space was freed")
            wait_for(lambda: t.status()["fill"]["log_error"] is None,
                     what="log_error to be null again")
            check(t.status()["fill"]["log_dropped"] > 0,
                  "log_dropped went back down")
            eq(t.status()["fill"]["pid"], pid)
            t.stop()
        finally:
            if t.proc is not None and t.proc.poll() is None:
                t.proc.kill()
                t.proc.wait()
            for p in t.procs():
                os.kill(p, signal.SIGKILL)
            if subprocess.run(["umount", d]).returncode != 0:
                subprocess.run(["umount", "-l", d])


def direct_fds(pid, path):
    """How many of pid's fds on path are open with O_DIRECT, and how
    many without."""
    direct = plain = 0
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            if os.readlink("/proc/%d/fd/%s" % (pid, fd)) != path:
                continue
            with open("/proc/%d/fdinfo/%s" % (pid, fd)) as f:
                m = re.search(r"^flags:\s+([0-7]+)$", f.read(), re.M)
        except OSError:
            continue
        if int(m.group(1), 8) & os.O_DIRECT:
            direct += 1
        else:
            plain += 1
    return direct, plain


def takes_direct_io(d):
    """Does the filesystem of directory d take O_DIRECT writes?"""
    path = os.path.join(d, ".direct-probe")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_DIRECT, 0o600)
    except OSError as e:
        if e.errno == errno.EINVAL:
            return False
        raise
    os.close(fd)
    os.unlink(path)
    return True


def test_flood_goes_around_the_page_cache():
    # A flood is read to an aligned place in tendd's buffer and written
    # with O_DIRECT, all but its first and last partial blocks. Every byte
    # must still land in order, two streams into one file must still be
    # cut at line boundaries, and `tendctl logs` must read the end back.
    n = 2000000
    cases = {
        # One stream (the splice path when it is not a flood).
        "one": ("seq 1 %d" % n, "stdout"),
        # stdout and stderr flooding the same file at once.
        "two": ("seq 1 %d & seq %d %d >&2; wait" % (n // 2, n // 2 + 1, n),
                "file"),
    }
    want = subprocess.run(["seq", "1", str(n)], stdout=subprocess.PIPE,
                          check=True).stdout
    with Tend("") as t:
        # A filesystem without direct I/O gets buffered writes, and the
        # O_DIRECT fd is never kept.
        fds = (1, 1) if takes_direct_io(logdir(t)) else (0, 1)
        t.write_config(progs(*[
            prog(name, cmd, stderr=stderr, start_secs=0, restart="never",
                 autostart=False, log_max_size=0)
            for name, (cmd, stderr) in cases.items()]))
        t.start()
        for name in cases:
            t.ctl("start", name)
            t.ctl("wait", name, check=0)
            path = logfile(t, name + ".log")
            data = read(path)
            if name == "one":
                check(data == want, "%s.log: %d bytes, not seq's %d (first "
                      "difference at %d)" % (name, len(data), len(want),
                      next((i for i, (a, b) in enumerate(zip(data, want))
                            if a != b), min(len(data), len(want)))))
                eq(logs(t, "-n", "3", name), [str(i) for i in
                                              range(n - 2, n + 1)])
            else:
                eq(len(data), len(want), "%s.log size" % name)
                got = sorted(int(x) for x in data.split(b"\n")[:-1])
                check(got == list(range(1, n + 1)),
                      "%s.log: a line is torn, lost or doubled" % name)
                last = logs(t, "-n", "1", name)
                eq(len(last), 1)
                check(last[0] in (str(n // 2), str(n)),
                      "last line %r" % last)
            eq(t.status()[name]["log_dropped"], 0)
            # The test would mean little if the flood took the page cache:
            # the O_DIRECT fd stays open beside the plain one.
            eq(direct_fds(t.proc.pid, path), fds,
               "tendd's (O_DIRECT, plain) fds on " + path)
        t.stop()


def test_flood_of_long_lines_read_back_cut():
    # In a flood, tendd keeps where the lines went in the file and reads
    # them back for `tendctl logs` (after a splice, and after a batched
    # write). Lines read back must be cut at log_line_max as lines kept
    # in memory are: 100,000 bytes as 65,536 (partial) + 34,464.
    n, size = 300, 100000
    cmd = ("yes $(head -c %d /dev/zero | tr '\\0' x) | head -n %d"
           % (size - 1, n))
    with Tend("") as t:
        logdir(t)
        t.write_config(progs(*[
            prog(name, cmd, stderr=stderr, start_secs=0, restart="never",
                 autostart=False, log_max_size=0, log_ring_size="1M")
            for name, stderr in (("spliced", "stdout"), ("read", "file"))]))
        t.start()
        for name in ("spliced", "read"):
            t.ctl("start", name)
            t.ctl("wait", name, check=0)
            eq(os.path.getsize(logfile(t, name + ".log")), n * size,
               name + ".log size")
            objs = logs_json(t, "-n", "6", name)
            eq([(len(o["text"]), o.get("partial", False)) for o in objs],
               [(65536, True), (size - 1 - 65536, False)] * 3,
               "%s: (length, partial) of the last six pieces" % name)
            check(all(set(o["text"]) == {"x"} for o in objs), name)
        t.stop()


def test_long_lines_read_back_in_whole_pieces():
    # Lines of 1 MiB, far past log_line_max (64 KiB) and the default ring
    # (64 KiB): `tendctl logs` shows the pieces of the last line the ring
    # holds, cut at 64 KiB from the line's start, whichever way the bytes
    # went (kept in memory, or spliced and read back from the file), and
    # never an empty line after a piece of exactly 64 KiB. A file that
    # gets a timestamp per piece gets no empty line either.
    mib, piece = 1 << 20, 65536
    cases = {
        # name: (letters, stderr, ring size)
        "one_read": ("a", "file", piece),
        "one_spliced": ("a", "stdout", piece),
        "three_read": ("abc", "file", mib // 2),
        "three_spliced": ("abc", "stdout", mib // 2),
        "stamped": ("a", "file", piece),
    }
    with Tend("") as t:
        logdir(t)
        t.write_config(progs(*[
            prog(name, script(t, "long_lines", LONG_LINES), stderr=stderr,
                 start_secs=0, restart="never", autostart=False,
                 log_max_size=0, log_ring_size=ring,
                 log_timestamps=name == "stamped",
                 environment={"SIZE": str(mib), "LETTERS": letters})
            for name, (letters, stderr, ring) in cases.items()]))
        t.start()
        for name, (letters, stderr, ring) in cases.items():
            t.ctl("start", name)
            t.ctl("wait", name, check=0)
            objs = logs_json(t, "-n", "100", name)
            got = [(len(o["text"]), o.get("partial", False)) for o in objs]
            check(objs and all(o["text"] for o in objs),
                  "%s: an empty line, or none: %r" % (name, got))
            check(all(set(o["text"]) == {letters[-1]} for o in objs),
                  "%s: not only the last line's %r" % (name, letters[-1]))
            # Cut where tendd cut the line when it read it: every piece
            # but the first (which the ring may hold only the end of) is
            # 64 KiB, and only the last is not partial.
            check(all(n == piece for n, _ in got[1:]) and
                  0 < got[0][0] <= piece, "%s: pieces %r" % (name, got))
            eq([p for _, p in got], [True] * (len(got) - 1) + [False],
               "%s: partial flags of %r" % (name, got))
            # The ring holds its size, less at most one record it let go
            # whole and the newline.
            total = sum(n for n, _ in got)
            check(total >= max(ring - piece - 1, piece - 1),
                  "%s: %d bytes of a %d-byte ring: %r" % (name, total,
                                                          ring, got))
            eq(logs(t, "-n", "5", name),
               [letters[-1] * n for n, _ in got[-5:]],
               "%s: tendctl logs -n 5" % name)
        ls = read(logfile(t, "stamped.log")).split(b"\n")[:-1]
        eq([len(l) for l in ls], [TS_LEN + len("start")] +
           [TS_LEN + piece] * (mib // piece), "stamped.log line lengths")
        t.stop()


def test_ring_start_drops_only_a_cut_line():
    # When the ring makes room by dropping the front of what it knows of
    # spliced output (a span of the file), `tendctl logs` leaves out the
    # line the new front falls inside, but not a line that starts right
    # there. Lines of 100 bytes: a flood, then 3 lines more, spliced on
    # their own; a ring of 1000 holds exactly the last 10 lines, one of
    # 1050 the last 10 and half of the one before.
    n, more, width = 20000, 3, 100
    with Tend("") as t:
        logdir(t)
        t.write_config(progs(*[
            prog("r%d" % ring, script(t, "flood_then", FLOOD_THEN),
                 stderr="stdout", start_secs=0, restart="never",
                 autostart=False, log_max_size=0, log_ring_size=ring,
                 environment={"N": str(n), "MORE": str(more),
                              "WIDTH": str(width),
                              "GO": os.path.join(t.dir, "go%d" % ring)})
            for ring in (1000, 1050)]))
        t.start()
        for ring in (1000, 1050):
            name = "r%d" % ring
            t.ctl("start", name)
            path = logfile(t, name + ".log")
            wait_for(lambda: os.path.getsize(path) == n * width,
                     what="the flood in " + path)
            open(os.path.join(t.dir, "go%d" % ring), "w").close()
            t.ctl("wait", name, check=0)
            eq(os.path.getsize(path), (n + more) * width, path)
            eq(numbers(logs(t, "-n", "100", name)),
               list(range(n + more - 9, n + more + 1)), name)
        t.stop()


def test_copytruncate_leaves_no_hole():
    # logrotate's copytruncate empties the file in place: tendd must go on
    # at the new end, not at its old offset (which would leave NULs).
    for stderr in ("file", "stdout"):
        with Tend("") as t:
            logdir(t)
            t.write_config(prog("ct", script(t, "ticker", TICKER),
                                start_secs=0, stderr=stderr,
                                environment={"PERIOD": "0.01", "PAD": "50"}))
            t.start()
            path = logfile(t, "ct.log")
            wait_for(lambda: os.path.getsize(path) > 4000,
                     what="some output")
            os.truncate(path, 0)
            wait_for(lambda: len(lines_of(path)) > 5, what="new lines")
            data = read(path)
            check(not data.startswith(b"\0"), "a hole after truncation "
                  "(stderr=%s): %r" % (stderr, data[:40]))
            check(len(data) < 4000, "the file grew back to the old size")
            t.stop()


def test_failing_sink_resumes_after_reopen():
    with Tend("") as t:
        d = logdir(t)
        path = os.path.join(d, "tick.log")
        os.mkdir(path)          # the log file cannot be opened
        t.write_config(prog("tick", script(t, "ticker", TICKER),
                            start_secs=0))
        t.start()
        pid = t.wait_state("tick", "running")["pid"]
        st = wait_for(lambda: t.status()["tick"]["log_dropped"] > 0 and
                      t.status()["tick"]["log_error"] and t.status()["tick"],
                      what="log_dropped and log_error")
        check("tick.log" in st["log_error"], st["log_error"])
        # On the change stream: log.dropped, coalesced (a second apart at
        # least), with what was dropped since the last one.
        def dropped_events():
            r = t.ctl("--json", "events", "--type", "log.dropped", "tick")
            return [json.loads(x) for x in r.stdout.splitlines()]
        ev = wait_for(dropped_events, what="a log.dropped event")
        eq(ev[0]["name"], "tick", repr(ev[0]))
        check(ev[0]["bytes"] > 0 and ev[0]["total"] >= ev[0]["bytes"],
              repr(ev[0]))
        check("tick.log" in ev[0]["error"], repr(ev[0]))
        wait_for(lambda: len(dropped_events()) >= 2, what="a second one")
        ev = dropped_events()
        for a, b in zip(ev, ev[1:]):
            check(b["time"] - a["time"] >= 0.9, "not coalesced: %r" % ev)
            eq(b["total"], a["total"] + b["bytes"], repr(ev))
        n = len(logs(t, "-n", "1000", "tick"))
        wait_for(lambda: len(logs(t, "-n", "1000", "tick")) > n + 5,
                 what="lines in the ring while the sink fails")
        os.rmdir(path)
        t.ctl("logrotate", check=0)
        wait_for(lambda: len(lines_of(path)) >= 5, what="lines in tick.log "
                 "after the reopen")
        check_consecutive(numbers(lines_of(path)), "tick.log")
        wait_for(lambda: t.status()["tick"]["log_error"] is None,
                 what="log_error to be null")
        st = t.status()["tick"]
        check(st["log_dropped"] > 0, "log_dropped went back to 0")
        eq(st["pid"], pid)
        t.stop()


def test_reload_applies_log_keys_live():
    with Tend("") as t:
        logdir(t)
        base = dict(start_secs=0, environment={"PERIOD": "0.02"})
        cmd = script(t, "ticker", TICKER)
        t.write_config(prog("tick", cmd, **base))
        t.start()
        pid = t.wait_state("tick", "running")["pid"]
        path = logfile(t, "tick.log")
        wait_for(lambda: len(lines_of(path)) >= 3, what="3 lines")
        t.write_config(prog("tick", cmd, log_timestamps=True,
                            log_file="other.log", **base))
        r = t.ctl("--json", "reload", check=0)
        ch = {c["program"]: c for c in json.loads(r.stdout)["changes"]}
        eq(ch["tick"]["action"], "updated", r.stdout)
        eq(sorted(ch["tick"]["keys"]), ["log_file", "log_timestamps"])
        other = os.path.join(t.dir, "other.log")
        ts = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z n \d+$")
        wait_for(lambda: len(lines_of(other)) >= 3, what="lines in "
                 "other.log after the reload")
        for l in lines_of(other):
            check(ts.match(l), "no timestamp: %r" % l)
        eq(t.status()["tick"]["pid"], pid, "reload restarted the program")
        t.ctl("stop", "tick", check=0)
        nums = numbers(lines_of(path)) + [int(l.rsplit(" ", 1)[1])
                                          for l in lines_of(other)]
        check_consecutive(nums, "tick.log + other.log")
        t.stop()


def test_reload_merges_stderr_live():
    # The running program keeps its own stderr pipe; after a reload to
    # stderr="stdout" its stderr lines go to stdout's sink, at once, even
    # if it never writes to stdout.
    cmd = ('i=0; while :; do echo "e $i" >&2; i=$((i+1)); sleep 0.02; '
           'done')
    with Tend("") as t:
        logdir(t)
        t.write_config(prog("em", cmd, start_secs=0, stderr="null"))
        t.start()
        pid = t.wait_state("em", "running")["pid"]
        path = logfile(t, "em.log")
        t.write_config(prog("em", cmd, start_secs=0, stderr="stdout"))
        t.ctl("reload", check=0)
        wait_for(lambda: len(lines_of(path)) >= 5,
                 what="stderr lines in em.log after the reload")
        objs = logs_json(t, "-n", "3", "em")
        eq({o["stream"] for o in objs}, {"stdout"}, "merged lines are "
           "stdout's")
        eq(t.status()["em"]["pid"], pid)
        t.stop()


def test_no_line_lost_across_restarts():
    n = 3000
    with Tend("") as t:
        logdir(t)
        t.write_config(prog("rs", "seq 1 %d" % n, start_secs=0,
                            restart="always", restart_delay="50ms"))
        t.start()
        wait_for(lambda: t.status()["rs"]["restarts"] >= 5,
                 what="5 restarts")
        t.ctl("stop", "rs", check=0)
        restarts = t.status()["rs"]["restarts"]
        ls = lines_of(logfile(t, "rs.log"))
        # The run stopped by SIGTERM may end with a cut line.
        if len(ls) > 1 and ls[-1].isdigit() and ls[-2].isdigit() and \
                int(ls[-1]) != int(ls[-2]) + 1 and \
                str(int(ls[-2]) + 1).startswith(ls[-1]):
            ls = ls[:-1]
        check(all(x.isdigit() for x in ls), "not a number: %r" % [
            x for x in ls if not x.isdigit()][:5])
        got = [int(x) for x in ls]
        eq(got[0], 1)
        for i, (a, b) in enumerate(zip(got, got[1:])):
            if not (b == a + 1 or (a == n and b == 1)):
                raise Failure("line %d: %d followed by %d" % (i + 1, a, b))
        runs = got.count(1)
        complete = got.count(n)
        check(complete >= 5, "%d complete runs" % complete)
        check(runs in (complete, complete + 1), "%d runs, %d complete" % (
            runs, complete))
        check(runs >= restarts, "%d runs in the file, %d restarts" % (
            runs, restarts))
        t.stop()


# ----------------------------------------------------------------- config

GOOD_CONF = """programs = (
  { name = "a"; command = "true"; instances = 2;
    stdout = "journal"; stderr = "stdout"; log_prefix = false;
    log_file = "logs/a-{instance}.log"; log_max_size = "64K"; log_keep = 3;
    log_rotate_every = "1h"; log_timestamps = true; log_mode = "0600";
    log_ring_size = "128K"; log_line_max = "1K"; },
  { name = "b"; command = "true"; stdout = "null"; stderr = "inherit";
    log_max_size = 0; },
  { name = "c"; command = "true"; stdout = "inherit"; stderr = "file";
    log_max_size = 4096; log_line_max = 256; log_keep = 0; }
);
"""

BAD_CONF = [
    ('stdout = "stdout";', "stdout"),
    ('stdout = "bogus";', "stdout"),
    ('stderr = "nope";', "stderr"),
    ('log_max_size = 100;', "log_max_size"),
    ('log_max_size = "10Q";', "log_max_size"),
    ('log_line_max = 100;', "log_line_max"),
    ('log_mode = "0999";', "log_mode"),
    ('log_rotate_every = "soon";', "log_rotate_every"),
    ('log_prefix = "yes";', "log_prefix"),
]


def test_config_keys_checked():
    with Tend("") as t:
        with open(t.config, "w") as f:
            f.write(GOOD_CONF)
        r = subprocess.run([TENDD, "--check", "-c", t.config],
                           capture_output=True, text=True, timeout=30)
        eq(r.returncode, 0, r.stdout + r.stderr)
        text = "programs = (\n" + ",\n".join(
            '  { name = "p%d"; command = "true";\n    %s }' % (i, line)
            for i, (line, _) in enumerate(BAD_CONF)) + "\n);\n"
        with open(t.config, "w") as f:
            f.write(text)
        r = subprocess.run([TENDD, "--check", "-c", t.config],
                           capture_output=True, text=True, timeout=30)
        eq(r.returncode, 1, r.stdout + r.stderr)
        errs = r.stderr.splitlines()
        for i, (line, key) in enumerate(BAD_CONF):
            at = "%s:%d:" % (t.config, 3 + 2 * i)
            check(any(e.startswith(at) and key in e for e in errs),
                  "no error at %s about %s (%s) in:\n%s" % (
                      at, key, line, r.stderr))


# ------------------------------------------------------ life-cycle lines

# Until the file "go" exists, says "ready" and runs. Then each run writes
# its round's last words on both streams and exits 3 at once: a failed
# start every time, so it gives up after start_limit.
LAST_WORDS = ('[ -e go ] || { echo ready; exec sleep 600; }; '
              'n=$(cat count 2>/dev/null || echo 0); n=$((n+1)); '
              'echo $n > count; echo "out $n a"; echo "err $n" >&2; '
              'echo "out $n b"; exit 3')
LC = re.compile(r"^-- (.*) --$")
EXIT3 = re.compile(r"^flaky exited with code 3; (restarting( in [0-9.]+s)?"
                   r"( \(attempt \d+\))?|gave up after \d+ failed starts?)$")


def round_of(line):
    """The round of a "out N a"/"err N"/"out N b" line, else None."""
    m = re.match(r"^(?:out (\d+) [ab]|err (\d+))$", line)
    return int(m.group(1) or m.group(2)) if m else None


def check_rounds(items, rounds, what):
    """items: ("line", text) or ("event", text) in the order shown. Each
    round is a start, the program's three lines, then its exit, until one
    says it gave up after as many failed starts as there were rounds:
    that many in all. Before them: the first run, killed."""
    kill = re.compile(r"^flaky killed by signal KILL; restarting")
    gave_up = re.compile(r"gave up after (\d+) failed starts?$")
    starts = [i for i, (k, text) in enumerate(items)
              if k == "event" and kill.match(text)]
    eq(len(starts), 1, "%s: the first run's end: %r" % (what, items))
    seen = 0
    i = starts[0] + 1
    for r in range(1, rounds + 1):
        # Its start comes before any line of it.
        while i < len(items) and items[i][0] == "event" and \
                not items[i][1].startswith("flaky exited"):
            if items[i][1].startswith("flaky started (pid "):
                seen += 1
            i += 1
        eq(seen, r, "%s: a start before round %d's lines: %r" % (
            what, r, items[:i + 1]))
        got = []
        while i < len(items) and items[i][0] == "line":
            got.append(items[i][1])
            i += 1
        eq(sorted(got), sorted(["out %d a" % r, "out %d b" % r,
                                "err %d" % r]),
           "%s: round %d's lines, all before its exit (%r)" % (
               what, r, items))
        check(i < len(items) and EXIT3.match(items[i][1]),
              "%s: round %d's exit after its lines: %r" % (what, r,
                                                          items[i:i + 3]))
        i += 1
    # The last exit, or a line of its own after it, says so.
    m = [gave_up.search(text) for kind, text in items[i - 1:]
         if kind == "event"]
    m = [x for x in m if x]
    check(m and int(m[0].group(1)) == rounds,
          "%s: no 'gave up after %d' after the last round: %r" % (
              what, rounds, items[i - 1:]))
    check(all(k == "event" and text.startswith("flaky ")
              for k, text in items[i:]), repr(items[i:]))


def test_follow_shows_life_cycle_in_order():
    limit = 4
    with Tend("") as t:
        logdir(t)
        t.write_config(prog("flaky", LAST_WORDS, autostart=False,
                            restart="always", restart_delay="50ms",
                            start_limit=limit))
        t.start()
        t.ctl("start", "flaky", check=0)
        pid = t.wait_state("flaky", "running")["pid"]
        wait_for(lambda: logs(t, "flaky") == ["ready"], what="ready")
        human = Follower(t, "logs", "-f", "-n", "1", "flaky")
        js = Follower(t, "--json", "logs", "-f", "-n", "1", "flaky")
        quiet = Follower(t, "logs", "-f", "--no-events", "-n", "1", "flaky")
        try:
            # Each follows once it has the history.
            for f in (human, js, quiet):
                f.out.wait(lambda ls: len(ls) == 1, what="the history")
            open(t.path("go"), "w").close()
            os.kill(pid, signal.SIGKILL)
            t.wait_state("flaky", "failed")
            # start_limit failed starts in a row, and the one too many.
            with open(t.path("count")) as c:
                rounds = int(c.read())
            check(rounds >= limit, "%d rounds" % rounds)

            def gave_up(ls):
                return any("gave up after" in l for l in ls)
            ls = human.out.wait(gave_up, what="the 'gave up' line")
            eq(ls[0], "ready")
            items = []
            for l in ls[1:]:
                m = LC.match(l)
                items.append(("event", m.group(1)) if m else ("line", l))
            check_rounds(items, rounds, "logs -f")

            jl = js.out.wait(gave_up, what="the 'gave up' object")
            items = []
            for l in jl[1:]:
                o = json.loads(l)
                if o.get("type") == "event":
                    check("stream" not in o, repr(o))
                    eq((o["instance"], o["program"]), ("flaky", "flaky"))
                    check(isinstance(o["time"], float), repr(o))
                    ev = o["event"]
                    check(ev["type"] in ("instance.spawned",
                                         "instance.exited",
                                         "instance.failed"), repr(o))
                    eq(ev["name"], "flaky")
                    if ev["type"] == "instance.exited":
                        check(ev.get("code") == 3 or
                              ev.get("signal_name") == "KILL", repr(ev))
                    items.append(("event", o["text"]))
                else:
                    check("type" not in o and "event" not in o and
                          o["stream"] in ("stdout", "stderr"), repr(o))
                    items.append(("line", o["text"]))
            check_rounds(items, rounds, "--json logs -f")

            # --no-events: the output alone, all of it.
            want = sorted(["ready"] + [
                "%s %d%s" % (k, r, s) for r in range(1, rounds + 1)
                for k, s in (("out", " a"), ("out", " b"), ("err", ""))])
            got = quiet.out.wait(lambda ls: len(ls) >= len(want),
                                 what="the lines of every round")
            eq(sorted(got), want)
            # The history is the output only, -f or not.
            hist = logs(t, "-n", "100", "flaky")
            eq(sorted(hist), want)
            for f in (human, js, quiet):
                eq(f.interrupt(), 0, f.err.text())
            eq(human.err.text(), "")
        finally:
            human.close()
            js.close()
            quiet.close()
        t.stop()


def test_follow_shows_stop_and_signal():
    with Tend("") as t:
        logdir(t)
        t.write_config(prog("svc", 'echo "up $$"; exec sleep 600',
                            start_secs=0, restart="always",
                            restart_delay="50ms"))
        t.start()
        pid1 = t.wait_state("svc", "running")["pid"]
        f = Follower(t, "logs", "-f", "-n", "1", "svc")
        try:
            f.out.wait(lambda ls: "up %d" % pid1 in ls, what="the history")
            os.kill(pid1, signal.SIGKILL)
            pid2 = wait_for(lambda: t.status()["svc"]["pid"] not in
                            (pid1, None) and t.status()["svc"]["pid"],
                            what="a restart")
            ls = f.out.wait(lambda ls: "up %d" % pid2 in ls,
                            what="the new process's line")
            i = ls.index("up %d" % pid2)
            check(re.match(r"^-- svc killed by signal KILL; restarting"
                           r"( in [0-9.]+s)?( \(attempt \d+\))? --$",
                           ls[i - 2]) and
                  ls[i - 1] == "-- svc started (pid %d) --" % pid2,
                  "exit, start, then output: %r" % ls)
            t.ctl("stop", "svc", check=0)
            ls = f.out.wait(lambda ls: ls[-1].endswith("; stopped --") or
                            ls[-1] == "-- svc stopped --",
                            what="the stop")
            check(re.match(r"^-- svc killed by signal TERM; stopped --$",
                           ls[-1]), repr(ls[-1]))
            eq(f.interrupt(), 0)
        finally:
            f.close()
        t.stop()


def ts_of(when):
    """tendctl -t's form of a time sent as when (seconds)."""
    usec = int(when * 1e6 + 0.5)
    return "%s.%03d" % (time.strftime("%Y-%m-%dT%H:%M:%S",
                                      time.localtime(usec // 10 ** 6)),
                        usec % 10 ** 6 // 1000)


def test_logs_timestamps_option():
    ts = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}) (.*)$")
    with Tend("") as t:
        logdir(t)
        t.write_config(progs(
            prog("one", "echo first; echo second >&2; " + SLEEP,
                 start_secs=0),
            prog("two", 'echo "hi $TEND_INSTANCE"; ' + SLEEP, instances=2,
                 start_secs=0)))
        before = time.time()
        t.start()
        objs = wait_for(lambda: len(logs_json(t, "one")) == 2 and
                        logs_json(t, "one"), what="one's 2 lines")
        wait_for(lambda: len(logs_json(t, "two")) == 2, what="two's lines")
        after = time.time()
        for args, want in ((("one",), ["first", "second"]),
                           (("two",), ["two:0 | hi 0", "two:1 | hi 1"])):
            for opt in ("-t", "--timestamps"):
                got = logs(t, opt, *args)
                eq(len(got), 2, repr(got))
                rest = []
                for line in got:
                    m = ts.match(line)
                    check(m, "no local time at the start of %r" % line)
                    when = time.mktime(time.strptime(
                        m.group(1)[:19], "%Y-%m-%dT%H:%M:%S"))
                    check(before - 2 <= when <= after + 1,
                          "%s not between %s and %s" % (
                              m.group(1), ts_of(before), ts_of(after)))
                    rest.append(m.group(2))
                eq(sorted(rest), want, "(the time comes before the prefix)")
        # Exactly the time of each line, to the millisecond.
        eq(logs(t, "-t", "one"), ["%s %s" % (ts_of(o["time"]), o["text"])
                                  for o in objs])
        # --json has "time" already: -t changes nothing there.
        eq(t.ctl("--json", "logs", "-t", "one").stdout,
           t.ctl("--json", "logs", "one").stdout)
        # Following: the history, new lines and life-cycle lines alike.
        f = Follower(t, "logs", "-f", "-t", "-n", "1", "one")
        try:
            f.out.wait(lambda ls: len(ls) >= 1, what="the history")
            t.ctl("restart", "one", check=0)
            ls = f.out.wait(lambda ls: sum(l.endswith(" first")
                                           for l in ls) >= 1 and
                            any("-- one started" in l for l in ls),
                            what="the restarted program's first line")
            for line in ls:
                m = ts.match(line)
                check(m, "no local time at the start of %r" % line)
            check(any(ts.match(l).group(2).startswith("-- one ")
                      for l in ls), repr(ls))
            eq(f.interrupt(), 0)
        finally:
            f.close()
        t.stop()


if __name__ == "__main__":
    main(globals())
