import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { createLogger, type Logger } from '../log.js';
import { requestHandlerOptions, type NetworkAgents } from '../network/network-agents.js';
import { describeAwsError, isSsoSignInFailure } from './aws-errors.js';
import type { LoginMode } from './sso/ensure-token.js';
import { configFileLabel, loadConfigSections, ssoSettingsFrom, type SsoSettings } from './sso/sso-settings.js';

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
  /**
   * Proxy / CA agents for the SDK's own inner clients (SSO GetRoleCredentials, SSO-OIDC token
   * refresh, STS AssumeRole / AssumeRoleWithWebIdentity) and for ssm-proxy's OIDC calls.
   */
  agents?: NetworkAgents | undefined;
}

/**
 * The SDK's default chain for the profile (SSO, assume-role, process, static, environment when no
 * profile is named). Memoised by the SDK and refreshed as it nears expiry; every caller gets the
 * current credentials, so resumes after an hour sign with fresh ones (pitfall 17).
 *
 * For an SSO profile the token cache is checked first (refreshed silently with its refresh token,
 * or signed in with the device flow when allowed), so the SDK's fromSSO always finds a usable
 * token and a failure is one line naming the fix. The same happens again if the SDK reports the
 * sign-in gone later in a long session.
 */
export async function createCredentialProvider(
  profile: string | undefined,
  options: CredentialProviderOptions = {},
): Promise<AwsCredentialIdentityProvider> {
  const env = options.env ?? process.env;
  const log = options.log ?? createLogger({ verbosity: 0, write: () => undefined });
  const sso = await ssoSettingsFor(profile, env);
  const ensure = sso ? await makeEnsure(sso, options, log) : undefined;
  if (ensure) await ensure();

  const { fromNodeProviderChain } = await import('@aws-sdk/credential-providers');
  // clientConfig reaches every client the chain builds (fromSSO's SSOClient, fromSso's
  // SSOOIDCClient, fromIni's STS role assumer, fromTokenFile's STS client).
  const clientConfig = options.agents ? { clientConfig: { requestHandler: requestHandlerOptions(options.agents) } } : {};
  const chain = fromNodeProviderChain({ ...(profile ? { profile } : {}), ...clientConfig });
  const context = { action: 'loading AWS credentials', profile, ...(sso ? { sso } : {}) };
  const load = async (): Promise<AwsCredentialIdentity> => {
    const credentials = await chain();
    log.addSecret(credentials.secretAccessKey);
    log.addSecret(credentials.sessionToken);
    return credentials;
  };
  return async (): Promise<AwsCredentialIdentity> => {
    try {
      return await load();
    } catch (error) {
      if (!ensure || !isSsoSignInFailure(error)) throw describeAwsError(error, context);
      log.info(`the SDK reports the SSO sign-in unusable (${(error as Error).name}); checking the token cache`);
    }
    try {
      await ensure();
      return await load();
    } catch (error) {
      throw describeAwsError(error, context);
    }
  };
}

/** The SSO settings of the profile that will sign, or undefined when it is not an SSO profile. */
async function ssoSettingsFor(profile: string | undefined, env: NodeJS.ProcessEnv): Promise<SsoSettings | undefined> {
  // Without a profile, static keys in the environment come first in the SDK's chain.
  if (profile === undefined && env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY) return undefined;
  const sections = await loadConfigSections();
  return ssoSettingsFrom(sections, { profile: profile ?? 'default' }, configFileLabel(env));
}

async function makeEnsure(sso: SsoSettings, options: CredentialProviderOptions, log: Logger) {
  const [{ ensureSsoToken }, { openBrowser }, { createOidcApi }] = await Promise.all([
    import('./sso/ensure-token.js'),
    import('./sso/open-browser.js'),
    import('./sso/oidc-client.js'),
  ]);
  const env = options.env ?? process.env;
  return () =>
    ensureSsoToken(sso, {
      createOidc: (region) => createOidcApi(region, options.agents),
      mode: options.login ?? 'auto',
      interactive: options.interactive ?? false,
      log,
      prompt: options.prompt ?? ((line) => process.stderr.write(`ssm-proxy: ${line}\n`)),
      openBrowser: options.openBrowser ?? ((url) => openBrowser(url, log, env)),
    });
}
