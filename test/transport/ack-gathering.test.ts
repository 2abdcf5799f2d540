import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { describe, it } from 'node:test';
import { WebSocketServer, type WebSocket } from 'ws';
import type { FrameSink } from '../../src/channel/reliable-stream.js';
import { createLogger } from '../../src/log.js';
import { systemScheduler } from '../../src/scheduler.js';
import { SESSION_TIMEOUTS } from '../../src/session/session-timeouts.js';
import { DataChannelConnection } from '../../src/transport/data-channel-connection.js';

const waitFor = async (condition: () => boolean, ms: number, what: string) => {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
};

/** A connection to a local ws server whose receiver reports `unacked` messages in flight. */
async function setUp(unacked: number) {
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const peer = new Promise<WebSocket>((resolve) => server.once('connection', resolve));
  const received: string[] = [];
  const pausedAtDelivery: boolean[] = [];
  let sink: FrameSink | undefined;
  const connection = new DataChannelConnection({
    access: { streamUrl: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/v1/data-channel/s-1`, tokenValue: 'token-value-for-test' },
    receiver: {
      receive: (data) => {
        received.push(data.toString());
        // The read that brought this message is being handled: is reading held right after it?
        queueMicrotask(() => pausedAtDelivery.push(raw().isPaused()));
      },
      attach: (given) => (sink = given),
      detach: () => undefined,
      get unackedCount() {
        return unacked;
      },
    },
    region: 'us-east-1',
    clientId: 'client-1',
    clientVersion: '1.2.764.0',
    credentials: async () => ({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' }),
    resume: async () => undefined,
    scheduler: systemScheduler,
    log: createLogger({ verbosity: 0, write: () => undefined }),
    timeouts: SESSION_TIMEOUTS,
    events: { onFailure: (error) => assert.fail(error.message) },
  });
  const raw = () => (connection as unknown as { socket: { _socket: Duplex } }).socket._socket;
  await connection.connect();
  assert.ok(sink);
  return { server, connection, peer: await peer, received, pausedAtDelivery, raw, sink };
}

describe('DataChannelConnection gathers acknowledgements during a bulk upload', () => {
  it('with many messages unacknowledged, a small read holds reading for a moment; nothing is lost or reordered', { timeout: 10_000 }, async () => {
    const { server, connection, peer, received, pausedAtDelivery, raw } = await setUp(500);
    try {
      peer.send(Buffer.from('ack 0'));
      await waitFor(() => received.length === 1, 2000, 'the first message');
      await waitFor(() => pausedAtDelivery.length === 1, 2000, 'the microtask');
      assert.equal(pausedAtDelivery[0], true, 'reading is held after a small read');
      // Sent while reading is held: they arrive together once it resumes.
      for (let i = 1; i <= 20; i++) peer.send(Buffer.from(`ack ${i}`));
      await waitFor(() => received.length === 21, 2000, 'the held messages');
      assert.deepEqual(received, Array.from({ length: 21 }, (_, i) => `ack ${i}`));
      await waitFor(() => !raw().isPaused(), 2000, 'reading to resume');
    } finally {
      await connection.close(300);
      server.close();
    }
  });

  it('an interactive session (few messages in flight) is never held', { timeout: 10_000 }, async () => {
    const { server, connection, peer, received, pausedAtDelivery } = await setUp(3);
    try {
      for (let i = 0; i < 5; i++) {
        peer.send(Buffer.from(`key ${i}`));
        await waitFor(() => received.length === i + 1, 2000, `message ${i}`);
      }
      await waitFor(() => pausedAtDelivery.length === 5, 2000, 'the microtasks');
      assert.deepEqual(pausedAtDelivery, [false, false, false, false, false]);
    } finally {
      await connection.close(300);
      server.close();
    }
  });

  it('a hold never lifts back-pressure: reading paused by the consumer stays paused', { timeout: 10_000 }, async () => {
    const { server, connection, peer, received, raw, sink } = await setUp(500);
    try {
      peer.send(Buffer.from('ack 0'));
      await waitFor(() => received.length === 1, 2000, 'the first message');
      sink.pauseIncoming!(); // the consumer is backed up while the hold is on
      await new Promise((resolve) => setTimeout(resolve, 50)); // the hold's timer has fired
      assert.equal(raw().isPaused(), true, 'still paused for the consumer');
      peer.send(Buffer.from('ack 1'));
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(received.length, 1, 'nothing read while paused');
      sink.resumeIncoming!();
      await waitFor(() => received.length === 2, 2000, 'the message after resuming');
    } finally {
      await connection.close(300);
      server.close();
    }
  });
});
