/**
 * The hostile corpus's harness for the AWS side: the built CLI in a throwaway HOME with a clean
 * AWS environment, local servers that misbehave on purpose (silent TCP listeners, HTTP answers
 * that are not AWS's), and the corpus's assertions: exit code, exactly one stderr line, no stack
 * trace, nothing on stdout, and nothing written where nothing should be.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before } from 'node:test';

/** SSM_PROXY_TEST_CLI runs the corpus against another build (e.g. the code before a fix). */
export const CLI = process.env.SSM_PROXY_TEST_CLI ?? resolve(import.meta.dirname, '../../lib/cli/main.js');
export const TARGET = 'i-0123456789abcdef0';
export const START_URL = 'https://corp.awsapps.com/start';
/** Static test keys; the secret must never appear in any output. */
export const KEYS = { AWS_ACCESS_KEY_ID: 'AKIDHOSTILEEXAMPLE01', AWS_SECRET_ACCESS_KEY: 'hostileSecretKeyThatMustNeverBePrinted01' };

export interface Outcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
  ms: number;
}

export interface Sandbox {
  home: string;
  env(extra?: Record<string, string>): Record<string, string>;
  /** Writes ~/.aws/config. */
  config(text: string | Buffer): void;
  /** Writes the SSO token cache file of `key` (raw text: corrupt on purpose when wanted). */
  token(key: string, text: string): string;
  tokenFile(key: string): string;
  /** Every path under HOME with its type and sha256: compare before and after. */
  snapshot(): Record<string, string>;
}

export function sandbox(): Sandbox {
  const home = mkdtempSync(join(tmpdir(), 'ssm-proxy-hostile-aws-'));
  const tokenFile = (key: string) => join(home, '.aws', 'sso', 'cache', `${createHash('sha1').update(key).digest('hex')}.json`);
  return {
    home,
    env: (extra = {}) => ({
      PATH: process.env.PATH ?? '',
      HOME: home,
      AWS_CONFIG_FILE: join(home, '.aws', 'config'),
      AWS_SHARED_CREDENTIALS_FILE: join(home, '.aws', 'credentials'),
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      SSM_PROXY_NO_BROWSER: '1',
      ...extra,
    }),
    config(text) {
      mkdirSync(join(home, '.aws'), { recursive: true });
      writeFileSync(join(home, '.aws', 'config'), text);
    },
    token(key, text) {
      mkdirSync(join(home, '.aws', 'sso', 'cache'), { recursive: true, mode: 0o700 });
      writeFileSync(tokenFile(key), text, { mode: 0o600 });
      return tokenFile(key);
    },
    tokenFile,
    snapshot() {
      const seen: Record<string, string> = {};
      const walk = (dir: string) => {
        for (const name of readdirSync(dir).sort()) {
          const path = join(dir, name);
          const stat = lstatSync(path);
          if (stat.isDirectory()) {
            seen[path] = `dir ${stat.mode & 0o777}`;
            walk(path);
          } else seen[path] = `file ${stat.mode & 0o777} ${createHash('sha256').update(readFileSync(path)).digest('hex')}`;
        }
      };
      if (existsSync(home)) walk(home);
      return seen;
    },
  };
}

/** An SSO profile `p` (sso-session `corp`) in region eu-west-2, plus `extra` lines. */
export function ssoConfig(extra = ''): string {
  return (
    `[sso-session corp]\nsso_start_url = ${START_URL}\nsso_region = eu-west-2\nsso_registration_scopes = sso:account:access\n\n` +
    `[profile p]\nregion = eu-west-2\nsso_session = corp\nsso_account_id = 123456789012\nsso_role_name = Dev\n${extra}`
  );
}

export function tokenJson(fields: Record<string, unknown> = {}): string {
  return JSON.stringify({ startUrl: START_URL, region: 'eu-west-2', accessToken: 'hostile-access-token-0001', expiresAt: new Date(Date.now() + 3600_000).toISOString().replace(/\.\d+Z$/, 'Z'), ...fields });
}

/** Runs the built CLI asynchronously (servers in this process keep answering); killed after timeoutMs. */
export function runCli(args: string[], env: Record<string, string>, timeoutMs = 30_000): Promise<Outcome> {
  const started = Date.now();
  const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
  child.stdin.on('error', () => undefined);
  child.stdin.end();
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return new Promise((done) => {
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      done({ code, signal, stdout: Buffer.concat(out), stderr: err, ms: Date.now() - started });
    });
  });
}

/** The corpus's contract for a bad input: this exit code, one stderr line matching, no stack, empty stdout. */
export function assertOneLine(outcome: Outcome, code: number, pattern: RegExp): string {
  assert.equal(outcome.signal, null, `ended by ${outcome.signal} (the test's bound) after ${outcome.ms} ms; stderr: ${outcome.stderr}`);
  assert.equal(outcome.code, code, `exit code; stderr: ${outcome.stderr}`);
  assert.equal(outcome.stdout.length, 0, `nothing on stdout, got: ${outcome.stdout.toString()}`);
  const lines = outcome.stderr.split('\n').filter((line) => line !== '');
  assert.equal(lines.length, 1, `exactly one stderr line, got:\n${outcome.stderr}`);
  assert.doesNotMatch(outcome.stderr, /^\s+at .*:\d+:\d+\)?$/m, 'no stack trace');
  assert.doesNotMatch(outcome.stderr, /internal error|please report/i, 'not reported as a bug');
  assert.doesNotMatch(outcome.stderr, /\$response|Deserialization error/, 'no SDK internals');
  assert.match(lines[0]!, /^ssm-proxy: /);
  assert.match(lines[0]!, pattern);
  return lines[0]!;
}

/** A TCP listener that accepts and never says a word (nor closes): the hang case. */
export async function silentListener(): Promise<{ port: number; url: string; connections(): number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let count = 0;
  const server = createServer((socket) => {
    count++;
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', () => ok()));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    connections: () => count,
    close: () =>
      new Promise<void>((ok) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => ok());
      }),
  };
}

/** A port nothing listens on (bound then closed): ECONNREFUSED. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', () => ok()));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((ok) => server.close(() => ok()));
  return port;
}

export type Answer = (request: IncomingMessage, body: string, response: ServerResponse) => void;

/** An HTTP server answering every request with `answer`; counts requests. */
export async function httpServer(answer: Answer): Promise<{ url: string; requests(): { method: string; path: string; target: string }[]; close(): Promise<void> }> {
  const seen: { method: string; path: string; target: string }[] = [];
  const server = createHttpServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    request.on('end', () => {
      seen.push({ method: request.method ?? '', path: request.url ?? '', target: String(request.headers['x-amz-target'] ?? '') });
      answer(request, body, response);
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', () => ok()));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests: () => seen,
    close: () =>
      new Promise<void>((ok) => {
        server.close(() => ok());
        server.closeAllConnections();
      }),
  };
}

/** Misbehaving answers, the way broken endpoints, proxies and captive portals answer. */
export const ANSWERS = {
  html500: ((_req, _body, res) => {
    res.writeHead(500, { 'Content-Type': 'text/html' });
    res.end('<html><body><h1>500 Internal Server Error</h1></body></html>');
  }) as Answer,
  invalidJson: ((_req, _body, res) => {
    res.writeHead(200, { 'Content-Type': 'application/x-amz-json-1.1' });
    res.end('{"SessionId": "s-1", "TokenValue": ');
  }) as Answer,
  json500: ((_req, _body, res) => {
    res.writeHead(500, { 'Content-Type': 'application/x-amz-json-1.1', 'x-amzn-ErrorType': 'InternalServerError' });
    res.end(JSON.stringify({ __type: 'InternalServerError', message: 'We encountered an internal error' }));
  }) as Answer,
  unavailable503: ((_req, _body, res) => {
    res.writeHead(503, { 'Content-Type': 'text/plain' });
    res.end('Service Unavailable');
  }) as Answer,
  throttled: ((_req, _body, res) => {
    res.writeHead(400, { 'Content-Type': 'application/x-amz-json-1.1', 'x-amzn-ErrorType': 'ThrottlingException' });
    res.end(JSON.stringify({ __type: 'ThrottlingException', message: 'Rate exceeded' }));
  }) as Answer,
  redirect302: ((_req, _body, res) => {
    res.writeHead(302, { Location: 'https://login.captive.example/', 'Content-Type': 'text/html' });
    res.end('<a href="https://login.captive.example/">moved</a>');
  }) as Answer,
};

/**
 * For input cases that must be refused before any file or network: a sandbox with a `dev`
 * profile and an endpoint that fails the test run if anything reaches it. Registers its own
 * before/after hooks in the calling describe; the after hook asserts HOME is untouched and the
 * endpoint saw no request.
 */
export function refusedUpFront(): { readonly box: Sandbox; readonly apiUrl: string } {
  let box: Sandbox;
  let api: Awaited<ReturnType<typeof httpServer>>;
  let untouched: Record<string, string>;
  before(async () => {
    box = sandbox();
    box.config('[profile dev]\nregion = eu-west-2\n');
    untouched = box.snapshot();
    api = await httpServer((_req, _body, res) => {
      res.writeHead(500);
      res.end();
    });
  });
  after(async () => {
    assert.deepEqual(box.snapshot(), untouched, 'no input case wrote anything in HOME');
    assert.deepEqual(api.requests(), [], 'no input case sent a request');
    await api.close();
  });
  return {
    get box() {
      return box;
    },
    get apiUrl() {
      return api.url;
    },
  };
}
