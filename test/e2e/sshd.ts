/**
 * A throwaway OpenSSH server on 127.0.0.1: fresh host and client keys in a temp directory,
 * foreground (`-D -e`) so we own its lifetime, ready once it has sent its banner.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { connect, createServer, type AddressInfo } from 'node:net';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { run, spawnTracked, stopChild } from './processes.js';

export interface Sshd {
  port: number;
  user: string;
  hostPublicKey: string;
  clientKeyPath: string;
  /** What sshd logged (its -e stderr), for failure messages. */
  log(): string;
  stop(): Promise<void>;
}

const SSHD_CANDIDATES = ['/usr/sbin/sshd', '/usr/local/sbin/sshd', '/usr/bin/sshd'];

export function findSshd(): string {
  const found = SSHD_CANDIDATES.find((path) => existsSync(path));
  if (!found) throw new Error(`sshd not found (looked in ${SSHD_CANDIDATES.join(', ')}); install openssh-server`);
  return found;
}

async function keygen(path: string): Promise<void> {
  const result = await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'ssm-proxy-e2e', '-f', path], { timeoutMs: 20_000 });
  if (result.code !== 0) throw new Error(`ssh-keygen failed: ${result.stderr}`);
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Reads the first line a TCP server sends, or undefined if it cannot connect (yet). */
export function readBanner(port: number, timeoutMs = 2_000): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let text = '';
    const done = (value: string | undefined) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(value);
    };
    const timer = setTimeout(() => done(undefined), timeoutMs);
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
      const end = text.indexOf('\n');
      if (end >= 0) done(text.slice(0, end + 1));
    });
    socket.on('error', () => done(undefined));
    socket.on('end', () => done(undefined));
  });
}

export async function startSshd(dir: string): Promise<Sshd> {
  const sshd = findSshd();
  const user = userInfo().username;
  const hostKey = join(dir, 'ssh_host_ed25519_key');
  const clientKeyPath = join(dir, 'id_ed25519');
  await Promise.all([keygen(hostKey), keygen(clientKeyPath)]);
  await writeFile(join(dir, 'authorized_keys'), await readFile(`${clientKeyPath}.pub`), { mode: 0o600 });
  // Privilege separation directory; sshd refuses to start without it when run as root.
  if (process.getuid?.() === 0) await mkdir('/run/sshd', { recursive: true, mode: 0o755 });

  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const configPath = join(dir, 'sshd_config');
    await writeFile(configPath, sshdConfig({ dir, port, hostKey, user }));
    const child = spawnTracked(sshd, ['-D', '-e', '-f', configPath], { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    child.stderr!.on('data', (chunk: Buffer) => (log += chunk.toString('utf8')));
    const ready = await waitForBanner(child, port, 15_000);
    if (ready) {
      return {
        port,
        user,
        hostPublicKey: (await readFile(`${hostKey}.pub`, 'utf8')).trim(),
        clientKeyPath,
        log: () => log,
        stop: () => stopChild(child, 'SIGTERM'),
      };
    }
    await stopChild(child, 'SIGKILL');
    // Another process may have taken the port between freePort() and sshd's bind: try again.
    if (attempt >= 3) throw new Error(`sshd did not start on 127.0.0.1:${port}:\n${log}`);
  }
}

async function waitForBanner(child: ChildProcess, port: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) return false;
    const banner = await readBanner(port, 1_000);
    if (banner?.startsWith('SSH-2.0-')) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}

function sshdConfig(settings: { dir: string; port: number; hostKey: string; user: string }): string {
  return [
    `Port ${settings.port}`,
    'ListenAddress 127.0.0.1',
    `HostKey ${settings.hostKey}`,
    'PidFile none',
    `AuthorizedKeysFile ${join(settings.dir, 'authorized_keys')}`,
    'StrictModes no',
    'UsePAM no',
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'PermitRootLogin prohibit-password',
    `AllowUsers ${settings.user}`,
    // scp (SFTP protocol since OpenSSH 9) needs a subsystem; internal-sftp needs no binary path.
    'Subsystem sftp internal-sftp',
    'PrintMotd no',
    'PrintLastLog no',
    'UseDNS no',
    'MaxStartups 50:30:100',
    'LogLevel ERROR',
    '',
  ].join('\n');
}
