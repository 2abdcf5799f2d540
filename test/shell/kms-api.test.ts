import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { defaultClientSettings } from '../../src/aws/aws-call.js';
import { createKmsApi } from '../../src/aws/kms-api.js';
import { SsmProxyError } from '../../src/errors.js';
import { startFakeKms, type FakeKms } from '../fake-kms/index.js';

let kms: FakeKms;
const credentials = async () => ({ accessKeyId: 'AKIDKMSTEST', secretAccessKey: 'secret-kms-test' });
/** Who signs, as the resolved AWS context says it (a profile with static keys). */
const signedBy = (profile: string | undefined) => ({ context: { region: 'us-east-1', profile, signer: { kind: 'profile' as const } }, client: defaultClientSettings() });
const context = { 'aws:ssm:SessionId': 'alice-0123456789abcdef0', 'aws:ssm:TargetId': 'i-0123456789abcdef0' };

before(async () => {
  kms = await startFakeKms();
});
after(() => kms.close());

test('GenerateDataKey through AWS_ENDPOINT_URL_KMS: 64 bytes, the context, the caller signs for kms', async () => {
  const saved = process.env.AWS_ENDPOINT_URL_KMS;
  process.env.AWS_ENDPOINT_URL_KMS = kms.endpointUrl;
  try {
    const api = await createKmsApi({ ...signedBy('p'), credentials });
    const key = await api.generateDataKey({ keyId: kms.alias, numberOfBytes: 64, encryptionContext: context });
    assert.equal(key.plaintext.length, 64);
    const call = kms.calls.at(-1)!;
    assert.equal(call.operation, 'GenerateDataKey');
    assert.equal(call.credentialService, 'kms');
    assert.equal(call.accessKeyId, 'AKIDKMSTEST');
    assert.deepEqual(call.encryptionContext, context);
    // The blob really is bound to the context: the agent's Decrypt gets the same key back.
    assert.deepEqual(kms.decrypt(Buffer.from(key.cipherTextBlob), context, kms.keyArn), Buffer.from(key.plaintext));
    assert.throws(() => kms.decrypt(Buffer.from(key.cipherTextBlob), { ...context, 'aws:ssm:TargetId': 'i-1' }, kms.keyId), (error: Error & { type?: string }) => error.type === 'InvalidCiphertextException');
  } finally {
    if (saved === undefined) delete process.env.AWS_ENDPOINT_URL_KMS;
    else process.env.AWS_ENDPOINT_URL_KMS = saved;
  }
});

test('a denied GenerateDataKey is one access-denied line naming the key, the permission and the signer', async () => {
  kms.options.denyGenerateDataKey = true;
  try {
    const api = await createKmsApi({ ...signedBy('discovery-access'), credentials, endpoint: kms.endpointUrl });
    const error = await api.generateDataKey({ keyId: kms.keyArn, numberOfBytes: 64, encryptionContext: context }).then(
      () => assert.fail('expected a refusal'),
      (caught: unknown) => caught,
    );
    assert.ok(error instanceof SsmProxyError);
    assert.equal(error.kind, 'access-denied');
    assert.doesNotMatch(error.message, /\n/);
    assert.match(error.message, new RegExp(`^kms:GenerateDataKey on key ${kms.keyArn} was denied for profile 'discovery-access': User: .* is not authorized to perform: kms:GenerateDataKey`));
  } finally {
    kms.options.denyGenerateDataKey = false;
  }
});

test('an unknown key is a configuration error naming it', async () => {
  const api = await createKmsApi({ ...signedBy(undefined), credentials, endpoint: kms.endpointUrl });
  const error = await api.generateDataKey({ keyId: 'alias/nope', numberOfBytes: 64, encryptionContext: context }).catch((caught: unknown) => caught);
  assert.ok(error instanceof SsmProxyError);
  assert.equal(error.kind, 'config');
  assert.match(error.message, /KMS key alias\/nope .* was not found/);
});
