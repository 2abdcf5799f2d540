/**
 * Hostile and careless input against configure-profile (~/.aws/config), each case in its own
 * throwaway HOME through the built CLI: refusals with exit code, one stderr line, no stack trace
 * and nothing changed on disk; and the bytes of every line it does not own kept as they were.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { seededBytes } from '../helpers/prng.js';
import { AWS_SEED, CLI, assertRefused, assertUntouched, homeWithAwsConfig, profileArgs, run, snapshot, throwawayHome } from './files-harness.js';

const homes: string[] = [];
before(async () => {
  await fs.access(CLI).catch(() => {
    throw new Error(`${CLI} is missing: run npm run build (npm test does it in pretest)`);
  });
});
after(async () => {
  for (const home of homes) await fs.rm(home, { recursive: true, force: true }).catch(() => undefined);
});

async function refused(overrides: Record<string, string>, pattern: RegExp): Promise<void> {
  const { home } = await homeWithAwsConfig(AWS_SEED);
  homes.push(home);
  const before = await snapshot(home);
  assertRefused(await run(profileArgs(overrides), home), 2, pattern);
  await assertUntouched(home, before);
}

describe('configure-profile: every value is checked as the exact string written (exit 2)', () => {
  const cases: Array<[string, Record<string, string>, RegExp]> = [
    [
      'a start URL that plants a [profile evil] with a credential_process',
      { 'start-url': 'https://corp.awsapps.com/start\n[profile evil]\ncredential_process = sh -c id' },
      /invalid start URL 'https:\/\/corp\.awsapps\.com\/start\\x0a\[profile evil\]\\x0acredential_process = sh -c id'/,
    ],
    ['a start URL with a carriage return', { 'start-url': 'https://corp.awsapps.com/start\r' }, /invalid start URL '.*\\x0d'/],
    ['a start URL with a tab (the URL parser drops it)', { 'start-url': 'https://corp.aws\tapps.com/start' }, /invalid start URL '.*\\x09/],
    ['a start URL with a space and a comment', { 'start-url': 'https://corp.awsapps.com/start ;x' }, /invalid start URL/],
    ['a start URL with an escape sequence', { 'start-url': 'https://corp.awsapps.com/\x1b]0;x\x07' }, /invalid start URL '.*\\x1b\]0;x\\x07'/],
    ['a start URL with a fragment', { 'start-url': 'https://corp.awsapps.com/start#x' }, /invalid start URL/],
    ['a start URL that is not http(s)', { 'start-url': 'file:///etc/passwd' }, /invalid start URL/],
    ['output with a newline', { output: 'json\n[profile evil]' }, /invalid output 'json\\x0a\[profile evil\]'/],
    ['output with a comment', { output: 'json #x' }, /invalid output 'json #x'/],
    ['a profile name with a newline', { profile: 'dev\n[x]' }, /invalid profile name 'dev\\x0a\[x\]'/],
    ['a profile name the SDK refuses', { profile: '__proto__' }, /invalid profile name '__proto__'/],
    ['an sso-session name with a bracket', { 'sso-session': 'corp]' }, /invalid sso-session name 'corp\]'/],
    ['an empty profile name', { profile: '' }, /invalid profile name ''/],
    ['a region with a newline', { 'sso-region': 'eu-west-2\n' }, /invalid --sso-region 'eu-west-2\\x0a'/],
    ['an account id with a newline', { 'account-id': '123456789012\n' }, /invalid account id '123456789012\\x0a'/],
    ['a role name with a newline', { 'role-name': 'Dev\nx = y' }, /invalid role name 'Dev\\x0ax = y'/],
    ['scopes with a newline', { scopes: 'sso:account:access\n[x]' }, /invalid scopes/],
  ];
  for (const [name, overrides, pattern] of cases) test(name, () => refused(overrides, pattern));
});

describe('configure-profile never creates directories outside ~/.aws', () => {
  test('a dangling ~/.aws/config symlink into a missing directory: exit 9, nothing created', async () => {
    const home = await throwawayHome();
    homes.push(home);
    await fs.mkdir(path.join(home, '.aws'));
    await fs.symlink(path.join(home, 'nonexistent', 'dir', 'config'), path.join(home, '.aws', 'config'));
    const before = await snapshot(home);
    assertRefused(await run(profileArgs(), home), 9, /is a symbolic link to .*nonexistent\/dir\/config, but the directory .*nonexistent\/dir does not exist; .*nothing was created/);
    await assertUntouched(home, before);
  });

  test('AWS_CONFIG_FILE in a missing directory: exit 9, not created', async () => {
    const home = await throwawayHome();
    homes.push(home);
    const before = await snapshot(home);
    const r = await run(profileArgs(), home, { AWS_CONFIG_FILE: path.join(home, 'x', 'y', 'config') });
    assertRefused(r, 9, /the directory .*\/x\/y does not exist/);
    await assertUntouched(home, before);
  });

  test('a directory at ~/.aws/config: exit 9', async () => {
    const home = await throwawayHome();
    homes.push(home);
    await fs.mkdir(path.join(home, '.aws', 'config'), { recursive: true });
    const before = await snapshot(home);
    assertRefused(await run(profileArgs(), home), 9, /not a regular file/);
    await assertUntouched(home, before);
  });

  test('a FIFO at ~/.aws/config: exit 9 at once, no hang', async () => {
    const home = await throwawayHome();
    homes.push(home);
    await fs.mkdir(path.join(home, '.aws'));
    execFileSync('mkfifo', [path.join(home, '.aws', 'config')]);
    const before = await snapshot(home);
    assertRefused(await run(profileArgs(), home, {}, 20_000), 9, /not a regular file/);
    await assertUntouched(home, before);
  });

  test('no ~/.aws at all: ~/.aws is created 0700, the file 0600', async () => {
    const home = await throwawayHome();
    homes.push(home);
    const r = await run(profileArgs(), home);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await fs.stat(path.join(home, '.aws'))).mode & 0o777, 0o700);
    assert.equal((await fs.stat(path.join(home, '.aws', 'config'))).mode & 0o777, 0o600);
  });
});

describe('configure-profile keeps every line it does not own, byte for byte', () => {
  test('a Latin-1 comment, mixed line ends and a last line without a newline', async () => {
    const original = Buffer.concat([
      Buffer.from('# R', 'latin1'),
      Buffer.from([0xe9]),
      Buffer.from('gion: caf', 'latin1'),
      Buffer.from([0xe9, 0x0d, 0x0a]),
      Buffer.from('[profile other]\nregion = us-east-1\r\n# no newline at the end \xff', 'latin1'),
    ]);
    const { home, config } = await homeWithAwsConfig(original);
    homes.push(home);
    const r = await run(profileArgs(), home);
    assert.equal(r.code, 0, r.stderr);
    const after = await fs.readFile(config);
    assert.deepEqual(after.subarray(0, original.length), original, 'the old bytes are a prefix, unchanged');
    assert.match(after.subarray(original.length).toString('latin1'), /^\r\n\r\n\[sso-session corp\]\r\n/);
  });

  test('4096 bytes of binary garbage: every byte kept, only our sections appended', async () => {
    const garbage = seededBytes(4096, 12);
    const { home, config } = await homeWithAwsConfig(garbage);
    homes.push(home);
    const r = await run(profileArgs(), home);
    assert.equal(r.code, 0, r.stderr);
    const after = await fs.readFile(config);
    // The file is the garbage, a line end, an empty line and our two sections.
    assert.deepEqual(after.subarray(0, garbage.length), garbage);
    assert.ok(after.length - garbage.length < 400, `grew by ${after.length - garbage.length} bytes`);
    const again = await run(profileArgs(), home);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /already up to date/);
    assert.deepEqual(await fs.readFile(config), after);
  });
});
