import { SsmProxyError } from '../../errors.js';
import { describeTransportFailure } from '../aws-errors.js';
import type { Logger } from '../../log.js';
import { DEVICE_CODE_GRANT, type OidcApi } from './oidc-client.js';
import { describeSso, loginCommand, type SsoSettings } from './sso-settings.js';
import { isoSeconds, type SsoToken } from './token-cache.js';

/** RFC 8628 §3.5: each slow_down adds 5 seconds to the polling interval. */
const SLOW_DOWN_STEP_MS = 5_000;
/** A client registration is reused while it has at least this long to live. */
const REGISTRATION_MARGIN_MS = 15 * 60_000;

export interface DeviceLoginDeps {
  oidc: OidcApi;
  log: Logger;
  /** Writes one line for the human; in `connect` this is stderr (the user's terminal), never stdout. */
  prompt(line: string): void;
  /** Best effort; never throws. */
  openBrowser(url: string): void;
  sleep(ms: number): Promise<void>;
  now(): number;
}

/**
 * OIDC device authorization: register a public client (or reuse a live registration from the
 * cached token), start the device authorization, show the URL and code, poll CreateToken until
 * approved. Returns the token to cache; it never logs a secret (they are registered with the
 * logger as secrets as soon as they arrive, as a second line of defence).
 */
export async function deviceLogin(sso: SsoSettings, previous: SsoToken | undefined, deps: DeviceLoginDeps): Promise<SsoToken> {
  const { oidc, log } = deps;
  let clientId: string;
  let clientSecret: string;
  let registrationExpiresAt: number;
  const reusable =
    previous?.clientId &&
    previous.clientSecret &&
    previous.registrationExpiresAt &&
    previous.startUrl === sso.startUrl &&
    Date.parse(previous.registrationExpiresAt) - deps.now() > REGISTRATION_MARGIN_MS;
  if (reusable) {
    clientId = previous.clientId!;
    clientSecret = previous.clientSecret!;
    registrationExpiresAt = Date.parse(previous.registrationExpiresAt!);
    log.addSecret(clientSecret);
    log.info(`reusing the SSO-OIDC client registration (valid until ${isoSeconds(registrationExpiresAt)})`);
  } else {
    const clientName = `ssm-proxy-${sso.sessionName ?? 'legacy'}`;
    log.info(`registering an SSO-OIDC client in ${sso.region}`);
    const registration = await call('RegisterClient', sso, () => oidc.registerClient({ clientName, scopes: sso.scopes }));
    log.addSecret(registration.clientSecret);
    clientId = registration.clientId;
    clientSecret = registration.clientSecret;
    registrationExpiresAt = registration.clientSecretExpiresAt * 1000;
  }

  const authorization = await call('StartDeviceAuthorization', sso, () =>
    oidc.startDeviceAuthorization({ clientId, clientSecret, startUrl: sso.startUrl }),
  );
  log.addSecret(authorization.deviceCode);
  const url = authorization.verificationUriComplete ?? authorization.verificationUri;
  deps.prompt(`${describeSso(sso).replace(/^the /, '')} (${sso.startUrl}):`);
  deps.prompt(`  open ${authorization.verificationUri} and enter the code ${authorization.userCode}`);
  if (authorization.verificationUriComplete) deps.prompt(`  or open ${authorization.verificationUriComplete}`);
  deps.prompt(`  waiting for approval (up to ${Math.round(authorization.expiresIn / 60)} min) …`);
  deps.openBrowser(url);

  const deadline = deps.now() + authorization.expiresIn * 1000;
  let intervalMs = Math.max(1, authorization.interval) * 1000;
  for (let polls = 1; ; polls++) {
    await deps.sleep(intervalMs);
    if (deps.now() > deadline) break;
    try {
      const grant = await oidc.createToken({ grantType: DEVICE_CODE_GRANT, clientId, clientSecret, deviceCode: authorization.deviceCode });
      log.addSecret(grant.accessToken);
      log.addSecret(grant.refreshToken);
      log.info(`SSO sign-in approved after ${polls} poll(s)`);
      deps.prompt(`  signed in; the token is valid until ${isoSeconds(deps.now() + grant.expiresIn * 1000)}`);
      return {
        startUrl: sso.startUrl,
        region: sso.region,
        accessToken: grant.accessToken,
        expiresAt: isoSeconds(deps.now() + grant.expiresIn * 1000),
        clientId,
        clientSecret,
        registrationExpiresAt: isoSeconds(registrationExpiresAt),
        ...(grant.refreshToken ? { refreshToken: grant.refreshToken } : {}),
      };
    } catch (error) {
      const name = errorName(error);
      if (name === 'AuthorizationPendingException') {
        log.debug('CreateToken: authorization pending');
        continue;
      }
      if (name === 'SlowDownException') {
        intervalMs += SLOW_DOWN_STEP_MS;
        log.debug(`CreateToken: slow down; polling every ${intervalMs / 1000} s`);
        continue;
      }
      if (name === 'ExpiredTokenException') break;
      if (name === 'AccessDeniedException') {
        throw new SsmProxyError('access-denied', `${describeSso(sso)} was denied in the browser; run '${loginCommand(sso)}' to try again`);
      }
      throw failure('CreateToken', sso, error);
    }
  }
  throw new SsmProxyError('timeout', `${describeSso(sso)} was not approved in time (the code expired); run '${loginCommand(sso)}' and approve it in the browser`);
}

async function call<T>(operation: string, sso: SsoSettings, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw failure(operation, sso, error);
  }
}

export function errorName(error: unknown): string {
  return typeof error === 'object' && error !== null && 'name' in error ? String((error as { name: unknown }).name) : '';
}

/** `InvalidGrantException: Invalid refresh token provided` (OIDC errors carry error_description). */
export function oidcErrorDetail(error: unknown): string {
  const err = (error ?? {}) as { name?: string; message?: string; error_description?: string };
  const text = (err.error_description || (err.message !== 'UnknownError' ? err.message : '') || String(error)).replace(/\s+/g, ' ').trim();
  return err.name && err.name !== 'Error' ? `${err.name}: ${text}` : text;
}

/**
 * One line for a failed SSO-OIDC call; AWS messages never carry the secrets we sent. An endpoint
 * that cannot be reached, does not answer or answers with something that is not AWS's is a
 * network failure; an OIDC error (invalid grant, client, scope) is the sign-in's configuration.
 */
export function failure(operation: string, sso: SsoSettings, error: unknown): SsmProxyError {
  if (error instanceof SsmProxyError) return error;
  const transport = describeTransportFailure(error, { action: `SSO-OIDC ${operation} in ${sso.region}`, service: 'SSO-OIDC' });
  if (transport) return transport;
  return new SsmProxyError('config', `SSO-OIDC ${operation} failed for ${sso.startUrl} (${oidcErrorDetail(error)})`, { cause: error });
}
