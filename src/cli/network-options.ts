import type { Argv } from 'yargs';
import type { AwsClientSettings } from '../aws/aws-call.js';
import type { AwsContext } from '../aws/aws-context.js';
import { SsmProxyError } from '../errors.js';
import { checkEndpointUrl, parseSeconds } from '../input-checks.js';
import { declareOptions, type OptionTable } from './option-table.js';
import type { Network } from '../network/build-network.js';

/** Every option is a string as typed: the checks below parse and name exactly what the user wrote. */
export interface NetworkArgs {
  proxy?: string;
  'ca-bundle'?: string;
  'connect-timeout'?: string;
}

/** The AWS options connect and doctor share (login has only the network ones). */
export interface AwsArgs extends NetworkArgs {
  profile?: string;
  region?: string;
  'endpoint-url'?: string;
  /** PrivateLink: dial the data channel here instead of the StreamUrl's host. */
  'ssmmessages-endpoint'?: string;
}

/** --proxy, --ca-bundle and --connect-timeout, shared by every command that calls AWS. */
export const NETWORK_OPTIONS = {
  proxy: {
    type: 'string',
    describe: 'HTTP(S) proxy for every AWS call and the websocket, e.g. http://proxy:3128 (default: HTTPS_PROXY, HTTP_PROXY; NO_PROXY honoured)',
  },
  'ca-bundle': {
    type: 'string',
    describe: 'PEM file of CA certificates to trust for AWS endpoints, e.g. a TLS-inspecting proxy\'s CA (default: AWS_CA_BUNDLE, the profile\'s ca_bundle)',
  },
  'connect-timeout': {
    type: 'string',
    describe: 'Seconds an AWS endpoint may take to accept a connection (default 5); each request must be answered within twice that',
  },
} as const satisfies OptionTable;

/** --profile, --region, --endpoint-url, --ssmmessages-endpoint and the network options. */
export function awsOptions(defaults: { from: string }) {
  return {
    ...NETWORK_OPTIONS,
    profile: { type: 'string', describe: `AWS profile from ~/.aws/config (default: ${defaults.from}AWS_PROFILE)` },
    region: { type: 'string', describe: `AWS region (default: ${defaults.from}AWS_REGION, the profile's)` },
    'endpoint-url': { type: 'string', describe: 'SSM API endpoint override (default: AWS_ENDPOINT_URL_SSM, AWS_ENDPOINT_URL)' },
    'ssmmessages-endpoint': {
      type: 'string',
      describe: 'Open the data channel at this https:// endpoint (PrivateLink) instead of the StreamUrl\'s host; path and query are kept (default: AWS_ENDPOINT_URL_SSMMESSAGES)',
    },
  } as const satisfies OptionTable;
}

export function withNetworkOptions<T>(y: Argv<T>): Argv<T & NetworkArgs> {
  return declareOptions<T, NetworkArgs>(y, NETWORK_OPTIONS);
}

export function withAwsOptions<T>(y: Argv<T>, defaults: { from: string }): Argv<T & AwsArgs> {
  return declareOptions<T, AwsArgs>(y, awsOptions(defaults));
}

/** A string option given twice arrives as an array: refuse it rather than pick one silently. */
export function single(value: unknown, flag: string): string | undefined {
  if (value === undefined) return undefined;
  if (Array.isArray(value)) throw new SsmProxyError('usage', `${flag} was given ${value.length} times; give it once`);
  return String(value);
}

/** Client settings from --connect-timeout (checked) and the network. */
export async function clientSettings(args: NetworkArgs, network: Network): Promise<AwsClientSettings> {
  const { httpTimeouts, DEFAULT_CONNECT_TIMEOUT_S } = await import('../network/network-agents.js');
  const raw = single(args['connect-timeout'], '--connect-timeout');
  const seconds = raw === undefined ? DEFAULT_CONNECT_TIMEOUT_S : parseSeconds(raw, 'from --connect-timeout', 600);
  return { agents: network.agents, timeouts: httpTimeouts(seconds) };
}

/** The command's network (proxy, CA bundle) from its flags, the environment and the profile. */
export async function buildNetwork(args: NetworkArgs, profileCaBundle: { path: string; profile: string } | undefined, env: NodeJS.ProcessEnv = process.env): Promise<Network> {
  const { buildNetwork: build } = await import('../network/build-network.js');
  return build({ proxy: single(args.proxy, '--proxy'), caBundle: single(args['ca-bundle'], '--ca-bundle') }, profileCaBundle, env);
}

/** Everything connect and doctor need before the first AWS call, resolved once. */
export interface PreparedAws {
  context: AwsContext;
  network: Network;
  client: AwsClientSettings;
  /** --endpoint-url, checked. */
  endpoint: string | undefined;
}

/**
 * Checks the flags (before any file or network), resolves the AWS context once, hands the files
 * already read to the SDK, and builds the network every client of the command shares.
 * `sources` names where doctor's values came from when they were not flags.
 */
export async function prepareAws(
  args: AwsArgs,
  env: NodeJS.ProcessEnv = process.env,
  sources: { profile?: string | undefined; region?: string | undefined } = {},
): Promise<PreparedAws> {
  const endpointText = single(args['endpoint-url'], '--endpoint-url');
  if (endpointText !== undefined) checkEndpointUrl(endpointText, 'from --endpoint-url');
  const [{ resolveAwsContext }, { shareWithSdk }] = await Promise.all([import('../aws/aws-context.js'), import('../aws/config-files.js')]);
  const context = resolveAwsContext(
    {
      profile: single(args.profile, '--profile'),
      region: single(args.region, '--region'),
      ...(sources.profile ? { profileSource: sources.profile } : {}),
      ...(sources.region ? { regionSource: sources.region } : {}),
    },
    env,
  );
  await shareWithSdk(context.files);
  const network = await buildNetwork(args, context.caBundle, env);
  return { context, network, client: await clientSettings(args, network), endpoint: endpointText };
}
