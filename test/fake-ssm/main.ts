/**
 * Runs the fake SSM service by hand:
 *   node --import tsx test/fake-ssm/main.ts [--port N] [--realistic] [--no-sigv4]
 * then e.g. `node lib/cli/main.js connect i-0123456789abcdef0 22 --endpoint-url <printed url>`.
 * Prints the endpoint URL on stdout and a summary of what it saw on Ctrl-C.
 */
import { parseArgs } from 'node:util';
import { startFakeSsm } from './index.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    realistic: { type: 'boolean', default: false },
    'no-sigv4': { type: 'boolean', default: false },
  },
});

const fake = await startFakeSsm({
  port: Number(values.port),
  agentPacing: values.realistic ? 'realistic' : 'fast',
  requireSigV4: !values['no-sigv4'],
});
process.stdout.write(`${fake.endpointUrl}\n`);

const stop = async () => {
  await fake.close();
  const { apiCalls, connections, sessionEnds, flags } = fake.records;
  process.stderr.write(
    `${JSON.stringify({ apiCalls: apiCalls.length, connections: connections.length, flags, sessionEnds }, null, 2)}\n`,
  );
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
