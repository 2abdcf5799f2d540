import type { Readable, Writable } from 'node:stream';
import { DataChannel, type DataChannelOptions, type FrameSink } from '../channel/data-channel.js';
import type { Cancel, Scheduler } from '../scheduler.js';
import { SsmProxyError } from '../errors.js';
import type { Logger } from '../log.js';
import {
  decodeChannelClosed,
  decodeFlag,
  decodeHandshakeComplete,
  decodeHandshakeRequest,
  encodeFlag,
  encodeHandshakeResponse,
  FlagValue,
  MessageType,
  PayloadType,
  STREAM_CHUNK_SIZE,
  type Frame,
  type ProtocolError,
} from '../protocol/index.js';
import { BatchingWriter } from './batching-writer.js';
import { answerHandshake } from './handshake.js';

/** How a session ended when it did not fail. */
export type SessionEnd =
  | { reason: 'closed-by-service'; output: string }
  | { reason: 'input-ended' }
  | { reason: 'output-closed' }
  | { reason: 'terminated' };

export interface PortSessionOptions {
  input: Readable;
  output: Writable;
  scheduler: Scheduler;
  log: Logger;
  clientVersion: string;
  /** Names the target in messages. */
  target: string;
  handshakeTimeoutMs?: number;
  /** Called once, when the handshake is complete and bytes start to flow. */
  onStreaming?: () => void;
  /** The service sent channel_closed: the session is over on its side, so do not resume it. */
  onChannelClosed?: () => void;
  /** After stdin ends: how long to wait for the agent to acknowledge what we sent. */
  drainTimeoutMs?: number;
  chunkSize?: number;
  channel?: Partial<Omit<DataChannelOptions, 'scheduler' | 'handler' | 'outgoingMessageType' | 'incomingMessageType'>>;
}

type State = 'handshaking' | 'streaming' | 'ending' | 'ended';

/**
 * A Port session over stdio (§8, §10.2): answer the handshake, then stdin → input_stream_data
 * (≤1024-byte Output messages) and Output messages → stdout, with back-pressure both ways:
 * a full in-flight window pauses stdin, a full stdout pauses delivery. stdout receives stream
 * bytes and nothing else.
 */
export class PortSession {
  readonly channel: DataChannel;
  private readonly options: Required<Omit<PortSessionOptions, 'channel'>>;
  private state: State = 'handshaking';
  private cancelHandshakeTimer: Cancel | undefined;
  private readonly ended: Promise<SessionEnd>;
  private resolveEnded!: (end: SessionEnd) => void;
  private rejectEnded!: (error: SsmProxyError) => void;
  private protocolErrors = 0;
  private serviceClosed = false;
  private readonly output: BatchingWriter;
  private outputBackedUp = false;

  constructor(options: PortSessionOptions) {
    this.options = {
      handshakeTimeoutMs: 30_000,
      drainTimeoutMs: 10_000,
      chunkSize: STREAM_CHUNK_SIZE,
      onStreaming: () => {},
      onChannelClosed: () => {},
      ...options,
    };
    this.output = new BatchingWriter(options.output);
    this.channel = new DataChannel({
      ...options.channel,
      outgoingMessageType: MessageType.inputStreamData,
      incomingMessageType: MessageType.outputStreamData,
      scheduler: options.scheduler,
      handler: {
        onStreamMessage: (frame) => this.onStreamMessage(frame),
        onControlMessage: (frame) => this.onControlMessage(frame),
        onWritable: () => this.options.input.resume(),
        onProtocolError: (error) => this.onProtocolError(error),
        onStalled: () =>
          this.fail(new SsmProxyError('timeout', `the agent on ${this.options.target} stopped acknowledging data`)),
      },
    });
    this.ended = new Promise((resolve, reject) => {
      this.resolveEnded = resolve;
      this.rejectEnded = reject;
    });
    this.ended.catch(() => {}); // observed by whoever awaits run()
  }

  /** Starts the handshake clock; settles when the session is over. */
  run(): Promise<SessionEnd> {
    this.cancelHandshakeTimer = this.options.scheduler.setTimeout(() => {
      const seconds = Math.round(this.options.handshakeTimeoutMs / 1000);
      this.fail(
        new SsmProxyError(
          'timeout',
          `the SSM agent on ${this.options.target} did not complete the session handshake within ${seconds} s; check that the agent is running and up to date`,
        ),
      );
    }, this.options.handshakeTimeoutMs);
    this.options.output.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE' || error.code === 'ERR_STREAM_DESTROYED') void this.terminate('output-closed');
      else this.fail(new SsmProxyError('io', `cannot write to stdout: ${error.code ?? error.message}`));
    });
    return this.ended;
  }

  attach(sink: FrameSink): void {
    this.channel.attach(sink);
  }

  detach(): void {
    this.channel.detach();
  }

  receive(data: Buffer): void {
    this.channel.receive(data);
  }

  /** The connection below is lost for good. */
  fail(error: SsmProxyError): void {
    if (this.state === 'ended') return;
    this.finish();
    this.rejectEnded(error);
  }

  /**
   * Ends the session from our side (signal, stdout gone): tell the agent with the
   * TerminateSession flag (§10.6) and wait briefly for its acknowledgement.
   */
  async terminate(reason: 'terminated' | 'output-closed' = 'terminated', waitMs = 1000): Promise<void> {
    if (this.state === 'ended') return;
    const wasStreaming = this.state === 'streaming';
    this.state = 'ending';
    this.stopReadingInput();
    if (wasStreaming && this.channel.isAttached) {
      this.channel.write(PayloadType.flag, encodeFlag(FlagValue.terminateSession));
      await this.waitForAcks(waitMs);
    }
    this.end({ reason });
  }

  private onStreamMessage(frame: Frame): boolean {
    switch (frame.payloadType) {
      case PayloadType.output:
        if (this.state === 'handshaking') {
          this.options.log.debug(`ignoring ${frame.payload.length} stream bytes before the handshake completed`);
          return true;
        }
        return this.writeOutput(frame.payload);
      case PayloadType.handshakeRequest:
        this.onHandshakeRequest(frame.payload);
        return true;
      case PayloadType.handshakeComplete:
        this.onHandshakeComplete(frame.payload);
        return true;
      case PayloadType.encChallengeRequest:
        this.fail(new SsmProxyError('protocol', 'the agent asked for KMS encryption, which port sessions do not use'));
        return true;
      case PayloadType.flag: {
        const flag = decodeFlag(frame.payload);
        if (flag.ok && flag.value === FlagValue.connectToPortError) {
          this.fail(new SsmProxyError('network', `the agent on ${this.options.target} could not connect to the destination port`));
        }
        return true;
      }
      default:
        this.options.log.debug(`ignoring stream message with payload type ${frame.payloadType}`);
        return true;
    }
  }

  private onHandshakeRequest(payload: Buffer): void {
    const request = decodeHandshakeRequest(payload);
    if (!request.ok) {
      this.fail(new SsmProxyError('protocol', `malformed handshake request from the agent: ${request.error.message}`));
      return;
    }
    this.options.log.info(`agent ${request.value.agentVersion || '(unknown version)'} requests a handshake`);
    const answer = answerHandshake(request.value, this.options.clientVersion);
    this.channel.write(PayloadType.handshakeResponse, encodeHandshakeResponse(answer.response));
    if (answer.refusal) {
      this.fail(new SsmProxyError('protocol', answer.refusal));
    }
  }

  private onHandshakeComplete(payload: Buffer): void {
    if (this.state !== 'handshaking') return;
    this.cancelHandshakeTimer?.();
    const complete = decodeHandshakeComplete(payload);
    if (complete.ok && complete.value.customerMessage) this.options.log.info(complete.value.customerMessage);
    this.options.log.info('session handshake complete; streaming');
    this.state = 'streaming';
    this.options.onStreaming();
    this.startReadingInput();
  }

  /**
   * Always takes the payload (the writer copies it) and, when stdout is backed up, holds reading
   * from the websocket until it drains. The few messages already on their way land in the
   * writer rather than waiting in the channel as views of websocket buffers.
   */
  private writeOutput(payload: Buffer): boolean {
    if (this.output.write(payload) || this.outputBackedUp) return true;
    this.outputBackedUp = true;
    this.channel.holdReading();
    this.options.output.once('drain', () => {
      this.outputBackedUp = false;
      this.channel.releaseReading();
    });
    return true;
  }

  private onControlMessage(frame: Frame): void {
    if (frame.messageType === MessageType.channelClosed) {
      const closed = decodeChannelClosed(frame.payload);
      void this.closeByService(closed.output);
      return;
    }
    // start/pause_publication and unknown types are tolerated and ignored (§7, pitfall 24).
    this.options.log.debug(`ignoring ${frame.messageType || 'untyped'} message`);
  }

  private onProtocolError(error: ProtocolError): void {
    this.protocolErrors++;
    this.options.log.debug(`dropped a frame: ${error.message}`);
  }

  private startReadingInput(): void {
    const { input } = this.options;
    input.on('data', this.onInput);
    input.once('end', this.onInputEnd);
    input.on('error', this.onInputError);
    input.resume();
  }

  private stopReadingInput(): void {
    const { input } = this.options;
    input.off('data', this.onInput);
    input.off('end', this.onInputEnd);
    input.pause();
  }

  private readonly onInput = (data: Buffer): void => {
    const { chunkSize } = this.options;
    let hasRoom = true;
    for (let offset = 0; offset < data.length; offset += chunkSize) {
      hasRoom = this.channel.write(PayloadType.output, data.subarray(offset, offset + chunkSize));
    }
    if (!hasRoom) this.options.input.pause(); // resumed by onWritable
  };

  private readonly onInputEnd = (): void => {
    void this.endInput();
  };

  private readonly onInputError = (error: Error): void => {
    this.fail(new SsmProxyError('io', `cannot read stdin: ${error.message}`));
  };

  /** stdin EOF: deliver what is in flight, then TerminateSession flag (pitfall 21). */
  private async endInput(): Promise<void> {
    if (this.state !== 'streaming') return;
    this.state = 'ending';
    await this.waitForAcks(this.options.drainTimeoutMs);
    if (this.state !== 'ending' || this.serviceClosed) return; // a signal or the service ended it meanwhile
    if (this.channel.unackedCount > 0) {
      this.options.log.warn(`${this.channel.unackedCount} messages were still unacknowledged when stdin closed`);
    }
    if (this.channel.isAttached) {
      this.channel.write(PayloadType.flag, encodeFlag(FlagValue.terminateSession));
      await this.waitForAcks(2000);
    }
    if (this.state !== 'ending') return;
    await this.flushOutput(); // output that arrived meanwhile may still be gathering in the writer
    this.end({ reason: 'input-ended' });
  }

  private async closeByService(output: string): Promise<void> {
    if (this.state === 'ended') return;
    this.state = 'ending';
    this.serviceClosed = true;
    this.stopReadingInput();
    this.options.onChannelClosed();
    if (output) this.options.log.error(output.trim());
    // Everything acknowledged to the agent must reach stdout before we go: the agent has already
    // let go of it (§10.2: it closes once its data is acked).
    await this.flushOutput();
    this.end({ reason: 'closed-by-service', output });
  }

  /**
   * Hands the pending batch to stdout and waits until the OS has all of it. Up to 1 MiB may be
   * queued for a slow reader, hence the generous bound. Polled: 'drain' comes only after a write
   * that went over the stream's high-water mark.
   */
  private flushOutput(timeoutMs = 30_000): Promise<void> {
    const { output } = this.options;
    if (!output.destroyed) this.output.flush();
    return this.waitUntil(() => output.writableLength === 0 || output.destroyed, timeoutMs);
  }

  private waitForAcks(timeoutMs: number): Promise<void> {
    return this.waitUntil(() => this.channel.unackedCount === 0 || this.state === 'ended', timeoutMs);
  }

  /** Polls `done` every 10 ms until it holds or `timeoutMs` has passed. */
  private waitUntil(done: () => boolean, timeoutMs: number): Promise<void> {
    const { scheduler } = this.options;
    const deadline = scheduler.now() + timeoutMs;
    return new Promise((resolve) => {
      const check = () => {
        if (done() || scheduler.now() >= deadline) resolve();
        else scheduler.setTimeout(check, 10);
      };
      check();
    });
  }

  private end(end: SessionEnd): void {
    if (this.state === 'ended') return;
    this.finish();
    this.resolveEnded(end);
  }

  private finish(): void {
    this.state = 'ended';
    this.cancelHandshakeTimer?.();
    this.stopReadingInput();
    this.channel.close();
    if (this.protocolErrors > 0) this.options.log.info(`dropped ${this.protocolErrors} malformed frames during the session`);
  }
}
