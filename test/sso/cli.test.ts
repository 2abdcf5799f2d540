import assert from 'node:assert/strict';
import { readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { EXIT_CODES } from '../../src/errors.js';
import { startFakeSsm, type FakeSsm } from '../fake-ssm/index.js';
import { startFakeSso, type FakeSso } from '../fake-sso/index.js';
import {
  ACCOUNT, lines, makeHome, PROFILE, REGION, ROLE, run, SESSION, start, START_URL, startEcho, STDERR_PTY, TARGET, writeSeedConfig, writeToken,
  type Home,
} from './helpers.js';

/**
 * The whole SSO story through the built CLI: configure-profile → login → the token cache →
 * `connect` with the SSO profile, where the SDK's fromSSO gets role credentials from the fake
 * portal and signs StartSession with them, and bytes flow through the fake agent to a TCP echo
 * target. Fakes are reached only through AWS_ENDPOINT_URL_SSO / AWS_ENDPOINT_URL_SSO_OIDC and
 * --endpoint-url; HOME and AWS_CONFIG_FILE are throwaway directories.
 */
describe('SSO end to end through the CLI', () => {
  let sso: FakeSso;
  let ssm: FakeSsm;
  let echo: Awaited<ReturnType<typeof startEcho>>;
  const homes: Home[] = [];

  before(async () => {
    [sso, ssm, echo] = await Promise.all([startFakeSso(), startFakeSsm({ region: REGION }), startEcho()]);
  });
  after(async () => {
    await Promise.all([sso.close(), ssm.close(), echo.close()]);
  });
  beforeEach(() => {
    ssm.options.startSessionError = undefined;
    Object.assign(sso.options, { pendingPolls: 1, slowDownOnPoll: undefined, denyDeviceAuthorization: false });
  });

  const newHome = () => {
    const home = makeHome(sso.env());
    homes.push(home);
    return home;
  };
  const connectArgs = (extra: string[] = []) => ['connect', TARGET, String(echo.port), '--profile', PROFILE, '--endpoint-url', ssm.endpointUrl, ...extra];

  /** connect, send a line, expect it echoed on stdout, close stdin, expect exit 0. */
  async function echoThrough(env: Record<string, string>, extra: string[] = [], command?: string[]) {
    const payload = Buffer.from(`hello through SSO ${Math.random()}\n`);
    const running = start(connectArgs(extra), env, { timeoutMs: 40_000, ...(command ? { command } : {}) });
    running.child.stdin!.write(payload);
    await running.waitForStdout(payload, 30_000);
    running.child.stdin!.end();
    const result = await running.done;
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(result.stdout, payload, 'stdout carries the stream bytes and nothing else');
    return result;
  }

  function lastStartSession() {
    const calls = ssm.records.apiCalls.filter((call) => call.operation === 'StartSession');
    return calls[calls.length - 1]!;
  }

  it('configure-profile → login → cache file → connect signs StartSession with the portal\'s role credentials', async () => {
    const home = newHome();
    const env = home.env();
    const configured = await run(
      ['configure-profile', '--profile', PROFILE, '--sso-session', SESSION, '--start-url', START_URL, '--sso-region', REGION,
        '--account-id', ACCOUNT, '--role-name', ROLE],
      env,
    );
    assert.equal(configured.code, 0, configured.stderr);
    assert.equal(
      readFileSync(home.config, 'utf8'),
      `[sso-session ${SESSION}]\nsso_start_url = ${START_URL}\nsso_region = ${REGION}\nsso_registration_scopes = sso:account:access\n\n` +
        `[profile ${PROFILE}]\nregion = ${REGION}\noutput = json\nsso_session = ${SESSION}\nsso_account_id = ${ACCOUNT}\nsso_role_name = ${ROLE}\n`,
    );
    const again = await run(
      ['configure-profile', '--profile', PROFILE, '--sso-session', SESSION, '--start-url', START_URL, '--sso-region', REGION,
        '--account-id', ACCOUNT, '--role-name', ROLE],
      env,
    );
    assert.match(again.stdout.toString(), /already up to date/);

    const callsBefore = sso.calls.length;
    const login = await run(['login', '--profile', PROFILE], env);
    assert.equal(login.code, 0, login.stderr);
    assert.equal(login.stdout.length, 0);
    assert.match(login.stderr, /open https:\/\/device\.sso\.fake\.example\/ and enter the code [0-9A-F]{4}-[0-9A-F]{4}/);
    assert.deepEqual(sso.calls.slice(callsBefore).map((call) => call.errorType ?? call.operation), [
      'RegisterClient', 'StartDeviceAuthorization', 'AuthorizationPendingException', 'CreateToken',
    ]);

    const file = home.cacheFile(SESSION);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(statSync(home.cacheDir).mode & 0o777, 0o700);
    const token = JSON.parse(readFileSync(file, 'utf8'));
    assert.deepEqual(Object.keys(token).sort(), [
      'accessToken', 'clientId', 'clientSecret', 'expiresAt', 'refreshToken', 'region', 'registrationExpiresAt', 'startUrl',
    ]);
    assert.equal(token.startUrl, START_URL);
    assert.equal(token.region, REGION);

    // A second login with a fresh token does nothing.
    const noop = await run(['login', '--profile', PROFILE], env);
    assert.equal(noop.code, 0);
    assert.match(noop.stderr, /still valid/);

    await echoThrough(env);
    const portal = sso.calls.filter((call) => call.operation === 'GetRoleCredentials').at(-1)!;
    assert.equal(portal.status, 200);
    assert.deepEqual([portal.accountId, portal.roleName, portal.accessToken], [ACCOUNT, ROLE, token.accessToken]);
    const issued = sso.issuedCredentials.at(-1)!;
    const started = lastStartSession();
    assert.equal(started.status, 200);
    assert.equal(started.accessKeyId, issued.accessKeyId, 'StartSession signed with the SSO role credentials');
    assert.equal(started.credentialRegion, REGION);
  });

  it('an expired token with a refresh token is refreshed silently inside connect', async () => {
    const home = newHome();
    writeSeedConfig(home);
    sso.addRefreshToken('client-refresh-1', 'secret-of-client-refresh-1', 'refresh-token-of-test-2');
    writeToken(home, SESSION, {
      startUrl: START_URL, region: REGION, accessToken: 'expired-access-token-2', expiresAt: '2020-01-01T00:00:00Z',
      clientId: 'client-refresh-1', clientSecret: 'secret-of-client-refresh-1', registrationExpiresAt: '2099-01-01T00:00:00Z',
      refreshToken: 'refresh-token-of-test-2',
    });
    const result = await echoThrough(home.env(), ['--login', 'never']);
    // Silent: no prompt, no SSO line (session-layer warnings are not this test's business).
    assert.doesNotMatch(result.stderr, /SSO|sign-in|enter the code|token|refresh/i);
    const refresh = sso.calls.filter((call) => call.grantType === 'refresh_token').at(-1)!;
    assert.deepEqual([refresh.status, refresh.refreshToken], [200, 'refresh-token-of-test-2']);
    const token = JSON.parse(readFileSync(home.cacheFile(SESSION), 'utf8'));
    assert.notEqual(token.accessToken, 'expired-access-token-2');
    assert.ok(Date.parse(token.expiresAt) > Date.now() + 50 * 60_000);
    assert.equal(statSync(home.cacheFile(SESSION)).mode & 0o777, 0o600);
    assert.equal(lastStartSession().accessKeyId, sso.issuedCredentials.at(-1)!.accessKeyId);
  });

  it('an expired token without a refresh token: one line with the fix (--login never, or stderr not a terminal)', async () => {
    const home = newHome();
    writeSeedConfig(home);
    writeToken(home, SESSION, { startUrl: START_URL, region: REGION, accessToken: 'expired-access-token-3', expiresAt: '2020-01-01T00:00:00Z' });
    const startCalls = ssm.records.apiCalls.length;
    for (const extra of [['--login', 'never'], []]) {
      const result = await run(connectArgs(extra), home.env());
      assert.equal(result.code, EXIT_CODES.config, result.stderr);
      assert.equal(result.stdout.length, 0);
      assert.deepEqual(lines(result.stderr), [
        `ssm-proxy: the AWS SSO sign-in for profile '${PROFILE}' expired at 2020-01-01T00:00:00Z and has no refresh token; ` +
          `run 'ssm-proxy login --profile ${PROFILE}' (or 'aws sso login --profile ${PROFILE}') and try again`,
      ]);
    }
    assert.equal(ssm.records.apiCalls.length, startCalls, 'no StartSession without credentials');
  });

  it('with stderr on a terminal, connect signs in right there (URL and code on the pty) and goes on; stdout stays the stream', async () => {
    const home = newHome();
    writeSeedConfig(home);
    writeToken(home, SESSION, { startUrl: START_URL, region: REGION, accessToken: 'expired-access-token-4', expiresAt: '2020-01-01T00:00:00Z' });
    const result = await echoThrough(home.env(), [], ['python3', STDERR_PTY, process.execPath, join(import.meta.dirname, '../../lib/cli/main.js')]);
    // What the terminal showed (the pty turns \n into \r\n).
    const terminal = result.stderr.replace(/\r/g, '');
    assert.match(terminal, /AWS SSO sign-in for profile 'discovery-access' \(https:\/\/corp\.awsapps\.com\/start\):/);
    assert.match(terminal, /open https:\/\/device\.sso\.fake\.example\/ and enter the code [0-9A-F]{4}-[0-9A-F]{4}/);
    const token = JSON.parse(readFileSync(home.cacheFile(SESSION), 'utf8'));
    assert.match(token.accessToken, /^fake-access-token-/);
    assert.match(token.refreshToken, /^fake-refresh-token-/);
    assert.equal(lastStartSession().accessKeyId, sso.issuedCredentials.at(-1)!.accessKeyId);
  });

  it('the same pty with --login never fails fast instead of prompting', async () => {
    const home = newHome();
    writeSeedConfig(home);
    const result = await new Promise<Awaited<ReturnType<typeof run>>>((resolve) => {
      const running = start(connectArgs(['--login', 'never']), home.env(), {
        command: ['python3', STDERR_PTY, process.execPath, join(import.meta.dirname, '../../lib/cli/main.js')],
      });
      running.child.stdin!.end();
      void running.done.then(resolve);
    });
    assert.equal(result.code, EXIT_CODES.config);
    assert.match(result.stderr, /sign-in for profile 'discovery-access' is missing .*run 'ssm-proxy login --profile discovery-access'/);
    assert.doesNotMatch(result.stderr, /enter the code/);
  });

  it('AccessDenied on StartSession shows AWS\'s message (principal, ssm:StartSession) and the profile and role used', async () => {
    const home = newHome();
    writeSeedConfig(home);
    await run(['login', '--profile', PROFILE], home.env());
    ssm.options.startSessionError = 'AccessDeniedException';
    const result = await run(connectArgs(), home.env());
    assert.equal(result.code, EXIT_CODES['access-denied'], result.stderr);
    assert.equal(result.stdout.length, 0);
    const [line, ...rest] = lines(result.stderr);
    assert.deepEqual(rest, []);
    assert.match(line!, /^ssm-proxy: ssm:StartSession on i-0123456789abcdef0 was denied for profile 'discovery-access' \(SSO role DiscoveryAccess in account 123456789012\): /);
    assert.match(line!, /User: arn:aws:sts::123456789012:assumed-role\/\S+ is not authorized to perform: ssm:StartSession on resource: arn:aws:ec2:eu-west-2:123456789012:instance\/i-0123456789abcdef0/);
    assert.match(line!, /ask your AWS administrator to allow ssm:StartSession/);
  });

  it('unknown or offline targets are one line each', async () => {
    const home = newHome();
    writeSeedConfig(home);
    await run(['login', '--profile', PROFILE], home.env());
    ssm.options.startSessionError = 'TargetNotConnected';
    const offline = await run(connectArgs(), home.env());
    assert.equal(offline.code, EXIT_CODES.network, offline.stderr);
    assert.match(offline.stderr, /^ssm-proxy: ssm:StartSession on i-0123456789abcdef0 failed: i-0123456789abcdef0 is not connected\. \(the instance is offline or its SSM agent is not connected; [^\n]*\n$/);
    ssm.options.startSessionError = 'DoesNotExistException';
    const unknown = await run(connectArgs(), home.env());
    assert.equal(unknown.code, EXIT_CODES.config, unknown.stderr);
    assert.match(unknown.stderr, /^ssm-proxy: [^\n]*DoesNotExistException[^\n]*check the instance id and --region\)\n$/);
  });

  it('configuration mistakes are one line with the fix, before any network call', async () => {
    const home = newHome();
    writeSeedConfig(
      home,
      '\n[profile no-region]\nsso_session = corp\nsso_account_id = 123456789012\nsso_role_name = R\n' +
        '\n[profile dangling]\nregion = eu-west-2\nsso_session = nowhere\nsso_account_id = 123456789012\nsso_role_name = R\n' +
        '\n[profile half]\nregion = eu-west-2\nsso_session = corp\n' +
        `\n[profile legacy]\nregion = eu-west-2\nsso_start_url = https://legacy.awsapps.com/start\nsso_region = ${REGION}\nsso_account_id = ${ACCOUNT}\nsso_role_name = ${ROLE}\n`,
    );
    const portalCalls = sso.calls.length;
    const cases: Array<[string, number, RegExp]> = [
      ['nope', EXIT_CODES.config, /^ssm-proxy: the AWS profile 'nope' is not defined in .*config or the credentials file; add it \(ssm-proxy configure-profile/],
      ['no-region', EXIT_CODES.config, /^ssm-proxy: no AWS region: pass --region, set AWS_REGION, or set region in the profile 'no-region'/],
      ['dangling', EXIT_CODES.config, /^ssm-proxy: the AWS profile 'dangling' names sso_session 'nowhere' but .* has no \[sso-session nowhere\] section; add it/],
      ['half', EXIT_CODES.config, /^ssm-proxy: the AWS profile 'half' in .* has no sso_account_id or sso_role_name; add it/],
      ['legacy', EXIT_CODES.config, /^ssm-proxy: the AWS SSO sign-in for profile 'legacy' is missing \(no cached SSO token for https:\/\/legacy\.awsapps\.com\/start\); run 'ssm-proxy login --profile legacy'/],
    ];
    for (const [profile, code, pattern] of cases) {
      const result = await run(['connect', TARGET, '22', '--profile', profile, '--endpoint-url', ssm.endpointUrl], home.env());
      assert.equal(result.code, code, `${profile}: ${result.stderr}`);
      assert.equal(lines(result.stderr).length, 1, result.stderr);
      assert.match(result.stderr, pattern);
      assert.doesNotMatch(result.stderr, /^\s+at /m);
    }
    assert.equal(sso.calls.length, portalCalls);
    const login = await run(['login', '--profile', 'nope'], home.env());
    assert.equal(login.code, EXIT_CODES.config);
    assert.match(login.stderr, /^ssm-proxy: the AWS profile 'nope' is not defined/);
  });

  it('legacy profiles (sso_start_url in the profile) use the cache file named by the start URL', async () => {
    const home = newHome();
    const legacyUrl = 'https://legacy.awsapps.com/start';
    writeSeedConfig(home, `\n[profile legacy]\nregion = ${REGION}\nsso_start_url = ${legacyUrl}\nsso_region = ${REGION}\nsso_account_id = ${ACCOUNT}\nsso_role_name = ${ROLE}\n`);
    const login = await run(['login', '--profile', 'legacy'], home.env());
    assert.equal(login.code, 0, login.stderr);
    const token = JSON.parse(readFileSync(home.cacheFile(legacyUrl), 'utf8'));
    assert.equal(token.startUrl, legacyUrl);
    assert.equal(token.refreshToken, undefined, 'no scopes, no refresh token (as AWS does for legacy)');
    const payload = Buffer.from('legacy bytes\n');
    const running = start(['connect', TARGET, String(echo.port), '--profile', 'legacy', '--endpoint-url', ssm.endpointUrl], home.env());
    running.child.stdin!.write(payload);
    await running.waitForStdout(payload, 30_000);
    running.child.stdin!.end();
    assert.equal((await running.done).code, 0);
    assert.equal(lastStartSession().accessKeyId, sso.issuedCredentials.at(-1)!.accessKeyId);
  });

  it('no token, client secret or credential reaches stderr or the log file, at any verbosity', async () => {
    const home = newHome();
    writeSeedConfig(home);
    const outputs: string[] = [];
    const login = await run(['login', '--profile', PROFILE, '-vv'], home.env());
    assert.equal(login.code, 0, login.stderr);
    outputs.push(login.stderr);
    for (const verbosity of [[], ['-v'], ['-vv']]) {
      const result = await echoThrough(home.env(), verbosity);
      outputs.push(result.stderr);
      const logFile = join(home.dir, `log${verbosity.join('')}.txt`);
      const logged = await echoThrough(home.env(), [...verbosity, '--log-file', logFile]);
      outputs.push(logged.stderr, readFileSync(logFile, 'utf8'));
    }
    // Refresh and inline-login paths at -vv too (without cached role credentials, which would skip them).
    const roleCache = join(home.dir, '.aws', 'cli', 'cache');
    const cached = JSON.parse(readFileSync(home.cacheFile(SESSION), 'utf8'));
    writeToken(home, SESSION, { ...cached, expiresAt: '2020-01-01T00:00:00Z' });
    rmSync(roleCache, { recursive: true, force: true });
    outputs.push((await echoThrough(home.env(), ['-vv'])).stderr);
    writeToken(home, SESSION, { startUrl: START_URL, region: REGION, accessToken: 'expired-access-token-9', expiresAt: '2020-01-01T00:00:00Z' });
    rmSync(roleCache, { recursive: true, force: true });
    const pty = await echoThrough(home.env(), ['-vv'], ['python3', STDERR_PTY, process.execPath, join(import.meta.dirname, '../../lib/cli/main.js')]);
    outputs.push(pty.stderr);
    assert.match(pty.stderr, /enter the code/);

    const all = outputs.join('\n');
    assert.match(all, /SSO sign-in approved/, 'the -vv log did run through the SSO code');
    const secrets = [...sso.secrets(), ...sso.issuedCredentials.map((c) => c.secretAccessKey), ...sso.issuedCredentials.map((c) => c.sessionToken)];
    assert.ok(secrets.length > 10);
    for (const secret of secrets) assert.ok(!all.includes(secret), `a secret leaked: ${secret.slice(0, 12)}…`);
    for (const pattern of [/fake-access-token-/, /fake-refresh-token-/, /fake-client-secret-/, /fake-device-code-/, /fakeSecretKey/, /fakeSessionToken/]) {
      assert.doesNotMatch(all, pattern);
    }
  });
});
