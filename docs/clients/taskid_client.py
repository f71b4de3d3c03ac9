#!/usr/bin/env python3
"""A complete taskid client in Python, standard library only.

Talks to the taskid daemon over its Unix socket: one JSON object per line each way (see
docs/PROTOCOL.md). When no daemon answers it runs the `taskid` command instead, which then
takes the file lock itself, so IDs stay unique either way.

As a library:
    from taskid_client import reserve
    r = reserve("SEC", 3, purpose="review findings", key="review-42")
    r["ids"]          # ['SEC-20', 'SEC-21', 'SEC-22']

As a command (prints the reserve response as one JSON line):
    python3 taskid_client.py SEC 3 --key review-42 [--purpose TEXT] [--socket PATH]

Exit status: the taskid command's (README "Exit status"): 0 ok, 2 usage or BAD_REQUEST, 3 INVALID_PREFIX and
the other refusals of the request, 4 LOCK_TIMEOUT, 5 STATE_CORRUPT, 6 SYSTEM_ERROR, 7 daemon problems; the code and
message are on stderr.
"""
import hashlib
import json
import os
import socket
import subprocess
import sys
import time

PROTOCOL = 1
MAX_SOCKET_PATH_BYTES = 107  # sun_path on Linux, without the terminating NUL


class TaskIdError(Exception):
    """A refusal from taskid, with its stable code (INVALID_PREFIX, LOCK_TIMEOUT, ...)."""

    def __init__(self, code, message, retry=False, details=None):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.retry = retry
        self.details = details or {}


class DaemonUnavailable(Exception):
    """No daemon listens (nothing was sent), or it went away mid-call (sending again is safe)."""


def state_dir(start="."):
    """Where taskid keeps its state, found as taskid finds it (TASKID_DIR, else .taskid at the
    root of the repository; in a linked worktree, the main worktree's root)."""
    if os.environ.get("TASKID_DIR"):
        return os.path.abspath(os.environ["TASKID_DIR"])
    here = os.path.abspath(start)
    d = here
    while True:
        git = os.path.join(d, ".git")
        if os.path.isdir(git):
            return os.path.join(d, ".taskid")
        if os.path.isfile(git):
            try:
                with open(git) as f:
                    gitdir = os.path.join(d, f.read().strip()[len("gitdir:"):].strip())
                with open(os.path.join(gitdir, "commondir")) as f:
                    common = os.path.normpath(os.path.join(gitdir, f.read().strip()))
                return os.path.join(os.path.dirname(common), ".taskid")
            except (OSError, ValueError):
                return os.path.join(d, ".taskid")
        if os.path.isdir(os.path.join(d, ".taskid")):
            return os.path.join(d, ".taskid")
        parent = os.path.dirname(d)
        if parent == d:
            return os.path.join(here, ".taskid")
        d = parent


def socket_path(state):
    """<state>/daemon.sock, or a short path named by a hash of the state directory when that
    does not fit in sun_path (the same rule as the daemon's)."""
    p = os.path.join(state, "daemon.sock")
    if len(p.encode()) <= MAX_SOCKET_PATH_BYTES:
        return p
    h = hashlib.sha256(state.encode()).hexdigest()[:16]
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    base = os.path.join(runtime, "taskid") if runtime and os.path.isabs(runtime) else f"/tmp/taskid-{os.getuid()}"
    return os.path.join(base, h + ".sock")


class Connection:
    """One connection to the daemon. Requests carry an `id`; the daemon echoes it, and answers
    in request order."""

    def __init__(self, path, timeout=30.0):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        try:
            self.sock.connect(path)
        except (FileNotFoundError, ConnectionRefusedError) as e:
            self.sock.close()
            raise DaemonUnavailable(f"no daemon at {path}: {e}") from e
        self.file = self.sock.makefile("rwb")
        self.last_id = 0
        hello = self.call("hello", protocol=PROTOCOL)
        if hello["protocol"] != PROTOCOL:
            raise TaskIdError("PROTOCOL_MISMATCH",
                              f"daemon speaks protocol v{hello['protocol']}, this client v{PROTOCOL}")

    def call(self, op, **fields):
        self.last_id += 1
        request = {"id": self.last_id, "op": op}
        request.update({k: v for k, v in fields.items() if v is not None})
        try:
            self.file.write(json.dumps(request).encode() + b"\n")
            self.file.flush()
            line = self.file.readline()
        except OSError as e:  # includes socket.timeout
            raise DaemonUnavailable(f"lost the daemon: {e}") from e
        if not line:
            raise DaemonUnavailable("the daemon closed the connection")
        response = json.loads(line)
        if response.get("id") != request["id"]:
            raise TaskIdError("PROTOCOL_MISMATCH", f"answer to id {response.get('id')}, expected {request['id']}")
        if not response["ok"]:
            e = response["error"]
            raise TaskIdError(e["code"], e["message"], e.get("retry", False), e.get("details"))
        return response

    def close(self):
        self.file.close()
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def reserve_with_cli(prefix, count, purpose=None, key=None, state=None):
    """No daemon: the taskid command does the same under the state lock (same answer fields)."""
    cmd = ["taskid", "--json"] + (["--dir", state] if state else []) + ["reserve", prefix, str(count), "--verbose"]
    if purpose:
        cmd += ["--purpose", purpose]
    if key:
        cmd += ["--key", key]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True)
    except FileNotFoundError:
        raise TaskIdError("DAEMON_UNAVAILABLE", "no daemon answers and the taskid command is not on PATH", True)
    if p.returncode == 0:
        return json.loads(p.stdout)
    for line in reversed(p.stderr.splitlines()):  # errors: one JSON object on stderr
        if line.startswith("{"):
            e = json.loads(line)["error"]
            raise TaskIdError(e["code"], e["message"], e.get("retry", False), e.get("details"))
    raise TaskIdError("SYSTEM_ERROR", p.stderr.strip() or f"taskid exited with {p.returncode}")


def reserve(prefix, count=1, purpose=None, key=None, socket_file=None, attempts=5):
    """Reserve `count` IDs. With a `key`, retries (here or by the caller) return the same IDs
    instead of new ones. Retries errors marked retry:true (LOCK_TIMEOUT, BUSY, SYSTEM_ERROR)."""
    state = None
    if socket_file is None:
        state = state_dir()
        socket_file = socket_path(state)
    for attempt in range(attempts):
        try:
            try:
                with Connection(socket_file) as c:
                    return c.call("reserve", prefix=prefix, count=count, purpose=purpose, key=key, agent="python-example")
            except DaemonUnavailable:
                return reserve_with_cli(prefix, count, purpose, key, state)
        except TaskIdError as e:
            if not e.retry or attempt == attempts - 1:
                raise
            time.sleep(0.2 * (attempt + 1))


# The taskid command's exit status for each error code; 3 for the other refusals of the request.
EXIT_STATUS = {"BAD_REQUEST": 2, "UNKNOWN_OP": 2, "LINE_TOO_LONG": 2, "LOCK_TIMEOUT": 4, "STATE_CORRUPT": 5,
               "CONFIG_INVALID": 5, "SYSTEM_ERROR": 6, "FORBIDDEN": 7, "BUSY": 7, "PROTOCOL_MISMATCH": 7,
               "DAEMON_UNAVAILABLE": 7}


def main(argv):
    args, opts = [], {}
    it = iter(argv)
    for a in it:
        if a in ("--key", "--purpose", "--socket"):
            opts[a[2:]] = next(it, None)
        else:
            args.append(a)
    if not 1 <= len(args) <= 2 or None in opts.values() or (len(args) == 2 and not args[1].isdigit()):
        print("usage: taskid_client.py PREFIX [COUNT] [--key KEY] [--purpose TEXT] [--socket PATH]", file=sys.stderr)
        return 2
    try:
        r = reserve(args[0], int(args[1]) if len(args) == 2 else 1, opts.get("purpose"), opts.get("key"), opts.get("socket"))
    except TaskIdError as e:
        print(f"{e.code}: {e.message}", file=sys.stderr)
        return EXIT_STATUS.get(e.code, 3)
    print(json.dumps(r, separators=(",", ":")))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
