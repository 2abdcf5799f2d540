/**
 * Child processes for the end-to-end tests: every run has a deadline, and every child is started
 * in its own process group so a timeout or teardown kills it *and* what it spawned (ssh's
 * ProxyCommand). Nothing outlives the test file.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

export interface RunResult {
  /** Exit code; null when killed by a signal (see `signal`) or on timeout. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
  timedOut: boolean;
  durationMs: number;
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Written to stdin, which is then closed; omitted = stdin closed at once. */
  input?: Buffer | string;
  timeoutMs?: number;
}

const live = new Set<ChildProcess>();

/** Runs a program to completion (or its deadline) and collects its output. */
export function run(command: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
  const started = performance.now();
  const child = spawnTracked(command, args, { env: options.env, cwd: options.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
  const stdout: Buffer[] = [];
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  child.stdin!.on('error', () => undefined); // the child may exit before reading its input
  child.stdin!.end(options.input ?? '');
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup(child, 'SIGKILL');
  }, options.timeoutMs ?? 60_000);
  return new Promise((resolve) => {
    child.once('error', (error) => {
      stderr += `spawn failed: ${error.message}\n`;
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: Buffer.concat(stdout), stderr, timedOut, durationMs: performance.now() - started });
    });
  });
}

/** Starts a long-running child (sshd, a hand-driven ssm-proxy); `killAll` reaps it. */
export function spawnTracked(command: string, args: string[], options: SpawnOptions): ChildProcess {
  const child = spawn(command, args, { ...options, detached: true });
  live.add(child);
  child.once('close', () => live.delete(child));
  child.once('error', () => live.delete(child));
  return child;
}

/** Signals the child's whole process group (it leads one: spawned detached). */
export function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
  }
}

/** Resolves when the child has exited; SIGKILLs its group if it takes longer than `graceMs`. */
export async function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM', graceMs = 5_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) {
    killGroup(child, 'SIGKILL'); // its group may still hold grandchildren
    return;
  }
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  killGroup(child, signal);
  const timer = setTimeout(() => killGroup(child, 'SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** Kills every child still running (teardown, also after a failed test). */
export async function killAll(): Promise<void> {
  await Promise.all([...live].map((child) => stopChild(child, 'SIGKILL', 1_000)));
}
