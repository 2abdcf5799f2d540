/**
 * README: on SIGINT/SIGTERM/SIGHUP `connect` sends the TerminateSession flag *and* calls the
 * TerminateSession API. Through the fake both must be seen: the flag in `records.flags` (recorded
 * when it reaches the service, even if the API call ended the session first) and the API call in
 * `records.apiCalls`. Spawns the built CLI (`npm run build` first), as test/e2e does, against a TCP
 * echo target, idle and in the middle of a transfer.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startFakeSsm, type FakeSsm } from './index.js';
import { TEST_CREDENTIALS } from './scripted-client.js';
import { startTcpTarget, type TcpTarget } from './test-helpers.js';

const MAIN = fileURLToPath(new URL('../../lib/cli/main.js', import.meta.url));
const TARGET = 'i-0123456789abcdef0';
const SIGTERM_EXIT = 143;

describe('connect on SIGTERM: the TerminateSession flag and the API call both reach the service', () => {
  let echo: TcpTarget;
  let fake: FakeSsm;
  let home: string;
  const children = new Set<ChildProcess>();

  before(async () => {
    echo = await startTcpTarget();
    fake = await startFakeSsm({ verifySignature: TEST_CREDENTIALS, targetPortOverride: echo.port });
    home = await mkdtemp(join(tmpdir(), 'ssm-proxy-signal-'));
    await writeFile(join(home, 'aws-config'), '');
    await writeFile(join(home, 'aws-credentials'), '');
  });
  after(async () => {
    for (const child of children) child.kill('SIGKILL');
    await fake.close();
    await echo.close();
    await rm(home, { recursive: true, force: true });
  });

  function spawnConnect(): { child: ChildProcess; echoed: () => number; stderr: () => string; exited: Promise<number | null> } {
    const child = spawn(process.execPath, [MAIN, 'connect', TARGET, '22', '--region', 'us-east-1', '--endpoint-url', fake.endpointUrl], {
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: home,
        LANG: 'C',
        AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
        AWS_CONFIG_FILE: join(home, 'aws-config'),
        AWS_SHARED_CREDENTIALS_FILE: join(home, 'aws-credentials'),
        AWS_EC2_METADATA_DISABLED: 'true',
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    children.add(child);
    let echoed = 0;
    let stderr = '';
    child.stdout!.on('data', (chunk: Buffer) => (echoed += chunk.length));
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.stdin!.on('error', () => undefined);
    const exited = new Promise<number | null>((resolve) =>
      child.once('exit', (code) => {
        children.delete(child);
        resolve(code);
      }),
    );
    return { child, echoed: () => echoed, stderr: () => stderr, exited };
  }

  interface Outcome {
    sessionId: string;
    code: number | null;
    stderr: string;
  }

  /** SIGTERM, then wait for the exit (bounded) and for the flag to be recorded (bounded). */
  async function terminate(run: ReturnType<typeof spawnConnect>, startsBefore: number): Promise<Outcome> {
    const started = fake.records.apiCalls.slice(startsBefore).filter((c) => c.operation === 'StartSession');
    assert.equal(started.length, 1, 'one StartSession');
    const sessionId = started[0]!.sessionId!;
    run.child.kill('SIGTERM');
    const deadline = new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), 10_000).unref());
    const code = await Promise.race([run.exited, deadline]);
    assert.equal(code, SIGTERM_EXIT, `exit code; stderr: ${run.stderr()}`);
    // The flag went out on the socket before it closed; it is recorded whenever it arrived.
    await fake.waitFor(
      () => fake.records.flags.some((f) => f.sessionId === sessionId && f.name === 'TerminateSession'),
      5000,
      `the TerminateSession flag of ${sessionId}; flags: ${JSON.stringify(fake.records.flags)}`,
    );
    const ends = fake.records.sessionEnds.filter((e) => e.sessionId === sessionId);
    assert.equal(ends.length, 1);
    assert.ok(['terminate-flag', 'terminate-api'].includes(ends[0]!.reason), ends[0]!.reason);
    // Every frame ssm-proxy sent was well-formed, including what the agent would not check.
    const { invalid, wouldHangAgent, digestMismatches, payloadLengthMismatches } = fake.records.clientToServer;
    assert.deepEqual({ invalid, wouldHangAgent, digestMismatches, payloadLengthMismatches }, {
      invalid: 0,
      wouldHangAgent: 0,
      digestMismatches: 0,
      payloadLengthMismatches: 0,
    });
    return { sessionId, code, stderr: run.stderr() };
  }

  /** The API call is awaited by connect before it exits, so it is recorded by now. */
  function assertApiCall(outcome: Outcome | undefined): void {
    assert.ok(outcome, 'the SIGTERM run above completed');
    const calls = fake.records.apiCalls.filter((c) => c.operation === 'TerminateSession' && c.sessionId === outcome.sessionId);
    assert.equal(calls.length, 1, `one TerminateSession API call for ${outcome.sessionId}; stderr: ${outcome.stderr}`);
    assert.equal(calls[0]!.status, 200);
    assert.equal(calls[0]!.signatureOk, true);
  }

  // Today's connect skips the API call when the agent's channel_closed (its answer to the flag)
  // arrives before the flag's wait ends; the session engine is to call it "where due" (issue 13).
  const API_CALL_GAP = 'connect skips TerminateSession when channel_closed answers the flag first (session engine, issue 13)';

  let idle: Outcome | undefined;
  it('an idle session: exit 143 and the flag reaches the service', async () => {
    const startsBefore = fake.records.apiCalls.length;
    const run = spawnConnect();
    run.child.stdin!.write('ping\n');
    await fake.waitFor(() => run.echoed() >= 5, 20_000, 'the echo of the first line');
    idle = await terminate(run, startsBefore);
  });

  it('an idle session: the TerminateSession API call reaches the service too', { todo: API_CALL_GAP }, () => assertApiCall(idle));

  let busy: Outcome | undefined;
  it('in the middle of a transfer: exit 143 and the flag reaches the service', async () => {
    const startsBefore = fake.records.apiCalls.length;
    const run = spawnConnect();
    const pump = setInterval(() => run.child.stdin!.write(randomBytes(64 * 1024)), 5);
    try {
      await fake.waitFor(() => run.echoed() > 2 * 1024 * 1024, 60_000, '2 MiB echoed');
      clearInterval(pump);
      busy = await terminate(run, startsBefore);
    } finally {
      clearInterval(pump);
    }
  });

  it('in the middle of a transfer: the TerminateSession API call reaches the service too', { todo: API_CALL_GAP }, () =>
    assertApiCall(busy),
  );
});
