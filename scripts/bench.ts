/**
 * `npm run bench`: speed and memory of ssm-proxy, side by side with direct ssh to the same sshd.
 *
 *   npm run bench                    # full run, a few minutes
 *   npm run bench -- --quick         # under a minute
 *   npm run bench -- --binary dist/ssm-proxy   # measure the packaged executable instead of node + lib/
 *
 * Everything runs on this machine: a throwaway sshd, the fake SSM service (agent pacing "fast" =
 * no sleeps, "realistic" = 1 KiB reads + 1 ms per message like the real agent), real ssh/scp/rsync.
 * ssm-proxy's own figures (phase timings, peak RSS, CPU) come from its `-v` log, which it writes
 * at the end of every session. Prints a table and writes bench-results/latest.json.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startTcpTarget, startSession } from '../test/fake-ssm/test-helpers.js';
import { ScriptedClient } from '../test/fake-ssm/scripted-client.js';
import { describeRun, makeRandomFile, makeTree, REPO_ROOT, sha256File, startHarness, treeDigest } from '../test/e2e/harness.js';
import { freePort } from '../test/e2e/sshd.js';
import { run, spawnTracked, stopChild } from '../test/e2e/processes.js';

const MiB = 1 << 20;
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const { values: flags } = parseArgs({
  options: { quick: { type: 'boolean', default: false }, binary: { type: 'string' }, out: { type: 'string' } },
});
const quick = flags.quick ?? false;
const plan = {
  latencyRuns: quick ? 5 : 9,
  fastSizes: quick ? [16 * MiB, 64 * MiB] : [64 * MiB, 256 * MiB],
  realisticBytes: quick ? 4 * MiB : 16 * MiB,
  treeFiles: quick ? 300 : 2000,
};

interface ProxyFigures {
  timings?: Record<string, number>;
  peakRssMb?: number;
  cpuSeconds?: number;
}

interface Row {
  case: string;
  mode: string;
  bytes?: number;
  seconds: number;
  mbPerSecond?: number;
  direct?: { seconds: number; mbPerSecond?: number };
  proxy?: ProxyFigures;
  intact?: boolean;
}

const rows: Row[] = [];
const program = flags.binary ? [resolve(flags.binary)] : [process.execPath, join(REPO_ROOT, 'lib', 'cli', 'main.js')];

const fakePort = await freePort();
const logFile = join('/tmp', `ssm-proxy-bench-${process.pid}.log`);
const harness = await startHarness({
  fake: { port: fakePort },
  proxyCommand: [
    ...program,
    'connect %h %p --region us-east-1',
    `--endpoint-url http://127.0.0.1:${fakePort}`,
    `-v --log-file ${logFile}`,
  ].join(' '),
});
const direct = ['-o', 'ProxyCommand=none', '-o', 'HostName=127.0.0.1'];
// sshd and the clients run in their own process groups; an interrupted bench must still stop them.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void harness.stop().finally(() => process.exit(130)));
}
let logOffset = 0;

try {
  log(`ssm-proxy bench (${quick ? 'quick' : 'full'}) on ${cpus().length} × ${cpus()[0]?.model.trim()}, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}`);
  log(`client: ${program.join(' ')}\n`);
  await latency();
  for (const mode of ['fast', 'realistic'] as const) await transfers(mode);
  await rsyncTree();
  await rawChannel();
  printTable();
  const out = flags.out ?? join(REPO_ROOT, 'bench-results', 'latest.json');
  await mkdir(join(out, '..'), { recursive: true });
  await writeFile(out, `${JSON.stringify({ date: new Date().toISOString(), quick, client: program.join(' '), machine: { cpus: cpus().length, model: cpus()[0]?.model, memGiB: Math.round(totalmem() / 2 ** 30) }, rows }, null, 2)}\n`);
  log(`\nwrote ${out}`);
} finally {
  await harness.stop();
  await rm(logFile, { force: true });
}

/** `ssh alias true`: through ssm-proxy and direct; median wall time and ssm-proxy's phase breakdown. */
async function latency(): Promise<void> {
  const through: number[] = [];
  const directly: number[] = [];
  const phases: Record<string, number[]> = {};
  for (let i = 0; i < plan.latencyRuns; i++) {
    const viaProxy = await harness.runSsh(harness.alias, 'true');
    check(viaProxy.code === 0, 'ssh through ssm-proxy', describeRun(viaProxy));
    through.push(viaProxy.durationMs);
    for (const [phase, ms] of Object.entries((await proxyFigures()).timings ?? {})) (phases[phase] ??= []).push(ms);
    const straight = await runProgram('ssh', ['-F', harness.sshConfigPath, ...direct, harness.alias, 'true']);
    check(straight.code === 0, 'direct ssh', describeRun(straight));
    directly.push(straight.durationMs);
  }
  const timings = Object.fromEntries(Object.entries(phases).map(([phase, list]) => [phase, median(list)]));
  rows.push({
    case: 'ssh alias true',
    mode: 'fast',
    seconds: median(through) / 1000,
    direct: { seconds: median(directly) / 1000 },
    proxy: { timings },
  });
}

function runProgram(command: string, args: string[]) {
  return run(command, args, { env: harness.env, timeoutMs: 600_000 });
}

/** scp up and down through ssm-proxy (and direct, in fast mode) with sha256 checks. */
async function transfers(mode: 'fast' | 'realistic'): Promise<void> {
  harness.fake.options.agentPacing = mode;
  const sizes = mode === 'fast' ? plan.fastSizes : [plan.realisticBytes];
  for (const bytes of sizes) {
    const local = join(harness.dir, `bench-${bytes}.bin`);
    const remote = join(harness.dir, `bench-${bytes}.remote`);
    const back = join(harness.dir, `bench-${bytes}.back`);
    await makeRandomFile(local, bytes);
    const expected = await sha256File(local);
    for (const direction of ['upload', 'download'] as const) {
      const [from, to] = direction === 'upload' ? [local, `${harness.alias}:${remote}`] : [`${harness.alias}:${remote}`, back];
      const through = await harness.runScp([from, to], { timeoutMs: 900_000 });
      check(through.code === 0, `scp ${direction} through ssm-proxy`, describeRun(through));
      const intact = (await sha256File(direction === 'upload' ? remote : back)) === expected;
      check(intact, `scp ${direction} through ssm-proxy`, 'sha256 differs');
      const proxy = await proxyFigures();
      let directFigures: Row['direct'];
      if (mode === 'fast') {
        const straight = await harness.runScp([...direct, from, to], { timeoutMs: 900_000 });
        check(straight.code === 0, `direct scp ${direction}`, describeRun(straight));
        directFigures = { seconds: straight.durationMs / 1000, mbPerSecond: bytes / 1e6 / (straight.durationMs / 1000) };
      }
      rows.push({
        case: `scp ${direction} ${bytes / MiB} MiB`,
        mode,
        bytes,
        seconds: through.durationMs / 1000,
        mbPerSecond: bytes / 1e6 / (through.durationMs / 1000),
        ...(directFigures ? { direct: directFigures } : {}),
        proxy,
        intact,
      });
    }
    await Promise.all([rm(local), rm(remote), rm(back, { force: true })]);
  }
  harness.fake.options.agentPacing = 'fast';
}

/** rsync -a of a tree of many small files (plus one 4 MiB file), through ssm-proxy and direct. */
async function rsyncTree(): Promise<void> {
  const source = join(harness.dir, 'bench-tree');
  const target = join(harness.dir, 'bench-tree-remote');
  await makeTree(source, { smallFiles: plan.treeFiles, largeBytes: 4 * MiB });
  const expected = await treeDigest(source);
  const through = await harness.runRsync(['-a', `${source}/`, `${harness.alias}:${target}/`], { timeoutMs: 600_000 });
  check(through.code === 0, 'rsync through ssm-proxy', describeRun(through));
  const intact = (await treeDigest(target)).digest === expected.digest;
  check(intact, 'rsync through ssm-proxy', 'tree differs');
  const proxy = await proxyFigures();
  await rm(target, { recursive: true });
  const straight = await runProgram('rsync', ['-a', '-e', `ssh -F ${harness.sshConfigPath} ${direct.join(' ')}`, `${source}/`, `${harness.alias}:${target}/`]);
  check(straight.code === 0, 'direct rsync', describeRun(straight));
  rows.push({
    case: `rsync ${expected.files} files`,
    mode: 'fast',
    seconds: through.durationMs / 1000,
    direct: { seconds: straight.durationMs / 1000 },
    proxy,
    intact,
  });
}

/**
 * Without ssh: `ssm-proxy connect` reading a stream from a TCP source, against a minimal client
 * that does nothing but acknowledge. With the realistic agent, the minimal client measures what
 * the agent can send; ssm-proxy should get (nearly) all of it.
 */
async function rawChannel(): Promise<void> {
  for (const mode of ['fast', 'realistic'] as const) {
    const bytes = mode === 'fast' ? plan.fastSizes[0]! : plan.realisticBytes;
    const source = await startTcpTarget((socket) => sendBytes(socket, bytes));
    harness.fake.options.agentPacing = mode;
    harness.fake.options.targetPortOverride = source.port;
    try {
      const proxySeconds = await rawDownloadThroughProxy(bytes);
      const proxy = await proxyFigures();
      const minimalSeconds = await rawDownloadMinimalClient(bytes);
      rows.push({
        case: `raw download ${bytes / MiB} MiB (no ssh)`,
        mode,
        bytes,
        seconds: proxySeconds,
        mbPerSecond: bytes / 1e6 / proxySeconds,
        direct: { seconds: minimalSeconds, mbPerSecond: bytes / 1e6 / minimalSeconds },
        proxy,
      });
    } finally {
      harness.fake.options.targetPortOverride = undefined;
      harness.fake.options.agentPacing = 'fast';
      await source.close();
    }
  }
}

function sendBytes(socket: import('node:net').Socket, bytes: number): void {
  const chunk = Buffer.alloc(64 * 1024, 0x5a);
  let left = bytes;
  const pump = () => {
    while (left > 0) {
      const piece = chunk.subarray(0, Math.min(chunk.length, left));
      left -= piece.length;
      if (!socket.write(piece)) return void socket.once('drain', pump);
    }
    socket.end();
  };
  pump();
}

async function rawDownloadThroughProxy(bytes: number): Promise<number> {
  const [command, ...prefix] = program;
  const child = spawnTracked(command!, [...prefix, ...harness.connectArgs(), '-v', '--log-file', logFile], {
    env: harness.env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let received = 0;
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk));
  // From the first byte to the last: the stream's rate, without process start and StartSession.
  let firstByteAt = 0;
  let lastByteAt = 0;
  child.stdout!.on('data', (chunk: Buffer) => {
    lastByteAt = performance.now();
    firstByteAt ||= lastByteAt;
    received += chunk.length;
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  const seconds = (lastByteAt - firstByteAt) / 1000;
  await stopChild(child, 'SIGKILL', 100);
  check(code === 0 && received === bytes, 'raw download through ssm-proxy', `exit ${code}, ${received} of ${bytes} bytes; ${stderr.trim()} ${(await readFile(logFile, 'utf8')).slice(logOffset).slice(-600)}`);
  return seconds;
}

async function rawDownloadMinimalClient(bytes: number): Promise<number> {
  const session = await startSession(harness.fake, 22);
  const client = await ScriptedClient.connect(session.StreamUrl, session.TokenValue);
  try {
    await client.waitFor(() => client.receivedBytes > 0, 60_000, 'minimal client first byte');
    const started = performance.now();
    const startBytes = client.receivedBytes;
    await client.waitFor(() => client.receivedBytes >= bytes, 600_000, 'minimal client download');
    // Scaled to the whole size, as the first chunk arrived before the clock started.
    return ((performance.now() - started) / 1000) * (bytes / (bytes - startBytes));
  } finally {
    client.close();
  }
}

/** Reads the log lines ssm-proxy appended since the last call and extracts its figures. */
async function proxyFigures(): Promise<ProxyFigures> {
  const text = await readFile(logFile, 'utf8').catch(() => '');
  const fresh = text.slice(logOffset);
  logOffset = text.length;
  const figures: ProxyFigures = {};
  const timings = /timings: (.*) \(total (\d+) ms\)/.exec(fresh);
  if (timings) {
    figures.timings = Object.fromEntries(
      timings[1]!.split(', ').map((part) => {
        const match = /^(.*) (\d+) ms$/.exec(part)!;
        return [match[1]!, Number(match[2])];
      }),
    );
    figures.timings.total = Number(timings[2]);
  }
  const stats = /peak RSS (\d+) MB, CPU ([\d.]+) s user \+ ([\d.]+) s system/.exec(fresh);
  if (stats) {
    figures.peakRssMb = Number(stats[1]);
    figures.cpuSeconds = Number((Number(stats[2]) + Number(stats[3])).toFixed(2));
  }
  return figures;
}

function printTable(): void {
  const header = ['case', 'agent', 'ssm-proxy', 'direct ssh / minimal client', 'ssm-proxy peak RSS', 'ssm-proxy CPU'];
  const lines = rows.map((row) => [
    row.case,
    row.mode,
    row.mbPerSecond ? `${row.mbPerSecond.toFixed(1)} MB/s (${row.seconds.toFixed(2)} s)` : `${(row.seconds * 1000).toFixed(0)} ms`,
    row.direct ? (row.direct.mbPerSecond ? `${row.direct.mbPerSecond.toFixed(1)} MB/s (${row.direct.seconds.toFixed(2)} s)` : `${(row.direct.seconds * 1000).toFixed(0)} ms`) : '–',
    row.proxy?.peakRssMb ? `${row.proxy.peakRssMb} MB` : '–',
    row.proxy?.cpuSeconds !== undefined ? `${row.proxy.cpuSeconds} s` : '–',
  ]);
  const widths = header.map((title, i) => Math.max(title.length, ...lines.map((line) => line[i]!.length)));
  const format = (cells: string[]) => `| ${cells.map((cell, i) => cell.padEnd(widths[i]!)).join(' | ')} |`;
  log(format(header));
  log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const line of lines) log(format(line));
  const latencyRow = rows.find((row) => row.case === 'ssh alias true');
  if (latencyRow?.proxy?.timings) {
    log(`\nssh alias true, ssm-proxy phases (median ms): ${Object.entries(latencyRow.proxy.timings).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  }
}

function check(ok: boolean, what: string, detail: string): asserts ok {
  if (!ok) throw new Error(`bench: ${what} failed: ${detail}`);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}
