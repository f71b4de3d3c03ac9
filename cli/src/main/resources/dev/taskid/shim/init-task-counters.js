// Usage: node .claude/scripts/init-task-counters.js [FILE...]   (default: TASKS.md of this checkout)
// Raises taskid's counters to the highest IDs found; never lowers them.
async function main() {
  const args = process.argv.slice(2);
  if (args[0] === '--help' || args[0] === '-h') {
    process.stderr.write('Usage: node .claude/scripts/init-task-counters.js [FILE...]\n');
    process.exitCode = 1;
    return;
  }
  const files = args.length ? args.map((a) => path.resolve(process.cwd(), a)) : [path.join(CHECKOUT_ROOT, 'TASKS.md')];
  for (const f of files) {
    if (!isFile(f)) {
      process.stderr.write('❌ Error: ' + path.basename(f) + ' not found at ' + f + '\n');
      process.exitCode = 1;
      return;
    }
  }
  // The daemon reads no file a client names: send the text (the line limit is 64 KiB); a
  // bigger TASKS.md goes through the taskid command, which scans it and sends the numbers.
  const cliArgs = ['init'].concat(files);
  const tasks = files.map((f) => fs.readFileSync(f, 'utf8')).join('\n');
  let r;
  if (Buffer.byteLength(tasks, 'utf8') < 60000) {
    r = await call({ op: 'init', text: tasks }, cliArgs);
  } else {
    r = runTaskid(stateDir(), cliArgs);
    for (const n of r.notices || []) process.stderr.write(n + '\n');
  }
  if (r.kind !== 'ok') {
    fail(r.error);
    return;
  }
  const counters = r.response.counters || {};
  const prefixes = Object.keys(counters).sort(byPrefixOrder);
  let text = '✅ Initialized counters from ' + r.response.found + ' tasks:\n';
  if (prefixes.length === 0) text += '   (no IDs of known prefixes found)\n';
  for (const p of prefixes) text += '   ' + p.padEnd(8) + ' → ' + counters[p] + '\n';
  process.stdout.write(text);
}

main().catch((e) => fail({ code: 'SYSTEM_ERROR', message: String(e && e.stack || e) }));
