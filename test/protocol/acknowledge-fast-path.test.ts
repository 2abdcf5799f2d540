import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  acknowledgedSequenceOfFrame,
  decodeAcknowledgement,
  encodeAcknowledgeFrame,
  decodeFrame,
  encodeAcknowledgement,
  encodeFrame,
  fastAcknowledgedSequenceNumber,
  messageIdToString,
  PayloadType,
  randomMessageId,
} from '../../src/protocol/index.js';

/** What JSON.parse makes of it: the sequence number, or -1 when the slow path refuses the document. */
function slowSequence(text: string): number {
  const decoded = decodeAcknowledgement(Buffer.from(text, 'utf8'));
  return decoded.ok ? decoded.value.acknowledgedSequenceNumber : -1;
}

function fast(text: string): number {
  return fastAcknowledgedSequenceNumber(Buffer.from(text, 'utf8'));
}

const ID = '00112233-4455-6677-8899-aabbccddeeff';
const goDocument = (sequence: string, sequential = 'true', type = 'input_stream_data', id = ID) =>
  `{"AcknowledgedMessageType":"${type}","AcknowledgedMessageId":"${id}","AcknowledgedMessageSequenceNumber":${sequence},"IsSequentialMessage":${sequential}}`;

describe('acknowledgement fast path (no JSON.parse for the compact form)', () => {
  it('reads the compact form Go and we write, for any sequence number up to 15 digits', () => {
    for (const sequence of [0, 1, 9, 10, 41, 65_535, 1_234_567_890, 999_999_999_999_999]) {
      assert.equal(fast(goDocument(String(sequence))), sequence);
      assert.equal(fast(goDocument(String(sequence), 'false')), sequence);
      const ours = encodeAcknowledgement('output_stream_data', randomMessageId(), sequence);
      assert.equal(fastAcknowledgedSequenceNumber(ours), sequence);
    }
    assert.equal(fast(goDocument('5', 'true', '', '')), 5, 'empty strings are plain strings');
  });

  it('leaves every other document to JSON.parse, which still accepts the valid ones', () => {
    const others: [string, number][] = [
      [goDocument('007'), -1], // a leading zero: not JSON
      [goDocument('-1'), -1],
      [goDocument('1.0'), 1],
      [goDocument('1e3'), 1000],
      [goDocument('9007199254740993'), -1], // beyond a safe integer
      [goDocument('1234567890123456'), 1234567890123456], // 16 digits: valid, but only the slow path reads it
      [goDocument('12', 'null'), 12],
      [goDocument('12', 'true '), 12],
      [goDocument('12') + ' ', 12],
      [goDocument('12') + 'x', -1],
      [goDocument('12').replace(':12', ': 12'), 12],
      [goDocument('12', 'true', 'input\\u005fstream_data'), 12], // an escape
      [goDocument('12', 'true', 'inpüt'), 12], // not ASCII
      [goDocument('12', 'true', 'a"b'), -1],
      [goDocument('12').slice(0, -1), -1],
      [goDocument(''), -1],
      ['{"AcknowledgedMessageSequenceNumber":3}', 3],
      ['[]', -1],
      ['', -1],
    ];
    for (const [text, expected] of others) {
      assert.equal(fast(text), -1, `fast path declines ${JSON.stringify(text)}`);
      assert.equal(slowSequence(text), expected, `slow path on ${JSON.stringify(text)}`);
    }
  });

  it('never disagrees with JSON.parse: a fast answer is always the slow answer (random mutations)', () => {
    const base = Buffer.from(goDocument('123456'), 'latin1');
    let fastAnswers = 0;
    for (let round = 0; round < 20_000; round++) {
      const doc = Buffer.from(base);
      const edits = 1 + (round % 3);
      const random = randomBytes(edits * 2);
      for (let e = 0; e < edits; e++) {
        // Mostly digits, quotes and structure characters: the edits that could fool a parser.
        const alphabet = '0123456789"\\ ,:{}-.e+tf';
        doc[random[e * 2]! % doc.length] = random[e * 2 + 1]! < 200 ? alphabet.charCodeAt(random[e * 2 + 1]! % alphabet.length) : random[e * 2 + 1]!;
      }
      const quick = fastAcknowledgedSequenceNumber(doc);
      if (quick === -1) continue;
      fastAnswers++;
      const slow = decodeAcknowledgement(doc);
      assert.ok(slow.ok, `fast path accepted what JSON.parse refuses: ${doc.toString('latin1')}`);
      assert.equal(quick, slow.value.acknowledgedSequenceNumber, doc.toString('latin1'));
    }
    assert.ok(fastAnswers > 1000, `the mutations left enough documents in the fast form (${fastAnswers})`);
  });
});

/** What the general path makes of a whole frame: decodeFrame, then decodeAcknowledgement; -1 when either refuses it or it is no acknowledge. */
function slowFrameSequence(data: Buffer): number {
  const frame = decodeFrame(data);
  if (!frame.ok || frame.value.messageType !== 'acknowledge') return -1;
  const ack = decodeAcknowledgement(frame.value.payload);
  return ack.ok ? ack.value.acknowledgedSequenceNumber : -1;
}

describe('acknowledge frames read in place', () => {
  it('reads the acknowledge frames we and Go write, and no stream message', () => {
    for (const sequenceNumber of [0, 5, 70_000, 999_999_999_999_999]) {
      const frame = encodeAcknowledgeFrame({ messageType: 'input_stream_data', messageId: randomMessageId(), sequenceNumber });
      assert.equal(acknowledgedSequenceOfFrame(frame), sequenceNumber);
      assert.equal(slowFrameSequence(frame), sequenceNumber);
    }
    const data = encodeFrame({ messageType: 'output_stream_data', sequenceNumber: 3, flags: 0, payloadType: PayloadType.output, payload: Buffer.from(goDocument('3')) });
    assert.equal(acknowledgedSequenceOfFrame(data), -1, 'a stream message that looks like an ack is none');
  });

  it('never disagrees with decodeFrame + decodeAcknowledgement (random mutations of header and payload)', () => {
    const base = encodeAcknowledgeFrame({ messageType: 'input_stream_data', messageId: randomMessageId(), sequenceNumber: 4242 });
    let fastAnswers = 0;
    for (let round = 0; round < 20_000; round++) {
      const frame = Buffer.from(base);
      const random = randomBytes(6);
      const edits = 1 + (round % 3);
      for (let e = 0; e < edits; e++) {
        // Mostly the header (lengths, type padding, dates, digest), sometimes the payload.
        const where = random[e * 2]! < 180 ? random[e * 2]! % 120 : 120 + (random[e * 2]! % (frame.length - 120));
        frame[where] = random[e * 2 + 1]! < 128 ? [0x00, 0x20, 0x09, 0x61, 0x30, 0x7d][random[e * 2 + 1]! % 6]! : random[e * 2 + 1]!;
      }
      const quick = acknowledgedSequenceOfFrame(frame);
      if (quick === -1) continue;
      fastAnswers++;
      assert.equal(quick, slowFrameSequence(frame), frame.toString('hex'));
    }
    // Edits that keep a frame valid: padding bytes of the type field, date and id bytes.
    assert.ok(fastAnswers > 500, `enough mutated frames stayed valid (${fastAnswers})`);
    // And the truncated and extended ones.
    assert.equal(acknowledgedSequenceOfFrame(base.subarray(0, base.length - 1)), -1);
    assert.equal(acknowledgedSequenceOfFrame(Buffer.concat([base, Buffer.from(' ')])), -1);
  });
});

describe('message ids written into frames', () => {
  it('a frame without a given id gets a fresh v4 id, different every time', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 600; i++) {
      const frame = encodeFrame({ messageType: 'input_stream_data', sequenceNumber: i, flags: 0, payloadType: PayloadType.output, payload: Buffer.from('x') });
      const decoded = decodeFrame(frame);
      assert.ok(decoded.ok);
      const text = messageIdToString(decoded.value.messageId);
      assert.match(text, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      seen.add(text);
    }
    assert.equal(seen.size, 600);
  });
});
