import assert from 'node:assert/strict';
import { PassThrough, Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { createLogger } from '../../src/log.js';
import {
  decodeAcknowledgement,
  decodeChannelClosed,
  decodeFlag,
  decodeFrame,
  decodeHandshakeComplete,
  decodeHandshakeRequest,
  encodeAcknowledgement,
  encodeChannelClosed,
  encodeFlag,
  encodeFrame,
  encodeHandshakeComplete,
  encodeHandshakeRequest,
  HeaderFlag,
  MessageType,
  PayloadType,
  randomMessageId,
} from '../../src/protocol/index.js';
import { portOverStdio } from '../../src/session/port-over-stdio.js';
import { runSession } from '../../src/session/run-session.js';
import type { FrameReceiver } from '../../src/transport/data-channel-connection.js';
import { ManualScheduler } from '../helpers/manual-scheduler.js';
import { seededRandom } from '../helpers/prng.js';

const random = seededRandom(20261127);
const int = (below: number) => Math.floor(random() * below);

/** Valid frames of every kind a client can receive. */
function seeds(): Buffer[] {
  const frame = (messageType: string, sequenceNumber: number, payloadType: number, payload: Buffer) =>
    encodeFrame({ messageType, sequenceNumber, flags: HeaderFlag.none, messageId: randomMessageId(), payloadType, payload });
  return [
    frame(MessageType.outputStreamData, 0, PayloadType.handshakeRequest, encodeHandshakeRequest({
      agentVersion: '3.3.987.0',
      requestedClientActions: [{ actionType: 'SessionType', actionParameters: { SessionType: 'Port', Properties: { portNumber: '22' } } }],
    })),
    frame(MessageType.outputStreamData, 1, PayloadType.handshakeComplete, encodeHandshakeComplete({ handshakeTimeToCompleteNs: 5, customerMessage: '' })),
    frame(MessageType.outputStreamData, 2, PayloadType.output, Buffer.from('SSH-2.0-OpenSSH_9.2\r\n')),
    frame(MessageType.outputStreamData, 3, PayloadType.flag, encodeFlag(3)),
    frame(MessageType.acknowledge, 0, PayloadType.none, encodeAcknowledgement('input_stream_data', randomMessageId(), 0)),
    frame(MessageType.channelClosed, 0, PayloadType.none, encodeChannelClosed({ messageId: 'm', createdDate: 'd', destinationId: 'i-1', sessionId: 's', output: 'bye' })),
    frame(MessageType.pausePublication, 0, PayloadType.none, Buffer.alloc(0)),
  ];
}

/** Flips, overwrites, truncates, extends or splices bytes. */
function mutate(input: Buffer): Buffer {
  let data: Buffer = Buffer.from(input);
  const operations = 1 + int(4);
  for (let i = 0; i < operations; i++) {
    switch (int(6)) {
      case 0:
        if (data.length) data[int(data.length)] ^= 1 << int(8);
        break;
      case 1:
        if (data.length) data[int(data.length)] = int(256);
        break;
      case 2:
        data = data.subarray(0, int(data.length + 1));
        break;
      case 3:
        data = Buffer.concat([data, Buffer.from(Array.from({ length: int(64) }, () => int(256)))]);
        break;
      case 4: {
        // Lie in a header field: header length, payload length, sequence or payload type.
        const offsets = [0, 116, 48, 52, 112];
        const offset = offsets[int(offsets.length)]!;
        if (data.length >= offset + 4) data.writeUInt32BE(int(2) ? int(300) : 0xffffffff, offset);
        break;
      }
      default: {
        // Mutate the payload but keep the digest right, to get past the digest check into the payload parsers.
        const decoded = decodeFrame(data);
        if (decoded.ok && decoded.value.payload.length > 0) {
          const payload = Buffer.from(decoded.value.payload);
          payload[int(payload.length)] = int(256);
          data = encodeFrame({ ...decoded.value, payload: payload.subarray(0, int(payload.length + 1)) });
        }
      }
    }
  }
  return data;
}

describe('fuzz: mutated frames never throw or hang', () => {
  it('100 000 mutations through the decoder and every payload decoder', () => {
    const base = seeds();
    let rejected = 0;
    for (let i = 0; i < 100_000; i++) {
      const data = mutate(base[int(base.length)]!);
      const decoded = decodeFrame(data);
      if (!decoded.ok) {
        rejected++;
        assert.equal(typeof decoded.error.code, 'string');
        continue;
      }
      const payload = decoded.value.payload;
      decodeAcknowledgement(payload);
      decodeHandshakeRequest(payload);
      decodeHandshakeComplete(payload);
      decodeChannelClosed(payload);
      decodeFlag(payload);
    }
    assert.ok(rejected > 10_000, `a good share of mutations is rejected (${rejected})`);
  });

  it('100 000 mutations through a live Port session on the engine and its stream, which still works afterwards', async () => {
    const base = seeds();
    for (let round = 0; round < 20; round++) {
      const scheduler = new ManualScheduler();
      const out: Buffer[] = [];
      const sent: Buffer[] = [];
      let receiver: FrameReceiver | undefined;
      const controller = new AbortController();
      const ended = runSession({
        api: {
          startSession: async () => ({ sessionId: 's-1', tokenValue: 'token-value-1', streamUrl: 'wss://example/s-1' }),
          resumeSession: async () => undefined,
          terminateSession: async () => undefined,
        },
        request: { target: 'i-0123456789abcdef0' },
        kind: portOverStdio({ input: new PassThrough(), output: new Writable({ write: (chunk, _e, done) => (out.push(chunk), done()) }) }),
        connection: (setup) => ({
          connect: async () => {
            receiver = setup.receiver;
            setup.receiver.attach({ sendFrame: (frame) => sent.push(Buffer.from(frame)) });
            setup.events.onConnected?.();
          },
          close: async () => setup.receiver.detach(),
          reconnectCount: 0,
        }),
        clientVersion: '1.2.764.0',
        log: createLogger({ verbosity: 0, write: () => {} }),
        scheduler,
        signal: controller.signal,
      });
      for (let turn = 0; turn < 5 && !receiver; turn++) await new Promise((resolve) => setImmediate(resolve));
      assert.ok(receiver, 'the session connected');
      for (let i = 0; i < 5_000; i++) {
        receiver.receive(mutate(base[int(base.length)]!));
        if (i % 500 === 0) scheduler.advance(100);
      }
      scheduler.advance(60_000); // any timer (handshake timeout, stall) fires and settles the session
      controller.abort('SIGTERM'); // ends it if nothing did
      for (let turn = 0; turn < 100; turn++) {
        scheduler.advance(100);
        await new Promise((resolve) => setImmediate(resolve));
      }
      const outcome = await ended;
      assert.ok(typeof outcome.end.reason === 'string' && Number.isInteger(outcome.exitCode));
      assert.ok(outcome.end.reason !== 'failed' || outcome.end.error.kind !== 'internal', 'no internal error');
      for (const frame of sent) assert.ok(decodeFrame(frame).ok, 'everything the client sent is a valid frame');
    }
  });
});
