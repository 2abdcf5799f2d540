/**
 * Golden frames: the hex dumps of docs/protocol.md §4.6 (the blocks marked `golden:`), read from
 * the document itself, are the byte-level contract that both sides must meet.
 *
 * - A hand-written decoder here (fixed offsets, node:crypto) checks each dump against the field
 *   values the document states, so the document is self-consistent.
 * - ssm-proxy's codec (src/protocol) must encode exactly these bytes and decode them back.
 * - The fake agent (test/fake-ssm) is checked independently of src/protocol: its frames are read
 *   with the hand-written decoder and compared with the dumps byte for byte (all but the date and
 *   the random MessageId), and the golden client frames are sent to it verbatim.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { StartSessionCommand } from '@aws-sdk/client-ssm';
import type { WebSocket } from 'ws';
import {
  decodeFrame,
  encodeAcknowledgement,
  encodeFlag,
  encodeFrame,
  encodeHandshakeRequest,
  encodeHandshakeResponse,
} from '../../src/protocol/index.js';
import { startFakeSsm, type FakeSsm } from '../fake-ssm/index.js';
import { openSocket, signUpgrade } from '../fake-ssm/scripted-client.js';
import { ssmClient, startTcpTarget, type TcpTarget } from '../fake-ssm/test-helpers.js';

const PROTOCOL_MD = fileURLToPath(new URL('../../docs/protocol.md', import.meta.url));
const CREATED = 1_700_000_000_000;

/** Every `<!-- golden: name -->` block of the document, as bytes. */
function readGoldenFrames(): Map<string, Buffer> {
  const text = readFileSync(PROTOCOL_MD, 'utf8');
  const frames = new Map<string, Buffer>();
  const block = /<!-- golden: ([a-z0-9-]+) -->\n```\n([\s\S]*?)\n```/g;
  for (const [, name, body] of text.matchAll(block)) {
    const bytes: number[] = [];
    for (const line of body!.split('\n')) {
      // Offset column, two spaces, then up to 16 hex pairs in a 47-column field; the rest is comment.
      const offset = Number.parseInt(line.slice(0, 4), 16);
      assert.equal(offset, bytes.length, `${name}: offset column of "${line}"`);
      assert.equal(line.slice(4, 6), '  ', `${name}: layout of "${line}"`);
      const pairs = line.slice(6, 53).trim().split(' ');
      assert.ok(pairs.length <= 16 && pairs.every((pair) => /^[0-9a-f]{2}$/.test(pair)), `${name}: bytes of "${line}"`);
      assert.ok(line.length <= 53 || line.slice(53, 56) === '   ', `${name}: comment column of "${line}"`);
      for (const pair of pairs) bytes.push(Number.parseInt(pair, 16));
    }
    frames.set(name!, Buffer.from(bytes));
  }
  return frames;
}

interface Expected {
  messageType: string;
  sequenceNumber: number;
  flags: number;
  messageId: string;
  payloadType: number;
  payload: Buffer;
}

const HANDSHAKE_REQUEST_JSON =
  '{"AgentVersion":"3.3.987.0","RequestedClientActions":[{"ActionType":"SessionType","ActionParameters":{"SessionType":"Port","Properties":{"portNumber":"22"}}}]}';
const HANDSHAKE_RESPONSE_JSON =
  '{"ClientVersion":"1.2.764.0","ProcessedClientActions":[{"ActionType":"SessionType","ActionStatus":1,"ActionResult":null,"Error":""}],"Errors":null}';
const ackJson = (type: string, id: string, seq: number) =>
  `{"AcknowledgedMessageType":"${type}","AcknowledgedMessageId":"${id}","AcknowledgedMessageSequenceNumber":${seq},"IsSequentialMessage":true}`;

/** What the document's prose says each golden frame holds. */
const EXPECTED: Record<string, Expected> = {
  'client-data-hi': {
    messageType: 'input_stream_data',
    sequenceNumber: 0,
    flags: 0,
    messageId: '00112233-4455-6677-8899-aabbccddeeff',
    payloadType: 1,
    payload: Buffer.from('hi'),
  },
  'agent-ack-of-hi': {
    messageType: 'acknowledge',
    sequenceNumber: 0,
    flags: 3,
    messageId: 'ffeeddcc-bbaa-9988-7766-554433221100',
    payloadType: 0,
    payload: Buffer.from(ackJson('input_stream_data', '00112233-4455-6677-8899-aabbccddeeff', 0)),
  },
  'client-terminate-flag': {
    messageType: 'input_stream_data',
    sequenceNumber: 5,
    flags: 0,
    messageId: '0f0e0d0c-0b0a-0908-0706-050403020100',
    payloadType: 10,
    payload: Buffer.from([0, 0, 0, 2]),
  },
  'agent-handshake-request': {
    messageType: 'output_stream_data',
    sequenceNumber: 0,
    flags: 1,
    messageId: 'a0a1a2a3-a4a5-a6a7-a8a9-aaabacadaeaf',
    payloadType: 5,
    payload: Buffer.from(HANDSHAKE_REQUEST_JSON),
  },
  'client-handshake-response': {
    messageType: 'input_stream_data',
    sequenceNumber: 0,
    flags: 0,
    messageId: 'c0c1c2c3-c4c5-c6c7-c8c9-cacbcccdcecf',
    payloadType: 6,
    payload: Buffer.from(HANDSHAKE_RESPONSE_JSON),
  },
};

/** Reads a frame by the offsets of docs/protocol.md §4.1, without src/protocol. */
function handDecode(frame: Buffer) {
  assert.ok(frame.length >= 120, `a frame has at least 120 bytes, got ${frame.length}`);
  const typeField = frame.subarray(4, 36).toString('latin1');
  const id = Buffer.concat([frame.subarray(72, 80), frame.subarray(64, 72)]).toString('hex');
  const payload = frame.subarray(120);
  return {
    headerLength: frame.readUInt32BE(0),
    typeField,
    messageType: typeField.trimEnd(),
    schemaVersion: frame.readUInt32BE(36),
    createdDate: Number(frame.readBigUInt64BE(40)),
    sequenceNumber: Number(frame.readBigInt64BE(48)),
    flags: Number(frame.readBigUInt64BE(56)),
    messageId: `${id.slice(0, 8)}-${id.slice(8, 12)}-${id.slice(12, 16)}-${id.slice(16, 20)}-${id.slice(20)}`,
    digest: frame.subarray(80, 112),
    payloadType: frame.readUInt32BE(112),
    payloadLength: frame.readUInt32BE(116),
    payload,
  };
}

/** Builds a frame by the same offsets (for the test's own acks and fillers). */
function handEncode(fields: Expected & { createdDate?: number }): Buffer {
  const frame = Buffer.alloc(120 + fields.payload.length, 0x20);
  frame.writeUInt32BE(116, 0);
  frame.fill(0x20, 4, 36);
  frame.write(fields.messageType, 4, 'latin1');
  frame.writeUInt32BE(1, 36);
  frame.writeBigUInt64BE(BigInt(fields.createdDate ?? Date.now()), 40);
  frame.writeBigInt64BE(BigInt(fields.sequenceNumber), 48);
  frame.writeBigUInt64BE(BigInt(fields.flags), 56);
  const id = Buffer.from(fields.messageId.replace(/-/g, ''), 'hex');
  id.copy(frame, 64, 8, 16);
  id.copy(frame, 72, 0, 8);
  createHash('sha256').update(fields.payload).digest().copy(frame, 80);
  frame.writeUInt32BE(fields.payloadType, 112);
  frame.writeUInt32BE(fields.payload.length, 116);
  fields.payload.copy(frame, 120);
  return frame;
}

const uuidBytes = (text: string) => Buffer.from(text.replace(/-/g, ''), 'hex');
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest();

const golden = readGoldenFrames();

describe('golden frames of docs/protocol.md §4.6', () => {
  it('the document has all five, and each matches its stated fields (hand decoder)', () => {
    assert.deepEqual([...golden.keys()].sort(), Object.keys(EXPECTED).sort());
    for (const [name, frame] of golden) {
      const expected = EXPECTED[name]!;
      const fields = handDecode(frame);
      assert.equal(fields.headerLength, 116, name);
      assert.equal(fields.typeField, expected.messageType.padEnd(32, ' '), `${name}: space padding (pitfall 2)`);
      assert.equal(fields.schemaVersion, 1, name);
      assert.equal(fields.createdDate, CREATED, name);
      assert.equal(fields.sequenceNumber, expected.sequenceNumber, name);
      assert.equal(fields.flags, expected.flags, name);
      assert.equal(fields.messageId, expected.messageId, `${name}: halves swapped back (pitfall 3)`);
      assert.equal(fields.payloadType, expected.payloadType, name);
      assert.equal(fields.payloadLength, expected.payload.length, name);
      assert.ok(fields.payload.equals(expected.payload), `${name}: payload`);
      assert.ok(fields.digest.equals(sha256(expected.payload)), `${name}: digest`);
      assert.equal(frame.length, 120 + expected.payload.length, name);
    }
  });

  it("ssm-proxy's codec encodes exactly these bytes and decodes them back", () => {
    for (const [name, frame] of golden) {
      const expected = EXPECTED[name]!;
      const encoded = encodeFrame({
        messageType: expected.messageType,
        sequenceNumber: expected.sequenceNumber,
        flags: expected.flags,
        messageId: uuidBytes(expected.messageId),
        payloadType: expected.payloadType,
        payload: expected.payload,
        createdDate: CREATED,
      });
      assert.equal(encoded.toString('hex'), frame.toString('hex'), `${name}: encodeFrame`);
      const decoded = decodeFrame(frame);
      assert.ok(decoded.ok, `${name}: decodeFrame`);
      assert.equal(decoded.value.messageType, expected.messageType);
      assert.equal(decoded.value.createdDate, CREATED);
      assert.equal(decoded.value.sequenceNumber, expected.sequenceNumber);
      assert.equal(decoded.value.flags, expected.flags);
      assert.equal(decoded.value.messageId.toString('hex'), uuidBytes(expected.messageId).toString('hex'));
      assert.equal(decoded.value.payloadType, expected.payloadType);
      assert.ok(decoded.value.payload.equals(expected.payload));
    }
  });

  it("ssm-proxy's payload encoders produce the golden payloads", () => {
    const payloadOf = (name: string) => golden.get(name)!.subarray(120);
    assert.ok(
      encodeAcknowledgement('input_stream_data', uuidBytes('00112233-4455-6677-8899-aabbccddeeff'), 0).equals(payloadOf('agent-ack-of-hi')),
    );
    assert.ok(encodeFlag(2).equals(payloadOf('client-terminate-flag')));
    assert.ok(
      encodeHandshakeRequest({
        agentVersion: '3.3.987.0',
        requestedClientActions: [
          { actionType: 'SessionType', actionParameters: { SessionType: 'Port', Properties: { portNumber: '22' } } },
        ],
      }).equals(payloadOf('agent-handshake-request')),
    );
    assert.ok(
      encodeHandshakeResponse({
        clientVersion: '1.2.764.0',
        processedClientActions: [{ actionType: 'SessionType', actionStatus: 1, actionResult: null, error: '' }],
        errors: null,
      }).equals(payloadOf('client-handshake-response')),
    );
  });
});

describe('the fake agent against the golden frames (no src/protocol on this side)', () => {
  let echo: TcpTarget;
  let fake: FakeSsm;
  let ws: WebSocket | undefined;
  before(async () => {
    echo = await startTcpTarget();
    fake = await startFakeSsm({ agentVersion: '3.3.987.0', targetPortOverride: echo.port });
  });
  after(async () => {
    ws?.terminate();
    await fake.close();
    await echo.close();
  });

  it('sends the golden HandshakeRequest, acks the golden client frames like the golden ack, and acts on the golden flag', async () => {
    const api = ssmClient(fake);
    let session;
    try {
      session = await api.send(
        new StartSessionCommand({ Target: 'i-0123456789abcdef0', DocumentName: 'AWS-StartSSHSession', Parameters: { portNumber: ['22'] } }),
      );
    } finally {
      api.destroy();
    }
    const streamUrl = session.StreamUrl!;
    const opened = await openSocket(streamUrl, await signUpgrade(streamUrl));
    assert.ok(opened.ws);
    ws = opened.ws;
    const received: Buffer[] = [];
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) received.push(Buffer.from(data));
    });
    /** Waits for a matching frame; `resend` is sent again every 200 ms meanwhile, as a client resends. */
    const next = async (what: string, match: (f: ReturnType<typeof handDecode>) => boolean, resend?: Buffer) => {
      const deadline = Date.now() + 10_000;
      let resendAt = Date.now() + 200;
      for (;;) {
        const found = received.find((frame) => match(handDecode(frame)));
        if (found) return found;
        assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
        if (resend && Date.now() >= resendAt) {
          ws!.send(resend);
          resendAt = Date.now() + 200;
        }
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    };
    const ackFor = (type: string, id: string, seq: number) => (f: ReturnType<typeof handDecode>) =>
      f.messageType === 'acknowledge' && f.payload.toString('latin1') === ackJson(type, id, seq);
    /** The test's ack of one agent frame, built by hand. */
    const acknowledge = (frame: Buffer) => {
      const f = handDecode(frame);
      ws!.send(
        handEncode({
          messageType: 'acknowledge',
          sequenceNumber: 0,
          flags: 3,
          messageId: '11111111-2222-4333-8444-555555555555',
          payloadType: 0,
          payload: Buffer.from(ackJson(f.messageType, f.messageId, f.sequenceNumber)),
        }),
      );
    };
    /** Equal outside CreatedDate (40–48) and MessageId (64–80), the two fields that vary. */
    const assertSameOutsideDateAndId = (actual: Buffer, goldenFrame: Buffer, what: string) => {
      assert.equal(actual.length, goldenFrame.length, `${what}: length`);
      for (const [from, to] of [[0, 40], [48, 64], [80, goldenFrame.length]] as const) {
        assert.equal(actual.subarray(from, to).toString('hex'), goldenFrame.subarray(from, to).toString('hex'), `${what}: bytes ${from}–${to}`);
      }
      const created = handDecode(actual).createdDate;
      assert.ok(Math.abs(created - Date.now()) < 60_000, `${what}: CreatedDate is now, in ms (pitfall 4): ${created}`);
    };

    ws.send(JSON.stringify({ MessageSchemaVersion: '1.0', RequestId: '6f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f', TokenValue: session.TokenValue, ClientId: '7a8b9c0d-1e2f-4a3b-9c4d-5e6f7a8b9c0d', ClientVersion: '1.2.764.0' }));

    // D: the agent's HandshakeRequest, byte for byte but for date and id.
    const request = await next('HandshakeRequest', (f) => f.messageType === 'output_stream_data' && f.payloadType === 5);
    assertSameOutsideDateAndId(request, golden.get('agent-handshake-request')!, 'HandshakeRequest');
    acknowledge(request);

    // E, verbatim: the agent acks it with a frame shaped like the golden ack B.
    ws.send(golden.get('client-handshake-response')!);
    const goldenAck = golden.get('agent-ack-of-hi')!;
    const ackOfResponse = await next('ack of the HandshakeResponse', ackFor('input_stream_data', 'c0c1c2c3-c4c5-c6c7-c8c9-cacbcccdcecf', 0));
    for (const [from, to] of [[0, 40], [48, 64], [112, 116]] as const) {
      assert.equal(ackOfResponse.subarray(from, to).toString('hex'), goldenAck.subarray(from, to).toString('hex'), `ack header bytes ${from}–${to}`);
    }
    assert.ok(handDecode(ackOfResponse).digest.equals(sha256(handDecode(ackOfResponse).payload)), 'ack digest');
    const complete = await next('HandshakeComplete', (f) => f.messageType === 'output_stream_data' && f.payloadType === 7);
    assert.equal(handDecode(complete).sequenceNumber, 1);
    assert.equal(handDecode(complete).flags, 0);
    acknowledge(complete);

    // A, as the client's second stream message: the ack is golden B with sequence 1, the echo is "hi".
    const hi = Buffer.from(golden.get('client-data-hi')!);
    hi.writeBigInt64BE(1n, 48);
    ws.send(hi);
    // The agent dials the target after HandshakeComplete and leaves data unacked until then (§10.2).
    const ackOfHi = await next('ack of "hi"', ackFor('input_stream_data', '00112233-4455-6677-8899-aabbccddeeff', 1), hi);
    assert.equal(
      handDecode(ackOfHi).payload.toString('latin1'),
      goldenAck.subarray(120).toString('latin1').replace('"AcknowledgedMessageSequenceNumber":0', '"AcknowledgedMessageSequenceNumber":1'),
    );
    const echoed = await next('the echoed "hi"', (f) => f.messageType === 'output_stream_data' && f.payloadType === 1);
    const goldenHi = golden.get('client-data-hi')!;
    assert.equal(echoed.subarray(80).toString('hex'), goldenHi.subarray(80).toString('hex'), 'digest, type 1, length 2, "hi"');
    assert.equal(handDecode(echoed).typeField, 'output_stream_data'.padEnd(32, ' '));
    assert.equal(handDecode(echoed).sequenceNumber, 2);
    acknowledge(echoed);

    // Fill sequences 2–4, then C verbatim: acked by its canonical id, recorded, and the session ends.
    for (const sequenceNumber of [2, 3, 4]) {
      ws.send(handEncode({ ...EXPECTED['client-data-hi']!, sequenceNumber, messageId: `00000000-0000-4000-8000-00000000000${sequenceNumber}`, payload: Buffer.from('x') }));
    }
    ws.send(golden.get('client-terminate-flag')!);
    await next('ack of the flag', ackFor('input_stream_data', '0f0e0d0c-0b0a-0908-0706-050403020100', 5));
    await next('channel_closed', (f) => f.messageType === 'channel_closed');
    await fake.waitFor(() => fake.records.sessionEnds.length > 0, 5000, 'the session end');
    assert.deepEqual(fake.records.flags, [
      { sessionId: session.SessionId!, flag: 2, name: 'TerminateSession', sequenceNumber: 5, afterEnd: false, processed: true },
    ]);
    assert.equal(fake.records.sessionEnds[0]!.reason, 'terminate-flag');
    assert.equal(fake.records.clientToServer.invalid, 0, 'every golden frame was valid to the fake');
  });
});
