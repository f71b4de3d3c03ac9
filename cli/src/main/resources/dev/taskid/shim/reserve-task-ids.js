// Usage: node .claude/scripts/reserve-task-ids.js PREFIX [COUNT]
// Prints {"ids":["SEC-20",...],"reservedAt":"..."} on stdout.
async function main() {
  const args = process.argv.slice(2);
  if (args.length < 1 || args.length > 2 || args[0] === '--help' || args[0] === '-h') {
    process.stderr.write('Usage: node .claude/scripts/reserve-task-ids.js PREFIX [COUNT]\n');
    process.exitCode = 1;
    return;
  }
  const prefix = args[0];
  let count = 1;
  if (args.length === 2) {
    if (!/^[0-9]{1,15}$/.test(args[1])) {
      fail({ code: 'INVALID_COUNT', message: 'count must be a positive integer, got "' + args[1] + '"' });
      return;
    }
    count = Number(args[1]);
  }
  const r = await call({ op: 'reserve', prefix, count, agent: 'claude-shim' },
    ['reserve', prefix, String(count), '--agent', 'claude-shim']);
  if (r.kind !== 'ok') {
    fail(r.error);
    return;
  }
  process.stdout.write(JSON.stringify({ ids: r.response.ids, reservedAt: r.response.reservedAt }) + '\n');
}

main().catch((e) => fail({ code: 'SYSTEM_ERROR', message: String(e && e.stack || e) }));
