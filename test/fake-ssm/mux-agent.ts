/**
 * The agent's side of multiplexed port forwarding (docs/protocol.md §16): an smux v1 server on the
 * Output byte stream. Every stream the client opens (SYN) dials the destination, one dial at a
 * time as the agent's accept loop does; a failed dial sends the ConnectToPortError flag and closes
 * the stream. Destination bytes go back as PSH frames packed into ≤1 KiB messages, in order, with
 * the caller's pacing and back-pressure applied per message.
 *
 * Like the agent (xtaci/smux behind two io.Copy loops): a FIN from the client closes the
 * destination connection outright and FINs back; a destination EOF or error FINs the stream.
 */
import { connect, type Socket } from 'node:net';
import { encodeFlag, FlagValue, PayloadType, STREAM_CHUNK_SIZE } from '../../src/protocol/index.js';
import { SmuxCommand, SmuxFrameReader } from '../../src/protocol/smux-frame.js';
import { SmuxPacker } from '../../src/protocol/smux-packer.js';

export interface MuxAgentOptions {
  /** Sends one stream message to the client; resolves when the next may follow (pacing, window). */
  send(payloadType: number, payload: Buffer): Promise<void> | void;
  /** Where a new stream connects, asked per stream so a test can change it meanwhile. */
  destination(): { host: string; port: number };
  /** The client broke the smux stream (the agent's session dies). */
  onBroken?(message: string): void;
  /** Stream bytes to the client / from the client, for the recycle knob and records. */
  onBytes?(direction: 'to-client' | 'from-client', bytes: number): void;
  dialTimeoutMs?: number;
}

export interface MuxAgentStats {
  streamsOpened: number;
  /** Destination connections made. */
  dialled: number;
  dialFailures: number;
  /** Streams whose destination connection is open right now. */
  open: number;
  /** The most destination connections open at once. */
  maxOpen: number;
  clientFins: number;
  nops: number;
}

interface AgentStream {
  id: number;
  socket: Socket | undefined;
  /** Client bytes that came while dialling. */
  early: Buffer[];
  closed: boolean;
}

/** Stop taking client messages while the destinations have this much unsent (xtaci/smux's bucket). */
const RECEIVE_BUFFER_BYTES = 4 << 20;

export class MuxAgent {
  readonly stats: MuxAgentStats = { streamsOpened: 0, dialled: 0, dialFailures: 0, open: 0, maxOpen: 0, clientFins: 0, nops: 0 };
  private readonly streams = new Map<number, AgentStream>();
  private readonly reader: SmuxFrameReader;
  private readonly packer: SmuxPacker;
  private readonly queue: { payloadType: number; payload: Buffer }[] = [];
  private sending = false;
  private queueWaiters: (() => void)[] = [];
  private dials: Promise<void> = Promise.resolve();
  private drainWaiter: (() => void) | undefined;
  private disposed = false;

  constructor(private readonly options: MuxAgentOptions) {
    this.packer = new SmuxPacker((payload) => this.enqueue(PayloadType.output, Buffer.from(payload)), STREAM_CHUNK_SIZE);
    this.reader = new SmuxFrameReader({
      onControl: (command, id) => this.onControl(command, id),
      onData: (id, data) => this.onData(id, data),
      onError: (error) => {
        this.options.onBroken?.(error.message);
        this.dispose();
      },
    });
  }

  /** One Output payload from the client; false = not taken (destinations backed up), see onceDrained. */
  receive(payload: Buffer): boolean {
    if (this.disposed) return true;
    if (this.unsentToDestinations() > RECEIVE_BUFFER_BYTES) return false;
    this.options.onBytes?.('from-client', payload.length);
    this.reader.push(payload);
    return true;
  }

  onceDrained(callback: () => void): void {
    this.drainWaiter = callback;
    for (const stream of this.streams.values()) stream.socket?.once('drain', () => this.checkDrained());
  }

  dispose(): void {
    this.disposed = true;
    for (const stream of this.streams.values()) stream.socket?.destroy();
    this.streams.clear();
    this.queue.length = 0;
    for (const waiter of this.queueWaiters.splice(0)) waiter();
  }

  private unsentToDestinations(): number {
    let total = 0;
    for (const stream of this.streams.values()) total += stream.socket?.writableLength ?? 0;
    return total;
  }

  private checkDrained(): void {
    if (!this.drainWaiter || this.unsentToDestinations() > RECEIVE_BUFFER_BYTES / 2) return;
    const waiter = this.drainWaiter;
    this.drainWaiter = undefined;
    waiter();
  }

  // ---- from the client -------------------------------------------------------------------

  private onControl(command: number, id: number): void {
    if (command === SmuxCommand.nop) {
      this.stats.nops++;
      return;
    }
    if (command === SmuxCommand.syn) {
      if (this.streams.has(id)) return;
      const stream: AgentStream = { id, socket: undefined, early: [], closed: false };
      this.streams.set(id, stream);
      this.stats.streamsOpened++;
      this.dials = this.dials.then(() => this.dial(stream));
      return;
    }
    // FIN: the agent's copy loop sees EOF and closes the destination connection (not a half-close).
    const stream = this.streams.get(id);
    if (!stream) return;
    this.stats.clientFins++;
    this.closeStream(stream);
  }

  private onData(id: number, data: Buffer): void {
    const stream = this.streams.get(id);
    if (!stream || stream.closed) return; // smux drops data for unknown streams
    if (stream.socket) stream.socket.write(Buffer.from(data));
    else stream.early.push(Buffer.from(data));
  }

  private async dial(stream: AgentStream): Promise<void> {
    if (this.disposed || stream.closed) return;
    const { host, port } = this.options.destination();
    const socket = await new Promise<Socket | undefined>((resolve) => {
      const candidate = connect({ host, port });
      const timer = setTimeout(() => candidate.destroy(new Error('i/o timeout')), this.options.dialTimeoutMs ?? 10_000);
      candidate.once('error', () => {
        clearTimeout(timer);
        resolve(undefined);
      });
      candidate.once('connect', () => {
        clearTimeout(timer);
        candidate.removeAllListeners('error');
        resolve(candidate);
      });
    });
    if (this.disposed) {
      socket?.destroy();
      return;
    }
    if (!socket) {
      this.stats.dialFailures++;
      this.enqueue(PayloadType.flag, encodeFlag(FlagValue.connectToPortError));
      this.closeStream(stream);
      return;
    }
    if (stream.closed) {
      socket.destroy();
      return;
    }
    stream.socket = socket;
    this.stats.dialled++;
    this.stats.open++;
    this.stats.maxOpen = Math.max(this.stats.maxOpen, this.stats.open);
    socket.setNoDelay(true);
    for (const chunk of stream.early) socket.write(chunk);
    stream.early = [];
    socket.on('data', (chunk: Buffer) => {
      socket.pause();
      void this.toClient(stream, chunk).then(() => {
        if (!stream.closed) socket.resume();
      });
    });
    socket.on('end', () => this.closeStream(stream));
    socket.on('error', () => this.closeStream(stream));
    socket.on('close', () => {
      this.stats.open--;
      this.closeStream(stream);
    });
  }

  /** Closes the destination connection and FINs the stream, once. */
  private closeStream(stream: AgentStream): void {
    if (stream.closed) return;
    stream.closed = true;
    this.streams.delete(stream.id);
    stream.socket?.end();
    stream.socket?.destroySoon();
    this.packer.control(SmuxCommand.fin, stream.id);
    this.packer.flush();
  }

  // ---- to the client ---------------------------------------------------------------------

  private async toClient(stream: AgentStream, chunk: Buffer): Promise<void> {
    if (stream.closed || this.disposed) return;
    this.packer.data(stream.id, chunk);
    this.packer.flush();
    this.options.onBytes?.('to-client', chunk.length);
    await this.queueBelow(64);
  }

  private enqueue(payloadType: number, payload: Buffer): void {
    if (this.disposed) return;
    this.queue.push({ payloadType, payload });
    if (!this.sending) void this.pump();
  }

  private async pump(): Promise<void> {
    this.sending = true;
    while (this.queue.length > 0 && !this.disposed) {
      const { payloadType, payload } = this.queue.shift()!;
      await this.options.send(payloadType, payload);
      if (this.queue.length < 64) for (const waiter of this.queueWaiters.splice(0)) waiter();
    }
    this.sending = false;
    for (const waiter of this.queueWaiters.splice(0)) waiter();
  }

  private queueBelow(limit: number): Promise<void> {
    if (this.queue.length < limit || this.disposed) return Promise.resolve();
    return new Promise((resolve) => this.queueWaiters.push(resolve));
  }
}
