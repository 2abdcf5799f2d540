import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { after, before, beforeEach, describe, it } from 'node:test';
import { SsmProxyError } from '../../src/errors.js';
import { createLogger } from '../../src/log.js';
import { ensureSsoToken, type EnsureTokenOptions } from '../../src/aws/sso/ensure-token.js';
import { createOidcApi } from '../../src/aws/sso/oidc-client.js';
import { defaultClientSettings } from '../../src/aws/aws-call.js';
import type { SsoSettings } from '../../src/aws/sso/sso-settings.js';
import { startFakeSso, type FakeSso } from '../fake-sso/index.js';
import { makeHome, START_URL, writeToken } from './helpers.js';

/**
 * The login and refresh logic through the real @aws-sdk/client-sso-oidc, reaching the fake
 * through AWS_ENDPOINT_URL_SSO_OIDC (the SDK's own endpoint resolution). Sleeps are recorded,
 * not slept, so polling intervals and slow_down are checked without waiting.
 */
describe('SSO device login and refresh (SDK client → fake OIDC)', () => {
  let fake: FakeSso;
  const saved = { ...process.env };
  const home = makeHome();
  const sso: SsoSettings = {
    kind: 'sso-session', profile: 'discovery-access', sessionName: 'corp', startUrl: START_URL, region: 'eu-west-2',
    scopes: ['sso:account:access'], accountId: '123456789012', roleName: 'DiscoveryAccess', cacheKey: 'corp',
  };
  let prompts: string[];
  let logLines: string[];
  let sleeps: number[];
  let clock: number;

  const options = (extra: Partial<EnsureTokenOptions> = {}): EnsureTokenOptions => ({
    mode: 'auto',
    interactive: true,
    log: createLogger({ verbosity: 2, write: (line) => logLines.push(line) }),
    prompt: (line) => prompts.push(line),
    openBrowser: (url) => prompts.push(`BROWSER ${url}`),
    sleep: async (ms) => {
      sleeps.push(ms);
      clock += ms;
    },
    now: () => clock,
    createOidc: (region) => createOidcApi(region, defaultClientSettings()),
    ...extra,
  });

  before(async () => {
    fake = await startFakeSso();
    Object.assign(process.env, { HOME: home.dir, ...fake.env() });
  });
  after(async () => {
    process.env = saved;
    await fake.close();
  });
  beforeEach(() => {
    prompts = [];
    logLines = [];
    sleeps = [];
    clock = Date.now();
    fake.calls.length = 0;
    Object.assign(fake.options, { pendingPolls: 1, slowDownOnPoll: undefined, denyDeviceAuthorization: false, interval: 1 });
  });

  it('RegisterClient → StartDeviceAuthorization → CreateToken pending → success; URL and code prompted; cache written', async () => {
    fake.options.pendingPolls = 2;
    assert.equal((await ensureSsoToken(sso, options())).outcome, 'signed-in');
    assert.deepEqual(fake.calls.map((call) => `${call.operation}:${call.status}${call.errorType ? `:${call.errorType}` : ''}`), [
      'RegisterClient:200',
      'StartDeviceAuthorization:200',
      'CreateToken:400:AuthorizationPendingException',
      'CreateToken:400:AuthorizationPendingException',
      'CreateToken:200',
    ]);
    assert.deepEqual(fake.calls[0]!.scopes, ['sso:account:access']);
    assert.equal(fake.calls[1]!.startUrl, START_URL);
    assert.deepEqual(sleeps, [1000, 1000, 1000], 'polls at the interval the service asked for');
    const code = /enter the code (\S+)/.exec(prompts.join('\n'))?.[1];
    assert.ok(code && /^[0-9A-F]{4}-[0-9A-F]{4}$/.test(code), prompts.join('\n'));
    assert.ok(prompts.includes(`BROWSER https://device.sso.fake.example/?user_code=${code}`));
    const token = JSON.parse(readFileSync(home.cacheFile('corp'), 'utf8'));
    assert.equal(token.startUrl, START_URL);
    assert.equal(token.region, 'eu-west-2');
    assert.match(token.accessToken, /^fake-access-token-/);
    assert.match(token.refreshToken, /^fake-refresh-token-/);
    assert.match(token.clientSecret, /^fake-client-secret-/);
    assert.match(token.expiresAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.ok(Math.abs(Date.parse(token.expiresAt) - (clock + 3600_000)) < 2000);
    assert.ok(Date.parse(token.registrationExpiresAt) > Date.now() + 80 * 86400_000);
    assert.equal(statSync(home.cacheFile('corp')).mode & 0o777, 0o600);
    for (const secret of fake.secrets()) {
      assert.ok(!prompts.join('\n').includes(secret), 'no secret in the prompt');
      assert.ok(!logLines.join('').includes(secret), 'no secret in the -vv log');
    }
  });

  it('slow_down adds 5 seconds to the polling interval', async () => {
    Object.assign(fake.options, { pendingPolls: 2, slowDownOnPoll: 1 });
    await ensureSsoToken(sso, options({ force: true }));
    assert.deepEqual(
      fake.calls.filter((call) => call.operation === 'CreateToken').map((call) => call.errorType ?? 'ok'),
      ['SlowDownException', 'AuthorizationPendingException', 'ok'],
    );
    assert.deepEqual(sleeps, [1000, 6000, 6000]);
    // The live registration from the cache was reused.
    assert.equal(fake.calls.filter((call) => call.operation === 'RegisterClient').length, 0);
  });

  it('a fresh cached token is kept without any call', async () => {
    assert.equal((await ensureSsoToken(sso, options())).outcome, 'cached');
    assert.equal(fake.calls.length, 0);
    assert.deepEqual(prompts, []);
  });

  it('an expired token with a refresh token is refreshed silently (refresh_token grant, no prompt, rotated token cached)', async () => {
    const before = JSON.parse(readFileSync(home.cacheFile('corp'), 'utf8'));
    writeToken(home, 'corp', { ...before, expiresAt: '2020-01-01T00:00:00Z' });
    assert.equal((await ensureSsoToken(sso, options({ interactive: false, mode: 'never' }))).outcome, 'refreshed');
    assert.deepEqual(fake.calls.map((call) => `${call.operation}:${call.grantType}:${call.status}`), ['CreateToken:refresh_token:200']);
    assert.equal(fake.calls[0]!.refreshToken, before.refreshToken);
    assert.deepEqual(prompts, []);
    const after = JSON.parse(readFileSync(home.cacheFile('corp'), 'utf8'));
    assert.notEqual(after.accessToken, before.accessToken);
    assert.notEqual(after.refreshToken, before.refreshToken);
    assert.equal(after.clientSecret, before.clientSecret);
    assert.ok(Date.parse(after.expiresAt) > Date.now() + 3000_000);
    assert.equal(statSync(home.cacheFile('corp')).mode & 0o777, 0o600);
  });

  it('a token near expiry (inside the window) is refreshed too', async () => {
    const before = JSON.parse(readFileSync(home.cacheFile('corp'), 'utf8'));
    writeToken(home, 'corp', { ...before, expiresAt: new Date(clock + 3 * 60_000).toISOString() });
    assert.equal((await ensureSsoToken(sso, options({ interactive: false }))).outcome, 'refreshed');
  });

  it('a refused refresh gives the one-line fix (and the token is left alone)', async () => {
    const before = JSON.parse(readFileSync(home.cacheFile('corp'), 'utf8'));
    writeToken(home, 'corp', { ...before, expiresAt: '2020-01-01T00:00:00Z' });
    fake.revokeRefreshTokens();
    await assert.rejects(ensureSsoToken(sso, options({ interactive: false })), (error: unknown) => {
      assert.ok(error instanceof SsmProxyError);
      assert.equal(error.kind, 'config');
      assert.match(error.message, /^the AWS SSO sign-in for profile 'discovery-access' expired and could not be refreshed \(InvalidGrantException: Invalid refresh token provided\); run 'ssm-proxy login --profile discovery-access'/);
      return true;
    });
    for (const secret of fake.secrets()) assert.ok(!logLines.join('').includes(secret));
  });

  it('no token and no way to prompt: the one-line fix', async () => {
    await assert.rejects(ensureSsoToken({ ...sso, cacheKey: 'other', sessionName: 'other' }, options({ mode: 'never' })), /is missing .* run 'ssm-proxy login --profile discovery-access'/);
    assert.equal(fake.calls.length, 0);
  });

  it('a sign-in denied in the browser is an access-denied error', async () => {
    fake.options.denyDeviceAuthorization = true;
    await assert.rejects(ensureSsoToken(sso, options({ force: true })), (error: unknown) => {
      assert.ok(error instanceof SsmProxyError);
      assert.equal(error.kind, 'access-denied');
      assert.match(error.message, /was denied in the browser/);
      return true;
    });
  });
});
