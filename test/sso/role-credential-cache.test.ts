/**
 * SSO role credentials cached in the AWS CLI v2's own cache (~/.aws/cli/cache): the file name and
 * bytes checked against Python's json.dumps + hashlib (what the CLI runs), and through the built
 * CLI: the second connect signs StartSession with the cached credentials without a portal call.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readCachedRole, roleCacheKey, roleCachePath, roleCacheText } from '../../src/aws/sso/role-credential-cache.js';
import { startFakeSsm, type FakeSsm } from '../fake-ssm/index.js';
import { startFakeSso, type FakeSso } from '../fake-sso/index.js';
import { ACCOUNT, makeHome, PROFILE, REGION, ROLE, run, SESSION, start, START_URL, startEcho, TARGET, writeSeedConfig, writeToken } from './helpers.js';

/** What the AWS CLI computes (SSOCredentialFetcher._create_cache_key and JSONFileCache), run by Python itself. */
function python(code: string, input: unknown): string {
  return execFileSync('python3', ['-c', code], { input: JSON.stringify(input), encoding: 'utf8' });
}
const PY_KEY = `import json,sys,hashlib
a=json.load(sys.stdin)
print(hashlib.sha1(json.dumps(a, sort_keys=True, separators=(',', ':')).encode('utf-8')).hexdigest(), end='')`;
const PY_FILE = `import json,sys,datetime
from datetime import timezone
v=json.load(sys.stdin)
c=v['c']
exp=datetime.datetime.fromtimestamp(c['expiration']/1000.0, timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')
print(json.dumps({'ProviderType':'sso','Credentials':{'AccessKeyId':c['accessKeyId'],'SecretAccessKey':c['secretAccessKey'],'SessionToken':c['sessionToken'],'Expiration':exp,'AccountId':v['account']}}), end='')`;

describe('SSO role credentials in the AWS CLI cache', () => {
  it('names the file exactly as the AWS CLI does (sso-session and legacy profiles, non-ASCII too)', () => {
    const cases = [
      { accountId: '123456789012', roleName: 'DiscoveryAccess', sessionName: 'corp', startUrl: START_URL },
      { accountId: '123456789012', roleName: 'Dev', sessionName: undefined, startUrl: 'https://d-1234567890.awsapps.com/start#/' },
      { accountId: '000000000001', roleName: 'Rôle-é', sessionName: 'séssion "q" \\ ✓', startUrl: START_URL },
    ];
    for (const sso of cases) {
      const args = sso.sessionName !== undefined ? { roleName: sso.roleName, accountId: sso.accountId, sessionName: sso.sessionName } : { roleName: sso.roleName, accountId: sso.accountId, startUrl: sso.startUrl };
      assert.equal(roleCacheKey(sso), python(PY_KEY, args));
    }
  });

  it('writes the bytes the AWS CLI writes', () => {
    const credentials = { accessKeyId: 'ASIAEXAMPLE', secretAccessKey: 'se/cr+et"\\', sessionToken: 'tok€n', expiration: new Date(1767225599999) };
    const expected = python(PY_FILE, { c: { ...credentials, expiration: credentials.expiration.getTime() }, account: '123456789012' });
    assert.equal(roleCacheText(credentials, '123456789012'), expected);
    assert.match(expected, /"Expiration": "2025-12-31T23:59:59Z"/);
  });

  it('reads what the CLI wrote, ignores what is within 15 minutes of expiry or broken', () => {
    const home = makeHome();
    const env = home.env();
    const sso = { accountId: ACCOUNT, roleName: ROLE, sessionName: SESSION, startUrl: START_URL };
    const file = roleCachePath(sso, env);
    assert.equal(file, join(home.dir, '.aws', 'cli', 'cache', `${roleCacheKey(sso)}.json`));
    mkdirSync(dirname(file), { recursive: true });
    const now = Date.parse('2026-01-01T00:00:00Z');
    const write = (expiration: string) =>
      writeFileSync(file, `{"ProviderType": "sso", "Credentials": {"AccessKeyId": "AK", "SecretAccessKey": "SK", "SessionToken": "ST", "Expiration": "${expiration}", "AccountId": "${ACCOUNT}"}}`);
    write('2026-01-01T00:16:00Z');
    const fresh = readCachedRole(sso, env, now);
    assert.deepEqual(fresh.credentials, { accessKeyId: 'AK', secretAccessKey: 'SK', sessionToken: 'ST', expiration: new Date('2026-01-01T00:16:00Z') });
    write('2026-01-01T00:14:59Z');
    assert.match(readCachedRole(sso, env, now).credentials === undefined ? (readCachedRole(sso, env, now) as { why: string }).why : '', /expire at 2026-01-01T00:14:59Z/);
    writeFileSync(file, '{"ProviderType": "sso", "Credentials": {"AccessKeyId"');
    assert.equal(readCachedRole(sso, env, now).credentials, undefined);
  });
});

describe('connect reuses cached SSO role credentials', () => {
  let sso: FakeSso;
  let ssm: FakeSsm;
  let echo: Awaited<ReturnType<typeof startEcho>>;
  before(async () => {
    [sso, ssm, echo] = await Promise.all([startFakeSso(), startFakeSsm({ region: REGION }), startEcho()]);
  });
  after(() => Promise.all([sso.close(), ssm.close(), echo.close()]));

  async function connectOnce(env: Record<string, string>) {
    const payload = Buffer.from(`cached ${Math.random()}\n`);
    const running = start(['connect', TARGET, String(echo.port), '--profile', PROFILE, '--endpoint-url', ssm.endpointUrl, '-v'], env, { timeoutMs: 40_000 });
    running.child.stdin!.write(payload);
    await running.waitForStdout(payload, 30_000);
    running.child.stdin!.end();
    const result = await running.done;
    assert.equal(result.code, 0, result.stderr);
    return result;
  }

  it('the first connect fetches and caches (0600); the second signs with the cache and calls no SSO endpoint', async () => {
    const home = makeHome(sso.env());
    writeSeedConfig(home);
    writeToken(home, SESSION, { startUrl: START_URL, region: REGION, accessToken: 'cache-test-access-token', expiresAt: new Date(Date.now() + 3600_000).toISOString() });
    sso.addAccessToken('cache-test-access-token');
    const env = home.env();
    const portalCalls = () => sso.calls.filter((call) => call.operation === 'GetRoleCredentials').length;

    const before = portalCalls();
    const first = await connectOnce(env);
    assert.equal(portalCalls(), before + 1);
    assert.match(first.stderr, /no usable role credentials in the AWS CLI cache \(none cached\)/);
    const file = roleCachePath({ accountId: ACCOUNT, roleName: ROLE, sessionName: SESSION, startUrl: START_URL }, env);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const issued = sso.issuedCredentials.at(-1)!;
    const cached = JSON.parse(readFileSync(file, 'utf8'));
    assert.equal(cached.ProviderType, 'sso');
    assert.equal(cached.Credentials.AccessKeyId, issued.accessKeyId);
    assert.ok(!first.stderr.includes(issued.secretAccessKey) && !first.stderr.includes(issued.sessionToken), 'no secret in the -v log');

    const second = await connectOnce(env);
    assert.equal(portalCalls(), before + 1, 'no GetRoleCredentials on the second connect');
    assert.match(second.stderr, new RegExp(`role credentials from the AWS CLI cache ${file.replace(/[.]/g, '\\.')}`));
    const started = ssm.records.apiCalls.filter((call) => call.operation === 'StartSession').at(-1)!;
    assert.equal(started.accessKeyId, issued.accessKeyId, 'StartSession signed with the cached credentials');

    // A new sign-in takes the credentials cached under the old one with it.
    const login = await run(['login', '--force', '--profile', PROFILE], env);
    assert.equal(login.code, 0, login.stderr);
    assert.throws(() => statSync(file), /ENOENT/);
    await connectOnce(env);
    assert.equal(portalCalls(), before + 2, 'fetched again after the new sign-in');
  });
});
