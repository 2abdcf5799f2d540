/**
 * Two edits to a Windows PE32+ executable (Microsoft PE/COFF specification, "Optional Header
 * Data Directories" and "The Attribute Certificate Table"):
 *
 * - removeAuthenticode: node.exe from nodejs.org is signed by the OpenJS Foundation. Once the SEA
 *   blob is injected that signature no longer matches the file, and a stale signature is worse
 *   than none (SmartScreen and signature checkers report a tampered file). The certificate table
 *   lives at the end of the file, outside any section: the file is cut before it and the
 *   directory entry zeroed.
 * - the optional header's CheckSum is recomputed, so the file is internally consistent.
 */

const PE_SIGNATURE = 0x00004550; // "PE\0\0"
const PE32_PLUS = 0x20b;
const SECURITY_DIRECTORY = 4;

export interface PeLayout {
  /** File offset of the optional header. */
  optionalHeader: number;
  checksumOffset: number;
  securityEntryOffset: number;
  certificateTable: { offset: number; size: number } | undefined;
}

export function peLayout(file: Buffer): PeLayout {
  if (file.length < 0x40 || file.readUInt16LE(0) !== 0x5a4d) throw new Error('not a PE file (no MZ header)');
  const pe = file.readUInt32LE(0x3c);
  if (pe + 24 > file.length || file.readUInt32LE(pe) !== PE_SIGNATURE) throw new Error('not a PE file (no PE signature)');
  const optionalHeader = pe + 24;
  if (file.readUInt16LE(optionalHeader) !== PE32_PLUS) throw new Error('not a PE32+ (64-bit) executable');
  const directories = file.readUInt32LE(optionalHeader + 108);
  if (directories <= SECURITY_DIRECTORY) throw new Error('PE optional header has no security directory entry');
  const securityEntryOffset = optionalHeader + 112 + SECURITY_DIRECTORY * 8;
  const offset = file.readUInt32LE(securityEntryOffset);
  const size = file.readUInt32LE(securityEntryOffset + 4);
  return {
    optionalHeader,
    checksumOffset: optionalHeader + 64,
    securityEntryOffset,
    certificateTable: offset === 0 && size === 0 ? undefined : { offset, size },
  };
}

/** The PE image checksum (the algorithm of imagehlp's CheckSumMappedFile). */
export function peChecksum(file: Buffer, checksumOffset: number): number {
  let sum = 0;
  const even = file.length & ~1;
  for (let i = 0; i < even; i += 2) {
    if (i === checksumOffset || i === checksumOffset + 2) continue;
    sum += file.readUInt16LE(i);
    sum = (sum & 0xffff) + (sum >>> 16);
  }
  if (file.length & 1) {
    sum += file[file.length - 1]!;
    sum = (sum & 0xffff) + (sum >>> 16);
  }
  sum = (sum & 0xffff) + (sum >>> 16);
  return (sum + file.length) >>> 0;
}

/** Without its Authenticode certificate table (if it had one), with a fresh checksum. */
export function removeAuthenticode(file: Buffer): Buffer {
  const layout = peLayout(file);
  let out = file;
  if (layout.certificateTable) {
    const { offset, size } = layout.certificateTable;
    // The table must be the file's tail (8-byte aligned); anything after it is not ours to cut.
    if (offset + size !== file.length) throw new Error(`certificate table ${offset}+${size} is not at the end of the ${file.length}-byte file`);
    out = Buffer.from(file.subarray(0, offset));
    out.writeUInt32LE(0, layout.securityEntryOffset);
    out.writeUInt32LE(0, layout.securityEntryOffset + 4);
  } else {
    out = Buffer.from(file);
  }
  out.writeUInt32LE(peChecksum(out, layout.checksumOffset), layout.checksumOffset);
  return out;
}

/** Only a fresh checksum (after pkg injected the blob). */
export function withPeChecksum(file: Buffer): Buffer {
  const layout = peLayout(file);
  const out = Buffer.from(file);
  out.writeUInt32LE(peChecksum(out, layout.checksumOffset), layout.checksumOffset);
  return out;
}
