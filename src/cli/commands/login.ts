import type { CommandModule } from 'yargs';
import { SsmProxyError } from '../../errors.js';
import { createLogger } from '../../log.js';
import { buildNetwork, withNetworkOptions, type NetworkArgs } from '../network-options.js';
import { runCommand } from '../run-command.js';

export interface LoginArgs extends NetworkArgs {
  profile?: string;
  'sso-session'?: string;
  force: boolean;
  browser: boolean;
  verbose: number;
}

export const loginCommand: CommandModule<object, LoginArgs> = {
  command: 'login',
  describe: 'Sign in to AWS SSO (IAM Identity Center) and cache the token where the AWS CLI and SDK find it',
  builder: (y) =>
    withNetworkOptions(y)
      .option('profile', { type: 'string', describe: 'An SSO profile from ~/.aws/config (default: AWS_PROFILE, then default)' })
      .option('sso-session', { type: 'string', describe: 'Sign in to this [sso-session] directly' })
      .conflicts('profile', 'sso-session')
      .option('force', { type: 'boolean', default: false, describe: 'Sign in again even when the cached token is still valid' })
      .option('browser', { type: 'boolean', default: true, describe: 'Open the verification page in a browser when possible (--no-browser: do not)' })
      .option('verbose', { alias: 'v', type: 'count', describe: 'Log progress to stderr' }),
  handler: (args) =>
    runCommand(async () => {
      return runLogin(args);
    }),
};

/**
 * `ssm-proxy login`: a fresh token stays, a token near expiry is refreshed without a prompt,
 * otherwise the OIDC device flow runs (URL and code on stderr). The token lands in the AWS CLI's
 * cache, so `aws` and ssm-proxy share one sign-in.
 */
export async function runLogin(args: LoginArgs, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const [{ configFileLabel, loadConfigSections, ssoSettingsFrom, describeSso }, { ensureSsoToken }, { openBrowser }, { tokenCachePath }, { createOidcApi }] =
    await Promise.all([
      import('../../aws/sso/sso-settings.js'),
      import('../../aws/sso/ensure-token.js'),
      import('../../aws/sso/open-browser.js'),
      import('../../aws/sso/token-cache.js'),
      import('../../aws/sso/oidc-client.js'),
    ]);
  const log = createLogger({ verbosity: args.verbose ?? 0 });
  const say = (line: string) => process.stderr.write(`ssm-proxy: ${line}\n`);
  const where = configFileLabel(env);
  const sections = await loadConfigSections();
  const ssoSession = args['sso-session'];
  const profile = ssoSession ? undefined : args.profile || env.AWS_PROFILE || 'default';
  if (profile !== undefined && !sections[profile]) {
    throw new SsmProxyError(
      'config',
      `the AWS profile '${profile}' is not defined in ${where}; create it with 'ssm-proxy configure-profile --profile ${profile} …' or pass --profile`,
    );
  }
  const sso = ssoSettingsFrom(sections, ssoSession ? { ssoSession } : { profile }, where);
  if (!sso) {
    throw new SsmProxyError(
      'config',
      `the AWS profile '${profile}' does not sign in through AWS SSO (no sso_session or sso_start_url in ${where}); nothing to log in to`,
    );
  }
  // Proxy and CA bundle for the OIDC calls, as for connect.
  const profileCa = profile !== undefined ? sections[profile]?.ca_bundle : undefined;
  const { agents } = await buildNetwork(args, profileCa ? { path: profileCa, profile: profile! } : undefined, env);
  const outcome = await ensureSsoToken(sso, {
    createOidc: (region) => createOidcApi(region, agents),
    mode: 'auto',
    interactive: true,
    force: args.force,
    log,
    prompt: say,
    openBrowser: (url) => {
      if (args.browser) openBrowser(url, log, env);
    },
  });
  const file = await tokenCachePath(sso.cacheKey);
  if (outcome === 'cached') say(`${describeSso(sso)} is still valid (${file}); --force signs in again`);
  else if (outcome === 'refreshed') say(`${describeSso(sso)} was refreshed without a prompt; token cached in ${file}`);
  else say(`token cached in ${file}`);
  log.close();
  return 0;
}
