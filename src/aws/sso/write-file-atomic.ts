import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { SsmProxyError } from '../../errors.js';

/**
 * Writes `bytes` to `file` through a temp file in the same directory (created with `mode`, synced,
 * then renamed over the file), so readers — the AWS CLI, the SDK, another ssm-proxy — see the old
 * file or the new one, never half of one. `dirMode` is used for directories it creates.
 */
export async function writeFileAtomic(file: string, bytes: string | Buffer, options: { mode: number; dirMode: number }): Promise<void> {
  const dir = path.dirname(file);
  try {
    await fs.mkdir(dir, { recursive: true, mode: options.dirMode });
  } catch (error) {
    throw ioError(`cannot create ${dir}`, error);
  }
  const temp = path.join(dir, `.${path.basename(file)}.ssm-proxy-${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(temp, 'wx', options.mode);
  } catch (error) {
    throw ioError(`cannot write in ${dir}`, error);
  }
  try {
    await handle.writeFile(bytes);
    await handle.chmod(options.mode); // open()'s mode is cut by the umask
    await handle.sync();
    await handle.close();
    await fs.rename(temp, file);
  } catch (error) {
    await handle.close().catch(() => undefined);
    await fs.rm(temp, { force: true });
    throw ioError(`cannot write ${file}`, error);
  }
}

/** `config.ssm-proxy-20250102T030405Z.bak` beside the file, same mode; returns its path. */
export async function writeBackup(file: string, bytes: Buffer, mode: number, now: Date): Promise<string> {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const base = `${file}.ssm-proxy-${stamp}`;
  for (let n = 0; ; n++) {
    const candidate = n === 0 ? `${base}.bak` : `${base}-${n}.bak`;
    try {
      await fs.writeFile(candidate, bytes, { flag: 'wx', mode });
      await fs.chmod(candidate, mode);
      return candidate;
    } catch (error) {
      if (codeOf(error) === 'EEXIST' && n < 100) continue;
      throw ioError(`cannot write the backup ${candidate}`, error);
    }
  }
}

export function codeOf(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String((error as { code: unknown }).code) : undefined;
}

export function ioError(what: string, error: unknown): SsmProxyError {
  const code = codeOf(error);
  const why =
    code === 'EACCES' || code === 'EPERM'
      ? 'permission denied'
      : code === 'EROFS'
        ? 'read-only file system'
        : code === 'ENOSPC'
          ? 'no space left on device'
          : (code ?? (error instanceof Error ? error.message : String(error)));
  return new SsmProxyError('io', `${what}: ${why}; check the path and its permissions`, { cause: error });
}
