import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { Agent as HttpsAgent, createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { WebSocketServer } from 'ws';
import { SsmProxyError } from '../../src/errors.js';
import { createLogger } from '../../src/log.js';
import { systemScheduler } from '../../src/scheduler.js';
import { SESSION_TIMEOUTS } from '../../src/session/session-timeouts.js';
import { websocketConnection } from '../../src/session/websocket-connection.js';
import { openStreamHostAhead, WarmSocket } from '../../src/transport/warm-socket.js';
import { makeTestCerts } from '../network/certs.js';

async function countingServer(tls?: { key: Buffer; cert: Buffer }) {
  const http = tls ? createHttpsServer(tls) : createServer();
  const wss = new WebSocketServer({ server: http });
  let tcpConnections = 0;
  http.on('connection', () => tcpConnections++);
  const opened: string[] = [];
  wss.on('connection', (socket) => socket.once('message', (data) => opened.push(data.toString())));
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const port = (http.address() as AddressInfo).port;
  return {
    port,
    opened,
    tcp: () => tcpConnections,
    close: async () => {
      for (const client of wss.clients) client.terminate();
      http.closeAllConnections();
      await new Promise((resolve) => http.close(resolve));
    },
  };
}

function setupFor(streamUrl: string) {
  return {
    access: { streamUrl, tokenValue: 'token-value-for-test' },
    receiver: { receive: () => undefined, attach: () => undefined, detach: () => undefined },
    events: { onFailure: (error: SsmProxyError) => assert.fail(error.message) },
    resume: async () => undefined,
    timeouts: SESSION_TIMEOUTS,
    clientVersion: '1.2.764.0',
    scheduler: systemScheduler,
    log: createLogger({ verbosity: 0, write: () => undefined }),
  };
}

const credentials = async () => ({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' });

describe('the data channel connection opened ahead', () => {
  it('is the one the websocket upgrade uses when the StreamUrl goes to that host', { timeout: 10_000 }, async () => {
    const server = await countingServer();
    try {
      const override = new URL(`ws://127.0.0.1:${server.port}`);
      const openedAhead = openStreamHostAhead({ region: 'us-east-1', override, hostCertain: true, proxy: false });
      const factory = websocketConnection({ region: 'us-east-1', credentials, clientId: 'c-1', ssmmessagesEndpoint: override, ...(openedAhead ? { openedAhead } : {}) });
      await new Promise((resolve) => setTimeout(resolve, 100)); // StartSession "on the wire"
      assert.equal(server.tcp(), 1, 'connected ahead');
      const connection = factory(setupFor('wss://ssmmessages.us-east-1.amazonaws.com/v1/data-channel/s-1?role=publish_subscribe'));
      await connection.connect(new AbortController().signal);
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(server.tcp(), 1, 'no second TCP connection');
      assert.match(server.opened[0]!, /"TokenValue":"token-value-for-test"/);
      await connection.close(300);
      factory.coolDown?.();
    } finally {
      await server.close();
    }
  });

  it('is closed and not handed out when the StreamUrl goes elsewhere', { timeout: 10_000 }, async () => {
    const predicted = await countingServer();
    try {
      const warm = new WarmSocket(new URL(`ws://127.0.0.1:${predicted.port}`));
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.equal(predicted.tcp(), 1);
      assert.equal(warm.take(new URL(`ws://127.0.0.1:${predicted.port + 1}/v1/data-channel/s-1`)), undefined);
      assert.equal(warm.take(new URL(`ws://127.0.0.1:${predicted.port}/v1/data-channel/s-1`)), undefined, 'spent after one take');
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(predicted.opened.length, 0, 'nothing was sent on it');
    } finally {
      await predicted.close();
    }
  });

  it('with a custom CA bundle and no proxy: opened ahead, verified against the bundle, used by the upgrade', { timeout: 20_000 }, async () => {
    const certs = await makeTestCerts();
    const server = await countingServer({ key: certs.key, cert: certs.cert });
    try {
      for (const [bundle, expected] of [[certs.caPath, 1], [certs.otherCaPath, 2]] as const) {
        // What session-setup.ts does with a CA bundle alone: the bundle's agent, and the same bundle for the connection ahead.
        const ca = [readFileSync(bundle, 'utf8')];
        const agent = new HttpsAgent({ ca: [readFileSync(certs.caPath, 'utf8')] });
        const before = server.tcp();
        const override = new URL(`wss://127.0.0.1:${server.port}`);
        const openedAhead = openStreamHostAhead({ region: 'us-east-1', override, hostCertain: true, proxy: false, ca });
        const factory = websocketConnection({
          region: 'us-east-1',
          credentials,
          clientId: 'c-1',
          agentFor: () => agent,
          ssmmessagesEndpoint: override,
          ...(openedAhead ? { openedAhead } : {}),
        });
        await new Promise((resolve) => setTimeout(resolve, 300)); // StartSession "on the wire"
        assert.equal(server.tcp() - before, 1, 'connected ahead');
        const connection = factory(setupFor('wss://ssmmessages.us-east-1.amazonaws.com/v1/data-channel/s-1?role=publish_subscribe'));
        await connection.connect(new AbortController().signal);
        await new Promise((resolve) => setTimeout(resolve, 50));
        // With the server's own CA the connection opened ahead carries the upgrade; with a CA that
        // did not sign the server's certificate it fails its TLS check, and the agent dials instead.
        assert.equal(server.tcp() - before, expected, `TCP connections with ${bundle === certs.caPath ? 'the right' : 'another'} CA`);
        await connection.close(300);
        factory.coolDown?.();
        agent.destroy();
      }
      assert.equal(server.opened.length, 2);
      for (const opened of server.opened) assert.match(opened, /"TokenValue":"token-value-for-test"/);
    } finally {
      await server.close();
      await certs.remove();
    }
  });

  it('with a proxy, or a StreamUrl host that is not certain: nothing is opened ahead', { timeout: 10_000 }, async () => {
    const server = await countingServer();
    try {
      const override = new URL(`ws://127.0.0.1:${server.port}`);
      assert.equal(openStreamHostAhead({ region: 'us-east-1', override, hostCertain: true, proxy: true }), undefined);
      assert.equal(openStreamHostAhead({ region: 'us-east-1', override, hostCertain: false, proxy: false }), undefined);
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.equal(server.tcp(), 0);
    } finally {
      await server.close();
    }
  });
});
