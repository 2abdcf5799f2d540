import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FramePool } from '../../src/channel/frame-pool.js';

describe('FramePool', () => {
  it('hands out distinct buffers of the pool size, carved from slabs', () => {
    const pool = new FramePool(100, 4);
    const taken = Array.from({ length: 9 }, () => pool.take(60));
    for (const frame of taken) {
      assert.equal(frame.buffer.length, 100);
      assert.equal(frame.length, 60);
      assert.equal(frame.pooled, true);
    }
    taken.forEach((frame, i) => frame.buffer.fill(i));
    taken.forEach((frame, i) => assert.ok(frame.buffer.every((byte) => byte === i), 'no two records share bytes'));
    assert.equal(new Set(taken.map((frame) => frame.buffer.buffer)).size, 3, '9 buffers from slabs of 4: three allocations');
  });

  it('reuses a returned record with fresh bookkeeping', () => {
    const pool = new FramePool(100, 1);
    const first = pool.take(50);
    first.lastSentAt = 1234;
    first.retransmissions = 3;
    pool.give(first);
    const again = pool.take(80);
    assert.equal(again, first);
    assert.equal(again.length, 80);
    assert.equal(again.lastSentAt, undefined);
    assert.equal(again.retransmissions, 0);
  });

  it('serves a frame larger than the pool size with a one-off buffer it never keeps', () => {
    const pool = new FramePool(100, 1);
    const large = pool.take(500);
    assert.equal(large.pooled, false);
    assert.ok(large.buffer.length >= 500);
    pool.give(large);
    const next = pool.take(10);
    assert.notEqual(next, large);
    assert.equal(next.pooled, true);
  });
});
