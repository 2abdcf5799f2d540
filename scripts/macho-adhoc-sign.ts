/**
 * Ad-hoc code signature for a thin 64-bit Mach-O executable, written without Apple's tools (no
 * codesign or ldid here). Apple Silicon kills a binary whose signature is missing or does not
 * match its pages; Intel Macs check it too once the binary has a signature at all.
 *
 * What `codesign --sign -` writes (layout from Apple's open-source Security framework headers,
 * cscdefs.h / CSCommon.h), all big-endian, at LC_CODE_SIGNATURE's dataoff:
 *
 *   SuperBlob (0xfade0cc0) with three entries:
 *     slot 0        CodeDirectory (0xfade0c02), version 0x20400
 *     slot 2        Requirements (0xfade0c01), an empty set
 *     slot 0x10000  the CMS wrapper (0xfade0b01), empty: ad-hoc has no certificate
 *
 *   The CodeDirectory holds the SHA-256 of every 4 KiB page of the file before the signature
 *   (codeLimit = dataoff), and two special slots before them: -1 Info.plist (none: zeros), -2 the
 *   requirements blob's hash. Its flags say CS_ADHOC; the executable segment (__TEXT) is named
 *   with CS_EXECSEG_MAIN_BINARY.
 *
 * postject (pkg's injector, through LIEF) drops LC_CODE_SIGNATURE when it adds the NODE_SEA
 * segment; a new one goes after the last load command (Node's header has room before the first
 * section), the signature 16-byte aligned after __LINKEDIT's data. The load commands are updated
 * first (LC_CODE_SIGNATURE's offset and size, __LINKEDIT grown to cover the signature to the end
 * of the file), because page 0 holding them is hashed too.
 */
import { createHash } from 'node:crypto';

const MH_MAGIC_64 = 0xfeedfacf;
const MH_EXECUTE = 2;
const LC_SEGMENT_64 = 0x19;
const LC_CODE_SIGNATURE = 0x1d;

const CSMAGIC_EMBEDDED_SIGNATURE = 0xfade0cc0;
const CSMAGIC_CODEDIRECTORY = 0xfade0c02;
const CSMAGIC_REQUIREMENTS = 0xfade0c01;
const CSMAGIC_BLOBWRAPPER = 0xfade0b01;
const CSSLOT_CODEDIRECTORY = 0;
const CSSLOT_REQUIREMENTS = 2;
const CSSLOT_SIGNATURESLOT = 0x10000;
const CS_ADHOC = 0x2;
const CS_EXECSEG_MAIN_BINARY = 0x1;
const CS_HASHTYPE_SHA256 = 2;
const CD_VERSION = 0x20400;
const CD_HEADER_SIZE = 88;
const PAGE_SHIFT = 12;
const PAGE = 1 << PAGE_SHIFT;
const HASH = 32;
const SPECIAL_SLOTS = 2;

interface Segment {
  name: string;
  /** Offset of the load command in the file. */
  command: number;
  fileoff: bigint;
  filesize: bigint;
}

interface Layout {
  ncmds: number;
  sizeofcmds: number;
  segments: Segment[];
  /** Offset of LC_CODE_SIGNATURE, or -1. */
  signatureCommand: number;
  /** The lowest file offset of any section's contents: the load commands may grow up to it. */
  firstSectionData: number;
}

function readLayout(file: Buffer): Layout {
  if (file.length < 32 || file.readUInt32LE(0) !== MH_MAGIC_64) throw new Error('not a thin 64-bit little-endian Mach-O file');
  if (file.readUInt32LE(12) !== MH_EXECUTE) throw new Error('not a Mach-O executable (MH_EXECUTE)');
  const ncmds = file.readUInt32LE(16);
  const sizeofcmds = file.readUInt32LE(20);
  const segments: Segment[] = [];
  let signatureCommand = -1;
  let firstSectionData = file.length;
  let at = 32;
  for (let i = 0; i < ncmds; i++) {
    const cmd = file.readUInt32LE(at);
    const cmdsize = file.readUInt32LE(at + 4);
    if (cmdsize < 8 || at + cmdsize > 32 + sizeofcmds) throw new Error(`load command ${i} runs past the load commands`);
    if (cmd === LC_SEGMENT_64) {
      const name = file.toString('latin1', at + 8, at + 24).replace(/\0+$/, '');
      segments.push({ name, command: at, fileoff: file.readBigUInt64LE(at + 40), filesize: file.readBigUInt64LE(at + 48) });
      const nsects = file.readUInt32LE(at + 64);
      for (let s = 0; s < nsects; s++) {
        const offset = file.readUInt32LE(at + 72 + s * 80 + 48);
        if (offset !== 0) firstSectionData = Math.min(firstSectionData, offset);
      }
    } else if (cmd === LC_CODE_SIGNATURE) {
      signatureCommand = at;
    }
    at += cmdsize;
  }
  return { ncmds, sizeofcmds, segments, signatureCommand, firstSectionData };
}

function sha256(bytes: Buffer): Buffer {
  return createHash('sha256').update(bytes).digest();
}

function align(value: number, to: number): number {
  return Math.ceil(value / to) * to;
}

export interface SignResult {
  file: Buffer;
  /** SHA-256 of the CodeDirectory: the cdhash `codesign -dvvv` shows (full 32 bytes, hex). */
  cdhash: string;
  codeLimit: number;
  pages: number;
}

/** Returns the file with its old signature replaced by a fresh ad-hoc one. */
export function adhocSign(input: Buffer, identifier: string): SignResult {
  const layout = readLayout(input);
  const linkedit = layout.segments.find((s) => s.name === '__LINKEDIT');
  const text = layout.segments.find((s) => s.name === '__TEXT');
  if (!linkedit || !text) throw new Error('no __LINKEDIT or __TEXT segment');
  const last = layout.segments.reduce((a, b) => (b.fileoff > a.fileoff ? b : a));
  if (last !== linkedit) throw new Error('__LINKEDIT is not the last segment');
  // An existing signature is replaced where it starts. Without one (postject's LIEF drops it when
  // it adds the NODE_SEA segment) a new LC_CODE_SIGNATURE goes after the last load command, if the
  // header has room before the first section, and the signature after __LINKEDIT's data.
  let dataoff: number;
  let signatureCommand = layout.signatureCommand;
  if (signatureCommand !== -1) {
    dataoff = input.readUInt32LE(signatureCommand + 8);
  } else {
    signatureCommand = 32 + layout.sizeofcmds;
    if (signatureCommand + 16 > layout.firstSectionData || input.subarray(signatureCommand, signatureCommand + 16).some((b) => b !== 0)) {
      throw new Error('no room in the Mach-O header for an LC_CODE_SIGNATURE load command');
    }
    dataoff = align(Number(linkedit.fileoff + linkedit.filesize), 16);
  }
  if (dataoff % 16 !== 0 || dataoff > align(input.length, 16) || dataoff < Number(linkedit.fileoff)) {
    throw new Error(`the signature offset ${dataoff} is not 16-byte aligned inside __LINKEDIT`);
  }

  const codeLimit = dataoff;
  const pages = Math.ceil(codeLimit / PAGE);
  const ident = Buffer.from(`${identifier}\0`, 'utf8');
  const hashOffset = CD_HEADER_SIZE + ident.length + SPECIAL_SLOTS * HASH;
  const cdLength = hashOffset + pages * HASH;
  const requirements = Buffer.alloc(12);
  requirements.writeUInt32BE(CSMAGIC_REQUIREMENTS, 0);
  requirements.writeUInt32BE(12, 4);
  requirements.writeUInt32BE(0, 8);
  const cms = Buffer.alloc(8);
  cms.writeUInt32BE(CSMAGIC_BLOBWRAPPER, 0);
  cms.writeUInt32BE(8, 4);
  const superHeader = 12 + 3 * 8;
  const superLength = superHeader + cdLength + requirements.length + cms.length;
  const datasize = align(superLength, 16);

  // The file as it will be, load commands first: the signature's size, and __LINKEDIT reaching
  // the end of the file (vmsize page-rounded for the 16 KiB pages of arm64, valid for x86-64 too).
  const out = Buffer.alloc(dataoff + datasize);
  input.copy(out, 0, 0, Math.min(dataoff, input.length));
  if (layout.signatureCommand === -1) {
    out.writeUInt32LE(layout.ncmds + 1, 16);
    out.writeUInt32LE(layout.sizeofcmds + 16, 20);
    out.writeUInt32LE(LC_CODE_SIGNATURE, signatureCommand);
    out.writeUInt32LE(16, signatureCommand + 4);
  }
  out.writeUInt32LE(dataoff, signatureCommand + 8);
  out.writeUInt32LE(datasize, signatureCommand + 12);
  const linkeditSize = BigInt(dataoff + datasize) - linkedit.fileoff;
  out.writeBigUInt64LE(BigInt(align(Number(linkeditSize), 0x4000)), linkedit.command + 32); // vmsize
  out.writeBigUInt64LE(linkeditSize, linkedit.command + 48); // filesize

  const cd = Buffer.alloc(cdLength);
  cd.writeUInt32BE(CSMAGIC_CODEDIRECTORY, 0);
  cd.writeUInt32BE(cdLength, 4);
  cd.writeUInt32BE(CD_VERSION, 8);
  cd.writeUInt32BE(CS_ADHOC, 12);
  cd.writeUInt32BE(hashOffset, 16);
  cd.writeUInt32BE(CD_HEADER_SIZE, 20); // identOffset
  cd.writeUInt32BE(SPECIAL_SLOTS, 24);
  cd.writeUInt32BE(pages, 28);
  cd.writeUInt32BE(codeLimit, 32);
  cd.writeUInt8(HASH, 36);
  cd.writeUInt8(CS_HASHTYPE_SHA256, 37);
  cd.writeUInt8(0, 38); // platform
  cd.writeUInt8(PAGE_SHIFT, 39);
  // 40 spare2, 44 scatterOffset, 48 teamOffset, 52 spare3, 56 codeLimit64: all zero.
  cd.writeBigUInt64BE(text.fileoff, 64); // execSegBase
  cd.writeBigUInt64BE(text.filesize, 72); // execSegLimit
  cd.writeBigUInt64BE(BigInt(CS_EXECSEG_MAIN_BINARY), 80);
  ident.copy(cd, CD_HEADER_SIZE);
  sha256(requirements).copy(cd, hashOffset - CSSLOT_REQUIREMENTS * HASH); // slot -2; slot -1 stays zero
  for (let page = 0; page < pages; page++) {
    const start = page * PAGE;
    sha256(out.subarray(start, Math.min(start + PAGE, codeLimit))).copy(cd, hashOffset + page * HASH);
  }

  const signature = out.subarray(dataoff);
  signature.writeUInt32BE(CSMAGIC_EMBEDDED_SIGNATURE, 0);
  signature.writeUInt32BE(superLength, 4);
  signature.writeUInt32BE(3, 8);
  const entries: [number, Buffer][] = [
    [CSSLOT_CODEDIRECTORY, cd],
    [CSSLOT_REQUIREMENTS, requirements],
    [CSSLOT_SIGNATURESLOT, cms],
  ];
  let blobAt = superHeader;
  entries.forEach(([type, blob], i) => {
    signature.writeUInt32BE(type, 12 + i * 8);
    signature.writeUInt32BE(blobAt, 16 + i * 8);
    blob.copy(signature, blobAt);
    blobAt += blob.length;
  });
  return { file: out, cdhash: sha256(cd).toString('hex'), codeLimit, pages };
}
