/**
 * A real terminal for `ssm-proxy shell`: Debian's tmux on its own socket (`-L`, `-f /dev/null`),
 * the fake SSM service whose agent runs a real `sh` in a pseudo-terminal, and optionally the fake
 * KMS. The pane runs a small wrapper script that records the local `stty -a` before and after
 * and ssm-proxy's exit status, so a test can check the terminal was restored.
 *
 *   tmux pane ─ ssm-proxy shell ─SSM API + websocket─▶ fake SSM ─▶ python pty ─▶ sh
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startFakeKms, type FakeKms, type FakeKmsOptions } from '../fake-kms/index.js';
import { startFakeSsm, type FakeSsm, type FakeSsmOptions } from '../fake-ssm/index.js';
import { TEST_CREDENTIALS } from '../fake-ssm/scripted-client.js';
import type { ShellAgentOptions } from '../fake-ssm/shell-options.js';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const TARGET_ID = 'i-0123456789abcdef0';
export const REGION = 'us-east-1';
/** The remote shell's prompt, set through the fake agent's environment. */
export const PROMPT = 'remote$ ';

export interface TerminalHarnessOptions {
  fake?: FakeSsmOptions;
  shell?: ShellAgentOptions;
  /** Start the fake KMS and have the agent ask for encryption with its key. */
  kms?: boolean | FakeKmsOptions;
  /** Pane size. Default 100×30. */
  cols?: number;
  rows?: number;
}

export interface TerminalHarness {
  dir: string;
  fake: FakeSsm;
  kms: FakeKms | undefined;
  /** Environment ssm-proxy runs with (test credentials, isolated HOME, endpoints). */
  env: Record<string, string>;
  /** argv of ssm-proxy with the fake's endpoint and region. */
  ssmProxy(args: string[]): string[];
  /** Runs `ssm-proxy shell <target> [extra]` in a new tmux session; resolves once it started. */
  startShell(extra?: string[]): Promise<void>;
  /** Runs any program (argv) in the pane instead, with the same stty/exit recording. */
  startCommand(argv: string[]): Promise<void>;
  tmux(args: string[]): Promise<string>;
  sendKeys(...keys: string[]): Promise<void>;
  sendText(text: string): Promise<void>;
  screen(): Promise<string>;
  waitForScreen(pattern: RegExp, timeoutMs: number, what: string): Promise<string>;
  /** Every byte ssm-proxy wrote to the pane so far (tmux pipe-pane). */
  paneBytes(): Promise<Buffer>;
  /** The wrapper's record after ssm-proxy exited: its exit status and stty -a before/after. */
  waitForExit(timeoutMs: number): Promise<{ code: number; sttyBefore: string; sttyAfter: string }>;
  /** ssm-proxy's pid inside the pane (for signals). */
  ssmProxyPid(): Promise<number>;
  stop(): Promise<void>;
}

export async function startTerminalHarness(options: TerminalHarnessOptions = {}): Promise<TerminalHarness> {
  const dir = await mkdtemp(join(tmpdir(), 'ssm-proxy-shell-'));
  const socket = `ssm-proxy-test-${process.pid}-${randomBytes(4).toString('hex')}`;
  let kms: FakeKms | undefined;
  let fake: FakeSsm | undefined;
  let tmuxStarted = false;
  // The tmux server's global environment is the first client's: give it a clean one, not the
  // test runner's (NODE_TEST_CONTEXT and NODE_OPTIONS would change how ssm-proxy runs).
  const tmux = (args: string[]) => runTmux(socket, args, { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, TERM: 'xterm-256color' });
  try {
    if (options.kms) kms = await startFakeKms(typeof options.kms === 'object' ? options.kms : {});
    const shellHome = join(dir, 'remote-home');
    await writeFile(join(dir, 'aws-config'), '');
    await writeFile(join(dir, 'aws-credentials'), '');
    await import('node:fs/promises').then((fs) => fs.mkdir(shellHome));
    fake = await startFakeSsm({
      verifySignature: TEST_CREDENTIALS,
      ...options.fake,
      shell: {
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: shellHome, PS1: PROMPT },
        cwd: shellHome,
        ...(kms ? { kmsKeyId: kms.alias, kms } : {}),
        ...options.shell,
      },
    });
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: dir,
      TERM: 'xterm-256color',
      LANG: 'C.UTF-8',
      AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
      AWS_REGION: REGION,
      AWS_CONFIG_FILE: join(dir, 'aws-config'),
      AWS_SHARED_CREDENTIALS_FILE: join(dir, 'aws-credentials'),
      AWS_EC2_METADATA_DISABLED: 'true',
      ...(kms ? { AWS_ENDPOINT_URL_KMS: kms.endpointUrl } : {}),
    };
    // SSM_PROXY_E2E_BIN (a packaged binary) instead of node + lib/, as in test/e2e/harness.ts.
    const program = process.env.SSM_PROXY_E2E_BIN ? [process.env.SSM_PROXY_E2E_BIN] : [process.execPath, join(REPO_ROOT, 'lib', 'cli', 'main.js')];
    const ssmProxy = (args: string[]) => [...program, ...args, '--region', REGION, '--endpoint-url', fake!.endpointUrl];
    const script = join(dir, 'pane.sh');
    const paneLog = join(dir, 'pane.log');
    const harness: TerminalHarness = {
      dir,
      fake,
      kms,
      env,
      ssmProxy,
      tmux,
      startShell: (extra = []) => harness.startCommand(ssmProxy(['shell', TARGET_ID, ...extra])),
      async startCommand(words) {
        const argv = words.map(shellQuote).join(' ');
        // The pane: record the terminal, run ssm-proxy, record its status and the terminal again.
        await writeFile(
          script,
          [
            'stty -a > "$1/stty-before"',
            `echo $$ > "$1/wrapper-pid"`,
            `${argv}; code=$?`,
            'stty -a > "$1/stty-after"',
            'echo "$code" > "$1/exit-code"',
            'exec sleep 600',
            '',
          ].join('\n'),
        );
        const envFlags = Object.entries(env).flatMap(([key, value]) => ['-e', `${key}=${value}`]);
        await tmux(['-f', '/dev/null', 'new-session', '-d', '-s', 'main', '-x', String(options.cols ?? 100), '-y', String(options.rows ?? 30), ...envFlags, `sh ${shellQuote(script)} ${shellQuote(dir)}`]);
        tmuxStarted = true;
        await tmux(['set-option', '-g', 'remain-on-exit', 'on']);
        await tmux(['pipe-pane', '-t', 'main', '-o', `cat >> ${shellQuote(paneLog)}`]);
      },
      async sendKeys(...keys) {
        await tmux(['send-keys', '-t', 'main', ...keys]);
      },
      async sendText(text) {
        await tmux(['send-keys', '-t', 'main', '-l', text]);
      },
      screen: () => tmux(['capture-pane', '-p', '-t', 'main']),
      async waitForScreen(pattern, timeoutMs, what) {
        const deadline = Date.now() + timeoutMs;
        let last = '';
        for (;;) {
          last = await harness.screen();
          if (pattern.test(last)) return last;
          if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; screen:\n${last}`);
          await sleep(50);
        }
      },
      paneBytes: () => readFile(paneLog).catch(() => Buffer.alloc(0)),
      async waitForExit(timeoutMs) {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
          const code = await readFile(join(dir, 'exit-code'), 'utf8').catch(() => undefined);
          if (code !== undefined && code.trim() !== '') {
            return {
              code: Number(code.trim()),
              sttyBefore: await readFile(join(dir, 'stty-before'), 'utf8'),
              sttyAfter: await readFile(join(dir, 'stty-after'), 'utf8'),
            };
          }
          if (Date.now() > deadline) throw new Error(`ssm-proxy did not exit within ${timeoutMs} ms; screen:\n${await harness.screen()}`);
          await sleep(50);
        }
      },
      async ssmProxyPid() {
        // The wrapper runs ssm-proxy in the foreground (a background job would lose the terminal as stdin).
        for (let attempt = 0; attempt < 100; attempt++) {
          const wrapper = (await readFile(join(dir, 'wrapper-pid'), 'utf8').catch(() => '')).trim();
          const children = wrapper ? (await readFile(`/proc/${wrapper}/task/${wrapper}/children`, 'utf8').catch(() => '')).trim() : '';
          if (children) return Number(children.split(/\s+/)[0]);
          await sleep(50);
        }
        throw new Error('ssm-proxy never started in the pane');
      },
      async stop() {
        if (tmuxStarted) await tmux(['kill-server']).catch(() => '');
        await Promise.allSettled([fake?.close(), kms?.close()]);
        await rm(dir, { recursive: true, force: true });
      },
    };
    return harness;
  } catch (error) {
    if (tmuxStarted) await tmux(['kill-server']).catch(() => '');
    await Promise.allSettled([fake?.close(), kms?.close()]);
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

function runTmux(socket: string, args: string[], env: Record<string, string>): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    execFile('tmux', ['-L', socket, ...args], { timeout: 10_000, env }, (error, stdout, stderr) => {
      if (error) reject(new Error(`tmux ${args.join(' ')} failed: ${stderr || error.message}`));
      else resolvePromise(stdout);
    });
  });
}

export function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolvePromise) => setTimeout(resolvePromise, ms));
}
