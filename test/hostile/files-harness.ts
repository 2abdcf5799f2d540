/**
 * The hostile-input corpus for the user-file commands (install-host, uninstall-host, list-hosts,
 * configure-profile): the built CLI in a throwaway HOME per case, with the refusal contract —
 * the documented exit code, exactly one stderr line, no stack trace, and every file and
 * directory listing untouched (sha256 before and after).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CLI = path.join(REPO, 'lib', 'cli', 'main.js');
export const ID = 'i-0123456789abcdef0';
export const SELF_PATH = '/opt/ssm-proxy/bin/ssm-proxy';

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A fresh HOME with nothing in it; removed by the caller's `after`. */
export async function throwawayHome(): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), 'ssm-proxy-hostile-'));
}

/** The built CLI with HOME (and only PATH) from here; killed after `timeoutMs`. */
export function run(args: string[], home: string, env: Record<string, string> = {}, timeoutMs = 60_000, prefix: string[] = []): Promise<Run> {
  return new Promise((resolve, reject) => {
    const command = prefix[0] ?? process.execPath;
    const child = spawn(command, [...prefix.slice(1), ...(prefix.length > 0 ? [process.execPath] : []), CLI, ...args], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, SSM_PROXY_SELF: SELF_PATH, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`ssm-proxy ${args.join(' ')} did not finish within ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** sha256 of every file under `root` (and the names of directories), for untouched checks. */
export async function snapshot(root: string): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  const walk = async (dir: string): Promise<void> => {
    const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      const full = path.join(dir, entry.name);
      const rel = path.relative(root, full);
      if (entry.isSymbolicLink()) found.set(rel, `link → ${await fs.readlink(full)}`);
      else if (entry.isDirectory()) {
        found.set(rel, 'dir');
        await walk(full);
      } else if (entry.isFile()) found.set(rel, createHash('sha256').update(await fs.readFile(full)).digest('hex'));
      else found.set(rel, 'other');
    }
  };
  await walk(root);
  return found;
}

/** The refusal contract: exit code, one stderr line matching `pattern`, no stdout, no stack trace. */
export function assertRefused(r: Run, code: number, pattern: RegExp): void {
  assert.equal(r.code, code, `exit ${r.code}, stderr: ${JSON.stringify(r.stderr)}`);
  assert.match(r.stderr, /^ssm-proxy: [^\n]+\n$/, `not exactly one line: ${JSON.stringify(r.stderr)}`);
  assert.doesNotMatch(r.stderr, /\bat .*:\d+:\d+|internal error/, 'a stack frame or an internal error');
  // Whatever was typed, nothing reaches the terminal raw.
  // eslint-disable-next-line no-control-regex
  assert.doesNotMatch(r.stderr.slice(0, -1), /[\x00-\x1f\x7f-\x9f]/, 'a control character in the message');
  assert.match(r.stderr, pattern);
  assert.equal(r.stdout, '');
}

export async function assertUntouched(root: string, before: Map<string, string>): Promise<void> {
  assert.deepEqual(await snapshot(root), before);
}

/** A HOME whose ~/.ssh/config (0600, in a 0700 ~/.ssh) holds `text`. */
export async function homeWithSshConfig(text: string | Buffer): Promise<{ home: string; config: string }> {
  const home = await throwawayHome();
  await fs.mkdir(path.join(home, '.ssh'), { mode: 0o700 });
  const config = path.join(home, '.ssh', 'config');
  await fs.writeFile(config, text, { mode: 0o600 });
  return { home, config };
}

/** A HOME whose ~/.aws/config holds `text`. */
export async function homeWithAwsConfig(text: string | Buffer): Promise<{ home: string; config: string }> {
  const home = await throwawayHome();
  await fs.mkdir(path.join(home, '.aws'), { mode: 0o700 });
  const config = path.join(home, '.aws', 'config');
  await fs.writeFile(config, text, { mode: 0o600 });
  return { home, config };
}

export const SSH_SEED = [
  '# my hosts',
  'Host web',
  '    HostName web.example.com',
  '    User admin',
  '',
  `Host jump`,
  `    HostName ${ID}`,
  `    ProxyCommand ${SELF_PATH} connect ${ID} %p --profile dev`,
  '',
].join('\n');

export const AWS_SEED = '[default]\nregion = eu-west-2\n\n[profile other]\nregion = us-east-1\n';

/** configure-profile's required flags, with overrides. */
export function profileArgs(overrides: Record<string, string> = {}): string[] {
  const flags: Record<string, string> = {
    profile: 'dev',
    'sso-session': 'corp',
    'start-url': 'https://corp.awsapps.com/start',
    'sso-region': 'eu-west-2',
    'account-id': '123456789012',
    'role-name': 'Dev',
    ...overrides,
  };
  return ['configure-profile', ...Object.entries(flags).flatMap(([k, v]) => [`--${k}`, v])];
}
