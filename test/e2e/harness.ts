/**
 * End-to-end rig: a real OpenSSH sshd on loopback, the fake SSM service, and an ssh client config
 * whose ProxyCommand is ssm-proxy pointed at the fake. ssh, scp and rsync then run for real:
 *
 *   ssh/scp/rsync ─ProxyCommand─▶ ssm-proxy connect ─SSM API + websocket─▶ fake SSM ─TCP─▶ sshd
 *
 * The ProxyCommand inherits ssh's environment, which carries test credentials and an isolated
 * HOME, so nothing of the machine's own AWS or ssh setup is used.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startFakeSsm, type FakeSsm, type FakeSsmOptions, type FakeSsmServerOptions } from '../fake-ssm/index.js';
import { TEST_CREDENTIALS } from '../fake-ssm/scripted-client.js';
import { makeRandomFile, sha256File } from './files.js';
import { killAll, run, type RunOptions, type RunResult } from './processes.js';
import { startSshd, type Sshd } from './sshd.js';

export { sha256File, makeRandomFile, makeTree, treeDigest } from './files.js';
export type { RunResult } from './processes.js';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const TARGET_ID = 'i-0123456789abcdef0';
export const REGION = 'us-east-1';
const HOST_KEY_ALIAS = 'ssm-proxy-e2e-target';

export interface HarnessOptions {
  /** Knobs for the fake SSM service (the harness adds signature verification with its test keys). */
  fake?: FakeSsmOptions & FakeSsmServerOptions;
  /** More `ssm-proxy connect` arguments for the ProxyCommand (e.g. --proxy, --ca-bundle). */
  extraConnectArgs?: string[];
  /**
   * The ssm-proxy program as argv words. Default: this Node and lib/cli/main.js; the environment
   * variable SSM_PROXY_E2E_BIN (a path to a packaged binary) overrides it.
   */
  ssmProxy?: string[];
  /** A complete ProxyCommand line instead, in ssh_config syntax (%h/%p expand, a literal % is %%). */
  proxyCommand?: string;
  /** Host alias written to the ssh config. Default `ssm-e2e`. */
  alias?: string;
}

export interface Harness {
  dir: string;
  alias: string;
  sshd: Sshd;
  fake: FakeSsm;
  sshConfigPath: string;
  /** ssm-proxy argv words (program first). */
  ssmProxy: string[];
  /** The environment ssh, scp, rsync and the ProxyCommand run with. */
  env: NodeJS.ProcessEnv;
  runSsh(alias: string, command: string, options?: RunOptions): Promise<RunResult>;
  runScp(args: string[], options?: RunOptions): Promise<RunResult>;
  runRsync(args: string[], options?: RunOptions): Promise<RunResult>;
  /** Runs `ssm-proxy <args>` directly with the harness environment. */
  runSsmProxy(args: string[], options?: RunOptions): Promise<RunResult>;
  /** `ssm-proxy connect` arguments that reach this harness's sshd through the fake. */
  connectArgs(): string[];
  /**
   * A `Host *` block with the test plumbing only (key, known host, batch mode), for an ssh config
   * whose host blocks come from elsewhere (install-host's, say).
   */
  clientPlumbing(): string;
  stop(): Promise<void>;
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const dir = await mkdtemp(join(tmpdir(), 'ssm-proxy-e2e-'));
  const alias = options.alias ?? 'ssm-e2e';
  let sshd: Sshd | undefined;
  let fake: FakeSsm | undefined;
  try {
    sshd = await startSshd(dir);
    fake = await startFakeSsm({ verifySignature: TEST_CREDENTIALS, ...options.fake });
    const ssmProxy =
      options.ssmProxy ??
      (process.env.SSM_PROXY_E2E_BIN ? [process.env.SSM_PROXY_E2E_BIN] : [process.execPath, join(REPO_ROOT, 'lib', 'cli', 'main.js')]);
    const connectTail = ['--region', REGION, '--endpoint-url', fake.endpointUrl, ...(options.extraConnectArgs ?? [])];
    const proxyCommand =
      options.proxyCommand ??
      [...ssmProxy.map((word) => shellQuote(word).replace(/%/g, '%%')), 'connect', '%h', '%p', ...connectTail].join(' ');

    const awsConfig = join(dir, 'aws-config');
    const awsCredentials = join(dir, 'aws-credentials');
    await writeFile(awsConfig, '');
    await writeFile(awsCredentials, '');
    await writeFile(join(dir, 'known_hosts'), `${HOST_KEY_ALIAS} ${sshd.hostPublicKey}\n`);
    const sshConfigPath = join(dir, 'ssh_config');
    await writeFile(
      sshConfigPath,
      [
        `Host ${alias}`,
        `  HostName ${TARGET_ID}`,
        `  Port ${sshd.port}`,
        `  User ${sshd.user}`,
        `  IdentityFile ${sshd.clientKeyPath}`,
        '  IdentitiesOnly yes',
        `  UserKnownHostsFile ${join(dir, 'known_hosts')}`,
        '  GlobalKnownHostsFile /dev/null',
        `  HostKeyAlias ${HOST_KEY_ALIAS}`,
        '  StrictHostKeyChecking yes',
        '  UpdateHostKeys no',
        '  BatchMode yes',
        '  LogLevel ERROR',
        '  ControlMaster no',
        '  ControlPath none',
        '  ConnectTimeout 30',
        `  ProxyCommand ${proxyCommand}`,
        '',
      ].join('\n'),
    );
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: dir,
      USER: sshd.user,
      LANG: 'C',
      AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
      AWS_REGION: REGION,
      AWS_CONFIG_FILE: awsConfig,
      AWS_SHARED_CREDENTIALS_FILE: awsCredentials,
      AWS_EC2_METADATA_DISABLED: 'true',
      ...(process.env.SSM_PROXY_DEBUG ? { SSM_PROXY_DEBUG: process.env.SSM_PROXY_DEBUG } : {}),
    };
    const withEnv = (runOptions: RunOptions = {}): RunOptions => ({ timeoutMs: 120_000, ...runOptions, env: { ...env, ...runOptions.env } });
    const started: Harness = {
      dir,
      alias,
      sshd,
      fake,
      sshConfigPath,
      ssmProxy,
      env,
      runSsh: (host, command, runOptions) => run('ssh', ['-F', sshConfigPath, host, command], withEnv(runOptions)),
      runScp: (args, runOptions) => run('scp', ['-F', sshConfigPath, '-q', ...args], withEnv(runOptions)),
      runRsync: (args, runOptions) =>
        run('rsync', ['-e', `ssh -F ${shellQuote(sshConfigPath)}`, ...args], withEnv(runOptions)),
      runSsmProxy: (args, runOptions) => run(ssmProxy[0]!, [...ssmProxy.slice(1), ...args], withEnv(runOptions)),
      connectArgs: () => ['connect', TARGET_ID, String(sshd!.port), ...connectTail],
      clientPlumbing: () =>
        [
          'Host *',
          `  IdentityFile "${sshd!.clientKeyPath}"`,
          '  IdentitiesOnly yes',
          `  UserKnownHostsFile "${join(dir, 'known_hosts')}"`,
          '  GlobalKnownHostsFile /dev/null',
          `  HostKeyAlias ${HOST_KEY_ALIAS}`,
          '  StrictHostKeyChecking yes',
          '  BatchMode yes',
          '  LogLevel ERROR',
          '',
        ].join('\n'),
      stop: async () => {
        await killAll();
        await Promise.allSettled([sshd?.stop(), fake?.close()]);
        await rm(dir, { recursive: true, force: true });
      },
    };
    return started;
  } catch (error) {
    await killAll();
    await Promise.allSettled([sshd?.stop(), fake?.close()]);
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

/** Single-quotes a word for the shell ssh runs the ProxyCommand with. */
export function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** A one-line summary of a failed run, for assertion messages. */
export function describeRun(result: RunResult): string {
  return `exit ${result.code}${result.signal ? ` (${result.signal})` : ''}${result.timedOut ? ' TIMED OUT' : ''}; stderr: ${result.stderr.trim() || '(empty)'}`;
}

/** scp `bytes` of random data to the target and back through the harness; both copies sha256-checked. */
export async function assertScpRoundTrip(harness: Harness, bytes: number, runOptions: RunOptions = {}): Promise<void> {
  const local = join(harness.dir, 'round-trip-up.bin');
  const remote = join(harness.dir, 'round-trip-remote.bin'); // sshd runs on this machine
  const back = join(harness.dir, 'round-trip-back.bin');
  await makeRandomFile(local, bytes);
  const up = await harness.runScp([local, `${harness.alias}:${remote}`], runOptions);
  assert.equal(up.code, 0, describeRun(up));
  assert.equal(await sha256File(remote), await sha256File(local));
  const down = await harness.runScp([`${harness.alias}:${remote}`, back], runOptions);
  assert.equal(down.code, 0, describeRun(down));
  assert.equal(await sha256File(back), await sha256File(local));
}
