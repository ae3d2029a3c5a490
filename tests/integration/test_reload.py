"""Reload: add, remove, change, scale, live updates, and a bad config that
changes nothing. Through `tendctl reload` and SIGHUP."""
import json
import os
import signal
import sys

sys.path.insert(0, os.path.dirname(__file__))
from harness import (Tend, check, eq, main, pid_alive, prog, progs,  # noqa
                     wait_for)

S = ["sleep", "600"]


def changes(r):
    return {c["program"]: c for c in json.loads(r.stdout)["changes"]}


def test_reload_add_remove_change_keep():
    base = [prog("keep", S, start_secs=0),
            prog("change", S, start_secs=0),
            prog("gone", S, start_secs=0),
            prog("live", S, start_secs=0, stop_timeout="10s")]
    with Tend(progs(*base)) as t:
        t.start()
        pids = {n: t.wait_state(n, "running")["pid"]
                for n in ("keep", "change", "gone", "live")}
        t.write_config(progs(
            prog("keep", S, start_secs=0),
            prog("change", ["sleep", "601"], start_secs=0),
            prog("live", S, start_secs=0, stop_timeout="3s",
                 restart="always"),
            prog("new", S, start_secs=0)))
        r = t.ctl("--json", "reload", check=0)
        ch = changes(r)
        eq(ch["change"]["action"], "restarted")
        eq(ch["change"]["keys"], ["command"])
        eq(ch["gone"]["action"], "removed")
        eq(ch["new"]["action"], "added")
        eq(ch["live"]["action"], "updated")
        eq(sorted(ch["live"]["keys"]), ["restart", "stop_timeout"])
        check("keep" not in ch, "an unchanged program was reported")
        t.wait_state("new", "running")
        st = t.wait_state("change", "running")
        check(st["pid"] != pids["change"], "changed program not restarted")
        wait_for(lambda: "gone" not in t.status(), what="gone to go")
        check(not pid_alive(pids["gone"]))
        st = t.status()
        eq(st["keep"]["pid"], pids["keep"])
        eq(st["live"]["pid"], pids["live"])
        # Human output names each change.
        t.write_config(progs(prog("keep", S, start_secs=0)))
        r = t.ctl("reload", check=0)
        check("change: removed" in r.stdout, r.stdout)
        r = t.ctl("reload", check=0)
        check("no changes" in r.stdout, r.stdout)
        t.stop()


def test_bad_reload_changes_nothing():
    with Tend(progs(prog("a", S, start_secs=0),
                    prog("b", S, start_secs=0))) as t:
        t.start()
        before = {n: t.wait_state(n, "running")["pid"] for n in ("a", "b")}
        good = open(t.config).read()
        t.write_config(progs(prog("a", ["sleep", "7"], start_secs=0),
                             '{ name = "c"; comand = "x"; }'))
        r = t.ctl("reload")
        eq(r.returncode, 1)
        check("tend.conf:" in r.stderr and "comand" in r.stderr, r.stderr)
        st = t.status()
        eq(sorted(st), ["a", "b"])
        eq({n: st[n]["pid"] for n in st}, before)
        # A syntax error too.
        with open(t.config, "w") as f:
            f.write(good.replace("programs", "programs = ( {", 1))
        r = t.ctl("reload")
        eq(r.returncode, 1)
        eq({n: i["pid"] for n, i in t.status().items()}, before)
        # SIGHUP with a bad config: tendd logs and keeps running.
        t.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: "reload refused" in t.read_log(),
                 what="the refusal in tendd's log")
        eq({n: i["pid"] for n, i in t.status().items()}, before)
        t.stop()


def test_reload_with_unreadable_include_keeps_supervising():
    # libconfig 1.5 ends the process on an @include it cannot read (a
    # directory, ""), which left every program under PID 1; a FIFO or one
    # in include_dir made tendd wait for a writer.
    with Tend(prog("a", S, start_secs=0)) as t:
        t.start()
        pid = t.wait_state("a", "running")["pid"]
        good = open(t.config).read()
        os.mkdir(t.path("sub"))
        os.mkfifo(t.path("fifo.cfg"))
        for inc, why in (("sub", "Is a directory"), ("", "no file name"),
                         ("fifo.cfg", "a FIFO, not a regular file")):
            with open(t.config, "w") as f:
                f.write(good + '@include "%s"\n' % inc)
            r = t.ctl("reload", timeout=30)
            eq(r.returncode, 1, r.stderr)
            check('%s:%d: @include "%s": %s' % (
                t.config, good.count("\n") + 1, inc, why) in r.stderr,
                  r.stderr)
            eq(t.status()["a"]["pid"], pid)
        os.mkdir(t.path("conf.d"))
        os.mkfifo(t.path("conf.d", "p.conf"))
        t.write_config(prog("a", S, start_secs=0), 'include_dir = "conf.d";')
        r = t.ctl("reload", timeout=30)
        eq(r.returncode, 1, r.stderr)
        check("%s: cannot read: a FIFO, not a regular file" %
              t.path("conf.d", "p.conf") in r.stderr, r.stderr)
        eq(t.status()["a"]["pid"], pid)
        t.stop()


def test_reload_to_no_programs_needs_allow_empty():
    with Tend(progs(prog("a", S, start_secs=0),
                    prog("b", S, start_secs=0))) as t:
        t.start()
        before = {n: t.wait_state(n, "running")["pid"] for n in ("a", "b")}
        # An empty file is no configuration at all.
        with open(t.config, "w") as f:
            f.write("# nothing yet\n")
        r = t.ctl("reload")
        eq(r.returncode, 1, r.stdout)
        check("%s: empty configuration: no 'supervisor' and no 'programs'"
              % t.config in r.stderr, r.stderr)
        # A valid one with no programs takes asking for.
        t.write_config("")
        r = t.ctl("reload")
        eq(r.returncode, 1, r.stdout)
        eq(r.stderr, "tendctl: %s has no programs: the reload would stop "
           "and remove all 2; use tendctl reload --allow-empty to do "
           "that\n" % t.config)
        rep = t.request("reload")
        eq(rep["error"]["code"], "config_empty", rep)
        eq(t.request("reload", {"allow_empty": 1})["error"]["code"],
           "bad_args")
        # SIGHUP cannot ask: refused and logged.
        t.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: "reload refused: %s has no programs" % t.config
                 in t.read_log(), what="the refusal in tendd's log")
        eq({n: i["pid"] for n, i in t.status().items()}, before)
        r = t.ctl("reload", "--allow-empty", check=0)
        check("a: removed" in r.stdout and "b: removed" in r.stdout,
              r.stdout)
        wait_for(lambda: t.status() == {}, what="a and b to go")
        for pid in before.values():
            wait_for(lambda: not pid_alive(pid), what="pid %d to end" % pid)
        # Nothing left to remove: no flag needed.
        r = t.ctl("reload", check=0)
        check("no changes" in r.stdout, r.stdout)
        t.stop()


def test_sighup_reloads():
    with Tend(prog("a", S, start_secs=0)) as t:
        t.start()
        t.wait_state("a", "running")
        t.write_config(progs(prog("a", S, start_secs=0),
                             prog("b", S, start_secs=0)))
        t.proc.send_signal(signal.SIGHUP)
        t.wait_state("b", "running")
        t.stop()


def test_reload_scales_instances():
    with Tend(prog("w", S, instances=2, start_secs=0)) as t:
        t.start()
        p0 = t.wait_state("w:0", "running")["pid"]
        p1 = t.wait_state("w:1", "running")["pid"]
        t.write_config(prog("w", S, instances=4, start_secs=0))
        r = t.ctl("--json", "reload", check=0)
        eq(changes(r)["w"]["action"], "scaled")
        t.wait_state("w:3", "running")
        st = t.status()
        eq((st["w:0"]["pid"], st["w:1"]["pid"]), (p0, p1))
        p3 = st["w:3"]["pid"]
        t.write_config(prog("w", S, instances=1, start_secs=0))
        t.ctl("reload", check=0)
        wait_for(lambda: sorted(t.status()) == ["w"], what="scale down")
        eq(t.status()["w"]["pid"], p0)  # renamed, not restarted
        check(not pid_alive(p1) and not pid_alive(p3))
        t.stop()


def test_reload_of_a_changed_program_ends_the_operators_stop():
    # A change to the program ends the operator's decision: back to what
    # its config says. a (autostart) starts; b (autostart = false) stays
    # stopped; c, unchanged, stays as the operator left it.
    def conf(cmd):
        return progs(prog("a", cmd, start_secs=0),
                     prog("b", cmd, start_secs=0, autostart=False),
                     prog("c", S, start_secs=0))
    with Tend(conf(S)) as t:
        t.start()
        t.wait_state("a", "running")
        t.ctl("start", "b", check=0)
        t.ctl("stop", "a", "b", "c", check=0)
        t.write_config(conf(["sleep", "599"]))
        t.ctl("reload", check=0)
        st = t.wait_state("a", "running")
        eq(st["operator"], False)
        st = t.status()
        eq((st["b"]["state"], st["b"]["operator"]), ("stopped", False))
        eq((st["c"]["state"], st["c"]["operator"]), ("stopped", True))
        t.stop()


def test_reload_fixes_failed_program():
    with Tend(prog("fix", ["/nonexistent/tend-bin"])) as t:
        t.start()
        t.wait_state("fix", "failed")
        t.write_config(prog("fix", S, start_secs=0))
        t.ctl("reload", check=0)
        t.wait_state("fix", "running")
        t.stop()


if __name__ == "__main__":
    main(globals())
