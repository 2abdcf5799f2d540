import { SsmProxyError } from '../errors.js';
import { readAwsConfigFiles, type AwsConfigFiles } from './config-files.js';
import { checkEndpointUrl, checkRegion, ENDPOINT_VARIABLES } from '../input-checks.js';
import { ssoSettingsFrom, type SsoSettings } from './sso/sso-settings.js';

/**
 * Who signs the AWS calls, decided once from the files and the environment:
 * - sso: the profile signs in through AWS SSO (role credentials from the SSO portal);
 * - role: the profile assumes `role_arn` (the SDK's provider does it);
 * - profile: some other profile source (static keys, credential_process, …), left to the SDK;
 * - environment: no profile named and AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY set;
 * - default-chain: nothing named anywhere; the SDK's default chain decides.
 */
export type Signer =
  | { kind: 'sso'; sso: SsoSettings }
  | { kind: 'role'; roleArn: string }
  | { kind: 'profile' }
  | { kind: 'environment' }
  | { kind: 'default-chain' };

/**
 * Everything a command needs to know about AWS before it calls it, resolved once and passed on
 * (credential chain, clients, error messages, doctor): no other module reads ~/.aws/config.
 */
export interface AwsContext {
  /** The profile named by --profile or AWS_PROFILE; undefined means the SDK's default chain. */
  profile: string | undefined;
  /** Where the profile came from: `--profile`, `AWS_PROFILE`, `default profile`, `none`, or a caller's label. */
  profileSource: string;
  region: string;
  regionSource: string;
  signer: Signer;
  /** The profile's `ca_bundle`, with the profile's name for messages. */
  caBundle: { path: string; profile: string } | undefined;
  files: AwsConfigFiles;
}

export interface AwsContextInput {
  profile?: string | undefined;
  region?: string | undefined;
  /** Labels for doctor when the values came from an ssh alias rather than a flag. */
  profileSource?: string | undefined;
  regionSource?: string | undefined;
}

/**
 * Picks the profile and region the way the AWS CLI does (flag, then environment, then the
 * profile's own settings) and decides who signs. Fails early, naming the fix, on an empty or
 * unknown profile, a region that is not a region, an incomplete SSO profile, a broken config file
 * or an endpoint variable that is not an http(s) URL.
 */
export function resolveAwsContext(input: AwsContextInput, env: NodeJS.ProcessEnv = process.env): AwsContext {
  if (input.profile === '') {
    throw new SsmProxyError('usage', `--profile is empty; name a profile, or leave the option out to use AWS_PROFILE or the default profile`);
  }
  // A flag is a usage error; a value from elsewhere (doctor's ssh alias) is the configuration's.
  if (input.region !== undefined) checkRegion(input.region, input.regionSource ?? 'from --region', input.regionSource ? 'config' : 'usage');
  for (const name of ENDPOINT_VARIABLES) {
    if (env[name]) checkEndpointUrl(env[name], name, 'config');
  }
  const files = readAwsConfigFiles(env);
  const { sections, configLabel } = files;
  const profile = input.profile || env.AWS_PROFILE || undefined;
  const profileSettings = sections[profile ?? 'default'];
  if (profile !== undefined && !profileSettings) {
    throw new SsmProxyError(
      'config',
      `the AWS profile '${profile}' is not defined in ${configLabel} or the credentials file; add it (ssm-proxy configure-profile --profile ${profile} …, or aws configure sso) or fix --profile`,
    );
  }
  const which = profile ? `the profile '${profile}'` : 'the default profile';
  let region: string | undefined;
  let regionSource: string;
  if (input.region) [region, regionSource] = [input.region, input.regionSource ?? '--region'];
  else if (env.AWS_REGION) [region, regionSource] = [env.AWS_REGION, 'AWS_REGION'];
  else if (env.AWS_DEFAULT_REGION) [region, regionSource] = [env.AWS_DEFAULT_REGION, 'AWS_DEFAULT_REGION'];
  else [region, regionSource] = [profileSettings?.region, `region of ${profile ? `profile '${profile}'` : 'the default profile'}`];
  if (!region) {
    throw new SsmProxyError('config', `no AWS region: pass --region, set AWS_REGION, or set region in ${which} in ${configLabel}`);
  }
  if (!input.region) checkRegion(region, regionSource === 'AWS_REGION' || regionSource === 'AWS_DEFAULT_REGION' ? `from ${regionSource}` : `from ${which} in ${configLabel}`, 'config');

  // Static keys in the environment come first in the SDK's chain when no profile is named.
  const usesProfile = profile !== undefined || !(env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY);
  let signer: Signer;
  if (!usesProfile) signer = { kind: 'environment' };
  else if (!profileSettings) signer = { kind: 'default-chain' };
  else {
    const sso = ssoSettingsFrom(sections, { profile: profile ?? 'default' }, configLabel);
    if (sso) signer = { kind: 'sso', sso };
    else if (profileSettings.role_arn) signer = { kind: 'role', roleArn: profileSettings.role_arn };
    else signer = { kind: 'profile' };
  }
  const profileSource =
    input.profile ? (input.profileSource ?? '--profile') : env.AWS_PROFILE ? 'AWS_PROFILE' : usesProfile && profileSettings ? 'default profile' : 'none';
  const caPath = profileSettings?.ca_bundle;
  return {
    profile,
    profileSource,
    region,
    regionSource,
    signer,
    caBundle: caPath ? { path: caPath, profile: profile ?? 'default' } : undefined,
    files,
  };
}

/** `profile 'P'`, `the default profile` or `the default credentials`: what signs, in a few words. */
export function describeProfile(context: Pick<AwsContext, 'profile' | 'signer'>): string {
  if (context.profile) return `profile '${context.profile}'`;
  return context.signer.kind === 'environment' || context.signer.kind === 'default-chain' ? 'the default credentials' : 'the default profile';
}

/** `SSO role R in account A` or `role arn:…`, when the profile says; undefined otherwise. */
export function describeRole(signer: Signer): string | undefined {
  if (signer.kind === 'sso' && signer.sso.roleName && signer.sso.accountId) return `SSO role ${signer.sso.roleName} in account ${signer.sso.accountId}`;
  if (signer.kind === 'role') return `role ${signer.roleArn}`;
  return undefined;
}

/** Who signs, for messages: `profile 'P' (SSO role R in account A)`. Never a secret. */
export function describeSigner(context: Pick<AwsContext, 'profile' | 'signer'>): string {
  const role = describeRole(context.signer);
  return role ? `${describeProfile(context)} (${role})` : describeProfile(context);
}

/** The SSO settings when the profile signs in through AWS SSO. */
export function ssoOf(context: Pick<AwsContext, 'signer'>): SsoSettings | undefined {
  return context.signer.kind === 'sso' ? context.signer.sso : undefined;
}

/**
 * For `login`: the SSO settings of a profile (default: AWS_PROFILE, then `default`) or of a named
 * `[sso-session]`, from the same files and rules as every other command.
 */
export function resolveSsoLogin(
  input: { profile?: string | undefined; ssoSession?: string | undefined },
  env: NodeJS.ProcessEnv = process.env,
): { sso: SsoSettings; files: AwsConfigFiles; caBundle: { path: string; profile: string } | undefined } {
  if (input.profile === '') throw new SsmProxyError('usage', `--profile is empty; name a profile, or leave the option out to use AWS_PROFILE or the default profile`);
  if (input.ssoSession === '') throw new SsmProxyError('usage', `--sso-session is empty; name an [sso-session] of the AWS config file`);
  for (const name of ENDPOINT_VARIABLES) {
    if (env[name]) checkEndpointUrl(env[name], name, 'config');
  }
  const files = readAwsConfigFiles(env);
  const { sections, configLabel } = files;
  if (input.ssoSession !== undefined) {
    return { sso: ssoSettingsFrom(sections, { ssoSession: input.ssoSession }, configLabel)!, files, caBundle: undefined };
  }
  const profile = input.profile || env.AWS_PROFILE || 'default';
  if (!sections[profile]) {
    throw new SsmProxyError(
      'config',
      `the AWS profile '${profile}' is not defined in ${configLabel}; create it with 'ssm-proxy configure-profile --profile ${profile} …' or pass --profile`,
    );
  }
  const sso = ssoSettingsFrom(sections, { profile }, configLabel);
  if (!sso) {
    throw new SsmProxyError(
      'config',
      `the AWS profile '${profile}' does not sign in through AWS SSO (no sso_session or sso_start_url in ${configLabel}); nothing to log in to`,
    );
  }
  const ca = sections[profile]?.ca_bundle;
  return { sso, files, caBundle: ca ? { path: ca, profile } : undefined };
}
