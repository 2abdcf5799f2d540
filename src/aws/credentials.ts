import type { AwsCredentialIdentity } from '@smithy/types';
import { abortable } from '../abortable.js';
import { createLogger, type Logger } from '../log.js';
import { clientOptions, type AwsClientSettings } from './aws-call.js';
import { describeSigner, ssoOf, type AwsContext } from './aws-context.js';
import { describeAwsError, isSsoSignInFailure, type AwsErrorContext } from './aws-errors.js';
import type { EnsuredToken, LoginMode } from './sso/ensure-token.js';
import type { PortalApi, RoleCredentials } from './sso/portal-client.js';
import type { SsoSettings } from './sso/sso-settings.js';
import { loadCommonJs } from './commonjs-package.js';

export interface CredentialProviderOptions {
  /** auto (default): sign in with the device flow when the SSO token is unusable and `interactive`. */
  login?: LoginMode;
  /** Progress (never secrets; the credentials are registered as secrets with it). */
  log?: Logger;
  /** A human sees stderr (it is a terminal): the device-login prompt can be shown there. */
  interactive?: boolean;
  /** Writes one prompt line for the human; default: stderr. Never stdout (the SSH stream). */
  prompt?(line: string): void;
  openBrowser?(url: string): void;
  env?: NodeJS.ProcessEnv;
  /** Proxy / CA agents and timeouts for every client: the SSO portal and OIDC, the SDK chain's STS. */
  client: AwsClientSettings;
  /** For tests: the clock. */
  now?(): number;
}

/**
 * Current credentials for the command's signer; refreshed ahead of expiry, so resumes after an
 * hour sign with fresh ones (docs/protocol.md pitfall 17). An optional AbortSignal ends a wait.
 */
export type CredentialProvider = (options?: { signal?: AbortSignal | undefined }) => Promise<AwsCredentialIdentity>;

/** Role credentials are fetched again when less than this is left on them (the SDK's own margin). */
const REFRESH_MARGIN_MS = 5 * 60_000;

/**
 * Credentials from the context resolved once (aws-context.ts):
 * - an SSO profile: the token cache is checked (refreshed silently with its refresh token, or
 *   signed in with the device flow when allowed), then the SSO portal's GetRoleCredentials is
 *   called with that token — ssm-proxy's own client, with the command's network and timeouts;
 * - anything else: the SDK's default chain for the profile, its inner clients (STS for
 *   role_arn / web identity) built with the same network and timeouts.
 * Failures are one line naming the fix.
 */
export async function createCredentialProvider(context: AwsContext, options: CredentialProviderOptions): Promise<CredentialProvider> {
  const log = options.log ?? createLogger({ verbosity: 0, write: () => undefined });
  const sso = ssoOf(context);
  const errorContext: AwsErrorContext = {
    action: 'loading AWS credentials',
    who: describeSigner(context),
    sso,
    timeouts: options.client.timeouts,
    ...(context.signer.kind === 'role' ? { service: 'STS' } : {}),
  };
  if (sso) return ssoProvider(sso, options, log, errorContext);

  const { fromNodeProviderChain } = await loadCredentialProviders();
  // clientConfig reaches every client the chain builds (fromIni's STS role assumer, fromTokenFile's STS client).
  const chain = fromNodeProviderChain({ ...(context.profile ? { profile: context.profile } : {}), clientConfig: clientOptions(options.client, 2) });
  return async ({ signal } = {}) => {
    try {
      const credentials = await abortable(chain(), signal);
      log.addSecret(credentials.secretAccessKey);
      log.addSecret(credentials.sessionToken);
      return credentials;
    } catch (error) {
      if (signal?.aborted) throw error;
      throw describeAwsError(error, errorContext);
    }
  };
}

/** The SDK's credential chain (every signer but SSO), loaded on first use; also in connect's module list. */
export function loadCredentialProviders() {
  return loadCommonJs('@aws-sdk/credential-providers', () => import('@aws-sdk/credential-providers'));
}

function ssoProvider(sso: SsoSettings, options: CredentialProviderOptions, log: Logger, errorContext: AwsErrorContext): CredentialProvider {
  const now = options.now ?? Date.now;
  let current: RoleCredentials | undefined;
  let loading: Promise<RoleCredentials> | undefined;
  let portal: Promise<PortalApi> | undefined;

  const ensure = async (signal: AbortSignal | undefined): Promise<EnsuredToken> => {
    const [{ ensureSsoToken }, { openBrowser }, { createOidcApi }] = await Promise.all([
      import('./sso/ensure-token.js'),
      import('./sso/open-browser.js'),
      import('./sso/oidc-client.js'),
    ]);
    return ensureSsoToken(sso, {
      createOidc: (region) => createOidcApi(region, options.client, signal),
      mode: options.login ?? 'auto',
      interactive: options.interactive ?? false,
      log,
      prompt: options.prompt ?? ((line) => process.stderr.write(`ssm-proxy: ${line}\n`)),
      openBrowser: options.openBrowser ?? ((url) => openBrowser(url, log, env)),
    });
  };

  const fetchRole = async (token: EnsuredToken, signal: AbortSignal | undefined): Promise<RoleCredentials> => {
    portal ??= import('./sso/portal-client.js').then(({ createPortalApi }) => createPortalApi(sso.region, options.client));
    const credentials = await (await portal).getRoleCredentials(
      { accountId: sso.accountId ?? '', roleName: sso.roleName ?? '', accessToken: token.token.accessToken },
      { signal },
    );
    log.addSecret(credentials.secretAccessKey);
    log.addSecret(credentials.sessionToken);
    return credentials;
  };

  const env = options.env ?? process.env;
  const load = async (signal: AbortSignal | undefined): Promise<RoleCredentials> => {
    // The AWS CLI's own cache first: role credentials it (or an earlier ssm-proxy) fetched.
    const { readCachedRole } = await import('./sso/role-credential-cache.js');
    const cached = readCachedRole(sso, env, now());
    if (cached.credentials) {
      log.addSecret(cached.credentials.secretAccessKey);
      log.addSecret(cached.credentials.sessionToken);
      log.info(`role credentials from the AWS CLI cache ${cached.file}`);
      return cached.credentials;
    }
    log.info(`no usable role credentials in the AWS CLI cache (${cached.why})`);
    const fetched = await fetchFromPortal(signal);
    try {
      const { writeCachedRole } = await import('./sso/role-credential-cache.js');
      log.debug(`role credentials cached in ${await writeCachedRole(sso, env, fetched)}`);
    } catch (error) {
      // A cache that cannot be written costs the next connection a round trip, nothing more.
      log.info(`could not cache the role credentials: ${(error as Error).message}`);
    }
    return fetched;
  };

  const fetchFromPortal = async (signal: AbortSignal | undefined): Promise<RoleCredentials> => {
    const action = { ...errorContext, action: `sso:GetRoleCredentials for role ${sso.roleName} in account ${sso.accountId}`, service: 'SSO portal' };
    const token = await ensure(signal);
    try {
      return await fetchRole(token, signal);
    } catch (error) {
      if (signal?.aborted) throw error;
      if (!isSsoSignInFailure(error)) throw describeAwsError(error, action);
      log.info(`the SSO portal rejected the cached token (${(error as Error).name}); checking the token cache again`);
    }
    try {
      return await fetchRole(await ensure(signal), signal);
    } catch (error) {
      if (signal?.aborted) throw error;
      throw describeAwsError(error, action);
    }
  };

  return async ({ signal } = {}) => {
    if (current && current.expiration.getTime() - now() > REFRESH_MARGIN_MS) return current;
    loading ??= load(signal).finally(() => (loading = undefined));
    current = await abortable(loading, signal);
    log.info(`role credentials valid until ${current.expiration.toISOString()}`);
    return current;
  };
}
