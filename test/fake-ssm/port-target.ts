/**
 * The agent's TCP side of a Port session (§10.2): one connection to the destination. Reads are
 * handed to an async consumer one chunk at a time with the socket paused meanwhile, so the
 * consumer's pacing and back-pressure reach the destination (sshd) as TCP flow control.
 */
import { connect, type Socket } from 'node:net';

export interface PortTargetHandlers {
  /** Called for each chunk read; reading resumes when the promise settles. */
  onData(chunk: Buffer): Promise<void>;
  /** The destination closed its side cleanly (EOF), after every onData settled. */
  onEnd(): void;
  /** The connection failed after it was established. */
  onError(error: Error): void;
}

export class PortTarget {
  private closed = false;
  /** The consumer's work on the latest chunk; EOF is reported only after it settles. */
  private lastData: Promise<void> = Promise.resolve();

  private constructor(private readonly socket: Socket) {}

  /** Dials host:port; rejects with a Go-like "dial tcp" message on failure (used in channel_closed). */
  static dial(host: string, port: number, handlers: PortTargetHandlers, timeoutMs = 10_000): Promise<PortTarget> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host, port, allowHalfOpen: true });
      socket.setNoDelay(true);
      const timer = setTimeout(() => socket.destroy(new Error('i/o timeout')), timeoutMs);
      const onConnectError = (error: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        const why = error.code === 'ECONNREFUSED' ? 'connect: connection refused' : error.message;
        reject(new Error(`dial tcp ${host}:${port}: ${why}`));
      };
      socket.once('error', onConnectError);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.off('error', onConnectError);
        const target = new PortTarget(socket);
        target.wire(handlers);
        resolve(target);
      });
    });
  }

  /** Bytes accepted but not yet flushed to the kernel; the agent stops acking when this grows. */
  get pendingWriteBytes(): number {
    return this.socket.writableLength;
  }

  write(data: Buffer): void {
    if (!this.closed) this.socket.write(data);
  }

  onceDrained(callback: () => void): void {
    this.socket.once('drain', callback);
  }

  destroy(): void {
    this.closed = true;
    this.socket.destroy();
  }

  private wire(handlers: PortTargetHandlers): void {
    const { socket } = this;
    socket.on('data', (chunk: Buffer) => {
      socket.pause();
      this.lastData = handlers.onData(chunk).then(
        () => {
          if (!this.closed) socket.resume();
        },
        (error: Error) => handlers.onError(error),
      );
    });
    socket.on('end', () => {
      void this.lastData.then(() => {
        if (!this.closed) handlers.onEnd();
      });
    });
    socket.on('error', (error) => {
      if (!this.closed) handlers.onError(error);
    });
  }
}
