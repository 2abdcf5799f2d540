/**
 * Runs the port forwarding kind against the fake agent's mux server in one process, without a
 * data channel: what the kind sends reaches the MuxAgent a turn later, and the MuxAgent's
 * messages reach the kind likewise. A small in-flight window and the kind's pause/resume are
 * honoured, so back-pressure is real in both directions.
 */
import { createLogger, type Logger } from '../../src/log.js';
import { systemScheduler, type Scheduler } from '../../src/scheduler.js';
import type { KindEnd, SessionControl, SessionKind, SessionKindFactory } from '../../src/session/session-kind.js';
import { MuxAgent } from '../fake-ssm/mux-agent.js';

export interface LoopbackOptions {
  factory: SessionKindFactory;
  destination: () => { host: string; port: number };
  agentVersion?: string;
  /** Messages in flight (sent by the kind, not yet taken by the agent) before send() reports full. */
  windowMessages?: number;
  scheduler?: Scheduler;
}

export class LoopbackSession implements SessionControl {
  readonly sessionId = 'loopback-session';
  readonly target = 'i-0123456789abcdef0';
  readonly clientVersion = '1.2.764.0';
  readonly log: Logger;
  readonly scheduler: Scheduler;
  private readonly abort = new AbortController();
  readonly signal = this.abort.signal;
  readonly kind: SessionKind;
  readonly agent: MuxAgent;
  readonly lines: string[] = [];
  ends: KindEnd[] = [];
  /** Times the kind paused incoming data, and whether it is paused now. */
  pauses = 0;
  paused = false;
  private readonly toAgent: Buffer[] = [];
  private agentBlocked = false;
  private windowWasFull = false;
  private readonly windowMessages: number;
  private toKind: { payloadType: number; payload: Buffer; done: () => void }[] = [];

  constructor(options: LoopbackOptions) {
    this.windowMessages = options.windowMessages ?? 64;
    this.scheduler = options.scheduler ?? systemScheduler;
    this.log = createLogger({ verbosity: 2, write: (line) => this.lines.push(line) });
    this.agent = new MuxAgent({
      send: (payloadType, payload) =>
        new Promise<void>((resolve) => {
          this.toKind.push({ payloadType, payload, done: resolve });
          setImmediate(() => this.deliverToKind());
        }),
      destination: options.destination,
      onBroken: (message) => this.lines.push(`agent: smux broken: ${message}`),
    });
    this.kind = options.factory(this);
    for (const action of [{ actionType: 'SessionType', actionParameters: { SessionType: 'Port', Properties: { type: 'LocalPortForwarding', portNumber: '5432' } } }]) {
      const answer = this.kind.answerAction(action, { request: { agentVersion: options.agentVersion ?? '3.3.987.0', requestedClientActions: [action] }, signal: this.signal });
      if (!('status' in answer) || answer.status !== 'success') throw new Error('the kind refused the SessionType action');
    }
    this.kind.start({ handshakeCompleted: true, customerMessage: '', agentVersion: options.agentVersion ?? '3.3.987.0' });
  }

  get hasRoom(): boolean {
    return this.toAgent.length < this.windowMessages;
  }

  send(_payloadType: number, payload: Buffer): boolean {
    if (this.abort.signal.aborted) return false;
    this.toAgent.push(Buffer.from(payload));
    setImmediate(() => this.deliverToAgent());
    if (this.hasRoom) return true;
    this.windowWasFull = true;
    return false;
  }

  pauseIncoming(): void {
    if (!this.paused) this.pauses++;
    this.paused = true;
  }

  resumeIncoming(): void {
    this.paused = false;
    setImmediate(() => this.deliverToKind());
  }

  end(reason: KindEnd): void {
    this.ends.push(reason);
  }

  /** Ends as the engine would: stop input, flush, dispose. */
  async close(): Promise<void> {
    this.abort.abort();
    this.kind.stopInput();
    await this.kind.flushOutput();
    this.kind.dispose();
    this.agent.dispose();
  }

  private deliverToAgent(): void {
    while (this.toAgent.length > 0 && !this.agentBlocked) {
      const payload = this.toAgent[0]!;
      if (!this.agent.receive(payload)) {
        this.agentBlocked = true;
        this.agent.onceDrained(() => {
          this.agentBlocked = false;
          this.deliverToAgent();
        });
        return;
      }
      this.toAgent.shift();
    }
    if (this.windowWasFull && this.hasRoom) {
      this.windowWasFull = false;
      this.kind.onWritable();
    }
  }

  private deliverToKind(): void {
    while (this.toKind.length > 0 && !this.paused) {
      const { payloadType, payload, done } = this.toKind.shift()!;
      this.kind.receive(payloadType, payload);
      done();
    }
  }
}
