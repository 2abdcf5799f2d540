import { SsmProxyError } from '../errors.js';
import { configFileLabel, loadConfigSections, ssoSettingsFrom, type ConfigSections } from './sso/sso-settings.js';

export interface AwsTarget {
  /** The profile to use, or undefined for the SDK's default chain (environment, default profile, ...). */
  profile: string | undefined;
  region: string;
  /**
   * Who signs the calls, for messages: `profile 'P' (SSO role R in account A)`, `profile 'P'
   * (role arn:…)`, `profile 'P'` or `the default credentials`. Never a secret.
   */
  identity: string;
  /** Where the profile and region came from, for `doctor`: `--profile`, `AWS_PROFILE`, ... */
  profileSource: string;
  regionSource: string;
  /** The profile's `ca_bundle` (AWS CLI setting), when it has one. */
  caBundle?: string | undefined;
}

/**
 * Picks the profile and region the way the AWS CLI does: flag, then environment, then the
 * profile's own settings in ~/.aws/config. Fails early, with the fix, when a named profile does
 * not exist, an SSO profile is incomplete or names a missing [sso-session], or no region can be
 * found, instead of letting a request fail obscurely later.
 */
export async function resolveAwsTarget(
  flags: { profile?: string; region?: string; caBundle?: string },
  env = process.env,
): Promise<AwsTarget> {
  const profile = flags.profile || env.AWS_PROFILE || undefined;
  // The files are read when they decide something: the profile, the region, or the CA bundle.
  const needsFiles =
    profile !== undefined || !(flags.region || env.AWS_REGION || env.AWS_DEFAULT_REGION) || !(flags.caBundle || env.AWS_CA_BUNDLE);
  let profileSettings: Record<string, string | undefined> | undefined;
  let sections: ConfigSections = {};
  const where = configFileLabel(env);
  if (needsFiles) {
    sections = await loadConfigSections();
    const name = profile ?? 'default';
    profileSettings = sections[name];
    if (profile !== undefined && !profileSettings) {
      throw new SsmProxyError(
        'config',
        `the AWS profile '${profile}' is not defined in ${where} or the credentials file; add it (ssm-proxy configure-profile --profile ${profile} …, or aws configure sso) or fix --profile`,
      );
    }
  }
  const region = flags.region || env.AWS_REGION || env.AWS_DEFAULT_REGION || profileSettings?.region;
  if (!region) {
    const which = profile ? `the profile '${profile}'` : 'the default profile';
    throw new SsmProxyError('config', `no AWS region: pass --region, set AWS_REGION, or set region in ${which} in ${where}`);
  }
  // Only when the profile is the one that will sign: static keys in the environment win without a profile.
  const usesProfile = profile !== undefined || !(env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY);
  const sso = usesProfile && profileSettings ? ssoSettingsFrom(sections, { profile: profile ?? 'default' }, where) : undefined;
  const label = profile ? `profile '${profile}'` : usesProfile && profileSettings ? `the default profile` : 'the default credentials';
  let identity = label;
  if (sso?.roleName && sso.accountId) identity = `${label} (SSO role ${sso.roleName} in account ${sso.accountId})`;
  else if (usesProfile && profileSettings?.role_arn) identity = `${label} (role ${profileSettings.role_arn})`;
  const profileSource = flags.profile ? '--profile' : env.AWS_PROFILE ? 'AWS_PROFILE' : usesProfile && profileSettings ? 'default profile' : 'none';
  const regionSource = flags.region
    ? '--region'
    : env.AWS_REGION
      ? 'AWS_REGION'
      : env.AWS_DEFAULT_REGION
        ? 'AWS_DEFAULT_REGION'
        : `region of ${profile ? `profile '${profile}'` : 'the default profile'}`;
  return { profile, region, identity, profileSource, regionSource, caBundle: profileSettings?.ca_bundle };
}
