"""What a started program gets: environment, {instance}, directory, umask,
user, session, signals, file descriptors."""
import os
import pwd
import signal
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from harness import (TENDD, Tend, check, eq, main, need_root, prog, progs,  # noqa
                     wait_for)

PROBE = ('env > "$OUT.env"; pwd > "$OUT.cwd"; umask > "$OUT.umask"; '
         'id -u > "$OUT.uid"; id -g > "$OUT.gid"; id -G > "$OUT.groups"; '
         'ls /proc/$$/fd > "$OUT.fds"; '
         'cat /proc/$$/stat > "$OUT.stat"; readlink /proc/$$/fd/0 > "$OUT.in";'
         ' echo $$ > "$OUT.pid"; touch "$OUT.done"; exec sleep 600')


def probe(t, name):
    base = os.path.join(t.dir, name)
    wait_for(lambda: os.path.exists(base + ".done"), what=name + " probe")

    def read(ext):
        with open(base + "." + ext) as f:
            return f.read()
    env = dict(l.split("=", 1) for l in read("env").splitlines() if "=" in l)
    return read, env


def test_environment_and_instances():
    with Tend("") as t:
        t.write_config(prog(
            "web", ["/bin/sh", "-c", PROBE],
            instances=3, start_secs=0,
            environment={"OUT": os.path.join(t.dir, "web{instance}"),
                         "PORT": "80{instance}", "WHO": "{name}"}))
        os.environ["TEND_INHERITED"] = "yes"
        try:
            t.start()
        finally:
            del os.environ["TEND_INHERITED"]
        for i in range(3):
            read, env = probe(t, "web%d" % i)
            eq(env["TEND_PROGRAM"], "web")
            eq(env["TEND_INSTANCE"], str(i))
            eq(env["PORT"], "80%d" % i)
            eq(env["WHO"], "web")
            eq(env.get("TEND_INHERITED"), "yes")
        st = t.status()
        eq(sorted(st), ["web:0", "web:1", "web:2"])
        eq([st["web:%d" % i]["instance"] for i in range(3)], [0, 1, 2])
        t.stop()


def test_instance_in_command():
    with Tend("") as t:
        t.write_config(prog(
            "w", ["/bin/sh", "-c", 'echo {instance} > "$D/arg{instance}";'
                  ' exec sleep 600'], instances=2, start_secs=0,
            environment={"D": t.dir}))
        t.start()
        for i in range(2):
            path = os.path.join(t.dir, "arg%d" % i)
            wait_for(lambda: os.path.exists(path) and
                     open(path).read().strip() == str(i),
                     what="instance %d argv" % i)
        t.stop()


def test_clear_environment_and_files():
    with Tend("") as t:
        envfile = os.path.join(t.dir, "app.env")
        with open(envfile, "w") as f:
            f.write("# settings\nFROM_FILE=one\nexport QUOTED=\"a b\"\n"
                    "PORT=1\n")
        t.write_config(prog(
            "clean", ["/bin/sh", "-c", PROBE], start_secs=0,
            clear_environment=True,
            environment_file=["app.env", "-missing.env"],
            environment={"OUT": os.path.join(t.dir, "clean"),
                         "PORT": "2"}))
        t.start()
        read, env = probe(t, "clean")
        eq(env["FROM_FILE"], "one")
        eq(env["QUOTED"], "a b")
        eq(env["PORT"], "2")  # environment wins over the file
        check("TEND_TEST_TAG" not in env, "environment was not cleared")
        eq(env["TEND_PROGRAM"], "clean")
        t.stop()


def test_bad_environment_file_is_an_error():
    with Tend("") as t:
        with open(os.path.join(t.dir, "bad.env"), "w") as f:
            f.write("GOOD=1\nthis is not an assignment\n")
        t.write_config(progs(
            prog("nofile", ["sleep", "600"], environment_file="absent.env"),
            prog("badfile", ["sleep", "600"], environment_file="bad.env")))
        t.start()
        st = t.wait_state("nofile", "failed")
        check("absent.env" in st["error"], st["error"])
        st = t.wait_state("badfile", "failed")
        check("bad.env:2" in st["error"], st["error"])
        t.stop()


def test_directory_umask_session_signals_fds():
    with Tend("") as t:
        work = os.path.join(t.dir, "work")
        os.mkdir(work)
        t.write_config(prog(
            "p", ["/bin/sh", "-c", PROBE], start_secs=0, directory="work",
            umask="027", environment={"OUT": os.path.join(t.dir, "p")}))
        t.start()
        read, env = probe(t, "p")
        eq(read("cwd").strip(), work)
        eq(read("umask").strip(), "0027")
        pid = int(read("pid"))
        fields = read("stat")
        fields = fields[fields.rindex(")") + 2:].split()
        eq(int(fields[2]), pid, "not a process group leader")
        eq(int(fields[3]), pid, "not a session leader")
        # Once the shell has exec'd sleep (and sleep has finished its own
        # start-up, which opens and closes locale files), the program holds
        # only stdio: nothing of tendd's leaked. A leaked fd never goes.
        wait_for(lambda: open("/proc/%d/cmdline" % pid).read().startswith(
            "sleep") and sorted(os.listdir("/proc/%d/fd" % pid)) ==
            ["0", "1", "2"], what="the program to hold only fds 0, 1, 2")
        # The signal mask and ignored set as exec'd (read from sleep: a
        # shell blocks everything while it waits for a child).
        with open("/proc/%d/status" % pid) as f:
            sig = dict(l.split(":", 1) for l in f if l.startswith("Sig"))
        # Signals 32 and 33 are glibc's own (SIGCANCEL, SIGSETXID): libc
        # does not let a program change them, and glibc resets them itself.
        glibc = (1 << 31) | (1 << 32)
        eq(int(sig["SigBlk"].strip(), 16) & ~glibc, 0, "signals blocked")
        eq(int(sig["SigIgn"].strip(), 16) & ~glibc, 0, "signals ignored")
        eq(read("in").strip(), "/dev/null")
        t.stop()


def test_signals_ignored_by_tendds_parent_are_default_in_programs():
    """A shell's background job starts with INT and QUIT ignored, nohup
    ignores HUP: none of that reaches the programs, whether tendd has a
    handler of its own for the signal (INT, QUIT, HUP) or not (ALRM,
    TTIN)."""
    with Tend("") as t:
        t.write_config(progs(prog("p", ["sleep", "600"], start_secs=0),
                             prog("q", ["sleep", "600"], start_secs=0)))
        t.start(wrapper=["/bin/sh", "-c",
                         'trap "" INT QUIT HUP ALRM TTIN; exec "$@"', "sh"])
        with open("/proc/%d/status" % t.proc.pid) as f:
            ign = [int(l.split(":")[1], 16) for l in f
                   if l.startswith("SigIgn")][0]
        for sig in (14, 21):
            check(ign & (1 << (sig - 1)), "tendd ignores signal %d" % sig)
        # Started in the loop, and started again later (the signals are
        # looked at once, at the first start).
        t.wait_state("p", "running")
        t.ctl("restart", "q", check=0)
        t.wait_state("q", "running")
        glibc = (1 << 31) | (1 << 32)
        for name in ("p", "q"):
            pid = t.status()[name]["pid"]
            with open("/proc/%d/status" % pid) as f:
                sig = dict(l.split(":", 1) for l in f if l.startswith("Sig"))
            eq(int(sig["SigIgn"].strip(), 16) & ~glibc, 0,
               name + ": signals ignored")
            eq(int(sig["SigBlk"].strip(), 16) & ~glibc, 0,
               name + ": signals blocked")
            eq(int(sig["SigCgt"].strip(), 16) & ~glibc, 0,
               name + ": signals caught")
        t.stop()


def test_user_and_group():
    need_root()
    nobody = pwd.getpwnam("nobody")
    with Tend("") as t:
        outdir = os.path.join(t.dir, "out")
        os.mkdir(outdir)
        os.chmod(outdir, 0o777)
        out = os.path.join(outdir, "u")
        t.write_config(prog("u", ["/bin/sh", "-c", PROBE], start_secs=0,
                            user="nobody", group="nogroup",
                            environment={"OUT": out}))
        t.start()
        read, env = probe(t, "out/u")
        eq(int(read("uid")), nobody.pw_uid)
        import grp
        eq(int(read("gid")), grp.getgrnam("nogroup").gr_gid)
        eq(env["USER"], "nobody")
        eq(env["HOME"], nobody.pw_dir)
        t.stop()


def test_user_setup_failure_is_reported():
    need_root()
    with Tend("") as t:
        # nobody cannot enter a 0700 root directory.
        private = os.path.join(t.dir, "private")
        os.mkdir(private, 0o700)
        t.write_config(prog("u", ["sleep", "600"], user="nobody",
                            directory="private"))
        t.start()
        st = t.wait_state("u", "failed", "backoff")
        check(st["error"] and ("chdir" in st["error"] or
                               "Permission" in st["error"]), st["error"])
        t.stop()


def test_runtime_directory():
    """Made under /run, owned by the program's user, before it starts;
    kept across a crash and restart; removed, without following a
    symlink it holds, once the program is stopped."""
    need_root()
    import pwd
    import stat as st_
    import uuid
    name = "tend-test-%s" % uuid.uuid4().hex[:8]
    shared, mine = "/run/" + name, "/run/%s-{instance}" % name
    script = ('echo "$RUNTIME_DIRECTORY" > %s/env-$TEND_INSTANCE; '
              'touch %s/i$TEND_INSTANCE && exec sleep 600')
    with Tend("") as t:
        t.write_config(prog("rt", script % (t.dir, shared), instances=2,
                            start_secs=0, user="nobody",
                            runtime_directory=[name, name + "-{instance}"],
                            runtime_directory_mode="0750"))
        os.chmod(t.dir, 0o777)
        try:
            t.start()
            t.wait_state("rt:0", "running")
            t.wait_state("rt:1", "running")
            nobody = pwd.getpwnam("nobody")
            for d in (shared, mine.format(instance=0),
                      mine.format(instance=1)):
                sb = os.stat(d)
                eq((sb.st_uid, sb.st_gid), (nobody.pw_uid, nobody.pw_gid),
                   d)
                eq(st_.S_IMODE(sb.st_mode), 0o750, d)
            wait_for(lambda: os.path.exists(shared + "/i0") and
                     os.path.exists(shared + "/i1"), what="files made "
                     "by the program as nobody")
            with open(t.path("env-0")) as f:
                eq(f.read().strip(), "%s:%s" % (shared,
                                                mine.format(instance=0)))
            # A crash and its restart keep them.
            pid = t.status()["rt:0"]["pid"]
            os.kill(pid, signal.SIGKILL)
            wait_for(lambda: t.status()["rt:0"]["pid"] not in (None, pid)
                     and t.status()["rt:0"]["state"] == "running",
                     what="rt:0 restarted")
            check(os.path.exists(shared + "/i1"), "a restart emptied it")
            # Something outside it, and links to it from inside.
            outside = t.path("outside")
            os.makedirs(outside)
            open(os.path.join(outside, "keep"), "w").close()
            os.symlink(outside, shared + "/dirlink")
            os.symlink(outside + "/keep", shared + "/filelink")
            os.makedirs(shared + "/sub/deeper")
            # One instance stopped: its own directory goes, the shared
            # one stays.
            t.ctl("stop", "rt:0", check=0)
            check(not os.path.exists(mine.format(instance=0)))
            check(os.path.isdir(shared))
            t.ctl("stop", "rt:1", check=0)
            for d in (shared, mine.format(instance=1)):
                check(not os.path.lexists(d), d + " left after the stop")
            check(os.path.exists(os.path.join(outside, "keep")),
                  "the removal followed a symlink")
            # Made again at the next start.
            t.ctl("start", "rt", check=0)
            check(os.path.isdir(shared) and
                  os.path.isdir(mine.format(instance=1)))
            t.stop()
            check(not os.path.lexists(shared), "left after shutdown")
        finally:
            for d in (shared, mine.format(instance=0),
                      mine.format(instance=1)):
                subprocess.run(["rm", "-rf", d])


def test_runtime_directory_errors():
    with Tend("") as t:
        for bad in ('"/abs"', '"../up"', '""', '"a//b"', '("ok", 5)'):
            t.write_config(prog("r", ["true"], runtime_directory=0) \
                           .replace("runtime_directory = 0",
                                    "runtime_directory = " + bad))
            r = subprocess.run([TENDD, "--check", "-c", t.config],
                               capture_output=True, text=True)
            eq(r.returncode, 1, bad)
            check("runtime_directory" in r.stderr and
                  "tend.conf:" in r.stderr, r.stderr)


def test_runtime_directory_never_follows_a_link():
    """A link where the directory goes is refused, not followed: what it
    points to is not given to the program's user."""
    need_root()
    import uuid
    name = "tend-test-%s" % uuid.uuid4().hex[:8]
    with Tend("") as t:
        target = t.path("target")
        os.makedirs(target)
        os.symlink(target, "/run/" + name)
        try:
            t.write_config(prog("rt", ["sleep", "600"], start_secs=0,
                                user="nobody", runtime_directory=name))
            t.start()
            st = wait_for(lambda: (lambda s: s if s["error"] else None)(
                t.status()["rt"]), what="a start that fails")
            check("exists and is not a directory" in st["error"],
                  repr(st))
            eq(os.stat(target).st_uid, 0, "the link was followed")
            t.stop()
        finally:
            os.unlink("/run/" + name)


if __name__ == "__main__":
    main(globals())
