import type { AwsCredentialIdentityProvider } from '@smithy/types';
import type { AwsTarget } from '../aws/profile.js';
import type { SsoSettings } from '../aws/sso/sso-settings.js';
import { SsmProxyError } from '../errors.js';
import { createLogger } from '../log.js';
import type { Network } from '../network/build-network.js';
import { VERSION } from '../version.js';
import { failed, passed, skipped, type CheckResult } from './check-result.js';
import { checkSshConfig, type AliasSettings } from './ssh-check.js';

export interface DoctorOptions {
  alias?: string | undefined;
  target?: string | undefined;
  profile?: string | undefined;
  region?: string | undefined;
  endpointUrl?: string | undefined;
  ssmmessagesEndpoint?: string | undefined;
  proxy?: string | undefined;
  caBundle?: string | undefined;
  /** The ssh config file for `ssh -G` (default: ssh's own). */
  sshConfig?: string | undefined;
  /** Start and terminate a real session to prove ssm:StartSession is allowed. */
  probe: boolean;
  /** The port the probe session asks for (default: the alias's Port, else 22). */
  port?: number | undefined;
  documentName: string;
  env: NodeJS.ProcessEnv;
}

/**
 * Every check, in order: each a small step returning a CheckResult. A step that cannot run
 * because an earlier one failed is reported as not checked, never as a second failure.
 */
export async function runDoctor(options: DoctorOptions): Promise<CheckResult[]> {
  const results: CheckResult[] = [passed('ssm-proxy', `${VERSION} (Node ${process.version})`)];
  const env = options.env;

  let alias: AliasSettings = {};
  if (options.alias) {
    const ssh = await checkSshConfig(options.alias, options.sshConfig);
    results.push(ssh.result);
    alias = ssh.settings;
  }
  const profileFlag = options.profile ?? alias.profile;
  const regionFlag = options.region ?? alias.region;
  const target = options.target ?? alias.target;

  // Profile and region, the way connect resolves them.
  let aws: AwsTarget | undefined;
  try {
    const { resolveAwsTarget } = await import('../aws/profile.js');
    aws = await resolveAwsTarget(
      { ...(profileFlag ? { profile: profileFlag } : {}), ...(regionFlag ? { region: regionFlag } : {}), ...(options.caBundle ? { caBundle: options.caBundle } : {}) },
      env,
    );
    const fromAlias = `the ProxyCommand of ${options.alias}`;
    if (!options.profile && alias.profile) aws.profileSource = fromAlias;
    if (!options.region && alias.region) aws.regionSource = fromAlias;
    const profile = aws.profile ? `'${aws.profile}' (from ${aws.profileSource})` : `none (${env.AWS_ACCESS_KEY_ID ? 'AWS_ACCESS_KEY_ID in the environment' : "the SDK's default chain"})`;
    const who = aws.identity.replace(/^.*? \((.*)\)$/, '$1');
    results.push(passed('AWS profile', `${profile}, region ${aws.region} (from ${aws.regionSource})${who !== aws.identity ? `, ${who}` : ''}`));
  } catch (error) {
    results.push(failed('AWS profile', error));
  }

  // SSO token time left.
  let ssoOk = true;
  if (aws) {
    const sso = await ssoCheck(aws, env);
    results.push(sso);
    ssoOk = sso.status !== 'fail';
  } else {
    results.push(skipped('SSO sign-in', 'not checked (no usable profile)'));
  }

  // Proxy and CA in effect.
  let network: Network | undefined;
  try {
    const [{ buildNetwork }, { describeNetwork }] = await Promise.all([import('../network/build-network.js'), import('../network/network-settings.js')]);
    network = await buildNetwork(
      { proxy: options.proxy, caBundle: options.caBundle },
      aws?.caBundle ? { path: aws.caBundle, profile: aws.profile ?? 'default' } : undefined,
      env,
    );
    const described = describeNetwork(network.settings);
    results.push(passed('proxy', described.proxy), passed('CA bundle', described.ca));
  } catch (error) {
    results.push(failed('proxy and CA bundle', error));
  }

  // Credentials and caller identity (STS GetCallerIdentity, as in the seed's identity check).
  let credentials: AwsCredentialIdentityProvider | undefined;
  if (aws && network && ssoOk) {
    try {
      const [{ createCredentialProvider }, { getCallerIdentity }] = await Promise.all([import('../aws/credentials.js'), import('../aws/sts-api.js')]);
      const quiet = createLogger({ verbosity: 0, write: () => undefined });
      const provider = await createCredentialProvider(aws.profile, { login: 'never', interactive: false, log: quiet, env, agents: network.agents });
      await provider();
      credentials = provider;
      const caller = await getCallerIdentity({ region: aws.region, profile: aws.profile, identity: aws.identity, credentials: provider, agents: network.agents });
      results.push(passed('caller identity', `${caller.arn} (account ${caller.account})`));
    } catch (error) {
      const result = failed('caller identity', error);
      if (!result.fix && result.kind === 'config') {
        result.fix = `pass --profile, or set up credentials ('ssm-proxy configure-profile --profile NAME …' for AWS SSO)`;
      }
      results.push(result);
    }
  } else {
    results.push(skipped('caller identity', `not checked (${!aws ? 'no usable profile' : !ssoOk ? 'no usable SSO sign-in' : 'network settings are broken'})`));
  }

  // Endpoints: the SSM API and the data channel (ssmmessages), through the same proxy and CA.
  if (aws && network) {
    const { probeEndpoint } = await import('./endpoint-check.js');
    const { agentFor } = await import('../network/network-agents.js');
    const region = aws.region;
    const ssmUrl = options.endpointUrl || env.AWS_ENDPOINT_URL_SSM || env.AWS_ENDPOINT_URL || `https://ssm.${region}.amazonaws.com`;
    // The websocket's endpoint as connect will dial it (StreamUrls name wss://ssmmessages.REGION…).
    const { parseStreamEndpoint } = await import('../cli/ssmmessages-endpoint.js');
    const override = options.ssmmessagesEndpoint || env.AWS_ENDPOINT_URL_SSMMESSAGES;
    let messagesUrl = `wss://ssmmessages.${region}.amazonaws.com`;
    try {
      if (override) messagesUrl = parseStreamEndpoint(override).href;
    } catch (error) {
      messagesUrl = '';
      results.push(failed('data channel endpoint', error));
    }
    const endpoints: [string, string, string][] = [
      ['SSM endpoint', ssmUrl, `check --endpoint-url / AWS_ENDPOINT_URL_SSM, the proxy (HTTPS_PROXY, NO_PROXY), and that this network reaches AWS (or a VPC endpoint com.amazonaws.${region}.ssm)`],
      ['data channel endpoint', messagesUrl, `check the proxy (HTTPS_PROXY, NO_PROXY); in a PrivateLink-only network pass --ssmmessages-endpoint with the VPC endpoint com.amazonaws.${region}.ssmmessages`],
    ];
    for (const [label, url, fix] of endpoints) {
      if (!url) continue;
      try {
        const status = await probeEndpoint(url, agentFor(network.agents, url));
        results.push(passed(label, `${hostOf(url)} answered (HTTP ${status})`));
      } catch (error) {
        const tls = error instanceof SsmProxyError && /TLS certificate/.test(error.message);
        const proxy = error instanceof SsmProxyError && /\bproxy\b/.test(error.message);
        results.push(tls || proxy ? failed(label, error) : failed(label, error, fix));
      }
    }
  } else {
    results.push(skipped('SSM endpoint', 'not checked (no usable profile or network settings)'));
  }

  // Optionally, a real StartSession + TerminateSession.
  const probeLabel = 'ssm:StartSession';
  if (!options.probe) {
    results.push(skipped(probeLabel, 'not tried; --probe starts and terminates a real session to prove it is allowed'));
  } else if (!target) {
    results.push(failed(probeLabel, new SsmProxyError('usage', 'no target to try'), 'pass --target i-… (or an alias whose ProxyCommand names one)'));
  } else if (!aws || !credentials || !network) {
    results.push(skipped(probeLabel, 'not tried (no working credentials)'));
  } else {
    try {
      const { createSsmApi } = await import('../aws/ssm-api.js');
      const ssm = await createSsmApi({
        region: aws.region,
        profile: aws.profile,
        identity: aws.identity,
        credentials,
        ...(options.endpointUrl ? { endpoint: options.endpointUrl } : {}),
        agents: network.agents,
      });
      const port = options.port ?? alias.port ?? 22;
      const session = await ssm.startSession({ target, documentName: options.documentName, parameters: { portNumber: [String(port)] } });
      await ssm.terminateSession(session.sessionId);
      results.push(passed(probeLabel, `allowed on ${target} (session ${session.sessionId} started and terminated)`));
    } catch (error) {
      results.push(failed(probeLabel, error));
    }
  }
  return results;
}

async function ssoCheck(aws: AwsTarget, env: NodeJS.ProcessEnv): Promise<CheckResult> {
  const label = 'SSO sign-in';
  const [{ configFileLabel, loadConfigSections, ssoSettingsFrom, loginCommand }, { readSsoToken, msUntilExpiry, tokenCachePath }] = await Promise.all([
    import('../aws/sso/sso-settings.js'),
    import('../aws/sso/token-cache.js'),
  ]);
  let sso: SsoSettings | undefined;
  try {
    if (aws.profile !== undefined || !(env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY)) {
      sso = ssoSettingsFrom(await loadConfigSections(), { profile: aws.profile ?? 'default' }, configFileLabel(env));
    }
  } catch (error) {
    return failed(label, error);
  }
  if (!sso) return passed(label, 'not used (the credentials do not come from AWS SSO)');
  const fix = `run '${loginCommand(sso)}'`;
  const token = await readSsoToken(sso.cacheKey);
  if (!token) {
    return failed(label, new SsmProxyError('config', `no cached token for ${sso.startUrl} (${await tokenCachePath(sso.cacheKey)})`), fix);
  }
  const now = Date.now();
  const left = msUntilExpiry(token, now);
  if (Number.isNaN(left)) return failed(label, new SsmProxyError('config', 'the cached token has an unreadable expiry date'), fix);
  if (left > 0) return passed(label, `valid for ${duration(left)} (until ${token.expiresAt})`);
  const refreshable =
    token.refreshToken && token.clientId && token.clientSecret && (!token.registrationExpiresAt || Date.parse(token.registrationExpiresAt) > now);
  if (refreshable) return passed(label, `expired at ${token.expiresAt}; ssm-proxy refreshes it with its refresh token (no prompt)`);
  return failed(label, new SsmProxyError('config', `expired at ${token.expiresAt} and has no usable refresh token`), fix);
}

function duration(ms: number): string {
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 60) return `${minutes} min`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

function hostOf(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}`;
  } catch {
    return url;
  }
}
