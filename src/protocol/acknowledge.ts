import { HeaderFlag, MessageType, PayloadType } from './constants.js';
import { encodeFrame } from './frame.js';
import { messageIdToString, randomMessageId } from './message-id.js';
import { ok, protocolError, type Result } from './protocol-error.js';

/** Content of an `acknowledge` message (§5). Matching is by sequence number only. */
export interface Acknowledgement {
  acknowledgedMessageType: string;
  acknowledgedMessageId: string;
  acknowledgedSequenceNumber: number;
}

/** Compact JSON with the Go field order; built by hand since it runs once per stream message. */
export function encodeAcknowledgement(messageType: string, messageId: Buffer, sequenceNumber: number): Buffer {
  return Buffer.from(
    `{"AcknowledgedMessageType":"${messageType}","AcknowledgedMessageId":"${messageIdToString(messageId)}",` +
      `"AcknowledgedMessageSequenceNumber":${sequenceNumber},"IsSequentialMessage":true}`,
    'latin1',
  );
}

/**
 * The whole `acknowledge` frame for one received stream message: sequence 0, flags 3, payload
 * type 0, a fresh MessageId (§5).
 */
export function encodeAcknowledgeFrame(acked: { messageType: string; messageId: Buffer; sequenceNumber: number }): Buffer {
  return encodeFrame({
    messageType: MessageType.acknowledge,
    sequenceNumber: 0,
    flags: HeaderFlag.ack,
    messageId: randomMessageId(),
    payloadType: PayloadType.none,
    payload: encodeAcknowledgement(acked.messageType, acked.messageId, acked.sequenceNumber),
  });
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
