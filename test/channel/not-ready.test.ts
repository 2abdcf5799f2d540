import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ReliableStream, type ReliableStreamHandler } from '../../src/channel/reliable-stream.js';
import { decodeFrame, encodeAcknowledgeFrame, MessageType, PayloadType } from '../../src/protocol/index.js';
import { ManualScheduler } from '../helpers/manual-scheduler.js';

const ONE_WAY_MS = 5;
const ROUND_TRIP_MS = 2 * ONE_WAY_MS;

const quietHandler: ReliableStreamHandler = {
  onStreamMessage: () => undefined,
  onControlMessage: () => undefined,
  onWritable: () => undefined,
  onProtocolError: () => assert.fail('no protocol errors expected'),
  onStalled: () => undefined,
};

/**
 * The agent's side as docs/protocol.md §5 and §10.2 describe it: handshake messages are taken at
 * once; data in order is refused without an ack ("not ready") until `readyAt`, then processed
 * and acked; duplicates behind the expected number are re-acked, never processed twice.
 */
class AgentPeer {
  expected = 0;
  notReady = 0;
  /** Arrivals per sequence number, and when each was first processed. */
  readonly copies = new Map<number, number>();
  readonly processedAt = new Map<number, number>();

  constructor(
    private readonly scheduler: ManualScheduler,
    private readonly client: ReliableStream,
    public readyAt: number,
  ) {}

  readonly sink = {
    sendFrame: (frame: Buffer) => {
      const copy = Buffer.from(frame);
      this.scheduler.setTimeout(() => this.arrive(copy), ONE_WAY_MS);
    },
  };

  private arrive(data: Buffer): void {
    const decoded = decodeFrame(data);
    assert.ok(decoded.ok);
    const frame = decoded.value;
    this.copies.set(frame.sequenceNumber, (this.copies.get(frame.sequenceNumber) ?? 0) + 1);
    if (frame.sequenceNumber < this.expected) return this.ack(frame); // a duplicate: re-acked
    assert.equal(frame.sequenceNumber, this.expected, 'these tests never reorder');
    const isHandshake = frame.payloadType === PayloadType.handshakeResponse;
    if (!isHandshake && this.scheduler.now() < this.readyAt) {
      this.notReady++;
      return;
    }
    this.processedAt.set(frame.sequenceNumber, this.scheduler.now());
    this.expected++;
    this.ack(frame);
  }

  private ack(frame: { messageType: string; messageId: Buffer; sequenceNumber: number }): void {
    const ack = encodeAcknowledgeFrame(frame);
    this.scheduler.setTimeout(() => this.client.receive(ack), ONE_WAY_MS);
  }
}

/** A client stream after the handshake (one acked message: one RTT sample), and its agent. */
function session(readyAfterMs: number, expectNotReady = true) {
  const scheduler = new ManualScheduler();
  const client = new ReliableStream({
    outgoingMessageType: MessageType.inputStreamData,
    incomingMessageType: MessageType.outputStreamData,
    scheduler,
    handler: quietHandler,
  });
  const agent = new AgentPeer(scheduler, client, Number.POSITIVE_INFINITY);
  client.attach(agent.sink);
  client.write(PayloadType.handshakeResponse, Buffer.from('{}'));
  scheduler.advance(ROUND_TRIP_MS + 1);
  assert.equal(client.unackedCount, 0, 'the handshake response was acked');
  // HandshakeComplete: the agent starts dialling the destination now.
  agent.readyAt = scheduler.now() + readyAfterMs;
  if (expectNotReady) client.expectNotReady();
  return { scheduler, client, agent };
}

describe('ReliableStream: the agent is "not ready" for the first data (docs/protocol.md §10.2)', () => {
  for (const readyAfterMs of [2, 15, 30, 60, 120]) {
    it(`the first message is taken within 2 × the dial time + 3 round trips (agent ready after ${readyAfterMs} ms)`, () => {
      const { scheduler, client, agent } = session(readyAfterMs);
      const sentAt = scheduler.now();
      client.write(PayloadType.output, Buffer.from('SSH-2.0-OpenSSH_9.6\r\n'));
      scheduler.advance(2000);
      const processedAt = agent.processedAt.get(1);
      assert.ok(processedAt !== undefined, 'delivered');
      const bound = 2 * readyAfterMs + 3 * ROUND_TRIP_MS;
      assert.ok(processedAt - sentAt <= bound, `taken ${processedAt - sentAt} ms after it was written (bound ${bound} ms)`);
      assert.equal(client.unackedCount, 0);
    });
  }

  it('without it the first message waits for the RTO (the loss this avoids)', () => {
    const { scheduler, client, agent } = session(30, false);
    const sentAt = scheduler.now();
    client.write(PayloadType.output, Buffer.from('SSH-2.0-OpenSSH_9.6\r\n'));
    scheduler.advance(2000);
    assert.ok(agent.processedAt.get(1)! - sentAt >= 100, 'not before the 100 ms RTO floor');
  });

  it('an agent that is ready resends nothing: no early resend, each message arrives once', () => {
    const { scheduler, client, agent } = session(0);
    for (let i = 0; i < 40; i++) {
      client.write(PayloadType.output, Buffer.from(`chunk ${i}`));
      scheduler.advance(3);
    }
    scheduler.advance(2000);
    assert.equal(client.stats.retransmissions, 0);
    assert.equal(agent.notReady, 0);
    for (let sequence = 1; sequence <= 40; sequence++) assert.equal(agent.copies.get(sequence), 1, `sequence ${sequence} once`);
  });

  it('early resends end with the first acknowledgement: later messages are sent once', () => {
    const { scheduler, client, agent } = session(30);
    client.write(PayloadType.output, Buffer.from('first'));
    scheduler.advance(200);
    assert.ok(agent.notReady >= 1, 'the first copy was refused');
    const resentBefore = client.stats.retransmissions;
    for (let i = 0; i < 20; i++) {
      client.write(PayloadType.output, Buffer.from(`later ${i}`));
      scheduler.advance(4);
    }
    scheduler.advance(2000);
    assert.equal(client.stats.retransmissions, resentBefore);
    for (let sequence = 2; sequence <= 21; sequence++) assert.equal(agent.copies.get(sequence), 1, `sequence ${sequence} once`);
  });

  it('early resends are bounded: an agent that never gets ready sees the normal RTO backoff after 6 of them', () => {
    const { scheduler, client, agent } = session(Number.POSITIVE_INFINITY);
    client.write(PayloadType.output, Buffer.from('first'));
    scheduler.advance(5000);
    const copies = agent.copies.get(1)!;
    // 1 send + 6 early resends + RTO resends at 100, 200, 400, 800, 1600, 3000 ms backoff at most.
    assert.ok(copies >= 7, `${copies} copies: the early resends happened`);
    assert.ok(copies <= 1 + 6 + 6, `${copies} copies in 5 s: bounded`);
  });

  it('a resume arms it again: the resent message is taken soon after the agent is ready', () => {
    const { scheduler, client, agent } = session(0);
    client.write(PayloadType.output, Buffer.from('before'));
    scheduler.advance(100);
    assert.equal(client.unackedCount, 0);
    client.detach();
    client.write(PayloadType.output, Buffer.from('while away'));
    scheduler.advance(1000);
    agent.readyAt = scheduler.now() + 30;
    const attachedAt = scheduler.now();
    client.attach(agent.sink);
    scheduler.advance(2000);
    const processedAt = agent.processedAt.get(2)!;
    assert.ok(processedAt - attachedAt <= 2 * 30 + 3 * ROUND_TRIP_MS, `taken ${processedAt - attachedAt} ms after the resume`);
  });
});
