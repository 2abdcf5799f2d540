/**
 * Private endpoints: AWS_ENDPOINT_URL_SSM instead of --endpoint-url, and --ssmmessages-endpoint /
 * AWS_ENDPOINT_URL_SSMMESSAGES sending the websocket to another host:port (a stand-in for a
 * PrivateLink endpoint: a TCP relay to the fake), with the upgrade signed for the rewritten URL.
 */
import assert from 'node:assert/strict';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { describeRun, startHarness, type Harness } from '../e2e/harness.js';
import { sshWith } from './ssh-with.js';

describe('private endpoints', () => {
  let harness: Harness;
  let relay: Server;
  let relayPort: number;
  let relayed = 0;
  const sockets = new Set<Socket>();

  before(async () => {
    harness = await startHarness();
    relay = createServer((client) => {
      relayed++;
      const upstream = connect(harness.fake.port, '127.0.0.1');
      for (const socket of [client, upstream]) {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
        socket.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', () => resolve()));
    relayPort = (relay.address() as { port: number }).port;
  });
  after(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => relay?.close(resolve));
    await harness?.stop();
  });

  function lastUpgrade() {
    const call = harness.fake.records.apiCalls.filter((c) => c.operation === 'StartSession').at(-1)!;
    return harness.fake.records.connections.find((c) => c.sessionId === call.sessionId);
  }

  it('AWS_ENDPOINT_URL_SSM is used for the SSM API', async () => {
    const result = await sshWith(harness, [], 'echo env-endpoint', { withEndpointUrl: false, env: { AWS_ENDPOINT_URL_SSM: harness.fake.endpointUrl } });
    assert.equal(result.code, 0, describeRun(result));
    assert.equal(result.stdout.toString(), 'env-endpoint\n');
  });

  it('--ssmmessages-endpoint: the websocket goes to the given host:port, signed for it', async () => {
    const before = relayed;
    const result = await sshWith(harness, ['--ssmmessages-endpoint', `http://localhost:${relayPort}`], 'echo private-link');
    assert.equal(result.code, 0, describeRun(result));
    assert.equal(result.stdout.toString(), 'private-link\n');
    assert.ok(relayed > before, 'the websocket went through the relay');
    // The fake recomputes SigV4 over the Host it received (localhost:<relay>): the rewritten URL.
    assert.equal(lastUpgrade()?.signatureOk, true);
  });

  it('AWS_ENDPOINT_URL_SSMMESSAGES does the same', async () => {
    const before = relayed;
    const result = await sshWith(harness, [], 'echo env-messages', { env: { AWS_ENDPOINT_URL_SSMMESSAGES: `http://127.0.0.1:${relayPort}` } });
    assert.equal(result.code, 0, describeRun(result));
    assert.ok(relayed > before);
    assert.equal(lastUpgrade()?.signatureOk, true);
  });

  it('an invalid --ssmmessages-endpoint is a usage error before any AWS call', async () => {
    const calls = harness.fake.records.apiCalls.length;
    const result = await harness.runSsmProxy([...harness.connectArgs(), '--ssmmessages-endpoint', 'https://vpce.example/path'], { timeoutMs: 30_000 });
    assert.equal(result.code, 2, describeRun(result));
    assert.equal(
      result.stderr,
      "ssm-proxy: invalid --ssmmessages-endpoint 'https://vpce.example/path': give scheme, host and port only (the session's path and query are kept)\n",
    );
    assert.equal(harness.fake.records.apiCalls.length, calls);
  });
});
