/**
 * `ssm-proxy shell` and `start-session` beyond the interactive screen: piped stdin, KMS refused,
 * the AWS CLI drop-in (documents, --parameters, AccessDenied), SIGHUP, and a websocket outage
 * with keystrokes typed meanwhile (docs/protocol.md §14, §15).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createServer, Socket, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, describe, test } from 'node:test';
import { startTcpTarget } from '../fake-ssm/test-helpers.js';
import { sleep, startTerminalHarness, TARGET_ID, type TerminalHarness } from './terminal-harness.js';

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs ssm-proxy with `input` on a pipe (not a terminal) and a deadline. */
function runPiped(h: TerminalHarness, args: string[], input: string, options: { endInputWhen?: (stdout: string) => boolean } = {}, timeoutMs = 30_000): Promise<Ran> {
  const [program, ...rest] = h.ssmProxy(args);
  const child = spawn(program!, rest, { env: h.env, stdio: ['pipe', 'pipe', 'pipe'] });
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  const { endInputWhen } = options;
  child.stdout.on('data', (chunk: Buffer) => {
    stdout.push(chunk);
    // A port session ends at stdin EOF: keep it open until the answer is in, as ssh does.
    if (endInputWhen?.(Buffer.concat(stdout).toString('utf8'))) child.stdin.end();
  });
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
  child.stdin.on('error', () => {});
  if (endInputWhen) child.stdin.write(input);
  else child.stdin.end(input);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`ssm-proxy ${args.join(' ')} did not end within ${timeoutMs} ms; stderr: ${Buffer.concat(stderr)}`));
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8') });
    });
  });
}

/** Lines ssm-proxy wrote about itself (not the AWS CLI-style session banners). */
function errorLines(stderr: string): string[] {
  return stderr.split('\n').filter((line) => line.startsWith('ssm-proxy: '));
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('piped stdin (not a terminal)', () => {
  let h: TerminalHarness;
  after(() => h?.stop());

  test('runs the piped commands and ends with the shell: exit 0, output on stdout, banners on stderr', async () => {
    h = await startTerminalHarness({ shell: { outputStartDelayMs: 300 } });
    const ran = await runPiped(h, ['shell', TARGET_ID], 'uname -s; echo "piped $((1+1))"; exit\n');
    assert.equal(ran.code, 0, ran.stderr);
    assert.match(ran.stdout, /(\n|\$ )Linux\r\n/);
    assert.match(ran.stdout, /(\n|\$ )piped 2\r\n/);
    assert.doesNotMatch(ran.stdout, /Starting session|Exiting session/);
    assert.match(ran.stderr, /Starting session with SessionId: (ssm-proxy-test-\w+)\n/);
    assert.match(ran.stderr, /Exiting session with sessionId: ssm-proxy-test-\w+\./);
    assert.deepEqual(errorLines(ran.stderr), []);
    assert.equal(h.fake.records.sessionEnds.at(-1)?.reason, 'shell-exit');
  });

  test('without an exit in the input, end of input ends the remote shell (Ctrl-D) after the commands ran', async () => {
    const ran = await runPiped(h, ['shell', TARGET_ID], 'sleep 1; echo "late $((2+3))"\n');
    assert.equal(ran.code, 0, ran.stderr);
    assert.match(ran.stdout, /(\n|\$ )late 5\r\n/);
    assert.equal(h.fake.records.sessionEnds.at(-1)?.reason, 'shell-exit');
    assert.equal(h.fake.records.shellSessions.at(-1)?.shellExitCode, 0);
  });
});

describe('a lossy, recycling link', () => {
  let h: TerminalHarness;
  after(() => h?.stop());

  test('768 KiB of base64 (1 MiB on the wire) arrive intact through dropped, duplicated and reordered frames and socket recycles', async () => {
    const faults = { drop: 0.03, duplicate: 0.03, reorder: 0.03 };
    h = await startTerminalHarness({
      fake: { faults: { seed: 7, serverToClient: faults, clientToServer: faults }, recycleAfterBytes: 300_000 },
      shell: { outputStartDelayMs: 300 },
    });
    const data = randomBytes(786_432);
    await writeFile(join(h.dir, 'remote-home', 'blob'), data);
    // The agent drains for only 2 s after the shell exits (§14.3) and resends one message per
    // tick: so the shell is left running until everything arrived, then ended by stdin EOF.
    const started = performance.now();
    const ran = await runPiped(h, ['shell', TARGET_ID], 'base64 blob; printf "%s\\n" "END""MARK"\n', { endInputWhen: (out) => out.includes('ENDMARK\r\n') }, 120_000);
    const seconds = (performance.now() - started) / 1000;
    assert.equal(ran.code, 0, ran.stderr);
    const expected = data.toString('base64').replace(/.{76}/g, '$&\r\n') + '\r\n';
    // The pty echoes the piped line, and prompts come before and after: find the first base64 line.
    const start = ran.stdout.indexOf(expected.slice(0, 78));
    assert.ok(start > 0, `no base64 in the output: ${JSON.stringify(ran.stdout.slice(0, 300))}`);
    const received = ran.stdout.slice(start, start + expected.length);
    let differs = 0;
    while (differs < expected.length && received[differs] === expected[differs]) differs++;
    assert.equal(differs, expected.length, `differs at ${differs}: got ${JSON.stringify(received.slice(differs - 40, differs + 80))}, want ${JSON.stringify(expected.slice(differs - 40, differs + 80))}`);
    assert.equal(createHash('sha256').update(received).digest('hex'), createHash('sha256').update(expected).digest('hex'));
    const { serverToClient, clientToServer } = h.fake.records;
    assert.ok(serverToClient.dropped > 0 && serverToClient.duplicated > 0 && serverToClient.reordered > 0);
    assert.ok(clientToServer.dropped + clientToServer.duplicated + clientToServer.reordered > 0);
    assert.ok(h.fake.records.apiCalls.filter((call) => call.operation === 'ResumeSession').length >= 2, 'the socket was recycled and resumed');
    assert.ok(seconds < 90, `took ${seconds.toFixed(1)} s`);
  });
});

describe('the service ends the session', () => {
  let h: TerminalHarness;
  after(() => h?.stop());

  test('the idle timeout: the service\'s text on stderr, exit 8, stdout only the shell\'s bytes', async () => {
    h = await startTerminalHarness({ fake: { idleTimeoutMs: 2500 }, shell: { outputStartDelayMs: 300 } });
    const [program, ...rest] = h.ssmProxy(['shell', TARGET_ID]);
    // stdin stays open (a user who walked away), so only the service can end it.
    const child = spawn(program!, rest, { env: h.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    child.stdin.destroy();
    assert.equal(code, 8, stderr);
    assert.deepEqual(errorLines(stderr), ['ssm-proxy: Your session timed out due to inactivity and has been terminated.']);
    assert.doesNotMatch(stderr, /Exiting session/);
    assert.match(stdout, /remote\$ $/);
    assert.equal(h.fake.records.sessionEnds.at(-1)?.reason, 'idle-timeout');
  });
});

describe('KMS refused', () => {
  let h: TerminalHarness;
  after(() => h?.stop());

  test('a denied kms:GenerateDataKey is one line naming the key and the permission, exit 4, and no session lingers', async () => {
    h = await startTerminalHarness({ kms: { denyGenerateDataKey: true }, shell: { outputStartDelayMs: 300 } });
    const ran = await runPiped(h, ['shell', TARGET_ID], 'echo never\n');
    assert.equal(ran.code, 4, ran.stderr);
    const lines = errorLines(ran.stderr);
    assert.equal(lines.length, 1, ran.stderr);
    assert.match(lines[0]!, new RegExp(`^ssm-proxy: kms:GenerateDataKey on key ${h.kms!.alias} was denied for the default credentials: .*not authorized to perform: kms:GenerateDataKey`));
    assert.equal(ran.stdout, '');
    await h.fake.waitFor(() => h.fake.sessions().every((session) => session.terminated), 5000, 'the session to end on the service');
    assert.doesNotMatch(ran.stderr, /AKIDFAKESSMTEST|fake\/secret/);
  });

  test('a kms:Decrypt the agent is denied is one line naming the key and the instance role\'s permission, exit 4', async () => {
    h.kms!.options.denyGenerateDataKey = false;
    h.kms!.options.denyDecrypt = true;
    const ran = await runPiped(h, ['shell', TARGET_ID], 'echo never\n');
    assert.equal(ran.code, 4, ran.stderr);
    const lines = errorLines(ran.stderr);
    assert.equal(lines.length, 1, ran.stderr);
    assert.match(lines[0]!, new RegExp(`^ssm-proxy: the SSM agent on ${TARGET_ID} was denied kms:Decrypt on key ${h.kms!.keyArn}, .*User: .* is not authorized to perform: kms:Decrypt .*allow kms:Decrypt on that key for the instance's role`));
    assert.equal(ran.stdout, '');
  });
});

describe('an InteractiveCommands document with KMS', () => {
  let h: TerminalHarness;
  after(() => h?.stop());

  test('the handshake names InteractiveCommands; the shell kind takes it and runs encrypted', async () => {
    h = await startTerminalHarness({ kms: true, shell: { outputStartDelayMs: 300 } });
    const ran = await runPiped(h, ['start-session', '--target', TARGET_ID, '--document-name', 'SSM-TestInteractiveCommands'], 'echo "interactive $((3+4))"; exit\n');
    assert.equal(ran.code, 0, ran.stderr);
    assert.match(ran.stdout, /(\n|\$ )interactive 7\r\n/);
    assert.match(ran.stderr, /This session is encrypted using AWS KMS\./);
    assert.deepEqual(h.fake.records.handshakeResponses.at(-1)?.actionStatuses, [1, 1]);
    const record = h.fake.records.shellSessions.at(-1)!;
    assert.equal(record.documentName, 'SSM-TestInteractiveCommands');
    assert.ok(record.inputMessages >= 2 && record.inputDecrypted === record.inputMessages);
    assert.ok(record.outputMessages > 0 && record.outputEncrypted === record.outputMessages);
  });
});

describe('start-session, the AWS CLI drop-in', () => {
  let h: TerminalHarness;
  const echo = startTcpTarget();
  after(async () => {
    await h?.stop();
    await (await echo).close();
  });

  test('AWS-StartSSHSession runs the stdio port session; --parameters in shorthand', async () => {
    h = await startTerminalHarness({ shell: { outputStartDelayMs: 300 } });
    const { port } = await echo;
    const ran = await runPiped(h, ['start-session', '--target', TARGET_ID, '--document-name', 'AWS-StartSSHSession', '--parameters', `portNumber=${port}`], 'through the echo target\n', {
      endInputWhen: (out) => out.endsWith('\n'),
    });
    assert.equal(ran.code, 0, ran.stderr);
    assert.equal(ran.stdout, 'through the echo target\n');
    const call = h.fake.records.apiCalls.filter((record) => record.operation === 'StartSession').at(-1)!;
    assert.equal(call.documentName, 'AWS-StartSSHSession');
    assert.deepEqual(call.parameters, { portNumber: [String(port)] });
  });

  test('--parameters as JSON, and a shell for the default document', async () => {
    const { port } = await echo;
    const viaJson = await runPiped(h, ['start-session', '--target', TARGET_ID, '--document-name', 'AWS-StartSSHSession', '--parameters', `{"portNumber":["${port}"]}`], 'json\n', {
      endInputWhen: (out) => out.endsWith('\n'),
    });
    assert.equal(viaJson.code, 0, viaJson.stderr);
    assert.equal(viaJson.stdout, 'json\n');
    const shell = await runPiped(h, ['start-session', '--target', TARGET_ID], 'echo "drop-in $((5*5))"; exit\n');
    assert.equal(shell.code, 0, shell.stderr);
    assert.match(shell.stdout, /(\n|\$ )drop-in 25\r\n/);
    const call = h.fake.records.apiCalls.filter((record) => record.operation === 'StartSession').at(-1)!;
    assert.equal(call.documentName, 'SSM-SessionManagerRunShell', 'no DocumentName sent: the service default');
  });

  test('bad --parameters is a usage error before any AWS call', async () => {
    const calls = h.fake.records.apiCalls.length;
    const ran = await runPiped(h, ['start-session', '--target', TARGET_ID, '--parameters', 'portNumber'], '');
    assert.equal(ran.code, 2);
    assert.deepEqual(errorLines(ran.stderr), [`ssm-proxy: invalid --parameters 'portNumber': expected '=', found the end (use key=value,key2=value2 or JSON such as {"portNumber":["22"]})`]);
    assert.equal(h.fake.records.apiCalls.length, calls);
  });

  test('AccessDenied on StartSession keeps AWS\'s text and names who signed and both resources', async () => {
    h.fake.options.startSessionError = 'AccessDeniedException';
    await writeFile(
      join(h.dir, 'aws-credentials'),
      `[discovery-access]\naws_access_key_id = ${h.env.AWS_ACCESS_KEY_ID}\naws_secret_access_key = ${h.env.AWS_SECRET_ACCESS_KEY}\n`,
    );
    try {
      const ran = await runPiped(h, ['start-session', '--target', TARGET_ID, '--profile', 'discovery-access'], '');
      assert.equal(ran.code, 4, ran.stderr);
      const lines = errorLines(ran.stderr);
      assert.equal(lines.length, 1, ran.stderr);
      const line = lines[0]!;
      assert.match(line, /User: arn:aws:sts::123456789012:assumed-role\/ssm-proxy-test\/session is not authorized to perform: ssm:StartSession/);
      assert.match(line, /profile 'discovery-access'/);
      assert.match(line, /arn:aws:ec2:us-east-1:123456789012:instance\/i-0123456789abcdef0/);
      assert.match(line, /arn:aws:ssm:us-east-1:123456789012:document\/SSM-SessionManagerRunShell/);
      // The same for the port session start-session runs for AWS-StartSSHSession (an AWS-owned document).
      const ssh = await runPiped(h, ['start-session', '--target', TARGET_ID, '--document-name', 'AWS-StartSSHSession', '--profile', 'discovery-access'], '');
      assert.equal(ssh.code, 4, ssh.stderr);
      assert.equal(errorLines(ssh.stderr).length, 1, ssh.stderr);
      assert.match(ssh.stderr, /the policy must allow ssm:StartSession on both arn:aws:ec2:us-east-1:123456789012:instance\/i-0123456789abcdef0 and arn:aws:ssm:us-east-1::document\/AWS-StartSSHSession\n/);
    } finally {
      h.fake.options.startSessionError = undefined;
    }
  });
});

describe('in a terminal: signals and a dropped websocket', () => {
  let h: TerminalHarness;
  let relay: Relay | undefined;
  after(async () => {
    await h?.stop();
    await relay?.close();
  });

  test('SIGHUP ends the remote session too: exit 129, TerminateSession, the shell gone, the terminal restored', async () => {
    h = await startTerminalHarness({ shell: { outputStartDelayMs: 300 } });
    await h.startShell();
    await h.waitForScreen(/remote\$\s*$/, 20_000, 'the prompt');
    const pid = await h.ssmProxyPid();
    process.kill(pid, 'SIGHUP');
    const result = await h.waitForExit(10_000);
    assert.equal(result.code, 129);
    assert.equal(result.sttyAfter, result.sttyBefore);
    const sessionId = h.fake.records.shellSessions[0]!.sessionId;
    assert.ok(h.fake.records.apiCalls.some((call) => call.operation === 'TerminateSession' && call.sessionId === sessionId));
    assert.equal(h.fake.records.sessionEnds.find((end) => end.sessionId === sessionId)?.reason, 'terminate-api');
    await h.fake.waitFor(() => !processAlive(h.fake.records.shellSessions[0]!.ptyPid!), 5000, 'the remote shell to be gone');
    await h.stop();
  });

  test('the websocket drops mid-session; keystrokes typed during the outage arrive after the resume', async () => {
    h = await startTerminalHarness({ shell: { outputStartDelayMs: 300 } });
    relay = await startRelay(h.fake.port);
    await h.startShell(['--ssmmessages-endpoint', `ws://127.0.0.1:${relay.port}`, '-v']);
    await h.waitForScreen(/remote\$\s*$/, 20_000, 'the prompt');
    relay.cut();
    await sleep(300);
    await h.sendText('echo "typed during the outage $((6*7))"');
    await h.sendKeys('Enter');
    await sleep(1500);
    assert.doesNotMatch(await h.screen(), /outage 42/, 'nothing can arrive while the network is down');
    relay.restore();
    await h.waitForScreen(/\ntyped during the outage 42\n/, 30_000, 'the command typed during the outage to run');
    assert.ok(h.fake.records.apiCalls.some((call) => call.operation === 'ResumeSession'));
    // -v lines written while the terminal is raw end in CR LF: no staircase (a line indented
    // by the length of the one before). One may follow the prompt the cursor was on.
    const logLines = (await h.screen()).split('\n').filter((line) => line.includes('ssm-proxy: '));
    assert.ok(logLines.length >= 2 && logLines.some((line) => /resum/i.test(line)), 'the reconnect is logged with -v');
    for (const line of logLines) assert.match(line, /^(remote\$ )?ssm-proxy: /, await h.screen());
    assert.ok(h.fake.records.connections.filter((record) => record.tokenOk).length >= 2);
    await h.sendText('exit');
    await h.sendKeys('Enter');
    assert.equal((await h.waitForExit(15_000)).code, 0);
  });
});

interface Relay {
  port: number;
  /** Drops every connection and refuses new ones. */
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

/** A TCP relay to the fake's port that the test can cut, to make the websocket drop. */
async function startRelay(targetPort: number): Promise<Relay> {
  const sockets = new Set<Socket>();
  let down = false;
  const server: Server = createServer((client) => {
    if (down) {
      client.destroy();
      return;
    }
    const upstream = new Socket();
    upstream.connect(targetPort, '127.0.0.1');
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {});
    }
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    cut() {
      down = true;
      for (const socket of sockets) socket.destroy();
    },
    restore() {
      down = false;
    },
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
