#!/usr/bin/env node
// Benchmark of the claude shim (docs/BENCHMARKS.md, section "Shims and MCP"):
//   the shim (`taskid shim install claude`) through the daemon, vs the original-style seed
//   script (bench/seed-style/: lock file + tmp + rename, in Node), on the same machine.
// 1. one call at a time: median/p90 wall time of a whole `node .claude/scripts/reserve-task-ids.js SEC`
//    process, interleaved, RUNS times each; also `taskid reserve SEC` through the daemon, and the
//    shim with no daemon (it then runs the taskid CLI) for reference;
// 2. CALLERS concurrent callers x PER sequential calls each: wall time, IDs, duplicates, errors,
//    and whether the final counter equals the IDs handed out.
// usage: node bench/shims-bench.js [--runs 30] [--callers 50] [--per 20]
// Needs the jars built first (mvn -q package -DskipTests, or any ./taskid call): it runs with TASKID_NO_BUILD=1.
// scripts/bench-shims.sh runs it with the MCP benchmark and the defaults that docs/BENCHMARKS.md quotes.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const net = require('net');
const { spawn, spawnSync } = require('child_process');

const opt = { runs: 30, callers: 50, per: 20 };
for (let i = 2; i < process.argv.length; i += 2) opt[process.argv[i].replace(/^--/, '')] = Number(process.argv[i + 1]);

const ROOT = path.resolve(__dirname, '..');
// Never let the launcher rebuild in the middle of a measurement (the tree may be edited meanwhile).
process.env.TASKID_NO_BUILD = '1';
const TASKID = path.join(ROOT, 'taskid');
const PREFIXES = ['SEC', 'PERF', 'UX', 'TEST', 'DEV', 'ARCH', 'FIN', 'DRY', 'DOC', 'DS', 'MKT', 'CNT', 'INFRA', 'OPS'];
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'taskid-bench-'));
const seedRepo = path.join(tmp, 'seed');
const shimRepo = path.join(tmp, 'shim');
const state = path.join(shimRepo, '.taskid');

function setUp() {
  fs.mkdirSync(path.join(seedRepo, '.claude', 'scripts'), { recursive: true });
  fs.copyFileSync(path.join(__dirname, 'seed-style', 'reserve-task-ids.js'), path.join(seedRepo, '.claude', 'scripts', 'reserve-task-ids.js'));
  fs.writeFileSync(path.join(seedRepo, '.claude', '.task-id-counters.json'),
    JSON.stringify({ counters: Object.fromEntries(PREFIXES.map((p) => [p, 0])) }, null, 2));
  fs.mkdirSync(path.join(shimRepo, '.git'), { recursive: true });
  const r = spawnSync(TASKID, ['shim', 'install', 'claude'], { cwd: shimRepo, encoding: 'utf8' });
  if (r.status !== 0) throw new Error('shim install failed: ' + r.stderr);
}

function run(cmd, args, cwd) {
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    const p = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { err += d; });
    p.on('close', (status) => resolve({ status, out, err, ms: Number(process.hrtime.bigint() - t0) / 1e6 }));
  });
}

const seedCall = (prefix) => run('node', ['.claude/scripts/reserve-task-ids.js', prefix], seedRepo);
const shimCall = (prefix) => run('node', ['.claude/scripts/reserve-task-ids.js', prefix], shimRepo);
const cliCall = (prefix) => run(TASKID, ['reserve', prefix], shimRepo);

function daemonUp() {
  return new Promise((resolve) => {
    const s = net.createConnection({ path: path.join(state, 'daemon.sock') });
    s.on('connect', () => { s.destroy(); resolve(true); });
    s.on('error', () => resolve(false));
  });
}

async function startDaemon() {
  const log = fs.openSync(path.join(tmp, 'daemon.log'), 'w');
  const d = spawn(TASKID, ['--dir', state, 'daemon'], { cwd: shimRepo, stdio: ['ignore', log, log] });
  for (let i = 0; i < 600 && !(await daemonUp()); i++) await new Promise((r) => setTimeout(r, 50));
  if (!(await daemonUp())) throw new Error('daemon did not start: ' + fs.readFileSync(path.join(tmp, 'daemon.log'), 'utf8'));
  return d;
}

function stats(ms) {
  const s = [...ms].sort((a, b) => a - b);
  const q = (f) => s[Math.min(s.length - 1, Math.floor(f * s.length))];
  return { median: q(0.5), p90: q(0.9), min: s[0], max: s[s.length - 1], n: s.length };
}

async function sequential(label, call, prefix, runs) {
  const ms = [];
  for (let i = 0; i < runs; i++) {
    const r = await call(prefix);
    if (r.status !== 0) throw new Error(label + ' failed: ' + r.err);
    ms.push(r.ms);
  }
  return stats(ms);
}

async function concurrent(call, prefix) {
  const ids = [];
  let errors = 0;
  const errorTexts = new Set();
  const t0 = process.hrtime.bigint();
  await Promise.all(Array.from({ length: opt.callers }, async () => {
    for (let i = 0; i < opt.per; i++) {
      const r = await call(prefix);
      if (r.status === 0) ids.push(...JSON.parse(r.out).ids);
      else { errors++; errorTexts.add(r.err.trim().split('\n')[0]); }
    }
  }));
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const duplicates = ids.length - new Set(ids).size;
  return { wallMs, ids: ids.length, duplicates, errors, errorTexts: [...errorTexts] };
}

const fmt = (s) => `median ${s.median.toFixed(1)} ms, p90 ${s.p90.toFixed(1)}, min ${s.min.toFixed(1)}, max ${s.max.toFixed(1)} (n=${s.n})`;

async function main() {
  setUp();
  const cpus = os.cpus().length;
  console.log(`# shims benchmark: ${cpus} cores, node ${process.version}, runs=${opt.runs}, ${opt.callers} callers x ${opt.per}`);
  const daemon = await startDaemon();
  try {
    // warm-up (page cache, the launcher's class-data archive)
    for (let i = 0; i < 3; i++) { await seedCall('DOC'); await shimCall('DOC'); await cliCall('DOC'); }
    const seedMs = [];
    const shimMs = [];
    const cliMs = [];
    for (let i = 0; i < opt.runs; i++) { // interleaved, so that drift hits all alike
      for (const [call, into] of [[seedCall, seedMs], [shimCall, shimMs], [cliCall, cliMs]]) {
        const r = await call('SEC');
        if (r.status !== 0) throw new Error('call failed: ' + r.err);
        into.push(r.ms);
      }
    }
    console.log('| one call, sequential | wall time per process |');
    console.log('|---|---|');
    console.log(`| original-style script (lock file + tmp + rename) | ${fmt(stats(seedMs))} |`);
    console.log(`| shim, daemon running | ${fmt(stats(shimMs))} |`);
    console.log(`| \`taskid reserve SEC\`, daemon running (reference) | ${fmt(stats(cliMs))} |`);

    const seed = await concurrent(seedCall, 'PERF');
    const seedCounter = JSON.parse(fs.readFileSync(path.join(seedRepo, '.claude', '.task-id-counters.json'), 'utf8')).counters.PERF;
    const shim = await concurrent(shimCall, 'PERF');
    const show = spawnSync(TASKID, ['--dir', state, 'show', 'PERF', '--json'], { encoding: 'utf8' });
    const shimCounter = JSON.parse(show.stdout).counters.PERF;
    console.log('');
    console.log(`| ${opt.callers} concurrent callers x ${opt.per} calls | wall time | IDs | duplicates | errors | final counter |`);
    console.log('|---|---|---|---|---|---|');
    for (const [label, r, counter] of [['original-style script', seed, seedCounter], ['shim, daemon running', shim, shimCounter]]) {
      console.log(`| ${label} | ${(r.wallMs / 1000).toFixed(1)} s | ${r.ids} | ${r.duplicates} | ${r.errors} | ${counter} |`);
      if (r.errorTexts.length) console.log(`|   errors seen: ${r.errorTexts.join(' / ')} | | | | | |`);
    }
  } finally {
    daemon.kill('SIGTERM');
    await new Promise((r) => daemon.on('close', r));
  }
  // For reference: the shim when no daemon runs (it then starts the taskid CLI, file lock).
  const fallback = await sequential('shim without daemon', shimCall, 'UX', Math.min(opt.runs, 30));
  console.log('');
  console.log(`| shim, no daemon (runs the taskid CLI: file lock) | ${fmt(fallback)} |`);
  fs.rmSync(tmp, { recursive: true, force: true });
}

main().catch((e) => { console.error(e); process.exitCode = 1; });
