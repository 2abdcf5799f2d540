import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { describeAwsError } from './aws-errors.js';

/**
 * The SDK's default chain for the profile (SSO, assume-role, process, static, environment when no
 * profile is named). Memoised by the SDK and refreshed as it nears expiry; every caller gets the
 * current credentials, so resumes after an hour sign with fresh ones (pitfall 17).
 */
export async function createCredentialProvider(profile: string | undefined): Promise<AwsCredentialIdentityProvider> {
  const { fromNodeProviderChain } = await import('@aws-sdk/credential-providers');
  const chain = fromNodeProviderChain(profile ? { profile } : {});
  return async (): Promise<AwsCredentialIdentity> => {
    try {
      return await chain();
    } catch (error) {
      throw describeAwsError(error, { action: 'loading AWS credentials', profile });
    }
  };
}
