"""test_events.py: tendctl events, the change stream: replay, --since,
gaps, followers that stop reading, snapshots, sequence numbers across
restarts, output and errors."""
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (DEADLINE, TENDCTL, Failure, Tend, check, eq, main,
                     prog, progs, wait_for)
from test_logs import start_small_quarantine


def events(t, *args):
    """`tendctl --json events ARGS` (a replay): the event objects."""
    r = t.ctl("--json", "events", *args)
    if r.returncode != 0:
        raise Failure("events %s: exit %d: %s %s" % (
            " ".join(args), r.returncode, r.stdout, r.stderr))
    return [json.loads(line) for line in r.stdout.splitlines()]


def last_seq(t):
    """The last sequence number tendd published."""
    r = t.request("events", {"since_now": True})
    return r["result"]["last"]


# Crashes five times (exit 3), then runs: its runs are counted in a file.
CRASH5 = ('n=$(cat runs 2>/dev/null || echo 0); echo $((n+1)) > runs; '
          '[ "$n" -ge 5 ] && exec sleep 1000; exit 3')


def crash5(name="flaky"):
    return prog(name, ["sh", "-c", CRASH5], restart_delay="10ms",
                restart_delay_max="10ms", start_limit=100)


def crash_loop(name="loop", instances=1):
    """A program that exits at once, restarted at once, for ever."""
    return prog(name, ["/bin/false"], restart="always", restart_delay="0",
                restart_delay_max="0", start_limit=1000000000,
                instances=instances, stdout="null", stderr="null")


def sleeper(name="web"):
    return prog(name, ["sleep", "1000"], stdout="null", stderr="null")


def test_crash_loop_gives_one_exit_per_crash_in_order():
    with Tend(crash5()) as t:
        t.start()
        t.wait_state("flaky", "running")
        evs = events(t, "flaky")
        seqs = [e["seq"] for e in evs]
        check(seqs == sorted(set(seqs)), "not strictly increasing: %r" %
              seqs)
        exits = [e for e in evs if e["type"] == "instance.exited"]
        eq(len(exits), 5, "exits: %r" % exits)
        for e in exits:
            eq(e["code"], 3)
            eq(e["program"], "flaky")
            eq(e["name"], "flaky")
            eq(e["instance"], 0)
            check(e["next"] in ("restart", "backoff"), e)
            check("signal" not in e and "unknown" not in e, e)
            check(e["ran"] >= 0, e)
            # After the spawn of that very process.
            spawns = [s for s in evs if s["type"] == "instance.spawned" and
                      s["seq"] < e["seq"]]
            check(spawns, "no spawn before %r" % e)
            eq(spawns[-1]["pid"], e["pid"])
        # Each exit's process is another one, and the last one runs.
        eq(len(set(e["pid"] for e in exits)), 5)
        spawns = [e for e in evs if e["type"] == "instance.spawned"]
        eq(len(spawns), 6)
        eq(spawns[-1]["pid"], t.status()["flaky"]["pid"])
        t.stop()


def test_since_returns_exactly_the_events_after():
    with Tend(crash5()) as t:
        t.start()
        t.wait_state("flaky", "running")
        evs = events(t)
        check(len(evs) >= 12, evs)
        seqs = [e["seq"] for e in evs]
        eq(seqs, list(range(seqs[0], seqs[-1] + 1)), "not contiguous")
        for s in (seqs[0] - 1, seqs[0], seqs[len(seqs) // 2], seqs[-2],
                  seqs[-1]):
            eq(events(t, "--since", str(s)), [e for e in evs
                                              if e["seq"] > s])
        # A duration: from that long ago, here all of them.
        eq(events(t, "--since", "1h"), evs)
        eq(events(t, "--since", "now"), [])
        # The reply says up to where the replay went.
        r = t.request("events", {"since": seqs[-1]})
        eq(r["result"], {"last": seqs[-1]})
        t.stop()


def test_since_older_than_kept_starts_with_a_gap():
    with Tend(crash5(), supervisor="event_buffer = 5;") as t:
        t.start()
        t.wait_state("flaky", "running")
        last = last_seq(t)
        check(last > 10, last)
        evs = events(t, "--since", "1")
        eq(evs[0], {"type": "gap", "from": 2, "to": last - 5})
        eq([e["seq"] for e in evs[1:]], list(range(last - 4, last + 1)))
        # What is kept, without --since: no gap.
        eq([e["seq"] for e in events(t)], list(range(last - 4, last + 1)))
        # Human output says so too.
        r = t.ctl("events", "--since", "1", check=0)
        check(re.match(r"#2-#%d gap: %d events missed" % (
            last - 5, last - 6), r.stdout), r.stdout)
        t.stop()


def test_event_buffer_applies_on_reload():
    with Tend(crash5()) as t:
        t.start()
        t.wait_state("flaky", "running")
        check(len(events(t)) > 5)
        t.write_config(crash5(), "event_buffer = 3;")
        t.ctl("reload", check=0)
        evs = events(t)
        eq(len(evs), 3, evs)
        eq(evs[-1]["seq"], last_seq(t))
        t.stop()


class Follower:
    """A raw events request read as it comes (by this process)."""

    def __init__(self, t, args, rid=7):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(DEADLINE)
        self.s.connect(t.sock)
        self.s.sendall((json.dumps({"v": 1, "id": rid, "cmd": "events",
                                    "args": args}) + "\n").encode())
        self.buf = b""
        self.rid = rid

    def next(self):
        """The next event, or ("reply", result) for the reply."""
        while b"\n" not in self.buf:
            d = self.s.recv(1 << 20)
            if not d:
                raise Failure("events connection closed")
            self.buf += d
        line, self.buf = self.buf.split(b"\n", 1)
        m = json.loads(line)
        eq(m["id"], self.rid)
        if "event" in m:
            return m["event"]
        return ("reply", m)

    def close(self):
        self.s.close()


# How long a paced flood of 100000 events may take (within meson's 180 s).
FLOOD_DEADLINE = 6 * DEADLINE


def last_seq_in(path):
    """The seq of the last whole line of a follower's output file."""
    with open(path, "rb") as f:
        f.seek(0, os.SEEK_END)
        f.seek(max(0, f.tell() - 8192))
        lines = f.read().split(b"\n")[:-1]
    for line in reversed(lines):
        try:
            return json.loads(line).get("seq", 0)
        except ValueError:
            continue
    return 0


def flood(sock, n, target="web", pace=None, ahead=2000):
    """Make tendd publish at least n events quickly: operator commands
    (reset of a running instance changes nothing else), sent over one
    connection a window at a time. With pace (a follower's output file
    and the seq it starts after), never more than ahead events before
    what that follower has written: the point is whether it gets them
    all, not whether one process outruns another."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(DEADLINE)
    s.connect(sock)
    req = (json.dumps({"v": 1, "id": 3, "cmd": "reset",
                       "args": {"targets": [target]}}) + "\n").encode()
    buf = b""
    try:
        done = 0
        while done < n:
            if pace is not None:
                wait_for(lambda: last_seq_in(pace[0]) >=
                         pace[1] + done - ahead, interval=0.001,
                         timeout=FLOOD_DEADLINE,
                         what="the follower to catch up")
            k = min(500, n - done)
            s.sendall(req * k)
            got = 0
            while got < k:
                d = s.recv(1 << 20)
                if not d:
                    raise Failure("tendd closed the flood connection")
                buf += d
                got += buf.count(b"\n")
                buf = buf[buf.rfind(b"\n") + 1:]
            done += k
    finally:
        s.close()


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise Failure("no VmRSS")


def test_stopped_follower_costs_nothing_and_gets_a_gap():
    # The reader is a tendctl following into a file, and the flood waits
    # for it to stay within 2000 events (a follower slower than tendd
    # over 5000 events gets a gap, rightly): it must get every event,
    # while the stopped one, 100000 behind a ring of 5000, cannot.
    with Tend(sleeper(), supervisor="event_buffer = 5000;") as t:
        # RSS then counts what tendd keeps, not ASan's quarantine.
        start_small_quarantine(t)
        t.wait_state("web", "running")
        flood(t.sock, 6000)  # the ring at its size, the heap warmed up
        rss0 = rss_kib(t.proc.pid)
        first = last_seq(t) + 1
        # A tendctl that stops reading once it follows, and a reader.
        stopped = subprocess.Popen(
            [TENDCTL, "-s", t.sock, "--json", "events", "--follow",
             "--since", str(first - 1)], stdout=subprocess.PIPE,
            env=t.env())
        flood(t.sock, 1)
        eq(json.loads(stopped.stdout.readline())["seq"], first)
        os.kill(stopped.pid, signal.SIGSTOP)
        out = open(t.path("reader.jsonl"), "w")
        reader = subprocess.Popen(
            [TENDCTL, "-s", t.sock, "--json", "events", "--follow",
             "--since", str(first - 1)], stdout=out, env=t.env())
        n = 100000
        start = time.monotonic()
        # The flood and status come from other processes, so that the
        # reader reads all along.
        gen = subprocess.Popen(
            [sys.executable, "-c",
             "import sys; sys.path.insert(0, %r); import test_events as m; "
             "m.flood(%r, %d, pace=(%r, %d))" % (
                 os.path.dirname(os.path.abspath(__file__)), t.sock, n,
                 t.path("reader.jsonl"), first)])
        status_times = []

        def status():
            while gen.poll() is None:
                t0 = time.monotonic()
                t.ctl("status", check=0, timeout=DEADLINE)
                status_times.append(time.monotonic() - t0)
        th = threading.Thread(target=status)
        th.start()
        try:
            # Paced to the reader, 100000 take a while under ASan on a
            # loaded machine (20 s and more).
            eq(gen.wait(timeout=FLOOD_DEADLINE), 0)
        finally:
            th.join()
        took = time.monotonic() - start
        grew = rss_kib(t.proc.pid) - rss0

        def read_all():
            with open(t.path("reader.jsonl")) as f:
                v = [json.loads(x) for x in f if x.endswith("\n")]
            return v if v and v[-1].get("seq", 0) >= first + n else None
        got = wait_for(read_all, what="the reader to get event %d" %
                       (first + n))
        reader.terminate()
        reader.wait(timeout=DEADLINE)
        out.close()
        prev = first - 1
        for e in got:
            check(e.get("type") != "gap", "the reader missed %r" % (e,))
            if e["seq"] != prev + 1:
                raise Failure("after %d came %r" % (prev, e))
            prev = e["seq"]
        check(grew < 10 * 1024, "tendd grew by %d KiB" % grew)
        check(status_times and max(status_times) < 2,
              "status took %r" % status_times)
        # The stopped one goes on: first what was queued for it, then one
        # gap, then what the ring keeps and more, none twice.
        os.kill(stopped.pid, signal.SIGCONT)
        flood(t.sock, 10)
        end = last_seq(t)
        lines, gaps, prev = 0, [], first
        while prev < end:
            line = stopped.stdout.readline()
            check(line, "tendctl ended")
            e = json.loads(line)
            lines += 1
            if e["type"] == "gap":
                eq(e["from"], prev + 1)
                gaps.append(e)
                prev = e["to"]
                continue
            eq(e["seq"], prev + 1, "after %d" % prev)
            prev = e["seq"]
        eq(len(gaps), 1, gaps)
        check(lines < n / 10, "the stopped follower was sent %d" % lines)
        stopped.terminate()
        stopped.wait(timeout=DEADLINE)
        print("100000 events in %.1fs, rss +%d KiB, status %d times, at "
              "most %.2fs" % (took, grew, len(status_times),
                              max(status_times)))
        t.stop()


def test_snapshot_under_a_crash_loop_loses_and_doubles_nothing():
    with Tend(progs(crash_loop(), sleeper())) as t:
        t.start()
        wait_for(lambda: last_seq(t) > 20, what="the crash loop")
        for _ in range(10):
            f = Follower(t, {"snapshot": True, "follow": True})
            snap = f.next()
            eq(snap["type"], "snapshot")
            eq(sorted(i["name"] for i in snap["instances"]),
               ["loop", "web"])
            inst = [i for i in snap["instances"] if i["name"] == "loop"][0]
            eq(set(inst), set(t.status()["loop"]), "status's keys")
            s = snap["seq"]
            prev, evs = s, []
            while len(evs) < 12:
                e = f.next()
                eq(e["seq"], prev + 1, "after %d" % prev)
                prev = e["seq"]
                if e.get("name") == "loop":
                    evs.append(e)
            # The first change after the snapshot starts where it was.
            moved = [e for e in evs if "from" in e]
            check(moved, evs)
            eq(moved[0]["from"], inst["state"], (inst, evs))
            if inst["pid"] is not None:
                ex = [e for e in evs if e["type"] == "instance.exited"]
                eq(ex[0]["pid"], inst["pid"], (inst, evs))
            f.close()
        # Patterns select the instances; without --follow, the snapshot
        # and what came after it.
        evs = events(t, "--snapshot", "web")
        eq(evs[0]["type"], "snapshot")
        eq([i["name"] for i in evs[0]["instances"]], ["web"])
        eq(evs[1:], [])
        t.stop()


def test_sequence_numbers_increase_across_restarts_and_sigkill():
    with Tend(crash5()) as t:
        t.start()
        t.wait_state("flaky", "running")
        last = last_seq(t)
        check(last > 10)
        t.stop()
        t.start()
        t.ctl("restart", "flaky", check=0)
        evs = events(t)
        check(evs and evs[0]["seq"] > last, (last, evs[:2]))
        last = evs[-1]["seq"]
        t.proc.kill()
        t.proc.wait()
        t.start()
        t.ctl("restart", "flaky", check=0)
        evs = events(t)
        check(evs and evs[0]["seq"] > last, (last, evs[:2]))
        seqs = [e["seq"] for e in evs]
        eq(seqs, list(range(seqs[0], seqs[-1] + 1)))
        # An old number: the numbers in between are a gap.
        evs = events(t, "--since", str(last))
        eq(evs[0], {"type": "gap", "from": last + 1, "to": seqs[0] - 1})
        t.stop()


def test_human_and_json_output():
    with Tend(crash5()) as t:
        t.start()
        t.wait_state("flaky", "running")
        r = t.ctl("events", "--type", "instance.exited", check=0)
        lines = r.stdout.splitlines()
        eq(len(lines), 5, r.stdout)
        for line in lines:
            check(re.match(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} #\d+ "
                           r"instance\.exited flaky pid \d+ code 3, "
                           r"restarting", line), line)
            check(len(line) <= 100, line)
        js = events(t, "--type", "instance.exited")
        eq(len(js), 5)
        for line, e in zip(lines, js):
            check(" #%d " % e["seq"] in line, (line, e))
        # Kinds of types.
        eq(events(t, "--type", "instance"), events(t, "--type",
                                                   "instance.*"))
        eq([e for e in events(t) if e["type"].startswith("instance.")],
           events(t, "--type", "instance"))
        both = events(t, "--type", "instance.exited", "--type",
                      "instance.spawned")
        eq(sorted(set(e["type"] for e in both)),
           ["instance.exited", "instance.spawned"])
        # Snapshot, readable.
        r = t.ctl("events", "--snapshot", check=0)
        check(re.match(r"#\d+ snapshot of 1 instance\n  flaky running pid "
                       r"\d+ up ", r.stdout), r.stdout)
        # A pattern that matches nothing yet is no error.
        eq(events(t, "nothing*"), [])
        t.stop()


def test_follow_gets_new_events_until_interrupted():
    with Tend(progs(crash5(), sleeper())) as t:
        t.start()
        t.wait_state("flaky", "running")
        last = last_seq(t)
        p = subprocess.Popen([TENDCTL, "-s", t.sock, "events", "--follow",
                              "--since", str(last), "--type", "operator",
                              "--json"],
                             stdout=subprocess.PIPE, text=True, env=t.env())
        t.ctl("reset", "web", check=0)
        e = json.loads(p.stdout.readline())
        eq(e["type"], "operator.command")
        check(e["seq"] > last)
        t.ctl("reset", "web", check=0)
        e2 = json.loads(p.stdout.readline())
        eq(e2["type"], "operator.command")
        check(e2["seq"] > e["seq"])
        p.send_signal(signal.SIGINT)
        eq(p.wait(timeout=DEADLINE), 0)
        t.stop()


def test_bad_arguments_give_clear_errors():
    with Tend(sleeper()) as t:
        t.start()
        for args, msg in (
                (["--since", "x"], "bad --since 'x'"),
                (["--since", "1.5"], "bad --since '1.5'"),
                (["--since", "-3"], "bad --since '-3'"),
                (["--since", "5", "--snapshot"], "cannot be used together"),
                (["--type", "bogus"], "no event type 'bogus'"),
                (["--type", "instance.nope"], "no event type"),
                (["--since", "99999999"], "no event 99999999 yet"),
                (["--since"], "needs an argument"),
                (["--bogus"], "unknown option '--bogus'")):
            r = t.ctl("events", *args)
            eq(r.returncode, 2, (args, r.stdout, r.stderr))
            check(msg in r.stderr, (args, r.stderr))
            r = t.ctl("--json", "events", *args)
            eq(r.returncode, 2, (args, r.stdout, r.stderr))
            lines = r.stdout.splitlines()
            eq(len(lines), 1, r.stdout)
            err = json.loads(lines[0])["error"]
            check(err["code"] in ("usage", "bad_args"), err)
            check(msg in err["message"], (args, err))
        for args, msg in (({"since": "x"}, "\"since\" must be"),
                          ({"since": -1}, "\"since\" must be"),
                          ({"since_time": "x"}, "\"since_time\" must be"),
                          ({"types": []}, "\"types\" must be"),
                          ({"types": [5]}, "\"types\" must be"),
                          ({"patterns": [""]}, "\"patterns\" must be"),
                          ({"follow": 1}, "\"follow\" must be"),
                          ({"since": 0, "since_now": True}, "at most one"),
                          ({"snapshot": True, "since_time": 5},
                           "at most one")):
            r = t.request("events", args)
            eq(r["error"]["code"], "bad_args", (args, r))
            check(msg in r["error"]["message"], (args, r))
        r = t.ctl("help", "events", check=0)
        for opt in ("--follow", "--since SEQ", "--since DURATION",
                    "--since now", "--snapshot", "--type", "PATTERN",
                    "--json", "gap"):
            check(opt in r.stdout, (opt, r.stdout))
        t.stop()


def test_docs_name_every_event_type():
    top = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                       "..")
    with open(os.path.join(top, "docs", "protocol.md")) as f:
        doc = f.read()
    section = doc[doc.index("\n## Events\n"):]
    documented = re.findall(r"^\| `([a-z]+\.[a-z_]+)` \|", section, re.M)
    with Tend(sleeper()) as t:
        t.start()
        r = t.request("events", {"types": ["bogus"]})
        m = re.search(r"the types: ([a-z._, ]+);", r["error"]["message"])
        check(m, r)
        known = m.group(1).split(", ")
        eq(sorted(documented), sorted(known))
        for name in known:
            eq(events(t, "--type", name, "--since", "now"), [])
        t.stop()
    # The example lines read as tendctl prints them.
    for line in re.findall(r"^\d{4}-.*$", section, re.M):
        check(re.match(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} #\d+ "
                       r"[a-z]+\.[a-z_]+ ", line), line)


if __name__ == "__main__":
    main(globals())
