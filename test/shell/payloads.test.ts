import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  decodeEncryptionChallenge,
  encodeEncryptionChallenge,
  kmsEncryptionResult,
  readKmsEncryptionRequest,
  readKmsEncryptionResult,
} from '../../src/protocol/kms-encryption.js';
import { decodeTerminalSize, encodeTerminalSize } from '../../src/protocol/terminal-size.js';

test('Size payload is the agent JSON, cols first', () => {
  assert.equal(encodeTerminalSize({ cols: 132, rows: 43 }).toString(), '{"cols":132,"rows":43}');
  assert.equal(encodeTerminalSize({ cols: -1, rows: 1.7 }).toString(), '{"cols":0,"rows":1}');
  assert.deepEqual(decodeTerminalSize(Buffer.from('{"rows":24,"cols":80}')), { ok: true, value: { cols: 80, rows: 24 } });
  assert.equal(decodeTerminalSize(Buffer.from('{"cols":"80","rows":24}')).ok, false);
  assert.equal(decodeTerminalSize(Buffer.from('[80,24]')).ok, false);
});

test('KMSEncryption parameters: key id required, challenge optional', () => {
  assert.deepEqual(readKmsEncryptionRequest({ KMSKeyId: 'alias/ssm', Challenge: 'q83v' }), {
    ok: true,
    value: { kmsKeyId: 'alias/ssm', challenge: 'q83v' },
  });
  assert.deepEqual(readKmsEncryptionRequest({ KMSKeyId: 'k' }), { ok: true, value: { kmsKeyId: 'k', challenge: '' } });
  assert.equal(readKmsEncryptionRequest({ Challenge: 'x' }).ok, false);
  assert.equal(readKmsEncryptionRequest(null).ok, false);
});

test('KMSEncryption result: exact JSON the agent unmarshals, and back', () => {
  const result = kmsEncryptionResult({ cipherTextKey: Buffer.from([1, 2, 3, 250]), challengeAcknowledgement: true });
  assert.equal(JSON.stringify(result), '{"KMSCipherTextKey":"AQID+g==","KMSCipherTextHash":null,"ChallengeAcknowledgement":true}');
  const back = readKmsEncryptionResult(JSON.parse(JSON.stringify(result)));
  assert.ok(back.ok);
  assert.deepEqual(back.value.cipherTextKey, Buffer.from([1, 2, 3, 250]));
  assert.equal(back.value.challengeAcknowledgement, true);
  assert.equal(readKmsEncryptionResult({ KMSCipherTextKey: 'not base64!' }).ok, false);
  assert.deepEqual(readKmsEncryptionResult({ KMSCipherTextKey: 'AQID+g==' }), {
    ok: true,
    value: { cipherTextKey: Buffer.from([1, 2, 3, 250]), challengeAcknowledgement: false },
  });
});

test('encryption challenge payload round-trips as standard base64', () => {
  const challenge = Buffer.from('fbff00', 'hex');
  assert.equal(encodeEncryptionChallenge(challenge).toString(), '{"Challenge":"+/8A"}');
  assert.deepEqual(decodeEncryptionChallenge(Buffer.from('{"Challenge":"+/8A"}')), { ok: true, value: challenge });
  assert.equal(decodeEncryptionChallenge(Buffer.from('{"Challenge":""}')).ok, false);
  assert.equal(decodeEncryptionChallenge(Buffer.from('{"Challenge":"-_8A"}')).ok, false);
});
