/**
 * An exclusive lock around a read-modify-write of a user's file (~/.ssh/config, ~/.aws/config),
 * so two ssm-proxy processes editing it at once cannot lose each other's edit. The lock is a
 * file beside the edited one, `<name>.ssm-proxy.lock`, created with O_EXCL and naming its holder
 * ("pid 123 on host h since <time>"). A lock whose holder is a dead process on this host is stale
 * and taken over; otherwise we wait, with a deadline, and then fail with one line naming the
 * holder and the lock file.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { SsmProxyError } from '../errors.js';
import { printable } from '../printable.js';
import { codeOf, ioError } from './atomic-file.js';

/** How long a writer waits for another one: edits take milliseconds, so seconds is generous. */
export const DEFAULT_LOCK_TIMEOUT_MS = 10_000;
/** A lock file with no holder line yet is being written; after this long its writer died. */
const UNWRITTEN_GRACE_MS = 5_000;
/** Breaking a stale lock takes microseconds; a break file older than this was left by a crash. */
const BREAK_FILE_STALE_MS = 5_000;
const FIRST_RETRY_MS = 5;
const MAX_RETRY_MS = 100;

export interface LockOptions {
  /** Bounded wait for another holder (default DEFAULT_LOCK_TIMEOUT_MS). */
  timeoutMs?: number;
  /** How to name the edited file in messages (e.g. ~/.ssh/config), already printable. */
  shownAs?: string;
  /** The tail of an io error: what the user can do. */
  hint?: string;
  /** Clock, for tests. */
  now?: () => number;
}

export interface LockHolder {
  pid: number;
  host: string;
  since: string;
}

export function lockPathFor(file: string): string {
  return `${file}.ssm-proxy.lock`;
}

/** Runs `work` while holding the lock for `file` (the real path, after symlinks). */
export async function withFileLock<T>(file: string, work: () => Promise<T>, options: LockOptions = {}): Promise<T> {
  const lockPath = lockPathFor(file);
  const mine = await acquire(lockPath, options);
  try {
    return await work();
  } finally {
    await release(lockPath, mine);
  }
}

function holderLine(now: number): string {
  return `pid ${process.pid} on host ${os.hostname()} since ${new Date(now).toISOString()}\n`;
}

export function parseHolder(text: string): LockHolder | undefined {
  const match = /^pid (\d+) on host (\S+) since (\S+)\n?$/.exec(text);
  return match ? { pid: Number(match[1]), host: match[2]!, since: match[3]! } : undefined;
}

async function acquire(lockPath: string, options: LockOptions): Promise<string> {
  const now = options.now ?? Date.now;
  const timeoutMs = options.timeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS;
  const deadline = now() + timeoutMs;
  let delay = FIRST_RETRY_MS;
  for (;;) {
    const line = holderLine(now());
    if (await tryCreate(lockPath, line, options.hint)) return line;
    const seen = await readLock(lockPath);
    // Every way round the loop passes the deadline: a break that keeps failing must not spin past it.
    const left = deadline - now();
    if (left <= 0) throw timedOut(lockPath, seen?.holder, timeoutMs, options.shownAs);
    if (seen === undefined) continue; // released between our open and our read: try again now
    if (isStale(seen, now())) {
      await breakStale(lockPath, now);
      continue;
    }
    // A little jitter so twenty waiters do not retry in lock step.
    await sleep(Math.min(left, delay + Math.floor(Math.random() * delay)));
    delay = Math.min(delay * 2, MAX_RETRY_MS);
  }
}

/** O_EXCL create; false when someone else holds it. The holder line is written before we return. */
async function tryCreate(lockPath: string, line: string, hint: string | undefined): Promise<boolean> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(lockPath, 'wx', 0o600);
  } catch (error) {
    if (codeOf(error) === 'EEXIST') return false;
    throw ioError(`cannot write in ${printable(path.dirname(lockPath))}`, error, hint);
  }
  try {
    await handle.writeFile(line);
    await handle.close();
  } catch (error) {
    await handle.close().catch(() => undefined);
    await fs.rm(lockPath, { force: true });
    throw ioError(`cannot write the lock file ${printable(lockPath)}`, error, hint);
  }
  return true;
}

interface SeenLock {
  holder: LockHolder | undefined;
  mtimeMs: number;
}

async function readLock(lockPath: string): Promise<SeenLock | undefined> {
  try {
    const [text, stat] = await Promise.all([fs.readFile(lockPath, 'utf8'), fs.stat(lockPath)]);
    return { holder: parseHolder(text), mtimeMs: stat.mtimeMs };
  } catch (error) {
    if (codeOf(error) !== 'ENOENT') throw ioError(`cannot read the lock file ${printable(lockPath)}`, error);
    // O_EXCL refuses a dangling symbolic link as existing; ssm-proxy never makes one, so it is not a holder.
    if ((await fs.lstat(lockPath).catch(() => undefined))?.isSymbolicLink()) {
      throw new SsmProxyError('io', `the lock file ${printable(lockPath)} is a symbolic link, which ssm-proxy never makes; remove it and try again`);
    }
    return undefined;
  }
}

/** Stale: the holder is a dead process on this host, or it never wrote its line. */
function isStale(seen: SeenLock, now: number): boolean {
  if (seen.holder === undefined) return now - seen.mtimeMs > UNWRITTEN_GRACE_MS;
  if (seen.holder.host !== os.hostname()) return false; // another machine (shared home): cannot tell
  return !isAlive(seen.holder.pid);
}

export function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return codeOf(error) !== 'ESRCH'; // EPERM: alive, just not ours
  }
}

/**
 * Removes a stale lock. Two waiters may both find it stale; if one removed it and a new holder
 * took the lock, the other must not remove the new one. So breakers take turns through a
 * second O_EXCL file and re-check staleness while holding it.
 */
async function breakStale(lockPath: string, now: () => number): Promise<void> {
  const breakPath = `${lockPath}.break`;
  if (!(await tryCreate(breakPath, holderLine(now()), undefined))) {
    const stat = await fs.stat(breakPath).catch(() => undefined);
    if (stat && now() - stat.mtimeMs > BREAK_FILE_STALE_MS) await fs.rm(breakPath, { force: true });
    else await sleep(FIRST_RETRY_MS);
    return;
  }
  try {
    const seen = await readLock(lockPath);
    if (seen !== undefined && isStale(seen, now())) await fs.rm(lockPath, { force: true });
  } finally {
    await fs.rm(breakPath, { force: true });
  }
}

/** Removes the lock only while it still carries our line. */
async function release(lockPath: string, mine: string): Promise<void> {
  const text = await fs.readFile(lockPath, 'utf8').catch(() => undefined);
  if (text === mine) await fs.rm(lockPath, { force: true });
}

function timedOut(lockPath: string, holder: LockHolder | undefined, timeoutMs: number, shownAs: string | undefined): SsmProxyError {
  const who = holder ? `another ssm-proxy (pid ${holder.pid} on ${printable(holder.host)}, since ${printable(holder.since)})` : 'another ssm-proxy';
  const what = shownAs ?? printable(lockPath.slice(0, -'.ssm-proxy.lock'.length));
  return new SsmProxyError(
    'timeout',
    `${what} is being edited by ${who}; gave up after ${Math.round(timeoutMs / 100) / 10} s — try again, ` +
      `or delete ${printable(lockPath)} if that process is gone`,
  );
}
