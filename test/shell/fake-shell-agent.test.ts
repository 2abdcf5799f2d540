/**
 * The fake agent's shell side on its own (docs/protocol.md §14, §15), driven by the fake's
 * scripted client: no handshake without KMS, Size → TIOCSWINSZ, channel_closed when the shell
 * exits; with KMS the full handshake, the challenge and encrypted payloads both ways.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { SSMClient, StartSessionCommand } from '@aws-sdk/client-ssm';
import { decodeHandshakeRequest, encodeHandshakeResponse, MessageType, PayloadType } from '../../src/protocol/index.js';
import {
  decodeEncryptionChallenge,
  encodeEncryptionChallenge,
  kmsEncryptionResult,
  readKmsEncryptionRequest,
} from '../../src/protocol/kms-encryption.js';
import { encodeTerminalSize } from '../../src/protocol/terminal-size.js';
import { KmsCipher } from '../../src/session/shell/kms-cipher.js';
import { startFakeKms, type FakeKms } from '../fake-kms/index.js';
import { startFakeSsm, type FakeSsm } from '../fake-ssm/index.js';
import { ScriptedClient, TEST_CREDENTIALS } from '../fake-ssm/scripted-client.js';
import { incompleteUtf8Tail } from '../fake-ssm/shell-agent-session.js';

let fake: FakeSsm;
let kms: FakeKms;
const target = 'i-0123456789abcdef0';

before(async () => {
  kms = await startFakeKms();
  fake = await startFakeSsm({ shell: { outputStartDelayMs: 300, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/tmp', PS1: 'fake$ ' } } });
});
after(async () => {
  await fake.close();
  await kms.close();
});

async function startShellSession(): Promise<{ SessionId: string; TokenValue: string; StreamUrl: string }> {
  const client = new SSMClient({ region: 'us-east-1', endpoint: fake.endpointUrl, credentials: TEST_CREDENTIALS, maxAttempts: 1 });
  try {
    const answer = await client.send(new StartSessionCommand({ Target: target }));
    return { SessionId: answer.SessionId!, TokenValue: answer.TokenValue!, StreamUrl: answer.StreamUrl! };
  } finally {
    client.destroy();
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('without KMS: no handshake, output after the start delay, Size reaches the pty, exit closes the channel', async () => {
  const session = await startShellSession();
  const opened = performance.now();
  const client = await ScriptedClient.connect(session.StreamUrl, session.TokenValue);
  try {
    await client.waitFor(() => client.receivedBytes > 0, 10_000, 'the first Output');
    assert.ok(performance.now() - opened >= 280, 'the agent waits before reading the pty');
    const first = client.frames.find((frame) => frame.messageType === MessageType.outputStreamData)!;
    assert.equal(first.payloadType, PayloadType.output, 'the first stream message is Output: no handshake');
    assert.equal(first.sequenceNumber, 0);
    client.sendStream(PayloadType.size, encodeTerminalSize({ cols: 91, rows: 27 }));
    client.sendData(Buffer.from('stty size; echo "$TERM $LANG"; exit 3\n'));
    await client.waitFor(() => client.channelClosed !== undefined, 10_000, 'channel_closed');
    const text = client.received.toString('utf8');
    assert.match(text, /\r\n27 91\r\n/);
    assert.match(text, /\r\nxterm-256color C\.UTF-8\r\n/);
    assert.equal(client.channelClosed!.output, '', 'a shell exit carries no text and no status (§14.3)');
    const record = fake.records.shellSessions.find((entry) => entry.sessionId === session.SessionId)!;
    assert.deepEqual(record.sizes, [{ cols: 91, rows: 27 }]);
    assert.equal(record.shellExitCode, 3);
    assert.deepEqual(fake.records.sessionEnds.at(-1), { sessionId: session.SessionId, reason: 'shell-exit', output: '' });
    await client.waitFor(() => !processAlive(record.ptyPid!), 5000, 'the pty helper to exit');
  } finally {
    client.close();
  }
});

test('the TerminateSession flag does not end a shell; the API does, and the pty is gone', async () => {
  const session = await startShellSession();
  const client = await ScriptedClient.connect(session.StreamUrl, session.TokenValue);
  try {
    await client.waitFor(() => client.receivedBytes > 0, 10_000, 'the prompt');
    client.sendFlag(2);
    client.sendData(Buffer.from('echo still-$((20+22))\n'));
    await client.waitFor(() => client.received.includes('still-42'), 10_000, 'the shell to answer after the flag');
    assert.equal(client.channelClosed, undefined);
    const ssm = new SSMClient({ region: 'us-east-1', endpoint: fake.endpointUrl, credentials: TEST_CREDENTIALS, maxAttempts: 1 });
    const { TerminateSessionCommand } = await import('@aws-sdk/client-ssm');
    await ssm.send(new TerminateSessionCommand({ SessionId: session.SessionId }));
    ssm.destroy();
    await client.waitFor(() => client.channelClosed !== undefined, 5000, 'channel_closed');
    const record = fake.records.shellSessions.find((entry) => entry.sessionId === session.SessionId)!;
    await client.waitFor(() => !processAlive(record.ptyPid!), 5000, 'the pty helper to exit');
  } finally {
    client.close();
  }
});

test('with KMS: handshake, GenerateDataKey context, challenge, every payload encrypted both ways', async () => {
  fake.options.shell = { ...fake.options.shell, kmsKeyId: kms.alias, kms };
  let cleanup = () => {};
  try {
    const session = await startShellSession();
    const client = await ScriptedClient.connect(session.StreamUrl, session.TokenValue, { handshakeStatus: false });
    cleanup = () => client.close();
    await client.waitFor(() => client.framesOf(PayloadType.handshakeRequest).length > 0, 10_000, 'the HandshakeRequest');
    const request = decodeHandshakeRequest(client.framesOf(PayloadType.handshakeRequest)[0]!.payload);
    assert.ok(request.ok);
    const [sessionType, encryption] = request.value.requestedClientActions;
    assert.deepEqual(sessionType, { actionType: 'SessionType', actionParameters: { SessionType: 'Standard_Stream', Properties: null } });
    const kmsRequest = readKmsEncryptionRequest(encryption!.actionParameters);
    assert.ok(kmsRequest.ok);
    assert.equal(kmsRequest.value.kmsKeyId, kms.alias);
    assert.equal(Buffer.from(kmsRequest.value.challenge, 'base64').length, 16);

    // The client's part, done by hand with the real cipher and the fake KMS's own blob.
    const dataKey = Buffer.alloc(64);
    for (let index = 0; index < 64; index++) dataKey[index] = (index * 7 + 3) & 0xff;
    const context = { 'aws:ssm:SessionId': session.SessionId, 'aws:ssm:TargetId': target, 'aws:ssm:RandomChallenge': kmsRequest.value.challenge };
    const { KMSClient, GenerateDataKeyCommand } = await import('@aws-sdk/client-kms');
    const kmsClient = new KMSClient({ region: 'us-east-1', endpoint: kms.endpointUrl, credentials: TEST_CREDENTIALS });
    const generated = await kmsClient.send(new GenerateDataKeyCommand({ KeyId: kms.alias, NumberOfBytes: 64, EncryptionContext: context }));
    kmsClient.destroy();
    const cipher = new KmsCipher(generated.Plaintext!);
    client.sendStream(
      PayloadType.handshakeResponse,
      encodeHandshakeResponse({
        clientVersion: '1.2.764.0',
        processedClientActions: [
          { actionType: 'SessionType', actionStatus: 1, actionResult: null, error: '' },
          {
            actionType: 'KMSEncryption',
            actionStatus: 1,
            actionResult: kmsEncryptionResult({ cipherTextKey: Buffer.from(generated.CiphertextBlob!), challengeAcknowledgement: true }),
            error: '',
          },
        ],
        errors: null,
      }),
    );
    await client.waitFor(() => client.framesOf(PayloadType.encChallengeRequest).length > 0, 10_000, 'the EncChallengeRequest');
    const challenge = decodeEncryptionChallenge(client.framesOf(PayloadType.encChallengeRequest)[0]!.payload);
    assert.ok(challenge.ok);
    const plainChallenge = cipher.decrypt(challenge.value)!;
    assert.equal(plainChallenge.length, 64);
    client.sendStream(PayloadType.encChallengeResponse, encodeEncryptionChallenge(cipher.encrypt(plainChallenge)));
    await client.waitFor(() => client.handshakeComplete, 10_000, 'HandshakeComplete');
    client.sendStream(PayloadType.size, encodeTerminalSize({ cols: 100, rows: 30 }));
    client.sendStream(PayloadType.output, cipher.encrypt(Buffer.from('stty size; exit\n')));
    await client.waitFor(() => client.channelClosed !== undefined, 10_000, 'channel_closed');
    const plain = Buffer.concat(client.framesOf(PayloadType.output).map((frame) => cipher.decrypt(frame.payload)!));
    // The shell's first prompt may come before or after the terminal's echo of the early input.
    assert.match(plain.toString('utf8'), /^(fake\$ )?stty size; exit\r\n(.*\s)?30 100\r\n/);
    const record = fake.records.shellSessions.find((entry) => entry.sessionId === session.SessionId)!;
    assert.deepEqual(record.kms, { keyId: kms.alias, challengeAcknowledged: true, challengeVerified: true });
    assert.equal(record.inputMessages, 1);
    assert.equal(record.inputDecrypted, 1);
    assert.ok(record.outputMessages > 0);
    assert.equal(record.outputEncrypted, record.outputMessages);
    const agentDecrypt = kms.calls.find((call) => call.via === 'agent')!;
    assert.deepEqual(agentDecrypt.encryptionContext, context);
  } finally {
    cleanup();
    fake.options.shell = { ...fake.options.shell, kmsKeyId: undefined, kms: undefined };
  }
});

test('an incomplete UTF-8 tail is carried to the next message, as the agent does', () => {
  assert.equal(incompleteUtf8Tail(Buffer.from('abc')), 0);
  assert.equal(incompleteUtf8Tail(Buffer.from('a€')), 0);
  assert.equal(incompleteUtf8Tail(Buffer.from('a€').subarray(0, 3)), 2);
  assert.equal(incompleteUtf8Tail(Buffer.from('😀').subarray(0, 3)), 3);
  assert.equal(incompleteUtf8Tail(Buffer.from([0x61, 0xc3])), 1);
});
