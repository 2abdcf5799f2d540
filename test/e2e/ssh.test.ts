/**
 * ssh through ssm-proxy through the fake SSM service to a real sshd. Needs `npm run build`
 * (lib/cli/main.js), which the `pretest` script runs.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { describeRun, startHarness, type Harness } from './harness.js';
import { spawnTracked, stopChild } from './processes.js';
import { readBanner } from './sshd.js';

describe('ssh via ssm-proxy (real OpenSSH, fake SSM)', () => {
  let harness: Harness;
  before(async () => {
    harness = await startHarness();
  });
  after(() => harness?.stop());

  it("ssh alias 'echo ok' prints exactly ok", async () => {
    const result = await harness.runSsh(harness.alias, 'echo ok');
    assert.equal(result.code, 0, describeRun(result));
    assert.equal(result.stdout.toString('latin1'), 'ok\n');
    const call = harness.fake.records.apiCalls.find((c) => c.operation === 'StartSession')!;
    assert.equal(call.target, 'i-0123456789abcdef0');
    assert.equal(call.documentName, 'AWS-StartSSHSession');
    assert.deepEqual(call.parameters, { portNumber: [String(harness.sshd.port)] });
    assert.equal(call.authorization, true);
    const connection = harness.fake.records.connections.find((c) => c.sessionId === call.sessionId)!;
    assert.equal(connection.tokenOk, true);
    assert.equal(connection.signatureOk, true, 'websocket upgrade carries a valid SigV4 signature');
  });

  it('the remote exit status comes back through ssh', async () => {
    const result = await harness.runSsh(harness.alias, 'exit 7');
    assert.equal(result.code, 7, describeRun(result));
  });

  it('streams stdin to the remote side intact (4 MiB through sha256sum)', async () => {
    const input = randomBytes(4 << 20);
    const result = await harness.runSsh(harness.alias, 'sha256sum', { input });
    assert.equal(result.code, 0, describeRun(result));
    assert.equal(result.stdout.toString().split(' ')[0], createHash('sha256').update(input).digest('hex'));
  });

  it('runs two sessions at once', async () => {
    const [first, second] = await Promise.all([
      harness.runSsh(harness.alias, 'sleep 1; echo first'),
      harness.runSsh(harness.alias, 'sleep 1; echo second'),
    ]);
    assert.equal(first.code, 0, describeRun(first));
    assert.equal(second.code, 0, describeRun(second));
    assert.equal(first.stdout.toString(), 'first\n');
    assert.equal(second.stdout.toString(), 'second\n');
  });

  it('leaves no live service session after a normal ssh exit', async () => {
    const before = harness.fake.records.apiCalls.length;
    const result = await harness.runSsh(harness.alias, 'true');
    assert.equal(result.code, 0, describeRun(result));
    const sessionId = harness.fake.records.apiCalls.slice(before).find((c) => c.operation === 'StartSession')?.sessionId;
    assert.ok(sessionId);
    // When ssh exits, sshd closes the TCP connection at the same moment: the fake (like the agent)
    // may end the session on target EOF before ssm-proxy's TerminateSession flag/API arrives, so
    // any of the three is a clean end. The stdin-EOF test below pins down the flag itself.
    await harness.fake.waitFor(
      () => harness.fake.records.sessionEnds.some((end) => end.sessionId === sessionId),
      10_000,
      'the session to end',
    );
    const end = harness.fake.records.sessionEnds.find((e) => e.sessionId === sessionId)!;
    assert.ok(['terminate-flag', 'terminate-api', 'target-eof'].includes(end.reason), end.reason);
    assert.equal(end.output, '');
  });

  it('stdout of ssm-proxy connect carries the stream and nothing else; stdin EOF sends TerminateSession', async () => {
    const directBanner = await readBanner(harness.sshd.port);
    assert.match(directBanner ?? '', /^SSH-2\.0-OpenSSH/);
    const [program, ...words] = harness.ssmProxy;
    const child = spawnTracked(program!, [...words, ...harness.connectArgs()], {
      env: harness.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    try {
      const stdout: Buffer[] = [];
      let stderr = '';
      child.stdout!.on('data', (chunk: Buffer) => stdout.push(chunk));
      child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
      child.stdin!.write('SSH-2.0-test\r\n');
      const deadline = Date.now() + 20_000;
      while (!Buffer.concat(stdout).includes('\n') && Date.now() < deadline && child.exitCode === null) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      child.stdin!.end();
      let timer: NodeJS.Timeout | undefined;
      const code = await Promise.race([exited, new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), 20_000)))]);
      clearTimeout(timer);
      const text = Buffer.concat(stdout).toString('latin1');
      assert.ok(text.startsWith(directBanner!), `stdout starts with sshd's banner; got ${JSON.stringify(text.slice(0, 80))}; stderr: ${stderr}`);
      assert.equal(code, 0, `ssm-proxy exit code; stderr: ${stderr}`);
      // sshd keeps the TCP connection open (it waits for our key exchange), so only stdin EOF
      // ends this session: ssm-proxy must send the TerminateSession flag (pitfall 21).
      const sessionId = harness.fake.records.apiCalls.filter((c) => c.operation === 'StartSession').at(-1)!.sessionId;
      assert.ok(
        harness.fake.records.flags.some((f) => f.sessionId === sessionId && f.name === 'TerminateSession'),
        `TerminateSession flag recorded; flags: ${JSON.stringify(harness.fake.records.flags)}`,
      );
      assert.equal(harness.fake.records.sessionEnds.find((e) => e.sessionId === sessionId)?.reason, 'terminate-flag');
    } finally {
      await stopChild(child, 'SIGKILL', 1_000);
    }
  });

  it('a denied StartSession gives one clear line from ssm-proxy and ssh exits 255', async () => {
    harness.fake.options.startSessionError = 'AccessDeniedException';
    try {
      const result = await harness.runSsh(harness.alias, 'echo should-not-run');
      assert.equal(result.code, 255, describeRun(result));
      assert.equal(result.stdout.length, 0);
      const lines = result.stderr.split('\n').filter((line) => line.startsWith('ssm-proxy'));
      assert.equal(lines.length, 1, `exactly one ssm-proxy line in: ${result.stderr}`);
      assert.match(lines[0]!, /ssm:StartSession/);
      assert.doesNotMatch(result.stderr, /^\s{4}at /m, 'no stack trace');

      const direct = await harness.runSsmProxy(harness.connectArgs());
      assert.notEqual(direct.code, 0, describeRun(direct));
      assert.equal(direct.stdout.length, 0, 'nothing on stdout');
      assert.doesNotMatch(direct.stderr, /^\s{4}at /m);
    } finally {
      harness.fake.options.startSessionError = undefined;
    }
  });
});
