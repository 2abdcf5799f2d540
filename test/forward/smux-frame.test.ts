import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeSmuxFrame, SmuxCommand, SmuxFrameReader, type SmuxError } from '../../src/protocol/smux-frame.js';
import { SmuxPacker } from '../../src/protocol/smux-packer.js';
import { seededBytes, seededRandom } from '../helpers/prng.js';

type Event = { kind: 'control'; command: number; streamId: number } | { kind: 'data'; streamId: number; data: Buffer };

/** Reads `chunks` and returns what came out, with data pieces of one frame joined. */
function read(chunks: Buffer[]): { events: Event[]; errors: SmuxError[]; pieces: number } {
  const events: Event[] = [];
  const errors: SmuxError[] = [];
  let pending: Buffer[] = [];
  let pieces = 0;
  const reader = new SmuxFrameReader({
    onControl: (command, streamId) => events.push({ kind: 'control', command, streamId }),
    onData: (streamId, data, last) => {
      pieces++;
      pending.push(Buffer.from(data)); // the view is valid during the call only
      if (last) {
        events.push({ kind: 'data', streamId, data: Buffer.concat(pending) });
        pending = [];
      }
    },
    onError: (error) => errors.push(error),
  });
  for (const chunk of chunks) reader.push(chunk);
  return { events, errors, pieces };
}

/** Cuts `bytes` at random points (including zero-length pieces). */
function cut(bytes: Buffer, random: () => number, maxPiece: number): Buffer[] {
  const pieces: Buffer[] = [];
  for (let offset = 0; offset < bytes.length; ) {
    const length = Math.floor(random() * (maxPiece + 1));
    pieces.push(bytes.subarray(offset, offset + length));
    offset += length;
  }
  return pieces;
}

describe('smux v1 frame codec', () => {
  it('lays out the 8-byte header: version 1, command, little-endian length and stream id', () => {
    const frame = encodeSmuxFrame(SmuxCommand.psh, 0x01020304, Buffer.from('hi'));
    assert.deepEqual([...frame], [1, 2, 2, 0, 4, 3, 2, 1, 0x68, 0x69]);
    assert.deepEqual([...encodeSmuxFrame(SmuxCommand.syn, 3)], [1, 0, 0, 0, 3, 0, 0, 0]);
    assert.deepEqual([...encodeSmuxFrame(SmuxCommand.fin, 0xfffffffe)], [1, 1, 0, 0, 0xfe, 0xff, 0xff, 0xff]);
    assert.deepEqual([...encodeSmuxFrame(SmuxCommand.nop, 0)], [1, 3, 0, 0, 0, 0, 0, 0]);
    const big = encodeSmuxFrame(SmuxCommand.psh, 5, Buffer.alloc(0xffff, 7));
    assert.equal(big.readUInt16LE(2), 0xffff);
    assert.throws(() => encodeSmuxFrame(SmuxCommand.psh, 5, Buffer.alloc(0x10000)), RangeError);
  });

  it('reads SYN, PSH, FIN and NOP frames, and a zero-length PSH yields no data', () => {
    const bytes = Buffer.concat([
      encodeSmuxFrame(SmuxCommand.syn, 3),
      encodeSmuxFrame(SmuxCommand.psh, 3, Buffer.from('hello')),
      encodeSmuxFrame(SmuxCommand.psh, 3, Buffer.alloc(0)),
      encodeSmuxFrame(SmuxCommand.nop, 0),
      encodeSmuxFrame(SmuxCommand.fin, 3),
    ]);
    const { events, errors } = read([bytes]);
    assert.deepEqual(errors, []);
    assert.deepEqual(events, [
      { kind: 'control', command: SmuxCommand.syn, streamId: 3 },
      { kind: 'data', streamId: 3, data: Buffer.from('hello') },
      { kind: 'control', command: SmuxCommand.nop, streamId: 0 },
      { kind: 'control', command: SmuxCommand.fin, streamId: 3 },
    ]);
  });

  it('hands PSH data on piece by piece as it arrives, without waiting for the whole frame', () => {
    const data = seededBytes(3000, 4);
    const frame = encodeSmuxFrame(SmuxCommand.psh, 7, data);
    const seen: number[] = [];
    const reader = new SmuxFrameReader({
      onControl: () => assert.fail('no control frame here'),
      onData: (_id, piece) => seen.push(piece.length),
      onError: (error) => assert.fail(error.message),
    });
    reader.push(frame.subarray(0, 1008)); // header + 1000 data bytes
    assert.deepEqual(seen, [1000]);
    assert.equal(reader.atFrameBoundary, false);
    reader.push(frame.subarray(1008));
    assert.deepEqual(seen, [1000, 2000]);
    assert.equal(reader.atFrameBoundary, true);
  });

  it('rejects a version other than 1 and unknown commands (v2 UPD included), then reads nothing more', () => {
    const v2 = Buffer.from(encodeSmuxFrame(SmuxCommand.syn, 3));
    v2[0] = 2;
    let result = read([v2, encodeSmuxFrame(SmuxCommand.syn, 5)]);
    assert.equal(result.errors.length, 1);
    assert.equal(result.errors[0]!.code, 'SMUX_BAD_VERSION');
    assert.deepEqual(result.events, []);

    const upd = Buffer.from(encodeSmuxFrame(SmuxCommand.syn, 3));
    upd[1] = 4;
    result = read([encodeSmuxFrame(SmuxCommand.syn, 1), upd, encodeSmuxFrame(SmuxCommand.syn, 5)]);
    assert.equal(result.errors.length, 1);
    assert.equal(result.errors[0]!.code, 'SMUX_BAD_COMMAND');
    assert.deepEqual(result.events, [{ kind: 'control', command: SmuxCommand.syn, streamId: 1 }]);
  });

  it('ignores the length field of SYN/FIN/NOP as xtaci/smux does (no data follows them)', () => {
    const syn = Buffer.from(encodeSmuxFrame(SmuxCommand.syn, 3));
    syn.writeUInt16LE(9, 2);
    const { events, errors } = read([syn, encodeSmuxFrame(SmuxCommand.psh, 3, Buffer.from('x'))]);
    assert.deepEqual(errors, []);
    assert.deepEqual(events, [
      { kind: 'control', command: SmuxCommand.syn, streamId: 3 },
      { kind: 'data', streamId: 3, data: Buffer.from('x') },
    ]);
  });

  it('fuzz: random frames, cut at random boundaries, read back identically (500 rounds)', () => {
    const random = seededRandom(1516);
    for (let round = 0; round < 500; round++) {
      const expected: Event[] = [];
      const frames: Buffer[] = [];
      const count = 1 + Math.floor(random() * 20);
      for (let i = 0; i < count; i++) {
        const streamId = Math.floor(random() * 2 ** 32);
        const pick = random();
        if (pick < 0.6) {
          const length = random() < 0.1 ? 0xffff : Math.floor(random() * 3000);
          const data = seededBytes(length, round * 100 + i);
          frames.push(encodeSmuxFrame(SmuxCommand.psh, streamId, data));
          if (length > 0) expected.push({ kind: 'data', streamId, data });
        } else {
          const command = [SmuxCommand.syn, SmuxCommand.fin, SmuxCommand.nop][Math.floor(random() * 3)]!;
          frames.push(encodeSmuxFrame(command, streamId));
          expected.push({ kind: 'control', command, streamId });
        }
      }
      const bytes = Buffer.concat(frames);
      const maxPiece = [1, 7, 8, 9, 1024, 5000][round % 6]!;
      const { events, errors } = read(cut(bytes, random, maxPiece));
      assert.deepEqual(errors, [], `round ${round}`);
      assert.deepEqual(events, expected, `round ${round}`);
    }
  });

  it('fuzz: random garbage never throws and stops at the first bad header', () => {
    const random = seededRandom(77);
    for (let round = 0; round < 300; round++) {
      const garbage = seededBytes(Math.floor(random() * 4000), round);
      const { errors } = read(cut(garbage, random, 64));
      assert.ok(errors.length <= 1);
    }
  });
});

describe('smux packer', () => {
  it('fills every message to the size given and cuts frames across messages', () => {
    const messages: Buffer[] = [];
    const packer = new SmuxPacker((payload) => messages.push(Buffer.from(payload)), 1024);
    packer.control(SmuxCommand.syn, 3);
    packer.data(3, seededBytes(5000, 1));
    packer.control(SmuxCommand.fin, 3);
    packer.flush();
    const total = 8 + 8 + 5000 + 8;
    assert.equal(messages.length, Math.ceil(total / 1024));
    for (const message of messages.slice(0, -1)) assert.equal(message.length, 1024);
    assert.equal(messages.at(-1)!.length, total - 1024 * (messages.length - 1));
    assert.deepEqual(Buffer.concat(messages), Buffer.concat([
      encodeSmuxFrame(SmuxCommand.syn, 3),
      encodeSmuxFrame(SmuxCommand.psh, 3, seededBytes(5000, 1)),
      encodeSmuxFrame(SmuxCommand.fin, 3),
    ]));
  });

  it('splits data into frames of at most maxFrameData bytes', () => {
    const messages: Buffer[] = [];
    const packer = new SmuxPacker((payload) => messages.push(Buffer.from(payload)), 1024, 100);
    packer.data(9, seededBytes(250, 2));
    packer.flush();
    const { events } = read(messages);
    assert.deepEqual(events.map((event) => (event.kind === 'data' ? event.data.length : -1)), [100, 100, 50]);
  });

  it('fuzz: whatever is packed, with any message size, reads back as the same frames', () => {
    const random = seededRandom(9);
    for (let round = 0; round < 200; round++) {
      const messageBytes = 1 + Math.floor(random() * 1100);
      const messages: Buffer[] = [];
      const packer = new SmuxPacker((payload) => {
        assert.ok(payload.length <= messageBytes && payload.length > 0);
        messages.push(Buffer.from(payload));
      }, messageBytes, 1 + Math.floor(random() * 40000));
      const expected: Buffer[] = [];
      for (let i = 0; i < 10; i++) {
        if (random() < 0.3) packer.control(SmuxCommand.syn, i * 2 + 1);
        const data = seededBytes(Math.floor(random() * 5000), round * 10 + i);
        packer.data(i * 2 + 1, data);
        expected.push(data);
        if (random() < 0.2) packer.flush();
      }
      packer.flush();
      assert.equal(packer.pendingBytes, 0);
      const joined = new Map<number, Buffer[]>();
      const { events, errors } = read(messages);
      assert.deepEqual(errors, []);
      for (const event of events) {
        if (event.kind !== 'data') continue;
        joined.set(event.streamId, [...(joined.get(event.streamId) ?? []), event.data]);
      }
      for (let i = 0; i < 10; i++) {
        assert.deepEqual(Buffer.concat(joined.get(i * 2 + 1) ?? []), expected[i], `round ${round} stream ${i}`);
      }
    }
  });
});
