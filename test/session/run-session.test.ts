import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SsmProxyError } from '../../src/errors.js';
import { decodeFlag, decodeHandshakeResponse, encodeFlag, FlagValue, PayloadType, type Frame } from '../../src/protocol/index.js';
import { answerSessionType } from '../../src/session/handshake.js';
import type { SessionControl, SessionKind, SessionKindFactory, StreamStart } from '../../src/session/session-kind.js';
import { engineWorld } from './engine-harness.js';

const flagsSent = (frames: Frame[]) =>
  frames.filter((f) => f.payloadType === PayloadType.flag).map((f) => (decodeFlag(f.payload) as { value: number }).value);

/** Streaming: handshake done, stdin being read. */
async function streaming(world: ReturnType<typeof engineWorld>) {
  await world.settle();
  world.sendHandshake();
  world.complete();
  await world.settle();
}

/** Scheduler time from now until the outcome settles, driving time in 10 ms steps. */
async function timeToEnd(world: ReturnType<typeof engineWorld>, limitMs = 60_000): Promise<number> {
  const from = world.scheduler.now();
  let at: number | undefined;
  void world.outcome.then(() => (at = world.scheduler.now()));
  await world.runFor(limitMs);
  assert.ok(at !== undefined, `the session ended within ${limitMs} ms`);
  return at - from;
}

describe('runSession: how a session ends', () => {
  it('input ended: drains, sends the TerminateSession flag, closes gracefully, no TerminateSession call', async () => {
    const t = engineWorld();
    await streaming(t);
    t.input.end('bye');
    await timeToEnd(t);
    const outcome = await t.outcome;
    assert.deepEqual(outcome.end, { reason: 'input-ended' });
    assert.equal(outcome.exitCode, 0);
    assert.deepEqual(flagsSent(t.fromClient), [FlagValue.terminateSession]);
    assert.deepEqual(t.calls, ['StartSession i-0123456789abcdef0 AWS-StartSSHSession']);
    assert.deepEqual(t.closes, [1000]);
    assert.equal(outcome.sessionId, 's-1');
    assert.equal(outcome.stats?.messagesSent, 3); // handshake response, 'bye', flag
  });

  it('closed by the service with no text: exit 0, no flag, no TerminateSession call', async () => {
    const t = engineWorld();
    await streaming(t);
    t.sendChannelClosed('');
    await timeToEnd(t);
    const outcome = await t.outcome;
    assert.deepEqual(outcome.end, { reason: 'closed-by-service', output: '' });
    assert.equal(outcome.exitCode, 0);
    assert.deepEqual(flagsSent(t.fromClient), []);
    assert.deepEqual(t.calls, ['StartSession i-0123456789abcdef0 AWS-StartSSHSession']);
  });

  it('closed by the service: the socket is closed before output is flushed, so no resume is attempted', async () => {
    let release!: () => void;
    const t = engineWorld({
      kind: (session) => {
        const kind = new ProbeKind(session, 'optional', undefined);
        kind.flushOutput = () => new Promise<void>((resolve) => (release = resolve));
        return kind;
      },
    });
    await t.settle();
    t.agent.write(PayloadType.output, Buffer.from('$ '));
    t.sendChannelClosed('');
    await t.runFor(100);
    assert.deepEqual(t.closes, [300], 'closed while the flush is still pending');
    release();
    await timeToEnd(t);
    assert.deepEqual((await t.outcome).end, { reason: 'closed-by-service', output: '' });
  });

  it('stdout gone (EPIPE): TerminateSession flag and call, exit 0', async () => {
    const t = engineWorld();
    await streaming(t);
    t.output.emit('error', Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
    const ms = await timeToEnd(t);
    const outcome = await t.outcome;
    assert.deepEqual(outcome.end, { reason: 'output-closed' });
    assert.equal(outcome.exitCode, 0);
    assert.deepEqual(flagsSent(t.fromClient), [FlagValue.terminateSession]);
    assert.deepEqual(t.calls.slice(1), ['TerminateSession s-1']);
    assert.deepEqual(t.closes, [300]);
    assert.ok(ms <= 1500, `${ms} ms`);
  });

  it('stdout failing otherwise is an io failure (exit 9)', async () => {
    const t = engineWorld();
    await streaming(t);
    t.output.emit('error', Object.assign(new Error('write EIO'), { code: 'EIO' }));
    await timeToEnd(t);
    const { end, exitCode } = await t.outcome;
    assert.ok(end.reason === 'failed' && end.error.message === 'cannot write to stdout: EIO');
    assert.equal(exitCode, 9);
  });

  it('the agent cannot reach the port (ConnectToPortError flag): network failure, exit 5', async () => {
    const t = engineWorld();
    await streaming(t);
    t.agent.write(PayloadType.flag, encodeFlag(FlagValue.connectToPortError));
    await timeToEnd(t);
    const { end, exitCode } = await t.outcome;
    assert.ok(end.reason === 'failed' && /could not connect to the destination port/.test(end.error.message));
    assert.equal(exitCode, 5);
    assert.deepEqual(t.calls.slice(1), ['TerminateSession s-1']);
  });

  it('the agent stops acknowledging: timeout failure after the stall bound, exit 7', async () => {
    const t = engineWorld({ timeouts: { stallMs: 10_000 } });
    await streaming(t);
    t.deafenAgent();
    t.input.write('into the void');
    const ms = await timeToEnd(t, 30_000);
    const { end, exitCode } = await t.outcome;
    assert.ok(end.reason === 'failed' && /stopped acknowledging data/.test(end.error.message));
    assert.equal(exitCode, 7);
    assert.ok(ms >= 10_000 && ms < 12_000, `${ms} ms`);
  });

  it('StartSession refused: exit 4, no connection, nothing to terminate', async () => {
    const t = engineWorld({ api: { start: new SsmProxyError('access-denied', 'ssm:StartSession on i-0123456789abcdef0 was denied') } });
    await timeToEnd(t);
    const outcome = await t.outcome;
    assert.equal(outcome.exitCode, 4);
    assert.equal(outcome.sessionId, undefined);
    assert.deepEqual(t.calls, ['StartSession i-0123456789abcdef0 AWS-StartSSHSession']);
    assert.equal(t.setup(), undefined, 'no connection was built');
  });

  it('the websocket cannot be opened: network failure (exit 5) and the started session is terminated', async () => {
    const t = engineWorld({ connect: { first: new SsmProxyError('network', 'the data channel at wss://example/s-1 did not complete the websocket upgrade within 30 s') } });
    await timeToEnd(t);
    const { end, exitCode } = await t.outcome;
    assert.ok(end.reason === 'failed' && /websocket upgrade within 30 s/.test(end.error.message));
    assert.equal(exitCode, 5);
    assert.deepEqual(t.calls.slice(1), ['TerminateSession s-1']);
  });

  it('the connection reports the session over (ResumeSession without a token): exit 8, no TerminateSession call', async () => {
    const t = engineWorld();
    await streaming(t);
    t.setup()!.events.onFailure(new SsmProxyError('session-ended', 'the session was terminated by the service and cannot be resumed'));
    await timeToEnd(t);
    assert.equal((await t.outcome).exitCode, 8);
    assert.deepEqual(t.calls.slice(1), []);
  });

  it('the handshake clock starts when the socket opens, not at StartSession', async () => {
    const t = engineWorld({ connect: { first: { afterMs: 5000 } }, timeouts: { handshakeMs: 3000 } });
    const ms = await timeToEnd(t, 20_000);
    const { end, exitCode } = await t.outcome;
    assert.ok(end.reason === 'failed' && /did not complete the session handshake within 3 s/.test(end.error.message), JSON.stringify(end));
    assert.equal(exitCode, 7);
    assert.ok(ms >= 8000 && ms < 8100, `failed after ${ms} ms: 5 s to connect + 3 s`);
  });

  it('channel_closed while draining ends as closed by the service, without the flag', async () => {
    const t = engineWorld();
    await streaming(t);
    t.deafenAgent(); // what we send is not acknowledged: the drain waits
    t.input.end('unacknowledged');
    await t.runFor(500);
    t.sendChannelClosed('Session closed by the agent.');
    const ms = await timeToEnd(t);
    const outcome = await t.outcome;
    assert.deepEqual(outcome.end, { reason: 'closed-by-service', output: 'Session closed by the agent.' });
    assert.equal(outcome.exitCode, 8);
    assert.ok(ms < 100, `the drain was cut short (${ms} ms)`);
    assert.deepEqual(flagsSent(t.fromClient), []);
  });

  it('input ended but nothing is acknowledged: the drain and the flag wait are bounded', async () => {
    const t = engineWorld({ timeouts: { drainAcksMs: 4000, flagAckMs: 1000 } });
    await streaming(t);
    t.deafenAgent();
    t.input.end('lost');
    const ms = await timeToEnd(t);
    assert.deepEqual((await t.outcome).end, { reason: 'input-ended' });
    assert.ok(ms >= 5000 && ms < 5100, `${ms} ms`);
    assert.ok(t.logLines.some((line) => /unacknowledged when the input ended/.test(line)));
  });
});

describe('runSession: a signal cuts every phase short (≤ 1.5 s)', () => {
  const phases: [string, Parameters<typeof engineWorld>[0], (t: ReturnType<typeof engineWorld>) => Promise<void>, string[]][] = [
    ['StartSession on the wire', { api: { start: 'stall' } }, async (t) => t.settle(), []],
    ['the websocket upgrade', { connect: { first: 'stall' } }, async (t) => t.settle(), ['TerminateSession s-1']],
    ['the handshake', {}, async (t) => t.settle(), ['TerminateSession s-1']],
    ['streaming, agent deaf, TerminateSession stalled', { api: { terminate: 'stall' } }, async (t) => {
      await streaming(t);
      t.deafenAgent();
    }, ['TerminateSession s-1']],
    ['draining after stdin EOF', {}, async (t) => {
      await streaming(t);
      t.deafenAgent();
      t.input.end('x');
      await t.runFor(300);
    }, ['TerminateSession s-1']],
  ];
  for (const [phase, world, reach, calls] of phases) {
    it(`during ${phase}`, async () => {
      const t = engineWorld(world);
      await reach(t);
      t.signal('SIGHUP');
      const ms = await timeToEnd(t, 5000);
      const { end, exitCode } = await t.outcome;
      assert.deepEqual(end, { reason: 'signal', signal: 'SIGHUP' });
      assert.equal(exitCode, 129);
      assert.ok(ms <= 1500, `ended ${ms} ms after the signal`);
      assert.deepEqual(t.calls.slice(1), calls);
    });
  }

  it('while streaming, the agent hears the TerminateSession flag before the socket closes', async () => {
    const t = engineWorld();
    await streaming(t);
    t.signal('SIGINT');
    const ms = await timeToEnd(t);
    assert.equal((await t.outcome).exitCode, 130);
    assert.deepEqual(flagsSent(t.fromClient), [FlagValue.terminateSession]);
    assert.ok(ms < 50, `acknowledged at once, so no wait (${ms} ms)`);
  });

  it('before the handshake completed, no flag is sent (the agent would discard it)', async () => {
    const t = engineWorld();
    await t.settle();
    t.sendHandshake();
    t.signal('SIGTERM');
    await timeToEnd(t);
    assert.deepEqual(flagsSent(t.fromClient), []);
    assert.deepEqual(t.calls.slice(1), ['TerminateSession s-1']);
  });
});

/** A kind built for the test: records what the engine calls, answers as told. */
class ProbeKind implements SessionKind {
  readonly name = 'probe';
  readonly events: string[] = [];
  received: Buffer[] = [];
  constructor(
    readonly session: SessionControl,
    readonly handshake: 'required' | 'optional',
    private readonly code: number | undefined,
  ) {}
  answerAction(action: Parameters<SessionKind['answerAction']>[0]) {
    this.events.push(`answer ${action.actionType}`);
    if (action.actionType === 'KMSEncryption') {
      // Like the shell's KMS call: the answer comes later.
      return new Promise<ReturnType<typeof answerSessionType>>((resolve) =>
        this.session.scheduler.setTimeout(() => resolve({ status: 'success', result: { KMSCipherTextKey: 'a2V5', KMSCipherTextHash: null } }), 200),
      );
    }
    return answerSessionType(action, ['Standard_Stream'], (name) => `not ${name}`);
  }
  start(stream: StreamStart) {
    this.events.push(`start ${stream.handshakeCompleted} '${stream.customerMessage}'`);
  }
  receive(payloadType: number, payload: Buffer) {
    this.events.push(`receive ${payloadType}`);
    this.received.push(Buffer.from(payload));
  }
  onWritable() {}
  onStreamState(state: string) {
    this.events.push(`state ${state}`);
  }
  stopInput() {
    this.events.push('stopInput');
  }
  flushOutput() {
    this.events.push('flushOutput');
    return Promise.resolve();
  }
  exitCode() {
    return this.code;
  }
  dispose() {
    this.events.push('dispose');
  }
}

function probe(handshake: 'required' | 'optional', code?: number): { factory: SessionKindFactory; kind: () => ProbeKind } {
  let kind: ProbeKind | undefined;
  return {
    factory: (session) => (kind = new ProbeKind(session, handshake, code)),
    kind: () => kind!,
  };
}

describe('runSession: the kind contract', () => {
  it("an 'optional' kind starts on the agent's first Output without a handshake (a shell without KMS)", async () => {
    const p = probe('optional', 3);
    const t = engineWorld({ kind: p.factory });
    await t.settle();
    t.agent.write(PayloadType.output, Buffer.from('$ '));
    await t.settle();
    assert.deepEqual(p.kind().events, ['state connected', "start false ''", 'receive 1']);
    assert.equal(p.kind().received[0]!.toString(), '$ ');
    p.kind().session.end({ reason: 'input-ended' });
    await timeToEnd(t);
    assert.equal((await t.outcome).exitCode, 3, "the kind's exit code");
    assert.deepEqual(p.kind().events.slice(3), ['stopInput', 'flushOutput', 'dispose']);
  });

  it("a 'required' kind ignores Output before HandshakeComplete", async () => {
    const p = probe('required');
    const t = engineWorld({ kind: p.factory });
    await t.settle();
    t.agent.write(PayloadType.output, Buffer.from('early'));
    await t.settle();
    assert.deepEqual(p.kind().events, ['state connected']);
    t.signal('SIGTERM');
    await timeToEnd(t);
  });

  it('async answers (KMS) are awaited, sent in order with their ActionResult, then HandshakeComplete starts the kind', async () => {
    const p = probe('optional');
    const t = engineWorld({ kind: p.factory });
    await t.settle();
    t.sendHandshake([
      { actionType: 'SessionType', actionParameters: { SessionType: 'Standard_Stream', Properties: {} } },
      { actionType: 'KMSEncryption', actionParameters: { KMSKeyId: 'alias/k', Challenge: 'Y2hhbGxlbmdl' } },
    ]);
    await t.settle();
    assert.equal(t.fromClient.length, 0, 'no answer before KMS answered');
    t.agent.write(PayloadType.output, Buffer.from('not yet'));
    await t.settle();
    t.scheduler.advance(200);
    await t.settle();
    const response = decodeHandshakeResponse(t.fromClient.find((f) => f.payloadType === PayloadType.handshakeResponse)!.payload);
    assert.ok(response.ok);
    assert.deepEqual(
      response.value.processedClientActions.map((a) => [a.actionType, a.actionStatus, a.actionResult]),
      [
        ['SessionType', 1, null],
        ['KMSEncryption', 1, { KMSCipherTextKey: 'a2V5', KMSCipherTextHash: null }],
      ],
    );
    t.agent.write(PayloadType.encChallengeRequest, Buffer.from('{"Challenge":"x"}'));
    t.complete('This session is encrypted using AWS KMS.');
    await t.settle();
    assert.deepEqual(p.kind().events, [
      'state connected',
      'answer SessionType',
      'answer KMSEncryption',
      'receive 8',
      "start true 'This session is encrypted using AWS KMS.'",
    ]);
    t.signal('SIGINT');
    await timeToEnd(t);
  });

  it('reconnects and publication pauses reach the kind', async () => {
    const p = probe('required');
    const t = engineWorld({ kind: p.factory });
    await t.settle();
    t.setup()!.events.onReconnecting?.();
    t.setup()!.events.onConnected?.();
    t.signal('SIGINT');
    await timeToEnd(t);
    assert.deepEqual(p.kind().events.slice(0, 3), ['state connected', 'state reconnecting', 'state connected']);
  });

  it('a kind that throws while answering fails the session with its error', async () => {
    const t = engineWorld({
      kind: (session) => {
        const kind = new ProbeKind(session, 'required', undefined);
        kind.answerAction = () => {
          throw new SsmProxyError('config', 'no KMS key access');
        };
        return kind;
      },
    });
    await t.settle();
    t.sendHandshake();
    await timeToEnd(t);
    assert.equal((await t.outcome).exitCode, 3);
  });

  it('input sent after the session started ending is refused', async () => {
    const p = probe('required');
    const t = engineWorld({ kind: p.factory });
    await t.settle();
    t.sendHandshake([{ actionType: 'SessionType', actionParameters: { SessionType: 'Standard_Stream', Properties: {} } }]);
    t.complete();
    await t.settle();
    assert.equal(p.kind().session.send(PayloadType.output, Buffer.from('ok')), true);
    p.kind().session.end({ reason: 'output-closed' });
    assert.equal(p.kind().session.send(PayloadType.output, Buffer.from('late')), false);
    assert.equal(p.kind().session.hasRoom, false);
    await timeToEnd(t);
    assert.ok(t.fromClient.every((f) => f.payload.toString() !== 'late'));
  });
});
