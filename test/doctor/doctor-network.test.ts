/**
 * doctor in corporate networks: everything through a real CONNECT proxy (tinyproxy; the fakes
 * reachable only from its outgoing address), a proxy that refuses, and a TLS endpoint signed by
 * a CA that is trusted only with --ca-bundle.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { EXIT_CODES } from '../../src/errors.js';
import { isoSeconds } from '../../src/aws/sso/token-cache.js';
import { startFakeSsm, type FakeSsm } from '../fake-ssm/index.js';
import { startFakeSso, type FakeSso } from '../fake-sso/index.js';
import { startFakeSts, type FakeSts } from '../fake-sts/index.js';
import { makeTestCerts, type TestCerts } from '../network/certs.js';
import { startGate, type Gate } from '../network/gate.js';
import { startTinyProxy, type TinyProxy } from '../network/tinyproxy.js';
import { ACCOUNT, lines, makeHome, PROFILE, REGION, ROLE, run, SESSION, START_URL, writeSeedConfig, writeToken } from '../sso/helpers.js';

const ROLE_KEYS = { accessKeyId: 'ASIADOCTORPROXYKEY1', secretAccessKey: 'doctorProxySecretKey000000000000000000000' };
const CALLER_ARN = `arn:aws:sts::${ACCOUNT}:assumed-role/${ROLE}/bob@example.com`;
const STATIC_KEYS = { AWS_ACCESS_KEY_ID: 'AKIADOCTORSTATIC001', AWS_SECRET_ACCESS_KEY: 'doctorStaticSecret000000000000000000000000' };

describe('doctor through an HTTP CONNECT proxy', () => {
  let sso: FakeSso;
  let ssm: FakeSsm;
  let sts: FakeSts;
  let ssoGate: Gate;
  let stsGate: Gate;
  let proxy: TinyProxy;
  let refusing: TinyProxy;

  before(async () => {
    [sso, ssm, sts] = await Promise.all([
      startFakeSso({ roleCredentials: ROLE_KEYS }),
      startFakeSsm({ region: REGION, onlyFrom: '127.0.0.2' }),
      startFakeSts({ identities: { [ROLE_KEYS.accessKeyId]: CALLER_ARN } }),
    ]);
    [ssoGate, stsGate] = await Promise.all([startGate(Number(new URL(sso.url).port), '127.0.0.2'), startGate(Number(new URL(sts.url).port), '127.0.0.2')]);
    [proxy, refusing] = await Promise.all([
      startTinyProxy({ connectPorts: [ssm.port, ssoGate.port, stsGate.port] }),
      startTinyProxy({ connectPorts: [443] }),
    ]);
  });
  after(() => Promise.allSettled([proxy.stop(), refusing.stop(), ssoGate.close(), stsGate.close(), sso.close(), ssm.close(), sts.close()]));

  function home() {
    const h = makeHome({ AWS_ENDPOINT_URL_SSO: ssoGate.url, AWS_ENDPOINT_URL_SSO_OIDC: ssoGate.url, AWS_ENDPOINT_URL_STS: stsGate.url });
    writeSeedConfig(h);
    writeToken(h, SESSION, { startUrl: START_URL, region: REGION, accessToken: 'doctor-proxy-token', expiresAt: isoSeconds(Date.now() + 3600_000 + 30_000) });
    sso.addAccessToken('doctor-proxy-token');
    return h;
  }
  const args = () => ['doctor', '--profile', PROFILE, '--endpoint-url', ssm.endpointUrl, '--ssmmessages-endpoint', ssm.endpointUrl];

  it('healthy: SSO, STS, SSM and the data-channel endpoint all answer through the proxy', async () => {
    const result = await run(args(), home().env({ HTTPS_PROXY: proxy.url }));
    assert.equal(result.code, 0, result.stdout.toString() + result.stderr);
    const out = lines(result.stdout.toString());
    assert.deepEqual(out.slice(3), [
      `✔ proxy: http://127.0.0.1:${proxy.port} (from HTTPS_PROXY)`,
      '✔ CA bundle: built-in roots',
      `✔ caller identity: ${CALLER_ARN} (account ${ACCOUNT})`,
      `✔ SSM endpoint: ${ssm.endpointUrl} answered (HTTP 404)`,
      `✔ data channel endpoint: ws://127.0.0.1:${ssm.port} answered (HTTP 404)`,
      '– ssm:StartSession: not tried; --probe starts and terminates a real session to prove it is allowed',
    ]);
    assert.equal(ssoGate.refused + stsGate.refused, 0);
    assert.ok(ssoGate.accepted >= 1 && stsGate.accepted >= 1, 'GetRoleCredentials and GetCallerIdentity went through the proxy');
  });

  it('a proxy that refuses CONNECT: ✘ lines naming the proxy; exit 5', async () => {
    const h = makeHome({ AWS_ENDPOINT_URL_STS: stsGate.url });
    const result = await run([...args().filter((word) => word !== PROFILE && word !== '--profile'), '--region', REGION], h.env({ HTTPS_PROXY: refusing.url, ...STATIC_KEYS }));
    assert.equal(result.code, EXIT_CODES.network, result.stdout.toString() + result.stderr);
    const refusal = (host: string) =>
      `the proxy http://127.0.0.1:${refusing.port} (from HTTPS_PROXY) refused CONNECT to ${host} with HTTP 403 Access violation — ` +
      'ask for the host to be allowed, or add it to NO_PROXY if it is reachable directly';
    assert.deepEqual(lines(result.stdout.toString()).slice(1), [
      `✔ AWS profile: none (AWS_ACCESS_KEY_ID in the environment), region ${REGION} (from --region)`,
      '✔ SSO sign-in: not used (the credentials do not come from AWS SSO)',
      `✔ proxy: http://127.0.0.1:${refusing.port} (from HTTPS_PROXY)`,
      '✔ CA bundle: built-in roots',
      `✘ caller identity: ${refusal(`127.0.0.1:${stsGate.port}`)}`,
      `✘ SSM endpoint: ${refusal(`127.0.0.1:${ssm.port}`)}`,
      `✘ data channel endpoint: ${refusal(`127.0.0.1:${ssm.port}`)}`,
      '– ssm:StartSession: not tried; --probe starts and terminates a real session to prove it is allowed',
    ]);
  });
});

describe('doctor with a TLS endpoint from a private CA', () => {
  let certs: TestCerts;
  let ssm: FakeSsm;
  let sts: FakeSts;
  before(async () => {
    certs = await makeTestCerts();
    [ssm, sts] = await Promise.all([startFakeSsm({ region: REGION, tls: { key: certs.key, cert: certs.cert } }), startFakeSts()]);
  });
  after(async () => {
    await Promise.allSettled([ssm.close(), sts.close()]);
    await certs.remove();
  });
  const args = () => ['doctor', '--region', REGION, '--endpoint-url', ssm.endpointUrl, '--ssmmessages-endpoint', ssm.endpointUrl];
  const env = () => makeHome({ AWS_ENDPOINT_URL_STS: sts.url }).env(STATIC_KEYS);

  it('without the CA: ✘ SSM endpoint naming --ca-bundle / AWS_CA_BUNDLE; exit 5', async () => {
    const result = await run(args(), env());
    assert.equal(result.code, EXIT_CODES.network, result.stderr);
    const untrusted =
      `the TLS certificate of 127.0.0.1:${ssm.port} is not signed by a trusted CA (UNABLE_TO_VERIFY_LEAF_SIGNATURE) — if a corporate proxy or CA inspects TLS, ` +
      'pass --ca-bundle FILE or set AWS_CA_BUNDLE (or ca_bundle in the profile) to a PEM file holding that CA';
    assert.deepEqual(lines(result.stdout.toString()).slice(4, 8), [
      '✔ CA bundle: built-in roots',
      '✔ caller identity: arn:aws:iam::123456789012:user/ssm-proxy-test (account 123456789012)',
      `✘ SSM endpoint: ${untrusted}`,
      `✘ data channel endpoint: ${untrusted}`,
    ]);
  });

  it('with --ca-bundle: the bundle is shown and both endpoints answer', async () => {
    const result = await run([...args(), '--ca-bundle', certs.caPath], env());
    assert.equal(result.code, 0, result.stdout.toString() + result.stderr);
    assert.deepEqual(lines(result.stdout.toString()).slice(4, 8), [
      `✔ CA bundle: ${certs.caPath} (from --ca-bundle; 1 certificate(s), replacing the built-in roots)`,
      '✔ caller identity: arn:aws:iam::123456789012:user/ssm-proxy-test (account 123456789012)',
      `✔ SSM endpoint: ${ssm.endpointUrl} answered (HTTP 404)`,
      `✔ data channel endpoint: wss://127.0.0.1:${ssm.port} answered (HTTP 404)`,
    ]);
  });
});
