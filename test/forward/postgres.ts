/**
 * A throwaway PostgreSQL server for the tests: Debian's binaries, a cluster initialised in a temp
 * dir owned by the `postgres` user (the tests run as root; postgres refuses to), listening on a
 * free loopback port with its socket in the temp dir, trust authentication, fsync off.
 */
import { chown, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { run, spawnTracked, stopChild } from '../e2e/processes.js';

export interface Postgres {
  port: number;
  dir: string;
  /** The client programs' directory (psql is also on PATH). */
  bin: string;
  stop(): Promise<void>;
}

async function postgresBin(): Promise<string> {
  const root = '/usr/lib/postgresql';
  const versions = (await readdir(root)).filter((name) => /^\d+$/.test(name)).sort((a, b) => Number(b) - Number(a));
  if (versions.length === 0) throw new Error(`no PostgreSQL under ${root} (CI installs the postgresql package)`);
  return join(root, versions[0]!, 'bin');
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export async function startPostgres(): Promise<Postgres> {
  const bin = await postgresBin();
  const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
  const dir = await mkdtemp(join(tmpdir(), 'ssm-proxy-pg-'));
  const data = join(dir, 'data');
  await mkdir(data);
  await chown(dir, uid, gid);
  await chown(data, uid, gid);
  const asPostgres = ['--reuid', String(uid), '--regid', String(gid), '--clear-groups', '--'];
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C', HOME: dir };
  const init = await run('setpriv', [...asPostgres, join(bin, 'initdb'), '-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--no-sync'], {
    env,
    timeoutMs: 120_000,
  });
  if (init.code !== 0) {
    await rm(dir, { recursive: true, force: true });
    throw new Error(`initdb failed (${init.code}): ${init.stderr}`);
  }
  const port = await freePort();
  const server = spawnTracked(
    'setpriv',
    [...asPostgres, join(bin, 'postgres'), '-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'],
    { env, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  server.stderr!.on('data', (chunk: Buffer) => (log += chunk.toString()));
  const stop = async () => {
    await stopChild(server, 'SIGINT', 10_000); // fast shutdown
    await rm(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    const ready = await run(join(bin, 'pg_isready'), ['-h', '127.0.0.1', '-p', String(port), '-t', '2'], { env, timeoutMs: 5000 });
    if (ready.code === 0) break;
    if (server.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`postgres did not start: ${log}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { port, dir, bin, stop };
}
