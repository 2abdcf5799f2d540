import { randomFillSync } from 'node:crypto';
import { Offset } from './constants.js';

/**
 * MessageIds are UUIDs whose two 8-byte halves are swapped on the wire (docs/protocol.md §4.5). In memory we keep
 * the canonical 16 bytes (the order of the hex string); these helpers do the swap.
 */

export const MESSAGE_ID_LENGTH = 16;

/**
 * Random bytes are drawn 4 KiB at a time: one id per frame makes the per-call cost of the
 * CSPRNG the larger part of encoding a 1 KiB frame otherwise. The pool is a cache of
 * randomness, not state anything depends on.
 */
const POOL_SIZE = 4096;
const pool = Buffer.allocUnsafe(POOL_SIZE);
let poolOffset = POOL_SIZE;

/** A fresh random v4 UUID, canonical byte order. */
export function randomMessageId(): Buffer {
  if (poolOffset + MESSAGE_ID_LENGTH > POOL_SIZE) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const id = Buffer.from(pool.subarray(poolOffset, poolOffset + MESSAGE_ID_LENGTH));
  poolOffset += MESSAGE_ID_LENGTH;
  id[6] = (id[6]! & 0x0f) | 0x40; // version 4
  id[8] = (id[8]! & 0x3f) | 0x80; // RFC 4122 variant
  return id;
}

/**
 * Writes a fresh random v4 id straight into a frame's MessageId field (as `writeMessageId` would
 * write `randomMessageId()`), without a Buffer of its own: one per outgoing frame.
 */
export function writeRandomMessageId(frame: Buffer): void {
  if (poolOffset + MESSAGE_ID_LENGTH > POOL_SIZE) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  for (let i = 0; i < MESSAGE_ID_LENGTH; i++) frame[Offset.messageId + i] = pool[poolOffset + i]!; // cheaper than copy() for 16 bytes
  poolOffset += MESSAGE_ID_LENGTH;
  // On the wire the canonical bytes 8..15 come first (docs/protocol.md §4.5).
  frame[Offset.messageId + 8 + 6] = (frame[Offset.messageId + 8 + 6]! & 0x0f) | 0x40; // version 4
  frame[Offset.messageId] = (frame[Offset.messageId]! & 0x3f) | 0x80; // RFC 4122 variant
}

/** Writes a canonical id into a frame at the MessageId field, halves swapped. */
export function writeMessageId(frame: Buffer, canonicalId: Buffer): void {
  canonicalId.copy(frame, Offset.messageId, 8, 16);
  canonicalId.copy(frame, Offset.messageId + 8, 0, 8);
}

/** Reads the MessageId field of a frame back into canonical order. */
export function readMessageId(frame: Buffer): Buffer {
  const id = Buffer.allocUnsafe(MESSAGE_ID_LENGTH);
  frame.copy(id, 0, Offset.messageId + 8, Offset.messageId + 16);
  frame.copy(id, 8, Offset.messageId, Offset.messageId + 8);
  return id;
}

/** Length of the canonical text of a MessageId. */
export const MESSAGE_ID_TEXT_LENGTH = 36;

const HEX_DIGITS = Buffer.from('0123456789abcdef', 'latin1');

/**
 * Writes the canonical text of `id` (as `messageIdToString` gives it) into `target` at `offset`,
 * without building a string: acknowledgements do this once per received message.
 */
export function writeMessageIdText(target: Buffer, offset: number, id: Buffer): void {
  let at = offset;
  for (let i = 0; i < MESSAGE_ID_LENGTH; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) target[at++] = 0x2d; // '-'
    const byte = id[i]!;
    target[at++] = HEX_DIGITS[byte >> 4]!;
    target[at++] = HEX_DIGITS[byte & 0x0f]!;
  }
}

/** Canonical lowercase hyphenated text, as used inside acknowledgements (docs/protocol.md §5). */
export function messageIdToString(id: Buffer): string {
  const hex = id.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const UUID_TEXT = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Parses canonical UUID text; undefined when it is not one. */
export function messageIdFromString(text: string): Buffer | undefined {
  if (!UUID_TEXT.test(text)) return undefined;
  return Buffer.from(text.replace(/-/g, ''), 'hex');
}
