import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RoundTripEstimator } from '../../src/channel/round-trip-estimator.js';

describe('RoundTripEstimator', () => {
  it('starts at 200 ms before any sample (§6.2)', () => {
    assert.equal(new RoundTripEstimator().retransmissionTimeoutMs, 200);
  });

  it('takes the first sample whole (RFC 6298 §2.2) and keeps the floor', () => {
    const fast = new RoundTripEstimator(3000, 100);
    fast.sample(2);
    assert.equal(fast.smoothedRoundTripMs, 2);
    assert.equal(fast.retransmissionTimeoutMs, 100, '2 + max(10, 4 × 1) = 12, raised to the 100 ms floor');
    const slow = new RoundTripEstimator(3000, 100);
    slow.sample(300);
    assert.equal(slow.retransmissionTimeoutMs, 300 + 4 * 150);
  });

  it('smooths later samples with gains 1/8 and 1/4 and caps at the maximum', () => {
    const estimator = new RoundTripEstimator(1000, 100);
    estimator.sample(100); // SRTT 100, RTTVAR 50
    estimator.sample(200); // RTTVAR 0.75·50 + 0.25·100 = 62.5, SRTT 112.5
    assert.equal(estimator.smoothedRoundTripMs, 112.5);
    assert.equal(estimator.retransmissionTimeoutMs, 112.5 + 4 * 62.5);
    estimator.sample(5000);
    assert.equal(estimator.retransmissionTimeoutMs, 1000);
  });
});
