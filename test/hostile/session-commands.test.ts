/**
 * Hostile corpus, the session commands beside connect — shell, start-session and forward: the
 * same careless or hostile input connect refuses (numbers that are not decimal, an empty profile,
 * a region or endpoint that is not one, a value given twice or both as positional and flag) is
 * refused here too, up front, with one line echoing what was typed. Every AWS call would go to an
 * endpoint that must see no request; a control case per command proves it would have seen one.
 * Run `npm run build` first.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EXIT_CODES } from '../../src/errors.js';
import { assertOneLine, httpServer, KEYS, refusedUpFront, runCli, sandbox, TARGET } from './aws-harness.js';

const OTHER_TARGET = 'i-0fedcba9876543210';
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Each command's way of naming the target, plus what it needs besides. */
const COMMANDS: Record<string, string[]> = {
  shell: ['shell', TARGET],
  'start-session': ['start-session', '--target', TARGET],
  forward: ['forward', TARGET, '5432'],
};

const NOT_DECIMAL = ['0x16', '0b10110', '1e3', '', '22abc', '0', '-5', '1.5', ' 30', '٣٠'];

describe('hostile input to shell, start-session and forward', () => {
  // Every AWS call of these runs would land on its endpoint (AWS_ENDPOINT_URL): any request is a failure.
  const upFront = refusedUpFront();
  const run = (args: string[]) => runCli(args, upFront.box.env({ ...KEYS, AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL: upFront.apiUrl }));

  for (const [name, base] of Object.entries(COMMANDS)) {
    describe(name, () => {
      for (const flag of ['--handshake-timeout', '--reconnect-timeout', '--connect-timeout']) {
        it(`${flag} refuses numbers that are not decimal whole seconds, echoing what was typed`, async () => {
          for (const value of NOT_DECIMAL) {
            const outcome = await run([...base, `${flag}=${value}`]);
            assertOneLine(outcome, EXIT_CODES.usage, new RegExp(`^ssm-proxy: '${escape(value)}' \\(from ${flag}\\) is not a number of seconds; expected whole seconds from 1 to \\d+$`));
          }
        });
      }

      it('a timeout beyond its bound, or given twice, is refused', async () => {
        assertOneLine(await run([...base, '--handshake-timeout', '3601']), EXIT_CODES.usage, /^ssm-proxy: '3601' \(from --handshake-timeout\) is not a number of seconds; expected whole seconds from 1 to 3600$/);
        assertOneLine(await run([...base, '--reconnect-timeout', '86401']), EXIT_CODES.usage, /expected whole seconds from 1 to 86400$/);
        assertOneLine(await run([...base, '--handshake-timeout', '30', '--handshake-timeout', '40']), EXIT_CODES.usage, /^ssm-proxy: --handshake-timeout was given 2 times; give it once$/);
      });

      it("--profile '' is refused, not taken as the default profile", async () => {
        assertOneLine(await run([...base, '--profile', '']), EXIT_CODES.usage, /^ssm-proxy: --profile is empty; name a profile/);
      });

      it("--log-file '' is refused, not taken as stderr", async () => {
        assertOneLine(await run([...base, '--log-file', '']), EXIT_CODES.usage, /^ssm-proxy: --log-file is empty; name a file/);
      });

      it('--region and --endpoint-url are checked up front', async () => {
        assertOneLine(await run([...base, '--region', '../../etc']), EXIT_CODES.usage, /^ssm-proxy: region '\.\.\/\.\.\/etc' \(from --region\) is not an AWS region name such as eu-west-2; pass --region$/);
        assertOneLine(await run([...base, '--endpoint-url', 'file:///etc/passwd']), EXIT_CODES.usage, /^ssm-proxy: endpoint 'file:\/\/\/etc\/passwd' \(from --endpoint-url\) is a file: URL/);
        assertOneLine(await run([...base, '--endpoint-url', 'not a url']), EXIT_CODES.usage, /^ssm-proxy: endpoint 'not a url' \(from --endpoint-url\) is not a URL/);
        assertOneLine(await run([...base, '--ssmmessages-endpoint', 'ftp://x']), EXIT_CODES.usage, /^ssm-proxy: invalid --ssmmessages-endpoint 'ftp:\/\/x': the scheme must be/);
      });

      it('AWS_ENDPOINT_URL_SSMMESSAGES that is not a URL is a configuration error naming the variable, before any call', async () => {
        const outcome = await runCli(base, upFront.box.env({ ...KEYS, AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL: upFront.apiUrl, AWS_ENDPOINT_URL_SSMMESSAGES: 'ftp://x' }));
        assertOneLine(outcome, EXIT_CODES.config, /^ssm-proxy: invalid AWS_ENDPOINT_URL_SSMMESSAGES 'ftp:\/\/x': the scheme must be/);
      });

      it('a flag given twice is refused rather than one picked silently', async () => {
        assertOneLine(await run([...base, '--profile', 'dev', '--profile', 'other']), EXIT_CODES.usage, /^ssm-proxy: --profile was given 2 times; give it once$/);
        assertOneLine(await run([...base, '--log-file', '/tmp/a', '--log-file', '/tmp/b']), EXIT_CODES.usage, /^ssm-proxy: --log-file was given 2 times/);
      });
    });
  }

  it('shell: a positional target and a different --target conflict; a bad target is named as typed', async () => {
    assertOneLine(await run(['shell', TARGET, '--target', OTHER_TARGET]), EXIT_CODES.usage, new RegExp(`^ssm-proxy: the target is given twice, '${TARGET}' and --target '${OTHER_TARGET}'; give it once$`));
    assertOneLine(await run(['shell', 'i-x;id']), EXIT_CODES.usage, /^ssm-proxy: target 'i-x;id' \(the first argument or --target\) is not valid: expected an EC2 instance id/);
    assertOneLine(await run(['shell']), EXIT_CODES.usage, /^ssm-proxy: no target \(the first argument or --target\)/);
    const escaped = await run(['shell', 'i-\x1b[31mred']);
    assertOneLine(escaped, EXIT_CODES.usage, /^ssm-proxy: target 'i-\\x1b\[31mred'/);
    assert.ok(!escaped.stderr.includes('\x1b'));
  });

  it('start-session: a bad or repeated --target is refused', async () => {
    assertOneLine(await run(['start-session', '--target', 'i-x;id']), EXIT_CODES.usage, /^ssm-proxy: target 'i-x;id' \(from --target\) is not valid/);
    assertOneLine(await run(['start-session', '--target', TARGET, '--target', OTHER_TARGET]), EXIT_CODES.usage, /^ssm-proxy: --target was given 2 times; give it once$/);
  });

  it('forward: the remote port is parsed as typed (1-65535)', async () => {
    for (const port of ['0x16', '0b10110', '1e3', '', '22abc', '0', '65536', ' 22', '2.2', '٢٢']) {
      const outcome = await run(['forward', TARGET, port]);
      assertOneLine(outcome, EXIT_CODES.usage, new RegExp(`^ssm-proxy: invalid remote port '${escape(port)}': expected a whole number from 1 to 65535$`));
    }
  });

  it('forward: --local-port is parsed as typed (0-65535)', async () => {
    for (const port of ['0x16', '0b10110', '1e3', '', '22abc', '65536', '1.5']) {
      const outcome = await run(['forward', TARGET, '5432', '--local-port', port]);
      assertOneLine(outcome, EXIT_CODES.usage, new RegExp(`^ssm-proxy: invalid --local-port '${escape(port)}': expected a whole number from 0 to 65535$`));
    }
  });

  it('forward: a positional and a different flag for the target or remote port conflict', async () => {
    assertOneLine(await run(['forward', TARGET, '5432', '--target', OTHER_TARGET]), EXIT_CODES.usage, /^ssm-proxy: the target is given twice/);
    assertOneLine(await run(['forward', TARGET, '5432', '--remote-port', '0x1538']), EXIT_CODES.usage, /^ssm-proxy: the remote port is given twice, '5432' and --remote-port '0x1538'; give it once$/);
    assertOneLine(await run(['forward', TARGET, '5432', '--local-port', '0', '--local-port', '1']), EXIT_CODES.usage, /^ssm-proxy: --local-port was given 2 times/);
    assertOneLine(await run(['forward', TARGET, '5432', '--bind', '']), EXIT_CODES.usage, /^ssm-proxy: --bind is empty/);
    assertOneLine(await run(['forward', TARGET, '5432', '--host', '']), EXIT_CODES.usage, /^ssm-proxy: invalid --host '': expected a host name or IP address$/);
  });

  it('start-session with a port forwarding document: portNumber parsed as typed', async () => {
    const outcome = await run(['start-session', '--target', TARGET, '--document-name', 'AWS-StartPortForwardingSession', '--parameters', 'portNumber=0x16']);
    assertOneLine(outcome, EXIT_CODES.usage, /^ssm-proxy: invalid portNumber '0x16': expected a whole number from 1 to 65535$/);
  });
});

describe('control: the same set-up with good input does reach the endpoint', () => {
  for (const [name, base] of Object.entries(COMMANDS)) {
    it(`${name} with valid options sends StartSession to the endpoint`, async () => {
      const box = sandbox();
      const api = await httpServer((_req, _body, res) => {
        res.writeHead(400, { 'Content-Type': 'application/x-amz-json-1.1', 'x-amzn-ErrorType': 'AccessDeniedException' });
        res.end(JSON.stringify({ __type: 'AccessDeniedException', message: 'not allowed' }));
      });
      try {
        const outcome = await runCli([...base, '--handshake-timeout', '30', '--reconnect-timeout', '300', '--connect-timeout', '5'], box.env({ ...KEYS, AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL: api.url }));
        assert.equal(outcome.code, EXIT_CODES['access-denied'], outcome.stderr);
        assert.deepEqual(api.requests().map((request) => request.target), ['AmazonSSM.StartSession']);
      } finally {
        await api.close();
      }
    });
  }
});
