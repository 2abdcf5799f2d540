/**
 * The SDK's inner clients use the proxy too: an SSO profile whose token is refreshed (ssm-proxy's
 * OIDC client) and turned into role credentials (the SDK's fromSSO → SSOClient, built from the
 * credential chain's clientConfig), with the fake SSO and the fake SSM both reachable only from
 * tinyproxy's outgoing address.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startFakeSsm, type FakeSsm } from '../fake-ssm/index.js';
import { startFakeSso, type FakeSso } from '../fake-sso/index.js';
import { makeHome, PROFILE, REGION, SESSION, start, START_URL, startEcho, TARGET, writeSeedConfig, writeToken } from '../sso/helpers.js';
import { startGate, type Gate } from './gate.js';
import { startTinyProxy, type TinyProxy } from './tinyproxy.js';

describe('SSO and OIDC calls through the proxy', () => {
  let sso: FakeSso;
  let ssm: FakeSsm;
  let echo: Awaited<ReturnType<typeof startEcho>>;
  let gate: Gate;
  let proxy: TinyProxy;

  before(async () => {
    [sso, ssm, echo] = await Promise.all([startFakeSso(), startFakeSsm({ region: REGION, onlyFrom: '127.0.0.2' }), startEcho()]);
    gate = await startGate(Number(new URL(sso.url).port), '127.0.0.2');
    proxy = await startTinyProxy({ connectPorts: [gate.port, ssm.port] });
  });
  after(async () => {
    await Promise.allSettled([proxy?.stop(), gate?.close(), sso?.close(), ssm?.close(), echo?.close()]);
  });

  function homeWithExpiredToken(tag: string) {
    const home = makeHome({ AWS_ENDPOINT_URL_SSO: gate.url, AWS_ENDPOINT_URL_SSO_OIDC: gate.url });
    writeSeedConfig(home);
    sso.addRefreshToken(`client-${tag}`, `secret-of-client-${tag}`, `refresh-token-${tag}`);
    writeToken(home, SESSION, {
      startUrl: START_URL, region: REGION, accessToken: `expired-access-token-${tag}`, expiresAt: '2020-01-01T00:00:00Z',
      clientId: `client-${tag}`, clientSecret: `secret-of-client-${tag}`, registrationExpiresAt: '2099-01-01T00:00:00Z',
      refreshToken: `refresh-token-${tag}`,
    });
    return home;
  }

  const connectArgs = () => ['connect', TARGET, String(echo.port), '--profile', PROFILE, '--endpoint-url', ssm.endpointUrl, '--login', 'never'];

  it('refresh (CreateToken), GetRoleCredentials, StartSession and the websocket all go through HTTPS_PROXY', async () => {
    const home = homeWithExpiredToken('proxy-1');
    const payload = Buffer.from('hello through the proxy\n');
    const running = start(connectArgs(), home.env({ HTTPS_PROXY: proxy.url }), { timeoutMs: 40_000 });
    running.child.stdin!.write(payload);
    await running.waitForStdout(payload, 30_000);
    running.child.stdin!.end();
    const result = await running.done;
    assert.equal(result.code, 0, result.stderr);
    const ops = sso.calls.map((call) => `${call.operation} ${call.status}`);
    assert.ok(ops.includes('CreateToken 200') && ops.includes('GetRoleCredentials 200'), ops.join(', '));
    assert.equal(gate.refused, 0);
    assert.ok(gate.accepted >= 1);
    assert.ok(ssm.clientAddresses.every((address) => address === '127.0.0.2'));
  });

  it('without the proxy the SSO refresh cannot reach the service (so the run above used it)', async () => {
    const home = homeWithExpiredToken('direct-2');
    const refusedBefore = gate.refused;
    const running = start(connectArgs(), home.env(), { timeoutMs: 40_000 });
    running.child.stdin!.end();
    const result = await running.done;
    assert.notEqual(result.code, 0);
    assert.ok(gate.refused > refusedBefore);
    assert.match(result.stderr, /could not be refreshed/);
  });
});
