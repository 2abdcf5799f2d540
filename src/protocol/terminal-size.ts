import { parseJsonObject } from './acknowledge.js';
import { ok, protocolError, type Result } from './protocol-error.js';

/** The Size payload (PayloadType 3): the client's terminal size, §14.3. */
export interface TerminalSize {
  cols: number;
  rows: number;
}

const MAX_UINT32 = 0xffff_ffff;

/** `{"cols":N,"rows":N}` in Go's field order; both are uint32 on the agent. */
export function encodeTerminalSize(size: TerminalSize): Buffer {
  return Buffer.from(`{"cols":${clampUint32(size.cols)},"rows":${clampUint32(size.rows)}}`, 'utf8');
}

export function decodeTerminalSize(payload: Buffer): Result<TerminalSize> {
  const json = parseJsonObject(payload);
  if (!json) return protocolError('BAD_PAYLOAD', 'Size payload is not a JSON object');
  const { cols, rows } = json;
  if (!isUint32(cols) || !isUint32(rows)) return protocolError('BAD_PAYLOAD', 'Size payload needs whole numbers cols and rows');
  return ok({ cols, rows });
}

function isUint32(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= MAX_UINT32;
}

function clampUint32(value: number): number {
  if (!Number.isFinite(value) || value < 0) return 0;
  return Math.min(Math.floor(value), MAX_UINT32);
}
