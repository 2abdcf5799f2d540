import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { MaskedFrameEncoder } from '../../src/transport/masked-frame-encoder.js';

/** An independent reading of RFC 6455 §5.2 for one client frame: header fields and unmasked payload. */
function parseClientFrame(frame: Buffer): { fin: boolean; opcode: number; mask: Buffer; payload: Buffer } {
  assert.equal(frame[1]! & 0x80, 0x80, 'the MASK bit is set');
  let length = frame[1]! & 0x7f;
  let at = 2;
  if (length === 126) {
    length = frame.readUInt16BE(2);
    assert.ok(length >= 126, 'minimal length encoding');
    at = 4;
  } else if (length === 127) {
    length = Number(frame.readBigUInt64BE(2));
    assert.ok(length >= 0x1_0000, 'minimal length encoding');
    at = 10;
  }
  const mask = frame.subarray(at, at + 4);
  const masked = frame.subarray(at + 4);
  assert.equal(masked.length, length, 'the frame holds exactly the payload');
  const payload = Buffer.alloc(length);
  for (let i = 0; i < length; i++) payload[i] = masked[i]! ^ mask[i % 4]!;
  return { fin: (frame[0]! & 0x80) !== 0, opcode: frame[0]! & 0x0f, mask: Buffer.from(mask), payload };
}

describe('MaskedFrameEncoder', () => {
  it('frames every length as one final binary frame whose unmasked payload is the input', () => {
    const encoder = new MaskedFrameEncoder();
    const backing = randomBytes(70_010);
    for (const length of [0, 1, 3, 4, 15, 16, 17, 125, 126, 127, 270, 1144, 1145, 65_535, 65_536, 70_000]) {
      // Aligned and unaligned sources: the word-wise path and the byte-wise one.
      for (const start of [0, 1, 2, 3, 8]) {
        const payload = backing.subarray(start, start + length);
        const before = Buffer.from(payload);
        const parsed = parseClientFrame(encoder.encode(payload));
        assert.equal(parsed.fin, true);
        assert.equal(parsed.opcode, 2);
        assert.ok(parsed.payload.equals(payload), `length ${length} from offset ${start}`);
        assert.ok(payload.equals(before), 'the input is not changed');
      }
    }
  });

  it('frames handed out stay intact while later ones are encoded (across slabs)', () => {
    const encoder = new MaskedFrameEncoder();
    const payloads = Array.from({ length: 600 }, (_, i) => randomBytes([1144, 270, 40, 5000][i % 4]!));
    const frames = payloads.map((payload) => encoder.encode(payload));
    frames.forEach((frame, i) => assert.ok(parseClientFrame(frame).payload.equals(payloads[i]!), `frame ${i}`));
  });

  it('sources from three ArrayBuffers in turn (data, acks, a third): each frame unmasks to its own payload', () => {
    const encoder = new MaskedFrameEncoder();
    const sources = [Buffer.alloc(8192), Buffer.alloc(8192), Buffer.alloc(8192)].map((buffer) => randomBytes(buffer.length));
    const order = [0, 1, 0, 1, 2, 0, 2, 1, 1, 0, 2, 2];
    order.forEach((which, i) => {
      const payload = sources[which]!.subarray(8 * i, 8 * i + 1144);
      assert.ok(parseClientFrame(encoder.encode(payload)).payload.equals(payload), `frame ${i} from source ${which}`);
    });
  });

  it('draws a fresh random key for every frame (RFC 6455 §5.3), across refills of its pool', () => {
    const encoder = new MaskedFrameEncoder();
    const keys = new Set<string>();
    const payload = Buffer.alloc(1144, 0xab);
    for (let i = 0; i < 3000; i++) keys.add(parseClientFrame(encoder.encode(payload)).mask.toString('hex'));
    // 3000 draws from 2^32 keys: a repeat has a probability of about 0.1 %.
    assert.ok(keys.size >= 2998, `${keys.size} distinct keys in 3000 frames`);
  });
});
