import type { Socket } from 'node:net';
import { SsmProxyError } from '../../errors.js';
import { decodeFlag, FlagValue, PayloadType, STREAM_CHUNK_SIZE } from '../../protocol/index.js';
import { SmuxCommand, SmuxFrameReader } from '../../protocol/smux-frame.js';
import { SmuxPacker } from '../../protocol/smux-packer.js';
import type { Cancel } from '../../scheduler.js';
import type { SessionControl } from '../session-kind.js';
import type { Forwarder, IncomingGate } from './forwarder.js';
import { MuxStream } from './mux-stream.js';
import { OutputBudget } from './output-budget.js';

export interface MuxForwarderOptions {
  session: SessionControl;
  gate: IncomingGate;
  /** `host:port` the agent dials, for messages. */
  destination: string;
  /** Send a smux NOP this often (agents ≤ 3.1.1511.0 close a silent mux after 30 s); undefined: never. */
  keepAliveMs?: number;
  slabBytes?: number;
  budgetSlabs?: number;
  /** How long a ConnectToPortError waits to be matched with the stream it belongs to. */
  dialErrorMatchMs?: number;
  /** How long a local connection may stay open after the agent closed its stream. */
  lingerMs?: number;
}

/**
 * Many local TCP connections over one session as smux v1 streams (docs/protocol.md §16.3–16.5).
 *
 * Towards the agent: local bytes become PSH frames packed end to end into ≤1 KiB Output messages;
 * a full in-flight window pauses every local socket until `onWritable`. Towards the local
 * clients: PSH data is copied into slabs of the shared OutputBudget; when the budget is used up
 * the session stops reading the websocket (smux v1 has no per-stream window to do better).
 */
export class MuxForwarder implements Forwarder {
  private readonly streams = new Map<number, MuxStream>();
  private readonly packer: SmuxPacker;
  private readonly reader: SmuxFrameReader;
  private readonly budget: OutputBudget;
  private nextStreamId = 1; // client streams are odd, the first is 3 (xtaci/smux)
  private flushQueued = false;
  private windowFull = false;
  private inputStopped = false;
  private cancelKeepAlive: Cancel | undefined;
  /** ConnectToPortError flags not yet matched with a stream (docs/protocol.md §16.5: the flag names no stream). */
  private unmatchedDialErrors: Cancel[] = [];
  private opened = 0;
  private dialFailures = 0;
  private discardedBytes = 0;
  private maxConcurrent = 0;

  constructor(private readonly options: MuxForwarderOptions) {
    const { session } = options;
    this.packer = new SmuxPacker((payload) => this.sendMessage(payload), STREAM_CHUNK_SIZE);
    this.reader = new SmuxFrameReader({
      onControl: (command, streamId) => this.onControl(command, streamId),
      onData: (streamId, data) => this.onData(streamId, data),
      onError: (error) =>
        session.end({ reason: 'failed', error: new SsmProxyError('protocol', `the agent's smux stream is broken: ${error.message}`) }),
    });
    this.budget = new OutputBudget({
      ...(options.slabBytes ? { slabBytes: options.slabBytes } : {}),
      ...(options.budgetSlabs ? { budgetSlabs: options.budgetSlabs } : {}),
      onOverBudget: () => options.gate.hold('output budget full'),
      onUnderBudget: () => options.gate.release('output budget full'),
    });
    if (options.keepAliveMs) {
      this.cancelKeepAlive = session.scheduler.setInterval(() => {
        this.packer.control(SmuxCommand.nop, 0);
        this.queueFlush();
      }, options.keepAliveMs);
    }
  }

  get openConnections(): number {
    return this.streams.size;
  }

  get bufferedBytes(): number {
    return this.budget.slabsInUse * this.budget.slabBytes;
  }

  accept(socket: Socket): void {
    if (this.inputStopped) {
      socket.destroy();
      return;
    }
    this.nextStreamId += 2;
    const stream = new MuxStream(this.nextStreamId, socket, this.budget);
    this.streams.set(stream.id, stream);
    this.opened++;
    this.maxConcurrent = Math.max(this.maxConcurrent, this.streams.size);
    socket.setNoDelay(true);
    this.packer.control(SmuxCommand.syn, stream.id);
    this.queueFlush();
    this.options.session.log.debug(`connection ${stream.peer} → smux stream ${stream.id} (${this.streams.size} open)`);
    socket.on('data', (chunk: Buffer) => this.fromLocal(stream, chunk));
    socket.on('end', () => this.onLocalEnd(stream));
    socket.on('error', (error: NodeJS.ErrnoException) =>
      this.options.session.log.debug(`connection ${stream.peer}: ${error.code ?? error.message}`),
    );
    socket.on('close', () => this.onLocalClose(stream));
    if (!this.windowFull) socket.resume(); // accepted paused (LocalListener)
  }

  receive(payloadType: number, payload: Buffer): void {
    if (payloadType === PayloadType.output) {
      this.reader.push(payload);
      return;
    }
    if (payloadType === PayloadType.flag) {
      const flag = decodeFlag(payload);
      if (flag.ok && flag.value === FlagValue.connectToPortError) this.onDialError();
      else this.options.session.log.debug(`ignoring flag ${flag.ok ? flag.value : '(malformed)'}`);
      return;
    }
    this.options.session.log.debug(`ignoring stream message with payload type ${payloadType}`);
  }

  onWritable(): void {
    this.windowFull = false;
    if (this.inputStopped) return;
    for (const stream of this.streams.values()) {
      if (!stream.finSent) stream.socket.resume();
    }
  }

  stopInput(): void {
    if (this.inputStopped) return;
    this.inputStopped = true;
    if (this.streams.size > 0) {
      const peers = [...this.streams.values()].slice(0, 10).map((stream) => stream.peer);
      const more = this.streams.size > peers.length ? ` and ${this.streams.size - peers.length} more` : '';
      this.options.session.log.info(`the session is ending; closing ${this.streams.size} open connections: ${peers.join(', ')}${more}`);
    }
    for (const stream of this.streams.values()) stream.socket.pause();
    this.cancelKeepAlive?.();
    this.packer.flush();
  }

  async flushOutput(): Promise<void> {
    for (const stream of this.streams.values()) stream.output.end();
    const { scheduler } = this.options.session;
    // The engine bounds this wait; poll because a slow socket gives no single event for "all".
    while ([...this.streams.values()].some((stream) => !stream.output.isFlushed)) {
      await new Promise<void>((resolve) => scheduler.setTimeout(resolve, 10));
    }
  }

  dispose(): void {
    this.inputStopped = true;
    this.cancelKeepAlive?.();
    for (const cancel of this.unmatchedDialErrors) cancel();
    this.unmatchedDialErrors = [];
    for (const stream of [...this.streams.values()]) stream.socket.destroy();
    this.streams.clear();
  }

  summary(): string {
    return (
      `${this.opened} connections (at most ${this.maxConcurrent} at once), ${this.dialFailures} refused by the destination` +
      (this.discardedBytes ? `, ${this.discardedBytes} bytes for closed streams discarded` : '')
    );
  }

  // ---- towards the agent -------------------------------------------------------------

  private fromLocal(stream: MuxStream, chunk: Buffer): void {
    if (stream.finSent || this.inputStopped) return;
    stream.bytesOut += chunk.length;
    this.packer.data(stream.id, chunk);
    this.queueFlush();
  }

  /** The local client half-closed: FIN, and keep delivering until the agent's FIN (docs/protocol.md §16.3). */
  private onLocalEnd(stream: MuxStream): void {
    this.sendFin(stream);
    if (stream.finReceived) this.forget(stream);
  }

  private onLocalClose(stream: MuxStream): void {
    if (!this.inputStopped) this.sendFin(stream);
    this.forget(stream);
  }

  private sendFin(stream: MuxStream): void {
    if (stream.finSent || this.inputStopped) return;
    stream.finSent = true;
    this.packer.control(SmuxCommand.fin, stream.id);
    this.queueFlush();
  }

  private sendMessage(payload: Buffer): void {
    if (this.options.session.send(PayloadType.output, payload) || this.windowFull) return;
    this.windowFull = true;
    for (const stream of this.streams.values()) stream.socket.pause();
  }

  /** Frames from all connections in this turn share messages; they go out before the next I/O. */
  private queueFlush(): void {
    if (this.flushQueued) return;
    this.flushQueued = true;
    queueMicrotask(() => {
      this.flushQueued = false;
      this.packer.flush();
    });
  }

  // ---- from the agent ----------------------------------------------------------------

  private onControl(command: number, streamId: number): void {
    switch (command) {
      case SmuxCommand.fin:
        this.onRemoteFin(streamId);
        return;
      case SmuxCommand.syn:
        // The agent never opens streams (it is the smux server); refuse one politely.
        this.options.session.log.debug(`the agent opened smux stream ${streamId}; closing it`);
        this.packer.control(SmuxCommand.fin, streamId);
        this.queueFlush();
        return;
      default:
        return; // NOP: keep-alive from an agent that has it on
    }
  }

  private onData(streamId: number, data: Buffer): void {
    const stream = this.streams.get(streamId);
    if (!stream || stream.finReceived) {
      this.discardedBytes += data.length; // a stream we already closed (smux does the same)
      return;
    }
    stream.bytesIn += data.length;
    stream.output.write(data);
  }

  /** The agent closed the stream: deliver what came, end the local connection, FIN back (docs/protocol.md §16.3). */
  private onRemoteFin(streamId: number): void {
    const stream = this.streams.get(streamId);
    if (!stream || stream.finReceived) return;
    stream.finReceived = true;
    if (stream.bytesIn === 0 && this.unmatchedDialErrors.length > 0) {
      this.unmatchedDialErrors.shift()!();
      this.warnDialError(`connection from ${stream.peer}`);
    }
    stream.output.end();
    this.sendFin(stream);
    if (stream.socket.readableEnded) {
      this.forget(stream);
      return;
    }
    // The agent forgets the stream, so what the client still sends goes nowhere; give it a
    // bounded time to close its side before we do.
    const cancel = this.options.session.scheduler.setTimeout(() => stream.socket.destroy(), this.options.lingerMs ?? 30_000);
    stream.socket.once('close', cancel);
  }

  private onDialError(): void {
    this.dialFailures++;
    // The flag names no stream; the agent closes the stream right after it. Match them up, or
    // warn without naming the connection if no stream closes soon.
    let cancel: Cancel = () => {};
    cancel = this.options.session.scheduler.setTimeout(() => {
      this.unmatchedDialErrors = this.unmatchedDialErrors.filter((entry) => entry !== cancel);
      this.warnDialError('a connection');
    }, this.options.dialErrorMatchMs ?? 2000);
    this.unmatchedDialErrors.push(cancel);
  }

  private warnDialError(which: string): void {
    this.options.session.log.warn(
      `${which} was closed: the agent on ${this.options.session.target} could not connect to ${this.options.destination}; the tunnel stays up`,
    );
  }

  private forget(stream: MuxStream): void {
    if (this.streams.get(stream.id) !== stream) return;
    this.streams.delete(stream.id);
    this.options.session.log.debug(
      `smux stream ${stream.id} closed: ${stream.bytesOut} bytes sent, ${stream.bytesIn} received (${this.streams.size} open)`,
    );
  }
}
