/**
 * Asks the real OpenSSH what it will do: `ssh -G -F <file> <alias>` prints the options ssh would
 * use, after first-match-wins, Include and Match. One runner and one parser for install-host's
 * check and doctor.
 */
import { execFile } from 'node:child_process';
import { printable } from '../printable.js';
import { findExecutable } from '../platform/find-executable.js';

/** ssh -G answers in milliseconds; a Match exec that hangs must not hang us. */
export const SSH_G_TIMEOUT_MS = 15_000;

/** ssh -G output: keyword → values, in order (identityfile and others repeat). */
export type SshOptions = ReadonlyMap<string, readonly string[]>;

/** The ssh on PATH, or undefined when there is none. */
export async function findSsh(env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  return findExecutable('ssh', env);
}

/** Runs `ssh -G -F configFile -- alias`; rejects with a one-line, printable reason. */
export async function runSshG(ssh: string, configFile: string, alias: string): Promise<SshOptions> {
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(ssh, ['-G', '-F', configFile, '--', alias], { timeout: SSH_G_TIMEOUT_MS, maxBuffer: 4 << 20 }, (error, out, err) => {
      if (!error) return resolve(String(out));
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return reject(new Error(`${printable(ssh)} is not installed or not on PATH`));
      if ((error as { killed?: boolean }).killed) return reject(new Error(`ssh -G gave no answer within ${SSH_G_TIMEOUT_MS / 1000} s`));
      const first = String(err).split('\n').find((l) => l.trim() !== '' && !l.startsWith('Pseudo-terminal')) ?? error.message;
      reject(new Error(printable(first.trim())));
    });
  });
  return parseSshG(stdout);
}

export function parseSshG(stdout: string): SshOptions {
  const options = new Map<string, string[]>();
  for (const line of stdout.split('\n')) {
    const space = line.indexOf(' ');
    if (space <= 0) continue;
    const key = line.slice(0, space);
    const values = options.get(key);
    if (values) values.push(line.slice(space + 1));
    else options.set(key, [line.slice(space + 1)]);
  }
  return options;
}

export function firstOption(options: SshOptions, key: string): string | undefined {
  return options.get(key)?.[0];
}

const MASTER_TIMEOUT_MS = 5_000;

/** Is a connection-sharing master up for the alias? `ssh -O check` asks its socket; no connection is made. */
export function masterState(ssh: string, configFile: string, alias: string): Promise<'up' | 'down' | 'unknown'> {
  return new Promise((resolve) => {
    execFile(ssh, ['-F', configFile, '-O', 'check', '--', alias], { timeout: MASTER_TIMEOUT_MS }, (error, _out, stderr) => {
      if (!error) return resolve('up');
      // "No such file" / "Connection refused": no master. Anything else (a timeout, no ControlPath): unknown.
      resolve(/No such file|Connection refused/i.test(String(stderr)) ? 'down' : 'unknown');
    });
  });
}

/** Stops the alias's master, if one runs (`ssh -O exit`); best effort, bounded. */
export function stopMaster(ssh: string, configFile: string, alias: string): Promise<boolean> {
  return new Promise((resolve) => {
    execFile(ssh, ['-F', configFile, '-O', 'exit', '--', alias], { timeout: MASTER_TIMEOUT_MS }, (error) => resolve(!error));
  });
}

/** Whether a ControlMaster value turns connection sharing on: ssh reads no/false (any case) as off. */
export function sharingOn(controlMaster: string | undefined): boolean {
  return controlMaster !== undefined && !['no', 'false'].includes(controlMaster.toLowerCase());
}
