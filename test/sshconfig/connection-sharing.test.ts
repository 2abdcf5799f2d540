/**
 * The fast block install-host writes, through the real ssh, sshd and the fake SSM service: the
 * second `ssh alias true` rides the first one's master (no second StartSession); a master whose
 * SSM session ended (the service ended it, or its ssm-proxy was killed) does not leave the next
 * ssh stuck; list-hosts shows the master; uninstall-host takes the block back out.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { REGION, TARGET_ID, startHarness, type Harness } from '../e2e/harness.js';
import { CLI } from './helpers.js';

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

let h: Harness;
let home: string;
let config: string;
let stderrLog: string;
/** The master's socket, as ssh -G expands the ControlPath. */
let socket: string;

/**
 * ssh with this HOME's config. It returns when ssh exits: a master kept by ControlPersist and its
 * ProxyCommand live on, so the stderr they inherit goes to a file, not a pipe we would wait on.
 */
async function ssh(args: string[], timeoutMs = 60_000): Promise<Ran> {
  const started = Date.now();
  const log = await fs.open(stderrLog, 'a');
  try {
    return await new Promise<Ran>((resolve, reject) => {
      const child = spawn('ssh', ['-F', config, ...args], { env: h.env, stdio: ['ignore', 'pipe', log.fd] });
      let stdout = '';
      child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`ssh ${args.join(' ')} was stuck for ${timeoutMs} ms`));
      }, timeoutMs);
      child.on('exit', (code) => {
        clearTimeout(timer);
        // Give stdout's pipe a moment to drain; it closes with ssh (the master's is /dev/null).
        setTimeout(() => resolve({ code, stdout, stderr: '', ms: Date.now() - started }), 20);
      });
    });
  } finally {
    await log.close();
  }
}

function cli(args: string[]): Promise<Ran> {
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env: { ...h.env, SSM_PROXY_SELF: path.join(home, 'bin', 'ssm-proxy') }, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr, ms: Date.now() - started });
    });
  });
}

const startSessions = () => h.fake.records.apiCalls.filter((c) => c.operation === 'StartSession').length;

async function masterPid(): Promise<number | undefined> {
  const r = await new Promise<string>((resolve) =>
    execFile('ssh', ['-F', config, '-O', 'check', 'fast'], { env: h.env, timeout: 5_000 }, (_e, _o, stderr) => resolve(String(stderr))),
  );
  const match = /pid=(\d+)/.exec(r);
  return match ? Number(match[1]) : undefined;
}

async function stopMaster(): Promise<void> {
  const pid = await masterPid();
  await new Promise((resolve) => execFile('ssh', ['-F', config, '-O', 'exit', 'fast'], { env: h.env, timeout: 5_000 }, resolve));
  if (pid !== undefined) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
}

before(async () => {
  h = await startHarness();
  home = h.dir;
  config = path.join(home, '.ssh', 'config');
  stderrLog = path.join(home, 'ssh-stderr.log');
  // The ProxyCommand install-host writes names SSM_PROXY_SELF: a wrapper that adds the fake's endpoint.
  await fs.mkdir(path.join(home, 'bin'));
  await fs.writeFile(
    path.join(home, 'bin', 'ssm-proxy'),
    `#!/bin/sh\nexec '${process.execPath}' '${CLI}' "$@" --endpoint-url '${h.fake.endpointUrl}'\n`,
    { mode: 0o755 },
  );
  await fs.mkdir(path.join(home, '.ssh'), { mode: 0o700 });
  await fs.writeFile(
    config,
    [
      'Host *',
      `    IdentityFile ${h.sshd.clientKeyPath}`,
      '    IdentitiesOnly yes',
      `    UserKnownHostsFile ${path.join(home, 'known_hosts')}`,
      '    GlobalKnownHostsFile /dev/null',
      '    HostKeyAlias ssm-proxy-e2e-target',
      '    StrictHostKeyChecking yes',
      '    BatchMode yes',
      '    LogLevel ERROR',
      '    ConnectTimeout 30',
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
});

after(async () => {
  await stopMaster().catch(() => undefined);
  // The fake first: it still holds the sshd connection of the session whose ssm-proxy was killed
  // (kept for a resume); closing it ends that sshd session, so sshd's output pipe can close.
  await h?.fake.close();
  await h?.stop();
});

describe('connection sharing through real ssh', () => {
  test('install-host writes the fast block; ssh -G sees it', async () => {
    const r = await cli(['install-host', 'fast', '--target', TARGET_ID, '--region', REGION, '--port', String(h.sshd.port), '--user', h.sshd.user, '--control-persist', '5m']);
    assert.equal(r.code, 0, r.stderr);
    const text = await fs.readFile(config, 'utf8');
    assert.match(text, /\nHost fast\n(    .*\n)*    ControlMaster auto\n    ControlPath [^\n]*\/\.ssh\/cm-%C\n    ControlPersist 5m\n    Compression yes\n/);
    const g = await new Promise<string>((resolve) => execFile('ssh', ['-G', '-F', config, 'fast'], { env: h.env }, (_e, out) => resolve(String(out))));
    assert.match(g, /\ncontrolmaster auto\n/);
    assert.match(g, new RegExp(`\\ncontrolpath ${home.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/\\.ssh/cm-[0-9a-f]{40}\\n`));
    assert.match(g, /\ncontrolpersist 300\n/);
    socket = /\ncontrolpath (\S+)\n/.exec(g)![1]!;
    assert.match(g, /\ncompression yes\n/);
  });

  test('the second ssh rides the first one\'s master: one StartSession for both', async () => {
    const before = startSessions();
    const first = await ssh(['fast', 'echo one']);
    assert.equal(first.code, 0, await fs.readFile(stderrLog, 'utf8'));
    assert.equal(first.stdout, 'one\n');
    assert.equal(startSessions(), before + 1);
    assert.notEqual(await masterPid(), undefined, 'no master after the first ssh');

    const second = await ssh(['fast', 'echo two']);
    assert.equal(second.code, 0, await fs.readFile(stderrLog, 'utf8'));
    assert.equal(second.stdout, 'two\n');
    assert.equal(startSessions(), before + 1, 'the second ssh started its own SSM session');

    const listed = await cli(['list-hosts']);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /\nfast\s+ssm-proxy\s+i-0123456789abcdef0\s+-\s+us-east-1\s+up 5m\s+yes\s+\d+\n/);
  });

  test('the service ends the shared session (idle timeout): the next ssh is not stuck, it starts a new one', async () => {
    const sessions = h.fake.sessions().filter((s) => !s.terminated);
    assert.equal(sessions.length, 1);
    sessions[0]!.agent!.end('terminate-api', '');
    const before = startSessions();
    const next = await ssh(['fast', 'echo three'], 45_000);
    assert.equal(next.code, 0, await fs.readFile(stderrLog, 'utf8'));
    assert.equal(next.stdout, 'three\n');
    assert.equal(startSessions(), before + 1);
  });

  test("the master's ssm-proxy is killed: the next ssh is not stuck, it starts a new one", async () => {
    const pid = await masterPid();
    assert.notEqual(pid, undefined);
    // ssh started the ProxyCommand before the master went to the background, so it is no child of
    // the master any more: find this test's ssm-proxy by its command line (the fake's own URL).
    const found = await new Promise<string>((resolve) =>
      execFile('pgrep', ['-f', `connect ${TARGET_ID} ${h.sshd.port} .*--endpoint-url ${h.fake.endpointUrl}`], (_e, out) => resolve(String(out))),
    );
    const proxies = found.split('\n').filter(Boolean).map(Number);
    assert.equal(proxies.length, 1, `ssm-proxy processes of this test: ${found}`);
    process.kill(proxies[0]!, 'SIGKILL');
    const before = startSessions();
    const next = await ssh(['fast', 'echo four'], 45_000);
    assert.equal(next.code, 0, await fs.readFile(stderrLog, 'utf8'));
    assert.equal(next.stdout, 'four\n');
    assert.equal(startSessions(), before + 1);
  });

  test('uninstall-host stops the master and takes the whole block, fast options included, back out', async () => {
    const listed = await cli(['list-hosts']);
    assert.match(listed.stdout, /\nfast\s+.*\s+up 5m\s+yes\s+\d+\n/);
    await fs.access(socket);
    const r = await cli(['uninstall-host', 'fast', '--no-backup']);
    assert.equal(r.code, 0, r.stderr);
    await assert.rejects(fs.access(socket), 'the master still runs');
    const text = await fs.readFile(config, 'utf8');
    assert.doesNotMatch(text, /Control|Compression|Host fast/);
  });
});
