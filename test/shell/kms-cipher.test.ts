import assert from 'node:assert/strict';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { KmsCipher } from '../../src/session/shell/kms-cipher.js';

// Vectors are computed here with node:crypto from the rules in docs/protocol.md §15.3, not with
// the code under test: agent→client uses key bytes 0–31, client→agent bytes 32–63, no AAD,
// nonce(12) ‖ ciphertext ‖ tag(16).
const dataKey = Buffer.from(Array.from({ length: 64 }, (_, index) => index));
const agentKey = dataKey.subarray(0, 32);
const clientKey = dataKey.subarray(32);

function agentSeal(plain: Buffer, nonce: Buffer): Buffer {
  const cipher = createCipheriv('aes-256-gcm', agentKey, nonce);
  return Buffer.concat([nonce, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
}

function agentOpen(sealed: Buffer): Buffer {
  const decipher = createDecipheriv('aes-256-gcm', clientKey, sealed.subarray(0, 12));
  decipher.setAuthTag(sealed.subarray(sealed.length - 16));
  return Buffer.concat([decipher.update(sealed.subarray(12, sealed.length - 16)), decipher.final()]);
}

test('decrypts what the agent encrypted with the first half of the data key', () => {
  const cipher = new KmsCipher(dataKey);
  // The agent's counter nonce: three little-endian uint32 words.
  const nonce = Buffer.from('0100000000000000000000ff', 'hex');
  const plain = Buffer.from('ec2-user@ip-10-0-0-1 ~ $ ');
  const sealed = agentSeal(plain, nonce);
  assert.equal(sealed.length, plain.length + 28);
  assert.deepEqual(cipher.decrypt(sealed), plain);
});

test('a known vector: all-zero nonce, fixed key, fixed text', () => {
  const sealed = agentSeal(Buffer.from('hello'), Buffer.alloc(12));
  // Pin the layout: the nonce leads, the 16-byte tag ends the payload.
  assert.deepEqual(sealed.subarray(0, 12), Buffer.alloc(12));
  assert.equal(sealed.length, 12 + 5 + 16);
  assert.equal(new KmsCipher(dataKey).decrypt(sealed)?.toString(), 'hello');
});

test('encrypts with the second half, a fresh random nonce each time, no AAD', () => {
  const cipher = new KmsCipher(dataKey);
  const plain = randomBytes(1024);
  const first = cipher.encrypt(plain);
  const second = cipher.encrypt(plain);
  assert.equal(first.length, 1024 + 28);
  assert.notDeepEqual(first.subarray(0, 12), second.subarray(0, 12));
  assert.deepEqual(agentOpen(first), plain);
  assert.deepEqual(agentOpen(second), plain);
  assert.deepEqual(agentOpen(cipher.encrypt(Buffer.alloc(0))), Buffer.alloc(0));
});

test('refuses tampered, truncated and wrong-direction payloads', () => {
  const cipher = new KmsCipher(dataKey);
  const sealed = agentSeal(Buffer.from('secret output'), randomBytes(12));
  const flipped = Buffer.from(sealed);
  flipped[15]! ^= 1;
  assert.equal(cipher.decrypt(flipped), undefined);
  assert.equal(cipher.decrypt(sealed.subarray(0, 27)), undefined);
  // Our own output is sealed with the other half: reading it back must fail.
  assert.equal(cipher.decrypt(cipher.encrypt(Buffer.from('x'))), undefined);
});

test('wrong key sizes are refused; wipe zeroes the keys', () => {
  assert.throws(() => new KmsCipher(Buffer.alloc(32)), /32 bytes/);
  const cipher = new KmsCipher(Buffer.from(dataKey));
  const sealed = agentSeal(Buffer.from('a'), randomBytes(12));
  cipher.wipe();
  assert.equal(cipher.decrypt(sealed), undefined);
});
