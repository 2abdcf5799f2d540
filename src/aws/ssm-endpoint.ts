import type { AwsContext } from './aws-context.js';

/** Regions of the `aws` partition, whose SSM endpoint is ssm.REGION.amazonaws.com. */
const AWS_PARTITION_REGION = /^(af|ap|ca|eu|il|me|mx|sa|us)-(central|north|south|east|west|northeast|northwest|southeast|southwest)-\d{1,2}$/;

/**
 * Where the SDK's SSM client will send StartSession, when that is certain without the SDK: the
 * checked --endpoint-url, AWS_ENDPOINT_URL_SSM or AWS_ENDPOINT_URL, else the region's standard
 * endpoint. undefined whenever the profile or the environment could send it elsewhere (endpoint_url
 * or services in the profile, FIPS, dual-stack) or the region is not of the `aws` partition: the
 * caller then opens nothing ahead of the SDK.
 */
export function predictSsmEndpoint(context: Pick<AwsContext, 'profile' | 'region' | 'files'>, flag: string | undefined, env: NodeJS.ProcessEnv): URL | undefined {
  if (flag !== undefined) return new URL(flag);
  const settings = context.files.sections[context.profile ?? 'default'] ?? {};
  const unknowable = ['endpoint_url', 'services', 'ignore_configured_endpoint_urls', 'use_fips_endpoint', 'use_dualstack_endpoint'];
  if (unknowable.some((key) => settings[key] !== undefined)) return undefined;
  if (env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS || env.AWS_USE_FIPS_ENDPOINT || env.AWS_USE_DUALSTACK_ENDPOINT) return undefined;
  const configured = env.AWS_ENDPOINT_URL_SSM || env.AWS_ENDPOINT_URL;
  if (configured) return new URL(configured);
  return AWS_PARTITION_REGION.test(context.region) ? new URL(`https://ssm.${context.region}.amazonaws.com`) : undefined;
}
