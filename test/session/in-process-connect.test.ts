import { join } from 'node:path';
import { tmpdir } from 'node:os';
/**
 * connect's whole lifecycle in this process: the real SSM client against the fake SSM service,
 * the real websocket, the engine and the Port kind over in-memory stdio. No CLI is spawned.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { PassThrough, Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { createSsmApi } from '../../src/aws/ssm-api.js';
import { defaultClientSettings } from '../../src/aws/aws-call.js';
import { resolveAwsContext } from '../../src/aws/aws-context.js';
import { createLogger } from '../../src/log.js';
import { systemScheduler } from '../../src/scheduler.js';
import { portOverStdio } from '../../src/session/port-over-stdio.js';
import { runSession, type SessionOutcome } from '../../src/session/run-session.js';
import { websocketConnection } from '../../src/session/websocket-connection.js';
import { startFakeSsm, type FakeSsm } from '../fake-ssm/index.js';
import { TEST_CREDENTIALS } from '../fake-ssm/scripted-client.js';
import { startTcpTarget, type TcpTarget } from '../fake-ssm/test-helpers.js';

const TARGET = 'i-0123456789abcdef0';

async function connectInProcess(fake: FakeSsm, port: number) {
  const input = new PassThrough();
  const received: Buffer[] = [];
  const output = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      received.push(Buffer.from(chunk)); // the writer reuses its buffers once a write is done
      callback();
    },
  });
  const credentials = async () => TEST_CREDENTIALS;
  const none = join(tmpdir(), 'ssm-proxy-in-process-no-such-file');
  const context = resolveAwsContext({ region: 'us-east-1' }, { AWS_CONFIG_FILE: none, AWS_SHARED_CREDENTIALS_FILE: none });
  const api = await createSsmApi({ context, credentials, endpoint: fake.endpointUrl, client: defaultClientSettings() });
  const controller = new AbortController();
  const logLines: string[] = [];
  const outcome: Promise<SessionOutcome> = runSession({
    api,
    request: { target: TARGET, documentName: 'AWS-StartSSHSession', parameters: { portNumber: [String(port)] } },
    kind: portOverStdio({ input, output }),
    connection: websocketConnection({ region: 'us-east-1', credentials, clientId: 'in-process-client' }),
    clientVersion: '1.2.764.0',
    log: createLogger({ verbosity: 2, write: (line) => logLines.push(line) }),
    scheduler: systemScheduler,
    signal: controller.signal,
  });
  const text = () => Buffer.concat(received).toString();
  return { input, received, text, outcome, logLines, signal: (name: 'SIGTERM') => controller.abort(name) };
}

describe('connect lifecycle in-process (fake SSM, real websocket, engine, Port kind)', () => {
  let fake: FakeSsm;
  let echo: TcpTarget;
  before(async () => {
    fake = await startFakeSsm({ verifySignature: TEST_CREDENTIALS });
    echo = await startTcpTarget();
  });
  after(async () => {
    await fake.close();
    await echo.close();
  });

  it('echoes bytes both ways, then stdin EOF ends it with the TerminateSession flag and exit 0', { timeout: 20_000 }, async () => {
    const c = await connectInProcess(fake, echo.port);
    const payload = randomBytes(300_000);
    c.input.write(payload);
    await fake.waitFor(() => Buffer.concat(c.received).length >= payload.length, 10_000, 'the echo');
    c.input.end();
    const outcome = await c.outcome;
    assert.deepEqual(outcome.end, { reason: 'input-ended' });
    assert.equal(outcome.exitCode, 0);
    const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
    assert.equal(sha(Buffer.concat(c.received)), sha(payload));
    assert.ok(
      fake.records.flags.some((f) => f.sessionId === outcome.sessionId && f.name === 'TerminateSession'),
      JSON.stringify(fake.records.flags),
    );
    assert.ok(c.logLines.every((line) => !line.includes(TEST_CREDENTIALS.secretAccessKey)));
  });

  it('a signal mid-session: flag and TerminateSession call reach the service, exit 143 within 1.5 s', { timeout: 20_000 }, async () => {
    const c = await connectInProcess(fake, echo.port);
    c.input.write('ping\n');
    await fake.waitFor(() => c.text() === 'ping\n', 10_000, 'the echo');
    const started = performance.now();
    c.signal('SIGTERM');
    const outcome = await c.outcome;
    const ms = performance.now() - started;
    assert.deepEqual(outcome.end, { reason: 'signal', signal: 'SIGTERM' });
    assert.equal(outcome.exitCode, 143);
    assert.ok(ms < 1500, `${Math.round(ms)} ms`);
    assert.ok(fake.records.flags.some((f) => f.sessionId === outcome.sessionId && f.name === 'TerminateSession'));
    assert.ok(fake.records.apiCalls.some((call) => call.operation === 'TerminateSession'));
  });
});
