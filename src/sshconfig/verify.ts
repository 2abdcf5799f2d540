/**
 * install-host's check of the staged file with the real OpenSSH (ssh -G, see ssh-g.ts). This
 * catches what reading text cannot: an earlier `Host *`, an Include or a Match block that sets
 * the same option first.
 */
import { SsmProxyError } from '../errors.js';
import { printable } from '../printable.js';
import type { Expectation } from './install-plan.js';
import { firstOption, runSshG, type SshOptions } from './ssh-g.js';

/** The differences between what ssh -G shows and what install-host meant, one phrase each. */
export function mismatches(options: SshOptions, expect: Expectation): string[] {
  const found: string[] = [];
  const check = (key: string, wanted: string | undefined) => {
    if (wanted === undefined) return;
    const actual = firstOption(options, key);
    if (actual !== wanted) found.push(`${key} is ${actual === undefined ? 'not set' : `'${printable(actual)}'`}, not '${printable(wanted)}'`);
  };
  check('hostname', expect.hostname);
  check('proxycommand', expect.proxycommand);
  check('user', expect.user);
  check('port', expect.port === undefined ? undefined : String(expect.port));
  return found;
}

/**
 * Checks a candidate config file (the staged temp file, before it replaces the real one).
 * `shownAs` is the path to name in messages.
 */
export async function verifyWithSsh(ssh: string, candidate: string, shownAs: string, alias: string, expect: Expectation): Promise<void> {
  let options: SshOptions;
  try {
    options = await runSshG(ssh, candidate, alias);
  } catch (error) {
    const why = (error instanceof Error ? error.message : String(error)).split(candidate).join(shownAs);
    throw new SsmProxyError('config', `ssh -G rejects the edited ${shownAs} (${why}); ${shownAs} was left unchanged`);
  }
  const wrong = mismatches(options, expect);
  if (wrong.length > 0) {
    throw new SsmProxyError(
      'config',
      `after the edit, ssh -G ${alias} says ${wrong.join('; ')} — an earlier Host/Match section or Include sets it first; ` +
        `move the Host ${alias} block above it and try again (${shownAs} was left unchanged)`,
    );
  }
}
