import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { SsmProxyError } from '../../errors.js';

/**
 * The local end of a tunnel: a TCP listener opened before the session starts (so a busy port
 * fails at once, before any AWS call), whose connections wait, paused, until a forwarder takes
 * them. Half-open connections are allowed: a client's EOF travels as a FIN (docs/protocol.md §16.3).
 */
export class LocalListener {
  private handler: ((socket: Socket) => void) | undefined;
  private readonly early: Socket[] = [];
  private closed = false;

  private constructor(
    private readonly server: Server,
    readonly address: string,
    readonly port: number,
  ) {
    server.on('connection', (socket: Socket) => {
      if (this.closed) {
        socket.destroy();
      } else if (this.handler) {
        this.handler(socket);
      } else {
        socket.pause();
        this.early.push(socket);
        socket.once('close', () => {
          const index = this.early.indexOf(socket);
          if (index >= 0) this.early.splice(index, 1);
        });
      }
    });
  }

  /** Listens on `bind:port` (0 = a free port). Errors are SsmProxyErrors with one line. */
  static open(bind: string, port: number): Promise<LocalListener> {
    return new Promise((resolve, reject) => {
      const server = createServer({ allowHalfOpen: true, pauseOnConnect: true });
      server.once('error', (error: NodeJS.ErrnoException) => {
        const where = `${bind.includes(':') ? `[${bind}]` : bind}:${port}`;
        const why =
          error.code === 'EADDRINUSE'
            ? 'the port is in use; pick another --local-port, or 0 for a free one'
            : error.code === 'EADDRNOTAVAIL'
              ? 'that address is not on this machine; check --bind'
              : error.code === 'EACCES'
                ? 'permission denied (ports below 1024 need privileges)'
                : (error.code ?? error.message);
        reject(new SsmProxyError('io', `cannot listen on ${where}: ${why}`));
      });
      server.listen({ host: bind, port, exclusive: true }, () => {
        const address = server.address() as AddressInfo;
        resolve(new LocalListener(server, address.address, address.port));
      });
    });
  }

  /** `127.0.0.1:54321` or `[::1]:54321`. */
  get endpoint(): string {
    return `${this.address.includes(':') ? `[${this.address}]` : this.address}:${this.port}`;
  }

  /** Starts handing connections over, the waiting ones first. */
  onConnection(handler: (socket: Socket) => void): void {
    this.handler = handler;
    for (const socket of this.early.splice(0)) {
      socket.removeAllListeners('close');
      handler(socket);
    }
  }

  /** Stops accepting; open connections are the forwarder's to end. Waiting ones are closed. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.server.close();
    for (const socket of this.early.splice(0)) socket.destroy();
  }
}
