/**
 * `npm run demo`: a real ssh (and scp) session through ssm-proxy, end to end on this machine.
 * Starts a throwaway sshd and the fake SSM service, runs ssh with ssm-proxy as ProxyCommand,
 * prints what the remote side printed and a transfer summary, tears everything down.
 * Exit status 0 on success, 1 on any failure.
 */
import { join } from 'node:path';
import { describeRun, makeRandomFile, sha256File, startHarness, type Harness } from '../test/e2e/harness.js';

const REMOTE_COMMAND = 'echo "hello from $(hostname) via ssm-proxy"; uname -a';
const SCP_BYTES = 8 << 20;

async function demo(harness: Harness): Promise<void> {
  const { fake, sshd } = harness;
  say(`sshd (OpenSSH) on 127.0.0.1:${sshd.port}, fake SSM service at ${fake.endpointUrl}`);
  say(`ssh ${harness.alias} '${REMOTE_COMMAND}'`);
  const ssh = await harness.runSsh(harness.alias, REMOTE_COMMAND, { timeoutMs: 60_000 });
  if (ssh.code !== 0) throw new Error(`ssh failed: ${describeRun(ssh)}`);
  say('remote side printed:');
  for (const line of ssh.stdout.toString('utf8').trimEnd().split('\n')) say(`  | ${line}`);
  say(`ssh finished in ${ms(ssh.durationMs)} (StartSession, websocket, handshake, SSH key exchange, command)`);

  const local = join(harness.dir, 'demo.bin');
  const remote = join(harness.dir, 'demo-copy.bin');
  await makeRandomFile(local, SCP_BYTES);
  say(`scp of ${SCP_BYTES >> 20} MiB of random bytes up through the same path …`);
  const scp = await harness.runScp([local, `${harness.alias}:${remote}`], { timeoutMs: 120_000 });
  if (scp.code !== 0) throw new Error(`scp failed: ${describeRun(scp)}`);
  const same = (await sha256File(local)) === (await sha256File(remote));
  if (!same) throw new Error('scp copy differs from the original (sha256 mismatch)');
  say(`scp finished in ${ms(scp.durationMs)}: ${(SCP_BYTES / 1e6 / (scp.durationMs / 1000)).toFixed(1)} MB/s, sha256 identical`);

  const { records } = fake;
  const calls = records.apiCalls.reduce<Record<string, number>>((count, call) => {
    count[call.operation] = (count[call.operation] ?? 0) + 1;
    return count;
  }, {});
  say('transfer summary (as seen by the fake service):');
  say(`  SSM API calls:         ${Object.entries(calls).map(([op, n]) => `${op} ×${n}`).join(', ')}`);
  say(`  websocket connections: ${records.connections.length} (SigV4 verified: ${records.connections.every((c) => c.signatureOk) ? 'yes' : 'NO'})`);
  say(`  client → agent:        ${records.clientToServer.streamBytes} stream bytes in ${records.clientToServer.frames} frames`);
  say(`  agent → client:        ${records.serverToClient.streamBytes} stream bytes in ${records.serverToClient.frames} frames (${records.serverToClient.retransmitted} resent)`);
  say(`  sessions ended:        ${records.sessionEnds.map((end) => end.reason).join(', ')}`);
}

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

function ms(value: number): string {
  return `${Math.round(value)} ms`;
}

let harness: Harness | undefined;
let code = 0;
try {
  harness = await startHarness();
  await demo(harness);
  say('demo OK');
} catch (error) {
  process.stderr.write(`demo FAILED: ${(error as Error).message}\n`);
  if (harness) process.stderr.write(`sshd log:\n${harness.sshd.log() || '(empty)'}\n`);
  code = 1;
} finally {
  await harness?.stop();
}
process.exit(code);
