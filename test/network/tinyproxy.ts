/**
 * A real HTTP CONNECT proxy for the tests: Debian's tinyproxy on a free loopback port, with a
 * generated config in a temp dir. Its outgoing connections leave from `bindAddress` (127.0.0.2 by
 * default), so a fake that accepts only that source address is reachable through the proxy only.
 * Its log (LogLevel Connect) goes to stdout, collected here.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TinyProxy {
  port: number;
  url: string;
  bindAddress: string;
  /** Everything tinyproxy logged so far. */
  log(): string;
  /** The `CONNECT host:port` requests it logged, in order. */
  connects(): string[];
  /** Resolves once `count` CONNECT requests are logged (the log may trail the traffic); rejects after timeoutMs. */
  waitForConnects(count: number, timeoutMs: number): Promise<string[]>;
  stop(): Promise<void>;
}

export interface TinyProxyOptions {
  /** Ports CONNECT may reach (tinyproxy answers 403 for others). */
  connectPorts: number[];
  bindAddress?: string;
  /** Require Basic proxy authentication with these credentials. */
  basicAuth?: { user: string; password: string };
}

export async function startTinyProxy(options: TinyProxyOptions): Promise<TinyProxy> {
  const dir = await mkdtemp(join(tmpdir(), 'ssm-proxy-tinyproxy-'));
  const bindAddress = options.bindAddress ?? '127.0.0.2';
  let lastError = '';
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const config = join(dir, 'tinyproxy.conf');
    await writeFile(
      config,
      [
        `Port ${port}`,
        'Listen 127.0.0.1',
        `Bind ${bindAddress}`,
        'Timeout 120',
        'MaxClients 100',
        'LogLevel Connect',
        'Allow 127.0.0.1',
        'DisableViaHeader Yes',
        ...options.connectPorts.map((p) => `ConnectPort ${p}`),
        ...(options.basicAuth ? [`BasicAuth ${options.basicAuth.user} ${options.basicAuth.password}`] : []),
        '',
      ].join('\n'),
    );
    const child = spawn('tinyproxy', ['-d', '-c', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const connects = () => [...output.matchAll(/Request \(file descriptor \d+\): CONNECT (\S+) /g)].map((m) => m[1]!);
    const up = await waitUntilListening(child, port, 5_000);
    if (!up) {
      lastError = output.trim().split('\n').slice(-3).join(' | ');
      child.kill('SIGKILL');
      continue;
    }
    return {
      port,
      url: `http://127.0.0.1:${port}`,
      bindAddress,
      log: () => output,
      connects,
      waitForConnects: async (count, timeoutMs) => {
        const deadline = Date.now() + timeoutMs;
        while (connects().length < count) {
          if (Date.now() > deadline) throw new Error(`tinyproxy logged ${connects().length} CONNECTs, expected ${count}: ${output}`);
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        return connects();
      },
      stop: async () => {
        await stopChild(child);
        await rm(dir, { recursive: true, force: true });
      },
    };
  }
  await rm(dir, { recursive: true, force: true });
  throw new Error(`tinyproxy did not start (is the Debian package installed?): ${lastError}`);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Polls with TCP connects until the port answers, the child exits, or the deadline passes. */
async function waitUntilListening(child: ChildProcess, port: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) return false;
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
    child.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
