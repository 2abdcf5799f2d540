/**
 * Writing a file people care about (~/.ssh/config, ~/.aws/config, the SSO token cache) so that
 * readers see the old bytes or the new ones, never half of either: a temp file in the same
 * directory, synced, then renamed over the target. One implementation for every writer.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { SsmProxyError } from '../errors.js';
import { codeOf } from '../error-code.js';
import { replaceFile } from '../platform/replace-file.js';

export { codeOf } from '../error-code.js';

/** A one-line `io` error naming the path and the reason in words, plus what to do. */
export function ioError(what: string, error: unknown, hint = 'check the path and its permissions'): SsmProxyError {
  const code = codeOf(error);
  const why =
    code === 'EACCES' || code === 'EPERM'
      ? 'permission denied'
      : code === 'EROFS'
        ? 'read-only file system'
        : code === 'ENOTDIR'
          ? 'a part of the path is not a directory'
          : code === 'ENOSPC'
            ? 'no space left on device'
            : (code ?? (error instanceof Error ? error.message : String(error)));
  return new SsmProxyError('io', `${what}: ${why}; ${hint}`, { cause: error });
}

/**
 * Writes `bytes` to a new temp file beside `target` with exactly `mode` (and owner, when given)
 * and syncs it. Returns the temp path; on failure nothing is left behind.
 */
export async function writeTempFile(
  target: string,
  bytes: string | Buffer,
  options: { mode: number; owner?: { uid: number; gid: number }; hint?: string },
): Promise<string> {
  const dir = path.dirname(target);
  const temp = path.join(dir, `.${path.basename(target)}.ssm-proxy-${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(temp, 'wx', options.mode);
  } catch (error) {
    throw ioError(`cannot write in ${dir}`, error, options.hint);
  }
  try {
    await handle.writeFile(bytes);
    await handle.chmod(options.mode); // open()'s mode is cut by the umask
    if (options.owner) await handle.chown(options.owner.uid, options.owner.gid);
    await handle.sync();
    await handle.close();
    return temp;
  } catch (error) {
    await handle.close().catch(() => undefined);
    await fs.rm(temp, { force: true });
    throw ioError(`cannot write ${temp}`, error, options.hint);
  }
}

/** Makes the rename durable where the file system allows syncing a directory. */
export async function syncDir(dir: string): Promise<void> {
  try {
    const handle = await fs.open(dir, 'r');
    await handle.sync().finally(() => handle.close());
  } catch {
    // Not every file system lets a directory be synced; the rename itself is already atomic.
  }
}

/** mkdir -p with `dirMode`, temp file with `mode`, rename over `file`. */
export async function writeFileAtomic(file: string, bytes: string | Buffer, options: { mode: number; dirMode: number }): Promise<void> {
  const dir = path.dirname(file);
  try {
    await fs.mkdir(dir, { recursive: true, mode: options.dirMode });
  } catch (error) {
    throw ioError(`cannot create ${dir}`, error);
  }
  const temp = await writeTempFile(file, bytes, { mode: options.mode });
  try {
    await replaceFile(temp, file);
  } catch (error) {
    await fs.rm(temp, { force: true });
    throw ioError(`cannot write ${file}`, error);
  }
  await syncDir(dir);
}

/** `config.ssm-proxy-20250102T030405Z.bak` beside the path the user named, same mode; returns its path. */
export async function writeBackup(file: string, bytes: Buffer, mode: number, now: Date, hint?: string): Promise<string> {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const base = `${path.resolve(file)}.ssm-proxy-${stamp}`;
  for (let n = 0; ; n++) {
    const candidate = n === 0 ? `${base}.bak` : `${base}-${n}.bak`;
    try {
      await fs.writeFile(candidate, bytes, { flag: 'wx', mode });
      await fs.chmod(candidate, mode);
      return candidate;
    } catch (error) {
      if (codeOf(error) === 'EEXIST' && n < 100) continue;
      throw ioError(`cannot write the backup ${candidate}`, error, hint);
    }
  }
}
