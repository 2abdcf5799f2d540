import { promises as fs } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../../files/atomic-file.js';

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
  const { getSSOTokenFilepath } = await import('@smithy/core/config');
  return getSSOTokenFilepath(cacheKey);
}

/** The cached token, or undefined when there is none or it cannot be parsed. */
export async function readSsoToken(cacheKey: string): Promise<SsoToken | undefined> {
  let text: string;
  try {
    text = await fs.readFile(await tokenCachePath(cacheKey), 'utf8');
  } catch {
    return undefined;
  }
  try {
    const value = JSON.parse(text) as Partial<SsoToken>;
    if (typeof value !== 'object' || value === null || typeof value.accessToken !== 'string' || typeof value.expiresAt !== 'string') {
      return undefined;
    }
    return value as SsoToken;
  } catch {
    return undefined;
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
  await writeFileAtomic(file, `${JSON.stringify(ordered, null, 2)}\n`, { mode: TOKEN_FILE_MODE, dirMode: TOKEN_DIR_MODE });
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
