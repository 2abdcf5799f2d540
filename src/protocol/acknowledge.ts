import { HeaderFlag, MessageType, PAYLOAD_OFFSET, PayloadType } from './constants.js';
import { encodedFrameLength, encodeFrame, isValidFrameOfType } from './frame.js';
import { writeLatin1 } from './latin1.js';
import { MESSAGE_ID_TEXT_LENGTH, writeMessageIdText } from './message-id.js';
import { ok, protocolError, type Result } from './protocol-error.js';

/** Content of an `acknowledge` message (docs/protocol.md §5). Matching is by sequence number only. */
export interface Acknowledgement {
  acknowledgedMessageType: string;
  acknowledgedMessageId: string;
  acknowledgedSequenceNumber: number;
}

// The acknowledgement JSON in pieces: compact, Go's field order (docs/protocol.md §5).
const OPEN_TYPE = '{"AcknowledgedMessageType":"';
const OPEN_ID = '","AcknowledgedMessageId":"';
const OPEN_SEQUENCE = '","AcknowledgedMessageSequenceNumber":';
const CLOSE = ',"IsSequentialMessage":true}';
const FIXED_LENGTH = OPEN_TYPE.length + OPEN_ID.length + MESSAGE_ID_TEXT_LENGTH + OPEN_SEQUENCE.length + CLOSE.length;

function acknowledgementLength(messageType: string, sequenceNumber: number): number {
  return FIXED_LENGTH + messageType.length + decimalDigits(sequenceNumber);
}

function decimalDigits(value: number): number {
  let digits = 1;
  for (let rest = value; rest >= 10; rest = Math.floor(rest / 10)) digits++;
  return digits;
}

/**
 * Writes the acknowledgement JSON at `offset`; returns its length. Written piece by piece rather
 * than built as a string: it runs once per received message, and the strings it would make
 * outlived young-generation collections often enough to be the largest garbage of a download.
 */
function writeAcknowledgement(target: Buffer, offset: number, messageType: string, messageId: Buffer, sequenceNumber: number): number {
  let at = offset;
  at += writeLatin1(target, at, OPEN_TYPE);
  at += writeLatin1(target, at, messageType);
  at += writeLatin1(target, at, OPEN_ID);
  writeMessageIdText(target, at, messageId);
  at += MESSAGE_ID_TEXT_LENGTH;
  at += writeLatin1(target, at, OPEN_SEQUENCE);
  const end = at + decimalDigits(sequenceNumber);
  for (let rest = sequenceNumber, digit = end - 1; digit >= at; digit--, rest = Math.floor(rest / 10)) target[digit] = 0x30 + (rest % 10);
  at = end;
  at += writeLatin1(target, at, CLOSE);
  return at - offset;
}

/** The acknowledgement payload (docs/protocol.md §5) for one stream message. */
export function encodeAcknowledgement(messageType: string, messageId: Buffer, sequenceNumber: number): Buffer {
  const payload = Buffer.allocUnsafe(acknowledgementLength(messageType, sequenceNumber));
  writeAcknowledgement(payload, 0, messageType, messageId, sequenceNumber);
  return payload;
}

/**
 * The whole `acknowledge` frame for one received stream message: sequence 0, flags 3, payload
 * type 0, a fresh MessageId (docs/protocol.md §5). With `into` (when it is large enough) the frame is written
 * there, payload first, and returned as a view of it.
 */
export function encodeAcknowledgeFrame(acked: { messageType: string; messageId: Buffer; sequenceNumber: number }, into?: Buffer): Buffer {
  const payloadLength = acknowledgementLength(acked.messageType, acked.sequenceNumber);
  const frameLength = encodedFrameLength(payloadLength);
  const frame = into && into.length >= frameLength ? into : Buffer.allocUnsafe(frameLength);
  writeAcknowledgement(frame, PAYLOAD_OFFSET, acked.messageType, acked.messageId, acked.sequenceNumber);
  return encodeFrame(
    {
      messageType: MessageType.acknowledge,
      sequenceNumber: 0,
      flags: HeaderFlag.synFin,
      payloadType: PayloadType.none,
      payload: frame.subarray(PAYLOAD_OFFSET, PAYLOAD_OFFSET + payloadLength),
    },
    frame,
  );
}

const OPEN_TYPE_BYTES = Buffer.from(OPEN_TYPE, 'latin1');
const OPEN_ID_BYTES = Buffer.from(OPEN_ID, 'latin1');
const OPEN_SEQUENCE_BYTES = Buffer.from(OPEN_SEQUENCE, 'latin1');
const OPEN_SEQUENTIAL_BYTES = Buffer.from(',"IsSequentialMessage":', 'latin1');
const TRUE_CLOSE_BYTES = Buffer.from('true}', 'latin1');
const FALSE_CLOSE_BYTES = Buffer.from('false}', 'latin1');
/** Digits of the largest sequence number the fast path reads: 15 digits stay below 2^53. */
const MAX_FAST_DIGITS = 15;

/**
 * The acknowledged sequence number of an acknowledgement in the exact compact form both AWS
 * sides write (Go's json.Marshal, our `encodeAcknowledgement`), read without JSON.parse; -1 for
 * anything else, which then goes through `decodeAcknowledgement`. It accepts only documents that
 * `decodeAcknowledgement` accepts with the same sequence number: the fixed field order, string
 * values of printable ASCII without quote or backslash (so no escapes), a decimal number without
 * sign, fraction, exponent or leading zero, and `true` or `false`. It runs once per message sent.
 */
export function fastAcknowledgedSequenceNumber(payload: Buffer): number {
  return fastSequenceAt(payload, 0);
}

/**
 * The acknowledged sequence number of a whole `acknowledge` frame that `decodeFrame` accepts and
 * whose payload is in the compact form (see `fastAcknowledgedSequenceNumber`), read in place;
 * -1 for any other frame, which then goes through `decodeFrame` and `decodeAcknowledgement`.
 */
export function acknowledgedSequenceOfFrame(data: Buffer): number {
  if (!isValidFrameOfType(data, MessageType.acknowledge)) return -1;
  return fastSequenceAt(data, PAYLOAD_OFFSET);
}

/** `fastAcknowledgedSequenceNumber` of the document from `start` to the end of `payload`. */
function fastSequenceAt(payload: Buffer, start: number): number {
  let at = expectBytes(payload, start, OPEN_TYPE_BYTES);
  at = skipPlainString(payload, at);
  at = expectBytes(payload, at, OPEN_ID_BYTES);
  at = skipPlainString(payload, at);
  at = expectBytes(payload, at, OPEN_SEQUENCE_BYTES);
  if (at < 0) return -1;
  let sequence = 0;
  const digitsStart = at;
  while (at < payload.length) {
    const digit = payload[at]! - 0x30;
    if (digit < 0 || digit > 9) break;
    sequence = sequence * 10 + digit;
    at++;
  }
  const digits = at - digitsStart;
  if (digits === 0 || digits > MAX_FAST_DIGITS || (digits > 1 && payload[digitsStart] === 0x30)) return -1;
  at = expectBytes(payload, at, OPEN_SEQUENTIAL_BYTES);
  if (at < 0) return -1;
  const end = payload[at] === 0x74 ? expectBytes(payload, at, TRUE_CLOSE_BYTES) : expectBytes(payload, at, FALSE_CLOSE_BYTES);
  return end === payload.length ? sequence : -1;
}

/** The offset after `expected` if `data` holds it at `at`; -1 otherwise (also when `at` is -1). */
function expectBytes(data: Buffer, at: number, expected: Buffer): number {
  if (at < 0 || at + expected.length > data.length) return -1;
  for (let i = 0; i < expected.length; i++) if (data[at + i] !== expected[i]) return -1;
  return at + expected.length;
}

/** The offset of the closing quote of a string body of printable ASCII without `"` or `\`; -1 if there is none. */
function skipPlainString(data: Buffer, at: number): number {
  if (at < 0) return -1;
  for (; at < data.length; at++) {
    const byte = data[at]!;
    if (byte === 0x22) return at;
    if (byte < 0x20 || byte > 0x7e || byte === 0x5c) return -1;
  }
  return -1;
}

export function decodeAcknowledgement(payload: Buffer): Result<Acknowledgement> {
  const json = parseJsonObject(payload);
  if (!json) return protocolError('BAD_PAYLOAD', 'acknowledge payload is not a JSON object');
  const sequence = json.AcknowledgedMessageSequenceNumber;
  if (typeof sequence !== 'number' || !Number.isSafeInteger(sequence) || sequence < 0) {
    return protocolError('BAD_PAYLOAD', 'acknowledge payload has no valid AcknowledgedMessageSequenceNumber');
  }
  return ok({
    acknowledgedMessageType: typeof json.AcknowledgedMessageType === 'string' ? json.AcknowledgedMessageType : '',
    acknowledgedMessageId: typeof json.AcknowledgedMessageId === 'string' ? json.AcknowledgedMessageId : '',
    acknowledgedSequenceNumber: sequence,
  });
}

/** JSON.parse that returns undefined instead of throwing, and only accepts objects. */
export function parseJsonObject(payload: Buffer): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(payload.toString('utf8'));
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
