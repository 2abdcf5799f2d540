/**
 * Checks on what the user typed, before any file is read or written. Each failure is one line
 * naming the bad value and what would be accepted.
 */
import { SsmProxyError } from '../errors.js';
import { printable } from '../printable.js';
import { checkRegion as checkRegionShared, parsePort } from '../input-checks.js';
import { isValidTargetId, TARGET_ID_HINT } from '../target-id.js';

const ALIAS = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;
const PROFILE = /^[A-Za-z0-9_.+=,@-]+$/;

export function checkAlias(alias: string): void {
  const wildcard = /[*?!,]/.exec(alias);
  if (wildcard) {
    throw new SsmProxyError(
      'usage',
      `alias '${printable(alias)}' contains the wildcard character '${wildcard[0]}'; name one host (letters, digits, '.', '_', '-')`,
    );
  }
  if (!ALIAS.test(alias)) {
    throw new SsmProxyError('usage', `alias '${printable(alias)}' is not a plain host name; use letters, digits, '.', '_' and '-' only`);
  }
}

export function checkTarget(target: string, from: string): void {
  if (!isValidTargetId(target)) {
    const fix = from.startsWith('from --') ? '' : '; pass --target';
    throw new SsmProxyError('usage', `target '${printable(target)}' (${from}) is not valid: ${TARGET_ID_HINT}${fix}`);
  }
}

export function checkProfile(profile: string, from: string): void {
  if (!PROFILE.test(profile)) {
    throw new SsmProxyError('usage', `profile '${printable(profile)}' (${from}) is not a plain AWS profile name; pass --profile with the name from ~/.aws/config`);
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
  checkConfigText('user', user, 'from --user');
  if (user === '' || /[\s"'\\#%]/.test(user) || /^[-=]/.test(user)) {
    throw new SsmProxyError('usage', `user '${printable(user)}' is not a plain login name; use one without spaces, quotes, '#' or '%' that does not start with '-' or '='`);
  }
}

export function checkIdentityFile(file: string): void {
  checkConfigText('identity file', file, 'from --identity-file');
  if (file.trim() === '') throw new SsmProxyError('usage', "identity file '' (from --identity-file) is empty; pass the path of a private key");
}

/**
 * Text that goes into ~/.ssh/config stays on its line: no line breaks, no other control
 * characters (C0, DEL, C1). A newline would start a line of its own, and with it any Host,
 * Match or option.
 */
export function checkConfigText(what: string, value: string, from: string): void {
  // eslint-disable-next-line no-control-regex
  const bad = /[\x00-\x1f\x7f-\x9f]/.exec(value);
  if (bad) {
    throw new SsmProxyError(
      'usage',
      `${what} '${printable(value)}' (${from}) contains the control character ${printable(bad[0])}; ssh config values are one line of printable text`,
    );
  }
}

/** ControlPersist as ssh_config(5) takes it: yes, no, or a time such as 600, 10m, 1h30m. */
export function checkControlPersist(value: string): void {
  if (!/^(yes|no|(\d+[smhdwSMHDW]?)+)$/.test(value)) {
    throw new SsmProxyError('usage', `--control-persist '${printable(value)}' is not a time such as 10m, 1h or 600 (seconds), or yes/no`);
  }
}
