/**
 * One Port session as the client sees it through MGS (§12): the agent's handshake, the reliable
 * streams in both directions, the TCP relay, flags, and MGS's channel_closed / recycle / idle
 * behaviour. State lives per *session*, not per socket: a client that resumes and reconnects
 * continues the same sequence spaces, and unacked messages are resent on the new socket the way the
 * agent does it: the oldest one per tick, once its RTO has expired (§6.4, §11.2).
 *
 * All frames to the client pass `sendStreamOrAck` / `sendControl`, all frames from the client pass
 * `fromClient`: the two choke points where faults are injected and frames are counted.
 */
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
  FlagValue,
  HeaderFlag,
  MessageType,
  messageIdToString,
  PayloadType,
  randomMessageId,
  SessionTypeName,
  STREAM_CHUNK_SIZE,
  type Frame,
} from '../../src/protocol/index.js';
import { seededRandom } from '../helpers/prng.js';
import { readLikeAgent } from './agent-reader.js';
import { corruptDigest, FaultInjector } from './faults.js';
import { IncomingStream, type Delivery } from './incoming-stream.js';
import type { ResolvedFakeSsmOptions } from './options.js';
import { OutgoingStream } from './outgoing-stream.js';
import { PortTarget } from './port-target.js';
import { isPortForwardDocument, PortForwardAgent } from './port-forward-agent.js';
import { countFrame, type FakeSsmRecords, type FlagRecord, type SessionEndReason } from './records.js';
import type { SessionEntry } from './session-store.js';

const IDLE_TIMEOUT_OUTPUT = 'Your session timed out due to inactivity and has been terminated.';
const HANDSHAKE_TIMEOUT_OUTPUT =
  'Handshake timed out. Please ensure that you have the latest version of the session manager plugin.';
/** Stop acking client data while this much is queued towards the destination. */
const MAX_PENDING_TARGET_WRITE = 8 << 20;
/** Stop reading the destination while the socket has this much unsent. */
const MAX_SOCKET_BUFFERED = 8 << 20;

type HandshakeState = 'not-started' | 'awaiting-response' | 'complete';
type TargetState = 'none' | 'dialling' | 'connected' | 'closed';

export class AgentSession {
  private socket: WebSocket | undefined;
  private readonly outgoing: OutgoingStream;
  private readonly incoming: IncomingStream;
  private readonly toClientFaults: FaultInjector;
  private readonly fromClientFaults: FaultInjector;
  private handshake: HandshakeState = 'not-started';
  private handshakeStartedAt = 0;
  private target: PortTarget | undefined;
  private targetState: TargetState = 'none';
  private awaitingTargetDrain = false;
  private ended = false;
  private eligibleFramesSent = 0;
  private bytesOnSocket = 0;
  private handshakeTimer: NodeJS.Timeout | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private lastActivity = 0;
  private publicationTimer: NodeJS.Timeout | undefined;
  /** The port plugin for the LocalPortForwarding documents (port-forward-agent.ts). */
  forward: PortForwardAgent | undefined;
  private readonly flagsSeen = new Map<number, FlagRecord>();
  /** Woken when a client socket is attached (the agent's pause ends, §7). */
  private attachWaiters: (() => void)[] = [];

  constructor(
    private readonly entry: SessionEntry,
    private readonly options: ResolvedFakeSsmOptions,
    private readonly records: FakeSsmRecords,
  ) {
    const seed = options.faults.seed;
    this.toClientFaults = new FaultInjector(() => options.faults.serverToClient, seededRandom(seed), records.serverToClient);
    this.fromClientFaults = new FaultInjector(
      () => options.faults.clientToServer,
      seededRandom(seed ^ 0x5eed),
      records.clientToServer,
    );
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
      ackBeforeProcessing: (frame) => frame.payloadType === PayloadType.handshakeResponse,
      onDuplicate: () => records.clientToServer.duplicatesReacked++,
      onNotReady: () => records.clientToServer.notReady++,
    });
  }

  get isEnded(): boolean {
    return this.ended;
  }

  /** A client socket passed the token check: use it from now on. */
  attach(socket: WebSocket): void {
    if (this.ended) {
      socket.close(1000);
      return;
    }
    const previous = this.socket;
    if (previous && previous.readyState === WebSocket.OPEN) previous.close(1000, 'Bye');
    this.socket = socket;
    this.bytesOnSocket = 0;
    // MGS stops relaying from a socket it has closed or replaced.
    socket.on('message', (data) => {
      if (this.socket === socket) this.fromClient(data as Buffer);
    });
    socket.on('close', () => {
      if (this.socket === socket) this.socket = undefined;
    });
    // On a new socket the agent resends nothing at once: its scheduler sends the oldest unacked
    // message on the next tick whose RTO has expired, then one per tick (docs/protocol.md §6.4).
    if (this.handshake === 'not-started') this.startHandshake();
    this.resetIdleTimer();
    const waiters = this.attachWaiters;
    this.attachWaiters = [];
    for (const wake of waiters) wake();
  }

  /** Ends the session once: record why, close the destination, channel_closed + close 1000. */
  end(reason: SessionEndReason, output: string): void {
    if (this.ended) return;
    this.ended = true;
    this.entry.terminated = true;
    this.records.sessionEnds.push({ sessionId: this.entry.sessionId, reason, output });
    clearTimeout(this.handshakeTimer);
    clearTimeout(this.idleTimer);
    clearInterval(this.publicationTimer);
    this.outgoing.stop();
    this.targetState = 'closed';
    this.target?.destroy();
    this.forward?.dispose();
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

  /** The choke point for stream and ack frames: corruption, drop, duplicate, reorder, counting. */
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

  /** channel_closed and publication messages bypass faults (a lost one would hang the client). */
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
    // After the end only flags are still noted (MGS saw them); see handleClientFrame.
    if (this.ended) return this.handleClientFrame(data);
    this.fromClientFaults.pass(data, (bytes) => this.handleClientFrame(bytes));
  }

  /** Records a Flag message once per sequence number, when it first reaches the service. */
  private noteFlag(frame: Frame): void {
    if (this.flagsSeen.has(frame.sequenceNumber)) return;
    const decoded = decodeFlag(frame.payload);
    const flag = decoded.ok ? decoded.value : -1;
    const record: FlagRecord = {
      sessionId: this.entry.sessionId,
      flag,
      name: flagName(flag),
      sequenceNumber: frame.sequenceNumber,
      afterEnd: this.ended,
      processed: false,
    };
    this.flagsSeen.set(frame.sequenceNumber, record);
    this.records.flags.push(record);
  }

  private handleClientFrame(data: Buffer): void {
    const read = readLikeAgent(data);
    const counters = this.records.clientToServer;
    if (!read.ok) {
      if (!this.ended) {
        if (read.problem === 'would-hang') counters.wouldHangAgent++;
        else counters.invalid++;
      }
      return;
    }
    const frame = read.frame;
    if (!this.ended) {
      if (!read.digestMatches) counters.digestMismatches++;
      if (!read.payloadLengthMatches) counters.payloadLengthMismatches++;
    }
    if (frame.messageType === MessageType.inputStreamData && frame.payloadType === PayloadType.flag) this.noteFlag(frame);
    if (this.ended) return;
    countFrame(this.records.clientToServer, frame.messageType);
    switch (frame.messageType) {
      case MessageType.acknowledge: {
        const ack = decodeAcknowledgement(frame.payload);
        if (ack.ok) this.outgoing.acknowledge(ack.value.acknowledgedSequenceNumber);
        return;
      }
      case MessageType.inputStreamData:
        this.resetIdleTimer();
        this.incoming.receive(frame);
        return;
      default:
        return; // unknown types are logged and ignored upstream (§4.3)
    }
  }

  /** Processes one in-order client stream message; 'not-ready' means: do not ack it. */
  private deliver(frame: Frame): Delivery {
    if (this.ended) return 'delivered';
    if (this.handshake !== 'complete') {
      // Before HandshakeComplete the agent acks and discards everything else (§8.1).
      if (frame.payloadType === PayloadType.handshakeResponse && this.handshake === 'awaiting-response') {
        this.onHandshakeResponse(frame.payload);
      }
      return 'delivered';
    }
    switch (frame.payloadType) {
      case PayloadType.output:
        if (this.forward) return this.countDelivered(frame.payload, this.forward.deliverOutput(frame.payload));
        return this.writeToTarget(frame.payload);
      case PayloadType.flag:
        this.onFlag(frame);
        return 'delivered';
      default:
        return 'delivered';
    }
  }

  private writeToTarget(payload: Buffer): Delivery {
    const target = this.target;
    // Until the destination is connected the agent answers "handler not ready": no ack (§10.2).
    if (this.targetState !== 'connected' || !target) return 'not-ready';
    if (target.pendingWriteBytes > MAX_PENDING_TARGET_WRITE) {
      if (!this.awaitingTargetDrain) {
        this.awaitingTargetDrain = true;
        target.onceDrained(() => {
          this.awaitingTargetDrain = false;
          this.incoming.drain();
        });
      }
      return 'not-ready';
    }
    target.write(payload);
    this.records.clientToServer.streamBytes += payload.length;
    this.countSocketBytes(payload.length);
    return 'delivered';
  }

  private onFlag(frame: Frame): void {
    const decoded = decodeFlag(frame.payload);
    if (!decoded.ok) return;
    const flag = decoded.value;
    const record = this.flagsSeen.get(frame.sequenceNumber);
    if (record) record.processed = true;
    // End after the flag's ack has gone out (deliver returns first, then the stream acks).
    if (flag === FlagValue.terminateSession) setImmediate(() => this.end('terminate-flag', ''));
    // For an SSH-type session closing the destination ends the session (§10.5).
    if (flag === FlagValue.disconnectToPort && this.forward) this.forward.onDisconnectToPort();
    else if (flag === FlagValue.disconnectToPort) setImmediate(() => this.end('disconnect-to-port', ''));
  }

  // ---- handshake (§8) -------------------------------------------------------------------

  private startHandshake(): void {
    this.handshake = 'awaiting-response';
    this.handshakeStartedAt = performance.now();
    const properties: Record<string, string> = { portNumber: String(this.entry.portNumber) };
    if (this.entry.documentName !== 'AWS-StartSSHSession') {
      properties.type = 'LocalPortForwarding';
      properties.localPortNumber = this.entry.parameters.localPortNumber?.[0] ?? '0';
      const host = this.entry.parameters.host?.[0];
      if (host) properties.host = host;
    }
    this.sendStream(
      PayloadType.handshakeRequest,
      encodeHandshakeRequest({
        agentVersion: this.options.agentVersion,
        requestedClientActions: [
          { actionType: 'SessionType', actionParameters: { SessionType: SessionTypeName.port, Properties: properties } },
        ],
      }),
    );
    this.handshakeTimer = setTimeout(() => this.end('handshake-timeout', HANDSHAKE_TIMEOUT_OUTPUT), this.options.handshakeTimeoutMs);
    this.handshakeTimer.unref();
  }

  private onHandshakeResponse(payload: Buffer): void {
    const decoded = decodeHandshakeResponse(payload);
    const sessionId = this.entry.sessionId;
    if (!decoded.ok) {
      this.end('handshake-failed', `Handshake failed: ${decoded.error.message}`);
      return;
    }
    const response = decoded.value;
    this.records.handshakeResponses.push({
      sessionId,
      clientVersion: response.clientVersion,
      actionStatuses: response.processedClientActions.map((action) => action.actionStatus),
      errors: response.errors,
    });
    // The agent fails the session on any action whose status is not Success (§8.3).
    const failed = response.processedClientActions.find((action) => action.actionStatus !== ActionStatus.success);
    if (failed || response.processedClientActions.length === 0) {
      const why = failed ? `${failed.actionType} failed with status ${failed.actionStatus}: ${failed.error}` : 'no actions processed';
      this.end('handshake-failed', `Handshake failed: ${why}`);
      return;
    }
    clearTimeout(this.handshakeTimer);
    if (this.options.neverCompleteHandshake) return;
    this.handshake = 'complete';
    const elapsedNs = Math.round((performance.now() - this.handshakeStartedAt) * 1e6);
    this.sendStream(
      PayloadType.handshakeComplete,
      encodeHandshakeComplete({ handshakeTimeToCompleteNs: elapsedNs, customerMessage: '' }),
    );
    this.startPublicationMessages();
    // The port plugin starts (and dials) after the handshake (§10.2).
    if (isPortForwardDocument(this.entry.documentName)) this.startPortForward(response.clientVersion);
    const dialLater = setTimeout(() => void (this.forward ? this.forward.start() : this.dial()), this.options.dialDelayMs);
    dialLater.unref();
  }

  // ---- destination (§10.2) --------------------------------------------------------------

  private startPortForward(clientVersion: string): void {
    this.forward = new PortForwardAgent({
      entry: this.entry,
      options: this.options,
      clientVersion,
      send: async (payloadType, payload) => {
        await this.capacity();
        if (this.ended) return;
        this.sendStream(payloadType, payload);
        if (payloadType === PayloadType.output) {
          this.records.serverToClient.streamBytes += payload.length;
          this.countSocketBytes(payload.length);
        }
        if (this.options.agentPacing === 'realistic') await sleep(1);
      },
      end: (reason, output) => this.end(reason, output),
      drainIncoming: () => this.incoming.drain(),
    });
  }

  private countDelivered(payload: Buffer, delivery: Delivery): Delivery {
    if (delivery === 'delivered') {
      this.records.clientToServer.streamBytes += payload.length;
      this.countSocketBytes(payload.length);
    }
    return delivery;
  }

  private async dial(): Promise<void> {
    if (this.ended) return;
    this.targetState = 'dialling';
    const host = this.options.targetHost;
    const port = this.options.targetPortOverride ?? this.entry.portNumber;
    try {
      const target = await PortTarget.dial(host, port, {
        onData: (chunk) => this.fromTarget(chunk),
        onEnd: () => void this.onTargetEnd(),
        onError: (error) => this.end('target-error', `Connection to destination port failed: ${error.message}`),
      });
      if (this.ended) {
        target.destroy();
        return;
      }
      this.target = target;
      this.targetState = 'connected';
      this.incoming.drain();
    } catch (error) {
      this.end('dial-failed', `Unable to connect to specified port: ${(error as Error).message}`);
    }
  }

  /** Destination bytes → ≤1024-byte output_stream_data messages, paced and back-pressured. */
  private async fromTarget(chunk: Buffer): Promise<void> {
    for (let offset = 0; offset < chunk.length && !this.ended; offset += STREAM_CHUNK_SIZE) {
      await this.capacity();
      if (this.ended) return;
      const piece = chunk.subarray(offset, offset + STREAM_CHUNK_SIZE);
      this.sendStream(PayloadType.output, piece);
      this.records.serverToClient.streamBytes += piece.length;
      this.countSocketBytes(piece.length);
      if (this.options.agentPacing === 'realistic') await sleep(1);
    }
  }

  /**
   * Waits while too much is unacked or queued on the socket, keeping memory bounded, and while no
   * client socket is attached: MGS pauses the agent while the client is away (pause_publication,
   * docs/protocol.md §7), and a paused agent stops reading its TCP connection.
   */
  private async capacity(): Promise<void> {
    for (;;) {
      if (this.ended) return;
      if (!this.socket) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 50);
          this.attachWaiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
        continue;
      }
      const buffered = this.socket?.bufferedAmount ?? 0;
      if (this.outgoing.unackedCount < this.options.maxUnacked && buffered < MAX_SOCKET_BUFFERED) return;
      await this.outgoing.belowLimit(this.options.maxUnacked);
      if (this.outgoing.unackedCount < this.options.maxUnacked) await sleep(1);
    }
  }

  /** Destination EOF: let outstanding messages be acked (≤ closeDrainMs), then close (§12.14). */
  private async onTargetEnd(): Promise<void> {
    if (this.ended) return;
    this.targetState = 'closed';
    await this.outgoing.drained(this.options.closeDrainMs);
    this.end('target-eof', '');
  }

  // ---- MGS behaviour --------------------------------------------------------------------

  /**
   * MGS recycles sockets (close 1000 "Bye", §3.4); here after N new stream payload bytes (either
   * direction, retransmissions not counted) while a socket is attached, instead of after 60 min.
   * Counting resends would let a reconnect's own catch-up traffic recycle it again: a livelock.
   */
  private countSocketBytes(bytes: number): void {
    const limit = this.options.recycleAfterBytes;
    if (!limit || !this.socket) return;
    this.bytesOnSocket += bytes;
    if (this.bytesOnSocket < limit) return;
    this.bytesOnSocket = 0;
    const socket = this.socket;
    if (!socket) return;
    this.socket = undefined; // stop sending on it now; everything stays buffered for the next one
    setImmediate(() => socket.close(1000, 'Bye'));
  }

  /** Stream messages count as activity (§11.3); one timer re-arms itself instead of one per message. */
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

  private startPublicationMessages(): void {
    const knob = this.options.sendPublicationMessages;
    if (!knob) return;
    const intervalMs = knob === true ? 500 : knob.intervalMs;
    this.publicationTimer = setInterval(() => {
      this.sendControl(MessageType.pausePublication, Buffer.alloc(0));
      this.records.serverToClient.publications++;
      const resume = setTimeout(() => {
        if (this.ended) return;
        this.sendControl(MessageType.startPublication, Buffer.alloc(0));
        this.records.serverToClient.publications++;
      }, Math.min(20, intervalMs / 2));
      resume.unref();
    }, intervalMs);
    this.publicationTimer.unref();
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

function flagName(flag: number): FlagRecord['name'] {
  switch (flag) {
    case FlagValue.terminateSession:
      return 'TerminateSession';
    case FlagValue.disconnectToPort:
      return 'DisconnectToPort';
    case FlagValue.connectToPortError:
      return 'ConnectToPortError';
    default:
      return 'Unknown';
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
