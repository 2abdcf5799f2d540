import { SsmProxyError } from '../errors.js';

export interface AwsTarget {
  /** The profile to use, or undefined for the SDK's default chain (environment, default profile, ...). */
  profile: string | undefined;
  region: string;
}

/**
 * Picks the profile and region the way the AWS CLI does: flag, then environment, then the
 * profile's own settings in ~/.aws/config. Fails early, with the fix, when a named profile does
 * not exist or no region can be found, instead of letting a request fail obscurely later.
 */
export async function resolveAwsTarget(flags: { profile?: string; region?: string }, env = process.env): Promise<AwsTarget> {
  const profile = flags.profile || env.AWS_PROFILE || undefined;
  const needsFiles = profile !== undefined || !(flags.region || env.AWS_REGION || env.AWS_DEFAULT_REGION);
  let profileSettings: Record<string, string | undefined> | undefined;
  if (needsFiles) {
    const { loadSharedConfigFiles } = await import('@smithy/core/config');
    let files: Awaited<ReturnType<typeof loadSharedConfigFiles>>;
    try {
      files = await loadSharedConfigFiles({ ignoreCache: true });
    } catch (error) {
      throw new SsmProxyError('config', `cannot read the AWS config files: ${(error as Error).message}`);
    }
    const name = profile ?? 'default';
    profileSettings = files.configFile[name] ?? files.credentialsFile[name];
    if (profile !== undefined && !profileSettings) {
      const where = env.AWS_CONFIG_FILE ?? '~/.aws/config';
      throw new SsmProxyError(
        'config',
        `the AWS profile '${profile}' is not defined in ${where} or the credentials file; add it (aws configure sso) or fix --profile`,
      );
    }
  }
  const region = flags.region || env.AWS_REGION || env.AWS_DEFAULT_REGION || profileSettings?.region;
  if (!region) {
    const where = profile ? `the profile '${profile}'` : 'the default profile';
    throw new SsmProxyError('config', `no AWS region: pass --region, set AWS_REGION, or set region in ${where}`);
  }
  return { profile, region };
}
