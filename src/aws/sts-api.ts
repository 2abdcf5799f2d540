import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { clientOptions, labelEndpoints, sendWithDeadline, type AwsClientSettings } from './aws-call.js';
import { describeSigner, ssoOf, type AwsContext } from './aws-context.js';
import { describeAwsError } from './aws-errors.js';
import { loadCommonJs } from './commonjs-package.js';

export interface CallerIdentity {
  arn: string;
  account: string;
  userId: string;
}

/**
 * STS GetCallerIdentity: which principal the credentials are. @aws-sdk/client-sts is loaded only
 * here; AWS_ENDPOINT_URL_STS is read by the SDK itself.
 */
export async function getCallerIdentity(options: {
  context: AwsContext;
  credentials: AwsCredentialIdentityProvider;
  client: AwsClientSettings;
  signal?: AbortSignal | undefined;
}): Promise<CallerIdentity> {
  const { STSClient, GetCallerIdentityCommand } = await loadCommonJs('@aws-sdk/client-sts', () => import('@aws-sdk/client-sts'));
  const client = labelEndpoints(new STSClient({ region: options.context.region, credentials: options.credentials, ...clientOptions(options.client, 2) }));
  const { timeouts } = options.client;
  try {
    const output = await sendWithDeadline<{ Arn?: string; Account?: string; UserId?: string }>(client, new GetCallerIdentityCommand({}), {
      timeouts,
      signal: options.signal,
    });
    return { arn: output.Arn ?? '', account: output.Account ?? '', userId: output.UserId ?? '' };
  } catch (error) {
    if (options.signal?.aborted) throw error;
    throw describeAwsError(error, { action: 'sts:GetCallerIdentity', service: 'STS', who: describeSigner(options.context), sso: ssoOf(options.context), timeouts });
  }
  // No client.destroy(): it would destroy the agents the command's other clients share.
}
