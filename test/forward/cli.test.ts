/** `ssm-proxy forward` arguments and targets: usage errors, busy ports, ssh aliases. Run `npm run build` first. */
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { resolveTarget } from '../../src/cli/forward-main.js';
import { SsmProxyError } from '../../src/errors.js';
import { startFakeSsm, type FakeSsm } from '../fake-ssm/index.js';
import { TEST_CREDENTIALS } from '../fake-ssm/scripted-client.js';
import { REGION, REPO_ROOT } from '../e2e/harness.js';
import { killAll, run } from '../e2e/processes.js';
import { HttpFixture, KeepAliveClient } from './http-fixture.js';
import { environment, openTunnel, TARGET_ID } from './tunnel.js';

const SSH_CONFIG = `
Host jumphost-ssm
  HostName ${TARGET_ID}
  User ec2-user
  ProxyCommand /usr/local/bin/ssm-proxy connect %h %p --region ${REGION}

Host legacy
  HostName legacy.example
  ProxyCommand sh -c "aws ssm start-session --target i-0fedcba9876543210 --document-name AWS-StartSSHSession --parameters 'portNumber=%p' --profile old-profile --region eu-west-2"

Host plain
  HostName plain.example.com
`;

describe('ssm-proxy forward: targets and arguments', () => {
  let dir: string;
  let sshWrapper: string;
  let fake: FakeSsm;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ssm-proxy-forward-cli-'));
    await writeFile(join(dir, 'ssh_config'), SSH_CONFIG);
    await mkdir(join(dir, 'bin'));
    // ssh reads the passwd home's config, not $HOME's: a wrapper points it at the test's file.
    sshWrapper = join(dir, 'bin', 'ssh');
    await writeFile(sshWrapper, `#!/bin/sh\nexec /usr/bin/ssh -F ${join(dir, 'ssh_config')} "$@"\n`);
    await chmod(sshWrapper, 0o755);
    await writeFile(join(dir, 'aws-config'), '');
    await writeFile(join(dir, 'aws-credentials'), '');
    fake = await startFakeSsm({ verifySignature: TEST_CREDENTIALS });
  });
  after(async () => {
    await killAll();
    await fake.close();
    await rm(dir, { recursive: true, force: true });
  });

  const forward = (args: string[]) =>
    run(process.execPath, [join(REPO_ROOT, 'lib', 'cli', 'main.js'), 'forward', ...args, '--endpoint-url', fake.endpointUrl], {
      env: { ...environment(dir), PATH: `${join(dir, 'bin')}:${process.env.PATH}` },
      timeoutMs: 30_000,
    });

  it('an instance id is taken as it is; an ssh alias gives its ProxyCommand target, profile and region', async () => {
    assert.deepEqual(await resolveTarget(TARGET_ID), { target: TARGET_ID });
    assert.deepEqual(await resolveTarget('jumphost-ssm', { ssh: sshWrapper }), { target: TARGET_ID, region: REGION });
    assert.deepEqual(await resolveTarget('legacy', { ssh: sshWrapper }), { target: 'i-0fedcba9876543210', profile: 'old-profile', region: 'eu-west-2' });
    await assert.rejects(resolveTarget('plain', { ssh: sshWrapper }), (error: unknown) => {
      assert.ok(error instanceof SsmProxyError && error.kind === 'usage');
      assert.match(error.message, /^invalid target 'plain': not an instance id, and ~\/\.ssh\/config has no Host plain whose HostName or ProxyCommand names one/);
      return true;
    });
    await assert.rejects(resolveTarget('-oProxyCommand=x', { ssh: sshWrapper }), /invalid target/);
    await assert.rejects(resolveTarget('x', { ssh: join(dir, 'no-such-ssh') }), /ssh is not installed/);
  });

  it('bad ports and hosts are usage errors (exit 2), one line, before any AWS call', async () => {
    const cases: [string[], RegExp][] = [
      [[TARGET_ID, '0'], /^ssm-proxy: invalid remote port '0': expected a whole number from 1 to 65535\n$/],
      [[TARGET_ID, '5432', '--local-port', '70000'], /^ssm-proxy: invalid --local-port '70000': expected a whole number from 0 to 65535\n$/],
      [[TARGET_ID, '5432', '--host', 'db internal'], /^ssm-proxy: invalid --host 'db internal': expected a host name or IP address\n$/],
      [['plain', '5432'], /^ssm-proxy: invalid target 'plain': not an instance id/],
    ];
    for (const [args, expected] of cases) {
      const result = await forward(args);
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, expected);
      assert.equal(result.stdout.length, 0);
    }
    assert.deepEqual(fake.records.apiCalls, []);
  });

  it('a busy local port fails at once with exit 9, before StartSession', async () => {
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const { port } = busy.address() as AddressInfo;
    try {
      const result = await forward([TARGET_ID, '5432', '--local-port', String(port)]);
      assert.equal(result.code, 9);
      assert.equal(result.stderr, `ssm-proxy: cannot listen on 127.0.0.1:${port}: the port is in use; pick another --local-port, or 0 for a free one\n`);
      assert.deepEqual(fake.records.apiCalls, []);
    } finally {
      await new Promise<void>((resolve) => busy.close(() => resolve()));
    }
  });

  it('forward <alias> <port> reaches the instance the alias names, on the --local-port asked for', async () => {
    const http = await HttpFixture.start([5000]);
    const free = createServer();
    await new Promise<void>((resolve) => free.listen(0, '127.0.0.1', resolve));
    const localPort = (free.address() as AddressInfo).port;
    await new Promise<void>((resolve) => free.close(() => resolve()));
    const tunnel = await openTunnel({
      sharedFake: fake,
      args: ['jumphost-ssm', '8080', '--local-port', String(localPort)],
      env: { PATH: `${join(dir, 'bin')}:${process.env.PATH}` },
    });
    try {
      fake.options.portForward = { destinations: { 'localhost:8080': `127.0.0.1:${http.port}` } };
      assert.equal(tunnel.port, localPort);
      assert.equal(tunnel.readyLine, `forwarding 127.0.0.1:${localPort} → ${TARGET_ID} → ${TARGET_ID}:8080`);
      const client = await KeepAliveClient.open(localPort);
      assert.ok((await client.get('/f/0')).equals(http.files.get('/f/0')!.body));
      client.close();
      const start = fake.records.apiCalls.find((call) => call.operation === 'StartSession')!;
      assert.equal(start.target, TARGET_ID);
      assert.equal(start.documentName, 'AWS-StartPortForwardingSession');
      assert.deepEqual(start.parameters, { portNumber: ['8080'], localPortNumber: [String(localPort)] });
      assert.equal((await tunnel.stop('SIGTERM')).code, 143);
    } finally {
      await tunnel.close();
      await http.close();
      fake.options.portForward = undefined;
    }
  });
});
