import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { WebSocketServer } from 'ws';
import { SsmProxyError } from '../../src/errors.js';
import { createLogger } from '../../src/log.js';
import { systemScheduler } from '../../src/scheduler.js';
import { SESSION_TIMEOUTS } from '../../src/session/session-timeouts.js';
import { websocketConnection } from '../../src/session/websocket-connection.js';
import { WarmSocket } from '../../src/transport/warm-socket.js';

async function countingServer() {
  const http = createServer();
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

describe('the connection opened while StartSession is on the wire', () => {
  it('is the one the websocket upgrade uses when the StreamUrl goes to that host', { timeout: 10_000 }, async () => {
    const server = await countingServer();
    try {
      const factory = websocketConnection({ region: 'us-east-1', credentials, clientId: 'c-1', ssmmessagesEndpoint: new URL(`ws://127.0.0.1:${server.port}`) });
      factory.warmUp?.();
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
});
