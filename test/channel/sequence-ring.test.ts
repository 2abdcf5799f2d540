import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SequenceRing } from '../../src/channel/sequence-ring.js';
import { seededRandom } from '../helpers/prng.js';

const contents = (ring: SequenceRing<string>) => {
  const seen: string[] = [];
  ring.forEach((value) => seen.push(value));
  return seen;
};

describe('SequenceRing', () => {
  it('keeps values by sequence number, visits them in order and forgets removed ones', () => {
    const ring = new SequenceRing<string>(4);
    for (let sequence = 0; sequence < 4; sequence++) ring.push(sequence, `m${sequence}`);
    assert.equal(ring.delete(2), 'm2');
    assert.equal(ring.delete(2), undefined, 'already gone');
    assert.equal(ring.get(2), undefined);
    assert.equal(ring.delete(0), 'm0');
    assert.deepEqual(contents(ring), ['m1', 'm3']);
    assert.equal(ring.size, 2);
    assert.equal(ring.get(9), undefined, 'never pushed');
  });

  it('grows past its capacity without losing or reordering anything', () => {
    const ring = new SequenceRing<string>(2);
    for (let sequence = 0; sequence < 10; sequence++) ring.push(sequence, `m${sequence}`);
    ring.delete(0);
    ring.delete(5);
    for (let sequence = 10; sequence < 40; sequence++) ring.push(sequence, `m${sequence}`);
    const expected = Array.from({ length: 40 }, (_, i) => `m${i}`).filter((value) => value !== 'm0' && value !== 'm5');
    assert.deepEqual(contents(ring), expected);
    assert.equal(ring.get(39), 'm39');
  });

  it('agrees with a Map under random selective acknowledgements', () => {
    const random = seededRandom(11);
    const ring = new SequenceRing<string>(8);
    const reference = new Map<number, string>();
    let next = 0;
    for (let step = 0; step < 20_000; step++) {
      if (random() < 0.55 || reference.size === 0) {
        ring.push(next, `m${next}`);
        reference.set(next, `m${next}`);
        next++;
      } else {
        const keys = [...reference.keys()];
        const sequence = keys[Math.floor(random() * Math.min(keys.length, 50))]!;
        assert.equal(ring.delete(sequence), reference.get(sequence));
        reference.delete(sequence);
      }
      assert.equal(ring.size, reference.size);
    }
    assert.deepEqual(contents(ring), [...reference.values()]);
  });

  it('refuses a sequence number out of turn', () => {
    const ring = new SequenceRing<string>();
    ring.push(0, 'a');
    assert.throws(() => ring.push(2, 'c'), RangeError);
  });
});
