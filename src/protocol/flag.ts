import { ok, protocolError, type Result } from './protocol-error.js';

/** A Flag payload is exactly one big-endian uint32 (docs/protocol.md §4.4). */
export function encodeFlag(value: number): Buffer {
  const payload = Buffer.allocUnsafe(4);
  payload.writeUInt32BE(value, 0);
  return payload;
}

export function decodeFlag(payload: Buffer): Result<number> {
  if (payload.length !== 4) return protocolError('BAD_PAYLOAD', `flag payload of ${payload.length} bytes, expected 4`);
  return ok(payload.readUInt32BE(0));
}
