#!/usr/bin/env node
// A complete taskid client in Node.js, built-in modules only (net, child_process).
//
// Talks to the taskid daemon over its Unix socket: one JSON object per line each way (see
// docs/PROTOCOL.md). Requests may be pipelined; answers come back in request order, each
// echoing its request's `id`. When no daemon answers it runs the `taskid` command instead,
// which then takes the file lock itself, so IDs stay unique either way.
//
// As a library:
//   const { reserve } = require('./taskid-client.js');
//   const r = await reserve('SEC', 3, { purpose: 'review findings', key: 'review-42' });
//   r.ids  // ['SEC-20', 'SEC-21', 'SEC-22']
//
// As a command (prints the reserve response as one JSON line):
//   node taskid-client.js SEC 3 --key review-42 [--purpose TEXT] [--socket PATH]
// Exit status: the taskid command's (README "Exit status"): 0 ok, 2 usage or BAD_REQUEST, 3 INVALID_PREFIX and
// the other refusals of the request, 4 LOCK_TIMEOUT, 5 STATE_CORRUPT, 6 SYSTEM_ERROR, 7 daemon problems; the code
// and message are on stderr.
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');
const { execFileSync } = require('child_process');

const PROTOCOL = 1;
const MAX_SOCKET_PATH_BYTES = 107; // sun_path on Linux, without the terminating NUL

class TaskIdError extends Error {
  constructor(code, message, retry = false, details = {}) {
    super(code + ': ' + message);
    this.code = code;
    this.retry = retry;
    this.details = details;
  }
}

// No daemon listens (nothing was sent), or it went away mid-call (sending again is safe).
class DaemonUnavailable extends Error {}

// Where taskid keeps its state, found as taskid finds it (TASKID_DIR, else .taskid at the
// root of the repository; in a linked worktree, the main worktree's root).
function stateDir(start = process.cwd()) {
  if (process.env.TASKID_DIR) return path.resolve(process.env.TASKID_DIR);
  const here = path.resolve(start);
  for (let d = here; ; d = path.dirname(d)) {
    const git = path.join(d, '.git');
    const st = fs.statSync(git, { throwIfNoEntry: false });
    if (st && st.isDirectory()) return path.join(d, '.taskid');
    if (st && st.isFile()) {
      try {
        const gitdir = path.resolve(d, fs.readFileSync(git, 'utf8').trim().replace(/^gitdir:\s*/, ''));
        const common = path.resolve(gitdir, fs.readFileSync(path.join(gitdir, 'commondir'), 'utf8').trim());
        return path.join(path.dirname(common), '.taskid');
      } catch (e) {
        return path.join(d, '.taskid');
      }
    }
    if (fs.existsSync(path.join(d, '.taskid'))) return path.join(d, '.taskid');
    if (path.dirname(d) === d) return path.join(here, '.taskid');
  }
}

// <state>/daemon.sock, or a short path named by a hash of the state directory when that does
// not fit in sun_path (the same rule as the daemon's).
function socketPath(state) {
  const p = path.join(state, 'daemon.sock');
  if (Buffer.byteLength(p) <= MAX_SOCKET_PATH_BYTES) return p;
  const h = crypto.createHash('sha256').update(state).digest('hex').slice(0, 16);
  const runtime = process.env.XDG_RUNTIME_DIR;
  const base = runtime && path.isAbsolute(runtime) ? path.join(runtime, 'taskid') : '/tmp/taskid-' + os.userInfo().uid;
  return path.join(base, h + '.sock');
}

// One connection to the daemon; call() may be used concurrently (requests are pipelined).
class Connection {
  static async open(socketFile, timeoutMs = 30000) {
    const c = new Connection(socketFile, timeoutMs);
    await c.connected;
    const hello = await c.call('hello', { protocol: PROTOCOL });
    if (hello.protocol !== PROTOCOL) {
      c.close();
      throw new TaskIdError('PROTOCOL_MISMATCH', `daemon speaks protocol v${hello.protocol}, this client v${PROTOCOL}`);
    }
    return c;
  }

  constructor(socketFile, timeoutMs) {
    this.pending = []; // {id, resolve, reject}, in request order
    this.lastId = 0;
    this.buffer = '';
    this.socket = net.createConnection({ path: socketFile });
    this.socket.setEncoding('utf8');
    this.socket.setTimeout(timeoutMs, () => this.socket.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    this.connected = new Promise((resolve, reject) => {
      this.socket.once('connect', resolve);
      this.socket.once('error', (e) => reject(new DaemonUnavailable(`no daemon at ${socketFile}: ${e.code || e.message}`)));
    });
    this.connected.catch(() => {}); // reported by open()
    this.socket.on('data', (chunk) => this.onData(chunk));
    const fail = (e) => {
      for (const p of this.pending.splice(0)) p.reject(new DaemonUnavailable('lost the daemon: ' + (e ? e.message : 'closed')));
    };
    this.socket.on('error', fail);
    this.socket.on('close', () => fail(null));
  }

  onData(chunk) {
    this.buffer += chunk;
    let nl;
    while ((nl = this.buffer.indexOf('\n')) >= 0) {
      const response = JSON.parse(this.buffer.slice(0, nl));
      this.buffer = this.buffer.slice(nl + 1);
      const p = this.pending.shift();
      if (!p) continue;
      if (response.id !== p.id) {
        p.reject(new TaskIdError('PROTOCOL_MISMATCH', `answer to id ${response.id}, expected ${p.id}`));
      } else if (!response.ok) {
        const e = response.error;
        p.reject(new TaskIdError(e.code, e.message, e.retry, e.details));
      } else {
        p.resolve(response);
      }
    }
  }

  call(op, fields = {}) {
    const request = { id: ++this.lastId, op };
    for (const [k, v] of Object.entries(fields)) if (v !== undefined && v !== null) request[k] = v;
    return new Promise((resolve, reject) => {
      this.pending.push({ id: request.id, resolve, reject });
      this.socket.write(JSON.stringify(request) + '\n');
    });
  }

  close() {
    this.socket.end();
  }
}

// No daemon: the taskid command does the same under the state lock (same answer fields).
function reserveWithCli(prefix, count, { purpose, key, state } = {}) {
  const args = ['--json'].concat(state ? ['--dir', state] : [], ['reserve', prefix, String(count), '--verbose']);
  if (purpose) args.push('--purpose', purpose);
  if (key) args.push('--key', key);
  try {
    return JSON.parse(execFileSync('taskid', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }));
  } catch (e) {
    if (e.code === 'ENOENT') throw new TaskIdError('DAEMON_UNAVAILABLE', 'no daemon answers and the taskid command is not on PATH', true);
    const line = String(e.stderr || '').split('\n').reverse().find((l) => l.startsWith('{')); // errors: JSON on stderr
    if (!line) throw new TaskIdError('SYSTEM_ERROR', String(e.stderr || e.message).trim());
    const err = JSON.parse(line).error;
    throw new TaskIdError(err.code, err.message, err.retry, err.details);
  }
}

// Reserve `count` IDs. With a `key`, retries (here or by the caller) return the same IDs
// instead of new ones. Retries errors marked retry:true (LOCK_TIMEOUT, BUSY, SYSTEM_ERROR).
async function reserve(prefix, count = 1, { purpose, key, socketFile, attempts = 5 } = {}) {
  let state;
  if (!socketFile) {
    state = stateDir();
    socketFile = socketPath(state);
  }
  for (let attempt = 0; ; attempt++) {
    try {
      let c;
      try {
        c = await Connection.open(socketFile);
        return await c.call('reserve', { prefix, count, purpose, key, agent: 'node-example' });
      } catch (e) {
        if (e instanceof DaemonUnavailable) return reserveWithCli(prefix, count, { purpose, key, state });
        throw e;
      } finally {
        if (c) c.close();
      }
    } catch (e) {
      if (!(e instanceof TaskIdError) || !e.retry || attempt === attempts - 1) throw e;
      await new Promise((r) => setTimeout(r, 200 * (attempt + 1)));
    }
  }
}

// The taskid command's exit status for each error code; 3 for the other refusals of the request.
const EXIT_STATUS = { BAD_REQUEST: 2, UNKNOWN_OP: 2, LINE_TOO_LONG: 2, LOCK_TIMEOUT: 4, STATE_CORRUPT: 5,
  CONFIG_INVALID: 5, SYSTEM_ERROR: 6, FORBIDDEN: 7, BUSY: 7, PROTOCOL_MISMATCH: 7, DAEMON_UNAVAILABLE: 7 };

async function main(argv) {
  const args = [];
  const opts = {};
  for (let i = 0; i < argv.length; i++) {
    if (['--key', '--purpose', '--socket'].includes(argv[i])) opts[argv[i].slice(2)] = argv[++i];
    else args.push(argv[i]);
  }
  if (args.length < 1 || args.length > 2 || Object.values(opts).includes(undefined) || (args[1] && !/^\d+$/.test(args[1]))) {
    process.stderr.write('usage: taskid-client.js PREFIX [COUNT] [--key KEY] [--purpose TEXT] [--socket PATH]\n');
    return 2;
  }
  try {
    const r = await reserve(args[0], args[1] ? Number(args[1]) : 1,
      { purpose: opts.purpose, key: opts.key, socketFile: opts.socket });
    process.stdout.write(JSON.stringify(r) + '\n');
    return 0;
  } catch (e) {
    if (!(e instanceof TaskIdError)) throw e;
    process.stderr.write(`${e.code}: ${e.message.slice(e.code.length + 2)}\n`);
    return EXIT_STATUS[e.code] || 3;
  }
}

module.exports = { reserve, Connection, TaskIdError, DaemonUnavailable, stateDir, socketPath };

if (require.main === module) {
  main(process.argv.slice(2)).then((status) => { process.exitCode = status; });
}
