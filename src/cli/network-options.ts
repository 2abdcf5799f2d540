import type { Argv } from 'yargs';
import type { Network } from '../network/build-network.js';

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

/** The command's network (proxy, CA bundle) from its flags, the environment and the profile. */
export async function buildNetwork(args: NetworkArgs, profileCaBundle: { path: string; profile: string } | undefined, env: NodeJS.ProcessEnv = process.env): Promise<Network> {
  const { buildNetwork: build } = await import('../network/build-network.js');
  return build({ proxy: args.proxy, caBundle: args['ca-bundle'] }, profileCaBundle, env);
}
