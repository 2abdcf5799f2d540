/**
 * loadConnectModules (cli/connect-modules.ts) is the one list of what connect loads: the
 * single executable's snapshot builder warms exactly it. A real connect (the built CLI, through the
 * e2e harness's fake SSM to a real sshd, up to the first byte of the SSH stream) must load no ES
 * module beyond that list and what main.js loads before any connect starts. Module loads are
 * recorded with a module.register load hook.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { REPO_ROOT, startHarness, type Harness } from '../e2e/harness.js';

const LIB = pathToFileURL(join(REPO_ROOT, 'lib')).href;
const dir = mkdtempSync(join(tmpdir(), 'ssm-proxy-modules-'));
const hooks = join(dir, 'hooks.mjs');
const register = join(dir, 'register.mjs');
writeFileSync(
  hooks,
  `import { appendFileSync } from 'node:fs';
export async function load(url, context, next) {
  if (process.env.MODULE_LOG) appendFileSync(process.env.MODULE_LOG, url + '\\n');
  return next(url, context);
}
`,
);
writeFileSync(register, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`);

/** Runs node with the load hook; resolves with every file: URL it loaded (node_modules and lib/). */
function loadedBy(args: string[], env: NodeJS.ProcessEnv, name: string, stdin?: string): Promise<{ urls: Set<string>; stdout: Buffer; code: number | null }> {
  const log = join(dir, `${name}.log`);
  writeFileSync(log, '');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', pathToFileURL(register).href, ...args], { env: { ...env, MODULE_LOG: log }, stdio: ['pipe', 'pipe', 'pipe'] });
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    const chunks: Buffer[] = [];
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
    child.stdout.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      // The first byte of the SSH stream (sshd's banner): the session streams; let it end.
      if (stdin !== undefined) child.stdin.end();
    });
    child.stdin.on('error', () => undefined);
    if (stdin !== undefined) child.stdin.write(stdin);
    else child.stdin.end();
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      const urls = new Set(readFileSync(log, 'utf8').split('\n').filter((url) => url.startsWith('file:')));
      if (urls.size === 0) reject(new Error(`no module recorded (exit ${code}): ${stderr}`));
      resolve({ urls, stdout: Buffer.concat(chunks), code });
    });
  });
}

describe('loadConnectModules: the one list of what connect loads', () => {
  let harness: Harness;
  before(async () => {
    harness = await startHarness();
  });
  after(async () => {
    await harness?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a real connect loads nothing beyond main.js and the list', async () => {
    const main = join(REPO_ROOT, 'lib', 'cli', 'main.js');
    // What main.js loads before connect starts: the same line without a target stops at the checks.
    const entry = await loadedBy([main, 'connect'], harness.env, 'entry');
    assert.equal(entry.code, 2, 'connect without a target is a usage error');
    const list = await loadedBy(
      ['--input-type=module', '-e', `const { loadConnectModules } = await import(${JSON.stringify(`${LIB}/cli/connect-modules.js`)}); await loadConnectModules();`],
      harness.env,
      'list',
    );
    const connect = await loadedBy([main, ...harness.connectArgs()], harness.env, 'connect', 'SSH-2.0-OpenSSH_9.2 test\r\n');
    assert.match(connect.stdout.toString('latin1'), /^SSH-2\.0-/, 'the session streamed sshd\'s banner');
    assert.equal(connect.code, 0);
    const beyond = [...connect.urls].filter((url) => !entry.urls.has(url) && !list.urls.has(url));
    assert.deepEqual(beyond, [], 'modules connect loaded that loadConnectModules does not list');
    // The list is what connect needs after main.js: the session engine and the transport among it.
    for (const needed of ['cli/connect-main.js', 'session/run-session.js', 'session/websocket-connection.js', 'aws/ssm-api.js']) {
      assert.ok(connect.urls.has(`${LIB}/${needed}`) && list.urls.has(`${LIB}/${needed}`) && !entry.urls.has(`${LIB}/${needed}`), needed);
    }
  });
});
