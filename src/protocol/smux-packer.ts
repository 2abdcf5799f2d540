import { SMUX_HEADER_LENGTH, SMUX_MAX_DATA_LENGTH, SmuxCommand, writeSmuxHeader } from './smux-frame.js';

/**
 * Writes smux v1 frames into fixed-size message payloads (docs/protocol.md §16): frames are laid
 * end to end and cut wherever a message is full, as the agent and the plugin do with their
 * 1024-byte reads. One scratch buffer is reused; `emit` receives a view of it that is valid only
 * during the call (the data channel copies it into its own frame).
 */
export class SmuxPacker {
  private readonly scratch: Buffer;
  private readonly straddlingHeader = Buffer.allocUnsafe(SMUX_HEADER_LENGTH);
  private filled = 0;

  constructor(
    private readonly emit: (payload: Buffer) => void,
    private readonly messageBytes = 1024,
    /** Largest PSH data per frame; xtaci/smux's default MaxFrameSize. */
    private readonly maxFrameData = 32768,
  ) {
    if (messageBytes < 1) throw new RangeError('messageBytes must be positive');
    if (maxFrameData < 1 || maxFrameData > SMUX_MAX_DATA_LENGTH) throw new RangeError('maxFrameData out of range');
    this.scratch = Buffer.allocUnsafe(Math.max(messageBytes, SMUX_HEADER_LENGTH));
  }

  /** Bytes waiting for `flush()` or for the message to fill. */
  get pendingBytes(): number {
    return this.filled;
  }

  control(command: typeof SmuxCommand.syn | typeof SmuxCommand.fin | typeof SmuxCommand.nop, streamId: number): void {
    this.header(command, streamId, 0);
  }

  /** PSH frames for `data`, split at `maxFrameData`. */
  data(streamId: number, data: Buffer): void {
    for (let offset = 0; offset < data.length; ) {
      const length = Math.min(this.maxFrameData, data.length - offset);
      this.header(SmuxCommand.psh, streamId, length);
      this.bytes(data, offset, offset + length);
      offset += length;
    }
  }

  /** Sends the partly filled message, if any. */
  flush(): void {
    if (this.filled === 0) return;
    const length = this.filled;
    this.filled = 0;
    this.emit(this.scratch.subarray(0, length));
  }

  private header(command: number, streamId: number, length: number): void {
    if (this.messageBytes - this.filled >= SMUX_HEADER_LENGTH) {
      this.filled = writeSmuxHeader(this.scratch, this.filled, command, streamId, length);
      if (this.filled === this.messageBytes) this.flush();
      return;
    }
    // The header straddles two messages.
    writeSmuxHeader(this.straddlingHeader, 0, command, streamId, length);
    this.bytes(this.straddlingHeader, 0, SMUX_HEADER_LENGTH);
  }

  private bytes(source: Buffer, start: number, end: number): void {
    while (start < end) {
      const take = Math.min(end - start, this.messageBytes - this.filled);
      source.copy(this.scratch, this.filled, start, start + take);
      this.filled += take;
      start += take;
      if (this.filled === this.messageBytes) this.flush();
    }
  }
}
