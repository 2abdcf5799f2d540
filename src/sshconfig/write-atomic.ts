/**
 * The config file on disk: read it (following a symlink to the real file), stage the new bytes
 * in a temp file beside it with the same mode, keep a backup, then rename over it, so a crash or
 * a full disk can never leave a half-written ~/.ssh/config.
 */
import { constants as fsConstants, promises as fs } from 'node:fs';
import path from 'node:path';
import { SsmProxyError } from '../errors.js';
import { replaceFile } from '../platform/replace-file.js';
import { codeOf, ioError as fileError, syncDir, writeBackup, writeTempFile } from '../files/atomic-file.js';

const HINT = 'check the path and its permissions, or pass --config';
const ioError = (what: string, error: unknown) => fileError(what, error, HINT);

/** A new config file: readable by its owner only, as ssh expects. */
export const NEW_FILE_MODE = 0o600;
/** A new ~/.ssh. */
export const NEW_DIR_MODE = 0o700;

export interface ConfigFile {
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

export async function readConfigFile(file: string): Promise<ConfigFile> {
  const realPath = await resolveReal(file);
  try {
    const stat = await fs.stat(realPath);
    if (!stat.isFile()) throw new SsmProxyError('io', `${file} is not a regular file; pass --config with the path of an ssh config file`);
    const bytes = await fs.readFile(realPath);
    return { path: file, realPath, exists: true, bytes, mode: stat.mode & 0o7777, uid: stat.uid, gid: stat.gid };
  } catch (error) {
    if (error instanceof SsmProxyError) throw error;
    if (codeOf(error) === 'ENOENT') return { path: file, realPath, exists: false, bytes: Buffer.alloc(0), mode: NEW_FILE_MODE };
    throw ioError(`cannot read ${file}`, error);
  }
}

/** Follows symlinks; a dangling one resolves to the file it names, which will be created. */
async function resolveReal(file: string): Promise<string> {
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
      throw ioError(`cannot read ${file}`, error);
    }
    current = path.resolve(path.dirname(current), link);
  }
  throw new SsmProxyError('io', `${file}: too many levels of symbolic links`);
}

export interface StagedFile {
  /** The temp file holding the new content, in the same directory as the real file. */
  readonly tempPath: string;
  /** Backs the old file up (when asked) and renames the temp file over it. Returns the backup path. */
  commit(options: { backup: boolean; now?: Date }): Promise<string | undefined>;
  discard(): Promise<void>;
}

export async function stageFile(file: ConfigFile, bytes: Buffer): Promise<StagedFile> {
  const dir = path.dirname(file.realPath);
  await ensureDir(dir);
  // As root, editing someone else's file must not hand it over to root.
  const keepOwner = file.uid !== undefined && process.getuid?.() === 0 && (file.uid !== 0 || file.gid !== 0);
  const tempPath = await writeTempFile(file.realPath, bytes, {
    mode: file.mode,
    hint: HINT,
    ...(keepOwner ? { owner: { uid: file.uid!, gid: file.gid ?? -1 } } : {}),
  });

  return {
    tempPath,
    discard: () => fs.rm(tempPath, { force: true }),
    async commit({ backup, now = new Date() }) {
      let backupPath: string | undefined;
      try {
        if (backup && file.exists) backupPath = await writeBackup(file.path, file.bytes, file.mode, now, HINT);
        await replaceFile(tempPath, file.realPath);
      } catch (error) {
        await fs.rm(tempPath, { force: true });
        throw error instanceof SsmProxyError ? error : ioError(`cannot replace ${file.realPath}`, error);
      }
      await syncDir(dir);
      return backupPath;
    },
  };
}

/** Creates a missing config directory as ssh wants it (0700); an existing one is left alone. */
async function ensureDir(dir: string): Promise<void> {
  try {
    await fs.access(dir, fsConstants.F_OK);
    return;
  } catch {
    // missing: create below
  }
  try {
    await fs.mkdir(dir, { recursive: true, mode: NEW_DIR_MODE });
    await fs.chmod(dir, NEW_DIR_MODE);
  } catch (error) {
    throw ioError(`cannot create ${dir}`, error);
  }
}
