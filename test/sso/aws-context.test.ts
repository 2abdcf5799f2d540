/**
 * One AWS context: the files are read once (bounded) and parsed exactly as the SDK parses them;
 * the SDK is then handed those bytes instead of reading the files again; profile, region and
 * signer are decided in one place for connect, doctor and login.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadSharedConfigFiles, loadSsoSessionData, parseKnownFiles } from '@smithy/core/config';
import { describeSigner, resolveAwsContext, resolveSsoLogin } from '../../src/aws/aws-context.js';
import { readAwsConfigFiles, shareWithSdk } from '../../src/aws/config-files.js';
import { SsmProxyError } from '../../src/errors.js';

const CONFIG = `# top comment
[default]
region = us-east-1 ; trailing comment
[profile dev]
region = eu-west-2
role_arn = arn:aws:iam::123456789012:role/Dev
source_profile = base
s3 =
  max_concurrent_requests = 10
cli_pager =
[sso-session corp]
sso_start_url = https://corp.awsapps.com/start
sso_region = eu-west-1
[profile "quoted"]
region=ap-south-1
[profile sso]
sso_session = corp
sso_account_id = 123456789012
sso_role_name = Reader
[services local]
ssm =
  endpoint_url = http://127.0.0.1:4566
[not-a-profile]
region = nowhere-1
`;
const CREDENTIALS = `[base]
aws_access_key_id = AKIDBASE
aws_secret_access_key = secret-base
[dev]
region = eu-central-1
`;

describe('AWS context: one read of the files, one resolver', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ssm-proxy-context-'));
  mkdirSync(join(dir, '.aws'));
  const configPath = join(dir, '.aws', 'config');
  const credentialsPath = join(dir, '.aws', 'credentials');
  writeFileSync(configPath, CONFIG);
  writeFileSync(credentialsPath, CREDENTIALS);
  const env = { HOME: dir, AWS_CONFIG_FILE: configPath, AWS_SHARED_CREDENTIALS_FILE: credentialsPath };
  const saved = { ...process.env };
  after(() => {
    process.env = saved;
  });

  it('parses both files exactly as the SDK does (profiles, sso-sessions, services, sub-sections, comments, overrides)', async () => {
    const ours = readAwsConfigFiles(env);
    Object.assign(process.env, env);
    const sdk = await parseKnownFiles({ ignoreCache: true });
    assert.deepEqual(JSON.parse(JSON.stringify(ours.sections)), JSON.parse(JSON.stringify(sdk)));
    assert.equal(ours.sections.dev?.region, 'eu-central-1', 'the credentials file overrides the config file, key by key');
    assert.equal(ours.sections.dev?.['s3.max_concurrent_requests'], '10');
    assert.equal(ours.sections['not-a-profile'], undefined);
    assert.deepEqual(await loadSsoSessionData(), { corp: ours.sections['sso-session.corp'] });
  });

  it('hands the SDK the bytes it read: later SDK reads never touch the files again', async () => {
    const other = mkdtempSync(join(tmpdir(), 'ssm-proxy-context-share-'));
    const config = join(other, 'config');
    const credentials = join(other, 'credentials');
    writeFileSync(config, '[profile first]\nregion = eu-west-2\n');
    const files = readAwsConfigFiles({ HOME: other, AWS_CONFIG_FILE: config, AWS_SHARED_CREDENTIALS_FILE: credentials });
    await shareWithSdk(files);
    writeFileSync(config, '[profile second]\nregion = eu-west-3\n');
    writeFileSync(credentials, '[third]\naws_access_key_id = X\n');
    const seen = await loadSharedConfigFiles({ configFilepath: config, filepath: credentials, ignoreCache: true });
    assert.deepEqual(Object.keys(seen.configFile), ['first']);
    assert.deepEqual(seen.credentialsFile, {});
  });

  it('decides profile, region and who signs once, with where each came from', () => {
    const role = resolveAwsContext({ profile: 'dev' }, env);
    assert.deepEqual(
      [role.profile, role.profileSource, role.region, role.regionSource, role.signer],
      ['dev', '--profile', 'eu-central-1', "region of profile 'dev'", { kind: 'role', roleArn: 'arn:aws:iam::123456789012:role/Dev' }],
    );
    assert.equal(describeSigner(role), "profile 'dev' (role arn:aws:iam::123456789012:role/Dev)");

    const sso = resolveAwsContext({ region: 'eu-west-2' }, { ...env, AWS_PROFILE: 'sso' });
    assert.equal(sso.profileSource, 'AWS_PROFILE');
    assert.equal(sso.regionSource, '--region');
    assert.equal(sso.signer.kind, 'sso');
    assert.equal(describeSigner(sso), "profile 'sso' (SSO role Reader in account 123456789012)");
    assert.equal(sso.signer.kind === 'sso' && sso.signer.sso.cacheKey, 'corp');

    const keys = resolveAwsContext({}, { ...env, AWS_ACCESS_KEY_ID: 'A', AWS_SECRET_ACCESS_KEY: 'B', AWS_REGION: 'us-west-2' });
    assert.deepEqual([keys.profile, keys.signer.kind, keys.profileSource, keys.regionSource], [undefined, 'environment', 'none', 'AWS_REGION']);
    assert.equal(describeSigner(keys), 'the default credentials');

    const fromAlias = resolveAwsContext({ profile: 'base', region: 'eu-west-1', profileSource: 'the ProxyCommand of web', regionSource: 'the ProxyCommand of web' }, env);
    assert.deepEqual([fromAlias.profileSource, fromAlias.regionSource, fromAlias.signer.kind], ['the ProxyCommand of web', 'the ProxyCommand of web', 'profile']);
  });

  it('login resolves the same SSO settings through the same files', () => {
    const byProfile = resolveSsoLogin({ profile: 'sso' }, env);
    const bySession = resolveSsoLogin({ ssoSession: 'corp' }, env);
    const connect = resolveAwsContext({ profile: 'sso', region: 'eu-west-1' }, env);
    assert.equal(connect.signer.kind, 'sso');
    assert.deepEqual(byProfile.sso, connect.signer.kind === 'sso' ? connect.signer.sso : undefined);
    assert.deepEqual([bySession.sso.startUrl, bySession.sso.region, bySession.sso.cacheKey], ['https://corp.awsapps.com/start', 'eu-west-1', 'corp']);
  });

  it('refuses an empty profile, a region that is not one, and a broken endpoint variable', () => {
    const kind = (expected: string, pattern: RegExp) => (error: unknown) =>
      error instanceof SsmProxyError && error.kind === expected && pattern.test(error.message);
    assert.throws(() => resolveAwsContext({ profile: '' }, env), kind('usage', /--profile is empty/));
    assert.throws(() => resolveAwsContext({ profile: 'dev', region: 'eu-west-2/../x' }, env), kind('usage', /region 'eu-west-2\/\.\.\/x' \(from --region\)/));
    assert.throws(() => resolveAwsContext({ profile: 'dev', region: 'x', regionSource: 'the ProxyCommand of web' }, env), kind('config', /\(the ProxyCommand of web\)/));
    assert.throws(() => resolveAwsContext({ profile: 'dev' }, { ...env, AWS_ENDPOINT_URL: 'javascript:alert(1)' }), kind('config', /\(AWS_ENDPOINT_URL\)/));
    assert.throws(() => resolveAwsContext({ profile: 'nope' }, env), kind('config', /the AWS profile 'nope' is not defined/));
    for (const region of ['us-east-1', 'us-gov-west-1', 'cn-north-1', 'us-isob-east-1', 'eusc-de-east-1', 'ap-southeast-5', 'il-central-1']) {
      assert.equal(resolveAwsContext({ profile: 'dev', region }, env).region, region);
    }
  });
});
