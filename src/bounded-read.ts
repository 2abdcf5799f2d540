import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';

/**
 * Reads a file the user named (CA bundle, AWS config, SSO token cache) without ever waiting or
 * growing without bound: opened non-blocking, so a FIFO or a terminal gives what it has now
 * instead of hanging, and read up to `limit` bytes, so /dev/zero or a huge file fails at once.
 * A failure is a value with words for "the file … <reason>", not a thrown errno.
 */
export type BoundedRead =
  | { ok: true; bytes: Buffer }
  | { ok: false; code: 'ENOENT' | 'EISDIR' | 'TOO_LARGE' | 'NOT_READY' | string; reason: string };

export function readBounded(path: string, limit: number): BoundedRead {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    return failure(error);
  }
  try {
    if (fstatSync(fd).isDirectory()) return { ok: false, code: 'EISDIR', reason: 'is a directory, not a file' };
    const chunks: Buffer[] = [];
    let total = 0;
    const chunk = Buffer.allocUnsafe(Math.min(limit + 1, 64 * 1024));
    for (;;) {
      let read: number;
      try {
        read = readSync(fd, chunk, 0, Math.min(chunk.length, limit + 1 - total), null);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN' || code === 'EWOULDBLOCK') {
          return { ok: false, code: 'NOT_READY', reason: 'gives no data (a pipe or device that is not a file)' };
        }
        return failure(error);
      }
      if (read === 0) break;
      chunks.push(Buffer.from(chunk.subarray(0, read)));
      total += read;
      if (total > limit) return { ok: false, code: 'TOO_LARGE', reason: `is larger than ${describeSize(limit)}, too large for this kind of file` };
    }
    return { ok: true, bytes: Buffer.concat(chunks, total) };
  } finally {
    closeSync(fd);
  }
}

function failure(error: unknown): BoundedRead {
  const code = (error as NodeJS.ErrnoException).code ?? 'EIO';
  const reasons: Record<string, string> = {
    ENOENT: 'does not exist',
    EISDIR: 'is a directory, not a file',
    EACCES: 'cannot be read (permission denied)',
    EPERM: 'cannot be read (permission denied)',
    ENOTDIR: 'does not exist (a part of its path is not a directory)',
    ELOOP: 'cannot be read (too many symbolic links)',
  };
  return { ok: false, code, reason: reasons[code] ?? `cannot be read (${code})` };
}

function describeSize(bytes: number): string {
  return bytes >= 1 << 20 ? `${bytes / (1 << 20)} MiB` : `${bytes / 1024} KiB`;
}

/**
 * The text of a file that should be text, or undefined when it is binary: a NUL or another C0
 * control character (other than tab, line and page breaks) is not in any config file. Bytes that
 * are not UTF-8 (a Latin-1 comment) are kept as U+FFFD, the way the AWS SDK reads them.
 */
export function decodeText(bytes: Buffer): string | undefined {
  for (const byte of bytes) {
    if (byte < 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0d && byte !== 0x0c && byte !== 0x0b) return undefined;
    if (byte === 0x7f) return undefined;
  }
  return bytes.toString('utf8');
}
