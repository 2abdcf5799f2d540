import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ResumeSessionCommand, StartSessionCommand, TerminateSessionCommand } from '@aws-sdk/client-ssm';
import { startFakeSsm, type FakeSsm } from './index.js';
import { ssmClient, startSession } from './test-helpers.js';

describe('fake SSM API (JSON 1.1, driven by @aws-sdk/client-ssm)', () => {
  let fake: FakeSsm;
  before(async () => {
    fake = await startFakeSsm();
  });
  after(() => fake.close());

  it('StartSession answers SessionId, TokenValue and a StreamUrl like the real service', async () => {
    const client = ssmClient(fake);
    const answer = await client.send(
      new StartSessionCommand({
        Target: 'i-0123456789abcdef0',
        DocumentName: 'AWS-StartSSHSession',
        Parameters: { portNumber: ['22'] },
      }),
    );
    client.destroy();
    assert.match(answer.SessionId!, /^ssm-proxy-test-[0-9a-f]{17}$/);
    assert.ok(answer.TokenValue!.length > 100);
    assert.ok(answer.$metadata.requestId, 'x-amzn-RequestId header is returned');
    const match = /^ws:\/\/127\.0\.0\.1:(\d+)\/v1\/data-channel\/([^?]+)\?role=publish_subscribe&cell-number=(.+)$/.exec(
      answer.StreamUrl!,
    );
    assert.ok(match, answer.StreamUrl);
    assert.equal(Number(match[1]), fake.port);
    assert.equal(match[2], answer.SessionId);
    assert.match(match[3]!, /\+/);
    assert.match(match[3]!, /\//);
    assert.match(match[3]!, /=$/);

    const call = fake.records.apiCalls.at(-1)!;
    assert.equal(call.operation, 'StartSession');
    assert.equal(call.amzTarget, 'AmazonSSM.StartSession');
    assert.equal(call.contentType, 'application/x-amz-json-1.1');
    assert.equal(call.authorization, true);
    assert.equal(call.credentialService, 'ssm');
    assert.equal(call.credentialRegion, 'us-east-1');
    assert.equal(call.target, 'i-0123456789abcdef0');
    assert.equal(call.documentName, 'AWS-StartSSHSession');
    assert.deepEqual(call.parameters, { portNumber: ['22'] });
    assert.equal(call.status, 200);
  });

  for (const type of ['AccessDeniedException', 'InvalidDocument', 'TargetNotConnected', 'DoesNotExistException'] as const) {
    it(`StartSession error knob ${type} surfaces as that SDK error`, async () => {
      fake.options.startSessionError = type;
      const client = ssmClient(fake);
      try {
        await assert.rejects(
          client.send(new StartSessionCommand({ Target: 'i-0123456789abcdef0', DocumentName: 'AWS-StartSSHSession' })),
          (error: Error & { $metadata?: { httpStatusCode?: number; requestId?: string } }) => {
            assert.equal(error.name, type);
            assert.equal(error.$metadata?.httpStatusCode, 400);
            assert.ok(error.$metadata?.requestId);
            if (type === 'AccessDeniedException') {
              assert.match(error.message, /is not authorized to perform: ssm:StartSession on resource: arn:aws:ec2:us-east-1:123456789012:instance\/i-0123456789abcdef0/);
            }
            return true;
          },
        );
      } finally {
        fake.options.startSessionError = undefined;
        client.destroy();
      }
      assert.equal(fake.records.apiCalls.at(-1)!.errorType, type);
    });
  }

  it('ResumeSession gives a new token while live, none after TerminateSession', async () => {
    const started = await startSession(fake, 22);
    const client = ssmClient(fake);
    try {
      const resumed = await client.send(new ResumeSessionCommand({ SessionId: started.SessionId }));
      assert.equal(resumed.SessionId, started.SessionId);
      assert.ok(resumed.TokenValue);
      assert.notEqual(resumed.TokenValue, started.TokenValue);
      assert.ok(resumed.StreamUrl?.includes(started.SessionId));

      const terminated = await client.send(new TerminateSessionCommand({ SessionId: started.SessionId }));
      assert.equal(terminated.SessionId, started.SessionId);
      assert.ok(fake.records.sessionEnds.some((end) => end.sessionId === started.SessionId && end.reason === 'terminate-api'));

      const again = await client.send(new ResumeSessionCommand({ SessionId: started.SessionId }));
      assert.equal(again.SessionId, started.SessionId);
      assert.equal(again.TokenValue, undefined);
      assert.equal(again.StreamUrl, undefined);

      fake.options.denyResumeSession = true;
      await assert.rejects(client.send(new ResumeSessionCommand({ SessionId: started.SessionId })), { name: 'AccessDeniedException' });
    } finally {
      fake.options.denyResumeSession = false;
      client.destroy();
    }
  });

  it('refuses unsigned calls like AWS does', async () => {
    const response = await fetch(fake.endpointUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AmazonSSM.StartSession' },
      body: JSON.stringify({ Target: 'i-0123456789abcdef0' }),
    });
    assert.equal(response.status, 400);
    assert.ok(response.headers.get('x-amzn-requestid'));
    assert.deepEqual(await response.json(), {
      __type: 'MissingAuthenticationTokenException',
      message: 'Missing Authentication Token',
    });
    assert.equal(fake.records.apiCalls.at(-1)!.authorization, false);
  });
});
