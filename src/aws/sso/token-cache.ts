import { constants as fsConstants, promises as fs } from 'node:fs';
import path from 'node:path';
import { readBounded } from '../../bounded-read.js';
import { SsmProxyError } from '../../errors.js';
import { codeOf, ioError, writeFileAtomic } from '../../files/atomic-file.js';
import { loadCommonJs } from '../commonjs-package.js';

/**
 * The AWS CLI's SSO token cache, `~/.aws/sso/cache/<sha1 of the cache key>.json`, shared with
 * `aws sso login` and read by the SDK's fromSSO. Field names are the CLI's.
 */
export interface SsoToken {
  startUrl: string;
  region: string;
  accessToken: string;
  /** ISO 8601, UTC. */
  expiresAt: string;
  clientId?: string;
  clientSecret?: string;
  registrationExpiresAt?: string;
  refreshToken?: string;
}

export const TOKEN_FILE_MODE = 0o600;
export const TOKEN_DIR_MODE = 0o700;

/** Exactly the path the SDK reads (same hash, same home directory rules). */
export async function tokenCachePath(cacheKey: string): Promise<string> {
  const { getSSOTokenFilepath } = await loadCommonJs('@smithy/core/config', () => import('@smithy/core/config'));
  return getSSOTokenFilepath(cacheKey);
}

/** A token cache file is a few hundred bytes; anything this large is not one. */
export const TOKEN_FILE_LIMIT = 256 * 1024;

/**
 * What the cache holds for a key: no file, a usable token, or a file that cannot be used — with
 * what is wrong with it, in words, so the message can name the file and the problem.
 */
export type CachedToken =
  | { state: 'missing'; file: string }
  | { state: 'ok'; file: string; token: SsoToken }
  | { state: 'broken'; file: string; problem: string };

const OPTIONAL_STRINGS = ['clientId', 'clientSecret', 'registrationExpiresAt', 'refreshToken', 'startUrl', 'region'] as const;

export async function readCachedToken(cacheKey: string): Promise<CachedToken> {
  const file = await tokenCachePath(cacheKey);
  const read = readBounded(file, TOKEN_FILE_LIMIT);
  if (!read.ok) return read.code === 'ENOENT' ? { state: 'missing', file } : { state: 'broken', file, problem: read.reason };
  let value: unknown;
  try {
    value = JSON.parse(read.bytes.toString('utf8'));
  } catch {
    const problem = read.bytes.length === 0 ? 'is empty' : 'is not valid JSON (truncated or corrupt)';
    return { state: 'broken', file, problem };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { state: 'broken', file, problem: 'does not hold a JSON object' };
  const token = value as Record<string, unknown>;
  const wrong = ['accessToken', 'expiresAt'].filter((key) => typeof token[key] !== 'string' || token[key] === '');
  if (wrong.length > 0) return { state: 'broken', file, problem: `has no ${wrong.join(' or ')} string` };
  const badOptional = OPTIONAL_STRINGS.filter((key) => token[key] !== undefined && token[key] !== null && typeof token[key] !== 'string');
  if (badOptional.length > 0) return { state: 'broken', file, problem: `has a ${badOptional.join(' and a ')} that is not a string` };
  if (Number.isNaN(Date.parse(token.expiresAt as string))) return { state: 'broken', file, problem: `has an expiresAt that is not a date` };
  return { state: 'ok', file, token: value as SsoToken };
}

/** The cached token, or undefined when there is none or it cannot be used. */
export async function readSsoToken(cacheKey: string): Promise<SsoToken | undefined> {
  const cached = await readCachedToken(cacheKey);
  return cached.state === 'ok' ? cached.token : undefined;
}

/**
 * Can a token be written for this key? Checked before a device sign-in, so a cache path that is a
 * directory or a cache directory that is not writable fails before the user approves a code.
 */
export async function checkTokenCacheWritable(cacheKey: string): Promise<void> {
  const file = await tokenCachePath(cacheKey);
  const dir = path.dirname(file);
  const fix = 'fix the path or its permissions (the token is written there, as the AWS CLI does)';
  try {
    if ((await fs.stat(file)).isDirectory()) {
      throw new SsmProxyError('io', `the SSO token cache file ${file} is a directory, not a file; remove it and try again`);
    }
  } catch (error) {
    if (error instanceof SsmProxyError) throw error;
    if (codeOf(error) !== 'ENOENT') throw ioError(`cannot use the SSO token cache file ${file}`, error, fix);
  }
  // The nearest directory that exists must be writable (nothing is created before the sign-in).
  let existing = dir;
  for (;;) {
    try {
      const stat = await fs.stat(existing);
      if (!stat.isDirectory()) throw new SsmProxyError('io', `cannot write the SSO token cache file ${file}: ${existing} is not a directory; remove it and try again`);
      await fs.access(existing, fsConstants.W_OK | fsConstants.X_OK);
      return;
    } catch (error) {
      if (error instanceof SsmProxyError) throw error;
      const parent = path.dirname(existing);
      if (codeOf(error) !== 'ENOENT' || parent === existing) throw ioError(`cannot write the SSO token cache directory ${existing}`, error, fix);
      existing = parent;
    }
  }
}

/** Atomic, mode 0600 in a 0700 directory; fields in the CLI's order, undefined ones left out. */
export async function writeSsoToken(cacheKey: string, token: SsoToken): Promise<string> {
  const file = await tokenCachePath(cacheKey);
  const ordered: SsoToken = {
    startUrl: token.startUrl,
    region: token.region,
    accessToken: token.accessToken,
    expiresAt: token.expiresAt,
    clientId: token.clientId,
    clientSecret: token.clientSecret,
    registrationExpiresAt: token.registrationExpiresAt,
    refreshToken: token.refreshToken,
  };
  try {
    await writeFileAtomic(file, `${JSON.stringify(ordered, null, 2)}\n`, { mode: TOKEN_FILE_MODE, dirMode: TOKEN_DIR_MODE });
  } catch (error) {
    if (error instanceof SsmProxyError) throw error;
    throw ioError(`cannot write the SSO token cache file ${file}`, error);
  }
  // mkdir's mode only applies to directories it creates; the cache directory itself must be private.
  await fs.chmod(path.dirname(file), TOKEN_DIR_MODE).catch(() => undefined);
  return file;
}

/** `2025-01-02T03:04:05Z`, the CLI's format (no milliseconds). */
export function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Milliseconds until the token expires (negative when it has), NaN when the date is unreadable. */
export function msUntilExpiry(token: Pick<SsoToken, 'expiresAt'>, now: number): number {
  return Date.parse(token.expiresAt) - now;
}
