#!/usr/bin/env python3
"""Start-up of an MCP stdio server: process start -> `initialize` answered, and -> first
`tools/call` (reserve_task_ids SEC) answered. Median of N fresh processes. Then, in the last
process, the round trip of 200 more tools/call (reserve_task_ids) one after the other.

usage: python3 bench/mcp-initialize.py [N] [-- COMMAND...]
default COMMAND: java -jar client/target/taskid-cli.jar --dir <fresh temp dir>/.taskid mcp
"""
import json, os, statistics, subprocess, sys, tempfile, time

args = sys.argv[1:]
n = int(args.pop(0)) if args and args[0].isdigit() else 10
if args and args[0] == "--":
    cmd = args[1:]
else:
    jar = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "client", "target", "taskid-cli.jar")
    cmd = ["java", "-jar", jar, "--dir", os.path.join(tempfile.mkdtemp(), ".taskid"), "mcp"]

init_ms, call_ms = [], []
for i in range(n):
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)

    def send(o):
        p.stdin.write((json.dumps(o) + "\n").encode())
        p.stdin.flush()

    def answer(expected_id):
        r = json.loads(p.stdout.readline())
        assert r.get("id") == expected_id, r
        return r

    send({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "bench", "version": "1"}}})
    answer(1)
    t1 = time.perf_counter()
    send({"jsonrpc": "2.0", "method": "notifications/initialized"})
    send({"jsonrpc": "2.0", "id": 2, "method": "tools/list"})
    answer(2)
    send({"jsonrpc": "2.0", "id": 3, "method": "tools/call",
          "params": {"name": "reserve_task_ids", "arguments": {"prefix": "SEC"}}})
    last = answer(3)
    t2 = time.perf_counter()
    if i == n - 1:
        per_call = []
        for k in range(200):
            c0 = time.perf_counter()
            send({"jsonrpc": "2.0", "id": 10 + k, "method": "tools/call",
                  "params": {"name": "reserve_task_ids", "arguments": {"prefix": "SEC"}}})
            last = answer(10 + k)
            per_call.append((time.perf_counter() - c0) * 1000)
    p.stdin.close()  # taskid mcp exits at end of input; the SDK's server does not
    try:
        p.wait(timeout=3)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
    init_ms.append((t1 - t0) * 1000)
    call_ms.append((t2 - t0) * 1000)

print("command: " + " ".join(cmd))
print("initialize answered: median %.0f ms (min %.0f, max %.0f); first tools/call answered: median %.0f ms; n=%d"
      % (statistics.median(init_ms), min(init_ms), max(init_ms), statistics.median(call_ms), n))
print("then tools/call reserve_task_ids one at a time: median %.2f ms, p90 %.2f ms (n=200)"
      % (statistics.median(per_call), sorted(per_call)[179]))
print("last tools/call result: " + json.dumps(last)[:240])
