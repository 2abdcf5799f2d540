/**
 * ssh and scp through ssm-proxy while the fake misbehaves like a bad network or like MGS on a
 * long session: lost, duplicated, reordered and corrupted frames, hourly-style socket recycling,
 * publication messages, the idle timeout, and realistic agent pacing.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import type { FakeSsmOptions } from '../fake-ssm/index.js';
import { describeRun, makeRandomFile, sha256File, startHarness, type Harness } from './harness.js';

describe('ssm-proxy against a misbehaving service', () => {
  let harness: Harness | undefined;
  afterEach(async () => {
    await harness?.stop();
    harness = undefined;
  });

  async function withFake(fake: FakeSsmOptions): Promise<Harness> {
    harness = await startHarness({ fake });
    return harness;
  }

  /** scp up and back down; both copies must hash like the original. */
  async function scpRoundTrip(h: Harness, bytes: number): Promise<void> {
    const local = join(h.dir, 'original.bin');
    const remote = join(h.dir, 'remote.bin');
    const back = join(h.dir, 'back.bin');
    await makeRandomFile(local, bytes);
    const up = await h.runScp([local, `${h.alias}:${remote}`], { timeoutMs: 180_000 });
    assert.equal(up.code, 0, describeRun(up));
    const down = await h.runScp([`${h.alias}:${remote}`, back], { timeoutMs: 180_000 });
    assert.equal(down.code, 0, describeRun(down));
    const expected = await sha256File(local);
    assert.equal(await sha256File(remote), expected);
    assert.equal(await sha256File(back), expected);
  }

  it('survives dropped, duplicated, reordered and corrupted frames in both directions', async () => {
    const lossy = { drop: 0.02, duplicate: 0.02, reorder: 0.02 };
    const h = await withFake({ faults: { seed: 3, serverToClient: lossy, clientToServer: lossy, corruptDigestEvery: 97 } });
    await scpRoundTrip(h, 2 << 20);
    const { serverToClient, clientToServer } = h.fake.records;
    assert.ok(serverToClient.dropped > 0 && clientToServer.dropped > 0);
    assert.ok(serverToClient.corrupted > 0);
    assert.ok(serverToClient.retransmitted > 0, 'the fake resent what was lost');
  });

  it('reconnects with ResumeSession when the service recycles the websocket (1000 "Bye")', async () => {
    const h = await withFake({ recycleAfterBytes: 1 << 20 });
    await scpRoundTrip(h, 6 << 20);
    const resumes = h.fake.records.apiCalls.filter((c) => c.operation === 'ResumeSession' && c.status === 200);
    assert.ok(resumes.length >= 4, `ResumeSession calls: ${resumes.length}`);
    const byClose = h.fake.records.connections.filter((c) => c.closeReason === 'Bye');
    assert.ok(byClose.length >= 4, `sockets recycled: ${byClose.length}`);
    assert.ok(h.fake.records.connections.every((c) => c.tokenOk));
  });

  it('tolerates pause_publication / start_publication', async () => {
    const h = await withFake({ sendPublicationMessages: { intervalMs: 50 } });
    const result = await h.runSsh(h.alias, 'sleep 0.5; echo ok');
    assert.equal(result.code, 0, describeRun(result));
    assert.equal(result.stdout.toString(), 'ok\n');
    assert.ok(h.fake.records.serverToClient.publications >= 2);
  });

  it('moves data at realistic agent pacing (1 ms per 1 KiB message)', async () => {
    const h = await withFake({ agentPacing: 'realistic' });
    await scpRoundTrip(h, 2 << 20);
  });

  it('reports the idle timeout and ssh fails', async () => {
    const h = await withFake({ idleTimeoutMs: 700 });
    const result = await h.runSsh(h.alias, 'sleep 5; echo too-late', { timeoutMs: 30_000 });
    assert.notEqual(result.code, 0, describeRun(result));
    assert.equal(result.stdout.toString(), '');
    assert.match(result.stderr, /Your session timed out due to inactivity and has been terminated\./);
    assert.doesNotMatch(result.stderr, /^\s{4}at /m);
    assert.equal(h.fake.records.sessionEnds[0]?.reason, 'idle-timeout');
  });

  it('gives up cleanly when ResumeSession is denied after a recycle', async () => {
    const h = await withFake({ recycleAfterBytes: 256 << 10, denyResumeSession: true });
    const started = Date.now();
    const result = await h.runSsh(h.alias, 'head -c 4000000 /dev/zero', { timeoutMs: 120_000 });
    assert.notEqual(result.code, 0, describeRun(result));
    assert.equal(result.timedOut, false);
    const lines = result.stderr.split('\n').filter((line) => line.startsWith('ssm-proxy'));
    assert.ok(lines.length >= 1 && lines.length <= 2, `ssm-proxy lines: ${result.stderr}`);
    assert.match(lines.join('\n'), /ResumeSession|not authorized|denied/i);
    assert.doesNotMatch(result.stderr, /^\s{4}at /m);
    assert.ok(Date.now() - started < 90_000);
  });
});
