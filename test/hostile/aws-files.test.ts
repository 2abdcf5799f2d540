/**
 * Hostile corpus, AWS side: files the user named or that ssm-proxy reads for them — CA bundle,
 * ~/.aws/config, the SSO token cache, the log file — that are devices, directories, binary,
 * truncated, of the wrong types or full. Each is one line naming the file and what is wrong
 * with it, with its exit code; nothing is read without bound and nothing is written.
 */
import assert from 'node:assert/strict';
import { randomFillSync } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { EXIT_CODES } from '../../src/errors.js';
import { assertOneLine, httpServer, KEYS, runCli, sandbox, ssoConfig, TARGET, tokenJson } from './aws-harness.js';


describe('hostile files on the AWS side', () => {
  let oidc: Awaited<ReturnType<typeof httpServer>>;
  before(async () => {
    // Login must never reach it in these cases (the device flow would start).
    oidc = await httpServer((_req, _body, res) => {
      res.writeHead(500);
      res.end();
    });
  });
  after(() => oidc.close());

  for (const [what, path, words] of [
    ['/dev/zero', '/dev/zero', /is larger than 16 MiB, too large for this kind of file/],
    ['a directory', '/tmp', /is a directory, not a file/],
    ['a missing file', '/nonexistent/ca.pem', /does not exist/],
  ] as const) {
    it(`--ca-bundle ${what}: exit 3 at once, naming the file`, async () => {
      const box = sandbox();
      const outcome = await runCli(['connect', TARGET, '--region', 'us-east-1', '--ca-bundle', path], box.env(KEYS), 20_000);
      assertOneLine(outcome, EXIT_CODES.config, new RegExp(`^ssm-proxy: the CA bundle ${path} \\(from --ca-bundle\\) `));
      assert.match(outcome.stderr, words);
      assert.ok(outcome.ms < 10_000, `took ${outcome.ms} ms`);
    });
  }

  it('AWS_CA_BUNDLE=/dev/zero too (and the same bound for doctor)', async () => {
    const box = sandbox();
    assertOneLine(await runCli(['connect', TARGET, '--region', 'us-east-1'], box.env({ ...KEYS, AWS_CA_BUNDLE: '/dev/zero' })), EXIT_CODES.config, /the CA bundle \/dev\/zero \(from AWS_CA_BUNDLE\) is larger than/);
    const doctor = await runCli(['doctor', '--region', 'us-east-1', '--ca-bundle', '/dev/zero'], box.env(KEYS));
    assert.equal(doctor.code, EXIT_CODES.config);
    assert.match(doctor.stdout.toString(), /✘ proxy and CA bundle: the CA bundle \/dev\/zero \(from --ca-bundle\) is larger than 16 MiB/);
  });

  it('~/.aws/config a directory: says the file cannot be read, not "profile not defined"', async () => {
    const box = sandbox();
    mkdirSync(join(box.home, '.aws', 'config'), { recursive: true });
    const outcome = await runCli(['connect', TARGET, '--profile', 'x'], box.env(KEYS));
    assertOneLine(outcome, EXIT_CODES.config, new RegExp(`^ssm-proxy: the AWS config file ${join(box.home, '.aws', 'config')} is a directory, not a file; fix or remove it`));
    assertOneLine(await runCli(['login', '--profile', 'x'], box.env()), EXIT_CODES.config, /the AWS config file .* is a directory/);
  });

  it('~/.aws/config of binary garbage: cannot be parsed, for connect, login and doctor', async () => {
    const box = sandbox();
    box.config(randomFillSync(Buffer.alloc(4096)));
    const before = box.snapshot();
    const words = /the AWS config file .*config cannot be parsed: it holds binary data, not INI text/;
    assertOneLine(await runCli(['connect', TARGET, '--profile', 'x'], box.env(KEYS)), EXIT_CODES.config, words);
    assertOneLine(await runCli(['login', '--profile', 'x'], box.env()), EXIT_CODES.config, words);
    const doctor = await runCli(['doctor', '--profile', 'x'], box.env());
    assert.equal(doctor.code, EXIT_CODES.config);
    assert.match(doctor.stdout.toString(), /✘ AWS profile: the AWS config file .* cannot be parsed/);
    assert.deepEqual(box.snapshot(), before);
  });

  it('AWS_CONFIG_FILE=/dev/zero fails at once instead of reading forever', async () => {
    const box = sandbox();
    const outcome = await runCli(['connect', TARGET, '--region', 'us-east-1'], box.env({ ...KEYS, AWS_CONFIG_FILE: '/dev/zero' }), 20_000);
    assertOneLine(outcome, EXIT_CODES.config, /^ssm-proxy: the AWS config file \/dev\/zero is larger than 4 MiB/);
  });

  it('a Latin-1 comment in ~/.aws/config is still text', async () => {
    const box = sandbox();
    box.config(Buffer.concat([Buffer.from('# R'), Buffer.from([0xe9]), Buffer.from('gion\n[profile dev]\nregion = eu-west-2\n')]));
    const outcome = await runCli(['connect', TARGET, '--profile', 'dev', '--endpoint-url', 'http://127.0.0.1:9', '--login', 'never'], box.env());
    // It gets as far as credentials: the profile has none.
    assertOneLine(outcome, EXIT_CODES.config, /no AWS credentials for profile 'dev'/);
  });

  const TOKEN_CASES: [string, (file: string) => void, RegExp][] = [
    ['truncated JSON', (file) => writeFileSync(file, tokenJson().slice(0, 40)), /is not valid JSON \(truncated or corrupt\)/],
    ['empty', (file) => writeFileSync(file, ''), /is empty/],
    ['wrong types', (file) => writeFileSync(file, JSON.stringify({ accessToken: 42, expiresAt: ['soon'] })), /has no accessToken or expiresAt string/],
    ['a refresh token that is a number', (file) => writeFileSync(file, tokenJson({ refreshToken: 7 })), /has a refreshToken that is not a string/],
    ['an expiry that is not a date', (file) => writeFileSync(file, tokenJson({ expiresAt: 'tomorrow' })), /has an expiresAt that is not a date/],
    ['a JSON array', (file) => writeFileSync(file, '[]'), /does not hold a JSON object/],
    ['a directory', (file) => mkdirSync(file), /is a directory, not a file/],
  ];
  for (const [what, plant, words] of TOKEN_CASES) {
    it(`a token cache file that is ${what}: names the file and the problem (exit 3)`, async () => {
      const box = sandbox();
      box.config(ssoConfig());
      box.token('corp', tokenJson());
      const file = box.tokenFile('corp');
      const { rmSync } = await import('node:fs');
      rmSync(file);
      plant(file);
      const before = box.snapshot();
      const outcome = await runCli(['connect', TARGET, '--profile', 'p', '--login', 'never'], box.env());
      const line = assertOneLine(outcome, EXIT_CODES.config, new RegExp(`^ssm-proxy: the AWS SSO sign-in for profile 'p' cannot be used: the token cache file ${file} `));
      assert.match(line, words);
      assert.match(line, /run 'ssm-proxy login --profile p'/);
      assert.deepEqual(box.snapshot(), before);
    });
  }

  it('login with the token cache path a directory fails before the device flow starts (exit 9)', async () => {
    const box = sandbox();
    box.config(ssoConfig());
    mkdirSync(box.tokenFile('corp'), { recursive: true });
    const before = box.snapshot();
    const outcome = await runCli(['login', '--profile', 'p'], box.env({ AWS_ENDPOINT_URL_SSO_OIDC: oidc.url }));
    assertOneLine(outcome, EXIT_CODES.io, new RegExp(`^ssm-proxy: the SSO token cache file ${box.tokenFile('corp')} is a directory, not a file; remove it and try again$`));
    assert.deepEqual(oidc.requests(), [], 'no device authorization was started');
    assert.deepEqual(box.snapshot(), before);
  });

  it('login with ~/.aws/sso a file fails before the device flow starts (exit 9)', async () => {
    const box = sandbox();
    box.config(ssoConfig());
    writeFileSync(join(box.home, '.aws', 'sso'), 'not a directory');
    const outcome = await runCli(['login', '--profile', 'p'], box.env({ AWS_ENDPOINT_URL_SSO_OIDC: oidc.url }));
    assertOneLine(outcome, EXIT_CODES.io, /^ssm-proxy: cannot use the SSO token cache file .*\.aws\/sso\/cache\/[0-9a-f]{40}\.json: a part of the path is not a directory; /);
    assert.deepEqual(oidc.requests(), []);
  });

  it('connect -v --log-file /dev/full: exit 9 with one line (the write fails, not the open)', async () => {
    const box = sandbox();
    const outcome = await runCli(['connect', TARGET, '--region', 'us-east-1', '-v', '--log-file', '/dev/full'], box.env(KEYS));
    assertOneLine(outcome, EXIT_CODES.io, /^ssm-proxy: cannot write the log file \/dev\/full: no space left on device; choose another --log-file$/);
  });

  it('connect --log-file in a missing directory: exit 9 naming it', async () => {
    const box = sandbox();
    const file = join(box.home, 'no', 'such', 'dir', 'log');
    const outcome = await runCli(['connect', TARGET, '--region', 'us-east-1', '--log-file', file], box.env(KEYS));
    assertOneLine(outcome, EXIT_CODES.io, new RegExp(`^ssm-proxy: cannot open the log file ${file}: its directory does not exist`));
  });

  it('shell and forward --log-file in a missing directory: the same one line, said once', async () => {
    const box = sandbox();
    const file = join(box.home, 'no', 'such', 'dir', 'log');
    for (const command of [['shell', TARGET], ['forward', TARGET, '5432', '--local-port', '0']]) {
      const outcome = await runCli([...command, '--region', 'us-east-1', '--log-file', file], box.env(KEYS));
      assertOneLine(outcome, EXIT_CODES.io, new RegExp(`^ssm-proxy: cannot open the log file ${file}: its directory does not exist; choose another --log-file$`));
    }
  });
});
