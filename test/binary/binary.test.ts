/**
 * The single executable, as a user gets it: `npm run build:binary` builds ssm-proxy into a folder
 * outside the checkout (its own, so test runs at the same time share nothing), where it runs with
 * an empty environment. Nothing
 * here runs node or the sources: every ssm-proxy process is the binary itself, including the
 * ProxyCommand of real ssh and scp sessions into a real sshd through the fake SSM service.
 */
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { assertScpRoundTrip, describeRun, REGION, startHarness, TARGET_ID, type Harness } from '../e2e/harness.js';
import { run as runProcess } from '../e2e/processes.js';

const REPO = path.resolve(import.meta.dirname, '../..');
const VERSION = (JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string }).version;
const SUPPORTED = process.platform === 'linux' && process.arch === 'x64';
/** The ceiling for the file users download. */
const MAX_BYTES = 120_000_000;
const INSTANCE = TARGET_ID;

let dir = '';
let binary = '';

/** Runs the binary from `cwd` (outside the checkout) with exactly `env`, nothing inherited. */
function run(args: string[], env: Record<string, string> = {}, cwd = dir): SpawnSyncReturns<string> {
  return spawnSync(binary, args, { cwd, env, encoding: 'utf8', input: '', timeout: 30_000 });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Wall time of one run, in milliseconds. */
function timed(args: string[], env: Record<string, string> = {}): number {
  const started = process.hrtime.bigint();
  const result = run(args, env);
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  assert.ok(result.status !== null, `${args.join(' ')} did not finish: ${result.error?.message ?? result.signal}`);
  return ms;
}

/** Anything Node or a library prints by itself: ExperimentalWarning, DeprecationWarning, "(node:123)". */
const RUNTIME_NOISE = /warning|\(node:\d+\)|deprecat/i;

describe('single executable: ssm-proxy built by npm run build:binary', { skip: SUPPORTED ? false : 'the binary is built for linux-x64 only' }, () => {
  before(() => {
    // A folder with a space in its name, outside the checkout: no node_modules, no package.json.
    dir = mkdtempSync(path.join(tmpdir(), 'ssm-proxy binary-'));
    binary = path.join(dir, 'ssm-proxy');
    const build = spawnSync('npm', ['run', '--silent', 'build:binary', '--', '--out-dir', dir], { cwd: REPO, encoding: 'utf8', timeout: 600_000 });
    assert.equal(build.status, 0, `npm run build:binary failed:\n${build.stdout}${build.stderr}`);
  });

  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it(`is one file of at most ${MAX_BYTES / 1e6} MB, with the licences beside it`, (t) => {
    const size = statSync(binary).size;
    t.diagnostic(`ssm-proxy: ${size} bytes (${(size / 1e6).toFixed(1)} MB)`);
    assert.ok(size <= MAX_BYTES, `${size} bytes`);
    assert.deepEqual(readdirSync(dir).sort(), ['LICENSES', 'ssm-proxy']);
    const licences = readFileSync(path.join(dir, 'LICENSES'), 'utf8');
    assert.match(licences, /Node\.js is licensed for use as follows/);
    for (const name of ['yargs', 'ws', '@aws-sdk/client-ssm', '@smithy/signature-v4']) {
      assert.match(licences, new RegExp(`^${name.replace(/[/.]/g, '\\$&')} \\d`, 'm'), `licence of ${name}`);
    }
  });

  it('--version prints package.json\'s version with an empty environment, quickly and quietly', (t) => {
    const result = run(['--version']);
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout, `${VERSION}\n`);
    assert.equal(result.stderr, '');
    const times = Array.from({ length: 7 }, () => timed(['--version']));
    t.diagnostic(`--version: median ${median(times).toFixed(0)} ms of ${times.map((ms) => ms.toFixed(0)).join(', ')}`);
    // The target is 200 ms on an idle machine; this bound only catches a start-up that went wrong
    // (e.g. everything loaded eagerly) on a busy CI machine.
    assert.ok(median(times) < 1000, `median ${median(times)} ms`);
  });

  it('--version loads no network stack (the connect path is imported lazily)', () => {
    const preload = path.join(dir, 'report-builtins.cjs');
    writeFileSync(
      preload,
      "process.on('exit', () => process.stderr.write('builtins: ' + process.moduleLoadList.filter((m) => m.startsWith('NativeModule ')).map((m) => m.slice(13)).join(' ') + '\\n'));\n",
    );
    const result = run(['--version'], { NODE_OPTIONS: `--require "${preload}"` });
    assert.equal(result.status, 0, result.stderr);
    const line = /^builtins: (.*)$/m.exec(result.stderr);
    assert.ok(line, `the preload ran inside the binary: ${result.stderr}`);
    const loaded = new Set(line[1]!.split(' '));
    for (const heavy of ['tls', 'https', 'http2', '_http_client']) assert.ok(!loaded.has(heavy), `--version loaded ${heavy}`);
  });

  it('prints no runtime warnings: help, usage errors, and connect up to a refused endpoint', (t) => {
    const help = run(['--help']);
    assert.equal(help.status, 0);
    assert.match(help.stdout, /ssm-proxy connect/);
    assert.doesNotMatch(help.stderr, RUNTIME_NOISE);

    const usage = run(['connect', 'not-an-instance', '22']);
    assert.equal(usage.status, 2);
    assert.equal(usage.stdout, '');
    assert.equal(usage.stderr.trimEnd().split('\n').length, 1, usage.stderr);

    // Static credentials and a closed port: the whole connect path loads (SDK, signer), then
    // StartSession fails with one line and the network exit code.
    const env = {
      HOME: dir,
      AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
      AWS_REGION: 'eu-west-2',
      AWS_MAX_ATTEMPTS: '1',
    };
    const args = ['connect', INSTANCE, '22', '--endpoint-url', 'http://127.0.0.1:9'];
    const refused = run(args, env);
    assert.equal(refused.status, 5, refused.stderr);
    assert.equal(refused.stdout, '');
    assert.equal(refused.stderr.trimEnd().split('\n').length, 1, refused.stderr);
    assert.match(refused.stderr, /StartSession/);
    assert.doesNotMatch(refused.stderr, RUNTIME_NOISE);
    const times = Array.from({ length: 5 }, () => timed(args, env));
    t.diagnostic(`connect up to a refused StartSession: median ${median(times).toFixed(0)} ms of ${times.map((ms) => ms.toFixed(0)).join(', ')}`);
  });

  describe('ssh and scp with the binary as ProxyCommand (real OpenSSH, fake SSM)', () => {
    let harness: Harness;
    before(async () => {
      harness = await startHarness({ ssmProxy: [binary] });
    });
    after(() => harness?.stop());

    it("ssh alias 'echo ok', run from the binary's folder", async () => {
      assert.match(harness.ssmProxy.join(' '), /^\/\S*\/ssm-proxy binary-[^/]+\/ssm-proxy$/, 'the ProxyCommand is the copied binary');
      const result = await harness.runSsh(harness.alias, 'echo ok', { cwd: dir });
      assert.equal(result.code, 0, describeRun(result));
      assert.equal(result.stdout.toString('latin1'), 'ok\n');
      assert.ok(harness.fake.records.apiCalls.some((c) => c.operation === 'StartSession' && c.target === TARGET_ID));
    });

    it('scp copies a 4 MiB random file up and back unchanged', async () => {
      await assertScpRoundTrip(harness, 4 << 20, { cwd: dir });
    });

    it('every run draws fresh randomness: no two sessions share a RequestId (the snapshot holds no random pool)', () => {
      const ids = harness.fake.records.connections.map((c) => c.requestId);
      assert.ok(ids.length >= 3, `sessions so far: ${ids.length}`);
      for (const id of ids) assert.match(id ?? '', /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      assert.equal(new Set(ids).size, ids.length, ids.join(' '));
    });

    it('a Host block written by the binary\'s install-host works with plain ssh', async () => {
      // What a user does: install-host, then `ssh jumphost-ssm`. Only the test plumbing (keys,
      // known host, the fake's endpoint in the environment) comes from elsewhere.
      const config = path.join(dir, 'installed_ssh_config');
      writeFileSync(config, harness.clientPlumbing());
      const install = await harness.runSsmProxy(
        ['install-host', 'jumphost-ssm', '--target', TARGET_ID, '--region', REGION, '--user', harness.sshd.user, '--port', String(harness.sshd.port), '--config', config],
        { cwd: dir },
      );
      assert.equal(install.code, 0, describeRun(install));
      assert.match(readFileSync(config, 'utf8'), new RegExp(`ProxyCommand "${binary.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}" connect ${TARGET_ID} %p`));
      const result = await runProcess('ssh', ['-F', config, 'jumphost-ssm', 'echo installed'], {
        cwd: dir,
        env: { ...harness.env, AWS_ENDPOINT_URL_SSM: harness.fake.endpointUrl },
        timeoutMs: 120_000,
      });
      assert.equal(result.code, 0, describeRun(result));
      assert.equal(result.stdout.toString('latin1'), 'installed\n');
    });
  });


  it('carries a startup snapshot by default; --no-snapshot and --code-cache (opt-in) build without one, and run quietly', (t) => {
    const env = { HOME: dir, AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', AWS_REGION: 'eu-west-2', AWS_MAX_ATTEMPTS: '1' };
    const sizes: Record<string, number> = { snapshot: statSync(binary).size };
    for (const [kind, flag] of [['plain', '--no-snapshot'], ['code-cache', '--code-cache']] as const) {
      const out = path.join(dir, kind);
      const build = spawnSync('npm', ['run', '--silent', 'build:binary', '--', flag, '--out-dir', out], { cwd: REPO, encoding: 'utf8', timeout: 600_000 });
      assert.equal(build.status, 0, `${build.stdout}${build.stderr}`);
      const other = path.join(out, 'ssm-proxy');
      sizes[kind] = statSync(other).size;
      const version = spawnSync(other, ['--version'], { cwd: dir, env: {}, encoding: 'utf8', timeout: 30_000 });
      assert.equal(version.status, 0, version.stderr);
      assert.equal(version.stdout, `${VERSION}\n`);
      assert.equal(version.stderr, '');
      const refused = spawnSync(other, ['connect', INSTANCE, '22', '--endpoint-url', 'http://127.0.0.1:9'], { cwd: dir, env, encoding: 'utf8', input: '', timeout: 30_000 });
      assert.equal(refused.status, 5, refused.stderr);
      assert.doesNotMatch(refused.stderr, RUNTIME_NOISE);
      rmSync(out, { recursive: true, force: true });
    }
    t.diagnostic(`sizes: ${JSON.stringify(sizes)}`);
    // The snapshot holds the heap with the SDK, ws and yargs loaded (about 9 MB); a code cache
    // only the bundle's compiled code.
    assert.ok(sizes.snapshot! - sizes.plain! > 4_000_000, `the snapshot adds ${sizes.snapshot! - sizes.plain!} bytes`);
    assert.ok(sizes['code-cache']! - sizes.plain! > 100_000, `the code cache adds ${sizes['code-cache']! - sizes.plain!} bytes`);
    for (const [flags, message] of [
      [['build:binaries', '--', '--code-cache'], /^build-binary: --code-cache is for build:binary/m],
      [['build:binary', '--', '--snapshot', '--code-cache'], /^build-binary: --snapshot and --code-cache exclude each other/m],
    ] as const) {
      const refusedBuild = spawnSync('npm', ['run', '--silent', ...flags, '--out-dir', path.join(dir, 'refused')], { cwd: REPO, encoding: 'utf8', timeout: 120_000 });
      assert.equal(refusedBuild.status, 1);
      assert.match(refusedBuild.stderr, message);
    }
  });

  it('install-host writes the binary\'s own absolute path into ProxyCommand', () => {
    const config = path.join(dir, 'ssh_config');
    const result = run(
      ['install-host', 'jumphost-ssm', '--target', INSTANCE, '--profile', 'discovery-access', '--region', 'eu-west-2', '--user', 'ec2-user', '--config', config],
      { HOME: dir, PATH: process.env.PATH ?? '/usr/bin:/bin' },
    );
    assert.equal(result.status, 0, result.stderr);
    const written = readFileSync(config, 'utf8');
    // The folder's name has a space, so the path is quoted.
    assert.match(written, new RegExp(`^\\s+ProxyCommand "${binary.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}" connect ${INSTANCE} %p --profile discovery-access --region eu-west-2$`, 'm'), written);
  });
});
