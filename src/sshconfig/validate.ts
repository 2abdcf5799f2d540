/**
 * Checks on what the user typed, before any file is read or written. Each failure is one line
 * naming the bad value and what would be accepted.
 */
import { SsmProxyError } from '../errors.js';
import { isValidTargetId, TARGET_ID_HINT } from '../target-id.js';

const ALIAS = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;
const PROFILE = /^[A-Za-z0-9_.+=,@-]+$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;

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

export function checkRegion(region: string, from: string): void {
  if (!REGION.test(region)) {
    throw new SsmProxyError('usage', `region '${region}' (${from}) is not an AWS region name such as eu-west-2; pass --region`);
  }
}

export function checkPort(port: number, from: string): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new SsmProxyError('usage', `port '${port}' (${from}) is not a TCP port (1-65535)`);
  }
}

/** --port as typed: digits only, so 'abc' or '22x' is named as typed rather than as NaN. */
export function parsePortFlag(text: string): number {
  const port = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (Number.isNaN(port)) throw new SsmProxyError('usage', `port '${text}' (from --port) is not a TCP port (1-65535)`);
  checkPort(port, 'from --port');
  return port;
}

export function checkUser(user: string): void {
  if (user === '' || /[\s"'\\#%]/.test(user)) {
    throw new SsmProxyError('usage', `user '${user}' is not a plain login name; use one without spaces, quotes, '#' or '%'`);
  }
}
