"""tendd --check and config errors at startup: every error, with file and
line."""
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from harness import TENDCTL, TENDD, Tend, check, eq, main, prog  # noqa

BAD = """supervisor = {
  socket = "x.sock";
  shutdown_timeout = "forever";
};
programs = (
  { name = "web";
    command = ["sleep", "1"];
    restat = "always";
  },
  { name = "web";
    command = "true";
    stop_signal = "SIGNOPE";
  },
  { name = "bad name";
    command = [];
    user = "no-such-user-tend-test";
    instances = 0;
  }
);
"""


def check_conf(text):
    d = tempfile.mkdtemp(prefix="tend-conf-")
    path = os.path.join(d, "t.conf")
    with open(path, "w") as f:
        f.write(text)
    r = subprocess.run([TENDD, "--check", "-c", path], capture_output=True,
                       text=True, timeout=30)
    return r, path


def test_check_lists_every_error_with_lines():
    r, path = check_conf(BAD)
    eq(r.returncode, 1)
    lines = r.stderr.splitlines()
    want = [(3, "shutdown_timeout"), (8, "restat"), (8, "restart"),
            (10, "web"), (12, "SIGNOPE"), (14, "bad name"), (15, "command"),
            (16, "no-such-user-tend-test"), (17, "instances")]
    for line, word in want:
        check(any(l.startswith("%s:%d:" % (path, line)) and word in l
                  for l in lines),
              "no error at line %d about %s in:\n%s" % (line, word,
                                                        r.stderr))


def test_check_syntax_error_line():
    r, path = check_conf('programs = (\n  { name = "a"; command = "x" }\n'
                         '  { name = "b"; }\n);\n')
    eq(r.returncode, 1)
    check(r.stderr.startswith(path + ":"), r.stderr)
    check(":2:" in r.stderr or ":3:" in r.stderr, r.stderr)


def test_check_ok():
    r, path = check_conf('programs = ( { name = "a"; command = "true"; } );')
    eq(r.returncode, 0, r.stderr)
    check("ok" in r.stdout, r.stdout)


def test_check_empty_and_nul_configs():
    # "ok (0 programs)" for these made a reload stop every program.
    for text in ("", "# nothing\n"):
        r, path = check_conf(text)
        eq(r.returncode, 1, r.stdout)
        eq(r.stderr.splitlines()[0], "%s: empty configuration: no "
           "'supervisor' and no 'programs' (to run no programs, write "
           "'supervisor = {};')" % path)
    r, path = check_conf("supervisor = {};\n")
    eq(r.returncode, 0, r.stderr)
    check("ok (0 programs)" in r.stdout, r.stdout)
    # A NUL byte, even the only content: the text after it is not lost.
    for data, line in ((b"\0" * 64, 1),
                       (b'supervisor = {};\n\n\0programs = ( { name = "a"; '
                        b'command = "x"; } );\n', 3)):
        r, path = check_conf("")
        with open(path, "wb") as f:
            f.write(data)
        r = subprocess.run([TENDD, "--check", "-c", path],
                           capture_output=True, text=True, timeout=30)
        eq(r.returncode, 1, r.stdout)
        eq(r.stderr.splitlines()[0], "%s:%d: NUL byte: a configuration "
           "file is text" % (path, line))


def test_ctl_with_broken_config_still_reaches_tendd():
    # tendctl -c needs only the socket: a mistake elsewhere in the file
    # failed every command, status included, with exit 2.
    with Tend(prog("a", ["sleep", "600"], start_secs=0)) as t:
        t.start()
        t.wait_state("a", "running")

        def ctl(*args):
            return subprocess.run([TENDCTL, "-c", t.config] + list(args),
                                  capture_output=True, text=True,
                                  timeout=60, env=t.env())
        good = open(t.config).read()
        # An unknown key, then a syntax error.
        for old, new in (("start_secs", "start_secz"),
                         ("name =", "name = =")):
            bad = good.replace(old, new, 1)
            line = bad[:bad.index(new)].count("\n") + 1
            with open(t.config, "w") as f:
                f.write(bad)
            r = ctl("status", "a")
            eq(r.returncode, 0, r.stderr)
            check("running" in r.stdout, r.stdout)
            r = ctl("logs", "-n", "1", "a")
            eq(r.returncode, 0, r.stderr)
            # The reload reaches tendd, which refuses the file.
            r = ctl("reload")
            eq(r.returncode, 1, r.stderr)
            check(r.stderr.startswith("tendctl: configuration invalid"),
                  r.stderr)
            check("%s:%d: " % (t.config, line) in r.stderr, r.stderr)
            eq(t.status()["a"]["state"], "running")
        # A socket it cannot be sure of is an error, not a guess.
        with open(t.config, "w") as f:
            f.write("supervisor = { socket = \"%s\" = };\n" % t.sock)
        r = ctl("status")
        eq(r.returncode, 2, r.stderr)
        eq(r.stderr, "tendctl: cannot tell which socket %s names (%s:1: "
           "syntax error); name it with -s SOCKET\n" % (t.config, t.config))
        with open(t.config, "w") as f:
            f.write(good)
        r = ctl("stop", "a")
        eq(r.returncode, 0, r.stderr)
        t.stop()


def test_missing_config_file():
    r = subprocess.run([TENDD, "--check", "-c", "/nonexistent/tend.conf"],
                       capture_output=True, text=True, timeout=30)
    eq(r.returncode, 1)
    check("/nonexistent/tend.conf" in r.stderr, r.stderr)


def test_bad_config_refuses_to_start():
    with Tend(prog("a", "true", restart="sometimes")) as t:
        r = subprocess.run([TENDD, "-c", t.config], capture_output=True,
                           text=True, timeout=30)
        eq(r.returncode, 1)
        check("restart" in r.stderr and t.config in r.stderr, r.stderr)
        check(not os.path.exists(t.sock), "socket created anyway")


def test_example_configs_are_valid():
    top = os.path.join(os.path.dirname(__file__), "..", "..", "conf",
                       "examples")
    for name in sorted(os.listdir(top)):
        if not name.endswith(".conf"):
            continue
        r = subprocess.run([TENDD, "--check", "-c", os.path.join(top, name)],
                           capture_output=True, text=True, timeout=30)
        eq(r.returncode, 0, "%s: %s" % (name, r.stderr))


def test_help_and_version():
    r = subprocess.run([TENDD, "--version"], capture_output=True, text=True)
    eq(r.returncode, 0)
    check("0.1.0" in r.stdout)
    r = subprocess.run([TENDD, "--help"], capture_output=True, text=True)
    eq(r.returncode, 0)
    check("--daemonize" in r.stdout and "--check" in r.stdout)
    r = subprocess.run([TENDD, "--bogus"], capture_output=True, text=True)
    eq(r.returncode, 2)


if __name__ == "__main__":
    main(globals())
