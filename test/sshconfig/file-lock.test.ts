/** The lock around edits of a user's file (src/files/file-lock.ts), in-process. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { SsmProxyError } from '../../src/errors.js';
import { lockPathFor, parseHolder, withFileLock } from '../../src/files/file-lock.js';
import { pruneBackups, removeStaleTemps } from '../../src/files/user-file.js';
import { tempHome } from './helpers.js';

const deadPid = (): number => Number(execFileSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }));

describe('withFileLock', () => {
  test('holds a lock file naming this process while the work runs, and removes it after', async () => {
    const dir = await tempHome();
    const file = path.join(dir, 'config');
    let seen = '';
    const result = await withFileLock(file, async () => {
      seen = await fs.readFile(lockPathFor(file), 'utf8');
      return 42;
    });
    assert.equal(result, 42);
    assert.deepEqual(parseHolder(seen)?.pid, process.pid);
    assert.equal(parseHolder(seen)?.host, os.hostname());
    await assert.rejects(fs.stat(lockPathFor(file)));
  });

  test('removes the lock when the work throws', async () => {
    const dir = await tempHome();
    const file = path.join(dir, 'config');
    await assert.rejects(withFileLock(file, async () => Promise.reject(new Error('boom'))), /boom/);
    await assert.rejects(fs.stat(lockPathFor(file)));
  });

  test('serialises: the second holder starts after the first ends', async () => {
    const dir = await tempHome();
    const file = path.join(dir, 'config');
    const events: string[] = [];
    const work = (name: string) => async () => {
      events.push(`${name} in`);
      await new Promise((r) => setTimeout(r, 50));
      events.push(`${name} out`);
    };
    await Promise.all([withFileLock(file, work('a')), withFileLock(file, work('b')), withFileLock(file, work('c'))]);
    for (let k = 0; k < events.length; k += 2) assert.equal(events[k]!.split(' ')[0], events[k + 1]!.split(' ')[0], events.join(', '));
  });

  test('a live holder: gives up after the bound with a timeout error naming it', async () => {
    const dir = await tempHome();
    const file = path.join(dir, 'config');
    await fs.writeFile(lockPathFor(file), `pid ${process.pid} on host ${os.hostname()} since 2026-01-01T00:00:00.000Z\n`);
    const started = Date.now();
    const error = await withFileLock(file, async () => 'ran', { timeoutMs: 300, shownAs: '~/x' }).catch((e: unknown) => e);
    assert.ok(error instanceof SsmProxyError);
    assert.equal(error.kind, 'timeout');
    assert.match(error.message, new RegExp(`^~/x is being edited by another ssm-proxy \\(pid ${process.pid} on .*, since 2026-01-01T00:00:00.000Z\\); gave up after 0.3 s`));
    assert.ok(Date.now() - started >= 300);
    assert.ok((await fs.readFile(lockPathFor(file), 'utf8')).startsWith(`pid ${process.pid}`), 'the holder\'s lock was removed');
  });

  test('a dead holder on this host: taken over at once', async () => {
    const dir = await tempHome();
    const file = path.join(dir, 'config');
    await fs.writeFile(lockPathFor(file), `pid ${deadPid()} on host ${os.hostname()} since 2026-01-01T00:00:00.000Z\n`);
    assert.equal(await withFileLock(file, async () => 'ran', { timeoutMs: 2000 }), 'ran');
    await assert.rejects(fs.stat(lockPathFor(file)));
  });

  test('a holder on another host is never taken over (a shared home): timeout', async () => {
    const dir = await tempHome();
    const file = path.join(dir, 'config');
    await fs.writeFile(lockPathFor(file), `pid ${deadPid()} on host not-${os.hostname()} since 2026-01-01T00:00:00.000Z\n`);
    await assert.rejects(withFileLock(file, async () => 'ran', { timeoutMs: 200 }), (e: unknown) => e instanceof SsmProxyError && e.kind === 'timeout');
  });

  test('a lock file without a holder line: fresh means being written (wait), old means its writer died', async () => {
    const dir = await tempHome();
    const file = path.join(dir, 'config');
    await fs.writeFile(lockPathFor(file), '');
    await assert.rejects(withFileLock(file, async () => 'ran', { timeoutMs: 200 }), (e: unknown) => e instanceof SsmProxyError && e.kind === 'timeout');
    const old = new Date(Date.now() - 60_000);
    await fs.utimes(lockPathFor(file), old, old);
    assert.equal(await withFileLock(file, async () => 'ran', { timeoutMs: 2000 }), 'ran');
  });

  test('a dangling symbolic link as the lock file: one io error at once, not a spin', async () => {
    const dir = await tempHome();
    const file = path.join(dir, 'config');
    await fs.symlink(path.join(dir, 'nowhere'), lockPathFor(file));
    const started = Date.now();
    const error = await withFileLock(file, async () => 'ran', { timeoutMs: 2_000 }).catch((e: unknown) => e);
    assert.ok(error instanceof SsmProxyError);
    assert.equal(error.kind, 'io');
    assert.match(error.message, /is a symbolic link, which ssm-proxy never makes; remove it and try again$/);
    assert.ok(Date.now() - started < 1_000, 'refused at once');
  });

  test('a stale lock whose breaker never finishes (a fresh .break file): gives up at the bound', async () => {
    const dir = await tempHome();
    const file = path.join(dir, 'config');
    await fs.writeFile(lockPathFor(file), `pid ${deadPid()} on host ${os.hostname()} since 2026-01-01T00:00:00.000Z\n`);
    const breakFile = `${lockPathFor(file)}.break`;
    await fs.writeFile(breakFile, 'pid 1 on host elsewhere since 2026-01-01T00:00:00.000Z\n');
    // Its mtime stays in the future, so it never looks abandoned.
    const future = new Date(Date.now() + 3_600_000);
    await fs.utimes(breakFile, future, future);
    const started = Date.now();
    const error = await withFileLock(file, async () => 'ran', { timeoutMs: 300 }).catch((e: unknown) => e);
    assert.ok(error instanceof SsmProxyError);
    assert.equal(error.kind, 'timeout');
    const took = Date.now() - started;
    assert.ok(took >= 300 && took < 2_000, `gave up after ${took} ms`);
  });

  test('twenty waiters on one stale lock: each runs alone, none lost', async () => {
    const dir = await tempHome();
    const file = path.join(dir, 'config');
    await fs.writeFile(lockPathFor(file), `pid ${deadPid()} on host ${os.hostname()} since 2026-01-01T00:00:00.000Z\n`);
    let inside = 0;
    let most = 0;
    let ran = 0;
    await Promise.all(
      Array.from({ length: 20 }, () =>
        withFileLock(file, async () => {
          inside++;
          most = Math.max(most, inside);
          await new Promise((r) => setTimeout(r, 2));
          inside--;
          ran++;
        }),
      ),
    );
    assert.equal(ran, 20);
    assert.equal(most, 1);
  });
});

describe('leftovers', () => {
  test('pruneBackups keeps the newest five, counting -N suffixes of the same second', async () => {
    const dir = await tempHome();
    const file = path.join(dir, 'config');
    const names = [
      'config.ssm-proxy-20250101T000000Z.bak',
      'config.ssm-proxy-20250102T000000Z.bak',
      'config.ssm-proxy-20250103T000000Z.bak',
      'config.ssm-proxy-20250103T000000Z-1.bak',
      'config.ssm-proxy-20250103T000000Z-2.bak',
      'config.ssm-proxy-20250104T000000Z.bak',
      'config.ssm-proxy-20250105T000000Z.bak',
      'other.ssm-proxy-20240101T000000Z.bak',
      'config.bak',
    ];
    for (const n of names) await fs.writeFile(path.join(dir, n), n);
    await pruneBackups(file, 5);
    assert.deepEqual((await fs.readdir(dir)).sort(), [
      'config.bak',
      'config.ssm-proxy-20250103T000000Z-1.bak',
      'config.ssm-proxy-20250103T000000Z-2.bak',
      'config.ssm-proxy-20250104T000000Z.bak',
      'config.ssm-proxy-20250105T000000Z.bak',
      'other.ssm-proxy-20240101T000000Z.bak',
    ].concat(['config.ssm-proxy-20250103T000000Z.bak']).sort());
  });

  test('removeStaleTemps removes temp files of dead pids only, and only of this file', async () => {
    const dir = await tempHome();
    const file = path.join(dir, 'config');
    const dead = deadPid();
    const names = [`.config.ssm-proxy-${dead}-0a0b0c0d.tmp`, `.config.ssm-proxy-${process.pid}-0a0b0c0d.tmp`, `.other.ssm-proxy-${dead}-0a0b0c0d.tmp`, `.config.ssm-proxy-${dead}-zz.tmp`];
    for (const n of names) await fs.writeFile(path.join(dir, n), 'x');
    assert.deepEqual(await removeStaleTemps(file), [path.join(dir, names[0]!)]);
    assert.deepEqual((await fs.readdir(dir)).sort(), names.slice(1).sort());
  });
});
