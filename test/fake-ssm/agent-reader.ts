/**
 * How the SSM Agent reads a client frame (docs/protocol.md §4.2), written from the agent's
 * behaviour and independent of src/protocol, so the fake is exactly as strict as the agent:
 *
 * - fields at the fixed offsets of §4.1; MessageType with NULs and whitespace trimmed;
 * - the payload is everything from HeaderLength + 4 to the end; PayloadLength is not used;
 * - refused: shorter than 116 bytes, HeaderLength 0, empty MessageType, CreatedDate 0;
 * - HeaderLength + 4 past the end makes the Go reader panic (the session then hangs): reported;
 * - the digest is never checked. A wrong digest or PayloadLength is reported, not refused.
 */
import { createHash } from 'node:crypto';
import type { Frame } from '../../src/protocol/index.js';

export type AgentRead =
  | { ok: true; frame: Frame; digestMatches: boolean; payloadLengthMatches: boolean }
  | { ok: false; problem: 'invalid' | 'would-hang'; reason: string };

export function readLikeAgent(data: Buffer): AgentRead {
  if (data.length < 116) return { ok: false, problem: 'invalid', reason: `frame of ${data.length} bytes` };
  const headerLength = data.readUInt32BE(0);
  if (headerLength + 4 > data.length) {
    return { ok: false, problem: 'would-hang', reason: `HeaderLength ${headerLength} in a ${data.length}-byte frame` };
  }
  const messageType = trimType(data.subarray(4, 36));
  const createdDate = Number(data.readBigUInt64BE(40));
  if (headerLength === 0 || messageType === '' || createdDate === 0) {
    return { ok: false, problem: 'invalid', reason: 'zero HeaderLength, empty MessageType or zero CreatedDate' };
  }
  const payload = data.subarray(headerLength + 4);
  const frame: Frame = {
    messageType,
    schemaVersion: data.readUInt32BE(36),
    createdDate,
    sequenceNumber: Number(data.readBigInt64BE(48)),
    flags: Number(data.readBigUInt64BE(56)),
    messageId: Buffer.concat([data.subarray(72, 80), data.subarray(64, 72)]),
    payloadType: data.readUInt32BE(112),
    payload,
  };
  const digest = createHash('sha256').update(payload).digest();
  return {
    ok: true,
    frame,
    digestMatches: digest.equals(data.subarray(80, 112)),
    payloadLengthMatches: data.length >= 120 && data.readUInt32BE(116) === payload.length,
  };
}

/** Go's bytes.Trim(…, "\x00") then strings.TrimSpace. */
function trimType(field: Buffer): string {
  let start = 0;
  let end = field.length;
  while (start < end && field[start] === 0) start++;
  while (end > start && field[end - 1] === 0) end--;
  return field.subarray(start, end).toString('latin1').trim();
}
