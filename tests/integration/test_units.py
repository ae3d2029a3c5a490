"""The systemd files in systemd/ (generated into BUILD/systemd/): they pass
`systemd-analyze verify`, sysusers.d and tmpfiles.d accept them, `meson
install` puts everything in place, and tendd runs under a real systemd
booted in systemd-nspawn over a throw-away overlay of the host's root
(see shared/systemd-testing.md): Type=notify start, STATUS=, reload, the
journal, stop, and socket activation.

Every mount, cgroup and process a container test makes belongs to a guard
process (this file run with --guard) in its own session: it sets up, boots
and tears down, and it cleans up when the test ends in any way, even
killed by meson's timeout, because it notices its stdin closing.
"""
import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (TENDCTL, TENDD, Failure, Skip, check, eq, main,  # noqa
                     need_root, pid_alive, prog, progs, wait_for)

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.normpath(os.path.join(HERE, "..", ".."))
# Boot of a container: about 0.4 s here; this only bounds a broken one.
BOOT_DEADLINE = 30
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def build_dir():
    """The build directory of $TENDD (BUILD/daemon/tendd)."""
    d = os.environ.get("TEND_BUILD_DIR")
    if d:
        return d
    d = os.path.dirname(os.path.dirname(os.path.abspath(TENDD)))
    if not os.path.exists(os.path.join(d, "meson-info")):
        raise Skip("cannot find the build directory from TENDD=%s (set "
                   "TEND_BUILD_DIR)" % TENDD)
    return d


def unit_file(name):
    path = os.path.join(build_dir(), "systemd", name)
    if not os.path.exists(path):
        raise Failure("%s was not generated" % path)
    with open(path) as f:
        return f.read()


def unit_key(text, key):
    """The (last) value of KEY= in a unit file."""
    vals = re.findall(r"^%s=(.*)$" % re.escape(key), text, re.M)
    if not vals:
        raise Failure("no %s= in the unit" % key)
    return vals[-1].strip()


def service_paths():
    """(tendd, tendctl, config) as the built tend.service names them."""
    text = unit_file("tend.service")
    start = unit_key(text, "ExecStart").split()
    reload_ = unit_key(text, "ExecReload").split()
    check(os.path.basename(start[0]) == "tendd" and "-c" in start,
          "ExecStart=%s" % " ".join(start))
    check(os.path.basename(reload_[0]) == "tendctl",
          "ExecReload=%s" % " ".join(reload_))
    return start[0], reload_[0], start[start.index("-c") + 1]


def quiet_env(**extra):
    e = {"PATH": PATH, "LANG": "C.UTF-8", "SYSTEMD_PAGER": "",
         "SYSTEMD_COLORS": "0", "SYSTEMD_LOG_COLOR": "0"}
    for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
        if k in os.environ:
            e[k] = os.environ[k]
    e.update(extra)
    return e


# ---------------------------------------------------------------------------
# The guard: owns the overlay, the cgroups and systemd-nspawn.

CG_ROOTS = ("/sys/fs/cgroup/unified", "/sys/fs/cgroup/systemd")


def cgroup_roots():
    roots = [r for r in CG_ROOTS
             if os.path.exists(os.path.join(r, "cgroup.procs"))]
    if not roots and os.path.exists("/sys/fs/cgroup/cgroup.procs"):
        roots = ["/sys/fs/cgroup"]  # a pure cgroup2 host
    return roots


def cgroup_pids(top):
    pids = set()
    for d, _, _ in os.walk(top):
        try:
            with open(os.path.join(d, "cgroup.procs")) as f:
                pids.update(int(x) for x in f.read().split())
        except OSError:
            pass
    return pids


def is_mounted(path):
    with open("/proc/self/mountinfo") as f:
        return any(line.split()[4] == path for line in f)


def container_leader(nspawn):
    """The container's PID 1: the child of systemd-nspawn in another PID
    namespace. (Its first child, which sets up the mounts and then
    exits, shares nspawn's namespace.)"""
    try:
        mine = os.readlink("/proc/%d/ns/pid" % nspawn)
    except OSError:
        return None
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % p) as f:
                st = f.read()
            if int(st[st.rindex(")") + 2:].split()[1]) == nspawn and \
                    os.readlink("/proc/%s/ns/pid" % p) != mine:
                return int(p)
        except (OSError, ValueError):
            continue
    return None


def guard_say(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def guard_main(name):
    """Set up, boot on request, and always tear down. Talks JSON lines on
    stdout; reads commands on stdin, whose end means: tear down now."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    d = tempfile.mkdtemp(prefix="tend-units-")
    t, merged = os.path.join(d, "t"), os.path.join(d, "merged")
    cgs = [os.path.join(r, "tend-units-%d" % os.getpid())
           for r in cgroup_roots()]
    nspawn = None
    problems = []
    try:
        os.mkdir(t)
        os.mkdir(merged)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=755", "tmpfs",
                        t], check=True)
        os.mkdir(os.path.join(t, "upper"))
        os.mkdir(os.path.join(t, "work"))
        subprocess.run(["mount", "-t", "overlay", "overlay", "-o",
                        "lowerdir=/,upperdir=%s/upper,workdir=%s/work"
                        % (t, t), merged], check=True)
        # Only vendor units come up: none of the host's enabled services.
        etc = os.path.join(merged, "etc", "systemd", "system")
        if os.path.isdir(etc):
            for e in os.listdir(etc):
                p = os.path.join(etc, e)
                if e.endswith(".wants") or e == "default.target":
                    if os.path.isdir(p) and not os.path.islink(p):
                        shutil.rmtree(p)
                    else:
                        os.unlink(p)
        guard_say({"dir": d, "root": merged})
        if sys.stdin.readline().strip() != "boot":
            return
        for cg in cgs:
            os.makedirs(cg, exist_ok=True)

        def enter_cgroups():
            for cg in cgs:
                with open(os.path.join(cg, "cgroup.procs"), "w") as f:
                    f.write(str(os.getpid()))

        console = open(os.path.join(d, "console.log"), "wb")
        nspawn = subprocess.Popen(
            ["systemd-nspawn", "-q", "-D", merged, "-M", name,
             "--register=no", "--keep-unit", "--private-network",
             "--console=read-only", "-b"],
            stdin=subprocess.DEVNULL, stdout=console, stderr=console,
            preexec_fn=enter_cgroups, start_new_session=True,
            env=quiet_env())
        console.close()
        leader = None
        end = time.monotonic() + BOOT_DEADLINE
        while leader is None and time.monotonic() < end and \
                nspawn.poll() is None:
            leader = container_leader(nspawn.pid)
            time.sleep(0.02)
        guard_say({"nspawn": nspawn.pid, "leader": leader})
        sys.stdin.read()  # until the test is done, or gone
    except Exception as e:  # reported to the test, then torn down
        guard_say({"error": "%s: %s" % (type(e).__name__, e)})
    finally:
        problems = guard_teardown(nspawn, cgs, merged, t, d)
        try:
            guard_say({"clean": not problems, "problems": problems})
        except OSError:
            pass


def guard_teardown(nspawn, cgs, merged, t, d):
    problems = []
    if nspawn is not None and nspawn.poll() is None:
        nspawn.send_signal(signal.SIGTERM)  # a clean guest shutdown
        try:
            nspawn.wait(timeout=20)
        except subprocess.TimeoutExpired:
            problems.append("systemd-nspawn ignored SIGTERM for 20 s")
    # Whatever is left in our cgroups is ours: kill it.
    end = time.monotonic() + 10
    while True:
        left = set()
        for cg in cgs:
            left |= cgroup_pids(cg)
        if nspawn is not None and nspawn.poll() is None:
            left.add(nspawn.pid)
        if not left:
            break
        if time.monotonic() > end:
            problems.append("processes would not die: %r" % sorted(left))
            break
        for p in left:
            try:
                os.kill(p, signal.SIGKILL)
            except OSError:
                pass
        if nspawn is not None:
            nspawn.poll()
        time.sleep(0.05)
    for m in (merged, t):
        end = time.monotonic() + 10
        while is_mounted(m):
            r = subprocess.run(["umount", "-R", m], capture_output=True)
            if r.returncode == 0:
                continue
            if time.monotonic() > end:
                problems.append("umount %s: %s; detached it" % (
                    m, r.stderr.decode().strip()))
                subprocess.run(["umount", "-l", m])
                break
            time.sleep(0.1)
    for cg in cgs:
        end = time.monotonic() + 10
        while os.path.exists(cg):
            for sub, _, _ in sorted(os.walk(cg), key=lambda w: -len(w[0])):
                try:
                    os.rmdir(sub)
                except OSError:
                    pass
            if not os.path.exists(cg):
                break
            if time.monotonic() > end:
                problems.append("cannot remove cgroup %s" % cg)
                break
            time.sleep(0.1)
    if not any(is_mounted(m) for m in (merged, t)):
        shutil.rmtree(d, ignore_errors=True)
    return problems


# ---------------------------------------------------------------------------
# The test's side.

class Container:
    """A booted systemd in systemd-nspawn; files go into its overlay."""

    def __init__(self):
        need_root()
        for tool in ("systemd-nspawn", "nsenter", "mount"):
            if shutil.which(tool) is None:
                raise Skip("%s is missing (tools/deps test installs "
                           "systemd-container)" % tool)
        self.name = "tendunits%d" % os.getpid()
        self.guard = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), "--guard",
             self.name],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL, start_new_session=True, text=True)
        self.leader = None
        self.dir = None
        msg = self._read(BOOT_DEADLINE)
        if "error" in msg:
            self.close()
            raise Failure("setting up the overlay: %s" % msg["error"])
        self.dir, self.root = msg["dir"], msg["root"]

    def _read(self, timeout):
        r, _, _ = select.select([self.guard.stdout], [], [], timeout)
        line = self.guard.stdout.readline() if r else ""
        if not line:
            raise Failure("the guard process said nothing")
        return json.loads(line)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        problems = self.close()
        if problems and exc[0] is None:
            raise Failure("cleanup: %s" % "; ".join(problems))
        if problems:
            sys.stderr.write("cleanup: %s\n" % "; ".join(problems))
        return False

    def close(self):
        """Tear everything down; returns the guard's problems."""
        if self.guard is None:
            return []
        g, self.guard = self.guard, None
        try:
            g.stdin.close()
        except OSError:
            pass
        problems = []
        try:
            for line in g.stdout:
                msg = json.loads(line)
                if "clean" in msg:
                    problems = msg["problems"]
            g.wait(timeout=60)
        except subprocess.TimeoutExpired:
            problems.append("the guard did not finish")
        return problems

    def path(self, p):
        return os.path.join(self.root, p.lstrip("/"))

    def write(self, p, text, mode=0o644):
        host = self.path(p)
        os.makedirs(os.path.dirname(host), exist_ok=True)
        with open(host, "w") as f:
            f.write(text)
        os.chmod(host, mode)

    def copy(self, src, p, mode=0o644):
        host = self.path(p)
        os.makedirs(os.path.dirname(host), exist_ok=True)
        shutil.copyfile(src, host)
        os.chmod(host, mode)

    def boot(self):
        self.guard.stdin.write("boot\n")
        self.guard.stdin.flush()
        msg = self._read(BOOT_DEADLINE + 10)
        if "error" in msg or not msg.get("leader"):
            raise Skip("systemd-nspawn did not start: %s\n%s" % (
                msg.get("error", "no container process"), self.console()))
        self.leader = msg["leader"]
        r = None
        end = time.monotonic() + BOOT_DEADLINE
        while time.monotonic() < end and pid_alive(self.leader):
            r = self.run("systemctl", "is-system-running")
            if r.stdout.strip() in ("running", "degraded"):
                return
            time.sleep(0.05)
        raise Skip("the container's systemd did not reach running within "
                   "%d s (is-system-running: %r %r; PID 1 %s)\n%s" % (
                       BOOT_DEADLINE, r and r.stdout, r and r.stderr,
                       "alive" if pid_alive(self.leader) else "gone",
                       self.console()))

    def console(self):
        try:
            with open(os.path.join(self.dir, "console.log"),
                      errors="replace") as f:
                return f.read()[-3000:]
        except OSError:
            return ""

    def run(self, *cmd, check=None, timeout=60, user=None, groups=None):
        """Run a command in the container; check=N asserts its status."""
        pre = ["nsenter", "-t", str(self.leader), "-a"]
        if user is not None:
            pre += ["setpriv", "--reuid=%d" % user, "--regid=%d" % user]
            pre += ["--groups=" + ",".join(map(str, groups))] if groups \
                else ["--clear-groups"]
        r = subprocess.run(pre + list(cmd), capture_output=True, text=True,
                           timeout=timeout, env=quiet_env())
        if check is not None and r.returncode != check:
            raise Failure("in the container: %s: exit %d, expected %d\n"
                          "stdout: %s\nstderr: %s\n%s" % (
                              " ".join(cmd), r.returncode, check, r.stdout,
                              r.stderr, self.journal()))
        return r

    def show(self, unit, prop):
        return self.run("systemctl", "show", "-P", prop, unit,
                        check=0).stdout.strip()

    def journal(self, *args):
        r = self.run("journalctl", "--no-pager", "-u", "tend", "-o", "cat",
                     *args)
        return "journal of tend.service:\n" + r.stdout[-6000:]


def install_tend(c, config):
    """Put the binaries where the built units say, the units, sysusers.d
    and tmpfiles.d files where meson installs them, and the config."""
    tendd, tendctl, conf = service_paths()
    c.copy(TENDD, tendd, 0o755)
    c.copy(TENDCTL, tendctl, 0o755)
    c.copy(shutil.which("sleep"), SLOW, 0o755)
    # A drop-in passes the sanitizer options on; the unit itself is the
    # generated one, unchanged.
    env = " ".join('"%s=%s"' % (k, v) for k, v in quiet_env().items()
                   if k.endswith("SAN_OPTIONS"))
    for name in ("tend.service", "tend.socket"):
        c.copy(os.path.join(build_dir(), "systemd", name),
               "/etc/systemd/system/" + name)
    if env:
        c.write("/etc/systemd/system/tend.service.d/sanitizers.conf",
                "[Service]\nEnvironment=%s\n" % env)
    c.copy(os.path.join(build_dir(), "systemd", "tend.sysusers"),
           "/usr/lib/sysusers.d/tend.conf")
    c.copy(os.path.join(build_dir(), "systemd", "tend.tmpfiles"),
           "/usr/lib/tmpfiles.d/tend.conf")
    c.write(conf, config)
    return conf


def setup_users_and_dirs(c):
    c.run("systemd-sysusers", "/usr/lib/sysusers.d/tend.conf", check=0)
    c.run("systemd-tmpfiles", "--create", "/usr/lib/tmpfiles.d/tend.conf",
          check=0)
    gid = int(c.run("getent", "group", "tend", check=0).stdout.split(":")[2])
    return gid


# A copy of sleep(1) with a name of its own, so that it is told apart
# from the shell loops' children in systemd's messages.
SLOW = "/usr/local/bin/tend-slow"


def programs_config(mark, extra=""):
    """Programs that print, one slow to start, one that fails. Each
    carries MARK in its environment so leftovers can be found."""
    env = {"TEND_UNITS_MARK": mark}
    loop = ('i=0; while :; do i=$((i+1)); echo "%s line $i"; '
            'echo "%s oops $i" >&2; sleep 0.2; done')
    return ('supervisor = { shutdown_timeout = "20s"; };\n'
            "programs = (\n%s\n);\n" % progs(
                prog("printer", ["/bin/sh", "-c", loop % ("printer",
                                                            "printer")],
                     stdout="journal", stderr="journal", environment=env,
                     start_secs="100ms"),
                prog("inheritor", ["/bin/sh", "-c",
                                   loop % ("inheritor", "inheritor")],
                     stdout="inherit", stderr="inherit", environment=env,
                     start_secs="100ms"),
                prog("slow", [SLOW, "100000"], start_secs="2s",
                     environment=env),
                prog("broken", ["/bin/false"], start_limit=1,
                     restart_delay="100ms", environment=env),
                *([extra] if extra else [])))


def marked(mark):
    """Live processes (the container's included) carrying MARK."""
    needle = ("TEND_UNITS_MARK=%s" % mark).encode()
    found = []
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open("/proc/%s/environ" % p, "rb") as f:
                env = f.read().split(b"\0")
        except OSError:
            continue
        if needle in env and pid_alive(int(p)):
            found.append(int(p))
    return found


def status(c, *names):
    r = c.run("tendctl", "--json", "status", *names)
    if r.returncode not in (0, 3):
        raise Failure("tendctl status: exit %d: %s %s" % (
            r.returncode, r.stdout, r.stderr))
    return {i["name"]: i["state"] for i in json.loads(r.stdout)}


def status_counts(c):
    """(running, backoff, failed) from tend.service's StatusText."""
    m = re.search(r"(\d+) running, (\d+) backoff, (\d+) failed",
                  c.show("tend", "StatusText"))
    return m and tuple(map(int, m.groups()))


def check_stopped_clean(c, mark, cursor):
    """tend.service ended well, by tendd's doing: tendd exited 0 after
    stopping its programs, and no program process is left."""
    eq(c.show("tend", "ActiveState"), "inactive")
    eq(c.show("tend", "Result"), "success", c.journal())
    eq(c.show("tend", "ExecMainStatus"), "0", c.journal())
    left = marked(mark)
    check(not left, "program processes left after stop: %r" % left)
    r = c.run("journalctl", "--no-pager", "-o", "cat", "-u", "tend",
              "--after-cursor", cursor, check=0)
    # Nothing for systemd's final SIGKILL (KillMode=mixed) to do: tendd
    # stopped every program itself, and waited (as their subreaper) for
    # what was left of their process groups to die before exiting.
    killed = [ln for ln in r.stdout.splitlines()
              if "Killing process" in ln or "remains running" in ln]
    check(not killed, "systemd had to kill what tendd left: %s\n%s" % (
        killed, r.stdout[-5000:]))

def journal_cursor(c):
    """Where the journal ends now, for --after-cursor."""
    out = c.run("journalctl", "--no-pager", "-q", "-n", "0",
                "--show-cursor", check=0).stdout
    return out.strip().split("cursor: ", 1)[1]


# ---------------------------------------------------------------------------
# Tests.

def test_verify():
    """systemd-analyze verify prints nothing for the generated units (with
    ExecStart and ExecReload pointing at the built binaries)."""
    if shutil.which("systemd-analyze") is None:
        raise Skip("systemd-analyze is missing")
    service = unit_file("tend.service")
    socket_ = unit_file("tend.socket")
    check(not re.search(r"@\w+@", service + socket_),
          "unsubstituted @VARIABLE@ in the units")
    tendd, tendctl, conf = service_paths()
    for p in (tendd, tendctl, conf):
        check(os.path.isabs(p), "%s is not absolute" % p)
    d = tempfile.mkdtemp(prefix="tend-verify-")
    try:
        service = service.replace("ExecStart=%s " % tendd,
                                  "ExecStart=%s " % os.path.abspath(TENDD))
        service = service.replace("ExecReload=%s " % tendctl,
                                  "ExecReload=%s " %
                                  os.path.abspath(TENDCTL))
        for name, text in (("tend.service", service),
                           ("tend.socket", socket_)):
            with open(os.path.join(d, name), "w") as f:
                f.write(text)
        r = subprocess.run(["systemd-analyze", "verify", "--man=no",
                            os.path.join(d, "tend.service"),
                            os.path.join(d, "tend.socket")],
                           capture_output=True, text=True, timeout=60,
                           cwd=d, env=quiet_env())
        eq((r.returncode, r.stdout + r.stderr), (0, ""),
           "systemd-analyze verify")
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_sysusers_and_tmpfiles():
    """systemd-sysusers and systemd-tmpfiles apply the files to an empty
    root: group tend, and the directories with their modes."""
    need_root()
    for tool in ("systemd-sysusers", "systemd-tmpfiles"):
        if shutil.which(tool) is None:
            raise Skip("%s is missing" % tool)
    r = tempfile.mkdtemp(prefix="tend-root-")
    try:
        os.makedirs(os.path.join(r, "etc"))
        for kind in ("sysusers", "tmpfiles"):
            os.makedirs(os.path.join(r, "usr/lib/%s.d" % kind))
            shutil.copy(os.path.join(build_dir(), "systemd",
                                     "tend." + kind),
                        os.path.join(r, "usr/lib/%s.d/tend.conf" % kind))
        for cmd in (["systemd-sysusers", "--root=" + r],
                    ["systemd-tmpfiles", "--root=" + r, "--create"]):
            p = subprocess.run(cmd, capture_output=True, text=True,
                               timeout=60, env=quiet_env())
            eq(p.returncode, 0, "%s: %s" % (cmd[0], p.stderr))
        with open(os.path.join(r, "etc/group")) as f:
            check(re.search(r"^tend:x:\d+:", f.read(), re.M),
                  "no group tend")
        for path, mode in (("etc/tend", 0o755), ("run/tend", 0o755),
                           ("var/lib/tend", 0o755),
                           ("var/log/tend", 0o750)):
            st = os.stat(os.path.join(r, path))
            eq(oct(st.st_mode & 0o7777), oct(mode), path)
    finally:
        shutil.rmtree(r, ignore_errors=True)


def test_meson_install():
    """`meson install --destdir` puts the binaries, units, sysusers.d and
    tmpfiles.d files and the config where the units expect them, and does
    not overwrite an existing config."""
    meson = shutil.which("meson")
    if meson is None:
        raise Skip("meson is missing")
    tendd, tendctl, conf = service_paths()
    d = tempfile.mkdtemp(prefix="tend-install-")
    try:
        def install():
            r = subprocess.run([meson, "install", "-C", build_dir(),
                                "--no-rebuild", "--destdir", d],
                               capture_output=True, text=True, timeout=120)
            eq(r.returncode, 0, "meson install: %s %s" % (r.stdout,
                                                          r.stderr))
        install()
        files = set()
        for base, _, names in os.walk(d):
            files.update(os.path.join(base, n)[len(d):] for n in names)
        units = [f for f in files if f.endswith("/tend.service")]
        eq(len(units), 1, "installed: %s" % sorted(files))
        unitdir = os.path.dirname(units[0])
        check(unitdir.endswith("/lib/systemd/system"), unitdir)
        check(unitdir + "/tend.socket" in files, "no tend.socket")
        check(any(f.endswith("/sysusers.d/tend.conf") for f in files),
              "no sysusers.d/tend.conf in %s" % sorted(files))
        check(any(f.endswith("/tmpfiles.d/tend.conf") for f in files),
              "no tmpfiles.d/tend.conf in %s" % sorted(files))
        for p in (tendd, tendctl, conf):
            check(p in files, "%s not installed: %s" % (p, sorted(files)))
        check(os.access(d + tendd, os.X_OK) and os.access(d + tendctl,
                                                           os.X_OK),
              "binaries not executable")
        with open(d + unitdir + "/tend.service") as f:
            eq(f.read(), unit_file("tend.service"))
        with open(d + conf) as f, open(os.path.join(
                TOP, "conf", "examples", "tend.conf")) as g:
            eq(f.read(), g.read(), "installed config")
        # An edited config survives a reinstall.
        with open(d + conf, "a") as f:
            f.write("# edited\n")
        install()
        with open(d + conf) as f:
            check(f.read().endswith("# edited\n"), "config overwritten")
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_service_under_systemd():
    """tend.service in a real systemd: ready only once every autostart
    program is running or failed, STATUS= counts, reload (good and bad),
    the programs' lines in the journal, and a clean stop."""
    mark = "svc-%d" % os.getpid()
    with Container() as c:
        conf = install_tend(c, programs_config(mark))
        c.boot()
        gid = setup_users_and_dirs(c)

        # Enabling the service enables the socket too (Also=).
        c.run("systemctl", "enable", "tend", check=0)
        eq([c.run("systemctl", "is-enabled", u).stdout.strip()
            for u in ("tend.service", "tend.socket")],
           ["enabled", "enabled"])

        # Start: "activating" until slow (start_secs = 2) is running.
        t0 = time.monotonic()
        c.run("systemctl", "start", "--no-block", "tend", check=0)
        seen = set()

        def started():
            state = c.show("tend", "ActiveState")
            seen.add(state)
            if state == "active":
                # READY came after every program was running or failed.
                st = status(c)
                eq((st["slow"], st["broken"]), ("running", "failed"),
                   "tend.service active while %r" % st)
                return True
            # inactive: the start job waits for tend.socket.
            check(state == "activating" or (state == "inactive" and
                                            "activating" not in seen),
                  "tend.service is %s\n%s" % (state, c.journal()))
            return False
        wait_for(started, timeout=60, what="tend.service to be active")
        check("activating" in seen, "never saw tend.service activating")
        check(time.monotonic() - t0 >= 1.9, "active too soon")
        began = int(c.show("tend", "ExecMainStartTimestampMonotonic"))
        active = int(c.show("tend", "ActiveEnterTimestampMonotonic"))
        check(active - began >= 1900000,
              "READY %.3f s after ExecStart, before slow's start_secs" % (
                  (active - began) / 1e6))
        eq(c.show("tend", "SubState"), "running")
        # The control socket is tend.socket's (tend.service wants it).
        eq(c.show("tend.socket", "ActiveState"), "active")
        eq(c.run("stat", "-c", "%a %g", "/run/tend/tend.sock",
                 check=0).stdout.split(), ["660", str(gid)])

        wait_for(lambda: status_counts(c) == (3, 0, 1),
                 what="StatusText '3 running, 0 backoff, 1 failed'")

        # Reload: a program is added.
        pid = c.show("tend", "MainPID")
        c.write(conf, programs_config(mark, prog(
            "added", [SLOW, "100000"], start_secs="100ms",
            environment={"TEND_UNITS_MARK": mark})))
        c.run("systemctl", "reload", "tend", check=0)
        check(status(c, "added")["added"] in ("starting", "running"),
              "'added' was not started by the reload")
        wait_for(lambda: status_counts(c) == (4, 0, 1),
                 what="StatusText '4 running, 0 backoff, 1 failed'")
        # A broken config: the reload fails, tend goes on as it was.
        c.write(conf, programs_config(mark).replace(
            'name = "slow";', 'name = "slow"; restat = "always";'))
        r = c.run("systemctl", "reload", "tend")
        check(r.returncode != 0, "reload of a broken config succeeded")
        eq((c.show("tend", "ActiveState"), c.show("tend", "SubState"),
            c.show("tend", "MainPID")), ("active", "running", pid))
        wait_for(lambda: "unknown key 'restat'" in c.run(
            "journalctl", "--no-pager", "-u", "tend", "-t", "tendctl",
            "-o", "cat").stdout, what="tendctl's error in the journal")
        check("added" in status(c), "the failed reload changed programs")
        c.write(conf, programs_config(mark))
        c.run("systemctl", "reload", "tend", check=0)
        wait_for(lambda: "added" not in status(c),
                 what="the reload to remove 'added'")

        # The journal: a "journal" program with its fields, an "inherit"
        # one through tendd's stdout; tendd's own lines without "<N>".
        def logged():
            text = c.journal()
            return ("printer line" in text and "printer oops" in text and
                    "inheritor | inheritor line" in text and
                    "inheritor | inheritor oops" in text)
        wait_for(logged, what="the programs' lines in journalctl -u tend")
        r = c.run("journalctl", "--no-pager", "-u", "tend", "-o", "json",
                  "TEND_PROGRAM=printer", check=0)
        prios = {}
        for line in r.stdout.splitlines():
            e = json.loads(line)
            eq(e.get("SYSLOG_IDENTIFIER"), "printer")
            prios[e["MESSAGE"].split()[1]] = e["PRIORITY"]
        eq((prios.get("line"), prios.get("oops")), ("6", "3"),
           "priorities of printer's stdout and stderr")
        r = c.run("journalctl", "--no-pager", "-u", "tend", "-o", "json",
                  "_COMM=tendd", check=0)
        for line in r.stdout.splitlines():
            msg = json.loads(line).get("MESSAGE")
            check(not isinstance(msg, str) or not re.match(r"<\d>", msg),
                  "tendd's line kept its priority prefix: %r" % msg)

        # Stop: tendd stops every program itself.
        cursor = journal_cursor(c)
        c.run("systemctl", "stop", "tend", check=0)
        check_stopped_clean(c, mark, cursor)


def test_socket_activation():
    """tend.socket alone: the first tendctl command starts tend.service;
    group tend may control it, others cannot connect; after a stop, the
    next command starts it again."""
    mark = "sock-%d" % os.getpid()
    with Container() as c:
        install_tend(c, programs_config(mark))
        c.boot()
        gid = setup_users_and_dirs(c)
        c.run("systemctl", "start", "tend.socket", check=0)
        eq(c.show("tend", "ActiveState"), "inactive")
        eq(c.run("stat", "-c", "%a %g", "/run/tend/tend.sock",
                 check=0).stdout.split(), ["660", str(gid)])

        for round_ in (1, 2):
            r = c.run("tendctl", "status")
            check(r.returncode in (0, 3) and "slow" in r.stdout,
                  "tendctl status (round %d): %d %s %s\n%s" % (
                      round_, r.returncode, r.stdout, r.stderr,
                      c.journal()))
            wait_for(lambda: c.show("tend", "ActiveState") == "active",
                     what="tend.service started by the socket")
            check(not c.run("test", "-S", "/run/tend/tend.sock").returncode,
                  "the socket file is gone")
            if round_ == 1:
                # nobody in group tend may stop and start (tendctl finds
                # the system's socket: nobody has no tendd of its own);
                # nobody alone cannot even connect.
                c.run("tendctl", "stop", "printer", user=65534,
                      groups=[gid], check=0)
                c.run("tendctl", "start", "printer", user=65534,
                      groups=[gid], check=0)
                c.run("tendctl", "-s", "/run/tend/tend.sock", "status",
                      user=65534, check=5)
                # Stopping the service keeps the socket listening.
                cursor = journal_cursor(c)
                c.run("systemctl", "stop", "tend.service", check=0)
                check_stopped_clean(c, mark, cursor)
                eq(c.show("tend.socket", "ActiveState"), "active")

        cursor = journal_cursor(c)
        c.run("systemctl", "stop", "tend.socket", "tend.service", check=0)
        check_stopped_clean(c, mark, cursor)
        eq(c.show("tend.socket", "ActiveState"), "inactive")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--guard":
        guard_main(sys.argv[2])
    else:
        main(globals())
