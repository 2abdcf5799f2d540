/**
 * Hostile corpus, AWS side: what a careless or hostile user types for connect, doctor and login —
 * numbers that are not decimal, regions and endpoint URLs that are not, an empty profile, a
 * target given twice, terminal escapes — each refused up front (before any file or network) with
 * one line that echoes what was typed, safely printed.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EXIT_CODES } from '../../src/errors.js';
import { assertOneLine, KEYS, refusedUpFront, runCli, sandbox, TARGET } from './aws-harness.js';


describe('hostile input to connect, doctor and login', () => {
  // Any request reaching its endpoint is a failure of "checked before any network call".
  const upFront = refusedUpFront();
  const connect = (args: string[], env: Record<string, string> = {}) =>
    runCli(['connect', ...args, '--region', 'us-east-1', '--endpoint-url', upFront.apiUrl], upFront.box.env({ ...KEYS, ...env }));

  for (const port of ['22abc', '', '0x16', '0b10110', '1e3', '0', '65536', '-1', ' 22', '2.2', '٢٢']) {
    it(`port '${port}' is refused as typed`, async () => {
      const outcome = await connect([TARGET, port]);
      assertOneLine(outcome, EXIT_CODES.usage, new RegExp(`^ssm-proxy: port '${port.replace(/[.]/g, '\\.')}' \\(the second argument or --port\\) is not a TCP port \\(1-65535\\)$`));
    });
  }

  it('--port with the same rules', async () => {
    assertOneLine(await connect([TARGET, '--port', '0x16']), EXIT_CODES.usage, /^ssm-proxy: port '0x16' \(the second argument or --port\) is not a TCP port/);
  });

  for (const [flag, value] of [
    ['--handshake-timeout', 'abc'], ['--handshake-timeout', '0x10'], ['--handshake-timeout', '1e3'], ['--handshake-timeout', ''], ['--handshake-timeout', '0'],
    ['--reconnect-timeout', '22abc'], ['--reconnect-timeout', '-5'], ['--connect-timeout', '0b11'], ['--connect-timeout', '1.5'], ['--connect-timeout', '9999'],
  ] as const) {
    it(`${flag} '${value}' is refused as typed`, async () => {
      const outcome = await connect([TARGET, `${flag}=${value}`]);
      assertOneLine(outcome, EXIT_CODES.usage, new RegExp(`^ssm-proxy: '${value}' \\(from ${flag}\\) is not a number of seconds; expected whole seconds from 1 to \\d+$`));
    });
  }

  it('--region ../../etc is a usage error, not an internal one', async () => {
    const outcome = await runCli(['connect', TARGET, '--region', '../../etc', '--endpoint-url', upFront.apiUrl], upFront.box.env(KEYS));
    assertOneLine(outcome, EXIT_CODES.usage, /^ssm-proxy: region '\.\.\/\.\.\/etc' \(from --region\) is not an AWS region name such as eu-west-2; pass --region$/);
  });

  it('AWS_REGION and a profile region are checked too (configuration, exit 3)', async () => {
    const env = runCli(['connect', TARGET, '--endpoint-url', upFront.apiUrl], upFront.box.env({ ...KEYS, AWS_REGION: 'eu-west-2; rm -rf' }));
    assertOneLine(await env, EXIT_CODES.config, /^ssm-proxy: region 'eu-west-2; rm -rf' \(from AWS_REGION\) is not an AWS region name/);
    const other = sandbox();
    other.config('[profile odd]\nregion = http://evil\n');
    const profile = await runCli(['connect', TARGET, '--profile', 'odd', '--endpoint-url', upFront.apiUrl], other.env(KEYS));
    assertOneLine(profile, EXIT_CODES.config, /^ssm-proxy: region 'http:\/\/evil' \(from the profile 'odd' in .*config\) is not an AWS region name/);
  });

  for (const [url, words] of [
    ['not a url', /is not a URL/],
    ['file:///etc/passwd', /is a file: URL; only http:\/\/ and https:\/\/ endpoints can be called/],
    ['ftp://example.com', /is a ftp: URL/],
    ['ssm.us-east-1.amazonaws.com', /is not a URL/],
  ] as const) {
    it(`--endpoint-url '${url}' is refused before any connection`, async () => {
      const outcome = await runCli(['connect', TARGET, '--region', 'us-east-1', '--endpoint-url', url], upFront.box.env(KEYS));
      assertOneLine(outcome, EXIT_CODES.usage, words);
      assert.match(outcome.stderr, new RegExp(`endpoint '${url.replace(/[.]/g, '\\.')}' \\(from --endpoint-url\\)`));
    });
  }

  it('AWS_ENDPOINT_URL_SSM=file:///etc/passwd is a configuration error naming the variable', async () => {
    const outcome = await runCli(['connect', TARGET, '--region', 'us-east-1'], upFront.box.env({ ...KEYS, AWS_ENDPOINT_URL_SSM: 'file:///etc/passwd' }));
    assertOneLine(outcome, EXIT_CODES.config, /^ssm-proxy: endpoint 'file:\/\/\/etc\/passwd' \(AWS_ENDPOINT_URL_SSM\) is a file: URL; .*set AWS_ENDPOINT_URL_SSM to an http:\/\/ or https:\/\/ URL, or unset it$/);
  });

  it("--profile '' is refused, not taken as the default profile", async () => {
    assertOneLine(await connect([TARGET, '--profile', '']), EXIT_CODES.usage, /^ssm-proxy: --profile is empty; name a profile/);
    assertOneLine(await runCli(['login', '--profile', ''], upFront.box.env()), EXIT_CODES.usage, /^ssm-proxy: --profile is empty/);
    assertOneLine(await runCli(['doctor', '--profile', ''], upFront.box.env()), EXIT_CODES.usage, /^ssm-proxy: --profile is empty/);
  });

  it('a positional target and a different --target conflict; the same one twice does not', async () => {
    const other = 'i-0fedcba9876543210';
    assertOneLine(await connect([TARGET, '--target', other]), EXIT_CODES.usage, new RegExp(`^ssm-proxy: the target is given twice, '${TARGET}' and --target '${other}'; give it once$`));
    assertOneLine(await connect(['--target', other, TARGET]), EXIT_CODES.usage, /the target is given twice/);
    assertOneLine(await connect(['--target', TARGET, '--target', other]), EXIT_CODES.usage, /^ssm-proxy: --target was given 2 times; give it once$/);
    assertOneLine(await connect([TARGET, '22', '--port', '2222']), EXIT_CODES.usage, /^ssm-proxy: the port is given twice, '22' and --port '2222'/);
  });

  it('terminal escapes in a target are shown escaped, never sent to the terminal', async () => {
    const outcome = await connect(['i-\x1b[31mred\x1b]0;pwned\x07']);
    const line = assertOneLine(outcome, EXIT_CODES.usage, /^ssm-proxy: target 'i-\\x1b\[31mred\\x1b\]0;pwned\\x07' \(the first argument or --target\) is not valid/);
    assert.ok(!/[\x00-\x08\x0b-\x1f\x7f]/.test(outcome.stderr), `no control character on stderr: ${JSON.stringify(line)}`);
  });

  it('terminal escapes from the AWS config file (a profile name) are escaped too', async () => {
    const outcome = await runCli(['connect', TARGET, '--profile', 'x\x1b[2J', '--region', 'us-east-1'], upFront.box.env(KEYS));
    assertOneLine(outcome, EXIT_CODES.config, /^ssm-proxy: the AWS profile 'x\\x1b\[2J' is not defined/);
    assert.ok(!outcome.stderr.includes('\x1b'));
  });

  it("doctor --target 'i-x;id' --probe sends no request at all", async () => {
    const outcome = await runCli(['doctor', '--target', 'i-x;id', '--probe', '--region', 'us-east-1', '--endpoint-url', upFront.apiUrl], upFront.box.env(KEYS));
    assertOneLine(outcome, EXIT_CODES.usage, /^ssm-proxy: target 'i-x;id' \(from --target\) is not valid: expected an EC2 instance id/);
  });

  it('doctor checks --port, --region, --endpoint-url and --connect-timeout as connect does', async () => {
    assertOneLine(await runCli(['doctor', '--port', '0x16'], upFront.box.env()), EXIT_CODES.usage, /^ssm-proxy: port '0x16' \(from --port\) is not a TCP port/);
    assertOneLine(await runCli(['doctor', '--region', 'x'], upFront.box.env()), EXIT_CODES.usage, /^ssm-proxy: region 'x' \(from --region\)/);
    assertOneLine(await runCli(['doctor', '--endpoint-url', 'file:///etc/passwd'], upFront.box.env()), EXIT_CODES.usage, /is a file: URL/);
    assertOneLine(await runCli(['doctor', '--connect-timeout', '1e3'], upFront.box.env()), EXIT_CODES.usage, /^ssm-proxy: '1e3' \(from --connect-timeout\)/);
  });
});
