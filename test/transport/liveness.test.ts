import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { WebSocketServer } from 'ws';
import { systemScheduler } from '../../src/scheduler.js';
import type { SsmProxyError } from '../../src/errors.js';
import { createLogger } from '../../src/log.js';
import { SESSION_TIMEOUTS } from '../../src/session/session-timeouts.js';
import { DataChannelConnection } from '../../src/transport/data-channel-connection.js';

/** A data-channel endpoint that accepts the upgrade and the first frame, then never answers again (no pongs). */
async function silentServer() {
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1', autoPong: false });
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const firstFrames: string[] = [];
  server.on('connection', (socket) => socket.once('message', (data) => firstFrames.push(data.toString())));
  const port = (server.address() as AddressInfo).port;
  return { server, firstFrames, url: `ws://127.0.0.1:${port}/v1/data-channel/s-1?role=publish_subscribe` };
}

describe('DataChannelConnection liveness', () => {
  it('treats a socket that stops answering pings as dead and tries to resume the session', { timeout: 10_000 }, async () => {
    const { server, firstFrames, url } = await silentServer();
    const lines: string[] = [];
    let resumes = 0;
    let disconnects = 0;
    const failed = new Promise<SsmProxyError>((resolve) => {
      const connection = new DataChannelConnection({
        access: { streamUrl: url, tokenValue: 'token-value-for-test' },
        receiver: {
          receive: () => undefined,
          attach: () => undefined,
          detach: () => void disconnects++,
        },
        region: 'us-east-1',
        clientId: 'client-1',
        clientVersion: '1.2.764.0',
        credentials: async () => ({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' }),
        resume: async () => {
          resumes++;
          return undefined; // the service says the session is over
        },
        scheduler: systemScheduler,
        log: createLogger({ verbosity: 1, write: (line) => lines.push(line) }),
        timeouts: { ...SESSION_TIMEOUTS, pingIntervalMs: 100, livenessTimeoutMs: 300 },
        events: { onFailure: resolve },
      });
      void connection.connect();
    });
    try {
      const started = performance.now();
      const error = await failed;
      const elapsed = performance.now() - started;
      assert.equal(error.kind, 'session-ended');
      assert.equal(resumes, 1, 'one ResumeSession after the socket was declared dead');
      assert.equal(disconnects, 1);
      assert.ok(elapsed >= 300 && elapsed < 3000, `declared dead after ${Math.round(elapsed)} ms`);
      assert.ok(lines.some((line) => /no answer from the data channel/.test(line)), lines.join(''));
      // The first frame was the OpenDataChannelInput text with the token; the log never shows the token.
      assert.match(firstFrames[0]!, /"TokenValue":"token-value-for-test"/);
      assert.ok(lines.every((line) => !line.includes('token-value-for-test')));
    } finally {
      for (const client of server.clients) client.terminate();
      server.close();
    }
  });
});
