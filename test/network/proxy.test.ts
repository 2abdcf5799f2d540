/**
 * ssh through ssm-proxy through a real HTTP CONNECT proxy (Debian's tinyproxy) to the fake SSM
 * service. The fake accepts TCP connections only from tinyproxy's outgoing address (127.0.0.2),
 * so a session that works went through the proxy, for the SSM API *and* the websocket.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { EXIT_CODES } from '../../src/errors.js';
import { describeRun, startHarness, type Harness } from '../e2e/harness.js';
import { sshWith } from './ssh-with.js';
import { startTinyProxy, type TinyProxy } from './tinyproxy.js';

describe('HTTPS proxy (tinyproxy in front of the fake SSM service)', () => {
  let harness: Harness;
  let proxy: TinyProxy;
  let refusing: TinyProxy;
  let authenticating: TinyProxy;
  const fakeHost = () => `127.0.0.1:${harness.fake.port}`;
  const stderrLines = (text: string) => text.split('\n').filter(Boolean);

  before(async () => {
    harness = await startHarness({ fake: { onlyFrom: '127.0.0.2' } });
    [proxy, refusing, authenticating] = await Promise.all([
      startTinyProxy({ connectPorts: [harness.fake.port] }),
      startTinyProxy({ connectPorts: [443] }),
      startTinyProxy({ connectPorts: [harness.fake.port], basicAuth: { user: 'alice', password: 's3cret-Pw' } }),
    ]);
  });
  after(async () => {
    await Promise.allSettled([proxy?.stop(), refusing?.stop(), authenticating?.stop()]);
    await harness?.stop();
  });

  it('ssh works with HTTPS_PROXY; the API and the websocket both went through CONNECT', async () => {
    const before = proxy.connects().length;
    const result = await harness.runSsh(harness.alias, 'echo through-the-proxy', { env: { HTTPS_PROXY: proxy.url } });
    assert.equal(result.code, 0, describeRun(result));
    assert.equal(result.stdout.toString(), 'through-the-proxy\n');
    // The API and the websocket share host:port here, so the upgrade may reuse the API's tunnel.
    const connects = (await proxy.waitForConnects(before + 1, 5_000)).slice(before);
    assert.ok(connects.every((hostPort) => hostPort === fakeHost()), connects.join(', '));
    const call = harness.fake.records.apiCalls.find((c) => c.operation === 'StartSession')!;
    const upgrade = harness.fake.records.connections.find((c) => c.sessionId === call.sessionId);
    assert.equal(upgrade?.tokenOk, true, 'the websocket reached the fake');
    assert.equal(upgrade?.signatureOk, true);
    // Every TCP connection the fake saw came from tinyproxy's outgoing address.
    const accepted = harness.fake.clientAddresses;
    assert.ok(accepted.length >= 1 && accepted.every((address) => address === proxy.bindAddress), accepted.join(', '));
  });

  it('without the proxy the fake is unreachable (so the sessions here really use it)', async () => {
    const seen = harness.fake.clientAddresses.length;
    const result = await harness.runSsh(harness.alias, 'echo direct', { timeoutMs: 60_000 });
    assert.notEqual(result.code, 0, describeRun(result));
    const line = stderrLines(result.stderr).find((l) => l.startsWith('ssm-proxy:'));
    assert.match(line ?? '', /^ssm-proxy: ssm:StartSession on i-0123456789abcdef0 failed: cannot reach the SSM endpoint http:\/\/127\.0\.0\.1:\d+ \((ECONNRESET|EPIPE|ECONNREFUSED)\)/);
    assert.ok(harness.fake.clientAddresses.slice(seen).every((address) => address === '127.0.0.1'), 'dropped direct connections');
  });

  it('--proxy works too, and wins over HTTPS_PROXY', async () => {
    const before = proxy.connects().length;
    // Nothing listens on the discard port: HTTPS_PROXY alone would fail.
    const result = await sshWith(harness, ['--proxy', proxy.url], 'echo flag', { env: { HTTPS_PROXY: 'http://127.0.0.1:9' } });
    assert.equal(result.code, 0, describeRun(result));
    assert.equal(result.stdout.toString(), 'flag\n');
    await proxy.waitForConnects(before + 1, 5_000);
  });

  it('http_proxy (lower case) is honoured when HTTPS_PROXY is not set', async () => {
    const result = await harness.runSsh(harness.alias, 'echo lower', { env: { http_proxy: proxy.url } });
    assert.equal(result.code, 0, describeRun(result));
    assert.equal(result.stdout.toString(), 'lower\n');
  });

  it('NO_PROXY bypasses the proxy for matching hosts', async () => {
    const before = proxy.connects().length;
    const result = await harness.runSsmProxy(harness.connectArgs(), {
      env: { HTTPS_PROXY: proxy.url, NO_PROXY: 'example.com, 127.0.0.0/8' },
      timeoutMs: 60_000,
    });
    assert.notEqual(result.code, 0, describeRun(result));
    assert.equal(proxy.connects().length, before, 'no CONNECT for a NO_PROXY host');
  });

  it('a proxy that refuses CONNECT: one line naming the proxy and the refusal, exit 5', async () => {
    const result = await harness.runSsmProxy(harness.connectArgs(), { env: { HTTPS_PROXY: refusing.url }, timeoutMs: 60_000 });
    assert.equal(result.code, EXIT_CODES.network, describeRun(result));
    assert.deepEqual(stderrLines(result.stderr), [
      `ssm-proxy: the proxy http://127.0.0.1:${refusing.port} (from HTTPS_PROXY) refused CONNECT to ${fakeHost()} with HTTP 403 Access violation; ` +
        'ask for the host to be allowed, or add it to NO_PROXY if it is reachable directly',
    ]);
    assert.equal(result.stdout.length, 0);
  });

  it('proxy credentials work and are never shown; wrong ones give a line with the URL masked', async () => {
    const [host, port] = ['127.0.0.1', authenticating.port];
    const good = await harness.runSsh(harness.alias, 'echo authenticated', { env: { HTTPS_PROXY: `http://alice:s3cret-Pw@${host}:${port}` } });
    assert.equal(good.code, 0, describeRun(good));
    assert.equal(good.stdout.toString(), 'authenticated\n');

    const bad = await harness.runSsmProxy([...harness.connectArgs(), '-v', '--proxy', `http://alice:wrong-Pw@${host}:${port}`], { timeoutMs: 60_000 });
    assert.equal(bad.code, EXIT_CODES.network, describeRun(bad));
    const last = stderrLines(bad.stderr).at(-1) ?? '';
    assert.match(last, new RegExp(`^ssm-proxy: the proxy http://\\*\\*\\*@${host}:${port} \\(from --proxy\\) refused CONNECT to ${fakeHost()} with HTTP 401 Unauthorized; `)); // tinyproxy answers 401, not 407
    assert.match(last, /put user:password in the proxy URL$/);
    assert.doesNotMatch(bad.stderr, /wrong-Pw|alice/);
  });

  it('an unreachable proxy: one line naming it, exit 5', async () => {
    const result = await harness.runSsmProxy(harness.connectArgs(), { env: { HTTPS_PROXY: 'http://user:pw@127.0.0.1:9' }, timeoutMs: 60_000 });
    assert.equal(result.code, EXIT_CODES.network, describeRun(result));
    assert.deepEqual(stderrLines(result.stderr), [
      'ssm-proxy: cannot reach the proxy http://***@127.0.0.1:9 (from HTTPS_PROXY): ECONNREFUSED; check the proxy address or unset HTTPS_PROXY',
    ]);
  });
});
