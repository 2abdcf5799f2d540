/**
 * `npm run bench`: speed and memory of ssm-proxy, side by side with direct ssh to the same sshd.
 *
 *   npm run bench                    # full run, a few minutes
 *   npm run bench -- --quick         # about a minute and a half
 *   npm run bench -- --binary dist/ssm-proxy   # measure the packaged executable instead of node + lib/
 *
 * Everything runs on this machine: a throwaway sshd, the fake SSM service (agent pacing "fast" =
 * no sleeps, "realistic" = 1 KiB reads + 1 ms per message like the real agent), real ssh/scp/rsync.
 * ssm-proxy's own figures (phase timings, peak RSS, CPU) come from its `-v` log, which it writes
 * at the end of every session. Connect times are also measured through the latency model
 * (test/helpers/latency-relay.ts) over TLS with an SSO profile (scripts/bench-connect.ts).
 * Prints tables and writes bench-results/latest.json, with the machine's load average.
 */
import { copyFile, mkdir, open, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startTcpTarget, startSession } from '../test/fake-ssm/test-helpers.js';
import { ScriptedClient } from '../test/fake-ssm/scripted-client.js';
import { describeRun, makeRandomFile, makeTree, REPO_ROOT, sha256File, startHarness, treeDigest } from '../test/e2e/harness.js';
import { freePort } from '../test/e2e/sshd.js';
import { run, spawnTracked, stopChild } from '../test/e2e/processes.js';
import { coldConnect, startCorporateRig, type ColdConnect } from './bench-connect.js';
import { median, medianOf, parseProxyLog, type ProxyFigures } from './bench-log.js';

const MiB = 1 << 20;
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const { values: flags } = parseArgs({
  options: { quick: { type: 'boolean', default: false }, binary: { type: 'string' }, out: { type: 'string' } },
});
const quick = flags.quick ?? false;
const plan = {
  latencyRuns: quick ? 5 : 9,
  connectRuns: quick ? 5 : 9,
  lateDialRuns: quick ? 3 : 9,
  /** One-way delays of the latency model for the connect rows, ms. */
  oneWayMs: [0, 25],
  fastSizes: quick ? [64 * MiB] : [64 * MiB, 256 * MiB],
  rawFastBytes: quick ? 16 * MiB : 64 * MiB,
  realisticBytes: quick ? 1 * MiB : 16 * MiB,
  /** Bytes of the text corpus (TypeScript's own typescript.js) downloaded with and without compression; 0 = all. */
  textBytes: quick ? 2 * MiB : 0,
  /** Random data of the text corpus's size as well (compression gains nothing there). */
  randomForCompression: !quick,
  treeFiles: quick ? 300 : 2000,
};
/** The text corpus: the TypeScript compiler's own JavaScript, shipped in node_modules. */
const TEXT_CORPUS = join(REPO_ROOT, 'node_modules', 'typescript', 'lib', 'typescript.js');

interface Row {
  case: string;
  mode: string;
  bytes?: number;
  seconds: number;
  mbPerSecond?: number;
  direct?: { seconds: number; mbPerSecond?: number };
  proxy?: ProxyFigures;
  /** ssm-proxy's CPU per MiB moved: gross (whole process), and net of an idle session's CPU. */
  cpuMsPerMiB?: { gross: number; net: number };
  intact?: boolean;
}

interface ConnectRow {
  case: string;
  oneWayMs: number;
  runs: number;
  /** Medians, ms. */
  firstByteMs: number;
  replyMs: number;
  phases: Record<string, number>;
  /** Median turns each relay saw before the first byte (parallel connections all count). */
  wireRoundTrips?: Record<string, number>;
  notReady?: number;
  cpuSeconds: number;
  /** Median peak RSS of the idle session (VmHWM, MB). */
  peakRssMb: number;
  all: { firstByteMs: number[]; replyMs: number[] };
}

const rows: Row[] = [];
const connectRows: ConnectRow[] = [];
const summary: Record<string, unknown> = {};
const program = flags.binary ? [resolve(flags.binary)] : [process.execPath, join(REPO_ROOT, 'lib', 'cli', 'main.js')];
const load: { at: string; loadavg: number[] }[] = [];
const noteLoad = (at: string) => load.push({ at, loadavg: loadavg().map((n) => Number(n.toFixed(2))) });

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
  const started = performance.now();
  noteLoad('start');
  log(`ssm-proxy bench (${quick ? 'quick' : 'full'}) on ${cpus().length} × ${cpus()[0]?.model.trim()}, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}`);
  log(`client: ${program.join(' ')}`);
  log(`load average at start: ${load[0]!.loadavg.join(' ')}\n`);
  await latency();
  await connectTimes();
  await warmConnect();
  for (const mode of ['fast', 'realistic'] as const) await transfers(mode);
  await compression();
  await rsyncTree();
  await rawChannel();
  await shellKeystrokes();
  await portForwarding();
  noteLoad('end');
  printTable();
  const out = flags.out ?? join(REPO_ROOT, 'bench-results', 'latest.json');
  await mkdir(join(out, '..'), { recursive: true });
  const machine = { cpus: cpus().length, model: cpus()[0]?.model, memGiB: Math.round(totalmem() / 2 ** 30) };
  const document = { date: new Date().toISOString(), quick, client: program.join(' '), machine, load, seconds: Math.round((performance.now() - started) / 1000), summary, connect: connectRows, rows };
  await writeFile(out, `${JSON.stringify(document, null, 2)}\n`);
  log(`\nload average at end: ${load.at(-1)!.loadavg.join(' ')}; bench took ${document.seconds} s; wrote ${out}`);
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

/**
 * `ssm-proxy connect` alone, exec → the first SSH byte (median of N, with its phases): against the
 * harness's plain-http fake with static keys, and against the corporate rig (https/wss, SSO
 * profile, each endpoint behind the latency relay) at each one-way delay, runs interleaved.
 */
async function connectTimes(): Promise<void> {
  const connectLog = join(harness.dir, 'connect.log');
  const plain: ColdConnect[] = [];
  for (let i = 0; i < plan.connectRuns; i++) plain.push(await coldConnect(program, harness.connectArgs(), harness.env, connectLog, { fake: harness.fake }));
  connectRows.push(connectRow('http, static keys', 0, plain));
  summary.idleSessionCpuSeconds = median(plain.map((sample) => sample.proxy.cpuSeconds ?? NaN));
  // Measuring node + lib/, the same against the single executables a user of the binary runs,
  // built for the bench: npm run build:binary (this machine's Node 22 with the startup snapshot)
  // and with --no-snapshot (as build:binaries makes them), runs interleaved.
  const executables = flags.binary ? [] : await buildExecutables();
  const samples = executables.map((): ColdConnect[] => []);
  for (let i = 0; i < plan.connectRuns; i++) {
    for (const [index, executable] of executables.entries()) {
      samples[index]!.push(await coldConnect([executable.file], harness.connectArgs(), harness.env, connectLog, { fake: harness.fake }));
    }
  }
  for (const [index, executable] of executables.entries()) connectRows.push(connectRow(`http, static keys: ${executable.label}`, 0, samples[index]!));
  // The real agent starts its port plugin (and dials) some time after HandshakeComplete; data that
  // arrives before is "not ready" and waits for a resend. Here the fake dials 30 ms late.
  harness.fake.options.dialDelayMs = 30;
  try {
    const late: ColdConnect[] = [];
    for (let i = 0; i < plan.lateDialRuns; i++) late.push(await coldConnect(program, harness.connectArgs(), harness.env, connectLog, { fake: harness.fake }));
    connectRows.push(connectRow('http, static keys, agent dials 30 ms late', 0, late));
  } finally {
    harness.fake.options.dialDelayMs = 0;
  }
  const rig = await startCorporateRig(harness.sshd.port);
  try {
    const samples = new Map<number, ColdConnect[]>(plan.oneWayMs.map((ms) => [ms, []]));
    for (let i = 0; i < plan.connectRuns; i++) {
      for (const ms of plan.oneWayMs) {
        rig.setOneWayMs(ms);
        samples.get(ms)!.push(await coldConnect(program, rig.connectArgs, rig.env, connectLog, { relays: rig.relays, fake: rig.fake }));
      }
    }
    for (const [ms, list] of samples) connectRows.push(connectRow('https + SSO profile', ms, list));
  } finally {
    await rig.close();
  }
  // Round trips on the critical path: the time the delay added, in round trips (2 × one-way).
  const corporate = connectRows.filter((row) => row.case === 'https + SSO profile');
  const [low, high] = [corporate[0]!, corporate.at(-1)!];
  const rtt = 2 * (high.oneWayMs - low.oneWayMs);
  if (rtt > 0) {
    const inRoundTrips = (a: number, b: number) => Number(((b - a) / rtt).toFixed(1));
    // From medians, and from minima (the run least disturbed by other load on the machine).
    summary.criticalPathRoundTrips = {
      firstByte: inRoundTrips(low.firstByteMs, high.firstByteMs),
      reply: inRoundTrips(low.replyMs, high.replyMs),
      firstByteFromMinima: inRoundTrips(Math.min(...low.all.firstByteMs), Math.min(...high.all.firstByteMs)),
      replyFromMinima: inRoundTrips(Math.min(...low.all.replyMs), Math.min(...high.all.replyMs)),
      phases: Object.fromEntries(Object.keys(high.phases).map((phase) => [phase, inRoundTrips(low.phases[phase] ?? 0, high.phases[phase]!)])),
    };
  }
}

/** The single executable with and without its startup snapshot, built into the harness's folder; none (and why, in the log) where it cannot be built. */
async function buildExecutables(): Promise<{ label: string; file: string }[]> {
  const made: { label: string; file: string }[] = [];
  for (const [label, flag] of [['single executable, startup snapshot', '--snapshot'], ['single executable, no snapshot', '--no-snapshot']] as const) {
    const dir = join(harness.dir, `executable${flag}`);
    const built = await run('npm', ['run', '--silent', 'build:binary', '--', flag, '--out-dir', dir], { cwd: REPO_ROOT, timeoutMs: 600_000 });
    if (built.code !== 0) {
      log(`(no "${label}" row: npm run build:binary -- ${flag} failed: ${built.stderr.trim().split('\n').at(-1)})`);
      continue;
    }
    made.push({ label, file: join(dir, 'ssm-proxy') });
  }
  return made;
}

function connectRow(name: string, oneWayMs: number, samples: ColdConnect[]): ConnectRow {
  const firstByte = samples.map((sample) => sample.firstByteMs);
  const reply = samples.map((sample) => sample.replyMs);
  const round = (values: number[]) => values.map((value) => Math.round(value));
  return {
    case: name,
    oneWayMs,
    runs: samples.length,
    firstByteMs: Math.round(median(firstByte)),
    replyMs: Math.round(median(reply)),
    // Phases from ssm-proxy's log (from process start), plus what it cannot see: exec until
    // Node starts its clock, and streaming until the first byte reaches the reader.
    phases: medianOf(
      samples.map((sample) => ({
        ...sample.proxy.timings,
        ...(sample.proxy.timings?.total !== undefined ? { 'exec and delivery (outside the log)': sample.firstByteMs - sample.proxy.timings.total } : {}),
      })),
    ),
    ...(samples[0]?.roundTrips ? { wireRoundTrips: medianOf(samples.map((sample) => sample.roundTrips!)) } : {}),
    notReady: samples.reduce((sum, sample) => sum + (sample.notReady ?? 0), 0),
    cpuSeconds: median(samples.map((sample) => sample.proxy.cpuSeconds ?? NaN)),
    peakRssMb: median(samples.map((sample) => sample.proxy.peakRssMb ?? NaN)),
    all: { firstByteMs: round(firstByte), replyMs: round(reply) },
  };
}

/**
 * `ssh alias true` while an OpenSSH ControlMaster for the alias is up (the options are set here,
 * as install-host's fast block would), against direct ssh. The master's own session must serve
 * every run: StartSession is not called again.
 */
async function warmConnect(): Promise<void> {
  const controlPath = join(harness.dir, 'cm-%C');
  const mux = ['-o', 'ControlMaster=auto', '-o', `ControlPath=${controlPath}`, '-o', 'ControlPersist=120'];
  const ssh = (args: string[]) => runProgram('ssh', ['-F', harness.sshConfigPath, ...args]);
  // -f -N: the master goes to the background once authenticated. Its stdio must not be our pipes
  // (it outlives this call), so it is spawned here, not with run().
  const master = spawnTracked('ssh', ['-F', harness.sshConfigPath, ...mux, '-o', 'ControlMaster=yes', '-f', '-N', harness.alias], { env: harness.env, stdio: 'ignore' });
  const masterExit = await Promise.race([
    new Promise<number | null>((resolve) => master.once('exit', (code) => resolve(code))),
    new Promise<'late'>((resolve) => setTimeout(() => resolve('late'), 60_000).unref()),
  ]);
  try {
    check(masterExit === 0, 'ssh ControlMaster start', `exit ${masterExit}`);
    const startSessions = () => harness.fake.records.apiCalls.filter((call) => call.operation === 'StartSession').length;
    const sessionsBefore = startSessions();
    const warm: number[] = [];
    const directly: number[] = [];
    for (let i = 0; i < plan.latencyRuns; i++) {
      const viaMaster = await ssh([...mux, harness.alias, 'true']);
      check(viaMaster.code === 0, 'ssh through the ControlMaster', describeRun(viaMaster));
      warm.push(viaMaster.durationMs);
      const straight = await ssh([...direct, harness.alias, 'true']);
      check(straight.code === 0, 'direct ssh', describeRun(straight));
      directly.push(straight.durationMs);
    }
    check(startSessions() === sessionsBefore, 'ssh through the ControlMaster', 'a new SSM session was started: the master was not used');
    rows.push({ case: 'ssh alias true, ControlMaster up', mode: 'fast', seconds: median(warm) / 1000, direct: { seconds: median(directly) / 1000 } });
    summary.warmConnect = { warmMs: Math.round(median(warm)), directMs: Math.round(median(directly)), overDirectMs: Math.round(median(warm) - median(directly)) };
  } finally {
    await ssh([...mux, '-O', 'exit', harness.alias]);
    // The master's ssm-proxy ends its session and writes its last log line; wait for it so the
    // next proxyFigures() does not read it as the next transfer's.
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && !/ended \(/.test((await readFile(logFile, 'utf8').catch(() => '')).slice(logOffset))) await sleep(50);
    await proxyFigures();
  }
}

/**
 * A text download through the realistic agent with and without `-o Compression=yes` (what
 * install-host's fast block turns on): TypeScript's own typescript.js (JavaScript sources), and
 * in the full run random data of the same size, where compression cannot help.
 */
async function compression(): Promise<void> {
  harness.fake.options.agentPacing = 'realistic';
  const text = join(harness.dir, 'corpus-typescript.js');
  if (plan.textBytes) {
    const source = await open(TEXT_CORPUS, 'r');
    const { buffer, bytesRead } = await source.read(Buffer.alloc(plan.textBytes), 0, plan.textBytes, 0);
    await source.close();
    await writeFile(text, buffer.subarray(0, bytesRead));
  } else {
    await copyFile(TEXT_CORPUS, text);
  }
  const corpora = [{ label: 'text (typescript.js)', path: text }];
  const bytes = (await readFile(text)).length;
  if (plan.randomForCompression) {
    await makeRandomFile(join(harness.dir, 'corpus-random.bin'), bytes);
    corpora.push({ label: 'random', path: join(harness.dir, 'corpus-random.bin') });
  }
  const results: Record<string, { bytes: number; plainSeconds: number; compressedSeconds: number; speedup: number }> = {};
  try {
    for (const corpus of corpora) {
      const expected = await sha256File(corpus.path);
      const seconds: number[] = [];
      for (const options of [[], ['-o', 'Compression=yes']]) {
        const back = join(harness.dir, 'corpus.back');
        const through = await harness.runScp([...options, `${harness.alias}:${corpus.path}`, back], { timeoutMs: 900_000 });
        check(through.code === 0, `scp download ${corpus.label}`, describeRun(through));
        const intact = (await sha256File(back)) === expected;
        check(intact, `scp download ${corpus.label}`, 'sha256 differs');
        await rm(back);
        seconds.push(through.durationMs / 1000);
        rows.push({
          case: `scp download ${(bytes / MiB).toFixed(1)} MiB ${corpus.label}${options.length ? ', Compression=yes' : ''}`,
          mode: 'realistic',
          bytes,
          seconds: through.durationMs / 1000,
          mbPerSecond: bytes / 1e6 / (through.durationMs / 1000),
          proxy: await proxyFigures(),
          intact,
        });
      }
      results[corpus.label] = { bytes, plainSeconds: seconds[0]!, compressedSeconds: seconds[1]!, speedup: Number((seconds[0]! / seconds[1]!).toFixed(2)) };
    }
    summary.compression = { corpus: `node_modules/typescript/lib/typescript.js (TypeScript ${await typescriptVersion()})${plan.textBytes ? `, first ${plan.textBytes / MiB} MiB` : ''}`, ...results };
  } finally {
    harness.fake.options.agentPacing = 'fast';
  }
}

async function typescriptVersion(): Promise<string> {
  const manifest = JSON.parse(await readFile(join(REPO_ROOT, 'node_modules', 'typescript', 'package.json'), 'utf8')) as { version: string };
  return manifest.version;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
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
        ...(mode === 'fast' ? cpuPerMiB(proxy, bytes) : {}),
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
    const bytes = mode === 'fast' ? plan.rawFastBytes : plan.realisticBytes;
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
        ...(mode === 'fast' ? cpuPerMiB(proxy, bytes) : {}),
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

/** CPU ms per MiB: the whole process, and net of an idle session (start-up, SDK, handshake). */
function cpuPerMiB(proxy: ProxyFigures, bytes: number): Pick<Row, 'cpuMsPerMiB'> {
  // Below 64 MiB the start-up's CPU dominates the quotient.
  if (proxy.cpuSeconds === undefined || bytes < 64 * MiB) return {};
  const idle = typeof summary.idleSessionCpuSeconds === 'number' ? summary.idleSessionCpuSeconds : 0;
  const perMiB = (seconds: number) => Number(((seconds * 1000) / (bytes / MiB)).toFixed(1));
  return { cpuMsPerMiB: { gross: perMiB(proxy.cpuSeconds), net: perMiB(proxy.cpuSeconds - idle) } };
}

/** Reads the log lines ssm-proxy appended since the last call and extracts its figures. */
async function proxyFigures(): Promise<ProxyFigures> {
  const text = await readFile(logFile, 'utf8').catch(() => '');
  const fresh = text.slice(logOffset);
  logOffset = text.length;
  return parseProxyLog(fresh);
}

function printTable(): void {
  log('');
  printMarkdown(
    ['case', 'agent', 'ssm-proxy', 'direct ssh / minimal client', 'ssm-proxy peak RSS', 'ssm-proxy CPU', 'CPU ms/MiB (net of idle)'],
    rows.map((row) => [
      row.case,
      row.mode,
      row.mbPerSecond ? `${row.mbPerSecond.toFixed(1)} MB/s (${row.seconds.toFixed(2)} s)` : `${(row.seconds * 1000).toFixed(0)} ms`,
      row.direct ? (row.direct.mbPerSecond ? `${row.direct.mbPerSecond.toFixed(1)} MB/s (${row.direct.seconds.toFixed(2)} s)` : `${(row.direct.seconds * 1000).toFixed(0)} ms`) : '–',
      row.proxy?.peakRssMb ? `${row.proxy.peakRssMb} MB` : '–',
      row.proxy?.cpuSeconds !== undefined ? `${row.proxy.cpuSeconds} s` : '–',
      row.cpuMsPerMiB ? `${row.cpuMsPerMiB.gross} (${row.cpuMsPerMiB.net})` : '–',
    ]),
  );
  const latencyRow = rows.find((row) => row.case === 'ssh alias true');
  if (latencyRow?.proxy?.timings) {
    log(`\nssh alias true, ssm-proxy phases (median ms): ${describePhases(latencyRow.proxy.timings)}`);
  }
  log('\nssm-proxy connect, exec → first SSH byte (sshd banner) and → sshd\'s answer to the client banner (medians):\n');
  printMarkdown(
    ['endpoints', 'one-way delay', 'first byte', 'answer', 'ssm-proxy phases (ms)', 'turns on the wire (sso/api/ws)', 'not ready', 'CPU', 'peak RSS'],
    connectRows.map((row) => [
      row.case,
      `${row.oneWayMs} ms`,
      `${row.firstByteMs} ms`,
      `${row.replyMs} ms`,
      describePhases(row.phases),
      row.wireRoundTrips ? ['sso', 'api', 'websocket'].map((name) => row.wireRoundTrips![name] ?? '–').join(' / ') : '–',
      String(row.notReady ?? '–'),
      `${row.cpuSeconds} s`,
      `${row.peakRssMb} MB`,
    ]),
  );
  const critical = summary.criticalPathRoundTrips as
    | { firstByte: number; reply: number; firstByteFromMinima: number; replyFromMinima: number; phases: Record<string, number> }
    | undefined;
  if (critical) {
    log(
      `\nround trips on the critical path (time the delay added ÷ round trip): first byte ${critical.firstByte} (from minima ${critical.firstByteFromMinima}), ` +
        `answer ${critical.reply} (from minima ${critical.replyFromMinima}); per phase (medians): ${describePhases(critical.phases, '')}`,
    );
  }
  const warm = summary.warmConnect as { warmMs: number; directMs: number; overDirectMs: number } | undefined;
  if (warm) log(`warm connect (ControlMaster up): ${warm.warmMs} ms, direct ssh ${warm.directMs} ms (${warm.overDirectMs >= 0 ? '+' : ''}${warm.overDirectMs} ms)`);
  const compressed = summary.compression as Record<string, unknown> | undefined;
  if (compressed) {
    for (const [label, figures] of Object.entries(compressed)) {
      if (typeof figures !== 'object') continue;
      const { plainSeconds, compressedSeconds, speedup } = figures as { plainSeconds: number; compressedSeconds: number; speedup: number };
      log(`download ${label}, realistic agent: ${plainSeconds.toFixed(2)} s → ${compressedSeconds.toFixed(2)} s with Compression=yes (${speedup}×)`);
    }
    log(`  corpus: ${compressed.corpus}`);
  }
}

/** Interactive shell: keystroke → echo through the fake with 20 ms added each way, against ssh -tt (scripts/bench-shell.ts). */
async function shellKeystrokes(): Promise<void> {
  const { benchShell } = await import('./bench-shell.js');
  const { startLatencyRelay } = await import('../test/helpers/latency-relay.js');
  log('\ninteractive shell, keystroke echo latency:');
  const result = await benchShell({
    keys: quick ? 60 : 200,
    oneWayMs: 20,
    ssmProxy: program,
    startRelay: async (targetPort, oneWayMs) => startLatencyRelay({ targetPort, oneWayMs }),
    log: (line) => log(`  ${line}`),
  });
  summary.shell = result;
  const ssh = result.ssh ? `; ssh -tt p50 ${result.ssh.p50Ms} ms, p95 ${result.ssh.p95Ms} ms` : '';
  log(`  ${result.ssmProxy.keys} keys, round trip ${result.roundTripMs} ms: ssm-proxy shell p50 ${result.ssmProxy.p50Ms} ms, p95 ${result.ssmProxy.p95Ms} ms${ssh}`);
}

/** Port forwarding: one stream each way, many streams at once, set-up per stream, memory (scripts/bench-forward.ts). */
async function portForwarding(): Promise<void> {
  const { benchForward } = await import('./bench-forward.js');
  log('\nport forwarding through one session:');
  const result = await benchForward({
    ssmProxy: program,
    ...(quick ? { singleStreamMiB: 16, realisticSingleStreamMiB: 1, streams: 20, perStreamMiB: 1, setupSamples: 10 } : {}),
    log: (line) => log(`  ${line}`),
  });
  summary.forward = result;
}

function describePhases(phases: Record<string, number>, unit = ' ms'): string {
  return Object.entries(phases).map(([phase, value]) => `${phase} ${Math.round(value * 10) / 10}${unit}`).join(', ');
}

function printMarkdown(header: string[], lines: string[][]): void {
  const widths = header.map((title, i) => Math.max(title.length, ...lines.map((line) => line[i]!.length)));
  const format = (cells: string[]) => `| ${cells.map((cell, i) => cell.padEnd(widths[i]!)).join(' | ')} |`;
  log(format(header));
  log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const line of lines) log(format(line));
}

function check(ok: boolean, what: string, detail: string): asserts ok {
  if (!ok) throw new Error(`bench: ${what} failed: ${detail}`);
}

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}
