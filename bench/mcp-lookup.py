#!/usr/bin/env python3
"""lookup_task_ids over a long audit log: one `taskid mcp` process, an audit log of LINES
reservations (3 IDs each, written here as the daemon writes them), then 10 calls for one ID and
10 for a whole prefix, one after the other. Prints each call's round trip and the medians.

usage: python3 bench/mcp-lookup.py [LINES] [-- TASKID...]
default TASKID: ./taskid at the repository root (TASKID is the command without its arguments)
"""
import json, os, shutil, statistics, subprocess, sys, tempfile, time

args = sys.argv[1:]
lines = int(args.pop(0)) if args and args[0].isdigit() else 100000
if args and args[0] == "--":
    taskid = args[1:]
else:
    taskid = [os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "taskid")]

project = tempfile.mkdtemp()
state = os.path.join(project, ".taskid")
with open(os.path.join(project, "TASKS.md"), "w") as f:
    f.write("| SEC-1 | first |\n")
subprocess.run(taskid + ["--dir", state, "reserve", "SEC", "1"], check=True, stdout=subprocess.DEVNULL)
with open(os.path.join(state, "audit.log"), "a") as f:
    n = 3
    for i in range(lines):
        f.write(json.dumps({"time": "2026-12-01T07:00:00.000Z", "op": "reserve", "prefix": "SEC",
                            "ids": ["SEC-%d" % (n + k) for k in range(3)], "from": n - 1, "to": n + 2,
                            "purpose": "bench", "agent": "bench", "pid": 1, "uid": 0, "mode": "daemon"},
                           separators=(",", ":")) + "\n")
        n += 3

p = subprocess.Popen(taskid + ["--dir", state, "mcp"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                     stderr=subprocess.DEVNULL)
ids = iter(range(1, 1000))


def call(method, params):
    i = next(ids)
    p.stdin.write((json.dumps({"jsonrpc": "2.0", "id": i, "method": method, "params": params}) + "\n").encode())
    p.stdin.flush()
    r = json.loads(p.stdout.readline())
    assert r.get("id") == i and "result" in r and not r["result"].get("isError"), r
    return r


call("initialize", {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "bench", "version": "1"}})
for name, queries in (("one ID", ["SEC-%d" % (lines * 3 // 2)]), ("whole prefix", ["SEC"])):
    ms = []
    for _ in range(10):
        t = time.perf_counter()
        call("tools/call", {"name": "lookup_task_ids", "arguments": {"queries": queries}})
        ms.append((time.perf_counter() - t) * 1000)
    print("%-12s %d audit lines: first %.0f ms, median of the next 9 %.0f ms (all: %s)"
          % (name, lines + 1, ms[0], statistics.median(ms[1:]), " ".join("%.0f" % x for x in ms)))
p.stdin.close()
p.wait()
shutil.rmtree(project)
print("load average: %.2f %.2f %.2f" % os.getloadavg())
