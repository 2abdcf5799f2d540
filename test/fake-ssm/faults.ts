/**
 * Fault injection at the two choke points (frame to client, frame from client). Decisions come
 * from a seeded PRNG per direction, so a failing run repeats exactly with the same seed.
 * Only stream and ack frames are eligible; callers send channel_closed etc. around the injector.
 */
import { Offset } from '../../src/protocol/index.js';
import type { DirectionFaults } from './options.js';
import type { DirectionCounters } from './records.js';

/** A held frame is released by the next frame or, if none comes, after this long. */
const REORDER_HOLD_MS = 20;

export class FaultInjector {
  private held: { frame: Buffer; deliver: (frame: Buffer) => void } | undefined;
  private heldTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly faults: () => DirectionFaults | undefined,
    private readonly random: () => number,
    private readonly counters: DirectionCounters,
  ) {}

  /** Delivers `frame` zero, one or two times, possibly after the next frame. */
  pass(frame: Buffer, deliver: (frame: Buffer) => void): void {
    const faults = this.faults();
    if (!faults) {
      this.flush();
      deliver(frame);
      return;
    }
    if (faults.drop && this.random() < faults.drop) {
      this.counters.dropped++;
      return;
    }
    if (faults.reorder && !this.held && this.random() < faults.reorder) {
      this.counters.reordered++;
      this.held = { frame, deliver };
      this.heldTimer = setTimeout(() => this.flush(), REORDER_HOLD_MS);
      this.heldTimer.unref();
      return;
    }
    deliver(frame);
    if (faults.duplicate && this.random() < faults.duplicate) {
      this.counters.duplicated++;
      deliver(frame);
    }
    this.flush();
  }

  /** Releases a held frame now (also before any frame that bypasses the injector). */
  flush(): void {
    if (this.heldTimer) clearTimeout(this.heldTimer);
    this.heldTimer = undefined;
    const held = this.held;
    this.held = undefined;
    held?.deliver(held.frame);
  }

  dispose(): void {
    if (this.heldTimer) clearTimeout(this.heldTimer);
    this.heldTimer = undefined;
    this.held = undefined;
  }
}

/** A copy of `frame` whose PayloadDigest no longer matches (the original stays intact for resends). */
export function corruptDigest(frame: Buffer): Buffer {
  const copy = Buffer.from(frame);
  copy[Offset.payloadDigest] = copy[Offset.payloadDigest]! ^ 0xff;
  return copy;
}
