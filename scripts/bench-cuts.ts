/**
 * Measures candidate cold-start cuts before anyone changes src/: `ssm-proxy connect` from exec to
 * the first SSH byte against the harness (plain http fake, static keys), runs interleaved, as
 *
 *   - main.js: today's entry (yargs parses argv, then renders and caches the help text);
 *   - no yargs: a throwaway entry that parses connect's argv by hand and calls the same runConnect;
 *   - either of them with NODE_COMPILE_CACHE (what module.enableCompileCache() turns on).
 *
 *   npm run build && node --import tsx scripts/bench-cuts.ts [--runs 9]
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { REPO_ROOT, startHarness } from '../test/e2e/harness.js';
import { coldConnect } from './bench-connect.js';
import { median } from './bench-log.js';

const { values: flags } = parseArgs({ options: { runs: { type: 'string', default: '9' } } });
const dir = await mkdtemp(join(tmpdir(), 'ssm-proxy-cuts-'));
const lib = (path: string) => pathToFileURL(join(REPO_ROOT, 'lib', path)).href;
const noYargs = join(dir, 'connect-without-yargs.mjs');
// Enough of connect's flags for the harness's arguments; an experiment, not a parser to ship.
await writeFile(
  noYargs,
  `import ${JSON.stringify(lib('cli/young-generation.js'))};
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const argv = process.argv.slice(3);
const args = { 'document-name': 'AWS-StartSSHSession', verbose: 0, 'handshake-timeout': 30, 'reconnect-timeout': 300, login: 'auto' };
const positional = [];
for (let i = 0; i < argv.length; i++) {
  if (argv[i] === '-v') args.verbose++;
  else if (argv[i].startsWith('--')) args[argv[i].slice(2)] = argv[++i];
  else positional.push(argv[i]);
}
args.target = positional[0];
args.port = Number(positional[1] ?? 22);
const { runCommand } = await import(${JSON.stringify(lib('cli/run-command.js'))});
await runCommand(async () => (await import(${JSON.stringify(lib('cli/connect-main.js'))})).runConnect(args));
process.exit();
`,
);
const cache = join(dir, 'compile-cache');
const main = join(REPO_ROOT, 'lib', 'cli', 'main.js');
const variants: Record<string, string[]> = {
  'main.js (yargs)': [process.execPath, main],
  'no yargs': [process.execPath, noYargs],
  'main.js + compile cache': ['env', `NODE_COMPILE_CACHE=${cache}`, process.execPath, main],
  'no yargs + compile cache': ['env', `NODE_COMPILE_CACHE=${cache}`, process.execPath, noYargs],
};
const harness = await startHarness();
try {
  const results: Record<string, { firstByte: number[]; startUp: number[]; cpu: number[] }> = {};
  // One untimed run each: fills the compile cache, and warms the page cache for all.
  for (const program of Object.values(variants)) await coldConnect(program, harness.connectArgs(), harness.env, join(dir, 'log'));
  const loadBefore = loadavg()[0]!.toFixed(2);
  for (let i = 0; i < Number(flags.runs); i++) {
    for (const [name, program] of Object.entries(variants)) {
      const sample = await coldConnect(program, harness.connectArgs(), harness.env, join(dir, 'log'));
      const entry = (results[name] ??= { firstByte: [], startUp: [], cpu: [] });
      entry.firstByte.push(sample.firstByteMs);
      entry.startUp.push(sample.proxy.timings?.['start-up'] ?? NaN);
      entry.cpu.push(sample.proxy.cpuSeconds ?? NaN);
    }
  }
  console.log(`connect, exec → first SSH byte, ${flags.runs} runs each, interleaved (load average ${loadBefore} → ${loadavg()[0]!.toFixed(2)})\n`);
  console.log('| entry | first byte, median (min) | start-up phase, median | CPU, median |');
  console.log('|---|---:|---:|---:|');
  for (const [name, entry] of Object.entries(results)) {
    console.log(`| ${name} | ${median(entry.firstByte).toFixed(0)} ms (${Math.min(...entry.firstByte).toFixed(0)}) | ${median(entry.startUp)} ms | ${median(entry.cpu)} s |`);
  }
} finally {
  await harness.stop();
  await rm(dir, { recursive: true, force: true });
}
