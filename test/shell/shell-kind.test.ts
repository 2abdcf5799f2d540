/**
 * The shell kind against a scripted engine (SessionControl): what it answers, sends and refuses,
 * without a network (docs/protocol.md §14, §15).
 */
import assert from 'node:assert/strict';
import { createCipheriv, randomBytes } from 'node:crypto';
import { PassThrough, Writable } from 'node:stream';
import { test } from 'node:test';
import type { KmsApi } from '../../src/aws/kms-api.js';
import { createLogger } from '../../src/log.js';
import { PayloadType } from '../../src/protocol/index.js';
import { decodeEncryptionChallenge, encodeEncryptionChallenge } from '../../src/protocol/kms-encryption.js';
import type { KindEnd, SessionControl, SessionKind } from '../../src/session/session-kind.js';
import { createShellKind } from '../../src/session/shell/shell-kind.js';
import { LocalTerminal } from '../../src/session/shell/local-terminal.js';
import { ManualScheduler } from '../helpers/manual-scheduler.js';

interface Rig {
  kind: SessionKind;
  sent: { payloadType: number; payload: Buffer }[];
  ends: KindEnd[];
  input: PassThrough;
  output: Buffer[];
  errors: Buffer[];
  kmsCalls: { keyId: string; encryptionContext: Record<string, string> }[];
}

const DATA_KEY = Buffer.from(Array.from({ length: 64 }, (_, index) => 255 - index));

function rig(): Rig {
  const sent: Rig['sent'] = [];
  const ends: KindEnd[] = [];
  const output: Buffer[] = [];
  const errors: Buffer[] = [];
  const kmsCalls: Rig['kmsCalls'] = [];
  const input = new PassThrough();
  const sink = (into: Buffer[]) =>
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        into.push(Buffer.from(chunk));
        callback();
      },
    });
  const kms: KmsApi = {
    async generateDataKey({ keyId, encryptionContext }) {
      kmsCalls.push({ keyId, encryptionContext });
      return { cipherTextBlob: Buffer.from('blob'), plaintext: Buffer.from(DATA_KEY) };
    },
  };
  const session: SessionControl = {
    sessionId: 'alice-0123456789abcdef0',
    target: 'i-0123456789abcdef0',
    clientVersion: '1.2.764.0',
    log: createLogger({ verbosity: 0, write: () => {} }),
    scheduler: new ManualScheduler(),
    signal: new AbortController().signal,
    send(payloadType, payload) {
      sent.push({ payloadType, payload: Buffer.from(payload) });
      return true;
    },
    hasRoom: true,
    pauseIncoming() {},
    resumeIncoming() {},
    end(reason) {
      ends.push(reason);
    },
  };
  const terminal = new LocalTerminal({ input, sizeSources: [], exitHooks: process });
  const kind = createShellKind({ input, output: sink(output), errorOutput: sink(errors), terminal, kms: async () => kms })(session);
  return { kind, sent, ends, input, output, errors, kmsCalls };
}

const context = { request: { agentVersion: '3.3.987.0', requestedClientActions: [] }, signal: new AbortController().signal };

function agentSeal(plain: Buffer): Buffer {
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', DATA_KEY.subarray(0, 32), nonce);
  return Buffer.concat([nonce, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
}

test('accepts shell session types and refuses Port with a hint', async () => {
  const { kind } = rig();
  const shell = await kind.answerAction({ actionType: 'SessionType', actionParameters: { SessionType: 'Standard_Stream', Properties: null } }, context);
  assert.deepEqual(shell, { status: 'success' });
  const port = await kind.answerAction({ actionType: 'SessionType', actionParameters: { SessionType: 'Port', Properties: { portNumber: '22' } } }, context);
  assert.equal(port.status, 'failed');
  assert.match(port.status === 'failed' ? port.refusal : '', /starts a Port session, not a shell; .*ssm-proxy connect/);
  const other = await kind.answerAction({ actionType: 'SomethingNew', actionParameters: {} }, context);
  assert.equal(other.status, 'unsupported');
});

test('start sends the size first; keystrokes go out in ≤1024-byte Output messages; stdin EOF sends one Ctrl-D', async () => {
  const { kind, sent, ends, input } = rig();
  kind.start({ handshakeCompleted: false, customerMessage: '', agentVersion: '' });
  assert.equal(sent[0]!.payloadType, PayloadType.size);
  assert.equal(sent[0]!.payload.toString(), '{"cols":300,"rows":100}', 'no terminal: the plugin\'s fallback size');
  input.write(Buffer.alloc(2500, 0x61));
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(sent.slice(1).map((message) => [message.payloadType, message.payload.length]), [[1, 1024], [1, 1024], [1, 452]]);
  input.end();
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(sent.at(-1), { payloadType: PayloadType.output, payload: Buffer.from([0x04]) });
  assert.deepEqual(ends, [], 'the session ends when the remote shell exits, not at stdin EOF');
  kind.dispose();
});

test('KMS: GenerateDataKey with the agent\'s context, the challenge answered with the other half, Output decrypted, input encrypted', async () => {
  const { kind, sent, output, kmsCalls, input } = rig();
  const answer = await kind.answerAction({ actionType: 'KMSEncryption', actionParameters: { KMSKeyId: 'alias/k', Challenge: 'Y2hhbGxlbmdl' } }, context);
  assert.deepEqual(kmsCalls, [
    {
      keyId: 'alias/k',
      encryptionContext: { 'aws:ssm:SessionId': 'alice-0123456789abcdef0', 'aws:ssm:TargetId': 'i-0123456789abcdef0', 'aws:ssm:RandomChallenge': 'Y2hhbGxlbmdl' },
    },
  ]);
  assert.deepEqual(answer, {
    status: 'success',
    result: { KMSCipherTextKey: Buffer.from('blob').toString('base64'), KMSCipherTextHash: null, ChallengeAcknowledgement: true },
  });
  const challenge = randomBytes(64);
  kind.receive(PayloadType.encChallengeRequest, encodeEncryptionChallenge(agentSeal(challenge)));
  const response = sent.find((message) => message.payloadType === PayloadType.encChallengeResponse)!;
  const sealed = decodeEncryptionChallenge(response.payload);
  assert.ok(sealed.ok);
  const { createDecipheriv } = await import('node:crypto');
  const decipher = createDecipheriv('aes-256-gcm', DATA_KEY.subarray(32), sealed.value.subarray(0, 12));
  decipher.setAuthTag(sealed.value.subarray(sealed.value.length - 16));
  assert.deepEqual(Buffer.concat([decipher.update(sealed.value.subarray(12, sealed.value.length - 16)), decipher.final()]), challenge);

  kind.start({ handshakeCompleted: true, customerMessage: 'This session is encrypted using AWS KMS.', agentVersion: '3.3.987.0' });
  kind.receive(PayloadType.output, agentSeal(Buffer.from('secret prompt$ ')));
  await kind.flushOutput();
  assert.equal(Buffer.concat(output).toString(), 'secret prompt$ ');
  input.write('ls\r');
  await new Promise((resolve) => setImmediate(resolve));
  const typed = sent.at(-1)!;
  assert.equal(typed.payloadType, PayloadType.output);
  assert.equal(typed.payload.length, 3 + 28, 'nonce + ciphertext + tag');
  assert.equal(sent.filter((message) => message.payloadType === PayloadType.size)[0]!.payload.toString(), '{"cols":300,"rows":100}', 'Size stays in clear');
  kind.dispose();
});

test('KMS: a payload that does not decrypt ends the session as a protocol error; so does a challenge without KMS', async () => {
  const encrypted = rig();
  await encrypted.kind.answerAction({ actionType: 'KMSEncryption', actionParameters: { KMSKeyId: 'k', Challenge: '' } }, context);
  encrypted.kind.start({ handshakeCompleted: true, customerMessage: '', agentVersion: '' });
  encrypted.kind.receive(PayloadType.output, Buffer.from('plain text, not sealed at all'));
  assert.equal(encrypted.ends.length, 1);
  const end = encrypted.ends[0]!;
  assert.ok(end.reason === 'failed' && end.error.kind === 'protocol' && /did not decrypt/.test(end.error.message));
  assert.equal(Buffer.concat(encrypted.output).length, 0);
  encrypted.kind.dispose();

  const clear = rig();
  clear.kind.receive(PayloadType.encChallengeRequest, encodeEncryptionChallenge(Buffer.alloc(40)));
  assert.ok(clear.ends[0]?.reason === 'failed' && /no KMS encryption was agreed/.test(clear.ends[0].error.message));
  clear.kind.dispose();
});

test('StdErr goes to stderr; ExitCode sets the exit code; flags are ignored', async () => {
  const { kind, errors, ends } = rig();
  kind.start({ handshakeCompleted: false, customerMessage: '', agentVersion: '' });
  kind.receive(PayloadType.stdErr, Buffer.from('oops\n'));
  kind.receive(PayloadType.exitCode, Buffer.from('EXIT_CODE: 3'));
  kind.receive(PayloadType.flag, Buffer.from([0, 0, 0, 2]));
  assert.equal(Buffer.concat(errors).toString(), 'oops\n');
  assert.equal(kind.exitCode?.(), 3);
  assert.deepEqual(ends, []);
  kind.dispose();
});
