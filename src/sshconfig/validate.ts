/**
 * Checks on what the user typed, before any file is read or written. Each failure is one line
 * naming the bad value and what would be accepted.
 */
import { SsmProxyError } from '../errors.js';
import { checkRegion as checkRegionShared, parsePort } from '../input-checks.js';
import { isValidTargetId, TARGET_ID_HINT } from '../target-id.js';

const ALIAS = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;
const PROFILE = /^[A-Za-z0-9_.+=,@-]+$/;

export function checkAlias(alias: string): void {
  const wildcard = /[*?!,]/.exec(alias);
  if (wildcard) {
    throw new SsmProxyError(
      'usage',
      `alias '${alias}' contains the wildcard character '${wildcard[0]}'; name one host (letters, digits, '.', '_', '-')`,
    );
  }
  if (!ALIAS.test(alias)) {
    throw new SsmProxyError('usage', `alias '${alias}' is not a plain host name; use letters, digits, '.', '_' and '-' only`);
  }
}

export function checkTarget(target: string, from: string): void {
  if (!isValidTargetId(target)) {
    const fix = from.startsWith('from --') ? '' : '; pass --target';
    throw new SsmProxyError('usage', `target '${target}' (${from}) is not valid: ${TARGET_ID_HINT}${fix}`);
  }
}

export function checkProfile(profile: string, from: string): void {
  if (!PROFILE.test(profile)) {
    throw new SsmProxyError('usage', `profile '${profile}' (${from}) is not a plain AWS profile name; pass --profile with the name from ~/.aws/config`);
  }
}

/** The same region check as connect and doctor (src/input-checks.ts). */
export function checkRegion(region: string, from: string): void {
  checkRegionShared(region, from);
}

export function checkPort(port: number, from: string): void {
  parsePort(String(port), from);
}

/** --port as typed: digits only, so 'abc' or '22x' is named as typed rather than as NaN. */
export function parsePortFlag(text: string): number {
  return parsePort(text, 'from --port');
}

export function checkUser(user: string): void {
  if (user === '' || /[\s"'\\#%]/.test(user)) {
    throw new SsmProxyError('usage', `user '${user}' is not a plain login name; use one without spaces, quotes, '#' or '%'`);
  }
}
