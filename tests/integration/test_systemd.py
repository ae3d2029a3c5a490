"""systemd integration without systemd as PID 1: sd_notify (READY, STATUS,
RELOADING, STOPPING, EXTEND_TIMEOUT_USEC, WATCHDOG) to a NOTIFY_SOCKET the
test owns, socket activation through systemd-socket-activate, and the
journal log format selected by JOURNAL_STREAM.

Datagrams are read with the kernel's send timestamp (SO_TIMESTAMPNS), so
timing checks measure when tendd sent, not when a loaded test got to read.
"""
import array
import os
import re
import select
import shutil
import signal
import socket
import stat
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import (DEADLINE, TENDD, Failure, Skip, Tend, check, eq,  # noqa
                     main, prog, progs, wait_for)

S = ["sleep", "600"]
STUBBORN = "trap '' TERM; while true; do sleep 0.1; done"
MISSING = ["/nonexistent/tend-test-binary"]
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)
SCM_TIMESTAMPNS = SO_TIMESTAMPNS
STATUS_RE = re.compile(r"(\d+) running, (\d+) backoff, (\d+) failed\Z")
KEY_RE = re.compile(r"[A-Z0-9_]+\Z")
TS_RE = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}")
PRIO_RE = re.compile(r"<([0-7])>")
# Inherited from a test runner that itself runs under systemd: never
# let those reach the tendd under test.
SYSTEMD_ENV = ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID",
               "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES", "JOURNAL_STREAM")
# systemd-socket-activate's own lines on the shared stderr.
ACTIVATE_NOISE = ("Listening on", "Communication attempt", "Execing",
                  "Received connection", "Accepted connection")


def mono_usec():
    return time.clock_gettime(time.CLOCK_MONOTONIC) * 1e6


class Msg:
    """One datagram: its KEY=VALUE lines, sender pid, and send time."""

    def __init__(self, raw, pid, mono, stamp=None):
        self.raw, self.pid, self.mono = raw, pid, mono
        # The kernel's receive time (wall clock), when it gave one: gaps
        # between two datagrams measured without the reader's delays.
        self.stamp = stamp
        lines = raw.decode().split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        self.pairs = []
        for line in lines:
            k, sep, v = line.partition("=")
            if not sep or not KEY_RE.match(k):
                raise Failure("malformed sd_notify line %r in %r" % (line,
                                                                     raw))
            self.pairs.append((k, v))
        self.fields = dict(self.pairs)

    def get(self, key):
        return self.fields.get(key)

    def __repr__(self):
        return "<%.3f pid %s %r>" % (self.mono, self.pid, self.raw)


def is_ready(m):
    return m.get("READY") == "1"


def is_status(text):
    return lambda m: m.get("STATUS") == text


class Notify:
    """A NOTIFY_SOCKET owned by the test."""

    def __init__(self, t):
        self.t = t
        self.path = os.path.join(t.dir, "notify.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        self.sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        self.sock.bind(self.path)
        self.all = []       # every datagram received, in order
        self.seen = 0       # how many of them wait() has consumed
        self.pid = None     # tendd's pid, once started

    def close(self):
        self.sock.close()

    def _read(self, timeout):
        r, _, _ = select.select([self.sock], [], [], max(0.0, timeout))
        if not r:
            return None
        data, anc, flags, _ = self.sock.recvmsg(65536, 4096)
        pid = ts = None
        for level, typ, cdata in anc:
            if level != socket.SOL_SOCKET:
                continue
            if typ == socket.SCM_RIGHTS:
                fds = array.array("i")
                fds.frombytes(cdata[:len(cdata) - len(cdata) % fds.itemsize])
                for fd in fds:
                    os.close(fd)
            elif typ == socket.SCM_CREDENTIALS:
                pid = struct.unpack("iII", cdata[:12])[0]
            elif typ == SCM_TIMESTAMPNS:
                sec, nsec = struct.unpack("qq", cdata[:16])
                ts = sec + nsec / 1e9
        check(not flags & (socket.MSG_TRUNC | socket.MSG_CTRUNC),
              "truncated datagram %r" % data[:200])
        mono = time.monotonic()
        if ts is not None:
            mono -= time.time() - ts
        m = Msg(data, pid, mono, ts)
        self.all.append(m)
        return m

    def drain(self):
        while self._read(0) is not None:
            pass

    def wait(self, pred, timeout=DEADLINE, what="a notification"):
        """The next not yet consumed datagram for which pred is true
        (the ones before it are consumed too)."""
        end = time.monotonic() + timeout
        while True:
            while self.seen < len(self.all):
                m = self.all[self.seen]
                self.seen += 1
                if pred(m):
                    return m
            left = end - time.monotonic()
            if left <= 0:
                raise Failure("timed out after %.1fs waiting for %s; "
                              "datagrams: %r\ntendd log:\n%s" % (
                                  timeout, what, self.all,
                                  self.t.read_log()))
            if self._read(min(left, 0.2)) is None:
                p = self.t.proc
                if p is not None and p.poll() is not None:
                    self.drain()
                    if self.seen == len(self.all):
                        raise Failure("tendd exited (%d) while waiting for "
                                      "%s; datagrams: %r\n%s" % (
                                          p.returncode, what, self.all,
                                          self.t.read_log()))

    def collect(self, seconds):
        """Everything that arrives in the next `seconds` (consumed)."""
        end = time.monotonic() + seconds
        while True:
            left = end - time.monotonic()
            if left <= 0:
                break
            self._read(left)
        got = self.all[self.seen:]
        self.seen = len(self.all)
        return got

    def count(self, pred):
        return sum(1 for m in self.all if pred(m))

    def check_sender(self):
        bad = [m for m in self.all if m.pid != self.pid]
        check(not bad, "datagrams not from tendd (pid %s): %r" % (self.pid,
                                                                  bad))


def launch(t, env=None, args=(), prefix=(), level="debug", journal=False):
    """Start tendd (under prefix, e.g. systemd-socket-activate) with stdout
    and stderr to t.log_path and a clean systemd environment plus env."""
    e = t.env()
    for k in SYSTEMD_ENV:
        e.pop(k, None)
    t.log = open(t.log_path, "ab")
    if journal:
        st = os.fstat(t.log.fileno())
        e["JOURNAL_STREAM"] = "%d:%d" % (st.st_dev, st.st_ino)
    e.update(env or {})
    cmd = list(prefix) + [TENDD, "-c", t.config]
    if level is not None:
        cmd += ["--log-level", level]
    t.proc = subprocess.Popen(list(cmd) + list(args), stdout=t.log,
                              stderr=subprocess.STDOUT, env=e, cwd=t.dir)
    return t.proc


def start_notified(t, env=None, **kw):
    """tendd with NOTIFY_SOCKET; returns (Notify, monotonic start time)."""
    n = Notify(t)
    e = {"NOTIFY_SOCKET": n.path}
    e.update(env or {})
    t0 = time.monotonic()
    launch(t, e, **kw)
    n.pid = t.proc.pid
    return n, t0


def check_monotonic_usec(m, before, after):
    v = m.get("MONOTONIC_USEC")
    check(v is not None and v.isdigit(), "MONOTONIC_USEC missing or not a "
          "number in %r" % m)
    v = int(v)
    # Taken between the request and the datagram's arrival (1 s slack).
    check(before - 1e6 <= v <= after + 1e6,
          "MONOTONIC_USEC=%d not within [%d, %d] (CLOCK_MONOTONIC usec)" % (
              v, before, after))


def check_status_stream(n):
    """STATUS: the exact format; first sent with READY=1 at start-up;
    then at most 4 datagrams a second (a READY=1 after a reload may
    repeat the text at once)."""
    statuses = [m for m in n.all if "STATUS" in m.fields]
    for m in statuses:
        check(STATUS_RE.match(m.get("STATUS")), "bad STATUS %r" % m)
    readies = [m for m in n.all if is_ready(m)]
    if not readies:
        return
    first_ready = readies[0]
    check(not statuses or statuses[0] is first_ready,
          "STATUS sent before (and apart from) the start-up READY=1: %r" % (
              n.all[:n.all.index(first_ready) + 1],))
    for a, b in zip(statuses, statuses[1:]):
        if is_ready(b) and b is not first_ready:
            continue
        # Both kernel stamps when there are: converting each to the
        # monotonic clock adds the reader's scheduling delays.
        if a.stamp is not None and b.stamp is not None:
            gap = b.stamp - a.stamp
        else:
            gap = b.mono - a.mono
        check(gap >= 0.23,
              "STATUS datagrams %.3fs apart (at most 4 a second): %r, %r" % (
                  gap, a, b))


def stopped_cleanly(t, n):
    """SIGTERM via t.stop(), then all datagrams read and from tendd."""
    t.stop()
    n.drain()
    n.check_sender()
    for m in n.all:
        s = m.get("STATUS")
        check(s is None or STATUS_RE.match(s), "bad STATUS %r" % m)


def environ_of(pid):
    with open("/proc/%d/environ" % pid, "rb") as f:
        return dict(x.decode(errors="replace").partition("=")[::2]
                    for x in f.read().split(b"\0") if x)


def check_program_env_clean(t, name):
    """systemd's variables are for tendd, not for its programs."""
    env = environ_of(t.status()[name]["pid"])
    leaked = sorted(k for k in SYSTEMD_ENV if k in env)
    eq(leaked, [], "%s inherited systemd's variables" % name)


# --- READY ---------------------------------------------------------------

def test_notify_ready_once_after_listening():
    with Tend(progs(prog("a", S, start_secs=0),
                    prog("b", S, instances=2, start_secs=0),
                    prog("off", S, autostart=False))) as t:
        n, _ = start_notified(t)
        m = n.wait(is_ready, what="READY=1")
        # Sent only after the control socket listens: connect at once.
        check(t.connectable(), "READY=1 but the control socket does not "
              "accept connections")
        st = t.status()
        eq({k: v["state"] for k, v in st.items()},
           {"a": "running", "b:0": "running", "b:1": "running",
            "off": "stopped"}, "at READY=1")
        eq(m.get("STATUS"), "3 running, 0 backoff, 0 failed",
           "STATUS sent with READY=1: %r" % m)
        eq(m.pid, t.proc.pid, "READY=1 not sent by tendd")
        check_program_env_clean(t, "a")
        # Count changes afterwards send STATUS, never READY=1 again.
        t.ctl("start", "off", check=0)
        n.wait(is_status("4 running, 0 backoff, 0 failed"),
               what="STATUS after starting a program")
        t.ctl("stop", "a", check=0)
        n.wait(is_status("3 running, 0 backoff, 0 failed"),
               what="STATUS after stopping a program")
        stopped_cleanly(t, n)
        eq(n.count(is_ready), 1, "READY=1 datagrams: %r" % n.all)
        check_status_stream(n)


def test_notify_ready_waits_for_start_secs():
    # READY=1 waits for the slowest autostart instance, not the first.
    with Tend(progs(prog("fast", S, start_secs=0),
                    prog("mid", S, start_secs=1),
                    prog("slow", S, start_secs=2))) as t:
        n, t0 = start_notified(t)
        wait_for(t.connectable, what="tendd to listen")
        n.drain()
        early = [m for m in n.all if is_ready(m)]
        st = t.status()
        if st["slow"]["state"] == "starting":
            # READY=1 read before a status reply that says "starting" was
            # sent while slow was starting.
            check(not early, "READY=1 while slow was starting: %r" % early)
        m = n.wait(is_ready, what="READY=1")
        eq(t.status()["slow"]["state"], "running",
           "slow is not running at READY=1")
        check(m.mono - t0 >= 1.8, "READY=1 sent %.3fs after start, before "
              "start_secs = 2 elapsed" % (m.mono - t0))
        eq(m.get("STATUS"), "3 running, 0 backoff, 0 failed", repr(m))
        stopped_cleanly(t, n)
        eq(n.count(is_ready), 1, repr(n.all))
        check_status_stream(n)


def test_notify_failed_program_does_not_hold_ready():
    with Tend(progs(prog("ok", S, start_secs=0),
                    prog("bad", MISSING, start_secs="10s"),
                    prog("off", S, autostart=False, start_secs="10s"))) as t:
        n, t0 = start_notified(t)
        m = n.wait(is_ready, what="READY=1")
        check(m.mono - t0 < 8, "READY=1 held back %.1fs by a failed "
              "program" % (m.mono - t0))
        eq(m.get("STATUS"), "1 running, 0 backoff, 1 failed", repr(m))
        st = t.status()
        eq(st["bad"]["state"], "failed")
        eq(st["ok"]["state"], "running")
        stopped_cleanly(t, n)
        eq(n.count(is_ready), 1, repr(n.all))
        check_status_stream(n)


# --- STATUS --------------------------------------------------------------

def test_notify_status_counts():
    with Tend(progs(
            prog("steady", S, start_secs=0),
            prog("flaky", ["/bin/sh", "-c", "exit 1"], autostart=False,
                 start_secs="1s", restart_delay="60s",
                 restart_delay_max="60s"),
            prog("gone", MISSING, autostart=False))) as t:
        n, _ = start_notified(t)
        m = n.wait(is_ready, what="READY=1")
        eq(m.get("STATUS"), "1 running, 0 backoff, 0 failed", repr(m))
        t.ctl("start", "--no-wait", "flaky", check=0)
        n.wait(is_status("1 running, 1 backoff, 0 failed"),
               what="STATUS with flaky in backoff")
        eq(t.status()["flaky"]["state"], "backoff")
        t.ctl("stop", "flaky", check=0)
        n.wait(is_status("1 running, 0 backoff, 0 failed"),
               what="STATUS after stopping flaky")
        t.ctl("start", "gone", check=1)
        n.wait(is_status("1 running, 0 backoff, 1 failed"),
               what="STATUS with gone failed")
        t.ctl("stop", "steady", check=0)
        n.wait(is_status("0 running, 0 backoff, 1 failed"),
               what="STATUS after stopping steady")
        stopped_cleanly(t, n)
        check_status_stream(n)


def test_notify_status_coalesced():
    # 10 instances start at once and exit one every ~100 ms: ~20 changes
    # in a second must come out as at most 4 STATUS datagrams a second,
    # and the final counts must follow the last change promptly.
    with Tend(progs(
            prog("steady", S, start_secs=0),
            prog("burst", ["sleep", "0.{instance}5"], instances=10,
                 autostart=False, start_secs=0, restart="never"))) as t:
        n, _ = start_notified(t)
        m = n.wait(is_ready, what="READY=1")
        eq(m.get("STATUS"), "1 running, 0 backoff, 0 failed", repr(m))
        t_cmd = time.monotonic()
        t.ctl("start", "--no-wait", "burst", check=0)

        def burst_over():
            st = t.status("burst")
            return all(i["state"] == "exited" for i in st.values())
        wait_for(burst_over, what="every burst instance to exit")
        t_done = time.monotonic()

        def running(m):
            mt = STATUS_RE.match(m.get("STATUS") or "")
            return int(mt.group(1)) if mt else -1
        n.wait(lambda m: m.mono > t_cmd and running(m) > 1,
               what="a STATUS showing the burst running")
        final = n.wait(is_status("1 running, 0 backoff, 0 failed"),
                       what="the final STATUS after the burst")
        check(final.mono - t_done <= 1.0,
              "final STATUS %.3fs after the burst was seen over" % (
                  final.mono - t_done))
        n.collect(0.6)  # nothing more is due; anything sent still counts
        check_status_stream(n)
        statuses = [x for x in n.all if x.get("STATUS") is not None]
        last = statuses[-1]
        eq(last.get("STATUS"), "1 running, 0 backoff, 0 failed",
           "last STATUS: %r" % statuses)
        stopped_cleanly(t, n)


# --- reload --------------------------------------------------------------

def reload_cycle(t, n, trigger, applied=None):
    """trigger() a reload; RELOADING=1 with MONOTONIC_USEC comes first,
    then READY=1 in a later datagram."""
    before = mono_usec()
    trigger()
    m = n.wait(lambda m: "RELOADING" in m.fields or is_ready(m),
               what="RELOADING=1")
    after = mono_usec()
    eq(m.get("RELOADING"), "1", "first reload datagram: %r" % m)
    check(not is_ready(m), "READY=1 in the RELOADING=1 datagram: %r" % m)
    check_monotonic_usec(m, before, after)
    r = n.wait(is_ready, what="READY=1 after the reload")
    if applied is not None:
        applied()
    return r


def test_notify_reload_command():
    with Tend(prog("a", S, start_secs=0)) as t:
        n, _ = start_notified(t)
        n.wait(is_ready, what="READY=1")
        t.write_config(progs(prog("a", S, start_secs=0),
                             prog("b", S, start_secs=0)))
        reload_cycle(t, n, lambda: t.ctl("reload", check=0))
        check("b" in t.status(), "reload not applied")
        t.write_config(progs(prog("b", S, start_secs=0)))
        reload_cycle(t, n, lambda: t.ctl("reload", check=0),
                     lambda: check("a" not in t.status() or
                                   t.status()["a"]["state"] in (
                                       "stopping", "stopped"),
                                   "second reload not applied"))
        stopped_cleanly(t, n)
        eq(n.count(is_ready), 3, repr(n.all))
        eq(n.count(lambda m: m.get("RELOADING") == "1"), 2, repr(n.all))


def test_notify_reload_sighup():
    with Tend(prog("a", S, start_secs=0)) as t:
        n, _ = start_notified(t)
        n.wait(is_ready, what="READY=1")
        t.write_config(progs(prog("a", S, start_secs=0),
                             prog("b", S, start_secs=0)))
        # READY=1 comes after the reload is applied: b exists by then.
        reload_cycle(t, n, lambda: t.proc.send_signal(signal.SIGHUP),
                     lambda: check("b" in t.status(),
                                   "READY=1 before the SIGHUP reload was "
                                   "applied"))
        stopped_cleanly(t, n)
        eq(n.count(is_ready), 2, repr(n.all))


def test_notify_reload_refused_still_ready():
    with Tend(progs(prog("a", S, start_secs=0))) as t:
        n, _ = start_notified(t)
        n.wait(is_ready, what="READY=1")
        pid = t.status()["a"]["pid"]
        t.write_config(progs(prog("a", S, start_secs=0),
                             '{ name = "c"; comand = "x"; }'))
        reload_cycle(t, n, lambda: t.ctl("reload", check=1))
        reload_cycle(t, n, lambda: t.proc.send_signal(signal.SIGHUP))
        st = t.status()
        eq(sorted(st), ["a"])
        eq(st["a"]["pid"], pid)
        stopped_cleanly(t, n)
        eq(n.count(is_ready), 3, repr(n.all))


# --- shutdown ------------------------------------------------------------

def shutdown_sends_stopping_first(how):
    with Tend(progs(prog("a", S, start_secs=0),
                    prog("b", S, instances=2, start_secs=0))) as t:
        n, _ = start_notified(t)
        n.wait(is_ready, what="READY=1")
        n.collect(0.3)  # a STATUS still due is not part of the shutdown
        how(t)
        m = n.wait(lambda m: True, what="a datagram after the shutdown "
                   "request")
        eq(m.get("STOPPING"), "1", "first datagram of the shutdown: %r" % m)
        eq(t.proc.wait(timeout=60), 0)
        stopped_cleanly(t, n)
        eq(n.count(lambda m: m.get("STOPPING") == "1"), 1, repr(n.all))
        eq(n.count(is_ready), 1, repr(n.all))


def test_notify_stopping_on_sigterm():
    shutdown_sends_stopping_first(
        lambda t: t.proc.send_signal(signal.SIGTERM))


def test_notify_stopping_on_shutdown_command():
    shutdown_sends_stopping_first(lambda t: t.ctl("shutdown", check=0))


def test_notify_extend_timeout_during_long_shutdown():
    with Tend(prog("stubborn", STUBBORN, start_secs=0,
                   stop_timeout="8s")) as t:
        n, _ = start_notified(t)
        n.wait(is_ready, what="READY=1")
        t.wait_state("stubborn", "running")
        n.collect(0.3)
        t_term = time.monotonic()
        t.proc.send_signal(signal.SIGTERM)
        m = n.wait(lambda m: True, what="STOPPING=1")
        eq(m.get("STOPPING"), "1", repr(m))
        ext = n.wait(lambda m: "EXTEND_TIMEOUT_USEC" in m.fields,
                     what="EXTEND_TIMEOUT_USEC")
        check(ext.mono - t_term <= 6.0, "first EXTEND_TIMEOUT_USEC %.2fs "
              "after SIGTERM" % (ext.mono - t_term))
        eq(t.proc.wait(timeout=60), 0)
        t_exit = time.monotonic()
        stopped_cleanly(t, n)
        exts = [x for x in n.all if "EXTEND_TIMEOUT_USEC" in x.fields]
        for x in exts:
            v = x.get("EXTEND_TIMEOUT_USEC")
            check(v.isdigit() and int(v) >= 1000000,
                  "EXTEND_TIMEOUT_USEC should be a usec count of at least "
                  "a second: %r" % x)
        # Each extension lasts until the next one arrives (else systemd
        # would kill tendd in between), the last one until tendd exits.
        for a, b in zip(exts, exts[1:]):
            check(b.mono - a.mono <= int(a.get("EXTEND_TIMEOUT_USEC")) / 1e6
                  + 0.5, "extension %r ran out before %r" % (a, b))
        last = exts[-1]
        check(t_exit - last.mono <= int(last.get("EXTEND_TIMEOUT_USEC")) /
              1e6 + 1.5, "last extension %r ran out %.2fs before exit" % (
                  last, t_exit - last.mono))


# --- watchdog ------------------------------------------------------------

def is_ping(m):
    return m.get("WATCHDOG") == "1"


def test_notify_watchdog_pings_at_half_the_interval():
    with Tend(prog("a", S, start_secs=0)) as t:
        n, _ = start_notified(t, {"WATCHDOG_USEC": "400000"})
        ready = n.wait(is_ready, what="READY=1")
        first = n.wait(lambda m: is_ping(m) and m.mono >= ready.mono,
                       what="WATCHDOG=1")
        check_program_env_clean(t, "a")
        n.collect(first.mono + 2.3 - time.monotonic())
        pings = [m for m in n.all
                 if is_ping(m) and first.mono <= m.mono < first.mono + 2.0]
        check(8 <= len(pings) <= 12, "%d WATCHDOG=1 in 2s with "
              "WATCHDOG_USEC=400000 (expected ~10): %r" % (
                  len(pings), [round(p.mono - first.mono, 3)
                               for p in pings]))
        stopped_cleanly(t, n)


def no_pings(env):
    with Tend(prog("a", S, start_secs=0)) as t:
        n, _ = start_notified(t, env)
        n.wait(is_ready, what="READY=1")
        n.collect(1.5)
        check(t.status()["a"]["state"] == "running")
        stopped_cleanly(t, n)
        eq([m for m in n.all if "WATCHDOG" in m.fields], [],
           "watchdog datagrams with %r" % env)


def test_notify_unread_socket_never_blocks_tendd():
    # systemd busy or hung: nobody reads the notification socket, whose
    # queue fills (about 10 datagrams). tendd must go on serving, and
    # deliver the latest state once the socket is read again.
    with Tend(prog("a", S, start_secs=0)) as t:
        n, _ = start_notified(t, {"WATCHDOG_USEC": "100000"})
        wait_for(t.connectable, what="tendd to listen")
        t0 = time.monotonic()
        while time.monotonic() - t0 < 2.0:   # 40 pings would be due
            t0_cmd = time.monotonic()
            eq(t.status()["a"]["state"] in ("starting", "running"), True)
            check(time.monotonic() - t0_cmd < 5, "status took %.1fs" % (
                time.monotonic() - t0_cmd))
            time.sleep(0.1)
        t.ctl("reload", check=0)
        n.wait(is_ready, what="READY=1 once the socket is read again")
        n.wait(is_ping, what="watchdog pings once the socket is read again")
        stopped_cleanly(t, n)


def test_notify_no_watchdog_for_another_pid():
    no_pings({"WATCHDOG_USEC": "400000", "WATCHDOG_PID": "1"})


def test_notify_no_watchdog_without_usec():
    no_pings({})


def test_notify_invalid_watchdog_usec_zero_still_runs():
    no_pings({"WATCHDOG_USEC": "0"})


# --- socket activation ---------------------------------------------------

def need_socket_activate():
    if shutil.which("systemd-socket-activate") is None:
        raise Skip("systemd-socket-activate is not installed")


def unix_inodes(path):
    """Inodes of the AF_UNIX sockets bound to path, from /proc/net/unix."""
    out = set()
    with open("/proc/net/unix") as f:
        next(f)
        for line in f:
            parts = line.split()
            if len(parts) >= 8 and parts[7] == path:
                out.add(int(parts[6]))
    return out


def tendd_stderr_lines(t):
    return [ln for ln in t.read_log().splitlines()
            if ln.strip() and not ln.startswith(ACTIVATE_NOISE)]


def test_socket_activation_uses_fd_3():
    need_socket_activate()
    with Tend(prog("a", S, start_secs=0)) as t:
        own = t.sock
        act = os.path.join(t.dir, "act.sock")
        launch(t, prefix=["systemd-socket-activate", "-l", act])

        def answered():
            if t.proc.poll() is not None:
                raise Failure("exited with %d:\n%s" % (t.proc.returncode,
                                                       t.read_log()))
            try:
                r = t.ctl("-s", act, "--json", "status", timeout=DEADLINE)
            except subprocess.TimeoutExpired:
                raise Failure("tendctl got no answer through the "
                              "activation socket:\n" + t.read_log())
            return r.returncode in (0, 3)
        # systemd 252 starts tendd at the first connection: this one.
        wait_for(answered, what="tendd to answer through " + act,
                 interval=0.05)
        t.sock = act
        t.wait_state("a", "running")
        pid = t.proc.pid
        check(os.readlink("/proc/%d/exe" % pid).endswith("tendd"),
              "pid %d is not tendd" % pid)
        fd3 = os.readlink("/proc/%d/fd/3" % pid)
        m = re.match(r"socket:\[(\d+)\]\Z", fd3)
        check(m and int(m.group(1)) in unix_inodes(act),
              "tendd's fd 3 (%s) is not the socket at %s (%r)" % (
                  fd3, act, unix_inodes(act)))
        check(not os.path.exists(own),
              "tendd created the config's socket %s" % own)
        check_program_env_clean(t, "a")
        t.ctl("shutdown", check=0)
        eq(t.proc.wait(timeout=60), 0, t.read_log())
        check(os.path.exists(act) and stat.S_ISSOCK(os.stat(act).st_mode),
              "tendd unlinked the activation socket %s" % act)
        check(not os.path.exists(own),
              "tendd created the config's socket %s" % own)
        t.sock = own
        t.stop()


def refused_activation(listen_args, trigger):
    """listen_args(t) and trigger(t) get the Tend; True when tendd was
    started on the passed socket and refused it, None when
    systemd-socket-activate could not bind (a port taken meanwhile)."""
    need_socket_activate()
    with Tend(prog("a", S, start_secs=0)) as t:
        launch(t, prefix=["systemd-socket-activate"] + listen_args(t))

        def ended():
            if t.proc.poll() is not None:
                return True
            trigger(t)
            return False
        wait_for(ended, what="tendd to refuse the passed socket",
                 interval=0.1)
        log = t.read_log()
        if "Address already in use" in log:
            t.stop(check_exit=False)
            return None
        eq(t.proc.returncode, 1, "exit status:\n" + log)
        lines = tendd_stderr_lines(t)
        check(any(re.search(r"fd 3|socket activation", ln, re.I)
                  for ln in lines),
              "no message naming fd 3 / socket activation:\n" + log)
        check(not os.path.exists(t.sock),
              "tendd created the config's socket %s" % t.sock)
        t.stop(check_exit=False)
        return True


def test_socket_activation_refuses_datagram_socket():
    def trigger(t):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            s.sendto(b"hello", os.path.join(t.dir, "act.sock"))
        except OSError:
            pass
        finally:
            s.close()
    check(refused_activation(
        lambda t: ["--datagram", "-l", os.path.join(t.dir, "act.sock")],
        trigger), "systemd-socket-activate could not bind")


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
    finally:
        s.close()


def test_socket_activation_refuses_tcp_socket():
    for _ in range(3):
        port = free_port()

        def trigger(t):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.settimeout(1)
            try:
                s.connect(("127.0.0.1", port))
            except OSError:
                pass
            finally:
                s.close()
        if refused_activation(lambda t: ["-l", "127.0.0.1:%d" % port],
                              trigger):
            return
    raise Failure("no free loopback port for systemd-socket-activate")


# --- log format ----------------------------------------------------------

def run_logged(level="debug", journal=False, env=None):
    """Run tendd with an exec failure (a warning) and a client connection
    (a debug line); return its stderr lines."""
    with Tend(progs(prog("ok", S, start_secs=0),
                    prog("bad", MISSING))) as t:
        launch(t, env=env, level=level, journal=journal)
        wait_for(t.connectable, what="tendd to listen")
        t.wait_state("bad", "failed")
        t.wait_state("ok", "running")
        check_program_env_clean(t, "ok")
        t.ctl("status")
        t.stop()
        lines = [ln for ln in t.read_log().splitlines() if ln.strip()]
        check(lines, "tendd logged nothing")
        return lines


def prios(lines):
    out = []
    for ln in lines:
        m = PRIO_RE.match(ln)
        check(m, "line without a <N> priority prefix: %r" % ln)
        check(not TS_RE.search(ln), "timestamp in a journal line: %r" % ln)
        check(not ln[m.end():].startswith(" "), "space after prefix: %r" %
              ln)
        out.append(int(m.group(1)))
    return out


def test_log_journal_stream_priority_prefixes():
    lines = run_logged(journal=True)
    p = prios(lines)
    check(6 in p, "no <6> info line:\n" + "\n".join(lines))
    check(7 in p, "no <7> debug line at --log-level debug:\n" +
          "\n".join(lines))
    warn = [ln for ln in lines if ln.startswith("<4>")]
    check(any("bad" in ln for ln in warn),
          "the exec failure is not a <4> warning:\n" + "\n".join(lines))


def test_log_timestamps_unless_journal_stream_matches():
    with Tend("") as other:
        st = os.stat(other.config)
        for env in ({}, {"JOURNAL_STREAM": "%d:%d" % (st.st_dev,
                                                       st.st_ino)},
                    {"JOURNAL_STREAM": "garbage"}):
            lines = run_logged(env=env)
            for ln in lines:
                check(TS_RE.match(ln), "with %r: line without a leading "
                      "timestamp: %r" % (env, ln))
                check(not PRIO_RE.match(ln), "with %r: priority prefix: "
                      "%r" % (env, ln))


def test_log_level_filters_journal_lines():
    p = prios(run_logged(level="warn", journal=True))
    check(4 in p, "no warning at --log-level warn: %r" % p)
    check(all(x <= 4 for x in p), "info/debug at --log-level warn: %r" % p)
    p = prios(run_logged(level=None, journal=True))
    check(6 in p and 4 in p, "default level: %r" % p)
    check(7 not in p, "debug lines at the default level: %r" % p)
    p = prios(run_logged(level="debug", journal=True))
    check(7 in p, "no debug line at --log-level debug: %r" % p)


if __name__ == "__main__":
    main(globals())
