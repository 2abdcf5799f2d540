/** The fake STS verifies signatures as AWS does when it knows the secrets (docs/protocol.md §3.3). */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { startFakeSts, type FakeSts } from './index.js';

const KEYS = { accessKeyId: 'AKIAFAKESTSTEST00001', secretAccessKey: 'fake/sts+secret=for-tests' };
const ARN = 'arn:aws:iam::210987654321:user/alice';

describe('fake STS: GetCallerIdentity with signature verification', () => {
  let sts: FakeSts;
  before(async () => {
    sts = await startFakeSts({ identities: { [KEYS.accessKeyId]: ARN }, secrets: { [KEYS.accessKeyId]: KEYS.secretAccessKey } });
  });
  after(() => sts.close());

  async function callerIdentity(credentials: { accessKeyId: string; secretAccessKey: string }) {
    const client = new STSClient({ region: 'eu-west-2', endpoint: sts.url, credentials, maxAttempts: 1 });
    try {
      return await client.send(new GetCallerIdentityCommand({}));
    } finally {
      client.destroy();
    }
  }

  it('answers a correctly signed call with the identity of its key', async () => {
    const answer = await callerIdentity(KEYS);
    assert.equal(answer.Arn, ARN);
    assert.equal(answer.Account, '210987654321');
    assert.equal(sts.calls.at(-1)!.signatureOk, true);
  });

  it('refuses a wrong secret (SignatureDoesNotMatch) and an unknown key (InvalidClientTokenId)', async () => {
    await assert.rejects(callerIdentity({ ...KEYS, secretAccessKey: 'wrong' }), (error: Error) => error.name === 'SignatureDoesNotMatch');
    await assert.rejects(
      callerIdentity({ accessKeyId: 'AKIAUNKNOWNKEY000001', secretAccessKey: 'x' }),
      (error: Error) => error.name === 'InvalidClientTokenId',
    );
    assert.deepEqual(sts.calls.slice(-2).map((c) => [c.status, c.signatureOk]), [[403, false], [403, false]]);
  });
});
