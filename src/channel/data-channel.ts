import {
  decodeAcknowledgement,
  decodeFrame,
  encodeAcknowledgeFrame,
  encodedFrameLength,
  encodeFrame,
  HeaderFlag,
  MessageType,
  randomMessageId,
  STREAM_CHUNK_SIZE,
  type Frame,
  type ProtocolError,
} from '../protocol/index.js';
import { FramePool, type OutgoingFrame } from './frame-pool.js';
import { RoundTripEstimator } from './round-trip-estimator.js';
import { SequenceRing } from './sequence-ring.js';
import type { Cancel, Scheduler } from '../scheduler.js';

/** Where frames go: the live websocket, or nothing while there is none. */
export interface FrameSink {
  /**
   * Sends one frame. The buffer stays the channel's: it is reused once the peer has acknowledged
   * the frame, so a sink that keeps it past the call must copy it. (ws copies every frame it
   * sends as a client, to mask it.)
   */
  sendFrame(frame: Buffer): void;
  /**
   * Stop / restart reading from the peer (TCP back-pressure on the websocket). The agent has no
   * window and resends only its oldest unacknowledged message per tick (§6.4), so refusing to ack
   * costs ~10 messages/s of recovery; not reading lets TCP and MGS hold the surplus instead.
   */
  pauseIncoming?(): void;
  resumeIncoming?(): void;
}

export interface DataChannelHandler {
  /**
   * One in-order stream message from the peer. The message is always consumed; return false
   * when no more can be taken for now, and call `resumeDelivery()` once ready again.
   */
  onStreamMessage(frame: Frame): boolean;
  /** channel_closed, publication messages and message types we do not know. */
  onControlMessage(frame: Frame): void;
  /** The in-flight window had been full and has room again. */
  onWritable(): void;
  /** A frame was dropped (bad digest, short, ...). The peer will retransmit stream messages. */
  onProtocolError(error: ProtocolError): void;
  /** Nothing was acknowledged for `stallTimeoutMs` while connected and data was waiting. */
  onStalled(): void;
}

export interface DataChannelOptions {
  /** `input_stream_data` for a client, `output_stream_data` for an agent. */
  outgoingMessageType: string;
  incomingMessageType: string;
  scheduler: Scheduler;
  handler: DataChannelHandler;
  /** Unacknowledged messages allowed in flight before `write()` reports the window full. */
  windowMessages?: number;
  /** Acknowledged but undelivered bytes above which reading from the peer pauses. */
  receiveHighWaterBytes?: number;
  /** Hard cap on acknowledged but undelivered bytes; a message beyond it is left unacknowledged. */
  receiveBufferBytes?: number;
  resendTickMs?: number;
  maxRetransmissionTimeoutMs?: number;
  stallTimeoutMs?: number;
}

/** Counters for the -v summary and the benchmark. */
export interface DataChannelStats {
  messagesSent: number;
  payloadBytesSent: number;
  messagesReceived: number;
  payloadBytesReceived: number;
  retransmissions: number;
  duplicatesReceived: number;
  framesDropped: number;
}

/**
 * The reliable, ordered stream of one direction pair on top of data-channel frames (§5, §6).
 *
 * - Outgoing: every stream message gets the next sequence number and stays buffered until the
 *   peer acknowledges that sequence number (selective acks). It is buffered *before* sending, so a
 *   dead socket loses nothing (pitfall 9). Expired messages are all resent on each tick, with
 *   per-message exponential backoff; Karn's rule keeps resent messages out of the RTT estimate.
 * - Incoming: messages are acked once delivered or stored; out-of-order ones wait in a buffer;
 *   duplicates are re-acked (pitfall 7). A slow consumer pauses reading from the peer (TCP
 *   back-pressure through the sink) rather than refusing acks; only past a hard cap is a message
 *   left unacknowledged for the peer to resend.
 * - Sequence numbers and buffers outlive sockets: `attach()` a new sink after a reconnect and
 *   everything unacknowledged is sent again (pitfall 8).
 */
export class DataChannel {
  private readonly options: Required<Omit<DataChannelOptions, 'handler' | 'scheduler'>>;
  private readonly scheduler: Scheduler;
  private readonly handler: DataChannelHandler;
  private readonly roundTrip: RoundTripEstimator;

  private sink: FrameSink | undefined;
  private nextSequence = 0;
  private readonly unacked = new SequenceRing<OutgoingFrame>();
  private readonly acknowledgeBuffer = Buffer.allocUnsafeSlow(512);
  /** Buffers for full-size stream frames, the bulk of an upload. */
  private readonly framePool = new FramePool(encodedFrameLength(STREAM_CHUNK_SIZE));
  private windowWasFull = false;

  private expectedSequence = 0;
  private readonly received = new Map<number, Frame>();
  private receivedBytes = 0;
  private deliveryPaused = false;
  private incomingPaused = false;
  private readingHeld = false;

  readonly stats: DataChannelStats = {
    messagesSent: 0,
    payloadBytesSent: 0,
    messagesReceived: 0,
    payloadBytesReceived: 0,
    retransmissions: 0,
    duplicatesReceived: 0,
    framesDropped: 0,
  };

  private lastProgressAt: number;
  private stopTicking: Cancel | undefined;
  private closed = false;

  constructor(options: DataChannelOptions) {
    this.scheduler = options.scheduler;
    this.handler = options.handler;
    this.options = {
      outgoingMessageType: options.outgoingMessageType,
      incomingMessageType: options.incomingMessageType,
      windowMessages: options.windowMessages ?? 1024,
      // Pause at once: the handler keeps its own buffer, and messages held here are views into
      // websocket read buffers, which would outlive young-generation collections (memory).
      receiveHighWaterBytes: options.receiveHighWaterBytes ?? 0,
      // Only what was already on its way when reading paused lands above the high-water mark.
      // Refusing a message is the last resort: the agent waits only ~2 s for acks once its side
      // ends (§10.2), so a message refused then may never come back.
      receiveBufferBytes: options.receiveBufferBytes ?? 64 * 1024 * 1024,
      resendTickMs: options.resendTickMs ?? 50,
      maxRetransmissionTimeoutMs: options.maxRetransmissionTimeoutMs ?? 3000,
      stallTimeoutMs: options.stallTimeoutMs ?? 5 * 60_000,
    };
    this.roundTrip = new RoundTripEstimator(this.options.maxRetransmissionTimeoutMs);
    this.lastProgressAt = this.scheduler.now();
    this.stopTicking = this.scheduler.setInterval(() => this.tick(), this.options.resendTickMs);
  }

  /** A socket is ready: send what the peer has not acknowledged yet, in order. */
  attach(sink: FrameSink): void {
    this.sink = sink;
    if (this.incomingPaused) sink.pauseIncoming?.();
    this.lastProgressAt = this.scheduler.now();
    this.unacked.forEach((entry) => this.transmit(entry));
  }

  /** The socket is gone; keep buffering until the next `attach()`. */
  detach(): void {
    this.sink = undefined;
  }

  get isAttached(): boolean {
    return this.sink !== undefined;
  }

  /**
   * Queues one stream message and sends it when a socket is attached.
   * Returns false when the in-flight window is full: stop producing until `onWritable()`.
   */
  write(payloadType: number, payload: Buffer): boolean {
    const entry = this.framePool.take(encodedFrameLength(payload.length));
    encodeFrame(
      {
        messageType: this.options.outgoingMessageType,
        sequenceNumber: this.nextSequence,
        flags: this.nextSequence === 0 ? HeaderFlag.syn : HeaderFlag.none,
        messageId: randomMessageId(),
        payloadType,
        payload,
      },
      entry.buffer,
    );
    this.unacked.push(this.nextSequence, entry);
    this.nextSequence++;
    this.stats.messagesSent++;
    this.stats.payloadBytesSent += payload.length;
    this.transmit(entry);
    const hasRoom = this.unacked.size < this.options.windowMessages;
    if (!hasRoom) this.windowWasFull = true;
    return hasRoom;
  }

  get hasRoom(): boolean {
    return this.unacked.size < this.options.windowMessages;
  }

  /** Messages sent (or queued) and not yet acknowledged. */
  get unackedCount(): number {
    return this.unacked.size;
  }

  get roundTripMs(): number {
    return this.roundTrip.smoothedRoundTripMs;
  }

  /** Feeds one websocket message from the peer. */
  receive(data: Buffer): void {
    if (this.closed) return;
    const decoded = decodeFrame(data);
    if (!decoded.ok) {
      this.stats.framesDropped++;
      this.handler.onProtocolError(decoded.error);
      return;
    }
    const frame = decoded.value;
    if (frame.messageType === this.options.incomingMessageType) this.receiveStreamMessage(frame);
    else if (frame.messageType === MessageType.acknowledge) this.receiveAcknowledgement(frame);
    else this.handler.onControlMessage(frame);
  }

  /** The handler can take messages again after returning false from `onStreamMessage`. */
  resumeDelivery(): void {
    this.deliveryPaused = false;
    this.deliverReceived();
    this.updateIncoming();
  }

  /**
   * Stops reading from the peer while messages keep being delivered: for a handler that buffers
   * on its own and only needs the peer to slow down. Unlike a busy handler (`onStreamMessage`
   * returning false), nothing is held back here, so no message waits in memory that a reader
   * of the websocket already paid for. `releaseReading()` undoes it.
   */
  holdReading(): void {
    this.readingHeld = true;
    this.updateIncoming();
  }

  releaseReading(): void {
    this.readingHeld = false;
    this.updateIncoming();
  }

  /** Stops timers; later frames are ignored. */
  close(): void {
    this.closed = true;
    this.sink = undefined;
    this.stopTicking?.();
    this.stopTicking = undefined;
  }

  private receiveStreamMessage(frame: Frame): void {
    const sequence = frame.sequenceNumber;
    if (sequence < this.expectedSequence || this.received.has(sequence)) {
      this.stats.duplicatesReceived++;
      this.acknowledge(frame); // a duplicate: our earlier ack was lost (pitfall 7)
      return;
    }
    if (sequence === this.expectedSequence && !this.deliveryPaused) {
      // The hot path: in order and the handler is ready. Deliver, then ack (§5).
      this.countReceived(frame);
      this.expectedSequence++;
      this.deliveryPaused = !this.handler.onStreamMessage(frame);
      this.acknowledge(frame);
      if (this.received.size > 0) this.deliverReceived();
      return;
    }
    // No room: no ack, so the peer resends it once we have caught up.
    if (this.receivedBytes + frame.payload.length > this.options.receiveBufferBytes) return;
    this.countReceived(frame);
    this.received.set(sequence, frame);
    this.receivedBytes += frame.payload.length;
    this.acknowledge(frame);
    this.updateIncoming();
  }

  private countReceived(frame: Frame): void {
    this.stats.messagesReceived++;
    this.stats.payloadBytesReceived += frame.payload.length;
  }

  private deliverReceived(): void {
    while (!this.deliveryPaused && !this.closed) {
      const frame = this.received.get(this.expectedSequence);
      if (!frame) return;
      this.received.delete(this.expectedSequence);
      this.receivedBytes -= frame.payload.length;
      this.expectedSequence++;
      this.deliveryPaused = !this.handler.onStreamMessage(frame);
    }
  }

  /**
   * Reading pauses while the handler holds it, or is busy *and* much is waiting. A gap alone
   * never pauses it: the missing message is still to come from the peer.
   */
  private updateIncoming(): void {
    const pause = this.readingHeld || (this.deliveryPaused && this.receivedBytes > this.options.receiveHighWaterBytes);
    if (pause === this.incomingPaused) return;
    this.incomingPaused = pause;
    if (pause) this.sink?.pauseIncoming?.();
    else this.sink?.resumeIncoming?.();
  }

  private acknowledge(frame: Frame): void {
    if (!this.sink || this.closed) return; // the peer will resend and we will ack the duplicate
    // Sinks copy what they keep (see FrameSink), so one buffer serves every acknowledgement.
    this.sink.sendFrame(encodeAcknowledgeFrame(frame, this.acknowledgeBuffer));
  }

  private receiveAcknowledgement(frame: Frame): void {
    const ack = decodeAcknowledgement(frame.payload);
    if (!ack.ok) {
      this.handler.onProtocolError(ack.error);
      return;
    }
    const sequence = ack.value.acknowledgedSequenceNumber;
    const entry = this.unacked.get(sequence);
    if (!entry) return; // unknown or already acknowledged: ignore (§5)
    const now = this.scheduler.now();
    if (entry.retransmissions === 0 && entry.lastSentAt !== undefined) {
      this.roundTrip.sample(now - entry.lastSentAt); // Karn: only unambiguous samples
    }
    this.unacked.delete(sequence);
    this.framePool.give(entry);
    this.lastProgressAt = now;
    if (this.windowWasFull && this.unacked.size <= this.options.windowMessages / 2) {
      this.windowWasFull = false;
      this.handler.onWritable();
    }
  }

  private transmit(entry: OutgoingFrame): void {
    if (!this.sink) return;
    entry.lastSentAt = this.scheduler.now();
    // A full-size frame fills its buffer: no view to allocate on the bulk path.
    this.sink.sendFrame(entry.length === entry.buffer.length ? entry.buffer : entry.buffer.subarray(0, entry.length));
  }

  /** Resends every expired message; each resend doubles that message's own timeout. */
  private tick(): void {
    if (!this.sink || this.unacked.size === 0) {
      this.lastProgressAt = this.scheduler.now();
      return;
    }
    const now = this.scheduler.now();
    if (now - this.lastProgressAt > this.options.stallTimeoutMs) {
      this.handler.onStalled();
      return;
    }
    const baseTimeout = this.roundTrip.retransmissionTimeoutMs;
    this.unacked.forEach((entry) => {
      if (entry.lastSentAt === undefined) {
        this.transmit(entry);
        return;
      }
      const backoff = Math.min(baseTimeout * 2 ** Math.min(entry.retransmissions, 6), this.options.maxRetransmissionTimeoutMs);
      if (now - entry.lastSentAt >= backoff) {
        entry.retransmissions++;
        this.stats.retransmissions++;
        this.transmit(entry);
      }
    });
  }
}
