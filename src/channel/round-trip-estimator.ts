/**
 * Retransmission timeout from measured round trips, RFC 6298 shaped with the constants both
 * AWS sides use (docs/protocol.md §6.3): RTO 200 ms before any sample, gains 1/8 and 1/4, clock granularity 10 ms.
 * Unlike the AWS code, which smooths the first sample into an assumed 100 ms, the first sample
 * sets SRTT = R and RTTVAR = R/2 (RFC 6298 §2.2): the agent is usually not ready for the first
 * data message (it is still dialling the target, §10.2), and that resend should follow the real
 * round trip, not 200 ms. The bounds are ours to choose (we are the sender): AWS caps at 1 s,
 * which on a slow uplink resends data that was merely queued, so we allow more; and we add a floor.
 */
export class RoundTripEstimator {
  private smoothed = 100;
  private variation = 0;
  private timeout = 200;
  private sampled = false;

  constructor(
    private readonly maxTimeoutMs = 3000,
    /**
     * A floor under the RTO. On loopback or in a LAN the round trip is a few ms, and a peer's
     * GC pause or a busy event loop then looks like loss; resending into that only adds load.
     * The data channel runs over TCP, so real loss is rare and 100 ms of recovery delay is cheap.
     */
    private readonly minTimeoutMs = 100,
  ) {}

  /** Feeds one round-trip sample, in milliseconds. */
  sample(roundTripMs: number): void {
    if (this.sampled) {
      this.variation = 0.75 * this.variation + 0.25 * Math.abs(this.smoothed - roundTripMs);
      this.smoothed = 0.875 * this.smoothed + 0.125 * roundTripMs;
    } else {
      this.sampled = true;
      this.variation = roundTripMs / 2;
      this.smoothed = roundTripMs;
    }
    this.timeout = Math.min(Math.max(this.smoothed + Math.max(10, 4 * this.variation), this.minTimeoutMs), this.maxTimeoutMs);
  }

  get retransmissionTimeoutMs(): number {
    return this.timeout;
  }

  get smoothedRoundTripMs(): number {
    return this.smoothed;
  }

  get roundTripVariationMs(): number {
    return this.variation;
  }

  /** Whether any round trip has been measured yet. */
  get hasSample(): boolean {
    return this.sampled;
  }
}
