/** Network settings: precedence of flags, environment and profile; NO_PROXY matching; masking; StreamUrl rewriting. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { SsmProxyError } from '../../src/errors.js';
import { bypassesProxy, describeNetwork, maskProxyUrl, parseNoProxy, resolveNetworkSettings } from '../../src/network/network-settings.js';
import { parseStreamEndpoint } from '../../src/cli/ssmmessages-endpoint.js';
import { rewriteStreamUrl } from '../../src/transport/stream-url.js';

const dir = mkdtempSync(join(tmpdir(), 'ssm-proxy-settings-'));
const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const [flagCa, envCa, profileCa, extraCa] = ['flag.pem', 'env.pem', 'profile.pem', 'extra.pem'].map((name) => {
  const path = join(dir, name);
  writeFileSync(path, PEM);
  return path;
}) as [string, string, string, string];
after(() => rmSync(dir, { recursive: true, force: true }));

describe('proxy precedence', () => {
  const proxyOf = (flag: string | undefined, env: NodeJS.ProcessEnv) => resolveNetworkSettings({ proxy: flag, env }).proxy;

  it('--proxy > HTTPS_PROXY > https_proxy > HTTP_PROXY > http_proxy; none = direct', () => {
    const all = { HTTPS_PROXY: 'http://a:1', https_proxy: 'http://b:2', HTTP_PROXY: 'http://c:3', http_proxy: 'http://d:4' };
    assert.equal(proxyOf('http://flag:9', all)?.source, '--proxy');
    assert.equal(proxyOf(undefined, all)?.source, 'HTTPS_PROXY');
    assert.equal(proxyOf(undefined, { ...all, HTTPS_PROXY: '' })?.label, 'http://b:2');
    assert.equal(proxyOf(undefined, { HTTP_PROXY: 'http://c:3', http_proxy: 'http://d:4' })?.source, 'HTTP_PROXY');
    assert.equal(proxyOf(undefined, { http_proxy: 'http://d:4' })?.source, 'http_proxy');
    assert.equal(proxyOf(undefined, {}), undefined);
  });

  it('a bare host:port means http://; socks is refused with a config error', () => {
    assert.equal(proxyOf('proxy.corp:3128', {})?.url.href, 'http://proxy.corp:3128/');
    assert.throws(() => proxyOf('socks5://proxy:1080', {}), (e: unknown) => e instanceof SsmProxyError && e.kind === 'config' && /only http:\/\/ and https:\/\//.test(e.message));
  });

  it('user and password never appear in labels', () => {
    assert.equal(maskProxyUrl(new URL('http://alice:s3cret@proxy:3128')), 'http://***@proxy:3128');
    assert.equal(proxyOf(undefined, { HTTPS_PROXY: 'http://alice:s3cret@proxy:3128' })?.label, 'http://***@proxy:3128');
    assert.doesNotMatch(describeNetwork(resolveNetworkSettings({ env: { HTTPS_PROXY: 'http://alice:s3cret@p:1' } })).proxy, /alice|s3cret/);
  });
});

describe('NO_PROXY', () => {
  const noProxy = parseNoProxy('.internal.corp, example.com:8443 ,10.0.0.0/8 192.168.1.7, *.vpce.amazonaws.com, [::1]');
  const cases: [string, number, boolean][] = [
    ['internal.corp', 443, true],
    ['ssm.internal.corp', 443, true],
    ['notinternal.corp', 443, false],
    ['example.com', 8443, true],
    ['example.com', 443, false],
    ['10.1.2.3', 443, true],
    ['11.1.2.3', 443, false],
    ['192.168.1.7', 80, true],
    ['vpce-1.ssmmessages.eu-west-2.vpce.amazonaws.com', 443, true],
    ['ssm.eu-west-2.amazonaws.com', 443, false],
    ['::1', 443, true],
    ['EXAMPLE.COM.', 8443, true],
  ];
  for (const [host, port, bypass] of cases) {
    it(`${host}:${port} ${bypass ? 'bypasses' : 'uses'} the proxy`, () => assert.equal(bypassesProxy(noProxy, host, port), bypass));
  }
  it('* bypasses everything; lower-case no_proxy is read too', () => {
    assert.equal(bypassesProxy(parseNoProxy('*'), 'anything', 1), true);
    const settings = resolveNetworkSettings({ env: { HTTPS_PROXY: 'http://p:1', no_proxy: 'corp' } });
    assert.equal(bypassesProxy(settings.proxy!.noProxy, 'x.corp', 443), true);
  });
});

describe('CA bundle precedence', () => {
  const caOf = (input: Parameters<typeof resolveNetworkSettings>[0]) => resolveNetworkSettings(input).ca;
  const profileCaBundle = { path: profileCa, profile: 'corp' };

  it('--ca-bundle > AWS_CA_BUNDLE > the profile\'s ca_bundle; none = built-in roots', () => {
    assert.equal(caOf({ caBundle: flagCa, profileCaBundle, env: { AWS_CA_BUNDLE: envCa } })?.source, '--ca-bundle');
    assert.equal(caOf({ profileCaBundle, env: { AWS_CA_BUNDLE: envCa } })?.source, 'AWS_CA_BUNDLE');
    assert.equal(caOf({ profileCaBundle, env: {} })?.source, "ca_bundle of profile 'corp'");
    assert.equal(caOf({ env: {} }), undefined);
    assert.equal(describeNetwork(resolveNetworkSettings({ env: {} })).ca, 'built-in roots');
  });

  it('NODE_EXTRA_CA_CERTS stays trusted on top of a bundle', () => {
    const ca = caOf({ caBundle: flagCa, env: { NODE_EXTRA_CA_CERTS: extraCa } })!;
    assert.equal(ca.certificates.length, 2);
    assert.match(describeNetwork(resolveNetworkSettings({ env: { NODE_EXTRA_CA_CERTS: extraCa } })).ca, /^built-in roots \+ NODE_EXTRA_CA_CERTS /);
  });

  it('~/ in a bundle path is the home directory', () => {
    assert.equal(caOf({ caBundle: '~/flag.pem', env: { HOME: dir } })?.path, flagCa);
  });
});

describe('--ssmmessages-endpoint', () => {
  const streamUrl = 'wss://ssmmessages.eu-west-2.amazonaws.com/v1/data-channel/s-0abc?role=publish_subscribe&cell-number=AAEA%2Bx';

  it('replaces scheme, host and port; keeps path and query', () => {
    const endpoint = parseStreamEndpoint('https://vpce-0123-abcd.ssmmessages.eu-west-2.vpce.amazonaws.com');
    assert.equal(
      rewriteStreamUrl(streamUrl, endpoint),
      'wss://vpce-0123-abcd.ssmmessages.eu-west-2.vpce.amazonaws.com/v1/data-channel/s-0abc?role=publish_subscribe&cell-number=AAEA%2Bx',
    );
    assert.equal(rewriteStreamUrl(streamUrl, parseStreamEndpoint('http://127.0.0.1:8080')), 'ws://127.0.0.1:8080/v1/data-channel/s-0abc?role=publish_subscribe&cell-number=AAEA%2Bx');
    assert.equal(rewriteStreamUrl(streamUrl, parseStreamEndpoint('vpce.example:444')).startsWith('wss://vpce.example:444/v1/'), true);
    assert.equal(rewriteStreamUrl(streamUrl, undefined), streamUrl);
  });

  it('refuses paths, queries and other schemes (usage errors)', () => {
    for (const bad of ['https://vpce.example/some/path', 'https://vpce.example/?a=1', 'ftp://vpce.example']) {
      assert.throws(() => parseStreamEndpoint(bad), (e: unknown) => e instanceof SsmProxyError && e.kind === 'usage', bad);
    }
  });
});
