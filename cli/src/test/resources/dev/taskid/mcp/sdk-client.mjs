// Drives `taskid mcp` with the official MCP TypeScript SDK client, over stdio, the way an agent
// host does. Usage: node sdk-client.mjs <command> [args...] (run in the project: it edits
// TASKS.md there before check_collisions). Prints one JSON summary on stdout.
import { appendFileSync } from 'node:fs';
import Ajv from 'ajv';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';

const [command, ...args] = process.argv.slice(2);
const transport = new StdioClientTransport({ command, args, stderr: 'pipe' });
let serverStderr = '';
transport.stderr.on('data', (d) => { serverStderr += d; });

const client = new Client({ name: 'taskid-sdk-test', version: '1.0.0' });
const started = performance.now();
await client.connect(transport); // initialize + notifications/initialized
const initializeMs = performance.now() - started;

const summary = {
  initializeMs,
  server: client.getServerVersion(),
  capabilities: client.getServerCapabilities(),
  instructions: client.getInstructions(),
};
summary.tools = (await client.listTools()).tools;
const call = (name, args) => client.callTool({ name, arguments: args });
summary.first = await call('reserve_task_ids', { prefix: 'SEC', count: 3, purpose: 'sdk test' });
summary.second = await call('reserve_task_ids', { prefix: 'SEC', count: 2, key: 'sdk-test-key' });
summary.replay = await call('reserve_task_ids', { prefix: 'SEC', count: 2, key: 'sdk-test-key' });
summary.invalid = await call('reserve_task_ids', { prefix: 'FOO' });
summary.validate = await call('validate_task_ids', { ids: ['SEC-20', 'SEC-999'] });
summary.show = await call('show_counters', { prefix: 'SEC' });
// A JSON-RPC error (the SDK throws it) as {code, message}.
const rejected = async (name, args) => {
  try {
    await call(name, args);
    return 'no error';
  } catch (e) {
    return { code: e.code, message: e.message };
  }
};
summary.unknownTool = await rejected('no_such_tool', {});

// The tools around an ID. callTool itself checks structuredContent against each outputSchema;
// below, the same check again with every object closed (no field the schema does not declare).
summary.submit = await call('submit_tasks', { tasks: [{ id: 'SEC-20', title: 'Rate limit the login', priority: 'High', source: 'sdk test' }] });
summary.submitAgain = await call('submit_tasks', { tasks: [{ id: 'SEC-20', title: 'Rate limit the login', priority: 'High', source: 'sdk test' }] });
summary.submitTypo = await rejected('submit_tasks', { tasks: [{ id: 'SEC-21', titel: 'typo' }] });
summary.process = await call('process_inbox', {});
summary.lookup = await call('lookup_task_ids', { queries: ['SEC-21', 'SEC-23..SEC-24', 'SEC'], limit: 2 });
summary.lookupUnknown = await call('lookup_task_ids', { queries: ['FOO-1'] });
summary.lookupTooMany = await rejected('lookup_task_ids', { queries: ['SEC-1'], limit: 1000 });
summary.checkClean = await call('check_collisions', {});
appendFileSync('TASKS.md', '| SEC-20 | Another task under the same ID |\n| SEC-900 | Invented, never reserved |\n');
summary.check = await call('check_collisions', { limit: 5 });
summary.checkOutside = await call('check_collisions', { files: ['/etc/passwd'] });

const closed = (schema) => {
  if (Array.isArray(schema)) return schema.map(closed);
  if (schema === null || typeof schema !== 'object') return schema;
  const out = Object.fromEntries(Object.entries(schema).map(([k, v]) => [k, k === 'properties'
    ? Object.fromEntries(Object.entries(v).map(([p, s]) => [p, closed(s)])) : closed(v)]));
  if (out.type === 'object' && out.properties && out.additionalProperties === undefined) out.additionalProperties = false;
  return out;
};
const ajv = new Ajv({ strict: false, allErrors: true });
const toolByName = Object.fromEntries(summary.tools.map((t) => [t.name, t]));
const toolOf = { first: 'reserve_task_ids', second: 'reserve_task_ids', replay: 'reserve_task_ids', validate: 'validate_task_ids',
  show: 'show_counters', submit: 'submit_tasks', submitAgain: 'submit_tasks', process: 'process_inbox',
  lookup: 'lookup_task_ids', checkClean: 'check_collisions', check: 'check_collisions' };
summary.schemaErrors = {};
for (const [call, name] of Object.entries(toolOf)) {
  const validate = ajv.compile(closed(toolByName[name].outputSchema));
  if (!summary[call].structuredContent) summary.schemaErrors[call] = 'no structuredContent';
  else if (!validate(summary[call].structuredContent)) summary.schemaErrors[call] = validate.errors;
}
await client.close();
summary.serverStderr = serverStderr;
process.stdout.write(JSON.stringify(summary) + '\n');
