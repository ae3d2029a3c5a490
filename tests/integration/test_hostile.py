"""Hostile and careless clients: nothing a client does grows tendd's
memory without bound, takes its last descriptors, keeps rights the
configuration took away, or goes unanswered at the protocol's edges."""
import grp
import json
import os
import pwd
import resource
import socket
import subprocess
import sys
import textwrap

sys.path.insert(0, os.path.dirname(__file__))
from harness import (TENDD, Skip, Tend, check, eq, main,  # noqa
                     need_root, prog, progs, read_line, wait_for,
                     unprivileged_ctl)

S = ["sleep", "600"]
MIB = 1024 * 1024


def rss(pid):
    """tendd's resident memory in bytes."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def under_asan(pid):
    with open("/proc/%d/maps" % pid) as f:
        return "libasan" in f.read()


def connect(t):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(20)
    s.connect(t.sock)
    return s


def status_frame(i):
    return b'{"v":1,"id":%d,"cmd":"status"}\n' % i


def test_clients_that_never_read_hold_one_reply_each():
    """30 clients pipeline status requests and never read: each holds at
    most the reply it is being sent, not every reply asked for, and the
    memory goes back once they leave."""
    with Tend(prog("w", S, instances=100, start_secs=0)) as t:
        t.start()
        wait_for(lambda: all(i["state"] == "running"
                             for i in t.status().values()),
                 what="100 instances running")
        if under_asan(t.proc.pid):
            raise Skip("RSS means nothing under ASan's allocator (its "
                       "quarantine holds freed memory)")
        reply = len(json.dumps(t.request("status")))
        base = rss(t.proc.pid)
        flood = []
        for _ in range(30):
            s = connect(t)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.sendall(b"".join(status_frame(i) for i in range(1, 501)))
            flood.append(s)
        # tendd still answers others at once, and has done what it will.
        for _ in range(5):
            eq(t.ctl("status", "w:0").returncode, 0)
        peak = rss(t.proc.pid)
        # The documented bound: a client's queued output is under 64 KiB
        # when its next request is read, so at most 64 KiB and a reply;
        # its unread requests (500 short frames) wait in its input. And
        # the allocator's slack: 2 MiB.
        bound = 30 * (2 * reply + 64 * 1024 + 500 * 40) + 2 * MIB
        check(peak - base < bound, "RSS grew by %d bytes with 30 clients "
              "that do not read (bound %d, reply %d)" % (
                  peak - base, bound, reply))
        for s in flood:
            s.close()
        wait_for(lambda: rss(t.proc.pid) - base < 4 * MIB,
                 what="memory given back (RSS %d, start %d)" % (
                     rss(t.proc.pid), base))
        t.stop()


def test_slow_requests_are_cut_off():
    """Clients that send part of a request and stall get an error and are
    closed; whole requests behind them are served."""
    with Tend(prog("a", S, start_secs=0)) as t:
        t.start()
        t.wait_state("a", "running")
        slow = []
        for _ in range(20):
            s = connect(t)
            s.sendall(b'{"v":1,"id":7,"cmd":"status","args":{"x":"' +
                      b"y" * 200000)
            slow.append(s)
        eq(t.status()["a"]["state"], "running")
        for s in slow:
            r = json.loads(read_line(s))
            eq(r["error"]["code"], "slow", repr(r))
            check(s.recv(1) == b"", "not closed after the error")
            s.close()
        check("sent only part of a request" in t.read_log(), t.read_log())
        t.stop()


HOLDER = textwrap.dedent("""
    import socket, sys
    path, n = sys.argv[1], int(sys.argv[2])
    held, busy = [], 0
    for _ in range(n):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(5)
        s.connect(path)
        try:
            s.sendall(b'{"v":1,"id":1,"cmd":"version"}\\n')
        except OSError:
            pass    # refused and closed already: the reason is there
        try:
            line = s.makefile("rb").readline()
        except OSError:
            line = b""
        if b'"busy"' in line:
            busy += 1
            s.close()
        else:
            held.append(s)
    print(len(held), busy, flush=True)
    sys.stdin.read()
""")


def hold_as(t, user, n, groups=None):
    """A process of user's holding up to n connections; returns it and
    (held, refused)."""
    script = os.path.join(t.dir, "holder.py")
    with open(script, "w") as f:
        f.write(HOLDER)
    os.chmod(script, 0o644)
    pw = pwd.getpwnam(user)
    cmd = ["setpriv", "--reuid=%d" % pw.pw_uid, "--regid=%d" % pw.pw_gid]
    cmd += ["--groups=%s" % ",".join(str(g) for g in groups)] if groups \
        else ["--clear-groups"]
    p = subprocess.Popen(cmd + ["/usr/bin/python3", script, t.sock, str(n)],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         text=True)
    held, busy = (int(x) for x in p.stdout.readline().split())
    return p, held, busy


def release(p):
    p.stdin.close()
    p.wait(timeout=20)


def test_max_clients_keeps_room_for_the_operator():
    need_root()
    with Tend(prog("a", S, start_secs=0),
              supervisor='socket_mode = "0666"; max_clients = 8;') as t:
        t.start()
        t.wait_state("a", "running")
        p, held, busy = hold_as(t, "nobody", 12)
        # Three quarters of max_clients for read-only peers.
        eq((held, busy), (6, 6))
        check("max_clients 8" in t.read_log(), t.read_log())
        # The operator still gets in, and may act.
        eq(t.ctl("stop", "a").returncode, 0)
        r = t.ctl("status", "a")
        eq(r.returncode, 3, r.stderr)
        # A refused client is told why.
        r = t.ctl("status", user="nobody", binary=unprivileged_ctl(t))
        eq(r.returncode, 5, r.stderr)
        check("too many clients" in r.stderr, r.stderr)
        release(p)
        wait_for(lambda: t.ctl("status", user="nobody",
                               binary=unprivileged_ctl(t)).returncode == 3,
                 what="room again once the clients left")
        t.stop()


def limited(n):
    def f():
        resource.setrlimit(resource.RLIMIT_NOFILE, (n, n))
    return f


def start_limited(t, n):
    t.log = open(t.log_path, "ab")
    t.proc = subprocess.Popen(
        [TENDD, "-c", t.config, "--log-level", "debug"],
        stdout=t.log, stderr=subprocess.STDOUT, env=t.env(), cwd=t.dir,
        preexec_fn=limited(n))
    wait_for(t.connectable, what="tendd to listen")


# Runs a while (a successful start each time), then crashes: restarted
# for ever, never failed, unless a start itself fails.
LOOPING = ["/bin/sh", "-c", "sleep 0.3; exit 1"]


def test_read_only_clients_cannot_take_the_last_descriptors():
    need_root()
    with Tend(progs(prog("a", S, start_secs=0),
                    prog("loop", LOOPING, start_secs="50ms",
                         restart_delay="20ms", start_limit=2)),
              supervisor='socket_mode = "0666"; max_clients = 1000;') as t:
        start_limited(t, 64)
        t.wait_state("a", "running")
        p, held, busy = hold_as(t, "nobody", 100)
        check(busy > 0 and held < 40, "held %d, refused %d" % (held, busy))
        check("keeps its last descriptors" in t.read_log(), t.read_log())
        # The operator: status and stop work.
        eq(t.ctl("stop", "a").returncode, 0)
        eq(t.status()["a"]["state"], "stopped")
        # The looping program keeps being restarted.
        n = t.status()["loop"]["restarts"]
        wait_for(lambda: t.status()["loop"]["restarts"] >= n + 3,
                 what="loop restarted while the clients are held")
        check(t.status()["loop"]["state"] != "failed")
        release(p)
        t.stop()


def test_no_descriptor_left_backs_off_and_never_fails():
    """The operator's own connections take every descriptor: a start
    fails with EMFILE again and again; the program backs off, is never
    failed, and runs again once descriptors are free."""
    need_root()
    with Tend(prog("loop", LOOPING, start_secs="50ms", restart_delay="20ms",
                   restart_delay_max="200ms", start_limit=2)) as t:
        start_limited(t, 48)
        t.wait_state("loop", "running")
        held = []
        for _ in range(60):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(t.sock)
            held.append(s)
        wait_for(lambda: "Too many open files" in t.read_log(),
                 what="a start to fail for want of descriptors")
        # Well past start_limit's worth of failed starts.
        wait_for(lambda: t.read_log().count("Too many open files") >= 8,
                 what="starts to keep failing")
        for s in held:
            s.close()
        wait_for(lambda: t.status()["loop"]["restarts"] > 3 and
                 t.status()["loop"]["state"] != "failed",
                 what="loop running again")
        check("-> failed" not in t.read_log(), t.read_log())
        t.stop()


def test_reload_that_drops_the_socket_group_drops_its_rights():
    need_root()
    users = grp.getgrnam("users").gr_gid
    conf = 'socket_mode = "0666"; socket_group = "users";'
    with Tend(prog("a", S, start_secs=0), supervisor=conf) as t:
        t.start()
        t.wait_state("a", "running")
        script = os.path.join(t.dir, "member.py")
        with open(script, "w") as f:
            f.write(textwrap.dedent("""
                import socket, sys
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.connect(sys.argv[1])
                f = s.makefile("rb")
                for i, line in enumerate(sys.stdin, 1):
                    s.sendall(line.strip().encode() + b"\\n")
                    print(f.readline().decode().strip(), flush=True)
            """))
        pw = pwd.getpwnam("nobody")
        p = subprocess.Popen(
            ["setpriv", "--reuid=%d" % pw.pw_uid, "--regid=%d" % pw.pw_gid,
             "--groups=%d" % users, "/usr/bin/python3", script, t.sock],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

        def ask(cmd):
            p.stdin.write(json.dumps({"v": 1, "id": 1, "cmd": cmd, "args": {
                "targets": ["a"], "wait": True}}) + "\n")
            p.stdin.flush()
            return json.loads(p.stdout.readline())
        eq(ask("stop")["ok"], True)
        eq(ask("start")["ok"], True)
        t.write_config(prog("a", S, start_secs=0),
                       supervisor='socket_mode = "0666";')
        eq(t.ctl("reload").returncode, 0)
        r = ask("stop")
        eq(r["ok"], False, repr(r))
        eq(r["error"]["code"], "permission_denied")
        eq(t.status()["a"]["state"], "running")
        p.stdin.close()
        p.wait(timeout=20)
        t.stop()


def test_frame_of_exactly_the_limit_and_one_byte_more():
    with Tend(prog("a", S, start_secs=0)) as t:
        t.start()
        # 1 MiB with its newline: a frame (not JSON: an error, and the
        # connection goes on).
        s = connect(t)
        s.sendall(b"x" * (MIB - 1) + b"\n")
        eq(json.loads(read_line(s))["error"]["code"], "bad_request")
        s.sendall(b'{"v":1,"id":2,"cmd":"version"}\n')
        eq(json.loads(read_line(s))["id"], 2)
        s.close()
        # One byte more: too large, and the connection is closed.
        s = connect(t)
        s.sendall(b"x" * MIB + b"\n")
        eq(json.loads(read_line(s))["error"]["code"], "too_large")
        try:
            rest = s.recv(65536)
        except ConnectionResetError:
            rest = b""
        eq(rest, b"", "the connection stays open after too_large")
        s.close()
        t.stop()


def test_wait_then_shutdown_of_the_writing_side_is_answered():
    with Tend(prog("once", ["sh", "-c", "sleep 0.5"], restart="never",
                   start_secs=0)) as t:
        t.start()
        s = connect(t)
        s.sendall(b'{"v":1,"id":5,"cmd":"wait","args":{"targets":'
                  b'["once"]}}\n')
        s.shutdown(socket.SHUT_WR)
        r = json.loads(read_line(s))
        eq((r["id"], r["ok"]), (5, True), repr(r))
        eq(r["result"]["results"][0]["state"], "exited")
        check(s.recv(1) == b"", "not closed once answered")
        s.close()
        # And one with nothing pending is closed at once.
        s = connect(t)
        s.sendall(b'{"v":1,"id":6,"cmd":"version"}\n')
        s.shutdown(socket.SHUT_WR)
        eq(json.loads(read_line(s))["id"], 6)
        check(s.recv(1) == b"", "not closed")
        s.close()
        t.stop()


if __name__ == "__main__":
    main(globals())
