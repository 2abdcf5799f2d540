import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { describeRun, startHarness, type Harness } from '../e2e/harness.js';
import { startFakeSso, type FakeSso } from '../fake-sso/index.js';
import { makeHome, PROFILE, SESSION, writeSeedConfig, writeToken, type Home } from './helpers.js';

/** Role credentials the fake portal hands out; the fake SSM verifies the websocket upgrade's SigV4 with them. */
const ROLE_CREDENTIALS = { accessKeyId: 'ASIAFAKESSOE2E000001', secretAccessKey: 'fake/sso+role=secret-for-e2e' };

/**
 * Real ssh through ssm-proxy with an SSO profile: the harness's sshd and fake SSM, the profile
 * named by AWS_PROFILE in ssh's environment (so the harness's ProxyCommand line is used as is),
 * no static keys, HOME and AWS_CONFIG_FILE in a throwaway directory.
 */
describe('ssh with an SSO profile (real sshd through the e2e harness)', () => {
  let harness: Harness;
  let sso: FakeSso;
  let home: Home;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    sso = await startFakeSso({ roleCredentials: ROLE_CREDENTIALS });
    harness = await startHarness({ fake: { verifySignature: ROLE_CREDENTIALS } });
    home = makeHome(sso.env());
    writeSeedConfig(home);
    env = {
      ...home.env(),
      AWS_PROFILE: PROFILE,
      AWS_ACCESS_KEY_ID: '',
      AWS_SECRET_ACCESS_KEY: '',
    };
  });
  after(async () => {
    await harness?.stop();
    await sso?.close();
  });

  it('login, then ssh runs a command; StartSession and the websocket are signed with the SSO role credentials', async () => {
    const login = await harness.runSsmProxy(['login'], { env, timeoutMs: 30_000 });
    assert.equal(login.code, 0, describeRun(login));
    assert.ok(readFileSync(home.cacheFile(SESSION), 'utf8').includes('"refreshToken"'));

    const result = await harness.runSsh(harness.alias, 'echo sso-ok; id -un', { env, timeoutMs: 60_000 });
    assert.equal(result.code, 0, describeRun(result));
    assert.equal(result.stdout.toString(), `sso-ok\n${harness.sshd.user}\n`);
    assert.doesNotMatch(result.stderr, /SSO|sign-in|enter the code|token|error/i, 'SSO stays silent');
    const started = harness.fake.records.apiCalls.filter((call) => call.operation === 'StartSession');
    assert.equal(started.length, 1);
    assert.equal(started[0]!.accessKeyId, ROLE_CREDENTIALS.accessKeyId);
    assert.ok(harness.fake.records.connections.length >= 1);
    assert.ok(harness.fake.records.connections.every((connection) => connection.signatureOk === true));
    assert.equal(sso.calls.filter((call) => call.operation === 'GetRoleCredentials' && call.status === 200).length, 1);
  });

  it('an expired token is refreshed silently and ssh still just works', async () => {
    const token = JSON.parse(readFileSync(home.cacheFile(SESSION), 'utf8'));
    writeToken(home, SESSION, { ...token, expiresAt: '2020-01-01T00:00:00Z' });
    // The role credentials the first test cached would make the token irrelevant: drop them.
    rmSync(join(home.dir, '.aws', 'cli', 'cache'), { recursive: true, force: true });
    const result = await harness.runSsh(harness.alias, 'echo refreshed-ok', { env, timeoutMs: 60_000 });
    assert.equal(result.code, 0, describeRun(result));
    assert.equal(result.stdout.toString(), 'refreshed-ok\n');
    assert.doesNotMatch(result.stderr, /SSO|sign-in|enter the code|token|error/i, 'SSO stays silent');
    assert.equal(sso.calls.filter((call) => call.grantType === 'refresh_token' && call.status === 200).length, 1);
  });
});
