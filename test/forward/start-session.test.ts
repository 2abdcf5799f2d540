/**
 * The AWS CLI spelling of a tunnel: `ssm-proxy start-session --document-name
 * AWS-StartPortForwardingSession[ToRemoteHost] --parameters …`, speaking the plugin's stdout lines
 * that wrappers wait for. Run `npm run build` first.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { killAll } from '../e2e/processes.js';
import { HttpFixture, KeepAliveClient } from './http-fixture.js';
import { openTunnel, TARGET_ID } from './tunnel.js';

describe('start-session with the port forwarding documents', () => {
  let http: HttpFixture;
  before(async () => {
    http = await HttpFixture.start([70_000]);
  });
  after(async () => {
    await killAll();
    await http.close();
  });

  it("AWS-StartPortForwardingSessionToRemoteHost prints the plugin's lines on stdout and forwards", async () => {
    const tunnel = await openTunnel({
      command: 'start-session',
      fake: { portForward: { destinations: { 'web.internal:80': `127.0.0.1:${http.port}` } } },
      args: ['--target', TARGET_ID, '--document-name', 'AWS-StartPortForwardingSessionToRemoteHost', '--parameters', 'host=web.internal,portNumber=80,localPortNumber=0'],
      readyOnStdout: /^Port (\d+) opened for sessionId (?:\S+)\.\nWaiting for connections\.\.\.\n/m,
    });
    try {
      const sessionId = tunnel.fake.sessions()[0]!.sessionId;
      assert.equal(tunnel.stdout(), `\nStarting session with SessionId: ${sessionId}\nPort ${tunnel.port} opened for sessionId ${sessionId}.\nWaiting for connections...\n`);
      assert.equal(tunnel.stderr(), '');
      const client = await KeepAliveClient.open(tunnel.port);
      assert.ok((await client.get('/f/0')).equals(http.files.get('/f/0')!.body));
      assert.match(tunnel.stdout(), new RegExp(`Waiting for connections\\.\\.\\.\\n\\nConnection accepted for session \\[${sessionId}\\]\\n$`));
      client.close();
      const start = tunnel.fake.records.apiCalls.find((call) => call.operation === 'StartSession')!;
      assert.deepEqual(start.parameters, { host: ['web.internal'], portNumber: ['80'], localPortNumber: [String(tunnel.port)] });
      assert.equal((await tunnel.stop('SIGINT')).code, 130);
      assert.match(tunnel.stdout(), new RegExp(`\\n\\nExiting session with sessionId: ${sessionId}\\.\\n\\n$`));
    } finally {
      await tunnel.close();
    }
  });

  it('AWS-StartPortForwardingSession with JSON parameters and a missing portNumber is a usage error', async () => {
    const failing = openTunnel({
      command: 'start-session',
      args: ['--target', TARGET_ID, '--document-name', 'AWS-StartPortForwardingSession', '--parameters', '{"localPortNumber":["0"]}'],
      readyOnStdout: /never/,
    });
    await assert.rejects(failing, /ssm-proxy: document AWS-StartPortForwardingSession needs the parameter portNumber/);
  });
});
