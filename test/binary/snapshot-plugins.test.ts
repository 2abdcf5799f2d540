/**
 * The pieces that let the bundle become a V8 startup snapshot (scripts/snapshot-plugins.ts,
 * scripts/snapshot-guards.ts), each tried in the pinned linux-x64 Node's real snapshot builder
 * with a small entry: what may happen while the snapshot is built, what must fail the build, and
 * that what the executable draws at run time is fresh in every run.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { build } from 'esbuild';
import { nodeBinaryPath } from '../../scripts/node-binaries.js';
import { deferBuiltins, deferStringWidthSegmenter, readBuiltinShapes } from '../../scripts/snapshot-plugins.js';

const REPO = path.resolve(import.meta.dirname, '../..');
const SUPPORTED = process.platform === 'linux' && process.arch === 'x64';

describe('startup snapshot plugins and guards, in Node\'s snapshot builder', { skip: SUPPORTED ? false : 'the pinned Node runs here on linux-x64 only' }, () => {
  let dir = '';
  let node = '';
  let shapes: ReturnType<typeof readBuiltinShapes>;

  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'ssm-proxy-snapshot-'));
    node = nodeBinaryPath('linux-x64');
    shapes = readBuiltinShapes(node);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** Bundles `source` (an entry in the repo's scripts/ folder) as the build does, then builds a snapshot from it. */
  async function snapshotOf(name: string, source: string): Promise<{ blob: string; status: number | null; stderr: string }> {
    const entry = path.join(REPO, 'scripts', `.test-snapshot-${process.pid}-${name}.ts`);
    const bundleFile = path.join(dir, `${name}.cjs`);
    writeFileSync(entry, source);
    try {
      await build({ entryPoints: [entry], outfile: bundleFile, bundle: true, platform: 'node', format: 'cjs', target: 'node22', logLevel: 'silent', plugins: [deferBuiltins(shapes), deferStringWidthSegmenter] });
    } finally {
      rmSync(entry, { force: true });
    }
    const blob = path.join(dir, `${name}.blob`);
    const made = spawnSync(node, ['--snapshot-blob', blob, '--build-snapshot', bundleFile], { cwd: dir, encoding: 'utf8', env: {}, timeout: 60_000 });
    return { blob, status: made.status, stderr: made.stderr };
  }

  function runSnapshot(blob: string): string {
    const result = spawnSync(node, ['--snapshot-blob', blob], { cwd: dir, encoding: 'utf8', env: {}, timeout: 30_000 });
    assert.equal(result.status, 0, result.stderr);
    return result.stdout;
  }

  it('a module may copy plain data of http and http2 at load time; their functions work at run time', async () => {
    const { blob, status, stderr } = await snapshotOf(
      'data',
      `import http, { STATUS_CODES } from 'node:http';
       import { constants } from 'node:http2';
       import https from 'https';
       import { startupSnapshot } from 'node:v8';
       const notFound = STATUS_CODES[404];
       const pathHeader = constants.HTTP2_HEADER_PATH;
       startupSnapshot.setDeserializeMainFunction(() => {
         process.stdout.write([notFound, pathHeader, typeof http.request, typeof https.Agent, String(new https.Agent() instanceof http.Agent)].join(' ') + '\\n');
       });`,
    );
    assert.equal(status, 0, stderr);
    assert.equal(runSnapshot(blob), 'Not Found :path function function true\n');
  });

  it('the build fails, naming the function, when one of them is used while building', async () => {
    const { status, stderr } = await snapshotOf(
      'use',
      `import { request } from 'node:http';
       import { startupSnapshot } from 'node:v8';
       const made = typeof request('http://127.0.0.1:9');
       startupSnapshot.setDeserializeMainFunction(() => process.stdout.write(made));`,
    );
    assert.notEqual(status, 0);
    assert.match(stderr, /node:http\.request was used while the startup snapshot was being built/);
  });

  it('randomness drawn while building fails the build', async () => {
    const { status, stderr } = await snapshotOf(
      'random-at-build',
      `import './snapshot-guards.js';
       import { randomUUID } from 'node:crypto';
       import { startupSnapshot } from 'node:v8';
       const id = randomUUID();
       startupSnapshot.setDeserializeMainFunction(() => process.stdout.write(id));`,
    );
    assert.notEqual(status, 0);
    assert.match(stderr, /crypto\.randomUUID was called while the startup snapshot was being built/);
  });

  it('randomness drawn at run time is fresh in every run, through functions copied while building', async () => {
    const { blob, status, stderr } = await snapshotOf(
      'random-at-run',
      `import './snapshot-guards.js';
       import { randomBytes, randomUUID } from 'node:crypto';
       import { startupSnapshot } from 'node:v8';
       startupSnapshot.setDeserializeMainFunction(() => {
         process.stdout.write([randomUUID(), randomBytes(8).toString('hex'), globalThis.crypto.randomUUID()].join(' ') + '\\n');
       });`,
    );
    assert.equal(status, 0, stderr);
    const first = runSnapshot(blob).trim().split(' ');
    const second = runSnapshot(blob).trim().split(' ');
    assert.equal(first.length, 3);
    assert.match(first[0]!, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    for (let i = 0; i < 3; i++) assert.notEqual(first[i], second[i], `value ${i} repeated across runs`);
  });

  it('an environment variable read while building fails the build; read at run time, it has the run\'s value', async () => {
    const atBuild = await snapshotOf(
      'env-at-build',
      `import './snapshot-guards.js';
       import { startupSnapshot } from 'node:v8';
       const region = process.env.AWS_REGION;
       startupSnapshot.setDeserializeMainFunction(() => process.stdout.write(String(region)));`,
    );
    assert.notEqual(atBuild.status, 0);
    assert.match(atBuild.stderr, /process\.env\.AWS_REGION was read while the startup snapshot was being built/);
    const atRun = await snapshotOf(
      'env-at-run',
      `import './snapshot-guards.js';
       import { startupSnapshot } from 'node:v8';
       const env = process.env;
       startupSnapshot.setDeserializeMainFunction(() => process.stdout.write([process.env.AWS_REGION, env.AWS_REGION, String(process.env === env)].join(' ') + '\\n'));`,
    );
    assert.equal(atRun.status, 0, atRun.stderr);
    const result = spawnSync(node, ['--snapshot-blob', atRun.blob], { cwd: dir, encoding: 'utf8', env: { AWS_REGION: 'eu-west-2' }, timeout: 30_000 });
    assert.equal(result.status, 0, result.stderr);
    // process.env is the real one again; a reference taken while building still reads the run's value.
    assert.equal(result.stdout, 'eu-west-2 eu-west-2 false\n');
  });
});
