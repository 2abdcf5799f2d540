import type { Readable, Writable } from 'node:stream';
import { SsmProxyError } from '../errors.js';
import { decodeFlag, FlagValue, PayloadType, SessionTypeName, STREAM_CHUNK_SIZE, type RequestedClientAction } from '../protocol/index.js';
import { BatchingWriter } from './batching-writer.js';
import { answerSessionType, refuseAction } from './handshake.js';
import type { ActionAnswer, SessionControl, SessionKind, SessionKindFactory } from './session-kind.js';

export interface PortOverStdioOptions {
  input: Readable;
  output: Writable;
  /** Largest payload per message (docs/protocol.md §10.2, pitfall 25). */
  chunkSize?: number;
}

/**
 * A Port session over stdio (docs/protocol.md §10.2, the SSH ProxyCommand case): stdin → Output messages of at
 * most 1 KiB, Output messages → stdout, with back-pressure both ways: a full in-flight window
 * pauses stdin, a full stdout pauses reading from the websocket. stdout receives stream bytes
 * and nothing else.
 */
export function portOverStdio(options: PortOverStdioOptions): SessionKindFactory {
  return (session) => new PortOverStdio(session, options);
}

class PortOverStdio implements SessionKind {
  readonly name = 'port';
  readonly handshake = 'required';
  private readonly input: Readable;
  private readonly output: Writable;
  private readonly chunkSize: number;
  private readonly writer: BatchingWriter;
  private outputBackedUp = false;
  private reading = false;

  constructor(
    private readonly session: SessionControl,
    options: PortOverStdioOptions,
  ) {
    this.input = options.input;
    this.output = options.output;
    this.chunkSize = options.chunkSize ?? STREAM_CHUNK_SIZE;
    this.writer = new BatchingWriter(options.output);
    this.output.on('error', this.onOutputError);
  }

  answerAction(action: RequestedClientAction): ActionAnswer {
    if (action.actionType !== 'SessionType') return refuseAction(action, this.name);
    return answerSessionType(
      action,
      [SessionTypeName.port],
      (name) => `the session document starts a ${name} session; ssm-proxy connect only speaks Port sessions (use AWS-StartSSHSession)`,
    );
  }

  start(): void {
    this.reading = true;
    this.input.on('data', this.onInput);
    this.input.once('end', this.onInputEnd);
    this.input.on('error', this.onInputError);
    this.input.resume();
  }

  receive(payloadType: number, payload: Buffer): void {
    switch (payloadType) {
      case PayloadType.output:
        this.writeOutput(payload);
        return;
      case PayloadType.flag: {
        const flag = decodeFlag(payload);
        if (flag.ok && flag.value === FlagValue.connectToPortError) {
          this.fail('network', `the agent on ${this.session.target} could not connect to the destination port`);
        }
        return;
      }
      case PayloadType.encChallengeRequest:
        this.fail('protocol', 'the agent asked for KMS encryption, which port sessions do not use');
        return;
      default:
        this.session.log.debug(`ignoring stream message with payload type ${payloadType}`);
    }
  }

  onWritable(): void {
    if (this.reading) this.input.resume();
  }

  stopInput(): void {
    this.reading = false;
    this.input.off('data', this.onInput);
    this.input.off('end', this.onInputEnd);
    this.input.pause();
  }

  /** Resolves once stdout has every byte, or is gone. */
  flushOutput(): Promise<void> {
    if (this.output.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.output.off('close', done);
        resolve();
      };
      this.output.once('close', done);
      void this.writer.idle().then(done);
    });
  }

  dispose(): void {
    this.stopInput();
    this.input.off('error', this.onInputError);
    // The 'error' listener on stdout stays: a late EPIPE must not become an uncaught exception.
  }

  /**
   * Always takes the payload (the writer copies it) and, when stdout is backed up, stops reading
   * from the websocket until it drains. The few messages already on their way land in the writer
   * rather than waiting in the stream as views of websocket buffers.
   */
  private writeOutput(payload: Buffer): void {
    if (this.writer.write(payload) || this.outputBackedUp) return;
    this.outputBackedUp = true;
    this.session.pauseIncoming();
    this.output.once('drain', () => {
      this.outputBackedUp = false;
      this.session.resumeIncoming();
    });
  }

  private readonly onInput = (data: Buffer): void => {
    const { chunkSize } = this;
    let hasRoom = true;
    for (let offset = 0; offset < data.length; offset += chunkSize) {
      hasRoom = this.session.send(PayloadType.output, data.subarray(offset, offset + chunkSize));
    }
    if (!hasRoom && this.reading) this.input.pause(); // resumed by onWritable
  };

  private readonly onInputEnd = (): void => {
    this.stopInput();
    this.session.end({ reason: 'input-ended' });
  };

  private readonly onInputError = (error: Error): void => {
    this.fail('io', `cannot read stdin: ${error.message}`);
  };

  private readonly onOutputError = (error: NodeJS.ErrnoException): void => {
    if (error.code === 'EPIPE' || error.code === 'ERR_STREAM_DESTROYED') this.session.end({ reason: 'output-closed' });
    else this.fail('io', `cannot write to stdout: ${error.code ?? error.message}`);
  };

  private fail(kind: 'network' | 'protocol' | 'io', message: string): void {
    this.session.end({ reason: 'failed', error: new SsmProxyError(kind, message) });
  }
}
