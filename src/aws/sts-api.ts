import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { requestHandlerOptions, type NetworkAgents } from '../network/network-agents.js';
import { describeAwsError } from './aws-errors.js';

export interface CallerIdentity {
  arn: string;
  account: string;
  userId: string;
}

/**
 * STS GetCallerIdentity (the seed's identity check): which principal the credentials are.
 * @aws-sdk/client-sts is loaded only here; AWS_ENDPOINT_URL_STS is read by the SDK itself.
 */
export async function getCallerIdentity(options: {
  region: string;
  profile: string | undefined;
  identity?: string;
  credentials: AwsCredentialIdentityProvider;
  agents?: NetworkAgents | undefined;
}): Promise<CallerIdentity> {
  const { STSClient, GetCallerIdentityCommand } = await import('@aws-sdk/client-sts');
  const client = new STSClient({
    region: options.region,
    credentials: options.credentials,
    requestHandler: requestHandlerOptions(options.agents),
    maxAttempts: 2,
  });
  try {
    const output = await client.send(new GetCallerIdentityCommand({}));
    return { arn: output.Arn ?? '', account: output.Account ?? '', userId: output.UserId ?? '' };
  } catch (error) {
    throw describeAwsError(error, { action: 'sts:GetCallerIdentity', profile: options.profile, identity: options.identity });
  }
  // No client.destroy(): it would destroy the agents the command's other clients share.
}
