"""The control socket: malformed and oversized requests, permissions,
clients that vanish, stale and live sockets."""
import json
import os
import re
import socket
import stat
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import (DEADLINE, TENDCTL, TENDD, Failure, Tend, check,  # noqa
                     eq, main, need_root, need_tracking, prog, progs,
                     read_line, tracking, wait_for,
                     request_parts, unprivileged_ctl)

S = ["sleep", "600"]


def test_malformed_requests_get_errors():
    with Tend(prog("a", S, start_secs=0)) as t:
        t.start()
        cases = [
            ("this is not json\n", "bad_request"),
            ("[1,2,3]\n", "bad_request"),
            ('{"v":1,"id":5}\n', "bad_request"),
            ('{"v":99,"id":6,"cmd":"status"}\n', "version"),
            ('{"v":1,"id":7,"cmd":"frobnicate"}\n', "unknown_command"),
            ('{"v":1,"id":8,"cmd":"stop","args":{"targets":"a"}}\n',
             "bad_args"),
            ('{"v":1,"id":9,"cmd":"stop","args":{"targets":[]}}\n',
             "bad_args"),
            ('{"v":1,"id":10,"cmd":"signal","args":{"signal":"NOPE",'
             '"targets":["a"]}}\n', "bad_args"),
            ('{"v":1,"id":11,"cmd":"wait","args":{"targets":["a"],'
             '"timeout":-1}}\n', "bad_args"),
        ]
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(20)
        s.connect(t.sock)
        buf = b""
        for raw, code in cases:
            s.sendall(raw.encode())
            while b"\n" not in buf:
                d = s.recv(65536)
                check(d, "connection closed after %r" % raw)
                buf += d
            line, buf = buf.split(b"\n", 1)
            r = json.loads(line)
            eq(r["ok"], False, raw)
            eq(r["error"]["code"], code, raw)
            check(r["error"]["message"], "empty message")
        # The same connection still works.
        s.sendall(b'{"v":1,"id":42,"cmd":"status"}\n')
        r = json.loads(read_line(s))
        eq(r["id"], 42)
        eq(r["ok"], True)
        s.close()
        eq(t.status()["a"]["state"], "running")
        t.stop()


def test_oversized_request_is_refused_without_harm():
    with Tend(prog("a", S, start_secs=0)) as t:
        t.start()
        t.wait_state("a", "running")
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(20)
        s.connect(t.sock)
        chunk = b"x" * 65536
        sent = 0
        try:
            while sent < 4 * 1024 * 1024:
                s.sendall(chunk)
                sent += len(chunk)
        except (BrokenPipeError, ConnectionResetError, socket.timeout):
            pass
        data = b""
        try:
            while b"\n" not in data:
                d = s.recv(65536)
                if not d:
                    break
                data += d
        except (ConnectionResetError, socket.timeout):
            pass
        s.close()
        check(data, "no error reply to an oversized request")
        r = json.loads(data.split(b"\n")[0])
        eq(r["error"]["code"], "too_large")
        # tendd is fine and serves others.
        eq(t.status()["a"]["state"], "running")
        t.stop()


def test_client_disconnecting_mid_command():
    with Tend(prog("slow", "trap '' TERM; sleep 600", stop_timeout="1s",
                   start_secs=0)) as t:
        t.start()
        t.wait_state("slow", "running")
        for _ in range(5):
            s = socket.socket(socket.AF_UNIX)
            s.connect(t.sock)
            s.sendall(b'{"v":1,"id":1,"cmd":"wait","args":'
                      b'{"targets":["slow"]}}\n')
            s.sendall(b'{"v":1,"id":2,"cmd":"status"}')  # half a frame
            s.close()
        s = socket.socket(socket.AF_UNIX)
        s.connect(t.sock)
        s.sendall(b'{"v":1,"id":1,"cmd":"stop","args":{"targets":["slow"]}}\n')
        s.close()  # gone before the stop completes
        t.wait_state("slow", "stopped")
        t.ctl("start", "slow", check=0)
        t.stop()


def test_pipelined_requests():
    with Tend(prog("a", S, start_secs=0)) as t:
        t.start()
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(20)
        s.connect(t.sock)
        s.sendall(b"".join(b'{"v":1,"id":%d,"cmd":"version"}\n' % i
                           for i in range(1, 51)))
        ids = []
        buf = b""
        while len(ids) < 50:
            d = s.recv(65536)
            check(d, "closed early")
            buf += d
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                ids.append(json.loads(line)["id"])
        eq(ids, list(range(1, 51)))
        s.close()
        t.stop()


def test_status_fields_give_rows():
    # Rows hold the same values as the objects, in the order asked; the
    # table tendctl prints comes from them.
    with Tend(progs(prog("a", S, start_secs=0),
                    prog("b", ["sh", "-c", "sleep 600 & exec sleep 601"],
                         instances=2, start_secs=0),
                    prog("c", S, autostart=False))) as t:
        t.start()
        wait_for(lambda: all(t.status()[n]["descendants"] == 1
                             for n in ("b:0", "b:1")),
                 what="b's children counted")
        objs = t.request("status")["result"]["instances"]
        keys = [k for k in objs[0] if k != "uptime"]
        eq(len(keys), 20, repr(keys))
        fields = list(reversed(keys))
        r = t.request("status", {"fields": fields})
        eq(r["ok"], True, repr(r))
        eq(sorted(r["result"]), ["fields", "rows"])
        eq(r["result"]["fields"], fields)
        eq(r["result"]["rows"], [[o[k] for k in fields] for o in objs])
        r = t.request("status", {"fields": ["descendants", "name", "uptime",
                                            "name"],
                                 "patterns": ["b", "c"]})
        rows = r["result"]["rows"]
        eq([(x[0], x[1], x[3]) for x in rows],
           [(1, "b:0", "b:0"), (1, "b:1", "b:1"), (0, "c", "c")])
        check(rows[0][2] > 0 and rows[2][2] == 0, repr(rows))

        out = t.ctl("status", "b", "c").stdout.splitlines()
        eq(out[0].split(), ["NAME", "STATE", "PID", "PPID", "DESC", "UPTIME",
                            "RESTARTS", "LAST", "EXIT"])
        by = {ln.split()[0]: ln.split() for ln in out[1:]}
        for n in ("b:0", "b:1"):
            st = t.status()[n]
            eq(by[n][1:6], ["running", str(st["pid"]), str(st["ppid"]),
                            "1", by[n][5]])
        eq(by["c"][1:], ["stopped", "-", "-", "0", "-", "0", "-"])

        for bad, what in (([], "non-empty"), ("name", "non-empty"),
                          (["name", "nope"], "'nope'"), ([1], "not a string"),
                          (["name"] * 22, "at most 21")):
            r = t.request("status", {"fields": bad})
            eq(r["ok"], False, repr(bad))
            eq(r["error"]["code"], "bad_args", repr(r))
            check(what in r["error"]["message"], r["error"]["message"])
        t.stop()


def status_stream_comes_in_parts(mode):
    # 300 instances: two parts of 128 in events, the last 44 in the reply;
    # together what one reply holds, objects or rows. Counted part by part
    # with cgroups, at once in process-tree mode: the same either way.
    with Tend(progs(prog("a", S, instances=299, start_secs=0),
                    prog("c", S, autostart=False)),
              supervisor=tracking(mode)) as t:
        t.start()
        need_tracking(t, "c", mode)
        wait_for(lambda: sum(i["state"] == "running"
                             for i in t.status().values()) == 299,
                 what="299 running", timeout=120)
        whole = t.request("status")["result"]["instances"]
        eq(len(whole), 300)

        def same(a, b):
            # uptime moves between two requests
            return [{k: v for k, v in o.items() if k != "uptime"}
                    for o in a] == \
                [{k: v for k, v in o.items() if k != "uptime"} for o in b]

        events, r = request_parts(t, "status", {"stream": True})
        eq(r["ok"], True, repr(r)[:200])
        eq([(e["type"], len(e["instances"])) for e in events],
           [("instances", 128), ("instances", 128)])
        got = [o for e in events for o in e["instances"]] + \
            r["result"]["instances"]
        eq(len(r["result"]["instances"]), 44)
        check(same(got, whole), "streamed objects differ")

        fields = ["name", "state", "pid", "descendants"]
        events, r = request_parts(t, "status", {"stream": True,
                                                "fields": fields})
        eq([(e["type"], len(e["rows"])) for e in events],
           [("rows", 128), ("rows", 128)])
        eq(r["result"]["fields"], fields)
        rows = [x for e in events for x in e["rows"]] + r["result"]["rows"]
        eq(rows, [[o[k] for k in fields] for o in whole])

        # A few instances: no events; no instance at all: an empty reply.
        events, r = request_parts(t, "status", {"stream": True,
                                                "patterns": ["c"]})
        eq(events, [])
        eq([o["name"] for o in r["result"]["instances"]], ["c"])
        events, r = request_parts(t, "status", {"stream": False})
        eq(events, [])
        check(same(r["result"]["instances"], whole), "not streamed")

        # tendctl's table and --json, from parts.
        out = t.ctl("status").stdout.splitlines()
        eq(len(out), 301)
        eq([ln.split()[0] for ln in out[1:]], [o["name"] for o in whole])
        check(same(json.loads(t.ctl("--json", "status").stdout), whole),
              "tendctl --json status")

        r = t.request("status", {"stream": 1})
        eq(r["ok"], False)
        eq(r["error"]["code"], "bad_args", repr(r))
        t.stop()


def test_status_stream_comes_in_parts_cgroup():
    status_stream_comes_in_parts("cgroup")


def test_status_stream_comes_in_parts_tree():
    status_stream_comes_in_parts("tree")


def raw_reply(t, cmd, args):
    """The text of tendd's reply line to one request."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(DEADLINE)
    s.connect(t.sock)
    try:
        s.sendall((json.dumps({"v": 1, "id": 1, "cmd": cmd,
                               "args": args}) + "\n").encode())
        return read_line(s)
    finally:
        s.close()


def reals_in(text):
    """The non-integer numbers in JSON text, strings left out."""
    text = re.sub(r'"(?:\\.|[^"\\])*"', '""', text)
    return re.findall(r"-?[0-9]+(?:\.[0-9]+)?[eE][-+]?[0-9]+|"
                      r"-?[0-9]+\.[0-9]+", text)


def test_times_to_the_microsecond():
    # uptime, last_exit's "at", a log line's "time": at most six
    # decimals, from tendd and from tendctl --json, never the 17 digits
    # of a double (73.746196999999995).
    with Tend(progs(prog("a", "echo 1.0000000000000002; exit 3",
                         restart="never", start_secs=0),
                    prog("b", S, start_secs=0))) as t:
        t.start()
        t.wait_state("a", "exited")
        t.wait_state("b", "running")
        texts = [raw_reply(t, "status", {}),
                 raw_reply(t, "logs", {"targets": ["a"]}),
                 raw_reply(t, "wait", {"targets": ["a"]}),
                 t.ctl("--json", "status").stdout,
                 t.ctl("--json", "logs", "a").stdout,
                 t.ctl("--json", "wait", "a").stdout]
        for text in texts:
            reals = reals_in(text)
            check(len(reals) >= 1, "no reals in %s" % text)
            for r in reals:
                check(re.fullmatch(r"-?[0-9]+\.[0-9]{1,6}", r),
                      "%s in %s" % (r, text))
        # The text of a line is a string, left as it was.
        eq(json.loads(t.ctl("--json", "logs", "a").stdout)["text"],
           "1.0000000000000002")
        t.stop()


def json_error(r, code, exit):
    """tendctl's result r is an error: exit, the JSON object on stdout
    with code, and its message also on stderr."""
    eq(r.returncode, exit, r.stdout + r.stderr)
    e = json.loads(r.stdout)
    eq(list(e), ["error"], r.stdout)
    eq(e["error"]["code"], code, r.stdout)
    check("tendctl: " + e["error"]["message"] in r.stderr,
          "%r not in %r" % (e["error"]["message"], r.stderr))
    return e["error"]


def fake_tendd(path, answer):
    """A socket at path whose every client gets answer(conn, request)."""
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(8)

    def serve():
        while True:
            try:
                conn, _ = srv.accept()
            except OSError:
                return
            with conn:
                try:
                    answer(conn, read_line(conn))
                except (OSError, Failure):
                    pass
    threading.Thread(target=serve, daemon=True).start()
    return srv


def test_json_errors_from_tendctl():
    # Under --json every error is one object on stdout, {"error": {"code",
    # "message", ...}}, whether tendd or tendctl found it; the message is
    # on stderr as without --json, and the exit codes are the same.
    with Tend(prog("a", S, start_secs=0)) as t:
        e = json_error(t.ctl("--json", "status"), "connect", 5)
        check(t.sock in e["message"], e["message"])
        r = t.ctl("status")
        eq((r.returncode, r.stdout), (5, ""))

        # Usage, with --json before or after the mistake.
        json_error(t.ctl("--json", "bogus"), "usage", 2)
        json_error(t.ctl("--bogus", "--json", "status"), "usage", 2)
        json_error(t.ctl("stop", "--json"), "usage", 2)
        e = json_error(t.ctl("status", "--bogus", "--json"), "usage", 2)
        eq(e["message"], "unknown option '--bogus'")
        r = t.ctl("--json")
        json_error(r, "usage", 2)
        check("usage: tendctl" in r.stderr, r.stderr)
        r = t.ctl("stop")
        eq((r.returncode, r.stdout), (2, ""))

        # tendd's errors, the same shape.
        t.start()
        t.wait_state("a", "running")
        e = json_error(t.ctl("--json", "status", "nosuch"),
                       "no_such_program", 4)
        eq(e["patterns"], ["nosuch"])
        r = t.ctl("--json", "wait", "--timeout", "0.2", "a")
        e = json_error(r, "timeout", 1)
        eq([x["name"] for x in e["results"]], ["a"])
        # logs --json is a line an object: so is its error.
        r = t.ctl("--json", "logs", "nosuch", check=4)
        eq(len(r.stdout.splitlines()), 1, r.stdout)
        eq(json.loads(r.stdout)["error"]["code"], "no_such_program")
        t.stop()

        # A tendd that does not answer in time, hangs up, talks nonsense.
        fake = os.path.join(t.dir, "fake.sock")
        srv = fake_tendd(fake, lambda conn, req: time.sleep(30))
        t0 = time.monotonic()
        r = t.ctl("-s", fake, "--json", "start", "--timeout", "0.3", "a")
        json_error(r, "timeout", 1)
        check(time.monotonic() - t0 < 10, "took %.1fs" % (
            time.monotonic() - t0))
        srv.close()
        os.unlink(fake)
        srv = fake_tendd(fake, lambda conn, req: None)
        json_error(t.ctl("-s", fake, "--json", "status"), "closed", 1)
        srv.close()
        os.unlink(fake)
        srv = fake_tendd(fake, lambda conn, req: conn.sendall(b"nonsense\n"))
        json_error(t.ctl("-s", fake, "--json", "status"), "bad_reply", 1)
        srv.close()


def test_unprivileged_client_is_read_only():
    need_root()
    with Tend(prog("a", S, start_secs=0),
              supervisor='socket_mode = "0666";') as t:
        t.start()
        t.wait_state("a", "running")
        ctl = unprivileged_ctl(t)
        r = t.ctl("status", user="nobody", binary=ctl)
        eq(r.returncode, 0, r.stderr)
        check("a" in r.stdout)
        for args in (["stop", "a"], ["restart", "a"], ["reload"],
                     ["signal", "HUP", "a"], ["shutdown"], ["reset", "a"]):
            r = t.ctl(*args, user="nobody", binary=ctl)
            eq(r.returncode, 5, "%s: %s %s" % (args, r.stdout, r.stderr))
            check("permission denied" in r.stderr, r.stderr)
        eq(t.status()["a"]["state"], "running")
        t.stop()


def test_socket_group_grants_control():
    need_root()
    with Tend(prog("a", S, start_secs=0),
              supervisor='socket_mode = "0660"; socket_group = "nogroup";'
              ) as t:
        t.start()
        t.wait_state("a", "running")
        st = os.stat(t.sock)
        eq(stat.S_IMODE(st.st_mode), 0o660)
        import grp
        eq(st.st_gid, grp.getgrnam("nogroup").gr_gid)
        ctl = unprivileged_ctl(t)
        # nobody with nogroup as a supplementary group may stop.
        import pwd
        pw = pwd.getpwnam("nobody")
        cmd = ["setpriv", "--reuid=%d" % pw.pw_uid, "--regid=%d" % pw.pw_gid,
               "--groups=%d" % grp.getgrnam("nogroup").gr_gid, ctl, "-s",
               t.sock, "stop", "a"]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        eq(r.returncode, 0, r.stderr)
        eq(t.status()["a"]["state"], "stopped")
        t.stop()


def test_socket_mode_default_0600():
    with Tend(prog("a", S)) as t:
        t.start()
        eq(stat.S_IMODE(os.stat(t.sock).st_mode), 0o600)
        t.stop()


def test_stale_socket_replaced_live_socket_refused():
    with Tend(prog("a", S, start_secs=0)) as t:
        # A stale socket: bound, then its owner went away.
        s = socket.socket(socket.AF_UNIX)
        s.bind(t.sock)
        s.close()
        check(os.path.exists(t.sock))
        t.start()
        t.wait_state("a", "running")
        # A second tendd of the same config is refused by the state_dir
        # lock, and starts nothing.
        r = subprocess.run([TENDD, "-c", t.config], capture_output=True,
                           text=True, timeout=30, env=t.env())
        eq(r.returncode, 1)
        check("is in use by another tendd (pid %d)" % t.proc.pid in
              r.stderr, r.stderr)
        # One of another state_dir on the same socket: by the socket.
        other = t.path("other.conf")
        with open(t.config) as f, open(other, "w") as g:
            g.write(f.read().replace('state_dir = "state"',
                                     'state_dir = "state2"'))
        r = subprocess.run([TENDD, "-c", other], capture_output=True,
                           text=True, timeout=30, env=t.env())
        eq(r.returncode, 1)
        check("another tendd is running" in r.stderr, r.stderr)
        eq(len(t.status()), 1)
        t.stop()


def test_path_that_is_not_a_socket():
    with Tend(prog("a", S)) as t:
        open(t.sock, "w").close()
        r = subprocess.run([TENDD, "-c", t.config], capture_output=True,
                           text=True, timeout=30)
        eq(r.returncode, 1)
        check("not a socket" in r.stderr, r.stderr)


def test_socket_option_overrides_config():
    with Tend(prog("a", S)) as t:
        other = os.path.join(t.dir, "other.sock")
        p = subprocess.Popen([TENDD, "-c", t.config, "-s", other],
                             stderr=subprocess.DEVNULL, env=t.env())
        try:
            wait_for(lambda: os.path.exists(other), what="the -s socket")
            r = subprocess.run([TENDCTL, "-s", other, "status"],
                               capture_output=True, text=True, timeout=30)
            check(r.returncode in (0, 3), r.stderr)
            r = subprocess.run([TENDCTL, "status"], capture_output=True,
                               text=True, timeout=30,
                               env=dict(os.environ, TEND_SOCKET=other))
            check(r.returncode in (0, 3), r.stderr)
            check(not os.path.exists(t.sock))
        finally:
            p.terminate()
            eq(p.wait(timeout=30), 0)


if __name__ == "__main__":
    main(globals())
