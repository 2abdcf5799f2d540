/**
 * The fake SSM service over https:// and wss:// with a certificate from a throwaway CA: refused
 * with one clear line when ssm-proxy does not trust that CA, working when the CA comes from
 * --ca-bundle, AWS_CA_BUNDLE, the profile's ca_bundle or NODE_EXTRA_CA_CERTS.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { createServer as createHttpsServer, type Server } from 'node:https';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { EXIT_CODES, SsmProxyError } from '../../src/errors.js';
import { openWebSocket } from '../../src/transport/open-websocket.js';
import { describeRun, startHarness, TARGET_ID, type Harness } from '../e2e/harness.js';
import { makeTestCerts, type TestCerts } from './certs.js';
import { sshWith } from './ssh-with.js';
import { startTinyProxy } from './tinyproxy.js';

const untrusted = (code: string, where: string) =>
  `the TLS certificate of ${where} is not signed by a trusted CA (${code}); if a corporate proxy or CA inspects TLS, ` +
  'pass --ca-bundle FILE or set AWS_CA_BUNDLE (or ca_bundle in the profile) to a PEM file holding that CA';

describe('custom CA bundle (fake SSM over https/wss with a throwaway CA)', () => {
  let certs: TestCerts;
  let harness: Harness;
  const lines = (text: string) => text.split('\n').filter(Boolean);

  before(async () => {
    certs = await makeTestCerts();
    harness = await startHarness({ fake: { tls: { key: certs.key, cert: certs.cert } } });
    assert.match(harness.fake.endpointUrl, /^https:\/\//);
  });
  after(async () => {
    await harness?.stop();
    await certs?.remove();
  });

  it('without the CA: one line naming the fix, exit 5, nothing on stdout', async () => {
    const result = await harness.runSsmProxy(harness.connectArgs(), { timeoutMs: 60_000 });
    assert.equal(result.code, EXIT_CODES.network, describeRun(result));
    assert.deepEqual(lines(result.stderr), [
      `ssm-proxy: ssm:StartSession on ${TARGET_ID} failed: ${untrusted('UNABLE_TO_VERIFY_LEAF_SIGNATURE', `the SSM endpoint ${harness.fake.endpointUrl.replace(/\/$/, '')}`)}`,
    ]);
    assert.equal(result.stdout.length, 0);
  });

  it('with AWS_CA_BUNDLE: ssh works over https and wss', async () => {
    const result = await harness.runSsh(harness.alias, 'echo tls-ok', { env: { AWS_CA_BUNDLE: certs.caPath } });
    assert.equal(result.code, 0, describeRun(result));
    assert.equal(result.stdout.toString(), 'tls-ok\n');
    const call = harness.fake.records.apiCalls.find((c) => c.operation === 'StartSession' && c.status === 200)!;
    assert.equal(harness.fake.records.connections.find((c) => c.sessionId === call.sessionId)?.signatureOk, true);
  });

  it('with --ca-bundle: connect works (and the flag wins over a wrong AWS_CA_BUNDLE)', async () => {
    const result = await sshWith(harness, ['--ca-bundle', certs.caPath], 'echo flag-ca', { env: { AWS_CA_BUNDLE: certs.otherCaPath } });
    assert.equal(result.code, 0, describeRun(result));
    assert.equal(result.stdout.toString(), 'flag-ca\n');
  });

  it("with the profile's ca_bundle: ssh works", async () => {
    const config = join(harness.dir, 'aws-config-ca');
    await writeFile(config, `[default]\nca_bundle = ${certs.caPath}\n`);
    const result = await harness.runSsh(harness.alias, 'echo profile-ca', { env: { AWS_CONFIG_FILE: config } });
    assert.equal(result.code, 0, describeRun(result));
    assert.equal(result.stdout.toString(), 'profile-ca\n');
  });

  it('with NODE_EXTRA_CA_CERTS (Node adds it to its roots): ssh works', async () => {
    const result = await harness.runSsh(harness.alias, 'echo extra-ca', { env: { NODE_EXTRA_CA_CERTS: certs.caPath } });
    assert.equal(result.code, 0, describeRun(result));
    assert.equal(result.stdout.toString(), 'extra-ca\n');
  });

  it('through the CONNECT proxy with the CA bundle: TLS inside the tunnel is verified against the bundle', async () => {
    const proxy = await startTinyProxy({ connectPorts: [harness.fake.port] });
    try {
      const result = await harness.runSsh(harness.alias, 'echo tunnel-tls', { env: { HTTPS_PROXY: proxy.url, AWS_CA_BUNDLE: certs.caPath } });
      assert.equal(result.code, 0, describeRun(result));
      assert.equal(result.stdout.toString(), 'tunnel-tls\n');
      assert.ok((await proxy.waitForConnects(1, 5_000)).every((hostPort) => hostPort === `127.0.0.1:${harness.fake.port}`));
      const refused = await harness.runSsmProxy(harness.connectArgs(), { env: { HTTPS_PROXY: proxy.url }, timeoutMs: 60_000 });
      assert.equal(refused.code, EXIT_CODES.network, describeRun(refused));
      assert.match(refused.stderr, /is not signed by a trusted CA/);
    } finally {
      await proxy.stop();
    }
  });

  it('a bundle with another CA: the same clear line (the bundle replaces the built-in roots; verification stays on)', async () => {
    const result = await harness.runSsmProxy([...harness.connectArgs(), '--ca-bundle', certs.otherCaPath], { timeoutMs: 60_000 });
    assert.equal(result.code, EXIT_CODES.network, describeRun(result));
    assert.equal(lines(result.stderr).length, 1, result.stderr);
    assert.match(result.stderr, /is not signed by a trusted CA \((UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN)\); .*--ca-bundle FILE/);
  });

  it('a bundle that cannot be read or holds no certificate: one config line, exit 3', async () => {
    const missing = await harness.runSsmProxy([...harness.connectArgs(), '--ca-bundle', join(harness.dir, 'nope.pem')], { timeoutMs: 30_000 });
    assert.equal(missing.code, EXIT_CODES.config, describeRun(missing));
    assert.deepEqual(lines(missing.stderr), [
      `ssm-proxy: the CA bundle ${join(harness.dir, 'nope.pem')} (from --ca-bundle) does not exist; fix the path or unset it`,
    ]);
    const junk = join(harness.dir, 'junk.pem');
    await writeFile(junk, 'not a certificate\n');
    const empty = await harness.runSsmProxy(harness.connectArgs(), { env: { AWS_CA_BUNDLE: junk }, timeoutMs: 30_000 });
    assert.equal(empty.code, EXIT_CODES.config, describeRun(empty));
    assert.deepEqual(lines(empty.stderr), [
      `ssm-proxy: the CA bundle ${junk} (from AWS_CA_BUNDLE) holds no PEM certificate (-----BEGIN CERTIFICATE-----); export the CA in PEM form`,
    ]);
  });
});

describe('websocket TLS failure (openWebSocket against an untrusted wss server)', () => {
  let certs: TestCerts;
  let server: Server;
  let port: number;
  before(async () => {
    certs = await makeTestCerts();
    server = createHttpsServer({ key: certs.key, cert: certs.cert }, (_request, response) => response.end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    port = (server.address() as { port: number }).port;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await certs.remove();
  });

  it('is one network line naming --ca-bundle / AWS_CA_BUNDLE', async () => {
    const url = `wss://127.0.0.1:${port}/v1/data-channel/s-1?role=publish_subscribe`;
    const error = await openWebSocket(url, { headers: {}, handshakeTimeoutMs: 5_000 }).then(
      () => assert.fail('should not open'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof SsmProxyError);
    assert.equal(error.kind, 'network');
    assert.equal(
      error.message,
      `cannot open the data channel: ${untrusted('UNABLE_TO_VERIFY_LEAF_SIGNATURE', `the data channel at wss://127.0.0.1:${port}/v1/data-channel/s-1`)}`,
    );
  });
});
