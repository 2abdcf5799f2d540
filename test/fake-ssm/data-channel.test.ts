import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, afterEach, before, describe, it } from 'node:test';
import { ResumeSessionCommand, TerminateSessionCommand } from '@aws-sdk/client-ssm';
import {
  decodeHandshakeComplete,
  decodeHandshakeRequest,
  FlagValue,
  MessageType,
  PayloadType,
  encodeOpenDataChannelInput,
  encodeAcknowledgement,
  encodeFrame,
  randomMessageId,
} from '../../src/protocol/index.js';
import { startFakeSsm, type FakeSsm, type FakeSsmOptions } from './index.js';
import { openSocket, ScriptedClient, signUpgrade, TEST_CREDENTIALS } from './scripted-client.js';
import { ssmClient, startSession, startTcpTarget, type TcpTarget } from './test-helpers.js';

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

describe('fake SSM data channel', () => {
  let echo: TcpTarget;
  const cleanups: (() => unknown)[] = [];
  before(async () => {
    echo = await startTcpTarget();
  });
  after(() => echo.close());
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function fakeWith(options: FakeSsmOptions = {}): Promise<FakeSsm> {
    const fake = await startFakeSsm(options);
    cleanups.push(() => fake.close());
    return fake;
  }

  async function connected(fake: FakeSsm, port = echo.port, options = {}) {
    const session = await startSession(fake, port);
    const client = await ScriptedClient.connect(session.StreamUrl, session.TokenValue, options);
    cleanups.push(() => client.close());
    return { session, client };
  }

  it('runs the Port handshake of §8 and records the response', async () => {
    const fake = await fakeWith({ agentVersion: '3.2.582.0' });
    const { session, client } = await connected(fake);
    await client.waitFor(() => client.handshakeComplete, 5000, 'HandshakeComplete');

    const [request] = client.framesOf(PayloadType.handshakeRequest);
    assert.ok(request);
    assert.equal(request.sequenceNumber, 0);
    assert.equal(request.flags, 1);
    const decoded = decodeHandshakeRequest(request.payload);
    assert.ok(decoded.ok);
    assert.equal(decoded.value.agentVersion, '3.2.582.0');
    assert.deepEqual(decoded.value.requestedClientActions, [
      { actionType: 'SessionType', actionParameters: { SessionType: 'Port', Properties: { portNumber: String(echo.port) } } },
    ]);
    const [complete] = client.framesOf(PayloadType.handshakeComplete);
    assert.equal(complete!.sequenceNumber, 1);
    assert.equal(complete!.flags, 0);
    const completeBody = decodeHandshakeComplete(complete!.payload);
    assert.ok(completeBody.ok && Number.isInteger(completeBody.value.handshakeTimeToCompleteNs));
    assert.ok(completeBody.ok && completeBody.value.handshakeTimeToCompleteNs > 0);
    assert.equal(completeBody.ok && completeBody.value.customerMessage, '');

    assert.ok(client.acksReceived.includes(0), 'HandshakeResponse (seq 0) was acked');
    assert.deepEqual(fake.records.handshakeResponses, [
      { sessionId: session.SessionId, clientVersion: '1.2.764.0', actionStatuses: [1], errors: null },
    ]);
    const connection = fake.records.connections[0]!;
    assert.equal(connection.tokenOk, true);
    assert.equal(connection.clientId, client.clientId);
    assert.equal(connection.clientVersion, '1.2.764.0');
    assert.match(connection.requestId!, /^[0-9a-f-]{36}$/);
  });

  it('echoes 1 MiB both ways intact through a TCP target', async () => {
    const fake = await fakeWith();
    const { client } = await connected(fake);
    await client.waitFor(() => client.handshakeComplete, 5000, 'HandshakeComplete');
    const payload = randomBytes(1 << 20);
    client.sendData(payload);
    await client.waitFor(() => client.receivedBytes >= payload.length, 20_000, '1 MiB echoed back');
    assert.equal(client.receivedBytes, payload.length);
    assert.equal(sha256(client.received), sha256(payload));
    await client.waitFor(() => client.unackedCount === 0, 5000, 'all client messages acked');
    assert.equal(fake.records.clientToServer.streamBytes, payload.length);
    assert.equal(fake.records.serverToClient.streamBytes, payload.length);
    // Every output message is ≤ 1024 bytes (§10.2).
    assert.ok(client.framesOf(PayloadType.output).every((frame) => frame.payload.length <= 1024));
  });

  it('acks and drops client data sent before HandshakeComplete', async () => {
    const fake = await fakeWith({ neverCompleteHandshake: true });
    const { client } = await connected(fake);
    await fake.waitFor(() => fake.records.handshakeResponses.length === 1, 5000, 'HandshakeResponse');
    const seq = client.sendStream(PayloadType.output, Buffer.from('too early'));
    await client.waitFor(() => client.acksReceived.includes(seq), 5000, 'ack of early data');
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(client.handshakeComplete, false, 'neverCompleteHandshake holds back PT 7');
    assert.equal(client.receivedBytes, 0, 'nothing reached the target');
    assert.equal(fake.records.clientToServer.streamBytes, 0);
  });

  it('does not ack data until the target is dialled; the client retransmission delivers it', async () => {
    const fake = await fakeWith({ dialDelayMs: 400 });
    const { client } = await connected(fake, echo.port, { resendAfterMs: 100 });
    await client.waitFor(() => client.handshakeComplete, 5000, 'HandshakeComplete');
    const seq = client.sendStream(PayloadType.output, Buffer.from('hello'));
    await new Promise((resolve) => setTimeout(resolve, 250));
    assert.equal(client.acksReceived.includes(seq), false, 'no ack while not connected');
    assert.ok(fake.records.clientToServer.notReady >= 1);
    await client.waitFor(() => client.received.toString() === 'hello', 5000, 'echo after dial');
    assert.ok(client.acksReceived.includes(seq));
  });

  it('re-acks duplicates and buffers early arrivals', async () => {
    const fake = await fakeWith();
    const { client } = await connected(fake, echo.port, { resendAfterMs: 0 });
    await client.waitFor(() => client.handshakeComplete, 5000, 'HandshakeComplete');
    // Let the dial finish so data is accepted.
    await new Promise((resolve) => setTimeout(resolve, 50));
    const first = client.sendStream(PayloadType.output, Buffer.from('one '));
    await client.waitFor(() => client.acksReceived.includes(first), 5000, 'first ack');
    const firstFrame = client.buildStream(first, PayloadType.output, Buffer.from('one '));
    client.sendRaw(firstFrame); // duplicate
    await client.waitFor(() => client.acksReceived.filter((s) => s === first).length === 2, 5000, 're-ack');
    assert.equal(fake.records.clientToServer.duplicatesReacked, 1);

    // seq n+1 before n: acked at once, delivered after n.
    const second = client.sendStream(PayloadType.output, Buffer.from('two '), { send: false });
    const third = client.sendStream(PayloadType.output, Buffer.from('three'), { send: false });
    client.sendRaw(client.buildStream(third, PayloadType.output, Buffer.from('three')));
    await client.waitFor(() => client.acksReceived.includes(third), 5000, 'early ack');
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(client.received.toString(), 'one ');
    client.sendRaw(client.buildStream(second, PayloadType.output, Buffer.from('two ')));
    await client.waitFor(() => client.received.toString() === 'one two three', 5000, 'in-order echo');
  });

  it('retransmits an unacked message with the same sequence and MessageId, and ignores unknown acks', async () => {
    const fake = await fakeWith();
    const { client } = await connected(fake, echo.port, { ack: false, handshakeStatus: false });
    await client.waitFor(() => client.framesOf(PayloadType.handshakeRequest).length >= 2, 3000, 'a resend');
    const [first, second] = client.framesOf(PayloadType.handshakeRequest);
    assert.equal(second!.sequenceNumber, first!.sequenceNumber);
    assert.ok(second!.messageId.equals(first!.messageId));
    assert.ok(fake.records.serverToClient.retransmitted >= 1);
  });

  it('refuses upgrades without SigV4 (403) and checks the signature when asked', async () => {
    const fake = await fakeWith({ verifySignature: TEST_CREDENTIALS });
    const session = await startSession(fake, echo.port);

    const unsigned = await openSocket(session.StreamUrl, {});
    assert.equal(unsigned.status, 403);

    const plusAsLiteral = await openSocket(session.StreamUrl, await signUpgrade(session.StreamUrl, TEST_CREDENTIALS, 'us-east-1', 'raw-plus'));
    assert.equal(plusAsLiteral.status, 403, 'a signature over a literal + in cell-number is wrong (§3.3)');

    const wrongKey = await openSocket(
      session.StreamUrl,
      await signUpgrade(session.StreamUrl, { ...TEST_CREDENTIALS, secretAccessKey: 'nope' }),
    );
    assert.equal(wrongKey.status, 403);

    const wrongRegion = await openSocket(session.StreamUrl, await signUpgrade(session.StreamUrl, TEST_CREDENTIALS, 'eu-west-1'));
    assert.equal(wrongRegion.status, 403);

    const good = await openSocket(session.StreamUrl, await signUpgrade(session.StreamUrl));
    assert.ok(good.ws, 'a correctly signed upgrade opens');
    good.ws.terminate();
    assert.equal(fake.records.rejectedUpgrades.length, 4);
    await fake.waitFor(() => fake.records.connections.length === 1, 2000, 'connection record');
    assert.equal(fake.records.connections[0]!.signatureOk, true);
  });

  it('closes with 1003 when the first frame has no valid token', async () => {
    const fake = await fakeWith();
    const session = await startSession(fake, echo.port);
    for (const token of ['', 'not-the-token']) {
      const opened = await openSocket(session.StreamUrl, await signUpgrade(session.StreamUrl));
      assert.ok(opened.ws);
      const closed = new Promise<{ code: number; reason: string }>((resolve) =>
        opened.ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
      );
      opened.ws.send(encodeOpenDataChannelInput({ requestId: 'r', tokenValue: token, clientId: 'c', clientVersion: '1.2.764.0' }));
      const { code, reason } = await closed;
      assert.equal(code, 1003);
      assert.equal(reason, `Channel ${session.SessionId}: request to open data channel does not contain token.`);
    }
    assert.deepEqual(fake.records.connections.map((c) => c.tokenOk), [false, false]);
  });

  it('sends channel_closed and closes 1000 when the target closes (after its bytes are acked)', async () => {
    const banner = await startTcpTarget((socket) => socket.end('SSH-2.0-fake\r\n'));
    cleanups.push(() => banner.close());
    const fake = await fakeWith();
    const { session, client } = await connected(fake, banner.port);
    await client.waitFor(() => client.closed !== undefined, 5000, 'socket close');
    assert.equal(client.received.toString(), 'SSH-2.0-fake\r\n');
    assert.deepEqual(client.channelClosed, { output: '' });
    assert.equal(client.closed!.code, 1000);
    const closedFrame = client.frames.find((f) => f.messageType === MessageType.channelClosed)!;
    assert.equal(closedFrame.sequenceNumber, 0);
    assert.equal(closedFrame.payloadType, 0);
    assert.deepEqual(fake.records.sessionEnds, [{ sessionId: session.SessionId, reason: 'target-eof', output: '' }]);
  });

  it('reports a failed dial in channel_closed', async () => {
    const closedTarget = await startTcpTarget();
    const deadPort = closedTarget.port;
    await closedTarget.close();
    const fake = await fakeWith();
    const { client } = await connected(fake, deadPort);
    await client.waitFor(() => client.channelClosed !== undefined, 5000, 'channel_closed');
    assert.match(client.channelClosed!.output, /^Unable to connect to specified port: dial tcp 127\.0\.0\.1:\d+: connect: connection refused$/);
    assert.equal(fake.records.sessionEnds[0]!.reason, 'dial-failed');
  });

  it('fails the session when the HandshakeResponse reports a failed action', async () => {
    const fake = await fakeWith();
    const { client } = await connected(fake, echo.port, { handshakeStatus: 2 });
    await client.waitFor(() => client.closed !== undefined, 5000, 'close');
    assert.match(client.channelClosed!.output, /Handshake failed: SessionType failed with status 2/);
    assert.equal(fake.records.sessionEnds[0]!.reason, 'handshake-failed');
  });

  it('times out a missing HandshakeResponse', async () => {
    const fake = await fakeWith({ handshakeTimeoutMs: 200 });
    const { client } = await connected(fake, echo.port, { handshakeStatus: false });
    await client.waitFor(() => client.channelClosed !== undefined, 5000, 'channel_closed');
    assert.match(client.channelClosed!.output, /^Handshake timed out/);
  });

  it('ends the session on the TerminateSession flag and records it', async () => {
    const fake = await fakeWith();
    const { session, client } = await connected(fake);
    await client.waitFor(() => client.handshakeComplete, 5000, 'HandshakeComplete');
    const seq = client.sendFlag(FlagValue.terminateSession);
    await client.waitFor(() => client.closed !== undefined, 5000, 'close');
    assert.ok(client.acksReceived.includes(seq), 'flag acked before the close');
    assert.deepEqual(fake.records.flags, [
      { sessionId: session.SessionId, flag: 2, name: 'TerminateSession', sequenceNumber: seq, afterEnd: false, processed: true },
    ]);
    assert.equal(fake.records.sessionEnds[0]!.reason, 'terminate-flag');
    assert.equal(client.closed!.code, 1000);
  });

  it('DisconnectToPort closes the destination and ends an SSH-type session', async () => {
    const fake = await fakeWith();
    const { session, client } = await connected(fake);
    await client.waitFor(() => client.handshakeComplete, 5000, 'HandshakeComplete');
    const seq = client.sendFlag(FlagValue.disconnectToPort);
    await client.waitFor(() => client.closed !== undefined, 5000, 'close');
    assert.deepEqual(fake.records.flags, [
      { sessionId: session.SessionId, flag: 1, name: 'DisconnectToPort', sequenceNumber: seq, afterEnd: false, processed: true },
    ]);
    assert.equal(fake.records.sessionEnds[0]!.reason, 'disconnect-to-port');
  });

  it('ignores acks for sequences it never sent', async () => {
    const fake = await fakeWith();
    const { client } = await connected(fake);
    await client.waitFor(() => client.handshakeComplete, 5000, 'HandshakeComplete');
    client.sendRaw(
      encodeFrame({
        messageType: MessageType.acknowledge,
        sequenceNumber: 0,
        flags: 3,
        messageId: randomMessageId(),
        payloadType: 0,
        payload: encodeAcknowledgement(MessageType.outputStreamData, randomMessageId(), 999),
      }),
    );
    client.sendData(Buffer.from('after a stray ack'));
    await client.waitFor(() => client.received.toString() === 'after a stray ack', 5000, 'echo');
    assert.equal(fake.records.sessionEnds.length, 0);
  });

  it('TerminateSession API sends channel_closed on the live socket', async () => {
    const fake = await fakeWith();
    const { session, client } = await connected(fake);
    await client.waitFor(() => client.handshakeComplete, 5000, 'HandshakeComplete');
    const api = ssmClient(fake);
    await api.send(new TerminateSessionCommand({ SessionId: session.SessionId }));
    api.destroy();
    await client.waitFor(() => client.closed !== undefined, 5000, 'close');
    assert.ok(client.channelClosed);
    assert.equal(fake.records.sessionEnds[0]!.reason, 'terminate-api');
  });

  it('ends an idle session with the real idle-timeout text', async () => {
    const fake = await fakeWith({ idleTimeoutMs: 300 });
    const { client } = await connected(fake);
    await client.waitFor(() => client.channelClosed !== undefined, 5000, 'idle channel_closed');
    assert.equal(client.channelClosed!.output, 'Your session timed out due to inactivity and has been terminated.');
  });

  it('sends publication messages when asked', async () => {
    const fake = await fakeWith({ sendPublicationMessages: { intervalMs: 50 } });
    const { client } = await connected(fake);
    await client.waitFor(
      () =>
        client.frames.some((f) => f.messageType === MessageType.pausePublication) &&
        client.frames.some((f) => f.messageType === MessageType.startPublication),
      5000,
      'pause and start publication',
    );
    client.sendData(Buffer.from('still works'));
    await client.waitFor(() => client.received.toString() === 'still works', 5000, 'echo');
  });

  it('realistic pacing sleeps about 1 ms per message', async () => {
    const fake = await fakeWith({ agentPacing: 'realistic' });
    const { client } = await connected(fake);
    await client.waitFor(() => client.handshakeComplete, 5000, 'HandshakeComplete');
    const payload = randomBytes(128 * 1024);
    const started = Date.now();
    client.sendData(payload);
    await client.waitFor(() => client.receivedBytes >= payload.length, 20_000, 'echo');
    assert.ok(Date.now() - started >= 100, '128 messages at ≥1 ms each');
    assert.equal(sha256(client.received), sha256(payload));
  });
});

describe('fake SSM faults', () => {
  let echo: TcpTarget;
  before(async () => {
    echo = await startTcpTarget();
  });
  after(() => echo.close());

  async function echoThrough(options: FakeSsmOptions, bytes: number) {
    const fake = await startFakeSsm(options);
    const session = await startSession(fake, echo.port);
    const client = await ScriptedClient.connect(session.StreamUrl, session.TokenValue, { resendAfterMs: 100 });
    try {
      await client.waitFor(() => client.handshakeComplete, 10_000, 'HandshakeComplete');
      const payload = randomBytes(bytes);
      client.sendData(payload);
      await client.waitFor(() => client.receivedBytes >= payload.length, 60_000, 'echo');
      assert.equal(sha256(client.received), sha256(payload));
      return { fake, client, session };
    } finally {
      client.close();
      await fake.close();
    }
  }

  it('drop/duplicate/reorder in both directions: counts move, data arrives intact', async () => {
    const directions = { drop: 0.03, duplicate: 0.03, reorder: 0.03 };
    const { fake } = await echoThrough(
      { faults: { seed: 7, serverToClient: directions, clientToServer: directions }, resendAllExpired: true },
      128 * 1024,
    );
    for (const direction of [fake.records.serverToClient, fake.records.clientToServer]) {
      assert.ok(direction.dropped > 0, 'dropped');
      assert.ok(direction.duplicated > 0, 'duplicated');
      assert.ok(direction.reordered > 0, 'reordered');
    }
    assert.ok(fake.records.serverToClient.retransmitted > 0);
    assert.ok(fake.records.clientToServer.duplicatesReacked > 0);
  });

  it('the same seed gives the same fault decisions', async () => {
    const patterns: string[] = [];
    for (let run = 0; run < 2; run++) {
      const fake = await startFakeSsm({ faults: { seed: 42 } });
      const session = await startSession(fake, echo.port);
      const client = await ScriptedClient.connect(session.StreamUrl, session.TokenValue, { resendAfterMs: 0 });
      try {
        await client.waitFor(() => client.handshakeComplete, 5000, 'HandshakeComplete');
        await new Promise((resolve) => setTimeout(resolve, 50)); // dial
        // Knobs are read live: switch drops on now, send 60 unretransmitted messages.
        fake.options.faults.clientToServer = { drop: 0.2 };
        const first = client.sendStream(PayloadType.output, Buffer.from('x'));
        for (let i = 1; i < 60; i++) client.sendStream(PayloadType.output, Buffer.from('x'));
        await new Promise((resolve) => setTimeout(resolve, 300));
        const acked = new Set(client.acksReceived);
        patterns.push(Array.from({ length: 60 }, (_, i) => (acked.has(first + i) ? '1' : '0')).join(''));
        assert.ok(fake.records.clientToServer.dropped > 0);
      } finally {
        client.close();
        await fake.close();
      }
    }
    assert.equal(patterns[0], patterns[1]);
    assert.match(patterns[0]!, /0/);
  });

  it('corruptDigestEvery makes the client drop frames that are then resent', async () => {
    const { fake, client } = await echoThrough({ faults: { corruptDigestEvery: 7 } }, 64 * 1024);
    assert.ok(fake.records.serverToClient.corrupted > 0);
    assert.ok(client.invalidFrames > 0);
  });

  it('recycleAfterBytes closes 1000 "Bye"; ResumeSession + reconnect continues both streams', async () => {
    const fake = await startFakeSsm({ recycleAfterBytes: 100 * 1024 });
    const session = await startSession(fake, echo.port);
    const client = await ScriptedClient.connect(session.StreamUrl, session.TokenValue, { resendAfterMs: 100 });
    const api = ssmClient(fake);
    try {
      await client.waitFor(() => client.handshakeComplete, 5000, 'HandshakeComplete');
      // Stream in 64 KiB pieces (each echoed before the next) so that new bytes keep flowing on
      // every socket; one burst could be fully delivered from the early-arrival buffer on the first.
      const payload = randomBytes(512 * 1024);
      let reconnects = 0;
      const deadline = Date.now() + 60_000;
      for (let offset = 0; offset < payload.length; offset += 64 * 1024) {
        client.sendData(payload.subarray(offset, offset + 64 * 1024));
        while (client.receivedBytes < offset + 64 * 1024) {
          assert.ok(Date.now() < deadline, 'echo finished in time');
          if (client.closed) {
            assert.deepEqual(client.closed, { code: 1000, reason: 'Bye' });
            const resumed = await api.send(new ResumeSessionCommand({ SessionId: session.SessionId }));
            await client.reconnect(resumed.StreamUrl!, resumed.TokenValue!);
            reconnects++;
          }
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
      }
      assert.ok(reconnects >= 3, `reconnected ${reconnects} times; connections ${JSON.stringify(fake.records.connections.map((c) => [c.closeCode, c.closeReason]))}; c2s ${fake.records.clientToServer.streamBytes} s2c ${fake.records.serverToClient.streamBytes}`);
      assert.equal(sha256(client.received), sha256(payload));
      assert.equal(fake.records.connections.length, reconnects + 1);
      assert.ok(fake.records.connections.every((c) => c.tokenOk && c.clientId === client.clientId));
      assert.equal(fake.records.handshakeResponses.length, 1, 'no second handshake after reconnect');
    } finally {
      api.destroy();
      client.close();
      await fake.close();
    }
  });
});
