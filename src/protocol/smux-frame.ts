/**
 * smux protocol version 1 (xtaci/smux), the multiplexer that port forwarding runs inside the
 * data channel's Output payloads (docs/protocol.md §16). Pure functions over Buffers.
 *
 *   byte 0    version (always 1 here)
 *   byte 1    command: SYN 0, FIN 1, PSH 2, NOP 3
 *   bytes 2-3 data length, little-endian (PSH only; 0 otherwise)
 *   bytes 4-7 stream id, little-endian
 *   data      `length` bytes
 *
 * The byte stream is cut into messages without regard to frame boundaries, so the reader below
 * is incremental: a header may straddle two payloads, and PSH data is handed on piece by piece
 * as it arrives rather than reassembled.
 */

export const SMUX_VERSION = 1;
export const SMUX_HEADER_LENGTH = 8;
/** The length field is 16 bits. */
export const SMUX_MAX_DATA_LENGTH = 0xffff;

export const SmuxCommand = {
  syn: 0,
  fin: 1,
  psh: 2,
  nop: 3,
} as const;

export type SmuxErrorCode = 'SMUX_BAD_VERSION' | 'SMUX_BAD_COMMAND';

/** A broken smux stream is a value, like the data channel's ProtocolError. */
export interface SmuxError {
  readonly code: SmuxErrorCode;
  readonly message: string;
}

/** Writes one frame header at `offset`; returns the offset after it. */
export function writeSmuxHeader(target: Buffer, offset: number, command: number, streamId: number, length: number): number {
  target[offset] = SMUX_VERSION;
  target[offset + 1] = command;
  target.writeUInt16LE(length, offset + 2);
  target.writeUInt32LE(streamId >>> 0, offset + 4);
  return offset + SMUX_HEADER_LENGTH;
}

/** One whole frame in a new buffer: for tests and rare control frames, not the data path. */
export function encodeSmuxFrame(command: number, streamId: number, data: Buffer = Buffer.alloc(0)): Buffer {
  if (data.length > SMUX_MAX_DATA_LENGTH) throw new RangeError(`smux frame data of ${data.length} bytes exceeds ${SMUX_MAX_DATA_LENGTH}`);
  const frame = Buffer.allocUnsafe(SMUX_HEADER_LENGTH + data.length);
  writeSmuxHeader(frame, 0, command, streamId, data.length);
  data.copy(frame, SMUX_HEADER_LENGTH);
  return frame;
}

export interface SmuxFrameHandler {
  /** A SYN, FIN or NOP frame (NOP carries stream id 0 in practice, but any is accepted). */
  onControl(command: number, streamId: number): void;
  /**
   * A piece of a PSH frame's data: a view into the pushed chunk, valid only during the call.
   * `last` marks the final piece of the frame. A zero-length PSH yields nothing.
   */
  onData(streamId: number, data: Buffer, last: boolean): void;
  /** The stream is broken (the peer's smux session would die here too); nothing more is read. */
  onError(error: SmuxError): void;
}

/**
 * Incremental smux v1 reader, written as two states: collecting a header, and passing data on.
 * Allocation-free on the data path.
 */
export class SmuxFrameReader {
  private readonly header = Buffer.alloc(SMUX_HEADER_LENGTH);
  private headerFilled = 0;
  /** PSH data bytes still to come for `dataStreamId`; 0 while reading a header. */
  private dataRemaining = 0;
  private dataStreamId = 0;
  private failed = false;

  constructor(private readonly handler: SmuxFrameHandler) {}

  get isBroken(): boolean {
    return this.failed;
  }

  /** True between frames: no partial header or data pending. */
  get atFrameBoundary(): boolean {
    return this.headerFilled === 0 && this.dataRemaining === 0;
  }

  push(chunk: Buffer): void {
    let offset = 0;
    while (offset < chunk.length && !this.failed) {
      if (this.dataRemaining > 0) {
        const take = Math.min(this.dataRemaining, chunk.length - offset);
        this.dataRemaining -= take;
        this.handler.onData(this.dataStreamId, chunk.subarray(offset, offset + take), this.dataRemaining === 0);
        offset += take;
        continue;
      }
      const take = Math.min(SMUX_HEADER_LENGTH - this.headerFilled, chunk.length - offset);
      chunk.copy(this.header, this.headerFilled, offset, offset + take);
      this.headerFilled += take;
      offset += take;
      if (this.headerFilled === SMUX_HEADER_LENGTH) {
        this.headerFilled = 0;
        this.onHeader();
      }
    }
  }

  private onHeader(): void {
    const { header } = this;
    const version = header[0]!;
    const command = header[1]!;
    const length = header.readUInt16LE(2);
    const streamId = header.readUInt32LE(4);
    if (version !== SMUX_VERSION) {
      this.fail({ code: 'SMUX_BAD_VERSION', message: `smux frame of version ${version}, expected ${SMUX_VERSION}` });
      return;
    }
    switch (command) {
      case SmuxCommand.psh:
        this.dataStreamId = streamId;
        this.dataRemaining = length;
        return;
      case SmuxCommand.syn:
      case SmuxCommand.fin:
      case SmuxCommand.nop:
        // xtaci/smux ignores the length of these frames and reads no data after them.
        this.handler.onControl(command, streamId);
        return;
      default:
        this.fail({ code: 'SMUX_BAD_COMMAND', message: `smux frame with unknown command ${command}` });
    }
  }

  private fail(error: SmuxError): void {
    this.failed = true;
    this.handler.onError(error);
  }
}
