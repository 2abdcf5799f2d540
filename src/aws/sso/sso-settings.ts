import { SsmProxyError } from '../../errors.js';
import type { ConfigSections } from '../config-files.js';

/**
 * Where an SSO sign-in comes from: an `[sso-session NAME]` section (the AWS CLI v2 form, with
 * refresh tokens) or the legacy form with `sso_start_url` / `sso_region` in the profile itself.
 * `cacheKey` is what the SDK hashes to name the token cache file: the session name, or the
 * start URL for the legacy form (see getSSOTokenFilepath in @smithy/core/config).
 */
export interface SsoSettings {
  kind: 'sso-session' | 'legacy';
  /** The profile the settings came from (undefined for `login --sso-session`). */
  profile: string | undefined;
  sessionName: string | undefined;
  startUrl: string;
  /** The region of the SSO portal and OIDC service (not the region of the SSM calls). */
  region: string;
  /** sso_registration_scopes; empty for the legacy form. */
  scopes: string[];
  accountId: string | undefined;
  roleName: string | undefined;
  cacheKey: string;
}

type Section = Record<string, string | undefined>;
export type { ConfigSections };

export interface SsoLookup {
  profile?: string | undefined;
  ssoSession?: string | undefined;
}

/** Is this profile section an SSO profile (the SDK's own test, isSsoProfile)? */
export function isSsoProfileSection(section: Section | undefined): boolean {
  if (!section) return false;
  return ['sso_start_url', 'sso_account_id', 'sso_session', 'sso_region', 'sso_role_name'].some((key) => typeof section[key] === 'string');
}

/**
 * The SSO settings of a profile (undefined when it is not an SSO profile) or of a named
 * sso-session. Missing or inconsistent pieces are configuration errors that name the fix.
 */
export function ssoSettingsFrom(sections: ConfigSections, lookup: SsoLookup, where: string): SsoSettings | undefined {
  if (lookup.ssoSession !== undefined) {
    return fromSession(sections, lookup.ssoSession, undefined, where, undefined);
  }
  const profileName = lookup.profile ?? 'default';
  const profile = sections[profileName];
  if (!isSsoProfileSection(profile)) return undefined;
  const section = profile as Section;
  const fix = `fix the profile or run 'ssm-proxy configure-profile --profile ${profileName} …'`;
  if (section.sso_session) {
    return fromSession(sections, section.sso_session, profileName, where, section);
  }
  const missing = ['sso_start_url', 'sso_region', 'sso_account_id', 'sso_role_name'].filter((key) => !section[key]);
  if (missing.length > 0) {
    throw new SsmProxyError(
      'config',
      `the AWS profile '${profileName}' in ${where} is an SSO profile without ${missing.join(', ')} (and no sso_session); ${fix}`,
    );
  }
  return {
    kind: 'legacy',
    profile: profileName,
    sessionName: undefined,
    startUrl: section.sso_start_url!,
    region: section.sso_region!,
    scopes: [],
    accountId: section.sso_account_id,
    roleName: section.sso_role_name,
    cacheKey: section.sso_start_url!,
  };
}

function fromSession(
  sections: ConfigSections,
  sessionName: string,
  profileName: string | undefined,
  where: string,
  profile: Section | undefined,
): SsoSettings {
  const session = sections[`sso-session.${sessionName}`];
  const owner = profileName ? `the AWS profile '${profileName}' names sso_session '${sessionName}' but ` : '';
  if (!session) {
    throw new SsmProxyError(
      'config',
      `${owner}${where} has no [sso-session ${sessionName}] section; add it (ssm-proxy configure-profile --sso-session ${sessionName} --start-url … --sso-region …)`,
    );
  }
  const missing = ['sso_start_url', 'sso_region'].filter((key) => !session[key]);
  if (missing.length > 0) {
    throw new SsmProxyError('config', `the [sso-session ${sessionName}] section in ${where} has no ${missing.join(' or ')}; add it`);
  }
  const startUrl = session.sso_start_url!;
  const region = session.sso_region!;
  if (profile) {
    // The SDK refuses these conflicts too; say so before it does, with the file to fix.
    if (profile.sso_start_url && profile.sso_start_url !== startUrl) {
      throw new SsmProxyError('config', `the AWS profile '${profileName}' has an sso_start_url that differs from [sso-session ${sessionName}] in ${where}; remove one`);
    }
    if (profile.sso_region && profile.sso_region !== region) {
      throw new SsmProxyError('config', `the AWS profile '${profileName}' has an sso_region that differs from [sso-session ${sessionName}] in ${where}; remove one`);
    }
    const missing = ['sso_account_id', 'sso_role_name'].filter((key) => !profile[key]);
    if (missing.length > 0) {
      throw new SsmProxyError(
        'config',
        `the AWS profile '${profileName}' in ${where} has no ${missing.join(' or ')}; add it (ssm-proxy configure-profile --profile ${profileName} …)`,
      );
    }
  }
  const scopes = (session.sso_registration_scopes ?? '')
    .split(',')
    .map((scope) => scope.trim())
    .filter(Boolean);
  return {
    kind: 'sso-session',
    profile: profileName,
    sessionName,
    startUrl,
    region,
    scopes,
    accountId: profile?.sso_account_id,
    roleName: profile?.sso_role_name,
    cacheKey: sessionName,
  };
}

/** `ssm-proxy login --profile P` or `--sso-session S`: the command that fixes a sign-in. */
export function loginCommand(sso: Pick<SsoSettings, 'profile' | 'sessionName'>): string {
  if (sso.profile) return `ssm-proxy login --profile ${sso.profile}`;
  return `ssm-proxy login --sso-session ${sso.sessionName ?? ''}`.trim();
}

/** How the sign-in is named in messages. */
export function describeSso(sso: SsoSettings): string {
  if (sso.profile) return `the AWS SSO sign-in for profile '${sso.profile}'`;
  return `the AWS SSO sign-in for sso-session '${sso.sessionName}'`;
}
