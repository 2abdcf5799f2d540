import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { ReliableStream, type FrameSink, type ReliableStreamHandler } from '../../src/channel/reliable-stream.js';
import { decodeFrame, encodeFrame, MessageType, PayloadType, randomMessageId, type Frame } from '../../src/protocol/index.js';
import { ManualScheduler } from '../helpers/manual-scheduler.js';
import { seededRandom } from '../helpers/prng.js';

interface LinkFaults {
  drop?: number;
  duplicate?: number;
  reorder?: number;
  corrupt?: number;
}

/** One direction of an in-memory link: frames arrive after `delayMs`, with optional faults. */
class LossyLink implements FrameSink {
  delivered = 0;
  dropped = 0;
  private target: ReliableStream | undefined;
  private held: Buffer | undefined;

  constructor(
    private readonly scheduler: ManualScheduler,
    private readonly faults: LinkFaults,
    private readonly random: () => number,
    private readonly delayMs = 5,
  ) {}

  connect(target: ReliableStream): void {
    this.target = target;
  }

  sendFrame(frame: Buffer): void {
    if (this.random() < (this.faults.drop ?? 0)) {
      this.dropped++;
      return;
    }
    let copy = Buffer.from(frame);
    if (this.random() < (this.faults.corrupt ?? 0)) {
      copy[copy.length - 1] ^= 0xff;
    }
    if (this.random() < (this.faults.reorder ?? 0) && !this.held) {
      this.held = copy; // overtaken by the next frame
      return;
    }
    this.deliverLater(copy);
    if (this.held) {
      this.deliverLater(this.held);
      this.held = undefined;
    }
    if (this.random() < (this.faults.duplicate ?? 0)) this.deliverLater(Buffer.from(frame));
  }

  private deliverLater(frame: Buffer): void {
    this.scheduler.setTimeout(() => {
      this.delivered++;
      this.target?.receive(frame);
    }, this.delayMs);
  }
}

class RecordingHandler implements ReliableStreamHandler {
  readonly messages: Frame[] = [];
  readonly controls: Frame[] = [];
  protocolErrors = 0;
  writable = 0;
  stalled = 0;

  onStreamMessage(frame: Frame): void {
    this.messages.push(frame);
  }
  onControlMessage(frame: Frame): void {
    this.controls.push(frame);
  }
  onWritable(): void {
    this.writable++;
  }
  onProtocolError(): void {
    this.protocolErrors++;
  }
  onStalled(): void {
    this.stalled++;
  }
}

function pair(faults: LinkFaults, seed = 1, options: { windowMessages?: number; receiveBufferBytes?: number } = {}) {
  const scheduler = new ManualScheduler();
  const random = seededRandom(seed);
  const clientHandler = new RecordingHandler();
  const agentHandler = new RecordingHandler();
  const client = new ReliableStream({
    outgoingMessageType: MessageType.inputStreamData,
    incomingMessageType: MessageType.outputStreamData,
    scheduler,
    handler: clientHandler,
    ...options,
  });
  const agent = new ReliableStream({
    outgoingMessageType: MessageType.outputStreamData,
    incomingMessageType: MessageType.inputStreamData,
    scheduler,
    handler: agentHandler,
    ...options,
  });
  const toAgent = new LossyLink(scheduler, faults, random);
  const toClient = new LossyLink(scheduler, faults, random);
  toAgent.connect(agent);
  toClient.connect(client);
  client.attach(toAgent);
  agent.attach(toClient);
  return { scheduler, client, agent, clientHandler, agentHandler, toAgent, toClient };
}

const digest = (frames: Frame[]) => {
  const hash = createHash('sha256');
  for (const frame of frames) hash.update(frame.payload);
  return hash.digest('hex');
};

function chunks(count: number, size = 1024): Buffer[] {
  return Array.from({ length: count }, () => randomBytes(size));
}

describe('ReliableStream', () => {
  it('delivers both directions in order over a perfect link, and acks everything', () => {
    const { scheduler, client, agent, clientHandler, agentHandler } = pair({});
    const up = chunks(300);
    const down = chunks(300);
    for (const chunk of up) client.write(PayloadType.output, chunk);
    for (const chunk of down) agent.write(PayloadType.output, chunk);
    scheduler.advance(1000);
    assert.equal(agentHandler.messages.length, 300);
    assert.equal(clientHandler.messages.length, 300);
    assert.deepEqual(agentHandler.messages.map((m) => m.sequenceNumber), [...up.keys()]);
    assert.equal(digest(agentHandler.messages), digest(up.map((payload) => ({ payload }) as Frame)));
    assert.equal(digest(clientHandler.messages), digest(down.map((payload) => ({ payload }) as Frame)));
    assert.equal(client.unackedCount, 0);
    assert.equal(agent.unackedCount, 0);
  });

  for (const [name, faults] of [
    ['drop 20%', { drop: 0.2 }],
    ['duplicate 30%', { duplicate: 0.3 }],
    ['reorder 30%', { reorder: 0.3 }],
    ['corrupt 10%', { corrupt: 0.1 }],
    ['all at once', { drop: 0.1, duplicate: 0.1, reorder: 0.1, corrupt: 0.05 }],
  ] as const) {
    it(`delivers exactly once and in order with ${name}`, () => {
      const { scheduler, client, agent, clientHandler, agentHandler } = pair(faults, 7);
      const up = chunks(500, 700);
      const down = chunks(500, 900);
      // Respect the window the way the session does: write until full, then wait.
      let upIndex = 0;
      let downIndex = 0;
      for (let round = 0; round < 2000 && (upIndex < up.length || downIndex < down.length); round++) {
        while (upIndex < up.length && client.hasRoom) client.write(PayloadType.output, up[upIndex++]!);
        while (downIndex < down.length && agent.hasRoom) agent.write(PayloadType.output, down[downIndex++]!);
        scheduler.advance(50);
      }
      scheduler.advance(30_000);
      assert.deepEqual(agentHandler.messages.map((m) => m.sequenceNumber), [...up.keys()]);
      assert.deepEqual(clientHandler.messages.map((m) => m.sequenceNumber), [...down.keys()]);
      assert.equal(digest(agentHandler.messages), digest(up.map((payload) => ({ payload }) as Frame)));
      assert.equal(digest(clientHandler.messages), digest(down.map((payload) => ({ payload }) as Frame)));
      assert.equal(client.unackedCount, 0);
      assert.equal(agent.unackedCount, 0);
      if ('corrupt' in faults) assert.ok(clientHandler.protocolErrors + agentHandler.protocolErrors > 0);
    });
  }

  it('reports a full window and calls onWritable when acks free it', () => {
    const { scheduler, client, clientHandler } = pair({}, 1, { windowMessages: 8 });
    let accepted = 0;
    while (client.write(PayloadType.output, Buffer.from('x'))) accepted++;
    assert.equal(accepted, 7); // the 8th write fills the window
    assert.equal(client.hasRoom, false);
    scheduler.advance(100);
    assert.equal(clientHandler.writable, 1);
    assert.equal(client.unackedCount, 0);
  });

  it('keeps everything across a detach/attach (reconnect) and resends unacked frames', () => {
    const { scheduler, client, agentHandler, toAgent } = pair({});
    client.detach();
    for (let i = 0; i < 10; i++) client.write(PayloadType.output, Buffer.from(`m${i}`));
    scheduler.advance(5000);
    assert.equal(agentHandler.messages.length, 0);
    assert.equal(client.unackedCount, 10);
    client.attach(toAgent);
    scheduler.advance(100);
    assert.deepEqual(agentHandler.messages.map((m) => m.payload.toString()), [...Array(10).keys()].map((i) => `m${i}`));
    assert.equal(client.unackedCount, 0);
  });

  it('pauseReading pauses the peer but keeps delivering what arrives; resumeReading resumes', () => {
    const { scheduler, client, agent, clientHandler, toAgent } = pair({}, 1);
    const calls: string[] = [];
    client.attach({
      sendFrame: (frame) => toAgent.sendFrame(frame),
      pauseIncoming: () => calls.push('pause'),
      resumeIncoming: () => calls.push('resume'),
    });
    client.pauseReading();
    client.pauseReading();
    assert.deepEqual(calls, ['pause'], 'one pause however often asked');
    for (let i = 0; i < 10; i++) agent.write(PayloadType.output, Buffer.from(`m${i}`));
    scheduler.advance(200);
    assert.equal(clientHandler.messages.length, 10, 'what was already on its way is delivered, not held');
    assert.equal(agent.unackedCount, 0);
    client.resumeReading();
    assert.deepEqual(calls, ['pause', 'resume']);
  });

  it('a sink attached while reading is paused (a reconnect) is paused at once', () => {
    const { client, toAgent } = pair({}, 1);
    client.pauseReading();
    client.detach();
    const calls: string[] = [];
    client.attach({ sendFrame: (frame) => toAgent.sendFrame(frame), pauseIncoming: () => calls.push('pause'), resumeIncoming: () => calls.push('resume') });
    assert.deepEqual(calls, ['pause']);
    client.resumeReading();
    assert.deepEqual(calls, ['pause', 'resume']);
  });

  it('a gap alone never pauses reading (the missing message must still come in)', () => {
    const { scheduler, client, agent, toAgent } = pair({ reorder: 0.5 }, 3);
    const calls: string[] = [];
    client.attach({ sendFrame: (frame) => toAgent.sendFrame(frame), pauseIncoming: () => calls.push('pause') });
    for (let i = 0; i < 50; i++) agent.write(PayloadType.output, randomBytes(1024));
    scheduler.advance(2000);
    assert.deepEqual(calls, []);
    assert.equal(agent.unackedCount, 0);
  });

  it('drops what exceeds the out-of-order buffer unacked and gets it again later', () => {
    const { scheduler, agent, clientHandler, toClient } = pair({}, 1, { receiveBufferBytes: 10 * 1024 });
    // The first transmission of message 0 is lost: everything after it waits behind the gap.
    let first = true;
    agent.detach();
    agent.attach({
      sendFrame: (frame) => {
        if (first) {
          first = false;
          return;
        }
        toClient.sendFrame(frame);
      },
    });
    for (let i = 0; i < 40; i++) agent.write(PayloadType.output, randomBytes(1024));
    scheduler.advance(20);
    assert.equal(clientHandler.messages.length, 0, 'nothing delivered across the gap');
    // 10 KiB hold 10 of the 39 behind the gap; the other 29 and message 0 itself stay unacked.
    assert.equal(agent.unackedCount, 30);
    scheduler.advance(20_000);
    assert.equal(clientHandler.messages.length, 40);
    assert.deepEqual(clientHandler.messages.map((m) => m.sequenceNumber), [...Array(40).keys()]);
    assert.equal(agent.unackedCount, 0);
  });

  it('never changes a frame buffer a sink may still hold (a zero ws mask queues it uncopied)', () => {
    const scheduler = new ManualScheduler();
    const handler = new RecordingHandler();
    const held: { frame: Buffer; copy: Buffer }[] = [];
    const client = new ReliableStream({
      outgoingMessageType: MessageType.inputStreamData,
      incomingMessageType: MessageType.outputStreamData,
      scheduler,
      handler,
    });
    // A sink that queues every buffer by reference, as ws does when the mask is all zeros.
    client.attach({ sendFrame: (frame) => held.push({ frame, copy: Buffer.from(frame) }) });
    for (let sequence = 0; sequence < 200; sequence++) {
      client.receive(
        encodeFrame({
          messageType: MessageType.outputStreamData,
          sequenceNumber: sequence,
          flags: 0,
          messageId: randomMessageId(),
          payloadType: PayloadType.output,
          payload: Buffer.from(`m${sequence}`),
        }),
      );
      client.write(PayloadType.output, Buffer.from(`up${sequence}`));
    }
    assert.equal(handler.messages.length, 200);
    assert.equal(held.length, 400);
    held.forEach(({ frame, copy }, index) => assert.ok(frame.equals(copy), `frame ${index} changed after it was handed to the sink`));
    const acked = held
      .map(({ frame }) => decodeFrame(frame))
      .filter((decoded) => decoded.ok && decoded.value.messageType === 'acknowledge')
      .map((decoded) => (decoded.ok ? /"AcknowledgedMessageSequenceNumber":(\d+)/.exec(decoded.value.payload.toString())![1] : ''));
    assert.deepEqual(acked.map(Number), [...Array(200).keys()], 'each acknowledgement still names its own message');
  });

  it('allAcknowledged() settles on the acknowledgement that empties the buffer, not before', async () => {
    const { scheduler, client } = pair({}, 1);
    await client.allAcknowledged(); // nothing outstanding: at once
    for (let i = 0; i < 5; i++) client.write(PayloadType.output, Buffer.from(`m${i}`));
    let settled = false;
    const waiting = client.allAcknowledged().then(() => {
      settled = true;
    });
    await Promise.resolve();
    assert.equal(settled, false);
    scheduler.advance(4); // the link delays each way by 5 ms
    await Promise.resolve();
    assert.equal(settled, false, 'nothing acknowledged yet');
    scheduler.advance(10);
    await waiting;
    assert.equal(client.unackedCount, 0);
  });

  it('allAcknowledged() settles when the stream closes', async () => {
    const { client } = pair({}, 1);
    client.detach();
    client.write(PayloadType.output, Buffer.from('never acked'));
    const waiting = client.allAcknowledged();
    client.close();
    await waiting;
    assert.equal(client.unackedCount, 1);
  });

  it('re-acks a duplicate of an already delivered message', () => {
    const scheduler = new ManualScheduler();
    const handler = new RecordingHandler();
    const sent: Buffer[] = [];
    const client = new ReliableStream({
      outgoingMessageType: MessageType.inputStreamData,
      incomingMessageType: MessageType.outputStreamData,
      scheduler,
      handler,
    });
    client.attach({ sendFrame: (frame) => sent.push(Buffer.from(frame)) });
    const message = encodeFrame({
      messageType: MessageType.outputStreamData,
      sequenceNumber: 0,
      flags: 1,
      messageId: randomMessageId(),
      payloadType: PayloadType.output,
      payload: Buffer.from('once'),
    });
    client.receive(message);
    client.receive(message);
    assert.equal(handler.messages.length, 1);
    assert.equal(sent.length, 2);
    for (const ack of sent) {
      const decoded = decodeFrame(ack);
      assert.ok(decoded.ok);
      assert.equal(decoded.value.messageType, 'acknowledge');
      assert.equal(decoded.value.flags, 3);
      assert.match(decoded.value.payload.toString(), /"AcknowledgedMessageSequenceNumber":0,/);
    }
  });

  it('reports a stall when nothing is acknowledged for the stall timeout', () => {
    const scheduler = new ManualScheduler();
    const handler = new RecordingHandler();
    const client = new ReliableStream({
      outgoingMessageType: MessageType.inputStreamData,
      incomingMessageType: MessageType.outputStreamData,
      scheduler,
      handler,
      stallTimeoutMs: 10_000,
    });
    const sent: Buffer[] = [];
    client.attach({ sendFrame: (frame) => sent.push(Buffer.from(frame)) });
    client.write(PayloadType.output, Buffer.from('lost'));
    scheduler.advance(9_000);
    assert.equal(handler.stalled, 0);
    assert.ok(sent.length > 1, 'resent while waiting');
    scheduler.advance(2_000);
    assert.ok(handler.stalled > 0);
  });
});
