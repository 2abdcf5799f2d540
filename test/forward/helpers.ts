/** Shared pieces of the forward tests: a destination server with a tiny protocol, and a client. */
import { createHash } from 'node:crypto';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { seededBytes } from '../helpers/prng.js';

export const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

/**
 * A destination speaking a line protocol: the client sends `<upload bytes> <download bytes>
 * <seed>\n` and then its upload; the server answers the upload's sha256 (64 hex + \n) followed by
 * `seededBytes(download, seed)` and ends. `hold` keeps a connection open and silent until `release`.
 */
export class DestinationServer {
  readonly connections = new Set<Socket>();
  accepted = 0;
  private constructor(private readonly server: Server) {}

  static async start(): Promise<DestinationServer> {
    const server = createServer();
    const destination = new DestinationServer(server);
    server.on('connection', (socket) => destination.serve(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return destination;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    for (const socket of this.connections) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private serve(socket: Socket): void {
    this.accepted++;
    this.connections.add(socket);
    socket.on('close', () => this.connections.delete(socket));
    socket.on('error', () => {});
    let buffered = Buffer.alloc(0);
    let header: { upload: number; download: number; seed: number } | undefined;
    const hash = createHash('sha256');
    let received = 0;
    socket.on('data', (chunk: Buffer) => {
      if (!header) {
        buffered = Buffer.concat([buffered, chunk]);
        const newline = buffered.indexOf(10);
        if (newline < 0) return;
        const [upload, download, seed] = buffered.subarray(0, newline).toString().split(' ').map(Number);
        header = { upload: upload!, download: download!, seed: seed! };
        chunk = buffered.subarray(newline + 1);
      }
      hash.update(chunk);
      received += chunk.length;
      if (received === header.upload) {
        socket.write(`${hash.digest('hex')}\n`);
        socket.end(seededBytes(header.download, header.seed));
      }
    });
  }
}

export interface Exchange {
  uploadSha: string;
  echoedSha: string;
  download: Buffer;
}

/** One request/response over `port`: upload random bytes, read the answer to the end. */
export function exchange(port: number, upload: number, download: number, seed: number, options: { host?: string; readDelayMs?: number } = {}): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: options.host ?? '127.0.0.1', port });
    const body = seededBytes(upload, seed + 1);
    const chunks: Buffer[] = [];
    socket.once('connect', () => {
      socket.write(`${upload} ${download} ${seed}\n`);
      socket.write(body);
      if (options.readDelayMs) {
        socket.pause();
        setTimeout(() => socket.resume(), options.readDelayMs);
      }
    });
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('end', () => {
      const all = Buffer.concat(chunks);
      resolve({ uploadSha: sha256(body), echoedSha: all.subarray(0, 64).toString(), download: all.subarray(65) });
      socket.end();
    });
  });
}

export function waitUntil(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const check = () => {
      if (predicate()) resolve();
      else if (Date.now() > deadline) reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      else setTimeout(check, 5);
    };
    check();
  });
}
