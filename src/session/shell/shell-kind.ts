import type { Readable, Writable } from 'node:stream';
import type { KmsApi } from '../../aws/kms-api.js';
import { SsmProxyError } from '../../errors.js';
import { printable } from '../../printable.js';
import {
  ENCRYPTION_CONTEXT_CHALLENGE,
  ENCRYPTION_CONTEXT_SESSION_ID,
  ENCRYPTION_CONTEXT_TARGET_ID,
  KMS_DATA_KEY_BYTES,
  decodeEncryptionChallenge,
  encodeEncryptionChallenge,
  kmsEncryptionResult,
  readKmsEncryptionRequest,
} from '../../protocol/kms-encryption.js';
import { PayloadType, SessionTypeName, STREAM_CHUNK_SIZE, type RequestedClientAction } from '../../protocol/index.js';
import { encodeTerminalSize, type TerminalSize } from '../../protocol/terminal-size.js';
import { BatchingWriter } from '../batching-writer.js';
import { answerSessionType, refuseAction } from '../handshake.js';
import type { ActionAnswer, HandshakeContext, SessionControl, SessionKind, SessionKindFactory, StreamStart } from '../session-kind.js';
import { KmsCipher } from './kms-cipher.js';
import type { LocalTerminal } from './local-terminal.js';

/** The pty's end-of-file character, sent once when piped stdin ends (docs/protocol.md §14.5). */
const END_OF_INPUT = Buffer.from([0x04]);
/** Session types that run in the agent's pseudo-terminal (docs/protocol.md §14.1). */
const SHELL_SESSION_TYPES = [SessionTypeName.standardStream, SessionTypeName.interactiveCommands, SessionTypeName.nonInteractiveCommands];

export interface ShellKindOptions {
  input: Readable;
  output: Writable;
  /** Where StdErr payloads and the KMS notice go. */
  errorOutput: Writable;
  terminal: LocalTerminal;
  /** Builds the KMS client; called only when the agent asks for encryption (docs/protocol.md §15.1). */
  kms: () => Promise<KmsApi>;
}

export function createShellKind(options: ShellKindOptions): SessionKindFactory {
  return (session) => new ShellKind(session, options);
}

/**
 * An interactive shell (docs/protocol.md §14): keystrokes → Output messages, Output → stdout,
 * the terminal size → Size messages at start and on every resize, and KMS encryption when the
 * agent asks for it (docs/protocol.md §15). The engine does the rest; the kind never ends a session that the
 * remote shell is still running: a shell ends when the agent closes the channel.
 */
class ShellKind implements SessionKind {
  readonly name = 'shell';
  readonly handshake = 'optional' as const;
  private cipher: KmsCipher | undefined;
  private readonly stdout: BatchingWriter;
  private reading = false;
  private outputBackedUp = false;
  private remoteExitCode: number | undefined;
  private stopResize: (() => void) | undefined;
  private disposed = false;

  constructor(
    private readonly session: SessionControl,
    private readonly options: ShellKindOptions,
  ) {
    this.stdout = new BatchingWriter(options.output);
  }

  answerAction(action: RequestedClientAction, context: HandshakeContext): ActionAnswer | Promise<ActionAnswer> {
    if (action.actionType === 'SessionType') {
      return answerSessionType(
        action,
        SHELL_SESSION_TYPES,
        (name) =>
          `the session document starts a ${name} session, not a shell; use a shell document such as SSM-SessionManagerRunShell (for AWS-StartSSHSession use ssm-proxy connect)`,
      );
    }
    if (action.actionType === 'KMSEncryption') return this.startEncryption(action, context.signal);
    return refuseAction(action, this.name);
  }

  start(stream: StreamStart): void {
    if (stream.customerMessage) this.options.errorOutput.write(`${printable(stream.customerMessage.trim())}\r\n`);
    const { terminal, input, output } = this.options;
    output.on('error', this.onOutputError);
    terminal.enterRawMode();
    this.sendSize(terminal.size());
    this.stopResize = terminal.onResize((size) => this.sendSize(size));
    this.reading = true;
    input.on('data', this.onInput);
    input.once('end', this.onInputEnd);
    input.on('error', this.onInputError);
    input.resume();
  }

  receive(payloadType: number, payload: Buffer): void {
    switch (payloadType) {
      case PayloadType.output:
        this.writeOutput(this.open(payload));
        return;
      case PayloadType.stdErr: {
        const text = this.open(payload);
        // A copy: without KMS the payload is a view into the websocket's read buffer.
        if (text) this.options.errorOutput.write(this.cipher ? text : Buffer.from(text));
        return;
      }
      case PayloadType.exitCode: {
        // NonInteractiveCommands report "EXIT_CODE: n" (docs/protocol.md §14.1).
        const match = /(-?\d+)\s*$/.exec(this.open(payload)?.toString('utf8') ?? '');
        if (match) this.remoteExitCode = Number(match[1]) & 0xff;
        return;
      }
      case PayloadType.encChallengeRequest:
        this.answerChallenge(payload);
        return;
      default:
        // Flags and types a shell does not use: the agent's shell plugin ignores them too (docs/protocol.md §14.3).
        this.session.log.debug(`shell: ignoring a message with payload type ${payloadType}`);
    }
  }

  onWritable(): void {
    if (this.reading) this.options.input.resume();
  }

  stopInput(): void {
    if (!this.reading) return;
    this.reading = false;
    const { input } = this.options;
    input.off('data', this.onInput);
    input.off('end', this.onInputEnd);
    input.pause();
    this.stopResize?.();
    this.stopResize = undefined;
  }

  flushOutput(): Promise<void> {
    const { output } = this.options;
    if (!output.destroyed) this.stdout.flush();
    return new Promise((resolve) => {
      const check = () => {
        if (output.writableLength === 0 || output.destroyed || this.disposed) resolve();
        else this.session.scheduler.setTimeout(check, 10);
      };
      check();
    });
  }

  exitCode(): number | undefined {
    return this.remoteExitCode;
  }

  dispose(): void {
    this.disposed = true;
    this.stopInput();
    this.options.input.off('error', this.onInputError);
    this.options.output.off('error', this.onOutputError);
    this.options.terminal.restore();
    this.cipher?.wipe();
  }

  // ---- KMS (docs/protocol.md §15) ------------------------------------------------------------------------

  private async startEncryption(action: RequestedClientAction, signal: AbortSignal): Promise<ActionAnswer> {
    const request = readKmsEncryptionRequest(action.actionParameters);
    if (!request.ok) {
      return { status: 'failed', error: request.error.message, refusal: `the agent's KMS encryption request is malformed: ${request.error.message}` };
    }
    const { kmsKeyId, challenge } = request.value;
    const encryptionContext: Record<string, string> = {
      [ENCRYPTION_CONTEXT_SESSION_ID]: this.session.sessionId,
      [ENCRYPTION_CONTEXT_TARGET_ID]: this.session.target,
    };
    if (challenge) encryptionContext[ENCRYPTION_CONTEXT_CHALLENGE] = challenge;
    this.session.log.info(`the agent asks for KMS encryption with key ${kmsKeyId}`);
    const kms = await this.options.kms();
    const dataKey = await kms.generateDataKey({ keyId: kmsKeyId, numberOfBytes: KMS_DATA_KEY_BYTES, encryptionContext });
    if (signal.aborted) {
      dataKey.plaintext.fill(0);
      throw new SsmProxyError('session-ended', 'the session ended while KMS generated its data key');
    }
    this.cipher = new KmsCipher(dataKey.plaintext);
    dataKey.plaintext.fill(0);
    return {
      status: 'success',
      result: kmsEncryptionResult({ cipherTextKey: Buffer.from(dataKey.cipherTextBlob), challengeAcknowledgement: challenge !== '' }),
    };
  }

  /** Decrypt the agent's challenge with our half, re-encrypt it with the other (docs/protocol.md §15.2). */
  private answerChallenge(payload: Buffer): void {
    const challenge = decodeEncryptionChallenge(payload);
    const plain = challenge.ok && this.cipher ? this.cipher.decrypt(challenge.value) : undefined;
    if (!plain) {
      const why = !this.cipher ? 'no KMS encryption was agreed' : challenge.ok ? 'it does not decrypt with the data key' : challenge.error.message;
      this.session.end({ reason: 'failed', error: new SsmProxyError('protocol', `cannot answer the agent's encryption challenge: ${why}`) });
      return;
    }
    this.session.send(PayloadType.encChallengeResponse, encodeEncryptionChallenge(this.cipher!.encrypt(plain)));
  }

  /** The plaintext of an encrypted payload (Output, StdErr, ExitCode), or the payload itself. */
  private open(payload: Buffer): Buffer | undefined {
    if (!this.cipher) return payload;
    const plain = this.cipher.decrypt(payload);
    if (!plain) {
      this.session.end({
        reason: 'failed',
        error: new SsmProxyError('protocol', 'a message from the agent did not decrypt with the session\'s KMS data key'),
      });
    }
    return plain;
  }

  // ---- local side -----------------------------------------------------------------------

  private sendSize(size: TerminalSize): void {
    this.session.send(PayloadType.size, encodeTerminalSize(size));
  }

  private readonly onInput = (data: Buffer): void => {
    let hasRoom = true;
    for (let offset = 0; offset < data.length; offset += STREAM_CHUNK_SIZE) {
      hasRoom = this.sendInput(data.subarray(offset, offset + STREAM_CHUNK_SIZE));
    }
    if (!hasRoom) this.options.input.pause(); // resumed by onWritable
  };

  private sendInput(chunk: Buffer): boolean {
    return this.session.send(PayloadType.output, this.cipher ? this.cipher.encrypt(chunk) : chunk);
  }

  /**
   * Piped stdin ended: one Ctrl-D, so a shell that has run the piped commands exits as it would
   * reading a file; the session then ends when the agent closes the channel (docs/protocol.md §14.5).
   */
  private readonly onInputEnd = (): void => {
    if (!this.reading) return;
    this.session.log.info('stdin ended; sending end-of-file to the remote shell and waiting for it to exit');
    this.sendInput(END_OF_INPUT);
    this.stopInput();
  };

  private readonly onInputError = (error: Error): void => {
    this.session.end({ reason: 'failed', error: new SsmProxyError('io', `cannot read stdin: ${error.message}`) });
  };

  private readonly onOutputError = (error: NodeJS.ErrnoException): void => {
    if (error.code === 'EPIPE' || error.code === 'ERR_STREAM_DESTROYED') this.session.end({ reason: 'output-closed' });
    else this.session.end({ reason: 'failed', error: new SsmProxyError('io', `cannot write to stdout: ${error.code ?? error.message}`) });
  };

  /** Takes every payload (the writer copies it); a backed-up stdout pauses the websocket. */
  private writeOutput(data: Buffer | undefined): void {
    if (!data || data.length === 0) return;
    if (this.stdout.write(data) || this.outputBackedUp) return;
    this.outputBackedUp = true;
    this.session.pauseIncoming();
    this.options.output.once('drain', () => {
      this.outputBackedUp = false;
      this.session.resumeIncoming();
    });
  }
}
