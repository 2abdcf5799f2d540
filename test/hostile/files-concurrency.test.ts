/**
 * Concurrent writers: 20 install-host and 20 configure-profile processes started at once on the
 * same file. Each must land its block (no lost edit), exit 0, and leave no lock, temp file or
 * stray file behind.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { AWS_SEED, CLI, ID, SSH_SEED, homeWithAwsConfig, homeWithSshConfig, profileArgs, run } from './files-harness.js';

const WRITERS = 20;
const homes: string[] = [];
before(async () => {
  await fs.access(CLI).catch(() => {
    throw new Error(`${CLI} is missing: run npm run build (npm test does it in pretest)`);
  });
});
after(async () => {
  for (const home of homes) await fs.rm(home, { recursive: true, force: true }).catch(() => undefined);
});

describe(`${WRITERS} writers at once on one file`, () => {
  test('install-host: every Host block lands, ssh reads each', async () => {
    const { home, config } = await homeWithSshConfig(SSH_SEED);
    homes.push(home);
    const runs = await Promise.all(
      Array.from({ length: WRITERS }, (_, k) => run(['install-host', `box${k}`, '--target', ID, '--port', String(2000 + k), '--no-backup'], home, {}, 120_000)),
    );
    for (const [k, r] of runs.entries()) {
      assert.equal(r.code, 0, `writer ${k}: ${r.stderr}`);
      assert.match(r.stdout, new RegExp(`added Host box${k} `));
    }
    const text = await fs.readFile(config, 'utf8');
    assert.ok(text.startsWith(SSH_SEED.slice(0, SSH_SEED.indexOf('Host jump'))), 'the seed was kept');
    for (let k = 0; k < WRITERS; k++) {
      assert.equal(text.split(`\nHost box${k}\n`).length, 2, `Host box${k} is missing or doubled`);
      const g = execFileSync('ssh', ['-G', '-F', config, `box${k}`], { encoding: 'utf8' });
      assert.ok(g.includes(`\nport ${2000 + k}\n`), `ssh -G box${k} has no port ${2000 + k}`);
    }
    assert.deepEqual((await fs.readdir(path.dirname(config))).sort(), ['config']);
  });

  test('configure-profile: every [profile] and [sso-session] lands', async () => {
    const { home, config } = await homeWithAwsConfig(AWS_SEED);
    homes.push(home);
    const runs = await Promise.all(
      Array.from({ length: WRITERS }, (_, k) =>
        run([...profileArgs({ profile: `p${k}`, 'sso-session': `s${k}`, 'account-id': String(100000000000 + k) }), '--no-backup'], home, {}, 120_000),
      ),
    );
    for (const [k, r] of runs.entries()) assert.equal(r.code, 0, `writer ${k}: ${r.stderr}`);
    const text = await fs.readFile(config, 'utf8');
    assert.ok(text.startsWith(AWS_SEED), 'the seed was kept');
    for (let k = 0; k < WRITERS; k++) {
      assert.equal(text.split(`\n[profile p${k}]\n`).length, 2, `[profile p${k}] is missing or doubled`);
      assert.equal(text.split(`\n[sso-session s${k}]\n`).length, 2, `[sso-session s${k}] is missing or doubled`);
      assert.ok(text.includes(`\nsso_account_id = ${100000000000 + k}\n`));
    }
    assert.deepEqual((await fs.readdir(path.dirname(config))).sort(), ['config']);
  });
});
