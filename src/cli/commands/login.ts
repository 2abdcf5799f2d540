import type { CommandModule } from 'yargs';
import { createLogger } from '../../log.js';
import { printable } from '../../printable.js';
import { buildNetwork, clientSettings, single, withNetworkOptions, type NetworkArgs } from '../network-options.js';
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
  const [{ resolveSsoLogin }, { shareWithSdk }, { describeSso }, { ensureSsoToken }, { openBrowser }, { createOidcApi }] = await Promise.all([
    import('../../aws/aws-context.js'),
    import('../../aws/config-files.js'),
    import('../../aws/sso/sso-settings.js'),
    import('../../aws/sso/ensure-token.js'),
    import('../../aws/sso/open-browser.js'),
    import('../../aws/sso/oidc-client.js'),
  ]);
  const ssoSession = single(args['sso-session'], '--sso-session');
  const { sso, files, caBundle } = resolveSsoLogin(ssoSession !== undefined ? { ssoSession } : { profile: single(args.profile, '--profile') }, env);
  await shareWithSdk(files);
  const log = createLogger({ verbosity: args.verbose ?? 0 });
  const say = (line: string) => process.stderr.write(`ssm-proxy: ${printable(line)}\n`);
  // Proxy, CA bundle and timeouts for the OIDC calls, as for connect.
  const network = await buildNetwork(args, caBundle, env);
  const client = await clientSettings(args, network);
  const { outcome, file } = await ensureSsoToken(sso, {
    createOidc: (region) => createOidcApi(region, client),
    mode: 'auto',
    interactive: true,
    force: args.force,
    log,
    prompt: say,
    openBrowser: (url) => {
      if (args.browser) openBrowser(url, log, env);
    },
  });
  if (outcome !== 'cached' && sso.profile && sso.accountId && sso.roleName) {
    // Role credentials cached under the old sign-in (the AWS CLI's cache) go with it.
    const { forgetCachedRole } = await import('../../aws/sso/role-credential-cache.js');
    if (await forgetCachedRole(sso, env)) log.info('removed the role credentials cached under the previous sign-in');
  }
  if (outcome === 'cached') say(`${describeSso(sso)} is still valid (${file}); --force signs in again`);
  else if (outcome === 'refreshed') say(`${describeSso(sso)} was refreshed without a prompt; token cached in ${file}`);
  else say(`token cached in ${file}`);
  log.close();
  return 0;
}
