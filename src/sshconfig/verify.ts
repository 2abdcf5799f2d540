/**
 * Asks the real OpenSSH what it will do: `ssh -G -F <file> <alias>` prints the options ssh would
 * use, after first-match-wins, Include and Match. This catches what reading text cannot: an
 * earlier `Host *`, an Include or a Match block that sets the same option first.
 */
import { execFile } from 'node:child_process';
import { SsmProxyError } from '../errors.js';
import { findExecutable } from '../platform/find-executable.js';
import type { Expectation } from './install-plan.js';

/** The ssh on PATH (ssh.exe on Windows), or undefined when there is none (the check is then skipped). */
export async function findSsh(env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  return findExecutable('ssh', env);
}

/** ssh -G output as keyword → values (keywords such as identityfile repeat). */
export async function sshG(ssh: string, configFile: string, alias: string): Promise<Map<string, string[]>> {
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(ssh, ['-G', '-F', configFile, '--', alias], { timeout: 15_000, maxBuffer: 4 << 20 }, (error, out, err) => {
      if (error) {
        const first = String(err).split('\n').find((l) => l.trim() !== '' && !l.startsWith('Pseudo-terminal')) ?? error.message;
        reject(new Error(first.trim()));
      } else {
        resolve(String(out));
      }
    });
  });
  const options = new Map<string, string[]>();
  for (const line of stdout.split('\n')) {
    const space = line.indexOf(' ');
    if (space <= 0) continue;
    const key = line.slice(0, space);
    options.set(key, [...(options.get(key) ?? []), line.slice(space + 1)]);
  }
  return options;
}

/** The differences between what ssh -G shows and what install-host meant, one phrase each. */
export function mismatches(options: Map<string, string[]>, expect: Expectation): string[] {
  const found: string[] = [];
  const check = (key: string, wanted: string | undefined) => {
    if (wanted === undefined) return;
    const actual = options.get(key)?.[0];
    if (actual !== wanted) found.push(`${key} is ${actual === undefined ? 'not set' : `'${actual}'`}, not '${wanted}'`);
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
  let options: Map<string, string[]>;
  try {
    options = await sshG(ssh, candidate, alias);
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
