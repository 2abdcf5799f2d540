/**
 * The SSM API connection opened ahead of the SDK (network/warm-api-agent.ts): where it may be
 * predicted, and, in a real connect through a latency relay, that it is opened before StartSession
 * starts and is the one connection StartSession uses.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { predictSsmEndpoint } from '../../src/aws/ssm-endpoint.js';
import type { ConfigSections } from '../../src/aws/config-files.js';
import { REGION, REPO_ROOT, startHarness, TARGET_ID, type Harness } from '../e2e/harness.js';
import { startLatencyRelay, type LatencyRelay } from '../helpers/latency-relay.js';

describe('predictSsmEndpoint', () => {
  const context = (sections: ConfigSections = {}, region = 'eu-west-2', profile?: string) =>
    ({ profile, region, files: { sections } }) as unknown as Parameters<typeof predictSsmEndpoint>[0];
  const predict = (...args: Parameters<typeof predictSsmEndpoint>) => predictSsmEndpoint(...args)?.href;

  it('the flag, then the endpoint variables, then the region\'s standard endpoint', () => {
    assert.equal(predict(context(), 'http://127.0.0.1:4566', { AWS_ENDPOINT_URL_SSM: 'https://other' }), 'http://127.0.0.1:4566/');
    assert.equal(predict(context(), undefined, { AWS_ENDPOINT_URL_SSM: 'https://ssm.example:8443', AWS_ENDPOINT_URL: 'https://all.example' }), 'https://ssm.example:8443/');
    assert.equal(predict(context(), undefined, { AWS_ENDPOINT_URL: 'https://all.example' }), 'https://all.example/');
    assert.equal(predict(context(), undefined, {}), 'https://ssm.eu-west-2.amazonaws.com/');
    assert.equal(predict(context({}, 'ap-southeast-4'), undefined, {}), 'https://ssm.ap-southeast-4.amazonaws.com/');
  });

  it('nothing where the SDK could go elsewhere: profile endpoints, FIPS, dual-stack, other partitions', () => {
    for (const key of ['endpoint_url', 'services', 'use_fips_endpoint', 'use_dualstack_endpoint', 'ignore_configured_endpoint_urls']) {
      assert.equal(predict(context({ dev: { region: 'eu-west-2', [key]: 'x' } }, 'eu-west-2', 'dev'), undefined, {}), undefined, key);
      assert.equal(predict(context({ default: { [key]: 'x' } }), undefined, {}), undefined, `default profile ${key}`);
    }
    for (const name of ['AWS_USE_FIPS_ENDPOINT', 'AWS_USE_DUALSTACK_ENDPOINT', 'AWS_IGNORE_CONFIGURED_ENDPOINT_URLS']) {
      assert.equal(predict(context(), undefined, { [name]: 'true' }), undefined, name);
    }
    for (const region of ['cn-north-1', 'us-gov-west-1', 'us-iso-east-1', 'eu-isoe-west-1', 'local']) {
      assert.equal(predict(context({}, region), undefined, {}), undefined, region);
    }
  });
});

describe('connect opens the SSM API connection ahead of the SDK', () => {
  let harness: Harness;
  let relay: LatencyRelay;
  before(async () => {
    harness = await startHarness();
    relay = await startLatencyRelay({ targetPort: Number(new URL(harness.fake.endpointUrl).port), oneWayMs: 40 });
  });
  after(async () => {
    await relay?.close();
    await harness?.stop();
  });

  it('before StartSession starts, and StartSession goes over it', async () => {
    const log = join(harness.dir, 'warm-api.log');
    const args = ['connect', TARGET_ID, String(harness.sshd.port), '--region', REGION, '--endpoint-url', relay.url('http'), '-v', '--log-file', log];
    const spawnedAt = performance.now();
    const child = spawn(process.execPath, [join(REPO_ROOT, 'lib', 'cli', 'main.js'), ...args], { env: harness.env, stdio: ['pipe', 'pipe', 'pipe'] });
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
    child.stdin.on('error', () => undefined);
    child.stdin.write('SSH-2.0-OpenSSH_9.2 test\r\n');
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('latin1');
      child.stdin.end(); // the session streamed; let it end
    });
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    clearTimeout(timer);
    assert.equal(code, 0, stderr);
    assert.match(stdout, /^SSH-2\.0-/, 'sshd\'s banner came through');
    const text = readFileSync(log, 'utf8');
    const timings = /timings: (.*) \(total/.exec(text)?.[1];
    assert.ok(timings, text);
    const phase = (name: string) => Number(new RegExp(`(?:^|, )${name} (\\d+) ms`).exec(timings)?.[1] ?? NaN);
    const startSessionBeginsMs = phase('start-up') + phase('config') + phase('modules') + phase('credentials and SDK');
    assert.ok(Number.isFinite(startSessionBeginsMs), timings);
    // One connection to the API: StartSession used the warm one (a second dial would show here).
    assert.equal(relay.connections.length, 1, `connections to the SSM API: ${relay.connections.length}`);
    const openedMs = relay.connections[0]!.acceptedAt - spawnedAt;
    assert.ok(openedMs < startSessionBeginsMs, `the API connection opened ${openedMs.toFixed(0)} ms after spawn, StartSession began at ${startSessionBeginsMs} ms (${timings})`);
  });
});
