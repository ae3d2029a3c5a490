"""Start, stop, restart, status, signal, wait and patterns, black-box."""
import json
import os
import select
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import (DEADLINE, TENDCTL, Tend, check, eq, main,  # noqa
                     pid_alive, prog, progs, request_parts, wait_for)

SLEEPER = ["sleep", "600"]


def test_autostart_and_status_json():
    with Tend(progs(prog("a", SLEEPER, start_secs=0),
                    prog("b", SLEEPER, autostart=False))) as t:
        t.start()
        a = t.wait_state("a", "running")
        st = t.status()
        eq(sorted(st), ["a", "b"])
        for key in ("name", "program", "instance", "state", "pid", "ppid",
                    "uptime", "restarts", "last_exit", "daemon", "error"):
            check(key in a, "status --json lacks %s" % key)
        eq(a["program"], "a")
        eq(a["instance"], 0)
        check(isinstance(a["pid"], int) and pid_alive(a["pid"]))
        eq(a["ppid"], t.proc.pid)
        check(isinstance(a["uptime"], (int, float)))
        eq(a["restarts"], 0)
        eq(a["last_exit"], None)
        eq(a["daemon"], False)
        eq(a["error"], None)
        eq(st["b"]["state"], "stopped")
        eq(st["b"]["pid"], None)
        # Exit codes: 3 when a listed instance is not running, 0 when all
        # are, 4 for a pattern that matches nothing.
        t.ctl("status", check=3)
        t.ctl("status", "a", check=0)
        r = t.ctl("status", "nosuch", check=4)
        check("nosuch" in r.stderr, r.stderr)
        t.stop()


def test_start_stop_restart_wait_for_goal():
    with Tend(prog("web", SLEEPER, autostart=False, start_secs="300ms")) as t:
        t.start()
        r = t.ctl("start", "web", check=0)
        check("running" in r.stdout, r.stdout)
        # start waited for start_secs: the instance is running right now.
        st = t.status()["web"]
        eq(st["state"], "running")
        pid1 = st["pid"]
        r = t.ctl("restart", "web", check=0)
        st = t.status()["web"]
        eq(st["state"], "running")
        check(st["pid"] != pid1, "restart kept the same pid")
        check(not pid_alive(pid1), "old process still alive after restart")
        eq(st["restarts"], 0)  # operator restarts are not counted
        r = t.ctl("stop", "web", check=0)
        st = t.status()["web"]
        eq(st["state"], "stopped")
        eq(st["pid"], None)
        check(not pid_alive(pid1))
        eq(st["last_exit"]["signal"], signal.SIGTERM)
        t.stop()


def test_no_wait_returns_at_once():
    with Tend(prog("slow", SLEEPER, autostart=False, start_secs="5s")) as t:
        t.start()
        t0 = time.monotonic()
        t.ctl("start", "--no-wait", "slow", check=0)
        check(time.monotonic() - t0 < 4, "--no-wait waited")
        eq(t.status()["slow"]["state"], "starting")
        t.ctl("stop", "slow", check=0)
        t.stop()


def test_exec_failure_is_failed_with_message():
    with Tend("") as t:
        plain = os.path.join(t.dir, "plain-file")
        with open(plain, "w") as f:
            f.write("not a program\n")
        os.chmod(plain, 0o644)
        t.write_config(progs(
            prog("missing", ["/nonexistent/tend-test-binary"]),
            prog("notexec", [plain]),
            prog("nocmd", ["tend-no-such-command-xyz"])))
        t.start()
        for name, words in (("missing", "No such file"),
                            ("notexec", "Permission denied"),
                            ("nocmd", "not found")):
            st = t.wait_state(name, "failed")
            check(st["error"] and words in st["error"],
                  "%s: error %r" % (name, st["error"]))
            eq(st["restarts"], 0)  # no restart loop
        r = t.ctl("status", "missing")
        eq(r.returncode, 3)
        check("No such file" in r.stdout, r.stdout)
        r = t.ctl("start", "missing")
        eq(r.returncode, 1)
        check("No such file" in r.stdout + r.stderr, r.stdout + r.stderr)
        t.stop()


def test_signal_command():
    script = ('trap "echo got-usr1 > usr1.txt" USR1; '
              'while true; do sleep 0.05; done')
    with Tend(prog("sig", script, start_secs=0)) as t:
        t.start()
        t.wait_state("sig", "running")
        t.ctl("signal", "USR1", "sig", check=0)
        wait_for(lambda: os.path.exists(os.path.join(t.dir, "usr1.txt")),
                 what="the program to receive USR1")
        t.ctl("signal", "SIGUSR1", "sig", check=0)
        t.ctl("signal", "10", "sig", check=0)
        t.ctl("signal", "NOSUCHSIG", "sig", check=2)
        t.ctl("signal", "HUP", "nosuch", check=4)
        t.stop()


def test_signal_needs_a_process():
    with Tend(prog("idle", SLEEPER, autostart=False)) as t:
        t.start()
        r = t.ctl("signal", "TERM", "idle")
        eq(r.returncode, 1)
        t.stop()


def test_wait_joins_exited_instances():
    with Tend(progs(prog("short", "sleep 0.5; exit 4", restart="never",
                         start_secs=0),
                    prog("long", SLEEPER, start_secs=0))) as t:
        t.start()
        # Exit code 4 is a failure: wait says so (see below).
        r = t.ctl("--json", "wait", "short", check=1)
        res = json.loads(r.stdout)
        res = res["results"] if isinstance(res, dict) else res
        eq(res[0]["name"], "short")
        eq(res[0]["state"], "exited")
        eq(res[0]["ok"], False)
        eq(res[0]["last_exit"]["code"], 4)
        t0 = time.monotonic()
        r = t.ctl("wait", "--timeout", "0.5", "long")
        eq(r.returncode, 1)
        check(time.monotonic() - t0 < 10)
        t.stop()


def test_wait_exit_status_says_how_they_ended():
    # wait is a join: exit 0 when every instance ended well (exited with
    # a code in success_exit_codes, or stopped by the operator), else 1,
    # with a line on stderr for each that did not.
    once = {"restart": "never", "start_secs": 0}
    with Tend(progs(prog("good", "exit 0", **once),
                    prog("four", "exit 4", success_exit_codes=[0, 4],
                         **once),
                    prog("bad", "exit 3", **once),
                    prog("usr1", "kill -USR1 $$", **once),
                    prog("nope", ["/nonexistent/tend-test-binary"],
                         start_secs=0),
                    prog("long", SLEEPER, start_secs=0))) as t:
        t.start()
        r = t.ctl("wait", "good", "four", check=0)
        eq(r.stdout, "good: exited (code 0)\nfour: exited (code 4)\n")
        eq(r.stderr, "")
        t.ctl("stop", "long", check=0)
        t.ctl("wait", "long", check=0)

        r = t.ctl("wait", "good", "bad", check=1)
        eq(r.stdout, "good: exited (code 0)\nbad: exited (code 3)\n")
        eq(r.stderr, "tendctl: bad: exited with code 3\n")
        r = t.ctl("wait", "usr1", "long", check=1)
        eq(r.stderr, "tendctl: usr1: killed by signal USR1\n")
        r = t.ctl("wait", "nope", check=1)
        check(r.stderr.startswith("tendctl: nope: failed: ") and
              "No such file" in r.stderr, r.stderr)

        r = t.ctl("--json", "wait", "all", check=1)
        ok = {x["name"]: x["ok"] for x in json.loads(r.stdout)["results"]}
        eq(ok, {"good": True, "four": True, "bad": False, "usr1": False,
                "nope": False, "long": True})
        eq(sorted(r.stderr.splitlines()),
           ["tendctl: bad: exited with code 3",
            "tendctl: nope: failed: exec /nonexistent/tend-test-binary: "
            "No such file or directory",
            "tendctl: usr1: killed by signal USR1"])
        t.stop()


def test_wait_prints_each_as_it_ends():
    # a ends after 0.2 s, b only once the test says so: a's line must be
    # out while b still runs, and neither twice.
    once = {"restart": "never", "start_secs": 0}
    with Tend(progs(prog("a", "sleep 0.2; exit 0", **once),
                    prog("b", "while [ ! -e go ]; do sleep 0.02; done; "
                         "exit 3", **once))) as t:
        t.start()
        p = subprocess.Popen([TENDCTL, "-s", t.sock, "wait", "a", "b"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             env=t.env())
        try:
            os.set_blocking(p.stdout.fileno(), False)
            out = b""
            end = time.monotonic() + DEADLINE
            while b"\n" not in out:
                check(time.monotonic() < end, "no line from wait: %r" % out)
                check(p.poll() is None, "wait ended early: %r" % out)
                select.select([p.stdout], [], [], 0.5)
                out += p.stdout.read() or b""
            eq(out, b"a: exited (code 0)\n")
            eq(t.status()["b"]["state"], "running", "(b must still run)")
            open(t.path("go"), "w").close()
            rest, err = p.communicate(timeout=DEADLINE)
            eq(p.returncode, 1)
            eq(out + rest, b"a: exited (code 0)\nb: exited (code 3)\n")
            eq(err, b"tendctl: b: exited with code 3\n")
        finally:
            if p.poll() is None:
                p.kill()
                p.communicate()
        # On the wire: an event as each ends, then the whole reply.
        events, reply = request_parts(t, "wait", {"targets": ["b", "a"],
                                                  "stream": True})
        # (Both ended already: at once, in config order, as the reply.)
        eq([(e["type"], e["name"], e["state"], e["ok"]) for e in events],
           [("ended", "a", "exited", True), ("ended", "b", "exited", False)])
        eq(events[1]["last_exit"]["code"], 3)
        eq([dict(r, type="ended") for r in reply["result"]["results"]],
           events)
        # Without "stream", the reply alone, as before.
        events, reply = request_parts(t, "wait", {"targets": ["a"]})
        eq(events, [])
        t.stop()


def test_patterns_and_all():
    with Tend(progs(prog("web", SLEEPER, instances=3, start_secs=0),
                    prog("worker", SLEEPER, start_secs=0),
                    prog("db", SLEEPER, start_secs=0))) as t:
        t.start()
        for n in ("web:0", "web:1", "web:2", "worker", "db"):
            t.wait_state(n, "running")
        eq(sorted(t.status("web")), ["web:0", "web:1", "web:2"])
        eq(sorted(t.status("web:1")), ["web:1"])
        eq(sorted(t.status("w*")), ["web:0", "web:1", "web:2", "worker"])
        eq(sorted(t.status("web:[02]")), ["web:0", "web:2"])
        t.ctl("stop", "web:*", check=0)
        st = t.status()
        eq([st[n]["state"] for n in ("web:0", "web:1", "web:2")],
           ["stopped"] * 3)
        eq(st["db"]["state"], "running")
        # One pattern that matches nothing fails the whole request and
        # changes nothing.
        t.ctl("stop", "db", "nosuch", check=4)
        eq(t.status()["db"]["state"], "running")
        t.ctl("stop", "all", check=0)
        check(all(i["state"] == "stopped" for i in t.status().values()))
        t.ctl("start", "all", check=0)
        check(all(i["state"] == "running" for i in t.status().values()))
        t.stop()


def test_shutdown_command_and_version():
    with Tend(prog("a", SLEEPER, start_secs=0)) as t:
        t.start()
        pid = t.wait_state("a", "running")["pid"]
        r = t.ctl("version", check=0)
        check("0.1.0" in r.stdout, r.stdout)
        r = t.ctl("--json", "version", check=0)
        eq(json.loads(r.stdout)["pid"], t.proc.pid)
        t.ctl("shutdown", check=0)
        eq(t.proc.wait(timeout=30), 0)
        check(not pid_alive(pid))
        t.stop()


def test_shutdown_with_nothing_running_replies():
    # tendd exits at once when nothing runs; the reply must still arrive.
    with Tend(prog("idle", SLEEPER, autostart=False)) as t:
        t.start()
        r = t.ctl("shutdown", check=0)
        check("shutting down" in r.stdout, r.stdout)
        eq(t.proc.wait(timeout=30), 0)
        t.stop()


def test_ctl_cannot_connect():
    with Tend(prog("a", SLEEPER)) as t:
        r = t.ctl("status")
        eq(r.returncode, 5)
        check("cannot connect" in r.stderr, r.stderr)


def test_ctl_finds_socket_from_config():
    with Tend(prog("a", SLEEPER, start_secs=0)) as t:
        t.start()
        t.wait_state("a", "running")
        import subprocess
        from harness import TENDCTL
        r = subprocess.run([TENDCTL, "-c", t.config, "status", "a"],
                           capture_output=True, text=True, timeout=30)
        eq(r.returncode, 0, r.stderr)
        check("running" in r.stdout, r.stdout)
        t.stop()


if __name__ == "__main__":
    main(globals())
