import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { replaceFile, WINDOWS_RENAME_PAUSES } from '../../src/platform/replace-file.js';

const busy = (code: string): Error => Object.assign(new Error(`${code}: resource busy`), { code });

describe('replaceFile: rename over a file, retried on Windows while another process holds it', () => {
  it('renames a real file over another', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'replace-file-'));
    try {
      writeFileSync(path.join(dir, 'new'), 'new bytes');
      writeFileSync(path.join(dir, 'config'), 'old bytes');
      await replaceFile(path.join(dir, 'new'), path.join(dir, 'config'));
      assert.equal(readFileSync(path.join(dir, 'config'), 'utf8'), 'new bytes');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('on Windows, EPERM/EACCES/EBUSY are retried after the given pauses until the rename goes through', async () => {
    const failures = [busy('EPERM'), busy('EACCES'), busy('EBUSY')];
    const slept: number[] = [];
    let calls = 0;
    await replaceFile('a', 'b', {
      platform: 'win32',
      pauses: [5, 10, 20, 40],
      rename: async () => {
        calls++;
        const failure = failures.shift();
        if (failure) throw failure;
      },
      sleep: async (ms) => {
        slept.push(ms);
      },
    });
    assert.equal(calls, 4);
    assert.deepEqual(slept, [5, 10, 20]);
  });

  it('on Windows, gives up after the last pause with the last error', async () => {
    let calls = 0;
    const slept: number[] = [];
    await assert.rejects(
      replaceFile('a', 'b', {
        platform: 'win32',
        rename: async () => {
          calls++;
          throw busy('EPERM');
        },
        sleep: async (ms) => {
          slept.push(ms);
        },
      }),
      { code: 'EPERM' },
    );
    assert.equal(calls, WINDOWS_RENAME_PAUSES.length + 1);
    assert.deepEqual(slept, [...WINDOWS_RENAME_PAUSES]);
    const total = slept.reduce((a, b) => a + b, 0);
    assert.ok(total >= 2000 && total <= 4000, `${total} ms in all`);
  });

  it('does not retry other errors, nor anything on POSIX', async () => {
    for (const [platform, code] of [
      ['win32', 'ENOENT'],
      ['linux', 'EPERM'],
      ['darwin', 'EBUSY'],
    ] as const) {
      let calls = 0;
      await assert.rejects(
        replaceFile('a', 'b', {
          platform,
          rename: async () => {
            calls++;
            throw busy(code);
          },
          sleep: async () => assert.fail('no pause'),
        }),
        { code },
      );
      assert.equal(calls, 1, `${platform} ${code}`);
    }
  });
});
