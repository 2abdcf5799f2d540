import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { decodeFlag, decodeHandshakeResponse, PayloadType } from '../../src/protocol/index.js';
import { engineWorld } from './engine-harness.js';

const sha = (buffers: Buffer[]) => createHash('sha256').update(Buffer.concat(buffers)).digest('hex');

/** A stdout that takes 1 ms per write and says "full" above 2 KiB, recording what it got. */
function slowStdout(): { received: Buffer[]; slow: Writable } {
  const received: Buffer[] = [];
  const slow = new Writable({
    highWaterMark: 2048,
    write(chunk: Buffer, _encoding, callback) {
      received.push(Buffer.from(chunk)); // the writer reuses its buffers once a write is done
      setTimeout(callback, 1);
    },
  });
  return { received, slow };
}

/** Moved from the PortSession tests: the same assertions, now through runSession and the port kind. */
describe('Port over stdio on the session engine', () => {
  it('answers a Port handshake with success and the claimed client version', async () => {
    const t = engineWorld();
    await t.settle();
    t.sendHandshake();
    const response = t.fromClient.find((f) => f.payloadType === PayloadType.handshakeResponse);
    assert.ok(response, 'a HandshakeResponse was sent');
    assert.equal(response.sequenceNumber, 0);
    const decoded = decodeHandshakeResponse(response.payload);
    assert.ok(decoded.ok);
    assert.equal(decoded.value.clientVersion, '1.2.764.0');
    assert.deepEqual(decoded.value.processedClientActions.map((a) => [a.actionType, a.actionStatus]), [['SessionType', 1]]);
    assert.equal(decoded.value.errors, null);
    t.signal('SIGINT');
    assert.equal((await t.outcome).exitCode, 130);
  });

  it('pipes stdin to the agent in chunks of at most 1024 bytes and agent output to stdout', async () => {
    const t = engineWorld();
    await t.settle();
    t.sendHandshake();
    t.complete();
    const upload = randomBytes(10_000);
    t.input.write(upload);
    await t.settle();
    t.scheduler.advance(10);
    const data = t.fromClient.filter((f) => f.payloadType === PayloadType.output);
    assert.ok(data.every((f) => f.payload.length <= 1024));
    assert.equal(sha(data.map((f) => f.payload)), sha([upload]));

    const download = [randomBytes(1024), randomBytes(1024), randomBytes(17)];
    for (const chunk of download) t.agent.write(PayloadType.output, chunk);
    await t.settle();
    assert.equal(sha(t.stdout), sha(download));
    t.signal('SIGTERM');
    await t.runFor(2000);
    assert.equal((await t.outcome).exitCode, 143);
  });

  it('does not read stdin before HandshakeComplete', async () => {
    const t = engineWorld();
    await t.settle();
    t.input.write('too early');
    await t.settle();
    t.sendHandshake();
    await t.settle();
    assert.equal(t.fromClient.filter((f) => f.payloadType === PayloadType.output).length, 0);
    t.complete();
    await t.settle();
    const data = t.fromClient.filter((f) => f.payloadType === PayloadType.output);
    assert.equal(Buffer.concat(data.map((f) => f.payload)).toString(), 'too early');
    t.signal('SIGTERM');
    await t.runFor(2000);
  });

  it('refuses a non-Port session type and fails with a protocol error', async () => {
    const t = engineWorld();
    await t.settle();
    t.sendHandshake([{ actionType: 'SessionType', actionParameters: { SessionType: 'Standard_Stream', Properties: {} } }]);
    await t.runFor(2000);
    const { end, exitCode } = await t.outcome;
    assert.ok(end.reason === 'failed' && end.error.kind === 'protocol' && /only speaks Port sessions/.test(end.error.message), JSON.stringify(end));
    assert.equal(exitCode, 6);
    const response = decodeHandshakeResponse(t.fromClient.find((f) => f.payloadType === PayloadType.handshakeResponse)!.payload);
    assert.ok(response.ok);
    assert.equal(response.value.processedClientActions[0]!.actionStatus, 2);
  });

  it('times out a handshake that never completes', async () => {
    const t = engineWorld({ timeouts: { handshakeMs: 5000 } });
    await t.settle();
    t.sendHandshake();
    t.scheduler.advance(4900);
    await t.settle();
    t.scheduler.advance(200);
    await t.runFor(2000);
    const { end, exitCode } = await t.outcome;
    assert.ok(end.reason === 'failed' && end.error.kind === 'timeout' && /handshake within 5 s/.test(end.error.message), JSON.stringify(end));
    assert.equal(exitCode, 7);
  });

  it('on stdin EOF delivers everything, then sends the TerminateSession flag', async () => {
    const t = engineWorld();
    await t.settle();
    t.sendHandshake();
    t.complete();
    t.input.end(Buffer.from('last words'));
    await t.runFor(1000, 25);
    const { end, exitCode } = await t.outcome;
    assert.deepEqual(end, { reason: 'input-ended' });
    assert.equal(exitCode, 0);
    const last = t.fromClient.at(-1)!;
    assert.equal(last.payloadType, PayloadType.flag);
    assert.deepEqual(decodeFlag(last.payload), { ok: true, value: 2 });
    assert.equal(t.fromClient.at(-2)!.payload.toString(), 'last words');
  });

  it('ends with the service text on channel_closed', async () => {
    const t = engineWorld();
    await t.settle();
    t.sendHandshake();
    t.complete();
    t.sendChannelClosed('Your session timed out due to inactivity and has been terminated.');
    await t.runFor(1000);
    const { end, exitCode } = await t.outcome;
    assert.deepEqual(end, { reason: 'closed-by-service', output: 'Your session timed out due to inactivity and has been terminated.' });
    assert.equal(exitCode, 8);
    assert.ok(t.logLines.some((l) => l.includes('timed out due to inactivity')));
  });

  it('respects stdout back-pressure without losing or reordering bytes', async () => {
    const { received, slow } = slowStdout();
    const t = engineWorld({ output: slow });
    await t.settle();
    t.sendHandshake();
    t.complete();
    const download = Array.from({ length: 300 }, () => randomBytes(1024));
    for (const chunk of download) t.agent.write(PayloadType.output, chunk);
    for (let i = 0; i < 2000 && Buffer.concat(received).length < 300 * 1024; i++) {
      await new Promise((resolve) => setTimeout(resolve, 1));
      t.scheduler.advance(60);
    }
    assert.equal(sha(received), sha(download));
    t.signal('SIGTERM');
    await t.runFor(2000);
  });

  it('on channel_closed, still delivers everything it acknowledged while stdout was slow', async () => {
    const { received, slow } = slowStdout();
    const t = engineWorld({ output: slow });
    await t.settle();
    t.sendHandshake();
    t.complete();
    const download = Array.from({ length: 200 }, () => randomBytes(1024));
    for (const chunk of download) t.agent.write(PayloadType.output, chunk);
    assert.equal(t.agent.unackedCount, 0, 'all acknowledged, most of it still buffered');
    t.sendChannelClosed('');
    for (let i = 0; i < 2000 && Buffer.concat(received).length < download.length * 1024; i++) {
      await new Promise((resolve) => setTimeout(resolve, 1));
      t.scheduler.advance(20);
    }
    await t.runFor(1000);
    assert.deepEqual((await t.outcome).end, { reason: 'closed-by-service', output: '' });
    assert.equal(Buffer.concat(received).length, 200 * 1024);
    assert.equal(sha(received), sha(download));
  });
});
