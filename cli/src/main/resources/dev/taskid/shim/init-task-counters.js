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
  const r = await call({ op: 'init', paths: files }, ['init'].concat(files));
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
