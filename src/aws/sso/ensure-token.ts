import { SsmProxyError } from '../../errors.js';
import type { Logger } from '../../log.js';
import { deviceLogin, failure, type DeviceLoginDeps } from './device-login.js';
import type { OidcApi } from './oidc-client.js';
import { describeSso, loginCommand, type SsoSettings } from './sso-settings.js';
import { checkTokenCacheWritable, isoSeconds, msUntilExpiry, readCachedToken, writeSsoToken, type SsoToken } from './token-cache.js';

/**
 * A token with less than this left is refreshed ahead of time. Larger than the SDK's own 5-minute
 * window, so the SDK's fromSSO (which refreshes silently and swallows the reason) finds a fresh
 * token and ssm-proxy can say exactly why a refresh failed.
 */
export const REFRESH_WINDOW_MS = 10 * 60_000;

export type LoginMode = 'auto' | 'never';

export interface EnsureTokenOptions {
  /** auto: sign in with the device flow when needed and `interactive`; never: fail with the fix. */
  mode: LoginMode;
  /** A human can see the prompt (stderr is a terminal, or the `login` command). */
  interactive: boolean;
  /** `login --force`: a new device sign-in even when the cached token is fine. */
  force?: boolean;
  log: Logger;
  prompt(line: string): void;
  openBrowser(url: string): void;
  sleep?(ms: number): Promise<void>;
  now?(): number;
  /** The SSO-OIDC client of the SSO region (oidc-client.ts; with the command's proxy, CA and timeouts). */
  createOidc(region: string): Promise<OidcApi>;
}

export type EnsureOutcome = 'cached' | 'refreshed' | 'signed-in';

/** What ensureSsoToken did, and the token now in the cache (so nobody reads the file again). */
export interface EnsuredToken {
  outcome: EnsureOutcome;
  token: SsoToken;
  file: string;
}

/**
 * Makes sure the token cache holds a usable token for `sso`: keep a fresh one, refresh one near
 * or past expiry with its refresh token (no prompt), else sign in with the device flow when
 * allowed, else fail with one line that names the command to run.
 */
export async function ensureSsoToken(sso: SsoSettings, options: EnsureTokenOptions): Promise<EnsuredToken> {
  const now = options.now ?? Date.now;
  const { log } = options;
  const entry = await readCachedToken(sso.cacheKey);
  const { file } = entry;
  const cached = entry.state === 'ok' ? entry.token : undefined;
  if (entry.state === 'broken') log.info(`the SSO token cache file ${file} ${entry.problem}`);
  if (cached) {
    log.addSecret(cached.accessToken);
    log.addSecret(cached.refreshToken);
    log.addSecret(cached.clientSecret);
  }
  const left = cached ? msUntilExpiry(cached, now()) : NaN;
  if (!options.force && cached && left > REFRESH_WINDOW_MS) {
    log.info(`${describeSso(sso)} is valid until ${cached.expiresAt}`);
    return { outcome: 'cached', token: cached, file };
  }

  let oidc: OidcApi | undefined;
  const getOidc = async () => (oidc ??= await options.createOidc(sso.region));

  let refreshError: SsmProxyError | undefined;
  if (!options.force && cached && canRefresh(cached, now())) {
    try {
      const refreshed = await refreshSsoToken(sso, cached, await getOidc(), now, log);
      await writeSsoToken(sso.cacheKey, refreshed);
      log.info(`${describeSso(sso)} was refreshed; valid until ${refreshed.expiresAt}`);
      return { outcome: 'refreshed', token: refreshed, file };
    } catch (error) {
      refreshError = error instanceof SsmProxyError ? error : failure('CreateToken', sso, error);
      log.info(`refreshing ${describeSso(sso)} failed: ${refreshError.message}`);
    }
  }

  if (options.mode === 'auto' && options.interactive) {
    // Before the user approves a code: the token must be writable where it goes.
    await checkTokenCacheWritable(sso.cacheKey);
    const deps: DeviceLoginDeps = {
      oidc: await getOidc(),
      log,
      prompt: options.prompt,
      openBrowser: options.openBrowser,
      sleep: options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
      now,
    };
    const token = await deviceLogin(sso, cached, deps);
    await writeSsoToken(sso.cacheKey, token);
    log.debug(`SSO token cached in ${file}`);
    return { outcome: 'signed-in', token, file };
  }

  // Still usable for a few minutes: go on, the SDK will try again near expiry.
  if (cached && left > 0 && !options.force) {
    if (refreshError) log.warn(`${describeSso(sso)} expires at ${cached.expiresAt} and could not be refreshed: ${refreshError.message}`);
    return { outcome: 'cached', token: cached, file };
  }
  const fix = `run '${loginCommand(sso)}' (or 'aws sso login${sso.profile ? ` --profile ${sso.profile}` : ` --sso-session ${sso.sessionName}`}') and try again`;
  if (refreshError?.kind === 'network') {
    throw new SsmProxyError('network', `${describeSso(sso)} expired and could not be refreshed: ${refreshError.message}`, { cause: refreshError });
  }
  if (refreshError) {
    throw new SsmProxyError('config', `${describeSso(sso)} expired and could not be refreshed (${stripPrefix(refreshError.message)}); ${fix}`);
  }
  if (entry.state === 'broken') throw new SsmProxyError('config', `${describeSso(sso)} cannot be used: the token cache file ${file} ${entry.problem}; ${fix}`);
  if (!cached) throw new SsmProxyError('config', `${describeSso(sso)} is missing (no cached SSO token for ${sso.startUrl}); ${fix}`);
  if (Number.isNaN(left)) throw new SsmProxyError('config', `${describeSso(sso)} has an unreadable expiry date in its cached token; ${fix}`);
  throw new SsmProxyError('config', `${describeSso(sso)} expired at ${cached.expiresAt}${cached.refreshToken ? '' : ' and has no refresh token'}; ${fix}`);
}

/** `InvalidGrantException: …` out of `SSO-OIDC CreateToken failed for URL (InvalidGrantException: …)`. */
function stripPrefix(message: string): string {
  return /^SSO-OIDC \S+ failed for \S+ \((.*)\)$/.exec(message)?.[1] ?? message;
}

/** Can this token be refreshed without a prompt (doctor asks the same question)? */
export function canRefresh(token: SsoToken, now: number): boolean {
  if (!token.refreshToken || !token.clientId || !token.clientSecret) return false;
  // An expired client registration cannot redeem its refresh token.
  return !token.registrationExpiresAt || Date.parse(token.registrationExpiresAt) > now;
}

/** CreateToken with grant_type refresh_token; keeps the old refresh token if no new one is sent. */
export async function refreshSsoToken(sso: SsoSettings, token: SsoToken, oidc: OidcApi, now: () => number, log: Logger): Promise<SsoToken> {
  log.info(`refreshing ${describeSso(sso)} with its refresh token`);
  let grant;
  try {
    grant = await oidc.createToken({
      grantType: 'refresh_token',
      clientId: token.clientId!,
      clientSecret: token.clientSecret!,
      refreshToken: token.refreshToken!,
    });
  } catch (error) {
    throw failure('CreateToken', sso, error);
  }
  log.addSecret(grant.accessToken);
  log.addSecret(grant.refreshToken);
  return {
    ...token,
    startUrl: token.startUrl || sso.startUrl,
    region: token.region || sso.region,
    accessToken: grant.accessToken,
    expiresAt: isoSeconds(now() + grant.expiresIn * 1000),
    refreshToken: grant.refreshToken ?? token.refreshToken,
  };
}
