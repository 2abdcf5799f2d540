/**
 * The agent's receiving half (§5, §6.5): deliver client stream messages strictly in order,
 * re-ack duplicates, ack-and-buffer early arrivals, and never ack a message the handler could
 * not take yet ("not ready": the client must retransmit it).
 */
import type { Frame } from '../../src/protocol/index.js';

export type Delivery = 'delivered' | 'not-ready';

export interface IncomingStreamDeps {
  ack(frame: Frame): void;
  deliver(frame: Frame): Delivery;
  /** Handshake messages are acked before processing (§5 table). */
  ackBeforeProcessing(frame: Frame): boolean;
  onDuplicate(): void;
  onNotReady(): void;
}

/** The agent's incoming buffer capacity (§6.2). */
const INCOMING_CAPACITY = 100_000;

export class IncomingStream {
  private expected = 0;
  private readonly early = new Map<number, Frame>();

  constructor(private readonly deps: IncomingStreamDeps) {}

  get expectedSequence(): number {
    return this.expected;
  }

  receive(frame: Frame): void {
    const { sequenceNumber } = frame;
    if (sequenceNumber < this.expected) {
      // The agent re-acks duplicates, so a lost ack does not cause endless resends (§5, pitfall 7).
      this.deps.onDuplicate();
      this.deps.ack(frame);
      return;
    }
    if (sequenceNumber > this.expected) {
      if (this.early.size >= INCOMING_CAPACITY) return; // full: drop without ack
      if (!this.early.has(sequenceNumber)) this.early.set(sequenceNumber, frame);
      this.deps.ack(frame);
      return;
    }
    if (this.deps.ackBeforeProcessing(frame)) {
      this.deps.ack(frame);
      this.deps.deliver(frame);
    } else {
      if (this.deps.deliver(frame) === 'not-ready') {
        this.deps.onNotReady();
        return;
      }
      this.deps.ack(frame);
    }
    this.early.delete(sequenceNumber);
    this.expected++;
    this.drain();
  }

  /**
   * Delivers buffered early arrivals that are now in order. Unlike the plugin (§6.5 quirk) a
   * not-ready handler keeps them buffered; call again when the handler becomes ready.
   */
  drain(): void {
    for (let frame = this.early.get(this.expected); frame; frame = this.early.get(this.expected)) {
      if (this.deps.deliver(frame) === 'not-ready') return;
      this.early.delete(this.expected);
      this.expected++;
    }
  }
}
