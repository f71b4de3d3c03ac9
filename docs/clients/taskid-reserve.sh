#!/bin/sh
# taskid from a shell script: socat carries the lines over the daemon's Unix socket, jq builds
# and reads the JSON (one object per line each way, docs/PROTOCOL.md). When no daemon answers,
# the taskid command does the same under the file lock, so IDs stay unique either way.
#
# usage: taskid-reserve.sh PREFIX [COUNT] [KEY]    prints the reserved IDs, one per line
#   KEY (optional) makes retries safe: the same KEY, PREFIX and COUNT give the same IDs again.
# env:   TASKID_SOCKET  the daemon's socket (default: .taskid/daemon.sock at the repository root)
# exit:  the taskid command's (README "Exit status"): 0 ok; 2 usage or BAD_REQUEST; 3 INVALID_PREFIX
#        and the other refusals of the request; 4 LOCK_TIMEOUT; 5 STATE_CORRUPT; 6 SYSTEM_ERROR;
#        7 daemon problems (CODE: message on stderr). 4, 6 and BUSY: retry with the same KEY.
set -eu

fail() {  # CODE: exit with the taskid command's status for that error code
  case $1 in
    BAD_REQUEST | UNKNOWN_OP | LINE_TOO_LONG) exit 2 ;;
    LOCK_TIMEOUT) exit 4 ;;
    STATE_CORRUPT | CONFIG_INVALID) exit 5 ;;
    SYSTEM_ERROR) exit 6 ;;
    FORBIDDEN | BUSY | PROTOCOL_MISMATCH | DAEMON_UNAVAILABLE) exit 7 ;;
    *) exit 3 ;;
  esac
}

usage() { echo "usage: taskid-reserve.sh PREFIX [COUNT] [KEY]" >&2; exit 2; }
[ $# -ge 1 ] && [ $# -le 3 ] || usage
prefix=$1
count=${2:-1}
key=${3:-}
case $count in '' | *[!0-9]*) usage ;; esac

if [ -n "${TASKID_SOCKET:-}" ]; then
  sock=$TASKID_SOCKET
elif common=$(git rev-parse --path-format=absolute --git-common-dir 2>/dev/null); then
  sock=$(dirname "$common")/.taskid/daemon.sock   # the main worktree's root, like taskid
else
  sock=$PWD/.taskid/daemon.sock
fi
# (A path longer than 107 bytes does not fit a Unix socket address: the daemon then listens
# elsewhere, and this script simply takes the taskid command below.)

# Two requests, pipelined: the protocol handshake, then the reservation.
request=$(jq -nc --arg p "$prefix" --arg c "$count" --arg k "$key" '
  {id: 1, op: "hello", protocol: 1},
  ({id: 2, op: "reserve", prefix: $p, count: ($c | tonumber), agent: "shell-example"}
     + (if $k == "" then {} else {key: $k} end))')

reply=
if [ -S "$sock" ] && answer=$(printf '%s\n' "$request" | socat -t 30 - "UNIX-CONNECT:$sock" 2>/dev/null); then
  hello=$(printf '%s\n' "$answer" | sed -n 1p)
  if [ "$(printf '%s' "$hello" | jq -r '.ok')" != true ]; then
    reply=$hello                                   # e.g. FORBIDDEN: refused at the door
  elif [ "$(printf '%s' "$hello" | jq -r '.protocol')" != 1 ]; then
    echo "PROTOCOL_MISMATCH: the daemon speaks protocol v$(printf '%s' "$hello" | jq -r '.protocol'), this script v1" >&2
    fail PROTOCOL_MISMATCH
  else
    reply=$(printf '%s\n' "$answer" | sed -n 2p)   # empty if the daemon went away mid-call
    [ -z "$reply" ] || [ "$(printf '%s' "$reply" | jq -r '.id')" = 2 ] || { echo "PROTOCOL_MISMATCH: unexpected answer" >&2; fail PROTOCOL_MISMATCH; }
  fi
fi

if [ -z "$reply" ]; then
  # No daemon (or it went away: sending again is safe, at worst it leaves a gap).
  errors=$(mktemp)
  trap 'rm -f "$errors"' EXIT
  status=0
  out=$(taskid --json reserve "$prefix" "$count" --verbose --agent shell-example ${key:+--key "$key"} 2>"$errors") || status=$?
  if [ "$status" = 0 ]; then
    reply=$(printf '%s' "$out" | jq -c '. + {ok: true}')
  else
    reply=$(grep '^{' "$errors" | tail -n 1)       # errors come as one JSON object on stderr
    [ -n "$reply" ] || { cat "$errors" >&2; exit "$status"; }
  fi
fi

if [ "$(printf '%s' "$reply" | jq -r '.ok')" = true ]; then
  printf '%s' "$reply" | jq -r '.ids[]'
else
  printf '%s' "$reply" | jq -r '"\(.error.code): \(.error.message)"' >&2
  fail "$(printf '%s' "$reply" | jq -r '.error.code')"
fi
