"""Scale: thousands of instances started, listed and stopped with nothing
left behind."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from harness import (Tend, check, eq, main, prog, wait_for,  # noqa
                     zombies_of)

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


if __name__ == "__main__":
    main(globals())
