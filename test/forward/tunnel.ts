/**
 * A real `ssm-proxy forward` process against the fake SSM service:
 *
 *   client ─TCP─▶ ssm-proxy forward (listener) ─SSM API + websocket─▶ fake SSM (mux agent) ─TCP─▶ destination
 *
 * The process gets test credentials and an isolated HOME; `stop` signals it and reports how it
 * ended. Every child is tracked by test/e2e/processes.ts, so `killAll` reaps what a failed test left.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeSsm, type FakeSsm, type FakeSsmOptions } from '../fake-ssm/index.js';
import { TEST_CREDENTIALS } from '../fake-ssm/scripted-client.js';
import { REGION, REPO_ROOT } from '../e2e/harness.js';
import { killGroup, spawnTracked } from '../e2e/processes.js';

export { TARGET_ID } from '../e2e/harness.js';

export interface Tunnel {
  fake: FakeSsm;
  child: ChildProcess;
  /** The local port from the ready line. */
  port: number;
  readyLine: string;
  stderr(): string;
  stdout(): string;
  /** Sends `signal` and waits (≤ timeoutMs) for the exit; SIGKILLs the group after that. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null; durationMs: number }>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  close(): Promise<void>;
}

export interface TunnelOptions {
  fake?: FakeSsmOptions;
  /** An already running fake to use instead (it is not closed by `close`). */
  sharedFake?: FakeSsm;
  /** Arguments after `forward` (target and port included). */
  args: string[];
  /** The subcommand; default `forward`. */
  command?: string;
  /** Wait for this on stdout instead of the stderr ready line (the plugin's words). */
  readyOnStdout?: RegExp;
  readyTimeoutMs?: number;
  /** More environment for the process (e.g. a PATH with an ssh wrapper first). */
  env?: NodeJS.ProcessEnv;
}

export function environment(home: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    LANG: 'C',
    AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
    AWS_REGION: REGION,
    AWS_CONFIG_FILE: join(home, 'aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(home, 'aws-credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
  };
}

export async function openTunnel(options: TunnelOptions): Promise<Tunnel> {
  const home = await mkdtemp(join(tmpdir(), 'ssm-proxy-forward-'));
  await writeFile(join(home, 'aws-config'), '');
  await writeFile(join(home, 'aws-credentials'), '');
  const fake = options.sharedFake ?? (await startFakeSsm({ verifySignature: TEST_CREDENTIALS, ...options.fake }));
  const command = process.env.SSM_PROXY_E2E_BIN ? [process.env.SSM_PROXY_E2E_BIN] : [process.execPath, join(REPO_ROOT, 'lib', 'cli', 'main.js')];
  const child = spawnTracked(command[0]!, [...command.slice(1), options.command ?? 'forward', ...options.args, '--endpoint-url', fake.endpointUrl, '--region', REGION], {
    env: { ...environment(home), ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let stdout = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('close', (code, signal) => resolve({ code, signal })),
  );
  const cleanup = async () => {
    killGroup(child, 'SIGKILL');
    await exited;
    if (!options.sharedFake) await fake.close();
    await rm(home, { recursive: true, force: true });
  };
  const readyPattern = options.readyOnStdout ?? /^forwarding (\S+):(\d+) → .*$/m;
  const ready = await new Promise<RegExpExecArray>((resolve, reject) => {
    const deadline = setTimeout(() => reject(new Error(`no ready line within ${options.readyTimeoutMs ?? 20_000} ms; stderr: ${stderr}`)), options.readyTimeoutMs ?? 20_000);
    const check = () => {
      const match = readyPattern.exec(options.readyOnStdout ? stdout : stderr);
      if (match) {
        clearTimeout(deadline);
        resolve(match);
      }
    };
    child.stderr!.on('data', check);
    child.stdout!.on('data', check);
    void exited.then(() => {
      clearTimeout(deadline);
      reject(new Error(`ssm-proxy forward exited before it was ready; stderr: ${stderr}`));
    });
  }).catch(async (error) => {
    await cleanup();
    throw error;
  });
  return {
    fake,
    child,
    port: Number(ready[2] ?? ready[1]),
    readyLine: ready[0],
    stderr: () => stderr,
    stdout: () => stdout,
    exited,
    stop: async (signal = 'SIGINT', timeoutMs = 10_000) => {
      const begin = performance.now();
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const timer = setTimeout(() => killGroup(child, 'SIGKILL'), timeoutMs);
      const result = await exited;
      clearTimeout(timer);
      return { ...result, durationMs: performance.now() - begin };
    },
    close: cleanup,
  };
}
