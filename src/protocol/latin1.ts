/**
 * Writes `text` at `offset` one byte per UTF-16 code unit (its low byte, as Buffer's 'latin1'
 * encoding does); returns the number of bytes written. For the short, fixed texts of every frame
 * (message type, acknowledgement JSON, digest) a loop is several times cheaper than
 * `buffer.write(text, offset, 'latin1')`, whose per-call overhead measured ~0.5 µs.
 * `target` must have room: the callers size their buffers first.
 */
export function writeLatin1(target: Buffer, offset: number, text: string): number {
  const length = text.length;
  for (let i = 0; i < length; i++) target[offset + i] = text.charCodeAt(i) & 0xff;
  return length;
}
