/**
 * A real PostgreSQL server reached with psql through `ssm-proxy forward … --host db.internal`:
 * create a table, \copy 50 MB in and out, checksums equal. Run `npm run build` first.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { killAll, run } from '../e2e/processes.js';
import { sha256 } from './helpers.js';
import { startPostgres, type Postgres } from './postgres.js';
import { openTunnel, TARGET_ID } from './tunnel.js';

/** ~50 MB of CSV rows `id,hex`, in id order, exactly as \copy … to writes them back. */
async function writeCsv(path: string, bytes: number): Promise<void> {
  const out = createWriteStream(path);
  let written = 0;
  for (let id = 1; written < bytes; id++) {
    const line = `${id},${randomBytes(48).toString('hex')}\n`;
    written += line.length;
    if (!out.write(line)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  }
  await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
}

describe('psql through ssm-proxy forward', () => {
  let postgres: Postgres;
  let dir: string;
  before(async () => {
    [postgres, dir] = await Promise.all([startPostgres(), mkdtemp(join(tmpdir(), 'ssm-proxy-psql-'))]);
  });
  after(async () => {
    await killAll();
    await postgres?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('creates a table and copies 50 MB in and out with \\copy; checksums equal', async () => {
    const tunnel = await openTunnel({
      fake: { portForward: { destinations: { 'db.internal:5432': `127.0.0.1:${postgres.port}` } } },
      args: [TARGET_ID, '5432', '--host', 'db.internal'],
    });
    try {
      assert.match(tunnel.readyLine, /→ db\.internal:5432$/);
      const input = join(dir, 'in.csv');
      const output = join(dir, 'out.csv');
      await writeCsv(input, 50 * 1024 * 1024);
      const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C', PGCONNECT_TIMEOUT: '15', HOME: dir };
      const psql = (command: string) =>
        run('psql', ['-X', '-v', 'ON_ERROR_STOP=1', '-h', '127.0.0.1', '-p', String(tunnel.port), '-U', 'postgres', '-d', 'postgres', '-c', command], {
          env,
          timeoutMs: 180_000,
        });
      let result = await psql('create table rows (id integer primary key, payload text not null)');
      assert.equal(result.code, 0, result.stderr);
      result = await psql(`\\copy rows from '${input}' with (format csv)`);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout.toString(), /^COPY \d+/);
      result = await psql(`\\copy (select id, payload from rows order by id) to '${output}' with (format csv)`);
      assert.equal(result.code, 0, result.stderr);
      const [sent, received] = await Promise.all([readFile(input), readFile(output)]);
      assert.ok(sent.length >= 50 * 1024 * 1024);
      assert.equal(received.length, sent.length);
      assert.equal(sha256(received), sha256(sent));
      result = await psql('select count(*) from rows');
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout.toString(), new RegExp(`\\b${sent.toString().trimEnd().split('\n').length}\\b`));
      assert.deepEqual(tunnel.fake.records.sessionEnds, []);
      const stopped = await tunnel.stop('SIGINT');
      assert.equal(stopped.code, 130);
    } finally {
      await tunnel.close();
    }
  });
});
