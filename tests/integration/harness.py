"""harness.py: run the real tendd and tendctl in a temporary directory.

Every test file holds functions named test_*; meson runs each one as its
own test: `python3 FILE TESTNAME`. Binaries come from $TENDD and $TENDCTL.
Tests wait for conditions with deadlines (wait_for), never fixed sleeps.
Exit status 77 means skipped (meson's convention).
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback

TENDD = os.environ.get("TENDD", "tendd")
TENDCTL = os.environ.get("TENDCTL", "tendctl")
# Deadlines are generous: the suite must pass on a loaded 2-core machine
# under ASan. They bound a wait; a passing test returns as soon as it can.
DEADLINE = float(os.environ.get("TEND_TEST_DEADLINE", "20"))


class Skip(Exception):
    pass


class Failure(AssertionError):
    pass


def wait_for(cond, timeout=DEADLINE, what="condition", interval=0.02):
    """Poll cond() until it returns a true value; fail at the deadline."""
    end = time.monotonic() + timeout
    last = None
    while True:
        try:
            v = cond()
            if v:
                return v
        except (OSError, ValueError, KeyError) as e:
            last = e
        if time.monotonic() > end:
            raise Failure("timed out after %.1fs waiting for %s%s" % (
                timeout, what, " (last error: %r)" % (last,) if last else ""))
        time.sleep(interval)


def pid_alive(pid):
    """True if pid exists and is not a zombie."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            st = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return st[st.rindex(")") + 2] != "Z"


def proc_stat(pid):
    with open("/proc/%d/stat" % pid) as f:
        st = f.read()
    rest = st[st.rindex(")") + 2:].split()
    return {"state": rest[0], "ppid": int(rest[1]), "pgrp": int(rest[2]),
            "session": int(rest[3])}


def all_procs():
    out = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                out[int(d)] = proc_stat(int(d))
            except (OSError, ValueError, IndexError):
                pass
    return out


def zombies_of(ppid):
    return [p for p, s in all_procs().items()
            if s["ppid"] == ppid and s["state"] == "Z"]


def procs_with_env(key, value):
    """PIDs whose environment holds KEY=value (tags a test's processes)."""
    needle = ("%s=%s" % (key, value)).encode()
    found = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/environ" % d, "rb") as f:
                env = f.read().split(b"\0")
        except OSError:
            continue
        if needle in env and pid_alive(int(d)):
            found.append(int(d))
    return found


class Tend:
    """A tendd in a private directory, with its config and socket there."""

    def __init__(self, programs="", supervisor="", name="tend.conf"):
        self.dir = tempfile.mkdtemp(prefix="tend-test-")
        os.chmod(self.dir, 0o755)
        self.sock = os.path.join(self.dir, "tend.sock")
        # Every program a test starts carries this tag in its environment,
        # so leftovers can be found even if they escape their group.
        self.tag = os.path.basename(self.dir)
        self.config = os.path.join(self.dir, name)
        self.write_config(programs, supervisor)
        self.proc = None
        self.log_path = os.path.join(self.dir, "tendd.log")
        self.log = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.cleanup()
        return False

    def write_config(self, programs, supervisor=""):
        with open(self.config, "w") as f:
            f.write('supervisor = {\n  socket = "%s";\n  state_dir = '
                    '"state";\n  log_dir = "log";\n%s\n};\n' % (
                        self.sock, supervisor))
            f.write("programs = (\n%s\n);\n" % programs)

    def env(self):
        e = dict(os.environ)
        e["TEND_TEST_TAG"] = self.tag
        e.pop("TEND_SOCKET", None)
        return e

    def start(self, *args, wait=True, wrapper=()):
        """Start tendd, under wrapper (a command prefix such as valgrind
        and its options) if given. The wrapper must run tendd in its own
        process: self.proc.pid is taken for tendd's pid."""
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            list(wrapper) + [TENDD, "-c", self.config, "--log-level",
                             "debug"] + list(args),
            stdout=self.log, stderr=subprocess.STDOUT, env=self.env(),
            cwd=self.dir)
        if wait:
            wait_for(self.connectable, what="tendd to listen on " + self.sock)
        return self

    def connectable(self):
        if self.proc is not None and self.proc.poll() is not None:
            raise Failure("tendd exited with %d:\n%s" % (
                self.proc.returncode, self.read_log()))
        # The tendd just started must answer, not a dead one's socket
        # that lingers a moment (while a child it was starting shares its
        # descriptors): ask for its pid.
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(1)
        try:
            s.connect(self.sock)
            s.sendall(b'{"v":1,"id":1,"cmd":"version"}\n')
            r = json.loads(read_line(s))
            return self.proc is None or r.get("result", {}).get(
                "pid") == self.proc.pid
        except (OSError, ValueError, Failure):
            return False
        finally:
            s.close()

    def procs(self):
        """Live processes started under this tendd (tendd excluded)."""
        me = self.proc.pid if self.proc is not None else None
        return [p for p in procs_with_env("TEND_TEST_TAG", self.tag)
                if p != me]

    def read_log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def ctl(self, *args, check=None, timeout=60, user=None, binary=None):
        """Run tendctl; check=N asserts the exit status."""
        cmd = [binary or TENDCTL, "-s", self.sock] + list(args)
        if user is not None:
            import pwd
            pw = pwd.getpwnam(user)
            cmd = ["setpriv", "--reuid=%d" % pw.pw_uid,
                   "--regid=%d" % pw.pw_gid, "--clear-groups"] + cmd
        r = subprocess.run(cmd, capture_output=True, text=True,
                           timeout=timeout, env=self.env())
        if check is not None and r.returncode != check:
            raise Failure("tendctl %s: exit %d, expected %d\nstdout: %s\n"
                          "stderr: %s" % (" ".join(args), r.returncode,
                                          check, r.stdout, r.stderr))
        return r

    def status(self, *patterns):
        r = self.ctl("--json", "status", *patterns)
        if r.returncode not in (0, 3):
            raise Failure("status failed (%d): %s %s" % (
                r.returncode, r.stdout, r.stderr))
        return {i["name"]: i for i in json.loads(r.stdout)}

    def request(self, cmd, args=None, raw=None, rid=1):
        """Send one raw frame and return the decoded reply."""
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(DEADLINE)
        s.connect(self.sock)
        try:
            if raw is None:
                raw = json.dumps({"v": 1, "id": rid, "cmd": cmd,
                                  "args": args or {}}) + "\n"
            s.sendall(raw.encode() if isinstance(raw, str) else raw)
            return json.loads(read_line(s))
        finally:
            s.close()

    def ps(self, *patterns):
        """`tendctl --json ps`: the list of process objects."""
        r = self.ctl("--json", "ps", *patterns)
        if r.returncode != 0:
            raise Failure("ps failed (%d): %s %s" % (
                r.returncode, r.stdout, r.stderr))
        return json.loads(r.stdout)

    def wait_exit(self, timeout=DEADLINE):
        """Wait for tendd to exit on its own; return its exit status."""
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise Failure("tendd did not exit within %.1fs:\n%s" % (
                timeout, self.read_log()))

    def path(self, *names):
        return os.path.join(self.dir, *names)

    def wait_state(self, name, *states, timeout=DEADLINE):
        def ok():
            st = self.status().get(name)
            return st if st and st["state"] in states else None
        return wait_for(ok, timeout, "%s to be %s" % (name, "/".join(states)))

    def stop(self, check_exit=True):
        """SIGTERM tendd, wait for it, and check nothing of ours is left."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise Failure("tendd did not exit on SIGTERM:\n" +
                              self.read_log())
        code = self.proc.returncode
        self.proc = None
        if check_exit and code != 0:
            raise Failure("tendd exited with %d:\n%s" % (code,
                                                         self.read_log()))
        left = procs_with_env("TEND_TEST_TAG", self.tag)
        end = time.monotonic() + 5
        while left and time.monotonic() < end:
            time.sleep(0.05)
            left = procs_with_env("TEND_TEST_TAG", self.tag)
        if left:
            for p in left:
                try:
                    os.kill(p, signal.SIGKILL)
                except OSError:
                    pass
            raise Failure("processes left after tendd exited: %r" % left)
        if os.path.exists(self.sock):
            raise Failure("socket %s left behind" % self.sock)
        return code

    def cleanup(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        # Several rounds: a shell loop may fork again between the scan
        # and the kill.
        end = time.monotonic() + 5
        while True:
            left = procs_with_env("TEND_TEST_TAG", self.tag)
            if not left or time.monotonic() > end:
                break
            for p in left:
                try:
                    os.kill(p, signal.SIGKILL)
                except OSError:
                    pass
            time.sleep(0.02)
        self.remove_cgroups()
        if self.log:
            self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def remove_cgroups(self):
        """Remove the (empty) cgroup subtree a killed tendd left behind,
        named in its log, so failed tests do not litter the machine."""
        import re
        m = re.search(r"cgroups under (/tend-[0-9a-f]+)\n", self.read_log())
        if m is None:
            return
        try:
            with open("/proc/self/mountinfo") as f:
                mounts = [a.split() for a in f]
        except OSError:
            return
        for a in mounts:
            if "-" in a and a[a.index("-") + 1] == "cgroup2" and a[3] == "/":
                root = a[4] + m.group(1)
                try:
                    for leaf in os.listdir(root):
                        if os.path.isdir(os.path.join(root, leaf)):
                            os.rmdir(os.path.join(root, leaf))
                    os.rmdir(root)
                except OSError:
                    pass
                return


def read_line(s, limit=2 * 1024 * 1024):
    buf = b""
    while b"\n" not in buf:
        d = s.recv(65536)
        if not d:
            raise Failure("connection closed before a reply: %r" % buf[:200])
        buf += d
        if len(buf) > limit:
            raise Failure("reply too long")
    return buf.split(b"\n", 1)[0].decode()


def request_parts(t, cmd, args, rid=9):
    """Send one request; return (events, reply) as they come, checking
    each part is under 1 MiB, tied to the request, and that nothing
    follows the reply."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(DEADLINE)
    s.connect(t.sock)
    try:
        s.sendall((json.dumps({"v": 1, "id": rid, "cmd": cmd,
                               "args": args}) + "\n").encode())
        buf, events = b"", []
        while True:
            while b"\n" not in buf:
                d = s.recv(65536)
                if not d:
                    raise Failure("closed before the reply")
                buf += d
            line, buf = buf.split(b"\n", 1)
            m = json.loads(line)
            if m["id"] != rid:
                raise Failure("a part of another request: %r" % m)
            if len(line) >= 1024 * 1024:
                raise Failure("a part over 1 MiB")
            if "event" not in m:
                if buf:
                    raise Failure("something after the reply: %r" % buf)
                return events, m
            events.append(m["event"])
    finally:
        s.close()


def read_pid(path, timeout=DEADLINE):
    """Wait for path to hold a PID (a decimal number and a newline)."""
    def ok():
        with open(path) as f:
            t = f.read()
        return int(t) if t.endswith("\n") and t.strip().isdigit() else None
    return wait_for(ok, timeout, "a pid in " + path)


def unprivileged_ctl(t):
    """A copy of tendctl that an unprivileged user can execute (the
    build directory may not be theirs to enter)."""
    path = os.path.join(t.dir, "tendctl")
    if not os.path.exists(path):
        shutil.copy(TENDCTL, path)
        os.chmod(path, 0o755)
    return path


def tracking(mode):
    """supervisor keys for descendant tracking: "cgroup" or "tree"."""
    return 'cgroups = "%s";' % ("auto" if mode == "cgroup" else "off")


def need_tracking(t, name, mode):
    """Skip unless instance name uses the tracking mode asked for."""
    st = t.status()[name]
    want = "cgroup" if mode == "cgroup" else "process-tree"
    if st["tracking"] != want:
        if mode == "cgroup":
            raise Skip("cgroups unusable here (tracking is %r)" %
                       st["tracking"])
        raise Failure("cgroups = \"off\" but tracking is %r" %
                      st["tracking"])


def prog(name, command, **keys):
    """A program group in libconfig syntax."""
    if isinstance(command, list):
        cmd = "[" + ", ".join(json.dumps(c) for c in command) + "]"
    else:
        cmd = json.dumps(command)
    out = ['name = "%s"' % name, "command = %s" % cmd]
    for k, v in keys.items():
        if isinstance(v, bool):
            out.append("%s = %s" % (k, "true" if v else "false"))
        elif isinstance(v, (int, float)):
            out.append("%s = %s" % (k, v))
        elif isinstance(v, dict):
            out.append("%s = { %s }" % (k, " ".join(
                '%s = %s;' % (a, json.dumps(b)) for a, b in v.items())))
        elif isinstance(v, list):
            out.append("%s = [%s]" % (k, ", ".join(json.dumps(x)
                                                  for x in v)))
        else:
            out.append('%s = %s' % (k, json.dumps(v)))
    return "{ " + "; ".join(out) + "; }"


def progs(*p):
    return ",\n".join(p)


def check(cond, msg="check failed"):
    if not cond:
        raise Failure(msg)


def eq(a, b, msg=""):
    if a != b:
        raise Failure("%r != %r %s" % (a, b, msg))


def need_root():
    if os.geteuid() != 0:
        raise Skip("needs root")


def main(module_globals):
    """Run the test named on the command line (or all, for a human)."""
    tests = sorted(k for k in module_globals if k.startswith("test_"))
    if len(sys.argv) > 1 and sys.argv[1] == "--list":
        print("\n".join(tests))
        return
    names = sys.argv[1:] or tests
    failed = skipped = 0
    for name in names:
        fn = module_globals.get(name)
        if fn is None:
            print("no such test: %s" % name)
            sys.exit(2)
        try:
            fn()
            print("ok - %s" % name)
        except Skip as e:
            print("skip - %s: %s" % (name, e))
            skipped += 1
        except Exception:
            traceback.print_exc()
            print("not ok - %s" % name)
            failed += 1
    if failed:
        sys.exit(1)
    if skipped == len(names):
        sys.exit(77)
