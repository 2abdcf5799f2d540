/**
 * The bench's latency model: the relay adds its delay (no less, and not much more), keeps every
 * byte in order, keeps back-pressure, and passes end-of-stream both ways.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import { seededBytes } from './prng.js';
import { startLatencyRelay, type LatencyRelay } from './latency-relay.js';

const MiB = 1 << 20;

interface Target {
  port: number;
  sockets: Socket[];
  close(): Promise<void>;
}

async function startTarget(onConnection: (socket: Socket) => void): Promise<Target> {
  const sockets: Socket[] = [];
  const server: Server = createServer({ allowHalfOpen: true }, (socket) => {
    sockets.push(socket);
    socket.on('error', () => undefined);
    onConnection(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    port: (server.address() as AddressInfo).port,
    sockets,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

function dial(relay: LatencyRelay): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port: relay.port, host: '127.0.0.1', allowHalfOpen: true }, () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Resolves with the next `bytes` bytes from the socket (deadline 30 s). */
function readBytes(socket: Socket, bytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let got = 0;
    const timer = setTimeout(() => reject(new Error(`read ${got} of ${bytes} bytes within 30 s`)), 30_000);
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      got += chunk.length;
      if (got < bytes) return;
      clearTimeout(timer);
      socket.off('data', onData);
      const all = Buffer.concat(chunks);
      if (all.length > bytes) socket.unshift(all.subarray(bytes));
      resolve(all.subarray(0, bytes));
    };
    socket.on('data', onData);
  });
}

/** Resolves at the event (at once if it has already happened). */
function once(socket: Socket, event: 'end' | 'close', timeoutMs = 10_000): Promise<number> {
  return new Promise((resolve, reject) => {
    if (event === 'end' ? socket.readableEnded : socket.closed) return resolve(performance.now());
    const timer = setTimeout(() => reject(new Error(`no '${event}' within ${timeoutMs} ms`)), timeoutMs);
    socket.once(event, () => {
      clearTimeout(timer);
      resolve(performance.now());
    });
  });
}

async function waitUntil(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!predicate()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

describe('latency relay', () => {
  const cleanups: (() => Promise<void>)[] = [];
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });
  async function setUp(onConnection: (socket: Socket) => void, oneWayMs: number, maxQueuedBytes?: number) {
    const target = await startTarget(onConnection);
    const relay = await startLatencyRelay({ targetPort: target.port, oneWayMs, ...(maxQueuedBytes ? { maxQueuedBytes } : {}) });
    cleanups.push(() => target.close(), () => relay.close());
    return { target, relay };
  }

  it('adds one round trip for the TCP handshake and 2 × the one-way delay to every exchange', async () => {
    const { relay } = await setUp((socket) => socket.pipe(socket), 25);
    const socket = await dial(relay);
    cleanups.push(async () => void socket.destroy());
    const timings: number[] = [];
    let firstAnswerAt = 0;
    for (let i = 0; i < 4; i++) {
      const started = performance.now();
      socket.write(`ping ${i}\n`);
      assert.equal((await readBytes(socket, 7)).toString(), `ping ${i}\n`);
      firstAnswerAt ||= performance.now();
      timings.push(performance.now() - started);
    }
    // First answer: the connect round trip (50 ms, counted from the relay's accept, as a real
    // connect() would have returned then) + the exchange (50 ms). Timers never fire early.
    const sinceAccept = firstAnswerAt - relay.connections[0]!.acceptedAt;
    assert.ok(sinceAccept >= 100, `first answer came ${sinceAccept} ms after accept, expected ≥ 100`);
    assert.ok(timings[0]! >= 50, `first exchange took ${timings[0]} ms, expected ≥ 50`);
    for (const ms of timings.slice(1)) {
      assert.ok(ms >= 50, `exchange took ${ms} ms, expected ≥ 50`);
      assert.ok(ms < 50 + 250, `exchange took ${ms} ms, expected well under 300 (the relay adds ~50)`);
    }
    assert.ok(timings[0]! < 100 + 250, `first exchange took ${timings[0]} ms`);
    // Request/response turns on the wire: 1 connect + 4 exchanges.
    await waitUntil(() => relay.connections[0]!.turns.length === 4, 1_000, 'turns');
    assert.equal(relay.roundTrips(0), 5);
    assert.equal(relay.connections[0]!.bytesToTarget, 28);
    assert.equal(relay.connections[0]!.bytesToClient, 28);
  });

  it('charges nothing extra to a client that connected early and sends later; the delay can change', async () => {
    const { relay } = await setUp((socket) => socket.pipe(socket), 20);
    const socket = await dial(relay);
    cleanups.push(async () => void socket.destroy());
    await new Promise((resolve) => setTimeout(resolve, 60)); // longer than the connect charge (40 ms)
    let started = performance.now();
    socket.write('early\n');
    await readBytes(socket, 6);
    const ms = performance.now() - started;
    assert.ok(ms >= 40 && ms < 40 + 250, `exchange after an early connect took ${ms} ms, expected 40 + a little`);
    relay.setOneWayMs(0);
    // The best of three, so one scheduling stall on a loaded machine does not count as delay.
    const zero: number[] = [];
    for (let i = 0; i < 3; i++) {
      started = performance.now();
      socket.write('zero\n');
      await readBytes(socket, 5);
      zero.push(performance.now() - started);
    }
    assert.ok(Math.min(...zero) < 40, `exchanges at 0 ms one-way took ${zero.join(', ')} ms`);
  });

  it('16 MiB each way arrive byte-exact and in order, through a small queue (back-pressure)', async () => {
    const received = createHash('sha256');
    let receivedBytes = 0;
    const { relay } = await setUp((socket) => {
      socket.on('data', (chunk: Buffer) => {
        received.update(chunk);
        receivedBytes += chunk.length;
      });
      socket.pipe(socket);
    }, 2, 256 * 1024);
    const data = seededBytes(16 * MiB, 17);
    const socket = await dial(relay);
    cleanups.push(async () => void socket.destroy());
    const echoed = createHash('sha256');
    let echoedBytes = 0;
    socket.on('data', (chunk: Buffer) => {
      echoed.update(chunk);
      echoedBytes += chunk.length;
    });
    const ended = once(socket, 'end', 60_000);
    for (let offset = 0; offset < data.length; offset += 100_003) {
      if (!socket.write(data.subarray(offset, offset + 100_003))) await new Promise((resolve) => socket.once('drain', resolve));
    }
    socket.end();
    await ended; // the echo server ends its side when ours arrives (pipe), after every byte
    assert.equal(receivedBytes, data.length);
    assert.equal(echoedBytes, data.length);
    assert.equal(received.digest('hex'), sha256(data));
    assert.equal(echoed.digest('hex'), sha256(data));
    const record = relay.connections[0]!;
    assert.equal(record.bytesToTarget, data.length);
    assert.equal(record.bytesToClient, data.length);
    // Bounded: the bound plus at most one socket read (64 KiB) on top.
    assert.ok(record.peakQueuedBytes <= 256 * 1024 + 64 * 1024, `peak queue ${record.peakQueuedBytes} bytes`);
  });

  it('a target that does not read holds the writer back (bounded memory), then gets every byte', async () => {
    let paused: Socket | undefined;
    const { relay } = await setUp((socket) => {
      paused = socket;
      socket.pause();
    }, 1, 128 * 1024);
    const socket = await dial(relay);
    cleanups.push(async () => void socket.destroy());
    const data = randomBytes(32 * MiB);
    const written = new Promise<void>((resolve, reject) => socket.write(data, (error) => (error ? reject(error) : resolve())));
    await waitUntil(() => paused !== undefined, 5_000, 'target connection');
    await new Promise((resolve) => setTimeout(resolve, 300));
    // Neither the relay nor the sockets behind it took it all: the writer is held back...
    assert.ok(socket.writableLength > 0, 'the writer was never held back');
    // ...and the relay itself holds no more than its bound plus one socket read.
    assert.ok(relay.connections[0]!.peakQueuedBytes <= 128 * 1024 + 64 * 1024, `peak queue ${relay.connections[0]!.peakQueuedBytes}`);
    const hash = createHash('sha256');
    let got = 0;
    const all = new Promise<void>((resolve) =>
      paused!.on('data', (chunk: Buffer) => {
        hash.update(chunk);
        if ((got += chunk.length) === data.length) resolve();
      }),
    );
    paused!.resume();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all([all, written]),
      new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`only ${got} bytes arrived`)), 30_000))),
    ]).finally(() => clearTimeout(timer));
    assert.equal(hash.digest('hex'), sha256(data));
  });

  it('closes cleanly from the client side: end arrives after the delay, the target may still answer', async () => {
    const { relay, target } = await setUp((socket) => socket.on('data', () => undefined), 20);
    const socket = await dial(relay);
    await waitUntil(() => target.sockets.length === 1, 5_000, 'target connection');
    const server = target.sockets[0]!;
    await new Promise((resolve) => setTimeout(resolve, 50)); // past the connect charge
    const serverEnd = once(server, 'end');
    const sentAt = performance.now();
    socket.end();
    assert.ok((await serverEnd) - sentAt >= 20, 'end of stream arrived before the one-way delay');
    server.end('last words\n');
    assert.equal((await readBytes(socket, 11)).toString(), 'last words\n');
    await Promise.all([once(socket, 'close'), once(server, 'close')]);
    await waitUntil(() => relay.connections[0]!.closed, 2_000, 'relay connection closed');
  });

  it('closes cleanly from the target side, and a reset on one side reaches the other', async () => {
    const { relay, target } = await setUp(() => undefined, 10);
    const socket = await dial(relay);
    cleanups.push(async () => void socket.destroy());
    await waitUntil(() => target.sockets.length === 1, 5_000, 'target connection');
    const server = target.sockets[0]!;
    server.end('bye\n');
    assert.equal((await readBytes(socket, 4)).toString(), 'bye\n');
    await once(socket, 'end');
    socket.write('after your end\n');
    assert.equal((await readBytes(server, 15)).toString(), 'after your end\n');
    socket.end();
    await Promise.all([once(socket, 'close'), once(server, 'close')]);
    await waitUntil(() => relay.connections[0]!.closed, 2_000, 'relay connection closed');

    const second = await dial(relay);
    await waitUntil(() => target.sockets.length === 2, 5_000, 'second target connection');
    const secondClosed = once(second, 'close');
    const secondError = new Promise<string | undefined>((resolve) => second.on('error', (error: NodeJS.ErrnoException) => resolve(error.code)));
    target.sockets[1]!.resetAndDestroy();
    await secondClosed;
    assert.equal(await secondError, 'ECONNRESET');
    await waitUntil(() => relay.connections[1]!.closed, 2_000, 'relay connection closed after a reset');
  });
});
