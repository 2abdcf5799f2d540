/**
 * A shell in a pseudo-terminal for the fake agent, through test/fake-ssm/shell-pty-helper.py
 * (python3's pty module: no native npm modules). Output is handed to an async consumer one chunk
 * at a time with the pipe paused meanwhile, so the agent's pacing and back-pressure reach the
 * shell. `kill()` ends the shell's whole process group.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Readable, Writable } from 'node:stream';

const HELPER = fileURLToPath(new URL('./shell-pty-helper.py', import.meta.url));
/** Debian's python3 (CI installs it); a version manager's shim on PATH would rewrite the environment. */
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

export interface ShellPtyHandlers {
  onData(chunk: Buffer): Promise<void>;
  /** The shell exited and everything it printed went through onData. */
  onExit(code: number | null): void;
}

export class ShellPty {
  private readonly child: ChildProcess;
  private readonly control: Writable;
  private lastData: Promise<void> = Promise.resolve();
  private exited = false;

  constructor(command: string[], options: { env: Record<string, string>; cwd?: string | undefined }, handlers: ShellPtyHandlers) {
    this.child = spawn(PYTHON, [HELPER, ...command], {
      env: options.env,
      cwd: options.cwd,
      stdio: ['pipe', 'pipe', 'ignore', 'pipe'],
    });
    this.control = this.child.stdio[3] as Writable;
    this.control.on('error', () => {});
    this.child.stdin!.on('error', () => {});
    const stdout = this.child.stdout as Readable;
    stdout.on('data', (chunk: Buffer) => {
      stdout.pause();
      const resume = () => void stdout.resume();
      this.lastData = handlers.onData(chunk).then(resume, resume);
    });
    let stdoutEnded = false;
    let exitCode: number | null = null;
    let processExited = false;
    const maybeDone = () => {
      if (!stdoutEnded || !processExited || this.exited) return;
      this.exited = true;
      void this.lastData.then(() => handlers.onExit(exitCode));
    };
    stdout.on('end', () => {
      stdoutEnded = true;
      maybeDone();
    });
    this.child.on('exit', (code) => {
      exitCode = code;
      processExited = true;
      maybeDone();
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  write(data: Buffer): void {
    if (!this.exited) this.child.stdin!.write(data);
  }

  resize(cols: number, rows: number): void {
    if (!this.exited) this.control.write(`${cols} ${rows}\n`);
  }

  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
  }
}
