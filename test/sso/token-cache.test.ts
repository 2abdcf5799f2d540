import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { getSSOTokenFilepath } from '@smithy/core/config';
import { readSsoToken, tokenCachePath, writeSsoToken } from '../../src/aws/sso/token-cache.js';
import { ssoSettingsFrom } from '../../src/aws/sso/sso-settings.js';
import { makeHome, START_URL } from './helpers.js';

describe('SSO token cache: the file the AWS CLI and the SDK share', () => {
  const home = makeHome();
  const saved = process.env.HOME;
  before(() => {
    process.env.HOME = home.dir;
  });
  after(() => {
    process.env.HOME = saved;
  });

  it('names the file by the SHA-1 of the sso-session name, or of the start URL for legacy profiles', async () => {
    const sections = {
      'sso-session.corp': { sso_start_url: START_URL, sso_region: 'eu-west-2' },
      modern: { sso_session: 'corp', sso_account_id: '123456789012', sso_role_name: 'R' },
      legacy: { sso_start_url: START_URL, sso_region: 'eu-west-2', sso_account_id: '123456789012', sso_role_name: 'R' },
    };
    const modern = ssoSettingsFrom(sections, { profile: 'modern' }, 'config')!;
    const legacy = ssoSettingsFrom(sections, { profile: 'legacy' }, 'config')!;
    assert.equal(modern.cacheKey, 'corp');
    assert.equal(legacy.cacheKey, START_URL);
    const sha1 = (text: string) => createHash('sha1').update(text).digest('hex');
    assert.equal(await tokenCachePath('corp'), join(home.dir, '.aws', 'sso', 'cache', `${sha1('corp')}.json`));
    assert.equal(await tokenCachePath(START_URL), join(home.dir, '.aws', 'sso', 'cache', `${sha1(START_URL)}.json`));
    // And exactly what the SDK's fromSSO / fromSso read.
    assert.equal(await tokenCachePath('corp'), getSSOTokenFilepath('corp'));
    assert.equal(await tokenCachePath(START_URL), getSSOTokenFilepath(START_URL));
  });

  it('writes atomically: mode 0600 in a 0700 directory, the CLI fields, no temp file left', async () => {
    const token = {
      startUrl: START_URL,
      region: 'eu-west-2',
      accessToken: 'at-0123456789',
      expiresAt: '2030-01-02T03:04:05Z',
      clientId: 'cid',
      clientSecret: 'cs-0123456789',
      registrationExpiresAt: '2030-03-01T00:00:00Z',
      refreshToken: 'rt-0123456789',
    };
    const file = await writeSsoToken('corp', token);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(statSync(home.cacheDir).mode & 0o777, 0o700);
    const parsed = JSON.parse(readFileSync(file, 'utf8'));
    assert.deepEqual(Object.keys(parsed), [
      'startUrl', 'region', 'accessToken', 'expiresAt', 'clientId', 'clientSecret', 'registrationExpiresAt', 'refreshToken',
    ]);
    assert.deepEqual(parsed, token);
    assert.deepEqual(readdirSync(home.cacheDir).filter((name) => name.endsWith('.tmp')), []);
    // Overwriting keeps the mode and replaces the content whole.
    await writeSsoToken('corp', { ...token, accessToken: 'at-second-1234', refreshToken: undefined });
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const second = await readSsoToken('corp');
    assert.equal(second?.accessToken, 'at-second-1234');
    assert.equal(second?.refreshToken, undefined);
  });

  it('treats a missing or unreadable cache file as no token', async () => {
    assert.equal(await readSsoToken('no-such-session'), undefined);
  });
});
