/**
 * What start-up costs, module by module: each line is a fresh Node process (median of N) that
 * imports one thing, timed inside the process (the import alone) and from spawn to exit (wall).
 * For whoever cuts `connect`'s cold start; not part of `npm run bench`.
 *
 *   npm run build && node --import tsx scripts/bench-startup.ts [--runs 7]
 */
import { spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { REPO_ROOT } from '../test/e2e/harness.js';
import { median } from './bench-log.js';

const { values: flags } = parseArgs({ options: { runs: { type: 'string', default: '7' } } });
const runs = Number(flags.runs);
const lib = (path: string) => pathToFileURL(join(REPO_ROOT, 'lib', path)).href;

/** [label, code run in a fresh ES module process, timed together]; empty = nothing (the floor). */
const imports = (...specifiers: string[]) => specifiers.map((specifier) => `await import(${JSON.stringify(specifier)});`).join(' ');
const requires = (...specifiers: string[]) => `const require = (await import('node:module')).createRequire(${JSON.stringify(`${REPO_ROOT}/`)}); ${specifiers.map((specifier) => `require(${JSON.stringify(specifier)});`).join(' ')}`;
const cases: [string, string][] = [
  ['node, nothing imported (the floor)', ''],
  ['yargs + yargs/helpers', imports('yargs', 'yargs/helpers')],
  ['main.js\'s own modules for connect (commands/connect.js, plain-argv.js)', imports(lib('cli/commands/connect.js'), lib('cli/plain-argv.js'))],
  ['ssm-proxy command table (lib/cli/commands/index.js)', imports(lib('cli/commands/index.js'))],
  ['@aws-sdk/client-ssm by import()', imports('@aws-sdk/client-ssm')],
  ['@aws-sdk/client-ssm by require (aws/commonjs-package.ts)', requires('@aws-sdk/client-ssm')],
  ['ws + the SigV4 signer by import()', imports('ws', '@smithy/signature-v4', '@smithy/hash-node', '@smithy/protocol-http')],
  ['ws + the SigV4 signer by require', requires('ws', '@smithy/signature-v4', '@smithy/hash-node', '@smithy/protocol-http')],
  ['loadConnectModules() (everything connect loads after its checks)', `${imports(lib('cli/connect-modules.js'))} await (await import(${JSON.stringify(lib('cli/connect-modules.js'))})).loadConnectModules();`],
];

console.log(`start-up costs, median of ${runs} fresh processes each (load average ${loadavg().map((n) => n.toFixed(2)).join(' ')}), node ${process.version}\n`);
console.log('| what | import (ms, in process) | spawn → exit (ms) |');
console.log('|---|---:|---:|');
for (const [label, code] of cases) {
  const inside: number[] = [];
  const wall: number[] = [];
  for (let i = 0; i < runs; i++) {
    const result = await timeImports(code, label);
    inside.push(result.importMs);
    wall.push(result.wallMs);
  }
  console.log(`| ${label} | ${median(inside).toFixed(1)} | ${median(wall).toFixed(0)} |`);
}
const version = await timeProgram([join(REPO_ROOT, 'lib', 'cli', 'main.js'), '--version']);
console.log(`| \`ssm-proxy --version\` (lib/cli/main.js: yargs, the command table) | – | ${version.toFixed(0)} |`);

function timeImports(code: string, label: string): Promise<{ importMs: number; wallMs: number }> {
  const script = `const t = performance.now(); ${code} process.stdout.write(String(performance.now() - t));`;
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.once('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`${label} failed (exit ${code})`));
      resolve({ importMs: Number(out), wallMs: performance.now() - started });
    });
  });
}

async function timeProgram(args: string[]): Promise<number> {
  const walls: number[] = [];
  for (let i = 0; i < runs; i++) {
    walls.push(
      await new Promise<number>((resolve, reject) => {
        const started = performance.now();
        const child = spawn(process.execPath, args, { stdio: 'ignore' });
        const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
        child.once('close', (code) => {
          clearTimeout(timer);
          if (code === 0) resolve(performance.now() - started);
          else reject(new Error(`${args.join(' ')} failed (exit ${code})`));
        });
      }),
    );
  }
  return median(walls);
}
