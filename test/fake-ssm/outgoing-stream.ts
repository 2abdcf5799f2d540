/**
 * The agent's sending half (§6): sequence numbers from 0, every message buffered until acked,
 * RTO from SRTT/RTTVAR (§6.3) and a resend scheduler that, like the agent, looks at the FRONT
 * unacked message each tick and updates its lastSent on resend (§6.4).
 */
import {
  encodeFrame,
  HeaderFlag,
  MessageType,
  randomMessageId,
} from '../../src/protocol/index.js';

interface Pending {
  frame: Buffer;
  lastSent: number;
  attempts: number;
}

export interface OutgoingStreamDeps {
  /** Puts a frame on the current socket, if any; `retransmit` is for counting only. */
  transmit(frame: Buffer, retransmit: boolean): void;
  /** false while no client socket is attached: messages are then only buffered. */
  canSend(): boolean;
  resendIntervalMs: number;
  resendAllExpired(): boolean;
}

const INITIAL_RTO_MS = 200;
const INITIAL_SRTT_MS = 100;
const CLOCK_GRANULARITY_MS = 10;
const MAX_RTO_MS = 1_000;

export class OutgoingStream {
  private nextSequence = 0;
  /** Insertion order is sequence order, so the first entry is the front. */
  private readonly unacked = new Map<number, Pending>();
  private srtt = INITIAL_SRTT_MS;
  private rttvar = 0;
  private rtoMs = INITIAL_RTO_MS;
  private readonly timer: NodeJS.Timeout;
  private waiters: (() => void)[] = [];

  constructor(private readonly deps: OutgoingStreamDeps) {
    this.timer = setInterval(() => this.resendTick(), deps.resendIntervalMs);
    this.timer.unref();
  }

  get unackedCount(): number {
    return this.unacked.size;
  }

  get rto(): number {
    return this.rtoMs;
  }

  /** Sequences, buffers (before sending, pitfall 9) and sends one output_stream_data message. */
  send(payloadType: number, payload: Buffer): number {
    const sequenceNumber = this.nextSequence++;
    const frame = encodeFrame({
      messageType: MessageType.outputStreamData,
      sequenceNumber,
      // The agent marks its first stream message SYN (§4.4).
      flags: sequenceNumber === 0 ? HeaderFlag.syn : HeaderFlag.none,
      messageId: randomMessageId(),
      payloadType,
      payload,
    });
    this.unacked.set(sequenceNumber, { frame, lastSent: performance.now(), attempts: 0 });
    if (this.deps.canSend()) this.deps.transmit(frame, false);
    return sequenceNumber;
  }

  /** Selective ack by sequence number only (§5); unknown sequences are ignored. */
  acknowledge(sequenceNumber: number): boolean {
    const pending = this.unacked.get(sequenceNumber);
    if (!pending) return false;
    this.unacked.delete(sequenceNumber);
    this.sampleRtt(performance.now() - pending.lastSent);
    this.wake();
    return true;
  }

  /** Resolves once fewer than `limit` messages are unacked (or after `pollMs`, to re-check other limits). */
  async belowLimit(limit: number, pollMs = 10): Promise<void> {
    if (this.unacked.size < limit) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, pollMs);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.waiters.push(done);
    });
  }

  /** Resolves when everything sent has been acked, or after `timeoutMs`. */
  async drained(timeoutMs: number): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    while (this.unacked.size > 0 && performance.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return this.unacked.size === 0;
  }

  stop(): void {
    clearInterval(this.timer);
    this.wake();
  }

  private resendTick(): void {
    if (!this.deps.canSend()) return;
    const now = performance.now();
    const all = this.deps.resendAllExpired();
    for (const pending of this.unacked.values()) {
      if (now - pending.lastSent > this.rtoMs) {
        pending.lastSent = now; // the agent updates it; the plugin's lost update causes a resend storm (§6.4)
        pending.attempts++;
        this.deps.transmit(pending.frame, true);
      }
      if (!all) break; // the agent only ever looks at the front message
    }
  }

  /** RFC 6298 shape with the agent's constants (§6.3); no Karn's rule, like upstream. */
  private sampleRtt(sampleMs: number): void {
    this.rttvar = 0.75 * this.rttvar + 0.25 * Math.abs(this.srtt - sampleMs);
    this.srtt = 0.875 * this.srtt + 0.125 * sampleMs;
    this.rtoMs = Math.min(this.srtt + Math.max(CLOCK_GRANULARITY_MS, 4 * this.rttvar), MAX_RTO_MS);
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}
