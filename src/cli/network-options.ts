import type { Argv } from 'yargs';
import type { NetworkAgents } from '../network/network-agents.js';
import type { NetworkSettings } from '../network/network-settings.js';

export interface NetworkArgs {
  proxy?: string;
  'ca-bundle'?: string;
}

/** --proxy and --ca-bundle, shared by every command that calls AWS. */
export function withNetworkOptions<T>(y: Argv<T>): Argv<T & NetworkArgs> {
  return y
    .option('proxy', {
      type: 'string',
      describe: 'HTTP(S) proxy for every AWS call and the websocket, e.g. http://proxy:3128 (default: HTTPS_PROXY, HTTP_PROXY; NO_PROXY honoured)',
    })
    .option('ca-bundle', {
      type: 'string',
      describe: 'PEM file of CA certificates to trust for AWS endpoints, e.g. a TLS-inspecting proxy\'s CA (default: AWS_CA_BUNDLE, the profile\'s ca_bundle)',
    }) as Argv<T & NetworkArgs>;
}

export interface Network {
  settings: NetworkSettings;
  /** undefined when neither a proxy nor a CA bundle is in effect (no agent package is loaded). */
  agents: NetworkAgents | undefined;
}

/** Resolves the settings once and builds the agents every client of the command shares. */
export async function buildNetwork(
  args: NetworkArgs,
  profileCaBundle: { path: string; profile: string } | undefined,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Network> {
  const [{ resolveNetworkSettings }, { createNetworkAgents }] = await Promise.all([
    import('../network/network-settings.js'),
    import('../network/network-agents.js'),
  ]);
  const settings = resolveNetworkSettings({ proxy: args.proxy, caBundle: args['ca-bundle'], profileCaBundle, env });
  return { settings, agents: await createNetworkAgents(settings) };
}
