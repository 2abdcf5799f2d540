/**
 * A file ssm-proxy edits for the user (~/.ssh/config, ~/.aws/config): read it through any
 * symlink, stage the new bytes in a temp file beside the real file with the same mode and owner,
 * keep a bounded number of backups, and rename into place, so a crash, a full disk or a refused
 * rename never leaves a half-written file or a stray backup. Callers hold the file's lock
 * (file-lock.ts) from the read to the commit.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { SsmProxyError } from '../errors.js';
import { printable } from '../printable.js';
import { codeOf, ioError, syncDir, writeBackup, writeTempFile } from './atomic-file.js';
import { isAlive } from './file-lock.js';
import { replaceFile } from '../platform/replace-file.js';

/** A new config file: readable by its owner only, as ssh expects. */
export const NEW_FILE_MODE = 0o600;
/** A new ~/.ssh or ~/.aws. */
export const NEW_DIR_MODE = 0o700;
/** Backups kept beside the file; older ones are removed after each new backup. */
export const BACKUPS_KEPT = 5;
/** A config file larger than this is not one (and would not fit a string anyway). */
export const MAX_CONFIG_BYTES = 512 * 1024 * 1024;

export interface UserFile {
  /** The path as the user named it. */
  readonly path: string;
  /** The file that is really written: the symlink's target when `path` is a symlink. */
  readonly realPath: string;
  readonly exists: boolean;
  readonly bytes: Buffer;
  /** Permission bits of the existing file, or NEW_FILE_MODE. */
  readonly mode: number;
  readonly uid?: number;
  readonly gid?: number;
}

export interface FileWords {
  /** The file as messages name it (~/.ssh/config), already made printable. */
  shownAs: string;
  /** What the user can do about an io error. */
  hint: string;
}

export async function readUserFile(file: string, words: FileWords): Promise<UserFile> {
  const realPath = await resolveReal(file, words);
  const shown = words.shownAs;
  try {
    const stat = await fs.stat(realPath);
    if (!stat.isFile()) throw new SsmProxyError('io', `${shown} is not a regular file; ${words.hint}`);
    if (stat.size > MAX_CONFIG_BYTES) {
      throw new SsmProxyError('config', `${shown} is ${Math.round(stat.size / 2 ** 20)} MiB, more than any config file should be (limit ${MAX_CONFIG_BYTES / 2 ** 20} MiB); ${words.hint}`);
    }
    const bytes = await fs.readFile(realPath);
    if (bytes.length > MAX_CONFIG_BYTES) throw new SsmProxyError('config', `${shown} grew past ${MAX_CONFIG_BYTES / 2 ** 20} MiB while being read`);
    return { path: file, realPath, exists: true, bytes, mode: stat.mode & 0o7777, uid: stat.uid, gid: stat.gid };
  } catch (error) {
    if (error instanceof SsmProxyError) throw error;
    if (codeOf(error) === 'ENOENT') return { path: file, realPath, exists: false, bytes: Buffer.alloc(0), mode: NEW_FILE_MODE };
    throw ioError(`cannot read ${shown}`, error, words.hint);
  }
}

/**
 * Makes sure the real file's directory exists before the lock is taken in it. Only `mayCreate`
 * (the default ~/.ssh or ~/.aws) is ever created, one level, 0700: a dangling symlink or a
 * --config path must never make ssm-proxy create directories anywhere else. Returns the real path.
 */
export async function prepareDirectory(file: string, mayCreate: string | undefined, words: FileWords): Promise<string> {
  const realPath = await resolveReal(file, words);
  const dir = path.dirname(realPath);
  const stat = await fs.stat(dir).catch((error: unknown) => {
    if (codeOf(error) === 'ENOENT' || codeOf(error) === 'ENOTDIR') return undefined;
    throw ioError(`cannot read ${printable(dir)}`, error, words.hint);
  });
  if (stat?.isDirectory()) return realPath;
  const shown = words.shownAs;
  if (stat !== undefined) throw new SsmProxyError('io', `${printable(dir)} is not a directory; ${words.hint}`);
  const link = await fs.readlink(dir).catch(() => undefined);
  if (link !== undefined) {
    throw new SsmProxyError(
      'io',
      `${printable(dir)} is a symbolic link to ${printable(path.resolve(path.dirname(dir), link))}, which does not exist; ` +
        'create that directory (or fix the link) and try again — nothing was created',
    );
  }
  if (mayCreate === undefined || path.resolve(mayCreate) !== dir) {
    const via = realPath !== path.resolve(file) ? ` is a symbolic link to ${printable(realPath)}, but` : ':';
    throw new SsmProxyError(
      'io',
      `${shown}${via} the directory ${printable(dir)} does not exist; create it (or fix the path) and try again — nothing was created`,
    );
  }
  try {
    await fs.mkdir(dir, { mode: NEW_DIR_MODE });
    await fs.chmod(dir, NEW_DIR_MODE);
  } catch (error) {
    if (codeOf(error) !== 'EEXIST') throw ioError(`cannot create ${printable(dir)}`, error, words.hint);
  }
  return realPath;
}

/** Follows symlinks; a dangling one resolves to the file it names. */
async function resolveReal(file: string, words: FileWords): Promise<string> {
  let current = path.resolve(file);
  for (let hops = 0; hops < 40; hops++) {
    let link: string;
    try {
      link = await fs.readlink(current);
    } catch (error) {
      const code = codeOf(error);
      if (code === 'EINVAL' || code === 'ENOENT' || code === 'ENOTDIR') {
        // Not a symlink (or missing): resolve the directory part, keep the name.
        const dir = await fs.realpath(path.dirname(current)).catch(() => path.dirname(current));
        return path.join(dir, path.basename(current));
      }
      throw ioError(`cannot read ${words.shownAs}`, error, words.hint);
    }
    current = path.resolve(path.dirname(current), link);
  }
  throw new SsmProxyError('io', `${words.shownAs}: too many levels of symbolic links`);
}

export interface StagedFile {
  /** The temp file holding the new content, in the same directory as the real file. */
  readonly tempPath: string;
  /**
   * Backs the old file up (when asked; beside `backupNextTo`, default the path the user named) and
   * renames the temp file over it. Returns the backup path.
   */
  commit(options: { backup: boolean; now?: Date; backupNextTo?: string }): Promise<string | undefined>;
  discard(): Promise<void>;
}

export async function stageUserFile(file: UserFile, bytes: Buffer, words: FileWords): Promise<StagedFile> {
  const dir = path.dirname(file.realPath);
  // As root, editing someone else's file must not hand it over to root.
  const keepOwner = file.uid !== undefined && process.getuid?.() === 0 && (file.uid !== 0 || file.gid !== 0);
  const tempPath = await writeTempFile(file.realPath, bytes, {
    mode: file.mode,
    hint: words.hint,
    ...(keepOwner ? { owner: { uid: file.uid!, gid: file.gid ?? -1 } } : {}),
  });

  return {
    tempPath,
    discard: () => fs.rm(tempPath, { force: true }),
    async commit({ backup, now = new Date(), backupNextTo = file.path }) {
      let backupPath: string | undefined;
      try {
        if (backup && file.exists) backupPath = await writeBackup(backupNextTo, file.bytes, file.mode, now, words.hint);
        await replaceFile(tempPath, file.realPath);
      } catch (error) {
        // Nothing changed, so nothing may be left behind: neither the temp file nor the backup.
        await fs.rm(tempPath, { force: true });
        if (backupPath !== undefined) await fs.rm(backupPath, { force: true });
        throw error instanceof SsmProxyError ? error : ioError(`cannot replace ${words.shownAs}`, error, words.hint);
      }
      await syncDir(dir);
      if (backupPath !== undefined) await pruneBackups(backupNextTo, BACKUPS_KEPT);
      return backupPath;
    },
  };
}

/** `config.ssm-proxy-20250102T030405Z.bak`, `…Z-1.bak`: stamp and counter, for ordering. */
const BACKUP_NAME = /^(.*)\.ssm-proxy-(\d{8}T\d{6}Z)(?:-(\d+))?\.bak$/;

/** Keeps the newest `keep` backups of `file` (the path the user named); best effort. */
export async function pruneBackups(file: string, keep: number): Promise<string[]> {
  const dir = path.dirname(path.resolve(file));
  const base = path.basename(file);
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  const backups = names
    .map((name) => ({ name, match: BACKUP_NAME.exec(name) }))
    .filter((b) => b.match !== null && b.match[1] === base)
    .map((b) => ({ name: b.name, stamp: b.match![2]!, n: Number(b.match![3] ?? 0) }))
    .sort((a, b) => (a.stamp === b.stamp ? b.n - a.n : a.stamp < b.stamp ? 1 : -1));
  const removed: string[] = [];
  for (const old of backups.slice(keep)) {
    const full = path.join(dir, old.name);
    await fs.rm(full, { force: true }).then(
      () => removed.push(full),
      () => undefined,
    );
  }
  return removed;
}

/**
 * Temp files `.config.ssm-proxy-<pid>-<hex>.tmp` of processes that died mid-write (SIGKILL,
 * power loss). Called under the file's lock, so no live ssm-proxy is writing one; the pid check
 * also spares writers that predate the lock.
 */
export async function removeStaleTemps(realPath: string): Promise<string[]> {
  const dir = path.dirname(realPath);
  const prefix = `.${path.basename(realPath)}.ssm-proxy-`;
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  const removed: string[] = [];
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const match = /^(\d+)-[0-9a-f]{8}\.tmp$/.exec(name.slice(prefix.length));
    if (!match) continue;
    const pid = Number(match[1]);
    if (pid === process.pid || isAlive(pid)) continue;
    const full = path.join(dir, name);
    await fs.rm(full, { force: true }).then(
      () => removed.push(full),
      () => undefined,
    );
  }
  return removed;
}
