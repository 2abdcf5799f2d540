/** One outgoing stream message, kept until the peer acknowledges it. */
export interface OutgoingFrame {
  /** Holds the encoded frame in its first `length` bytes. */
  readonly buffer: Buffer;
  length: number;
  /** Scheduler time of the latest transmission; undefined while never sent. */
  lastSentAt: number | undefined;
  retransmissions: number;
  /** Resent early while the peer might not be ready (see `ReliableStream.expectNotReady`). */
  probed: boolean;
  /** True if the record goes back to the pool once acknowledged. */
  readonly pooled: boolean;
}

/**
 * Reusable records for outgoing stream frames, buffer included.
 *
 * A frame stays in memory until the peer acknowledges it. Under load that is long enough for V8
 * to move freshly allocated objects and buffers to the old generation, where they linger after
 * the acknowledgement until the next full collection: a 64 MiB upload grew peak RSS by ~40 MB
 * that way. Records from here go back to the pool instead, so what an upload keeps is bounded
 * by the in-flight window and allocated once.
 */
export class FramePool {
  private readonly free: OutgoingFrame[] = [];

  constructor(
    /** Buffer size of pooled records: the largest frame the pool serves. */
    readonly frameBytes: number,
    /** Buffers carved out of one allocation when the pool runs dry. */
    private readonly framesPerSlab = 64,
  ) {}

  /** A record whose buffer holds at least `length` bytes; pooled when `length` fits `frameBytes`. */
  take(length: number): OutgoingFrame {
    if (length > this.frameBytes) {
      return { buffer: Buffer.allocUnsafe(length), length, lastSentAt: undefined, retransmissions: 0, probed: false, pooled: false };
    }
    if (this.free.length === 0) this.growSlab();
    const frame = this.free.pop()!;
    frame.length = length;
    frame.lastSentAt = undefined;
    frame.retransmissions = 0;
    frame.probed = false;
    return frame;
  }

  /** Takes back a record from `take()`; the caller must no longer use it or its buffer. */
  give(frame: OutgoingFrame): void {
    if (frame.pooled) this.free.push(frame);
  }

  private growSlab(): void {
    const slab = Buffer.allocUnsafeSlow(this.frameBytes * this.framesPerSlab);
    for (let i = this.framesPerSlab - 1; i >= 0; i--) {
      const buffer = slab.subarray(i * this.frameBytes, (i + 1) * this.frameBytes);
      this.free.push({ buffer, length: 0, lastSentAt: undefined, retransmissions: 0, probed: false, pooled: true });
    }
  }
}
