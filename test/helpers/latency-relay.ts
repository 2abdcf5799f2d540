/**
 * A latency model for loopback: a TCP relay in front of one endpoint that holds every byte for a
 * fixed one-way time in each direction, as a long link would. The kernel here has no `tc netem`,
 * so the bench puts this in front of the fake's API, websocket and SSO endpoints instead.
 *
 *   client ──▶ relay (delay d) ──▶ target        target ──▶ relay (delay d) ──▶ client
 *
 * - Byte order is kept: each direction is a FIFO delay line (one fixed delay, so arrival order is
 *   delivery order), each chunk released at arrival + d.
 * - TCP back-pressure is kept: a direction stops reading its sender while more than
 *   `maxQueuedBytes` wait in its line (or its receiver's socket buffer is full), so memory stays
 *   bounded and a slow reader slows the writer, as on a real link.
 * - The TCP handshake's round trip is charged (userspace cannot hold back the kernel's SYN-ACK, so
 *   the client's connect() returns at once): a connection's client bytes are not released before
 *   accept + 2d + d, where they would arrive had the client waited a round trip for connect().
 *   A client that connects early (preconnect) and sends later pays nothing extra, as on a real link.
 * - End of stream (FIN) travels through the line like data, so half-close works both ways; an
 *   error or reset on either side resets both at once.
 *
 * Every connection keeps a record: bytes each way and its request/response turns (a client flight
 * answered by a target flight), with the time of each, so the bench can count round trips.
 */
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

export interface LatencyRelayOptions {
  targetPort: number;
  /** Default 127.0.0.1. */
  targetHost?: string;
  /** One-way delay in ms, applied in each direction. May be changed later with `setOneWayMs`. */
  oneWayMs: number;
  /** Bytes one direction may hold before it stops reading its sender. Default 1 MiB. */
  maxQueuedBytes?: number;
  /** Charge the TCP handshake's round trip on the first client bytes (default true). */
  chargeConnect?: boolean;
}

export interface RelayConnectionRecord {
  /** performance.now() at accept. */
  acceptedAt: number;
  bytesToTarget: number;
  bytesToClient: number;
  /** performance.now() of each turn: the first target bytes after client bytes. */
  turns: number[];
  /** Largest number of bytes held at once in either direction's delay line. */
  peakQueuedBytes: number;
  /** Both sockets are closed. */
  closed: boolean;
}

export interface LatencyRelay {
  port: number;
  /** `${scheme}://127.0.0.1:${port}` */
  url(scheme: string): string;
  readonly oneWayMs: number;
  setOneWayMs(ms: number): void;
  /** One record per accepted connection, in accept order. */
  connections: RelayConnectionRecord[];
  /**
   * Round trips counted on the wire since `since` (performance.now()), up to `until`: one per
   * charged TCP handshake plus one per turn. Parallel connections all count.
   */
  roundTrips(since: number, until?: number): number;
  close(): Promise<void>;
}

const MiB = 1 << 20;

export async function startLatencyRelay(options: LatencyRelayOptions): Promise<LatencyRelay> {
  let oneWayMs = checkDelay(options.oneWayMs);
  const maxQueuedBytes = options.maxQueuedBytes ?? MiB;
  const chargeConnect = options.chargeConnect ?? true;
  const host = options.targetHost ?? '127.0.0.1';
  const connections: RelayConnectionRecord[] = [];
  const live = new Set<Socket>();
  const lines = new Set<DelayLine>();

  const server: Server = createServer({ allowHalfOpen: true }, (client) => {
    const acceptedAt = performance.now();
    const record: RelayConnectionRecord = { acceptedAt, bytesToTarget: 0, bytesToClient: 0, turns: [], peakQueuedBytes: 0, closed: false };
    connections.push(record);
    // No Nagle: the relay writes whole released batches, and Nagle's wait for an ACK (which the
    // receiver delays up to 40 ms) is an artefact of the relay, not of the modelled link.
    const target = connect({ port: options.targetPort, host, allowHalfOpen: true, noDelay: true });
    client.setNoDelay(true);
    const delay = () => oneWayMs;
    // Client bytes leave no earlier than they would after a real connect(): a round trip after accept.
    const connectCharge = chargeConnect ? acceptedAt + 2 * oneWayMs : 0;
    const toTarget = new DelayLine(client, target, delay, maxQueuedBytes, connectCharge, record);
    const toClient = new DelayLine(target, client, delay, maxQueuedBytes, 0, record);
    lines.add(toTarget).add(toClient);
    let lastDirection: 'to-target' | 'to-client' | undefined;
    client.on('data', (chunk: Buffer) => {
      record.bytesToTarget += chunk.length;
      lastDirection = 'to-target';
      toTarget.push(chunk);
    });
    target.on('data', (chunk: Buffer) => {
      record.bytesToClient += chunk.length;
      if (lastDirection === 'to-target') record.turns.push(performance.now());
      lastDirection = 'to-client';
      toClient.push(chunk);
    });
    client.on('end', () => toTarget.pushEnd());
    target.on('end', () => toClient.pushEnd());
    let closedSockets = 0;
    const abort = () => {
      toTarget.stop();
      toClient.stop();
      // The peer sees a reset too, not a clean end: the stream was cut.
      for (const socket of [client, target]) if (!socket.destroyed) socket.resetAndDestroy();
    };
    for (const socket of [client, target]) {
      live.add(socket);
      socket.on('error', abort);
      socket.on('close', () => {
        live.delete(socket);
        if (++closedSockets < 2) return;
        record.closed = true;
        lines.delete(toTarget);
        lines.delete(toClient);
      });
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  return {
    port,
    url: (scheme) => `${scheme}://127.0.0.1:${port}`,
    get oneWayMs() {
      return oneWayMs;
    },
    setOneWayMs: (ms) => void (oneWayMs = checkDelay(ms)),
    connections,
    roundTrips: (since, until = Infinity) =>
      connections.reduce(
        (sum, c) =>
          sum +
          (chargeConnect && c.acceptedAt >= since && c.acceptedAt <= until ? 1 : 0) +
          c.turns.filter((t) => t >= since && t <= until).length,
        0,
      ),
    close: async () => {
      for (const line of lines) line.stop();
      for (const socket of live) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function checkDelay(ms: number): number {
  if (!(Number.isFinite(ms) && ms >= 0)) throw new RangeError(`one-way delay must be a number of ms ≥ 0, got ${ms}`);
  return ms;
}

interface Held {
  due: number;
  /** null = end of stream. */
  chunk: Buffer | null;
}

/** One direction: chunks wait until arrival + delay, in order, then go to the receiver. */
class DelayLine {
  private readonly held: Held[] = [];
  private head = 0;
  private queuedBytes = 0;
  private timer: NodeJS.Timeout | undefined;
  private receiverFull = false;
  private stopped = false;

  constructor(
    private readonly sender: Socket,
    private readonly receiver: Socket,
    private readonly delayMs: () => number,
    private readonly maxQueuedBytes: number,
    /** performance.now() before which nothing is released (the connect charge), minus the delay. */
    private readonly notBefore: number,
    private readonly record: RelayConnectionRecord,
  ) {
    receiver.on('drain', () => {
      this.receiverFull = false;
      this.release();
    });
  }

  push(chunk: Buffer): void {
    this.enqueue(chunk);
    this.queuedBytes += chunk.length;
    if (this.queuedBytes > this.record.peakQueuedBytes) this.record.peakQueuedBytes = this.queuedBytes;
    if (this.queuedBytes > this.maxQueuedBytes) this.sender.pause();
    this.release();
  }

  pushEnd(): void {
    this.enqueue(null);
    this.release();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.held.length = this.head = this.queuedBytes = 0;
  }

  private enqueue(chunk: Buffer | null): void {
    this.held.push({ due: Math.max(performance.now(), this.notBefore) + this.delayMs(), chunk });
  }

  /** Writes every chunk that is due, then sleeps until the next one is. */
  private release(): void {
    if (this.stopped || this.receiverFull || this.timer) return;
    const now = performance.now();
    this.receiver.cork();
    while (this.head < this.held.length) {
      const next = this.held[this.head]!;
      // Timers may fire up to a millisecond early against performance.now(); never release early.
      if (next.due > now) break;
      this.head++;
      if (next.chunk === null) {
        this.receiver.end();
        continue;
      }
      this.queuedBytes -= next.chunk.length;
      if (!this.receiver.write(next.chunk)) {
        this.receiverFull = true;
        break;
      }
    }
    this.receiver.uncork();
    if (this.head > 1024 && this.head * 2 > this.held.length) {
      this.held.splice(0, this.head);
      this.head = 0;
    }
    if (this.queuedBytes <= this.maxQueuedBytes / 2 && this.sender.isPaused() && !this.receiverFull) this.sender.resume();
    if (this.receiverFull || this.head >= this.held.length) return;
    const wait = this.held[this.head]!.due - performance.now();
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.release();
    }, Math.max(1, Math.ceil(wait)));
  }
}
