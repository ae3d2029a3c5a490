"""The documentation's examples work: every ```conf block in README.md
passes `tendd --check`, and the demo config runs."""
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from harness import TENDD, Tend, check, eq, main, need_root, wait_for  # noqa

TOP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")


def blocks(path, lang):
    with open(path) as f:
        text = f.read()
    return re.findall(r"```%s\n(.*?)```" % lang, text, re.S)


def test_readme_conf_examples_pass_check():
    need_root()  # they name users and groups tendd may switch to as root
    found = blocks(os.path.join(TOP, "README.md"), "conf")
    check(found, "no ```conf block in README.md")
    for text in found:
        d = tempfile.mkdtemp(prefix="tend-doc-")
        path = os.path.join(d, "tend.conf")
        with open(path, "w") as f:
            f.write(text)
        r = subprocess.run([TENDD, "--check", "-c", path],
                           capture_output=True, text=True, timeout=30)
        eq(r.returncode, 0, "README example fails --check:\n%s\n%s" % (
            text, r.stderr))


def test_readme_check_example_output():
    bad = blocks(os.path.join(TOP, "README.md"), "conf-invalid")
    out = blocks(os.path.join(TOP, "README.md"), "check-output")
    eq((len(bad), len(out)), (1, 1), "README example blocks")
    d = tempfile.mkdtemp(prefix="tend-doc-")
    with open(os.path.join(d, "tend.conf"), "w") as f:
        f.write(bad[0])
    lines = out[0].splitlines()
    eq(lines[0], "$ tendd --check -c tend.conf")
    r = subprocess.run([TENDD, "--check", "-c", "tend.conf"], cwd=d,
                       capture_output=True, text=True, timeout=30)
    eq(r.returncode, 1)
    eq(r.stderr.splitlines(), lines[1:])


def test_demo_runs():
    demo = os.path.join(TOP, "conf", "examples", "demo.conf")
    with Tend("") as t:
        # The demo as shipped, copied so that its relative paths (socket,
        # logs) land in the test's directory, not the source tree.
        shutil.copy(demo, t.config)
        t.start("-s", t.sock)
        for name in ("clock", "worker:0", "worker:1", "worker:2",
                     "stubborn"):
            t.wait_state(name, "running")
        t.wait_state("oneshot", "exited")
        t.wait_state("crashy", "failed")
        st = t.status()
        eq(st["oneshot"]["last_exit"]["code"], 0)
        t.ctl("stop", "stubborn", check=0)
        eq(t.status()["stubborn"]["last_exit"]["signal"], 9)
        # Its logs: workers in a shared file, clock on tendd's stdout.
        wait_for(lambda: "worker:1 | worker 1 up (w-1)" in open(
            os.path.join(t.dir, "demo", "log", "worker.log")).read(),
            what="the workers' shared log file")
        r = t.ctl("logs", "worker", check=0)
        check("worker:2 | worker 2 up (w-2)" in r.stdout, r.stdout)
        wait_for(lambda: "clock | time is " in t.read_log(),
                 what="clock's lines on tendd's stdout")
        t.stop()


if __name__ == "__main__":
    main(globals())
