import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { readBounded } from '../../bounded-read.js';
import { writeFileAtomic } from '../../files/atomic-file.js';
import { awsHome } from '../config-files.js';
import type { RoleCredentials } from './portal-client.js';
import type { SsoSettings } from './sso-settings.js';
import { isoSeconds } from './token-cache.js';

/**
 * SSO role credentials cached until shortly before they expire, in the AWS CLI v2's own cache
 * (`~/.aws/cli/cache/<sha1>.json`, written by its SSOCredentialFetcher through JSONFileCache), so
 * `aws` and ssm-proxy share them: a second connection skips the token check and the portal's
 * GetRoleCredentials. Byte for byte the CLI's format:
 * - name: SHA-1 of the JSON of {accountId, roleName, sessionName | startUrl}, keys sorted, no
 *   spaces, non-ASCII escaped (Python's json.dumps with sort_keys and (',', ':') separators);
 * - content: Python's json.dumps of {ProviderType, Credentials: {AccessKeyId, SecretAccessKey,
 *   SessionToken, Expiration (`%Y-%m-%dT%H:%M:%SZ`), AccountId}}, `", "` and `": "` separators;
 * - used while more than 15 minutes are left (the CLI's expiry window); mode 0600.
 */
export const CLI_EXPIRY_WINDOW_MS = 15 * 60_000;
const FILE_LIMIT = 64 * 1024;

/** Python's json.dumps of a string (ensure_ascii): everything outside ' '..'~' escaped as \uXXXX. */
function pythonString(text: string): string {
  return JSON.stringify(text).replace(/[\u007f-\uffff]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export function roleCacheKey(sso: Pick<SsoSettings, 'accountId' | 'roleName' | 'sessionName' | 'startUrl'>): string {
  // Keys in sorted order: accountId, roleName, then sessionName or startUrl.
  const last = sso.sessionName !== undefined ? `"sessionName":${pythonString(sso.sessionName)}` : `"startUrl":${pythonString(sso.startUrl)}`;
  const json = `{"accountId":${pythonString(sso.accountId ?? '')},"roleName":${pythonString(sso.roleName ?? '')},${last}}`;
  return createHash('sha1').update(json, 'utf8').digest('hex');
}

export function roleCachePath(sso: Pick<SsoSettings, 'accountId' | 'roleName' | 'sessionName' | 'startUrl'>, env: NodeJS.ProcessEnv): string {
  return join(awsHome(env), '.aws', 'cli', 'cache', `${roleCacheKey(sso)}.json`);
}

/** The file's bytes, as the AWS CLI writes them. */
export function roleCacheText(credentials: RoleCredentials, accountId: string): string {
  const expiration = isoSeconds(credentials.expiration.getTime());
  return (
    `{"ProviderType": "sso", "Credentials": {"AccessKeyId": ${pythonString(credentials.accessKeyId)}, ` +
    `"SecretAccessKey": ${pythonString(credentials.secretAccessKey)}, "SessionToken": ${pythonString(credentials.sessionToken ?? '')}, ` +
    `"Expiration": ${pythonString(expiration)}, "AccountId": ${pythonString(accountId)}}}`
  );
}

/** Cached credentials with more than the CLI's window left, or why there are none (for -v). */
export function readCachedRole(
  sso: Pick<SsoSettings, 'accountId' | 'roleName' | 'sessionName' | 'startUrl'>,
  env: NodeJS.ProcessEnv,
  now: number,
): { credentials: RoleCredentials; file: string } | { credentials: undefined; file: string; why: string } {
  const file = roleCachePath(sso, env);
  const read = readBounded(file, FILE_LIMIT);
  if (!read.ok) return { credentials: undefined, file, why: read.code === 'ENOENT' ? 'none cached' : `the cache file ${read.reason}` };
  let value: unknown;
  try {
    value = JSON.parse(read.bytes.toString('utf8'));
  } catch {
    return { credentials: undefined, file, why: 'the cache file is not valid JSON' };
  }
  const cached = (value as { Credentials?: Record<string, unknown> } | null)?.Credentials;
  const fields = ['AccessKeyId', 'SecretAccessKey', 'SessionToken', 'Expiration'] as const;
  if (!cached || fields.some((field) => typeof cached[field] !== 'string' || cached[field] === '')) {
    return { credentials: undefined, file, why: 'the cache file does not hold credentials' };
  }
  const expiration = new Date(cached.Expiration as string);
  if (Number.isNaN(expiration.getTime())) return { credentials: undefined, file, why: 'the cached expiration is not a date' };
  if (expiration.getTime() - now <= CLI_EXPIRY_WINDOW_MS) return { credentials: undefined, file, why: `the cached ones expire at ${isoSeconds(expiration.getTime())}` };
  return {
    file,
    credentials: {
      accessKeyId: cached.AccessKeyId as string,
      secretAccessKey: cached.SecretAccessKey as string,
      sessionToken: cached.SessionToken as string,
      expiration,
    },
  };
}

/** Atomic, 0600 in a 0700 directory (when ssm-proxy creates it). */
export async function writeCachedRole(
  sso: Pick<SsoSettings, 'accountId' | 'roleName' | 'sessionName' | 'startUrl'>,
  env: NodeJS.ProcessEnv,
  credentials: RoleCredentials,
): Promise<string> {
  const file = roleCachePath(sso, env);
  await writeFileAtomic(file, roleCacheText(credentials, sso.accountId ?? ''), { mode: 0o600, dirMode: 0o700 });
  return file;
}

/** Removes the cached role credentials of this profile; true when there were some. */
export async function forgetCachedRole(
  sso: Pick<SsoSettings, 'accountId' | 'roleName' | 'sessionName' | 'startUrl'>,
  env: NodeJS.ProcessEnv,
): Promise<boolean> {
  const { rm, stat } = await import('node:fs/promises');
  const file = roleCachePath(sso, env);
  try {
    if (!(await stat(file)).isFile()) return false;
    await rm(file);
    return true;
  } catch {
    return false;
  }
}
