/**
 * `ssm-proxy doctor` through the built CLI against the fakes (SSO portal + OIDC, STS, SSM), with
 * a throwaway HOME and ssh config: a healthy setup and each broken one, asserted line by line.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { EXIT_CODES } from '../../src/errors.js';
import { isoSeconds } from '../../src/aws/sso/token-cache.js';
import { startFakeSsm, type FakeSsm } from '../fake-ssm/index.js';
import { startFakeSso, type FakeSso } from '../fake-sso/index.js';
import { startFakeSts, type FakeSts } from '../fake-sts/index.js';
import { ACCOUNT, CLI, lines, makeHome, PROFILE, REGION, ROLE, run, SESSION, START_URL, TARGET, writeSeedConfig, writeToken, type Home } from '../sso/helpers.js';

const ROLE_KEYS = { accessKeyId: 'ASIADOCTORROLEKEY01', secretAccessKey: 'doctorRoleSecretKey0000000000000000000000' };
const CALLER_ARN = `arn:aws:sts::${ACCOUNT}:assumed-role/${ROLE}/alice@example.com`;
const ALIAS = 'corp-box';
const NODE = process.version;
const SKIP_PROBE = '– ssm:StartSession: not tried; --probe starts and terminates a real session to prove it is allowed';

describe('ssm-proxy doctor', () => {
  let sso: FakeSso;
  let ssm: FakeSsm;
  let sts: FakeSts;
  const homes: Home[] = [];

  before(async () => {
    [sso, ssm, sts] = await Promise.all([
      startFakeSso({ roleCredentials: ROLE_KEYS }),
      startFakeSsm({ region: REGION }),
      startFakeSts({ identities: { [ROLE_KEYS.accessKeyId]: CALLER_ARN } }),
    ]);
  });
  after(() => Promise.all([sso.close(), ssm.close(), sts.close()]));
  beforeEach(() => {
    ssm.options.startSessionError = undefined;
  });

  /** A HOME with the seed's SSO profile, a token valid for 2 h, and an ssh config with the alias. */
  function healthyHome(token: Record<string, unknown> = {}) {
    const home = makeHome({ ...sso.env(), AWS_ENDPOINT_URL_STS: sts.url });
    homes.push(home);
    writeSeedConfig(home);
    writeToken(home, SESSION, { startUrl: START_URL, region: REGION, accessToken: `doctor-token-${homes.length}`, expiresAt: isoSeconds(Date.now() + 2 * 3600_000 + 30_000), ...token });
    sso.addAccessToken(`doctor-token-${homes.length}`);
    const sshConfig = join(home.dir, 'ssh_config');
    writeFileSync(
      sshConfig,
      `Host ${ALIAS}\n  HostName ${TARGET}\n  User ec2-user\n  ProxyCommand ${process.execPath} ${CLI} connect %h %p --profile ${PROFILE} --region ${REGION}\n`,
    );
    return { home, sshConfig };
  }

  const endpoints = () => ['--endpoint-url', ssm.endpointUrl, '--ssmmessages-endpoint', ssm.endpointUrl];
  const fake = () => ssm.endpointUrl;
  const head = (profileSource = `the ProxyCommand of ${ALIAS}`) => [
    `✔ ssm-proxy: 0.1.0 (Node ${NODE})`,
    `✔ ssh config: ${ALIAS} → HostName ${TARGET}, Port 22, User ec2-user, ProxyCommand ssm-proxy connect (target ${TARGET}, profile ${PROFILE}, region ${REGION})`,
    `✔ AWS profile: '${PROFILE}' (from ${profileSource}), region ${REGION} (from ${profileSource}), SSO role ${ROLE} in account ${ACCOUNT}`,
  ];

  it('healthy: every line ✔, the caller ARN, and --probe starts and terminates a session; exit 0', async () => {
    const { home, sshConfig } = healthyHome();
    const result = await run(['doctor', ALIAS, '--ssh-config', sshConfig, ...endpoints(), '--probe'], home.env());
    assert.equal(result.code, 0, result.stderr + result.stdout.toString());
    const out = lines(result.stdout.toString());
    const sessionId = ssm.records.apiCalls.filter((call) => call.operation === 'StartSession').at(-1)!.sessionId!;
    assert.deepEqual(out, [
      ...head(),
      `✔ SSO sign-in: valid for 2 h 0 min (until ${out[3]!.slice(out[3]!.indexOf('until ') + 6, -1)})`,
      '✔ proxy: none (direct connections)',
      '✔ CA bundle: built-in roots',
      `✔ caller identity: ${CALLER_ARN} (account ${ACCOUNT})`,
      `✔ SSM endpoint: ${fake()} answered (HTTP 404)`,
      `✔ data channel endpoint: ${fake().replace('http:', 'ws:')} answered (HTTP 404)`,
      `✔ ssm:StartSession: allowed on ${TARGET} (session ${sessionId} started and terminated)`,
    ]);
    assert.equal(result.stderr, '');
    assert.equal(sts.calls.at(-1)?.accessKeyId, ROLE_KEYS.accessKeyId, 'GetCallerIdentity signed with the SSO role credentials');
    assert.ok(ssm.records.sessionEnds.some((end) => end.sessionId === sessionId && end.reason === 'terminate-api'));
  });

  it('--json prints the same checks as JSON', async () => {
    const { home, sshConfig } = healthyHome();
    const result = await run(['doctor', ALIAS, '--ssh-config', sshConfig, ...endpoints(), '--json'], home.env());
    assert.equal(result.code, 0, result.stderr);
    const report = JSON.parse(result.stdout.toString()) as { version: string; ok: boolean; exitCode: number; checks: { status: string; label: string; detail: string }[] };
    assert.equal(report.version, '0.1.0');
    assert.equal(report.ok, true);
    assert.equal(report.exitCode, 0);
    assert.deepEqual(
      report.checks.map((check) => `${check.status} ${check.label}`),
      ['ok ssm-proxy', 'ok ssh config', 'ok AWS profile', 'ok SSO sign-in', 'ok proxy', 'ok CA bundle', 'ok caller identity', 'ok SSM endpoint', 'ok data channel endpoint', 'skip ssm:StartSession'],
    );
    assert.equal(report.checks[6]!.detail, `${CALLER_ARN} (account ${ACCOUNT})`);
  });

  it('no such profile: ✘ with the fix, later checks not run; exit 3', async () => {
    const { home } = healthyHome();
    const result = await run(['doctor', '--profile', 'nope', '--region', REGION, ...endpoints()], home.env());
    assert.equal(result.code, EXIT_CODES.config, result.stderr);
    assert.deepEqual(lines(result.stdout.toString()), [
      `✔ ssm-proxy: 0.1.0 (Node ${NODE})`,
      `✘ AWS profile: the AWS profile 'nope' is not defined in ${home.config} or the credentials file — add it (ssm-proxy configure-profile --profile nope …, or aws configure sso) or fix --profile`,
      '– SSO sign-in: not checked (no usable profile)',
      '✔ proxy: none (direct connections)',
      '✔ CA bundle: built-in roots',
      '– caller identity: not checked (no usable profile)',
      '– SSM endpoint: not checked (no usable profile or network settings)',
      SKIP_PROBE,
    ]);
  });

  it('expired SSO token without a refresh token: ✘ naming ssm-proxy login; exit 3', async () => {
    const { home, sshConfig } = healthyHome({ expiresAt: '2020-01-01T00:00:00Z' });
    const result = await run(['doctor', ALIAS, '--ssh-config', sshConfig, ...endpoints()], home.env());
    assert.equal(result.code, EXIT_CODES.config, result.stderr);
    assert.deepEqual(lines(result.stdout.toString()), [
      ...head(),
      `✘ SSO sign-in: expired at 2020-01-01T00:00:00Z and has no usable refresh token — run 'ssm-proxy login --profile ${PROFILE}'`,
      '✔ proxy: none (direct connections)',
      '✔ CA bundle: built-in roots',
      '– caller identity: not checked (no usable SSO sign-in)',
      `✔ SSM endpoint: ${fake()} answered (HTTP 404)`,
      `✔ data channel endpoint: ${fake().replace('http:', 'ws:')} answered (HTTP 404)`,
      SKIP_PROBE,
    ]);
  });

  it('AccessDenied on ssm:StartSession (--probe): the caller ARN, then ✘ with the missing permission; exit 4', async () => {
    const { home } = healthyHome();
    ssm.options.startSessionError = 'AccessDeniedException';
    const result = await run(['doctor', '--target', TARGET, '--profile', PROFILE, ...endpoints(), '--probe'], home.env());
    assert.equal(result.code, EXIT_CODES['access-denied'], result.stderr);
    const out = lines(result.stdout.toString());
    assert.equal(out[5], `✔ caller identity: ${CALLER_ARN} (account ${ACCOUNT})`);
    assert.equal(
      out.at(-1),
      `✘ ssm:StartSession: ssm:StartSession on ${TARGET} was denied for profile '${PROFILE}' (SSO role ${ROLE} in account ${ACCOUNT}): ` +
        `User: arn:aws:sts::123456789012:assumed-role/ssm-proxy-test/session is not authorized to perform: ssm:StartSession on resource: ` +
        `arn:aws:ec2:${REGION}:123456789012:instance/${TARGET} because no identity-based policy allows the ssm:StartSession action ` +
        `— ask your AWS administrator to allow ssm:StartSession for that principal, or use a --profile that has it`,
    );
    assert.equal(out.filter((line) => line.startsWith('✘')).length, 1);
  });

  it('unreachable SSM endpoint: ✘ naming the endpoint and what to check; exit 5', async () => {
    const { home } = healthyHome();
    const result = await run(['doctor', '--profile', PROFILE, '--endpoint-url', 'http://127.0.0.1:9', '--ssmmessages-endpoint', ssm.endpointUrl], home.env());
    assert.equal(result.code, EXIT_CODES.network, result.stderr);
    const out = lines(result.stdout.toString());
    assert.deepEqual(out.slice(-3), [
      `✘ SSM endpoint: cannot reach http://127.0.0.1:9: ECONNREFUSED — check --endpoint-url / AWS_ENDPOINT_URL_SSM, the proxy (HTTPS_PROXY, NO_PROXY), ` +
        `and that this network reaches AWS (or a VPC endpoint com.amazonaws.${REGION}.ssm)`,
      `✔ data channel endpoint: ${fake().replace('http:', 'ws:')} answered (HTTP 404)`,
      SKIP_PROBE,
    ]);
    assert.equal(out.filter((line) => line.startsWith('✘')).length, 1);
  });

  it('no ProxyCommand for the alias: ✘ naming install-host', async () => {
    const { home, sshConfig } = healthyHome();
    writeFileSync(sshConfig, `Host ${ALIAS}\n  HostName ${TARGET}\n`);
    const result = await run(['doctor', ALIAS, '--ssh-config', sshConfig, '--profile', PROFILE, ...endpoints()], home.env());
    assert.equal(result.code, EXIT_CODES.config);
    assert.equal(lines(result.stdout.toString())[1], `✘ ssh config: ${ALIAS} → HostName ${TARGET}, Port 22, User ${userOf(result.stdout.toString())}, no ProxyCommand — run 'ssm-proxy install-host ${ALIAS} --target i-…'`);
  });
});

function userOf(stdout: string): string {
  return /User (\S+), no ProxyCommand/.exec(stdout)?.[1] ?? '?';
}
