import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync, chmodSync, lstatSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { applyConfigEdits, configureSsoProfile, editsFor, type SsoProfileSpec } from '../../src/aws/sso/config-writer.js';
import { ssoSettingsFrom } from '../../src/aws/sso/sso-settings.js';
import { makeHome } from './helpers.js';

const spec: SsoProfileSpec = {
  profile: 'discovery-access',
  ssoSession: 'corp',
  startUrl: 'https://corp.awsapps.com/start',
  ssoRegion: 'eu-west-2',
  scopes: ['sso:account:access'],
  region: 'eu-west-2',
  output: 'json',
  accountId: '123456789012',
  roleName: 'DiscoveryAccess',
};

const SEED =
  '[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = eu-west-2\nsso_registration_scopes = sso:account:access\n\n' +
  '[profile discovery-access]\nregion = eu-west-2\noutput = json\nsso_session = corp\nsso_account_id = 123456789012\nsso_role_name = DiscoveryAccess\n';

describe('configure-profile: the seed\'s [sso-session] + [profile] in ~/.aws/config', () => {
  it('writes the seed layout into an empty file', () => {
    assert.equal(applyConfigEdits('', editsFor(spec)), SEED);
  });

  it('is idempotent: a second run changes no byte', () => {
    const once = applyConfigEdits('', editsFor(spec));
    assert.equal(applyConfigEdits(once, editsFor(spec)), once);
  });

  it('keeps every other line, comment and section as it was and appends after them', () => {
    const before = '# my config\n[default]\nregion = us-east-1 ; comment\ns3 =\n  max_concurrent_requests = 4\n\n[profile other]\nregion = ap-south-1\n';
    const after = applyConfigEdits(before, editsFor(spec));
    assert.ok(after.startsWith(before), 'the old text is a prefix, byte for byte');
    assert.equal(after, `${before}\n${SEED}`);
  });

  it('updates keys in place and adds missing ones at the end of the section, touching nothing else', () => {
    const before =
      '[profile discovery-access]\nregion = us-east-1\n# keep me\ncli_pager =\nsso_session = corp\n\n' +
      '[sso-session corp]\nsso_start_url = https://old.awsapps.com/start\nsso_region = eu-west-2\n\n[profile z]\nregion = x-1\n';
    const after = applyConfigEdits(before, editsFor(spec));
    assert.equal(
      after,
      '[profile discovery-access]\nregion = eu-west-2\n# keep me\ncli_pager =\nsso_session = corp\noutput = json\nsso_account_id = 123456789012\nsso_role_name = DiscoveryAccess\n\n' +
        '[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = eu-west-2\nsso_registration_scopes = sso:account:access\n\n[profile z]\nregion = x-1\n',
    );
  });

  it('keeps CRLF line ends and edits [default] for the default profile', () => {
    const before = '[default]\r\nregion = us-east-1\r\n';
    const after = applyConfigEdits(before, editsFor({ ...spec, profile: 'default' }));
    assert.ok(!/[^\r]\n/.test(after), 'every line ends in CRLF');
    assert.match(after, /^\[default\]\r\nregion = eu-west-2\r\noutput = json\r\nsso_session = corp\r\n/);
  });

  it('what it writes is what the SDK reads', async () => {
    const home = makeHome();
    mkdirSync(dirname(home.config), { recursive: true });
    writeFileSync(home.config, applyConfigEdits('', editsFor(spec)));
    const saved = process.env.AWS_CONFIG_FILE;
    process.env.AWS_CONFIG_FILE = home.config;
    try {
      const { loadSharedConfigFiles } = await import('@smithy/core/config');
      const { configFile } = await loadSharedConfigFiles({ ignoreCache: true });
      const sso = ssoSettingsFrom(configFile, { profile: 'discovery-access' }, home.config);
      assert.deepEqual(sso, {
        kind: 'sso-session', profile: 'discovery-access', sessionName: 'corp', startUrl: spec.startUrl, region: 'eu-west-2',
        scopes: ['sso:account:access'], accountId: '123456789012', roleName: 'DiscoveryAccess', cacheKey: 'corp',
      });
      assert.equal(configFile['discovery-access']?.region, 'eu-west-2');
    } finally {
      if (saved === undefined) delete process.env.AWS_CONFIG_FILE;
      else process.env.AWS_CONFIG_FILE = saved;
    }
  });

  it('on disk: backup of the old file, mode kept, symlink kept, nothing written when up to date', async () => {
    const home = makeHome();
    const real = join(home.dir, 'dotfiles', 'aws-config');
    mkdirSync(dirname(real), { recursive: true });
    mkdirSync(dirname(home.config), { recursive: true });
    writeFileSync(real, '[profile other]\nregion = ap-south-1\n');
    chmodSync(real, 0o640);
    symlinkSync(real, home.config);
    const now = new Date('2025-01-02T03:04:05Z');
    const first = await configureSsoProfile(spec, { file: home.config, backup: true, now });
    assert.equal(first.changed, true);
    assert.ok(lstatSync(home.config).isSymbolicLink(), 'the symlink stays');
    assert.equal(readFileSync(real, 'utf8'), `[profile other]\nregion = ap-south-1\n\n${SEED}`);
    assert.equal(statSync(real).mode & 0o777, 0o640);
    assert.equal(first.backup, `${real}.ssm-proxy-20250102T030405Z.bak`);
    assert.equal(readFileSync(first.backup!, 'utf8'), '[profile other]\nregion = ap-south-1\n');
    const second = await configureSsoProfile(spec, { file: home.config, backup: true, now });
    assert.deepEqual(second, { file: real, changed: false, backup: undefined });
    assert.equal(readdirSync(dirname(real)).length, 2, 'no second backup, no temp file');
  });

  it('creates ~/.aws (0700) and the file (0600) when missing; refuses bad input', async () => {
    const home = makeHome();
    const result = await configureSsoProfile(spec, { file: home.config, backup: true, mayCreateDir: dirname(home.config) });
    assert.equal(result.backup, undefined);
    assert.equal(readFileSync(home.config, 'utf8'), SEED);
    assert.equal(statSync(home.config).mode & 0o777, 0o600);
    assert.equal(statSync(dirname(home.config)).mode & 0o777, 0o700);
    await assert.rejects(configureSsoProfile({ ...spec, accountId: '12345' }, { file: home.config, backup: true }), /account id/);
    await assert.rejects(configureSsoProfile({ ...spec, startUrl: 'corp' }, { file: home.config, backup: true }), /start URL/);
    await assert.rejects(configureSsoProfile({ ...spec, profile: 'a b]' }, { file: home.config, backup: true }), /profile name/);
  });
});

describe('configure-profile: lines it does not own keep their bytes and line ends', () => {
  it('Latin-1 text, mixed CRLF/LF and a lone CR pass through applyConfigEdits unchanged', () => {
    const before = '# R\xe9gion\r\n[profile discovery-access]\nregion = us-east-1\r\nkeep = a\rb\n\n[other]\r\nx = 1';
    const after = applyConfigEdits(before, editsFor(spec));
    assert.ok(after.startsWith('# R\xe9gion\r\n[profile discovery-access]\nregion = eu-west-2\r\nkeep = a\rb\n'), JSON.stringify(after));
    assert.ok(after.includes('\n\n[other]\r\nx = 1\r\n'), 'the last line gets a line end only because something follows it');
  });

  it('on disk: a Latin-1 comment comes back as the same byte, not U+FFFD', async () => {
    const home = makeHome();
    mkdirSync(dirname(home.config), { recursive: true });
    const original = Buffer.from('# R\xe9gion \xff\xfe\n[default]\nregion = us-east-1\n', 'latin1');
    writeFileSync(home.config, original);
    await configureSsoProfile(spec, { file: home.config, backup: false });
    const after = readFileSync(home.config);
    assert.deepEqual(after.subarray(0, original.length), original);
  });
});
