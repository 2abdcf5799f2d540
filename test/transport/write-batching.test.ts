import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { describe, it } from 'node:test';
import { WebSocketServer } from 'ws';
import { DataChannelConnection } from '../../src/transport/data-channel-connection.js';
import type { FrameSink } from '../../src/channel/reliable-stream.js';
import { testConnectionOptions } from './connection-setup.js';

describe('DataChannelConnection write batching', () => {
  it('sends the frames of one turn in one socket write, each still its own websocket message', { timeout: 10_000 }, async () => {
    const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise<void>((resolve) => server.once('listening', resolve));
    const received: Buffer[] = [];
    server.on('connection', (socket) => socket.on('message', (data: Buffer, isBinary) => isBinary && received.push(Buffer.from(data))));
    let sink: FrameSink | undefined;
    const connection = new DataChannelConnection(
      testConnectionOptions(`ws://127.0.0.1:${(server.address() as AddressInfo).port}/v1/data-channel/s-1`, { onAttach: (given) => (sink = given) }),
    );
    try {
      await connection.connect();
      assert.ok(sink);
      await new Promise((resolve) => setTimeout(resolve, 50)); // the open frame and the first ping are out
      const raw = (connection as unknown as { socket: { _socket: Duplex & { _writev?: unknown; _write: unknown } } }).socket._socket;
      let writes = 0;
      const writev = raw._writev as (...args: unknown[]) => void;
      const write = raw._write as (...args: unknown[]) => void;
      raw._writev = function (this: unknown, ...args: unknown[]) {
        writes++;
        return writev.apply(this, args);
      };
      raw._write = function (this: unknown, ...args: unknown[]) {
        writes++;
        return write.apply(this, args);
      };
      // Across slabs of the encoder, with a frame too large for one in the middle.
      const frames = Array.from({ length: 50 }, (_, i) => Buffer.alloc(i === 25 ? 20_000 : 1144 + (i % 5), i));
      for (const frame of frames) sink.sendFrame(frame);
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.equal(writes, 1, 'one write for the turn');
      assert.equal(received.length, 50);
      received.forEach((frame, i) => assert.ok(frame.equals(frames[i]!), `frame ${i} intact and in order`));
    } finally {
      await connection.close(300);
      server.close();
    }
  });

  it('frames sent in the turn that closes the connection reach the peer before the close frame', { timeout: 10_000 }, async () => {
    const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise<void>((resolve) => server.once('listening', resolve));
    const events: string[] = [];
    const closed = new Promise<void>((resolve) =>
      server.on('connection', (socket) => {
        socket.on('message', (data: Buffer, isBinary) => isBinary && events.push(`frame ${data[0]} ${data.length}`));
        socket.on('close', (code) => {
          events.push(`close ${code}`);
          resolve();
        });
      }),
    );
    let sink: FrameSink | undefined;
    const connection = new DataChannelConnection(
      testConnectionOptions(`ws://127.0.0.1:${(server.address() as AddressInfo).port}/v1/data-channel/s-1`, { onAttach: (given) => (sink = given) }),
    );
    try {
      await connection.connect();
      assert.ok(sink);
      // The last data and the TerminateSession flag, then close, all in one turn (docs/protocol.md §10.6).
      for (let i = 1; i <= 3; i++) sink.sendFrame(Buffer.alloc(200 * i, i));
      const closing = connection.close(2000);
      await closed;
      await closing;
      assert.deepEqual(events, ['frame 1 200', 'frame 2 400', 'frame 3 600', 'close 1000']);
    } finally {
      server.close();
    }
  });
});
