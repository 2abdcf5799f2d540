/**
 * Shared by the SSO tests: a throwaway HOME with its own ~/.aws, the built CLI run
 * asynchronously (the fakes live in this process, so nothing may block the event loop), a TCP
 * echo target for the fake agent to dial, and a pty for stderr.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createHash } from 'node:crypto';

export const CLI = resolve(import.meta.dirname, '../../lib/cli/main.js');
export const STDERR_PTY = resolve(import.meta.dirname, 'stderr-pty.py');

export const START_URL = 'https://corp.awsapps.com/start';
export const ACCOUNT = '123456789012';
export const ROLE = 'DiscoveryAccess';
export const PROFILE = 'discovery-access';
export const SESSION = 'corp';
export const REGION = 'eu-west-2';
export const TARGET = 'i-0123456789abcdef0';

export interface Home {
  dir: string;
  config: string;
  cacheDir: string;
  env(extra?: Record<string, string>): Record<string, string>;
  /** Where the SDK looks for the token of this cache key (sha1 hex, computed independently). */
  cacheFile(key: string): string;
}

export function makeHome(endpoints: Record<string, string> = {}): Home {
  const dir = mkdtempSync(join(tmpdir(), 'ssm-proxy-sso-'));
  const config = join(dir, '.aws', 'config');
  const cacheDir = join(dir, '.aws', 'sso', 'cache');
  return {
    dir,
    config,
    cacheDir,
    env: (extra = {}) => ({
      PATH: process.env.PATH ?? '',
      HOME: dir,
      AWS_CONFIG_FILE: config,
      AWS_SHARED_CREDENTIALS_FILE: join(dir, '.aws', 'credentials'),
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      ...endpoints,
      ...extra,
    }),
    cacheFile: (key) => join(cacheDir, `${createHash('sha1').update(key).digest('hex')}.json`),
  };
}

/** The seed's config, as configure-profile writes it (tests that do not test the writer use this). */
export function writeSeedConfig(home: Home, extra = ''): void {
  mkdirSync(join(home.dir, '.aws'), { recursive: true });
  writeFileSync(
    home.config,
    `[sso-session ${SESSION}]\nsso_start_url = ${START_URL}\nsso_region = ${REGION}\nsso_registration_scopes = sso:account:access\n\n` +
      `[profile ${PROFILE}]\nregion = ${REGION}\noutput = json\nsso_session = ${SESSION}\nsso_account_id = ${ACCOUNT}\nsso_role_name = ${ROLE}\n${extra}`,
  );
}

export function writeToken(home: Home, key: string, token: Record<string, unknown>): string {
  mkdirSync(home.cacheDir, { recursive: true, mode: 0o700 });
  const file = home.cacheFile(key);
  writeFileSync(file, JSON.stringify(token), { mode: 0o600 });
  return file;
}

export interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
}

export interface Running {
  child: ReturnType<typeof spawn>;
  stdout(): Buffer;
  stderr(): string;
  /** Resolves when stdout holds `bytes`; rejects after timeoutMs. */
  waitForStdout(bytes: Buffer, timeoutMs: number): Promise<void>;
  waitForStderr(pattern: RegExp, timeoutMs: number): Promise<void>;
  done: Promise<Run>;
}

/** Starts `command args` (default: the built CLI); killed after timeoutMs. */
export function start(args: string[], env: Record<string, string>, options: { timeoutMs?: number; command?: string[] } = {}): Running {
  const command = options.command ?? [process.execPath, CLI];
  const child = spawn(command[0]!, [...command.slice(1), ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  let err = '';
  child.stdout!.on('data', (chunk: Buffer) => out.push(chunk));
  child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
  child.stdin!.on('error', () => undefined);
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
  const done = new Promise<Run>((resolveRun) => {
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolveRun({ code, signal, stdout: Buffer.concat(out), stderr: err });
    });
  });
  const poll = (ok: () => boolean, timeoutMs: number, what: string) =>
    new Promise<void>((resolveWait, reject) => {
      const deadline = Date.now() + timeoutMs;
      const tick = () => {
        if (ok()) return resolveWait();
        if (Date.now() > deadline) return reject(new Error(`timed out waiting for ${what}; stderr: ${err}`));
        setTimeout(tick, 20);
      };
      tick();
    });
  return {
    child,
    stdout: () => Buffer.concat(out),
    stderr: () => err,
    waitForStdout: (bytes, timeoutMs) => poll(() => Buffer.concat(out).includes(bytes), timeoutMs, `stdout ${bytes.toString()}`),
    waitForStderr: (pattern, timeoutMs) => poll(() => pattern.test(err), timeoutMs, `stderr ${pattern}`),
    done,
  };
}

/** Runs to the end with empty stdin. */
export function run(args: string[], env: Record<string, string>, timeoutMs = 30_000): Promise<Run> {
  const running = start(args, env, { timeoutMs });
  running.child.stdin!.end();
  return running.done;
}

/** A TCP echo server: what the fake agent dials as the session's target port. */
export async function startEcho(): Promise<{ port: number; close(): Promise<void> }> {
  const server: Server = createServer((socket) => {
    socket.on('error', () => undefined);
    socket.pipe(socket);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', () => ok()));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    close: () =>
      new Promise<void>((ok) => {
        server.close(() => ok());
        (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
      }),
  };
}

/** Asserts-friendly: the lines of a stderr text. */
export function lines(text: string): string[] {
  return text.split('\n').filter((line) => line.length > 0);
}
