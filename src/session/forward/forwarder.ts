import type { Socket } from 'node:net';

/**
 * What the forward kind asks of a forwarding mode (multiplexed or basic, §16):
 * the kind owns the handshake, the listener and the ready line; a mode owns the connections.
 */
export interface Forwarder {
  /** A local client connected. */
  accept(socket: Socket): void;
  /** One in-order stream message from the agent (view valid during the call). */
  receive(payloadType: number, payload: Buffer): void;
  /** The in-flight window has room again. */
  onWritable(): void;
  /** The session is ending: stop reading every local connection. */
  stopInput(): void;
  /** Hands everything received to the local connections and resolves when written, then ends them. */
  flushOutput(): Promise<void>;
  /** Closes every local connection. */
  dispose(): void;
  readonly openConnections: number;
  /** Bytes of the output budget in use (slabs × slab size). */
  readonly bufferedBytes: number;
  /** One line for the log at the end. */
  summary(): string;
}

/**
 * Incoming back-pressure with reasons: the engine's pause/resume do not count, so the kind asks
 * to resume only when no reason is left.
 */
export class IncomingGate {
  private readonly reasons = new Set<string>();

  constructor(
    private readonly pause: () => void,
    private readonly resume: () => void,
    private readonly debug: (message: string) => void = () => {},
  ) {}

  hold(reason: string): void {
    if (this.reasons.has(reason)) return;
    this.reasons.add(reason);
    this.debug(`holding incoming data: ${reason}`);
    if (this.reasons.size === 1) this.pause();
  }

  release(reason: string): void {
    if (!this.reasons.delete(reason)) return;
    this.debug(`released: ${reason}`);
    if (this.reasons.size === 0) this.resume();
  }

  get isHeld(): boolean {
    return this.reasons.size > 0;
  }
}
