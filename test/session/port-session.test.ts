import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { PassThrough, Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import { DataChannel } from '../../src/channel/data-channel.js';
import { SsmProxyError } from '../../src/errors.js';
import { createLogger } from '../../src/log.js';
import {
  decodeFlag,
  decodeHandshakeResponse,
  encodeChannelClosed,
  encodeFrame,
  encodeHandshakeComplete,
  encodeHandshakeRequest,
  HeaderFlag,
  MessageType,
  PayloadType,
  randomMessageId,
  type Frame,
} from '../../src/protocol/index.js';
import { PortSession } from '../../src/session/port-session.js';
import { ManualScheduler } from '../helpers/manual-scheduler.js';

/** A scripted agent: its own DataChannel, wired to the session through synchronous sinks. */
function setup(options: { sessionType?: string; output?: Writable; handshakeTimeoutMs?: number } = {}) {
  const scheduler = new ManualScheduler();
  const logLines: string[] = [];
  const log = createLogger({ verbosity: 2, write: (line) => logLines.push(line) });
  const input = new PassThrough();
  const stdout: Buffer[] = [];
  const output =
    options.output ??
    new Writable({
      write(chunk, _encoding, callback) {
        stdout.push(chunk);
        callback();
      },
    });
  const session = new PortSession({
    input,
    output,
    scheduler,
    log,
    clientVersion: '1.2.764.0',
    target: 'i-0123456789abcdef0',
    handshakeTimeoutMs: options.handshakeTimeoutMs ?? 30_000,
  });
  const fromClient: Frame[] = [];
  const agent = new DataChannel({
    outgoingMessageType: MessageType.outputStreamData,
    incomingMessageType: MessageType.inputStreamData,
    scheduler,
    handler: {
      onStreamMessage: (frame) => {
        fromClient.push({ ...frame, payload: Buffer.from(frame.payload) });
        return true;
      },
      onControlMessage: () => {},
      onWritable: () => {},
      onProtocolError: () => {},
      onStalled: () => {},
    },
  });
  session.attach({ sendFrame: (frame) => agent.receive(frame) });
  agent.attach({ sendFrame: (frame) => session.receive(frame) });
  const ended = session.run();
  const handshake = (sessionType = options.sessionType ?? 'Port') => {
    agent.write(
      PayloadType.handshakeRequest,
      encodeHandshakeRequest({
        agentVersion: '3.3.987.0',
        requestedClientActions: [
          { actionType: 'SessionType', actionParameters: { SessionType: sessionType, Properties: { portNumber: '22' } } },
        ],
      }),
    );
  };
  const complete = () =>
    agent.write(PayloadType.handshakeComplete, encodeHandshakeComplete({ handshakeTimeToCompleteNs: 1_500_000, customerMessage: '' }));
  const sendChannelClosed = (output: string) =>
    session.receive(
      encodeFrame({
        messageType: MessageType.channelClosed,
        sequenceNumber: 0,
        flags: HeaderFlag.ack,
        messageId: randomMessageId(),
        payloadType: PayloadType.none,
        payload: encodeChannelClosed({ messageId: 'x', createdDate: 'now', destinationId: 'i-0123456789abcdef0', sessionId: 's', output }),
      }),
    );
  return { scheduler, session, agent, input, stdout, fromClient, ended, handshake, complete, sendChannelClosed, logLines };
}

const sha = (buffers: Buffer[]) => createHash('sha256').update(Buffer.concat(buffers)).digest('hex');

/** A stdout that takes 1 ms per write and says "full" above 2 KiB, recording what it got. */
function slowStdout(): { received: Buffer[]; slow: Writable } {
  const received: Buffer[] = [];
  const slow = new Writable({
    highWaterMark: 2048,
    write(chunk, _encoding, callback) {
      received.push(chunk);
      setTimeout(callback, 1);
    },
  });
  return { received, slow };
}

describe('PortSession', () => {
  it('answers a Port handshake with success and the claimed client version', async () => {
    const t = setup();
    t.handshake();
    const response = t.fromClient.find((f) => f.payloadType === PayloadType.handshakeResponse);
    assert.ok(response, 'a HandshakeResponse was sent');
    assert.equal(response.sequenceNumber, 0);
    const decoded = decodeHandshakeResponse(response.payload);
    assert.ok(decoded.ok);
    assert.equal(decoded.value.clientVersion, '1.2.764.0');
    assert.deepEqual(decoded.value.processedClientActions.map((a) => [a.actionType, a.actionStatus]), [['SessionType', 1]]);
    assert.equal(decoded.value.errors, null);
    t.session.fail(new SsmProxyError('internal', 'test over'));
    await assert.rejects(t.ended);
  });

  it('pipes stdin to the agent in chunks of at most 1024 bytes and agent output to stdout', async () => {
    const t = setup();
    t.handshake();
    t.complete();
    const upload = randomBytes(10_000);
    t.input.write(upload);
    await tick();
    t.scheduler.advance(10);
    const data = t.fromClient.filter((f) => f.payloadType === PayloadType.output);
    assert.ok(data.every((f) => f.payload.length <= 1024));
    assert.equal(sha(data.map((f) => f.payload)), sha([upload]));

    const download = [randomBytes(1024), randomBytes(1024), randomBytes(17)];
    for (const chunk of download) t.agent.write(PayloadType.output, chunk);
    await tick();
    assert.equal(sha(t.stdout), sha(download));
    t.session.fail(new SsmProxyError('internal', 'test over'));
    await assert.rejects(t.ended);
  });

  it('does not read stdin before HandshakeComplete', async () => {
    const t = setup();
    t.input.write('too early');
    await tick();
    t.handshake();
    await tick();
    assert.equal(t.fromClient.filter((f) => f.payloadType === PayloadType.output).length, 0);
    t.complete();
    await tick();
    const data = t.fromClient.filter((f) => f.payloadType === PayloadType.output);
    assert.equal(Buffer.concat(data.map((f) => f.payload)).toString(), 'too early');
    t.session.fail(new SsmProxyError('internal', 'test over'));
    await assert.rejects(t.ended);
  });

  it('refuses a non-Port session type and fails with a protocol error', async () => {
    const t = setup({ sessionType: 'Standard_Stream' });
    t.handshake();
    await assert.rejects(t.ended, (error: SsmProxyError) => error.kind === 'protocol' && /only speaks Port sessions/.test(error.message));
    const response = decodeHandshakeResponse(t.fromClient.find((f) => f.payloadType === PayloadType.handshakeResponse)!.payload);
    assert.ok(response.ok);
    assert.equal(response.value.processedClientActions[0]!.actionStatus, 2);
  });

  it('times out a handshake that never completes', async () => {
    const t = setup({ handshakeTimeoutMs: 5000 });
    t.handshake();
    t.scheduler.advance(4900);
    t.scheduler.advance(200);
    await assert.rejects(t.ended, (error: SsmProxyError) => error.kind === 'timeout' && /handshake within 5 s/.test(error.message));
  });

  it('on stdin EOF delivers everything, then sends the TerminateSession flag', async () => {
    const t = setup();
    t.handshake();
    t.complete();
    t.input.end(Buffer.from('last words'));
    for (let i = 0; i < 20; i++) {
      await tick();
      t.scheduler.advance(25);
    }
    const end = await t.ended;
    assert.deepEqual(end, { reason: 'input-ended' });
    const last = t.fromClient.at(-1)!;
    assert.equal(last.payloadType, PayloadType.flag);
    assert.deepEqual(decodeFlag(last.payload), { ok: true, value: 2 });
    assert.equal(t.fromClient.at(-2)!.payload.toString(), 'last words');
  });

  it('ends with the service text on channel_closed', async () => {
    const t = setup();
    t.handshake();
    t.complete();
    t.sendChannelClosed('Your session timed out due to inactivity and has been terminated.');
    const end = await t.ended;
    assert.deepEqual(end, { reason: 'closed-by-service', output: 'Your session timed out due to inactivity and has been terminated.' });
    assert.ok(t.logLines.some((l) => l.includes('timed out due to inactivity')));
  });

  it('respects stdout back-pressure without losing or reordering bytes', async () => {
    const { received, slow } = slowStdout();
    const t = setup({ output: slow });
    t.handshake();
    t.complete();
    const download = Array.from({ length: 300 }, () => randomBytes(1024));
    for (const chunk of download) t.agent.write(PayloadType.output, chunk);
    for (let i = 0; i < 2000 && received.length < download.length; i++) {
      await new Promise((resolve) => setTimeout(resolve, 1));
      t.scheduler.advance(60);
    }
    assert.equal(sha(received), sha(download));
    t.session.fail(new SsmProxyError('internal', 'test over'));
    await assert.rejects(t.ended);
  });

  it('on channel_closed, still delivers everything it acknowledged while stdout was slow', async () => {
    const { received, slow } = slowStdout();
    const t = setup({ output: slow });
    t.handshake();
    t.complete();
    const download = Array.from({ length: 200 }, () => randomBytes(1024));
    for (const chunk of download) t.agent.write(PayloadType.output, chunk);
    assert.equal(t.agent.unackedCount, 0, 'all acknowledged, most of it still buffered');
    t.sendChannelClosed('');
    const ended = t.ended;
    for (let i = 0; i < 2000 && received.length < download.length; i++) {
      await new Promise((resolve) => setTimeout(resolve, 1));
      t.scheduler.advance(20);
    }
    assert.deepEqual(await ended, { reason: 'closed-by-service', output: '' });
    assert.equal(Buffer.concat(received).length, 200 * 1024);
    assert.equal(sha(received), sha(download));
  });
});
