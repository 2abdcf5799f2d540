import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { EXIT_CODES } from '../../src/errors.js';
import { VERSION } from '../../src/version.js';

const CLI = resolve(import.meta.dirname, '../../lib/cli/main.js');
const home = mkdtempSync(join(tmpdir(), 'ssm-proxy-cli-'));
const awsConfig = join(home, 'config');
writeFileSync(awsConfig, '[profile has-no-region]\nsso_session = corp\n\n[profile dev]\nregion = eu-west-2\n');

/** Runs the built CLI with a clean AWS environment; nothing from this machine's ~/.aws leaks in. */
function run(args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, [CLI, ...args], {
    input: '',
    timeout: 20_000,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: home,
      AWS_CONFIG_FILE: awsConfig,
      AWS_SHARED_CREDENTIALS_FILE: join(home, 'credentials'),
      AWS_EC2_METADATA_DISABLED: 'true',
      ...env,
    },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr.toString() };
}

function assertOneLineError(result: ReturnType<typeof run>, code: number, pattern: RegExp) {
  assert.equal(result.code, code, result.stderr);
  assert.equal(result.stdout.length, 0, 'nothing on stdout');
  const lines = result.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line, got: ${result.stderr}`);
  assert.match(lines[0]!, pattern);
  assert.doesNotMatch(result.stderr, /^\s+at /m, 'no stack trace');
}

describe('ssm-proxy connect: bad input fails fast with one line', () => {
  it('--version prints the package version', () => {
    const pkg = JSON.parse(readFileSync(resolve(import.meta.dirname, '../../package.json'), 'utf8'));
    assert.equal(VERSION, pkg.version);
    const result = run(['--version']);
    assert.equal(result.code, 0);
    assert.equal(result.stdout.toString(), `${pkg.version}\n`);
  });

  it('rejects a malformed target before any network call', () => {
    assertOneLineError(run(['connect', 'web-server', '22', '--region', 'us-east-1']), EXIT_CODES.usage, /target 'web-server' \(the first argument or --target\) is not valid/);
    assertOneLineError(run(['connect', 'i-12345', '22', '--region', 'us-east-1']), EXIT_CODES.usage, /target 'i-12345' .* is not valid/);
  });

  it('rejects a port out of range', () => {
    assertOneLineError(run(['connect', 'i-0123456789abcdef0', '70000', '--region', 'us-east-1']), EXIT_CODES.usage, /port '70000' \(the second argument or --port\) is not a TCP port/);
  });

  it('names an unknown profile', () => {
    assertOneLineError(
      run(['connect', 'i-0123456789abcdef0', '22', '--profile', 'nope']),
      EXIT_CODES.config,
      /profile 'nope' is not defined/,
    );
  });

  it('asks for a region when none can be found', () => {
    assertOneLineError(
      run(['connect', 'i-0123456789abcdef0', '22', '--profile', 'has-no-region']),
      EXIT_CODES.config,
      /no AWS region: pass --region/,
    );
  });

  it('reports missing credentials as a configuration problem', () => {
    assertOneLineError(
      run(['connect', 'i-0123456789abcdef0', '22', '--profile', 'dev', '--endpoint-url', 'http://127.0.0.1:9']),
      EXIT_CODES.config,
      /credentials/i,
    );
  });

  it('reports an unreachable endpoint as a network error', () => {
    const result = run(['connect', 'i-0123456789abcdef0', '22', '--region', 'us-east-1', '--endpoint-url', 'http://127.0.0.1:9'], {
      AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'not-a-real-secret-key',
    });
    assertOneLineError(result, EXIT_CODES.network, /StartSession .*cannot reach the SSM endpoint http:\/\/127\.0\.0\.1:9 \(ECONNREFUSED\)/);
    assert.ok(!result.stderr.includes('not-a-real-secret-key'));
  });

  it('unknown flags are usage errors', () => {
    const result = run(['connect', 'i-0123456789abcdef0', '--no-such-flag']);
    assert.equal(result.code, EXIT_CODES.usage);
    assert.equal(result.stdout.length, 0);
  });
});
