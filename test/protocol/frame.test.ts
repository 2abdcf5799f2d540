import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  decodeAcknowledgement,
  decodeFrame,
  decodeFlag,
  encodeAcknowledgeFrame,
  encodeAcknowledgement,
  encodeFlag,
  encodeFrame,
  FlagValue,
  HeaderFlag,
  MessageType,
  messageIdFromString,
  messageIdToString,
  PayloadType,
  randomMessageId,
} from '../../src/protocol/index.js';

/** Parses the hex-dump layout of spec §4.6 (offset column and trailing comments are ignored). */
function fromDump(dump: string): Buffer {
  const bytes = dump
    .trim()
    .split('\n')
    .map((line) => line.trim().split(/\s{3,}/)[0]!.split(/\s+/).slice(1).join(''))
    .join('');
  return Buffer.from(bytes, 'hex');
}

// Spec §4.6: input_stream_data, seq 0, payload "hi", CreatedDate 1700000000000.
const HI_FRAME = fromDump(`
0000  00 00 00 74 69 6e 70 75 74 5f 73 74 72 65 61 6d   HL=116 | "input_stream"
0010  5f 64 61 74 61 20 20 20 20 20 20 20 20 20 20 20   "_data" + space padding
0020  20 20 20 20 00 00 00 01 00 00 01 8b cf e5 68 00   pad | SchemaVersion=1 | CreatedDate
0030  00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00   Seq=0 | Flags=0
0040  88 99 aa bb cc dd ee ff 00 11 22 33 44 55 66 77   MessageId: B[8..15] then B[0..7]
0050  8f 43 43 46 64 8f 6b 96 df 89 dd a9 01 c5 17 6b   PayloadDigest (SHA-256 "hi") …
0060  10 a6 d8 39 61 dd 3c 1a c8 8b 59 b2 dc 32 7a a4   … digest cont.
0070  00 00 00 01 00 00 00 02 68 69                     PayloadType=1 | PayloadLength=2 | "hi"
`);

// Spec §4.6: TerminateSession flag as the client's 6th stream message.
const TERMINATE_FRAME = fromDump(`
0000  00 00 00 74 69 6e 70 75 74 5f 73 74 72 65 61 6d
0010  5f 64 61 74 61 20 20 20 20 20 20 20 20 20 20 20
0020  20 20 20 20 00 00 00 01 00 00 01 8b cf e5 68 00
0030  00 00 00 00 00 00 00 05 00 00 00 00 00 00 00 00   Seq=5 | Flags=0
0040  07 06 05 04 03 02 01 00 0f 0e 0d 0c 0b 0a 09 08
0050  43 3e bf 5b c0 3d ff a3 85 36 67 32 07 a2 12 81   SHA-256(00 00 00 02)
0060  61 2c ef 5f aa 9b c7 a4 d5 b9 be 2f db 12 cf 1a
0070  00 00 00 0a 00 00 00 04 00 00 00 02               PayloadType=10 | len 4 | flag 2
`);

describe('frame codec against the spec vectors (§4.6)', () => {
  it('the dumps have the stated lengths', () => {
    assert.equal(HI_FRAME.length, 122);
    assert.equal(TERMINATE_FRAME.length, 124);
  });

  /** The fields of the §4.6 "hi" frame. */
  const hiInput = () => ({
    messageType: MessageType.inputStreamData,
    sequenceNumber: 0,
    flags: 0,
    messageId: messageIdFromString('00112233-4455-6677-8899-aabbccddeeff')!,
    payloadType: PayloadType.output,
    payload: Buffer.from('hi'),
    createdDate: 1700000000000,
  });

  it('encodes the "hi" frame byte for byte', () => {
    const frame = encodeFrame(hiInput());
    assert.equal(frame.toString('hex'), HI_FRAME.toString('hex'));
  });

  it('encodes into a given buffer: the same bytes, at its start; a buffer too small is refused', () => {
    const input = hiInput();
    const into = Buffer.alloc(200, 0xee);
    const frame = encodeFrame(input, into);
    assert.equal(frame.buffer, into.buffer);
    assert.equal(frame.byteOffset, into.byteOffset);
    assert.equal(frame.toString('hex'), HI_FRAME.toString('hex'));
    assert.equal(into[HI_FRAME.length], 0xee, 'nothing written past the frame');
    assert.throws(() => encodeFrame(input, Buffer.alloc(HI_FRAME.length - 1)), RangeError);
  });

  it('encodes the TerminateSession flag frame byte for byte', () => {
    const frame = encodeFrame({
      messageType: MessageType.inputStreamData,
      sequenceNumber: 5,
      flags: 0,
      messageId: messageIdFromString('0f0e0d0c-0b0a-0908-0706-050403020100')!,
      payloadType: PayloadType.flag,
      payload: encodeFlag(FlagValue.terminateSession),
      createdDate: 1700000000000,
    });
    assert.equal(frame.toString('hex'), TERMINATE_FRAME.toString('hex'));
  });

  it('decodes the "hi" frame into its fields', () => {
    const result = decodeFrame(HI_FRAME);
    assert.ok(result.ok);
    const frame = result.value;
    assert.equal(frame.messageType, 'input_stream_data');
    assert.equal(frame.schemaVersion, 1);
    assert.equal(frame.createdDate, 1700000000000);
    assert.equal(frame.sequenceNumber, 0);
    assert.equal(frame.flags, 0);
    assert.equal(messageIdToString(frame.messageId), '00112233-4455-6677-8899-aabbccddeeff');
    assert.equal(frame.payloadType, PayloadType.output);
    assert.equal(frame.payload.toString(), 'hi');
  });

  it('decodes the flag frame and its payload', () => {
    const result = decodeFrame(TERMINATE_FRAME);
    assert.ok(result.ok);
    assert.equal(result.value.sequenceNumber, 5);
    assert.equal(messageIdToString(result.value.messageId), '0f0e0d0c-0b0a-0908-0706-050403020100');
    const flag = decodeFlag(result.value.payload);
    assert.deepEqual(flag, { ok: true, value: FlagValue.terminateSession });
  });

  it('builds the acknowledgement payload of §4.6 exactly', () => {
    const payload = encodeAcknowledgement(
      'input_stream_data',
      messageIdFromString('00112233-4455-6677-8899-aabbccddeeff')!,
      0,
    );
    const expected =
      '{"AcknowledgedMessageType":"input_stream_data","AcknowledgedMessageId":"00112233-4455-6677-8899-aabbccddeeff","AcknowledgedMessageSequenceNumber":0,"IsSequentialMessage":true}';
    assert.equal(payload.toString(), expected);
    assert.equal(payload.length, 175);
    const decoded = decodeAcknowledgement(payload);
    assert.ok(decoded.ok);
    assert.equal(decoded.value.acknowledgedSequenceNumber, 0);
    assert.equal(decoded.value.acknowledgedMessageType, 'input_stream_data');
  });

  it('builds whole acknowledge frames with the §5 header: seq 0, flags 3, payload type 0', () => {
    const acked = { messageType: 'output_stream_data', messageId: messageIdFromString('00112233-4455-6677-8899-aabbccddeeff')!, sequenceNumber: 41 };
    const decoded = decodeFrame(encodeAcknowledgeFrame(acked));
    assert.ok(decoded.ok);
    assert.equal(decoded.value.messageType, 'acknowledge');
    assert.equal(decoded.value.sequenceNumber, 0);
    assert.equal(decoded.value.flags, 3);
    assert.equal(decoded.value.payloadType, 0);
    assert.ok(!decoded.value.messageId.equals(acked.messageId), 'a fresh id, not the acked one');
    assert.equal(
      decoded.value.payload.toString(),
      '{"AcknowledgedMessageType":"output_stream_data","AcknowledgedMessageId":"00112233-4455-6677-8899-aabbccddeeff","AcknowledgedMessageSequenceNumber":41,"IsSequentialMessage":true}',
    );
  });

  it('writes acknowledge frames into a given buffer, for any sequence number, as JSON.stringify would', () => {
    const into = Buffer.alloc(512, 0xee);
    const messageId = randomMessageId();
    for (const sequenceNumber of [0, 7, 9, 10, 99, 100, 65_535, 1_234_567_890_123, Number.MAX_SAFE_INTEGER]) {
      const frame = encodeAcknowledgeFrame({ messageType: 'output_stream_data', messageId, sequenceNumber }, into);
      assert.equal(frame.buffer, into.buffer, 'written in place');
      const decoded = decodeFrame(frame);
      assert.ok(decoded.ok, `sequence ${sequenceNumber}: a valid frame (digest included)`);
      const expected = JSON.stringify({
        AcknowledgedMessageType: 'output_stream_data',
        AcknowledgedMessageId: messageIdToString(messageId),
        AcknowledgedMessageSequenceNumber: sequenceNumber,
        IsSequentialMessage: true,
      });
      assert.equal(decoded.value.payload.toString('latin1'), expected);
    }
    const tooSmall = Buffer.alloc(100);
    const elsewhere = encodeAcknowledgeFrame({ messageType: 'output_stream_data', messageId, sequenceNumber: 1 }, tooSmall);
    assert.notEqual(elsewhere.buffer, tooSmall.buffer, 'a buffer too small is not used');
    assert.ok(decodeFrame(elsewhere).ok);
  });

  it('round-trips large sequence numbers, flags and dates', () => {
    const id = randomMessageId();
    const frame = encodeFrame({
      messageType: MessageType.acknowledge,
      sequenceNumber: 2 ** 40 + 7,
      flags: HeaderFlag.synFin,
      messageId: id,
      payloadType: PayloadType.none,
      payload: Buffer.alloc(0),
      createdDate: 2 ** 42 + 3,
    });
    const result = decodeFrame(frame);
    assert.ok(result.ok);
    assert.equal(result.value.sequenceNumber, 2 ** 40 + 7);
    assert.equal(result.value.createdDate, 2 ** 42 + 3);
    assert.equal(result.value.flags, 3);
    assert.ok(result.value.messageId.equals(id));
    assert.equal(result.value.payload.length, 0);
    // Empty payloads still carry the SHA-256 of nothing (§4.2).
    assert.equal(frame.subarray(80, 112).toString('hex'), createHash('sha256').digest('hex'));
  });

  it('random ids are v4 UUIDs', () => {
    const text = messageIdToString(randomMessageId());
    assert.match(text, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});

describe('frame decoder rejects broken frames as values', () => {
  const expectError = (data: Buffer, code: string) => {
    const result = decodeFrame(data);
    assert.equal(result.ok, false);
    if (!result.ok) assert.equal(result.error.code, code);
  };

  it('short frames', () => {
    for (const length of [0, 1, 115, 116, 119]) expectError(HI_FRAME.subarray(0, length), 'FRAME_TOO_SHORT');
  });

  it('a header length other than 116', () => {
    const bad = Buffer.from(HI_FRAME);
    bad.writeUInt32BE(200, 0);
    expectError(bad, 'BAD_HEADER_LENGTH');
  });

  it('a payload length that lies', () => {
    const bad = Buffer.from(HI_FRAME);
    bad.writeUInt32BE(3, 116);
    expectError(bad, 'PAYLOAD_LENGTH_MISMATCH');
    expectError(Buffer.concat([HI_FRAME, Buffer.from('x')]), 'PAYLOAD_LENGTH_MISMATCH');
  });

  it('a wrong digest', () => {
    const bad = Buffer.from(HI_FRAME);
    bad[121] = 0x6a; // "hj"
    expectError(bad, 'DIGEST_MISMATCH');
  });

  it('an empty message type and a zero date', () => {
    const noType = Buffer.from(HI_FRAME);
    noType.fill(0x20, 4, 36);
    expectError(noType, 'EMPTY_MESSAGE_TYPE');
    const noDate = Buffer.from(HI_FRAME);
    noDate.fill(0, 40, 48);
    expectError(noDate, 'ZERO_CREATED_DATE');
  });

  it('accepts NUL padding in the message type (§4.2)', () => {
    const nulPadded = Buffer.from(HI_FRAME);
    nulPadded.fill(0, 4 + 'input_stream_data'.length, 36);
    const result = decodeFrame(nulPadded);
    assert.ok(result.ok);
    assert.equal(result.value.messageType, 'input_stream_data');
  });

  it('accepts publication messages without validation (pitfall 24)', () => {
    const pause = Buffer.alloc(120);
    pause.write('pause_publication', 4, 'latin1');
    const result = decodeFrame(pause);
    assert.ok(result.ok);
    assert.equal(result.value.messageType, 'pause_publication');
  });
});
