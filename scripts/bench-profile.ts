/**
 * Where ssm-proxy's CPU goes: runs it under `node --cpu-prof` (and, with --strace, under
 * `strace -c -f`) as the ProxyCommand of real scp transfers, or for bare connects, and prints the
 * top functions by self time. Not part of `npm run bench`; for whoever works on the hot path.
 *
 *   node --import tsx scripts/bench-profile.ts                 # 64 MiB scp upload + download, fast agent
 *   node --import tsx scripts/bench-profile.ts --mib 16 --strace   # syscall counts instead (strace -c -f, no profiler)
 *   node --import tsx scripts/bench-profile.ts --bare          # neither: ssm-proxy's own CPU split (user/system)
 *   node --import tsx scripts/bench-profile.ts --connect 5     # cold start: 5 connects, profiled
 *   ... --entry scratch/lib/cli/main.js                        # profile another build (an experiment) instead of lib/
 *   ... --binary dist/ssm-proxy                                # profile the single executable (flags via NODE_OPTIONS)
 *   ... --keep DIR                                             # keep the .cpuprofile files (open in Chrome DevTools)
 *   node --import tsx scripts/bench-profile.ts --summarize DIR --mib 64   # report on kept transfer profiles again
 *
 * Needs `npm run build` first (it profiles lib/cli/main.js).
 */
import { mkdir, mkdtemp, readdir, readFile, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { describeRun, makeRandomFile, REPO_ROOT, sha256File, startHarness } from '../test/e2e/harness.js';
import { coldConnect } from './bench-connect.js';

const { values: flags } = parseArgs({
  options: {
    mib: { type: 'string', default: '64' },
    strace: { type: 'boolean', default: false },
    bare: { type: 'boolean', default: false },
    connect: { type: 'string' },
    keep: { type: 'string' },
    interval: { type: 'string', default: '250' },
    top: { type: 'string', default: '25' },
    summarize: { type: 'string' },
    binary: { type: 'string' },
    entry: { type: 'string' },
  },
});
const MiB = 1 << 20;
const work = await mkdtemp(join(tmpdir(), 'ssm-proxy-profile-'));
const profiles = flags.keep ?? join(work, 'profiles');
await mkdir(profiles, { recursive: true });
const main = flags.entry ? resolve(flags.entry) : join(REPO_ROOT, 'lib', 'cli', 'main.js');
// The single executable takes Node's flags from NODE_OPTIONS only.
const binary = flags.binary ? resolve(flags.binary) : undefined;
// Under strace the profiler's own signals (SIGPROF: tgkill, rt_sigreturn, getpid) would swamp the
// syscall counts, so --strace counts syscalls without profiling.
const nodeArgs = flags.strace || flags.bare ? [] : ['--cpu-prof', `--cpu-prof-dir=${profiles}`, `--cpu-prof-interval=${flags.interval}`];

if (flags.summarize) {
  // Existing profiles (from --keep): upload-*.cpuprofile / download-*.cpuprofile of --mib MiB.
  for (const direction of ['upload', 'download']) {
    const files = (await readdir(flags.summarize)).filter((name) => name.startsWith(`${direction}-`)).map((name) => join(flags.summarize!, name));
    console.log(`\n=== ${direction}`);
    await report(files, 1, { bytes: Number(flags.mib) * MiB });
  }
} else if (flags.connect) await profileConnects(Number(flags.connect));
else await profileTransfers(Number(flags.mib) * MiB);
if (!flags.keep) await rm(work, { recursive: true, force: true });

async function profileTransfers(bytes: number): Promise<void> {
  for (const direction of ['upload', 'download'] as const) {
    const straceOut = join(work, `strace-${direction}.txt`);
    const wrapper = flags.strace ? ['strace', '-c', '-f', '-o', straceOut] : [];
    const harness = await startHarness({
      ssmProxy: binary ? [...wrapper, 'env', `NODE_OPTIONS=${nodeArgs.join(' ')}`, binary] : [...wrapper, process.execPath, ...nodeArgs, main],
      extraConnectArgs: ['-v', '--log-file', join(work, `${direction}.log`)],
    });
    try {
      const local = join(harness.dir, 'data.bin');
      const remote = join(harness.dir, 'data.remote');
      await makeRandomFile(direction === 'upload' ? local : remote, bytes);
      const [from, to] = direction === 'upload' ? [local, `${harness.alias}:${remote}`] : [`${harness.alias}:${remote}`, local];
      const result = await harness.runScp([from, to], { timeoutMs: 600_000 });
      if (result.code !== 0) throw new Error(`scp ${direction} failed: ${describeRun(result)}`);
      if ((await sha256File(local)) !== (await sha256File(remote))) throw new Error(`scp ${direction}: sha256 differs`);
      const stats = /sent .* system/.exec(await readFile(join(work, `${direction}.log`), 'utf8'))?.[0];
      console.log(`\n=== scp ${direction} ${bytes / MiB} MiB: ${(result.durationMs / 1000).toFixed(2)} s; ${stats ?? ''}`);
    } finally {
      await harness.stop();
    }
    if (flags.strace) console.log(`\nstrace -c -f (${direction}):\n${(await readFile(straceOut, 'utf8')).split('\n').slice(0, 16).join('\n')}`);
    else if (!flags.bare) {
      const taken = await takeProfiles(direction);
      await report(taken);
      await report(taken, 1, { bytes });
    }
  }
}

async function profileConnects(runs: number): Promise<void> {
  const harness = await startHarness();
  try {
    const firstBytes: number[] = [];
    for (let i = 0; i < runs; i++) {
      const program = binary ? ['env', `NODE_OPTIONS=${nodeArgs.join(' ')}`, binary] : [process.execPath, ...nodeArgs, main];
      const sample = await coldConnect(program, harness.connectArgs(), harness.env, join(work, 'connect.log'));
      firstBytes.push(Math.round(sample.firstByteMs));
      console.log(`connect ${i + 1}: first byte ${Math.round(sample.firstByteMs)} ms; ${JSON.stringify(sample.proxy.timings)}`);
    }
  } finally {
    await harness.stop();
  }
  await report(await takeProfiles('connect'), runs);
}

/** The .cpuprofile files written since the last call, renamed with a label. */
async function takeProfiles(label: string): Promise<string[]> {
  const files = (await readdir(profiles)).filter((name) => name.startsWith('CPU.') && name.endsWith('.cpuprofile'));
  const taken: string[] = [];
  for (const name of files) {
    const renamed = join(profiles, `${label}-${name.slice(4)}`);
    await rename(join(profiles, name), renamed);
    taken.push(renamed);
  }
  return taken;
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/**
 * Self time by function and by where the code comes from, summed over the profiles (per run).
 * `streamingOnly`: only samples from the first one in ssm-proxy's channel code on (the transfer,
 * without start-up), with figures per MiB of `bytes`.
 */
async function report(files: string[], runs = 1, streamingOnly?: { bytes: number }): Promise<void> {
  const byFunction = new Map<string, number>();
  const byOrigin = new Map<string, number>();
  let totalUs = 0;
  for (const file of files) {
    const profile = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
    const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
    const firstStreaming = streamingOnly ? Math.max(0, profile.samples.findIndex((id) => /\/channel\/[\w-]+\.js$/.test(nodes.get(id)!.callFrame.url))) : 0;
    profile.samples.forEach((id, i) => {
      if (i < firstStreaming) return;
      const delta = profile.timeDeltas[i + 1] ?? 0; // a sample's time runs to the next sample
      const frame = nodes.get(id)!.callFrame;
      if (frame.functionName === '(idle)') return;
      totalUs += delta;
      const where = frame.url ? `${shortUrl(frame.url)}:${frame.lineNumber + 1}` : '';
      const key = `${frame.functionName || '(anonymous)'} ${where}`.trim();
      byFunction.set(key, (byFunction.get(key) ?? 0) + delta);
      byOrigin.set(origin(frame.url, frame.functionName), (byOrigin.get(origin(frame.url, frame.functionName)) ?? 0) + delta);
    });
  }
  const ms = (us: number) => (streamingOnly ? us / 1000 / (streamingOnly.bytes / MiB) : us / 1000 / runs).toFixed(streamingOnly ? 2 : 1);
  const unit = streamingOnly ? ' ms/MiB' : ' ms';
  console.log(
    `\n${streamingOnly ? 'streaming only (from the first sample in lib/channel/), per MiB: ' : ''}busy (not idle) ${ms(totalUs)}${unit}${runs > 1 ? ' per run' : ''} in ${files.length} profile(s); by origin:`,
  );
  for (const [key, us] of [...byOrigin].sort((a, b) => b[1] - a[1])) console.log(`  ${ms(us).padStart(8)}${unit} ${((us / totalUs) * 100).toFixed(1).padStart(5)} %  ${key}`);
  console.log('top functions by self time:');
  for (const [key, us] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, Number(flags.top))) {
    console.log(`  ${ms(us).padStart(8)}${unit} ${((us / totalUs) * 100).toFixed(1).padStart(5)} %  ${key}`);
  }
}

function shortUrl(url: string): string {
  const at = url.indexOf('node_modules/');
  if (at >= 0) return url.slice(at + 'node_modules/'.length);
  const lib = /\/lib[\w-]*\//.exec(url);
  if (url.startsWith('file://') && lib) return url.slice(lib.index + 1);
  return url.startsWith('node:') ? url : basename(url);
}

function origin(url: string, functionName: string): string {
  if (functionName === 'compileForInternalLoader') return "node: loading Node's own built-in modules";
  if (!url) return functionName.startsWith('(') ? functionName : '(native / V8 builtins)';
  if (url.startsWith('node:internal/deps/cjs-module-lexer')) return 'node: module loader (cjs-module-lexer: named exports of CommonJS imported from ESM)';
  if (url.startsWith('node:internal/modules')) return 'node: module loader';
  if (functionName === 'compileForInternalLoader') return "node: loading Node's own built-in modules";
  if (url.startsWith('node:')) return 'node: core';
  const at = url.indexOf('node_modules/');
  if (at >= 0) {
    const parts = url.slice(at + 'node_modules/'.length).split('/');
    return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
  }
  const lib = /\/lib[\w-]*\//.exec(url);
  return lib ? `ssm-proxy ${url.slice(lib.index + lib[0].length).split('/')[0]}` : url;
}

