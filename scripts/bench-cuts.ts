/**
 * connect's cold start, phase by phase: `ssm-proxy connect` from exec to the first SSH byte against
 * the harness (plain http fake, static keys, zero added latency), runs interleaved, as
 *
 *   - main.js: the entry as shipped (a plain connect command line skips yargs, cli/plain-argv.ts);
 *   - main.js via yargs: the same connect with yargs parsing the line (what every line cost before
 *     the fast path, and what any line the fast path leaves alone still costs);
 *   - main.js + compile cache: NODE_COMPILE_CACHE (what module.enableCompileCache() turns on);
 *   - with --baseline DIR, another build's DIR/lib/cli/main.js (e.g. an older commit: `git archive`,
 *     a node_modules link, `npx tsc -p tsconfig.build.json`), for before/after in the same minutes;
 *   - with --binary FILE (repeatable), single executables too (e.g. dist/ssm-proxy from `npm run build:binary`).
 *
 *   With --rig MS[,MS…], through the corporate rig instead (bench-connect.ts: https/wss, SSO profile,
 *   a latency relay per endpoint) at each one-way delay: first byte, and the request/response turns
 *   each relay saw before it, which is how many round trips connect makes per endpoint.
 *
 *   npm run build && node --import tsx scripts/bench-cuts.ts [--runs 9] [--baseline DIR] [--binary dist/ssm-proxy] [--rig 0,25]
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { REPO_ROOT, startHarness } from '../test/e2e/harness.js';
import { coldConnect, startCorporateRig, type ColdConnect } from './bench-connect.js';
import { median } from './bench-log.js';

const { values: flags } = parseArgs({
  options: { runs: { type: 'string', default: '9' }, binary: { type: 'string', multiple: true }, baseline: { type: 'string' }, rig: { type: 'string' } },
});
const dir = await mkdtemp(join(tmpdir(), 'ssm-proxy-cuts-'));
const viaYargs = join(dir, 'connect-via-yargs.mjs');
// main.ts as it was before the fast path: young generation first, then yargs takes the line.
await writeFile(
  viaYargs,
  `(await import(${JSON.stringify(pathToFileURL(join(REPO_ROOT, 'lib', 'cli', 'young-generation.js')).href)})).keepYoungGenerationSmall();
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const { runYargs } = await import(${JSON.stringify(pathToFileURL(join(REPO_ROOT, 'lib', 'cli', 'yargs-cli.js')).href)});
await runYargs(process.argv.slice(2));
`,
);
const cache = join(dir, 'compile-cache');
const main = join(REPO_ROOT, 'lib', 'cli', 'main.js');
const variants: Record<string, string[]> = {
  'main.js': [process.execPath, main],
  'main.js via yargs': [process.execPath, viaYargs],
  'main.js + compile cache': ['env', `NODE_COMPILE_CACHE=${cache}`, process.execPath, main],
  ...(flags.baseline ? { [`${flags.baseline}/lib/cli/main.js`]: [process.execPath, resolve(flags.baseline, 'lib', 'cli', 'main.js')] } : {}),
  ...Object.fromEntries((flags.binary ?? []).map((file) => [file, [resolve(file)]])),
};
const harness = await startHarness();
if (flags.rig) {
  try {
    await throughRig(flags.rig.split(',').map(Number));
  } finally {
    await harness.stop();
    await rm(dir, { recursive: true, force: true });
  }
  process.exit();
}
try {
  const results: Record<string, { firstByte: number[]; phases: Record<string, number[]>; cpu: number[] }> = {};
  // One untimed run each: fills the compile cache, and warms the page cache for all.
  for (const program of Object.values(variants)) await coldConnect(program, harness.connectArgs(), harness.env, join(dir, 'log'));
  const loadBefore = loadavg()[0]!.toFixed(2);
  for (let i = 0; i < Number(flags.runs); i++) {
    for (const [name, program] of Object.entries(variants)) {
      const sample = await coldConnect(program, harness.connectArgs(), harness.env, join(dir, 'log'));
      const entry = (results[name] ??= { firstByte: [], phases: {}, cpu: [] });
      entry.firstByte.push(sample.firstByteMs);
      for (const [phase, ms] of Object.entries(sample.proxy.timings ?? {})) (entry.phases[phase] ??= []).push(ms);
      entry.cpu.push(sample.proxy.cpuSeconds ?? NaN);
    }
  }
  console.log(`connect, exec → first SSH byte, ${flags.runs} runs each, interleaved (load average ${loadBefore} → ${loadavg()[0]!.toFixed(2)}), node ${process.version}\n`);
  const phaseNames = [...new Set(Object.values(results).flatMap((entry) => Object.keys(entry.phases)))];
  console.log(`| entry | first byte, median (min) | ${phaseNames.map((phase) => `${phase}, median`).join(' | ')} | CPU, median |`);
  console.log(`|---|---:|${phaseNames.map(() => '---:|').join('')}---:|`);
  for (const [name, entry] of Object.entries(results)) {
    const phases = phaseNames.map((phase) => (entry.phases[phase] ? `${median(entry.phases[phase]).toFixed(0)} ms` : '–'));
    console.log(`| ${name} | ${median(entry.firstByte).toFixed(0)} ms (${Math.min(...entry.firstByte).toFixed(0)}) | ${phases.join(' | ')} | ${median(entry.cpu)} s |`);
  }
} finally {
  await harness.stop();
  await rm(dir, { recursive: true, force: true });
}

async function throughRig(oneWayMs: number[]): Promise<void> {
  const rig = await startCorporateRig(harness.sshd.port);
  try {
    const samples = new Map<string, ColdConnect[]>();
    for (let i = 0; i < Number(flags.runs); i++) {
      for (const ms of oneWayMs) {
        rig.setOneWayMs(ms);
        for (const [name, program] of Object.entries(variants)) {
          const key = `${name} @ ${ms} ms`;
          samples.set(key, [...(samples.get(key) ?? []), await coldConnect(program, rig.connectArgs, rig.env, join(dir, 'log'), { relays: rig.relays, fake: rig.fake })]);
        }
      }
    }
    console.log(`connect through the corporate rig (https/wss, SSO profile), ${flags.runs} runs each, node ${process.version}\n`);
    console.log('| entry @ one-way delay | first byte, median | turns sso / api / websocket, median | phases, median |');
    console.log('|---|---:|---|---|');
    for (const [key, list] of samples) {
      const turns = ['sso', 'api', 'websocket'].map((relay) => median(list.map((sample) => sample.roundTrips?.[relay] ?? NaN))).join(' / ');
      const phases = Object.keys(list[0]?.proxy.timings ?? {}).map((phase) => `${phase} ${median(list.map((sample) => sample.proxy.timings?.[phase] ?? NaN)).toFixed(0)}`);
      console.log(`| ${key} | ${median(list.map((sample) => sample.firstByteMs)).toFixed(0)} ms | ${turns} | ${phases.join(', ')} |`);
    }
  } finally {
    await rig.close();
  }
}
