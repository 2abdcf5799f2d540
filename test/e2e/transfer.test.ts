/** scp and rsync through ssm-proxy: bytes must arrive identical (sha256 / tree digests). */
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { describeRun, makeRandomFile, makeTree, sha256File, startHarness, treeDigest, type Harness } from './harness.js';

describe('file transfer via ssm-proxy (scp, rsync)', () => {
  let harness: Harness;
  before(async () => {
    harness = await startHarness();
  });
  after(() => harness?.stop());

  it('scp copies a 16 MiB random file up and back down unchanged', async () => {
    const local = join(harness.dir, 'up.bin');
    const remote = join(harness.dir, 'remote-up.bin'); // same machine: sshd's file system
    const back = join(harness.dir, 'down.bin');
    await makeRandomFile(local, 16 << 20);
    const up = await harness.runScp([local, `${harness.alias}:${remote}`]);
    assert.equal(up.code, 0, describeRun(up));
    assert.equal(await sha256File(remote), await sha256File(local));
    const down = await harness.runScp([`${harness.alias}:${remote}`, back]);
    assert.equal(down.code, 0, describeRun(down));
    assert.equal(await sha256File(back), await sha256File(local));
  });

  it('rsync -a copies a tree of many small files and one large file both ways', async () => {
    const source = join(harness.dir, 'tree-src');
    const remote = join(harness.dir, 'tree-remote');
    const back = join(harness.dir, 'tree-back');
    await makeTree(source, { smallFiles: 300, largeBytes: 8 << 20 });
    await mkdir(back, { recursive: true });
    const expected = await treeDigest(source);
    assert.equal(expected.files, 301);

    const up = await harness.runRsync(['-a', `${source}/`, `${harness.alias}:${remote}/`]);
    assert.equal(up.code, 0, describeRun(up));
    assert.deepEqual(await treeDigest(remote), expected);

    const down = await harness.runRsync(['-a', `${harness.alias}:${remote}/`, `${back}/`]);
    assert.equal(down.code, 0, describeRun(down));
    assert.deepEqual(await treeDigest(back), expected);
  });
});
