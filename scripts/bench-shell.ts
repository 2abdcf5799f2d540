/**
 * Keystroke echo latency of `ssm-proxy shell` (issue 14): the time from a key written to the
 * client until the remote terminal's echo of it comes back out, p50 and p95 over N keys, through
 * the fake SSM service with a delayed link in front of its websocket — against the same through
 * `ssh -tt` to a local sshd over the same kind of link. Target: p50 within 5 ms of the channel's
 * round trip.
 *
 *   ssm-proxy shell ─ws─▶ relay (d each way) ─▶ fake SSM ─▶ python pty ─▶ sh     (echo by the pty)
 *   ssh -tt        ─tcp─▶ relay (d each way) ─▶ sshd ─▶ pty ─▶ sh
 *
 * `benchShell(options)` is what `npm run bench` calls; run this file directly for a one-off.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer, Socket, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startSshd } from '../test/e2e/sshd.js';
import { startFakeSsm } from '../test/fake-ssm/index.js';
import { TEST_CREDENTIALS } from '../test/fake-ssm/scripted-client.js';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const TARGET_ID = 'i-0123456789abcdef0';
const PROMPT = 'remote$ ';

export interface BenchShellOptions {
  /** Keys to time. Default 200. */
  keys?: number;
  /** Added one-way delay of the link, in ms (the round trip is twice this). Default 20. */
  oneWayMs?: number;
  /** Pause between keys, ms. Default 20. */
  gapMs?: number;
  /** The ssm-proxy program as argv words. Default this Node and lib/cli/main.js (run `npm run build` first). */
  ssmProxy?: string[];
  /** A delaying TCP relay in front of `targetPort`; default a small one in this file. */
  startRelay?: (targetPort: number, oneWayMs: number) => Promise<{ port: number; close(): Promise<void> }>;
  /** Also time `ssh -tt` against a local sshd. Default true. */
  compareSsh?: boolean;
  log?: (line: string) => void;
}

export interface LatencySummary {
  keys: number;
  p50Ms: number;
  p95Ms: number;
  maxMs: number;
}

export interface BenchShellResult {
  roundTripMs: number;
  ssmProxy: LatencySummary;
  ssh: LatencySummary | undefined;
}

export async function benchShell(options: BenchShellOptions = {}): Promise<BenchShellResult> {
  const keys = options.keys ?? 200;
  const oneWayMs = options.oneWayMs ?? 20;
  const gapMs = options.gapMs ?? 20;
  const log = options.log ?? (() => {});
  const startRelay = options.startRelay ?? startDelayRelay;
  const dir = await mkdtemp(join(tmpdir(), 'ssm-proxy-bench-shell-'));
  const cleanups: (() => Promise<unknown>)[] = [() => rm(dir, { recursive: true, force: true })];
  try {
    const fake = await startFakeSsm({ shell: { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, PS1: PROMPT }, cwd: dir } });
    cleanups.unshift(() => fake.close());
    const relay = await startRelay(fake.port, oneWayMs);
    cleanups.unshift(() => relay.close());
    const program = options.ssmProxy ?? [process.execPath, join(REPO_ROOT, 'lib', 'cli', 'main.js')];
    const env = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: dir,
      AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
      AWS_CONFIG_FILE: join(dir, 'none'),
      AWS_SHARED_CREDENTIALS_FILE: join(dir, 'none'),
      AWS_EC2_METADATA_DISABLED: 'true',
    };
    const args = ['shell', TARGET_ID, '--region', 'us-east-1', '--endpoint-url', fake.endpointUrl, '--ssmmessages-endpoint', `ws://127.0.0.1:${relay.port}`];
    log(`ssm-proxy shell: ${keys} keys over a ${2 * oneWayMs} ms round trip`);
    const ssmProxy = await timeKeystrokes(spawn(program[0]!, [...program.slice(1), ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] }), keys, gapMs);

    let ssh: LatencySummary | undefined;
    if (options.compareSsh ?? true) {
      await mkdir(join(dir, 'sshd'));
      const sshd = await startSshd(join(dir, 'sshd'));
      cleanups.unshift(() => sshd.stop());
      const sshRelay = await startRelay(sshd.port, oneWayMs);
      cleanups.unshift(() => sshRelay.close());
      log(`ssh -tt: ${keys} keys over a ${2 * oneWayMs} ms round trip`);
      const sshArgs = [
        '-tt', '-F', '/dev/null', '-p', String(sshRelay.port), '-i', sshd.clientKeyPath, '-o', 'IdentitiesOnly=yes',
        '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'BatchMode=yes', '-o', 'LogLevel=ERROR',
        `${sshd.user}@127.0.0.1`, `PS1='${PROMPT}' exec sh -i`,
      ];
      ssh = await timeKeystrokes(spawn('ssh', sshArgs, { env: { PATH: env.PATH, HOME: dir }, stdio: ['pipe', 'pipe', 'pipe'] }), keys, gapMs);
    }
    return { roundTripMs: 2 * oneWayMs, ssmProxy, ssh };
  } finally {
    for (const cleanup of cleanups) await cleanup().catch(() => undefined);
  }
}

/**
 * Waits for the prompt, then sends one letter at a time and times its echo; ends the remote shell.
 * The child's stdin is a pipe: the remote pty echoes what it receives, as it does for a terminal.
 */
async function timeKeystrokes(child: ChildProcess, keys: number, gapMs: number): Promise<LatencySummary> {
  let output = '';
  let waiter: (() => void) | undefined;
  child.stdout!.setEncoding('latin1');
  child.stdout!.on('data', (text: string) => {
    output += text;
    waiter?.();
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolvePromise) => child.on('exit', (code) => resolvePromise(code)));
  const waitFor = (done: () => boolean, timeoutMs: number, what: string) =>
    new Promise<void>((resolvePromise, reject) => {
      if (done()) return resolvePromise();
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}; stderr: ${stderr.trim()}`)), timeoutMs);
      waiter = () => {
        if (!done()) return;
        clearTimeout(timer);
        waiter = undefined;
        resolvePromise();
      };
    });
  try {
    await waitFor(() => output.includes(PROMPT.trimEnd()), 30_000, 'the prompt');
    await sleep(300);
    const samples: number[] = [];
    for (let index = 0; index < keys; index++) {
      const key = String.fromCharCode(97 + (index % 26));
      const seen = output.length;
      const sent = performance.now();
      child.stdin!.write(key);
      await waitFor(() => output.indexOf(key, seen) >= 0, 10_000, `the echo of key ${index + 1}`);
      samples.push(performance.now() - sent);
      await sleep(gapMs);
    }
    child.stdin!.write('\x15exit\n'); // Ctrl-U drops the typed letters
    const code = await Promise.race([exited, sleep(10_000).then(() => 'timeout' as const)]);
    if (code === 'timeout') child.kill('SIGTERM');
    return summarize(samples);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
}

function summarize(samples: number[]): LatencySummary {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (fraction: number) => sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)]!;
  const round = (ms: number) => Math.round(ms * 10) / 10;
  return { keys: samples.length, p50Ms: round(at(0.5)), p95Ms: round(at(0.95)), maxMs: round(sorted.at(-1)!) };
}

/** A TCP relay that holds every chunk `oneWayMs` in each direction, in order. */
async function startDelayRelay(targetPort: number, oneWayMs: number): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const delayed = (from: Socket, to: Socket) => {
    let last = 0;
    from.on('data', (chunk: Buffer) => {
      // FIFO: never release a chunk before the one ahead of it.
      const due = Math.max(performance.now() + oneWayMs, last);
      last = due;
      setTimeout(() => to.write(chunk), due - performance.now());
    });
    from.on('end', () => setTimeout(() => to.end(), Math.max(0, last - performance.now()) + oneWayMs));
  };
  const server: Server = createServer({ allowHalfOpen: true }, (client) => {
    const target = new Socket({ allowHalfOpen: true });
    target.connect(targetPort, '127.0.0.1');
    for (const socket of [client, target]) {
      socket.setNoDelay(true);
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {
        client.destroy();
        target.destroy();
      });
    }
    delayed(client, target);
    delayed(target, client);
  });
  await new Promise<void>((resolvePromise) => server.listen(0, '127.0.0.1', resolvePromise));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise((resolvePromise) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolvePromise());
      }),
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolvePromise) => setTimeout(resolvePromise, ms));
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const oneWayMs = Number(process.env.BENCH_ONE_WAY_MS ?? 20);
  const result = await benchShell({ oneWayMs, keys: Number(process.env.BENCH_KEYS ?? 200), log: (line) => process.stderr.write(`${line}\n`) });
  const row = (name: string, summary: LatencySummary | undefined) =>
    summary ? `| ${name} | ${summary.keys} | ${summary.p50Ms} | ${summary.p95Ms} | ${summary.maxMs} |` : '';
  process.stdout.write(
    [
      `keystroke echo latency, round trip ${result.roundTripMs} ms (ms)`,
      '| client | keys | p50 | p95 | max |',
      '|---|---:|---:|---:|---:|',
      row('ssm-proxy shell', result.ssmProxy),
      row('ssh -tt', result.ssh),
      '',
    ].join('\n'),
  );
  process.exit(0);
}
