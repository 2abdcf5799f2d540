import type { Socket } from 'node:net';
import { decodeFlag, encodeFlag, FlagValue, PayloadType, STREAM_CHUNK_SIZE } from '../../protocol/index.js';
import type { SessionControl } from '../session-kind.js';
import type { Forwarder, IncomingGate } from './forwarder.js';
import { LocalOutput } from './local-output.js';
import { OutputBudget } from './output-budget.js';

export interface BasicForwarderOptions {
  session: SessionControl;
  gate: IncomingGate;
  destination: string;
  /** Bytes the agent may send before the first local connection is there to take them. */
  earlyBytesLimit?: number;
}

interface Connection {
  socket: Socket;
  output: LocalOutput;
}

/**
 * Basic port forwarding for agents without smux (≤ 3.0.196.0, §16.6): one local
 * connection at a time, its bytes as plain Output messages. When it closes we send the
 * DisconnectToPort flag; the agent closes its destination connection and dials again when the
 * next connection's first bytes arrive. Connections that arrive meanwhile wait, paused, in turn.
 */
export class BasicForwarder implements Forwarder {
  private current: Connection | undefined;
  private readonly waiting: Socket[] = [];
  private readonly budget: OutputBudget;
  private windowFull = false;
  private inputStopped = false;
  private everConnected = false;
  /** Output before the first connection (the agent dials at session start). */
  private early: Buffer[] = [];
  private earlyBytes = 0;
  /**
   * After DisconnectToPort and until the next connection sends its first byte, what arrives is
   * the tail of the previous destination connection: it must not reach the next client.
   */
  private discarding = false;
  private served = 0;
  private discardedBytes = 0;

  constructor(private readonly options: BasicForwarderOptions) {
    this.budget = new OutputBudget({
      onOverBudget: () => options.gate.hold('output budget full'),
      onUnderBudget: () => options.gate.release('output budget full'),
    });
  }

  get openConnections(): number {
    return (this.current ? 1 : 0) + this.waiting.length;
  }

  get bufferedBytes(): number {
    return this.budget.slabsInUse * this.budget.slabBytes + this.earlyBytes;
  }

  accept(socket: Socket): void {
    if (this.inputStopped) {
      socket.destroy();
      return;
    }
    socket.pause();
    socket.on('error', (error: NodeJS.ErrnoException) => this.options.session.log.debug(`local connection: ${error.code ?? error.message}`));
    if (this.current) {
      this.waiting.push(socket);
      socket.once('close', () => {
        const index = this.waiting.indexOf(socket);
        if (index >= 0) this.waiting.splice(index, 1);
      });
      if (this.waiting.length === 1) {
        this.options.session.log.warn('the agent is too old to multiplex (≤ 3.0.196.0): connections are served one at a time');
      }
      return;
    }
    this.serve(socket);
  }

  receive(payloadType: number, payload: Buffer): void {
    if (payloadType === PayloadType.flag) {
      const flag = decodeFlag(payload);
      if (flag.ok && flag.value === FlagValue.connectToPortError) {
        this.options.session.log.warn(`the agent on ${this.options.session.target} could not connect to ${this.options.destination}`);
        this.current?.socket.destroy();
      }
      return;
    }
    if (payloadType !== PayloadType.output) return;
    if (this.current && !this.discarding) {
      this.current.output.write(payload);
      return;
    }
    if (!this.everConnected && this.earlyBytes < (this.options.earlyBytesLimit ?? 1 << 20)) {
      // Keep it for the first client, and stop reading until one connects.
      this.early.push(Buffer.from(payload));
      this.earlyBytes += payload.length;
      this.options.gate.hold('no connection yet');
      return;
    }
    this.discardedBytes += payload.length;
  }

  onWritable(): void {
    this.windowFull = false;
    if (!this.inputStopped) this.current?.socket.resume();
  }

  stopInput(): void {
    this.inputStopped = true;
    this.current?.socket.pause();
  }

  async flushOutput(): Promise<void> {
    const current = this.current;
    if (!current) return;
    current.output.end();
    while (!current.output.isFlushed) {
      await new Promise<void>((resolve) => this.options.session.scheduler.setTimeout(resolve, 10));
    }
  }

  dispose(): void {
    this.inputStopped = true;
    this.current?.socket.destroy();
    for (const socket of this.waiting) socket.destroy();
    this.waiting.length = 0;
  }

  summary(): string {
    return `${this.served} connections, one at a time (basic mode)` + (this.discardedBytes ? `, ${this.discardedBytes} stale bytes discarded` : '');
  }

  private serve(socket: Socket): void {
    const connection: Connection = { socket, output: new LocalOutput(socket, this.budget) };
    this.current = connection;
    this.served++;
    if (!this.everConnected) {
      this.everConnected = true;
      for (const chunk of this.early) connection.output.write(chunk);
      this.early = [];
      this.earlyBytes = 0;
      this.options.gate.release('no connection yet');
    }
    socket.on('data', (chunk: Buffer) => this.fromLocal(chunk));
    socket.once('end', () => socket.end());
    socket.once('close', () => this.onClose(connection));
    if (!this.windowFull) socket.resume();
  }

  private fromLocal(chunk: Buffer): void {
    if (this.inputStopped) return;
    this.discarding = false;
    for (let offset = 0; offset < chunk.length; offset += STREAM_CHUNK_SIZE) {
      if (!this.options.session.send(PayloadType.output, chunk.subarray(offset, offset + STREAM_CHUNK_SIZE))) {
        this.windowFull = true;
      }
    }
    if (this.windowFull) this.current?.socket.pause();
  }

  private onClose(connection: Connection): void {
    if (this.current !== connection) return;
    this.current = undefined;
    if (this.inputStopped) return;
    this.options.session.send(PayloadType.flag, encodeFlag(FlagValue.disconnectToPort));
    this.discarding = true;
    const next = this.waiting.shift();
    if (next) this.serve(next);
  }
}
