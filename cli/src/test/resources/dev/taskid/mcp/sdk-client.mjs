// Drives `taskid mcp` with the official MCP TypeScript SDK client, over stdio, the way an agent
// host does. Usage: node sdk-client.mjs <command> [args...]. Prints one JSON summary on stdout.
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
try {
  await call('no_such_tool', {});
  summary.unknownTool = 'no error';
} catch (e) {
  summary.unknownTool = { code: e.code, message: e.message };
}
await client.close();
summary.serverStderr = serverStderr;
process.stdout.write(JSON.stringify(summary) + '\n');
