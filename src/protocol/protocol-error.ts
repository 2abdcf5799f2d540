/**
 * A broken frame or payload is a value, not an exception: decoders return
 * `{ ok: false, error }` and the caller decides (drop and let the peer retransmit, or end the
 * session). One helper builds them, as `ws` does with its receiver errors.
 */
export type ProtocolErrorCode =
  | 'FRAME_TOO_SHORT'
  | 'BAD_HEADER_LENGTH'
  | 'PAYLOAD_LENGTH_MISMATCH'
  | 'EMPTY_MESSAGE_TYPE'
  | 'BAD_MESSAGE_TYPE'
  | 'ZERO_CREATED_DATE'
  | 'SEQUENCE_OUT_OF_RANGE'
  | 'DIGEST_MISMATCH'
  | 'BAD_PAYLOAD';

export interface ProtocolError {
  readonly code: ProtocolErrorCode;
  readonly message: string;
}

export type Result<T> = { ok: true; value: T } | { ok: false; error: ProtocolError };

export function protocolError(code: ProtocolErrorCode, message: string): { ok: false; error: ProtocolError } {
  return { ok: false, error: { code, message } };
}

export function ok<T>(value: T): { ok: true; value: T } {
  return { ok: true, value };
}
