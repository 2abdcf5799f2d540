/**
 * An independent reader of a Mach-O executable's embedded code signature, for the tests: it
 * shares no code with scripts/macho-adhoc-sign.ts and checks what macOS's kernel and `codesign
 * --verify` would look at, from the file alone:
 *
 *   - the header (64-bit, executable, the expected CPU), every load command within bounds;
 *   - LC_CODE_SIGNATURE's blob inside the file, 16-byte aligned, at the end, covered by
 *     __LINKEDIT, the last segment, which ends exactly at the end of the file;
 *   - the SuperBlob's index and every blob's magic and length;
 *   - the CodeDirectory: SHA-256, 4 KiB pages, codeLimit at the signature, every page hash
 *     recomputed, the special slots (-1 no Info.plist, -2 the requirements blob's hash), the
 *     identifier, CS_ADHOC, the executable segment (__TEXT);
 *   - its own hash, the cdhash.
 *
 * Every problem found is listed; an empty list means a valid ad-hoc signature.
 */
import { createHash } from 'node:crypto';

export const CPU_TYPE_X86_64 = 0x01000007;
export const CPU_TYPE_ARM64 = 0x0100000c;

export interface SegmentInfo {
  name: string;
  vmaddr: bigint;
  vmsize: bigint;
  fileoff: number;
  filesize: number;
  sections: { name: string; offset: number; size: number }[];
}

export interface SignatureReport {
  problems: string[];
  cputype: number;
  segments: SegmentInfo[];
  identifier?: string;
  flags?: number;
  pages?: number;
  codeLimit?: number;
  cdhash?: string;
  blobTypes: number[];
}

const be32 = (b: Buffer, at: number): number => b.readUInt32BE(at);

function cString(bytes: Buffer, at: number, limit: number): string {
  const end = bytes.indexOf(0, at);
  return bytes.toString('utf8', at, end === -1 || end > limit ? limit : end);
}

export function checkMachOSignature(file: Buffer): SignatureReport {
  const problems: string[] = [];
  const report: SignatureReport = { problems, cputype: 0, segments: [], blobTypes: [] };
  if (file.length < 32 || file.readUInt32LE(0) !== 0xfeedfacf) {
    problems.push('not a 64-bit little-endian Mach-O');
    return report;
  }
  report.cputype = file.readUInt32LE(4);
  if (file.readUInt32LE(12) !== 2) problems.push(`filetype ${file.readUInt32LE(12)}, not MH_EXECUTE`);
  const ncmds = file.readUInt32LE(16);
  const sizeofcmds = file.readUInt32LE(20);
  let signature: { dataoff: number; datasize: number } | undefined;
  let offset = 32;
  for (let i = 0; i < ncmds; i++) {
    if (offset + 8 > 32 + sizeofcmds) {
      problems.push(`load command ${i} starts past sizeofcmds`);
      return report;
    }
    const cmd = file.readUInt32LE(offset);
    const size = file.readUInt32LE(offset + 4);
    if (size < 8 || size % 8 !== 0 || offset + size > 32 + sizeofcmds) {
      problems.push(`load command ${i} (0x${cmd.toString(16)}) has a bad size ${size}`);
      return report;
    }
    if (cmd === 0x19) {
      const nsects = file.readUInt32LE(offset + 64);
      const segment: SegmentInfo = {
        name: cString(file, offset + 8, offset + 24),
        vmaddr: file.readBigUInt64LE(offset + 24),
        vmsize: file.readBigUInt64LE(offset + 32),
        fileoff: Number(file.readBigUInt64LE(offset + 40)),
        filesize: Number(file.readBigUInt64LE(offset + 48)),
        sections: [],
      };
      for (let s = 0; s < nsects; s++) {
        const at = offset + 72 + s * 80;
        segment.sections.push({ name: cString(file, at, at + 16), offset: file.readUInt32LE(at + 48), size: Number(file.readBigUInt64LE(at + 40)) });
      }
      report.segments.push(segment);
    } else if (cmd === 0x1d) {
      if (signature) problems.push('two LC_CODE_SIGNATURE commands');
      signature = { dataoff: file.readUInt32LE(offset + 8), datasize: file.readUInt32LE(offset + 12) };
    }
    offset += size;
  }
  for (const segment of report.segments) {
    if (segment.fileoff + segment.filesize > file.length) problems.push(`segment ${segment.name} runs past the end of the file`);
  }
  if (!signature) {
    problems.push('no LC_CODE_SIGNATURE');
    return report;
  }
  const { dataoff, datasize } = signature;
  if (dataoff % 16 !== 0) problems.push(`signature offset ${dataoff} is not 16-byte aligned`);
  if (dataoff + datasize !== file.length) problems.push(`signature ${dataoff}+${datasize} does not end the ${file.length}-byte file`);
  const linkedit = report.segments.find((s) => s.name === '__LINKEDIT');
  const last = [...report.segments].sort((a, b) => b.fileoff - a.fileoff)[0];
  if (!linkedit || last !== linkedit) problems.push('__LINKEDIT is not the last segment');
  else {
    if (linkedit.fileoff > dataoff || linkedit.fileoff + linkedit.filesize !== file.length) problems.push(`__LINKEDIT (${linkedit.fileoff}+${linkedit.filesize}) does not cover the signature to the end of the file`);
    if (linkedit.vmsize < BigInt(linkedit.filesize)) problems.push('__LINKEDIT vmsize is smaller than its filesize');
  }

  const blob = file.subarray(dataoff, dataoff + datasize);
  if (blob.length < 12 || be32(blob, 0) !== 0xfade0cc0) {
    problems.push('the signature is not an embedded-signature SuperBlob');
    return report;
  }
  const superLength = be32(blob, 4);
  const count = be32(blob, 8);
  if (superLength > blob.length) problems.push(`SuperBlob length ${superLength} exceeds LC_CODE_SIGNATURE's ${blob.length}`);
  const blobs = new Map<number, Buffer>();
  for (let i = 0; i < count; i++) {
    const type = be32(blob, 12 + i * 8);
    const at = be32(blob, 16 + i * 8);
    const length = at + 8 <= superLength ? be32(blob, at + 4) : 0;
    if (length < 8 || at + length > superLength) {
      problems.push(`blob ${i} (type 0x${type.toString(16)}) lies outside the SuperBlob`);
      continue;
    }
    report.blobTypes.push(type);
    blobs.set(type, blob.subarray(at, at + length));
  }
  const requirements = blobs.get(2);
  if (!requirements || be32(requirements, 0) !== 0xfade0c01) problems.push('no requirements blob (slot 2)');
  const cms = blobs.get(0x10000);
  if (cms && be32(cms, 0) !== 0xfade0b01) problems.push('slot 0x10000 is not a blob wrapper');
  const cd = blobs.get(0);
  if (!cd || be32(cd, 0) !== 0xfade0c02) {
    problems.push('no CodeDirectory (slot 0)');
    return report;
  }

  const version = be32(cd, 8);
  const flags = be32(cd, 12);
  const hashOffset = be32(cd, 16);
  const identOffset = be32(cd, 20);
  const nSpecial = be32(cd, 24);
  const nCode = be32(cd, 28);
  const codeLimit = be32(cd, 32);
  const hashSize = cd[36]!;
  const hashType = cd[37]!;
  const pageShift = cd[39]!;
  report.flags = flags;
  report.pages = nCode;
  report.codeLimit = codeLimit;
  report.identifier = cString(cd, identOffset, cd.length);
  if (version < 0x20400) problems.push(`CodeDirectory version 0x${version.toString(16)} has no executable-segment fields`);
  if ((flags & 0x2) === 0) problems.push(`flags 0x${flags.toString(16)} lack CS_ADHOC`);
  if (hashType !== 2 || hashSize !== 32) problems.push(`hash type ${hashType} size ${hashSize}, not SHA-256`);
  if (pageShift !== 12) problems.push(`page size 2^${pageShift}, not 4 KiB`);
  if (codeLimit !== dataoff) problems.push(`codeLimit ${codeLimit} is not the signature offset ${dataoff}`);
  const pageSize = 1 << pageShift;
  if (nCode !== Math.ceil(codeLimit / pageSize)) problems.push(`${nCode} code slots for ${codeLimit} bytes`);
  if (hashOffset + nCode * hashSize > cd.length || hashOffset < nSpecial * hashSize) {
    problems.push('hash slots lie outside the CodeDirectory');
    return report;
  }
  let bad = 0;
  for (let page = 0; page < nCode; page++) {
    const start = page * pageSize;
    const digest = createHash('sha256').update(file.subarray(start, Math.min(start + pageSize, codeLimit))).digest();
    if (!digest.equals(cd.subarray(hashOffset + page * hashSize, hashOffset + (page + 1) * hashSize))) {
      if (bad++ < 5) problems.push(`page ${page} hash does not match`);
    }
  }
  if (bad > 5) problems.push(`... ${bad} pages in all do not match`);
  if (nSpecial >= 2 && requirements) {
    const slot2 = cd.subarray(hashOffset - 2 * hashSize, hashOffset - hashSize);
    if (!createHash('sha256').update(requirements).digest().equals(slot2)) problems.push('special slot -2 is not the requirements blob hash');
  }
  if (nSpecial >= 1 && cd.subarray(hashOffset - hashSize, hashOffset).some((b) => b !== 0)) problems.push('special slot -1 names an Info.plist the binary does not have');
  const text = report.segments.find((s) => s.name === '__TEXT');
  if (text && version >= 0x20400) {
    if (Number(cd.readBigUInt64BE(64)) !== text.fileoff || Number(cd.readBigUInt64BE(72)) !== text.filesize) problems.push('execSegBase/Limit do not describe __TEXT');
    if ((cd.readBigUInt64BE(80) & 1n) === 0n) problems.push('execSegFlags lack CS_EXECSEG_MAIN_BINARY');
  }
  report.cdhash = createHash('sha256').update(cd).digest('hex');
  return report;
}
