/**
 * Hostile corpus, AWS side: endpoints that accept TCP and never answer. Every AWS call —
 * ssm-proxy's own clients (SSM, SSO portal, SSO-OIDC, STS in doctor) and the SDK's inner clients
 * of the credential chain (STS for a role profile), direct or through a proxy or a CA bundle —
 * fails within its timeout with one line naming the endpoint, exit 5. Each run is bounded by the
 * test (SIGKILL after 30 s would show as a failure, never a hang).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { EXIT_CODES } from '../../src/errors.js';
import { makeTestCerts, type TestCerts } from '../network/certs.js';
import { assertOneLine, closedPort, KEYS, runCli, sandbox, silentListener, ssoConfig, TARGET, tokenJson } from './aws-harness.js';

/** --connect-timeout 1: connect within 1 s, each answer within 2 s; a whole call (retries included) within 4 s. */
const FAST = ['--connect-timeout', '1'];

describe('hostile: an AWS endpoint that accepts TCP and never answers', () => {
  let silent: Awaited<ReturnType<typeof silentListener>>;
  let certs: TestCerts;
  before(async () => {
    [silent, certs] = await Promise.all([silentListener(), makeTestCerts()]);
  });
  after(() => Promise.all([silent.close(), certs.remove()]));

  it('the SSM API: exit 5 within the bound, naming the endpoint', async () => {
    const box = sandbox();
    const outcome = await runCli(['connect', TARGET, '--region', 'us-east-1', '--endpoint-url', silent.url, ...FAST], box.env(KEYS));
    assertOneLine(outcome, EXIT_CODES.network, new RegExp(`^ssm-proxy: ssm:StartSession on ${TARGET} failed: the SSM endpoint ${silent.url} did not answer within 4 s; .*--connect-timeout$`));
    assert.ok(outcome.ms < 15_000, `took ${outcome.ms} ms`);
  });

  it('the default timeouts also end it (no --connect-timeout): within 20 s and a margin', async () => {
    const box = sandbox();
    const outcome = await runCli(['connect', TARGET, '--region', 'us-east-1', '--endpoint-url', silent.url], box.env(KEYS), 45_000);
    assertOneLine(outcome, EXIT_CODES.network, /the SSM endpoint http:\/\/127\.0\.0\.1:\d+ did not answer within 20 s/);
    assert.ok(outcome.ms < 30_000, `took ${outcome.ms} ms`);
  });

  it('the SSO portal (GetRoleCredentials) with a valid token: exit 5, not 3', async () => {
    const box = sandbox();
    box.config(ssoConfig());
    box.token('corp', tokenJson());
    const outcome = await runCli(['connect', TARGET, '--profile', 'p', '--login', 'never', ...FAST], box.env({ AWS_ENDPOINT_URL_SSO: silent.url }));
    assertOneLine(outcome, EXIT_CODES.network, new RegExp(`^ssm-proxy: sso:GetRoleCredentials for role Dev in account 123456789012 failed: the SSO portal endpoint ${silent.url} did not answer within 4 s`));
  });

  it('the SSO portal refusing connections with a valid token: exit 5 (ECONNREFUSED), not 3', async () => {
    const box = sandbox();
    box.config(ssoConfig());
    box.token('corp', tokenJson());
    const port = await closedPort();
    const outcome = await runCli(['connect', TARGET, '--profile', 'p', '--login', 'never'], box.env({ AWS_ENDPOINT_URL_SSO: `http://127.0.0.1:${port}` }));
    assertOneLine(outcome, EXIT_CODES.network, new RegExp(`cannot reach the SSO portal endpoint http://127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\)`));
  });

  it('SSO-OIDC refresh of an expired token: exit 5', async () => {
    const box = sandbox();
    box.config(ssoConfig());
    box.token('corp', tokenJson({ expiresAt: '2020-01-01T00:00:00Z', refreshToken: 'rt-hostile-0001', clientId: 'cid', clientSecret: 'cs-hostile-0001', registrationExpiresAt: '2099-01-01T00:00:00Z' }));
    const outcome = await runCli(['connect', TARGET, '--profile', 'p', '--login', 'never', ...FAST], box.env({ AWS_ENDPOINT_URL_SSO_OIDC: silent.url }));
    assertOneLine(outcome, EXIT_CODES.network, new RegExp(`expired and could not be refreshed: SSO-OIDC CreateToken in eu-west-2 failed: the SSO-OIDC endpoint ${silent.url} did not answer within 4 s`));
  });

  it('SSO-OIDC in login (RegisterClient): exit 5, nothing created', async () => {
    const box = sandbox();
    box.config(ssoConfig());
    const before = box.snapshot();
    const outcome = await runCli(['login', '--profile', 'p', ...FAST], box.env({ AWS_ENDPOINT_URL_SSO_OIDC: silent.url }));
    assertOneLine(outcome, EXIT_CODES.network, new RegExp(`^ssm-proxy: SSO-OIDC RegisterClient in eu-west-2 failed: the SSO-OIDC endpoint ${silent.url} did not answer within 4 s`));
    assert.deepEqual(box.snapshot(), before);
  });

  it('STS inside the SDK credential chain (a role_arn profile): exit 5', async () => {
    const box = sandbox();
    box.config('[profile base]\nregion = us-east-1\n\n[profile role]\nregion = us-east-1\nrole_arn = arn:aws:iam::123456789012:role/Dev\nsource_profile = base\n');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(`${box.home}/.aws/credentials`, `[base]\naws_access_key_id = ${KEYS.AWS_ACCESS_KEY_ID}\naws_secret_access_key = ${KEYS.AWS_SECRET_ACCESS_KEY}\n`);
    const outcome = await runCli(['connect', TARGET, '--profile', 'role', '--endpoint-url', 'http://127.0.0.1:9', ...FAST], box.env({ AWS_ENDPOINT_URL_STS: silent.url }));
    assertOneLine(outcome, EXIT_CODES.network, /^ssm-proxy: loading AWS credentials failed: the STS endpoint did not answer within 2 s/);
    assert.ok(!outcome.stderr.includes(KEYS.AWS_SECRET_ACCESS_KEY));
  });

  it('STS in doctor (GetCallerIdentity): the identity check fails with exit 5', async () => {
    const box = sandbox();
    const outcome = await runCli(['doctor', '--region', 'us-east-1', '--endpoint-url', 'http://127.0.0.1:9', ...FAST], box.env({ ...KEYS, AWS_ENDPOINT_URL_STS: silent.url }));
    assert.equal(outcome.code, EXIT_CODES.network, outcome.stderr);
    assert.match(outcome.stdout.toString(), new RegExp(`✘ caller identity: sts:GetCallerIdentity failed: the STS endpoint ${silent.url} did not answer within 4 s`));
  });

  it('through a proxy that accepts and never answers CONNECT: exit 5', async () => {
    const box = sandbox();
    const outcome = await runCli(['connect', TARGET, '--region', 'us-east-1', '--proxy', silent.url, ...FAST], box.env(KEYS));
    assertOneLine(outcome, EXIT_CODES.network, /^ssm-proxy: ssm:StartSession on i-0123456789abcdef0 failed: the SSM endpoint https:\/\/ssm\.us-east-1\.amazonaws\.com did not (accept a connection within 1 s|answer within 6 s)/);
    assert.ok(outcome.ms < 15_000, `took ${outcome.ms} ms`);
  });

  it('with a CA bundle, an https endpoint that never completes the TLS handshake: exit 5', async () => {
    const box = sandbox();
    const url = `https://127.0.0.1:${silent.port}`;
    const outcome = await runCli(['connect', TARGET, '--region', 'us-east-1', '--endpoint-url', url, '--ca-bundle', certs.caPath, ...FAST], box.env(KEYS));
    assertOneLine(outcome, EXIT_CODES.network, new RegExp(`the SSM endpoint ${url.replace(/[.]/g, '\\.')} did not answer within 4 s`));
  });
});
