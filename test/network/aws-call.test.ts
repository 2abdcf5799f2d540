/**
 * Every AWS call can be cut short by the caller (the engine's phases: a signal ends StartSession,
 * credentials, …) and is bounded by its own deadline otherwise — in process, against a real
 * silent TCP listener on 127.0.0.1.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { defaultClientSettings } from '../../src/aws/aws-call.js';
import { resolveAwsContext } from '../../src/aws/aws-context.js';
import { createSsmApi } from '../../src/aws/ssm-api.js';
import { createPortalApi } from '../../src/aws/sso/portal-client.js';
import { SsmProxyError } from '../../src/errors.js';
import { httpTimeouts } from '../../src/network/network-agents.js';
import { silentListener } from '../hostile/aws-harness.js';

describe('AWS calls: the caller\'s AbortSignal and the call deadline', () => {
  let silent: Awaited<ReturnType<typeof silentListener>>;
  const home = mkdtempSync(join(tmpdir(), 'ssm-proxy-aws-call-'));
  const env = { HOME: home, AWS_CONFIG_FILE: join(home, 'config'), AWS_SHARED_CREDENTIALS_FILE: join(home, 'credentials'), AWS_ACCESS_KEY_ID: 'AKIDX', AWS_SECRET_ACCESS_KEY: 'secret', AWS_REGION: 'us-east-1' };
  before(async () => {
    silent = await silentListener();
  });
  after(() => silent.close());

  const ssm = () =>
    createSsmApi({
      context: resolveAwsContext({}, env),
      credentials: async () => ({ accessKeyId: 'AKIDX', secretAccessKey: 'secret' }),
      endpoint: silent.url,
      client: defaultClientSettings(),
    });

  it('an aborted signal ends StartSession at once with the caller\'s reason', async () => {
    const api = await ssm();
    const controller = new AbortController();
    const reason = new SsmProxyError('network', 'stopped by the test');
    const started = Date.now();
    setTimeout(() => controller.abort(reason), 150);
    await assert.rejects(api.startSession({ target: 'i-0123456789abcdef0', documentName: 'AWS-StartSSHSession', parameters: {} }, { signal: controller.signal }), (error) => error === reason);
    assert.ok(Date.now() - started < 2000, `ended after ${Date.now() - started} ms`);
  });

  it('a signal already aborted sends nothing', async () => {
    const api = await ssm();
    const before = silent.connections();
    const reason = new Error('already over');
    await assert.rejects(api.terminateSession('s-1', { signal: AbortSignal.abort(reason) }), (error) => error === reason);
    assert.equal(silent.connections(), before);
  });

  it('without a signal the deadline ends it: one network error naming the endpoint', async () => {
    const api = await createSsmApi({
      context: resolveAwsContext({}, env),
      credentials: async () => ({ accessKeyId: 'AKIDX', secretAccessKey: 'secret' }),
      endpoint: silent.url,
      client: { agents: undefined, timeouts: { connectMs: 300, requestMs: 400 } },
    });
    const started = Date.now();
    await assert.rejects(api.resumeSession('s-1'), (error: unknown) =>
      error instanceof SsmProxyError && error.kind === 'network' && error.message === `ssm:ResumeSession of s-1 failed: the SSM endpoint ${silent.url} did not answer within 0.8 s; check the network, the proxy (HTTPS_PROXY, NO_PROXY) and the endpoint, or allow more time with --connect-timeout`);
    assert.ok(Date.now() - started < 3000, `ended after ${Date.now() - started} ms`);
  });

  it('the SSO portal client takes a signal too', async () => {
    process.env.AWS_ENDPOINT_URL_SSO = silent.url;
    try {
      const portal = await createPortalApi('eu-west-2', { agents: undefined, timeouts: httpTimeouts(5) });
      const controller = new AbortController();
      setTimeout(() => controller.abort(new Error('cancelled')), 100);
      await assert.rejects(portal.getRoleCredentials({ accountId: '1', roleName: 'r', accessToken: 't' }, { signal: controller.signal }), /cancelled/);
    } finally {
      delete process.env.AWS_ENDPOINT_URL_SSO;
    }
  });
});
