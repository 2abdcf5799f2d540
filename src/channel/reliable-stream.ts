import {
  acknowledgedSequenceOfFrame,
  decodeAcknowledgement,
  decodeFrame,
  encodeAcknowledgeFrame,
  encodedFrameLength,
  encodeFrame,
  HeaderFlag,
  MessageType,
  STREAM_CHUNK_SIZE,
  type Frame,
  type ProtocolError,
} from '../protocol/index.js';
import { FramePool, type OutgoingFrame } from './frame-pool.js';
import { RoundTripEstimator } from './round-trip-estimator.js';
import { SequenceRing } from './sequence-ring.js';
import type { Cancel, Scheduler } from '../scheduler.js';

/** Shortest wait before an early resend while the peer may not be ready (see `expectNotReady`). */
const PROBE_FLOOR_MS = 4;
/** Early resends of one message before the normal RTO rules take over again. */
const PROBE_LIMIT = 6;

/** Where frames go: the live websocket, or nothing while there is none. */
export interface FrameSink {
  /**
   * Sends one frame. The sink may keep the buffer, uncopied, until it is written (queued behind a
   * full socket, corked for a batch): the stream never changes a buffer it handed over while that
   * can still be queued. Stream frames come from reusable buffers that go back to the pool only
   * once the peer has acknowledged them, that is after the peer has read a copy, so no queue still
   * holds them; every acknowledgement is encoded into a buffer of its own. (The websocket sink
   * happens to copy each frame while masking it; this contract does not rely on that.)
   */
  sendFrame(frame: Buffer): void;
  /** Stop / restart reading from the peer (TCP back-pressure on the websocket; see `pauseReading`). */
  pauseIncoming?(): void;
  resumeIncoming?(): void;
}

export interface ReliableStreamHandler {
  /**
   * One in-order stream message from the peer, always consumed; it is acknowledged after this
   * returns. `frame.payload` is a view into the socket's read buffer: copy what you keep. A
   * consumer that cannot keep up calls `pauseReading()` (one back-pressure path for all).
   */
  onStreamMessage(frame: Frame): void;
  /** channel_closed, publication messages and message types we do not know. */
  onControlMessage(frame: Frame): void;
  /** The in-flight window had been full and has room again. */
  onWritable(): void;
  /** A frame was dropped (bad digest, short, ...). The peer will retransmit stream messages. */
  onProtocolError(error: ProtocolError): void;
  /** Nothing was acknowledged for `stallTimeoutMs` while connected and data was waiting. */
  onStalled(): void;
}

export interface ReliableStreamOptions {
  /** `input_stream_data` for a client, `output_stream_data` for an agent. */
  outgoingMessageType: string;
  incomingMessageType: string;
  scheduler: Scheduler;
  handler: ReliableStreamHandler;
  /** Unacknowledged messages allowed in flight before `write()` reports the window full. */
  windowMessages?: number;
  /** Cap on out-of-order bytes waiting for a gap to fill; a message beyond it is left unacknowledged. */
  receiveBufferBytes?: number;
  resendTickMs?: number;
  maxRetransmissionTimeoutMs?: number;
  stallTimeoutMs?: number;
}

/** Counters for the -v summary and the benchmark. */
export interface ReliableStreamStats {
  messagesSent: number;
  payloadBytesSent: number;
  messagesReceived: number;
  payloadBytesReceived: number;
  retransmissions: number;
  duplicatesReceived: number;
  framesDropped: number;
}

/**
 * The reliable, ordered stream of one direction pair on top of data-channel frames (docs/protocol.md §5, §6).
 * (AWS's "data channel" is the websocket itself; this is the reliability layer over it.)
 *
 * - Outgoing: every stream message gets the next sequence number and stays buffered until the
 *   peer acknowledges that sequence number (selective acks). It is buffered *before* sending, so a
 *   dead socket loses nothing (docs/protocol.md pitfall 9). Expired messages are all resent on each tick, with
 *   per-message exponential backoff; Karn's rule keeps resent messages out of the RTT estimate.
 * - Incoming: messages are acked once delivered or stored; out-of-order ones wait in a buffer;
 *   duplicates are re-acked (docs/protocol.md pitfall 7). A slow consumer pauses reading from the peer (TCP
 *   back-pressure through the sink) rather than refusing acks; only past a hard cap on
 *   out-of-order bytes is a message left unacknowledged for the peer to resend.
 * - Sequence numbers and buffers outlive sockets: `attach()` a new sink after a reconnect and
 *   everything unacknowledged is sent again (docs/protocol.md pitfall 8).
 */
export class ReliableStream {
  private readonly options: Required<Omit<ReliableStreamOptions, 'handler' | 'scheduler'>>;
  private readonly scheduler: Scheduler;
  private readonly handler: ReliableStreamHandler;
  private readonly roundTrip: RoundTripEstimator;

  private sink: FrameSink | undefined;
  private nextSequence = 0;
  private readonly unacked = new SequenceRing<OutgoingFrame>();
  /** Buffers for full-size stream frames, the bulk of an upload. */
  private readonly framePool = new FramePool(encodedFrameLength(STREAM_CHUNK_SIZE));
  private windowWasFull = false;

  private expectedSequence = 0;
  private readonly received = new Map<number, Frame>();
  private receivedBytes = 0;
  private readingPaused = false;
  /** Resolved when nothing sent is left unacknowledged (see `allAcknowledged()`). */
  private acknowledgedWaiters: (() => void)[] = [];

  readonly stats: ReliableStreamStats = {
    messagesSent: 0,
    payloadBytesSent: 0,
    messagesReceived: 0,
    payloadBytesReceived: 0,
    retransmissions: 0,
    duplicatesReceived: 0,
    framesDropped: 0,
  };

  /**
   * Early resends (see `expectNotReady`): on while no message from `probeFromSequence` on has been
   * acknowledged; `probeTimer` is the pending one, `probesSent` how many went out so far.
   */
  private probing = false;
  private probeWanted = false;
  private probeFromSequence = 0;
  private probesSent = 0;
  private probeTimer: Cancel | undefined;
  /** Unacknowledged messages sent more than once (resent or probed); see `tick()`. */
  private resentUnacked = 0;

  private lastProgressAt: number;
  private stopTicking: Cancel | undefined;
  private closed = false;

  constructor(options: ReliableStreamOptions) {
    this.scheduler = options.scheduler;
    this.handler = options.handler;
    this.options = {
      outgoingMessageType: options.outgoingMessageType,
      incomingMessageType: options.incomingMessageType,
      windowMessages: options.windowMessages ?? 1024,
      // Refusing a message is the last resort: the agent waits only ~2 s for acks once its side
      // ends (docs/protocol.md §10.2), so a message refused then may never come back.
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
    const resumed = this.probeWanted;
    this.sink = sink;
    if (this.readingPaused) sink.pauseIncoming?.();
    this.lastProgressAt = this.scheduler.now();
    this.unacked.forEach((entry) => this.transmit(entry));
    // After a resume the far side may again take a moment before it takes data.
    if (resumed) this.startProbing(this.unacked.oldestSequence);
  }

  /**
   * The peer may leave the next messages unacknowledged for a while without losing anything: the
   * agent answers "not ready" (no ack) until it has dialled the destination (docs/protocol.md §10.2),
   * and then the first data message would wait a whole RTO (100–200 ms) for its resend. Until a
   * message written from now on is acknowledged, the oldest unacknowledged message is resent
   * after max(4 ms, SRTT + 2·RTTVAR), doubling, at most 6 times; then the normal RTO rules apply.
   * Duplicates are harmless (same sequence number: the agent drops or re-acks them, §5); resent
   * messages give no RTT sample (Karn). Also armed again by each `attach()` after a resume.
   */
  expectNotReady(): void {
    this.probeWanted = true;
    this.startProbing(this.nextSequence);
  }

  private startProbing(fromSequence: number): void {
    this.probing = true;
    this.probeFromSequence = fromSequence;
    this.probesSent = 0;
    this.scheduleProbe();
  }

  private stopProbing(): void {
    this.probing = false;
    this.probeTimer?.();
    this.probeTimer = undefined;
  }

  /** Waits until the oldest unacknowledged message is due for an early resend. */
  private scheduleProbe(): void {
    if (!this.probing || this.probeTimer || this.closed) return;
    const oldest = this.unacked.oldest();
    if (!oldest || oldest.lastSentAt === undefined) return; // write() and transmit() call again
    const due = oldest.lastSentAt + this.probeDelayMs() - this.scheduler.now();
    this.probeTimer = this.scheduler.setTimeout(this.probe, Math.max(due, 0));
  }

  private probeDelayMs(): number {
    const { roundTrip } = this;
    const base = roundTrip.hasSample ? roundTrip.smoothedRoundTripMs + 2 * roundTrip.roundTripVariationMs : roundTrip.retransmissionTimeoutMs;
    return Math.max(PROBE_FLOOR_MS, base) * 2 ** this.probesSent;
  }

  private readonly probe = (): void => {
    this.probeTimer = undefined;
    if (!this.probing || !this.sink || this.closed) return;
    const oldest = this.unacked.oldest();
    if (!oldest || oldest.lastSentAt === undefined) return;
    if (this.scheduler.now() - oldest.lastSentAt >= this.probeDelayMs()) {
      this.markResent(oldest);
      oldest.probed = true;
      this.stats.retransmissions++;
      this.transmit(oldest);
      if (++this.probesSent >= PROBE_LIMIT) {
        this.probing = false;
        return;
      }
    }
    this.scheduleProbe();
  };

  /** The socket is gone; keep buffering until the next `attach()`. */
  detach(): void {
    this.sink = undefined;
    this.probeTimer?.();
    this.probeTimer = undefined;
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
    if (this.probing && !this.probeTimer) this.scheduleProbe();
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

  /**
   * Resolves once every message written so far has been acknowledged (at once when none is
   * waiting), or when the stream closes. An event, not a poll: the acknowledgement that empties
   * the buffer resolves it.
   */
  allAcknowledged(): Promise<void> {
    if (this.unacked.size === 0 || this.closed) return Promise.resolve();
    return new Promise((resolve) => this.acknowledgedWaiters.push(resolve));
  }

  /** Feeds one websocket message from the peer. */
  receive(data: Buffer): void {
    if (this.closed) return;
    // One acknowledgement per message sent: read in place when it is in the usual form.
    const acknowledged = acknowledgedSequenceOfFrame(data);
    if (acknowledged >= 0) {
      this.acknowledged(acknowledged);
      return;
    }
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

  /**
   * Stops reading from the peer (TCP back-pressure on the socket) while messages keep being
   * delivered: the consumer buffers what is already on its way and only needs the peer to slow
   * down. Nothing is held back here, so no message waits in memory as a view of a socket read
   * buffer (which would outlive young-generation collections). The agent has no window and
   * resends only its oldest unacknowledged message per tick (docs/protocol.md §6.4), so refusing acks would cost
   * ~10 messages/s of recovery; not reading lets TCP and MGS hold the surplus instead.
   */
  pauseReading(): void {
    if (this.readingPaused) return;
    this.readingPaused = true;
    this.sink?.pauseIncoming?.();
  }

  resumeReading(): void {
    if (!this.readingPaused) return;
    this.readingPaused = false;
    this.sink?.resumeIncoming?.();
  }

  /** Stops timers; later frames are ignored. */
  close(): void {
    this.closed = true;
    this.sink = undefined;
    this.stopTicking?.();
    this.stopTicking = undefined;
    this.stopProbing();
    this.notifyAcknowledged();
  }

  private receiveStreamMessage(frame: Frame): void {
    const sequence = frame.sequenceNumber;
    if (sequence < this.expectedSequence || this.received.has(sequence)) {
      this.stats.duplicatesReceived++;
      this.acknowledge(frame); // a duplicate: our earlier ack was lost (docs/protocol.md pitfall 7)
      return;
    }
    if (sequence === this.expectedSequence) {
      // The hot path: in order. Deliver, then ack (docs/protocol.md §5).
      this.countReceived(frame);
      this.expectedSequence++;
      this.handler.onStreamMessage(frame);
      this.acknowledge(frame);
      if (this.received.size > 0) this.deliverReceived();
      return;
    }
    // Ahead of a gap. No room: no ack, so the peer resends it once the gap is filled.
    if (this.receivedBytes + frame.payload.length > this.options.receiveBufferBytes) return;
    this.countReceived(frame);
    this.received.set(sequence, frame);
    this.receivedBytes += frame.payload.length;
    this.acknowledge(frame);
  }

  private countReceived(frame: Frame): void {
    this.stats.messagesReceived++;
    this.stats.payloadBytesReceived += frame.payload.length;
  }

  private deliverReceived(): void {
    while (!this.closed) {
      const frame = this.received.get(this.expectedSequence);
      if (!frame) return;
      this.received.delete(this.expectedSequence);
      this.receivedBytes -= frame.payload.length;
      this.expectedSequence++;
      this.handler.onStreamMessage(frame);
    }
  }

  private acknowledge(frame: Frame): void {
    if (!this.sink || this.closed) return; // the peer will resend and we will ack the duplicate
    // A buffer of its own: the sink may still hold the previous acknowledgement (see FrameSink).
    this.sink.sendFrame(encodeAcknowledgeFrame(frame));
  }

  /** An acknowledgement not in the agent's compact form (`receive` read that one in place). */
  private receiveAcknowledgement(frame: Frame): void {
    const ack = decodeAcknowledgement(frame.payload);
    if (!ack.ok) {
      this.handler.onProtocolError(ack.error);
      return;
    }
    this.acknowledged(ack.value.acknowledgedSequenceNumber);
  }

  private acknowledged(sequence: number): void {
    const entry = this.unacked.get(sequence);
    if (!entry) return; // unknown or already acknowledged: ignore (docs/protocol.md §5)
    const now = this.scheduler.now();
    if (entry.retransmissions === 0 && !entry.probed && entry.lastSentAt !== undefined) {
      this.roundTrip.sample(now - entry.lastSentAt); // Karn: only unambiguous samples
    }
    if (this.probing && sequence >= this.probeFromSequence) this.stopProbing(); // the peer is ready
    this.unacked.delete(sequence);
    if (entry.retransmissions > 0 || entry.probed) this.resentUnacked--;
    this.framePool.give(entry);
    this.lastProgressAt = now;
    if (this.unacked.size === 0) this.notifyAcknowledged();
    if (this.windowWasFull && this.unacked.size <= this.options.windowMessages / 2) {
      this.windowWasFull = false;
      this.handler.onWritable();
    }
  }

  private notifyAcknowledged(): void {
    if (this.acknowledgedWaiters.length === 0) return;
    const waiters = this.acknowledgedWaiters;
    this.acknowledgedWaiters = [];
    for (const resolve of waiters) resolve();
  }

  private transmit(entry: OutgoingFrame): void {
    if (!this.sink) return;
    entry.lastSentAt = this.scheduler.now();
    // A full-size frame fills its buffer: no view to allocate on the bulk path.
    this.sink.sendFrame(entry.length === entry.buffer.length ? entry.buffer : entry.buffer.subarray(0, entry.length));
  }

  /**
   * Resends every expired message; each resend doubles that message's own timeout.
   *
   * Messages sent only once went out in sequence order (write, or all at once on attach), so
   * their send times rise with the sequence number and they share one timeout: after the first
   * of them that has not expired, none later has either. The scan stops there once it has also
   * passed every message sent more than once: a tick during a bulk transfer looks at one message,
   * not at the whole window.
   */
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
    let resentAhead = this.resentUnacked;
    this.unacked.forEachWhile((entry) => {
      if (entry.lastSentAt === undefined) {
        this.transmit(entry);
        return true;
      }
      const sentOnce = entry.retransmissions === 0 && !entry.probed;
      if (!sentOnce) resentAhead--;
      const backoff = Math.min(baseTimeout * 2 ** Math.min(entry.retransmissions, 6), this.options.maxRetransmissionTimeoutMs);
      if (now - entry.lastSentAt >= backoff) {
        this.markResent(entry);
        entry.retransmissions++;
        this.stats.retransmissions++;
        this.transmit(entry);
        return true;
      }
      return !sentOnce || resentAhead > 0;
    });
  }

  /** Counts `entry` among the messages sent more than once, before its first resend. */
  private markResent(entry: OutgoingFrame): void {
    if (entry.retransmissions === 0 && !entry.probed) this.resentUnacked++;
  }
}
