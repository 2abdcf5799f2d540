/**
 * Hostile corpus, AWS side: endpoints that answer, but not as AWS does — an HTML error page,
 * invalid JSON, 500, 503, throttling, a redirect — for the SSM API, the SSO portal and SSO-OIDC.
 * Each is the network class (exit 5) in words a user understands, naming the endpoint, retried
 * where the SDK's standard retry applies, and nothing is written to HOME.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { EXIT_CODES } from '../../src/errors.js';
import { type Answer, ANSWERS, assertOneLine, httpServer, KEYS, runCli, sandbox, ssoConfig, TARGET, tokenJson } from './aws-harness.js';


const SSM_CASES: [string, Answer, RegExp, number][] = [
  ['an HTML 500 page', ANSWERS.html500, /answered HTTP 500 .*the service is having trouble; try again$/, 3],
  ['invalid JSON with HTTP 200', ANSWERS.invalidJson, /answered HTTP 200 with something that is not an AWS answer \(application\/x-amz-json-1\.1\); try again later/, 1],
  ['500 InternalServerError', ANSWERS.json500, /answered HTTP 500 \(InternalServerError\) after 3 tries: the service is having trouble; try again$/, 3],
  ['503 Service Unavailable', ANSWERS.unavailable503, /answered HTTP 503 after 3 tries: the service is having trouble; try again$/, 3],
  ['ThrottlingException', ANSWERS.throttled, /throttled the request \(ThrottlingException after 3 tries\); wait a moment and try again$/, 3],
  ['a 302 redirect', ANSWERS.redirect302, /answered HTTP 302 \(a redirect\), which an AWS endpoint never does; check --endpoint-url/, 1],
  // What an intercepting proxy or a wrong endpoint gives: no AWS error type, no body.
  ['an empty 404', emptyAnswer(404), /answered HTTP 404 with no AWS error in it; check --endpoint-url \/ AWS_ENDPOINT_URL_\* and the proxy$/, 1],
  ['an empty 400', emptyAnswer(400), /answered HTTP 400 with no AWS error in it; check --endpoint-url \/ AWS_ENDPOINT_URL_\* and the proxy$/, 1],
];

function emptyAnswer(status: number): Answer {
  return (_req, _body, res) => {
    res.writeHead(status, { 'Content-Length': '0' });
    res.end();
  };
}

describe('hostile: the SSM endpoint answers, but not as AWS', () => {
  for (const [what, answer, words, attempts] of SSM_CASES) {
    it(`${what}: exit 5, one line naming the SSM endpoint, ${attempts} attempt(s)`, async () => {
      const server = await httpServer(answer);
      const box = sandbox();
      try {
        const before = box.snapshot();
        const outcome = await runCli(['connect', TARGET, '22', '--region', 'us-east-1', '--endpoint-url', server.url], box.env(KEYS));
        const line = assertOneLine(outcome, EXIT_CODES.network, new RegExp(`^ssm-proxy: ssm:StartSession on ${TARGET} failed: the SSM endpoint ${server.url.replace(/[.]/g, '\\.')} `));
        assert.match(line, words);
        assert.equal(server.requests().length, attempts, 'retried exactly where the standard retry applies');
        assert.ok(server.requests().every((request) => request.target === 'AmazonSSM.StartSession'));
        assert.ok(!outcome.stderr.includes(KEYS.AWS_SECRET_ACCESS_KEY));
        assert.deepEqual(box.snapshot(), before, 'nothing written');
      } finally {
        await server.close();
      }
    });
  }
});

describe('hostile: the SSO portal and SSO-OIDC answer, but not as AWS', () => {
  const after503: Answer = ANSWERS.unavailable503;

  it('GetRoleCredentials answered with 503: exit 5 naming the SSO portal, not "no credentials"', async () => {
    const portal = await httpServer(after503);
    const box = sandbox();
    try {
      box.config(ssoConfig());
      box.token('corp', tokenJson());
      const before = box.snapshot();
      const outcome = await runCli(['connect', TARGET, '--profile', 'p', '--login', 'never'], box.env({ AWS_ENDPOINT_URL_SSO: portal.url }));
      assertOneLine(
        outcome,
        EXIT_CODES.network,
        new RegExp(`^ssm-proxy: sso:GetRoleCredentials for role Dev in account 123456789012 failed: the SSO portal endpoint ${portal.url.replace(/[.]/g, '\\.')} answered HTTP 503 after 3 tries`),
      );
      assert.equal(portal.requests().length, 3);
      assert.match(portal.requests()[0]!.path, /^\/federation\/credentials\?/);
      assert.deepEqual(box.snapshot(), before);
    } finally {
      await portal.close();
    }
  });

  it('GetRoleCredentials answered with an HTML page and HTTP 200: exit 5, not an internal error', async () => {
    const portal = await httpServer((_req, _body, res) => {
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end('<html>Please sign in to the corporate network</html>');
    });
    const box = sandbox();
    try {
      box.config(ssoConfig());
      box.token('corp', tokenJson());
      const outcome = await runCli(['connect', TARGET, '--profile', 'p', '--login', 'never'], box.env({ AWS_ENDPOINT_URL_SSO: portal.url }));
      assertOneLine(outcome, EXIT_CODES.network, /the SSO portal endpoint http:\/\/127\.0\.0\.1:\d+ answered HTTP 200 with something that is not an AWS answer \(text\/html\)/);
    } finally {
      await portal.close();
    }
  });

  for (const [what, answer, words] of [
    ['an HTML 500 page', ANSWERS.html500, /answered HTTP 500/],
    ['invalid JSON', ANSWERS.invalidJson, /answered HTTP 200 with something that is not an AWS answer/],
    ['a 302 redirect', ANSWERS.redirect302, /answered HTTP 302 \(a redirect\)/],
  ] as [string, Answer, RegExp][]) {
    it(`login against SSO-OIDC answering ${what}: exit 5 with words, before any prompt`, async () => {
      const oidc = await httpServer(answer);
      const box = sandbox();
      try {
        box.config(ssoConfig());
        const before = box.snapshot();
        const outcome = await runCli(['login', '--profile', 'p'], box.env({ AWS_ENDPOINT_URL_SSO_OIDC: oidc.url }));
        const line = assertOneLine(outcome, EXIT_CODES.network, /^ssm-proxy: SSO-OIDC RegisterClient in eu-west-2 failed: the SSO-OIDC endpoint http:\/\/127\.0\.0\.1:\d+ /);
        assert.match(line, words);
        assert.ok(oidc.requests().length >= 1);
        assert.deepEqual(box.snapshot(), before, 'no token cache directory or file created');
      } finally {
        await oidc.close();
      }
    });
  }

  it('an expired token whose refresh meets an OIDC 500 page: exit 5 naming the sign-in and the endpoint', async () => {
    const oidc = await httpServer(ANSWERS.html500);
    const box = sandbox();
    try {
      box.config(ssoConfig());
      box.token('corp', tokenJson({
        expiresAt: '2020-01-01T00:00:00Z', refreshToken: 'hostile-refresh-token-0001', clientId: 'cid', clientSecret: 'hostile-client-secret-0001',
        registrationExpiresAt: '2099-01-01T00:00:00Z',
      }));
      const before = box.snapshot();
      const outcome = await runCli(['connect', TARGET, '--profile', 'p', '--login', 'never', '-vv'], box.env({ AWS_ENDPOINT_URL_SSO_OIDC: oidc.url }));
      assert.equal(outcome.code, EXIT_CODES.network, outcome.stderr);
      const last = outcome.stderr.trimEnd().split('\n').at(-1)!;
      assert.match(last, /^ssm-proxy: the AWS SSO sign-in for profile 'p' expired and could not be refreshed: SSO-OIDC CreateToken in eu-west-2 failed: the SSO-OIDC endpoint http:\/\/127\.0\.0\.1:\d+ answered HTTP 500/);
      for (const secret of ['hostile-access-token-0001', 'hostile-refresh-token-0001', 'hostile-client-secret-0001']) {
        assert.ok(!outcome.stderr.includes(secret), `${secret} never printed, even at -vv`);
      }
      assert.deepEqual(box.snapshot(), before);
    } finally {
      await oidc.close();
    }
  });
});

after(() => undefined);
