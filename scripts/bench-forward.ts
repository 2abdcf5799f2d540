/**
 * Port forwarding benchmark: the built CLI (`ssm-proxy forward`) against the fake SSM service's
 * agent, a local bulk TCP server behind it.
 *
 *   single stream   one connection downloads (and one uploads) N MiB: MB/s, fast and realistic agent
 *   50 streams      50 connections download M MiB each at once: aggregate MB/s
 *   set-up          a new connection's first answered byte, median and p90 of 20 in a row
 *   memory          ssm-proxy's RSS on an idle tunnel, and its peak while 50 streams run
 *
 * `benchForward(options)` returns the figures (scripts/bench.ts hooks it in); run directly
 * (`npm run build && node --import tsx scripts/bench-forward.ts`) it prints them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect, createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startFakeSsm, type FakeSsm } from '../test/fake-ssm/index.js';
import { TEST_CREDENTIALS } from '../test/fake-ssm/scripted-client.js';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const TARGET = 'i-0123456789abcdef0';
const MiB = 1024 * 1024;

export interface BenchForwardOptions {
  /** The ssm-proxy program as argv words; default this Node and lib/cli/main.js. */
  ssmProxy?: string[];
  singleStreamMiB?: number;
  realisticSingleStreamMiB?: number;
  streams?: number;
  perStreamMiB?: number;
  setupSamples?: number;
  log?: (line: string) => void;
}

export interface BenchForwardResult {
  singleStreamDownloadMBps: { fast: number; realistic: number };
  singleStreamUploadMBps: number;
  aggregateMBps: number;
  streams: number;
  setupMs: { median: number; p90: number };
  rssMB: { idle: number; peakWithStreams: number; delta: number };
}

/** A bulk server: `D <bytes>\n` → that many bytes back; `U <bytes>\n` + bytes → `ok\n`. */
async function startBulkServer(): Promise<Server> {
  const pattern = Buffer.alloc(64 * 1024);
  for (let i = 0; i < pattern.length; i++) pattern[i] = (i * 31 + 7) & 0xff;
  const server = createServer((socket) => {
    socket.on('error', () => undefined);
    let header = '';
    let uploadLeft = -1;
    socket.on('data', (chunk: Buffer) => {
      if (uploadLeft >= 0) {
        uploadLeft -= chunk.length;
        if (uploadLeft <= 0) socket.end('ok\n');
        return;
      }
      header += chunk.toString('latin1');
      const newline = header.indexOf('\n');
      if (newline < 0) return;
      const [kind, count] = header.slice(0, newline).split(' ');
      const bytes = Number(count);
      if (kind === 'U') {
        uploadLeft = bytes - (Buffer.byteLength(header, 'latin1') - newline - 1);
        if (uploadLeft <= 0) socket.end('ok\n');
        return;
      }
      let left = bytes;
      const pump = () => {
        while (left > 0) {
          const piece = pattern.subarray(0, Math.min(pattern.length, left));
          left -= piece.length;
          if (!socket.write(piece)) {
            socket.once('drain', pump);
            return;
          }
        }
        socket.end();
      };
      pump();
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return server;
}

interface RunningTunnel {
  child: ChildProcess;
  port: number;
  stop(): Promise<void>;
}

async function startTunnel(ssmProxy: string[], fake: FakeSsm, home: string): Promise<RunningTunnel> {
  const child = spawn(ssmProxy[0]!, [...ssmProxy.slice(1), 'forward', TARGET, '9000', '--host', 'bulk.internal', '--endpoint-url', fake.endpointUrl, '--region', 'us-east-1'], {
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: home,
      AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
      AWS_REGION: 'us-east-1',
      AWS_CONFIG_FILE: join(home, 'aws-config'),
      AWS_SHARED_CREDENTIALS_FILE: join(home, 'aws-credentials'),
      AWS_EC2_METADATA_DISABLED: 'true',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const exited = new Promise<void>((done) => child.once('close', () => done()));
  let stderr = '';
  const port = await new Promise<number>((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`no ready line: ${stderr}`)), 30_000);
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const match = /^forwarding 127\.0\.0\.1:(\d+) /m.exec(stderr);
      if (match) {
        clearTimeout(timer);
        done(Number(match[1]));
      }
    });
    void exited.then(() => fail(new Error(`ssm-proxy forward exited: ${stderr}`)));
  });
  return {
    child,
    port,
    stop: async () => {
      child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Downloads `bytes` through `port`; resolves with the seconds it took and the first-byte delay. */
function download(port: number, bytes: number): Promise<{ seconds: number; firstByteMs: number }> {
  return new Promise((done, fail) => {
    const started = performance.now();
    let firstByteMs = -1;
    let received = 0;
    const socket = connect({ host: '127.0.0.1', port }, () => socket.write(`D ${bytes}\n`));
    socket.on('data', (chunk: Buffer) => {
      if (firstByteMs < 0) firstByteMs = performance.now() - started;
      received += chunk.length;
    });
    socket.on('error', fail);
    socket.on('end', () => {
      socket.end();
      if (received !== bytes) fail(new Error(`received ${received} of ${bytes} bytes`));
      else done({ seconds: (performance.now() - started) / 1000, firstByteMs });
    });
  });
}

function upload(port: number, bytes: number): Promise<number> {
  return new Promise((done, fail) => {
    const started = performance.now();
    const chunk = Buffer.alloc(64 * 1024, 0x5a);
    const socket = connect({ host: '127.0.0.1', port }, () => {
      socket.write(`U ${bytes}\n`);
      let left = bytes;
      const pump = () => {
        while (left > 0) {
          const piece = chunk.subarray(0, Math.min(chunk.length, left));
          left -= piece.length;
          if (!socket.write(piece)) {
            socket.once('drain', pump);
            return;
          }
        }
      };
      pump();
    });
    socket.on('data', () => undefined);
    socket.on('error', fail);
    socket.on('end', () => {
      socket.end();
      done((performance.now() - started) / 1000);
    });
  });
}

function rssMB(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : NaN;
}

const round = (value: number, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;

export async function benchForward(options: BenchForwardOptions = {}): Promise<BenchForwardResult> {
  const log = options.log ?? (() => {});
  const ssmProxy = options.ssmProxy ?? [process.execPath, join(REPO_ROOT, 'lib', 'cli', 'main.js')];
  const streams = options.streams ?? 50;
  const home = await mkdtemp(join(tmpdir(), 'ssm-proxy-bench-forward-'));
  await writeFile(join(home, 'aws-config'), '');
  await writeFile(join(home, 'aws-credentials'), '');
  const bulk = await startBulkServer();
  const destination = `127.0.0.1:${(bulk.address() as AddressInfo).port}`;
  const fakes: FakeSsm[] = [];
  const tunnels: RunningTunnel[] = [];
  const open = async (pacing: 'fast' | 'realistic') => {
    const fake = await startFakeSsm({ verifySignature: TEST_CREDENTIALS, agentPacing: pacing, portForward: { destinations: { 'bulk.internal:9000': destination } } });
    fakes.push(fake);
    const tunnel = await startTunnel(ssmProxy, fake, home);
    tunnels.push(tunnel);
    return tunnel;
  };
  try {
    const fast = await open('fast');
    await download(fast.port, 1024); // warm up: the first stream, the JIT
    await new Promise((done) => setTimeout(done, 500));
    const idle = rssMB(fast.child.pid!);

    const singleMiB = options.singleStreamMiB ?? 64;
    const single = await download(fast.port, singleMiB * MiB);
    const fastMBps = (singleMiB * MiB) / 1e6 / single.seconds;
    log(`single stream download (fast agent): ${round(fastMBps)} MB/s`);
    const up = await upload(fast.port, singleMiB * MiB);
    const upMBps = (singleMiB * MiB) / 1e6 / up;
    log(`single stream upload: ${round(upMBps)} MB/s`);

    const setups: number[] = [];
    for (let i = 0; i < (options.setupSamples ?? 20); i++) setups.push((await download(fast.port, 16)).firstByteMs);
    setups.sort((a, b) => a - b);
    const setupMs = { median: round(setups[Math.floor(setups.length / 2)]!), p90: round(setups[Math.floor(setups.length * 0.9)]!) };
    log(`new connection to first byte: median ${setupMs.median} ms, p90 ${setupMs.p90} ms`);

    const perStream = (options.perStreamMiB ?? 4) * MiB;
    let peak = rssMB(fast.child.pid!);
    const sampler = setInterval(() => (peak = Math.max(peak, rssMB(fast.child.pid!))), 20);
    const started = performance.now();
    await Promise.all(Array.from({ length: streams }, () => download(fast.port, perStream)));
    const aggregateMBps = (streams * perStream) / 1e6 / ((performance.now() - started) / 1000);
    clearInterval(sampler);
    log(`${streams} streams at once: ${round(aggregateMBps)} MB/s aggregate; RSS idle ${round(idle)} MB, peak ${round(peak)} MB`);

    const realistic = await open('realistic');
    const realisticMiB = options.realisticSingleStreamMiB ?? 8;
    const slow = await download(realistic.port, realisticMiB * MiB);
    const realisticMBps = (realisticMiB * MiB) / 1e6 / slow.seconds;
    log(`single stream download (realistic agent, 1 ms per message): ${round(realisticMBps)} MB/s`);

    return {
      singleStreamDownloadMBps: { fast: round(fastMBps), realistic: round(realisticMBps) },
      singleStreamUploadMBps: round(upMBps),
      aggregateMBps: round(aggregateMBps),
      streams,
      setupMs,
      rssMB: { idle: round(idle), peakWithStreams: round(peak), delta: round(peak - idle) },
    };
  } finally {
    await Promise.allSettled(tunnels.map((tunnel) => tunnel.stop()));
    await Promise.allSettled(fakes.map((fake) => fake.close()));
    await new Promise<void>((done) => bulk.close(() => done()));
    await rm(home, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const result = await benchForward({ log: (line) => process.stdout.write(`${line}\n`) });
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}
