import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import { BatchingWriter } from '../../src/session/batching-writer.js';
import { seededBytes } from '../helpers/prng.js';

/**
 * A stream that looks at each chunk only when it completes the write, some time later, like a
 * pipe the OS drains slowly. A writer that reused a buffer before its write finished would
 * corrupt what this stream records.
 */
class SlowSink extends Writable {
  readonly writes: number[] = [];
  private readonly hash = createHash('sha256');
  received = 0;

  constructor(private readonly delayMs: number) {
    super({ highWaterMark: 16 * 1024 });
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    this.writes.push(chunk.length);
    setTimeout(() => {
      this.hash.update(chunk);
      this.received += chunk.length;
      done();
    }, this.delayMs);
  }

  digest(): string {
    return this.hash.digest('hex');
  }
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

describe('BatchingWriter', () => {
  it('turns the payloads written in one turn of the event loop into one write', async () => {
    const sink = new SlowSink(0);
    const writer = new BatchingWriter(sink);
    const payloads = Array.from({ length: 40 }, (_, i) => Buffer.alloc(1024, i));
    for (const payload of payloads) assert.equal(writer.write(payload), true);
    assert.deepEqual(sink.writes, [], 'nothing is written before the turn ends');
    await tick();
    assert.deepEqual(sink.writes, [40 * 1024]);
    await new Promise((resolve) => sink.end(resolve));
    assert.equal(sink.digest(), sha256(Buffer.concat(payloads)));
  });

  it('while a write is in progress, what arrives meanwhile goes out as one write once it completes', async () => {
    const sink = new SlowSink(30);
    const writer = new BatchingWriter(sink);
    writer.write(Buffer.alloc(100, 1));
    await tick();
    for (let turn = 0; turn < 3; turn++) {
      writer.write(Buffer.alloc(200, 2));
      await tick();
    }
    assert.deepEqual(sink.writes, [100], 'later turns wait for the write in progress');
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.deepEqual(sink.writes, [100, 600]);
    await new Promise((resolve) => sink.end(resolve));
    assert.equal(sink.received, 700);
  });

  it('keeps every byte in order through a slow output, reusing slabs only after their writes finish', async () => {
    const sink = new SlowSink(1);
    const writer = new BatchingWriter(sink, 8 * 1024, 64 * 1024);
    const data = seededBytes(3 * 1024 * 1024 + 17, 7);
    let waits = 0;
    let offset = 0;
    while (offset < data.length) {
      // A websocket read's worth of messages per turn, 1 KiB or less each.
      for (let i = 0; i < 50 && offset < data.length; i++) {
        const size = 1 + ((offset * 31) % 1024);
        const ready = writer.write(data.subarray(offset, offset + size));
        offset += size;
        if (!ready) {
          waits++;
          await new Promise((resolve) => sink.once('drain', resolve));
        }
      }
      await tick();
    }
    writer.flush();
    await new Promise((resolve) => sink.end(resolve));
    assert.ok(waits > 0, 'the slow output pushed back');
    assert.equal(sink.received, data.length);
    assert.equal(sink.digest(), sha256(data));
    assert.ok(Math.max(...sink.writes) <= 8 * 1024, 'no write is larger than a slab');
  });

  it('asks the caller to wait only once its bytes and the stream\'s queue pass the high-water mark', async () => {
    const sink = new SlowSink(5);
    const writer = new BatchingWriter(sink, 4 * 1024, 16 * 1024);
    let accepted = 0;
    while (writer.write(Buffer.alloc(1000, 1))) accepted++;
    assert.equal(accepted, 16, '16 × 1000 bytes fit under 16 KiB; the 17th does not');
    assert.equal(sink.writableLength, 17_000, 'everything was handed to the stream, so drain will come');
    await new Promise((resolve) => sink.once('drain', resolve));
    await new Promise((resolve) => sink.end(resolve));
    assert.equal(sink.received, 17_000);
  });

  it('writes a payload larger than a slab on its own, after what came before it', async () => {
    const sink = new SlowSink(0);
    const writer = new BatchingWriter(sink, 1024, 64 * 1024);
    const small = Buffer.alloc(100, 1);
    const large = seededBytes(5000, 3);
    writer.write(small);
    writer.write(large);
    await new Promise((resolve) => sink.end(resolve));
    assert.deepEqual(sink.writes, [100, 5000]);
    assert.equal(sink.digest(), sha256(Buffer.concat([small, large])));
  });

  it('flush() hands the pending bytes over at once', () => {
    const sink = new SlowSink(0);
    const writer = new BatchingWriter(sink);
    writer.write(Buffer.from('abc'));
    assert.equal(sink.writableLength, 0);
    assert.equal(writer.flush(), true);
    assert.equal(sink.writableLength, 3);
    assert.equal(writer.flush(), true, 'nothing pending: nothing to wait for');
    assert.equal(sink.writableLength, 3);
  });

  it('idle() resolves when the last write completes, not before (no polling)', async () => {
    const sink = new SlowSink(20);
    const writer = new BatchingWriter(sink, 4096);
    const data = seededBytes(50_000, 3);
    for (let offset = 0; offset < data.length; offset += 1024) writer.write(data.subarray(offset, offset + 1024));
    let idleAt = -1;
    const idle = writer.idle().then(() => (idleAt = sink.received));
    await tick();
    assert.equal(idleAt, -1, 'not idle while writes are pending');
    await idle;
    assert.equal(idleAt, data.length, 'idle once the sink has every byte');
    assert.equal(sink.digest(), sha256(data));
    await writer.idle(); // nothing pending: at once
  });
});
