"""Scale: thousands of instances started, listed and stopped with nothing
left behind; an instance of 10,000 processes listed by ps."""
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import (Skip, Tend, check, eq, main,  # noqa
                     need_tracking, prog, tracking, wait_for, zombies_of,
                     request_parts)

N = 2000


def test_2000_instances_start_list_stop():
    # Output to "null": the point is processes, not 4000 log files.
    with Tend(prog("many", ["sleep", "100000"], instances=N, start_secs=0,
                   stdout="null", stderr="null")) as t:
        t.start()

        def all_running():
            st = t.status()
            return len(st) == N and all(
                s["state"] == "running" for s in st.values())
        wait_for(all_running, timeout=120, what="%d instances running" % N)

        r = t.ctl("--json", "status", check=0)
        insts = json.loads(r.stdout)
        eq(len(insts), N)
        pids = {i["pid"] for i in insts}
        eq(len(pids), N, "duplicate or missing pids")
        eq(sorted(i["name"] for i in insts),
           sorted("many:%d" % i for i in range(N)))
        for pid in pids:
            check(os.path.exists("/proc/%d" % pid), "pid %d not alive" % pid)
        eq(len(t.procs()), N, "processes carrying the test's tag")

        t.ctl("stop", "all", check=0, timeout=120)
        st = t.status()
        eq({s["state"] for s in st.values()}, {"stopped"})
        eq(zombies_of(t.proc.pid), [], "zombies after stop")
        eq(t.procs(), [], "processes left after stop")
        for pid in pids:
            check(not os.path.exists("/proc/%d" % pid),
                  "pid %d still there" % pid)
        t.stop()


# 10,000 children in a fraction of a second and a few hundred MB: each is
# cloned with CLONE_VM (a process of its own, sharing its parent's
# memory, so nothing is copied) and runs libc's pause() on its own small
# stack. Forked Python children cost about 1 MB and a millisecond each.
# SIGTERM (stop) ends them all.
FORKER = r"""
import ctypes, os, signal, sys
n = int(sys.argv[1])
libc = ctypes.CDLL(None, use_errno=True)
libc.clone.argtypes = [ctypes.c_void_p] * 2 + [ctypes.c_int, ctypes.c_void_p]
STACK = 4096
stacks = ctypes.create_string_buffer(STACK * n)
pause = ctypes.cast(libc.pause, ctypes.c_void_p)
for i in range(n):
    top = ctypes.addressof(stacks) + (i + 1) * STACK - 64
    if libc.clone(pause, top, 0x100 | signal.SIGCHLD, None) == -1:
        sys.exit("clone: " + os.strerror(ctypes.get_errno()))
open("ready.tmp", "w").close()
os.rename("ready.tmp", "ready")
signal.pause()
"""

NPROCS = 10000


def free_pids():
    """How many more PIDs the kernel would hand out."""
    with open("/proc/sys/kernel/pid_max") as f:
        pid_max = int(f.read())
    return pid_max - sum(1 for d in os.listdir("/proc") if d.isdigit())


def ps_of_10000_processes(mode):
    # A program whose main process has 10,000 children: tendctl ps shows
    # all 10,001 (they come from tendd in parts, no message near the
    # 1 MiB limit), tendd answers at once after, and stop leaves nothing.
    if free_pids() < NPROCS + 2000:
        raise Skip("fewer than %d PIDs free" % (NPROCS + 2000))
    with Tend(prog("many", [sys.executable, "forker.py", str(NPROCS)],
                   start_secs=0, restart="never"),
              supervisor=tracking(mode)) as t:
        with open(t.path("forker.py"), "w") as f:
            f.write(FORKER)
        t.start()
        need_tracking(t, "many", mode)
        wait_for(lambda: os.path.exists(t.path("ready")), timeout=60,
                 what="10,000 children")
        main_pid = t.status()["many"]["pid"]

        t0 = time.monotonic()
        r = t.ctl("ps", "many", check=0, timeout=120)
        took = time.monotonic() - t0
        rows = r.stdout.splitlines()
        eq(len(rows), 1 + NPROCS + 1, r.stderr)
        eq(rows[1].split()[0], str(main_pid))
        kids = [ln.split() for ln in rows[2:]]
        check(all(k[1] == str(main_pid) and k[5] == "\\_" for k in kids),
              "not all children of the main process")

        procs = json.loads(t.ctl("--json", "ps", "many", check=0,
                                 timeout=120).stdout)
        eq(len(procs), NPROCS + 1)
        eq(procs[0]["pid"], main_pid)
        eq(len({p["pid"] for p in procs}), NPROCS + 1, "duplicate pids")
        check(all(p["depth"] == 1 and p["ppid"] == main_pid and
                  p["name"] == "many" for p in procs[1:]), "children")

        # The parts, taken in order, are the list; a client that does
        # not ask for parts gets one reply, too large here.
        events, r = request_parts(t, "ps", {"patterns": ["many"],
                                            "stream": True})
        eq({e["type"] for e in events}, {"processes"})
        check(len(events) >= NPROCS // 256, "%d parts" % len(events))
        check(all(len(e["processes"]) <= 256 for e in events), "a big part")
        got = [p for e in events for p in e["processes"]] + \
            r["result"]["processes"]
        eq([p["pid"] for p in got], [p["pid"] for p in procs])
        r = t.request("ps", {"patterns": ["many"]})
        eq(r["error"]["code"], "too_large", repr(r)[:200])

        # Answering took tendd no more than a few seconds, and it still
        # answers at once.
        check(took < 20, "ps took %.1fs" % took)
        t0 = time.monotonic()
        t.ctl("version", check=0)
        check(time.monotonic() - t0 < 5, "tendd slow after ps")

        t.ctl("stop", "many", check=0, timeout=120)
        wait_for(lambda: not t.procs(), timeout=60, what="no process left")
        eq(zombies_of(t.proc.pid), [], "zombies after stop")
        t.stop()


def test_ps_of_10000_processes_cgroup():
    ps_of_10000_processes("cgroup")


def test_ps_of_10000_processes_tree():
    ps_of_10000_processes("tree")


if __name__ == "__main__":
    main(globals())
