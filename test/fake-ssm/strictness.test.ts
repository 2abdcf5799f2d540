/**
 * The fake is as strict as AWS, no stricter: tokens open only their own live session and only
 * shortly after issue (docs/protocol.md §3.2), the open frame's other fields are recorded against
 * the service model but not enforced, and after a reconnect the agent resends like the real one —
 * its oldest unacknowledged message, one per tick (§6.4) — never everything at once.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, afterEach, before, describe, it } from 'node:test';
import { ResumeSessionCommand, TerminateSessionCommand } from '@aws-sdk/client-ssm';
import type { WebSocket } from 'ws';
import { MessageType, PayloadType } from '../../src/protocol/index.js';
import { startFakeSsm, type FakeSsm, type FakeSsmOptions } from './index.js';
import { openSocket, ScriptedClient, signUpgrade } from './scripted-client.js';
import { ssmClient, startSession, startTcpTarget, type TcpTarget } from './test-helpers.js';

const NO_TOKEN = (sessionId: string) => `Channel ${sessionId}: request to open data channel does not contain token.`;

describe('fake SSM: tokens and the open frame', () => {
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

  /** Opens `streamUrl` and sends `openFrame`; resolves how the socket ended up (open after 300 ms, or closed). */
  async function tryOpen(streamUrl: string, openFrame: string): Promise<{ code: number; reason: string } | 'open'> {
    const opened = await openSocket(streamUrl, await signUpgrade(streamUrl));
    assert.ok(opened.ws, 'the upgrade itself is accepted');
    const ws: WebSocket = opened.ws;
    cleanups.push(() => ws.terminate());
    const outcome = new Promise<{ code: number; reason: string } | 'open'>((resolve) => {
      ws.once('close', (code, reason) => resolve({ code, reason: reason.toString('utf8') }));
      setTimeout(() => resolve('open'), 300);
    });
    ws.send(openFrame);
    return outcome;
  }

  function openFrame(token: string, fields: Record<string, string> = {}): string {
    return JSON.stringify({
      MessageSchemaVersion: '1.0',
      RequestId: randomUUID(),
      TokenValue: token,
      ClientId: randomUUID(),
      ClientVersion: '1.2.764.0',
      ...fields,
    });
  }

  it('a token opens its own session more than once while fresh (the plugin retries its first open with it)', async () => {
    const fake = await fakeWith();
    const session = await startSession(fake, echo.port);
    assert.equal(await tryOpen(session.StreamUrl, openFrame(session.TokenValue)), 'open');
    assert.equal(await tryOpen(session.StreamUrl, openFrame(session.TokenValue)), 'open');
    assert.deepEqual(fake.records.connections.map((c) => c.tokenOk), [true, true]);
  });

  it('refuses with 1003 a token past its lifetime, one for another session, and any token of an ended session', async () => {
    const fake = await fakeWith({ tokenLifetimeMs: 1500 });
    const first = await startSession(fake, echo.port);
    const second = await startSession(fake, echo.port);

    assert.deepEqual(await tryOpen(second.StreamUrl, openFrame(first.TokenValue)), { code: 1003, reason: NO_TOKEN(second.SessionId) });
    await new Promise((resolve) => setTimeout(resolve, 1800));
    assert.deepEqual(await tryOpen(first.StreamUrl, openFrame(first.TokenValue)), { code: 1003, reason: NO_TOKEN(first.SessionId) });

    // A fresh token from ResumeSession opens again; once the session is terminated nothing does.
    const api = ssmClient(fake);
    cleanups.push(() => api.destroy());
    const resumed = await api.send(new ResumeSessionCommand({ SessionId: first.SessionId }));
    assert.equal(await tryOpen(resumed.StreamUrl!, openFrame(resumed.TokenValue!)), 'open');
    await api.send(new TerminateSessionCommand({ SessionId: first.SessionId }));
    assert.deepEqual(await tryOpen(first.StreamUrl, openFrame(resumed.TokenValue!)), { code: 1003, reason: NO_TOKEN(first.SessionId) });

    assert.deepEqual(
      fake.records.connections.map((c) => c.tokenRejection),
      ['unknown', 'expired', undefined, 'session-ended'],
    );
  });

  it('refuses a missing token with the text MGS uses', async () => {
    const fake = await fakeWith();
    const session = await startSession(fake, echo.port);
    const { TokenValue: _token, ...rest } = JSON.parse(openFrame('x')) as Record<string, string>;
    assert.deepEqual(await tryOpen(session.StreamUrl, JSON.stringify(rest)), { code: 1003, reason: NO_TOKEN(session.SessionId) });
    assert.equal(fake.records.connections[0]!.tokenRejection, 'missing');
  });

  it('records, but does not enforce, the service model of the other fields', async () => {
    const fake = await fakeWith();
    const session = await startSession(fake, echo.port);
    const sloppy = JSON.stringify({ RequestId: 'short', TokenValue: session.TokenValue, ClientId: 'c' });
    assert.equal(await tryOpen(session.StreamUrl, sloppy), 'open', 'AWS is not known to refuse these');
    assert.deepEqual(fake.records.connections[0]!.openFrameIssues, [
      'MessageSchemaVersion missing',
      'RequestId shorter than 16',
      'ClientVersion missing',
    ]);
    assert.equal(await tryOpen(session.StreamUrl, openFrame(session.TokenValue)), 'open');
    assert.deepEqual(fake.records.connections[1]!.openFrameIssues, []);
  });
});

describe('fake SSM: resending after a reconnect, like the agent', () => {
  let echo: TcpTarget;
  before(async () => {
    echo = await startTcpTarget();
  });
  after(() => echo.close());

  it('sends only the oldest unacknowledged message per tick on the new socket, then the next once it is acked', async () => {
    const fake = await startFakeSsm();
    const api = ssmClient(fake);
    const session = await startSession(fake, echo.port);
    const client = await ScriptedClient.connect(session.StreamUrl, session.TokenValue);
    try {
      await client.waitFor(() => client.handshakeComplete, 5000, 'HandshakeComplete');
      // Stop acking, make the agent send several data messages, then lose the socket.
      client.acking = false;
      const data = Buffer.alloc(6 * 1024, 0x61);
      client.sendData(data);
      await client.waitFor(() => client.receivedBytes >= data.length, 5000, 'the echo');
      const outputSeqs = () => new Set(client.framesOf(PayloadType.output).map((f) => f.sequenceNumber));
      const unacked = [...outputSeqs()].sort((a, b) => a - b);
      assert.ok(unacked.length >= 6, `at least 6 output messages unacked, got ${unacked.length}`);
      client.dropSocket();

      const resumed = await api.send(new ResumeSessionCommand({ SessionId: session.SessionId }));
      const mark = client.frames.length;
      const resentOnNewSocket = () =>
        client.frames
          .slice(mark)
          .filter((f) => f.messageType === MessageType.outputStreamData && f.payloadType === PayloadType.output);
      await client.reconnect(resumed.StreamUrl!, resumed.TokenValue!);

      // Without acks, for a second only the oldest is ever resent (at most once per RTO).
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const early = resentOnNewSocket();
      assert.ok(early.length >= 1, 'the oldest was resent');
      assert.deepEqual([...new Set(early.map((f) => f.sequenceNumber))], [unacked[0]], 'nothing but the oldest');

      // With acks, the rest follow one per tick (100 ms), in order.
      const ackingFrom = performance.now();
      client.acking = true; // the oldest is acked when its next copy arrives (one RTO, ≤ 1 s)
      await client.waitFor(
        () => unacked.every((seq) => resentOnNewSocket().some((f) => f.sequenceNumber === seq)),
        30_000,
        'every unacked message resent',
      );
      const elapsed = performance.now() - ackingFrom;
      const order = [...new Set(resentOnNewSocket().map((f) => f.sequenceNumber))];
      assert.deepEqual(order, unacked, 'resent oldest first, one after another');
      const remaining = unacked.length - 1;
      assert.ok(elapsed >= remaining * 80, `${remaining} more messages took ${Math.round(elapsed)} ms: one per 100 ms tick`);
    } finally {
      client.close();
      api.destroy();
      await fake.close();
    }
  });
});

describe('fake SSM: reads client frames like the agent', () => {
  let echo: TcpTarget;
  before(async () => {
    echo = await startTcpTarget();
  });
  after(() => echo.close());

  it('accepts (and reports) a wrong digest, a wrong PayloadLength and NUL padding; refuses what the agent refuses', async () => {
    const fake = await startFakeSsm();
    const session = await startSession(fake, echo.port);
    const client = await ScriptedClient.connect(session.StreamUrl, session.TokenValue);
    try {
      await client.waitFor(() => client.handshakeComplete, 5000, 'HandshakeComplete');
      // A tracked (resent) message first: the agent dials the target after the handshake and
      // leaves data unacked until then; the hand-made frames below are sent only once.
      client.sendData(Buffer.from('0'));
      await client.waitFor(() => client.received.toString() === '0', 5000, 'the target connected');
      const counters = fake.records.clientToServer;

      // Refused by the agent's reader: too short, zero CreatedDate, HeaderLength past the end.
      const probe = client.buildStream(999, PayloadType.output, Buffer.from('zz'));
      client.sendRaw(probe.subarray(0, 100));
      const undated = Buffer.from(probe);
      undated.fill(0, 40, 48);
      client.sendRaw(undated);
      const overlong = Buffer.from(probe);
      overlong.writeUInt32BE(500, 0);
      client.sendRaw(overlong);
      await client.waitFor(() => counters.invalid === 2 && counters.wouldHangAgent === 1, 5000, 'three refusals');

      // Accepted as the agent accepts them, each echoed by the target.
      const wrongDigest = client.buildStream(client.reserveSequence(), PayloadType.output, Buffer.from('a'));
      wrongDigest[80] ^= 0xff;
      client.sendRaw(wrongDigest);
      await client.waitFor(() => client.received.toString() === '0a', 5000, 'the echo of a frame with a wrong digest');
      const wrongLength = client.buildStream(client.reserveSequence(), PayloadType.output, Buffer.from('b'));
      wrongLength.writeUInt32BE(7, 116);
      client.sendRaw(wrongLength);
      await client.waitFor(() => client.received.toString() === '0ab', 5000, 'the echo of a frame with a wrong PayloadLength');
      const nulPadded = client.buildStream(client.reserveSequence(), PayloadType.output, Buffer.from('c'));
      nulPadded.fill(0, 4 + 'input_stream_data'.length, 36);
      client.sendRaw(nulPadded);
      await client.waitFor(() => client.received.toString() === '0abc', 5000, 'the echo of a NUL-padded frame');

      assert.equal(counters.digestMismatches, 1);
      assert.equal(counters.payloadLengthMismatches, 1);
      assert.equal(counters.invalid, 2);
      assert.equal(counters.wouldHangAgent, 1);
    } finally {
      client.close();
      await fake.close();
    }
  });
});
