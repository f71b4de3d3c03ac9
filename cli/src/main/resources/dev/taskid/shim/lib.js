const fs = require('fs');
const path = require('path');
const net = require('net');

const PROTOCOL = 1;
// sun_path holds 108 bytes on Linux, NUL included; longer paths: let the taskid command find the socket.
const MAX_SOCKET_PATH_BYTES = 107;
const DAEMON_TIMEOUT_MS = 30000;
// The seed's order of prefixes, for printing.
const PREFIX_ORDER = ['SEC', 'PERF', 'UX', 'TEST', 'DEV', 'ARCH', 'FIN', 'DRY', 'DOC', 'DS', 'MKT', 'CNT', 'INFRA', 'OPS'];
// This script lives in <checkout>/.claude/scripts/.
const CHECKOUT_ROOT = path.resolve(__dirname, '..', '..');

function isDir(p) {
  try { return fs.statSync(p).isDirectory(); } catch (e) { return false; }
}

function isFile(p) {
  try { return fs.statSync(p).isFile(); } catch (e) { return false; }
}

// The git common dir, read as git does: a .git directory holding HEAD; or a .git file
// "gitdir: <path>" whose commondir file (a linked worktree) leads to the main .git; a gitdir
// without one (a submodule) is its own. null: not a repository git would use.
function commonDir(worktree, git) {
  try {
    let gitDir = git;
    if (!isDir(git)) {
      const content = fs.readFileSync(git, 'utf8').trim();
      if (!content.startsWith('gitdir:')) return null;
      gitDir = path.resolve(worktree, content.slice('gitdir:'.length).trim());
    }
    const commonFile = path.join(gitDir, 'commondir');
    if (isFile(commonFile)) return path.resolve(gitDir, fs.readFileSync(commonFile, 'utf8').trim());
    return isFile(path.join(gitDir, 'HEAD')) ? gitDir : null;
  } catch (e) {
    return null;
  }
}

// The state directory, found like taskid finds it (StateDir.locate): TASKID_DIR, else in a git
// repository <git-common-dir>/taskid (git clean never reaches it; all worktrees share it), else
// an existing .taskid walking up, else .taskid in the checkout.
function stateDir() {
  const override = process.env.TASKID_DIR;
  if (override) return path.resolve(process.cwd(), override);
  for (let dir = CHECKOUT_ROOT; ; dir = path.dirname(dir)) {
    const git = path.join(dir, '.git');
    if (isDir(git) || isFile(git)) {
      const common = commonDir(dir, git);
      return common ? path.join(common, 'taskid') : path.join(dir, '.taskid');
    }
    if (isDir(path.join(dir, '.taskid'))) return path.join(dir, '.taskid');
    if (path.dirname(dir) === dir) return path.join(CHECKOUT_ROOT, '.taskid');
  }
}

function socketPath(dir) {
  const p = path.join(dir, 'daemon.sock');
  return Buffer.byteLength(p, 'utf8') <= MAX_SOCKET_PATH_BYTES ? p : null;
}

// One request to the daemon, pipelined after the protocol handshake. Resolves to
// {kind:'ok',response} | {kind:'failure',error} | {kind:'absent'} (no daemon: nothing was sent) |
// {kind:'lost'} (sent, no answer: sending again is safe, it can only leave a gap).
function askDaemon(sock, request) {
  return new Promise((resolve) => {
    if (!sock) {
      resolve({ kind: 'absent' });
      return;
    }
    let sent = false;
    let done = false;
    let hello = null;
    let buf = '';
    const s = net.createConnection({ path: sock });
    const finish = (r) => {
      if (!done) {
        done = true;
        s.destroy();
        resolve(r);
      }
    };
    s.setEncoding('utf8');
    s.setTimeout(DAEMON_TIMEOUT_MS, () => finish({ kind: sent ? 'lost' : 'absent' }));
    s.on('connect', () => {
      sent = true;
      s.write(JSON.stringify({ id: 1, op: 'hello', protocol: PROTOCOL }) + '\n'
        + JSON.stringify(Object.assign({ id: 2 }, request)) + '\n');
    });
    s.on('data', (chunk) => {
      buf += chunk;
      let nl;
      while (!done && (nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        let msg;
        try {
          msg = JSON.parse(line);
        } catch (e) {
          finish({ kind: 'failure', error: { code: 'PROTOCOL_MISMATCH', message: 'unreadable answer from the daemon at ' + sock } });
          return;
        }
        if (hello === null) {
          hello = msg;
          if (!msg.ok) {
            finish({ kind: 'failure', error: msg.error });
          } else if (msg.protocol !== PROTOCOL) {
            finish({ kind: 'failure', error: { code: 'PROTOCOL_MISMATCH',
              message: 'the daemon speaks protocol v' + msg.protocol + ', this script v' + PROTOCOL
                + ': restart the daemon with this taskid (taskid daemon stop; taskid daemon) or reinstall the script (taskid shim install claude)' } });
          }
        } else {
          finish(msg.ok ? { kind: 'ok', response: msg } : { kind: 'failure', error: msg.error });
        }
      }
    });
    s.on('error', () => finish({ kind: sent ? 'lost' : 'absent' }));
    s.on('close', () => finish({ kind: sent ? 'lost' : 'absent' }));
  });
}

// The taskid command, found at run time (the script is committed and shared): TASKID_BIN, else taskid on PATH.
function taskidCommands() {
  const candidates = [];
  if (process.env.TASKID_BIN) candidates.push([process.env.TASKID_BIN]);
  candidates.push(['taskid']);
  return candidates;
}

// Runs `taskid --dir <state> --json ARGS...` (it takes the daemon if one is up by now, else the
// state lock). Results: stdout JSON; errors: one JSON line on stderr; other stderr lines are notices.
function runTaskid(dir, args) {
  const { spawnSync } = require('child_process'); // only here: loading it costs ~4 ms of every call
  for (const c of taskidCommands()) {
    const r = spawnSync(c[0], c.slice(1).concat(['--dir', dir, '--json'], args),
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
    if (r.error && r.error.code === 'ENOENT') continue;
    if (r.error) {
      return { kind: 'failure', error: { code: 'SYSTEM_ERROR', message: 'cannot run ' + c[0] + ': ' + r.error.message } };
    }
    let error = null;
    const notices = [];
    for (const line of (r.stderr || '').split('\n')) {
      if (!line) continue;
      if (line.charAt(0) === '{') {
        try {
          const m = JSON.parse(line);
          if (m && m.error) {
            error = m.error;
            continue;
          }
        } catch (e) {
          // not ours: a notice
        }
      }
      notices.push(line);
    }
    if (r.status === 0) {
      try {
        return { kind: 'ok', response: JSON.parse(r.stdout), notices };
      } catch (e) {
        return { kind: 'failure', error: { code: 'SYSTEM_ERROR', message: 'unreadable output from ' + c[0] + ': ' + r.stdout } };
      }
    }
    if (error) return { kind: 'failure', error, notices };
    return { kind: 'failure', error: { code: 'SYSTEM_ERROR',
      message: (notices.join('; ') || c[0] + ' exited with status ' + r.status) } };
  }
  return { kind: 'failure', error: { code: 'DAEMON_UNAVAILABLE',
    message: 'no taskid daemon answers and the taskid command was not found: put taskid on PATH or set TASKID_BIN' } };
}

// Daemon first; when none answers (or the connection broke), the taskid command.
async function call(request, cliArgs) {
  const dir = stateDir();
  const r = await askDaemon(socketPath(dir), request);
  if (r.kind === 'ok' || r.kind === 'failure') return r;
  const viaCli = runTaskid(dir, cliArgs);
  for (const n of viaCli.notices || []) process.stderr.write(n + '\n');
  return viaCli;
}

// The seed's error texts: "❌ Error: <message>".
function fail(error) {
  let text;
  if (error.code === 'LOCK_TIMEOUT') {
    const ms = (error.details && error.details.timeoutMs) || 5000;
    text = 'Lock acquisition timeout (' + ms + 'ms) - another agent holding lock';
  } else if (error.code === 'INVALID_PREFIX') {
    text = error.message;
  } else {
    text = error.message + ' (' + error.code + ')';
  }
  process.stderr.write('❌ Error: ' + text + '\n');
  process.exitCode = 1;
}

function byPrefixOrder(a, b) {
  const ia = PREFIX_ORDER.indexOf(a);
  const ib = PREFIX_ORDER.indexOf(b);
  if (ia >= 0 && ib >= 0) return ia - ib;
  if (ia >= 0) return -1;
  if (ib >= 0) return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}
