/**
 * The fake checks SigV4 the way AWS does (docs/protocol.md §3.3): over the headers the client
 * lists, no stricter (a Go-style `host;x-amz-date` signature opens) and no laxer (wrong secret,
 * tampered header or body, stale date, unsigned host are refused). Signatures here come from AWS's
 * published test vectors and from a second, independent signer, never from ssm-proxy's code.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { SSMClient, StartSessionCommand } from '@aws-sdk/client-ssm';
import { encodeOpenDataChannelInput } from '../../src/protocol/index.js';
import { amzDateOf, authorizationFor } from './independent-signer.js';
import { startFakeSsm, type FakeSsm } from './index.js';
import { openSocket, TEST_CREDENTIALS } from './scripted-client.js';
import { verifySignature } from './sigv4-check.js';
import { startSession, startTcpTarget, type TcpTarget } from './test-helpers.js';

/** AWS's SigV4 test suite: credentials, scope and time of the published vectors. */
const VECTOR = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
  now: Date.UTC(2015, 7, 30, 12, 36, 0),
  scope: 'Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date',
};

function vectorRequest(url: string, signature: string, host = 'example.amazonaws.com') {
  return {
    method: 'GET',
    url,
    rawHeaders: ['Host', host, 'X-Amz-Date', '20150830T123600Z', 'Authorization', `AWS4-HMAC-SHA256 ${VECTOR.scope}, Signature=${signature}`],
  };
}

function vectorExpectation(overrides: { secret?: string; now?: number } = {}) {
  return {
    secretFor: (id: string) => (id === VECTOR.accessKeyId ? (overrides.secret ?? VECTOR.secretAccessKey) : undefined),
    service: 'service',
    region: 'us-east-1',
    now: overrides.now ?? VECTOR.now,
  };
}

const GET_VANILLA = '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31';
const GET_VANILLA_QUERY_ORDER = 'b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500';

describe('SigV4 verification against AWS test-suite vectors (host;x-amz-date only)', () => {
  it('accepts get-vanilla and get-vanilla-query-order-key-case', () => {
    assert.deepEqual(verifySignature(vectorRequest('/', GET_VANILLA), vectorExpectation()), { ok: true });
    assert.deepEqual(
      verifySignature(vectorRequest('/?Param2=value2&Param1=value1', GET_VANILLA_QUERY_ORDER), vectorExpectation()),
      { ok: true },
    );
  });

  it('refuses a wrong signature, a wrong secret, a tampered header, an unknown key and a stale date', () => {
    const flipped = `${GET_VANILLA.slice(0, -1)}0`;
    const fault = (request: ReturnType<typeof vectorRequest>, expectation = vectorExpectation()) => {
      const result = verifySignature(request, expectation);
      return result.ok ? 'ok' : result.fault;
    };
    assert.equal(fault(vectorRequest('/', flipped)), 'mismatch');
    assert.equal(fault(vectorRequest('/', GET_VANILLA), vectorExpectation({ secret: 'not-the-secret' })), 'mismatch');
    assert.equal(fault(vectorRequest('/', GET_VANILLA, 'other.amazonaws.com')), 'mismatch');
    assert.equal(fault(vectorRequest('/?Param1=value1', GET_VANILLA_QUERY_ORDER)), 'mismatch');
    assert.equal(
      fault(vectorRequest('/', GET_VANILLA), { ...vectorExpectation(), secretFor: () => undefined }),
      'unknown-key',
    );
    assert.equal(fault(vectorRequest('/', GET_VANILLA), vectorExpectation({ now: VECTOR.now + 16 * 60_000 })), 'expired');
    assert.equal(fault(vectorRequest('/', GET_VANILLA), vectorExpectation({ now: VECTOR.now - 16 * 60_000 })), 'expired');
    assert.equal(fault(vectorRequest('/', GET_VANILLA), vectorExpectation({ now: VECTOR.now + 14 * 60_000 })), 'ok');
  });
});

describe('fake SSM: SigV4 on the websocket upgrade and the API', () => {
  let echo: TcpTarget;
  let fake: FakeSsm;
  const cleanups: (() => unknown)[] = [];
  before(async () => {
    echo = await startTcpTarget();
    fake = await startFakeSsm({ verifySignature: TEST_CREDENTIALS });
  });
  after(async () => {
    await fake.close();
    await echo.close();
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  /** Upgrade headers from the independent signer; `headers` are signed as given, plus extras sent unsigned. */
  function upgradeHeaders(
    streamUrl: string,
    options: { secret?: string; at?: number; sign?: Record<string, string>; send?: Record<string, string>; omitHost?: boolean } = {},
  ): Record<string, string> {
    const host = new URL(streamUrl.replace(/^ws/, 'http')).host;
    const amzDate = amzDateOf(options.at ?? Date.now());
    const signed: Record<string, string> = { ...(options.omitHost ? {} : { host }), 'x-amz-date': amzDate, ...options.sign };
    const authorization = authorizationFor({
      method: 'GET',
      url: streamUrl,
      headers: signed,
      accessKeyId: TEST_CREDENTIALS.accessKeyId,
      secretAccessKey: options.secret ?? TEST_CREDENTIALS.secretAccessKey,
      region: 'us-east-1',
      service: 'ssmmessages',
    });
    const { host: _host, ...rest } = signed;
    return { ...rest, authorization, ...options.send };
  }

  it('opens an upgrade signed over host;x-amz-date only (as AWS Go signer does), cell-number + as space', async () => {
    const session = await startSession(fake, echo.port);
    assert.match(session.StreamUrl, /cell-number=[^&]*\+/, 'the StreamUrl carries a literal +');
    const opened = await openSocket(session.StreamUrl, upgradeHeaders(session.StreamUrl));
    assert.ok(opened.ws, `upgrade refused: ${opened.status} ${'body' in opened ? opened.body : ''}`);
    cleanups.push(() => opened.ws.terminate());
    const record = fake.records.connections.at(-1)!;
    assert.equal(record.sessionId, session.SessionId);
    assert.equal(record.signatureOk, true);
  });

  it('accepts extra signed headers sent with their signed values (x-amz-content-sha256, x-amz-security-token)', async () => {
    const session = await startSession(fake, echo.port);
    const extra = {
      'x-amz-content-sha256': 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
      'x-amz-security-token': 'FwoGZXIvYXdzEXAMPLE+token/==',
    };
    const opened = await openSocket(session.StreamUrl, upgradeHeaders(session.StreamUrl, { sign: extra, send: extra }));
    assert.ok(opened.ws, `upgrade refused: ${opened.status} ${'body' in opened ? opened.body : ''}`);
    cleanups.push(() => opened.ws.terminate());
  });

  it('refuses a wrong secret, a tampered signed header, a stale or future date, an unsigned host (403)', async () => {
    const session = await startSession(fake, echo.port);
    const url = session.StreamUrl;
    const rejectedBefore = fake.records.rejectedUpgrades.length;
    const cases: [string, Record<string, string>][] = [
      ['wrong secret', upgradeHeaders(url, { secret: 'not/the+secret' })],
      ['tampered header', upgradeHeaders(url, { sign: { 'x-test-signed': 'as-signed' }, send: { 'x-test-signed': 'tampered' } })],
      ['stale date', upgradeHeaders(url, { at: Date.now() - 20 * 60_000 })],
      ['future date', upgradeHeaders(url, { at: Date.now() + 20 * 60_000 })],
      ['host not signed', upgradeHeaders(url, { omitHost: true })],
      ['signed for another URL', upgradeHeaders(url.replace(/cell-number=[^&]*/, 'cell-number=other'))],
    ];
    for (const [what, headers] of cases) {
      const opened = await openSocket(url, headers);
      opened.ws?.terminate();
      assert.equal(opened.status, 403, `${what} must be refused`);
    }
    const reasons = fake.records.rejectedUpgrades.slice(rejectedBefore).map((r) => r.reason);
    assert.equal(reasons.length, cases.length);
    assert.match(reasons[0]!, /signature mismatch/);
    assert.match(reasons[1]!, /signature mismatch/);
    assert.match(reasons[2]!, /expired/);
    assert.match(reasons[3]!, /expired/);
    assert.match(reasons[4]!, /'host' must be a signed header/);
    assert.match(reasons[5]!, /signature mismatch/);
  });

  /** POSTs one JSON 1.1 call signed by the independent signer. */
  async function callApi(
    operation: string,
    body: string,
    options: { secret?: string; accessKeyId?: string; at?: number; sendBody?: string } = {},
  ): Promise<{ status: number; json: Record<string, unknown> }> {
    const url = `${fake.endpointUrl}/`;
    const headers = {
      host: new URL(url).host,
      'x-amz-date': amzDateOf(options.at ?? Date.now()),
      'x-amz-target': `AmazonSSM.${operation}`,
      'content-type': 'application/x-amz-json-1.1',
    };
    const authorization = authorizationFor({
      method: 'POST',
      url,
      headers,
      body,
      accessKeyId: options.accessKeyId ?? TEST_CREDENTIALS.accessKeyId,
      secretAccessKey: options.secret ?? TEST_CREDENTIALS.secretAccessKey,
      region: 'us-east-1',
      service: 'ssm',
    });
    const { host: _host, ...sent } = headers;
    const response = await fetch(url, {
      method: 'POST',
      headers: { ...sent, authorization },
      body: options.sendBody ?? body,
      signal: AbortSignal.timeout(10_000),
    });
    return { status: response.status, json: (await response.json()) as Record<string, unknown> };
  }

  it('verifies API signatures: an independent signature works; a wrong one, a tampered body, an unknown key, a stale date do not', async () => {
    const body = JSON.stringify({ Target: 'i-0123456789abcdef0', DocumentName: 'AWS-StartSSHSession', Parameters: { portNumber: ['22'] } });
    const good = await callApi('StartSession', body);
    assert.equal(good.status, 200, JSON.stringify(good.json));
    assert.equal(typeof good.json.TokenValue, 'string');
    assert.equal(fake.records.apiCalls.at(-1)!.signatureOk, true);

    const refused = [
      await callApi('StartSession', body, { secret: 'not/the+secret' }),
      await callApi('StartSession', body, { sendBody: body.replace('AWS-StartSSHSession', 'AWS-StartPortForwardingSession') }),
      await callApi('StartSession', body, { accessKeyId: 'AKIDUNKNOWNKEY000001' }),
      await callApi('StartSession', body, { at: Date.now() - 20 * 60_000 }),
    ];
    assert.deepEqual(
      refused.map((r) => [r.status, r.json.__type]),
      [
        [400, 'InvalidSignatureException'],
        [400, 'InvalidSignatureException'],
        [400, 'UnrecognizedClientException'],
        [400, 'InvalidSignatureException'],
      ],
    );
    assert.match(String(refused[3]!.json.message), /^Signature expired/);
    assert.deepEqual(fake.records.apiCalls.slice(-4).map((c) => c.signatureOk), [false, false, false, false]);
  });

  it('the AWS SDK signing with the wrong secret gets InvalidSignatureException', async () => {
    const client = new SSMClient({
      region: 'us-east-1',
      endpoint: fake.endpointUrl,
      credentials: { ...TEST_CREDENTIALS, secretAccessKey: 'wrong-secret' },
      maxAttempts: 1,
    });
    try {
      await assert.rejects(
        client.send(new StartSessionCommand({ Target: 'i-0123456789abcdef0', DocumentName: 'AWS-StartSSHSession' })),
        (error: Error) => error.name === 'InvalidSignatureException',
      );
    } finally {
      client.destroy();
    }
  });

  it('an independently signed upgrade runs the open frame and the handshake', async () => {
    const session = await startSession(fake, echo.port);
    const opened = await openSocket(session.StreamUrl, upgradeHeaders(session.StreamUrl));
    assert.ok(opened.ws);
    const ws = opened.ws;
    cleanups.push(() => ws.terminate());
    const first = new Promise<Buffer>((resolve) => ws.once('message', (data: Buffer) => resolve(data)));
    ws.send(
      encodeOpenDataChannelInput({
        requestId: '0f7d6a52-3c1e-4b8f-9a0d-2e5c7b9a1f3d',
        tokenValue: session.TokenValue,
        clientId: 'c6f1b2a4-8d3e-4f5a-9b7c-1e2d3f4a5b6c',
        clientVersion: '1.2.764.0',
      }),
    );
    const frame = await first;
    assert.equal(frame.readUInt32BE(112), 5, 'the first stream message is the HandshakeRequest');
    assert.deepEqual(fake.records.connections.at(-1)!.openFrameIssues, []);
  });
});
