import { BlockList, isIP } from 'node:net';
import { readBounded } from '../bounded-read.js';
import { SsmProxyError } from '../errors.js';

/**
 * How ssm-proxy reaches AWS from a corporate network, resolved once per command from flags,
 * environment and the profile, then handed to every AWS client and to the websocket:
 *
 * - proxy: `--proxy` > HTTPS_PROXY > https_proxy > HTTP_PROXY > http_proxy, bypassed for hosts
 *   matching NO_PROXY / no_proxy. One proxy for every destination (AWS endpoints are all https).
 * - CA bundle: `--ca-bundle` > AWS_CA_BUNDLE > the profile's `ca_bundle`. As for the AWS CLI, a
 *   bundle *replaces* the built-in roots; NODE_EXTRA_CA_CERTS (which Node adds to its roots at
 *   start-up) is kept on top of it, so that variable always means "trust these as well".
 *
 * Nothing here loads an agent package: see network-agents.ts, loaded only when needed.
 */
export interface NetworkSettings {
  proxy: ProxySettings | undefined;
  ca: CaSettings | undefined;
  /** NODE_EXTRA_CA_CERTS, when set (Node itself adds it to its roots at start-up). */
  extraCaCerts: string | undefined;
}

export interface ProxySettings {
  url: URL;
  /** `--proxy`, `HTTPS_PROXY`, ... */
  source: string;
  /** The URL without user:password, for messages. */
  label: string;
  noProxy: NoProxy;
}

export interface CaSettings {
  path: string;
  /** `--ca-bundle`, `AWS_CA_BUNDLE` or `ca_bundle of profile 'P'`. */
  source: string;
  /** The bundle, plus NODE_EXTRA_CA_CERTS when set: what TLS connections trust. */
  certificates: string[];
}

export interface NetworkInput {
  /** --proxy */
  proxy?: string | undefined;
  /** --ca-bundle */
  caBundle?: string | undefined;
  /** The profile's `ca_bundle`, with the profile's name for messages. */
  profileCaBundle?: { path: string; profile: string } | undefined;
  env?: NodeJS.ProcessEnv;
}

const PROXY_VARIABLES = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy'] as const;

export function resolveNetworkSettings(input: NetworkInput = {}): NetworkSettings {
  const env = input.env ?? process.env;
  const extraCaCerts = env.NODE_EXTRA_CA_CERTS || undefined;
  return { proxy: resolveProxy(input, env), ca: resolveCa(input, env, extraCaCerts), extraCaCerts };
}

/** Does the command need agents at all? (If not, the agent packages are never loaded.) */
export function needsAgents(settings: NetworkSettings): boolean {
  return settings.proxy !== undefined || settings.ca !== undefined;
}

function resolveProxy(input: NetworkInput, env: NodeJS.ProcessEnv): ProxySettings | undefined {
  let raw: string | undefined;
  let source = '--proxy';
  if (input.proxy !== undefined && input.proxy !== '') raw = input.proxy;
  else {
    for (const name of PROXY_VARIABLES) {
      if (env[name]) {
        raw = env[name];
        source = name;
        break;
      }
    }
  }
  if (raw === undefined) return undefined;
  const url = parseProxyUrl(raw, source);
  return { url, source, label: maskProxyUrl(url), noProxy: parseNoProxy(env.NO_PROXY ?? env.no_proxy ?? '') };
}

/** `proxy:3128` means http://proxy:3128, as for curl. Only http and https proxies (CONNECT). */
function parseProxyUrl(raw: string, source: string): URL {
  const text = /^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `http://${raw}`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new SsmProxyError('config', `the proxy URL in ${source} is not a URL; expected http://host:port`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new SsmProxyError('config', `the proxy ${maskProxyUrl(url)} in ${source} is not supported: only http:// and https:// proxies (HTTP CONNECT) are`);
  }
  if (!url.hostname) throw new SsmProxyError('config', `the proxy URL in ${source} has no host; expected http://host:port`);
  return url;
}

/** scheme://host:port, never the user name or password. */
export function maskProxyUrl(url: URL): string {
  const credentials = url.username || url.password ? '***@' : '';
  return `${url.protocol}//${credentials}${url.host}`;
}

function resolveCa(input: NetworkInput, env: NodeJS.ProcessEnv, extraCaCerts: string | undefined): CaSettings | undefined {
  let path: string | undefined;
  let source = '';
  if (input.caBundle) [path, source] = [input.caBundle, '--ca-bundle'];
  else if (env.AWS_CA_BUNDLE) [path, source] = [env.AWS_CA_BUNDLE, 'AWS_CA_BUNDLE'];
  else if (input.profileCaBundle?.path) [path, source] = [input.profileCaBundle.path, `ca_bundle of profile '${input.profileCaBundle.profile}'`];
  if (path === undefined) return undefined;
  path = expandHome(path, env);
  const certificates = readCertificates(path, source);
  if (extraCaCerts) {
    // Node warns about an unreadable NODE_EXTRA_CA_CERTS itself at start-up.
    const extra = readBounded(extraCaCerts, CA_BUNDLE_LIMIT);
    if (extra.ok) certificates.push(...splitPem(extra.bytes.toString('utf8')));
  }
  return { path, source, certificates };
}

/** A system bundle of every public root is ~250 KB; this leaves room for the largest corporate ones. */
export const CA_BUNDLE_LIMIT = 16 << 20;

function readCertificates(path: string, source: string): string[] {
  const read = readBounded(path, CA_BUNDLE_LIMIT);
  if (!read.ok) {
    throw new SsmProxyError('config', `the CA bundle ${path} (from ${source}) ${read.reason}; fix the path or unset it`);
  }
  const certificates = splitPem(read.bytes.toString('utf8'));
  if (certificates.length === 0) {
    throw new SsmProxyError('config', `the CA bundle ${path} (from ${source}) holds no PEM certificate (-----BEGIN CERTIFICATE-----); export the CA in PEM form`);
  }
  return certificates;
}

function splitPem(text: string): string[] {
  return text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
}

function expandHome(path: string, env: NodeJS.ProcessEnv): string {
  return path.startsWith('~/') && env.HOME ? `${env.HOME}${path.slice(1)}` : path;
}

/**
 * NO_PROXY entries, comma or space separated: `*` (everything), a host name (also matching its
 * subdomains; a leading `.` or `*.` is allowed), an IP address, a CIDR block, each optionally
 * with `:port`.
 */
export interface NoProxy {
  all: boolean;
  entries: { host: string; port: number | undefined }[];
  blocks: { list: BlockList; port: number | undefined }[];
}

export function parseNoProxy(value: string): NoProxy {
  const noProxy: NoProxy = { all: false, entries: [], blocks: [] };
  for (let item of value.split(/[\s,]+/)) {
    item = item.trim().toLowerCase();
    if (!item) continue;
    if (item === '*') {
      noProxy.all = true;
      continue;
    }
    let port: number | undefined;
    const portMatch = /^(.*[^:]):(\d+)$/.exec(item);
    if (portMatch && !(isIP(item) === 6)) {
      item = portMatch[1]!;
      port = Number(portMatch[2]);
    }
    item = item.replace(/^\[|\]$/g, '');
    const cidr = /^(.+)\/(\d{1,3})$/.exec(item);
    if (cidr && isIP(cidr[1]!)) {
      const list = new BlockList();
      try {
        list.addSubnet(cidr[1]!, Number(cidr[2]), isIP(cidr[1]!) === 6 ? 'ipv6' : 'ipv4');
        noProxy.blocks.push({ list, port });
      } catch {
        // an impossible prefix length: ignored, as curl does
      }
      continue;
    }
    noProxy.entries.push({ host: item.replace(/^\*?\./, ''), port });
  }
  return noProxy;
}

/** Should a connection to host:port bypass the proxy? */
export function bypassesProxy(noProxy: NoProxy, host: string, port: number): boolean {
  if (noProxy.all) return true;
  const name = host.toLowerCase().replace(/^\[|\]$/g, '').replace(/\.$/, '');
  for (const entry of noProxy.entries) {
    if (entry.port !== undefined && entry.port !== port) continue;
    if (name === entry.host || name.endsWith(`.${entry.host}`)) return true;
  }
  const family = isIP(name);
  if (family) {
    for (const block of noProxy.blocks) {
      if (block.port !== undefined && block.port !== port) continue;
      if (block.list.check(name, family === 6 ? 'ipv6' : 'ipv4')) return true;
    }
  }
  return false;
}

/** One line for -v and doctor: which proxy and CA are in effect, and where they come from. */
export function describeNetwork(settings: NetworkSettings): { proxy: string; ca: string } {
  const proxy = settings.proxy
    ? `${settings.proxy.label} (from ${settings.proxy.source})${describeNoProxy(settings.proxy.noProxy)}`
    : 'none (direct connections)';
  const extra = settings.extraCaCerts ? ` + NODE_EXTRA_CA_CERTS ${settings.extraCaCerts}` : '';
  const ca = settings.ca
    ? `${settings.ca.path} (from ${settings.ca.source}; ${settings.ca.certificates.length} certificate(s), replacing the built-in roots)${extra}`
    : settings.extraCaCerts
      ? `built-in roots + NODE_EXTRA_CA_CERTS ${settings.extraCaCerts}`
      : 'built-in roots';
  return { proxy, ca };
}

function describeNoProxy(noProxy: NoProxy): string {
  if (noProxy.all) return '; NO_PROXY=* bypasses it for every host';
  const count = noProxy.entries.length + noProxy.blocks.length;
  return count > 0 ? `; NO_PROXY has ${count} entr${count === 1 ? 'y' : 'ies'}` : '';
}
