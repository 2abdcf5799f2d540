/** Shared test plumbing: temp homes, the real ssh -G, byte helpers. Never touches the real ~/.ssh. */
import { execFileSync, spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');
export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CLI = path.join(REPO, 'lib', 'cli', 'main.js');

/** A path with a space, so every test also checks that ProxyCommand quotes it. */
export const SELF_PATH = '/opt/ssm proxy/bin/ssm-proxy';
export const SELF = [SELF_PATH];

export function expectedProxyCommand(want: { target: string; profile?: string; region?: string }): string {
  let cmd = `"${SELF_PATH}" connect ${want.target} %p`;
  if (want.profile) cmd += ` --profile ${want.profile}`;
  if (want.region) cmd += ` --region ${want.region}`;
  return cmd;
}

export function sshPath(): string {
  const found = spawnSync('sh', ['-c', 'command -v ssh'], { encoding: 'utf8' }).stdout.trim();
  if (!found) throw new Error('these tests need OpenSSH ssh on PATH');
  return found;
}

/** `ssh -G -F file host` as keyword → values. */
export function sshG(file: string, host: string): Map<string, string[]> {
  const out = execFileSync(sshPath(), ['-G', '-F', file, host], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const map = new Map<string, string[]>();
  for (const line of out.split('\n')) {
    const sp = line.indexOf(' ');
    if (sp > 0) map.set(line.slice(0, sp), [...(map.get(line.slice(0, sp)) ?? []), line.slice(sp + 1)]);
  }
  return map;
}

export function sshGRaw(file: string, host: string): string {
  return execFileSync(sshPath(), ['-G', '-F', file, host], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export async function tempHome(): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), 'ssm-proxy-home-'));
}

/** Byte offset where 1-based line `n` starts (the file length when n is past the end). */
export function lineOffset(bytes: Buffer, n: number): number {
  let offset = 0;
  for (let line = 1; line < n; line++) {
    const nl = bytes.indexOf(0x0a, offset);
    if (nl === -1) return bytes.length;
    offset = nl + 1;
  }
  return offset;
}

/** Backups install-host left beside a config path. */
export async function backupsOf(configPath: string): Promise<string[]> {
  const dir = path.dirname(configPath);
  const base = path.basename(configPath);
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  return names.filter((n) => n.startsWith(`${base}.ssm-proxy-`) && n.endsWith('.bak')).map((n) => path.join(dir, n));
}

export async function modeOf(file: string): Promise<number> {
  return (await fs.stat(file)).mode & 0o777;
}
