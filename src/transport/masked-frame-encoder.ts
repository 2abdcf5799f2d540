import { randomFillSync } from 'node:crypto';

/** Random masking keys drawn at a time: one CSPRNG call per 1024 frames. */
const RANDOM_POOL_BYTES = 4096;
const OPCODE_BINARY = 0x2;
const FIN = 0x80;
const MASK_BIT = 0x80;
/** Byte order of Int32Array views on this machine. */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * Frames are carved out of slabs of this size, never reused: a slab goes once its last frame is
 * written and collected. Small, because a frame that reaches the old generation keeps its slab.
 */
const SLAB_BYTES = 32 * 1024;
/** Larger frames get a buffer of their own. */
const MAX_SLAB_FRAME = 8 * 1024;

/**
 * Encodes client-to-server websocket binary messages (RFC 6455 §5.2): one final frame, masked
 * with a fresh random key per frame (§5.3: unpredictable keys, from the CSPRNG, like ws), header
 * and masked payload in one buffer of their own.
 *
 * Why not `ws.send`: ws masks byte by byte in JavaScript when the native bufferutil is absent (it
 * is not bundled), which cost ~4 µs per 1 KiB data-channel message, a fifth of an upload's CPU.
 * Here the mask is applied 32 bits at a time through Int32Array views where both sides are
 * 4-byte aligned, as they are on the hot path: frames are carved out of a slab at 8-byte
 * boundaries and the header of a 126..65535-byte payload is 8 bytes; the stream's frame buffers
 * are 8-byte aligned too. One view per slab and one per source ArrayBuffer (the last two kept:
 * data frames and acknowledgements come from different ones and alternate), and a new 32 KiB slab every ~28 frames instead of Node's 8 KiB pool
 * every 7: an upload allocates little more than the Buffer object of each frame.
 */
export class MaskedFrameEncoder {
  private readonly random = Buffer.allocUnsafe(RANDOM_POOL_BYTES);
  private randomOffset = RANDOM_POOL_BYTES;
  private slab = Buffer.alloc(0);
  private slabWords = new Int32Array(0);
  private slabUsed = 0;
  /** Views of the last two source ArrayBuffers: data frames (stream slabs) and acks alternate. */
  private sourceBuffers: [ArrayBufferLike | undefined, ArrayBufferLike | undefined] = [undefined, undefined];
  private sourceWords: [Int32Array, Int32Array] = [new Int32Array(0), new Int32Array(0)];

  encode(payload: Buffer): Buffer {
    const length = payload.length;
    const lengthBytes = length < 126 ? 0 : length < 0x1_0000 ? 2 : 8;
    const maskAt = 2 + lengthBytes;
    const payloadAt = maskAt + 4;
    const frameLength = payloadAt + length;
    let frame: Buffer;
    let frameWords: Int32Array | undefined;
    if (frameLength <= MAX_SLAB_FRAME) {
      if (this.slabUsed + frameLength > this.slab.length) {
        this.slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
        this.slabWords = new Int32Array(this.slab.buffer, this.slab.byteOffset, SLAB_BYTES >>> 2);
        this.slabUsed = 0;
      }
      frame = this.slab.subarray(this.slabUsed, this.slabUsed + frameLength);
      frameWords = this.slabWords;
      this.slabUsed = (this.slabUsed + frameLength + 7) & ~7;
    } else {
      frame = Buffer.allocUnsafe(frameLength);
    }
    frame[0] = FIN | OPCODE_BINARY;
    if (lengthBytes === 0) frame[1] = MASK_BIT | length;
    else if (lengthBytes === 2) {
      frame[1] = MASK_BIT | 126;
      frame.writeUInt16BE(length, 2);
    } else {
      frame[1] = MASK_BIT | 127;
      frame.writeUInt32BE(Math.floor(length / 0x1_0000_0000), 2);
      frame.writeUInt32BE(length >>> 0, 6);
    }
    if (this.randomOffset === RANDOM_POOL_BYTES) {
      randomFillSync(this.random);
      this.randomOffset = 0;
    }
    const random = this.random;
    const at = this.randomOffset;
    const m0 = (frame[maskAt] = random[at]!);
    const m1 = (frame[maskAt + 1] = random[at + 1]!);
    const m2 = (frame[maskAt + 2] = random[at + 2]!);
    const m3 = (frame[maskAt + 3] = random[at + 3]!);
    this.randomOffset = at + 4;

    let done = 0;
    const target = frame.byteOffset + payloadAt - (frameWords ? this.slab.byteOffset : 0);
    if (length >= 16 && payload.byteOffset % 4 === 0 && target % 4 === 0) {
      // Word i of either view holds bytes 4i..4i+3 in the platform's byte order; so does the key.
      const key = LITTLE_ENDIAN ? m0 | (m1 << 8) | (m2 << 16) | (m3 << 24) : (m0 << 24) | (m1 << 16) | (m2 << 8) | m3;
      const to = frameWords ?? new Int32Array(frame.buffer, frame.byteOffset + payloadAt, length >>> 2);
      const toStart = frameWords ? target >>> 2 : 0;
      const from = this.wordsOf(payload);
      const fromStart = payload.byteOffset >>> 2;
      const words = length >>> 2;
      for (let i = 0; i < words; i++) to[toStart + i] = from[fromStart + i]! ^ key;
      done = words * 4;
    }
    for (let i = done; i < length; i++) {
      const key = (i & 3) === 0 ? m0 : (i & 3) === 1 ? m1 : (i & 3) === 2 ? m2 : m3;
      frame[payloadAt + i] = payload[i]! ^ key;
    }
    return frame;
  }

  /** An Int32Array over the whole ArrayBuffer under `payload` (kept for the next frames from it). */
  private wordsOf(payload: Buffer): Int32Array {
    const buffers = this.sourceBuffers;
    const views = this.sourceWords;
    if (payload.buffer === buffers[0]) return views[0];
    if (payload.buffer !== buffers[1]) {
      buffers[1] = payload.buffer;
      views[1] = new Int32Array(payload.buffer as ArrayBuffer, 0, payload.buffer.byteLength >>> 2);
    }
    // The most recent first (plain swaps: no arrays made per frame).
    const buffer = buffers[1];
    const view = views[1];
    buffers[1] = buffers[0];
    views[1] = views[0];
    buffers[0] = buffer;
    views[0] = view;
    return view;
  }
}
