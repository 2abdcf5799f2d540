/** A local HTTP server with fixed random files, and curl to fetch many of them at once. */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../e2e/processes.js';
import { seededBytes } from '../helpers/prng.js';
import { sha256 } from './helpers.js';

export class HttpFixture {
  readonly files = new Map<string, { body: Buffer; sha: string }>();
  private constructor(private readonly server: Server) {}

  /** `sizes` in bytes; file i is served at `/f/i`. */
  static async start(sizes: number[]): Promise<HttpFixture> {
    const server = createServer({ keepAliveTimeout: 60_000 });
    const fixture = new HttpFixture(server);
    sizes.forEach((size, i) => {
      const body = seededBytes(size, 1000 + i);
      fixture.files.set(`/f/${i}`, { body, sha: sha256(body) });
    });
    server.on('request', (request, response) => {
      const file = fixture.files.get(request.url ?? '');
      if (!file) {
        response.writeHead(404).end();
        return;
      }
      response.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': file.body.length });
      response.end(file.body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return fixture;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/**
 * `curl --parallel` for every path through `port`; returns each body's sha256 (in `paths` order)
 * and curl's result.
 */
export async function curlParallel(port: number, paths: string[], parallel = 50, timeoutMs = 120_000): Promise<{ shas: string[]; code: number | null; stderr: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'ssm-proxy-curl-'));
  try {
    const args = ['--parallel', '--parallel-immediate', '--parallel-max', String(parallel), '--silent', '--show-error', '--fail', '--max-time', String(Math.round(timeoutMs / 1000))];
    paths.forEach((path, i) => args.push('-o', join(dir, `body-${i}`), `http://127.0.0.1:${port}${path}`));
    const result = await run('curl', args, { timeoutMs: timeoutMs + 5000 });
    const shas = await Promise.all(paths.map((_, i) => readFile(join(dir, `body-${i}`)).then(sha256, () => 'missing')));
    return { shas, code: result.code, stderr: result.stderr };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A raw keep-alive HTTP/1.1 connection: `get` sends one request and reads one whole response. */
export class KeepAliveClient {
  private buffered = Buffer.alloc(0);
  private waiter: (() => void) | undefined;
  closed = false;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, chunk]);
      this.waiter?.();
    });
    socket.on('close', () => {
      this.closed = true;
      this.waiter?.();
    });
    socket.on('error', () => undefined);
  }

  static open(port: number): Promise<KeepAliveClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port });
      socket.once('connect', () => resolve(new KeepAliveClient(socket)));
      socket.once('error', reject);
    });
  }

  async get(path: string, timeoutMs = 20_000): Promise<Buffer> {
    this.socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n`);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const headerEnd = this.buffered.indexOf('\r\n\r\n');
      if (headerEnd >= 0) {
        const length = Number(/content-length: (\d+)/i.exec(this.buffered.subarray(0, headerEnd).toString())?.[1] ?? -1);
        if (length >= 0 && this.buffered.length >= headerEnd + 4 + length) {
          const body = this.buffered.subarray(headerEnd + 4, headerEnd + 4 + length);
          this.buffered = this.buffered.subarray(headerEnd + 4 + length);
          return body;
        }
      }
      if (this.closed) throw new Error('the connection closed before the whole response came');
      if (Date.now() > deadline) throw new Error(`no whole response within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        this.waiter = resolve;
        setTimeout(resolve, 100);
      });
    }
  }

  /** Stop reading (the kernel buffers fill, then the sender stalls) until `resume`. */
  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  close(): void {
    this.socket.destroy();
  }
}
