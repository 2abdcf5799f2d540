import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { SsmProxyError } from '../../src/errors.js';
import { DataChannelConnection } from '../../src/transport/data-channel-connection.js';
import { openWebSocket } from '../../src/transport/open-websocket.js';
import { testConnectionOptions } from './connection-setup.js';

/** Accepts TCP and never answers the upgrade: a stalled websocket upgrade. */
describe('a stalled websocket upgrade', () => {
  let server: Server;
  let url: string;
  const sockets = new Set<Socket>();
  before(async () => {
    server = createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/v1/data-channel/s-1?role=publish_subscribe`;
  });
  after(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  it('is a network failure naming the upgrade and its bound', async () => {
    const started = performance.now();
    const error = await openWebSocket(url, { headers: {}, handshakeTimeoutMs: 400 }).then(
      () => assert.fail('should not open'),
      (e: unknown) => e,
    );
    const ms = performance.now() - started;
    assert.ok(error instanceof SsmProxyError);
    assert.equal(error.kind, 'network');
    assert.equal(
      error.message,
      `the data channel at ${url.replace(/\?.*/, '')} did not complete the websocket upgrade within 0.4 s; check the network path to it`,
    );
    assert.ok(ms >= 390 && ms < 2000, `${Math.round(ms)} ms`);
  });

  it('gives up at once when aborted, with the abort reason', async () => {
    const controller = new AbortController();
    const started = performance.now();
    setTimeout(() => controller.abort('SIGTERM'), 50);
    const reason = await openWebSocket(url, { headers: {}, handshakeTimeoutMs: 30_000, signal: controller.signal }).then(
      () => assert.fail('should not open'),
      (e: unknown) => e,
    );
    assert.equal(reason, 'SIGTERM');
    assert.ok(performance.now() - started < 1000);
  });

  it('DataChannelConnection.close() cuts a pending first dial short', async () => {
    const connection = new DataChannelConnection(testConnectionOptions(url, { onFailure: () => assert.fail('closing on purpose is no failure') }));
    const started = performance.now();
    const connecting = connection.connect().then(
      () => 'opened',
      () => 'gave up',
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    await connection.close(300);
    assert.equal(await connecting, 'gave up');
    assert.ok(performance.now() - started < 1000);
  });
});
