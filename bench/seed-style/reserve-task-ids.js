#!/usr/bin/env node
// The ORIGINAL-STYLE reservation script, rebuilt from seed 000's description for comparison only
// (benchmarks and output-compatibility tests): a lock file created with O_EXCL, a 10 ms spin,
// stale locks (> 5 s old) broken by age, read + increment + write tmp + rename, no fsync.
// Do not use it: breaking a lock by age hands out duplicates when the holder is merely slow.
// Usage: node .claude/scripts/reserve-task-ids.js PREFIX [COUNT]
'use strict';
const fs = require('fs');
const path = require('path');

const COUNTER_FILE = path.join(__dirname, '..', '.task-id-counters.json');
const LOCK_FILE = COUNTER_FILE + '.lock';
const TMP_FILE = COUNTER_FILE + '.tmp';
const LOCK_TIMEOUT_MS = 5000;
const STALE_LOCK_MS = 5000;
const SPIN_MS = 10;
const VALID_PREFIXES = ['SEC', 'PERF', 'UX', 'TEST', 'DEV', 'ARCH', 'FIN', 'DRY', 'DOC', 'DS', 'MKT', 'CNT', 'INFRA', 'OPS'];

function sleep(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function acquireLock() {
  const start = Date.now();
  while (true) {
    try {
      const fd = fs.openSync(LOCK_FILE, 'wx');
      fs.writeSync(fd, JSON.stringify({ pid: process.pid, lockedAt: new Date().toISOString() }));
      fs.closeSync(fd);
      return;
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
      try {
        if (Date.now() - fs.statSync(LOCK_FILE).mtimeMs > STALE_LOCK_MS) {
          fs.unlinkSync(LOCK_FILE); // "stale": the seed's rule
          continue;
        }
      } catch (ignored) {
        continue; // released meanwhile
      }
      if (Date.now() - start > LOCK_TIMEOUT_MS) {
        throw new Error(`Lock acquisition timeout (${LOCK_TIMEOUT_MS}ms) - another agent holding lock`);
      }
      sleep(SPIN_MS);
    }
  }
}

function releaseLock() {
  try { fs.unlinkSync(LOCK_FILE); } catch (ignored) { /* already gone */ }
}

function main() {
  const prefix = process.argv[2];
  const count = process.argv[3] ? parseInt(process.argv[3], 10) : 1;
  if (!prefix) {
    console.error('Usage: node .claude/scripts/reserve-task-ids.js PREFIX [COUNT]');
    process.exit(1);
  }
  if (!VALID_PREFIXES.includes(prefix)) {
    throw new Error(`Invalid prefix "${prefix}". Valid: ${VALID_PREFIXES.join(', ')}`);
  }
  if (!fs.existsSync(COUNTER_FILE)) {
    throw new Error('Counter file not found\nRun: node .claude/scripts/init-task-counters.js');
  }
  acquireLock();
  try {
    const data = JSON.parse(fs.readFileSync(COUNTER_FILE, 'utf8'));
    const current = data.counters[prefix] || 0;
    const ids = [];
    for (let i = 1; i <= count; i++) ids.push(`${prefix}-${current + i}`);
    data.counters[prefix] = current + count;
    fs.writeFileSync(TMP_FILE, JSON.stringify(data, null, 2));
    fs.renameSync(TMP_FILE, COUNTER_FILE);
    console.log(JSON.stringify({ ids, reservedAt: new Date().toISOString() }));
  } finally {
    releaseLock();
  }
}

try {
  main();
} catch (e) {
  console.error(`❌ Error: ${e.message}`);
  process.exit(1);
}
