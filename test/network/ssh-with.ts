import { REGION, shellQuote, type Harness } from '../e2e/harness.js';
import { run, type RunOptions, type RunResult } from '../e2e/processes.js';

/**
 * ssh to the harness alias with a ProxyCommand that carries extra `ssm-proxy connect` flags
 * (`withEndpointUrl: false` leaves out --endpoint-url, for AWS_ENDPOINT_URL_SSM).
 */
export function sshWith(
  harness: Harness,
  extraConnectArgs: string[],
  command: string,
  options: RunOptions & { withEndpointUrl?: boolean } = {},
): Promise<RunResult> {
  const proxyCommand = [
    ...harness.ssmProxy.map((word) => shellQuote(word).replace(/%/g, '%%')),
    'connect',
    '%h',
    '%p',
    '--region',
    REGION,
    ...(options.withEndpointUrl === false ? [] : ['--endpoint-url', harness.fake.endpointUrl]),
    ...extraConnectArgs.map((word) => shellQuote(word).replace(/%/g, '%%')),
  ].join(' ');
  return run('ssh', ['-F', harness.sshConfigPath, '-o', `ProxyCommand=${proxyCommand}`, harness.alias, command], {
    timeoutMs: 120_000,
    ...options,
    env: { ...harness.env, ...options.env },
  });
}
