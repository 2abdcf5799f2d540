/**
 * One shell session (Standard_Stream / InteractiveCommands, docs/protocol.md §14) as the client
 * sees it through MGS: the agent's shell plugin with a real shell in a pseudo-terminal, KMS
 * encryption when the session preferences name a key (§15), and the same MGS behaviour as the
 * Port agent (socket hand-over on resume, recycle, idle timeout, faults, channel_closed).
 * Public surface as AgentSession: `attach`, `end`, `isEnded`.
 */
import { randomBytes } from 'node:crypto';
import { WebSocket } from 'ws';
import {
  ActionStatus,
  decodeAcknowledgement,
  decodeFlag,
  decodeHandshakeResponse,
  encodeAcknowledgeFrame,
  encodeChannelClosed,
  encodeFrame,
  encodeHandshakeComplete,
  encodeHandshakeRequest,
  HeaderFlag,
  MessageType,
  messageIdToString,
  PayloadType,
  randomMessageId,
  SessionTypeName,
  STREAM_CHUNK_SIZE,
  type Frame,
} from '../../src/protocol/index.js';
import {
  decodeEncryptionChallenge,
  encodeEncryptionChallenge,
  ENCRYPTION_CONTEXT_CHALLENGE,
  ENCRYPTION_CONTEXT_SESSION_ID,
  ENCRYPTION_CONTEXT_TARGET_ID,
  kmsEncryptionParameters,
  readKmsEncryptionResult,
} from '../../src/protocol/kms-encryption.js';
import { decodeTerminalSize } from '../../src/protocol/terminal-size.js';
import { seededRandom } from '../helpers/prng.js';
import { KmsFailure } from '../fake-kms/index.js';
import { readLikeAgent } from './agent-reader.js';
import { corruptDigest, FaultInjector } from './faults.js';
import { IncomingStream, type Delivery } from './incoming-stream.js';
import type { ResolvedFakeSsmOptions } from './options.js';
import { OutgoingStream } from './outgoing-stream.js';
import { countFrame, type FakeSsmRecords, type SessionEndReason } from './records.js';
import type { SessionEntry } from './session-store.js';
import { AgentCipher } from './shell-agent-cipher.js';
import type { ShellAgentOptions, ShellSessionRecord } from './shell-options.js';
import { ShellPty } from './shell-pty.js';

const IDLE_TIMEOUT_OUTPUT = 'Your session timed out due to inactivity and has been terminated.';
const HANDSHAKE_TIMEOUT_OUTPUT =
  'Handshake timed out. Please ensure that you have the latest version of the session manager plugin.';
const CHALLENGE_TIMEOUT_OUTPUT = 'Timed out waiting for encryption challenge.';
const KMS_CUSTOMER_MESSAGE = 'This session is encrypted using AWS KMS.';
/** Documents whose agent plugin is the shell (§14.1); the rest of the fake speaks Port. */
const SHELL_DOCUMENT_TYPES: Record<string, string> = {
  'SSM-SessionManagerRunShell': SessionTypeName.standardStream,
  'SSM-TestInteractiveCommands': SessionTypeName.interactiveCommands,
};

export function isShellDocument(documentName: string): boolean {
  return documentName in SHELL_DOCUMENT_TYPES;
}

type HandshakeState = 'awaiting-response' | 'awaiting-challenge' | 'complete' | 'skipped';

export class ShellAgentSession {
  private socket: WebSocket | undefined;
  private readonly outgoing: OutgoingStream;
  private readonly incoming: IncomingStream;
  private readonly toClientFaults: FaultInjector;
  private readonly fromClientFaults: FaultInjector;
  private readonly shell: ShellAgentOptions;
  private readonly record: ShellSessionRecord;
  private handshake: HandshakeState = 'skipped';
  private handshakeStartedAt = 0;
  private handshakeTimer: NodeJS.Timeout | undefined;
  private challenge: Buffer | undefined;
  private randomChallenge = '';
  private cipher: AgentCipher | undefined;
  private pty: ShellPty | undefined;
  private outputStarts: Promise<void> | undefined;
  private utf8Carry = Buffer.alloc(0);
  private ended = false;
  private started = false;
  private eligibleFramesSent = 0;
  private bytesOnSocket = 0;
  private idleTimer: NodeJS.Timeout | undefined;
  private lastActivity = 0;

  constructor(
    private readonly entry: SessionEntry,
    private readonly options: ResolvedFakeSsmOptions,
    private readonly records: FakeSsmRecords,
  ) {
    this.shell = options.shell ?? {};
    this.record = {
      sessionId: entry.sessionId,
      documentName: entry.documentName,
      sizes: [],
      inputMessages: 0,
      inputDecrypted: 0,
      inputDecryptFailures: 0,
      outputMessages: 0,
      outputEncrypted: 0,
      inputBytes: 0,
    };
    records.shellSessions.push(this.record);
    const seed = options.faults.seed;
    this.toClientFaults = new FaultInjector(() => options.faults.serverToClient, seededRandom(seed), records.serverToClient);
    this.fromClientFaults = new FaultInjector(() => options.faults.clientToServer, seededRandom(seed ^ 0x5eed), records.clientToServer);
    this.outgoing = new OutgoingStream({
      transmit: (frame, retransmit) => {
        if (retransmit) records.serverToClient.retransmitted++;
        this.sendStreamOrAck(frame, MessageType.outputStreamData);
      },
      canSend: () => this.socket?.readyState === WebSocket.OPEN,
      resendIntervalMs: options.resendIntervalMs,
      resendAllExpired: () => options.resendAllExpired,
    });
    this.incoming = new IncomingStream({
      ack: (frame) => this.ack(frame),
      deliver: (frame) => this.deliver(frame),
      ackBeforeProcessing: (frame) =>
        frame.payloadType === PayloadType.handshakeResponse || frame.payloadType === PayloadType.encChallengeResponse,
      onDuplicate: () => records.clientToServer.duplicatesReacked++,
      onNotReady: () => records.clientToServer.notReady++,
    });
  }

  get isEnded(): boolean {
    return this.ended;
  }

  attach(socket: WebSocket): void {
    if (this.ended) {
      socket.close(1000);
      return;
    }
    const previous = this.socket;
    if (previous && previous.readyState === WebSocket.OPEN) previous.close(1000, 'Bye');
    this.socket = socket;
    this.bytesOnSocket = 0;
    socket.on('message', (data) => {
      if (this.socket === socket) this.fromClient(data as Buffer);
    });
    socket.on('close', () => {
      if (this.socket === socket) this.socket = undefined;
    });
    if (!this.started) {
      this.started = true;
      // The shell plugin handshakes only for KMS (§14.2); otherwise the shell starts at once.
      if (this.shell.kmsKeyId) this.startHandshake(this.shell.kmsKeyId);
      else this.startShell();
    }
    // On a new socket the agent resends nothing at once: its resend scheduler picks up the
    // oldest unacked message on its next tick (docs/protocol.md §6.4).
    this.resetIdleTimer();
  }

  end(reason: SessionEndReason, output: string): void {
    if (this.ended) return;
    this.ended = true;
    this.entry.terminated = true;
    this.records.sessionEnds.push({ sessionId: this.entry.sessionId, reason, output });
    clearTimeout(this.handshakeTimer);
    clearTimeout(this.idleTimer);
    this.outgoing.stop();
    this.pty?.kill();
    const socket = this.socket;
    if (socket?.readyState === WebSocket.OPEN) {
      if (reason === 'server-closed') {
        socket.terminate();
      } else {
        this.sendControl(MessageType.channelClosed, this.channelClosedPayload(output));
        socket.close(1000);
      }
    }
    this.toClientFaults.dispose();
    this.fromClientFaults.dispose();
  }

  // ---- frames to the client -------------------------------------------------------------

  private sendStreamOrAck(frame: Buffer, messageType: string): void {
    const socket = this.socket;
    if (!socket || socket.readyState !== WebSocket.OPEN) return;
    let wire = frame;
    const every = this.options.faults.corruptDigestEvery;
    if (every && ++this.eligibleFramesSent % every === 0) {
      wire = corruptDigest(frame);
      this.records.serverToClient.corrupted++;
    }
    this.toClientFaults.pass(wire, (bytes) => this.write(socket, bytes, messageType));
  }

  private sendControl(messageType: string, payload: Buffer): void {
    const socket = this.socket;
    if (!socket || socket.readyState !== WebSocket.OPEN) return;
    this.toClientFaults.flush();
    const frame = encodeFrame({
      messageType,
      sequenceNumber: 0,
      flags: HeaderFlag.synFin,
      messageId: randomMessageId(),
      payloadType: PayloadType.none,
      payload,
    });
    this.write(socket, frame, messageType);
  }

  private write(socket: WebSocket, frame: Buffer, messageType: string): void {
    if (socket.readyState !== WebSocket.OPEN) return;
    socket.send(frame, { binary: true });
    countFrame(this.records.serverToClient, messageType);
  }

  private ack(frame: Frame): void {
    this.sendStreamOrAck(encodeAcknowledgeFrame(frame), MessageType.acknowledge);
  }

  private sendStream(payloadType: number, payload: Buffer): void {
    this.outgoing.send(payloadType, payload);
    this.resetIdleTimer();
  }

  // ---- frames from the client -----------------------------------------------------------

  private fromClient(data: Buffer): void {
    if (this.ended) return;
    this.fromClientFaults.pass(data, (bytes) => this.handleClientFrame(bytes));
  }

  private handleClientFrame(data: Buffer): void {
    if (this.ended) return;
    const read = readLikeAgent(data);
    const counters = this.records.clientToServer;
    if (!read.ok) {
      if (read.problem === 'would-hang') counters.wouldHangAgent++;
      else counters.invalid++;
      return;
    }
    const frame = read.frame;
    if (!read.digestMatches) counters.digestMismatches++;
    if (!read.payloadLengthMatches) counters.payloadLengthMismatches++;
    countFrame(this.records.clientToServer, frame.messageType);
    if (frame.messageType === MessageType.acknowledge) {
      const ack = decodeAcknowledgement(frame.payload);
      if (ack.ok) this.outgoing.acknowledge(ack.value.acknowledgedSequenceNumber);
    } else if (frame.messageType === MessageType.inputStreamData) {
      this.resetIdleTimer();
      this.incoming.receive(frame);
    }
  }

  private deliver(frame: Frame): Delivery {
    if (this.ended) return 'delivered';
    if (frame.payloadType === PayloadType.handshakeResponse) {
      if (this.handshake === 'awaiting-response') this.onHandshakeResponse(frame.payload);
      return 'delivered';
    }
    if (frame.payloadType === PayloadType.encChallengeResponse) {
      if (this.handshake === 'awaiting-challenge') this.onChallengeResponse(frame.payload);
      return 'delivered';
    }
    // While the handshake runs the agent acks and discards everything else (§8.1, §14.2).
    if (this.handshake !== 'complete' && this.handshake !== 'skipped') return 'delivered';
    switch (frame.payloadType) {
      case PayloadType.output:
        return this.onInput(frame.payload);
      case PayloadType.size: {
        if (!this.pty) return 'not-ready';
        const size = decodeTerminalSize(frame.payload);
        if (size.ok) {
          this.record.sizes.push(size.value);
          this.pty.resize(size.value.cols, size.value.rows);
        }
        return 'delivered';
      }
      case PayloadType.flag: {
        // The shell plugin ignores flags, TerminateSession included (§14.3); recorded only.
        const flag = decodeFlag(frame.payload);
        if (flag.ok) {
          const name = flag.value === 2 ? 'TerminateSession' : flag.value === 1 ? 'DisconnectToPort' : 'Unknown';
          this.records.flags.push({ sessionId: this.entry.sessionId, flag: flag.value, name, sequenceNumber: frame.sequenceNumber, afterEnd: false, processed: false });
        }
        return 'delivered';
      }
      default:
        return 'delivered';
    }
  }

  private onInput(payload: Buffer): Delivery {
    // Until the pty exists the shell plugin answers "not ready": no ack, the client resends.
    if (!this.pty) return 'not-ready';
    this.record.inputMessages++;
    let plain = payload;
    if (this.cipher) {
      const opened = this.cipher.decrypt(payload);
      if (!opened) {
        this.record.inputDecryptFailures++;
        setImmediate(() => this.end('decrypt-failed', 'Error decrypting stream data message'));
        return 'delivered';
      }
      this.record.inputDecrypted++;
      plain = opened;
    }
    this.record.inputBytes += plain.length;
    this.records.clientToServer.streamBytes += plain.length;
    this.countSocketBytes(plain.length);
    this.pty.write(plain);
    return 'delivered';
  }

  // ---- handshake with KMS (§15.2) -------------------------------------------------------

  private startHandshake(kmsKeyId: string): void {
    this.handshake = 'awaiting-response';
    this.handshakeStartedAt = performance.now();
    this.randomChallenge = randomBytes(16).toString('base64');
    this.sendStream(
      PayloadType.handshakeRequest,
      encodeHandshakeRequest({
        agentVersion: this.options.agentVersion,
        requestedClientActions: [
          { actionType: 'SessionType', actionParameters: { SessionType: this.sessionType(), Properties: null } },
          { actionType: 'KMSEncryption', actionParameters: kmsEncryptionParameters({ kmsKeyId, challenge: this.randomChallenge }) },
        ],
      }),
    );
    this.armHandshakeTimer(HANDSHAKE_TIMEOUT_OUTPUT);
  }

  private onHandshakeResponse(payload: Buffer): void {
    clearTimeout(this.handshakeTimer);
    const decoded = decodeHandshakeResponse(payload);
    if (!decoded.ok) return this.end('handshake-failed', `Handshake failed: ${decoded.error.message}`);
    const response = decoded.value;
    this.records.handshakeResponses.push({
      sessionId: this.entry.sessionId,
      clientVersion: response.clientVersion,
      actionStatuses: response.processedClientActions.map((action) => action.actionStatus),
      errors: response.errors,
    });
    const failed = response.processedClientActions.find((action) => action.actionStatus !== ActionStatus.success);
    if (failed) {
      return this.end('handshake-failed', `Encountered error while initiating handshake. ${failed.actionType} failed on client with status ${failed.actionStatus} error: ${failed.error}`);
    }
    const kmsAction = response.processedClientActions.find((action) => action.actionType === 'KMSEncryption');
    const result = readKmsEncryptionResult(kmsAction?.actionResult);
    if (!result.ok) return this.end('handshake-failed', `Encountered error while initiating handshake. ${result.error.message}`);
    const { cipherTextKey, challengeAcknowledgement } = result.value;
    if (this.shell.requireChallengeResponse && !challengeAcknowledgement) {
      return this.end('handshake-failed', 'Encountered error while initiating handshake. client does not support required encryption context random challenge');
    }
    const keyId = this.shell.kmsKeyId!;
    this.record.kms = { keyId, challengeAcknowledged: challengeAcknowledgement, challengeVerified: false };
    const context: Record<string, string> = {
      [ENCRYPTION_CONTEXT_SESSION_ID]: this.entry.sessionId,
      [ENCRYPTION_CONTEXT_TARGET_ID]: this.shell.instanceId ?? this.entry.target,
    };
    if (challengeAcknowledgement) context[ENCRYPTION_CONTEXT_CHALLENGE] = this.randomChallenge;
    let dataKey: Buffer;
    try {
      if (!this.shell.kms) throw new KmsFailure('InternalError', 'the fake agent has no KMS');
      dataKey = this.shell.kms.decrypt(cipherTextKey, context, keyId);
    } catch (error) {
      const failure = error as KmsFailure;
      return this.end(
        'handshake-failed',
        `Encountered error while initiating handshake. Fetching data key failed: Unable to retrieve data key, Error when decrypting data key ${failure.type}: ${failure.message}`,
      );
    }
    this.cipher = new AgentCipher(dataKey);
    this.challenge = randomBytes(64);
    this.handshake = 'awaiting-challenge';
    this.sendStream(PayloadType.encChallengeRequest, encodeEncryptionChallenge(this.cipher.encrypt(this.challenge)));
    this.armHandshakeTimer(CHALLENGE_TIMEOUT_OUTPUT);
  }

  private onChallengeResponse(payload: Buffer): void {
    clearTimeout(this.handshakeTimer);
    const decoded = decodeEncryptionChallenge(payload);
    const answer = decoded.ok ? this.cipher!.decrypt(decoded.value) : undefined;
    if (!answer || !answer.equals(this.challenge!)) {
      return this.end('handshake-failed', 'Encountered error while initiating handshake. Encryption challenge does not match!');
    }
    this.record.kms!.challengeVerified = true;
    this.handshake = 'complete';
    const elapsedNs = Math.round((performance.now() - this.handshakeStartedAt) * 1e6);
    this.sendStream(PayloadType.handshakeComplete, encodeHandshakeComplete({ handshakeTimeToCompleteNs: elapsedNs, customerMessage: KMS_CUSTOMER_MESSAGE }));
    this.startShell();
  }

  private armHandshakeTimer(output: string): void {
    this.handshakeTimer = setTimeout(() => this.end('handshake-timeout', output), this.options.handshakeTimeoutMs);
    this.handshakeTimer.unref();
  }

  private sessionType(): string {
    return SHELL_DOCUMENT_TYPES[this.entry.documentName] ?? SessionTypeName.standardStream;
  }

  // ---- the shell (§14.3) ----------------------------------------------------------------

  private startShell(): void {
    if (this.ended) return;
    const command = this.shell.command ?? ['sh'];
    const base = this.shell.env ?? { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/' };
    const env: Record<string, string> = { ...base, TERM: 'xterm-256color' };
    if (!env.LANG) env.LANG = 'C.UTF-8';
    const delayMs = this.shell.outputStartDelayMs ?? 1000;
    this.outputStarts = new Promise((resolve) => setTimeout(resolve, delayMs).unref());
    this.pty = new ShellPty(command, { env, cwd: this.shell.cwd }, {
      onData: (chunk) => this.fromShell(chunk),
      onExit: (code) => void this.onShellExit(code),
    });
    this.record.ptyPid = this.pty.pid;
    this.incoming.drain();
  }

  /** pty output → Output messages of ≤1024 bytes (+ an incomplete UTF-8 tail carried over). */
  private async fromShell(chunk: Buffer): Promise<void> {
    await this.outputStarts;
    for (let offset = 0; offset < chunk.length && !this.ended; offset += STREAM_CHUNK_SIZE) {
      const read = chunk.subarray(offset, offset + STREAM_CHUNK_SIZE);
      const joined = this.utf8Carry.length ? Buffer.concat([this.utf8Carry, read]) : read;
      const keep = incompleteUtf8Tail(joined);
      this.utf8Carry = Buffer.from(joined.subarray(joined.length - keep));
      const piece = joined.subarray(0, joined.length - keep);
      if (piece.length === 0) continue;
      await this.capacity();
      if (this.ended) return;
      this.record.outputMessages++;
      if (this.cipher) this.record.outputEncrypted++;
      this.sendStream(PayloadType.output, this.cipher ? this.cipher.encrypt(piece) : Buffer.from(piece));
      this.records.serverToClient.streamBytes += piece.length;
      this.countSocketBytes(piece.length);
      if ((this.shell.pacing ?? 'realistic') === 'realistic') await sleep(1);
    }
  }

  /**
   * Waits while too much is unacked, or while no client is attached: the agent's write pump does
   * not read the pty while MGS has paused it for an absent client (IsActive, docs/protocol.md §7).
   */
  private async capacity(): Promise<void> {
    while (!this.ended) {
      if (!this.socket) {
        await sleep(20);
        continue;
      }
      if (this.outgoing.unackedCount < this.options.maxUnacked) return;
      await this.outgoing.belowLimit(this.options.maxUnacked);
    }
  }

  /** The shell exited: drain (≤ closeDrainMs), then channel_closed with no Output (§14.3). */
  private async onShellExit(code: number | null): Promise<void> {
    if (this.ended) return;
    if (code !== null) this.record.shellExitCode = code;
    await this.outgoing.drained(this.options.closeDrainMs);
    this.end('shell-exit', '');
  }

  // ---- MGS behaviour --------------------------------------------------------------------

  private countSocketBytes(bytes: number): void {
    const limit = this.options.recycleAfterBytes;
    if (!limit || !this.socket) return;
    this.bytesOnSocket += bytes;
    if (this.bytesOnSocket < limit) return;
    this.bytesOnSocket = 0;
    const socket = this.socket;
    this.socket = undefined;
    setImmediate(() => socket.close(1000, 'Bye'));
  }

  private resetIdleTimer(): void {
    this.lastActivity = performance.now();
    if (!this.idleTimer && !this.ended) this.armIdleTimer(this.options.idleTimeoutMs);
  }

  private armIdleTimer(delayMs: number): void {
    this.idleTimer = setTimeout(() => {
      this.idleTimer = undefined;
      const idleFor = performance.now() - this.lastActivity;
      if (idleFor >= this.options.idleTimeoutMs) this.end('idle-timeout', IDLE_TIMEOUT_OUTPUT);
      else this.armIdleTimer(this.options.idleTimeoutMs - idleFor);
    }, delayMs);
    this.idleTimer.unref();
  }

  private channelClosedPayload(output: string): Buffer {
    return encodeChannelClosed({
      messageId: messageIdToString(randomMessageId()),
      createdDate: new Date().toISOString(),
      destinationId: this.entry.target,
      sessionId: this.entry.sessionId,
      output,
    });
  }
}

/** How many trailing bytes start a UTF-8 sequence that is not complete yet (0–3). */
export function incompleteUtf8Tail(bytes: Buffer): number {
  for (let back = 1; back <= Math.min(3, bytes.length); back++) {
    const byte = bytes[bytes.length - back]!;
    if ((byte & 0xc0) === 0x80) continue; // continuation byte: look further back
    const needed = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return needed > back ? back : 0;
  }
  return 0;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
