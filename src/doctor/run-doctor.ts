import type { AwsClientSettings } from '../aws/aws-call.js';
import { ssoOf, type AwsContext } from '../aws/aws-context.js';
import type { CredentialProvider } from '../aws/credentials.js';
import { SsmProxyError } from '../errors.js';
import { isValidTargetId, TARGET_ID_HINT } from '../target-id.js';
import { createLogger } from '../log.js';
import type { Network } from '../network/build-network.js';
import { VERSION } from '../version.js';
import { failed, passed, skipped, type CheckResult } from './check-result.js';
import { checkSshConfig, type AliasSettings } from './ssh-check.js';

export interface DoctorOptions {
  alias?: string | undefined;
  /** Checked by the command (usage errors come before the report). */
  target?: string | undefined;
  profile?: string | undefined;
  region?: string | undefined;
  endpointUrl?: string | undefined;
  ssmmessagesEndpoint?: string | undefined;
  proxy?: string | undefined;
  caBundle?: string | undefined;
  /** --connect-timeout in seconds (checked by the command). */
  connectTimeout?: number | undefined;
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
  const fromAlias = `the ProxyCommand of ${options.alias}`;
  const target = options.target ?? alias.target;
  const targetFrom = options.target ? 'from --target' : fromAlias;

  // Profile, region and who signs: the one resolver connect and login use.
  let aws: AwsContext | undefined;
  try {
    const [{ resolveAwsContext, describeRole }, { shareWithSdk }] = await Promise.all([import('../aws/aws-context.js'), import('../aws/config-files.js')]);
    aws = resolveAwsContext(
      {
        profile: options.profile ?? alias.profile,
        region: options.region ?? alias.region,
        ...(!options.profile && alias.profile ? { profileSource: fromAlias } : {}),
        ...(!options.region && alias.region ? { regionSource: fromAlias } : {}),
      },
      env,
    );
    await shareWithSdk(aws.files);
    const profile = aws.profile
      ? `'${aws.profile}' (from ${aws.profileSource})`
      : `none (${aws.signer.kind === 'environment' ? 'AWS_ACCESS_KEY_ID in the environment' : aws.signer.kind === 'default-chain' ? "the SDK's default chain" : 'the default profile'})`;
    const role = describeRole(aws.signer);
    results.push(passed('AWS profile', `${profile}, region ${aws.region} (from ${aws.regionSource})${role ? `, ${role}` : ''}`));
  } catch (error) {
    results.push(failed('AWS profile', error));
  }

  // SSO token time left.
  let ssoOk = true;
  if (aws) {
    const sso = await ssoCheck(aws);
    results.push(sso);
    ssoOk = sso.status !== 'fail';
  } else {
    results.push(skipped('SSO sign-in', 'not checked (no usable profile)'));
  }

  // Proxy, CA and timeouts in effect.
  let network: Network | undefined;
  let client: AwsClientSettings | undefined;
  try {
    const [{ buildNetwork }, { describeNetwork }, { httpTimeouts }] = await Promise.all([
      import('../network/build-network.js'),
      import('../network/network-settings.js'),
      import('../network/network-agents.js'),
    ]);
    network = await buildNetwork({ proxy: options.proxy, caBundle: options.caBundle }, aws?.caBundle, env);
    client = { agents: network.agents, timeouts: httpTimeouts(options.connectTimeout) };
    const described = describeNetwork(network.settings);
    results.push(passed('proxy', described.proxy), passed('CA bundle', described.ca));
  } catch (error) {
    results.push(failed('proxy and CA bundle', error));
  }

  // Credentials and caller identity (STS GetCallerIdentity).
  let credentials: CredentialProvider | undefined;
  if (aws && client && ssoOk) {
    try {
      const [{ createCredentialProvider }, { getCallerIdentity }] = await Promise.all([import('../aws/credentials.js'), import('../aws/sts-api.js')]);
      const quiet = createLogger({ verbosity: 0, write: () => undefined });
      const provider = await createCredentialProvider(aws, { login: 'never', interactive: false, log: quiet, env, client });
      await provider();
      credentials = provider;
      const caller = await getCallerIdentity({ context: aws, credentials: provider, client });
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
  if (aws && network && client) {
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
        const status = await probeEndpoint(url, agentFor(network.agents, url), client.timeouts.requestMs);
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

  // Optionally, a real StartSession + TerminateSession; the target is checked before anything is sent.
  const probeLabel = 'ssm:StartSession';
  if (!options.probe) {
    results.push(skipped(probeLabel, 'not tried; --probe starts and terminates a real session to prove it is allowed'));
  } else if (!target) {
    results.push(failed(probeLabel, new SsmProxyError('usage', 'no target to try'), 'pass --target i-… (or an alias whose ProxyCommand names one)'));
  } else if (!isValidTargetId(target)) {
    results.push(failed(probeLabel, new SsmProxyError('usage', `target '${target}' (${targetFrom}) is not valid: ${TARGET_ID_HINT}`), 'pass --target i-…'));
  } else if (!aws || !credentials || !client) {
    results.push(skipped(probeLabel, 'not tried (no working credentials)'));
  } else {
    try {
      const { createSsmApi } = await import('../aws/ssm-api.js');
      const ssm = await createSsmApi({ context: aws, credentials, endpoint: options.endpointUrl, client });
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

async function ssoCheck(aws: AwsContext): Promise<CheckResult> {
  const label = 'SSO sign-in';
  const sso = ssoOf(aws);
  if (!sso) return passed(label, 'not used (the credentials do not come from AWS SSO)');
  const [{ loginCommand }, { readCachedToken, msUntilExpiry }, { canRefresh }] = await Promise.all([
    import('../aws/sso/sso-settings.js'),
    import('../aws/sso/token-cache.js'),
    import('../aws/sso/ensure-token.js'),
  ]);
  const fix = `run '${loginCommand(sso)}'`;
  const cached = await readCachedToken(sso.cacheKey);
  if (cached.state === 'missing') return failed(label, new SsmProxyError('config', `no cached token for ${sso.startUrl} (${cached.file})`), fix);
  if (cached.state === 'broken') return failed(label, new SsmProxyError('config', `the token cache file ${cached.file} ${cached.problem}`), fix);
  const token = cached.token;
  const now = Date.now();
  const left = msUntilExpiry(token, now);
  if (left > 0) return passed(label, `valid for ${duration(left)} (until ${token.expiresAt})`);
  if (canRefresh(token, now)) return passed(label, `expired at ${token.expiresAt}; ssm-proxy refreshes it with its refresh token (no prompt)`);
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
